//! Native benchmarks: parse + verify + evaluate per algorithm, and the cached-hit path
//! (SHA-256 of the token + map lookup + claims check). Run with `make bench-core`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{encode, jwk::Jwk, Algorithm as Jwa, EncodingKey, Header};
use warden_core::{parse, token_digest, JwtVerifier, KeySet, Policy, RevocationStatus, Token};

const NOW: u64 = 1_700_000_000;

fn fixture(alg: Jwa) -> (String, KeySet) {
    let key = match alg {
        Jwa::HS256 => EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        Jwa::RS256 | Jwa::PS256 => {
            EncodingKey::from_rsa_pem(include_bytes!("keys/rsa2048.pem")).unwrap()
        }
        Jwa::ES256 => EncodingKey::from_ec_pem(include_bytes!("keys/p256.pem")).unwrap(),
        Jwa::ES384 => EncodingKey::from_ec_pem(include_bytes!("keys/p384.pem")).unwrap(),
        Jwa::EdDSA => EncodingKey::from_ed_pem(include_bytes!("keys/ed25519.pem")).unwrap(),
        _ => unreachable!(),
    };
    let alg_name = format!("{alg:?}");
    let jwk = if alg == Jwa::HS256 {
        r#"{"kty":"oct","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}"#.to_string()
    } else {
        serde_json::to_string(&Jwk::from_encoding_key(&key, alg).unwrap()).unwrap()
    };
    let mut jwk: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&jwk).unwrap();
    jwk.insert("kid".into(), "k1".into());
    jwk.insert("alg".into(), alg_name.into());
    let keys = KeySet::from_jwks(&serde_json::json!({ "keys": [jwk] }).to_string()).unwrap();
    let mut header = Header::new(alg);
    header.kid = Some("k1".into());
    let claims = serde_json::json!({
        "sub": "alice", "jti": "t-1", "sid": "s-1", "iss": "https://issuer", "aud": "api",
        "iat": NOW - 60, "exp": NOW + 600, "scope": "read write",
    });
    (encode(&header, &claims, &key).unwrap(), keys)
}

fn policy() -> Policy {
    Policy {
        issuer: Some("https://issuer".into()),
        audiences: vec!["api".into()],
        ..Policy::default()
    }
}

fn full_path(c: &mut Criterion) {
    let policy = policy();
    let mut group = c.benchmark_group("parse+verify+evaluate");
    for alg in [
        Jwa::HS256,
        Jwa::RS256,
        Jwa::PS256,
        Jwa::ES256,
        Jwa::ES384,
        Jwa::EdDSA,
    ] {
        let (token, keys) = fixture(alg);
        group.bench_function(format!("{alg:?}"), |b| {
            b.iter(|| {
                let t = parse(black_box(&token)).unwrap();
                keys.verify(&t, &JwtVerifier).unwrap();
                black_box(policy.evaluate(&t, NOW, RevocationStatus::NotRevoked))
            })
        });
    }
    group.finish();
}

fn parse_only(c: &mut Criterion) {
    let (token, _) = fixture(Jwa::HS256);
    c.bench_function("parse (HS256 token)", |b| {
        b.iter(|| parse(black_box(&token)).unwrap())
    });
    // An identity provider's access token: the registered claims among many others, some nested.
    let claims = serde_json::json!({
        "sub": "f3c1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b", "jti": "5e0c7f3a-2b1d-4c8e-9f6a-7b3d2e1c0a9f",
        "sid": "8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d", "iss": "https://issuer", "aud": ["api", "account"],
        "iat": NOW - 60, "exp": NOW + 600, "auth_time": NOW - 120, "scope": "openid profile email read write",
        "typ": "Bearer", "azp": "web-app", "acr": "1", "session_state": "8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d",
        "allowed-origins": ["https://app.example.com", "https://admin.example.com"],
        "realm_access": { "roles": ["offline_access", "uma_authorization", "default-roles-example", "editor"] },
        "resource_access": {
            "account": { "roles": ["manage-account", "manage-account-links", "view-profile"] },
            "web-app": { "roles": ["reader", "writer"] },
        },
        "email_verified": true, "name": "Alice Example", "preferred_username": "alice",
        "given_name": "Alice", "family_name": "Example", "email": "alice@example.com",
        "locale": "en", "tenant": { "id": 42, "region": "eu-west", "plan": "team" },
    });
    let mut header = Header::new(Jwa::HS256);
    header.kid = Some("k1".into());
    let key = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
    let token = encode(&header, &claims, &key).unwrap();
    c.bench_function("parse (HS256 token, identity-provider claims)", |b| {
        b.iter(|| parse(black_box(&token)).unwrap())
    });
}

fn cached_hit(c: &mut Criterion) {
    let policy = policy();
    let (token, keys) = fixture(Jwa::ES256);
    let parsed = parse(&token).unwrap();
    keys.verify(&parsed, &JwtVerifier).unwrap();
    // A realistic cache: a thousand other entries besides ours.
    let mut cache: HashMap<[u8; 32], Rc<Token>> = HashMap::new();
    let shared = Rc::new(parsed);
    for i in 0..1_000 {
        cache.insert(token_digest(&format!("other-{i}")), shared.clone());
    }
    cache.insert(token_digest(&token), shared);
    c.bench_function("cached hit (sha256 + lookup + evaluate)", |b| {
        b.iter(|| {
            let t = cache.get(&token_digest(black_box(&token))).unwrap();
            black_box(policy.evaluate(t, NOW, RevocationStatus::NotRevoked))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(30);
    targets = full_path, parse_only, cached_hit
}
criterion_main!(benches);
