//! Test-only routes under `/__warden/` (feature `testing`; `bench` implies it). A production
//! build has none of this: `scripts/bench-worker.sh` builds these into `build-bench/`.
//!
//! - `POST /__warden/verify-vector` with `{"jwk", "alg", "msg", "sig"}` (hex message and
//!   signature), or `{"cases": [...]}` of those: loads the JWK with the production loader
//!   (`KeySet::from_jwks`) and checks the signature with the production signature step
//!   ([`crate::verify::check_signature`]). Answers `{"result": "ok" | "fail" | "key_refused"}`
//!   (or `{"results": [...]}`).
//! - `GET /__warden/stats`: the verified-token cache's counters, the fetched JWKS's state and
//!   the occupancy of the isolate's DPoP replay table.
//! - `POST /__warden/bench` (feature `bench`): see `bench.rs`.

use serde_json::{json, Value};
use warden_core::{Algorithm, KeySet};
use worker::{Context, Env, Method, Request, Response, Result};

use crate::config::Config;
use crate::{keys, verify};

pub(crate) async fn route(
    mut req: Request,
    env: &Env,
    config: &Config,
    ctx: &Context,
    now: u64,
) -> Result<Response> {
    let _ = (env, config, ctx);
    match (req.method(), req.path().as_str()) {
        (Method::Post, "/__warden/verify-vector") => {
            let body: Value = match req.json().await {
                Ok(v) => v,
                Err(e) => return Response::error(format!("bad JSON: {e}"), 400),
            };
            match body.get("cases").and_then(Value::as_array) {
                Some(cases) => {
                    let mut results = Vec::with_capacity(cases.len());
                    for case in cases {
                        results.push(one_vector(case).await);
                    }
                    Response::from_json(&json!({ "results": results }))
                }
                None => Response::from_json(&one_vector(&body).await),
            }
        }
        (Method::Get, "/__warden/stats") => {
            let cache = verify::cache_stats();
            let jwks = keys::jwks_status(now).map(|s| {
                json!({
                    "kids": s.kids,
                    "fetched_at": s.fetched_at,
                    "age": s.age,
                    "fresh_until": s.fresh_until,
                    "fetches": s.fetches,
                    "failures": s.failures,
                })
            });
            let replay = crate::replay::occupancy(now);
            Response::from_json(&json!({
                "verified_cache": {"hits": cache.hits, "misses": cache.misses, "entries": cache.entries},
                "jwks": jwks,
                "dpop_replay": {"capacity": replay.capacity, "held": replay.held, "live": replay.live, "sweeps": replay.sweeps},
            }))
        }
        #[cfg(feature = "bench")]
        (Method::Post, "/__warden/bench") => crate::bench::run(req, env, config, ctx).await,
        _ => Response::error("no such test route", 404),
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

async fn one_vector(case: &Value) -> Value {
    let field = |name: &str| case.get(name).and_then(Value::as_str);
    let (Some(alg), Some(msg), Some(sig)) = (
        field("alg").and_then(Algorithm::from_name),
        field("msg").and_then(hex),
        field("sig").and_then(hex),
    ) else {
        return json!({"result": "error", "reason": "alg, msg (hex) and sig (hex) are required"});
    };
    let jwks = json!({ "keys": [case.get("jwk").cloned().unwrap_or(Value::Null)] }).to_string();
    let set = match KeySet::from_jwks(&jwks) {
        Ok(set) => set,
        Err(e) => return json!({"result": "key_refused", "reason": e.to_string()}),
    };
    let Some(key) = set.keys().first() else {
        return json!({"result": "key_refused", "reason": "no key"});
    };
    if key.alg != alg {
        return json!({"result": "key_refused", "reason": format!("the key is bound to {}", key.alg)});
    }
    match verify::check_signature(key, &msg, &sig).await {
        Ok(()) => json!({"result": "ok"}),
        Err(_) => json!({"result": "fail"}),
    }
}
