//! What the revocation store said about a token. The store itself lives outside the core.

use crate::UnixTime;

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
