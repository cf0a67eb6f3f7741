//! DPoP proof replay detection. Each proof's replay id (SHA-256 of its key's thumbprint and
//! `jti`) is remembered until the proof would be refused as too old anyway.
//!
//! `WARDEN_DPOP_REPLAY=isolate`: in this isolate. Bounded: a table of [`REPLAY_CAPACITY`] slots
//! (about 640 KB, allocated on the first DPoP request); an id goes into the first slot of its
//! probe window whose record is dead. When the whole window is live, the proof is refused
//! (503), never accepted unremembered.
//!
//! `WARDEN_DPOP_REPLAY=global`: in the Durable Object of the id's shard (`dpop:00` … `dpop:ff`,
//! [`crate::protocol::proof_object`]), in its SQLite table `dpop_proof`: one synchronous
//! statement inserts the id unless it is there, so two isolates presenting the same proof at
//! the same moment get one acceptance. An object that cannot be reached refuses the proof
//! (503), never accepts it unremembered.

use std::cell::RefCell;

use warden_core::ReplayId;

/// Slots of the isolate's table: at the default 60 s + 30 s window and a fraction of it in use,
/// thousands of DPoP requests per second per isolate.
pub const REPLAY_CAPACITY: usize = 16_384;
/// Slots looked at for one id (from the one its hash names).
const PROBE: usize = 64;

/// What became of a proof's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First use: remembered until the proof expires.
    First,
    /// Seen before, within its validity window.
    Again,
    /// Every slot it may take holds a live id: refuse (fail closed).
    Full,
    /// The proof ledger object could not answer: refuse (fail closed).
    Unreachable,
}

thread_local! {
    static TABLE: RefCell<Vec<([u8; 32], u64)>> = const { RefCell::new(Vec::new()) };
}

/// Uses up `id` at `now`.
pub fn consume(id: &ReplayId, now: u64) -> Seen {
    TABLE.with(|t| use_up(&mut t.borrow_mut(), id, now, REPLAY_CAPACITY))
}

/// The isolate table's occupancy at `now` (for `GET /__warden/stats` in the test build).
#[cfg(any(test, feature = "testing"))]
pub fn occupancy(now: u64) -> Occupancy {
    TABLE.with(|t| occupancy_of(&t.borrow(), now))
}

/// How full the isolate's table is.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    /// Slots (0 until the first DPoP request).
    pub slots: usize,
    /// Slots holding an id whose proof is not too old yet.
    pub live: usize,
    /// The longest run of consecutive live slots (wrapping around): a run of [`PROBE`] refuses
    /// the ids whose window it covers.
    pub longest_run: usize,
}

#[cfg(any(test, feature = "testing"))]
fn occupancy_of(table: &[([u8; 32], u64)], now: u64) -> Occupancy {
    let live = |slot: &([u8; 32], u64)| slot.1 > now;
    let count = table.iter().filter(|s| live(s)).count();
    let longest_run = if count == table.len() {
        count
    } else {
        // Start after a dead slot, so that a run across the end is counted whole.
        let dead = table.iter().position(|s| !live(s)).unwrap_or(0);
        let (mut run, mut longest) = (0, 0);
        for i in 1..=table.len() {
            if live(&table[(dead + i) % table.len()]) {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        longest
    };
    Occupancy {
        slots: table.len(),
        live: count,
        longest_run,
    }
}

fn use_up(table: &mut Vec<([u8; 32], u64)>, id: &ReplayId, now: u64, capacity: usize) -> Seen {
    if table.is_empty() {
        table.resize(capacity, ([0; 32], 0));
    }
    // The id is a SHA-256 output: its first bytes are as good as any hash.
    let mut start = [0u8; 8];
    start.copy_from_slice(&id.id[..8]);
    let start = (u64::from_le_bytes(start) % table.len() as u64) as usize;
    let mut free = None;
    for i in 0..PROBE.min(table.len()) {
        let slot = (start + i) % table.len();
        let (seen, until) = table[slot];
        if until > now {
            if seen == id.id {
                return Seen::Again;
            }
        } else if free.is_none() {
            free = Some(slot);
        }
    }
    match free {
        Some(slot) => {
            table[slot] = (id.id, id.until);
            Seen::First
        }
        None => Seen::Full,
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
        sql.exec(
            "CREATE TABLE IF NOT EXISTS dpop_proof (id TEXT PRIMARY KEY, until INTEGER NOT NULL)",
            None,
        )?;
        sql.exec(
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
            vec![JsValue::from_f64(now as f64)],
        )?;
        let inserted = sql.exec_raw(
            "INSERT INTO dpop_proof (id, until) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            vec![JsValue::from_str(id), JsValue::from_f64(until as f64)],
        )?;
        Ok(inserted.rows_written() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8, until: u64) -> ReplayId {
        ReplayId { id: [n; 32], until }
    }

    #[test]
    fn once_per_window_and_bounded() {
        let mut t = Vec::new();
        assert_eq!(use_up(&mut t, &id(1, 100), 10, 3), Seen::First);
        assert_eq!(use_up(&mut t, &id(1, 100), 99, 3), Seen::Again);
        // After its window the proof is too old anyway; the id may go.
        assert_eq!(use_up(&mut t, &id(1, 200), 100, 3), Seen::First);
        assert_eq!(use_up(&mut t, &id(2, 150), 100, 3), Seen::First);
        assert_eq!(use_up(&mut t, &id(3, 150), 100, 3), Seen::First);
        // Full of live ids: refused, not forgotten.
        assert_eq!(use_up(&mut t, &id(4, 150), 100, 3), Seen::Full);
        assert_eq!(use_up(&mut t, &id(2, 150), 120, 3), Seen::Again);
        assert_eq!(use_up(&mut t, &id(3, 150), 149, 3), Seen::Again);
        // Dead ids make room.
        assert_eq!(use_up(&mut t, &id(4, 300), 160, 3), Seen::First);
        assert_eq!(use_up(&mut t, &id(4, 300), 299, 3), Seen::Again);
        assert_eq!(use_up(&mut t, &id(1, 300), 199, 3), Seen::Again);
    }

    #[test]
    fn occupancy_counts_live_slots_and_runs_across_the_end() {
        let mut t = Vec::new();
        assert_eq!(
            occupancy_of(&t, 0),
            Occupancy {
                slots: 0,
                live: 0,
                longest_run: 0
            }
        );
        t.resize(8, ([0; 32], 0));
        for (slot, until) in [(0, 50), (1, 50), (3, 50), (6, 50), (7, 5)] {
            t[slot].1 = until;
        }
        // 6, 7, 0, 1 wrap around: a run of 4 while slot 7 is live; once it died,
        // the longest is 0, 1.
        assert_eq!(occupancy_of(&t, 4).live, 5);
        assert_eq!(occupancy_of(&t, 4).longest_run, 4);
        assert_eq!(occupancy_of(&t, 5).live, 4);
        assert_eq!(occupancy_of(&t, 5).longest_run, 2);
        assert_eq!(occupancy_of(&t, 50).longest_run, 0);
        for s in &mut t {
            s.1 = 60;
        }
        assert_eq!(occupancy_of(&t, 50).longest_run, 8);
    }

    #[test]
    fn an_id_is_found_past_a_slot_that_died() {
        let mut t = Vec::new();
        // Two ids with the same start slot: the second goes one further.
        let a = ReplayId {
            id: [0; 32],
            until: 50,
        };
        let mut b = ReplayId {
            id: [0; 32],
            until: 500,
        };
        b.id[31] = 1;
        assert_eq!(use_up(&mut t, &a, 0, 8), Seen::First);
        assert_eq!(use_up(&mut t, &b, 0, 8), Seen::First);
        // `a` died; `b` must still be found behind its slot.
        assert_eq!(use_up(&mut t, &b, 100, 8), Seen::Again);
    }
}

#[cfg(test)]
mod load {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn half_full_table_takes_every_new_id() {
        let mut t = Vec::new();
        for i in 0u32..(REPLAY_CAPACITY as u32 / 2) {
            let id = ReplayId {
                id: Sha256::digest(i.to_be_bytes()).into(),
                until: 1_000,
            };
            assert_eq!(use_up(&mut t, &id, 10, REPLAY_CAPACITY), Seen::First, "{i}");
        }
        let o = occupancy_of(&t, 10);
        assert_eq!(o.live, REPLAY_CAPACITY / 2);
        assert!(o.longest_run < PROBE, "{o:?}");
    }
}
