//! The published revocation filter (issue #15), sans I/O: what a writer builds from the active
//! revocations, the bytes it publishes, and what a reader concludes from them for a token.
//!
//! - A [`PublishedFilter`] (built by [`build_filter`]) holds every live `jti`/`sid`/`kid`
//!   revocation as a 16-bit binary fuse filter over [`filter_key`]s, and every subject cutoff
//!   exactly. A filter hit may be a false positive (about 1 in 65,536 ids): it is confirmed with
//!   one read of the id's record. A miss is certain.
//! - A [`Delta`] (built by [`build_delta`]) lists exactly what was revoked since a given filter
//!   was built, and names that filter by its checksum.
//! - [`decide`] (or [`FilterView`]) answers for a token's ids: absent (no read), present
//!   (exact), maybe (confirm these ids), or unusable (the filter is missing, corrupt or too
//!   old: read every id, never assume absent).
//!
//! The byte formats are documented on [`PublishedFilter`] and [`Delta`]; both end with a
//! SHA-256 over everything before it, and their parsers refuse any corruption with a
//! [`FilterError`].

mod delta;
mod entries;
mod error;
mod lookup;
mod published;
mod wire;

#[cfg(test)]
mod tests;

pub use delta::{build_delta, Delta};
pub use entries::{filter_key, IdKind, Revocation, SubjectCutoff};
pub use error::{BuildError, FilterError};
pub use lookup::{decide, FilterAnswers, FilterDecision, FilterView, Membership, Unusable};
pub use published::{build_filter, build_filter_from, BuiltFilter, PublishedFilter};

/// The largest published value [`build_filter`] and [`build_delta`] produce: Workers KV's limit
/// for one value (25 MiB).
pub const MAX_PUBLISHED_LEN: usize = 25 * 1024 * 1024;
