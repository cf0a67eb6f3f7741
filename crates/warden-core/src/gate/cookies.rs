//! Cookies after a refresh at the edge: what the origin receives in `Cookie`, which new tokens
//! may travel in `Set-Cookie`, and how long the session cookies live.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::UnixTime;

/// The `Cookie` header forwarded to the origin after a refresh: the access and refresh cookies
/// carry the new tokens; every other cookie is kept as sent. Any client cookie whose name could
/// be read as one of the two by a lenient parser (surrounding Unicode whitespace, other ASCII
/// case, no `=`) is dropped, so nothing shadows the new values.
pub fn rewrite_cookie_header(
    header: Option<&str>,
    access: (&str, &str),
    refresh: (&str, &str),
) -> String {
    let ours = |name: &str| {
        let name = name.trim();
        name.eq_ignore_ascii_case(access.0) || name.eq_ignore_ascii_case(refresh.0)
    };
    let mut out: Vec<&str> = header
        .unwrap_or_default()
        .split(';')
        .map(|pair| pair.trim_matches([' ', '\t']))
        .filter(|pair| !pair.is_empty() && !ours(pair.split_once('=').map_or(*pair, |(n, _)| n)))
        .collect();
    let access = format!("{}={}", access.0, access.1);
    let refresh = format!("{}={}", refresh.0, refresh.1);
    out.push(&access);
    out.push(&refresh);
    out.join("; ")
}

/// How long the session cookies live after a refresh: as long as the session may (until its
/// cap ends), not as long as the access token, so that the expired token and its `sid` come
/// back when the next refresh is due. At least one second.
pub fn cookie_max_age(cap_ends_at: UnixTime, now: UnixTime) -> u64 {
    cap_ends_at.saturating_sub(now).max(1)
}

/// A value that can go into a `Set-Cookie` header as it is (RFC 6265 cookie-octets). Tokens
/// from the origin that are not are refused rather than quoted.
pub fn cookie_safe(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| {
            b == 0x21
                || (0x23..=0x2b).contains(&b)
                || (0x2d..=0x3a).contains(&b)
                || (0x3c..=0x5b).contains(&b)
                || (0x5d..=0x7e).contains(&b)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_header_is_rewritten() {
        let h = "theme=dark; at=old.a.t; rt=old-r ; x=1";
        assert_eq!(
            rewrite_cookie_header(Some(h), ("at", "new.a.t"), ("rt", "new-r")),
            "theme=dark; x=1; at=new.a.t; rt=new-r"
        );
        assert_eq!(
            rewrite_cookie_header(None, ("at", "A"), ("rt", "R")),
            "at=A; rt=R"
        );
        // Prefixed names are other cookies; look-alikes a lenient origin might read as ours are
        // dropped, so nothing shadows the new values.
        assert_eq!(
            rewrite_cookie_header(
                Some("xat=1; AT=2; \u{a0}at=3; rt ; at=4; at=5; =6"),
                ("at", "A"),
                ("rt", "R")
            ),
            "xat=1; =6; at=A; rt=R"
        );
    }

    #[test]
    fn cookie_lifetime_follows_the_cap() {
        assert_eq!(cookie_max_age(1_100, 160), 940);
        assert_eq!(cookie_max_age(1_100, 5_000), 1);
    }

    #[test]
    fn cookie_values() {
        assert!(cookie_safe("eyJhbGciOi.eyJzdWIiOi.c2ln"));
        assert!(cookie_safe("Abc-_~09"));
        for bad in ["", "a b", "a;b", "a,b", "a\"b", "a\\b", "é"] {
            assert!(!cookie_safe(bad), "{bad:?}");
        }
    }
}
