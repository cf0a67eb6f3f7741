//! The revocation log and the filter it publishes (`WARDEN_REVOCATION_FILTER=on`).
//!
//! Every writer of a revocation (the admin API and its batch endpoint, the Shared Signals
//! receiver and back-channel logout through them, refresh reuse detection, the subject cutoff
//! objects) records it in the Durable Object [`LOG_OBJECT`] *before* writing its KV record, and
//! acknowledges only after both. The object keeps the active revocations in SQLite and, from
//! them, publishes to KV:
//!
//! - `rvf:filter` ([`crate::store::FILTER_KEY`]): every live id revocation as a binary fuse filter and every subject cutoff
//!   exactly ([`warden_core::filter::PublishedFilter`]), rebuilt when the delta grows past
//!   [`MAX_DELTA_ENTRIES`] or the filter is [`REBUILD_SECONDS`] old (expired entries leave);
//! - `rvf:delta` ([`crate::store::DELTA_KEY`]): exactly what was recorded since that filter ([`warden_core::filter::Delta`]),
//!   [`PUBLISH_DELAY_MS`] after a record (KV takes one write per second per key) and at least
//!   every [`HEARTBEAT_SECONDS`], so a reader can tell a live publisher from a dead one.
//!
//! The log is the durable truth: a crash between an acknowledgement and a build loses nothing,
//! as the next build reads the log. When the object has never published, it first seeds itself
//! from a listing of the `rv:` records already in KV ([`SEED_PAGES_PER_RUN`] pages per alarm).

use warden_core::filter::IdKind;
use warden_core::UnixTime;

/// A record reaches the published delta this long after it is made.
pub const PUBLISH_DELAY_MS: u64 = 1000;
/// The delta is republished at least this often, changed or not.
pub const HEARTBEAT_SECONDS: u64 = 30;
/// A full rebuild once the delta would hold more entries than this.
pub const MAX_DELTA_ENTRIES: usize = 4096;
/// A full rebuild once the filter is this old (expired revocations leave it).
pub const REBUILD_SECONDS: u64 = 600;
/// A failed publish is tried again this soon.
pub const RETRY_MS: u64 = 5000;
/// KV listing pages (1,000 keys each) seeded per alarm run.
pub const SEED_PAGES_PER_RUN: usize = 50;

/// The filter's kind for a log kind name (`jti`, `sid`, `kid`).
pub fn id_kind(name: &str) -> Option<IdKind> {
    IdKind::ALL.into_iter().find(|k| k.name() == name)
}

/// What the log holds about its published filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    /// The published filter's checksum, hex.
    pub checksum: String,
    /// The log sequence number it covers (records with a higher one go to the delta).
    pub seq: u64,
    /// When it was built.
    pub built_at: UnixTime,
}

/// What a publishing run builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// A new filter of everything live, then an empty delta on it.
    Full,
    /// A delta of what was recorded since the filter.
    Delta,
}

/// The build for `base` at `now` when the delta would hold `pending` entries.
pub fn plan(base: Option<&Base>, pending: usize, now: UnixTime) -> Build {
    match base {
        Some(b) if pending <= MAX_DELTA_ENTRIES && now < b.built_at + REBUILD_SECONDS => {
            Build::Delta
        }
        _ => Build::Full,
    }
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use warden_core::filter::{build_delta, build_filter_from, Revocation, SubjectCutoff};
    use warden_core::{hex, UnixTime};
    use wasm_bindgen::JsValue;
    use worker::{Env, Response, SqlStorage, SqlStorageValue, Storage};

    use super::*;
    use crate::audit::{audit, AuditEvent};
    use crate::fields::fields;
    use crate::protocol::{LoggedCutoff, LoggedId};
    use crate::store::{self, Kind, DELTA_KEY, FILTER_KEY};

    const TABLES: [&str; 5] = [
        "CREATE TABLE IF NOT EXISTS revlog_id (kind TEXT NOT NULL, id TEXT NOT NULL, \
         expires_at INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (kind, id))",
        "CREATE INDEX IF NOT EXISTS revlog_id_seq ON revlog_id (seq)",
        "CREATE TABLE IF NOT EXISTS revlog_cutoff (sub TEXT PRIMARY KEY, before INTEGER NOT NULL, \
         expires_at INTEGER NOT NULL, seq INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS revlog_base (one INTEGER PRIMARY KEY CHECK (one = 0), \
         checksum TEXT NOT NULL, seq INTEGER NOT NULL, built_at INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS revlog_state (one INTEGER PRIMARY KEY CHECK (one = 0), \
         seq INTEGER NOT NULL, seeded INTEGER NOT NULL, cursor TEXT)",
    ];

    fn unix_now() -> UnixTime {
        (js_sys::Date::now() / 1000.0) as UnixTime
    }

    fn int(n: u64) -> JsValue {
        JsValue::from_f64(n as f64)
    }

    fn as_u64(v: &SqlStorageValue) -> u64 {
        match v {
            SqlStorageValue::Integer(i) => (*i).max(0) as u64,
            SqlStorageValue::Float(f) if *f >= 0.0 => *f as u64,
            _ => 0,
        }
    }

    fn as_text(v: &SqlStorageValue) -> Option<&str> {
        match v {
            SqlStorageValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this object is the log (its tables exist): its alarm publishes.
    pub fn is_log(sql: &SqlStorage) -> bool {
        // Any other object has no such table: the statement fails.
        sql.exec_raw("SELECT seq FROM revlog_state WHERE one = 0", None)
            .map(|c| c.raw().next().is_some())
            .unwrap_or(false)
    }

    /// The log's tables, once per instance.
    pub fn create_tables(sql: &SqlStorage) -> worker::Result<()> {
        for t in TABLES {
            sql.exec_raw(t, None)?;
        }
        sql.exec_raw(
            "INSERT INTO revlog_state (one, seq, seeded) VALUES (0, 0, 0) ON CONFLICT (one) DO NOTHING",
            None,
        )?;
        Ok(())
    }

    /// Records `ids` and `cutoffs` under one new sequence number. Synchronous statements with no
    /// await between them: committed together, or not at all.
    pub fn record(
        sql: &SqlStorage,
        ids: &[LoggedId],
        cutoffs: &[LoggedCutoff],
    ) -> worker::Result<()> {
        for i in ids {
            if id_kind(&i.kind).is_none() || i.id.is_empty() {
                return Err(worker::Error::RustError(format!(
                    "revocation log: bad entry {}:{}",
                    i.kind, i.id
                )));
            }
        }
        let seq = next_seq(sql)?;
        for i in ids {
            upsert_id(sql, &i.kind, &i.id, i.expires_at, seq)?;
        }
        for c in cutoffs {
            upsert_cutoff(sql, &c.sub, c.before, c.expires_at, seq)?;
        }
        Ok(())
    }

    fn next_seq(sql: &SqlStorage) -> worker::Result<u64> {
        let cursor = sql.exec_raw(
            "UPDATE revlog_state SET seq = seq + 1 WHERE one = 0 RETURNING seq",
            None,
        )?;
        let row = cursor
            .raw()
            .next()
            .ok_or_else(|| worker::Error::RustError("revocation log: no state row".into()))??;
        Ok(row.first().map_or(0, as_u64))
    }

    fn upsert_id(
        sql: &SqlStorage,
        kind: &str,
        id: &str,
        expires_at: UnixTime,
        seq: u64,
    ) -> worker::Result<()> {
        sql.exec_raw(
            "INSERT INTO revlog_id (kind, id, expires_at, seq) VALUES (?, ?, ?, ?) \
             ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, expires_at = \
             CASE WHEN revlog_id.expires_at = 0 OR excluded.expires_at = 0 THEN 0 \
             ELSE max(revlog_id.expires_at, excluded.expires_at) END",
            Some(vec![kind.into(), id.into(), int(expires_at), int(seq)]),
        )?;
        Ok(())
    }

    fn upsert_cutoff(
        sql: &SqlStorage,
        sub: &str,
        before: UnixTime,
        expires_at: UnixTime,
        seq: u64,
    ) -> worker::Result<()> {
        sql.exec_raw(
            "INSERT INTO revlog_cutoff (sub, before, expires_at, seq) VALUES (?, ?, ?, ?) \
             ON CONFLICT (sub) DO UPDATE SET seq = excluded.seq, \
             before = max(revlog_cutoff.before, excluded.before), expires_at = \
             CASE WHEN revlog_cutoff.expires_at = 0 OR excluded.expires_at = 0 THEN 0 \
             ELSE max(revlog_cutoff.expires_at, excluded.expires_at) END",
            Some(vec![sub.into(), int(before), int(expires_at), int(seq)]),
        )?;
        Ok(())
    }

    /// Makes the alarm fire within `delay_ms` (an earlier one stays).
    pub async fn schedule(storage: &Storage, delay_ms: u64) -> worker::Result<()> {
        let at = js_sys::Date::now() as i64 + delay_ms as i64;
        match storage.get_alarm().await? {
            Some(t) if t <= at => Ok(()),
            // An `i64` is an offset from now.
            _ => storage.set_alarm(delay_ms as i64).await,
        }
    }

    fn base(sql: &SqlStorage) -> worker::Result<Option<Base>> {
        let cursor = sql.exec_raw("SELECT checksum, seq, built_at FROM revlog_base", None)?;
        let Some(row) = cursor.raw().next().transpose()? else {
            return Ok(None);
        };
        Ok(match row.as_slice() {
            [c, s, b] => as_text(c).map(|c| Base {
                checksum: c.to_owned(),
                seq: as_u64(s),
                built_at: as_u64(b),
            }),
            _ => None,
        })
    }

    /// The alarm of the log object: seeds from KV first if it never did, then publishes the
    /// filter or the delta, then schedules the next heartbeat.
    pub async fn alarm(storage: &Storage, sql: &SqlStorage, env: &Env) -> worker::Result<Response> {
        create_tables(sql)?;
        // Seeding with more pages to go: straight on.
        if !seeded(sql)? && !seed(env, sql).await? {
            schedule(storage, 0).await?;
            return Response::ok("seeding");
        }
        let done = publish(sql, env).await;
        if let Err(e) = &done {
            audit(
                AuditEvent::StoreError,
                &fields! {"op": "publish_filter", "error": e.to_string()},
            );
        }
        // A failed publish is retried on a short timer, a good one at the heartbeat.
        let next = if done.is_ok() {
            HEARTBEAT_SECONDS * 1000
        } else {
            RETRY_MS
        };
        schedule(storage, next).await?;
        done?;
        Response::ok("published")
    }

    /// Forgets the published filter (in the object and in KV: readers stop using it at their
    /// next read) and starts seeding the log from KV again.
    pub async fn reseed(sql: &SqlStorage, env: &Env) -> worker::Result<()> {
        sql.exec_raw(
            "UPDATE revlog_state SET seeded = 0, cursor = NULL WHERE one = 0",
            None,
        )?;
        sql.exec_raw("DELETE FROM revlog_base", None)?;
        let kv = store::kv(env)?;
        kv.delete(DELTA_KEY).await?;
        kv.delete(FILTER_KEY).await?;
        audit(AuditEvent::RevocationFilter, &fields! {"action": "reseed"});
        Ok(())
    }

    fn seeded(sql: &SqlStorage) -> worker::Result<bool> {
        let row = sql
            .exec_raw("SELECT seeded FROM revlog_state WHERE one = 0", None)?
            .raw()
            .next()
            .transpose()?;
        Ok(row.is_some_and(|r| r.first().is_some_and(|v| as_u64(v) == 1)))
    }

    /// Lists up to [`SEED_PAGES_PER_RUN`] pages of `rv:` records into the log (sequence 0: in
    /// the first filter); whether the listing is complete.
    async fn seed(env: &Env, sql: &SqlStorage) -> worker::Result<bool> {
        let cursor = sql
            .exec_raw("SELECT cursor FROM revlog_state WHERE one = 0", None)?
            .raw()
            .next()
            .transpose()?
            .and_then(|r| r.first().and_then(as_text).map(str::to_owned));
        let mut cursor = cursor;
        let mut seeded = 0usize;
        for _ in 0..SEED_PAGES_PER_RUN {
            let (page, next) =
                store::list_page(env, "rv:", store::LIST_PAGE, cursor.as_deref()).await?;
            for key in &page {
                let Some((kind, id)) = Kind::of_key(&key.name) else {
                    continue;
                };
                let expires_at = key.expiration.unwrap_or(0);
                if kind == Kind::Sub {
                    let before = key
                        .metadata
                        .as_ref()
                        .and_then(|m| m.get("before"))
                        .and_then(serde_json::Value::as_u64);
                    if let Some(before) = before {
                        upsert_cutoff(sql, id, before, expires_at, 0)?;
                        seeded += 1;
                    }
                } else {
                    upsert_id(sql, kind.name(), id, expires_at, 0)?;
                    seeded += 1;
                }
            }
            match next {
                Some(c) => {
                    sql.exec_raw(
                        "UPDATE revlog_state SET cursor = ? WHERE one = 0",
                        Some(vec![c.as_str().into()]),
                    )?;
                    cursor = Some(c);
                }
                None => {
                    sql.exec_raw(
                        "UPDATE revlog_state SET seeded = 1, cursor = NULL WHERE one = 0",
                        None,
                    )?;
                    audit(
                        AuditEvent::RevocationFilter,
                        &fields! {"action": "seeded", "records": seeded},
                    );
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    fn revocation(row: worker::Result<Vec<SqlStorageValue>>) -> worker::Result<Revocation> {
        let row = row?;
        match row.as_slice() {
            [k, i, e] => {
                let kind = as_text(k).and_then(id_kind);
                match (kind, as_text(i)) {
                    (Some(kind), Some(id)) => Ok(Revocation {
                        kind,
                        id: id.to_owned(),
                        expires_at: as_u64(e),
                    }),
                    _ => Err(worker::Error::RustError("revocation log: bad row".into())),
                }
            }
            _ => Err(worker::Error::RustError("revocation log: bad row".into())),
        }
    }

    fn cutoffs(sql: &SqlStorage, since: Option<u64>) -> worker::Result<Vec<SubjectCutoff>> {
        let cursor = match since {
            Some(seq) => sql.exec_raw(
                "SELECT sub, before, expires_at FROM revlog_cutoff WHERE seq > ?",
                Some(vec![int(seq)]),
            )?,
            None => sql.exec_raw("SELECT sub, before, expires_at FROM revlog_cutoff", None)?,
        };
        let mut out = Vec::new();
        for row in cursor.raw() {
            let row = row?;
            if let [s, b, e] = row.as_slice() {
                if let Some(sub) = as_text(s) {
                    out.push(SubjectCutoff {
                        sub: sub.to_owned(),
                        before: as_u64(b),
                        expires_at: as_u64(e),
                    });
                }
            }
        }
        Ok(out)
    }

    fn pending(sql: &SqlStorage, base: Option<&Base>) -> worker::Result<usize> {
        let Some(base) = base else { return Ok(0) };
        let count = |table: &str| -> worker::Result<usize> {
            let row = sql
                .exec_raw(
                    &format!("SELECT count(*) FROM {table} WHERE seq > ?"),
                    Some(vec![int(base.seq)]),
                )?
                .raw()
                .next()
                .transpose()?;
            Ok(row.and_then(|r| r.first().map(as_u64)).unwrap_or(0) as usize)
        };
        Ok(count("revlog_id")? + count("revlog_cutoff")?)
    }

    fn current_seq(sql: &SqlStorage) -> worker::Result<u64> {
        let row = sql
            .exec_raw("SELECT seq FROM revlog_state WHERE one = 0", None)?
            .raw()
            .next()
            .transpose()?;
        Ok(row.and_then(|r| r.first().map(as_u64)).unwrap_or(0))
    }

    /// Builds and writes the filter (when [`plan`] says so) and the delta.
    async fn publish(sql: &SqlStorage, env: &Env) -> worker::Result<()> {
        let started = js_sys::Date::now();
        let mut base = base(sql)?;
        let now = unix_now();
        if plan(base.as_ref(), pending(sql, base.as_ref())?, now) == Build::Full {
            // Everything below runs without an await: one consistent view of the log.
            for table in ["revlog_id", "revlog_cutoff"] {
                sql.exec_raw(
                    &format!("DELETE FROM {table} WHERE expires_at != 0 AND expires_at <= ?"),
                    Some(vec![int(now)]),
                )?;
            }
            let seq = current_seq(sql)?;
            let all = sql.exec_raw("SELECT kind, id, expires_at FROM revlog_id", None)?;
            let mut failed = None;
            let rows = all.raw().filter_map(|r| match revocation(r) {
                Ok(r) => Some(r),
                Err(e) => {
                    failed.get_or_insert(e);
                    None
                }
            });
            let built = build_filter_from(rows, &cutoffs(sql, None)?, now);
            if let Some(e) = failed {
                return Err(e);
            }
            let built = built.map_err(|e| worker::Error::RustError(e.to_string()))?;
            let build_ms = js_sys::Date::now() - started;
            store::put(env, FILTER_KEY, &built.bytes, None, None).await?;
            let checksum = hex(&built.checksum);
            sql.exec_raw(
                "INSERT INTO revlog_base (one, checksum, seq, built_at) VALUES (0, ?, ?, ?) \
                 ON CONFLICT (one) DO UPDATE SET checksum = excluded.checksum, \
                 seq = excluded.seq, built_at = excluded.built_at",
                Some(vec![checksum.as_str().into(), int(seq), int(now)]),
            )?;
            audit(
                AuditEvent::RevocationFilter,
                &fields! {"action": "published_filter", "ids": built.count, "bytes": built.bytes.len(), "build_ms": build_ms as u64, "built_at": now},
            );
            base = Some(Base {
                checksum,
                seq,
                built_at: now,
            });
        }
        let Some(base) = base else {
            return Err(worker::Error::RustError(
                "revocation log: no filter to extend".into(),
            ));
        };
        // The delta: what was recorded after the filter, as of now (no await until built).
        let now = unix_now();
        let mut failed = None;
        let rows = sql
            .exec_raw(
                "SELECT kind, id, expires_at FROM revlog_id WHERE seq > ?",
                Some(vec![int(base.seq)]),
            )?
            .raw()
            .filter_map(|r| match revocation(r) {
                Ok(r) => Some(r),
                Err(e) => {
                    failed.get_or_insert(e);
                    None
                }
            })
            .collect::<Vec<_>>();
        if let Some(e) = failed {
            return Err(e);
        }
        let mut checksum = [0u8; 32];
        for (i, b) in checksum.iter_mut().enumerate() {
            *b = u8::from_str_radix(base.checksum.get(2 * i..2 * i + 2).unwrap_or("zz"), 16)
                .map_err(|_| worker::Error::RustError("revocation log: bad checksum".into()))?;
        }
        let delta = build_delta(&checksum, &rows, &cutoffs(sql, Some(base.seq))?, now)
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        store::put(env, DELTA_KEY, &delta, None, None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        let b = Base {
            checksum: String::new(),
            seq: 3,
            built_at: 1000,
        };
        assert_eq!(plan(None, 0, 1000), Build::Full);
        assert_eq!(plan(Some(&b), 0, 1000), Build::Delta);
        assert_eq!(plan(Some(&b), MAX_DELTA_ENTRIES, 1000), Build::Delta);
        assert_eq!(plan(Some(&b), MAX_DELTA_ENTRIES + 1, 1000), Build::Full);
        assert_eq!(plan(Some(&b), 0, 1000 + REBUILD_SECONDS - 1), Build::Delta);
        assert_eq!(plan(Some(&b), 0, 1000 + REBUILD_SECONDS), Build::Full);
    }

    #[test]
    fn kinds() {
        assert_eq!(id_kind("jti"), Some(IdKind::Jti));
        assert_eq!(id_kind("sid"), Some(IdKind::Sid));
        assert_eq!(id_kind("kid"), Some(IdKind::Kid));
        assert_eq!(id_kind("sub"), None);
    }
}
