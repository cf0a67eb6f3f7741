//! OpenID Connect Back-Channel Logout 1.0: `POST /_warden/oidc/backchannel-logout` with the
//! form body `logout_token=<JWT>`. The identity provider ends a session (`sid`) or every
//! session of a user (only `sub`) and Warden revokes at the edge what the admin API's `{"sid"}`
//! or `{"sub", "before": iat}` would.
//!
//! The token is the only authentication: it is read (size, content type, form), parsed by the
//! core's strict parser, matched to a token key (the same sources and `WARDEN_ALGORITHMS` as
//! access tokens), its signature checked by [`crate::verify::check_signature`], then validated
//! by the core's [`warden_core::LogoutPolicy`]. Nothing is written before all of that passed.
//! The answer is `200` only once the revocation and the ledger record ([`crate::received`])
//! are written; a store that fails is `503`, so that the provider retries.

/// The form's content type (§2.5).
pub const FORM: &str = "application/x-www-form-urlencoded";

/// The `logout_token` of a form body: exactly one, not empty. The error is the description
/// sent with `invalid_request`.
pub fn logout_token(content_type: Option<&str>, body: &[u8]) -> Result<String, &'static str> {
    let essence = content_type
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !essence.eq_ignore_ascii_case(FORM) {
        return Err("the body must be application/x-www-form-urlencoded");
    }
    let mut found = None;
    for (name, value) in form_urlencoded::parse(body) {
        if name == "logout_token" {
            if found.is_some() {
                return Err("logout_token appears more than once");
            }
            found = Some(value.into_owned());
        }
    }
    match found {
        Some(token) if !token.is_empty() => Ok(token),
        _ => Err("the form has no logout_token"),
    }
}

/// The `backchannel_logout` audit line (and the ledger record of an applied logout): one per
/// request. `None` fields are left out.
#[derive(Debug, Default, serde::Serialize)]
pub struct Line<'a> {
    /// `revoked_session`, `subject_cutoff`, `duplicate`, `refused` or `unavailable`.
    pub action: &'a str,
    /// The token's `jti` (once the signature verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<&'a str>,
    /// The session revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    /// The user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<&'a str>,
    /// The effective cutoff of a subject cutoff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// A refusal's code (`invalid_request`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    /// A refusal's reason, or the store operation that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use serde_json::json;
    use warden_core::{parse_set, Denial, EventAction, LogoutPolicy, Received, SetError};
    use worker::{Env, Method, Request, Response, Result};

    use super::*;
    use crate::admin::{self, StoreFailure};
    use crate::audit::{audit, AuditEvent};
    use crate::config::Config;
    use crate::http::{json_response, method_not_allowed};
    use crate::received::{self, ledger_key};
    use crate::{keys, verify};

    /// Answers a request to the back-channel logout endpoint.
    pub async fn receive(
        mut req: Request,
        env: &Env,
        config: &Config,
        now: u64,
    ) -> Result<Response> {
        let Some(policy) = &config.backchannel else {
            return json_response(404, &json!({"error": "not_found"}));
        };
        if req.method() != Method::Post {
            return method_not_allowed("POST");
        }
        let body = match admin::read_body(&mut req).await? {
            Ok(body) => body,
            Err(too_large) => {
                logged(&refusal("body too large", None));
                return Ok(too_large);
            }
        };
        let content_type = req.headers().get("content-type")?;
        let event = match logout_token(content_type.as_deref(), &body) {
            Ok(raw) => validated(&raw, config, policy, now).await,
            Err(why) => Err(Err(why)),
        };
        match event {
            Ok(event) => apply(env, config, policy, &event, now).await,
            Err(Ok(())) => {
                logged(&Line {
                    action: "unavailable",
                    reason: Some("keys_unavailable"),
                    ..Line::default()
                });
                json_response(
                    503,
                    &json!({"error": "temporarily_unavailable", "error_description": "the issuer's keys cannot be had now"}),
                )
            }
            Err(Err(why)) => {
                logged(&refusal(why, None));
                json_response(
                    400,
                    &json!({"error": "invalid_request", "error_description": why}),
                )
            }
        }
    }

    /// Parse, key, signature, policy: the logout, or why not (`Err(Err(description))`, or
    /// `Err(Ok(()))` when the keys cannot be had now).
    async fn validated(
        raw: &str,
        config: &Config,
        policy: &LogoutPolicy,
        now: u64,
    ) -> std::result::Result<Received, std::result::Result<(), &'static str>> {
        let refused = |e: SetError| Err(e.description());
        let token = parse_set(raw).or_else(refused).map_err(Err)?;
        let key = match keys::key_for(&config.keys, &token.header, now).await {
            Ok(key) => key,
            Err(Denial::KeysUnavailable) => return Err(Ok(())),
            Err(Denial::UnknownKey) => return Err(Err(SetError::UnknownKey.description())),
            Err(Denial::AlgorithmNotAllowed) => {
                return Err(Err(SetError::AlgorithmNotAllowed.description()))
            }
            Err(_) => return Err(Err(SetError::BadSignature.description())),
        };
        verify::check_signature(key.key(), token.signing_input.as_bytes(), &token.signature)
            .await
            .map_err(|_| Err(SetError::BadSignature.description()))?;
        policy
            .validate(&token, now)
            .map_err(|e| Err(e.description()))
    }

    fn refusal<'a>(why: &'a str, jti: Option<&'a str>) -> Line<'a> {
        Line {
            action: "refused",
            code: Some("invalid_request"),
            reason: Some(why),
            jti,
            ..Line::default()
        }
    }

    /// Applies a validated logout once per `jti`, then records it; 200 only after both.
    async fn apply(
        env: &Env,
        config: &Config,
        policy: &LogoutPolicy,
        event: &Received,
        now: u64,
    ) -> Result<Response> {
        let key = ledger_key("bcl", &policy.issuer, &event.jti);
        let mut line = Line {
            action: "duplicate",
            jti: Some(&event.jti),
            ..Line::default()
        };
        match received::applied(env, &key).await {
            Ok(true) => {
                logged(&line);
                return done();
            }
            Ok(false) => {}
            Err(e) => return unavailable(line, &StoreFailure::new("get", e)),
        }
        line.action = event.action.name();
        let applied = match &event.action {
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
            // A logout token always names a session or a user.
            _ => Ok(()),
        };
        if let Err(failed) = applied {
            return unavailable(line, &failed);
        }
        let record = serde_json::to_value(&line).unwrap_or_default();
        if let Err(e) = received::record(env, &key, &record, now).await {
            return unavailable(line, &StoreFailure::new("put", e));
        }
        audit(AuditEvent::BackchannelLogout, record);
        done()
    }

    fn logged(line: &Line<'_>) {
        audit(
            AuditEvent::BackchannelLogout,
            serde_json::to_value(line).unwrap_or_default(),
        );
    }

    /// 200, empty, `Cache-Control: no-store` (§2.8).
    fn done() -> Result<Response> {
        let mut resp = Response::empty()?;
        resp.headers_mut().set("cache-control", "no-store")?;
        Ok(resp)
    }

    /// 503: nothing acknowledged, the provider retries (and the retry applies).
    fn unavailable(mut line: Line<'_>, failed: &StoreFailure) -> Result<Response> {
        line.action = "unavailable";
        line.reason = Some(failed.op);
        logged(&line);
        failed.response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_must_carry_exactly_one_logout_token() {
        let ok = |ct, body: &str| logout_token(Some(ct), body.as_bytes());
        assert_eq!(ok(FORM, "logout_token=a.b.c"), Ok("a.b.c".into()));
        assert_eq!(
            ok(
                "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
                "x=1&logout_token=a.b.c"
            ),
            Ok("a.b.c".into())
        );
        assert_eq!(ok(FORM, "logout_token=a%2Eb.c"), Ok("a.b.c".into()));
        for (ct, body) in [
            ("application/json", "logout_token=a.b.c"),
            ("text/plain", "logout_token=a.b.c"),
            (FORM, ""),
            (FORM, "logout_token="),
            (FORM, "token=a.b.c"),
            (FORM, "logout_token=a.b.c&logout_token=a.b.c"),
        ] {
            assert!(ok(ct, body).is_err(), "{ct} {body}");
        }
        assert!(logout_token(None, b"logout_token=a.b.c").is_err());
    }
}
