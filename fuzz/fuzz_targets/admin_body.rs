//! Any bytes as an admin API request (worker/src/admin.rs): `POST /_warden/revoke`,
//! `POST /_warden/revoke/batch` and `POST /_warden/pats` bodies, a `?sub=` query, the admin `Authorization` header. Never panics,
//! and what parses keeps the promises the handlers rely on: ids of 1 to 256 bytes, times within
//! range, a PAT expiry in the future (or 0), at most 32 distinct well-formed scopes, and an
//! accepted revoke body re-serialises to the same request; an accepted batch holds 1 to 1,000
//! entries, each one the single endpoint accepts, and never a `token` or `pat` entry (the whole
//! batch is refused when one entry is). `authorized` is exactly
//! "equals `Bearer <secret>`".
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use warden_core::{MAX_ID_LEN, MAX_NUMERIC_DATE};
use warden_worker::admin::{
    authorized, parse_pat_request, parse_revoke, parse_revoke_batch, query_id, Revoke, MAX_BATCH,
    MAX_SCOPES, MAX_SCOPE_LEN,
};

fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_LEN
}

fn time_ok(t: Option<u64>) -> bool {
    t.is_none_or(|t| t <= MAX_NUMERIC_DATE)
}

/// The request body an accepted `Revoke` stands for (the fields the parser keeps).
fn body_of(r: &Revoke) -> Value {
    match r {
        Revoke::Jti { jti, exp, sub } => json!({"jti": jti, "exp": exp, "sub": sub}),
        Revoke::Sid { sid, sub } => json!({"sid": sid, "sub": sub}),
        Revoke::Kid { kid } => json!({ "kid": kid }),
        Revoke::Subject { sub, before } => json!({"sub": sub, "before": before}),
        Revoke::Token {
            token,
            refresh_hint,
        } => {
            json!({"token": token, "token_type_hint": if *refresh_hint { "refresh_token" } else { "access_token" }})
        }
        Revoke::Pat { id } => json!({ "pat": id }),
    }
}

/// `null`-valued optional fields are left out: not every field accepts `null`.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        v => v,
    }
}

fuzz_target!(|data: &[u8]| {
    match parse_revoke(data) {
        Ok(r) => {
            match &r {
                Revoke::Jti { jti, exp, sub } => {
                    assert!(id_ok(jti) && sub.as_deref().is_none_or(id_ok) && time_ok(*exp))
                }
                Revoke::Sid { sid, sub } => assert!(id_ok(sid) && sub.as_deref().is_none_or(id_ok)),
                Revoke::Kid { kid } => assert!(id_ok(kid)),
                Revoke::Subject { sub, before } => assert!(id_ok(sub) && time_ok(*before)),
                Revoke::Token { token, .. } => assert!(!token.is_empty()),
                Revoke::Pat { id } => assert!(id_ok(id)),
            }
            // Only a JSON object can be accepted, and the accepted request round-trips.
            assert!(matches!(
                serde_json::from_slice::<Value>(data),
                Ok(Value::Object(_))
            ));
            let again = serde_json::to_vec(&without_nulls(body_of(&r))).expect("serialises");
            assert_eq!(parse_revoke(&again).as_ref(), Ok(&r), "re-parse of {r:?}");
        }
        Err(why) => assert!(!why.is_empty()),
    }

    match parse_revoke_batch(data) {
        Ok(entries) => {
            assert!(!entries.is_empty() && entries.len() <= MAX_BATCH);
            let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(data) else {
                panic!("an accepted batch is a JSON object");
            };
            let listed = body["revocations"].as_array().expect("an array");
            assert_eq!(listed.len(), entries.len());
            for (entry, r) in listed.iter().zip(&entries) {
                assert!(!matches!(r, Revoke::Token { .. } | Revoke::Pat { .. }));
                let single = serde_json::to_vec(entry).expect("serialises");
                assert_eq!(parse_revoke(&single).as_ref(), Ok(r), "entry {entry}");
            }
        }
        Err(why) => assert!(!why.is_empty()),
    }

    for now in [0, 1_700_000_000, MAX_NUMERIC_DATE, u64::MAX] {
        match parse_pat_request(data, now) {
            Ok(p) => {
                assert!(id_ok(&p.sub));
                assert!(
                    p.expires_at == 0 || (p.expires_at > now && p.expires_at <= MAX_NUMERIC_DATE)
                );
                assert!(p.scopes.len() <= MAX_SCOPES);
                for (i, s) in p.scopes.iter().enumerate() {
                    assert!(!s.is_empty() && s.len() <= MAX_SCOPE_LEN);
                    assert!(s
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'));
                    assert!(!p.scopes[..i].contains(s), "duplicate scope {s}");
                }
            }
            Err(why) => assert!(!why.is_empty()),
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        // As a query string, decoded the way the worker decodes it (worker::Url::query_pairs).
        if let Ok(url) = worker::Url::parse(&format!("https://warden.test/_warden/pats?{text}")) {
            if let Ok(Some(sub)) = query_id(url.query_pairs(), "sub") {
                assert!(id_ok(&sub));
                assert_eq!(url.query_pairs().filter(|(k, _)| k == "sub").count(), 1);
            }
        }
        // As an Authorization header and a secret (split at the first NUL).
        let (presented, secret) = text
            .split_once('\0')
            .unwrap_or((text, "s3cret-admin-token"));
        let expected = presented.strip_prefix("Bearer ") == Some(secret);
        assert_eq!(authorized(Some(presented), secret), expected);
        assert!(!authorized(None, secret));
    }
});
