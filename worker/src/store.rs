//! The revocation store: Workers KV (binding `WARDEN_KV`) behind an isolate-local snapshot.
//!
//! Layout (see docs/architecture.md): `rv:jti:<jti>`, `rv:sid:<sid>`, `rv:kid:<kid>` revoke by
//! their presence; `rv:sub:<sub>` holds `{"before": T}` in its value *and* its metadata (tokens
//! of `sub` with `iat <= T` are revoked; written only by the subject's Durable Object, see
//! the subject's Durable Object); `idx:<sha256(sub)>:<kind>:<id>` index entries list what was revoked
//! for a subject.
//!
//! Reads. Every `WARDEN_SNAPSHOT_SECONDS` an isolate lists `rv:` — names, expirations and
//! metadata, never values — into a [`Snapshot`]. A JWT request is then answered from memory:
//! zero KV reads. Only when the snapshot cannot answer ([`Lookup::Maybe`]: the listing failed
//! or was too large to finish, or a cutoff record carries no metadata) is the one id read from
//! KV, and that answer is kept until the next refresh. Writes made by this isolate enter its
//! snapshot at once and are laid over every refreshed snapshot for [`OVERLAY_SECONDS`], as a
//! fresh listing may not show them yet.

use serde_json::Value;
use warden_core::filter::{Delta, FilterView, IdKind, Membership, PublishedFilter, Unusable};
use warden_core::{hex, token_digest, UnixTime};

use crate::fields::obj;

/// The KV namespace binding.
pub const KV_BINDING: &str = "WARDEN_KV";
/// The request path's name for the `sid` record's lifetime.
pub use warden_core::session_expiration;
/// The published revocation filter's KV key (written by the log object, `revlog.rs`).
pub const FILTER_KEY: &str = "rvf:filter";
/// The published delta's KV key.
pub const DELTA_KEY: &str = "rvf:delta";
/// A reader's staleness bound: a filter whose newest part was built longer ago than this is not
/// used (per-id reads instead). Covers the log's heartbeat (30 s), KV's cache of a read value
/// (60 s) and the reader's own interval, with room to spare.
pub const FILTER_MAX_AGE_SECONDS: u64 = 180;
/// How long this isolate's own writes are laid over refreshed snapshots (≥ KV's propagation).
pub const OVERLAY_SECONDS: u64 = 120;
/// Keys per KV `list` page (KV's maximum).
pub const LIST_PAGE: u64 = 1000;
/// Pages read per snapshot refresh; a larger revocation set leaves the snapshot incomplete,
/// and ids it does not hold are then read from KV one by one.
pub const MAX_SNAPSHOT_PAGES: usize = 10;
/// Point-read answers a snapshot remembers until its next refresh.
const MAX_REMEMBERED_READS: usize = 10_000;

/// What a revocation record names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// One token (`jti`).
    Jti,
    /// A session (`sid`).
    Sid,
    /// A signing key (`kid`).
    Kid,
    /// A subject's cutoff (`sub`).
    Sub,
}

impl Kind {
    /// `jti`, `sid`, `kid` or `sub`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Jti => "jti",
            Kind::Sid => "sid",
            Kind::Kid => "kid",
            Kind::Sub => "sub",
        }
    }

    /// The record's KV key, e.g. `rv:jti:<id>`.
    pub fn key(self, id: &str) -> String {
        format!("rv:{}:{id}", self.name())
    }

    /// The filter's kind (`None` for `Sub`: cutoffs are kept exactly).
    pub fn id_kind(self) -> Option<IdKind> {
        match self {
            Kind::Jti => Some(IdKind::Jti),
            Kind::Sid => Some(IdKind::Sid),
            Kind::Kid => Some(IdKind::Kid),
            Kind::Sub => None,
        }
    }

    fn slot(self) -> usize {
        match self {
            Kind::Jti => 0,
            Kind::Sid => 1,
            Kind::Kid => 2,
            Kind::Sub => 3,
        }
    }

    /// The kind and id of a record's KV key (`rv:<kind>:<id>`), if it is one.
    pub fn of_key(name: &str) -> Option<(Kind, &str)> {
        let rest = name.strip_prefix("rv:")?;
        let (kind, id) = rest.split_once(':')?;
        let kind = match kind {
            "jti" => Kind::Jti,
            "sid" => Kind::Sid,
            "kid" => Kind::Kid,
            "sub" => Kind::Sub,
            _ => return None,
        };
        (!id.is_empty()).then_some((kind, id))
    }
}

/// The prefix of a subject's index entries: `idx:<hex sha256(sub)>:`. Hashed so that a `sub`
/// containing `:` cannot reach into another subject's entries, and so that keys stay under
/// KV's 512-byte limit with 256-byte ids.
pub fn index_prefix(sub: &str) -> String {
    format!("idx:{}:", hex(&token_digest(sub)))
}

/// A subject's index entry for `kind` (`jti`, `sid`, `sub`, `pat`) and `id`.
pub fn index_key(sub: &str, kind: &str, id: &str) -> String {
    format!("{}{kind}:{id}", index_prefix(sub))
}

/// A revocation fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `kind`/`id` is revoked until `expiration` (0: no expiration).
    Revoked {
        /// `Jti`, `Sid` or `Kid`.
        kind: Kind,
        /// The id.
        id: String,
        /// When the record expires (Unix seconds), 0 for never.
        expiration: UnixTime,
    },
    /// Tokens of `sub` issued at or before `before` are revoked.
    Cutoff {
        /// The subject.
        sub: String,
        /// The cutoff.
        before: UnixTime,
    },
}

/// What a snapshot says about one id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Revoked.
    Present,
    /// Not revoked (as of the snapshot).
    Absent,
    /// The snapshot cannot tell: read KV.
    Maybe,
}

/// What a snapshot says about a subject's cutoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutoffLookup {
    /// Known: the cutoff, or none.
    Known(Option<UnixTime>),
    /// The snapshot cannot tell: read KV.
    Maybe,
}

/// String ids to numbers (a time, a slot), kept in the one map type the worker has anyway,
/// the JSON object's (`serde_json::Map`): each other map type would be one more B-tree
/// compiled into the worker (about 3 KB of its gzip size each).
#[derive(Clone, Debug, Default)]
pub struct IdMap(serde_json::Map<String, Value>);

impl IdMap {
    /// The number of `id`.
    pub fn get(&self, id: &str) -> Option<u64> {
        self.0.get(id).and_then(Value::as_u64)
    }

    /// Sets the number of `id`; whether `id` was new.
    pub fn insert(&mut self, id: String, n: u64) -> bool {
        self.0.insert(id, Value::from(n)).is_none()
    }

    /// Whether `id` is in the map.
    pub fn contains(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    /// Removes `id`; its number.
    pub fn remove(&mut self, id: &str) -> Option<u64> {
        self.0.remove(id).as_ref().and_then(Value::as_u64)
    }

    /// Keeps the ids whose number passes `keep`.
    pub fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        self.0.retain(|_, n| n.as_u64().is_some_and(&keep));
    }

    /// How many ids it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The smallest number held.
    pub fn smallest(&self) -> Option<u64> {
        self.0.values().filter_map(Value::as_u64).min()
    }

    /// How many ids have a number that passes `test`.
    #[cfg(any(test, feature = "testing"))]
    pub fn count(&self, test: impl Fn(u64) -> bool) -> usize {
        self.0
            .values()
            .filter_map(Value::as_u64)
            .filter(|n| test(*n))
            .count()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Forgets every id.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// An isolate's picture of the active revocations.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Revoked ids per kind (`Jti`, `Sid`, `Kid`) → expiration (0: none).
    revoked: [IdMap; 3],
    /// Subject cutoffs.
    cutoffs: IdMap,
    /// `rv:sub:` records listed without usable metadata: their value must be read (a set: the
    /// numbers are 0).
    unknown_subs: IdMap,
    /// Ids read from KV and found absent, per kind, until the next refresh (sets).
    absent: [IdMap; 4],
    remembered: usize,
    /// Whether the listing covered every record (absent from the snapshot = not revoked).
    complete: bool,
    /// Whether this snapshot was built from a listing at all.
    built: bool,
    /// When it was built.
    built_at: UnixTime,
    /// Records listed.
    listed: usize,
}

impl Snapshot {
    /// A snapshot from a `list({prefix: "rv:"})`: `(name, expiration, metadata)` per key.
    /// `complete` is false when the listing stopped early or failed (then every id the
    /// snapshot does not hold is a [`Lookup::Maybe`]).
    pub fn build<'a>(
        keys: impl IntoIterator<Item = (&'a str, Option<UnixTime>, Option<&'a Value>)>,
        complete: bool,
        now: UnixTime,
    ) -> Snapshot {
        let mut s = Snapshot {
            complete,
            built: true,
            built_at: now,
            ..Snapshot::default()
        };
        for (name, expiration, metadata) in keys {
            let Some((kind, id)) = Kind::of_key(name) else {
                continue;
            };
            let expiration = expiration.unwrap_or(0);
            if expiration != 0 && expiration <= now {
                continue;
            }
            s.listed += 1;
            if kind == Kind::Sub {
                match metadata
                    .and_then(|m| m.get("before"))
                    .and_then(Value::as_u64)
                {
                    Some(before) => s.apply(&Entry::Cutoff {
                        sub: id.to_owned(),
                        before,
                    }),
                    None => {
                        s.unknown_subs.insert(id.to_owned(), 0);
                    }
                }
            } else {
                s.apply(&Entry::Revoked {
                    kind,
                    id: id.to_owned(),
                    expiration,
                });
            }
        }
        s
    }

    /// The snapshot to hold after a failed listing: every revocation this one knew stays known
    /// (a failed refresh must never forget one, least of all under `WARDEN_FAIL_MODE=open`), but
    /// it is incomplete, so every other id is a [`Lookup::Maybe`] again.
    pub fn degraded(&self, now: UnixTime) -> Snapshot {
        let mut revoked = self.revoked.clone();
        for map in &mut revoked {
            map.retain(|expiration| expiration == 0 || expiration > now);
        }
        Snapshot {
            revoked,
            cutoffs: self.cutoffs.clone(),
            unknown_subs: self.unknown_subs.clone(),
            complete: false,
            built: true,
            built_at: now,
            listed: self.listed,
            ..Snapshot::default()
        }
    }

    /// Adds a fact (this isolate's own write, or a KV read). Cutoffs only ever rise.
    pub fn apply(&mut self, entry: &Entry) {
        match entry {
            Entry::Revoked {
                kind,
                id,
                expiration,
            } => {
                if let Some(map) = self.revoked.get_mut(kind.slot()) {
                    let e = map.get(id).unwrap_or(*expiration);
                    let kept = if e != 0 && (*expiration == 0 || *expiration > e) {
                        *expiration
                    } else {
                        e
                    };
                    map.insert(id.clone(), kept);
                }
                if let Some(set) = self.absent.get_mut(kind.slot()) {
                    set.remove(id);
                }
            }
            Entry::Cutoff { sub, before } => {
                let b = self.cutoffs.get(sub).unwrap_or(*before);
                self.cutoffs.insert(sub.clone(), b.max(*before));
                self.unknown_subs.remove(sub);
                if let Some(set) = self.absent.get_mut(Kind::Sub.slot()) {
                    set.remove(sub);
                }
            }
        }
    }

    /// Remembers that a KV read found no record for `kind`/`id` (until the next refresh).
    pub fn remember_absent(&mut self, kind: Kind, id: &str) {
        if self.remembered >= MAX_REMEMBERED_READS {
            return;
        }
        if let Some(set) = self.absent.get_mut(kind.slot()) {
            if set.insert(id.to_owned(), 0) {
                self.remembered += 1;
            }
        }
    }

    /// Is `kind`/`id` revoked? `None` ids are absent. `kind` must not be `Sub` (see
    /// [`Snapshot::cutoff`]).
    pub fn fact(&self, kind: Kind, id: Option<&str>, now: UnixTime) -> Lookup {
        let Some(id) = id else {
            return Lookup::Absent;
        };
        if let Some(expiration) = self.revoked.get(kind.slot()).and_then(|m| m.get(id)) {
            if expiration == 0 || expiration > now {
                return Lookup::Present;
            }
        }
        if self.complete || self.absent.get(kind.slot()).is_some_and(|s| s.contains(id)) {
            Lookup::Absent
        } else {
            Lookup::Maybe
        }
    }

    /// The cutoff of `sub`, if the snapshot knows it.
    pub fn cutoff(&self, sub: Option<&str>) -> CutoffLookup {
        let Some(sub) = sub else {
            return CutoffLookup::Known(None);
        };
        if let Some(before) = self.cutoffs.get(sub) {
            return CutoffLookup::Known(Some(before));
        }
        if self.absent[Kind::Sub.slot()].contains(sub) {
            return CutoffLookup::Known(None);
        }
        if self.complete && !self.unknown_subs.contains(sub) {
            CutoffLookup::Known(None)
        } else {
            CutoffLookup::Maybe
        }
    }

    /// Whether the snapshot was built less than `interval` seconds before `now`.
    pub fn is_fresh(&self, now: UnixTime, interval: u64) -> bool {
        self.built && now < self.built_at.saturating_add(interval) && now >= self.built_at
    }

    /// For `GET /_warden/health`.
    pub fn status(&self, now: UnixTime) -> Value {
        if !self.built {
            return obj! {"built": false};
        }
        obj! {
            "built": true,
            "age_seconds": now.saturating_sub(self.built_at),
            "complete": self.complete,
            "records": self.listed,
            "cutoffs": self.cutoffs.len(),
        }
    }
}

/// How an isolate reads revocations: `WARDEN_SNAPSHOT_SECONDS` and `WARDEN_REVOCATION_FILTER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reads {
    /// The snapshot's (or filter's) refresh interval, seconds.
    pub interval: u64,
    /// Read the published filter (and record every write in the log object).
    pub filter: bool,
}

/// What an isolate holds of the published revocation filter (`WARDEN_REVOCATION_FILTER=on`,
/// `revlog.rs`): read once per interval — the small delta, and the filter itself only
/// when the delta names another one.
#[derive(Default)]
pub struct FilterState {
    filter: Option<PublishedFilter>,
    delta: Option<Delta>,
    /// Why the last value read could not be used, if it could not.
    problem: Option<Unusable>,
    /// When the values were last read (`None`: never).
    read_at: Option<UnixTime>,
    /// Ids a KV read found absent after a filter hit, per kind (`Jti`, `Sid`, `Kid`), until
    /// another filter is read.
    absent: [IdMap; 3],
    remembered: usize,
    /// The filter's size in bytes.
    bytes: usize,
}

impl FilterState {
    /// Whether the values were read less than `interval` seconds before `now`.
    pub fn is_fresh(&self, now: UnixTime, interval: u64) -> bool {
        self.read_at
            .is_some_and(|at| now >= at && now < at.saturating_add(interval))
    }

    /// Takes a delta just read (`None`: no such key); whether the filter must be read too (the
    /// delta extends another filter than the one held, or there is none).
    pub fn take_delta(&mut self, bytes: Option<&[u8]>, now: UnixTime) -> bool {
        self.read_at = Some(now);
        self.problem = None;
        match bytes.map(Delta::parse) {
            Some(Ok(d)) => {
                let same = self
                    .filter
                    .as_ref()
                    .is_some_and(|f| f.checksum() == d.base());
                self.delta = Some(d);
                !same
            }
            Some(Err(e)) => {
                self.problem = Some(Unusable::Corrupt(e));
                self.filter.is_none()
            }
            None => {
                // Withdrawn (the log is seeding again) or never published: nothing held counts.
                self.delta = None;
                if self.filter.take().is_some() {
                    self.problem = Some(Unusable::Missing);
                }
                true
            }
        }
    }

    /// The delta could not be read: keep what is held, try again next interval; whether the
    /// filter must be read (none is held).
    pub fn read_failed(&mut self, now: UnixTime) -> bool {
        self.read_at = Some(now);
        self.filter.is_none()
    }

    /// Takes a filter just read (`None`: no such key). A filter that cannot be used leaves the
    /// one held (still right as of when it was built; the staleness bound decides).
    pub fn take_filter(&mut self, bytes: Option<&[u8]>) {
        match bytes.map(PublishedFilter::parse) {
            Some(Ok(f)) => {
                self.bytes = bytes.map_or(0, <[u8]>::len);
                self.filter = Some(f);
                self.problem = None;
                for set in &mut self.absent {
                    set.clear();
                }
                self.remembered = 0;
            }
            Some(Err(e)) => self.problem = Some(Unusable::Corrupt(e)),
            None => {
                if self.filter.is_none() {
                    self.problem = Some(Unusable::Missing);
                }
            }
        }
    }

    /// The view at `now`, or why there is none.
    pub fn view(&self, now: UnixTime) -> Result<FilterView<'_>, Unusable> {
        FilterView::new(
            self.filter.as_ref(),
            self.delta.as_ref(),
            now,
            FILTER_MAX_AGE_SECONDS,
        )
    }

    /// What went wrong with the last read, else why the view cannot answer at `now`.
    pub fn unusable(&self, now: UnixTime) -> Option<Unusable> {
        self.problem.or_else(|| self.view(now).err())
    }

    /// What the filter says about `kind`/`id` at `now` (`Maybe`: read it), given that the
    /// view exists. `kind` must not be `Sub`.
    pub fn fact(&self, view: &FilterView<'_>, kind: Kind, id: Option<&str>) -> Lookup {
        let Some(id_kind) = kind.id_kind() else {
            return Lookup::Maybe;
        };
        match view.id(id_kind, id) {
            Membership::Absent => Lookup::Absent,
            Membership::Present => Lookup::Present,
            Membership::Maybe => {
                if id.is_some_and(|id| self.absent[kind.slot()].contains(id)) {
                    Lookup::Absent
                } else {
                    Lookup::Maybe
                }
            }
        }
    }

    /// Remembers that a KV read found no record for a filter hit (until another filter).
    pub fn remember_absent(&mut self, kind: Kind, id: &str) {
        if self.remembered < MAX_REMEMBERED_READS
            && kind.id_kind().is_some()
            && self.absent[kind.slot()].insert(id.to_owned(), 0)
        {
            self.remembered += 1;
        }
    }

    /// For `GET /_warden/health`.
    pub fn status(&self, now: UnixTime) -> Value {
        let Some(f) = &self.filter else {
            return obj! {"loaded": false, "problem": self.unusable(now).map(Unusable::code)};
        };
        let view = self.view(now);
        obj! {
            "loaded": true,
            "ids": f.len(),
            "cutoffs": f.cutoffs().len(),
            "bytes": self.bytes,
            "built_at": f.built_at(),
            "delta": self.delta.as_ref().map(|d| d.revocations().len() + d.cutoffs().len()),
            "as_of": view.as_ref().ok().map(FilterView::as_of),
            "problem": self.unusable(now).map(Unusable::code),
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    //! The KV side: listing, point reads, writes, the isolate's state.

    use std::cell::RefCell;

    use futures_util::future::join4;
    use js_sys::{Function, Object, Promise, Reflect, Uint8Array, JSON};
    use serde_json::Value;
    use warden_core::{Fact, RevocationIds, StoreAnswers, Unavailable, UnixTime};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use worker::Env;

    use super::*;
    use crate::audit::{audit, AuditEvent};
    use crate::epoch;
    use crate::fields::{fields, obj, text};
    use crate::protocol::{self, LoggedCutoff, LoggedId, ObjectAnswer, ObjectRequest, LOG_OBJECT};

    struct State {
        snapshot: Snapshot,
        /// The published filter, when `WARDEN_REVOCATION_FILTER=on`.
        filter: FilterState,
        /// A request of this isolate is reading the filter now.
        filter_reading: bool,
        /// This isolate's own writes, with when they were made.
        overlay: Vec<(Entry, UnixTime)>,
        /// A request of this isolate is listing the revocations now.
        refreshing: bool,
    }

    thread_local! {
        static STATE: RefCell<State> = RefCell::new(State {
            snapshot: Snapshot::default(),
            filter: FilterState::default(),
            filter_reading: false,
            overlay: Vec::new(),
            refreshing: false,
        });
    }

    /// Polling step of a request that waits for another request's listing.
    const WAIT_STEP_MS: u64 = 5;
    /// Longest wait for another request's listing before going on with the current snapshot.
    const WAIT_MAX_MS: u64 = 10_000;

    /// Clears the isolate's "refreshing" mark when the listing ends, however it ends (a request
    /// cancelled mid-listing drops its future, and with it this guard).
    struct Refreshing;

    impl Drop for Refreshing {
        fn drop(&mut self) {
            STATE.with(|s| s.borrow_mut().refreshing = false);
        }
    }

    /// The same for the filter's reading.
    struct ReadingFilter;

    impl Drop for ReadingFilter {
        fn drop(&mut self) {
            STATE.with(|s| s.borrow_mut().filter_reading = false);
        }
    }

    /// The KV binding.
    pub fn kv(env: &Env) -> worker::Result<Kv> {
        Ok(Kv(Reflect::get(env, &JsValue::from_str(KV_BINDING))?))
    }

    /// The KV namespace binding, called directly: the workers-rs `KvStore` converts its options
    /// with a generic serde-to-JavaScript serializer (code the worker needs nowhere else) and
    /// looks up the binding's five methods for every handle.
    pub struct Kv(JsValue);

    impl Kv {
        fn call(&self, method: &str, args: &[&JsValue]) -> worker::Result<JsFuture> {
            let f: Function = Reflect::get(&self.0, &JsValue::from_str(method))?.dyn_into()?;
            let promise: Promise = match args {
                [a] => f.call1(&self.0, a)?,
                [a, b] => f.call2(&self.0, a, b)?,
                [a, b, c] => f.call3(&self.0, a, b, c)?,
                _ => return Err(worker::Error::RustError("KV: no such call".into())),
            }
            .dyn_into()?;
            Ok(JsFuture::from(promise))
        }

        /// The value under `key` as text, if there is one.
        pub async fn text(&self, key: &str) -> worker::Result<Option<String>> {
            let value = self.call("get", &[&key.into(), &"text".into()])?.await?;
            Ok(value.as_string())
        }

        /// The value under `key` as bytes, if there is one.
        pub async fn bytes(&self, key: &str) -> worker::Result<Option<Vec<u8>>> {
            let value = self
                .call("get", &[&key.into(), &"arrayBuffer".into()])?
                .await?;
            if value.is_null() || value.is_undefined() {
                return Ok(None);
            }
            Ok(Some(Uint8Array::new(&value).to_vec()))
        }

        /// Writes `value` under `key`, with `metadata` (a JSON object, listed with the key) and
        /// an `expiration` (seconds since the epoch) when given.
        pub async fn put(
            &self,
            key: &str,
            value: &[u8],
            metadata: Option<&Value>,
            expiration: Option<UnixTime>,
        ) -> worker::Result<()> {
            let options = Object::new();
            if let Some(metadata) = metadata {
                Reflect::set(&options, &"metadata".into(), &JSON::parse(&text(metadata))?)?;
            }
            if let Some(e) = expiration {
                Reflect::set(&options, &"expiration".into(), &(e as f64).into())?;
            }
            let value = Uint8Array::from(value);
            self.call("put", &[&key.into(), &value, &options])?.await?;
            Ok(())
        }

        /// Deletes `key`.
        pub async fn delete(&self, key: &str) -> worker::Result<()> {
            self.call("delete", &[&key.into()])?.await?;
            Ok(())
        }
    }

    /// [`Kv::put`] on the binding of `env`.
    pub async fn put(
        env: &Env,
        key: &str,
        value: &[u8],
        metadata: Option<&Value>,
        expiration: Option<UnixTime>,
    ) -> worker::Result<()> {
        kv(env)?.put(key, value, metadata, expiration).await
    }

    /// A key of a [`list_page`].
    pub struct Listed {
        /// The key.
        pub name: String,
        /// Unix seconds, when the key has an expiration.
        pub expiration: Option<u64>,
        /// Its metadata, when it has some.
        pub metadata: Option<Value>,
    }

    /// One page of the keys under `prefix` (at most `limit`) from `cursor` on, and the cursor
    /// of the next page when there is one. Calls the binding's `list` through [`Kv`]: the
    /// workers-rs builder converts its answer with a generic JS-to-serde deserializer, code the
    /// worker needs nowhere else.
    pub async fn list_page(
        env: &Env,
        prefix: &str,
        limit: u64,
        cursor: Option<&str>,
    ) -> worker::Result<(Vec<Listed>, Option<String>)> {
        let field = |o: &JsValue, name: &str| Reflect::get(o, &JsValue::from_str(name));
        let options = Object::new();
        Reflect::set(&options, &"prefix".into(), &prefix.into())?;
        Reflect::set(&options, &"limit".into(), &(limit as f64).into())?;
        if let Some(c) = cursor {
            Reflect::set(&options, &"cursor".into(), &c.into())?;
        }
        let page = kv(env)?.call("list", &[&options])?.await?;
        let keys: js_sys::Array = field(&page, "keys")?.dyn_into()?;
        let mut listed = Vec::with_capacity(keys.length() as usize);
        for key in keys.iter() {
            let name = field(&key, "name")?
                .as_string()
                .ok_or_else(|| worker::Error::RustError("KV list: a key without a name".into()))?;
            let expiration = field(&key, "expiration")?.as_f64().map(|e| e as u64);
            let metadata = field(&key, "metadata")?;
            // Warden writes objects; anything else reads as no metadata.
            let metadata = if metadata.is_undefined() || metadata.is_null() {
                None
            } else {
                let text: String = JSON::stringify(&metadata)?.into();
                crate::fields::parse(&text).ok()
            };
            listed.push(Listed {
                name,
                expiration,
                metadata,
            });
        }
        let complete = field(&page, "list_complete")?.as_bool().unwrap_or(true);
        let next = field(&page, "cursor")?
            .as_string()
            .filter(|c| !complete && !c.is_empty());
        Ok((listed, next))
    }

    /// The store's answers for a token's ids: from the snapshot (refreshed first when older
    /// than `interval`), with a KV read only for a [`Lookup::Maybe`].
    pub async fn answers(
        env: &Env,
        reads: Reads,
        ids: &RevocationIds<'_>,
        now: UnixTime,
    ) -> StoreAnswers {
        let interval = reads.interval;
        if reads.filter {
            if let Some(answers) = filtered(env, interval, ids, now).await {
                return answers;
            }
        }
        // The common case: a fresh snapshot answers every id, and KV is not touched at all.
        if let Some(answers) = STATE.with(|s| {
            let s = s.borrow();
            let snapshot = &s.snapshot;
            if !snapshot.is_fresh(now, interval) {
                return None;
            }
            Some(StoreAnswers {
                jti: settled(ids.jti, snapshot.fact(Kind::Jti, ids.jti, now)).ok()?,
                sid: settled(ids.sid, snapshot.fact(Kind::Sid, ids.sid, now)).ok()?,
                kid: settled(ids.kid, snapshot.fact(Kind::Kid, ids.kid, now)).ok()?,
                subject_cutoff: Ok(settled_cutoff(ids.sub, snapshot.cutoff(ids.sub)).ok()?),
            })
        }) {
            return answers;
        }
        let Ok(kv) = kv(env) else {
            return StoreAnswers {
                jti: Fact::Unknown,
                sid: Fact::Unknown,
                kid: Fact::Unknown,
                subject_cutoff: Err(Unavailable),
            };
        };
        ensure_fresh(env, now, interval).await;
        let (jti, sid, kid, cutoff) = STATE.with(|s| {
            let s = &s.borrow().snapshot;
            (
                s.fact(Kind::Jti, ids.jti, now),
                s.fact(Kind::Sid, ids.sid, now),
                s.fact(Kind::Kid, ids.kid, now),
                s.cutoff(ids.sub),
            )
        });
        let (jti, sid, kid, subject_cutoff) = join4(
            resolve(&kv, Kind::Jti, ids.jti, jti),
            resolve(&kv, Kind::Sid, ids.sid, sid),
            resolve(&kv, Kind::Kid, ids.kid, kid),
            resolve_cutoff(&kv, ids.sub, cutoff),
        )
        .await;
        StoreAnswers {
            jti,
            sid,
            kid,
            subject_cutoff,
        }
    }

    /// The answers from the published filter (`WARDEN_REVOCATION_FILTER=on`), read first when
    /// older than `interval`: this isolate's own writes, then the filter and its delta, a KV
    /// read only for a filter hit. `None` when the filter cannot answer (missing, corrupt,
    /// stale): the caller reads as without one.
    async fn filtered(
        env: &Env,
        interval: u64,
        ids: &RevocationIds<'_>,
        now: UnixTime,
    ) -> Option<StoreAnswers> {
        ensure_filter(env, now, interval).await;
        let (jti, sid, kid, cutoff) = STATE.with(|s| {
            let s = s.borrow();
            let view = s.filter.view(now).ok()?;
            let fact = |kind: Kind, id: Option<&str>| match s.snapshot.fact(kind, id, now) {
                Lookup::Present => Lookup::Present,
                _ => s.filter.fact(&view, kind, id),
            };
            let own = match s.snapshot.cutoff(ids.sub) {
                CutoffLookup::Known(c) => c,
                CutoffLookup::Maybe => None,
            };
            Some((
                fact(Kind::Jti, ids.jti),
                fact(Kind::Sid, ids.sid),
                fact(Kind::Kid, ids.kid),
                view.cutoff(ids.sub).max(own),
            ))
        })?;
        if [jti, sid, kid].iter().all(|l| *l != Lookup::Maybe) {
            return Some(StoreAnswers {
                jti: settled(ids.jti, jti).unwrap_or(Fact::Unknown),
                sid: settled(ids.sid, sid).unwrap_or(Fact::Unknown),
                kid: settled(ids.kid, kid).unwrap_or(Fact::Unknown),
                subject_cutoff: Ok(cutoff),
            });
        }
        let Ok(kv) = kv(env) else {
            return Some(StoreAnswers {
                jti: Fact::Unknown,
                sid: Fact::Unknown,
                kid: Fact::Unknown,
                subject_cutoff: Ok(cutoff),
            });
        };
        let (jti, sid, kid) = futures_util::future::join3(
            confirm(&kv, Kind::Jti, ids.jti, jti),
            confirm(&kv, Kind::Sid, ids.sid, sid),
            confirm(&kv, Kind::Kid, ids.kid, kid),
        )
        .await;
        Some(StoreAnswers {
            jti,
            sid,
            kid,
            subject_cutoff: Ok(cutoff),
        })
    }

    /// A filter hit confirmed by a read of the id's record (a false positive costs this read,
    /// never a verdict); an absent record is remembered until another filter is read.
    async fn confirm(kv: &Kv, kind: Kind, id: Option<&str>, lookup: Lookup) -> Fact {
        let fact = resolve(kv, kind, id, lookup).await;
        if let (Fact::Absent, Lookup::Maybe, Some(id)) = (fact, lookup, id) {
            STATE.with(|s| s.borrow_mut().filter.remember_absent(kind, id));
        }
        fact
    }

    /// Reads the delta (and the filter when the delta names another one) when older than
    /// `interval`, one reader per isolate at a time. A filter that cannot be used is audited
    /// and the log object asked to publish, once per interval.
    async fn ensure_filter(env: &Env, now: UnixTime, interval: u64) {
        let start = STATE.with(|s| {
            let mut s = s.borrow_mut();
            (!s.filter.is_fresh(now, interval))
                .then(|| !std::mem::replace(&mut s.filter_reading, true))
        });
        match start {
            None => return,
            Some(false) => {
                for _ in 0..WAIT_MAX_MS / WAIT_STEP_MS {
                    worker::Delay::from(std::time::Duration::from_millis(WAIT_STEP_MS)).await;
                    if !STATE.with(|s| s.borrow().filter_reading) {
                        break;
                    }
                }
                return;
            }
            Some(true) => {}
        }
        let _reading = ReadingFilter;
        let Ok(kv) = kv(env) else { return };
        let delta = kv.bytes(DELTA_KEY).await;
        let need_filter = match &delta {
            Ok(d) => STATE.with(|s| s.borrow_mut().filter.take_delta(d.as_deref(), now)),
            Err(e) => {
                // What is held stays right as of when it was built (its age decides); try again
                // next interval.
                audit(
                    AuditEvent::StoreError,
                    &fields! {"op": "get", "kind": "delta", "error": e.to_string()},
                );
                STATE.with(|s| s.borrow_mut().filter.read_failed(now))
            }
        };
        if need_filter {
            match kv.bytes(FILTER_KEY).await {
                Ok(f) => STATE.with(|s| s.borrow_mut().filter.take_filter(f.as_deref())),
                Err(e) => audit(
                    AuditEvent::StoreError,
                    &fields! {"op": "get", "kind": "filter", "error": e.to_string()},
                ),
            }
        }
        epoch::changed();
        if let Some(why) = STATE.with(|s| s.borrow().filter.unusable(now)) {
            audit(
                AuditEvent::RevocationFilter,
                &fields! {"action": "unusable", "code": why.code(), "detail": why.to_string()},
            );
            if let Err(e) = poke_log(env).await {
                audit(
                    AuditEvent::StoreError,
                    &fields! {"op": "publish_filter", "error": e.to_string()},
                );
            }
        }
    }

    /// Records revocations in the log object (`WARDEN_REVOCATION_FILTER=on`), before their KV
    /// records are written.
    pub async fn record_in_log(
        env: &Env,
        ids: Vec<LoggedId>,
        cutoffs: Vec<LoggedCutoff>,
    ) -> worker::Result<()> {
        match protocol::call(env, LOG_OBJECT, &ObjectRequest::Record { ids, cutoffs }).await? {
            ObjectAnswer::Done => Ok(()),
            other => Err(protocol::unexpected(&other)),
        }
    }

    /// Asks the log object to publish soon.
    async fn poke_log(env: &Env) -> worker::Result<()> {
        match protocol::call(env, LOG_OBJECT, &ObjectRequest::Publish).await? {
            ObjectAnswer::Done => Ok(()),
            other => Err(protocol::unexpected(&other)),
        }
    }

    /// Rebuilds the snapshot when it is older than `interval`, one listing per isolate at a time.
    ///
    /// A request that finds another one listing polls the isolate's state on its own timer
    /// instead of awaiting the other request's listing: workerd does not resume a request from
    /// another request's I/O (the continuation would be cancelled).
    async fn ensure_fresh(env: &Env, now: UnixTime, interval: u64) {
        let start = STATE.with(|s| {
            let mut s = s.borrow_mut();
            (!s.snapshot.is_fresh(now, interval))
                .then(|| !std::mem::replace(&mut s.refreshing, true))
        });
        match start {
            None => {}
            Some(true) => {
                let _refreshing = Refreshing;
                refresh(env, now).await;
            }
            Some(false) => {
                for _ in 0..WAIT_MAX_MS / WAIT_STEP_MS {
                    worker::Delay::from(std::time::Duration::from_millis(WAIT_STEP_MS)).await;
                    if !STATE.with(|s| s.borrow().refreshing) {
                        break;
                    }
                }
            }
        }
    }

    async fn refresh(env: &Env, now: UnixTime) {
        let listed = list_revocations(env).await;
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let mut snapshot = match &listed {
                Ok((keys, complete)) => Snapshot::build(
                    keys.iter()
                        .map(|k| (k.name.as_str(), k.expiration, k.metadata.as_ref())),
                    *complete,
                    now,
                ),
                Err(e) => {
                    audit(
                        AuditEvent::StoreError,
                        &fields! {"op": "list", "error": e.to_string()},
                    );
                    s.snapshot.degraded(now)
                }
            };
            s.overlay
                .retain(|(_, at)| at.saturating_add(OVERLAY_SECONDS) > now);
            for (entry, _) in &s.overlay {
                snapshot.apply(entry);
            }
            s.snapshot = snapshot;
        });
        epoch::changed();
    }

    async fn list_revocations(env: &Env) -> worker::Result<(Vec<Listed>, bool)> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_SNAPSHOT_PAGES {
            let (page, next) = list_page(env, "rv:", LIST_PAGE, cursor.as_deref()).await?;
            keys.extend(page);
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok((keys, true)),
            }
        }
        Ok((keys, false))
    }

    /// The fact the snapshot's `lookup` settles without a read, if it does.
    /// `Err(id)`: the id to read from KV.
    fn settled(id: Option<&str>, lookup: Lookup) -> Result<Fact, &str> {
        match (lookup, id) {
            (Lookup::Present, _) => Ok(Fact::Present),
            (Lookup::Absent, _) | (Lookup::Maybe, None) => Ok(Fact::Absent),
            (Lookup::Maybe, Some(id)) => Err(id),
        }
    }

    /// The subject cutoff the snapshot's `lookup` settles without a read, if it does.
    /// `Err(sub)`: the subject whose record to read from KV.
    fn settled_cutoff(sub: Option<&str>, lookup: CutoffLookup) -> Result<Option<UnixTime>, &str> {
        match (lookup, sub) {
            (CutoffLookup::Known(c), _) => Ok(c),
            (CutoffLookup::Maybe, None) => Ok(None),
            (CutoffLookup::Maybe, Some(sub)) => Err(sub),
        }
    }

    async fn resolve(kv: &Kv, kind: Kind, id: Option<&str>, lookup: Lookup) -> Fact {
        let id = match settled(id, lookup) {
            Ok(fact) => return fact,
            Err(id) => id,
        };
        match kv.text(&kind.key(id)).await {
            Ok(Some(_)) => {
                with_snapshot(|s| {
                    s.apply(&Entry::Revoked {
                        kind,
                        id: id.to_owned(),
                        expiration: 0,
                    })
                });
                Fact::Present
            }
            Ok(None) => {
                with_snapshot(|s| s.remember_absent(kind, id));
                Fact::Absent
            }
            Err(e) => {
                audit(
                    AuditEvent::StoreError,
                    &fields! {"op": "get", "kind": kind.name(), "error": e.to_string()},
                );
                Fact::Unknown
            }
        }
    }

    async fn resolve_cutoff(
        kv: &Kv,
        sub: Option<&str>,
        lookup: CutoffLookup,
    ) -> Result<Option<UnixTime>, Unavailable> {
        let sub = match settled_cutoff(sub, lookup) {
            Ok(cutoff) => return Ok(cutoff),
            Err(sub) => sub,
        };
        match kv.text(&Kind::Sub.key(sub)).await {
            Ok(None) => {
                with_snapshot(|s| s.remember_absent(Kind::Sub, sub));
                Ok(None)
            }
            Ok(Some(text)) => {
                let before = crate::fields::parse(&text)
                    .ok()
                    .and_then(|v| v.get("before").and_then(Value::as_u64));
                match before {
                    Some(before) => {
                        with_snapshot(|s| {
                            s.apply(&Entry::Cutoff {
                                sub: sub.to_owned(),
                                before,
                            })
                        });
                        Ok(Some(before))
                    }
                    None => {
                        audit(
                            AuditEvent::StoreError,
                            &fields! {"op": "get", "kind": "sub", "error": "cutoff record is not {\"before\": <unix seconds>}"},
                        );
                        Err(Unavailable)
                    }
                }
            }
            Err(e) => {
                audit(
                    AuditEvent::StoreError,
                    &fields! {"op": "get", "kind": "sub", "error": e.to_string()},
                );
                Err(Unavailable)
            }
        }
    }

    fn with_snapshot(f: impl FnOnce(&mut Snapshot)) {
        STATE.with(|s| f(&mut s.borrow_mut().snapshot));
        epoch::changed();
    }

    /// Makes this isolate's own write effective here at once, and keeps it over refreshed
    /// snapshots for [`OVERLAY_SECONDS`].
    pub fn remember_write(entry: Entry, now: UnixTime) {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.snapshot.apply(&entry);
            s.overlay
                .retain(|(_, at)| at.saturating_add(OVERLAY_SECONDS) > now);
            s.overlay.push((entry, now));
        });
        epoch::changed();
    }

    /// Writes `rv:<kind>:<id>` (`kind` is `Jti`, `Sid` or `Kid`) with `expiration` (`None`:
    /// kept forever), then makes it effective in this isolate. With the filter on it is first
    /// recorded in the log object: every KV record is in the log.
    pub async fn put_revocation(
        env: &Env,
        reads: Reads,
        kind: Kind,
        id: &str,
        expiration: Option<UnixTime>,
        now: UnixTime,
    ) -> worker::Result<()> {
        if reads.filter {
            let logged = LoggedId {
                kind: kind.name().to_owned(),
                id: id.to_owned(),
                expires_at: expiration.unwrap_or(0),
            };
            record_in_log(env, vec![logged], Vec::new()).await?;
        }
        let record = text(&obj! {"revoked_at": now});
        put(env, &kind.key(id), record.as_bytes(), None, expiration).await?;
        remember_write(
            Entry::Revoked {
                kind,
                id: id.to_owned(),
                expiration: expiration.unwrap_or(0),
            },
            now,
        );
        Ok(())
    }

    /// Writes a subject's index entry (the record travels in the metadata, so listing needs no
    /// value reads).
    pub async fn put_index(
        env: &Env,
        sub: &str,
        kind: &str,
        id: &str,
        metadata: &Value,
        expiration: Option<UnixTime>,
    ) -> worker::Result<()> {
        put(
            env,
            &index_key(sub, kind, id),
            b"",
            Some(metadata),
            expiration,
        )
        .await
    }

    /// One page (up to 1000) of a subject's index entries of the given kinds: their metadata,
    /// and the cursor of the next page.
    pub async fn list_index(
        env: &Env,
        sub: &str,
        kinds: &[&str],
        cursor: Option<String>,
    ) -> worker::Result<(Vec<Value>, Option<String>)> {
        let prefix = index_prefix(sub);
        // One kind: list only its entries (`idx:<hash>:<kind>:`), not the subject's others.
        let listed = match kinds {
            [kind] => format!("{prefix}{kind}:"),
            _ => prefix.clone(),
        };
        let (page, cursor) = list_page(env, &listed, LIST_PAGE, cursor.as_deref()).await?;
        let items = page
            .into_iter()
            .filter(|k| {
                k.name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.split_once(':'))
                    .is_some_and(|(kind, _)| kinds.contains(&kind))
            })
            .filter_map(|k| k.metadata)
            .collect();
        Ok((items, cursor))
    }

    /// The snapshot's state, for `GET /_warden/health`.
    pub fn snapshot_status(now: UnixTime) -> Value {
        STATE.with(|s| s.borrow().snapshot.status(now))
    }

    /// The published filter as this isolate holds it, for `GET /_warden/health`.
    pub fn filter_status(now: UnixTime) -> Value {
        STATE.with(|s| s.borrow().filter.status(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listed(keys: &[(&str, Option<u64>, Option<Value>)], complete: bool, now: u64) -> Snapshot {
        Snapshot::build(
            keys.iter().map(|(n, e, m)| (*n, *e, m.as_ref())),
            complete,
            now,
        )
    }

    #[test]
    fn id_maps_are_maps() {
        let mut map = IdMap::default();
        assert!(map.is_empty());
        assert!(map.insert("b".into(), 2));
        assert!(map.insert("a".into(), 0));
        assert!(!map.insert("a".into(), 1), "already there");
        assert_eq!(
            (map.len(), map.get("a"), map.get("b")),
            (2, Some(1), Some(2))
        );
        assert!(map.contains("a") && !map.contains("c") && map.get("c").is_none());
        map.retain(|n| n > 1);
        assert_eq!((map.len(), map.get("a")), (1, None));
        assert_eq!((map.remove("b"), map.remove("b")), (Some(2), None));
        map.insert(u64::MAX.to_string(), u64::MAX);
        assert_eq!(map.get(&u64::MAX.to_string()), Some(u64::MAX));
        map.clear();
        assert!(map.is_empty());
    }

    #[test]
    fn keys_and_expirations() {
        assert_eq!(Kind::Jti.key("a:b"), "rv:jti:a:b");
        assert_eq!(Kind::of_key("rv:jti:a:b"), Some((Kind::Jti, "a:b")));
        assert_eq!(Kind::of_key("rv:sub:x"), Some((Kind::Sub, "x")));
        assert_eq!(Kind::of_key("rv:foo:x"), None);
        assert_eq!(Kind::of_key("rv:jti:"), None);
        assert_eq!(Kind::of_key("idx:x"), None);
        // Index keys never nest: a sub with ':' hashes to its own prefix.
        assert!(!index_key("a:jti", "x", "1").starts_with(&index_prefix("a")));
        assert!(index_key(&"s".repeat(256), "jti", &"j".repeat(256)).len() <= 512);
    }

    #[test]
    fn complete_snapshot_answers_everything() {
        let s = listed(
            &[
                ("rv:jti:j1", Some(2_000), None),
                ("rv:jti:gone", Some(999), None),
                ("rv:kid:k1", None, None),
                ("rv:sid:s1", Some(5_000), Some(json!({}))),
                ("rv:sub:alice", Some(9_000), Some(json!({"before": 900}))),
                ("rv:other:x", None, None),
            ],
            true,
            1_000,
        );
        assert_eq!(s.fact(Kind::Jti, Some("j1"), 1_000), Lookup::Present);
        assert_eq!(
            s.fact(Kind::Jti, Some("j1"), 2_000),
            Lookup::Absent,
            "expired"
        );
        assert_eq!(s.fact(Kind::Jti, Some("gone"), 1_000), Lookup::Absent);
        assert_eq!(s.fact(Kind::Jti, Some("j2"), 1_000), Lookup::Absent);
        assert_eq!(s.fact(Kind::Jti, None, 1_000), Lookup::Absent);
        assert_eq!(s.fact(Kind::Kid, Some("k1"), u64::MAX), Lookup::Present);
        assert_eq!(s.fact(Kind::Sid, Some("s1"), 1_000), Lookup::Present);
        assert_eq!(
            s.fact(Kind::Jti, Some("s1"), 1_000),
            Lookup::Absent,
            "kinds are separate"
        );
        assert_eq!(s.cutoff(Some("alice")), CutoffLookup::Known(Some(900)));
        assert_eq!(s.cutoff(Some("bob")), CutoffLookup::Known(None));
        assert_eq!(s.cutoff(None), CutoffLookup::Known(None));
        assert_eq!(
            s.status(1_005)["records"],
            4,
            "the expired record is not counted"
        );
        assert_eq!(s.status(1_005)["age_seconds"], 5);
    }

    #[test]
    fn a_failed_listing_forgets_no_revocation() {
        let s = listed(
            &[
                ("rv:jti:j1", Some(2_000), None),
                ("rv:jti:short", Some(1_050), None),
                ("rv:sub:alice", Some(9_000), Some(json!({"before": 900}))),
            ],
            true,
            1_000,
        );
        let d = s.degraded(1_100);
        assert_eq!(d.fact(Kind::Jti, Some("j1"), 1_100), Lookup::Present);
        assert_eq!(d.cutoff(Some("alice")), CutoffLookup::Known(Some(900)));
        // Nothing is known absent any more: other ids must be read (or fail closed / open).
        assert_eq!(d.fact(Kind::Jti, Some("j2"), 1_100), Lookup::Maybe);
        assert_eq!(
            d.fact(Kind::Jti, Some("short"), 1_100),
            Lookup::Maybe,
            "expired records are dropped"
        );
    }

    #[test]
    fn incomplete_snapshot_says_maybe_and_remembers_reads() {
        let mut s = listed(
            &[
                ("rv:jti:j1", Some(2_000), None),
                ("rv:sub:bob", None, None), // no metadata: value must be read
            ],
            false,
            1_000,
        );
        assert_eq!(s.fact(Kind::Jti, Some("j1"), 1_000), Lookup::Present);
        assert_eq!(s.fact(Kind::Jti, Some("j2"), 1_000), Lookup::Maybe);
        assert_eq!(s.cutoff(Some("alice")), CutoffLookup::Maybe);
        s.remember_absent(Kind::Jti, "j2");
        assert_eq!(s.fact(Kind::Jti, Some("j2"), 1_000), Lookup::Absent);
        s.remember_absent(Kind::Sub, "alice");
        assert_eq!(s.cutoff(Some("alice")), CutoffLookup::Known(None));
        // A complete listing with a metadata-less cutoff record still reads it.
        let c = listed(&[("rv:sub:bob", None, None)], true, 1_000);
        assert_eq!(c.cutoff(Some("bob")), CutoffLookup::Maybe);
        assert_eq!(c.cutoff(Some("carol")), CutoffLookup::Known(None));
        // A failed listing knows nothing.
        let empty = Snapshot::build(std::iter::empty(), false, 1_000);
        assert_eq!(empty.fact(Kind::Kid, Some("k"), 1_000), Lookup::Maybe);
        // A later write of the same id wins over a remembered absence.
        s.apply(&Entry::Revoked {
            kind: Kind::Jti,
            id: "j2".into(),
            expiration: 3_000,
        });
        assert_eq!(s.fact(Kind::Jti, Some("j2"), 1_000), Lookup::Present);
    }

    #[test]
    fn cutoffs_only_rise_and_permanent_stays_permanent() {
        let mut s = Snapshot::build(std::iter::empty(), true, 1_000);
        for before in [500, 700, 600] {
            s.apply(&Entry::Cutoff {
                sub: "u".into(),
                before,
            });
        }
        assert_eq!(s.cutoff(Some("u")), CutoffLookup::Known(Some(700)));
        s.apply(&Entry::Revoked {
            kind: Kind::Kid,
            id: "k".into(),
            expiration: 0,
        });
        s.apply(&Entry::Revoked {
            kind: Kind::Kid,
            id: "k".into(),
            expiration: 2_000,
        });
        assert_eq!(s.fact(Kind::Kid, Some("k"), 5_000), Lookup::Present);
        s.apply(&Entry::Revoked {
            kind: Kind::Jti,
            id: "j".into(),
            expiration: 2_000,
        });
        s.apply(&Entry::Revoked {
            kind: Kind::Jti,
            id: "j".into(),
            expiration: 1_500,
        });
        assert_eq!(
            s.fact(Kind::Jti, Some("j"), 1_800),
            Lookup::Present,
            "longest wins"
        );
    }

    #[test]
    fn filter_state_reads_the_delta_then_the_filter_it_names() {
        use warden_core::filter::{build_delta, build_filter, Revocation};
        let rev = |id: &str| Revocation {
            kind: IdKind::Jti,
            id: id.into(),
            expires_at: 0,
        };
        let now = 1_000;
        let f1 = build_filter(&[rev("old")], &[], now).unwrap();
        let d1 = build_delta(&f1.checksum, &[rev("new")], &[], now + 5).unwrap();
        let mut st = FilterState::default();
        assert_eq!(st.unusable(now), Some(Unusable::Missing));
        // Nothing held: the delta alone is not enough, the filter must be read.
        assert!(st.take_delta(Some(&d1), now + 5));
        st.take_filter(Some(&f1.bytes));
        assert_eq!(st.unusable(now + 5), None);
        let view = st.view(now + 5).unwrap();
        assert_eq!(st.fact(&view, Kind::Jti, Some("new")), Lookup::Present);
        assert_eq!(st.fact(&view, Kind::Jti, Some("old")), Lookup::Maybe);
        assert_eq!(st.fact(&view, Kind::Jti, Some("live")), Lookup::Absent);
        assert_eq!(st.fact(&view, Kind::Sid, None), Lookup::Absent);
        // A read that found a hit absent is remembered until another filter.
        st.remember_absent(Kind::Jti, "old");
        let view = st.view(now + 5).unwrap();
        assert_eq!(st.fact(&view, Kind::Jti, Some("old")), Lookup::Absent);
        // The same filter's next delta: no filter read.
        let d2 = build_delta(&f1.checksum, &[rev("new")], &[], now + 35).unwrap();
        assert!(!st.take_delta(Some(&d2), now + 35));
        assert!(st.is_fresh(now + 35, 30) && !st.is_fresh(now + 65, 30));
        // A failed read keeps what is held (its age decides), and waits an interval.
        assert!(!st.read_failed(now + 36));
        assert!(st.view(now + 36).is_ok() && st.is_fresh(now + 36, 30));
        // A new filter: read, and what was remembered is forgotten.
        let f2 = build_filter(&[rev("old"), rev("new")], &[], now + 60).unwrap();
        let d3 = build_delta(&f2.checksum, &[], &[], now + 60).unwrap();
        assert!(st.take_delta(Some(&d3), now + 60));
        st.take_filter(Some(&f2.bytes));
        let view = st.view(now + 60).unwrap();
        assert_eq!(st.fact(&view, Kind::Jti, Some("old")), Lookup::Maybe);
        // Stale: unusable, never "absent".
        let late = now + 60 + FILTER_MAX_AGE_SECONDS + 1;
        assert!(matches!(st.unusable(late), Some(Unusable::Stale { .. })));
        // A corrupt delta is reported; the filter held stays (its own age decides).
        let mut bad = d3.clone();
        bad[10] ^= 1;
        assert!(!st.take_delta(Some(&bad), now + 61));
        assert_eq!(
            st.unusable(now + 61).map(Unusable::code),
            Some("filter_corrupt")
        );
        // Withdrawn (no delta): nothing held counts any more.
        assert!(st.take_delta(None, now + 62));
        st.take_filter(None);
        assert_eq!(st.unusable(now + 62), Some(Unusable::Missing));
        assert!(st.view(now + 62).is_err());
        // A corrupt filter is refused.
        let mut bad = f2.bytes.clone();
        bad[20] ^= 1;
        st.take_filter(Some(&bad));
        assert_eq!(
            st.unusable(now + 62).map(Unusable::code),
            Some("filter_corrupt")
        );
        assert_eq!(st.status(now + 62)["loaded"], false);
    }

    #[test]
    fn freshness() {
        let s = Snapshot::build(std::iter::empty(), true, 1_000);
        assert!(s.is_fresh(1_000, 30));
        assert!(s.is_fresh(1_029, 30));
        assert!(!s.is_fresh(1_030, 30));
        assert!(!s.is_fresh(999, 30), "clock went back: rebuild");
        assert!(!Snapshot::default().is_fresh(0, 30));
        assert_eq!(Snapshot::default().status(5)["built"], false);
    }
}
