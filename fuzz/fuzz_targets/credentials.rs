//! Any text as request credentials (worker/src/credentials.rs): an `Authorization` value, a
//! `Cookie` header and a cookie name (NUL-separated). Never panics, and: only the exact
//! `Bearer ` prefix is stripped (nothing trimmed, no second token); a mis-cased scheme, an empty
//! token or two tokens are a 400; a cookie value is a substring of its header with no `;`;
//! a token over the cap never gets through; the bearer header wins over the cookie; a PAT never
//! contains a `.`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::MAX_TOKEN_LEN;
use warden_worker::credentials::{bearer, cookie, is_pat, token};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\0');
    let authorization = parts.next().unwrap_or_default();
    let cookie_header = parts.next();
    let name = parts
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("warden_at");

    let b = bearer(Some(authorization));
    match &b {
        Ok(Some(t)) => {
            assert_eq!(
                &format!("Bearer {t}"),
                authorization,
                "only the exact prefix is stripped"
            );
            assert!(!t.is_empty() && !t.contains(','));
        }
        Ok(None) => assert!(!authorization
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))),
        Err(d) => assert_eq!((d.status(), d.code()), (400, "invalid_request")),
    }

    let c = cookie(cookie_header, name);
    match &c {
        Ok(Some(v)) => {
            let header = cookie_header.expect("a value came from the header");
            assert!(!v.is_empty() && !v.contains(';') && header.contains(*v));
            assert!(header.contains(name));
        }
        Ok(None) => {}
        Err(d) => assert_eq!(d.status(), 400),
    }

    for cookie_name in [None, Some(name)] {
        match token(Some(authorization), cookie_header, cookie_name) {
            Ok(Some(t)) => {
                assert!(t.len() <= MAX_TOKEN_LEN);
                match (&b, cookie_name) {
                    (Ok(Some(bt)), _) => assert_eq!(t, *bt, "the bearer header wins"),
                    (Ok(None), Some(_)) => assert_eq!(Ok(Some(t)), c.clone()),
                    _ => panic!("a token without bearer or cookie"),
                }
            }
            Ok(None) => assert!(matches!(b, Ok(None))),
            Err(d) => assert!(
                d.status() == 400 || d.code() == "token_malformed",
                "{}",
                d.code()
            ),
        }
    }

    for prefix in ["wdn_pat_", "", "ey"] {
        if is_pat(authorization, prefix) {
            assert!(authorization.starts_with(prefix) && !authorization.contains('.'));
        }
    }
});
