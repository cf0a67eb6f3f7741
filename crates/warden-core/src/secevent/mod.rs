//! Security events from the identity provider, sans I/O: Security Event Tokens (RFC 8417) as
//! the Shared Signals Framework 1.0 delivers them (push, RFC 8935; poll, RFC 8936) with the
//! CAEP 1.0 and RISC 1.0 event types, and OpenID Connect Back-Channel Logout 1.0 logout tokens.

mod error;
mod logout;
mod subject;

use alloc::string::String;
use serde_json::{Map, Value};

pub use error::{SetError, SetErrorCode};
pub use logout::{LogoutPolicy, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TYP};

use crate::claims::MAX_NUMERIC_DATE;
use crate::denial::Denial;
use crate::gate::is_identity_value;
use crate::keys::{Key, KeySet, SignatureError, SignatureVerifier};
use crate::lifetime::{is_expired, is_not_yet_valid};
use crate::parse::{parse, Header, Token};
use crate::policy::{typ_matches, DEFAULT_LEEWAY};
use crate::records::{requested_cutoff, CutoffTooLate};
use crate::UnixTime;

/// The header `typ` of a Security Event Token (RFC 8417 §2.3).
pub const SET_TYP: &str = crate::policy::SET_TYP;

/// The event types Warden knows (CAEP 1.0, RISC 1.0, SSF 1.0, Back-Channel Logout 1.0).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// CAEP `session-revoked`.
    SessionRevoked,
    /// CAEP `credential-change`.
    CredentialChange,
    /// RISC `sessions-revoked`.
    SessionsRevoked,
    /// RISC `account-disabled`.
    AccountDisabled,
    /// RISC `account-purged`.
    AccountPurged,
    /// RISC `account-credential-change-required`.
    AccountCredentialChangeRequired,
    /// SSF `verification`.
    Verification,
    /// OpenID Connect Back-Channel Logout (`http://schemas.openid.net/event/backchannel-logout`).
    BackchannelLogout,
    /// Any other type, by its URI.
    Other(String),
}

const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC: &str = "https://schemas.openid.net/secevent/risc/event-type/";
const SSF: &str = "https://schemas.openid.net/secevent/ssf/event-type/";

impl EventKind {
    /// The kind of the event type `uri` (compared exactly).
    pub fn from_uri(uri: &str) -> Self {
        let known = [
            (CAEP, "session-revoked", Self::SessionRevoked),
            (CAEP, "credential-change", Self::CredentialChange),
            (RISC, "sessions-revoked", Self::SessionsRevoked),
            (RISC, "account-disabled", Self::AccountDisabled),
            (RISC, "account-purged", Self::AccountPurged),
            (
                RISC,
                "account-credential-change-required",
                Self::AccountCredentialChangeRequired,
            ),
            (SSF, "verification", Self::Verification),
        ];
        if uri == BACKCHANNEL_LOGOUT_EVENT {
            return Self::BackchannelLogout;
        }
        known
            .into_iter()
            .find(|(base, name, _)| uri.strip_prefix(base) == Some(name))
            .map_or_else(|| Self::Other(String::from(uri)), |(_, _, kind)| kind)
    }

    /// The event type URI.
    pub fn uri(&self) -> String {
        let (base, name) = match self {
            Self::SessionRevoked => (CAEP, "session-revoked"),
            Self::CredentialChange => (CAEP, "credential-change"),
            Self::SessionsRevoked => (RISC, "sessions-revoked"),
            Self::AccountDisabled => (RISC, "account-disabled"),
            Self::AccountPurged => (RISC, "account-purged"),
            Self::AccountCredentialChangeRequired => (RISC, "account-credential-change-required"),
            Self::Verification => (SSF, "verification"),
            Self::BackchannelLogout => (BACKCHANNEL_LOGOUT_EVENT, ""),
            Self::Other(uri) => (uri.as_str(), ""),
        };
        let mut uri = String::from(base);
        uri.push_str(name);
        uri
    }

    /// Whether this event revokes every token of its user (issued at or before the event).
    fn cuts_off_user(&self) -> bool {
        matches!(
            self,
            Self::CredentialChange
                | Self::SessionsRevoked
                | Self::AccountDisabled
                | Self::AccountPurged
                | Self::AccountCredentialChangeRequired
        )
    }
}

/// What a received event asks of Warden.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventAction {
    /// Revoke this session (`rv:sid:`, and its refresh family), as the admin API's `{"sid"}`.
    RevokeSession {
        /// The session.
        sid: String,
        /// Its user, when the event names one (for the audit and the subject's index).
        sub: Option<String>,
    },
    /// Revoke every credential of this user issued at or before `before`, as the admin API's
    /// `{"sub", "before"}` (a cutoff is never lowered).
    SubjectCutoff {
        /// The user.
        sub: String,
        /// The cutoff: the event's time (at most now plus the leeway).
        before: UnixTime,
    },
    /// A stream verification event (SSF 1.0 §8.1.4): acknowledged, nothing revoked.
    Verified {
        /// Its `state`, when present, for the audit.
        state: Option<String>,
    },
    /// An event type Warden does not act on: acknowledged, nothing revoked.
    Ignored,
    /// An event Warden would act on, about a subject it cannot map to a user or session:
    /// acknowledged, nothing revoked.
    Unmapped {
        /// Why, for the audit (e.g. `subject format not mapped`).
        reason: &'static str,
    },
}

impl EventAction {
    /// The audit name: `revoked_session`, `subject_cutoff`, `verified`, `ignored` or
    /// `unmapped`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RevokeSession { .. } => "revoked_session",
            Self::SubjectCutoff { .. } => "subject_cutoff",
            Self::Verified { .. } => "verified",
            Self::Ignored => "ignored",
            Self::Unmapped { .. } => "unmapped",
        }
    }
}

/// A validated event: apply [`Received::action`] once per [`Received::jti`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The token's `jti`: apply once, acknowledge (RFC 8936 `ack`) by it.
    pub jti: String,
    /// The token's `iat`.
    pub iat: UnixTime,
    /// The event's type.
    pub kind: EventKind,
    /// What to do.
    pub action: EventAction,
}

/// How Security Event Tokens from one transmitter are validated (`WARDEN_SSF_*`).
///
/// The driver, like the gate's:
/// 1. [`parse_set`] (the core's strict [`crate::parse`]: size cap, canonical base64url, duplicate
///    keys refused at every depth, `alg` `none` never);
/// 2. [`select_set_key`] in the transmitter's [`KeySet`] (by `kid`; the key's one algorithm
///    must be the token's, so `HS*` only with an `oct` key), then its own crypto over
///    [`Token::signing_input`] — or [`verify_set_signature`] with a [`SignatureVerifier`];
/// 3. [`SetPolicy::validate`] (or [`LogoutPolicy::validate`]) with `now`: a [`Received`] event
///    whose [`EventAction`] says what to revoke, or a [`SetError`] with its RFC 8935 code.
///
/// Replays are the driver's: it applies a `jti` once.
///
/// ```
/// use warden_core::{parse_set, EventAction, SetPolicy};
///
/// // {"alg":"ES256","typ":"secevent+jwt"} . {"iss":"https://idp.example","aud":"https://warden.example",
/// //  "iat":1700000000,"jti":"e1","sub_id":{"format":"opaque","id":"alice"},"events":{
/// //  "https://schemas.openid.net/secevent/caep/event-type/credential-change":{
/// //  "credential_type":"password","change_type":"update","event_timestamp":1699999990}}}
/// let set = concat!(
///     "eyJhbGciOiJFUzI1NiIsInR5cCI6InNlY2V2ZW50K2p3dCJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGx",
///     "lIiwiYXVkIjoiaHR0cHM6Ly93YXJkZW4uZXhhbXBsZSIsImlhdCI6MTcwMDAwMDAwMCwianRpIjoiZTEiLCJ",
///     "zdWJfaWQiOnsiZm9ybWF0Ijoib3BhcXVlIiwiaWQiOiJhbGljZSJ9LCJldmVudHMiOnsiaHR0cHM6Ly9zY2h",
///     "lbWFzLm9wZW5pZC5uZXQvc2VjZXZlbnQvY2FlcC9ldmVudC10eXBlL2NyZWRlbnRpYWwtY2hhbmdlIjp7ImN",
///     "yZWRlbnRpYWxfdHlwZSI6InBhc3N3b3JkIiwiY2hhbmdlX3R5cGUiOiJ1cGRhdGUiLCJldmVudF90aW1lc3R",
///     "hbXAiOjE2OTk5OTk5OTB9fX0.AA",
/// );
/// let token = parse_set(set)?;
/// // ... the driver verifies the signature here ...
/// let policy = SetPolicy::new("https://idp.example", "https://warden.example");
/// let event = policy.validate(&token, 1_700_000_005)?;
/// assert_eq!(event.jti, "e1");
/// assert_eq!(
///     event.action,
///     EventAction::SubjectCutoff { sub: "alice".into(), before: 1_699_999_990 }
/// );
/// # Ok::<(), warden_core::SetError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetPolicy {
    /// The transmitter's `iss`, compared exactly (`WARDEN_SSF_ISSUER`).
    pub issuer: String,
    /// The audience the transmitter addresses this receiver with; `aud` (a string or an array)
    /// must contain it (`WARDEN_SSF_AUDIENCE`).
    pub audience: String,
    /// The issuer whose `iss_sub` subjects are Warden users (`WARDEN_SSF_SUBJECT_ISSUER`, by
    /// default `WARDEN_ISSUER`). `None`: no `iss_sub` subject is mapped.
    pub subject_issuer: Option<String>,
    /// Clock skew allowed on `iat`, `exp`, `nbf` and `event_timestamp`, in seconds. Default:
    /// [`DEFAULT_LEEWAY`].
    pub leeway: u64,
}

impl SetPolicy {
    /// A policy for `issuer` and `audience`, no subject issuer, the default leeway.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        SetPolicy {
            issuer: issuer.into(),
            audience: audience.into(),
            subject_issuer: None,
            leeway: DEFAULT_LEEWAY,
        }
    }

    /// Validates a SET whose signature the driver verified, in this order: header `typ`
    /// `secevent+jwt` (case-insensitive, `application/` optional: [`typ_matches`]); `iss`;
    /// `aud`; `iat` present and not in the future; `exp` and `nbf` when present; `jti` present
    /// (an identity value); `events` an object with exactly one member, an object; then that
    /// event mapped to an [`EventAction`]. No `exp` is required.
    ///
    /// The subject is the top-level `sub_id` (SSF 1.0) or the event's own `subject` (both may
    /// come only if equal). Session revoked: a subject naming a session (a complex subject
    /// whose `session` is `opaque`) → [`EventAction::RevokeSession`]; naming only a user →
    /// [`EventAction::SubjectCutoff`] at the event's `event_timestamp`, else the SET's `iat`.
    /// Credential change and the RISC account and session events → a cutoff at that time.
    /// Verification → [`EventAction::Verified`]; any other type → [`EventAction::Ignored`].
    pub fn validate(&self, token: &Token, now: UnixTime) -> Result<Received, SetError> {
        if !token
            .header
            .typ
            .as_deref()
            .is_some_and(|t| typ_matches(t, SET_TYP))
        {
            return Err(SetError::WrongType { expected: SET_TYP });
        }
        let checked = check_common(token, &self.issuer, &self.audience, self.leeway, now)?;
        let events = events(&checked.claims)?;
        let mut members = events.iter();
        let (Some((uri, event)), None) = (members.next(), members.next()) else {
            return Err(SetError::EventCount(events.len()));
        };
        let Value::Object(event) = event else {
            return Err(SetError::EventNotObject);
        };
        let kind = EventKind::from_uri(uri);
        let action = self.action(&kind, event, &checked, now)?;
        Ok(Received {
            jti: checked.jti,
            iat: checked.iat,
            kind,
            action,
        })
    }

    fn action(
        &self,
        kind: &EventKind,
        event: &Map<String, Value>,
        checked: &Checked,
        now: UnixTime,
    ) -> Result<EventAction, SetError> {
        if *kind == EventKind::Verification {
            let state = match event.get("state") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(SetError::InvalidEventClaim("state")),
            };
            return Ok(EventAction::Verified { state });
        }
        if *kind != EventKind::SessionRevoked && !kind.cuts_off_user() {
            return Ok(EventAction::Ignored);
        }
        let subject = match (checked.claims.get("sub_id"), event.get("subject")) {
            (Some(a), Some(b)) if a != b => {
                return Err(SetError::InvalidSubject(
                    "sub_id and the event's subject differ",
                ))
            }
            (Some(s), _) | (None, Some(s)) => s,
            (None, None) => {
                return Ok(EventAction::Unmapped {
                    reason: "the event has no subject",
                })
            }
        };
        let named = subject::read(subject, self.subject_issuer.as_deref())?;
        Ok(match (named.session, named.user) {
            (Some(Ok(sid)), user) if *kind == EventKind::SessionRevoked => {
                EventAction::RevokeSession {
                    sid,
                    sub: user.and_then(Result::ok),
                }
            }
            // A session Warden cannot name is not revoked by cutting off its whole user.
            (Some(Err(reason)), _) if *kind == EventKind::SessionRevoked => {
                EventAction::Unmapped { reason }
            }
            (_, Some(Ok(sub))) => EventAction::SubjectCutoff {
                sub,
                before: event_time(event, checked.iat, now, self.leeway)?,
            },
            (_, Some(Err(reason))) => EventAction::Unmapped { reason },
            (_, None) => EventAction::Unmapped {
                reason: "the subject names no user",
            },
        })
    }
}

/// The event's time: its `event_timestamp` (CAEP 1.0 §2) or, when absent, the SET's `iat`;
/// later than now plus the leeway is refused.
fn event_time(
    event: &Map<String, Value>,
    iat: UnixTime,
    now: UnixTime,
    leeway: u64,
) -> Result<UnixTime, SetError> {
    let time = match event.get("event_timestamp") {
        None => iat,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(t) if t <= MAX_NUMERIC_DATE => t,
            _ => return Err(SetError::InvalidEventClaim("event_timestamp")),
        },
        Some(_) => return Err(SetError::InvalidEventClaim("event_timestamp")),
    };
    requested_cutoff(Some(time), now, leeway).map_err(|CutoffTooLate { latest }| {
        SetError::EventInFuture {
            event_time: time,
            latest,
        }
    })
}

/// What [`check_common`] vouches for.
struct Checked {
    jti: String,
    iat: UnixTime,
    claims: Map<String, Value>,
}

/// The checks SETs and logout tokens share: `iss`, `aud`, `iat`, `exp`/`nbf` when present,
/// `jti`; then the whole claims object, read again by the strict parser.
fn check_common(
    token: &Token,
    issuer: &str,
    audience: &str,
    leeway: u64,
    now: UnixTime,
) -> Result<Checked, SetError> {
    let c = &token.claims;
    if c.iss.as_deref() != Some(issuer) {
        return Err(SetError::WrongIssuer);
    }
    if !c.aud.iter().any(|a| a == audience) {
        return Err(SetError::WrongAudience);
    }
    let iat = c.iat.ok_or(SetError::MissingClaim("iat"))?;
    let future = |t: UnixTime| is_not_yet_valid(t, now, leeway);
    let untimely = [
        ("iat", Some(iat).filter(|t| future(*t))),
        ("exp", c.exp.filter(|t| is_expired(*t, now, leeway))),
        ("nbf", c.nbf.filter(|t| future(*t))),
    ];
    if let Some((claim, Some(time))) = untimely.into_iter().find(|(_, t)| t.is_some()) {
        return Err(SetError::OutOfTime { claim, time, now });
    }
    let jti = c.jti.clone().ok_or(SetError::MissingClaim("jti"))?;
    if !is_identity_value(&jti) {
        return Err(SetError::InvalidClaim("jti"));
    }
    let claims = token.claims_map()?;
    Ok(Checked { jti, iat, claims })
}

/// The `events` claim (RFC 8417 §2.2): a JSON object.
fn events(claims: &Map<String, Value>) -> Result<&Map<String, Value>, SetError> {
    match claims.get("events") {
        Some(Value::Object(events)) => Ok(events),
        Some(_) => Err(SetError::InvalidClaim("events")),
        None => Err(SetError::MissingClaim("events")),
    }
}

/// [`crate::parse`], its refusals as [`SetError::Malformed`].
pub fn parse_set(text: &str) -> Result<Token, SetError> {
    Ok(parse(text)?)
}

/// The transmitter's key for a token ([`KeySet::select`]): by `kid`, and the key's one
/// algorithm must be the header's `alg` — so an `HS*` token needs an `oct` key in the set.
/// The driver then verifies [`Token::signature`] over [`Token::signing_input`] with it.
pub fn select_set_key<'k>(keys: &'k KeySet, header: &Header) -> Result<&'k Key, SetError> {
    keys.select(header).map_err(key_error)
}

/// [`select_set_key`], then the signature with `verifier`.
pub fn verify_set_signature<'k>(
    keys: &'k KeySet,
    token: &Token,
    verifier: &impl SignatureVerifier,
) -> Result<&'k Key, SetError> {
    let key = select_set_key(keys, &token.header)?;
    verifier
        .verify(key, token.signing_input.as_bytes(), &token.signature)
        .map_err(|SignatureError| SetError::BadSignature)?;
    Ok(key)
}

fn key_error(denial: Denial) -> SetError {
    match denial {
        Denial::UnknownKey => SetError::UnknownKey,
        Denial::AlgorithmNotAllowed => SetError::AlgorithmNotAllowed,
        _ => SetError::BadSignature,
    }
}

#[cfg(test)]
mod tests;
