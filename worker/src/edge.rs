//! The fetch and scheduled handlers and the request path: routing, credentials, revocation,
//! forwarding, deny responses. The admin API is [`crate::admin`]'s.

use std::cell::RefCell;

use serde_json::json;
use warden_core::{Denial, Grant, RefreshHint, RevocationIds, RevocationStatus, Token};
use warden_core::{TokenClass, Verdict};
use worker::{
    event, wasm_bindgen::JsValue, Context, Env, Fetch, Headers, Method, Request, RequestInit,
    RequestRedirect, Response, Result, ScheduleContext, ScheduledEvent,
};

use crate::admin;
use crate::audit::{audit_named as audit, AuditEvent};
use crate::config::{Config, ConfigError, FailMode, RefreshConfig};
use crate::credentials::{self, Source};
use crate::http::json_response;
use crate::identity::{self, IDENTITY_PREFIX};
use crate::oauth;
use crate::pat::{self, Presented};
use crate::refresh::{self, Answer, Refusal, SessionCall};
use crate::runtime::{config, unix_now};
use crate::store::{self, Entry, Kind};

fn config_failed(e: &ConfigError) {
    crate::audit::audit(
        AuditEvent::ConfigError,
        json!({"variable": e.variable, "reason": e.reason}),
    );
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
        return admin::api(req, &env, &config, now).await;
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
        Ok(reaped) => crate::audit::audit(
            AuditEvent::Reap,
            json!({"cron": event.cron(), "reaped": reaped}),
        ),
        Err(e) => crate::audit::audit(
            AuditEvent::StoreError,
            json!({"op": "reap", "error": e.to_string()}),
        ),
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
                if let Ok(mut grant) =
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
        Ok(mut grant) => {
            grant.class = TokenClass::Session;
            let cookie = refresh::rewrite_cookie_header(
                session.cookies,
                (access_cookie, access_token),
                (&rc.cookie, refresh_token),
            );
            let resp = allow(req, config, &grant, Some(&cookie)).await?;
            with_cookies(resp, &set)
        }
        Err(d) => {
            let resp = deny(&d, Some(&token))?;
            if d.status() == 503 {
                // Not the pair's fault: keep it, or the rotation would be lost.
                with_cookies(resp, &set)
            } else {
                with_cookies(resp, &cleared_cookies(config, rc))
            }
        }
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
