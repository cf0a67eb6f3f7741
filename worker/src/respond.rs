//! Carrying out the gate's decisions: the rules for forwarding to the origin with exactly the
//! identity the gate computed (the entry module sends the request), and answering a refusal
//! (RFC 6750 status, challenge and JSON body, one audit line). Nothing here decides anything.

use std::fmt::Write as _;

use warden_core::{identity_headers, is_reserved_header, Binding, Denial, Forward, Refusal};
use worker::{Headers, Response, Result};

use crate::audit::{audit, AuditEvent};
use crate::config::Config;
use crate::fields::{fields, obj};
use crate::http::{json_object, json_response};
use crate::oauth;

/// Response header telling a bearer client that its token expired and it should refresh.
pub const REFRESH_HINT_HEADER: &str = "x-warden-refresh";
/// Response header carrying a server nonce for DPoP proofs (RFC 9449 §8).
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";

/// How an allowed request goes on to the origin.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    /// The gate's identity headers; `None`: anonymous (a public path), only `x-warden-auth`.
    pub identity: Option<Forward>,
    /// Replaces the `Cookie` header (after a refresh: the new pair).
    pub cookie: Option<String>,
    /// `Set-Cookie` values added to the origin's answer (after a refresh).
    pub set_cookies: Vec<String>,
    /// Other headers added to the origin's answer (`DPoP-Nonce`).
    pub answer_headers: Vec<(&'static str, String)>,
    /// The decision had no side effect to repeat (no audit line, no session to register, no
    /// cookie to set): the entry module may replay it for an identical request
    /// (`edge::warden_decide`).
    pub replayable: bool,
}

impl Upstream {
    /// A public path: no identity.
    pub fn anonymous() -> Self {
        Upstream::default()
    }

    /// An allowed credential (with the current `DPoP-Nonce` for a DPoP request when nonces
    /// are on). A sender-constrained decision is never replayed: a proof is used once.
    pub fn identified(f: Forward) -> Self {
        let mut answer_headers = Vec::new();
        if let Some(Binding::Dpop {
            nonce: Some(nonce), ..
        }) = &f.binding
        {
            answer_headers.push((DPOP_NONCE_HEADER, nonce.clone()));
        }
        Upstream {
            identity: Some(f),
            answer_headers,
            ..Upstream::default()
        }
    }

    /// Whether the identity is sender-constrained (DPoP or mTLS).
    pub fn bound(&self) -> bool {
        self.identity.as_ref().is_some_and(|f| f.binding.is_some())
    }

    /// The origin's URL for the request's `path` and `query`.
    pub fn target(config: &Config, path: &str, query: Option<&str>) -> String {
        let mut target = format!("{}{}", config.origin, path);
        if let Some(q) = query {
            target.push('?');
            target.push_str(q);
        }
        target
    }

    /// Whether a client header reaches the origin: not one that [`is_reserved_header`]
    /// (identity is Warden's to say), not `host` (the origin's URL sets it).
    pub fn passes(name: &str) -> bool {
        !is_reserved_header(name) && name != "host"
    }

    /// The headers Warden sets, after the client's that [`Upstream::passes`]: the identity
    /// (or `x-warden-auth` alone, for an anonymous request), then `cookie` after a refresh.
    pub fn headers(&self, config: &Config) -> Vec<(&'static str, String)> {
        let mut out = match &self.identity {
            Some(f) => f.headers.clone(),
            None => identity_headers(None, config.gate.origin_secret.as_deref()),
        };
        if let Some(cookie) = &self.cookie {
            out.push(("cookie", cookie.clone()));
        }
        out
    }

    /// The forwarding plan the entry module carries out (`edge::warden_decide`), as lines: the
    /// origin's URL; the client header names (of `names`, space-separated as `Headers.keys()`
    /// gives them) that do not [pass](Upstream::passes), space-separated; the number `n` of
    /// [headers Warden sets](Upstream::headers); `n` name and value line pairs; then name and
    /// value line pairs to add to the origin's answer (`set-cookie`, `dpop-nonce`). No part can
    /// hold a line break: URLs are serialised, header names are tokens, identity values,
    /// cookies and nonces are checked or base64url.
    pub fn plan(&self, config: &Config, path: &str, query: Option<&str>, names: &str) -> String {
        let mut out = Upstream::target(config, path, query);
        out.push('\n');
        let mut first = true;
        for name in names
            .split(' ')
            .filter(|n| !n.is_empty() && !Upstream::passes(n))
        {
            if !first {
                out.push(' ');
            }
            out.push_str(name);
            first = false;
        }
        let set = self.headers(config);
        let _ = write!(out, "\n{}", set.len());
        for (name, value) in &set {
            let _ = write!(out, "\n{name}\n{value}");
        }
        for c in &self.set_cookies {
            let _ = write!(out, "\nset-cookie\n{c}");
        }
        for (name, value) in &self.answer_headers {
            let _ = write!(out, "\n{name}\n{value}");
        }
        out
    }
}

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
