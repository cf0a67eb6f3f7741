//! Audit lines: one structured JSON line per deny, revoke, reap, fail-open allow and received
//! event. Ids, never
//! secrets (tokens, admin or origin secrets, PAT secrets).
//!
//! Each line is `{"warden": "audit", "event": <name>, ...fields}`; the event names are the
//! documented ones ([`AuditEvent::name`]), which log pipelines match on.

use serde_json::{Map, Value};

use crate::fields::{object, text, Field};

/// What an audit line reports. The names are stable: they are documented (README) and matched
/// on by log pipelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditEvent {
    /// A request refused (401, 403, 503).
    Deny,
    /// A request refused because its token expired.
    RejectExpiredToken,
    /// A revocation written (token, session, key, subject cutoff, PAT).
    Revoke,
    /// A PAT issued.
    IssueToken,
    /// An expired PAT record reaped.
    ExpireToken,
    /// A cron run of the reaper.
    Reap,
    /// A token let through while the revocation store could not answer
    /// (`WARDEN_FAIL_MODE=open`).
    FailOpenAllow,
    /// The revocation store (KV, object storage) failed.
    StoreError,
    /// A configuration variable is missing or wrong.
    ConfigError,
    /// An admin API call without the admin token.
    AdminUnauthorized,
    /// The origin could not be reached.
    OriginError,
    /// A session refreshed at the edge.
    Refresh,
    /// A rotated refresh token came back after the grace window: the session is revoked.
    RefreshReuseDetected,
    /// A refresh failed at the origin (or the origin refused it).
    RefreshFailed,
    /// A refresh could not be done now (the session is kept).
    RefreshUnavailable,
    /// The origin's new access token names another session or subject.
    RefreshMismatch,
    /// The origin's new token pair cannot be used (verification, cookie octets).
    RefreshBadToken,
    /// A session ended at its object.
    SessionEnd,
    /// A session object could not be reached.
    SessionObjectError,
    /// A back-channel logout request: applied, a duplicate, refused or unavailable.
    BackchannelLogout,
    /// A Security Event Token pushed by the transmitter: applied, a duplicate, refused or
    /// unavailable.
    SsfEvent,
    /// A cron run of Shared Signals poll delivery: polls made, SETs received, acknowledged
    /// and refused, and the error that ended it early.
    SsfPoll,
    /// The revocation filter (`WARDEN_REVOCATION_FILTER=on`): the log seeded from KV, a filter
    /// published, or an isolate that cannot use the published one (and reads ids instead).
    RevocationFilter,
}

impl AuditEvent {
    /// Every event, in the order the README lists them.
    pub const ALL: [AuditEvent; 23] = [
        AuditEvent::Deny,
        AuditEvent::RejectExpiredToken,
        AuditEvent::Revoke,
        AuditEvent::IssueToken,
        AuditEvent::ExpireToken,
        AuditEvent::Reap,
        AuditEvent::FailOpenAllow,
        AuditEvent::StoreError,
        AuditEvent::ConfigError,
        AuditEvent::AdminUnauthorized,
        AuditEvent::OriginError,
        AuditEvent::Refresh,
        AuditEvent::RefreshReuseDetected,
        AuditEvent::RefreshFailed,
        AuditEvent::RefreshUnavailable,
        AuditEvent::RefreshMismatch,
        AuditEvent::RefreshBadToken,
        AuditEvent::SessionEnd,
        AuditEvent::SessionObjectError,
        AuditEvent::BackchannelLogout,
        AuditEvent::SsfEvent,
        AuditEvent::SsfPoll,
        AuditEvent::RevocationFilter,
    ];

    /// The `event` field's value, e.g. `deny` or `refresh_reuse_detected`.
    pub fn name(self) -> &'static str {
        match self {
            AuditEvent::Deny => "deny",
            AuditEvent::RejectExpiredToken => "reject_expired_token",
            AuditEvent::Revoke => "revoke",
            AuditEvent::IssueToken => "issue_token",
            AuditEvent::ExpireToken => "expire_token",
            AuditEvent::Reap => "reap",
            AuditEvent::FailOpenAllow => "fail_open_allow",
            AuditEvent::StoreError => "store_error",
            AuditEvent::ConfigError => "config_error",
            AuditEvent::AdminUnauthorized => "admin_unauthorized",
            AuditEvent::OriginError => "origin_error",
            AuditEvent::Refresh => "refresh",
            AuditEvent::RefreshReuseDetected => "refresh_reuse_detected",
            AuditEvent::RefreshFailed => "refresh_failed",
            AuditEvent::RefreshUnavailable => "refresh_unavailable",
            AuditEvent::RefreshMismatch => "refresh_mismatch",
            AuditEvent::RefreshBadToken => "refresh_bad_token",
            AuditEvent::SessionEnd => "session_end",
            AuditEvent::SessionObjectError => "session_object_error",
            AuditEvent::BackchannelLogout => "backchannel_logout",
            AuditEvent::SsfEvent => "ssf_event",
            AuditEvent::SsfPoll => "ssf_poll",
            AuditEvent::RevocationFilter => "revocation_filter",
        }
    }

    /// The event named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<AuditEvent> {
        AuditEvent::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// The line for `event` with `fields` (`fields!{..}`; nulls dropped), tagged
/// `"warden": "audit"` so log pipelines can pick Warden's audit lines out.
#[inline(never)]
pub fn line(event: AuditEvent, fields: &[(&str, Field<'_>)]) -> String {
    finish(event, object(fields))
}

/// The line for `event` with the object `fields`.
fn finish(event: AuditEvent, fields: Value) -> String {
    let mut obj = match fields {
        Value::Object(obj) => obj,
        _ => Map::new(),
    };
    obj.retain(|_, v| !v.is_null());
    obj.insert("event".into(), Value::from(event.name()));
    obj.insert("warden".into(), Value::from("audit"));
    text(&Value::Object(obj))
}

/// Writes the audit line for `event` with `fields` (`&fields!{"key": value, ...}`) to the
/// worker's log (`console.log`).
#[cfg(target_arch = "wasm32")]
pub fn audit(event: AuditEvent, fields: &[(&str, Field<'_>)]) {
    worker::console_log!("{}", line(event, fields));
}

/// Writes an audit line whose `fields` name their event as text (`"event": "deny"`); a name
/// that is not an [`AuditEvent`]'s is written as it is. For callers not yet on [`audit`].
#[cfg(target_arch = "wasm32")]
pub fn audit_named(mut fields: Value) {
    let named = fields
        .get("event")
        .and_then(Value::as_str)
        .and_then(AuditEvent::from_name);
    match named {
        Some(event) => worker::console_log!("{}", finish(event, fields)),
        None => {
            if let Some(obj) = fields.as_object_mut() {
                obj.retain(|_, v| !v.is_null());
                obj.insert("warden".into(), Value::from("audit"));
            }
            worker::console_log!("{}", text(&fields));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::fields;
    use serde_json::json;

    #[test]
    fn nulls_dropped_and_tagged() {
        let l = line(
            AuditEvent::Deny,
            &fields! {"sub": None::<&str>, "jti": "j1"},
        );
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v, json!({"event": "deny", "jti": "j1", "warden": "audit"}));
    }

    #[test]
    fn names_are_the_documented_ones() {
        let readme = include_str!("../../README.md");
        let intro =
            "Audit lines are one JSON object each with `\"warden\": \"audit\"` and an `event`:";
        let start = readme.find(intro).expect("the README's audit section") + intro.len();
        let section = &readme[start..];
        let section = &section[..section.find("\n\n").unwrap_or(section.len())];
        let documented: Vec<&str> = section
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        let names: Vec<&str> = AuditEvent::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(documented, names);
        for e in AuditEvent::ALL {
            assert_eq!(AuditEvent::from_name(e.name()), Some(e));
        }
        assert_eq!(AuditEvent::from_name("nope"), None);
    }
}
