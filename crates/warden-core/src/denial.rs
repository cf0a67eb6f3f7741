//! Verdicts and denials, each with a stable code, an HTTP status and an RFC 6750 header.

use alloc::format;
use alloc::string::String;
use core::fmt;

use crate::parse::ParseError;
use crate::policy::{Grant, RefreshHint};
use crate::revocation::RevocationReason;
use crate::UnixTime;

/// The outcome of evaluating a token. Deliberately exhaustive: every caller must handle every
/// outcome, so a new one cannot be silently treated as an allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The token is good.
    Allow(Grant),
    /// The token is sound but expired (or about to be), and the caller can refresh it.
    Refresh(RefreshHint),
    /// The token is not good, for this reason.
    Deny(Denial),
}

impl Verdict {
    /// The denial, if this is one.
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            Verdict::Deny(d) => Some(d),
            Verdict::Allow(_) | Verdict::Refresh(_) => None,
        }
    }

    /// The grant, if this is one.
    pub fn grant(&self) -> Option<&Grant> {
        match self {
            Verdict::Allow(g) => Some(g),
            Verdict::Refresh(_) | Verdict::Deny(_) => None,
        }
    }
}

/// Why a request is refused.
///
/// Every failure of the token itself is a 401 with `error="invalid_token"`; only a malformed
/// request is a 400 `invalid_request`; only a store or key set that cannot be had is a 503.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// No credentials came with the request (RFC 6750 §3.1: no error code).
    Missing,
    /// The request is malformed (e.g. two `Authorization` headers, an empty token).
    InvalidRequest(&'static str),
    /// The token could not be parsed.
    Malformed(ParseError),
    /// No key in the set has the token's `kid`.
    UnknownKey,
    /// The key found does not verify the token's algorithm.
    AlgorithmNotAllowed,
    /// The signature does not verify.
    BadSignature,
    /// A required claim is absent.
    MissingClaim(&'static str),
    /// `exp` is past (beyond the leeway).
    Expired {
        /// The token's `exp`.
        exp: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid {
        /// The token's `nbf`.
        nbf: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture {
        /// The token's `iat`.
        iat: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// The token is older than the policy's maximum age.
    TooOld {
        /// The token's `iat`.
        iat: UnixTime,
        /// The maximum age, in seconds.
        max_age: u64,
    },
    /// The token lives longer than its class allows (`exp − iat`, or `exp − now`).
    LifetimeTooLong {
        /// The lifetime found, in seconds.
        lifetime: u64,
        /// The cap, in seconds.
        cap: u64,
    },
    /// `iss` is absent or not the configured issuer.
    WrongIssuer,
    /// `aud` is absent or names none of the configured audiences.
    WrongAudience,
    /// `typ` is absent or not the configured type.
    WrongType,
    /// The token is revoked.
    Revoked(RevocationReason),
    /// The session has been idle longer than its idle timeout.
    SessionIdle {
        /// The session's last recorded activity.
        last_active: UnixTime,
        /// The idle timeout, in seconds.
        idle_timeout: u64,
    },
    /// The session has reached its absolute cap.
    SessionCapReached {
        /// When the session began.
        created_at: UnixTime,
        /// The cap, in seconds.
        cap: u64,
    },
    /// A rotated refresh token was presented again after the grace window: the family is
    /// compromised (RFC 9700 §4.14.2).
    RefreshReused,
    /// The revocation store could not answer.
    StoreUnavailable,
    /// No key set could be had.
    KeysUnavailable,
}

impl Denial {
    /// A stable machine-readable code, e.g. `token_expired`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::InvalidRequest(_) => "invalid_request",
            Self::Malformed(_) => "token_malformed",
            Self::UnknownKey => "token_unknown_key",
            Self::AlgorithmNotAllowed => "token_algorithm_not_allowed",
            Self::BadSignature => "token_bad_signature",
            Self::MissingClaim(_) => "token_claim_missing",
            Self::Expired { .. } => "token_expired",
            Self::NotYetValid { .. } => "token_not_yet_valid",
            Self::IssuedInFuture { .. } => "token_issued_in_future",
            Self::TooOld { .. } => "token_too_old",
            Self::LifetimeTooLong { .. } => "token_lifetime_too_long",
            Self::WrongIssuer => "token_wrong_issuer",
            Self::WrongAudience => "token_wrong_audience",
            Self::WrongType => "token_wrong_type",
            Self::Revoked(_) => "token_revoked",
            Self::SessionIdle { .. } => "session_idle",
            Self::SessionCapReached { .. } => "session_cap_reached",
            Self::RefreshReused => "refresh_reused",
            Self::StoreUnavailable => "store_unavailable",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }

    /// The HTTP status: 400, 401 or 503.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) => 400,
            Self::StoreUnavailable | Self::KeysUnavailable => 503,
            _ => 401,
        }
    }

    /// The RFC 6750 error code: `None` when no credentials came, else `invalid_request` or
    /// `invalid_token`.
    pub fn error(&self) -> Option<&'static str> {
        match self {
            Self::Missing | Self::StoreUnavailable | Self::KeysUnavailable => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            _ => Some("invalid_token"),
        }
    }

    /// A short fixed description (printable ASCII without `"` or `\`, as RFC 6750 §3 requires).
    pub fn description(&self) -> &'static str {
        match self {
            Self::Missing => "no credentials",
            Self::InvalidRequest(why) => why,
            Self::Malformed(e) => e.description(),
            Self::UnknownKey => "unknown signing key",
            Self::AlgorithmNotAllowed => "algorithm not allowed for this key",
            Self::BadSignature => "signature verification failed",
            Self::MissingClaim("exp") => "token has no exp",
            Self::MissingClaim("iat") => "token has no iat",
            Self::MissingClaim(_) => "token lacks a required claim",
            Self::Expired { .. } => "token expired",
            Self::NotYetValid { .. } => "token not yet valid",
            Self::IssuedInFuture { .. } => "token issued in the future",
            Self::TooOld { .. } => "token too old",
            Self::LifetimeTooLong { .. } => "token lifetime too long",
            Self::WrongIssuer => "wrong issuer",
            Self::WrongAudience => "wrong audience",
            Self::WrongType => "wrong token type",
            Self::Revoked(_) => "token revoked",
            Self::SessionIdle { .. } => "session expired after inactivity",
            Self::SessionCapReached { .. } => "session reached its maximum lifetime",
            Self::RefreshReused => "refresh token reused",
            Self::StoreUnavailable => "revocation store unavailable",
            Self::KeysUnavailable => "signing keys unavailable",
        }
    }

    /// The `WWW-Authenticate` value for this denial, or `None` for a 503.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.status() == 503 {
            return None;
        }
        Some(match self.error() {
            None => String::from("Bearer"),
            Some(error) => format!(
                "Bearer error=\"{error}\", error_description=\"{}\"",
                self.description()
            ),
        })
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed token: {e}"),
            Self::Expired { exp, now } => write!(f, "token expired at {exp} (now {now})"),
            Self::NotYetValid { nbf, now } => write!(f, "token not valid before {nbf} (now {now})"),
            Self::IssuedInFuture { iat, now } => {
                write!(f, "token issued at {iat}, in the future (now {now})")
            }
            Self::TooOld { iat, max_age } => {
                write!(f, "token issued at {iat} is older than {max_age} s")
            }
            Self::LifetimeTooLong { lifetime, cap } => {
                write!(f, "token lifetime {lifetime} s exceeds {cap} s")
            }
            Self::MissingClaim(c) => write!(f, "token has no `{c}` claim"),
            Self::Revoked(r) => write!(f, "token revoked ({r:?})"),
            Self::SessionIdle {
                last_active,
                idle_timeout,
            } => {
                write!(
                    f,
                    "session idle since {last_active} (timeout {idle_timeout} s)"
                )
            }
            Self::SessionCapReached { created_at, cap } => {
                write!(f, "session began at {created_at}, cap {cap} s")
            }
            other => f.write_str(other.description()),
        }
    }
}

impl core::error::Error for Denial {}
