//! The cross-check corpus: tokens, key sets and `verify` options, each with the verdict the core
//! gives *natively*, the edge's way (parse, the `algorithms` allowlist, `KeySet::verify` with
//! `JwtVerifier`, `Policy::evaluate`) — computed here with warden-core directly, never through
//! the package.
//!
//! `tests/npm-verify.test.mjs` runs this test with `WARDEN_CORPUS_OUT=<file>` and then checks that
//! `verify` (and `decode`) in the *built npm package* answer exactly the same for every case.
//! Without `WARDEN_CORPUS_OUT` (plain `cargo test`) the corpus is built and sanity-checked only.
//!
//! Two parts:
//! - the shared vector corpus in `tests/vectors/` (Project Wycheproof's JWS and JWK files, the
//!   JOSE cookbook's RFC 7520 §4, RFC 7797 and RFC 8037 examples), each with its own key set;
//! - an attack corpus built here with fixed keys: algorithm confusion, `none`, forbidden headers,
//!   `kid` injection, degenerate and malleated ECDSA signatures, non-canonical encodings, claim
//!   type confusion, every claims check, the `algorithms` allowlist, clock offsets, weak key
//!   sets — plus a valid token for every algorithm.
#![cfg(not(target_arch = "wasm32"))]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand_chacha::rand_core::SeedableRng;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use serde_json::{json, Value};
use sha2::{Sha256, Sha384, Sha512};
use warden_core::{
    parse, Algorithm, Denial, JwtVerifier, KeySet, Policy, RevocationStatus, DEFAULT_LEEWAY,
    DEFAULT_MAX_LIFETIME,
};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/");
const NOW: u64 = 1_700_000_000;
const SECRET: &[u8] = b"warden-corpus-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    B64.encode(bytes)
}

fn load(relative: &str) -> Value {
    let path = format!("{VECTORS}{relative}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The native verdict.
// ---------------------------------------------------------------------------------------------

/// `verify`'s options, as JSON (passed to the package as they are) and as the core's policy.
fn policy_of(options: &Value) -> (Policy, Option<Vec<Algorithm>>, u64) {
    let int = |k: &str| options.get(k).and_then(Value::as_i64);
    let text = |k: &str| options.get(k).and_then(Value::as_str).map(String::from);
    let audiences = match options.get("audience") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
        _ => Vec::new(),
    };
    let algorithms = options.get("algorithms").map(|a| {
        a.as_array()
            .unwrap()
            .iter()
            .map(|n| Algorithm::from_name(n.as_str().unwrap()).unwrap())
            .collect()
    });
    let now = (int("now").unwrap() + int("clockOffset").unwrap_or(0)) as u64;
    let policy = Policy {
        issuer: text("issuer"),
        audiences,
        leeway: int("leeway").map_or(DEFAULT_LEEWAY, |l| l as u64),
        max_lifetime: int("maxLifetime").map_or(DEFAULT_MAX_LIFETIME, |l| l as u64),
        max_age: int("maxAge").map(|a| a as u64),
        typ: text("typ"),
        ..Policy::default()
    };
    (policy, algorithms, now)
}

/// What the edge decides, natively: `{"throws": code}` for a key set that cannot be loaded,
/// else `{"valid", "code", "description"}`; plus whether `decode` accepts the token.
fn expected(token: &str, jwks: &str, options: &Value) -> Value {
    let decodes = parse(token).is_ok();
    let keys = match KeySet::from_jwks(jwks) {
        Ok(k) => k,
        Err(_) => {
            return json!({"throws": Denial::KeysUnavailable.code(), "decodes": decodes});
        }
    };
    let (policy, algorithms, now) = policy_of(options);
    let verdict = (|| {
        let token = parse(token).map_err(Denial::Malformed)?;
        if let Some(allowed) = &algorithms {
            if !allowed.contains(&token.header.alg) {
                return Err(Denial::AlgorithmNotAllowed);
            }
        }
        keys.verify(&token, &JwtVerifier)?;
        policy
            .evaluate(&token, now, RevocationStatus::NotRevoked)
            .map(drop)
    })();
    match verdict {
        Ok(()) => json!({"valid": true, "code": null, "description": null, "decodes": decodes}),
        Err(d) => json!({
            "valid": false,
            "code": d.code(),
            "description": d.description(),
            "decodes": decodes,
        }),
    }
}

struct Corpus {
    cases: Vec<Value>,
}

impl Corpus {
    fn add(&mut self, source: &str, name: &str, token: &str, jwks: &str, options: Value) {
        let expected = expected(token, jwks, &options);
        self.cases.push(json!({
            "source": source,
            "name": name,
            "token": token,
            "jwks": jwks,
            "options": options,
            "expected": expected,
        }));
    }
}

fn at_now() -> Value {
    json!({"now": NOW})
}

// ---------------------------------------------------------------------------------------------
// The shared vector corpus.
// ---------------------------------------------------------------------------------------------

/// A group's key as a JWKS: its public key (or, for `oct`, its secret), as given.
fn jwks_of(key: &Value) -> String {
    if key.get("keys").is_some() {
        key.to_string()
    } else {
        json!({ "keys": [key] }).to_string()
    }
}

fn wycheproof(corpus: &mut Corpus, file: &str) {
    let v = load(&format!("wycheproof/testvectors_v1/{file}"));
    for group in v["testGroups"].as_array().unwrap() {
        let key = group.get("public").unwrap_or(&group["private"]);
        let jwks = jwks_of(key);
        for t in group["tests"].as_array().unwrap() {
            let Some(jws) = t["jws"].as_str() else {
                continue;
            };
            let name = format!("tcId {} {}", t["tcId"], t["comment"].as_str().unwrap_or(""));
            corpus.add(file, &name, jws, &jwks, at_now());
        }
    }
}

/// A cookbook key without its private parameters, bound to the example's algorithm.
fn cookbook_public(key: &Value, alg: &str) -> Value {
    let mut key = key.as_object().unwrap().clone();
    if key["kty"] != "oct" {
        for p in ["d", "p", "q", "dp", "dq", "qi"] {
            key.remove(p);
        }
    }
    key.entry("alg").or_insert_with(|| json!(alg));
    Value::Object(key)
}

fn cookbook(corpus: &mut Corpus, file: &str) {
    let v = load(&format!("jose-cookbook/{file}"));
    let alg = v["input"]["alg"].as_str().unwrap();
    let jwks = json!({"keys": [cookbook_public(&v["input"]["key"], alg)]}).to_string();
    if let Some(compact) = v["output"]["compact"].as_str() {
        corpus.add(file, "compact", compact, &jwks, at_now());
    }
    // RFC 7797: `b64: false` only has JSON serialisations; its protected header and signature
    // around the payload still make a compact token the core must refuse.
    if let Some(protected) = v["signing"]["protected_b64u"].as_str() {
        let sig = v["signing"]["sig"].as_str().unwrap();
        let payload = b64(v["input"]["payload"].as_str().unwrap());
        corpus.add(
            file,
            "protected header",
            &format!("{protected}.{payload}.{sig}"),
            &jwks,
            at_now(),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The attack corpus: fixed keys, raw headers and claims.
// ---------------------------------------------------------------------------------------------

struct Keys {
    rsa: rsa::RsaPrivateKey,
    rsa_jwk: Value,
    p256: p256::ecdsa::SigningKey,
    p384: p384::ecdsa::SigningKey,
    ed: ed25519_dalek::SigningKey,
}

fn bigint(v: &Value) -> rsa::BigUint {
    rsa::BigUint::from_bytes_be(&B64.decode(v.as_str().unwrap()).unwrap())
}

impl Keys {
    fn new() -> Keys {
        // RFC 7520 §3.4's RSA key (2048 bits).
        let v = load("jose-cookbook/jws/4_1.rsa_v15_signature.json");
        let k = &v["input"]["key"];
        let rsa = rsa::RsaPrivateKey::from_components(
            bigint(&k["n"]),
            bigint(&k["e"]),
            bigint(&k["d"]),
            vec![bigint(&k["p"]), bigint(&k["q"])],
        )
        .unwrap();
        Keys {
            rsa,
            rsa_jwk: json!({"kty": "RSA", "n": k["n"], "e": k["e"]}),
            p256: p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap(),
            p384: p384::ecdsa::SigningKey::from_bytes(&[9u8; 48].into()).unwrap(),
            ed: ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]),
        }
    }

    fn jwk(&self, alg: &str, kid: &str) -> Value {
        match alg {
            "HS256" | "HS384" | "HS512" => {
                json!({"kty": "oct", "kid": kid, "alg": alg, "k": b64(SECRET)})
            }
            "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
                let mut k = self.rsa_jwk.clone();
                k["kid"] = json!(kid);
                k["alg"] = json!(alg);
                k
            }
            "ES256" => {
                let p = self.p256.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256", "kid": kid,
                       "x": b64(p.x().unwrap()), "y": b64(p.y().unwrap())})
            }
            "ES384" => {
                let p = self.p384.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-384", "kid": kid,
                       "x": b64(p.x().unwrap()), "y": b64(p.y().unwrap())})
            }
            "EdDSA" => json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
                              "x": b64(self.ed.verifying_key().to_bytes())}),
            other => panic!("{other}"),
        }
    }

    /// The signature of `input` with the key for `alg`.
    fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        macro_rules! hmac {
            ($h:ty) => {{
                let mut mac = Hmac::<$h>::new_from_slice(SECRET).unwrap();
                mac.update(input);
                mac.finalize().into_bytes().to_vec()
            }};
        }
        let key = self.rsa.clone();
        match alg {
            "HS256" => hmac!(Sha256),
            "HS384" => hmac!(Sha384),
            "HS512" => hmac!(Sha512),
            "RS256" => rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
                .sign(input)
                .to_vec(),
            "RS384" => rsa::pkcs1v15::SigningKey::<Sha384>::new(key)
                .sign(input)
                .to_vec(),
            "RS512" => rsa::pkcs1v15::SigningKey::<Sha512>::new(key)
                .sign(input)
                .to_vec(),
            "PS256" => rsa::pss::BlindedSigningKey::<Sha256>::new(key)
                .sign_with_rng(&mut rng, input)
                .to_vec(),
            "PS384" => rsa::pss::BlindedSigningKey::<Sha384>::new(key)
                .sign_with_rng(&mut rng, input)
                .to_vec(),
            "PS512" => rsa::pss::BlindedSigningKey::<Sha512>::new(key)
                .sign_with_rng(&mut rng, input)
                .to_vec(),
            "ES256" => {
                let sig: p256::ecdsa::Signature = self.p256.sign(input);
                sig.to_bytes().to_vec()
            }
            "ES384" => {
                let sig: p384::ecdsa::Signature = self.p384.sign(input);
                sig.to_bytes().to_vec()
            }
            "EdDSA" => ed25519_dalek::Signer::sign(&self.ed, input)
                .to_bytes()
                .to_vec(),
            other => panic!("{other}"),
        }
    }

    /// A token over these exact header and claims bytes, signed with the key for `alg`.
    fn token(&self, alg: &str, header: &str, claims: &str) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        let sig = self.sign(alg, input.as_bytes());
        format!("{input}.{}", b64(sig))
    }
}

/// Claims valid at NOW for ten minutes, with `changes` applied (`None` removes a claim).
fn claims_with(changes: &[(&str, Option<Value>)]) -> String {
    let mut c = json!({
        "iss": "https://issuer.test", "sub": "alice", "aud": ["api", "web"],
        "jti": "t-1", "sid": "s-1", "scope": "read write",
        "iat": NOW - 60, "exp": NOW + 600,
    });
    for (k, v) in changes {
        match v {
            Some(v) => c[*k] = v.clone(),
            None => {
                c.as_object_mut().unwrap().remove(*k);
            }
        }
    }
    c.to_string()
}

fn claims() -> String {
    claims_with(&[])
}

const ALL: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

fn public_jwks(k: &Keys) -> String {
    let keys: Vec<Value> = ALL
        .iter()
        .filter(|a| !a.starts_with("HS"))
        .map(|a| k.jwk(a, &format!("k-{a}")))
        .collect();
    json!({ "keys": keys }).to_string()
}

fn hmac_jwks(k: &Keys) -> String {
    json!({"keys": [k.jwk("HS256", "k-HS256"), k.jwk("HS384", "k-HS384"), k.jwk("HS512", "k-HS512")]})
        .to_string()
}

fn jwks_for(k: &Keys, alg: &str) -> String {
    if alg.starts_with("HS") {
        hmac_jwks(k)
    } else {
        public_jwks(k)
    }
}

fn header(alg: &str) -> String {
    json!({"alg": alg, "typ": "at+jwt", "kid": format!("k-{alg}")}).to_string()
}

fn attacks(corpus: &mut Corpus, k: &Keys) {
    let src = "attacks";
    let es = |h: &str, c: &str| k.token("ES256", h, c);
    let pub_jwks = public_jwks(k);
    let hs_jwks = hmac_jwks(k);
    let es_header = header("ES256");

    // Every algorithm, valid; and each with a flipped signature byte.
    for alg in ALL {
        let t = k.token(alg, &header(alg), &claims());
        corpus.add(
            src,
            &format!("valid {alg}"),
            &t,
            &jwks_for(k, alg),
            at_now(),
        );
        let mut sig = B64.decode(t.rsplit('.').next().unwrap()).unwrap();
        sig[0] ^= 1;
        let (input, _) = t.rsplit_once('.').unwrap();
        let bad = format!("{input}.{}", b64(&sig));
        corpus.add(
            src,
            &format!("flipped signature {alg}"),
            &bad,
            &jwks_for(k, alg),
            at_now(),
        );
        // Another algorithm's name on this key's kid (one algorithm per key).
        let other = if alg == "ES256" { "ES384" } else { "ES256" };
        let h = json!({"alg": other, "kid": format!("k-{alg}")}).to_string();
        let t = k.token(other, &h, &claims());
        corpus.add(
            src,
            &format!("{other} on the {alg} key"),
            &t,
            &jwks_for(k, alg),
            at_now(),
        );
    }

    // `alg: none` and friends; names are case-sensitive.
    for alg in [
        "none", "None", "NONE", "nOnE", "hs256", "HS-256", "ES512", "RS1", "",
    ] {
        let h = json!({"alg": alg, "kid": "k-ES256"}).to_string();
        for sig in ["", "c2ln"] {
            let t = format!("{}.{}.{sig}", b64(&h), b64(claims()));
            corpus.add(
                src,
                &format!("alg {alg:?} sig {sig:?}"),
                &t,
                &pub_jwks,
                at_now(),
            );
        }
    }
    corpus.add(
        src,
        "alg missing",
        &es(r#"{"kid":"k-ES256"}"#, &claims()),
        &pub_jwks,
        at_now(),
    );
    corpus.add(
        src,
        "alg a number",
        &es(r#"{"alg":1,"kid":"k-ES256"}"#, &claims()),
        &pub_jwks,
        at_now(),
    );

    // RS/HS and EC/HS confusion: the public key as an HMAC secret.
    let n = B64.decode(k.rsa_jwk["n"].as_str().unwrap()).unwrap();
    let ec_point = k.p256.verifying_key().to_encoded_point(false);
    for (name, kid, secret) in [
        ("RSA modulus", "k-RS256", n.clone()),
        (
            "RSA JWK text",
            "k-RS256",
            k.jwk("RS256", "k-RS256").to_string().into_bytes(),
        ),
        ("EC point", "k-ES256", ec_point.as_bytes().to_vec()),
    ] {
        let h = json!({"alg": "HS256", "kid": kid}).to_string();
        let input = format!("{}.{}", b64(&h), b64(claims()));
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
        mac.update(input.as_bytes());
        let t = format!("{input}.{}", b64(mac.finalize().into_bytes()));
        corpus.add(
            src,
            &format!("HS256 with the {name} as secret"),
            &t,
            &pub_jwks,
            at_now(),
        );
    }

    // Headers that would let the token pick its key or change its processing.
    for (name, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", k.jwk("ES256", "mine")),
        ("x5c", json!(["MIIB"])),
        ("crit", json!(["exp"])),
        ("b64", json!(false)),
    ] {
        let mut h: Value = serde_json::from_str(&es_header).unwrap();
        h[name] = value;
        corpus.add(
            src,
            &format!("header {name}"),
            &es(&h.to_string(), &claims()),
            &pub_jwks,
            at_now(),
        );
    }
    // kid injection and kid choice.
    for kid in [
        "../../etc/passwd",
        "x' OR '1'='1",
        "$(rm -rf /)",
        "k\u{0}",
        "",
        "k-ES256 ",
        &"k".repeat(129),
    ] {
        let h = json!({"alg": "ES256", "kid": kid}).to_string();
        corpus.add(
            src,
            &format!("kid {kid:.20?}"),
            &es(&h, &claims()),
            &pub_jwks,
            at_now(),
        );
    }
    corpus.add(
        src,
        "kid a number",
        &es(r#"{"alg":"ES256","kid":7}"#, &claims()),
        &pub_jwks,
        at_now(),
    );
    corpus.add(
        src,
        "unknown kid",
        &es(r#"{"alg":"ES256","kid":"k-9"}"#, &claims()),
        &pub_jwks,
        at_now(),
    );
    corpus.add(
        src,
        "no kid, keys with kids",
        &es(r#"{"alg":"ES256"}"#, &claims()),
        &pub_jwks,
        at_now(),
    );
    let mut lone = k.jwk("ES256", "x");
    lone.as_object_mut().unwrap().remove("kid");
    let lone_jwks = json!({"keys": [lone]}).to_string();
    corpus.add(
        src,
        "no kid, one key without kid",
        &es(r#"{"alg":"ES256"}"#, &claims()),
        &lone_jwks,
        at_now(),
    );
    corpus.add(
        src,
        "kid, one key without kid",
        &es(&es_header, &claims()),
        &lone_jwks,
        at_now(),
    );

    // Degenerate, non-canonical and malleated ECDSA signatures.
    let input = format!("{}.{}", b64(&es_header), b64(claims()));
    let good: p256::ecdsa::Signature = k.p256.sign(input.as_bytes());
    let der = good.to_der();
    const N256: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let bytes = good.to_bytes();
    let (r, s) = bytes.split_at(32);
    let mut high_s = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = N256[i] as i16 - s[i] as i16 - borrow;
        high_s[i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    let mut n_as_s = r.to_vec();
    n_as_s.extend_from_slice(&N256);
    for (name, sig) in [
        ("r = s = 0 (CVE-2022-21449)", vec![0u8; 64]),
        ("DER-encoded", der.as_bytes().to_vec()),
        ("high S (malleated twin)", [r, &high_s[..]].concat()),
        ("s = n", n_as_s),
        ("truncated", bytes[..63].to_vec()),
        ("empty", Vec::new()),
        ("doubled", [&bytes[..], &bytes[..]].concat()),
    ] {
        corpus.add(
            src,
            &format!("ES256 signature {name}"),
            &format!("{input}.{}", b64(&sig)),
            &pub_jwks,
            at_now(),
        );
    }
    // A MAC from another secret; a MAC cut short.
    let hs = k.token("HS256", &header("HS256"), &claims());
    let (hs_input, hs_sig) = hs.rsplit_once('.').unwrap();
    let mut other = Hmac::<Sha256>::new_from_slice(b"another-secret-another-secret-xx").unwrap();
    other.update(hs_input.as_bytes());
    corpus.add(
        src,
        "HS256 with another secret",
        &format!("{hs_input}.{}", b64(other.finalize().into_bytes())),
        &hs_jwks,
        at_now(),
    );
    let short = B64.decode(hs_sig).unwrap();
    corpus.add(
        src,
        "HS256 MAC truncated",
        &format!("{hs_input}.{}", b64(&short[..16])),
        &hs_jwks,
        at_now(),
    );

    // Structure and encoding.
    let t = es(&es_header, &claims());
    let segs: Vec<&str> = t.split('.').collect();
    for (name, token) in [
        ("two segments", format!("{}.{}", segs[0], segs[1])),
        ("four segments", format!("{t}.")),
        ("padding", format!("{}=.{}.{}", segs[0], segs[1], segs[2])),
        ("standard alphabet", t.replace('-', "+").replace('_', "/")),
        ("leading space", format!(" {t}")),
        ("trailing newline", format!("{t}\n")),
        ("Bearer prefix", format!("Bearer {t}")),
        ("empty", String::new()),
        ("dots only", "..".to_owned()),
        ("oversized", format!("{t}{}", "A".repeat(8 * 1024))),
    ] {
        corpus.add(
            src,
            &format!("structure: {name}"),
            &token,
            &pub_jwks,
            at_now(),
        );
    }
    // Duplicate JSON keys, JSON that is not an object, deep nesting.
    for (name, h, c) in [
        (
            "duplicate alg",
            r#"{"alg":"ES256","alg":"HS256","kid":"k-ES256"}"#.to_owned(),
            claims(),
        ),
        (
            "duplicate sub",
            es_header.clone(),
            r#"{"sub":"a","sub":"b","iat":1699999940,"exp":1700000600}"#.to_owned(),
        ),
        (
            "nested duplicate",
            es_header.clone(),
            r#"{"iat":1699999940,"exp":1700000600,"x":{"a":1,"a":2}}"#.to_owned(),
        ),
        ("claims an array", es_header.clone(), "[1,2]".to_owned()),
        ("claims a string", es_header.clone(), "\"alice\"".to_owned()),
        (
            "claims with BOM",
            es_header.clone(),
            format!("\u{feff}{}", claims()),
        ),
        (
            "deep nesting",
            es_header.clone(),
            format!(
                "{{\"iat\":1699999940,\"exp\":1700000600,\"x\":{}1{}}}",
                "[".repeat(200),
                "]".repeat(200)
            ),
        ),
        (
            "lone surrogate",
            es_header.clone(),
            r#"{"iat":1699999940,"exp":1700000600,"x":"\ud800"}"#.to_owned(),
        ),
    ] {
        corpus.add(
            src,
            &format!("json: {name}"),
            &es(&h, &c),
            &pub_jwks,
            at_now(),
        );
    }

    // Claim types and every claims check, with and without options.
    let claim_cases: Vec<(&str, String)> = vec![
        (
            "exp a string",
            claims_with(&[("exp", Some(json!("1700000600")))]),
        ),
        (
            "exp a fraction",
            claims_with(&[("exp", Some(json!(1700000600.5)))]),
        ),
        ("exp negative", claims_with(&[("exp", Some(json!(-1)))])),
        (
            "exp after 9999",
            claims_with(&[("exp", Some(json!(253402300800u64)))]),
        ),
        (
            "exp 1e10 (a float)",
            claims_with(&[("exp", Some(json!(1e10)))]),
        ),
        ("iat a bool", claims_with(&[("iat", Some(json!(true)))])),
        ("nbf null", claims_with(&[("nbf", Some(Value::Null))])),
        ("sub a number", claims_with(&[("sub", Some(json!(1)))])),
        ("sub empty", claims_with(&[("sub", Some(json!("")))])),
        (
            "jti too long",
            claims_with(&[("jti", Some(json!("j".repeat(257))))]),
        ),
        ("aud a number", claims_with(&[("aud", Some(json!(1)))])),
        (
            "aud mixed",
            claims_with(&[("aud", Some(json!(["api", 1])))]),
        ),
        ("no exp", claims_with(&[("exp", None)])),
        ("no iat", claims_with(&[("iat", None)])),
        (
            "exp before iat",
            claims_with(&[("exp", Some(json!(NOW - 120)))]),
        ),
        ("expired", claims_with(&[("exp", Some(json!(NOW - 31)))])),
        (
            "expired within the leeway",
            claims_with(&[("exp", Some(json!(NOW - 29)))]),
        ),
        (
            "exp = now - leeway",
            claims_with(&[("exp", Some(json!(NOW - 30)))]),
        ),
        (
            "nbf in the future",
            claims_with(&[("nbf", Some(json!(NOW + 31)))]),
        ),
        (
            "nbf within the leeway",
            claims_with(&[("nbf", Some(json!(NOW + 30)))]),
        ),
        (
            "iat in the future",
            claims_with(&[
                ("iat", Some(json!(NOW + 31))),
                ("exp", Some(json!(NOW + 600))),
            ]),
        ),
        (
            "lifetime over a day",
            claims_with(&[
                ("iat", Some(json!(NOW - 10))),
                ("exp", Some(json!(NOW + 86_391))),
            ]),
        ),
        (
            "lifetime exactly a day",
            claims_with(&[
                ("iat", Some(json!(NOW - 10))),
                ("exp", Some(json!(NOW + 86_390))),
            ]),
        ),
        (
            "__proto__ claim",
            claims_with(&[("__proto__", Some(json!({"admin": true})))]),
        ),
        (
            "unicode claims",
            claims_with(&[("name", Some(json!("Zoë 😀 \u{2028}")))]),
        ),
    ];
    for (name, c) in &claim_cases {
        corpus.add(
            src,
            &format!("claims: {name}"),
            &es(&es_header, c),
            &pub_jwks,
            at_now(),
        );
    }
    let with = |extra: Value| {
        let mut o = at_now();
        for (key, v) in extra.as_object().unwrap() {
            o[key] = v.clone();
        }
        o
    };
    let good = es(&es_header, &claims());
    let no_typ = es(r#"{"alg":"ES256","kid":"k-ES256"}"#, &claims());
    let jwt_typ = es(
        r#"{"alg":"ES256","kid":"k-ES256","typ":"application/AT+JWT"}"#,
        &claims(),
    );
    let no_iss = es(&es_header, &claims_with(&[("iss", None)]));
    let no_aud = es(&es_header, &claims_with(&[("aud", None)]));
    let str_aud = es(&es_header, &claims_with(&[("aud", Some(json!("api")))]));
    for (name, token, options) in [
        (
            "issuer right",
            &good,
            with(json!({"issuer": "https://issuer.test"})),
        ),
        (
            "issuer wrong",
            &good,
            with(json!({"issuer": "https://issuer.test/"})),
        ),
        (
            "issuer absent",
            &no_iss,
            with(json!({"issuer": "https://issuer.test"})),
        ),
        (
            "audience one of",
            &good,
            with(json!({"audience": ["other", "web"]})),
        ),
        (
            "audience string",
            &str_aud,
            with(json!({"audience": "api"})),
        ),
        ("audience wrong", &good, with(json!({"audience": "admin"}))),
        ("audience absent", &no_aud, with(json!({"audience": "api"}))),
        ("typ right", &good, with(json!({"typ": "at+jwt"}))),
        (
            "typ with application/",
            &jwt_typ,
            with(json!({"typ": "at+jwt"})),
        ),
        ("typ wrong", &good, with(json!({"typ": "JWT"}))),
        ("typ absent", &no_typ, with(json!({"typ": "at+jwt"}))),
        ("maxAge kept", &good, with(json!({"maxAge": 60}))),
        ("maxAge exceeded", &good, with(json!({"maxAge": 59}))),
        (
            "maxLifetime exceeded",
            &good,
            with(json!({"maxLifetime": 600})),
        ),
        (
            "leeway 0, expired",
            &es(&es_header, &claims_with(&[("exp", Some(json!(NOW)))])),
            with(json!({"leeway": 0})),
        ),
        (
            "leeway 300",
            &es(&es_header, &claims_with(&[("exp", Some(json!(NOW - 299)))])),
            with(json!({"leeway": 300})),
        ),
        (
            "algorithms allow",
            &good,
            with(json!({"algorithms": ["ES256", "EdDSA"]})),
        ),
        (
            "algorithms refuse",
            &good,
            with(json!({"algorithms": ["RS256"]})),
        ),
        (
            "clock ahead, offset given",
            &good,
            with(json!({"now": NOW + 600, "clockOffset": -600})),
        ),
        (
            "clock ahead, no offset",
            &good,
            with(json!({"now": NOW + 660})),
        ),
        (
            "clock behind, offset given",
            &good,
            with(json!({"now": NOW - 600, "clockOffset": 600})),
        ),
        (
            "clock behind, no offset",
            &good,
            with(json!({"now": NOW - 600})),
        ),
        (
            "everything at once",
            &good,
            with(
                json!({"issuer": "https://issuer.test", "audience": ["api"], "typ": "at+jwt", "maxAge": 3600, "algorithms": ["ES256"], "leeway": 10, "maxLifetime": 3600}),
            ),
        ),
    ] {
        corpus.add(src, &format!("options: {name}"), token, &pub_jwks, options);
    }

    // Key sets the edge refuses to load.
    let mut private = k.jwk("ES256", "p");
    private["d"] = json!(b64([1u8; 32]));
    let mut enc = k.jwk("ES256", "e");
    enc["use"] = json!("enc");
    let mut small_rsa = k.jwk("RS256", "r");
    small_rsa["n"] = json!(b64(&n[..128]));
    let mut e1 = k.jwk("RS256", "r");
    e1["e"] = json!("AQ");
    for (name, jwks) in [
        ("empty", r#"{"keys":[]}"#.to_owned()),
        ("not JSON", "{keys:".to_owned()),
        (
            "short HMAC secret",
            json!({"keys": [{"kty": "oct", "kid": "h", "alg": "HS256", "k": b64([1u8; 31])}]})
                .to_string(),
        ),
        ("private EC key", json!({"keys": [private]}).to_string()),
        ("encryption key", json!({"keys": [enc]}).to_string()),
        ("RSA 1024", json!({"keys": [small_rsa]}).to_string()),
        ("RSA e = 1", json!({"keys": [e1]}).to_string()),
        ("RSA without alg", json!({"keys": [k.rsa_jwk]}).to_string()),
        (
            "mixed secret and public",
            json!({"keys": [k.jwk("HS256", "h"), k.jwk("ES256", "e")]}).to_string(),
        ),
        (
            "duplicate kid",
            json!({"keys": [k.jwk("ES256", "same"), k.jwk("EdDSA", "same")]}).to_string(),
        ),
    ] {
        corpus.add(src, &format!("jwks: {name}"), &good, &jwks, at_now());
    }
}

#[test]
fn corpus_of_native_verdicts() {
    let mut corpus = Corpus { cases: Vec::new() };
    wycheproof(&mut corpus, "json_web_signature_test.json");
    wycheproof(&mut corpus, "json_web_key_test.json");
    for file in [
        "jws/4_1.rsa_v15_signature.json",
        "jws/4_2.rsa-pss_signature.json",
        "jws/4_3.ecdsa_signature.json",
        "jws/4_4.hmac-sha2_integrity_protection.json",
        "curve25519-jws.json",
        "rfc7797/4.2.hmac-sha2_b64_false.json",
        "rfc7797/hmac-sha2_b64_false.json",
    ] {
        cookbook(&mut corpus, file);
    }
    let keys = Keys::new();
    attacks(&mut corpus, &keys);

    // Sanity: the corpus covers what it claims to.
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for c in &corpus.cases {
        let e = &c["expected"];
        let key = match (e.get("throws"), e["valid"].as_bool()) {
            (Some(t), _) => format!("throws {}", t.as_str().unwrap()),
            (None, Some(true)) => "valid".to_owned(),
            _ => e["code"].as_str().unwrap().to_owned(),
        };
        *codes.entry(key).or_default() += 1;
    }
    println!("{} cases: {codes:?}", corpus.cases.len());
    let by_name = |name: &str| {
        let c = corpus
            .cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        c["expected"].clone()
    };
    for alg in ALL {
        assert_eq!(by_name(&format!("valid {alg}"))["valid"], true, "{alg}");
        assert_eq!(
            by_name(&format!("flipped signature {alg}"))["code"],
            "token_bad_signature"
        );
    }
    assert_eq!(
        by_name("HS256 with the RSA modulus as secret")["code"],
        "token_algorithm_not_allowed"
    );
    assert_eq!(
        by_name("ES256 signature r = s = 0 (CVE-2022-21449)")["code"],
        "token_bad_signature"
    );
    assert_eq!(by_name("options: clock ahead, offset given")["valid"], true);
    assert_eq!(
        by_name("options: clock ahead, no offset")["code"],
        "token_expired"
    );
    assert_eq!(
        by_name("jwks: short HMAC secret")["throws"],
        "keys_unavailable"
    );
    for code in [
        "token_malformed",
        "token_unknown_key",
        "token_algorithm_not_allowed",
        "token_bad_signature",
        "token_claim_missing",
        "token_expired",
        "token_not_yet_valid",
        "token_issued_in_future",
        "token_too_old",
        "token_lifetime_too_long",
        "token_wrong_issuer",
        "token_wrong_audience",
        "token_wrong_type",
        "throws keys_unavailable",
        "valid",
    ] {
        assert!(
            codes.get(code).copied().unwrap_or(0) > 0,
            "no case gives {code}"
        );
    }
    assert!(corpus.cases.len() > 500, "{} cases", corpus.cases.len());

    if let Some(out) = std::env::var_os("WARDEN_CORPUS_OUT") {
        let text = serde_json::to_string(&json!({"now": NOW, "cases": corpus.cases})).unwrap();
        std::fs::write(&out, text).unwrap_or_else(|e| panic!("{out:?}: {e}"));
        println!(
            "wrote {} cases to {}",
            corpus.cases.len(),
            out.to_string_lossy()
        );
    }
}
