//! Strict base64url: the unpadded URL-safe alphabet with canonical trailing bits only.

use alloc::vec::Vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Decodes unpadded base64url; refuses padding, `+`, `/`, whitespace and non-zero trailing bits.
pub(crate) fn decode(input: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(input).ok()
}

/// Encodes as unpadded base64url (DPoP thumbprints and `ath`).
#[cfg(feature = "json")]
pub(crate) fn encode(bytes: &[u8]) -> alloc::string::String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// [`decode`]'s bytes handed to `f`: decoded into `buf` when they fit (no allocation), into a
/// new vector otherwise. `None` where [`decode`] refuses `input`.
pub(crate) fn decode_with<R>(input: &str, buf: &mut [u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    // Unpadded: every 4 characters are 3 bytes, a last group of 2 or 3 characters 1 or 2.
    if input.len() / 4 * 3 + 2 <= buf.len() {
        let n = URL_SAFE_NO_PAD.decode_slice(input, buf).ok()?;
        Some(f(&buf[..n]))
    } else {
        decode(input).map(|bytes| f(&bytes))
    }
}

/// Whether [`decode`] accepts `input`, without building the bytes: 256 characters (whole
/// 4-character groups) at a time into a buffer on the stack. Each group decodes on its own, so
/// the groups before the last are checked exactly as in one pass, and the last one (with the
/// trailing-bits rule) is the same group either way.
pub(crate) fn is_valid(input: &str) -> bool {
    let mut out = [0u8; 192];
    input
        .as_bytes()
        .chunks(256)
        .all(|chunk| URL_SAFE_NO_PAD.decode_slice(chunk, &mut out).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn is_valid_agrees_with_decode() {
        let mut cases: Vec<String> = [
            "", "A", "AA", "AB", "AAA", "AAB", "AAAA", "_-_-", "a+b/", "AA==", "A A",
        ]
        .iter()
        .map(|s| String::from(*s))
        .collect();
        // Lengths around the 256-character chunks, with the last group's trailing bits set and
        // clear, and a bad character in the first and in the last chunk.
        for len in [
            252, 253, 254, 255, 256, 257, 258, 259, 260, 511, 512, 513, 514,
        ] {
            let base: String = "Aw".repeat(len).chars().take(len).collect();
            cases.push(base.clone());
            let mut tail = base.clone();
            tail.pop();
            tail.push('B');
            cases.push(tail);
            let mut bad = base.clone();
            bad.replace_range(0..1, "*");
            cases.push(bad);
            let mut bad_last = base;
            let n = bad_last.len();
            bad_last.replace_range(n - 1..n, "=");
            cases.push(bad_last);
        }
        let (mut good, mut bad) = (0, 0);
        for case in &cases {
            let expected = decode(case).is_some();
            assert_eq!(is_valid(case), expected, "{case:?}");
            if expected {
                good += 1;
            } else {
                bad += 1;
            }
        }
        assert!(good >= 10 && bad >= 10, "{good} accepted, {bad} refused");
        // decode_with: the same bytes (or refusal) from the buffer and from the vector.
        for case in &cases {
            // Including the smallest buffer decode_with decodes into (the bound it checks).
            for size in [0, 8, 200, 400, case.len() / 4 * 3 + 2] {
                let mut buf = alloc::vec![0u8; size];
                assert_eq!(
                    decode_with(case, &mut buf, <[u8]>::to_vec),
                    decode(case),
                    "{case:?} with a buffer of {size}"
                );
            }
        }
    }
}
