//! DPoP proof replay detection. Each proof's replay id (SHA-256 of its key's thumbprint and
//! `jti`) is remembered until the proof would be refused as too old anyway.
//!
//! `WARDEN_DPOP_REPLAY=isolate`: in this isolate, in a map of at most [`REPLAY_CAPACITY`] ids
//! (hex, in the worker's one map type, [`IdMap`]; it grows with use). A new id is refused (503)
//! only when that many are live — never accepted unremembered; the ids whose proofs are too old
//! by then are dropped first, in one pass, at most once a second.
//!
//! `WARDEN_DPOP_REPLAY=global`: in the Durable Object of the id's shard (`dpop:00` … `dpop:ff`,
//! [`crate::protocol::proof_object`]), in its SQLite table `dpop_proof`: one synchronous
//! statement inserts the id unless it is there, so two isolates presenting the same proof at
//! the same moment get one acceptance. An object that cannot be reached refuses the proof
//! (503), never accepts it unremembered.

use std::cell::RefCell;

use warden_core::{hex, ReplayId, UnixTime};

use crate::store::IdMap;

/// Live ids one isolate remembers: at the default 60 s + 30 s window, about 180 DPoP requests
/// per second per isolate, sustained, before a new proof is refused.
pub const REPLAY_CAPACITY: usize = 16_384;

/// What became of a proof's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First use: remembered until the proof expires.
    First,
    /// Seen before, within its validity window.
    Again,
    /// [`REPLAY_CAPACITY`] live ids are held: refuse (fail closed).
    Full,
    /// The proof ledger object could not answer: refuse (fail closed).
    Unreachable,
}

/// The ids an isolate has seen, each with the first second at which its proof is too old.
#[derive(Debug, Default)]
struct Table {
    ids: IdMap,
    /// No id held dies before this second (the smallest `until` held; `None`: none held), so
    /// dropping the dead ones before then finds none.
    first_death: Option<UnixTime>,
    /// Passes that dropped dead ids (for the test build's stats).
    sweeps: u64,
}

impl Table {
    /// Uses up `id` at `now`, holding at most `capacity` ids.
    fn use_up(&mut self, id: &ReplayId, now: UnixTime, capacity: usize) -> Seen {
        let key = hex(&id.id);
        let held = self.ids.get(&key);
        if held.is_some_and(|until| until > now) {
            return Seen::Again;
        }
        // A new id (or a dead record of this one, replaced below) needs room.
        if held.is_none() && self.ids.len() >= capacity {
            if self.first_death.is_some_and(|first| first <= now) {
                self.ids.retain(|until| until > now);
                self.first_death = self.ids.smallest();
                self.sweeps += 1;
            }
            if self.ids.len() >= capacity {
                return Seen::Full;
            }
        }
        self.ids.insert(key, id.until);
        self.first_death = Some(self.first_death.map_or(id.until, |f| f.min(id.until)));
        Seen::First
    }
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
}

/// Uses up `id` at `now`.
pub fn consume(id: &ReplayId, now: u64) -> Seen {
    TABLE.with(|t| t.borrow_mut().use_up(id, now, REPLAY_CAPACITY))
}

/// The isolate table's occupancy at `now` (for `GET /__warden/stats` in the test build).
#[cfg(any(test, feature = "testing"))]
pub fn occupancy(now: u64) -> Occupancy {
    TABLE.with(|t| t.borrow().occupancy(now))
}

/// How full the isolate's table is.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    /// The most ids it holds ([`REPLAY_CAPACITY`]).
    pub capacity: usize,
    /// Ids held (live or not yet dropped).
    pub held: usize,
    /// Ids whose proofs are not too old yet.
    pub live: usize,
    /// Passes that dropped dead ids.
    pub sweeps: u64,
}

#[cfg(any(test, feature = "testing"))]
impl Table {
    fn occupancy(&self, now: u64) -> Occupancy {
        Occupancy {
            capacity: REPLAY_CAPACITY,
            held: self.ids.len(),
            live: self.ids.count(|until| until > now),
            sweeps: self.sweeps,
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use warden_core::{hex, ReplayId, UnixTime};
    use wasm_bindgen::JsValue;
    use worker::{Env, SqlStorage};

    use super::Seen;
    use crate::protocol::{self, proof_object, ObjectAnswer, ObjectRequest};

    /// Uses up `id` in its shard's object (`WARDEN_DPOP_REPLAY=global`).
    pub async fn consume_global(env: &Env, id: &ReplayId) -> Seen {
        let request = ObjectRequest::UseProof {
            id: hex(&id.id),
            until: id.until,
        };
        match protocol::call(env, &proof_object(id), &request).await {
            Ok(ObjectAnswer::FirstUse(true)) => Seen::First,
            Ok(ObjectAnswer::FirstUse(false)) => Seen::Again,
            _ => Seen::Unreachable,
        }
    }

    /// In a `dpop:` object: the table, once per instance.
    pub fn create_table(sql: &SqlStorage) -> worker::Result<()> {
        sql.exec_raw(
            "CREATE TABLE IF NOT EXISTS dpop_proof (id TEXT PRIMARY KEY, until INTEGER NOT NULL)",
            None,
        )?;
        sql.exec_raw(
            "CREATE INDEX IF NOT EXISTS dpop_proof_until ON dpop_proof (until)",
            None,
        )?;
        Ok(())
    }

    /// In a `dpop:` object: drops the ids whose proofs are too old by `now`, then inserts `id`
    /// unless it is there; whether it was inserted (its first use: rows were written). Each
    /// statement runs to completion in `exec` (none returns rows), before anything else runs in
    /// the object.
    pub fn use_once(
        sql: &SqlStorage,
        id: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> worker::Result<bool> {
        sql.exec_raw(
            "DELETE FROM dpop_proof WHERE until <= ?",
            Some(vec![JsValue::from_f64(now as f64)]),
        )?;
        let inserted = sql.exec_raw(
            "INSERT INTO dpop_proof (id, until) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            Some(vec![JsValue::from_str(id), JsValue::from_f64(until as f64)]),
        )?;
        Ok(inserted.rows_written() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn id(n: u8, until: u64) -> ReplayId {
        ReplayId { id: [n; 32], until }
    }

    #[test]
    fn once_per_window_and_bounded() {
        let mut t = Table::default();
        assert_eq!(t.use_up(&id(1, 100), 10, 3), Seen::First);
        assert_eq!(t.use_up(&id(1, 100), 99, 3), Seen::Again);
        // After its window the proof is too old anyway; the id may go.
        assert_eq!(t.use_up(&id(1, 200), 100, 3), Seen::First);
        assert_eq!(t.use_up(&id(2, 150), 100, 3), Seen::First);
        assert_eq!(t.use_up(&id(3, 150), 100, 3), Seen::First);
        // Full of live ids: refused, not forgotten.
        assert_eq!(t.use_up(&id(4, 150), 100, 3), Seen::Full);
        assert_eq!(t.use_up(&id(2, 150), 120, 3), Seen::Again);
        assert_eq!(t.use_up(&id(3, 150), 149, 3), Seen::Again);
        // Dead ids make room.
        assert_eq!(t.use_up(&id(4, 300), 160, 3), Seen::First);
        assert_eq!(t.use_up(&id(4, 300), 299, 3), Seen::Again);
        assert_eq!(t.use_up(&id(1, 300), 199, 3), Seen::Again);
        assert_eq!(t.occupancy(199).held, 2);
    }

    #[test]
    fn a_dead_record_of_the_same_id_is_replaced_in_a_full_table() {
        let mut t = Table::default();
        assert_eq!(t.use_up(&id(1, 50), 0, 2), Seen::First);
        assert_eq!(t.use_up(&id(2, 500), 0, 2), Seen::First);
        // Full, and nothing swept: the id's own dead record makes the room.
        assert_eq!(t.use_up(&id(1, 600), 60, 2), Seen::First);
        assert_eq!(t.sweeps, 0);
        assert_eq!(t.use_up(&id(3, 600), 60, 2), Seen::Full);
    }

    #[test]
    fn sweeps_only_when_an_id_may_have_died() {
        let mut t = Table::default();
        assert_eq!(t.use_up(&id(1, 100), 0, 2), Seen::First);
        assert_eq!(t.use_up(&id(2, 90), 0, 2), Seen::First);
        // Nothing dies before 90: a full table is refused without a pass over it.
        for now in [0, 50, 89] {
            assert_eq!(t.use_up(&id(3, 200), now, 2), Seen::Full);
        }
        assert_eq!(t.sweeps, 0);
        // At 90 the id 2 died: one pass, then room.
        assert_eq!(t.use_up(&id(3, 200), 90, 2), Seen::First);
        assert_eq!(t.sweeps, 1);
        // Full again; the first death is now 100: no pass before it, one at it.
        assert_eq!(t.use_up(&id(4, 200), 99, 2), Seen::Full);
        assert_eq!(t.sweeps, 1);
        assert_eq!(t.use_up(&id(4, 200), 100, 2), Seen::First);
        assert_eq!(t.sweeps, 2);
        // Both live until 200: full, and the pass at 150 would find nothing, so none runs.
        assert_eq!(t.use_up(&id(5, 300), 150, 2), Seen::Full);
        assert_eq!(t.sweeps, 2);
        // An id dying earlier than any held lowers the first death.
        let mut t = Table::default();
        assert_eq!(t.use_up(&id(1, 100), 0, 2), Seen::First);
        assert_eq!(t.use_up(&id(2, 40), 0, 2), Seen::First);
        assert_eq!(t.use_up(&id(3, 100), 40, 2), Seen::First);
    }

    /// The isolate table takes every new id until it holds [`REPLAY_CAPACITY`] live ones (ids
    /// spread as SHA-256 spreads them), and refuses the next: the capacity is what it says.
    #[test]
    fn a_table_takes_capacity_ids_then_refuses() {
        let mut t = Table::default();
        let spread = |i: u32, until| ReplayId {
            id: Sha256::digest(i.to_be_bytes()).into(),
            until,
        };
        for i in 0..REPLAY_CAPACITY as u32 {
            assert_eq!(
                t.use_up(&spread(i, 1_000), 10, REPLAY_CAPACITY),
                Seen::First,
                "{i}"
            );
        }
        let o = t.occupancy(10);
        assert_eq!((o.held, o.live), (REPLAY_CAPACITY, REPLAY_CAPACITY));
        let next = spread(REPLAY_CAPACITY as u32, 1_000);
        assert_eq!(t.use_up(&next, 10, REPLAY_CAPACITY), Seen::Full);
        assert_eq!(
            t.use_up(&spread(7, 1_000), 999, REPLAY_CAPACITY),
            Seen::Again
        );
        // Once they are too old, all of them go in one pass.
        assert_eq!(t.use_up(&next, 1_000, REPLAY_CAPACITY), Seen::First);
        assert_eq!((t.occupancy(1_000).held, t.sweeps), (1, 1));
    }
}
