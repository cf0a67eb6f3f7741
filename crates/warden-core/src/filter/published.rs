//! The published filter: a 16-bit binary fuse filter of every live revoked id, the exact
//! subject cutoffs, and when it was built.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use xorf::{BinaryFuse16, Descriptor, Filter};

use super::entries::{earlier, filter_key, find, in_force, live, sort, valid_id};
use super::entries::{IdKind, Revocation, SubjectCutoff};
use super::wire::{open, Writer};
use super::{BuildError, FilterError};
use crate::UnixTime;

const MAGIC: &[u8; 4] = b"WRVF";
/// xorf never makes a segment longer than this.
const MAX_SEGMENT_LEN: u32 = 1 << 18;

/// What [`build_filter`] made: the bytes to publish and what a delta needs to name them.
#[derive(Clone, PartialEq, Eq)]
pub struct BuiltFilter {
    /// The value to publish.
    pub bytes: Vec<u8>,
    /// Its checksum (its last 32 bytes): a [`super::Delta`] names its filter by it.
    pub checksum: [u8; 32],
    /// Distinct ids in the filter.
    pub count: usize,
    /// The earliest end among the filter's revocations and cutoffs (0: none ends): from then on
    /// a rebuild would drop something.
    pub earliest_expiry: UnixTime,
}

impl fmt::Debug for BuiltFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltFilter")
            .field("len", &self.bytes.len())
            .field("count", &self.count)
            .field("earliest_expiry", &self.earliest_expiry)
            .finish_non_exhaustive()
    }
}

/// Builds the published filter from the active revocations and subject cutoffs at `now`
/// (`built_at`). Entries that ended at or before `now` are left out; an id listed twice is
/// one key; an empty set is a valid, empty filter. Refuses an id or subject no token could
/// carry (empty, over 256 bytes), so a bad entry is found when it is recorded, not dropped.
pub fn build_filter(
    revocations: &[Revocation],
    cutoffs: &[SubjectCutoff],
    now: UnixTime,
) -> Result<BuiltFilter, BuildError> {
    build_filter_from(revocations, cutoffs, now)
}

/// [`build_filter`] from any sequence of revocations — a writer streaming a large log need not
/// hold every id at once: only their 8-byte filter keys are kept.
pub fn build_filter_from<R: core::borrow::Borrow<Revocation>>(
    revocations: impl IntoIterator<Item = R>,
    cutoffs: &[SubjectCutoff],
    now: UnixTime,
) -> Result<BuiltFilter, BuildError> {
    let revocations = revocations.into_iter();
    let mut keys = Vec::with_capacity(revocations.size_hint().0);
    let mut earliest_expiry = 0;
    for r in revocations {
        let r = r.borrow();
        if !valid_id(&r.id) {
            return Err(BuildError::BadId);
        }
        if live(r.expires_at, now) {
            keys.push(filter_key(r.kind, &r.id));
            earliest_expiry = earlier(earliest_expiry, r.expires_at);
        }
    }
    // xorf needs distinct keys; sorted, the filter is also the same for the same set.
    sort(&mut keys, &u64::cmp);
    keys.dedup();
    let cutoffs = in_force(cutoffs, now)?;
    for c in &cutoffs {
        earliest_expiry = earlier(earliest_expiry, c.expires_at);
    }
    let fuse = match keys.as_slice() {
        [] => None,
        keys => Some(BinaryFuse16::try_from(keys).map_err(|_| BuildError::Construction)?),
    };
    // Never publish what a reader would refuse, or a filter that misses one of its keys.
    if let Some(f) = &fuse {
        if !lookups_in_bounds(&f.descriptor, f.fingerprints.len())
            || !keys.iter().all(|k| f.contains(k))
        {
            return Err(BuildError::Construction);
        }
    }
    let fingerprints = fuse.as_ref().map_or(&[][..], |f| &f.fingerprints[..]);

    let mut w = Writer::new(MAGIC, 2 * fingerprints.len());
    w.u64(now);
    w.u64(earliest_expiry);
    w.count(keys.len())?;
    w.cutoffs(&cutoffs)?;
    let d = fuse.as_ref().map_or(
        Descriptor {
            seed: 0,
            segment_length: 0,
            segment_length_mask: 0,
            segment_count_length: 0,
        },
        |f| f.descriptor.clone(),
    );
    w.u64(d.seed);
    w.u32(d.segment_length);
    w.u32(d.segment_length_mask);
    w.u32(d.segment_count_length);
    w.count(fingerprints.len())?;
    for fp in fingerprints {
        w.u16(*fp);
    }
    let (bytes, checksum) = w.seal()?;
    Ok(BuiltFilter {
        bytes,
        checksum,
        count: keys.len(),
        earliest_expiry,
    })
}

/// A parsed published filter.
///
/// Format (version 1; integers little-endian):
///
/// | field | bytes |
/// |---|---|
/// | magic `WRVF` | 4 |
/// | version (1) | u16 |
/// | total length, checksum included | u32 |
/// | `built_at` | u64 |
/// | earliest expiry (0: none) | u64 |
/// | distinct ids in the filter | u32 |
/// | cutoff count, then per cutoff (ascending by subject): subject length (u16), subject (UTF-8, 1–256 bytes), `before` (u64), `expires_at` (u64, 0: never) | u32 + … |
/// | fuse filter: seed (u64), segment length (u32), segment length mask (u32), segment count × length (u32) | 20 |
/// | fingerprint count, then the fingerprints (u16 each) | u32 + 2 × count |
/// | SHA-256 of everything before it | 32 |
///
/// An empty filter has zero ids, all-zero filter parameters and no fingerprints. Lookups hash
/// with xorf 0.13's `BinaryFuse16` (pinned: a change of its hashing is a new version).
#[derive(Clone)]
pub struct PublishedFilter {
    built_at: UnixTime,
    earliest_expiry: UnixTime,
    count: usize,
    cutoffs: Vec<SubjectCutoff>,
    fuse: Option<BinaryFuse16>,
    checksum: [u8; 32],
}

impl fmt::Debug for PublishedFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishedFilter")
            .field("built_at", &self.built_at)
            .field("earliest_expiry", &self.earliest_expiry)
            .field("count", &self.count)
            .field("cutoffs", &self.cutoffs.len())
            .finish_non_exhaustive()
    }
}

impl PublishedFilter {
    /// Reads a published filter. Any corruption — another magic or version, truncation, extra
    /// bytes, a checksum mismatch, inconsistent lengths or filter parameters, bad or unsorted
    /// cutoffs — is refused with a [`FilterError`]; nothing panics.
    pub fn parse(bytes: &[u8]) -> Result<PublishedFilter, FilterError> {
        let (mut r, checksum) = open(bytes, MAGIC)?;
        let built_at = r.u64()?;
        let earliest_expiry = r.u64()?;
        let count = usize::try_from(r.u32()?).map_err(|_| FilterError::BadLength)?;
        let cutoffs = r.cutoffs()?;
        let descriptor = Descriptor {
            seed: r.u64()?,
            segment_length: r.u32()?,
            segment_length_mask: r.u32()?,
            segment_count_length: r.u32()?,
        };
        let n = r.count(2)?;
        let fingerprints: Box<[u16]> = r
            .take(2 * n)?
            .chunks_exact(2)
            .map(|c| match c {
                [a, b] => u16::from_le_bytes([*a, *b]),
                _ => 0, // chunks_exact(2): never
            })
            .collect();
        r.end()?;
        let fuse = if count == 0 {
            let empty = descriptor.seed == 0
                && descriptor.segment_length == 0
                && descriptor.segment_length_mask == 0
                && descriptor.segment_count_length == 0
                && fingerprints.is_empty();
            if !empty {
                return Err(FilterError::BadFilter);
            }
            None
        } else {
            if !lookups_in_bounds(&descriptor, fingerprints.len()) || count > fingerprints.len() {
                return Err(FilterError::BadFilter);
            }
            Some(BinaryFuse16 {
                descriptor,
                fingerprints,
            })
        };
        Ok(PublishedFilter {
            built_at,
            earliest_expiry,
            count,
            cutoffs,
            fuse,
            checksum,
        })
    }

    /// When it was built: it holds every revocation recorded before then.
    pub fn built_at(&self) -> UnixTime {
        self.built_at
    }

    /// The earliest end among its entries (0: none ends).
    pub fn earliest_expiry(&self) -> UnixTime {
        self.earliest_expiry
    }

    /// Distinct ids in the filter.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the filter holds no id (it may still hold cutoffs).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The checksum that names it (its last 32 bytes).
    pub fn checksum(&self) -> &[u8; 32] {
        &self.checksum
    }

    /// Its subject cutoffs, ascending by subject.
    pub fn cutoffs(&self) -> &[SubjectCutoff] {
        &self.cutoffs
    }

    /// Whether `id` may be revoked: `false` is certain, `true` is wrong for about 1 in 65,536
    /// ids that are not.
    pub fn may_contain(&self, kind: IdKind, id: &str) -> bool {
        self.fuse
            .as_ref()
            .is_some_and(|f| f.contains(&filter_key(kind, id)))
    }

    /// `sub`'s cutoff, if one is in force at `now`.
    pub fn cutoff(&self, sub: &str, now: UnixTime) -> Option<UnixTime> {
        find(&self.cutoffs, (0, sub), now).map(|c| c.before)
    }
}

/// Whether every index xorf's lookup computes stays inside `len` fingerprints, for any key:
/// h0 < segment_count_length, and h1, h2 are h0 plus one and two segment lengths with their
/// low bits (below the power-of-two segment length) changed, so they stay below
/// segment_count_length + 2 × segment_length — which must be the array's length. All in u32,
/// as xorf computes them.
fn lookups_in_bounds(d: &Descriptor, len: usize) -> bool {
    let sl = d.segment_length;
    sl.is_power_of_two()
        && sl <= MAX_SEGMENT_LEN
        && d.segment_length_mask == sl - 1
        && d.segment_count_length >= sl
        && d.segment_count_length.is_multiple_of(sl)
        && u64::from(d.segment_count_length) + 2 * u64::from(sl) <= u64::from(u32::MAX)
        && usize::try_from(d.segment_count_length)
            .ok()
            .and_then(|scl| scl.checked_add(2 * usize::try_from(sl).ok()?))
            == Some(len)
}
