//! The fetch handler and its I/O: configuration from the environment, KV, the origin.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::json;
use warden_core::{
    parse, Denial, Grant, JwtVerifier, RevocationReason, RevocationStatus, Token, Verdict,
};
use worker::{
    console_log, event, wasm_bindgen::JsValue, Context, Date, Env, Fetch, Headers, Method, Request,
    RequestInit, RequestRedirect, Response, Result,
};

use crate::admin::{self, Revoke};
use crate::config::{Config, ConfigError};
use crate::credentials;

const KV_BINDING: &str = "WARDEN_KV";
/// Headers the worker sets for the origin; any a client sends are removed first.
const IDENTITY_PREFIX: &str = "x-warden-";

thread_local! {
    // Configuration is parsed once per isolate (an isolate runs one request at a time per thread).
    static CONFIG: RefCell<Option<std::result::Result<Rc<Config>, ConfigError>>> = const { RefCell::new(None) };
}

fn config(env: &Env) -> std::result::Result<Rc<Config>, ConfigError> {
    CONFIG.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| {
                if env.kv(KV_BINDING).is_err() {
                    return Err(ConfigError {
                        variable: KV_BINDING,
                        reason: "KV namespace binding is missing".into(),
                    });
                }
                Config::from_vars(|name| env.var(name).ok().map(|v| v.to_string())).map(Rc::new)
            })
            .clone()
    })
}

/// Unix seconds, read once per request (on Workers the clock only moves after I/O anyway).
fn unix_now() -> u64 {
    Date::now().as_millis() / 1000
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let now = unix_now();
    let config = match config(&env) {
        Ok(c) => c,
        Err(e) => {
            audit(json!({"event": "config_error", "variable": e.variable, "reason": e.reason}));
            return json_response(
                500,
                &json!({"error": "server_error", "error_description": "worker misconfigured"}),
            );
        }
    };
    let path = req.path();
    if path == "/_warden" || path.starts_with("/_warden/") {
        return admin_api(req, &env, &config, now).await;
    }
    protect(req, &env, &config, now).await
}

async fn protect(req: Request, env: &Env, config: &Config, now: u64) -> Result<Response> {
    let authorization = req.headers().get("authorization")?;
    let token = match credentials::bearer(authorization.as_deref()) {
        Ok(Some(token)) => token,
        Ok(None) => return deny(&Denial::Missing, None),
        Err(d) => return deny(&d, None),
    };
    let parsed = match parse(token) {
        Ok(t) => t,
        Err(e) => return deny(&Denial::Malformed(e), None),
    };
    if let Err(d) = config.keys.inline.verify(&parsed, &JwtVerifier) {
        return deny(&d, Some(&parsed));
    }
    if let Err(d) = config.policy.check(&parsed, now) {
        return deny(&d, Some(&parsed));
    }
    let status = revocation_status(env, &parsed).await;
    match config.policy.evaluate(&parsed, now, status) {
        Verdict::Allow(grant) => forward(req, config, &grant).await,
        Verdict::Deny(d) => deny(&d, Some(&parsed)),
        // evaluate() never asks for a refresh; refresh at the edge arrives with its own flow.
        Verdict::Refresh(h) => deny(
            &Denial::Expired {
                exp: h.expires_at,
                now,
            },
            Some(&parsed),
        ),
    }
}

async fn revocation_status(env: &Env, token: &Token) -> RevocationStatus {
    let Some(jti) = &token.claims.jti else {
        return RevocationStatus::NotRevoked;
    };
    let Ok(kv) = env.kv(KV_BINDING) else {
        return RevocationStatus::Unavailable;
    };
    match kv.get(&format!("rv:jti:{jti}")).text().await {
        Ok(Some(_)) => RevocationStatus::Revoked(RevocationReason::TokenId),
        Ok(None) => RevocationStatus::NotRevoked,
        Err(e) => {
            audit(json!({"event": "store_error", "op": "get", "error": e.to_string()}));
            RevocationStatus::Unavailable
        }
    }
}

async fn forward(req: Request, config: &Config, grant: &Grant) -> Result<Response> {
    let url = req.url()?;
    let mut target = format!("{}{}", config.origin, url.path());
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if !name.starts_with(IDENTITY_PREFIX) && name != "host" {
            headers.append(&name, &value)?;
        }
    }
    let identity = [
        ("x-warden-sub", grant.subject.as_deref()),
        ("x-warden-sid", grant.session.as_deref()),
        ("x-warden-jti", grant.token_id.as_deref()),
        ("x-warden-class", Some(grant.class.name())),
    ];
    for (name, value) in identity {
        if let Some(v) = value {
            headers.set(name, v)?;
        }
    }
    headers.set("x-warden-exp", &grant.expires_at.to_string())?;

    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(method, Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(JsValue::from));
    }
    match Fetch::Request(Request::new_with_init(&target, &init)?)
        .send()
        .await
    {
        Ok(resp) => Ok(resp),
        Err(e) => {
            audit(json!({"event": "origin_error", "error": e.to_string()}));
            json_response(
                502,
                &json!({"error": "bad_gateway", "error_description": "origin unreachable"}),
            )
        }
    }
}

fn deny(d: &Denial, token: Option<&Token>) -> Result<Response> {
    let claims = token.map(|t| &t.claims);
    audit(json!({
        "event": "deny",
        "code": d.code(),
        "status": d.status(),
        "sub": claims.and_then(|c| c.sub.as_deref()),
        "jti": claims.and_then(|c| c.jti.as_deref()),
    }));
    let error = d.error().unwrap_or(if d.status() == 503 {
        "temporarily_unavailable"
    } else {
        "unauthorized"
    });
    let mut resp = json_response(
        d.status(),
        &json!({"error": error, "code": d.code(), "error_description": d.description()}),
    )?;
    if let Some(challenge) = d.www_authenticate() {
        resp.headers_mut().set("www-authenticate", &challenge)?;
    }
    Ok(resp)
}

async fn admin_api(mut req: Request, env: &Env, config: &Config, now: u64) -> Result<Response> {
    let Some(secret) = &config.admin_token else {
        return json_response(404, &json!({"error": "not_found"}));
    };
    if !admin::authorized(req.headers().get("authorization")?.as_deref(), secret) {
        audit(json!({"event": "admin_unauthorized", "path": req.path()}));
        let mut resp = json_response(
            401,
            &json!({"error": "unauthorized", "error_description": "admin token required"}),
        )?;
        resp.headers_mut()
            .set("www-authenticate", "Bearer realm=\"warden-admin\"")?;
        return Ok(resp);
    }
    match (req.method(), req.path().as_str()) {
        (Method::Post, "/_warden/revoke") => {
            let body = match read_body(&mut req).await? {
                Ok(body) => body,
                Err(resp) => return Ok(resp),
            };
            match admin::parse_revoke(&body) {
                Ok(revoke) => revoke_token(env, config, revoke, now).await,
                Err(why) => bad_request(&why),
            }
        }
        (_, "/_warden/revoke") => json_response(
            405,
            &json!({"error": "method_not_allowed", "allow": "POST"}),
        ),
        _ => json_response(404, &json!({"error": "not_found"})),
    }
}

/// The request body, or the response refusing it (413 when over the limit).
async fn read_body(req: &mut Request) -> Result<std::result::Result<Vec<u8>, Response>> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > admin::MAX_BODY) {
        return too_large().map(Err);
    }
    let body = req.bytes().await?;
    if body.len() > admin::MAX_BODY {
        return too_large().map(Err);
    }
    Ok(Ok(body))
}

fn too_large() -> Result<Response> {
    json_response(
        413,
        &json!({"error": "invalid_request", "error_description": format!("body over {} bytes", admin::MAX_BODY)}),
    )
}

fn bad_request(why: &str) -> Result<Response> {
    json_response(
        400,
        &json!({"error": "invalid_request", "error_description": why}),
    )
}

async fn revoke_token(env: &Env, config: &Config, revoke: Revoke, now: u64) -> Result<Response> {
    let Revoke::Jti { jti, exp } = revoke;
    let expires_at =
        admin::record_expiration(exp, now, config.policy.leeway, config.policy.max_lifetime);
    let record = json!({"revoked_at": now}).to_string();
    let written = async {
        env.kv(KV_BINDING)?
            .put(&format!("rv:jti:{jti}"), record)?
            .expiration(expires_at)
            .execute()
            .await
            .map_err(worker::Error::from)
    }
    .await;
    if let Err(e) = written {
        audit(json!({"event": "store_error", "op": "put", "jti": jti, "error": e.to_string()}));
        return json_response(
            503,
            &json!({"error": "temporarily_unavailable", "error_description": "revocation store unavailable"}),
        );
    }
    audit(json!({"event": "revoke", "jti": jti, "expires_at": expires_at}));
    json_response(
        200,
        &json!({"ok": true, "jti": jti, "expires_at": expires_at}),
    )
}

fn json_response(status: u16, body: &serde_json::Value) -> Result<Response> {
    let mut resp = Response::from_json(body)?.with_status(status);
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

/// One structured JSON line per security-relevant event: ids, never secrets.
fn audit(mut event: serde_json::Value) {
    if let Some(obj) = event.as_object_mut() {
        obj.insert("warden".into(), json!("audit"));
        obj.retain(|_, v| !v.is_null());
    }
    console_log!("{}", event);
}
