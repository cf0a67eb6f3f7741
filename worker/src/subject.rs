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

/// The cutoff as object storage keeps it: a JavaScript number.
#[cfg(any(target_arch = "wasm32", test))]
mod number {
    use warden_core::UnixTime;

    /// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
    pub(super) const MAX_SAFE_INTEGER: UnixTime = (1 << 53) - 1;

    /// The stored cutoff read back from the JavaScript value object storage gives: `None` for no
    /// value (`undefined` or `null`), the seconds for a whole number in `0..=2^53-1`, and `Err` for
    /// anything else. The object has always stored the cutoff as a plain number (what
    /// `Storage::put` of a `u64` wrote), so records written before this reader read the same.
    pub(super) fn stored_cutoff(
        value: Option<f64>,
        absent: bool,
    ) -> Result<Option<UnixTime>, &'static str> {
        if absent {
            return Ok(None);
        }
        match value {
            Some(n) if n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER as f64).contains(&n) => {
                Ok(Some(n as UnixTime))
            }
            _ => Err("the stored cutoff is not a whole number of seconds"),
        }
    }

    /// The cutoff as the number object storage keeps, or `Err` above 2^53 - 1 (a JavaScript number
    /// would round it).
    pub(super) fn cutoff_number(before: UnixTime) -> Result<f64, &'static str> {
        if before > MAX_SAFE_INTEGER {
            return Err("the cutoff is above 2^53 - 1 seconds");
        }
        Ok(before as f64)
    }
}

#[cfg(target_arch = "wasm32")]
mod io {
    use std::cell::Cell;
    use std::rc::Rc;

    use warden_core::{cutoff_expiration, raised_cutoff, UnixTime};
    use wasm_bindgen_futures::JsFuture;
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
    /// Read straight from the JavaScript value: `Storage::get` would bring serde's typed
    /// deserializer (and its float formatting, for error messages) into the worker.
    pub async fn stored(storage: &Storage) -> worker::Result<Option<UnixTime>> {
        let value = JsFuture::from(storage.as_raw().get(STORAGE_KEY)?).await?;
        super::number::stored_cutoff(value.as_f64(), value.is_undefined() || value.is_null())
            .map_err(|e| worker::Error::RustError(e.into()))
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
        let stored = stored(&storage)
            .await
            .map_err(|e| format!("object storage: {e}"))?;
        let before = raised_cutoff(stored, request.before);
        if stored != Some(before) {
            let number =
                super::number::cutoff_number(before).map_err(|e| format!("object storage: {e}"))?;
            storage
                .put_raw(STORAGE_KEY, number)
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
        let record = obj! { "before": before };
        let json = text(&record);
        let mut last = String::new();
        for attempt in 0..KV_ATTEMPTS {
            if attempt > 0 {
                Delay::from(std::time::Duration::from_millis(1100)).await;
            }
            let key = Kind::Sub.key(sub);
            let put = store::put(env, &key, json.as_bytes(), Some(&record), Some(expires_at));
            match put.await {
                Ok(()) => {
                    let index = obj! {"kind": "sub", "id": sub, "before": before, "revoked_at": now, "expires_at": expires_at};
                    return store::put_index(env, sub, "sub", "cutoff", &index, Some(expires_at))
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

#[cfg(test)]
mod tests {
    use super::number::*;

    #[test]
    fn stored_cutoffs_read_back_whole_seconds_only() {
        assert_eq!(stored_cutoff(None, true), Ok(None));
        assert_eq!(stored_cutoff(Some(0.0), false), Ok(Some(0)));
        assert_eq!(
            stored_cutoff(Some(1_700_000_000.0), false),
            Ok(Some(1_700_000_000))
        );
        let max = MAX_SAFE_INTEGER as f64;
        assert_eq!(stored_cutoff(Some(max), false), Ok(Some(MAX_SAFE_INTEGER)));
        for bad in [
            Some(-1.0),
            Some(1.5),
            Some(max + 2.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
        ] {
            assert!(stored_cutoff(bad, false).is_err(), "{bad:?}");
        }
        // A value that is not a number at all (a string, an object).
        assert!(stored_cutoff(None, false).is_err());
    }

    #[test]
    fn cutoffs_are_stored_as_exact_numbers() {
        assert_eq!(cutoff_number(1_700_000_000), Ok(1_700_000_000.0));
        assert_eq!(cutoff_number(MAX_SAFE_INTEGER), Ok(MAX_SAFE_INTEGER as f64));
        assert!(cutoff_number(MAX_SAFE_INTEGER + 1).is_err());
        for before in [0, 1, 1_700_000_000, MAX_SAFE_INTEGER] {
            let n = cutoff_number(before).unwrap();
            assert_eq!(stored_cutoff(Some(n), false), Ok(Some(before)));
        }
    }
}
