//! OpenID Connect Back-Channel Logout 1.0 logout tokens (§2.4, validated as §2.6 says).

use alloc::string::String;
use serde_json::Value;

use super::{check_common, events, EventAction, EventKind, Received, SetError};
use crate::claims::Claims;
use crate::gate::is_identity_value;
use crate::parse::Token;
use crate::policy::{typ_matches, DEFAULT_LEEWAY};
use crate::UnixTime;

/// The event a logout token's `events` must contain (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The header `typ` of an explicitly typed logout token (§2.4): when present, required.
pub const LOGOUT_TYP: &str = crate::policy::LOGOUT_TYP;

/// How logout tokens from the OpenID provider are validated (`WARDEN_ISSUER`,
/// `WARDEN_CLIENT_ID`); its keys are the token keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutPolicy {
    /// The provider's `iss`, compared exactly.
    pub issuer: String,
    /// This relying party's client id; `aud` must contain it.
    pub client_id: String,
    /// Clock skew allowed on `iat`, `exp` and `nbf`, in seconds. Default: [`DEFAULT_LEEWAY`].
    pub leeway: u64,
}

impl LogoutPolicy {
    /// A policy for `issuer` and `client_id`, the default leeway.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        LogoutPolicy {
            issuer: issuer.into(),
            client_id: client_id.into(),
            leeway: DEFAULT_LEEWAY,
        }
    }

    /// Validates a logout token whose signature the driver verified, in this order: header
    /// `typ`, when present, `logout+jwt` ([`typ_matches`]); `iss`; `aud`; `iat` present and not
    /// in the future; `exp` and `nbf` when present; `jti` present (an identity value);
    /// `events` an object whose [`BACKCHANNEL_LOGOUT_EVENT`] member is an object (other
    /// members are allowed); `sid` and/or `sub` present (identity values); no `nonce`.
    ///
    /// `sid` → [`EventAction::RevokeSession`] (with `sub` when present); only `sub` →
    /// [`EventAction::SubjectCutoff`] at the token's `iat`.
    pub fn validate(&self, token: &Token, now: UnixTime) -> Result<Received, SetError> {
        if token
            .header
            .typ
            .as_deref()
            .is_some_and(|t| !typ_matches(t, LOGOUT_TYP))
        {
            return Err(SetError::WrongType {
                expected: LOGOUT_TYP,
            });
        }
        let checked = check_common(token, &self.issuer, &self.client_id, self.leeway, now)?;
        match events(&checked.claims)?.get(BACKCHANNEL_LOGOUT_EVENT) {
            Some(Value::Object(_)) => {}
            Some(_) => return Err(SetError::EventNotObject),
            None => return Err(SetError::NotALogoutToken),
        }
        let Claims { sid, sub, .. } = &token.claims;
        for (value, name) in [(sid, "sid"), (sub, "sub")] {
            if value.as_deref().is_some_and(|v| !is_identity_value(v)) {
                return Err(SetError::InvalidClaim(name));
            }
        }
        if checked.claims.contains_key("nonce") {
            return Err(SetError::NoncePresent);
        }
        let action = match (sid, sub) {
            (Some(sid), sub) => EventAction::RevokeSession {
                sid: sid.clone(),
                sub: sub.clone(),
            },
            (None, Some(sub)) => EventAction::SubjectCutoff {
                sub: sub.clone(),
                before: checked.iat,
            },
            (None, None) => return Err(SetError::NoSessionOrSubject),
        };
        Ok(Received {
            jti: checked.jti,
            iat: checked.iat,
            kind: EventKind::BackchannelLogout,
            action,
        })
    }
}
