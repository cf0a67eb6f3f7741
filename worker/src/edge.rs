//! The worker's entry points. The JavaScript entry module (`worker/js/entry.mjs`, built as
//! `build/index.js`) receives every request and asks [`warden_decide`] what to do with it; it
//! forwards allowed requests itself and hands the admin API, the event receivers and test routes
//! to the workers-rs fetch handler here. The cron trigger and the Durable Object stay in workers-rs.

use std::future::Future as _;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};

use warden_core::{path_and_query, RequestFacts};
use wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue};
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use crate::audit::{audit, AuditEvent};
use crate::config::{Config, ConfigError};
use crate::fields::fields;
use crate::http::json_object;
use crate::pat;
use crate::protect::{self, Outcome};
use crate::respond::origin_unreachable;
use crate::runtime::{config, unix_now};

fn config_failed(e: &ConfigError) {
    audit(
        AuditEvent::ConfigError,
        &fields! {"variable": e.variable, "reason": e.reason},
    );
}

/// The isolate's configuration, or the 500 answer (audited) when it is broken.
fn configured(env: &Env) -> std::result::Result<std::rc::Rc<Config>, Result<Response>> {
    config(env).map_err(|e| {
        config_failed(&e);
        json_object(
            500,
            &fields! {"error": "server_error", "error_description": "worker misconfigured"},
        )
    })
}

/// The request path for the entry module, from the few strings it reads off the request:
/// `null` — hand the request to the workers-rs fetch handler (the admin API, the event
/// receivers, test routes);
/// a `Response` — answer with it (a refusal, already audited);
/// a string — forward, as lines: `1` when the entry module may replay this answer for an
/// identical request (below), `0` otherwise; the origin's URL; the request's header names to
/// drop (space-separated); the number `n` of headers to set; `n` name and value line pairs;
/// then name and value line pairs of headers to add to the origin's answer (`Set-Cookie` after
/// a refresh, `DPoP-Nonce`). `header_names`: the request's header names, space-separated (as
/// `Headers.keys()` gives them). `dpop`: the `DPoP` header (repeated ones joined by `, `);
/// `client_cert`: a function that returns the SHA-256 fingerprint (hex) of the client
/// certificate the zone verified, or `null`; called only for a token bound to a certificate
/// (reading `request.cf` is costly: [`protect::ClientCert`]).
///
/// Answered synchronously when no I/O is needed (a cached token, a fresh revocation snapshot:
/// most requests); otherwise a `Promise` of the same.
///
/// Replay: a forward decided without I/O and without side effects ([`Upstream::replayable`])
/// is a function of these arguments, the configuration, the clock's second and the state
/// [`epoch`](crate::epoch) — so the entry module may answer an identical request with it while
/// the second and [`warden_epoch`] are unchanged. An answer that waited for I/O is never
/// replayable, nor is one of a sender-constrained token (a DPoP proof is used up once; the
/// entry module's key holds `dpop` too). The client certificate is not in the key: only a
/// token bound to a certificate depends on it, and its decision is never replayable.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn warden_decide(
    env: JsValue,
    ctx: JsValue,
    method: String,
    url: String,
    authorization: Option<String>,
    cookie: Option<String>,
    preflight: bool,
    header_names: String,
    dpop: Option<String>,
    client_cert: js_sys::Function,
) -> std::result::Result<JsValue, JsValue> {
    let env: Env = env.unchecked_into();
    let mut decision = Box::pin(async move {
        let now = unix_now();
        let config = match configured(&env) {
            Ok(c) => c,
            Err(resp) => return Ok((web_sys::Response::from(resp?).into(), false)),
        };
        let (path, query) = path_and_query(&url);
        #[cfg(feature = "testing")]
        if path.starts_with("/__warden/") {
            return Ok((JsValue::NULL, false));
        }
        let facts = RequestFacts {
            method: &method,
            path,
            authorization: authorization.as_deref(),
            cookies: cookie.as_deref(),
            cors_request_method: preflight,
            url: &url,
            dpop: dpop.as_deref(),
            client_cert: None,
        };
        let ctx = Context::new(ctx.unchecked_into());
        // A function that throws or answers anything but a string: no certificate.
        let cert = || client_cert.call0(&JsValue::NULL).ok()?.as_string();
        match protect::decide(&facts, &env, &config, &ctx, &cert, now).await? {
            Outcome::Admin => Ok((JsValue::NULL, false)),
            Outcome::Answer(resp) => Ok((web_sys::Response::from(resp).into(), false)),
            Outcome::Forward(upstream) => {
                let plan = upstream.plan(&config, path, query, &header_names);
                Ok((JsValue::from_str(&plan), upstream.replayable))
            }
        }
    });
    let flagged = |answer: Result<(JsValue, bool)>, sync: bool| -> Result<JsValue> {
        let (value, replayable) = answer?;
        Ok(match value.as_string() {
            Some(plan) => {
                let flag = if sync && replayable { "1\n" } else { "0\n" };
                JsValue::from_str(&(flag.to_owned() + &plan))
            }
            None => value,
        })
    };
    // Polled once here: every await that needs no I/O completes at once. One that waits goes on
    // in a task (`future_to_promise`); wakers taken during this first poll reach that task
    // through the relay (some futures, like `worker::Delay`, keep the first waker they see).
    let relay = Arc::new(Relay::default());
    let waker = Waker::from(Arc::clone(&relay));
    match decision
        .as_mut()
        .poll(&mut std::task::Context::from_waker(&waker))
    {
        Poll::Ready(answer) => Ok(flagged(answer, true)?),
        Poll::Pending => Ok(
            wasm_bindgen_futures::future_to_promise(std::future::poll_fn(move |cx| {
                relay.follow(cx.waker());
                decision
                    .as_mut()
                    .poll(cx)
                    .map(|answer| Ok(flagged(answer, false)?))
            }))
            .into(),
        ),
    }
}

/// The waker of [`warden_decide`]'s first poll: passes each wake on to the task that went on
/// with the future, once there is one (before that, the task's own first poll comes anyway).
#[derive(Default)]
struct Relay(Mutex<Option<Waker>>);

impl Relay {
    fn follow(&self, waker: &Waker) {
        if let Ok(mut to) = self.0.lock() {
            if !to.as_ref().is_some_and(|w| w.will_wake(waker)) {
                *to = Some(waker.clone());
            }
        }
    }
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let to = self.0.lock().ok().and_then(|to| to.clone());
        if let Some(waker) = to {
            waker.wake();
        }
    }
}

/// The isolate's state [`epoch`](crate::epoch): a replayed answer of [`warden_decide`] holds
/// only while it is unchanged.
#[wasm_bindgen]
pub fn warden_epoch() -> u32 {
    crate::epoch::current()
}

/// The origin could not be reached from the entry module: audited, 502.
#[wasm_bindgen]
pub fn warden_origin_error(error: String) -> std::result::Result<JsValue, JsValue> {
    Ok(web_sys::Response::from(origin_unreachable(&error)?).into())
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let now = unix_now();
    let config = match configured(&env) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    #[cfg(feature = "testing")]
    if req.path().starts_with("/__warden/") {
        return crate::testing::route(req, &env, &config, &ctx, now).await;
    }
    let _ = ctx; // only the test routes use it
    protect::admin_only(req, &env, &config, now).await
}

/// The cron trigger: reaps expired PAT records, then polls the Shared Signals transmitter
/// (`WARDEN_SSF_POLL_URL`, [`crate::poll`]).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let now = unix_now();
    let config = match config(&env) {
        Ok(config) => config,
        Err(e) => return config_failed(&e),
    };
    match pat::reap(&env, now).await {
        Ok(reaped) => audit(
            AuditEvent::Reap,
            &fields! {"cron": event.cron(), "reaped": reaped},
        ),
        Err(e) => audit(
            AuditEvent::StoreError,
            &fields! {"op": "reap", "error": e.to_string()},
        ),
    }
    crate::poll::run(&env, &config, now).await;
}
