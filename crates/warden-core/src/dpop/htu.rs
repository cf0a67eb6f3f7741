//! `htu` comparison (RFC 9449 §4.3 point 9, RFC 3986 §6).

use alloc::string::String;

/// The one reading of an HTTP(S) URL that `htu` and the request's URL are compared in, or
/// `None` when `url` has no such reading (then it matches nothing):
/// - scheme `http` or `https`, compared case-insensitively and written lower-case;
/// - the host lower-case; the port removed when it is the scheme's default (80, 443) or empty;
///   userinfo refused; a port is a decimal number up to 65535, written without leading zeros;
/// - the query and the fragment removed; an empty path is `/`;
/// - in the path, a percent-encoded unreserved character (`A–Z a–z 0–9 - . _ ~`) is decoded and
///   every other percent-encoding is written with upper-case hex digits (RFC 3986 §6.2.2.1–2);
///   a `%` not followed by two hex digits is refused;
/// - dot segments (`.` or `..`, in any spelling, after that decoding) are refused, not removed:
///   the request's own path never has them (the gate refuses such paths), so an `htu` with
///   them names another resource or tries a second reading;
/// - spaces, control characters and non-ASCII characters are refused anywhere (a URL carries
///   them percent-encoded).
///
/// ```
/// use warden_core::normalize_htu;
/// assert_eq!(normalize_htu("HTTPS://API.Example.com:443/a%7eb?q#f").as_deref(), Some("https://api.example.com/a~b"));
/// assert_eq!(normalize_htu("https://api.example.com/a/../b"), None);
/// ```
pub fn normalize_htu(url: &str) -> Option<String> {
    if url.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return None;
    }
    // The scheme ends at the first `:`; `//` must follow (a colon before any `://` leaves no
    // scheme that is `http` or `https` either way).
    let (scheme, rest) = url.split_once(':')?;
    let rest = rest.strip_prefix("//")?;
    let (scheme, default_port) = if scheme.eq_ignore_ascii_case("https") {
        ("https", 443)
    } else if scheme.eq_ignore_ascii_case("http") {
        ("http", 80)
    } else {
        return None;
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..end];
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') || authority.contains('%') {
        return None;
    }
    let (host, port) = split_port(authority)?;
    if host.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    out.push_str("://");
    out.push_str(&host.to_ascii_lowercase());
    match port {
        None | Some("") => {}
        Some(p) => {
            let mut number: u32 = 0;
            for b in p.bytes() {
                if !b.is_ascii_digit() {
                    return None;
                }
                number = number * 10 + u32::from(b - b'0');
                if number > 65_535 {
                    return None;
                }
            }
            if number != default_port {
                out.push(':');
                // Without leading zeros.
                let digits = p.trim_start_matches('0');
                out.push_str(if digits.is_empty() { "0" } else { digits });
            }
        }
    }
    if path.is_empty() {
        out.push('/');
        return Some(out);
    }
    let start = out.len();
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            let c = hi * 16 + lo;
            if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                out.push(c as char);
            } else {
                out.push('%');
                out.push(char::from(b"0123456789ABCDEF"[usize::from(hi)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(lo)]));
            }
            i += 3;
        } else {
            out.push(b as char);
            i += 1;
        }
    }
    if out[start..]
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return None;
    }
    Some(out)
}

/// `host` and `port` of an authority (`[v6]:port` included).
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    Some(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}
