//! Why a security event token is refused, with its RFC 8935 §2.3 error code.

use core::fmt;

use crate::parse::{ParseError, KEY_CHOOSING_HEADERS};
use crate::policy::LOGOUT_TYP;
use crate::UnixTime;

/// An RFC 8935 §2.3 error code: the `err` member of a push refusal (and of `setErrs` in a poll,
/// RFC 8936 §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetErrorCode {
    /// `invalid_request`: malformed, or a claim is missing or wrong.
    InvalidRequest,
    /// `invalid_key`: the key or the signature is unacceptable.
    InvalidKey,
    /// `invalid_issuer`: the `iss` is not the configured transmitter's.
    InvalidIssuer,
    /// `invalid_audience`: the `aud` does not name this receiver.
    InvalidAudience,
    /// `authentication_failed`: the push request did not authenticate (the driver's check of
    /// the transmitter's bearer token, RFC 8935 §2.2).
    AuthenticationFailed,
    /// `access_denied`: the transmitter may not deliver SETs here. The core never decides
    /// this; it is listed so that every code is spelled once.
    AccessDenied,
}

impl SetErrorCode {
    /// The code as sent, e.g. `invalid_issuer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidKey => "invalid_key",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
            Self::AuthenticationFailed => "authentication_failed",
            Self::AccessDenied => "access_denied",
        }
    }

    /// The HTTP status of a push refusal: 401 for `authentication_failed`, 403 for
    /// `access_denied`, 400 otherwise (RFC 8935 §2.3).
    pub fn status(self) -> u16 {
        match self {
            Self::AuthenticationFailed => 401,
            Self::AccessDenied => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for SetErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a Security Event Token or a logout token is refused. [`SetError::code`] is its RFC 8935
/// code; a refused logout token is always answered `invalid_request` (OpenID Connect
/// Back-Channel Logout 1.0 §2.8) with [`SetError::description`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetError {
    /// The token could not be parsed (see [`crate::parse`]). `invalid_key` when the header
    /// is at fault in a way that concerns keys (`alg` `none` or unknown, a malformed `kid`,
    /// `jku`/`x5u`/`jwk`/`x5c`); `invalid_issuer`/`invalid_audience` for an `iss`/`aud` of
    /// the wrong type; else `invalid_request`.
    Malformed(ParseError),
    /// The transmitter's key set has no key with the token's `kid`.
    UnknownKey,
    /// The key found is bound to another algorithm than the token's `alg` (so an `HS*` token
    /// is refused unless the set holds an `oct` key for it).
    AlgorithmNotAllowed,
    /// The signature does not verify.
    BadSignature,
    /// The header `typ` is absent or not the one required (`secevent+jwt`), or, for a logout
    /// token, present and not `logout+jwt`.
    WrongType {
        /// The type required.
        expected: &'static str,
    },
    /// `iss` is absent or not the configured issuer.
    WrongIssuer,
    /// `aud` is absent or does not name the configured audience.
    WrongAudience,
    /// A required claim is absent (`iat`, `jti`, `events`).
    MissingClaim(&'static str),
    /// A claim has the wrong type or an unusable value (`jti`, `sid`, `sub`: not an identity
    /// value; `events`: not an object).
    InvalidClaim(&'static str),
    /// A time claim, beyond the leeway: `iat` or (when present) `nbf` in the future, or (when
    /// present) `exp` past.
    OutOfTime {
        /// `iat`, `nbf` or `exp`.
        claim: &'static str,
        /// Its value.
        time: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// `events` does not have exactly one member (RFC 8935 §2.3 `invalid_request`: no or
    /// several events).
    EventCount(usize),
    /// The event's value is not a JSON object.
    EventNotObject,
    /// The event's subject (`sub_id` or the event's `subject`) is malformed: not an object,
    /// no `format`, a format's required member missing or not a string, or two different
    /// subjects.
    InvalidSubject(&'static str),
    /// An event member has the wrong type (`event_timestamp`, `state`).
    InvalidEventClaim(&'static str),
    /// The event's `event_timestamp` is later than now plus the leeway (e.g. milliseconds
    /// sent as seconds): a cutoff then would revoke tokens not issued yet.
    EventInFuture {
        /// The event time.
        event_time: UnixTime,
        /// The latest acceptable one (`now + leeway`).
        latest: UnixTime,
    },
    /// A logout token's `events` has no back-channel logout member.
    NotALogoutToken,
    /// A logout token carries a `nonce` (§2.4: it must not, so that an ID token is never
    /// taken for one).
    NoncePresent,
    /// A logout token has neither `sid` nor `sub`.
    NoSessionOrSubject,
    /// The push request did not carry the transmitter's bearer token (the driver's check).
    AuthenticationFailed,
}

impl SetError {
    /// The RFC 8935 §2.3 error code.
    pub fn code(&self) -> SetErrorCode {
        match self {
            Self::Malformed(e) => match e {
                ParseError::AlgorithmNone
                | ParseError::UnsupportedAlgorithm
                | ParseError::InvalidKeyId => SetErrorCode::InvalidKey,
                ParseError::ForbiddenHeader(h) if KEY_CHOOSING_HEADERS.contains(h) => {
                    SetErrorCode::InvalidKey
                }
                ParseError::InvalidClaim("iss") => SetErrorCode::InvalidIssuer,
                ParseError::InvalidClaim("aud") => SetErrorCode::InvalidAudience,
                _ => SetErrorCode::InvalidRequest,
            },
            Self::UnknownKey | Self::AlgorithmNotAllowed | Self::BadSignature => {
                SetErrorCode::InvalidKey
            }
            Self::WrongIssuer => SetErrorCode::InvalidIssuer,
            Self::WrongAudience => SetErrorCode::InvalidAudience,
            Self::AuthenticationFailed => SetErrorCode::AuthenticationFailed,
            _ => SetErrorCode::InvalidRequest,
        }
    }

    /// A short, fixed, human description (printable ASCII, no `"` or `\`): the
    /// `description` member of a refusal.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Malformed(e) => e.description(),
            Self::UnknownKey => "no transmitter key has the token's kid",
            Self::AlgorithmNotAllowed => "the transmitter's key does not sign with this alg",
            Self::BadSignature => "signature verification failed",
            Self::WrongType {
                expected: LOGOUT_TYP,
            } => "header typ is not logout+jwt",
            Self::WrongType { .. } => "header typ is not secevent+jwt",
            Self::WrongIssuer => "iss is not the configured issuer",
            Self::WrongAudience => "aud does not name this receiver",
            Self::MissingClaim("iat") => "the token has no iat",
            Self::MissingClaim("jti") => "the token has no jti",
            Self::MissingClaim("events") => "the token has no events",
            Self::MissingClaim(_) => "the token lacks a required claim",
            Self::InvalidClaim("jti") => "jti is not a usable identifier",
            Self::InvalidClaim("sid") => "sid is not a usable identifier",
            Self::InvalidClaim("sub") => "sub is not a usable identifier",
            Self::InvalidClaim("events") => "events is not a JSON object",
            Self::InvalidClaim(_) => "a claim has the wrong type",
            Self::OutOfTime { claim: "exp", .. } => "the token has expired",
            Self::OutOfTime { claim: "nbf", .. } => "the token is not valid yet",
            Self::OutOfTime { .. } => "iat is in the future",
            Self::EventCount(0) => "events has no event",
            Self::EventCount(_) => "events has more than one event",
            Self::EventNotObject => "the event is not a JSON object",
            Self::InvalidSubject(why) => why,
            Self::InvalidEventClaim("event_timestamp") => {
                "event_timestamp is not a NumericDate in seconds"
            }
            Self::InvalidEventClaim(_) => "an event member has the wrong type",
            Self::EventInFuture { .. } => "event_timestamp is in the future",
            Self::NotALogoutToken => "events has no back-channel logout event",
            Self::NoncePresent => "a logout token must not contain nonce",
            Self::NoSessionOrSubject => "a logout token needs sid or sub",
            Self::AuthenticationFailed => "the push request did not authenticate",
        }
    }
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed token: {e}"),
            Self::OutOfTime { claim, time, now } => {
                write!(f, "{}: {claim} {time} (now {now})", self.description())
            }
            Self::EventCount(n) => write!(f, "events has {n} members; exactly one is required"),
            Self::EventInFuture { event_time, latest } => write!(
                f,
                "event_timestamp {event_time} is later than {latest} (seconds are expected)"
            ),
            other => f.write_str(other.description()),
        }
    }
}

impl core::error::Error for SetError {}

impl From<ParseError> for SetError {
    fn from(e: ParseError) -> Self {
        SetError::Malformed(e)
    }
}
