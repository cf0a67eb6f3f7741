//! What the filter and the delta hold: revocations by id and subject cutoffs, and the rules
//! both share (validity, liveness, order, merging).

use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use sha2::{Digest, Sha256};

use super::BuildError;
use crate::claims::MAX_ID_LEN;
use crate::UnixTime;

/// What a revocation id names (subject cutoffs are [`SubjectCutoff`]s, never in the filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdKind {
    /// One token (`jti`).
    Jti,
    /// A session (`sid`).
    Sid,
    /// A signing key (`kid`).
    Kid,
}

impl IdKind {
    /// Every kind, in the order of the delta's encoding.
    pub const ALL: [IdKind; 3] = [IdKind::Jti, IdKind::Sid, IdKind::Kid];

    /// `jti`, `sid` or `kid`.
    pub fn name(self) -> &'static str {
        match self {
            IdKind::Jti => "jti",
            IdKind::Sid => "sid",
            IdKind::Kid => "kid",
        }
    }

    pub(super) fn code(self) -> u8 {
        match self {
            IdKind::Jti => 1,
            IdKind::Sid => 2,
            IdKind::Kid => 3,
        }
    }

    pub(super) fn of_code(code: u8) -> Option<IdKind> {
        IdKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// The filter key of a revocation id: the first 8 bytes, little-endian, of
/// SHA-256(`<kind>:` ‖ id), e.g. SHA-256(`jti:abc`). Part of the published format.
pub fn filter_key(kind: IdKind, id: &str) -> u64 {
    let mut hash = Sha256::new();
    hash.update(kind.name().as_bytes());
    hash.update(b":");
    hash.update(id.as_bytes());
    let digest: [u8; 32] = hash.finalize().into();
    let [a, b, c, d, e, f, g, h, ..] = digest;
    u64::from_le_bytes([a, b, c, d, e, f, g, h])
}

/// A revoked id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// What the id names.
    pub kind: IdKind,
    /// The id: 1 to 256 bytes.
    pub id: String,
    /// When the revocation ends (its KV record's expiration, Unix seconds); 0: never.
    pub expires_at: UnixTime,
}

/// A subject cutoff: tokens of `sub` issued at or before `before` are revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectCutoff {
    /// The subject: 1 to 256 bytes.
    pub sub: String,
    /// The cutoff.
    pub before: UnixTime,
    /// When the cutoff ends (its KV record's expiration, Unix seconds); 0: never.
    pub expires_at: UnixTime,
}

/// An id or subject the formats can hold: what a token's identity values can be.
pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN
}

/// Whether something that ends at `expires_at` (0: never) is still in force at `now`.
pub(super) fn live(expires_at: UnixTime, now: UnixTime) -> bool {
    expires_at == 0 || expires_at > now
}

/// The later of two ends (0, never, is the latest).
fn later(a: UnixTime, b: UnixTime) -> UnixTime {
    if a == 0 || b == 0 {
        0
    } else {
        a.max(b)
    }
}

/// The earlier of two ends, ignoring "never" (0) unless both are.
pub(super) fn earlier(a: UnixTime, b: UnixTime) -> UnixTime {
    match (a, b) {
        (0, x) | (x, 0) => x,
        (a, b) => a.min(b),
    }
}

/// What the formats keep sorted, one per key: revocations by kind and id, cutoffs by subject.
pub(super) trait Entry: Clone {
    /// The sort key: the kind's code (0 for a cutoff) and the id or subject.
    fn key(&self) -> (u8, &str);
    /// When it ends (0: never).
    fn expires_at(&self) -> UnixTime;
    /// Takes in `other`, an entry with the same key: the later end (and the higher cutoff).
    fn merge(&mut self, other: &Self);
}

impl Entry for Revocation {
    fn key(&self) -> (u8, &str) {
        (self.kind.code(), &self.id)
    }

    fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    fn merge(&mut self, other: &Self) {
        self.expires_at = later(self.expires_at, other.expires_at);
    }
}

impl Entry for SubjectCutoff {
    fn key(&self) -> (u8, &str) {
        (0, &self.sub)
    }

    fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    fn merge(&mut self, other: &Self) {
        self.before = self.before.max(other.before);
        self.expires_at = later(self.expires_at, other.expires_at);
    }
}

/// Sorts `list` in the order `cmp` gives. The filter's every sort goes through this one function
/// (its keys, and the positions of the entries of every type, [`order`]), so the wasm carries one
/// sort routine rather than one per type: about 3 KB. An indirect call per comparison is a small
/// part of a filter's build (hashing and construction are most of it).
pub(super) fn sort(list: &mut [u64], cmp: &dyn Fn(&u64, &u64) -> Ordering) {
    list.sort_unstable_by(cmp);
}

/// The positions of `n` items in the order `cmp` gives.
fn order(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<u64> {
    let mut positions: Vec<u64> = (0..n as u64).collect();
    sort(&mut positions, &|a, b| cmp(*a as usize, *b as usize));
    positions
}

/// The entries in force at `now`, sorted by key, one per key (merged). Refuses an id or
/// subject no token could carry.
pub(super) fn in_force<T: Entry>(list: &[T], now: UnixTime) -> Result<Vec<T>, BuildError> {
    if list.iter().any(|e| !valid_id(e.key().1)) {
        return Err(BuildError::BadId);
    }
    let kept: Vec<&T> = list.iter().filter(|e| live(e.expires_at(), now)).collect();
    let mut out: Vec<T> = Vec::with_capacity(kept.len());
    for i in order(kept.len(), &|a, b| kept[a].key().cmp(&kept[b].key())) {
        let e = kept[i as usize];
        match out.last_mut() {
            Some(last) if last.key() == e.key() => last.merge(e),
            _ => out.push(e.clone()),
        }
    }
    Ok(out)
}

/// Whether `list` is strictly ascending by key (what the parsers require).
pub(super) fn ascending<T: Entry>(list: &[T]) -> bool {
    list.windows(2)
        .all(|w| matches!(w, [a, b] if a.key() < b.key()))
}

/// The entry with `key` in the sorted `list`, if it is in force at `now`.
pub(super) fn find<'a, T: Entry>(list: &'a [T], key: (u8, &str), now: UnixTime) -> Option<&'a T> {
    list.binary_search_by(|e| e.key().cmp(&key))
        .ok()
        .and_then(|i| list.get(i))
        .filter(|e| live(e.expires_at(), now))
}
