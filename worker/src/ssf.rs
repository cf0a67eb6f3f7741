//! Shared Signals push delivery (RFC 8935): `POST /_warden/ssf/push` with
//! `Content-Type: application/secevent+jwt` and a Security Event Token as the body. The
//! transmitter (`WARDEN_SSF_ISSUER`) tells Warden that a session was revoked or a user's
//! credentials changed (CAEP 1.0, RISC 1.0), and Warden revokes at the edge what the admin
//! API's `{"sid"}` or `{"sub", "before"}` would.
//!
//! In order: the push token when `WARDEN_SSF_PUSH_TOKEN` is set (401 `authentication_failed`,
//! compared in constant time), the method (405 unless `POST`), the size (413 over 64 KiB), the content type, then the core's
//! parser, the transmitter's key (`WARDEN_SSF_JWKS`, `WARDEN_SSF_JWKS_URL`), the signature
//! ([`crate::verify::check_signature`]) and [`warden_core::SetPolicy::validate`]: a refusal is
//! `400 {"err", "description"}` with the RFC 8935 §2.3 code. Nothing is written before all of
//! that passed. `202` (empty) only once the revocation and the ledger record
//! ([`crate::received`]) are written; a store that fails is `503`, so that the transmitter
//! retries.

/// The push body's media type (RFC 8935 §2).
pub const SET_MEDIA_TYPE: &str = "application/secevent+jwt";

/// The SET of a push body: the content type must be [`SET_MEDIA_TYPE`] and the body UTF-8
/// text. The error is the description sent with `invalid_request`.
pub fn pushed_set<'b>(content_type: Option<&str>, body: &'b [u8]) -> Result<&'b str, &'static str> {
    let essence = content_type
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !essence.eq_ignore_ascii_case(SET_MEDIA_TYPE) {
        return Err("the body must be application/secevent+jwt");
    }
    std::str::from_utf8(body)
        .map(str::trim)
        .map_err(|_| "the body is not UTF-8 text")
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use warden_core::{SetError, SetErrorCode};
    use worker::{Env, Request, Response, Result};

    use super::*;
    use crate::admin::authorized;
    use crate::audit::AuditEvent;
    use crate::config::{Config, SsfConfig};
    use crate::fields::fields;
    use crate::http::json_object;
    use crate::received::{self, logged};

    /// What became of one SET, pushed or polled (the same checks, the same apply, the same
    /// `ssf_event` line).
    pub enum Delivery {
        /// Applied, now or before (a `duplicate`): acknowledge it.
        Accepted,
        /// Refused (not yet audited): the RFC 8935 §2.3 code and the description.
        Refused(SetErrorCode, &'static str),
        /// The keys or the store cannot be had now (audited): not acknowledged, so that the
        /// transmitter delivers it again; the push's 503.
        Unavailable(Result<Response>),
    }

    /// The audit event of every received SET.
    pub const EVENT: AuditEvent = AuditEvent::SsfEvent;
    const MEMBERS: received::Members = ("err", "description");

    /// Answers a request to the push endpoint.
    pub async fn receive(
        mut req: Request,
        env: &Env,
        config: &Config,
        now: u64,
    ) -> Result<Response> {
        let Some(ssf) = &config.ssf else {
            return json_object(404, &fields! {"error": "not_found"});
        };
        if let Some(token) = &ssf.push_token {
            if !authorized(req.headers().get("authorization")?.as_deref(), token) {
                let e = SetError::AuthenticationFailed;
                return refused(e.code(), e.description());
            }
        }
        let (body, content_type) = match received::read(&mut req, EVENT).await? {
            Ok(read) => read,
            Err(answer) => return Ok(answer),
        };
        let raw = match pushed_set(content_type.as_deref(), &body) {
            Ok(raw) => raw,
            Err(why) => return refused(SetErrorCode::InvalidRequest, why),
        };
        match deliver(raw, None, env, config, ssf, now).await {
            Delivery::Accepted => Ok(Response::empty()?.with_status(202)),
            Delivery::Refused(code, why) => refused(code, why),
            Delivery::Unavailable(answer) => answer,
        }
    }

    /// Checks and applies one SET: the core's parser, the transmitter's key, the signature,
    /// [`warden_core::SetPolicy::validate`], then (for a polled one) its `sets` member name
    /// (`member`) against its `jti`, then [`received::apply`]. Writes the `ssf_event` line
    /// except for a refusal (the caller's, with its code).
    pub async fn deliver(
        raw: &str,
        member: Option<&str>,
        env: &Env,
        config: &Config,
        ssf: &SsfConfig,
        now: u64,
    ) -> Delivery {
        let validate = |token: &_| ssf.policy.validate(token, now);
        let event = match received::verified_event(raw, &ssf.keys, now, &validate).await {
            Ok(event) => event,
            Err(Some(e)) => return Delivery::Refused(e.code(), e.description()),
            Err(None) => return Delivery::Unavailable(received::keys_unavailable(EVENT, MEMBERS)),
        };
        if member.is_some_and(|m| m != event.jti) {
            let why = "the sets member name is not the SET's jti";
            return Delivery::Refused(SetErrorCode::InvalidRequest, why);
        }
        let (mut line, failed) =
            match received::apply(env, config, "ssf", &ssf.policy.issuer, &event, now).await {
                Ok(line) => (line, None),
                Err((line, failed)) => (line, Some(failed)),
            };
        line.kind = Some(event.kind.uri());
        match failed {
            None => {
                logged(EVENT, &line);
                Delivery::Accepted
            }
            Some(failed) => Delivery::Unavailable(received::unavailable(EVENT, line, &failed)),
        }
    }

    /// A refusal (RFC 8935 §2.3): `{"err", "description"}` with the code's status, audited.
    fn refused(code: SetErrorCode, description: &str) -> Result<Response> {
        received::refused(EVENT, MEMBERS, code.status(), code.as_str(), description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_a_set_of_the_right_media_type() {
        assert_eq!(pushed_set(Some(SET_MEDIA_TYPE), b"a.b.c"), Ok("a.b.c"));
        assert_eq!(
            pushed_set(Some("Application/SecEvent+JWT; charset=utf-8"), b" a.b.c\n"),
            Ok("a.b.c")
        );
        for ct in [
            None,
            Some("application/jwt"),
            Some("text/plain"),
            Some("application/json"),
        ] {
            assert!(pushed_set(ct, b"a.b.c").is_err(), "{ct:?}");
        }
        assert!(pushed_set(Some(SET_MEDIA_TYPE), &[0xff, 0xfe]).is_err());
    }
}
