//! The worker's entry points. The JavaScript entry module (`worker/js/entry.mjs`, built as
//! `build/index.js`) receives every request and asks [`warden_decide`] what to do with it; it
//! forwards allowed requests itself and hands the admin API, the event receivers and test routes
//! to the workers-rs fetch handler here. The cron trigger and the Durable Object stay in workers-rs.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};

use warden_core::{path_and_query, RequestFacts};
use wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue};
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use crate::audit::{audit, AuditEvent};
use crate::config::{Config, ConfigError};
use crate::fields::fields;
use crate::handoff;
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
/// most requests). A decision that waits for a WebCrypto signature check answers `[promise,
/// index]`: the entry module awaits the promise and calls [`warden_resume`] with that pair and
/// how it settled, which answers in any of these forms again ([`handoff`]). Otherwise a
/// `Promise` of the answer.
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
    let decision: Decision = Box::pin(async move {
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
    Ok(step(decision, Arc::new(Relay::default()), true)?)
}

/// A decision for the entry module: what to answer, and whether the answer may be replayed.
type Decision = Pin<Box<dyn Future<Output = Result<(JsValue, bool)>>>>;

/// A decision waiting for the promise it handed out ([`handoff`]), by the index the entry
/// module is given; the promise is kept to check that the answer is for it.
type Waiting = (Decision, Arc<Relay>, js_sys::Promise, handoff::Slot);

/// At most this many decisions wait for the entry module at once (a request abandoned while
/// its promise was out would otherwise hold its decision for the isolate's life); beyond it, a
/// decision awaits its promise in a task, as before.
const SUSPENDED_MAX: usize = 1024;

thread_local! {
    static SUSPENDED: RefCell<Vec<Option<Waiting>>> = const { RefCell::new(Vec::new()) };
}

/// Polls `decision` once for the entry module. Ready: the answer (replayable only when
/// `first`: it waited for nothing). Waiting for a promise handed out ([`handoff`]): `[promise,
/// index]` — the entry module awaits the promise and calls [`warden_resume`] with that pair.
/// Waiting for anything else: a `Promise` of the answer, the decision going on in a task.
fn step(mut decision: Decision, relay: Arc<Relay>, first: bool) -> Result<JsValue> {
    let waker = Waker::from(Arc::clone(&relay));
    let (poll, handed) = handoff::open(|| {
        decision
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker))
    });
    match (poll, handed) {
        (Poll::Ready(answer), _) => flagged(answer, first),
        (Poll::Pending, Some((promise, slot))) => {
            let index = SUSPENDED.with(|s| {
                let s = s.borrow();
                let free = s.iter().position(Option::is_none);
                free.or((s.len() < SUSPENDED_MAX).then_some(s.len()))
            });
            let Some(index) = index else {
                return Ok(in_task(decision, relay, Some((promise, slot))));
            };
            let waiting = Some((decision, relay, promise.clone(), slot));
            SUSPENDED.with(|s| {
                let mut s = s.borrow_mut();
                match s.get_mut(index) {
                    Some(entry) => *entry = waiting,
                    None => s.push(waiting),
                }
            });
            Ok(js_sys::Array::of2(&promise, &JsValue::from(index as u32)).into())
        }
        (Poll::Pending, None) => Ok(in_task(decision, relay, None)),
    }
}

/// The entry module's answer for a promise [`warden_decide`] handed out: `handed`, the
/// `[promise, index]` it was given, `fulfilled` and the value the promise settled with (or the
/// reason it was rejected). Goes on with the decision waiting for it, and answers as
/// [`warden_decide`] does (never a replayable answer: it waited). The promise must be the one
/// handed out with that index: after a fault the module starts over, indices with it, and an
/// answer meant for a decision of before must never reach another.
#[wasm_bindgen]
pub fn warden_resume(
    handed: js_sys::Array,
    fulfilled: bool,
    value: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let promise = handed.get(0);
    let index = handed.get(1).as_f64().map(|i| i as usize);
    let waiting = SUSPENDED.with(|s| {
        let mut s = s.borrow_mut();
        let entry = s.get_mut(index?)?;
        let (_, _, expected, _) = entry.as_ref()?;
        if JsValue::from(expected) != promise {
            return None;
        }
        entry.take()
    });
    let Some((decision, relay, _, slot)) = waiting else {
        return Err(JsValue::from_str(
            "warden_resume: no decision waits for this promise",
        ));
    };
    *slot.borrow_mut() = Some(if fulfilled { Ok(value) } else { Err(value) });
    Ok(step(decision, relay, false)?)
}

/// Goes on with `decision` in a task (`future_to_promise`), after awaiting the promise it was
/// handed, if any; wakers taken during earlier polls reach the task through the relay (some
/// futures, like `worker::Delay`, keep the first waker they see).
fn in_task(
    mut decision: Decision,
    relay: Arc<Relay>,
    handed: Option<(js_sys::Promise, handoff::Slot)>,
) -> JsValue {
    wasm_bindgen_futures::future_to_promise(async move {
        if let Some((promise, slot)) = handed {
            let settlement = wasm_bindgen_futures::JsFuture::from(promise).await;
            *slot.borrow_mut() = Some(settlement);
        }
        std::future::poll_fn(move |cx| {
            relay.follow(cx.waker());
            decision
                .as_mut()
                .poll(cx)
                .map(|answer| Ok(flagged(answer, false)?))
        })
        .await
    })
    .into()
}

/// The answer for the entry module: a forward plan gets its replay flag line (`1` only for an
/// answer of the first poll that the decision marked replayable).
fn flagged(answer: Result<(JsValue, bool)>, first: bool) -> Result<JsValue> {
    let (value, replayable) = answer?;
    Ok(match value.as_string() {
        Some(plan) => {
            let flag = if first && replayable { "1\n" } else { "0\n" };
            JsValue::from_str(&(flag.to_owned() + &plan))
        }
        None => value,
    })
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
