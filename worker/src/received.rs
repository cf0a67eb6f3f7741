//! Received security events (back-channel logout tokens, Security Event Tokens), the part the
//! receivers share: the signature check, the ledger of which `jti`s of which issuer were
//! applied (so that a delivery repeated — a retry, a replay — is acknowledged again without
//! being applied again), applying an event, and its audit line.
//!
//! One KV record per event, `ev:<hex sha256(source, iss, jti)>`, written only after the
//! event's revocation was durably written and kept for [`LEDGER_SECONDS`]. A repeat after that
//! would change nothing anyway: a session revoked again stays revoked, a cutoff is never
//! lowered.

use serde_json::Value;
use warden_core::{hex, token_digest};

use crate::fields::{fields, sparse, Field};

/// How long a received event's `jti` is remembered: seven days.
pub const LEDGER_SECONDS: u64 = 7 * 86_400;

/// The KV key of an event: `source` (`bcl` for back-channel logout, `ssf` for Shared Signals),
/// its issuer and its `jti`, hashed (ids of any length, no separator ambiguity).
pub fn ledger_key(source: &str, issuer: &str, jti: &str) -> String {
    let mut input = String::with_capacity(source.len() + issuer.len() + jti.len() + 2);
    for (i, part) in [source, issuer, jti].into_iter().enumerate() {
        if i > 0 {
            input.push('\0');
        }
        input.push_str(part);
    }
    format!("ev:{}", hex(&token_digest(&input)))
}

/// The audit line of one received event (`backchannel_logout`, `ssf_event`), also the ledger
/// record of an applied one. `None` fields are left out.
#[derive(Debug, Default, serde::Serialize)]
pub struct Line<'a> {
    /// `revoked_session`, `subject_cutoff`, `verified`, `ignored`, `unmapped`, `duplicate`,
    /// `refused` or `unavailable`.
    pub action: &'a str,
    /// The event's `jti` (once the signature verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<&'a str>,
    /// The event type (Shared Signals).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The session revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    /// The user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<&'a str>,
    /// The effective cutoff of a subject cutoff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// A verification event's `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'a str>,
    /// A refusal's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    /// Why: a refusal's or an unmapped subject's reason, or the store operation that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

impl<'a> Line<'a> {
    /// Its fields; those not set are `null` (the audit line leaves them out).
    pub fn fields(&self) -> [(&'static str, Field<'_>); 9] {
        fields! {
            "action": self.action,
            "jti": self.jti,
            "type": self.kind,
            "sid": self.sid,
            "sub": self.sub,
            "before": self.before,
            "state": self.state,
            "code": self.code,
            "reason": self.reason,
        }
    }

    /// As JSON, as its `Serialize` writes it: the fields that are set.
    pub fn to_value(&self) -> Value {
        sparse(&self.fields())
    }

    /// The line of a refusal.
    pub fn refused(code: &'a str, reason: &'a str) -> Line<'a> {
        Line {
            action: "refused",
            code: Some(code),
            reason: Some(reason),
            ..Line::default()
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use serde_json::Value;
    use warden_core::{parse_set, Denial, EventAction, Received, SetError, Token};
    use worker::{Env, Method, Request, Response};

    use super::{ledger_key, Line, LEDGER_SECONDS};
    use crate::admin::{self, StoreFailure};
    use crate::audit::{audit, AuditEvent};
    use crate::config::{Config, KeyConfig};
    use crate::fields::{text, Field};
    use crate::http::{json_object, method_not_allowed};
    use crate::{keys, store, verify};

    /// The record under `key` (an applied event's, or the poll's pending acknowledgements).
    pub async fn stored(env: &Env, key: &str) -> worker::Result<Option<String>> {
        store::kv(env)?.text(key).await
    }

    /// Writes `record` under `key` for [`LEDGER_SECONDS`] (an event applied: what was done,
    /// for inspection; or the poll's pending acknowledgements).
    pub async fn record(env: &Env, key: &str, record: &Value, now: u64) -> worker::Result<()> {
        let json = text(record);
        store::put(env, key, json.as_bytes(), None, Some(now + LEDGER_SECONDS)).await
    }

    /// Parse (the core's strict parser), key (`keys` with `key_config`), signature
    /// (`verify::check_signature`), then `validate`: the event, or why not — `Err(None)` when
    /// the keys cannot be had now (503: the sender retries).
    pub async fn verified_event(
        raw: &str,
        key_config: &KeyConfig,
        now: u64,
        validate: &dyn Fn(&Token) -> Result<Received, SetError>,
    ) -> Result<Received, Option<SetError>> {
        let token = parse_set(raw)?;
        let key = match keys::key_for(key_config, &token.header, now).await {
            Ok(key) => key,
            Err(Denial::KeysUnavailable | Denial::DiscoveryFailed) => return Err(None),
            Err(Denial::UnknownKey) => return Err(Some(SetError::UnknownKey)),
            Err(Denial::AlgorithmNotAllowed) => return Err(Some(SetError::AlgorithmNotAllowed)),
            Err(_) => return Err(Some(SetError::BadSignature)),
        };
        verify::check_signature(key.key(), token.signing_input.as_bytes(), &token.signature)
            .await
            .map_err(|_| SetError::BadSignature)?;
        Ok(validate(&token)?)
    }

    /// Applies a validated event once per (`source`, `issuer`, `jti`): its revocation through
    /// the admin API's own functions, then its ledger record. `Ok`: done (or done before: a
    /// `duplicate`), every write returned; `Err`: a store failed, nothing acknowledged.
    pub async fn apply<'a>(
        env: &Env,
        config: &Config,
        source: &str,
        issuer: &str,
        event: &'a Received,
        now: u64,
    ) -> Result<Line<'a>, (Line<'a>, StoreFailure)> {
        let key = ledger_key(source, issuer, &event.jti);
        let mut line = Line {
            action: "duplicate",
            jti: Some(&event.jti),
            ..Line::default()
        };
        match stored(env, &key).await {
            Ok(Some(_)) => return Ok(line),
            Ok(None) => {}
            Err(e) => return Err((line, StoreFailure::new("get", e))),
        }
        line.action = event.action.name();
        let done = match &event.action {
            EventAction::RevokeSession { sid, sub } => {
                line.sid = Some(sid);
                line.sub = sub.as_deref();
                admin::revoke_session(env, config, sid, line.sub, now)
                    .await
                    .map(|_| ())
            }
            EventAction::SubjectCutoff { sub, before } => {
                line.sub = Some(sub);
                admin::cut_off_subject(env, config, sub.clone(), *before, now)
                    .await
                    .map(|(_, cutoff, _)| line.before = Some(cutoff.before))
            }
            EventAction::Verified { state } => {
                line.state = state.as_deref();
                Ok(())
            }
            EventAction::Unmapped { reason } => {
                line.reason = Some(reason);
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(failed) = done {
            return Err((line, failed));
        }
        match record(env, &key, &line.to_value(), now).await {
            Ok(()) => Ok(line),
            Err(e) => Err((line, StoreFailure::new("put", e))),
        }
    }

    /// The request's body and content type, or the answer: 405 unless `POST`, 413 over 64 KiB
    /// (audited as a refusal).
    pub async fn read(
        req: &mut Request,
        event: AuditEvent,
    ) -> worker::Result<Result<(Vec<u8>, Option<String>), Response>> {
        if req.method() != Method::Post {
            return method_not_allowed("POST").map(Err);
        }
        Ok(match admin::read_body(req).await? {
            Ok(body) => Ok((body, req.headers().get("content-type")?)),
            Err(too_large) => {
                logged(event, &Line::refused("invalid_request", "body too large"));
                Err(too_large)
            }
        })
    }

    /// The error members of a receiver's JSON answers: `("error", "error_description")` for
    /// a logout (OAuth style), `("err", "description")` for a push (RFC 8935 §2.3).
    pub type Members = (&'static str, &'static str);

    /// A refusal: `status` with `{error: code, description: why}` in the receiver's `members`,
    /// audited.
    pub fn refused(
        event: AuditEvent,
        members: Members,
        status: u16,
        code: &str,
        why: &str,
    ) -> worker::Result<Response> {
        logged(event, &Line::refused(code, why));
        json_object(
            status,
            &[(members.0, Field::Str(code)), (members.1, Field::Str(why))],
        )
    }

    /// 503 while the signature keys cannot be had (the sender retries): audited `unavailable`
    /// with `keys_unavailable`.
    pub fn keys_unavailable(event: AuditEvent, members: Members) -> worker::Result<Response> {
        let line = Line {
            action: "unavailable",
            reason: Some("keys_unavailable"),
            ..Line::default()
        };
        logged(event, &line);
        let why = "the signature keys cannot be had now";
        json_object(
            503,
            &[
                (members.0, Field::Str("temporarily_unavailable")),
                (members.1, Field::Str(why)),
            ],
        )
    }

    /// Writes `line` as an `event` audit line.
    pub fn logged(event: AuditEvent, line: &Line<'_>) {
        audit(event, &line.fields());
    }

    /// 503 after a store failure: audited (`unavailable`, the operation), nothing acknowledged.
    pub fn unavailable(
        event: AuditEvent,
        mut line: Line<'_>,
        failed: &StoreFailure,
    ) -> worker::Result<Response> {
        line.action = "unavailable";
        line.reason = Some(failed.op);
        logged(event, &line);
        failed.response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_sources_issuers_and_ids() {
        let k = ledger_key("bcl", "https://id.example", "j1");
        assert!(k.starts_with("ev:") && k.len() == 3 + 64, "{k}");
        assert_eq!(k, ledger_key("bcl", "https://id.example", "j1"));
        for other in [
            ledger_key("ssf", "https://id.example", "j1"),
            ledger_key("bcl", "https://id.example/", "j1"),
            ledger_key("bcl", "https://id.example", "j2"),
            ledger_key("bcl", "https://id.examplej", "1"),
        ] {
            assert_ne!(k, other);
        }
    }

    #[test]
    fn lines_are_what_serialize_writes() {
        let full = Line {
            action: "subject_cutoff",
            jti: Some("j"),
            kind: Some("t".into()),
            sid: Some("s"),
            sub: Some("u\"\n"),
            before: Some(7),
            state: Some("st"),
            code: Some("c"),
            reason: Some("r"),
        };
        for line in [
            full,
            Line::default(),
            Line::refused("invalid_request", "why"),
        ] {
            let value = serde_json::to_value(&line).unwrap();
            assert_eq!(line.to_value().to_string(), value.to_string());
        }
    }
}
