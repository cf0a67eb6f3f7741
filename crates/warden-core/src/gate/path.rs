//! One reading of a request path.
//!
//! Origins decode paths in different ways: some decode `%2F` into a separator, some treat `\`
//! as `/`, Java servers drop `;parameters` (and read `..;` as `..`), some decode twice. A path
//! that two servers could read differently is refused before any routing, so the path Warden
//! matches against `WARDEN_PUBLIC_PATHS` and `WARDEN_ROUTES` is the path every origin sees.

use alloc::string::String;
use alloc::vec::Vec;

use crate::denial::Denial;

/// Longest accepted request path, in bytes (as sent, before decoding).
pub const MAX_PATH_LEN: usize = 8 * 1024;

/// A request path decoded once, that no origin can read differently: percent-decoded, valid
/// UTF-8, starting with `/`, with no dot segment, no empty segment (except a trailing `/`), and
/// no `/`, `\`, `;`, `%` or control character that came encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalPath {
    decoded: String,
    lower: String,
}

impl CanonicalPath {
    /// The decoded path, as the origin reads it.
    pub fn as_str(&self) -> &str {
        &self.decoded
    }

    /// The decoded path in ASCII lower case (route matching is case-insensitive, so that an
    /// origin that folds case cannot be reached around a route).
    pub fn lower(&self) -> &str {
        &self.lower
    }
}

/// The path and the query of an absolute request URL as the runtime serialises it (a WHATWG
/// URL: `scheme://authority`, a path that starts with `/`, then `?query`; a fragment is never
/// sent and is cut if present). The path is what [`canonical_path`] reads; the query goes to the
/// origin untouched. Reads the same parts as `url::Url::path` and `url::Url::query` do.
pub fn path_and_query(url: &str) -> (&str, Option<&str>) {
    let rest = url.find("://").map_or(url, |i| &url[i + 3..]);
    let rest = rest.find('/').map_or("/", |i| &rest[i..]);
    let rest = rest.split('#').next().unwrap_or(rest);
    match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    }
}

/// Reads `raw` (the request URL's path, as sent to the origin) one way only, or refuses it with
/// `400 invalid_request`:
/// - a raw `\`, `;`, control character or space, or a `%` not followed by two hex digits;
/// - an encoded `/`, `\`, `;`, `%`, NUL or other control character;
/// - a dot segment (`.`, `..`, or any run of dots) in any spelling, once decoded;
/// - an empty segment (`//`);
/// - bytes that are not UTF-8 once decoded.
///
/// ```
/// use warden_core::canonical_path;
///
/// assert_eq!(canonical_path("/api/%7Euser/x").unwrap().as_str(), "/api/~user/x");
/// assert_eq!(canonical_path("/public/x%3B/../admin").unwrap_err().status(), 400);
/// assert_eq!(canonical_path("/admin%5Cusers").unwrap_err().code(), "invalid_request");
/// ```
pub fn canonical_path(raw: &str) -> Result<CanonicalPath, Denial> {
    if raw.len() > MAX_PATH_LEN {
        return Err(Denial::InvalidRequest("request path too long"));
    }
    if !raw.starts_with('/') {
        return Err(Denial::InvalidRequest("request path must start with /"));
    }
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                let byte = match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h << 4 | l),
                    _ => None,
                }
                .ok_or(Denial::InvalidRequest(
                    "malformed percent-encoding in the request path",
                ))?;
                if matches!(byte, b'/' | b'\\' | b';' | b'%') || is_control(byte) {
                    return Err(Denial::InvalidRequest(
                        "request path encodes a separator, percent sign or control character",
                    ));
                }
                decoded.push(byte);
                i += 3;
            }
            b'\\' => return Err(Denial::InvalidRequest("backslash in the request path")),
            b';' => {
                return Err(Denial::InvalidRequest(
                    "path parameters (;) are not accepted",
                ))
            }
            b' ' => return Err(Denial::InvalidRequest("space in the request path")),
            _ if is_control(b) => {
                return Err(Denial::InvalidRequest(
                    "control character in the request path",
                ))
            }
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8(decoded)
        .map_err(|_| Denial::InvalidRequest("request path is not UTF-8 once decoded"))?;
    let inner = &decoded[1..];
    let mut segments = inner.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            // `.` and `..`, and `...` too: Windows servers drop trailing dots.
            s if !s.is_empty() && s.bytes().all(|b| b == b'.') => {
                return Err(Denial::InvalidRequest("dot segment in the request path"));
            }
            "" if !(last || inner.is_empty()) => {
                return Err(Denial::InvalidRequest("empty segment in the request path"));
            }
            _ => {}
        }
    }
    let lower = decoded.to_ascii_lowercase();
    Ok(CanonicalPath { decoded, lower })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_decode_once() {
        for (raw, want) in [
            ("/", "/"),
            ("/api/v1/users", "/api/v1/users"),
            ("/api/v1/users/", "/api/v1/users/"),
            ("/%61dmin", "/admin"),
            ("/a%20b", "/a b"),
            ("/zo%C3%AB", "/zoë"),
            ("/zo%c3%ab", "/zoë"),
            ("/%7euser/%7Ex", "/~user/~x"),
            ("/x%3Fy", "/x?y"),
            ("/a.b/..c/c..", "/a.b/..c/c.."),
            ("/@:!$&'()*+,=~-_.", "/@:!$&'()*+,=~-_."),
        ] {
            assert_eq!(
                canonical_path(raw).map(|p| p.decoded),
                Ok(want.into()),
                "{raw}"
            );
        }
        assert_eq!(canonical_path("/ADMIN/X").unwrap().lower(), "/admin/x");
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for raw in [
            "",
            "admin",
            "/a%2Fb",
            "/a%2fb",
            "/a%5Cb",
            "/a%5cb",
            "/a%3Bb",
            "/a%3bb",
            "/a%25b",
            "/a%2541",
            "/a%00",
            "/a%0A",
            "/a%0d",
            "/a%7F",
            "/a%1F",
            "/a\\b",
            "/a;b",
            "/a;jsessionid=1",
            "/public/..;/admin",
            "/a/.;x/b",
            "/a b",
            "/a\tb",
            "/a\u{7f}",
            "/a%",
            "/a%4",
            "/a%zz",
            "/a%C3%28",
            "/a%FF",
            "/a%C0%AF",
            "/a/%2E%2E/b",
            "/a/%2e/b",
            "/a/.%2E/b",
            "/a/../b",
            "/a/./b",
            "/..",
            "/.",
            "/...",
            "/a/..../b",
            "//",
            "//admin",
            "/a//b",
            "/a/b//",
        ] {
            let d = canonical_path(raw).unwrap_err();
            assert_eq!((d.status(), d.code()), (400, "invalid_request"), "{raw:?}");
        }
        // 8 KiB of path is accepted (long but legitimate paths exist); one byte more is not.
        let long = alloc::format!("/{}", "a".repeat(8 * 1024 - 1));
        assert_eq!(
            canonical_path(&long).map(|p| p.as_str().len()),
            Ok(8 * 1024)
        );
        assert!(canonical_path(&alloc::format!("/{}", "a".repeat(MAX_PATH_LEN))).is_err());
    }
}

#[cfg(test)]
mod url_tests {
    use super::path_and_query;

    #[test]
    fn path_and_query_reads_the_serialised_url() {
        for (url, want) in [
            ("http://h/a/b?x=1", ("/a/b", Some("x=1"))),
            ("https://h:8443/", ("/", None)),
            ("http://h", ("/", None)),
            ("http://h/p?", ("/p", Some(""))),
            ("http://h/p?a?b=/c", ("/p", Some("a?b=/c"))),
            ("http://h/p#f", ("/p", None)),
            ("http://h/p?q#f", ("/p", Some("q"))),
            ("http://u:p@h/%2e%2E/x", ("/%2e%2E/x", None)),
            ("http://h/a%3Fb?c", ("/a%3Fb", Some("c"))),
        ] {
            assert_eq!(path_and_query(url), want, "{url}");
        }
    }
}
