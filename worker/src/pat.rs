//! Personal access tokens (opaque API tokens): issue, list, revoke, authenticate, reap.
//!
//! A PAT is `<WARDEN_PAT_PREFIX><64 hex digits>` (256 random bits from `crypto.getRandomValues`).
//! Only its SHA-256 is stored: `pat:<sha256 hex>` holds the record, `patid:<id>` the digest
//! (revoke by id), `idx:<sha256(sub)>:pat:<id>` the listing entry. A record is never changed by
//! use, so a PAT is never extended; `expires_at = 0` means it never expires. Records are
//! cached per isolate for `WARDEN_SNAPSHOT_SECONDS`. A cron trigger reaps expired records.

use serde_json::Value;
use warden_core::{PatRecord, UnixTime, NEVER};

use crate::fields::{obj, text, Members};

/// Prefix of PAT ids (the public, loggable name of a PAT).
pub const ID_PREFIX: &str = "pat_";
/// Hex digits after the PAT prefix.
pub const SECRET_HEX_LEN: usize = 64;
/// Expired records reaped per cron run (each costs three KV deletes).
pub const REAP_BATCH: usize = 100;
/// KV keeps a record this long past its expiry (or its revocation) as a safety net, should
/// the reaper not run.
pub const RETAIN_SECONDS: u64 = 7 * 86_400;

/// A parsed `POST /_warden/pats` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatRequest {
    /// The subject the token acts for.
    pub sub: String,
    /// Hard expiry (Unix seconds), 0 for never.
    pub expires_at: UnixTime,
    /// Granted scopes (deduplicated, in the given order).
    pub scopes: Vec<String>,
}

/// A stored PAT record (`pat:<sha256 hex>`), as JSON ([`StoredPat::to_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPat {
    /// Public id, e.g. `pat_1f…`.
    pub id: String,
    /// The subject the token acts for.
    pub sub: String,
    /// Hard expiry (Unix seconds), 0 for never.
    pub expires_at: UnixTime,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `false` once revoked.
    pub active: bool,
    /// When it was issued.
    pub created_at: UnixTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<UnixTime>,
}

impl StoredPat {
    /// As stored: JSON text, the fields [`StoredPat::listing`] shows (it shows them all), but
    /// `revoked_at` only once revoked.
    pub fn to_json(&self) -> String {
        let mut record = self.listing();
        if let Value::Object(map) = &mut record {
            map.retain(|_, v| !v.is_null());
        }
        text(&record)
    }

    /// From [`StoredPat::to_json`]'s text; `None` for anything else.
    pub fn from_json(json: &str) -> Option<StoredPat> {
        let v = crate::fields::parse(json).ok()?;
        let m = Members::of(&v)?;
        Some(StoredPat {
            id: m.string("id")?,
            sub: m.string("sub")?,
            expires_at: m.number("expires_at")?,
            scopes: m.list("scopes", |s| s.as_str().map(str::to_owned))?,
            active: m.flag("active")?,
            created_at: m.number("created_at")?,
            revoked_at: m.opt_number("revoked_at")?,
        })
    }

    /// The core's view, which decides.
    pub fn record(&self) -> PatRecord {
        PatRecord {
            id: self.id.clone(),
            sub: self.sub.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            scopes: self.scopes.clone(),
            active: self.active,
        }
    }

    /// What listings show: everything but the digest (and never the secret, which is not kept).
    pub fn listing(&self) -> Value {
        obj! {
            "id": self.id,
            "sub": self.sub,
            "expires_at": self.expires_at,
            "scopes": self.scopes,
            "active": self.active,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }
    }

    /// Metadata of the `pat:` key, enough for the reaper without reading values.
    pub fn reaper_metadata(&self) -> Value {
        obj! {"id": self.id, "sub": self.sub, "expires_at": self.expires_at}
    }

    /// KV expiration of the record's keys: none for a live never-expiring token, else a
    /// retention period past its expiry or revocation.
    pub fn kv_expiration(&self, now: UnixTime) -> Option<UnixTime> {
        let end = match (self.revoked_at, self.expires_at) {
            (Some(r), NEVER) => r,
            (Some(r), e) => r.min(e),
            (None, NEVER) => return None,
            (None, e) => e,
        };
        Some(end.saturating_add(RETAIN_SECONDS).max(now + 60))
    }
}

/// KV key of a record: `pat:<sha256 hex>`.
pub fn record_key(digest_hex: &str) -> String {
    format!("pat:{digest_hex}")
}

/// KV key mapping an id to its record's digest.
pub fn id_key(id: &str) -> String {
    format!("patid:{id}")
}

/// Whether `token` has the shape of a PAT Warden issued (prefix + 64 lower-case hex).
pub fn well_formed(token: &str, prefix: &str) -> bool {
    token.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == SECRET_HEX_LEN && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// A new token from 32 random bytes.
pub fn new_token(prefix: &str, random: &[u8; 32]) -> String {
    format!("{prefix}{}", warden_core::hex(random))
}

/// A new id from 12 random bytes: `pat_` + 24 hex digits.
pub fn new_id(random: &[u8; 12]) -> String {
    let mut id = String::with_capacity(ID_PREFIX.len() + 24);
    id.push_str(ID_PREFIX);
    for b in random {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// Whether the reaper takes a record with this expiry at `now`.
pub fn reapable(expires_at: UnixTime, now: UnixTime) -> bool {
    expires_at != NEVER && now >= expires_at
}

/// The isolate's PAT records by digest (found or not): the cache `lookup` reads
/// first.
#[cfg(any(target_arch = "wasm32", test))]
mod cache {
    use warden_core::UnixTime;

    use super::StoredPat;
    use crate::store::IdMap;

    /// Records cached per isolate, each for `WARDEN_SNAPSHOT_SECONDS`.
    pub(super) const MAX_CACHED: usize = 1024;

    /// `index` holds each digest's slot in `slots`: an [`IdMap`], so no B-tree of records is
    /// compiled into the worker.
    pub(super) struct Cache {
        index: IdMap,
        slots: Vec<Cached>,
    }

    /// One cached record (or the knowledge that there is none), read at `at`.
    pub(super) struct Cached {
        pub(super) digest: String,
        pub(super) record: Option<StoredPat>,
        pub(super) at: UnixTime,
    }

    impl Cache {
        pub(super) fn new() -> Cache {
            Cache {
                index: IdMap::default(),
                slots: Vec::new(),
            }
        }

        pub(super) fn get(&self, digest: &str) -> Option<&Cached> {
            let slot = self.index.get(digest)?;
            self.slots.get(usize::try_from(slot).ok()?)
        }

        /// Puts `entry` in its digest's slot; a new digest in a full cache takes the slot of the
        /// oldest entry (of equally old ones, the smallest digest's).
        pub(super) fn put(&mut self, entry: Cached) {
            let slot = match self.index.get(&entry.digest) {
                Some(slot) => slot,
                None if self.slots.len() >= MAX_CACHED => {
                    let oldest = self
                        .slots
                        .iter()
                        .enumerate()
                        .min_by(|(_, a), (_, b)| (a.at, &a.digest).cmp(&(b.at, &b.digest)))
                        .map(|(i, old)| (i as u64, old.digest.clone()));
                    let Some((slot, old)) = oldest else { return };
                    self.index.remove(&old);
                    self.index.insert(entry.digest.clone(), slot);
                    slot
                }
                None => {
                    self.index
                        .insert(entry.digest.clone(), self.slots.len() as u64);
                    self.slots.push(entry);
                    return;
                }
            };
            if let Some(cached) = usize::try_from(slot)
                .ok()
                .and_then(|i| self.slots.get_mut(i))
            {
                *cached = entry;
            }
        }

        pub(super) fn remove(&mut self, digest: &str) {
            let Some(i) = self
                .index
                .remove(digest)
                .and_then(|s| usize::try_from(s).ok())
            else {
                return;
            };
            if i < self.slots.len() {
                self.slots.swap_remove(i);
                if let Some(moved) = self.slots.get(i) {
                    self.index.insert(moved.digest.clone(), i as u64);
                }
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use std::cell::RefCell;

    use serde_json::Value;
    use warden_core::{hex, token_digest, Unavailable, UnixTime};
    use worker::Env;

    use super::cache::{Cache, Cached};
    use super::*;
    use crate::audit::{audit, AuditEvent};
    use crate::fields::{fields, obj};
    use crate::store::{self, index_key, LIST_PAGE};

    thread_local! {
        static CACHE: RefCell<Cache> = RefCell::new(Cache::new());
    }

    fn cache_put(digest: &str, record: Option<StoredPat>, now: UnixTime) {
        CACHE.with(|c| {
            c.borrow_mut().put(Cached {
                digest: digest.to_owned(),
                record,
                at: now,
            })
        });
    }

    /// The record of a presented PAT (isolate cache first, within `interval` seconds):
    /// `Ok(None)` for a token that no record knows (never issued, reaped, or not of Warden's
    /// shape); `Err` when the store could not answer (audited). The gate decides the rest.
    pub async fn lookup(
        env: &Env,
        prefix: &str,
        token: &str,
        interval: u64,
        now: UnixTime,
    ) -> Result<Option<PatRecord>, Unavailable> {
        if !well_formed(token, prefix) {
            return Ok(None);
        }
        let digest = hex(&token_digest(token));
        let cached = CACHE.with(|c| {
            c.borrow()
                .get(&digest)
                .filter(|c| now >= c.at && now < c.at.saturating_add(interval))
                .map(|c| c.record.clone())
        });
        let record = match cached {
            Some(r) => r,
            None => match read_record(env, &digest).await {
                Ok(r) => {
                    cache_put(&digest, r.clone(), now);
                    r
                }
                Err(e) => {
                    audit(
                        AuditEvent::StoreError,
                        &fields! {"op": "get", "kind": "pat", "error": e.to_string()},
                    );
                    return Err(Unavailable);
                }
            },
        };
        Ok(record.map(|r| r.record()))
    }

    async fn read_record(env: &Env, digest: &str) -> worker::Result<Option<StoredPat>> {
        let text = store::kv(env)?.text(&record_key(digest)).await?;
        Ok(text.and_then(|t| StoredPat::from_json(&t)))
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        /// Web Crypto's `crypto.getRandomValues`, which every Workers isolate has (the
        /// `getrandom` crate calls the same, behind fallbacks for Node.js and old browsers).
        #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
        fn get_random_values(
            buf: &mut [u8],
        ) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>;
    }

    fn random<const N: usize>() -> worker::Result<[u8; N]> {
        let mut buf = [0u8; N];
        get_random_values(&mut buf).map_err(|_| {
            worker::Error::RustError("no randomness: crypto.getRandomValues failed".into())
        })?;
        Ok(buf)
    }

    /// Issues a PAT: writes the id mapping and the listing entry, then the record (so the token
    /// works only once everything is stored). Returns the reply, holding the only copy of the
    /// token.
    pub async fn issue(
        env: &Env,
        prefix: &str,
        request: PatRequest,
        now: UnixTime,
    ) -> worker::Result<Value> {
        let token = new_token(prefix, &random::<32>()?);
        let id = new_id(&random::<12>()?);
        let digest = hex(&token_digest(&token));
        let record = StoredPat {
            id: id.clone(),
            sub: request.sub,
            expires_at: request.expires_at,
            scopes: request.scopes,
            active: true,
            created_at: now,
            revoked_at: None,
        };
        write(env, &digest, &record, now).await?;
        cache_put(&digest, Some(record.clone()), now);
        audit(
            AuditEvent::IssueToken,
            &fields! {"class": "pat", "id": id, "sub": record.sub, "expires_at": record.expires_at},
        );
        Ok(
            obj! {"id": id, "token": token, "expires_at": record.expires_at, "sub": record.sub, "scopes": record.scopes},
        )
    }

    async fn write(
        env: &Env,
        digest: &str,
        record: &StoredPat,
        now: UnixTime,
    ) -> worker::Result<()> {
        let expiration = record.kv_expiration(now);
        let id_key = id_key(&record.id);
        store::put(env, &id_key, digest.as_bytes(), None, expiration).await?;
        store::put_index(
            env,
            &record.sub,
            "pat",
            &record.id,
            &record.listing(),
            expiration,
        )
        .await?;
        let metadata = record.reaper_metadata();
        let json = record.to_json();
        store::put(
            env,
            &record_key(digest),
            json.as_bytes(),
            Some(&metadata),
            expiration,
        )
        .await
    }

    /// One page of a subject's PATs (never the secret), and the next page's cursor.
    pub async fn list(
        env: &Env,
        sub: &str,
        cursor: Option<String>,
    ) -> worker::Result<(Vec<Value>, Option<String>)> {
        store::list_index(env, sub, &["pat"], cursor).await
    }

    /// Revokes the PAT with this id. `Ok(None)`: no such PAT.
    pub async fn revoke_id(
        env: &Env,
        id: &str,
        now: UnixTime,
    ) -> worker::Result<Option<StoredPat>> {
        let Some(digest) = store::kv(env)?.text(&id_key(id)).await? else {
            return Ok(None);
        };
        revoke_digest(env, &digest, now).await
    }

    /// Revokes the PAT `token` (RFC 7009 style: `Ok(None)` when unknown).
    pub async fn revoke_token(
        env: &Env,
        prefix: &str,
        token: &str,
        now: UnixTime,
    ) -> worker::Result<Option<StoredPat>> {
        if !well_formed(token, prefix) {
            return Ok(None);
        }
        revoke_digest(env, &hex(&token_digest(token)), now).await
    }

    async fn revoke_digest(
        env: &Env,
        digest: &str,
        now: UnixTime,
    ) -> worker::Result<Option<StoredPat>> {
        let Some(mut record) = read_record(env, digest).await? else {
            return Ok(None);
        };
        if record.active {
            record.active = false;
            record.revoked_at = Some(now);
            write(env, digest, &record, now).await?;
        }
        cache_put(digest, Some(record.clone()), now);
        audit(
            AuditEvent::Revoke,
            &fields! {"kind": "pat", "id": record.id, "sub": record.sub},
        );
        Ok(Some(record))
    }

    /// Reaps up to [`REAP_BATCH`] expired records: deletes the record, its id mapping and its
    /// listing entry, with one `expire_token` audit line each. Returns how many were reaped.
    pub async fn reap(env: &Env, now: UnixTime) -> worker::Result<usize> {
        let kv = store::kv(env)?;
        let mut reaped = 0;
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) = store::list_page(env, "pat:", LIST_PAGE, cursor.as_deref()).await?;
            for key in &page {
                let meta = key.metadata.as_ref();
                let field = |name: &str| meta.and_then(|m| m.get(name));
                let (Some(expires_at), Some(id), Some(sub)) = (
                    field("expires_at").and_then(Value::as_u64),
                    field("id").and_then(Value::as_str),
                    field("sub").and_then(Value::as_str),
                ) else {
                    continue;
                };
                if !reapable(expires_at, now) {
                    continue;
                }
                reap_one(&kv, &key.name, id, sub).await?;
                if let Some(digest) = key.name.strip_prefix("pat:") {
                    CACHE.with(|c| c.borrow_mut().remove(digest));
                }
                audit(
                    AuditEvent::ExpireToken,
                    &fields! {"class": "pat", "id": id, "sub": sub, "expires_at": expires_at},
                );
                reaped += 1;
                if reaped >= REAP_BATCH {
                    return Ok(reaped);
                }
            }
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(reaped),
            }
        }
    }

    async fn reap_one(kv: &store::Kv, record_key: &str, id: &str, sub: &str) -> worker::Result<()> {
        // The record last: should a delete fail, the next run finds it again.
        kv.delete(&index_key(sub, "pat", id)).await?;
        kv.delete(&id_key(id)).await?;
        kv.delete(record_key).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(expires_at: UnixTime, revoked_at: Option<UnixTime>) -> StoredPat {
        StoredPat {
            id: "pat_1".into(),
            sub: "ci".into(),
            expires_at,
            scopes: vec!["read".into()],
            active: revoked_at.is_none(),
            created_at: 1_000,
            revoked_at,
        }
    }

    /// The cache against the ordered map it replaced (insert; when full and the digest is new,
    /// first remove the entry with the smallest `at`, the smallest digest among equals).
    #[test]
    fn the_cache_keeps_and_evicts_as_an_ordered_map_did() {
        use std::collections::BTreeMap;

        use cache::{Cache, Cached, MAX_CACHED};

        let mut cache = Cache::new();
        let mut model: BTreeMap<String, (Option<StoredPat>, UnixTime)> = BTreeMap::new();
        let mut evicted = 0;
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for step in 0..20_000u64 {
            let digest = format!("{:04}", next(MAX_CACHED as u64 + 300));
            let record = (next(2) == 0).then(|| pat(step, None));
            let at = step / 16;
            match next(10) {
                0 => {
                    cache.remove(&digest);
                    model.remove(&digest);
                }
                1..=5 => {
                    if model.len() >= MAX_CACHED && !model.contains_key(&digest) {
                        let oldest = model.iter().min_by_key(|(_, (_, at))| *at);
                        let oldest = oldest.map(|(k, _)| k.clone()).unwrap();
                        model.remove(&oldest);
                        evicted += 1;
                    }
                    model.insert(digest.clone(), (record.clone(), at));
                    cache.put(Cached {
                        digest: digest.clone(),
                        record,
                        at,
                    });
                }
                _ => {}
            }
            let other = format!("{:04}", next(MAX_CACHED as u64 + 300));
            for d in [&digest, &other] {
                let cached = cache.get(d).map(|c| (c.record.clone(), c.at));
                assert_eq!(cached.as_ref(), model.get(d), "step {step}");
            }
        }
        assert!(evicted > 100, "{evicted}");
        for (digest, entry) in &model {
            let cached = cache.get(digest).map(|c| (c.record.clone(), c.at));
            assert_eq!(cached.as_ref(), Some(entry));
        }
    }

    #[test]
    fn token_shape() {
        let t = new_token("wdn_pat_", &[0xab; 32]);
        assert_eq!(t.len(), 8 + SECRET_HEX_LEN);
        assert!(well_formed(&t, "wdn_pat_"));
        assert!(!well_formed(&t, "other_"));
        assert!(!well_formed(&t[..t.len() - 1], "wdn_pat_"));
        assert!(!well_formed(&t.to_uppercase(), "wdn_pat_"));
        assert!(!well_formed(&format!("{t}0"), "wdn_pat_"));
        assert_eq!(new_id(&[0x01; 12]), "pat_010101010101010101010101");
    }

    #[test]
    fn expirations_and_reaping() {
        assert_eq!(pat(NEVER, None).kv_expiration(1_000), None);
        assert_eq!(
            pat(5_000, None).kv_expiration(1_000),
            Some(5_000 + RETAIN_SECONDS)
        );
        assert_eq!(
            pat(NEVER, Some(2_000)).kv_expiration(2_000),
            Some(2_000 + RETAIN_SECONDS)
        );
        assert_eq!(
            pat(5_000, Some(2_000)).kv_expiration(2_000),
            Some(2_000 + RETAIN_SECONDS)
        );
        assert!(reapable(100, 100));
        assert!(!reapable(100, 99));
        assert!(!reapable(NEVER, u64::MAX));
    }

    #[test]
    fn listings_carry_no_secret_and_records_round_trip() {
        let p = pat(5_000, None);
        let listing = p.listing().to_string();
        assert!(!listing.contains("token"));
        let json = p.to_json();
        assert_eq!(StoredPat::from_json(&json), Some(p.clone()));
        assert!(!json.contains("revoked_at"));
        let revoked = StoredPat {
            active: false,
            revoked_at: Some(6_000),
            ..p.clone()
        };
        assert_eq!(StoredPat::from_json(&revoked.to_json()), Some(revoked));
        // What the derived serde code wrote (field order, `revoked_at` absent) reads the same;
        // a record missing a field or with one of the wrong type does not read at all.
        let derived = r#"{"id":"pat_1","sub":"alice","expires_at":5000,"scopes":["read"],"active":true,"created_at":1000}"#;
        let read = StoredPat::from_json(derived).unwrap();
        assert_eq!(
            (read.sub.as_str(), read.scopes.len(), read.revoked_at),
            ("alice", 1, None)
        );
        for bad in [
            r#"{"id":"pat_1","sub":"alice","expires_at":5000,"active":true,"created_at":1000}"#,
            r#"{"id":"pat_1","sub":"alice","expires_at":5000,"scopes":"read","active":true,"created_at":1000}"#,
            r#"{"id":"pat_1","sub":"alice","expires_at":5000,"scopes":[],"active":1,"created_at":1000}"#,
            r#"{"id":"pat_1","sub":"alice","expires_at":-1,"scopes":[],"active":true,"created_at":1000}"#,
        ] {
            assert_eq!(StoredPat::from_json(bad), None, "{bad}");
        }
        let r = p.record();
        assert_eq!(
            (r.id.as_str(), r.expires_at, r.active),
            ("pat_1", 5_000, true)
        );
        assert!(p.reaper_metadata().to_string().len() < 1024);
    }
}
