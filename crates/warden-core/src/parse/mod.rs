//! Strict compact-JWS parsing (RFC 7515 §7.1), before any signature check.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
#[cfg(feature = "json")]
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::b64;
use crate::claims::{ClaimError, Claims, ReadError, TimeClaims};
#[cfg(feature = "json")]
use crate::json;
use crate::json::JsonError;
use crate::reader::{self, Member};

/// Longest accepted `kid`, in bytes, in a token or a key set.
pub const MAX_KID_LEN: usize = 128;

/// Whether `kid` is short and made only of `A–Z a–z 0–9 - _ . ~ + / = : @`. A `kid` is only ever a
/// lookup in an in-memory map, but refusing anything else keeps injection payloads out of logs
/// and stores too.
pub(crate) fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=:@".contains(&b))
}

/// Tokens longer than this many bytes are refused before any decoding (8 KiB).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Header parameters whose presence makes a token unacceptable: `crit` and `b64` change how the
/// token must be processed (RFC 7515 §4.1.11, RFC 7797); `jku`, `x5u`, `jwk`, `x5c` would let
/// the token choose its own key (RFC 8725 §3.10; keys come from configuration only); and the
/// JWE-only parameters `enc`, `zip` (RFC 7516 §4.1.2–4.1.3), `epk`, `apu`, `apv`, `iv`, `tag`,
/// `p2s`, `p2c` (RFC 7518 §4.6–4.8): a header with `enc` is a JWE's (RFC 7516 §9), and Warden
/// verifies signed tokens only (draft-ietf-oauth-rfc8725bis §3.3: tell a JWS from a JWE).
pub const FORBIDDEN_HEADERS: [&str; 15] = [
    "crit", "b64", "jku", "x5u", "jwk", "x5c", "enc", "zip", "epk", "apu", "apv", "iv", "tag",
    "p2s", "p2c",
];

/// The [`FORBIDDEN_HEADERS`] that would let a token choose its own key: `jku`, `x5u`, `jwk`,
/// `x5c`.
pub const KEY_CHOOSING_HEADERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// Which part of a compact JWS an error concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The protected header (first segment).
    Header,
    /// The claims set (second segment).
    Claims,
    /// The signature (third segment).
    Signature,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Claims => "claims",
            Part::Signature => "signature",
        }
    }
}

/// Why a token could not be parsed. Every variant is a failure of the token itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The token is empty.
    Empty,
    /// The token is longer than [`MAX_TOKEN_LEN`].
    TooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// Not exactly three dot-separated segments.
    SegmentCount,
    /// A segment is not canonical unpadded base64url.
    Base64(Part),
    /// A segment is not a well-formed JSON object.
    Json(Part),
    /// A JSON object names the same key twice.
    DuplicateKey(Part),
    /// The header has no string `alg`.
    MissingAlgorithm,
    /// `alg` is `none` (in any letter case).
    AlgorithmNone,
    /// `alg` names no algorithm Warden verifies (names are case-sensitive).
    UnsupportedAlgorithm,
    /// The header carries a parameter Warden refuses (see [`FORBIDDEN_HEADERS`]).
    ForbiddenHeader(&'static str),
    /// A header parameter has the wrong JSON type.
    InvalidHeader(&'static str),
    /// The `kid` is too long or has characters outside the allowed set.
    InvalidKeyId,
    /// A registered claim has the wrong type or an out-of-range value.
    InvalidClaim(&'static str),
}

impl ParseError {
    /// A short, fixed description, safe for an RFC 6750 `error_description`.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Empty => "token is empty",
            Self::TooLarge { .. } => "token too large",
            Self::SegmentCount => "token must have three segments",
            Self::Base64(Part::Header) => "header is not base64url",
            Self::Base64(Part::Claims) => "claims are not base64url",
            Self::Base64(Part::Signature) => "signature is not base64url",
            Self::Json(Part::Claims) | Self::DuplicateKey(Part::Claims) => {
                "claims are not a valid JSON object"
            }
            Self::Json(_) | Self::DuplicateKey(_) => "header is not a valid JSON object",
            Self::MissingAlgorithm => "header has no alg",
            Self::AlgorithmNone => "unsigned tokens are not accepted",
            Self::UnsupportedAlgorithm => "algorithm not supported",
            Self::ForbiddenHeader(_) => "header parameter not accepted",
            Self::InvalidHeader(_) => "invalid header parameter",
            Self::InvalidKeyId => "invalid kid",
            Self::InvalidClaim(_) => "invalid claim",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => write!(
                f,
                "token is {len} bytes, over the {MAX_TOKEN_LEN}-byte limit"
            ),
            Self::Base64(p) => write!(f, "{} is not canonical unpadded base64url", p.name()),
            Self::Json(p) => write!(f, "{} is not a JSON object", p.name()),
            Self::DuplicateKey(p) => write!(f, "{} has a duplicate JSON key", p.name()),
            Self::ForbiddenHeader(h) => write!(f, "header parameter `{h}` is not accepted"),
            Self::InvalidHeader(h) => write!(f, "header parameter `{h}` has the wrong type"),
            Self::InvalidClaim(c) => write!(f, "claim `{c}` has the wrong type or value"),
            other => f.write_str(other.description()),
        }
    }
}

impl core::error::Error for ParseError {}

/// The protected header of a token, after the checks of [`parse`]. [`Token::header_map`] gives
/// the whole object.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The algorithm the token claims. Only a key bound to the same algorithm may verify it.
    pub alg: Algorithm,
    /// `typ`, when present.
    pub typ: Option<String>,
    /// `kid`, when present: at most [`crate::MAX_KID_LEN`] bytes of `A–Z a–z 0–9 - _ . ~ + / = : @`.
    pub kid: Option<String>,
}

/// A parsed, not yet verified, compact JWS. It owns its parts, so a verified token can be
/// cached (e.g. keyed by [`crate::token_digest`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The protected header.
    pub header: Header,
    /// The claims set.
    pub claims: Claims,
    /// `BASE64URL(header) . BASE64URL(payload)`: the bytes the signature covers.
    pub signing_input: String,
    /// The decoded signature bytes.
    pub signature: Vec<u8>,
}

impl Token {
    /// The whole protected header as a JSON object (e.g. for display), read again from
    /// [`Token::signing_input`]: [`parse`] reads only the parameters it checks.
    ///
    /// Fails only if `signing_input` was changed after [`parse`] and no longer holds a header
    /// segment that is a JSON object without duplicate keys.
    #[cfg(feature = "json")]
    pub fn header_map(&self) -> Result<Map<String, Value>, ParseError> {
        self.segment_map(Part::Header)
    }

    /// The whole claims set as a JSON object (e.g. for display or for claims Warden does not
    /// type), read again from [`Token::signing_input`]: [`parse`] reads only the registered
    /// claims.
    ///
    /// Fails only if `signing_input` was changed after [`parse`] and no longer holds a claims
    /// segment that is a JSON object without duplicate keys.
    ///
    /// ```
    /// // {"alg":"HS256"} . {"sub":"alice","team":"blue"} . (a signature, unchecked here)
    /// let token = warden_core::parse("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInRlYW0iOiJibHVlIn0.AA")?;
    /// assert_eq!(token.claims.sub.as_deref(), Some("alice"));
    /// assert_eq!(token.claims_map()?["team"], "blue");
    /// # Ok::<(), warden_core::ParseError>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn claims_map(&self) -> Result<Map<String, Value>, ParseError> {
        self.segment_map(Part::Claims)
    }

    #[cfg(feature = "json")]
    fn segment_map(&self, part: Part) -> Result<Map<String, Value>, ParseError> {
        let index = if part == Part::Header { 0 } else { 1 };
        let segment = self
            .signing_input
            .split('.')
            .nth(index)
            .ok_or(ParseError::SegmentCount)?;
        let bytes = b64::decode(segment).ok_or(ParseError::Base64(part))?;
        json::parse_object(&bytes).map_err(|e| json_error(e, part))
    }
}

/// Parses a compact JWS strictly. The signature is *not* checked: see [`crate::KeySet::verify`].
///
/// Refuses, in this order: empty input; more than [`MAX_TOKEN_LEN`] bytes; anything but three
/// segments; non-canonical base64url; JSON that is not an object or repeats a key; a header
/// without `alg`, with `alg: none` or an unknown algorithm, with any of [`FORBIDDEN_HEADERS`],
/// or a malformed `kid`; registered claims of the wrong type.
///
/// The header and the claims are read from the decoded bytes without building either object:
/// only the parameters and registered claims above are kept (see [`Token::header_map`] and
/// [`Token::claims_map`] for the whole objects), every other member is walked and checked.
///
/// ```
/// use warden_core::{parse, ParseError, Part};
///
/// // {"alg":"none"} . {} . (empty)
/// assert_eq!(parse("eyJhbGciOiJub25lIn0.e30."), Err(ParseError::AlgorithmNone));
/// assert_eq!(parse("a.b"), Err(ParseError::SegmentCount));
/// // Padding is not canonical base64url.
/// assert_eq!(parse("eyJhbGciOiJIUzI1NiJ9=.e30.AA"), Err(ParseError::Base64(Part::Header)));
/// ```
pub fn parse(token: &str) -> Result<Token, ParseError> {
    let s = segments(token)?;
    let header = read_header(&s.header)?.into_owned();
    let claims = Claims::read(&s.claims).map_err(claims_error)?;
    Ok(Token {
        header,
        claims,
        signing_input: String::from(s.signing_input),
        signature: s.signature,
    })
}

/// [`parse`]'s verdict on `token` and its time claims, without building the [`Token`]: the same
/// checks in the same order, the same [`ParseError`], but no owned copy of the header's or the
/// claims' strings. For a caller that only asks when a token expires (e.g. the npm package's
/// `inspect`).
///
/// ```
/// use warden_core::{parse, parse_times, ParseError};
///
/// // {"alg":"HS256"} . {"sub":"alice","exp":1700000600} . (a signature, unchecked here)
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDYwMH0.AA";
/// assert_eq!(parse_times(token)?.exp, Some(1_700_000_600));
/// assert_eq!(parse_times(token)?, parse(token)?.claims.times());
/// assert_eq!(parse_times("a.b"), Err(ParseError::SegmentCount));
/// # Ok::<(), ParseError>(())
/// ```
pub fn parse_times(token: &str) -> Result<TimeClaims, ParseError> {
    let (h, c, s) = split(token)?;
    // Most headers and claims fit these buffers on the stack: no allocation for them.
    let (mut header, mut claims) = ([0u8; 512], [0u8; 2048]);
    b64::decode_with(h, &mut header, |header| {
        b64::decode_with(c, &mut claims, |claims| {
            // The signature is only checked to be base64url, as `parse` decodes it.
            if !b64::is_valid(s) {
                return Err(ParseError::Base64(Part::Signature));
            }
            read_header(header)?;
            Claims::read_times(claims).map_err(claims_error)
        })
        .ok_or(ParseError::Base64(Part::Claims))?
    })
    .ok_or(ParseError::Base64(Part::Header))?
}

fn claims_error(e: ReadError) -> ParseError {
    match e {
        ReadError::Json(e) => json_error(e, Part::Claims),
        ReadError::Claim(ClaimError(name)) => ParseError::InvalidClaim(name),
    }
}

/// A token's three segments, decoded, and the text its signature covers.
struct Segments<'t> {
    header: Vec<u8>,
    claims: Vec<u8>,
    signature: Vec<u8>,
    signing_input: &'t str,
}

/// A token's three segments, still encoded.
fn split(token: &str) -> Result<(&str, &str, &str), ParseError> {
    if token.is_empty() {
        return Err(ParseError::Empty);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(ParseError::TooLarge { len: token.len() });
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => Ok((h, c, s)),
        _ => Err(ParseError::SegmentCount),
    }
}

fn segments(token: &str) -> Result<Segments<'_>, ParseError> {
    let (h, c, s) = split(token)?;
    Ok(Segments {
        header: b64::decode(h).ok_or(ParseError::Base64(Part::Header))?,
        claims: b64::decode(c).ok_or(ParseError::Base64(Part::Claims))?,
        signature: b64::decode(s).ok_or(ParseError::Base64(Part::Signature))?,
        signing_input: &token[..h.len() + 1 + c.len()],
    })
}

fn json_error(e: JsonError, part: Part) -> ParseError {
    match e {
        JsonError::DuplicateKey => ParseError::DuplicateKey(part),
        JsonError::Syntax | JsonError::NotAnObject => ParseError::Json(part),
    }
}

/// The header parameters [`parse`] reads: `alg`, `typ`, `kid`, then [`FORBIDDEN_HEADERS`].
pub(crate) const HEADER_NAMES: [&str; 3 + FORBIDDEN_HEADERS.len()] = {
    let mut names = [""; 3 + FORBIDDEN_HEADERS.len()];
    names[0] = "alg";
    names[1] = "typ";
    names[2] = "kid";
    let mut i = 0;
    while i < FORBIDDEN_HEADERS.len() {
        names[3 + i] = FORBIDDEN_HEADERS[i];
        i += 1;
    }
    names
};

/// A header [`read_header`] accepted, its strings borrowed where they have no escapes.
struct HeaderRef<'a> {
    alg: Algorithm,
    typ: Option<Cow<'a, str>>,
    kid: Option<Cow<'a, str>>,
}

impl HeaderRef<'_> {
    fn into_owned(self) -> Header {
        Header {
            alg: self.alg,
            typ: self.typ.map(Cow::into_owned),
            kid: self.kid.map(Cow::into_owned),
        }
    }
}

fn read_header(bytes: &[u8]) -> Result<HeaderRef<'_>, ParseError> {
    let [alg, typ, kid, forbidden @ ..] =
        reader::read_object(bytes, &HEADER_NAMES).map_err(|e| json_error(e, Part::Header))?;
    let alg = match alg {
        Some(Member::Str(name)) if name.eq_ignore_ascii_case("none") => {
            return Err(ParseError::AlgorithmNone)
        }
        Some(Member::Str(name)) => {
            Algorithm::from_name(&name).ok_or(ParseError::UnsupportedAlgorithm)?
        }
        Some(_) => return Err(ParseError::InvalidHeader("alg")),
        None => return Err(ParseError::MissingAlgorithm),
    };
    if let Some(i) = forbidden.iter().position(Option::is_some) {
        return Err(ParseError::ForbiddenHeader(FORBIDDEN_HEADERS[i]));
    }
    let typ = header_string(typ, "typ")?;
    let kid = header_string(kid, "kid")?;
    if kid.as_deref().is_some_and(|k| !valid_kid(k)) {
        return Err(ParseError::InvalidKeyId);
    }
    Ok(HeaderRef { alg, typ, kid })
}

fn header_string<'a>(
    member: Option<Member<'a>>,
    name: &'static str,
) -> Result<Option<Cow<'a, str>>, ParseError> {
    match member {
        None => Ok(None),
        Some(Member::Str(s)) => Ok(Some(s)),
        Some(_) => Err(ParseError::InvalidHeader(name)),
    }
}

/// The parse [`parse`] replaced, which builds the whole header and claims objects first: kept as
/// the oracle of the differential tests.
/// The borrowing parse against the owned reading it replaced.
#[cfg(all(test, feature = "json"))]
mod differential;

#[cfg(all(test, feature = "json"))]
pub(crate) mod owned {
    use super::*;
    use crate::claims::owned::from_map;

    /// A JSON object as serde_json builds it.
    pub(crate) type Object = Map<String, Value>;

    /// [`parse`] as it was, with the two objects it built.
    pub(crate) fn parse(token: &str) -> Result<(Token, Object, Object), ParseError> {
        let s = segments(token)?;
        let (header, header_map) = parse_header(&s.header)?;
        let claims_map = json::parse_object(&s.claims).map_err(|e| json_error(e, Part::Claims))?;
        let claims =
            from_map(&claims_map).map_err(|ClaimError(name)| ParseError::InvalidClaim(name))?;
        let token = Token {
            header,
            claims,
            signing_input: String::from(s.signing_input),
            signature: s.signature,
        };
        Ok((token, header_map, claims_map))
    }

    fn parse_header(bytes: &[u8]) -> Result<(Header, Object), ParseError> {
        let raw = json::parse_object(bytes).map_err(|e| json_error(e, Part::Header))?;
        let alg = match raw.get("alg") {
            Some(Value::String(name)) if name.eq_ignore_ascii_case("none") => {
                return Err(ParseError::AlgorithmNone)
            }
            Some(Value::String(name)) => {
                Algorithm::from_name(name).ok_or(ParseError::UnsupportedAlgorithm)?
            }
            Some(_) => return Err(ParseError::InvalidHeader("alg")),
            None => return Err(ParseError::MissingAlgorithm),
        };
        if let Some(name) = FORBIDDEN_HEADERS.into_iter().find(|h| raw.contains_key(*h)) {
            return Err(ParseError::ForbiddenHeader(name));
        }
        let typ = optional_string(&raw, "typ")?;
        let kid = optional_string(&raw, "kid")?;
        if kid.as_deref().is_some_and(|k| !valid_kid(k)) {
            return Err(ParseError::InvalidKeyId);
        }
        Ok((Header { alg, typ, kid }, raw))
    }

    fn optional_string(
        map: &Map<String, Value>,
        name: &'static str,
    ) -> Result<Option<String>, ParseError> {
        match map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ParseError::InvalidHeader(name)),
        }
    }
}
