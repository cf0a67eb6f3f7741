//! Cookie handling of refresh at the edge (warden-core's gate, worker/src/refresh.rs, oauth.rs):
//! input is a client `Cookie` header, two cookie names, two new token values and a token
//! endpoint answer, NUL-separated. Never panics, and:
//! - the credential comes from `Authorization` whenever one came, else the cookie; the refresh
//!   cookie is the `cookie` value, size-capped, and any ambiguity is a 400;
//! - after `rewrite_cookie_header`, the origin sees exactly the new access and refresh values
//!   under their names — no client cookie can shadow or duplicate them — whenever the names are
//!   cookie names and the values cookie-safe;
//! - `parse_response` yields a pair only for a 200 with a non-empty `access_token`, and
//!   `invalid_grant` (which logs the user out) only for a 400/401 that says so.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use warden_core::MAX_TOKEN_LEN;
use warden_core::{
    cookie, cookie_safe, refresh_cookie, rewrite_cookie_header, select_credential, Source,
};
use warden_worker::oauth::{parse_response, set_cookie, RefreshFailure};

/// RFC 7230 `token` characters (what the worker's configuration accepts as a cookie name).
fn cookie_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let header = parts.next().unwrap_or_default();
    let access_name = parts
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("warden_access");
    let refresh_name = parts
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("warden_refresh");
    let new_access = parts.next().unwrap_or("eyJ.eyJ.sig");
    let new_refresh = parts.next().unwrap_or("rt-new");
    let answer = parts.next().unwrap_or("{}");
    let status: u16 = match answer.len() % 5 {
        0 => 400,
        1 => 401,
        2 => 500,
        _ => 200,
    };

    // Where the token came from: `Authorization` alone decides when it came.
    for authorization in [None, Some("Bearer a.b.c"), Some("Basic x")] {
        let l = select_credential(authorization, Some(header), Some(access_name));
        match (authorization, l) {
            (Some("Bearer a.b.c"), found) => assert_eq!(found, Ok(Some(("a.b.c", Source::Bearer)))),
            (Some(_), found) => assert_eq!(found.map_err(|d| d.code()), Err("token_missing")),
            (None, Ok(Some((t, source)))) => {
                assert_eq!(source, Source::Cookie);
                assert_eq!(cookie(Some(header), access_name), Ok(Some(t)));
            }
            (None, _) => {}
        }
    }
    match refresh_cookie(Some(header), refresh_name) {
        Ok(Some(v)) => {
            assert!(v.len() <= MAX_TOKEN_LEN);
            assert_eq!(cookie(Some(header), refresh_name), Ok(Some(v)));
        }
        Ok(None) => assert!(matches!(cookie(Some(header), refresh_name), Ok(None))),
        Err(d) => assert_eq!(d.status(), 400),
    }

    // The rewritten header carries exactly the new pair.
    let out = rewrite_cookie_header(
        Some(header),
        (access_name, new_access),
        (refresh_name, new_refresh),
    );
    if cookie_name(access_name)
        && cookie_name(refresh_name)
        && access_name != refresh_name
        && cookie_safe(new_access)
        && cookie_safe(new_refresh)
    {
        assert_eq!(
            cookie(Some(&out), access_name),
            Ok(Some(new_access)),
            "{out}"
        );
        assert_eq!(
            cookie(Some(&out), refresh_name),
            Ok(Some(new_refresh)),
            "{out}"
        );
        for (name, value) in [(access_name, new_access), (refresh_name, new_refresh)] {
            let c = set_cookie(name, value, 3600);
            assert!(c.starts_with(&format!("{name}={value}; ")));
            assert!(!c.contains(['\r', '\n']));
        }
    }
    if cookie_safe(new_access) {
        assert!(!new_access.contains([';', ',', ' ', '"', '\\', '\r', '\n']));
    }

    // The token endpoint's answer.
    match parse_response(status, answer, "rt-old") {
        Ok(pair) => {
            assert_eq!(status, 200);
            assert!(!pair.access_token.is_empty() && !pair.refresh_token.is_empty());
            let json: Value = serde_json::from_str(answer).expect("a pair comes from JSON");
            assert_eq!(
                json.get("access_token").and_then(Value::as_str),
                Some(pair.access_token.as_str())
            );
        }
        Err(RefreshFailure::InvalidGrant) => {
            assert!(status == 400 || status == 401);
            let json: Value = serde_json::from_str(answer).expect("invalid_grant comes from JSON");
            assert_eq!(
                json.get("error").and_then(Value::as_str),
                Some("invalid_grant")
            );
        }
        Err(RefreshFailure::Upstream(why)) => assert!(!why.is_empty()),
    }
});
