//! The byte level both formats share: a header (magic, version, total length), little-endian
//! integers, length-prefixed ids, the cutoff list, and the trailing SHA-256.

use alloc::string::String;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use super::entries::{ascending, valid_id, SubjectCutoff};
use super::{BuildError, FilterError, MAX_PUBLISHED_LEN};

/// The format version both values carry.
pub(super) const VERSION: u16 = 1;
/// Magic, version, total length.
const HEADER_LEN: usize = 4 + 2 + 4;
const CHECKSUM_LEN: usize = 32;
/// The bytes of the shortest cutoff: a 1-byte subject with its length, `before`, `expires_at`.
const MIN_CUTOFF_LEN: usize = 2 + 1 + 8 + 8;

/// Writes a value: the header, then the fields, then (in [`Writer::seal`]) the checksum.
pub(super) struct Writer(Vec<u8>);

impl Writer {
    pub(super) fn new(magic: &[u8; 4], capacity: usize) -> Writer {
        let mut out = Vec::with_capacity(capacity.saturating_add(HEADER_LEN + CHECKSUM_LEN));
        out.extend_from_slice(magic);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&[0; 4]); // the total length, set by `seal`
        Writer(out)
    }

    pub(super) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }

    /// A count of entries, as a u32.
    pub(super) fn count(&mut self, n: usize) -> Result<(), BuildError> {
        self.u32(u32::try_from(n).map_err(|_| BuildError::TooLarge)?);
        Ok(())
    }

    /// An id (already checked by [`valid_id`]): its length as a u16, then its bytes.
    pub(super) fn id(&mut self, id: &str) {
        // valid ids are at most 256 bytes
        self.u16(u16::try_from(id.len()).unwrap_or(u16::MAX));
        self.bytes(id.as_bytes());
    }

    pub(super) fn cutoffs(&mut self, list: &[SubjectCutoff]) -> Result<(), BuildError> {
        self.count(list.len())?;
        for c in list {
            self.id(&c.sub);
            self.u64(c.before);
            self.u64(c.expires_at);
        }
        Ok(())
    }

    /// Sets the total length and appends the SHA-256 of everything: the value and its checksum.
    pub(super) fn seal(mut self) -> Result<(Vec<u8>, [u8; 32]), BuildError> {
        let total = self.0.len() + CHECKSUM_LEN;
        if total > MAX_PUBLISHED_LEN {
            return Err(BuildError::TooLarge);
        }
        let total = u32::try_from(total).map_err(|_| BuildError::TooLarge)?;
        if let Some(slot) = self.0.get_mut(6..HEADER_LEN) {
            slot.copy_from_slice(&total.to_le_bytes());
        }
        let checksum: [u8; 32] = Sha256::digest(&self.0).into();
        self.0.extend_from_slice(&checksum);
        Ok((self.0, checksum))
    }
}

/// Reads the fields of a value whose header and checksum [`open`] checked.
pub(super) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// The next `n` bytes. Running out means a count or length lied: the checksum matched, so
    /// the bytes are what the writer wrote.
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], FilterError> {
        if n > self.0.len() {
            return Err(FilterError::BadLength);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FilterError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, FilterError> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    pub(super) fn u16(&mut self) -> Result<u16, FilterError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, FilterError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, FilterError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(super) fn checksum(&mut self) -> Result<[u8; 32], FilterError> {
        self.array()
    }

    /// A count of entries of at least `min_len` bytes each: refused when the bytes left could
    /// not hold them (so no count makes the parser allocate more than the input's size).
    pub(super) fn count(&mut self, min_len: usize) -> Result<usize, FilterError> {
        let n = usize::try_from(self.u32()?).map_err(|_| FilterError::BadLength)?;
        if n.saturating_mul(min_len) > self.0.len() {
            return Err(FilterError::BadLength);
        }
        Ok(n)
    }

    /// An id: its u16 length, then 1 to 256 bytes of UTF-8.
    pub(super) fn id(&mut self) -> Result<String, FilterError> {
        let len = usize::from(self.u16()?);
        let bytes = self.take(len)?;
        match core::str::from_utf8(bytes) {
            Ok(id) if valid_id(id) => Ok(String::from(id)),
            _ => Err(FilterError::BadId),
        }
    }

    pub(super) fn cutoffs(&mut self) -> Result<Vec<SubjectCutoff>, FilterError> {
        let n = self.count(MIN_CUTOFF_LEN)?;
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            list.push(SubjectCutoff {
                sub: self.id()?,
                before: self.u64()?,
                expires_at: self.u64()?,
            });
        }
        if !ascending(&list) {
            return Err(FilterError::Unsorted);
        }
        Ok(list)
    }

    /// Every byte was read.
    pub(super) fn end(&self) -> Result<(), FilterError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(FilterError::BadLength)
        }
    }
}

/// Checks a value's header (`magic`, version, total length) and its checksum; returns a reader
/// over its fields and the checksum.
pub(super) fn open<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
) -> Result<(Reader<'a>, [u8; 32]), FilterError> {
    let mut header = Reader(bytes);
    let truncated = |_| FilterError::Truncated;
    if header.take(4).map_err(truncated)? != magic {
        return Err(FilterError::BadMagic);
    }
    let version = header.u16().map_err(truncated)?;
    if version != VERSION {
        return Err(FilterError::UnsupportedVersion(version));
    }
    let total =
        usize::try_from(header.u32().map_err(truncated)?).map_err(|_| FilterError::Truncated)?;
    if total < HEADER_LEN + CHECKSUM_LEN {
        return Err(FilterError::BadLength);
    }
    if bytes.len() < total {
        return Err(FilterError::Truncated);
    }
    if bytes.len() > total {
        return Err(FilterError::TrailingBytes);
    }
    let (body, checksum) = bytes.split_at(total - CHECKSUM_LEN);
    let sum: [u8; 32] = Sha256::digest(body).into();
    if sum[..] != *checksum {
        return Err(FilterError::ChecksumMismatch);
    }
    Ok((Reader(body.get(HEADER_LEN..).unwrap_or_default()), sum))
}
