//! Subject cutoffs that never go down, even under concurrent writers.
//!
//! KV has no compare-and-set, so a cutoff write goes through the Durable Object named
//! `sub:<sub>` in the `WARDEN_SESSIONS` namespace (class `WardenSessions`). Inside
//! `blockConcurrencyWhile` — no other request to the object runs meanwhile — it raises the
//! maximum it keeps in its own storage ([`warden_core::raised_cutoff`]), writes that maximum to
//! KV (`rv:sub:<sub>` with `{"before": T}` as value and metadata, and the subject's index
//! entry), and answers the effective cutoff. KV therefore only ever receives non-decreasing
//! values, one write at a time.

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use std::cell::Cell;
    use std::rc::Rc;

    use warden_core::{cutoff_expiration, raised_cutoff, UnixTime};
    use worker::{Date, Delay, Env, Storage};

    use crate::audit::{audit, AuditEvent};
    use crate::fields::{fields, obj, text};
    use crate::protocol::{
        self, subject_object, Cutoff, CutoffRequest, LoggedCutoff, ObjectAnswer, ObjectRequest,
    };
    use crate::store::{self, Kind};

    const STORAGE_KEY: &str = "before";
    /// KV allows one write per second per key: a failed write is retried this often.
    const KV_ATTEMPTS: u32 = 3;

    /// The object's side of [`ObjectRequest::ReadCutoff`]: the stored cutoff, if any.
    pub async fn stored(storage: &Storage) -> worker::Result<Option<UnixTime>> {
        storage.get(STORAGE_KEY).await
    }

    /// The object's side of [`ObjectRequest::RaiseCutoff`], run inside
    /// `blockConcurrencyWhile`: raises the stored maximum, writes it to KV unless this
    /// instance (`written`) did already, and answers the effective cutoff.
    pub async fn raise(
        storage: Storage,
        env: Env,
        written: Rc<Cell<UnixTime>>,
        request: CutoffRequest,
    ) -> Result<Cutoff, String> {
        let stored: Option<UnixTime> = storage
            .get(STORAGE_KEY)
            .await
            .map_err(|e| format!("object storage: {e}"))?;
        let before = raised_cutoff(stored, request.before);
        if stored != Some(before) {
            storage
                .put(STORAGE_KEY, before)
                .await
                .map_err(|e| format!("object storage: {e}"))?;
        }
        let now = Date::now().as_millis() / 1000;
        let expires_at = cutoff_expiration(before, now, request.leeway, request.max_lifetime);
        if written.get() != before {
            if request.log {
                let logged = LoggedCutoff {
                    sub: request.sub.clone(),
                    before,
                    expires_at,
                };
                store::record_in_log(&env, Vec::new(), vec![logged])
                    .await
                    .map_err(|e| format!("revocation log: {e}"))?;
            }
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
        let record = obj! { "before": before };
        let mut last = String::new();
        for attempt in 0..KV_ATTEMPTS {
            if attempt > 0 {
                Delay::from(std::time::Duration::from_millis(1100)).await;
            }
            let put = async {
                kv.put_bytes(&Kind::Sub.key(sub), text(&record).as_bytes())?
                    .metadata(&record)?
                    .expiration(expires_at)
                    .execute()
                    .await
            };
            match put.await {
                Ok(()) => {
                    let index = obj! {"kind": "sub", "id": sub, "before": before, "revoked_at": now, "expires_at": expires_at};
                    return store::put_index(&kv, sub, "sub", "cutoff", &index, Some(expires_at))
                        .await
                        .map_err(|e| format!("KV index write: {e}"));
                }
                Err(e) => {
                    last = e.to_string();
                    audit(
                        AuditEvent::StoreError,
                        &fields! {"op": "put", "kind": "sub", "attempt": attempt + 1, "error": last},
                    );
                }
            }
        }
        Err(format!("KV write: {last}"))
    }

    /// The cutoff stored by the object `sub:<sub>` (strongly consistent), if any.
    pub async fn cutoff_of(env: &Env, sub: &str) -> worker::Result<Option<UnixTime>> {
        match protocol::call(env, &subject_object(sub), &ObjectRequest::ReadCutoff).await? {
            ObjectAnswer::Stored(before) => Ok(before),
            other => Err(protocol::unexpected(&other)),
        }
    }

    /// Raises the cutoff of `sub` through its Durable Object; returns the effective cutoff
    /// once KV holds it.
    pub async fn raise_cutoff(env: &Env, request: &CutoffRequest) -> worker::Result<Cutoff> {
        let call = ObjectRequest::RaiseCutoff(request.clone());
        match protocol::call(env, &subject_object(&request.sub), &call).await? {
            ObjectAnswer::Raised(cutoff) => Ok(cutoff),
            other => Err(protocol::unexpected(&other)),
        }
    }
}
