//! Any bytes through parse → key selection → signature → every policy path, at several times.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::{parse, JwtVerifier, KeySet, Policy, RevocationIds, RevocationStatus, StoreAnswers};

const JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"h1","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(token) = parse(text) else { return };
    let keys = KeySet::from_jwks(JWKS).expect("fixed JWKS loads");
    let _ = keys.verify(&token, &JwtVerifier);
    let policy = Policy { issuer: Some("i".into()), audiences: vec!["a".into()], max_age: Some(60), typ: Some("at+jwt".into()), refresh_window: 15, ..Policy::default() };
    let ids = RevocationIds::of(&token);
    let status = ids.interpret(&StoreAnswers::default());
    for now in [0, 1_700_000_000, u64::MAX] {
        for p in [&policy, &Policy::default()] {
            let _ = p.evaluate_with_refresh(&token, now, status, true);
            if let Err(d) = p.check(&token, now) {
                // Every denial renders without panicking and with a printable header.
                let _ = (d.code(), d.status(), d.www_authenticate(), d.to_string());
            }
        }
    }
    let _ = Policy::default().evaluate(&token, 0, RevocationStatus::Unavailable);
});
