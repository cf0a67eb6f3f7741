//! Subject cutoffs that never go down, even under concurrent writers.
//!
//! KV has no compare-and-set, so a cutoff write goes through the Durable Object named
//! `sub:<sub>` in the `WARDEN_SESSIONS` namespace (class `WardenSessions`). Inside
//! `blockConcurrencyWhile` — no other request to the object runs meanwhile — it raises the
//! maximum it keeps in its own storage, writes that maximum to KV (`rv:sub:<sub>` with
//! `{"before": T}` as value and metadata, and the subject's index entry), and answers the
//! effective cutoff. KV therefore only ever receives non-decreasing values, one write at a time.

use serde::{Deserialize, Serialize};
use warden_core::UnixTime;

/// The Durable Object namespace binding.
pub const DO_BINDING: &str = "WARDEN_SESSIONS";
/// The Durable Object class exported by the worker.
pub const DO_CLASS: &str = "WardenSessions";

/// A request to raise a subject's cutoff.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CutoffRequest {
    /// The subject.
    pub sub: String,
    /// The requested cutoff (tokens with `iat <= before` are revoked).
    pub before: UnixTime,
    /// The policy's leeway, for the record's expiration.
    pub leeway: u64,
    /// The policy's lifetime cap, for the record's expiration.
    pub max_lifetime: u64,
}

/// The effective cutoff after a raise.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cutoff {
    /// The effective cutoff: the highest ever requested for this subject.
    pub before: UnixTime,
    /// The KV record's expiration.
    pub expires_at: UnixTime,
}

/// The new stored maximum: never lower than what is stored.
pub fn raised(stored: Option<UnixTime>, requested: UnixTime) -> UnixTime {
    stored.map_or(requested, |s| s.max(requested))
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
// `#[durable_object]` generates undocumented public glue (constructor, fetch).
#[allow(missing_docs)]
mod io {
    use std::cell::Cell;
    use std::rc::Rc;

    use serde_json::json;
    use worker::{
        durable_object, wasm_bindgen::JsValue, Date, Delay, DurableObject, Env, Method, Request,
        RequestInit, Response, State, Storage,
    };

    use super::*;
    use crate::audit::audit;
    use crate::store::{self, cutoff_expiration, Kind};

    const STORAGE_KEY: &str = "before";
    /// KV allows one write per second per key: a failed write is retried this often.
    const KV_ATTEMPTS: u32 = 3;

    /// Keeps one subject's cutoff monotonic (object name `sub:<sub>`), and serialises the
    /// refreshes of one session (`sid:<sid>`, `rt:<hash>`; see [`crate::sessions`]).
    #[durable_object]
    pub struct WardenSessions {
        state: State,
        env: Env,
        /// The cutoff this instance last wrote to KV (0: none yet).
        written: Rc<Cell<UnixTime>>,
        /// A session object's memory (in-flight refresh, replay pair).
        memory: Rc<crate::sessions::Memory>,
    }

    impl DurableObject for WardenSessions {
        fn new(state: State, env: Env) -> Self {
            WardenSessions {
                state,
                env,
                written: Rc::new(Cell::new(0)),
                memory: Rc::new(crate::sessions::Memory::default()),
            }
        }

        async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
            if req.path() != "/cutoff" {
                return crate::sessions::handle(self.state.storage(), &self.env, &self.memory, req)
                    .await;
            }
            if req.method() == Method::Get {
                // The stored cutoff, read strongly by session objects before a refresh.
                let stored: Option<UnixTime> = self.state.storage().get(STORAGE_KEY).await?;
                return Response::from_json(&serde_json::json!({ "before": stored }));
            }
            if req.method() != Method::Post {
                return Response::error("not found", 404);
            }
            let Ok(request) = req.json::<CutoffRequest>().await else {
                return Response::error("bad cutoff request", 400);
            };
            let storage = self.state.storage();
            let env = self.env.clone();
            let written = self.written.clone();
            // Errors travel inside Ok: an Err here would reset the object.
            let outcome = self
                .state
                .block_concurrency_while(
                    async move { Ok(raise(storage, env, written, request).await) },
                )
                .await;
            match outcome {
                Ok(Ok(cutoff)) => Response::from_json(&cutoff),
                Ok(Err(why)) => Response::error(why, 503),
                Err(e) => Response::error(e.to_string(), 503),
            }
        }

        async fn alarm(&self) -> worker::Result<Response> {
            crate::sessions::alarm(self.state.storage(), &self.env).await
        }
    }

    async fn raise(
        storage: Storage,
        env: Env,
        written: Rc<Cell<UnixTime>>,
        request: CutoffRequest,
    ) -> Result<Cutoff, String> {
        let stored: Option<UnixTime> = storage
            .get(STORAGE_KEY)
            .await
            .map_err(|e| format!("object storage: {e}"))?;
        let before = raised(stored, request.before);
        if stored != Some(before) {
            storage
                .put(STORAGE_KEY, before)
                .await
                .map_err(|e| format!("object storage: {e}"))?;
        }
        let now = Date::now().as_millis() / 1000;
        let expires_at = cutoff_expiration(before, now, request.leeway, request.max_lifetime);
        if written.get() != before {
            write_kv(&env, &request.sub, before, expires_at, now).await?;
            written.set(before);
        }
        Ok(Cutoff { before, expires_at })
    }

    async fn write_kv(
        env: &Env,
        sub: &str,
        before: UnixTime,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), String> {
        let kv = store::kv(env).map_err(|e| e.to_string())?;
        let record = json!({ "before": before });
        let mut last = String::new();
        for attempt in 0..KV_ATTEMPTS {
            if attempt > 0 {
                Delay::from(std::time::Duration::from_millis(1100)).await;
            }
            let put = async {
                kv.put(&Kind::Sub.key(sub), record.to_string())?
                    .metadata(&record)?
                    .expiration(expires_at)
                    .execute()
                    .await
            };
            match put.await {
                Ok(()) => {
                    let index = json!({"kind": "sub", "id": sub, "before": before, "revoked_at": now, "expires_at": expires_at});
                    return store::put_index(&kv, sub, "sub", "cutoff", &index, Some(expires_at))
                        .await
                        .map_err(|e| format!("KV index write: {e}"));
                }
                Err(e) => {
                    last = e.to_string();
                    audit(
                        json!({"event": "store_error", "op": "put", "kind": "sub", "attempt": attempt + 1, "error": last}),
                    );
                }
            }
        }
        Err(format!("KV write: {last}"))
    }

    /// The cutoff stored by the object `sub:<sub>` (strongly consistent), if any.
    pub async fn cutoff_of(env: &Env, sub: &str) -> worker::Result<Option<UnixTime>> {
        let stub = env
            .durable_object(DO_BINDING)?
            .id_from_name(&format!("sub:{sub}"))?
            .get_stub()?;
        let mut resp = stub
            .fetch_with_str("https://warden-sessions/cutoff")
            .await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "cutoff object answered {}",
                resp.status_code()
            )));
        }
        let stored: serde_json::Value = resp.json().await?;
        Ok(stored.get("before").and_then(serde_json::Value::as_u64))
    }

    /// Raises the cutoff of `sub` through its Durable Object; returns the effective cutoff
    /// once KV holds it.
    pub async fn raise_cutoff(env: &Env, request: &CutoffRequest) -> worker::Result<Cutoff> {
        let stub = env
            .durable_object(DO_BINDING)?
            .id_from_name(&format!("sub:{}", request.sub))?
            .get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&serde_json::to_string(request)?)));
        let mut resp = stub
            .fetch_with_request(Request::new_with_init(
                "https://warden-sessions/cutoff",
                &init,
            )?)
            .await?;
        if resp.status_code() != 200 {
            let why = resp.text().await.unwrap_or_default();
            return Err(worker::Error::RustError(format!(
                "cutoff object answered {}: {why}",
                resp.status_code()
            )));
        }
        resp.json().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_lowered() {
        assert_eq!(raised(None, 100), 100);
        assert_eq!(raised(Some(200), 100), 200);
        assert_eq!(raised(Some(100), 200), 200);
        assert_eq!(raised(Some(0), 0), 0);
    }
}
