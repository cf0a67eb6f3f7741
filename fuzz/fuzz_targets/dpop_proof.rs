//! Any bytes as a DPoP proof and its request (warden-core `parse_proof`, `Proof::check`,
//! `normalize_htu`): proof text, method, URL and access token, NUL-separated. Never panics, and:
//! - a proof that is read has a `jti` of 1 to 256 bytes, a 43-character thumbprint, and a
//!   signing input that is the text's first two segments;
//! - its replay record lasts until after its `iat` and covers every time `check` accepts it;
//! - `normalize_htu` is idempotent, never keeps a query, a fragment or a dot segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::{normalize_htu, parse_proof, ProofContext, DEFAULT_DPOP_ALGORITHMS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\0');
    let proof = parts.next().unwrap_or_default();
    let method = parts.next().unwrap_or("GET");
    let url = parts.next().unwrap_or("https://server.example.com/token");
    let token = parts.next();

    if let Some(n) = normalize_htu(url) {
        assert_eq!(normalize_htu(&n).as_deref(), Some(n.as_str()));
        assert!(!n.contains('?') && !n.contains('#'));
        assert!(!n.split('/').skip(3).any(|s| s == "." || s == ".."));
    }

    let Ok(p) = parse_proof(proof, &DEFAULT_DPOP_ALGORITHMS) else {
        return;
    };
    assert!(!p.jti.is_empty() && p.jti.len() <= 256);
    assert_eq!(p.jkt.len(), 43);
    assert!(proof.starts_with(&p.signing_input));
    assert_eq!(p.signing_input.matches('.').count(), 1);
    let (max_age, leeway) = (60, 30);
    let until = p.replay_until(max_age, leeway);
    assert!(until > p.iat);
    for now in [0, p.iat, until - 1, until, u64::MAX] {
        let cx = ProofContext {
            method,
            url,
            access_token: token,
            now,
            leeway,
            max_age,
            nonce: None,
        };
        if p.check(&cx).is_ok() {
            assert!(now < until, "accepted at {now}, remembered only until {until}");
        }
    }
});
