//! Any text as request credentials (warden-core `select_credential`, `cookie`, `is_pat`): an
//! `Authorization` value, a `Cookie` header and a cookie name (NUL-separated). Never panics,
//! and: only the exact `Bearer ` or `DPoP ` prefix is stripped (nothing trimmed, no second token); a
//! mis-cased scheme, an empty value or two values are a 400; another scheme is a 401 without
//! an error code and the cookie is then not used; a cookie value is a substring of its header
//! with no `;`; a token over the cap never gets through; a PAT never contains a `.`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::{cookie, is_pat, select_credential, Source, MAX_TOKEN_LEN};

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
        match select_credential(Some(authorization), cookie_header, cookie_name) {
            Ok(Some((t, source))) => {
                assert!(t.len() <= MAX_TOKEN_LEN);
                let scheme = match source {
                    Source::Bearer => "Bearer",
                    Source::Dpop => "DPoP",
                    Source::Cookie => panic!("Authorization alone decides"),
                };
                assert_eq!(&format!("{scheme} {t}"), authorization, "only the exact prefix");
                assert!(!t.is_empty() && !t.contains(','));
            }
            Ok(None) => panic!("an Authorization header is a credential or a refusal"),
            Err(d) => {
                let scheme = authorization.split([' ', '\t']).next().unwrap_or_default();
                match d.status() {
                    400 => assert_eq!(d.code(), "invalid_request"),
                    401 if d.code() == "token_missing" => {
                        assert!(!scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("dpop"));
                        assert!(!authorization.contains(','));
                        assert_eq!(d.error(), None);
                    }
                    _ => assert_eq!(d.code(), "token_malformed"),
                }
            }
        }
        match select_credential(None, cookie_header, cookie_name) {
            Ok(Some((t, source))) => {
                assert_eq!(source, Source::Cookie);
                assert!(t.len() <= MAX_TOKEN_LEN);
                assert_eq!(Ok(Some(t)), c.clone().map_err(|_| ()));
            }
            Ok(None) => {}
            Err(d) => assert!(d.status() == 400 || d.code() == "token_malformed"),
        }
    }

    for prefix in ["wdn_pat_", "", "ey"] {
        if is_pat(authorization, prefix) {
            assert!(authorization.starts_with(prefix) && !authorization.contains('.'));
        }
    }
});
