//! What an allowed credential grants, and what a caller needs to refresh one.

use alloc::string::String;

use crate::UnixTime;

/// The class of a credential, which decides how its lifetime behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenClass {
    /// A short-lived access JWT: hard expiry.
    Access,
    /// An API or personal access token: hard expiry, `expires_at = 0` means never.
    Pat,
    /// An interactive session: sliding idle timeout within an absolute cap.
    Session,
}

impl TokenClass {
    /// The lower-case name used in headers and logs: `access`, `pat`, `session`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Pat => "pat",
            Self::Session => "session",
        }
    }
}

/// What an allowed token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// `sub`.
    pub subject: Option<String>,
    /// `sid`.
    pub session: Option<String>,
    /// `jti`.
    pub token_id: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// The token's class.
    pub class: TokenClass,
    /// When the grant ends (Unix seconds).
    pub expires_at: UnixTime,
}

/// What a caller needs to refresh a token: which session, whose, and whether it already expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshHint {
    /// `sid`: the session to refresh (the key of its refresh serialisation).
    pub session: Option<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// The token's `exp`.
    pub expires_at: UnixTime,
    /// `true` when the token is past `exp` + leeway; `false` when it is inside the refresh
    /// window and still valid.
    pub expired: bool,
}
