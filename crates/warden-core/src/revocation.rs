//! Revocation: the core names what to look up and interprets the answers; the store lives
//! outside the core (Workers KV in the worker).

use crate::parse::Token;
use crate::UnixTime;

/// Whether something that began at `began` (`None`: unknown) falls under the subject's cutoff
/// `before` (`None`: no cutoff): what began at or before the cutoff is revoked, and so is what
/// cannot be shown to have begun later.
pub fn under_cutoff(began: Option<UnixTime>, before: Option<UnixTime>) -> bool {
    match (began, before) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(began), Some(before)) => began <= before,
    }
}

/// Why a token is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationReason {
    /// Its `jti` was revoked.
    TokenId,
    /// Its session (`sid`) was ended.
    Session,
    /// Every token of its subject issued at or before `before` was revoked (password change).
    SubjectCutoff {
        /// The cutoff: tokens with `iat <= before` are revoked.
        before: UnixTime,
    },
    /// The key that signed it was withdrawn.
    Key,
}

/// The store's answer for one token, as the caller gathered it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationStatus {
    /// Nothing revokes this token.
    #[default]
    NotRevoked,
    /// Something revokes it.
    Revoked(RevocationReason),
    /// The store could not answer. Never an allow, never a 401: a 503.
    Unavailable,
}

/// The identifiers under which a token can be revoked. Each is looked up independently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevocationIds<'a> {
    /// The token id (`jti`).
    pub jti: Option<&'a str>,
    /// The session (`sid`).
    pub sid: Option<&'a str>,
    /// The subject (`sub`), whose cutoff is compared with `iat`.
    pub sub: Option<&'a str>,
    /// The token's `iat`.
    pub iat: Option<UnixTime>,
    /// The signing key's id (`kid`).
    pub kid: Option<&'a str>,
}

impl<'a> RevocationIds<'a> {
    /// The identifiers of a parsed token. Identifiers come from the claims and header, never
    /// from the raw token text, so an ECDSA-malleated twin of a revoked token has the same ones.
    pub fn of(token: &'a Token) -> Self {
        RevocationIds {
            jti: token.claims.jti.as_deref(),
            sid: token.claims.sid.as_deref(),
            sub: token.claims.sub.as_deref(),
            iat: token.claims.iat,
            kid: token.header.kid.as_deref(),
        }
    }

    /// Combines the store's answers. A definite revocation wins over a failed lookup; any failed
    /// lookup otherwise makes the whole answer [`RevocationStatus::Unavailable`].
    pub fn interpret(&self, answers: &StoreAnswers) -> RevocationStatus {
        let (cutoff, before) = match answers.subject_cutoff {
            Ok(Some(before)) if under_cutoff(self.iat, Some(before)) => (Fact::Present, before),
            Ok(_) => (Fact::Absent, 0),
            Err(Unavailable) => (Fact::Unknown, 0),
        };
        let checks = [
            (answers.jti, RevocationReason::TokenId),
            (answers.sid, RevocationReason::Session),
            (answers.kid, RevocationReason::Key),
            (cutoff, RevocationReason::SubjectCutoff { before }),
        ];
        if let Some((_, reason)) = checks.iter().find(|(fact, _)| *fact == Fact::Present) {
            RevocationStatus::Revoked(*reason)
        } else if checks.iter().any(|(fact, _)| *fact == Fact::Unknown) {
            RevocationStatus::Unavailable
        } else {
            RevocationStatus::NotRevoked
        }
    }
}

/// One lookup's outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fact {
    /// Nothing is stored (or nothing was looked up because the token has no such identifier).
    #[default]
    Absent,
    /// A revocation record exists.
    Present,
    /// The store did not answer.
    Unknown,
}

/// A store that did not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unavailable;

/// What the store said for each of a token's [`RevocationIds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreAnswers {
    /// Is the `jti` revoked?
    pub jti: Fact,
    /// Is the `sid` revoked?
    pub sid: Fact,
    /// Is the `kid` withdrawn?
    pub kid: Fact,
    /// The subject's cutoff `before`, if one is stored.
    pub subject_cutoff: Result<Option<UnixTime>, Unavailable>,
}

impl Default for StoreAnswers {
    fn default() -> Self {
        StoreAnswers {
            jti: Fact::Absent,
            sid: Fact::Absent,
            kid: Fact::Absent,
            subject_cutoff: Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: RevocationIds<'static> = RevocationIds {
        jti: Some("j"),
        sid: Some("s"),
        sub: Some("u"),
        iat: Some(100),
        kid: Some("k"),
    };

    #[test]
    fn cutoff_revokes_tokens_issued_at_or_before() {
        let at = |before| StoreAnswers {
            subject_cutoff: Ok(Some(before)),
            ..Default::default()
        };
        assert_eq!(
            IDS.interpret(&at(100)),
            RevocationStatus::Revoked(RevocationReason::SubjectCutoff { before: 100 })
        );
        assert_eq!(IDS.interpret(&at(99)), RevocationStatus::NotRevoked);
        // A token without iat cannot prove it came after the cutoff.
        let no_iat = RevocationIds { iat: None, ..IDS };
        assert!(matches!(
            no_iat.interpret(&at(1)),
            RevocationStatus::Revoked(_)
        ));
    }

    #[test]
    fn revocation_wins_over_unavailable_and_unavailable_over_clean() {
        let answers = StoreAnswers {
            jti: Fact::Unknown,
            sid: Fact::Present,
            ..Default::default()
        };
        assert_eq!(
            IDS.interpret(&answers),
            RevocationStatus::Revoked(RevocationReason::Session)
        );
        let answers = StoreAnswers {
            kid: Fact::Unknown,
            ..Default::default()
        };
        assert_eq!(IDS.interpret(&answers), RevocationStatus::Unavailable);
        let answers = StoreAnswers {
            subject_cutoff: Err(Unavailable),
            ..Default::default()
        };
        assert_eq!(IDS.interpret(&answers), RevocationStatus::Unavailable);
        assert_eq!(
            IDS.interpret(&StoreAnswers::default()),
            RevocationStatus::NotRevoked
        );
        let answers = StoreAnswers {
            kid: Fact::Present,
            ..Default::default()
        };
        assert_eq!(
            IDS.interpret(&answers),
            RevocationStatus::Revoked(RevocationReason::Key)
        );
    }
}
