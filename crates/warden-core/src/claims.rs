//! The registered claims Warden reads (RFC 7519 §4.1), typed strictly.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use crate::json::JsonError;
use crate::reader::{self, Member};
use crate::UnixTime;

/// Largest accepted NumericDate: 9999-12-31T23:59:59Z. Larger values are refused as invalid,
/// which also keeps every sum with a leeway far from overflow.
pub const MAX_NUMERIC_DATE: UnixTime = 253_402_300_799;

/// Longest accepted `sub`, `sid` and `jti`, in bytes: identifiers are revocation-store keys.
pub const MAX_ID_LEN: usize = 256;

/// The claims of a token, typed. [`crate::Token::claims_map`] gives the whole object.
///
/// Types are strict: `exp`, `nbf` and `iat` must be non-negative JSON integers no larger than
/// [`MAX_NUMERIC_DATE`] (strings, fractions and negatives are refused); `iss`, `sub`, `jti`,
/// `sid` and `scope` must be strings; `aud` a string or an array of strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims {
    /// `iss`: the issuer.
    pub iss: Option<String>,
    /// `sub`: the subject (user).
    pub sub: Option<String>,
    /// `aud`: the audiences (a single string becomes a one-element list).
    pub aud: Vec<String>,
    /// `exp`: expiry.
    pub exp: Option<UnixTime>,
    /// `nbf`: not before.
    pub nbf: Option<UnixTime>,
    /// `iat`: issued at.
    pub iat: Option<UnixTime>,
    /// `jti`: the token id.
    pub jti: Option<String>,
    /// `sid`: the session id (OpenID Connect front-/back-channel logout).
    pub sid: Option<String>,
    /// `scope`: space-separated scopes (RFC 8693 §4.2).
    pub scope: Option<String>,
    /// Whether the claims carry `events` (RFC 8417 §2.2): a Security Event Token's or a logout
    /// token's, never an access token's (the access policy refuses it, RFC 8725 §3.12).
    pub events: bool,
    /// `cnf` (RFC 7800 §3.1), as read: what binds the token to a key or a certificate. Its
    /// type is not checked here but where the binding is ([`crate::Confirmation::of`]), so that
    /// a malformed `cnf` is refused as a binding, not as a token.
    pub cnf: Cnf,
}

/// A token's `cnf` claim as written: [`crate::Confirmation::of`] says what it binds the token
/// to, or why it cannot be used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cnf {
    /// No `cnf`.
    #[default]
    Absent,
    /// A `cnf` that is not a JSON object.
    NotAnObject,
    /// A `cnf` object: its two members Warden checks (RFC 9449 §6.1 `jkt`, RFC 8705 §3.1
    /// `x5t#S256`); any others are ignored.
    Object {
        /// `jkt`.
        jkt: CnfMember,
        /// `x5t#S256`.
        x5t_s256: CnfMember,
    },
}

/// A member of a `cnf` object, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CnfMember {
    /// Not there.
    #[default]
    Absent,
    /// A JSON string (possibly empty).
    Str(String),
    /// Any other JSON value.
    Other,
}

/// The members of a `cnf` object that [`Cnf::Object`] keeps.
const CNF_NAMES: [&str; 2] = ["jkt", "x5t#S256"];

impl Cnf {
    /// Whether `cnf` names a client certificate (`x5t#S256`, whatever its value): the only
    /// tokens for which the gate reads the request's certificate (RFC 8705 §3), so a driver may
    /// fetch the certificate for these alone.
    pub fn names_certificate(&self) -> bool {
        matches!(self, Cnf::Object { x5t_s256, .. } if *x5t_s256 != CnfMember::Absent)
    }

    /// The captured `cnf` member. An object's text was read and checked with the whole claims
    /// object, so reading it again cannot fail.
    fn of(member: Option<Member<'_>>) -> Cnf {
        match member {
            None => Cnf::Absent,
            Some(Member::Object(text)) => match reader::read_object(text, &CNF_NAMES) {
                Ok([jkt, x5t_s256]) => Cnf::Object {
                    jkt: CnfMember::of(jkt),
                    x5t_s256: CnfMember::of(x5t_s256),
                },
                Err(_) => Cnf::NotAnObject,
            },
            Some(_) => Cnf::NotAnObject,
        }
    }
}

impl CnfMember {
    fn of(member: Option<Member<'_>>) -> CnfMember {
        match member {
            None => CnfMember::Absent,
            Some(Member::Str(s)) => CnfMember::Str(s.into_owned()),
            Some(_) => CnfMember::Other,
        }
    }
}

/// The name of a claim that has the wrong type or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClaimError(pub(crate) &'static str);

/// The registered claims Warden reads, in the order their types are checked (`cnf` is checked
/// by [`crate::Confirmation::of`]).
pub(crate) const CLAIM_NAMES: [&str; 11] = [
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "scope", "events", "cnf",
];

/// A token's time claims (`exp`, `nbf`, `iat`), typed as in [`Claims`]: what [`crate::parse_times`]
/// returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeClaims {
    /// `exp`: expiry.
    pub exp: Option<UnixTime>,
    /// `nbf`: not before.
    pub nbf: Option<UnixTime>,
    /// `iat`: issued at.
    pub iat: Option<UnixTime>,
}

impl Claims {
    /// Reads the claims object in `bytes` (the decoded payload) without building it: the
    /// registered claims are captured, every other member is only walked and checked.
    pub(crate) fn read(bytes: &[u8]) -> Result<Self, ReadError> {
        let members = reader::read_object(bytes, &CLAIM_NAMES).map_err(ReadError::Json)?;
        let times = check(&members).map_err(ReadError::Claim)?;
        let [iss, sub, aud, _, _, _, jti, sid, scope, events, cnf] = members;
        Ok(Claims {
            iss: owned(iss),
            sub: owned(sub),
            aud: audiences(aud),
            exp: times.exp,
            nbf: times.nbf,
            iat: times.iat,
            jti: owned(jti),
            sid: owned(sid),
            scope: owned(scope),
            events: events.is_some(),
            cnf: Cnf::of(cnf),
        })
    }

    /// [`Claims::read`]'s verdict and the time claims, without owned copies of the strings.
    pub(crate) fn read_times(bytes: &[u8]) -> Result<TimeClaims, ReadError> {
        let members = reader::read_object(bytes, &CLAIM_NAMES).map_err(ReadError::Json)?;
        check(&members).map_err(ReadError::Claim)
    }

    /// The time claims.
    pub fn times(&self) -> TimeClaims {
        TimeClaims {
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
        }
    }

    /// Whether `scope` lists `wanted` as one of its space-separated entries.
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|x| x == wanted))
    }
}

/// Why [`Claims::read`] refused a payload: its JSON, or one registered claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    Json(JsonError),
    Claim(ClaimError),
}

/// Checks the captured registered claims' types and values, in [`CLAIM_NAMES`] order (the first
/// wrong one is the error); the time claims.
fn check(members: &[Option<Member<'_>>; 11]) -> Result<TimeClaims, ClaimError> {
    let [iss, sub, aud, exp, nbf, iat, jti, sid, scope, _events, _cnf] = members;
    string(iss, "iss", usize::MAX)?;
    string(sub, "sub", MAX_ID_LEN)?;
    if !matches!(aud, None | Some(Member::Str(_) | Member::Strs(_))) {
        return Err(ClaimError("aud"));
    }
    let times = TimeClaims {
        exp: numeric_date(exp, "exp")?,
        nbf: numeric_date(nbf, "nbf")?,
        iat: numeric_date(iat, "iat")?,
    };
    string(jti, "jti", MAX_ID_LEN)?;
    string(sid, "sid", MAX_ID_LEN)?;
    string(scope, "scope", usize::MAX)?;
    Ok(times)
}

/// A string claim: absent, or a non-empty string of at most `max` bytes.
fn string(member: &Option<Member<'_>>, name: &'static str, max: usize) -> Result<(), ClaimError> {
    match member {
        None => Ok(()),
        Some(Member::Str(s)) if s.len() <= max && !s.is_empty() => Ok(()),
        Some(_) => Err(ClaimError(name)),
    }
}

/// A NumericDate claim: absent, or a non-negative integer up to [`MAX_NUMERIC_DATE`].
fn numeric_date(
    member: &Option<Member<'_>>,
    name: &'static str,
) -> Result<Option<UnixTime>, ClaimError> {
    match member {
        None => Ok(None),
        Some(Member::U64(t)) if *t <= MAX_NUMERIC_DATE => Ok(Some(*t)),
        Some(_) => Err(ClaimError(name)),
    }
}

/// A string claim [`check`] accepted, owned.
fn owned(member: Option<Member<'_>>) -> Option<String> {
    match member {
        Some(Member::Str(s)) => Some(s.into_owned()),
        _ => None,
    }
}

/// The `aud` [`check`] accepted, owned: a single string becomes a one-element list.
fn audiences(member: Option<Member<'_>>) -> Vec<String> {
    match member {
        Some(Member::Str(s)) => alloc::vec![s.into_owned()],
        Some(Member::Strs(items)) => items.into_iter().map(Cow::into_owned).collect(),
        _ => Vec::new(),
    }
}

/// The reading [`Claims::read`] replaced, from a whole owned object: kept as the oracle of the
/// differential tests.
#[cfg(all(test, feature = "json"))]
pub(crate) mod owned {
    use super::{ClaimError, Claims, Cnf, CnfMember, MAX_ID_LEN, MAX_NUMERIC_DATE};
    use crate::UnixTime;
    use alloc::string::String;
    use alloc::vec::Vec;
    use serde_json::{Map, Value};

    pub(crate) fn from_map(raw: &Map<String, Value>) -> Result<Claims, ClaimError> {
        Ok(Claims {
            iss: string(raw, "iss", usize::MAX)?,
            sub: string(raw, "sub", MAX_ID_LEN)?,
            aud: audience(raw)?,
            exp: numeric_date(raw, "exp")?,
            nbf: numeric_date(raw, "nbf")?,
            iat: numeric_date(raw, "iat")?,
            jti: string(raw, "jti", MAX_ID_LEN)?,
            sid: string(raw, "sid", MAX_ID_LEN)?,
            scope: string(raw, "scope", usize::MAX)?,
            events: raw.contains_key("events"),
            cnf: cnf(raw),
        })
    }

    fn cnf(raw: &Map<String, Value>) -> Cnf {
        let member = |cnf: &Map<String, Value>, name: &str| match cnf.get(name) {
            None => CnfMember::Absent,
            Some(Value::String(s)) => CnfMember::Str(s.clone()),
            Some(_) => CnfMember::Other,
        };
        match raw.get("cnf") {
            None => Cnf::Absent,
            Some(Value::Object(c)) => Cnf::Object {
                jkt: member(c, "jkt"),
                x5t_s256: member(c, "x5t#S256"),
            },
            Some(_) => Cnf::NotAnObject,
        }
    }

    fn string(
        raw: &Map<String, Value>,
        name: &'static str,
        max: usize,
    ) -> Result<Option<String>, ClaimError> {
        match raw.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.len() <= max && !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(ClaimError(name)),
        }
    }

    fn numeric_date(
        raw: &Map<String, Value>,
        name: &'static str,
    ) -> Result<Option<UnixTime>, ClaimError> {
        match raw.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(t) if t <= MAX_NUMERIC_DATE => Ok(Some(t)),
                _ => Err(ClaimError(name)),
            },
            Some(_) => Err(ClaimError(name)),
        }
    }

    fn audience(raw: &Map<String, Value>) -> Result<Vec<String>, ClaimError> {
        match raw.get("aud") {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(alloc::vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(String::from).ok_or(ClaimError("aud")))
                .collect(),
            Some(_) => Err(ClaimError("aud")),
        }
    }
}
