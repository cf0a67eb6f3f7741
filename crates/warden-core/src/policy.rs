//! The claims policy: pure checks of a verified token against `now` and the store's answer.

use alloc::string::String;
use alloc::vec::Vec;

use crate::claims::Claims;
use crate::denial::{Denial, Verdict};
use crate::grant::{Grant, RefreshHint, TokenClass};
use crate::lifetime::{is_expired, is_not_yet_valid};
use crate::parse::{ParseError, Token};
use crate::revocation::RevocationStatus;
use crate::UnixTime;

/// The claims policy. `Policy::default()` is the secure default everywhere Warden runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Required `iss`, when set. Default: none.
    pub issuer: Option<String>,
    /// Accepted audiences; when non-empty, `aud` is required and must name one. Default: empty.
    pub audiences: Vec<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. Default: 30.
    pub leeway: u64,
    /// Longest accepted lifetime, in seconds, on both `exp − iat` and `exp − now`. Default: 86400.
    pub max_lifetime: u64,
    /// Oldest accepted token (`now − iat`), in seconds, when set. Default: none.
    pub max_age: Option<u64>,
    /// Required header `typ` (e.g. `at+jwt`), when set; compared case-insensitively, with an
    /// optional `application/` prefix (RFC 7515 §4.1.9). Default: none.
    pub typ: Option<String>,
    /// With [`Policy::evaluate_with_refresh`], a token this close to `exp` (seconds) is
    /// refreshed ahead of time. Default: 0.
    pub refresh_window: u64,
}

/// Default leeway, in seconds.
pub const DEFAULT_LEEWAY: u64 = 30;
/// Default lifetime cap for access tokens, in seconds.
pub const DEFAULT_MAX_LIFETIME: u64 = 86_400;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            issuer: None,
            audiences: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            max_age: None,
            typ: None,
            refresh_window: 0,
        }
    }
}

impl Policy {
    /// Checks everything but revocation, in this order: `exp` and `iat` present, `typ` (the
    /// configured one; never an [`OTHER_KINDS`] type or an `events` claim), `iss`,
    /// `aud`, `exp − iat` within the cap, `nbf`, `iat` not in the future, `exp` not past,
    /// `exp − now` within the cap, age. So an `Expired` token is otherwise sound, and a caller
    /// may refresh it.
    pub fn check(&self, token: &Token, now: UnixTime) -> Result<(), Denial> {
        let c = &token.claims;
        let exp = c.exp.ok_or(Denial::MissingClaim("exp"))?;
        let iat = c.iat.ok_or(Denial::MissingClaim("iat"))?;
        if let Some(want) = &self.typ {
            if !token
                .header
                .typ
                .as_deref()
                .is_some_and(|t| typ_matches(t, want))
            {
                return Err(Denial::WrongType);
            }
        }
        // Another kind of JWT is never an access token, whatever is configured (RFC 8725
        // §3.12): a SET or logout token carries `events`; these types name the other kinds.
        if c.events || token.header.typ.as_deref().is_some_and(is_another_kind) {
            return Err(Denial::WrongType);
        }
        if let Some(want) = &self.issuer {
            if c.iss.as_ref() != Some(want) {
                return Err(Denial::WrongIssuer);
            }
        }
        if !self.audiences.is_empty() && !c.aud.iter().any(|a| self.audiences.contains(a)) {
            return Err(Denial::WrongAudience);
        }
        let lifetime = exp
            .checked_sub(iat)
            .ok_or(Denial::Malformed(ParseError::InvalidClaim("exp")))?;
        if lifetime > self.max_lifetime {
            return Err(Denial::LifetimeTooLong {
                lifetime,
                cap: self.max_lifetime,
            });
        }
        if let Some(nbf) = c.nbf {
            if is_not_yet_valid(nbf, now, self.leeway) {
                return Err(Denial::NotYetValid { nbf, now });
            }
        }
        if is_not_yet_valid(iat, now, self.leeway) {
            return Err(Denial::IssuedInFuture { iat, now });
        }
        if is_expired(exp, now, self.leeway) {
            return Err(Denial::Expired { exp, now });
        }
        let remaining = exp.saturating_sub(now);
        if remaining > self.max_lifetime.saturating_add(self.leeway) {
            return Err(Denial::LifetimeTooLong {
                lifetime: remaining,
                cap: self.max_lifetime,
            });
        }
        if let Some(max_age) = self.max_age {
            if now.saturating_sub(iat) > max_age {
                return Err(Denial::TooOld { iat, max_age });
            }
        }
        Ok(())
    }

    /// Whether a presented token is taken for a refresh token (RFC 7009 revocation by token):
    /// when an access `typ` is required and the token's `typ` is absent or another one.
    pub fn is_refresh_token(&self, token: &Token) -> bool {
        match (&self.typ, &token.header.typ) {
            (Some(access), Some(typ)) => !typ_matches(typ, access),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// [`Policy::check`], then the store's answer: revoked → 401, unavailable → 503. A token
    /// that can never be refreshed is granted or denied, nothing else.
    pub fn evaluate(
        &self,
        token: &Token,
        now: UnixTime,
        revocation: RevocationStatus,
    ) -> Result<Grant, Denial> {
        match self.evaluate_with_refresh(token, now, revocation, false) {
            Verdict::Allow(grant) => Ok(grant),
            Verdict::Deny(d) => Err(d),
            // Not reachable with `can_refresh = false`; refuse rather than allow if it were.
            Verdict::Refresh(hint) => Err(Denial::Expired {
                exp: hint.expires_at,
                now,
            }),
        }
    }

    /// Like [`Policy::evaluate`], but when `can_refresh` (e.g. a refresh cookie came with the
    /// request) a token that is expired — and otherwise sound and not revoked — or within
    /// [`Policy::refresh_window`] of `exp` yields [`Verdict::Refresh`].
    pub fn evaluate_with_refresh(
        &self,
        token: &Token,
        now: UnixTime,
        revocation: RevocationStatus,
        can_refresh: bool,
    ) -> Verdict {
        let expired = match self.check(token, now) {
            Ok(()) => false,
            Err(Denial::Expired { .. }) if can_refresh => true,
            Err(d) => return Verdict::Deny(d),
        };
        let c = &token.claims;
        match revocation {
            RevocationStatus::Revoked(reason) => Verdict::Deny(Denial::Revoked(reason)),
            RevocationStatus::Unavailable => Verdict::Deny(Denial::StoreUnavailable),
            RevocationStatus::NotRevoked => {
                let exp = c.exp.unwrap_or_default();
                if expired || (can_refresh && exp.saturating_sub(now) <= self.refresh_window) {
                    Verdict::Refresh(RefreshHint {
                        session: c.sid.clone(),
                        subject: c.sub.clone(),
                        expires_at: exp,
                        expired,
                    })
                } else {
                    Verdict::Allow(grant(c))
                }
            }
        }
    }
}

fn grant(c: &Claims) -> Grant {
    Grant {
        subject: c.sub.clone(),
        session: c.sid.clone(),
        token_id: c.jti.clone(),
        scope: c.scope.clone(),
        class: TokenClass::Access,
        expires_at: c.exp.unwrap_or_default(),
    }
}

/// The header `typ` of a Security Event Token (RFC 8417 §2.3).
pub(crate) const SET_TYP: &str = "secevent+jwt";
/// The header `typ` of an explicitly typed logout token (OpenID Connect Back-Channel Logout §2.4).
pub(crate) const LOGOUT_TYP: &str = "logout+jwt";
/// The header `typ` of a DPoP proof (RFC 9449 §4.2).
pub(crate) const DPOP_TYP: &str = "dpop+jwt";

/// The `typ`s of the other kinds of JWT Warden reads — Security Event Tokens, logout tokens,
/// DPoP proofs — which the access policy refuses even when no access `typ` is configured.
pub const OTHER_KINDS: [&str; 3] = [SET_TYP, LOGOUT_TYP, DPOP_TYP];

fn is_another_kind(typ: &str) -> bool {
    OTHER_KINDS.iter().any(|kind| typ_matches(typ, kind))
}

/// Whether a header `typ` names the type `want`: case-insensitive, with an optional
/// `application/` prefix on either (RFC 7515 §4.1.9).
pub fn typ_matches(got: &str, want: &str) -> bool {
    fn bare(t: &str) -> &str {
        match t.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        }
    }
    bare(got).eq_ignore_ascii_case(bare(want))
}
