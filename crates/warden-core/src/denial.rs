//! Verdicts and denials, each with a stable code, an HTTP status and an RFC 6750 header.

use alloc::format;
use alloc::string::String;
use core::fmt;

use crate::grant::{Grant, RefreshHint};
use crate::parse::ParseError;
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
    /// The issuer's OpenID Connect discovery document (`WARDEN_OIDC_DISCOVERY`) could not be
    /// had or is unusable (its `issuer` is not the configured one, its `jwks_uri` not https):
    /// a configuration error, answered 503.
    DiscoveryFailed,
    /// An opaque token (a PAT) that no record knows.
    TokenUnknown,
    /// A claim that would reach the origin as an identity value (`sub`, `sid`, `jti`,
    /// `scope`) holds something HTTP could alter or split: leading or trailing whitespace, a
    /// control character, an empty value, or (for `scope`) anything but scope tokens separated
    /// by single spaces (RFC 6749 §3.3).
    ClaimInvalid(&'static str),
    /// The credential is good but lacks a scope the path requires (RFC 6750 §3.1: 403).
    InsufficientScope {
        /// The missing scopes, space-separated.
        scope: String,
    },
    /// The authorization server answered `invalid_grant`: the session can no longer be
    /// refreshed (its cookies are cleared; the edge revokes nothing).
    RefreshInvalidGrant,
    /// The authorization server failed or answered something unusable (502; retry).
    RefreshUpstream(&'static str),
    /// The refresh could not be done now: a timeout, or an object or store that cannot work
    /// (503; retry).
    RefreshUnavailable,
    /// A DPoP proof, or the token's sender constraint (DPoP or mTLS), was refused (401).
    Dpop(DpopError),
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
            Self::DiscoveryFailed => "config_error",
            Self::TokenUnknown => "token_unknown",
            Self::ClaimInvalid(_) => "token_claim_invalid",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::RefreshInvalidGrant => "refresh_invalid_grant",
            Self::RefreshUpstream(_) => "refresh_upstream_error",
            Self::RefreshUnavailable => "refresh_unavailable",
            Self::Dpop(e) => e.code(),
        }
    }

    /// The HTTP status: 400, 401, 403, 502 or 503.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) => 400,
            Self::InsufficientScope { .. } => 403,
            Self::RefreshUpstream(_) => 502,
            Self::StoreUnavailable
            | Self::KeysUnavailable
            | Self::DiscoveryFailed
            | Self::RefreshUnavailable => 503,
            _ => 401,
        }
    }

    /// The RFC 6750 error code: `None` when no credentials came (and for 5xx answers), else
    /// `invalid_request`, `invalid_token` or `insufficient_scope`.
    pub fn error(&self) -> Option<&'static str> {
        match self {
            Self::Missing => None,
            _ if self.status() >= 500 => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::Dpop(e) => Some(e.error()),
            _ => Some("invalid_token"),
        }
    }

    /// The `error` member of the JSON body: the RFC 6750 code, or `unauthorized` (no
    /// credentials), `bad_gateway` (502), `temporarily_unavailable` (503).
    pub fn body_error(&self) -> &'static str {
        match (self.error(), self.status()) {
            (Some(e), _) => e,
            (None, 502) => "bad_gateway",
            (None, 503) => "temporarily_unavailable",
            (None, _) => "unauthorized",
        }
    }

    /// Seconds after which a client may retry, for the failures that a retry can cure (a
    /// refresh that could not be done now).
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::RefreshUpstream(_) | Self::RefreshUnavailable => Some(1),
            _ => None,
        }
    }

    /// The missing scopes of an [`Denial::InsufficientScope`] (the body's `scope` member).
    pub fn scope(&self) -> Option<&str> {
        match self {
            Self::InsufficientScope { scope } => Some(scope),
            _ => None,
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
            Self::DiscoveryFailed => "the issuer discovery document is unusable",
            Self::TokenUnknown => "unknown token",
            Self::ClaimInvalid("sub") => "token sub is not a usable identity value",
            Self::ClaimInvalid("sid") => "token sid is not a usable identity value",
            Self::ClaimInvalid("jti") => "token jti is not a usable identity value",
            Self::ClaimInvalid("scope") => "token scope is not space-separated scope tokens",
            Self::ClaimInvalid("cnf") => "token cnf is not a usable confirmation",
            Self::ClaimInvalid(_) => "token claim is not a usable identity value",
            Self::InsufficientScope { .. } => "the token lacks a scope this path requires",
            Self::RefreshInvalidGrant => "the session can no longer be refreshed",
            Self::RefreshUpstream(why) => why,
            Self::RefreshUnavailable => "the session could not be refreshed now; retry",
            Self::Dpop(e) => e.description(),
        }
    }

    /// The `WWW-Authenticate` value for this denial, or `None` for a 5xx.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.status() >= 500 {
            return None;
        }
        Some(match (self.error(), self.scope()) {
            (None, _) => String::from("Bearer"),
            (Some(error), None) => format!(
                "Bearer error=\"{error}\", error_description=\"{}\"",
                self.description()
            ),
            (Some(error), Some(scope)) => format!(
                "Bearer error=\"{error}\", error_description=\"{}\", scope=\"{scope}\"",
                self.description()
            ),
        })
    }
}

impl Denial {
    /// The `WWW-Authenticate` value with the `DPoP` scheme (RFC 9449 §7.1), for a request that
    /// used DPoP or a refusal of its proof or binding: `algs` is the accepted algorithms,
    /// space-separated. `None` for a 5xx.
    pub fn dpop_challenge(&self, algs: &str) -> Option<String> {
        if self.status() >= 500 {
            return None;
        }
        Some(match (self.error(), self.scope()) {
            (None, _) => format!("DPoP algs=\"{algs}\""),
            (Some(error), None) => format!(
                "DPoP error=\"{error}\", error_description=\"{}\", algs=\"{algs}\"",
                self.description()
            ),
            (Some(error), Some(scope)) => format!(
                "DPoP error=\"{error}\", error_description=\"{}\", scope=\"{scope}\", algs=\"{algs}\"",
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
            Self::ClaimInvalid(c) => write!(f, "token claim `{c}` is not a usable identity value"),
            Self::InsufficientScope { scope } => write!(f, "missing scope: {scope}"),
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

/// Why a DPoP proof or a token's binding was refused. Each variant has a stable
/// [`code`](DpopError::code) and a distinct [`description`](DpopError::description).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopError {
    /// The proof is malformed or breaks a rule of RFC 9449 §4.3 (the reason says which).
    Invalid(&'static str),
    /// The proof's signature does not verify with its `jwk`.
    BadSignature,
    /// The proof's `jti` was seen before.
    Replayed,
    /// `htm` is not the request's method.
    HtmMismatch,
    /// `htu` is not the request's URL.
    HtuMismatch,
    /// A token came and the proof has no `ath`.
    AthMissing,
    /// `ath` is not the hash of the presented token.
    AthMismatch,
    /// The token is not bound to the proof's key (`cnf.jkt` absent or another thumbprint).
    KeyMismatch,
    /// Nonces are on and the proof carries none.
    NonceMissing,
    /// Nonces are on and the proof's nonce is not current.
    NonceStale,
    /// The proof's `iat` is older than the maximum age (plus the leeway).
    Expired,
    /// The proof's `iat` is in the future (beyond the leeway).
    FromFuture,
    /// A DPoP-bound token came as a bearer token (a downgrade).
    BoundTokenAsBearer,
    /// `WARDEN_DPOP=required` and the token came as a bearer token.
    Required,
    /// The token is bound to a client certificate (`cnf` `x5t#S256`) that the request did not
    /// present, or bound by a confirmation method Warden cannot check.
    BindingMismatch,
}

impl DpopError {
    /// The stable code of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) | Self::BadSignature | Self::FromFuture => "dpop_proof_invalid",
            Self::Replayed => "dpop_replayed",
            Self::HtmMismatch => "dpop_htm_mismatch",
            Self::HtuMismatch => "dpop_htu_mismatch",
            Self::AthMissing | Self::AthMismatch => "dpop_ath_mismatch",
            Self::KeyMismatch => "dpop_key_mismatch",
            Self::NonceMissing | Self::NonceStale => "dpop_nonce_required",
            Self::Expired => "dpop_proof_expired",
            Self::BoundTokenAsBearer => "dpop_bound_token_as_bearer",
            Self::Required => "dpop_required",
            Self::BindingMismatch => "token_binding_mismatch",
        }
    }

    /// The challenge's `error`: `use_dpop_nonce` (RFC 9449 §8), `invalid_token` (the token's
    /// binding), or `invalid_dpop_proof`.
    pub fn error(&self) -> &'static str {
        match self {
            Self::NonceMissing | Self::NonceStale => "use_dpop_nonce",
            Self::BoundTokenAsBearer | Self::Required | Self::BindingMismatch => "invalid_token",
            _ => "invalid_dpop_proof",
        }
    }

    /// Whether the answer carries a fresh `DPoP-Nonce` (the client retries with it).
    pub fn wants_nonce(&self) -> bool {
        matches!(self, Self::NonceMissing | Self::NonceStale)
    }

    /// A short fixed description (printable ASCII without `"` or `\`), distinct per reason.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Invalid(why) => why,
            Self::BadSignature => "DPoP proof signature does not verify",
            Self::Replayed => "DPoP proof was already used",
            Self::HtmMismatch => "DPoP proof htm is not the request method",
            Self::HtuMismatch => "DPoP proof htu is not the request URL",
            Self::AthMissing => "DPoP proof has no ath for the access token",
            Self::AthMismatch => "DPoP proof ath does not match the access token",
            Self::KeyMismatch => "the access token is not bound to the DPoP proof key",
            Self::NonceMissing => "a DPoP nonce is required",
            Self::NonceStale => "the DPoP nonce is not current",
            Self::Expired => "DPoP proof is too old",
            Self::FromFuture => "DPoP proof iat is in the future",
            Self::BoundTokenAsBearer => "a DPoP-bound token must be presented with DPoP",
            Self::Required => "this resource accepts DPoP-bound tokens only",
            Self::BindingMismatch => "the client certificate does not match the token binding",
        }
    }
}

impl fmt::Display for DpopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for DpopError {}
