//! The delta: exactly what was revoked since a published filter was built.

use alloc::vec::Vec;

use super::entries::{ascending, find, in_force, IdKind, Revocation, SubjectCutoff};
use super::wire::{open, Writer};
use super::{BuildError, FilterError};
use crate::UnixTime;

const MAGIC: &[u8; 4] = b"WRVD";
/// The bytes of the shortest revocation: kind, a 1-byte id with its length, `expires_at`.
const MIN_REVOCATION_LEN: usize = 1 + 2 + 1 + 8;

/// Builds a delta at `now` (`built_at`): the revocations and cutoffs recorded since the filter
/// whose checksum is `base` was built (all of them, not since the previous delta). Entries that
/// ended at or before `now` are left out; an id listed twice is one entry with the later end, a
/// subject listed twice one cutoff with the higher `before`.
pub fn build_delta(
    base: &[u8; 32],
    revocations: &[Revocation],
    cutoffs: &[SubjectCutoff],
    now: UnixTime,
) -> Result<Vec<u8>, BuildError> {
    let revocations = in_force(revocations, now)?;
    let cutoffs = in_force(cutoffs, now)?;
    let mut w = Writer::new(MAGIC, 64 * (revocations.len() + cutoffs.len()));
    w.bytes(base);
    w.u64(now);
    w.count(revocations.len())?;
    for r in &revocations {
        w.bytes(&[r.kind.code()]);
        w.id(&r.id);
        w.u64(r.expires_at);
    }
    w.cutoffs(&cutoffs)?;
    Ok(w.seal()?.0)
}

/// A parsed delta.
///
/// Format (version 1; integers little-endian):
///
/// | field | bytes |
/// |---|---|
/// | magic `WRVD` | 4 |
/// | version (1) | u16 |
/// | total length, checksum included | u32 |
/// | base: the checksum of the filter it extends | 32 |
/// | `built_at` | u64 |
/// | revocation count, then per revocation (ascending by kind, then id): kind (u8: 1 `jti`, 2 `sid`, 3 `kid`), id length (u16), id (UTF-8, 1–256 bytes), `expires_at` (u64, 0: never) | u32 + … |
/// | cutoff count, then the cutoffs as in the filter | u32 + … |
/// | SHA-256 of everything before it | 32 |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta {
    base: [u8; 32],
    built_at: UnixTime,
    revocations: Vec<Revocation>,
    cutoffs: Vec<SubjectCutoff>,
}

impl Delta {
    /// Reads a delta; refuses any corruption with a [`FilterError`], never panics.
    pub fn parse(bytes: &[u8]) -> Result<Delta, FilterError> {
        let (mut r, _) = open(bytes, MAGIC)?;
        let base = r.checksum()?;
        let built_at = r.u64()?;
        let n = r.count(MIN_REVOCATION_LEN)?;
        let mut revocations = Vec::with_capacity(n);
        for _ in 0..n {
            let code = r.u8()?;
            let kind = IdKind::of_code(code).ok_or(FilterError::BadKind(code))?;
            revocations.push(Revocation {
                kind,
                id: r.id()?,
                expires_at: r.u64()?,
            });
        }
        if !ascending(&revocations) {
            return Err(FilterError::Unsorted);
        }
        let cutoffs = r.cutoffs()?;
        r.end()?;
        Ok(Delta {
            base,
            built_at,
            revocations,
            cutoffs,
        })
    }

    /// The checksum of the filter it extends.
    pub fn base(&self) -> &[u8; 32] {
        &self.base
    }

    /// When it was built: with its filter it holds every revocation recorded before then.
    pub fn built_at(&self) -> UnixTime {
        self.built_at
    }

    /// Its revocations, ascending by kind and id.
    pub fn revocations(&self) -> &[Revocation] {
        &self.revocations
    }

    /// Its cutoffs, ascending by subject.
    pub fn cutoffs(&self) -> &[SubjectCutoff] {
        &self.cutoffs
    }

    /// Whether it revokes `id` at `now` (exactly).
    pub fn revokes(&self, kind: IdKind, id: &str, now: UnixTime) -> bool {
        find(&self.revocations, (kind.code(), id), now).is_some()
    }

    /// `sub`'s cutoff in it, if one is in force at `now`.
    pub fn cutoff(&self, sub: &str, now: UnixTime) -> Option<UnixTime> {
        find(&self.cutoffs, (0, sub), now).map(|c| c.before)
    }
}
