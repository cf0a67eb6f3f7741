//! The in-isolate benchmark (feature `bench`; never in a production build). Driven by
//! `scripts/bench-worker.mjs`, next to a jose-based worker doing the same checks.
//!
//! `POST /__warden/bench` with `{"token", "iterations", "mode", "impl"?}`:
//! - `uncached`: Warden's decision for `GET /bench` with the token as a bearer, as the entry
//!   module asks for it (`protect::decide` and the forwarding plan), with the verified-token
//!   cache emptied before every call: SHA-256 of the token, parse, key selection, the
//!   signature, the gate's checks (claims policy, identity), the revocation snapshot lookup,
//!   the identity headers, the plan.
//! - `cached`: the same with the cache kept: a hit, then the same gate, snapshot and plan work.
//! - `signature`: the signature step alone, by `impl`: `production` (what the worker uses),
//!   `webcrypto` (`crypto.subtle.verify`, for any key, HMAC included) or `rust` (HMAC with
//!   `hmac` + `sha2`, Ed25519 with `ed25519-dalek`), to choose between them.
//!
//! Answers `{"iterations", "elapsed_ms", "us_per_op"}`. workerd's clock ticks in 1 ms steps,
//! so the loops run thousands of operations.

use serde_json::{json, Value};
use warden_core::{parse, KeyMaterial, RequestFacts, RevocationStatus};
use worker::{Context, Env, Request, Response, Result};

use crate::config::Config;
use crate::protect::{self, Outcome};
use crate::verify::{self, webcrypto};

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn refused(why: impl std::fmt::Display) -> Result<Response> {
    Ok(Response::from_json(&json!({"error": why.to_string()}))?.with_status(400))
}

/// One request's decision as the entry module asks for it: `protect::decide` (admission, the
/// signature — a cache hit or not —, the claims policy, the revocation snapshot lookup, the
/// identity headers) and the forwarding plan; everything but the JS↔wasm call and the fetch.
async fn allow(
    authorization: &str,
    env: &Env,
    config: &Config,
    ctx: &Context,
    now: u64,
) -> std::result::Result<(), String> {
    let facts = RequestFacts {
        method: "GET",
        path: "/bench",
        authorization: Some(authorization),
        cookies: None,
        cors_request_method: false,
        ..RequestFacts::default()
    };
    match protect::decide(&facts, env, config, ctx, &|| None, now).await {
        Ok(Outcome::Forward(up)) => {
            std::hint::black_box(up.plan(config, "/bench", None, "accept authorization host"));
            Ok(())
        }
        Ok(Outcome::Answer(resp)) => Err(format!("refused with status {}", resp.status_code())),
        Ok(Outcome::Admin) => Err("an admin path".into()),
        Err(e) => Err(e.to_string()),
    }
}

pub(crate) async fn run(
    mut req: Request,
    env: &Env,
    config: &Config,
    ctx: &Context,
) -> Result<Response> {
    let body: Value = req.json().await?;
    let Some(token) = body.get("token").and_then(Value::as_str) else {
        return refused("token is required");
    };
    let iterations = body
        .get("iterations")
        .and_then(Value::as_u64)
        .unwrap_or(10_000)
        .clamp(1, 10_000_000);
    let mode = body
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("uncached");
    let imp = body
        .get("impl")
        .and_then(Value::as_str)
        .unwrap_or("production");
    let now = (now_ms() / 1000.0) as u64;

    let authorization = format!("Bearer {token}");
    // Warm-up, and proof that the token is allowed (so the loop times allows, not denials).
    if mode != "parts" {
        if let Err(why) = allow(&authorization, env, config, ctx, now).await {
            return refused(why);
        }
    }
    let start;
    match mode {
        "uncached" | "cached" => {
            let uncached = mode == "uncached";
            start = now_ms();
            for _ in 0..iterations {
                if uncached {
                    verify::forget_verified_tokens();
                }
                if let Err(why) = allow(&authorization, env, config, ctx, now).await {
                    return refused(why);
                }
            }
        }
        "signature" => {
            let parsed = match parse(token) {
                Ok(t) => t,
                Err(e) => return refused(e),
            };
            let key = match crate::keys::key_for(&config.keys, &parsed.header, now).await {
                Ok(k) => k.key().clone(),
                Err(d) => return refused(d.code()),
            };
            let (input, sig) = (parsed.signing_input.as_bytes(), parsed.signature.as_slice());
            match imp {
                "production" => {
                    start = now_ms();
                    for _ in 0..iterations {
                        if verify::check_signature(&key, input, sig).await.is_err() {
                            return refused("signature failed");
                        }
                    }
                }
                "webcrypto" => {
                    start = now_ms();
                    for _ in 0..iterations {
                        if webcrypto::verify(&key, input, sig).await.is_err() {
                            return refused("signature failed");
                        }
                    }
                }
                "rust" => match &key.material {
                    KeyMaterial::Hmac(secret) => {
                        start = now_ms();
                        for _ in 0..iterations {
                            if verify::hmac_verify(key.alg, secret, input, sig).is_err() {
                                return refused("signature failed");
                            }
                        }
                    }
                    KeyMaterial::Ed25519(x) => {
                        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
                        let Ok(x) = <[u8; 32]>::try_from(x.as_slice()) else {
                            return refused("bad Ed25519 key");
                        };
                        let Ok(vk) = VerifyingKey::from_bytes(&x) else {
                            return refused("bad Ed25519 key");
                        };
                        let Ok(signature) = Signature::from_slice(sig) else {
                            return refused("bad Ed25519 signature");
                        };
                        start = now_ms();
                        for _ in 0..iterations {
                            if vk.verify(input, &signature).is_err() {
                                return refused("signature failed");
                            }
                        }
                    }
                    _ => return refused("impl rust: HMAC and Ed25519 keys only"),
                },
                other => return refused(format!("unknown impl {other:?}")),
            }
        }
        "parts" => {
            // Where the time of the uncached path goes: `impl` names one step.
            let parsed = parse(token);
            start = now_ms();
            for _ in 0..iterations {
                match imp {
                    "digest" => {
                        std::hint::black_box(warden_core::token_digest(std::hint::black_box(
                            token,
                        )));
                    }
                    "parse" => {
                        std::hint::black_box(parse(std::hint::black_box(token)).is_ok());
                    }
                    "key" => {
                        let Ok(parsed) = &parsed else {
                            return refused("token_malformed");
                        };
                        let k = crate::keys::key_for(&config.keys, &parsed.header, now).await;
                        std::hint::black_box(k.is_ok());
                    }
                    "await" => {
                        // Awaiting one already-resolved promise from Rust (wasm-bindgen's
                        // JsFuture): the toll on every WebCrypto call.
                        let p = js_sys::Promise::resolve(&worker::wasm_bindgen::JsValue::TRUE);
                        let v = js_sys::futures::JsFuture::from(p).await;
                        std::hint::black_box(v.is_ok());
                    }
                    "policy" => {
                        let Ok(parsed) = &parsed else {
                            return refused("token_malformed");
                        };
                        let _ = std::hint::black_box(config.policy().evaluate(
                            parsed,
                            now,
                            RevocationStatus::NotRevoked,
                        ));
                    }
                    other => return refused(format!("unknown part {other:?}")),
                }
            }
        }
        other => return refused(format!("unknown mode {other:?}")),
    }
    let elapsed = now_ms() - start;
    Response::from_json(&json!({
        "mode": mode,
        "impl": imp,
        "iterations": iterations,
        "elapsed_ms": elapsed,
        "us_per_op": elapsed * 1000.0 / iterations as f64,
    }))
}
