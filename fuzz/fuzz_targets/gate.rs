//! Any bytes as a request's facts for the gate (warden-core `gate`): a path, an
//! `Authorization` value and a `Cookie` header (NUL-separated), then the same request's
//! identity values. Never panics, and:
//! - whatever the gate does not refuse has one reading: `canonical_path` accepts it, and
//!   decoding it again, reading `\` as `/` or dropping `;params` changes nothing;
//! - a refusal before any credential is read is a 400 `invalid_request` or a 401;
//! - a cookie is never the credential when an `Authorization` header came;
//! - an admitted token is at most `MAX_TOKEN_LEN` bytes and is a PAT exactly when it has the
//!   prefix and no `.`;
//! - identity values that pass `check_identity` reach the origin through `header_value` with
//!   no control character, no edge whitespace, and decode back to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::{
    canonical_path, check_identity, header_value, is_pat, Admission, Gate, Grant, PathRules,
    RequestFacts, Source, TokenClass, MAX_TOKEN_LEN,
};

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\0');
    let path = parts.next().unwrap_or_default();
    let authorization = parts.next().filter(|a| !a.is_empty());
    let cookies = parts.next();
    let identity = parts.next().unwrap_or_default();

    let gate = Gate {
        paths: PathRules::parse(Some("/health,/public/"), Some("/admin=admin")).unwrap(),
        access_cookie: Some("at".into()),
        refresh_cookie: Some("rt".into()),
        ..Gate::default()
    };
    for method in ["GET", "OPTIONS"] {
        let facts = RequestFacts {
            method,
            path,
            authorization,
            cookies,
            cors_request_method: method == "OPTIONS",
            ..RequestFacts::default()
        };
        let admission = gate.admit(&facts);
        if let Admission::Deny(r) = &admission {
            let status = r.denial.status();
            assert!(status == 400 || status == 401, "{}", r.denial.code());
            continue;
        }
        let canonical = canonical_path(path).expect("an admitted path is canonical");
        let decoded = canonical.as_str();
        // One reading: decoding again, `\` and `;` change nothing.
        assert_eq!(percent_decode(decoded), decoded.as_bytes(), "{path:?}");
        assert!(!decoded.contains(['\\', ';']) && !decoded.contains("//"));
        assert!(!decoded.split('/').any(|s| !s.is_empty() && s.bytes().all(|b| b == b'.')));
        match admission {
            Admission::Jwt { token, request } | Admission::Pat { token, request } => {
                assert!(token.len() <= MAX_TOKEN_LEN);
                assert_eq!(is_pat(token, &gate.pat_prefix), token.starts_with("wdn_pat_") && !token.contains('.'));
                if authorization.is_some() {
                    // `DPoP` scheme without a proof is refused: only a bearer token gets here.
                    assert_eq!(request.source, Some(Source::Bearer));
                    assert_eq!(request.refresh_token, None);
                }
            }
            Admission::Refresh { request, .. } => {
                assert!(authorization.is_none());
                assert_eq!(request.source, None);
            }
            _ => {}
        }
    }

    let grant = Grant {
        subject: Some(identity.to_owned()),
        session: None,
        token_id: None,
        scope: Some(identity.to_owned()),
        class: TokenClass::Access,
        expires_at: 0,
    };
    let sub_ok = check_identity(&Grant { scope: None, ..grant.clone() }).is_ok();
    if sub_ok {
        let v = header_value(identity);
        assert!(!v.bytes().any(|b| b < 0x20 || b == 0x7f || b >= 0x80));
        assert!(!v.starts_with([' ', '\t']) && !v.ends_with([' ', '\t']) && !v.is_empty());
        assert_eq!(percent_decode(&v), identity.as_bytes(), "lossless");
    }
    if check_identity(&grant).is_ok() {
        assert!(identity.is_empty() || identity.split(' ').all(|s| !s.is_empty()));
    }
});
