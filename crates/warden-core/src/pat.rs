//! API tokens and personal access tokens: opaque secrets, known by their SHA-256 only, with a
//! hard expiry (`expires_at = 0` means never) that use never extends.

use alloc::string::String;
use alloc::vec::Vec;

use crate::denial::Denial;
use crate::grant::{Grant, TokenClass};
use crate::revocation::RevocationReason;
use crate::UnixTime;

/// `expires_at` value meaning "never expires". Allowed only for this class.
pub const NEVER: UnixTime = 0;

/// A stored API token record. The secret itself is never stored: see [`crate::token_digest`].
///
/// ```
/// use warden_core::{PatRecord, NEVER};
///
/// let pat = PatRecord { id: "p1".into(), sub: "ci-bot".into(), created_at: 1_600_000_000, expires_at: NEVER, scopes: vec!["read".into()], active: true };
/// assert!(pat.evaluate(4_000_000_000).is_ok()); // 0 means never
/// let dated = PatRecord { expires_at: 1_700_000_000, ..pat };
/// assert_eq!(dated.evaluate(1_700_000_000).unwrap_err().code(), "token_expired");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatRecord {
    /// The record's public id (safe to log and list).
    pub id: String,
    /// The subject the token acts for.
    pub sub: String,
    /// When the token was created (a subject cutoff at or after it revokes it).
    pub created_at: UnixTime,
    /// Hard expiry, Unix seconds; [`NEVER`] (0) for a token that does not expire.
    pub expires_at: UnixTime,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `false` once revoked.
    pub active: bool,
}

impl PatRecord {
    /// Whether the record is past its hard expiry at `now` (no leeway: Warden set the time).
    pub fn is_expired(&self, now: UnixTime) -> bool {
        self.expires_at != NEVER && now >= self.expires_at
    }

    /// The grant of a request presenting this token at `now`, or why not. The record is not
    /// changed: using a token never extends it (a PAT is never refreshed).
    pub fn evaluate(&self, now: UnixTime) -> Result<Grant, Denial> {
        if !self.active {
            return Err(Denial::Revoked(RevocationReason::TokenId));
        }
        if self.is_expired(now) {
            return Err(Denial::Expired {
                exp: self.expires_at,
                now,
            });
        }
        Ok(Grant {
            subject: Some(self.sub.clone()),
            session: None,
            token_id: Some(self.id.clone()),
            // Joined as `&str`s: the one `join` the gate already has (for `&str` lists).
            scope: Some(
                self.scopes
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            class: TokenClass::Pat,
            expires_at: self.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_at: UnixTime) -> PatRecord {
        PatRecord {
            id: "p1".into(),
            sub: "ci".into(),
            created_at: 1,
            expires_at,
            scopes: alloc::vec!["read".into()],
            active: true,
        }
    }

    #[test]
    fn zero_means_never_and_expiry_is_hard() {
        assert!(record(NEVER).evaluate(u64::MAX / 2).is_ok());
        assert!(record(100).evaluate(99).is_ok());
        assert_eq!(
            record(100).evaluate(100),
            Err(Denial::Expired { exp: 100, now: 100 })
        );
        let g = record(100).evaluate(50).unwrap();
        assert_eq!(
            (g.class, g.expires_at, g.scope.as_deref()),
            (TokenClass::Pat, 100, Some("read"))
        );
    }

    #[test]
    fn inactive_is_revoked() {
        let r = PatRecord {
            active: false,
            ..record(NEVER)
        };
        assert_eq!(r.evaluate(1).map_err(|d| d.code()), Err("token_revoked"));
    }
}
