//! Token minting for tests: raw header and claims JSON (so tests can craft hostile tokens),
//! signed with HS256 or ES256 keys derived from fixed seeds.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use sha2::Sha256;

pub const HMAC_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
pub const NOW: u64 = 1_700_000_000;

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn hs256(header: &str, claims: &str, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

pub fn ec_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).unwrap()
}

pub fn es256(header: &str, claims: &str, key: &SigningKey) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

pub fn ec_jwk(key: &SigningKey, kid: &str) -> String {
    let point = key.verifying_key().to_encoded_point(false);
    format!(
        r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","use":"sig","x":"{}","y":"{}"}}"#,
        b64(point.x().unwrap()),
        b64(point.y().unwrap())
    )
}

pub fn hmac_jwks() -> String {
    format!(
        r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"HS256","k":"{}"}}]}}"#,
        b64(HMAC_SECRET)
    )
}

pub fn ec_jwks() -> String {
    format!(r#"{{"keys":[{}]}}"#, ec_jwk(&ec_key(7), "e1"))
}

/// Claims valid at NOW for ten minutes.
pub fn claims() -> String {
    format!(
        r#"{{"sub":"alice","jti":"t-1","sid":"s-1","iss":"https://issuer.test","aud":"api","iat":{},"exp":{}}}"#,
        NOW - 60,
        NOW + 600
    )
}

/// The policy the tests' tokens are made for: issuer, audience and `typ` checked.
pub fn policy() -> warden_core::Policy {
    warden_core::Policy {
        issuer: Some("https://issuer.test".into()),
        audiences: vec!["api".into()],
        typ: Some("at+jwt".into()),
        ..warden_core::Policy::default()
    }
}

pub const HS_HEADER: &str = r#"{"alg":"HS256","kid":"h1","typ":"at+jwt"}"#;
pub const ES_HEADER: &str = r#"{"alg":"ES256","kid":"e1","typ":"at+jwt"}"#;
