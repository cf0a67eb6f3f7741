//! Carrying out the gate's refusals: the RFC 6750 status, challenge and JSON body, one audit
//! line (forwarding is `upstream.rs`'s). Nothing here decides anything.

use warden_core::{Denial, Refusal};
use worker::{Headers, Response, Result};

use crate::audit::{audit, AuditEvent};
use crate::config::Config;
use crate::fields::{fields, obj};
use crate::http::{json_object, json_response};
use crate::oauth;
use crate::upstream::DPOP_NONCE_HEADER;

/// Response header telling a bearer client that its token expired and it should refresh.
pub const REFRESH_HINT_HEADER: &str = "x-warden-refresh";
/// The origin could not be reached: audited as `origin_error`, 502.
pub fn origin_unreachable(error: &str) -> Result<Response> {
    audit(AuditEvent::OriginError, &fields! {"error": error});
    json_object(
        502,
        &fields! {"error": "bad_gateway", "error_description": "origin unreachable"},
    )
}

/// The answer to a refusal, with one audit line (`reject_expired_token` for an expired token,
/// `deny` otherwise).
pub fn refuse(config: &Config, r: &Refusal) -> Result<Response> {
    let d = &r.denial;
    let event = if matches!(d, Denial::Expired { .. }) {
        AuditEvent::RejectExpiredToken
    } else {
        AuditEvent::Deny
    };
    audit(
        event,
        &fields! {
            "code": d.code(),
            "status": d.status(),
            "class": r.who.class.map(|c| c.name()),
            "sub": r.who.sub,
            "jti": r.who.jti,
            "sid": r.who.sid,
            "scope": d.scope(),
            "detail": r.detail,
        },
    );
    refusal_response(config, r)
}

/// The answer to a refusal, without an audit line (the caller wrote a more specific one).
pub fn refusal_response(config: &Config, r: &Refusal) -> Result<Response> {
    let d = &r.denial;
    // `scope` only when the denial names one.
    let body = obj!(sparse:
        "error": d.body_error(),
        "code": d.code(),
        "error_description": d.description(),
        "scope": d.scope(),
    );
    let mut resp = json_response(d.status(), &body)?;
    let headers = resp.headers_mut();
    if let Some(challenge) = r.challenge() {
        headers.set("www-authenticate", &challenge)?;
    }
    if let Some(nonce) = r.dpop.as_ref().and_then(|a| a.nonce.as_deref()) {
        headers.set(DPOP_NONCE_HEADER, nonce)?;
    }
    if r.refresh_due {
        headers.set(REFRESH_HINT_HEADER, "due")?;
    }
    if let Some(seconds) = d.retry_after() {
        headers.set("retry-after", &seconds.to_string())?;
    }
    if r.clear_cookies {
        return with_cookies(resp, &cleared_cookies(config));
    }
    Ok(resp)
}

/// `Set-Cookie` values that delete both session cookies (none while refresh is off).
pub fn cleared_cookies(config: &Config) -> Vec<String> {
    let Some(rc) = &config.refresh else {
        return Vec::new();
    };
    let mut out = vec![oauth::clear_cookie(&rc.cookie)];
    if let Some(access) = &config.gate.access_cookie {
        out.insert(0, oauth::clear_cookie(access));
    }
    out
}

/// The response with `Set-Cookie` headers added (a fetched response's headers are immutable:
/// copied first).
pub fn with_cookies(resp: Response, cookies: &[String]) -> Result<Response> {
    if cookies.is_empty() {
        return Ok(resp);
    }
    let headers = Headers(web_sys::Headers::new_with_headers(&resp.headers().0)?);
    for c in cookies {
        headers.append("set-cookie", c)?;
    }
    Ok(resp.with_headers(headers))
}
