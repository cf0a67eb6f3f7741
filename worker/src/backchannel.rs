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

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use worker::{Env, Request, Response, Result};

    use super::*;
    use crate::audit::AuditEvent;
    use crate::config::Config;
    use crate::fields::fields;
    use crate::http::json_object;
    use crate::received::{self, logged};

    const EVENT: AuditEvent = AuditEvent::BackchannelLogout;
    const MEMBERS: received::Members = ("error", "error_description");

    /// Answers a request to the back-channel logout endpoint.
    pub async fn receive(
        mut req: Request,
        env: &Env,
        config: &Config,
        now: u64,
    ) -> Result<Response> {
        let Some(policy) = &config.backchannel else {
            return json_object(404, &fields! {"error": "not_found"});
        };
        let (body, content_type) = match received::read(&mut req, EVENT).await? {
            Ok(read) => read,
            Err(answer) => return Ok(answer),
        };
        let raw = match logout_token(content_type.as_deref(), &body) {
            Ok(raw) => raw,
            Err(why) => return refused(why),
        };
        let validate = |token: &_| policy.validate(token, now);
        let event = match received::verified_event(&raw, &config.keys, now, &validate).await {
            Ok(event) => event,
            Err(Some(e)) => return refused(e.description()),
            Err(None) => return received::keys_unavailable(EVENT, MEMBERS),
        };
        match received::apply(env, config, "bcl", &policy.issuer, &event, now).await {
            Ok(line) => {
                logged(EVENT, &line);
                // 200, empty, `Cache-Control: no-store` (§2.8).
                let mut resp = Response::empty()?;
                resp.headers_mut().set("cache-control", "no-store")?;
                Ok(resp)
            }
            Err((line, failed)) => received::unavailable(EVENT, line, &failed),
        }
    }

    /// 400 `invalid_request` (§2.8), audited with the reason.
    fn refused(why: &str) -> Result<Response> {
        received::refused(EVENT, MEMBERS, 400, "invalid_request", why)
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
