//! Strict base64url: the unpadded URL-safe alphabet with canonical trailing bits only.

use alloc::vec::Vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Decodes unpadded base64url; refuses padding, `+`, `/`, whitespace and non-zero trailing bits.
pub(crate) fn decode(input: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(input).ok()
}

/// Encodes as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> alloc::string::String {
    URL_SAFE_NO_PAD.encode(bytes)
}
