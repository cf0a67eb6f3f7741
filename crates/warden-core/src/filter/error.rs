//! Why published bytes were refused, or could not be built.

use core::fmt;

/// Why a published filter or delta was refused. Any such value is unusable as a whole: the
/// reader falls back to reading each id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterError {
    /// Not a filter (or not a delta): the first four bytes are not its magic.
    BadMagic,
    /// A format version this build does not read.
    UnsupportedVersion(u16),
    /// Fewer bytes than the header (or the length it states).
    Truncated,
    /// More bytes than the length the header states.
    TrailingBytes,
    /// The SHA-256 at the end does not match the bytes before it.
    ChecksumMismatch,
    /// A count or length inside disagrees with the bytes that follow it.
    BadLength,
    /// The fuse filter's parameters are inconsistent (segment length, mask, array length or
    /// key count).
    BadFilter,
    /// An id or subject is empty, longer than 256 bytes, or not UTF-8.
    BadId,
    /// An unknown id kind.
    BadKind(u8),
    /// Entries not in strictly ascending order (a repeated entry included).
    Unsorted,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => f.write_str("not a revocation filter or delta (bad magic)"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            Self::Truncated => f.write_str("truncated"),
            Self::TrailingBytes => f.write_str("longer than its stated length"),
            Self::ChecksumMismatch => f.write_str("checksum mismatch"),
            Self::BadLength => f.write_str("a count or length disagrees with the content"),
            Self::BadFilter => f.write_str("inconsistent filter parameters"),
            Self::BadId => f.write_str("an id or subject is empty, too long or not UTF-8"),
            Self::BadKind(k) => write!(f, "unknown id kind {k}"),
            Self::Unsorted => f.write_str("entries out of order or repeated"),
        }
    }
}

impl core::error::Error for FilterError {}

/// Why a filter or delta could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// An id or subject is empty or longer than 256 bytes (no token could carry it).
    BadId,
    /// The encoded value would exceed [`super::MAX_PUBLISHED_LEN`].
    TooLarge,
    /// The fuse filter could not be constructed, or did not hold every key (with distinct
    /// keys, practically never).
    Construction,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadId => f.write_str("an id or subject is empty or longer than 256 bytes"),
            Self::TooLarge => f.write_str("the published value would exceed 25 MiB"),
            Self::Construction => f.write_str("the fuse filter could not be constructed"),
        }
    }
}

impl core::error::Error for BuildError {}
