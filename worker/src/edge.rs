//! The fetch and scheduled handlers and their I/O: configuration from the environment,
//! routing, credentials, revocation, forwarding, deny responses, the admin API.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{json, Map, Value};
use warden_core::{parse, RefreshHint, RevocationIds, TokenClass};
use warden_core::{Denial, Grant, RevocationStatus, Token, Verdict};
use worker::{
    event, wasm_bindgen::JsValue, Context, Date, Env, Fetch, Headers, Method, Request, RequestInit,
    RequestRedirect, Response, Result, ScheduleContext, ScheduledEvent,
};

use crate::admin::{self, Revoke};
use crate::config::{Config, ConfigError, FailMode, RefreshConfig};
use crate::credentials::{self, Source};
use crate::identity::{self, IDENTITY_PREFIX};
use crate::oauth;
use crate::pat::{self, Presented};
use crate::refresh::{self, Answer, Refusal, SessionCall};
use crate::store::{self, Entry, Kind, KV_BINDING};
use crate::subject::{self, CutoffRequest, DO_BINDING, DO_CLASS};

thread_local! {
    // Configuration is parsed once per isolate (an isolate runs one request at a time per thread).
    static CONFIG: RefCell<Option<std::result::Result<Rc<Config>, ConfigError>>> = const { RefCell::new(None) };
}

/// The isolate's configuration (parsed on first use; the session objects use it too).
pub(crate) fn config(env: &Env) -> std::result::Result<Rc<Config>, ConfigError> {
    CONFIG.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| {
                if env.kv(KV_BINDING).is_err() {
                    return Err(ConfigError {
                        variable: KV_BINDING,
                        reason: "KV namespace binding is missing".into(),
                    });
                }
                if env.durable_object(DO_BINDING).is_err() {
                    return Err(ConfigError {
                        variable: DO_BINDING,
                        reason: format!("Durable Object binding is missing (class {DO_CLASS})"),
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

fn config_failed(e: &ConfigError) {
    audit(json!({"event": "config_error", "variable": e.variable, "reason": e.reason}));
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let now = unix_now();
    let config = match config(&env) {
        Ok(c) => c,
        Err(e) => {
            config_failed(&e);
            return json_response(
                500,
                &json!({"error": "server_error", "error_description": "worker misconfigured"}),
            );
        }
    };
    let path = req.path();
    #[cfg(feature = "testing")]
    if path.starts_with("/__warden/") {
        return crate::testing::route(req, &env, &config, now).await;
    }
    if path == "/_warden" || path.starts_with("/_warden/") {
        return admin_api(req, &env, &config, now).await;
    }
    protect(req, &env, &config, &ctx, now).await
}

/// The cron trigger: reaps expired PAT records.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let now = unix_now();
    if let Err(e) = config(&env) {
        config_failed(&e);
        return;
    }
    match pat::reap(&env, now).await {
        Ok(reaped) => audit(json!({"event": "reap", "cron": event.cron(), "reaped": reaped})),
        Err(e) => audit(json!({"event": "store_error", "op": "reap", "error": e.to_string()})),
    }
}

async fn protect(
    req: Request,
    env: &Env,
    config: &Config,
    ctx: &Context,
    now: u64,
) -> Result<Response> {
    if config.is_public(&req.path()) {
        return forward(req, config, None, None).await;
    }
    let authorization = req.headers().get("authorization")?;
    let cookies = match (&config.access_cookie, &config.refresh) {
        (None, None) => None,
        _ => req.headers().get("cookie")?,
    };
    let located = match credentials::located(
        authorization.as_deref(),
        cookies.as_deref(),
        config.access_cookie.as_deref(),
    ) {
        Ok(located) => located,
        Err(d) => return deny(&d, None),
    };
    // The refresh cookie counts for cookie sessions only, never next to a bearer token.
    let refresh_token = match (&config.refresh, located.map(|(_, source)| source)) {
        (Some(rc), None | Some(Source::Cookie)) => {
            match credentials::refresh_cookie(cookies.as_deref(), &rc.cookie) {
                Ok(found) => found,
                Err(d) => return deny(&d, None),
            }
        }
        _ => None,
    };
    let session = Session {
        ctx,
        cookies: cookies.as_deref(),
        refresh_token,
    };
    let (token, source) = match located {
        Some(found) => found,
        None => {
            if let (Some(rc), Some(rt)) = (&config.refresh, refresh_token) {
                // No access token, only the refresh cookie: the object named by its hash.
                return refresh_session(req, env, config, rc, &session, None, rt, now).await;
            }
            let preflight = credentials::is_preflight(
                req.method() == Method::Options,
                req.headers().has("access-control-request-method")?,
                false,
            );
            if preflight {
                return forward(req, config, None, None).await;
            }
            return deny(&Denial::Missing, None);
        }
    };
    if credentials::is_pat(token, &config.pat_prefix) {
        return protect_pat(req, env, config, token, now).await;
    }
    protect_jwt(req, env, config, token, source, &session, now).await
}

/// A request's cookie-session context: where its cookies are, whether a refresh token came.
struct Session<'a> {
    ctx: &'a Context,
    cookies: Option<&'a str>,
    refresh_token: Option<&'a str>,
}

async fn protect_jwt(
    req: Request,
    env: &Env,
    config: &Config,
    token: &str,
    source: Source,
    session: &Session<'_>,
    now: u64,
) -> Result<Response> {
    // Parse + key + signature, or the isolate's verified-token cache (crate::verify).
    let parsed = match crate::verify::verified(token, env, config, now).await {
        Ok(t) => t,
        Err(d) => return deny(&d, None),
    };
    // A cookie session with a refresh cookie may be refreshed when expired or about to be.
    let refresh = match (&config.refresh, source, session.refresh_token) {
        (Some(rc), Source::Cookie, Some(rt)) => Some((rc, rt)),
        _ => None,
    };
    if let Err(d) = config.policy.check(&parsed, now) {
        if refresh.is_none() || !matches!(d, Denial::Expired { .. }) {
            return deny(&d, Some(&parsed));
        }
    }
    let status = revocation_status(env, config, &parsed, now).await;
    match config
        .policy
        .evaluate_with_refresh(&parsed, now, status, refresh.is_some())
    {
        Verdict::Allow(mut grant) => {
            if source == Source::Cookie {
                grant.class = TokenClass::Session;
                if refresh.is_some() {
                    note_seen(session.ctx, env, &parsed);
                }
            }
            allow(req, config, &grant, None).await
        }
        Verdict::Deny(d) => {
            let resp = deny(&d, Some(&parsed))?;
            // A revoked cookie session: its cookies are of no more use.
            match (&config.refresh, source, &d) {
                (Some(rc), Source::Cookie, Denial::Revoked(_)) => {
                    with_cookies(resp, &cleared_cookies(config, rc))
                }
                _ => Ok(resp),
            }
        }
        Verdict::Refresh(hint) => match refresh {
            Some((rc, rt)) => {
                refresh_session(
                    req,
                    env,
                    config,
                    rc,
                    session,
                    Some((&parsed, &hint)),
                    rt,
                    now,
                )
                .await
            }
            None => deny(
                &Denial::Expired {
                    exp: hint.expires_at,
                    now,
                },
                Some(&parsed),
            ),
        },
    }
}

/// Registers a cookie session with its object the first time this isolate sees it (after the
/// response, through `waitUntil`): the inventory lists it and revoke-all can end it.
fn note_seen(ctx: &Context, env: &Env, token: &Token) {
    thread_local! {
        static SEEN: RefCell<std::collections::BTreeSet<String>> = const { RefCell::new(std::collections::BTreeSet::new()) };
    }
    /// Sessions remembered per isolate before the set starts over.
    const MAX_SEEN: usize = 10_000;
    let Some(sid) = token.claims.sid.clone() else {
        return;
    };
    let first = SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() >= MAX_SEEN {
            seen.clear();
        }
        seen.insert(sid.clone())
    });
    if !first {
        return;
    }
    let call = SessionCall {
        sid: Some(sid),
        sub: token.claims.sub.clone(),
        iat: token.claims.iat,
        ..SessionCall::default()
    };
    let env = env.clone();
    ctx.wait_until(async move { refresh::seen(&env, &call).await });
}

/// Refreshes a cookie session through its object, then serves the request with the new access
/// token (verified like any other) and sets both cookies on the answer. `old` is the presented
/// access token (signature verified, not revoked) and the core's hint; `None` when only the
/// refresh cookie came.
#[allow(clippy::too_many_arguments)]
async fn refresh_session(
    req: Request,
    env: &Env,
    config: &Config,
    rc: &RefreshConfig,
    session: &Session<'_>,
    old: Option<(&Token, &RefreshHint)>,
    refresh_token: &str,
    now: u64,
) -> Result<Response> {
    let sid = old.and_then(|(_, h)| h.session.clone());
    let call = SessionCall {
        refresh_token: refresh_token.to_owned(),
        sid: sid.clone(),
        sub: old.and_then(|(t, _)| t.claims.sub.clone()),
        iat: old.and_then(|(t, _)| t.claims.iat),
        ..SessionCall::default()
    };
    let answer = refresh::ask(
        env,
        &refresh::object_name(sid.as_deref(), refresh_token),
        &call,
    )
    .await;
    let (access_token, new_refresh_token, cap_ends_at) = match answer {
        Answer::Fresh {
            access_token,
            refresh_token,
            cap_ends_at,
        } => (access_token, refresh_token, cap_ends_at),
        Answer::Refused {
            refusal,
            sid: refused_sid,
        } => {
            let sid = refused_sid.or(sid);
            if refusal == Refusal::RefreshReused {
                if let Some(sid) = &sid {
                    // At once in this isolate: the family's newer access tokens die here now.
                    let expiration = store::session_expiration(
                        now,
                        config.policy.leeway,
                        config.policy.max_lifetime,
                    );
                    store::remember_write(
                        Entry::Revoked {
                            kind: Kind::Sid,
                            id: sid.clone(),
                            expiration,
                        },
                        now,
                    );
                }
            }
            let who = Who {
                class: Some("session"),
                sub: old.and_then(|(t, _)| t.claims.sub.as_deref()),
                jti: old.and_then(|(t, _)| t.claims.jti.as_deref()),
                sid: sid.as_deref(),
            };
            let resp = match refusal.denial() {
                Some(d) => deny_as(&d, who)?,
                None => {
                    audit(
                        json!({"event": "deny", "code": refresh::INVALID_GRANT_CODE, "status": 401, "class": "session", "sub": who.sub, "sid": who.sid}),
                    );
                    auth_error(
                        401,
                        "invalid_token",
                        refresh::INVALID_GRANT_CODE,
                        "the session can no longer be refreshed",
                        None,
                    )?
                }
            };
            return with_cookies(resp, &cleared_cookies(config, rc));
        }
        Answer::Unavailable { status, reason } => {
            audit(
                json!({"event": "refresh_unavailable", "status": status, "reason": reason, "sid": sid}),
            );
            // Ahead of expiry the presented token still serves: refresh again next time.
            if let Some((token, _)) = old.filter(|(_, h)| !h.expired) {
                if let Verdict::Allow(mut grant) =
                    config
                        .policy
                        .evaluate(token, now, RevocationStatus::NotRevoked)
                {
                    grant.class = TokenClass::Session;
                    return allow(req, config, &grant, None).await;
                }
            }
            // Cookies kept, session kept: a transient fault never logs anyone out.
            let (error, code) = if status == 502 {
                ("bad_gateway", "refresh_upstream_error")
            } else {
                ("temporarily_unavailable", "refresh_unavailable")
            };
            let mut resp = json_response(
                status,
                &json!({"error": error, "code": code, "error_description": "the session could not be refreshed now; retry"}),
            )?;
            resp.headers_mut().set("retry-after", "1")?;
            return Ok(resp);
        }
    };
    deliver(
        req,
        env,
        config,
        rc,
        session,
        sid.as_deref(),
        &access_token,
        &new_refresh_token,
        cap_ends_at,
        // The clock again: the new token was minted during the refresh, perhaps a second later.
        unix_now(),
    )
    .await
}

/// Serves the request with a freshly refreshed pair: the new access token is verified and
/// checked like any other, the origin receives it (identity headers and `Cookie`), and the
/// answer sets both cookies for as long as the session may live.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    req: Request,
    env: &Env,
    config: &Config,
    rc: &RefreshConfig,
    session: &Session<'_>,
    sid: Option<&str>,
    access_token: &str,
    refresh_token: &str,
    cap_ends_at: u64,
    now: u64,
) -> Result<Response> {
    let bad_pair = |why: &str| {
        audit(json!({"event": "refresh_bad_token", "sid": sid, "reason": why}));
        json_response(
            502,
            &json!({"error": "bad_gateway", "code": "refresh_upstream_error", "error_description": "the origin issued an unusable token"}),
        )
    };
    let Some(access_cookie) = config.access_cookie.as_deref() else {
        return bad_pair("no access cookie configured");
    };
    if !refresh::cookie_safe(access_token) || !refresh::cookie_safe(refresh_token) {
        return bad_pair("a new token cannot travel in a cookie");
    }
    let token = match crate::verify::verified(access_token, env, config, now).await {
        Ok(t) => t,
        Err(d) => return bad_pair(d.code()),
    };
    if let Err(d) = config.policy.check(&token, now) {
        return bad_pair(d.code());
    }
    if sid.is_some() && token.claims.sid.as_deref() != sid {
        return bad_pair("the new access token names another session");
    }
    let max_age = refresh::cookie_max_age(cap_ends_at, now);
    let set = [
        oauth::set_cookie(access_cookie, access_token, max_age),
        oauth::set_cookie(&rc.cookie, refresh_token, max_age),
    ];
    let status = revocation_status(env, config, &token, now).await;
    match config.policy.evaluate(&token, now, status) {
        Verdict::Allow(mut grant) => {
            grant.class = TokenClass::Session;
            let cookie = refresh::rewrite_cookie_header(
                session.cookies,
                (access_cookie, access_token),
                (&rc.cookie, refresh_token),
            );
            let resp = allow(req, config, &grant, Some(&cookie)).await?;
            with_cookies(resp, &set)
        }
        Verdict::Deny(d) => {
            let resp = deny(&d, Some(&token))?;
            if d.status() == 503 {
                // Not the pair's fault: keep it, or the rotation would be lost.
                with_cookies(resp, &set)
            } else {
                with_cookies(resp, &cleared_cookies(config, rc))
            }
        }
        Verdict::Refresh(_) => bad_pair("unreachable: evaluate never asks for a refresh"),
    }
}

/// `Set-Cookie` values that delete both session cookies.
fn cleared_cookies(config: &Config, rc: &RefreshConfig) -> Vec<String> {
    let mut out = vec![oauth::clear_cookie(&rc.cookie)];
    if let Some(access) = &config.access_cookie {
        out.insert(0, oauth::clear_cookie(access));
    }
    out
}

/// The response with `Set-Cookie` headers added (a fetched response's headers are immutable:
/// copied first).
fn with_cookies(resp: Response, cookies: &[String]) -> Result<Response> {
    let headers = Headers(web_sys::Headers::new_with_headers(&resp.headers().0)?);
    for c in cookies {
        headers.append("set-cookie", c)?;
    }
    Ok(resp.with_headers(headers))
}

/// The store's verdict on the token's ids (snapshot first, KV only on a "maybe"). With
/// `WARDEN_FAIL_MODE=open`, a store that cannot answer lets the token through, audited; a
/// definite revocation is never overridden.
async fn revocation_status(
    env: &Env,
    config: &Config,
    token: &Token,
    now: u64,
) -> RevocationStatus {
    let ids = RevocationIds::of(token);
    let answers = store::answers(env, config.snapshot_seconds, &ids, now).await;
    let status = ids.interpret(&answers);
    if status == RevocationStatus::Unavailable && config.fail_mode == FailMode::Open {
        audit(json!({
            "event": "fail_open_allow",
            "class": "access",
            "sub": ids.sub,
            "sid": ids.sid,
            "jti": ids.jti,
            "kid": ids.kid,
        }));
        return RevocationStatus::NotRevoked;
    }
    status
}

async fn protect_pat(
    req: Request,
    env: &Env,
    config: &Config,
    token: &str,
    now: u64,
) -> Result<Response> {
    match pat::present(env, &config.pat_prefix, token, config.snapshot_seconds, now).await {
        Presented::Verdict(Verdict::Allow(grant), _) => allow(req, config, &grant, None).await,
        Presented::Verdict(Verdict::Deny(d), record) => deny_as(
            &d,
            Who {
                class: Some("pat"),
                sub: Some(&record.sub),
                jti: Some(&record.id),
                sid: None,
            },
        ),
        Presented::Verdict(Verdict::Refresh(_), record) => deny_as(
            &Denial::Expired {
                exp: record.expires_at,
                now,
            },
            Who {
                class: Some("pat"),
                sub: Some(&record.sub),
                jti: Some(&record.id),
                sid: None,
            },
        ),
        Presented::Unknown => {
            audit(json!({"event": "deny", "code": "token_unknown", "status": 401, "class": "pat"}));
            auth_error(401, "invalid_token", "token_unknown", "unknown token", None)
        }
        Presented::Unavailable => deny_as(
            &Denial::StoreUnavailable,
            Who {
                class: Some("pat"),
                ..Who::default()
            },
        ),
    }
}

/// After an allow: the `WARDEN_ROUTES` scope check, then the origin (with `cookie` as the
/// `Cookie` header after a refresh).
async fn allow(
    req: Request,
    config: &Config,
    grant: &Grant,
    cookie: Option<&str>,
) -> Result<Response> {
    let required = config.required_scopes(&req.path());
    let missing = identity::missing_scopes(grant, &required);
    if !missing.is_empty() {
        let scope = missing.join(" ");
        audit(json!({
            "event": "deny",
            "code": "insufficient_scope",
            "status": 403,
            "class": grant.class.name(),
            "sub": grant.subject,
            "jti": grant.token_id,
            "sid": grant.session,
            "scope": scope,
        }));
        return auth_error(
            403,
            "insufficient_scope",
            "insufficient_scope",
            "the token lacks a scope this path requires",
            Some(&scope),
        );
    }
    forward(req, config, Some(grant), cookie).await
}

/// Forwards the request to the origin: method, path, query and body untouched; client
/// `x-warden-*` headers removed; identity headers (after an allow) and `x-warden-auth` (when
/// `WARDEN_ORIGIN_SECRET` is set) added; `cookie` replaces the `Cookie` header (after a
/// refresh). The origin's answer, errors included, passes through.
async fn forward(
    req: Request,
    config: &Config,
    grant: Option<&Grant>,
    cookie: Option<&str>,
) -> Result<Response> {
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
    for (name, value) in identity::identity_headers(grant, config.origin_secret.as_deref()) {
        headers.set(name, &value)?;
    }
    if let Some(cookie) = cookie {
        headers.set("cookie", cookie)?;
    }

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

/// Who a denial concerns, for the audit line.
#[derive(Default)]
struct Who<'a> {
    class: Option<&'static str>,
    sub: Option<&'a str>,
    jti: Option<&'a str>,
    sid: Option<&'a str>,
}

/// The denial of a JWT. An expired one also carries `x-warden-refresh: due`: the client
/// should refresh (a bearer client with its own refresh token; the edge refreshes cookie
/// sessions itself).
fn deny(d: &Denial, token: Option<&Token>) -> Result<Response> {
    let claims = token.map(|t| &t.claims);
    let mut resp = deny_as(
        d,
        Who {
            class: token.map(|_| "access"),
            sub: claims.and_then(|c| c.sub.as_deref()),
            jti: claims.and_then(|c| c.jti.as_deref()),
            sid: claims.and_then(|c| c.sid.as_deref()),
        },
    )?;
    if matches!(d, Denial::Expired { .. }) {
        resp.headers_mut()
            .set(refresh::REFRESH_HINT_HEADER, "due")?;
    }
    Ok(resp)
}

/// The RFC 6750 response for `d`, with one audit line (`reject_expired_token` for an expired
/// token, `deny` otherwise).
fn deny_as(d: &Denial, who: Who<'_>) -> Result<Response> {
    let event = if matches!(d, Denial::Expired { .. }) {
        "reject_expired_token"
    } else {
        "deny"
    };
    audit(json!({
        "event": event,
        "code": d.code(),
        "status": d.status(),
        "class": who.class,
        "sub": who.sub,
        "jti": who.jti,
        "sid": who.sid,
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

/// An RFC 6750 error the core has no denial for (`token_unknown`, `insufficient_scope`).
fn auth_error(
    status: u16,
    error: &str,
    code: &str,
    description: &str,
    scope: Option<&str>,
) -> Result<Response> {
    let mut body = json!({"error": error, "code": code, "error_description": description});
    let mut challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
        challenge.push_str(&format!(", scope=\"{scope}\""));
    }
    let mut resp = json_response(status, &body)?;
    resp.headers_mut().set("www-authenticate", &challenge)?;
    Ok(resp)
}

// ---------------------------------------------------------------------------------------------
// The admin API

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
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Post, "/_warden/revoke") => {
            let body = match read_body(&mut req).await? {
                Ok(body) => body,
                Err(resp) => return Ok(resp),
            };
            match admin::parse_revoke(&body) {
                Ok(revoke) => revoke_request(env, config, revoke, now).await,
                Err(why) => bad_request(&why),
            }
        }
        (Method::Get, "/_warden/revocations") => {
            let url = req.url()?;
            let sub = match required_sub(&url) {
                Ok(sub) => sub,
                Err(why) => return bad_request(&why),
            };
            match store::list_index(env, &sub, &["jti", "sid", "sub"], cursor(&url)).await {
                Ok((items, next)) => json_response(
                    200,
                    &json!({"sub": sub, "revocations": items, "cursor": next}),
                ),
                Err(e) => store_unavailable("list", &e),
            }
        }
        (Method::Post, "/_warden/pats") => {
            let body = match read_body(&mut req).await? {
                Ok(body) => body,
                Err(resp) => return Ok(resp),
            };
            let request = match admin::parse_pat_request(&body, now) {
                Ok(r) => r,
                Err(why) => return bad_request(&why),
            };
            match pat::issue(env, &config.pat_prefix, request, now).await {
                Ok(reply) => json_response(201, &reply),
                Err(e) => store_unavailable("put", &e),
            }
        }
        (Method::Get, "/_warden/pats") => {
            let url = req.url()?;
            let sub = match required_sub(&url) {
                Ok(sub) => sub,
                Err(why) => return bad_request(&why),
            };
            match pat::list(env, &sub, cursor(&url)).await {
                Ok((items, next)) => {
                    json_response(200, &json!({"sub": sub, "pats": items, "cursor": next}))
                }
                Err(e) => store_unavailable("list", &e),
            }
        }
        (Method::Get, "/_warden/sessions") => {
            let url = req.url()?;
            let sub = match required_sub(&url) {
                Ok(sub) => sub,
                Err(why) => return bad_request(&why),
            };
            match store::list_index(env, &sub, &["session"], cursor(&url)).await {
                Ok((items, next)) => {
                    json_response(200, &json!({"sub": sub, "sessions": items, "cursor": next}))
                }
                Err(e) => store_unavailable("list", &e),
            }
        }
        (Method::Get, "/_warden/health") => json_response(
            200,
            &json!({
                "ok": true,
                "now": now,
                "config": config.summary(),
                "jwks": jwks_health(now),
                "snapshot": store::snapshot_status(now),
            }),
        ),
        (_, "/_warden/revoke") => method_not_allowed("POST"),
        (_, "/_warden/pats") => method_not_allowed("GET, POST"),
        (_, "/_warden/revocations" | "/_warden/health" | "/_warden/sessions") => {
            method_not_allowed("GET")
        }
        _ => json_response(404, &json!({"error": "not_found"})),
    }
}

/// The fetched JWKS as this isolate holds it (`keys::jwks_status`); `null` before the first
/// fetch (or with inline keys only).
fn jwks_health(now: u64) -> Value {
    match crate::keys::jwks_status(now) {
        Some(s) => json!({
            "fetched": true,
            "age_seconds": s.age,
            "fetched_at": s.fetched_at,
            "fresh_until": s.fresh_until,
            "kids": s.kids,
            "fetches": s.fetches,
            "failures": s.failures,
        }),
        None => json!({"fetched": false, "age_seconds": null}),
    }
}

fn required_sub(url: &worker::Url) -> std::result::Result<String, String> {
    admin::query_id(url.query_pairs(), "sub")?
        .ok_or_else(|| "query parameter `sub` is required".to_owned())
}

fn cursor(url: &worker::Url) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

fn method_not_allowed(allow: &str) -> Result<Response> {
    let mut resp = json_response(405, &json!({"error": "method_not_allowed", "allow": allow}))?;
    resp.headers_mut().set("allow", allow)?;
    Ok(resp)
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

fn store_unavailable(op: &str, e: &worker::Error) -> Result<Response> {
    audit(json!({"event": "store_error", "op": op, "error": e.to_string()}));
    json_response(
        503,
        &json!({"error": "temporarily_unavailable", "error_description": "revocation store unavailable"}),
    )
}

/// Writes one revocation record (and the subject's index entry), then audits it.
async fn put_revocation(
    env: &Env,
    kind: Kind,
    id: &str,
    expiration: Option<u64>,
    sub: Option<&str>,
    now: u64,
) -> Result<()> {
    store::put_revocation(env, kind, id, expiration, now).await?;
    if let Some(sub) = sub {
        let entry =
            json!({"kind": kind.name(), "id": id, "revoked_at": now, "expires_at": expiration});
        store::put_index(&store::kv(env)?, sub, kind.name(), id, &entry, expiration).await?;
    }
    audit(
        json!({"event": "revoke", "kind": kind.name(), "id": id, "sub": sub, "expires_at": expiration}),
    );
    Ok(())
}

/// `POST /_warden/revoke`: answers 200 only after the write returned.
async fn revoke_request(env: &Env, config: &Config, revoke: Revoke, now: u64) -> Result<Response> {
    let leeway = config.policy.leeway;
    let max_lifetime = config.policy.max_lifetime;
    match revoke {
        Revoke::Jti { jti, exp, sub } => {
            let expires_at = store::token_expiration(exp, now, leeway, max_lifetime);
            match put_revocation(env, Kind::Jti, &jti, Some(expires_at), sub.as_deref(), now).await
            {
                Ok(()) => json_response(
                    200,
                    &json!({"ok": true, "jti": jti, "expires_at": expires_at}),
                ),
                Err(e) => store_unavailable("put", &e),
            }
        }
        Revoke::Sid { sid, sub } => {
            let expires_at = store::session_expiration(now, leeway, max_lifetime);
            if let Err(e) =
                put_revocation(env, Kind::Sid, &sid, Some(expires_at), sub.as_deref(), now).await
            {
                return store_unavailable("put", &e);
            }
            if let Err(e) =
                end_session(env, config, &sid, sub.as_deref(), Refusal::SessionRevoked).await
            {
                return store_unavailable("end_session", &e);
            }
            json_response(
                200,
                &json!({"ok": true, "sid": sid, "expires_at": expires_at}),
            )
        }
        Revoke::Kid { kid } => match put_revocation(env, Kind::Kid, &kid, None, None, now).await {
            Ok(()) => json_response(200, &json!({"ok": true, "kid": kid, "expires_at": null})),
            Err(e) => store_unavailable("put", &e),
        },
        Revoke::Subject { sub, before } => {
            let before = before.unwrap_or(now);
            if before > now.saturating_add(leeway) {
                return bad_request(&format!(
                    "field `before` must not be later than now + leeway ({})",
                    now.saturating_add(leeway)
                ));
            }
            let request = CutoffRequest {
                sub,
                before,
                leeway,
                max_lifetime,
            };
            match subject::raise_cutoff(env, &request).await {
                Ok(cutoff) => {
                    store::remember_write(
                        Entry::Cutoff {
                            sub: request.sub.clone(),
                            before: cutoff.before,
                        },
                        now,
                    );
                    audit(
                        json!({"event": "revoke", "kind": "sub", "id": request.sub, "before": cutoff.before, "expires_at": cutoff.expires_at}),
                    );
                    // And every session the edge has seen for the subject: no more refreshes.
                    let ended = match end_subject_sessions(env, config, &request.sub, cutoff.before)
                        .await
                    {
                        Ok(n) => n,
                        Err(e) => return store_unavailable("end_session", &e),
                    };
                    json_response(
                        200,
                        &json!({"ok": true, "sub": request.sub, "before": cutoff.before, "expires_at": cutoff.expires_at, "sessions_ended": ended}),
                    )
                }
                Err(e) => store_unavailable("cutoff", &e),
            }
        }
        Revoke::Token {
            token,
            refresh_hint,
        } => revoke_presented(env, config, &token, refresh_hint, now).await,
        Revoke::Pat { id } => match pat::revoke_id(env, &id, now).await {
            Ok(Some(record)) => json_response(
                200,
                &json!({"ok": true, "pat": record.id, "sub": record.sub}),
            ),
            Ok(None) => json_response(
                404,
                &json!({"error": "not_found", "error_description": "no PAT with this id"}),
            ),
            Err(e) => store_unavailable("put", &e),
        },
    }
}

/// RFC 7009: a presented token is revoked by what it names — a PAT by its digest, a JWT by its
/// `jti` and, for a refresh token, its `sid` (which ends every token of the session). The
/// answer is 200 even for a token that is unknown or not a token at all; the signature is not
/// checked (the caller is the administrator, who may revoke any id anyway).
async fn revoke_presented(
    env: &Env,
    config: &Config,
    token: &str,
    refresh_hint: bool,
    now: u64,
) -> Result<Response> {
    let mut revoked = Map::new();
    if credentials::is_pat(token, &config.pat_prefix) {
        match pat::revoke_token(env, &config.pat_prefix, token, now).await {
            Ok(Some(record)) => {
                revoked.insert("pat".into(), json!(record.id));
            }
            Ok(None) => {}
            Err(e) => return store_unavailable("put", &e),
        }
        return json_response(200, &json!({"ok": true, "revoked": revoked}));
    }
    let Ok(parsed) = parse(token) else {
        return json_response(200, &json!({"ok": true, "revoked": revoked}));
    };
    let c = &parsed.claims;
    let leeway = config.policy.leeway;
    let max_lifetime = config.policy.max_lifetime;
    if let Some(jti) = &c.jti {
        let expires_at = store::token_expiration(c.exp, now, leeway, max_lifetime);
        if let Err(e) =
            put_revocation(env, Kind::Jti, jti, Some(expires_at), c.sub.as_deref(), now).await
        {
            return store_unavailable("put", &e);
        }
        revoked.insert("jti".into(), json!(jti));
    }
    if refresh_hint || is_refresh_token(config, &parsed) {
        if let Some(sid) = &c.sid {
            let expires_at = store::session_expiration(now, leeway, max_lifetime);
            if let Err(e) =
                put_revocation(env, Kind::Sid, sid, Some(expires_at), c.sub.as_deref(), now).await
            {
                return store_unavailable("put", &e);
            }
            if let Err(e) =
                end_session(env, config, sid, c.sub.as_deref(), Refusal::SessionRevoked).await
            {
                return store_unavailable("end_session", &e);
            }
            revoked.insert("sid".into(), json!(sid));
        }
    }
    json_response(200, &json!({"ok": true, "revoked": revoked}))
}

/// Ends a session at its object (refresh on): every later refresh of it is refused.
async fn end_session(
    env: &Env,
    config: &Config,
    sid: &str,
    sub: Option<&str>,
    reason: Refusal,
) -> Result<()> {
    if config.refresh.is_none() {
        return Ok(());
    }
    let call = SessionCall {
        sid: Some(sid.to_owned()),
        sub: sub.map(str::to_owned),
        reason: Some(reason),
        ..SessionCall::default()
    };
    refresh::end(env, &call).await
}

/// Most index pages read when ending a subject's sessions (1000 sessions each).
const MAX_SESSION_PAGES: usize = 10;

/// Ends every session of `sub` the edge has seen (its KV index); returns how many were live.
async fn end_subject_sessions(env: &Env, config: &Config, sub: &str, before: u64) -> Result<usize> {
    if config.refresh.is_none() {
        return Ok(0);
    }
    let mut ended = 0;
    let mut cursor = None;
    for _ in 0..MAX_SESSION_PAGES {
        let (items, next) = store::list_index(env, sub, &["session"], cursor).await?;
        let live: Vec<String> = items
            .iter()
            .filter(|m| m.get("ended").is_none_or(Value::is_null))
            .filter_map(|m| m.get("sid").and_then(Value::as_str).map(str::to_owned))
            .collect();
        for sid in &live {
            end_session(
                env,
                config,
                sid,
                Some(sub),
                Refusal::SubjectRevoked { before },
            )
            .await?;
        }
        ended += live.len();
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(ended)
}

/// A token is taken for a refresh token when `WARDEN_ACCESS_TYP` is set and its `typ` differs.
fn is_refresh_token(config: &Config, token: &Token) -> bool {
    fn bare(t: &str) -> String {
        let t = t.to_ascii_lowercase();
        t.strip_prefix("application/")
            .map(str::to_owned)
            .unwrap_or(t)
    }
    match (&config.policy.typ, &token.header.typ) {
        (Some(access), Some(typ)) => bare(access) != bare(typ),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn json_response(status: u16, body: &Value) -> Result<Response> {
    let mut resp = Response::from_json(body)?.with_status(status);
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

/// One structured JSON line per security-relevant event: ids, never secrets.
fn audit(event: Value) {
    crate::audit::audit(event);
}
