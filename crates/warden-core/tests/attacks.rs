//! One or more tests per row of the security checklist (docs/security.md, rows 1–19), each named
//! `row_NN_…`, each failing if the core's defence for that row is removed. Rows whose defence lives
//! in the worker get the part the core is responsible for.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;
use common::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use p256::elliptic_curve::PrimeField;
use p256::{FieldBytes, Scalar};
use warden_core::{
    parse, Algorithm, Denial, Grant, JwtVerifier, KeyError, KeySet, ParseError, Part, Policy,
    RevocationReason, RevocationStatus, SignatureVerifier, Token, DEFAULT_LEEWAY, MAX_KID_LEN,
    MAX_NUMERIC_DATE, MAX_TOKEN_LEN,
};

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

/// Parse, verify and evaluate, as the worker does.
fn run_with(jwks: &str, token: &str, policy: &Policy, now: u64) -> Result<Grant, Denial> {
    let keys = KeySet::from_jwks(jwks).unwrap();
    let parsed = parse(token).map_err(Denial::Malformed)?;
    keys.verify(&parsed, &JwtVerifier)?;
    policy.evaluate(&parsed, now, RevocationStatus::NotRevoked)
}

fn run(jwks: &str, token: &str) -> Result<Grant, Denial> {
    run_with(jwks, token, &policy(), NOW)
}

/// An HS256 token with the test header and these claims, checked against the HMAC key set.
fn hs_run(claims: &str) -> Result<Grant, Denial> {
    run(&hmac_jwks(), &hs256(HS_HEADER, claims, HMAC_SECRET))
}

/// A token from raw header and claims JSON and raw signature bytes.
fn raw(header: &str, claims: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(claims.as_bytes()),
        b64(signature)
    )
}

/// The standard claims with some members replaced (`Some(raw JSON)`), removed (`None`) or added.
fn claims_with(changes: &[(&str, Option<&str>)]) -> String {
    let iat = (NOW - 60).to_string();
    let exp = (NOW + 600).to_string();
    let mut members: Vec<(String, String)> = [
        ("sub", r#""alice""#),
        ("jti", r#""t-1""#),
        ("sid", r#""s-1""#),
        ("iss", r#""https://issuer.test""#),
        ("aud", r#""api""#),
        ("iat", iat.as_str()),
        ("exp", exp.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, value) in changes {
        let at = members.iter().position(|(k, _)| k == name);
        match (at, value) {
            (Some(i), Some(v)) => members[i].1 = v.to_string(),
            (Some(i), None) => {
                members.remove(i);
            }
            (None, Some(v)) => members.push((name.to_string(), v.to_string())),
            (None, None) => {}
        }
    }
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!(r#""{k}":{v}"#))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// HMAC-SHA-256 with the test secret, over arbitrary bytes.
fn hmac_sha256(input: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HMAC_SECRET).unwrap();
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(String::from).collect()
}

/// RFC 7520's RSA public key (public domain), as a 2048-bit RS256 verification key.
const RSA_N: &str = "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw";

fn rsa_jwk(kid: Option<&str>) -> String {
    let kid = kid.map(|k| format!(r#""kid":"{k}","#)).unwrap_or_default();
    format!(r#"{{"kty":"RSA",{kid}"alg":"RS256","use":"sig","n":"{RSA_N}","e":"AQAB"}}"#)
}

/// RFC 8037's Ed25519 public key (public domain).
const ED25519_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

/// The order n of the P-256 group.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

fn load_error(jwks: &str) -> KeyError {
    KeySet::from_jwks(jwks).expect_err("the key set must be refused")
}

fn reason(jwks: &str) -> &'static str {
    match load_error(jwks) {
        KeyError::Key { reason, .. } => reason,
        other => panic!("expected a refused key, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Row 1: `alg: none`, `None`, mixed-case names. One algorithm per key.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_01_alg_none_in_any_case_refused() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}","kid":"h1","typ":"at+jwt"}}"#);
        for sig in [&[][..], b"x", &[0; 32]] {
            let token = raw(&header, &claims(), sig);
            assert_eq!(parse(&token), Err(ParseError::AlgorithmNone), "{alg}");
            assert_eq!(
                run(&hmac_jwks(), &token),
                Err(Denial::Malformed(ParseError::AlgorithmNone))
            );
        }
        // Unsigned form with an empty third segment, and the two-segment form.
        let unsigned = format!("{}.{}.", b64(header.as_bytes()), b64(claims().as_bytes()));
        assert_eq!(parse(&unsigned), Err(ParseError::AlgorithmNone));
        assert!(parse(unsigned.trim_end_matches('.')).is_err());
    }
}

#[test]
fn row_01_algorithm_names_are_case_sensitive() {
    for alg in [
        "hs256",
        "Hs256",
        "HS256 ",
        " HS256",
        "HS256\u{0}",
        "",
        "HMAC",
        "ES512",
    ] {
        let header = serde_json::json!({ "alg": alg, "kid": "h1" }).to_string();
        let token = hs256(&header, &claims(), HMAC_SECRET);
        assert_eq!(
            parse(&token),
            Err(ParseError::UnsupportedAlgorithm),
            "{alg:?}"
        );
    }
    for alg in ["null", "256", r#"["HS256"]"#, r#"{"name":"HS256"}"#] {
        let token = hs256(
            &format!(r#"{{"alg":{alg},"kid":"h1"}}"#),
            &claims(),
            HMAC_SECRET,
        );
        assert_eq!(
            parse(&token),
            Err(ParseError::InvalidHeader("alg")),
            "{alg}"
        );
    }
    let token = hs256(r#"{"kid":"h1"}"#, &claims(), HMAC_SECRET);
    assert_eq!(parse(&token), Err(ParseError::MissingAlgorithm));
}

#[test]
fn row_01_each_key_verifies_exactly_one_algorithm() {
    let keys = KeySet::from_jwks(&hmac_jwks()).unwrap();
    assert_eq!(keys.keys()[0].alg, Algorithm::HS256);
    // The same secret under another HMAC algorithm is a different key: refused.
    for alg in ["HS384", "HS512"] {
        let token = hs256(
            &format!(r#"{{"alg":"{alg}","kid":"h1","typ":"at+jwt"}}"#),
            &claims(),
            HMAC_SECRET,
        );
        assert_eq!(
            run(&hmac_jwks(), &token),
            Err(Denial::AlgorithmNotAllowed),
            "{alg}"
        );
    }
    // An EC key without `alg` is bound to its curve's one algorithm.
    let keys = KeySet::from_jwks(&ec_jwks()).unwrap();
    assert_eq!(keys.keys()[0].alg, Algorithm::ES256);
    let es384_header = r#"{"alg":"ES384","kid":"e1","typ":"at+jwt"}"#;
    let token = es256(es384_header, &claims(), &ec_key(7));
    assert_eq!(run(&ec_jwks(), &token), Err(Denial::AlgorithmNotAllowed));
}

// ---------------------------------------------------------------------------------------------
// Row 2: RS/HS confusion. Neither key nor algorithm ever comes from the header.
// ---------------------------------------------------------------------------------------------

/// PKCS#1 `RSAPublicKey` DER and PEM for RSA_N / 65537: what a confused library would use as the
/// HMAC secret.
fn rsa_public_der_and_pem() -> (Vec<u8>, String) {
    let n = URL_SAFE_NO_PAD.decode(RSA_N).unwrap();
    assert_eq!(n.len(), 256);
    let mut der = vec![0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00];
    der.extend_from_slice(&n);
    der.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
    let body = STANDARD.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        lines.join("\n")
    );
    (der, pem)
}

#[test]
fn row_02_rsa_public_key_as_hmac_secret_refused() {
    let jwk = rsa_jwk(Some("r1"));
    let jwks = format!(r#"{{"keys":[{jwk}]}}"#);
    let keys = KeySet::from_jwks(&jwks).unwrap();
    assert_eq!(keys.keys()[0].alg, Algorithm::RS256);
    let (der, pem) = rsa_public_der_and_pem();
    let n = URL_SAFE_NO_PAD.decode(RSA_N).unwrap();
    let secrets: Vec<Vec<u8>> = vec![
        n,
        RSA_N.as_bytes().to_vec(),
        der,
        pem.into_bytes(),
        jwk.clone().into_bytes(),
        jwks.clone().into_bytes(),
    ];
    for secret in &secrets {
        for header in [
            r#"{"alg":"HS256","kid":"r1","typ":"at+jwt"}"#,
            r#"{"alg":"HS384","kid":"r1","typ":"at+jwt"}"#,
        ] {
            let token = hs256(header, &claims(), secret);
            assert_eq!(run(&jwks, &token), Err(Denial::AlgorithmNotAllowed));
            // Even handed straight to the verifier, the key verifies RS256 only.
            let parsed = parse(&token).unwrap();
            assert!(JwtVerifier
                .verify(
                    &keys.keys()[0],
                    parsed.signing_input.as_bytes(),
                    &parsed.signature
                )
                .is_err());
        }
    }
    // Without any kid, the set's only key is still RS256-only.
    let anonymous = format!(r#"{{"keys":[{}]}}"#, rsa_jwk(None));
    let token = hs256(r#"{"alg":"HS256","typ":"at+jwt"}"#, &claims(), &secrets[2]);
    assert_eq!(run(&anonymous, &token), Err(Denial::AlgorithmNotAllowed));
}

#[test]
fn row_02_ec_public_key_as_hmac_secret_refused() {
    let key = ec_key(7);
    let point = key.verifying_key().to_encoded_point(false);
    let compressed = key.verifying_key().to_encoded_point(true);
    let secrets: Vec<Vec<u8>> = vec![
        point.as_bytes().to_vec(),
        point.as_bytes()[1..].to_vec(),
        compressed.as_bytes().to_vec(),
        point.x().unwrap().to_vec(),
        ec_jwk(&key, "e1").into_bytes(),
        ec_jwks().into_bytes(),
    ];
    let keys = KeySet::from_jwks(&ec_jwks()).unwrap();
    for secret in &secrets {
        let token = hs256(
            r#"{"alg":"HS256","kid":"e1","typ":"at+jwt"}"#,
            &claims(),
            secret,
        );
        assert_eq!(run(&ec_jwks(), &token), Err(Denial::AlgorithmNotAllowed));
        let parsed = parse(&token).unwrap();
        assert!(JwtVerifier
            .verify(
                &keys.keys()[0],
                parsed.signing_input.as_bytes(),
                &parsed.signature
            )
            .is_err());
    }
    // A set can never hold the public key next to a secret that might be confused with it.
    let mixed = format!(
        r#"{{"keys":[{},{{"kty":"oct","kid":"h1","alg":"HS256","k":"{}"}}]}}"#,
        ec_jwk(&key, "e1"),
        b64(HMAC_SECRET)
    );
    assert_eq!(load_error(&mixed), KeyError::MixedSecretAndPublic);
}

// ---------------------------------------------------------------------------------------------
// Row 3: `kid` injection. A kid is a bounded, charset-checked lookup key, nothing more.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_03_kid_injection_payloads_refused() {
    let hostile = [
        "' OR '1'='1",
        "1; DROP TABLE keys--",
        "$(rm -rf /)",
        "`id`",
        "a|b",
        "a;b",
        "a b",
        "../../etc/passwd\u{0}",
        "h1\n",
        "h1\r\nX-Injected: 1",
        "\u{202e}1h",
        "%2e%2e%2f",
        "<script>",
        "",
    ];
    for kid in hostile {
        let header = serde_json::json!({ "alg": "HS256", "kid": kid, "typ": "at+jwt" }).to_string();
        let token = hs256(&header, &claims(), HMAC_SECRET);
        assert_eq!(parse(&token), Err(ParseError::InvalidKeyId), "{kid:?}");
        // The same kid in a key set is refused too, and the error does not echo it.
        let jwks = serde_json::json!({
            "keys": [{ "kty": "oct", "kid": kid, "alg": "HS256", "k": b64(HMAC_SECRET) }]
        })
        .to_string();
        match load_error(&jwks) {
            KeyError::Key { key, .. } => assert_eq!(key, "#0", "{kid:?}"),
            other => panic!("{other:?}"),
        }
    }
    for kid in ["1", "true", "null", r#"["h1"]"#, r#"{"$ne":""}"#] {
        let token = hs256(
            &format!(r#"{{"alg":"HS256","kid":{kid}}}"#),
            &claims(),
            HMAC_SECRET,
        );
        assert_eq!(
            parse(&token),
            Err(ParseError::InvalidHeader("kid")),
            "{kid}"
        );
    }
}

#[test]
fn row_03_kid_is_only_an_exact_in_memory_lookup() {
    // Characters a path needs are allowed, but a kid never reaches a file system: no such key.
    for kid in ["../../etc/passwd", "/dev/stdin", "H1", "h1", "h1.", "h"] {
        let header = format!(r#"{{"alg":"HS256","kid":"{kid}","typ":"at+jwt"}}"#);
        let token = hs256(&header, &claims(), HMAC_SECRET);
        let expected = if kid == "h1" {
            Ok(())
        } else {
            Err(Denial::UnknownKey)
        };
        assert_eq!(run(&hmac_jwks(), &token).map(|_| ()), expected, "{kid:?}");
    }
    // Length is capped.
    let longest = "k".repeat(MAX_KID_LEN);
    let token = hs256(
        &format!(r#"{{"alg":"HS256","kid":"{longest}"}}"#),
        &claims(),
        HMAC_SECRET,
    );
    assert_eq!(run(&hmac_jwks(), &token), Err(Denial::UnknownKey));
    let too_long = "k".repeat(MAX_KID_LEN + 1);
    let token = hs256(
        &format!(r#"{{"alg":"HS256","kid":"{too_long}"}}"#),
        &claims(),
        HMAC_SECRET,
    );
    assert_eq!(parse(&token), Err(ParseError::InvalidKeyId));
    // A lookup must be unambiguous: duplicate kids, or two keys without one, are refused.
    let secret = b64(HMAC_SECRET);
    let twice = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"HS256","k":"{secret}"}},{{"kty":"oct","kid":"h1","alg":"HS384","k":"{}"}}]}}"#,
        b64(&[9; 48])
    );
    assert_eq!(load_error(&twice), KeyError::DuplicateKid("h1".into()));
    let nameless = format!(
        r#"{{"keys":[{{"kty":"oct","alg":"HS256","k":"{secret}"}},{{"kty":"oct","alg":"HS256","k":"{secret}"}}]}}"#
    );
    assert_eq!(load_error(&nameless), KeyError::AmbiguousKeys);
}

// ---------------------------------------------------------------------------------------------
// Rows 4 and 5: the token never names or carries its own key.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_04_jku_and_x5u_refused() {
    for (name, value) in [
        ("jku", r#""https://attacker.test/jwks.json""#),
        ("jku", r#""https://issuer.test/.well-known/jwks.json""#),
        ("x5u", r#""https://attacker.test/cert.pem""#),
        ("jku", "null"),
        ("x5u", "[]"),
    ] {
        // Signed with the genuine key: carrying the parameter is enough to be refused.
        let header = format!(r#"{{"alg":"ES256","kid":"e1","typ":"at+jwt","{name}":{value}}}"#);
        let token = es256(&header, &claims(), &ec_key(7));
        assert_eq!(
            run(&ec_jwks(), &token),
            Err(Denial::Malformed(ParseError::ForbiddenHeader(name))),
            "{name}: {value}"
        );
    }
}

#[test]
fn row_05_embedded_jwk_and_x5c_refused() {
    let attacker = ec_key(9);
    let attacker_jwk = ec_jwk(&attacker, "e1");
    for header in [
        format!(r#"{{"alg":"ES256","kid":"e1","typ":"at+jwt","jwk":{attacker_jwk}}}"#),
        format!(r#"{{"alg":"ES256","typ":"at+jwt","jwk":{attacker_jwk}}}"#),
    ] {
        let token = es256(&header, &claims(), &attacker);
        assert_eq!(
            run(&ec_jwks(), &token),
            Err(Denial::Malformed(ParseError::ForbiddenHeader("jwk")))
        );
    }
    let header = r#"{"alg":"ES256","kid":"e1","typ":"at+jwt","x5c":["MIIBszCCAVmgAwIBAgIUQ=="]}"#;
    let token = es256(header, &claims(), &attacker);
    assert_eq!(
        run(&ec_jwks(), &token),
        Err(Denial::Malformed(ParseError::ForbiddenHeader("x5c")))
    );
    // Without the embedded key, the attacker's signature is just a bad signature.
    let token = es256(ES_HEADER, &claims(), &attacker);
    assert_eq!(run(&ec_jwks(), &token), Err(Denial::BadSignature));
}

// ---------------------------------------------------------------------------------------------
// Row 6: ECDSA "psychic signatures" (CVE-2022-21449) and other degenerate signatures.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_06_psychic_and_degenerate_signatures_refused() {
    let zero = [0u8; 32];
    let mut one = [0u8; 32];
    one[31] = 1;
    let mut n_minus_1 = P256_N;
    n_minus_1[31] -= 1;
    let pairs = [
        (zero, zero),
        (zero, one),
        (one, zero),
        (P256_N, P256_N),
        (P256_N, zero),
        (zero, P256_N),
        (one, one),
        (n_minus_1, n_minus_1),
    ];
    for (r, s) in pairs {
        let sig = [r, s].concat();
        let token = raw(ES_HEADER, &claims(), &sig);
        assert_eq!(run(&ec_jwks(), &token), Err(Denial::BadSignature));
    }
    // Ed25519: an all-zero signature.
    let jwks =
        format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"d1","x":"{ED25519_X}"}}]}}"#);
    let token = raw(
        r#"{"alg":"EdDSA","kid":"d1","typ":"at+jwt"}"#,
        &claims(),
        &[0; 64],
    );
    assert_eq!(run(&jwks, &token), Err(Denial::BadSignature));
    // HMAC: empty and all-zero tags.
    for tag in [&[][..], &[0; 32]] {
        let token = raw(HS_HEADER, &claims(), tag);
        assert_eq!(run(&hmac_jwks(), &token), Err(Denial::BadSignature));
    }
}

// ---------------------------------------------------------------------------------------------
// Row 7: ECDSA malleability. The twin (r, n − s) carries the same claims, so revocation keyed on
// `jti` (not on the token string) catches it.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_07_malleated_ecdsa_twin_has_same_jti_and_is_revoked() {
    let token = es256(ES_HEADER, &claims(), &ec_key(7));
    let (input, sig_b64) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let s = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(
        <[u8; 32]>::try_from(&sig[32..]).unwrap(),
    )))
    .unwrap();
    let n_minus_s = (-s).to_repr();
    let twin_sig = [&sig[..32], &n_minus_s[..]].concat();
    let twin = format!("{input}.{}", b64(&twin_sig));
    assert_ne!(twin, token, "a different token string");

    let original = parse(&token).unwrap();
    let malleated = parse(&twin).unwrap();
    assert_ne!(malleated.signature, original.signature);
    assert_eq!(malleated.signing_input, original.signing_input);
    assert_eq!(malleated.header, original.header);
    assert_eq!(malleated.claims, original.claims);
    assert_eq!(malleated.claims.jti.as_deref(), Some("t-1"));
    assert_eq!(malleated.claims.sid.as_deref(), Some("s-1"));

    let keys = KeySet::from_jwks(&ec_jwks()).unwrap();
    keys.verify(&original, &JwtVerifier).unwrap();
    // jsonwebtoken accepts the twin (the GAP); refusing it would be fine too.
    match keys.verify(&malleated, &JwtVerifier) {
        Ok(_) | Err(Denial::BadSignature) => {}
        Err(other) => panic!("{other:?}"),
    }

    // A store keyed on the raw token string misses the twin; one keyed on jti catches it.
    let revoked_tokens = [token.clone()];
    assert!(!revoked_tokens.contains(&twin));
    let revoked_jtis = ["t-1"];
    let status = |t: &Token| match t.claims.jti.as_deref() {
        Some(jti) if revoked_jtis.contains(&jti) => {
            RevocationStatus::Revoked(RevocationReason::TokenId)
        }
        _ => RevocationStatus::NotRevoked,
    };
    for t in [&original, &malleated] {
        let verdict = policy().evaluate(t, NOW, status(t));
        assert_eq!(verdict, Err(Denial::Revoked(RevocationReason::TokenId)));
    }
}

// ---------------------------------------------------------------------------------------------
// Rows 8 and 9: `crit` and `b64`.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_08_any_crit_refused() {
    for crit in [
        r#"[]"#,
        r#"["exp"]"#,
        r#"["b64"]"#,
        r#"["x-unknown"]"#,
        r#""exp""#,
        "null",
    ] {
        let header = format!(r#"{{"alg":"HS256","kid":"h1","typ":"at+jwt","crit":{crit}}}"#);
        let token = hs256(&header, &claims(), HMAC_SECRET);
        assert_eq!(
            run(&hmac_jwks(), &token),
            Err(Denial::Malformed(ParseError::ForbiddenHeader("crit"))),
            "{crit}"
        );
    }
}

#[test]
fn row_09_any_b64_refused() {
    for value in ["false", "true", r#""false""#] {
        let header = format!(r#"{{"alg":"HS256","kid":"h1","typ":"at+jwt","b64":{value}}}"#);
        let token = hs256(&header, &claims(), HMAC_SECRET);
        assert_eq!(
            run(&hmac_jwks(), &token),
            Err(Denial::Malformed(ParseError::ForbiddenHeader("b64"))),
            "{value}"
        );
    }
    // RFC 7797 form: the payload is signed unencoded. Refused however it is presented.
    let header = r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","b64":false}"#;
    let payload = claims();
    let unencoded_input = format!("{}.{payload}", b64(header.as_bytes()));
    let tag = hmac_sha256(unencoded_input.as_bytes());
    let unencoded = format!("{unencoded_input}.{}", b64(&tag));
    assert!(parse(&unencoded).is_err());
    let encoded = raw(header, &payload, &tag);
    assert_eq!(parse(&encoded), Err(ParseError::ForbiddenHeader("b64")));
}

// ---------------------------------------------------------------------------------------------
// Row 10: duplicate JSON keys, in the header, the claims and key sets.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_10_duplicate_json_keys_refused_everywhere() {
    for header in [
        r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","alg":"HS256"}"#,
        r#"{"alg":"none","kid":"h1","alg":"HS256"}"#,
        r#"{"alg":"HS256","kid":"h1","kid":"h2"}"#,
        r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","typ":"JWT"}"#,
    ] {
        let token = hs256(header, &claims(), HMAC_SECRET);
        assert_eq!(
            run(&hmac_jwks(), &token),
            Err(Denial::Malformed(ParseError::DuplicateKey(Part::Header))),
            "{header}"
        );
    }
    let base = claims();
    let body = base.trim_end_matches('}');
    for extra in [
        r#""sub":"mallory""#,
        r#""exp":9999999999"#,
        r#""aud":"admin""#,
        r#""role":"user","role":"admin""#,
        r#""ctx":{"tenant":"a","tenant":"b"}"#,
        r#""list":[{"x":1,"x":2}]"#,
    ] {
        let dup = format!("{body},{extra}}}");
        assert_eq!(
            hs_run(&dup),
            Err(Denial::Malformed(ParseError::DuplicateKey(Part::Claims))),
            "{extra}"
        );
    }
    let secret = b64(HMAC_SECRET);
    for jwks in [
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"HS256","k":"{secret}"}}],"keys":[]}}"#
        ),
        format!(
            r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"HS256","alg":"HS512","k":"{secret}"}}]}}"#
        ),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"HS256","k":"{secret}","k":""}}]}}"#),
    ] {
        assert_eq!(load_error(&jwks), KeyError::NotAJwks, "{jwks}");
    }
}

// ---------------------------------------------------------------------------------------------
// Row 11: size and structure are checked before any decoding.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_11_huge_token_refused_before_decoding() {
    const FIVE_MB: usize = 5 * 1024 * 1024;
    // Not base64 at all: a decoder would fail with `Base64`; the cap must answer first.
    let garbage = "!".repeat(FIVE_MB);
    assert_eq!(parse(&garbage), Err(ParseError::TooLarge { len: FIVE_MB }));
    let dots = ".".repeat(FIVE_MB);
    assert_eq!(parse(&dots), Err(ParseError::TooLarge { len: FIVE_MB }));
    // A well-formed, correctly signed 5 MB token.
    let padding = "a".repeat(FIVE_MB);
    let big = claims_with(&[("pad", Some(&format!(r#""{padding}""#)))]);
    let token = hs256(HS_HEADER, &big, HMAC_SECRET);
    assert!(matches!(parse(&token), Err(ParseError::TooLarge { .. })));
    assert!(matches!(
        run(&hmac_jwks(), &token),
        Err(Denial::Malformed(ParseError::TooLarge { .. }))
    ));
    // The boundary: one byte over the cap is refused for size, at the cap it is decoded.
    let over = "!".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(
        parse(&over),
        Err(ParseError::TooLarge {
            len: MAX_TOKEN_LEN + 1
        })
    );
    let at_cap = format!("{}.!.!", "!".repeat(MAX_TOKEN_LEN - 4));
    assert_eq!(parse(&at_cap), Err(ParseError::Base64(Part::Header)));
    const { assert!(MAX_TOKEN_LEN <= 8 * 1024) };
}

#[test]
fn row_11_exactly_three_segments_checked_before_decoding() {
    let good = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    let many = ".".repeat(1000);
    let four_garbage = "!.!.!.!";
    let candidates = [many.as_str(), ".", "...", "a", "a.b", four_garbage, "!.!"];
    for token in candidates {
        assert_eq!(parse(token), Err(ParseError::SegmentCount), "{token:?}");
    }
    let (input, _) = good.rsplit_once('.').unwrap();
    for token in [
        format!("{good}."),
        format!(".{good}"),
        format!("{good}.{good}"),
        input.to_string(),
        format!("{input}..x.y"), // JWE-shaped: five segments
    ] {
        assert_eq!(parse(&token), Err(ParseError::SegmentCount), "{token}");
    }
    // "!" is not base64: with three segments the same garbage is a decoding error instead.
    assert_eq!(parse("!.!.!"), Err(ParseError::Base64(Part::Header)));
}

#[test]
fn row_11_deep_nesting_refused_without_exhausting_the_stack() {
    let depth = 2800;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep = claims_with(&[("n", Some(&nested))]);
    let token = hs256(HS_HEADER, &deep, HMAC_SECRET);
    assert!(token.len() <= MAX_TOKEN_LEN, "{}", token.len());
    assert_eq!(parse(&token), Err(ParseError::Json(Part::Claims)));
    let objects = format!("{}{}", r#"{"a":"#.repeat(900), "}".repeat(900));
    let token = hs256(
        HS_HEADER,
        &claims_with(&[("o", Some(&objects))]),
        HMAC_SECRET,
    );
    assert!(token.len() <= MAX_TOKEN_LEN);
    assert_eq!(parse(&token), Err(ParseError::Json(Part::Claims)));
}

// ---------------------------------------------------------------------------------------------
// Row 12: strict base64url.
// ---------------------------------------------------------------------------------------------

const URL_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The same bytes with non-zero unused trailing bits (what a lax decoder ignores), if the segment
/// has any.
fn dirty_trailing_bits(segment: &str) -> Option<String> {
    if segment.len().is_multiple_of(4) {
        return None;
    }
    let mut bytes = segment.as_bytes().to_vec();
    let last = bytes.last_mut().unwrap();
    let index = URL_ALPHABET.iter().position(|c| c == last).unwrap();
    *last = URL_ALPHABET[index | 1];
    Some(String::from_utf8(bytes).unwrap())
}

#[test]
fn row_12_non_canonical_base64url_refused() {
    let parts = [Part::Header, Part::Claims, Part::Signature];
    // Claims whose encoding leaves unused trailing bits, like the header and signature.
    let claims_text = (1..4)
        .map(|n| claims_with(&[("x", Some(&format!(r#""{}""#, "y".repeat(n))))]))
        .find(|c| URL_SAFE_NO_PAD.encode(c).len() % 4 != 0)
        .unwrap();
    let good = hs256(HS_HEADER, &claims_text, HMAC_SECRET);
    assert!(hs_run(&claims_text).is_ok());
    for (i, part) in parts.into_iter().enumerate() {
        let mut padded = segments(&good);
        let pad = if padded[i].len() % 4 == 3 { "=" } else { "==" };
        padded[i].push_str(pad);
        assert_eq!(
            parse(&padded.join(".")),
            Err(ParseError::Base64(part)),
            "padding in {part:?}"
        );
        let mut dirty = segments(&good);
        dirty[i] = dirty_trailing_bits(&dirty[i]).unwrap();
        assert_eq!(
            parse(&dirty.join(".")),
            Err(ParseError::Base64(part)),
            "trailing bits in {part:?}"
        );
        for bad in ['+', '/', '=', '*', '\u{e9}'] {
            let mut swapped = segments(&good);
            let mut chars: Vec<char> = swapped[i].chars().collect();
            chars[1] = bad;
            swapped[i] = chars.into_iter().collect();
            assert_eq!(
                parse(&swapped.join(".")),
                Err(ParseError::Base64(part)),
                "{bad:?} in {part:?}"
            );
        }
    }
    // A token encoded (and correctly signed) with the standard alphabet instead of base64url.
    let header = STANDARD_NO_PAD.encode(HS_HEADER);
    let body = STANDARD_NO_PAD.encode(claims_with(&[("x", Some(r#""~~~~~~???????""#))]));
    assert!(body.contains('+') && body.contains('/'), "{body}");
    let input = format!("{header}.{body}");
    let tag = hmac_sha256(input.as_bytes());
    let standard = format!("{input}.{}", STANDARD_NO_PAD.encode(&tag));
    assert!(matches!(parse(&standard), Err(ParseError::Base64(_))));
    let padded_standard = format!(
        "{}.{}.{}",
        STANDARD.encode(HS_HEADER),
        STANDARD.encode(claims()),
        STANDARD.encode(&tag)
    );
    assert!(matches!(
        parse(&padded_standard),
        Err(ParseError::Base64(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Row 13: whitespace. The core takes the bare token; anything else is refused.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_13_whitespace_and_prefixes_refused() {
    let good = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    assert!(run(&hmac_jwks(), &good).is_ok());
    let (h, rest) = good.split_once('.').unwrap();
    let (c, s) = rest.split_once('.').unwrap();
    let mid = c.len() / 2;
    let variants = [
        format!(" {good}"),
        format!("{good} "),
        format!("{good}\n"),
        format!("{good}\r\n"),
        format!("\t{good}"),
        format!("{h}. {c}.{s}"),
        format!("{h}.{c}\n.{s}"),
        format!("{h}.{}\n{}.{s}", &c[..mid], &c[mid..]),
        format!("{h}.{}\r\n {}.{s}", &c[..mid], &c[mid..]),
        format!("{h}.{}\u{a0}{}.{s}", &c[..mid], &c[mid..]),
        format!("{h}.{c}.{s}\u{0}"),
        format!("Bearer {good}"),
        format!("bearer {good}"),
        format!("Bearer  {good}"),
        format!("Bearer\t{good}"),
    ];
    for token in &variants {
        let err = parse(token).unwrap_err();
        assert!(matches!(err, ParseError::Base64(_)), "{token:?}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Row 14: MAC comparison. Constant time is the verifier's contract (jsonwebtoken compares with
// `hmac`'s `verify_slice`); admin-secret and refresh-hash comparisons are the worker's. The core
// part tested here: a MAC is compared in full, over the decoded bytes.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_14_mac_compared_in_full() {
    let good = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    assert!(run(&hmac_jwks(), &good).is_ok());
    let (input, sig) = good.rsplit_once('.').unwrap();
    let tag = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let mut forgeries: Vec<Vec<u8>> = vec![
        tag[..31].to_vec(),
        tag[..16].to_vec(),
        tag[..1].to_vec(),
        [&tag[..], &[0u8][..]].concat(),
        [&tag[..], &tag[..]].concat(),
    ];
    for i in [0, 15, 31] {
        let mut t = tag.clone();
        t[i] ^= 0x01;
        forgeries.push(t);
    }
    let mut reversed = tag.clone();
    reversed.reverse();
    forgeries.push(reversed);
    let keys = KeySet::from_jwks(&hmac_jwks()).unwrap();
    for forged in &forgeries {
        let token = format!("{input}.{}", b64(forged));
        assert_eq!(run(&hmac_jwks(), &token), Err(Denial::BadSignature));
        assert!(JwtVerifier
            .verify(&keys.keys()[0], input.as_bytes(), forged)
            .is_err());
    }
    assert!(JwtVerifier
        .verify(&keys.keys()[0], input.as_bytes(), &tag)
        .is_ok());
    // The tag covers the exact signing input.
    assert!(JwtVerifier
        .verify(&keys.keys()[0], format!("{input}.").as_bytes(), &tag)
        .is_err());
}

// ---------------------------------------------------------------------------------------------
// Row 15: weak keys refused when the set is loaded, with a clear error.
// ---------------------------------------------------------------------------------------------

fn oct(alg: &str, secret: &[u8]) -> String {
    format!(
        r#"{{"keys":[{{"kty":"oct","kid":"k1","alg":"{alg}","k":"{}"}}]}}"#,
        b64(secret)
    )
}

fn rsa_with_modulus(n: &[u8]) -> String {
    format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"r1","alg":"RS256","n":"{}","e":"AQAB"}}]}}"#,
        b64(n)
    )
}

#[test]
fn row_15_short_or_empty_hmac_secrets_refused() {
    let short = "HMAC secret is shorter than the hash output";
    for (alg, len) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        assert!(KeySet::from_jwks(&oct(alg, &vec![7; len])).is_ok(), "{alg}");
        for weak in [len - 1, len / 2, 1, 0] {
            assert_eq!(reason(&oct(alg, &vec![7; weak])), short, "{alg} {weak}");
        }
    }
    // The error names the key and says why.
    let err = load_error(&oct("HS256", b"secret"));
    assert_eq!(
        err.to_string(),
        r#"key "k1": HMAC secret is shorter than the hash output"#
    );
    // A secret always states its algorithm.
    let no_alg = format!(r#"{{"keys":[{{"kty":"oct","k":"{}"}}]}}"#, b64(&[7; 64]));
    assert_eq!(reason(&no_alg), "oct keys must state alg");
}

#[test]
fn row_15_rsa_under_2048_bits_refused() {
    let too_short = "RSA modulus is shorter than 2048 bits";
    // Any value with the top bit set has exactly 8 × len bits: no key generation needed.
    assert_eq!(reason(&rsa_with_modulus(&[0xc5; 128])), too_short, "1024");
    let mut bits_2047 = vec![0xff; 256];
    bits_2047[0] = 0x7f;
    assert_eq!(reason(&rsa_with_modulus(&bits_2047)), too_short, "2047");
    let padded_1024 = [vec![0; 128], vec![0xc5; 128]].concat();
    assert_eq!(reason(&rsa_with_modulus(&padded_1024)), too_short, "padded");
    assert_eq!(reason(&rsa_with_modulus(&[])), too_short, "empty");
    assert!(KeySet::from_jwks(&rsa_with_modulus(&[0xc5; 256])).is_ok());
    let err = load_error(&rsa_with_modulus(&[0xc5; 128]));
    assert!(err.to_string().contains("r1") && err.to_string().contains("2048"));
    // RSA keys state their algorithm, and a sane exponent.
    let no_alg = format!(r#"{{"keys":[{{"kty":"RSA","n":"{RSA_N}","e":"AQAB"}}]}}"#);
    assert_eq!(reason(&no_alg), "RSA keys must state alg");
    for e in ["", "AQAA", "AQAAAAAAAAAAAQ"] {
        let jwks = format!(r#"{{"keys":[{{"kty":"RSA","alg":"RS256","n":"{RSA_N}","e":"{e}"}}]}}"#);
        assert_eq!(reason(&jwks), "RSA exponent is invalid", "{e:?}");
    }
}

/// With e = 1 a "signature" is just the padded message: anyone can forge one. Such a key must
/// be refused when the set is loaded (Wycheproof `json_web_key_test.json` tcId 9), not left to
/// whichever backend verifies later.
#[test]
fn row_15_rsa_public_exponent_one_refused() {
    for e in ["AQ", "AAE"] {
        let jwks = format!(r#"{{"keys":[{{"kty":"RSA","alg":"RS256","n":"{RSA_N}","e":"{e}"}}]}}"#);
        assert_eq!(
            KeySet::from_jwks(&jwks).map(|_| ()),
            Err(KeyError::Key {
                key: "#0".into(),
                reason: "RSA exponent is invalid"
            }),
            "e = {e:?}"
        );
    }
}

#[test]
fn row_15_encryption_keys_refused() {
    let use_enc = "use is not \"sig\" (encryption keys cannot verify tokens)";
    let secret = b64(HMAC_SECRET);
    let point = ec_key(7).verifying_key().to_encoded_point(false);
    let (x, y) = (b64(point.x().unwrap()), b64(point.y().unwrap()));
    let keys = [
        format!(r#"{{"kty":"oct","alg":"HS256","k":"{secret}""#),
        format!(r#"{{"kty":"RSA","alg":"RS256","n":"{RSA_N}","e":"AQAB""#),
        format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}""#),
        format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED25519_X}""#),
    ];
    for key in &keys {
        assert!(KeySet::from_jwks(&format!(r#"{{"keys":[{key}}}]}}"#)).is_ok());
        assert!(KeySet::from_jwks(&format!(
            r#"{{"keys":[{key},"use":"sig","key_ops":["verify"]}}]}}"#
        ))
        .is_ok());
        for tail in [r#""use":"enc""#, r#""use":"SIG""#, r#""use":"""#] {
            assert_eq!(
                reason(&format!(r#"{{"keys":[{key},{tail}}}]}}"#)),
                use_enc,
                "{tail}"
            );
        }
        for ops in [
            r#"["encrypt"]"#,
            r#"["sign"]"#,
            r#"["decrypt","wrapKey"]"#,
            "[]",
            r#""verify""#,
        ] {
            assert_eq!(
                reason(&format!(r#"{{"keys":[{key},"key_ops":{ops}}}]}}"#)),
                "key_ops does not allow \"verify\"",
                "{ops}"
            );
        }
    }
}

#[test]
fn row_15_mixed_secret_and_public_sets_refused() {
    let secret = format!(
        r#"{{"kty":"oct","kid":"h1","alg":"HS256","k":"{}"}}"#,
        b64(HMAC_SECRET)
    );
    for public in [ec_jwk(&ec_key(7), "e1"), rsa_jwk(Some("r1"))] {
        for jwks in [
            format!(r#"{{"keys":[{secret},{public}]}}"#),
            format!(r#"{{"keys":[{public},{secret}]}}"#),
        ] {
            let err = load_error(&jwks);
            assert_eq!(err, KeyError::MixedSecretAndPublic);
            assert!(err.to_string().contains("two sets"));
        }
    }
}

#[test]
fn row_15_private_key_parameters_refused() {
    let private = "contains private key parameters; publish only public keys";
    let ec = ec_jwk(&ec_key(7), "e1");
    let ec_body = ec.trim_end_matches('}');
    for param in ["d", "p", "q", "dp", "dq", "qi"] {
        let jwks = format!(r#"{{"keys":[{ec_body},"{param}":"{}"}}]}}"#, b64(&[7; 32]));
        assert_eq!(reason(&jwks), private, "EC {param}");
        let rsa = rsa_jwk(Some("r1"));
        let jwks = format!(
            r#"{{"keys":[{},"{param}":"{}"}}]}}"#,
            rsa.trim_end_matches('}'),
            b64(&[7; 128])
        );
        assert_eq!(reason(&jwks), private, "RSA {param}");
    }
    let okp = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED25519_X}","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}}]}}"#
    );
    assert_eq!(reason(&okp), private);
}

#[test]
fn row_15_algorithm_must_fit_the_key() {
    let point = ec_key(7).verifying_key().to_encoded_point(false);
    let (x, y) = (b64(point.x().unwrap()), b64(point.y().unwrap()));
    for (jwks, why) in [
        (
            format!(
                r#"{{"keys":[{{"kty":"EC","crv":"P-256","alg":"ES384","x":"{x}","y":"{y}"}}]}}"#
            ),
            "alg does not fit the EC curve",
        ),
        (
            format!(
                r#"{{"keys":[{{"kty":"EC","crv":"P-256","alg":"HS256","x":"{x}","y":"{y}"}}]}}"#
            ),
            "alg does not fit the EC curve",
        ),
        (
            format!(r#"{{"keys":[{{"kty":"RSA","alg":"HS256","n":"{RSA_N}","e":"AQAB"}}]}}"#),
            "alg does not fit an RSA key",
        ),
        (
            format!(
                r#"{{"keys":[{{"kty":"oct","alg":"RS256","k":"{}"}}]}}"#,
                b64(&[7; 64])
            ),
            "alg does not fit an oct key",
        ),
        (
            format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"{ED25519_X}"}}]}}"#
            ),
            "alg does not fit an Ed25519 key",
        ),
        (
            format!(
                r#"{{"keys":[{{"kty":"EC","crv":"P-256","alg":"none","x":"{x}","y":"{y}"}}]}}"#
            ),
            "alg is not a supported signature algorithm",
        ),
    ] {
        assert_eq!(reason(&jwks), why, "{jwks}");
    }
    // One bad key refuses the whole set.
    let jwks = format!(
        r#"{{"keys":[{},{{"kty":"EC","kid":"e2","crv":"P-256","alg":"ES384","x":"{x}","y":"{y}"}}]}}"#,
        ec_jwk(&ec_key(7), "e1")
    );
    assert!(matches!(load_error(&jwks), KeyError::Key { key, .. } if key == r#""e2""#));
}

// ---------------------------------------------------------------------------------------------
// Row 16: NumericDate type confusion, and lifetime caps.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_16_exp_nbf_iat_must_be_plain_integers() {
    let max = MAX_NUMERIC_DATE.to_string();
    let over = (MAX_NUMERIC_DATE + 1).to_string();
    let exp = NOW + 600;
    let bad = [
        format!(r#""{exp}""#),
        format!("{exp}.5"),
        format!("{exp}.0"),
        "1.7000006e9".to_string(),
        "-1".to_string(),
        format!("-{exp}"),
        "1e20".to_string(),
        "18446744073709551615".to_string(),
        "18446744073709551616".to_string(),
        "99999999999999999999999999".to_string(),
        over,
        "null".to_string(),
        "true".to_string(),
        format!("[{exp}]"),
        format!(r#"{{"t":{exp}}}"#),
    ];
    for name in ["exp", "nbf", "iat"] {
        for value in &bad {
            let c = claims_with(&[(name, Some(value))]);
            assert_eq!(
                parse(&hs256(HS_HEADER, &c, HMAC_SECRET)),
                Err(ParseError::InvalidClaim(name)),
                "{name}: {value}"
            );
            assert_eq!(
                hs_run(&c),
                Err(Denial::Malformed(ParseError::InvalidClaim(name)))
            );
        }
    }
    // The largest accepted value parses, and then fails the lifetime cap.
    let c = claims_with(&[("exp", Some(&max))]);
    assert!(matches!(hs_run(&c), Err(Denial::LifetimeTooLong { .. })));
}

#[test]
fn row_16_exp_required_and_lifetime_capped() {
    assert_eq!(
        hs_run(&claims_with(&[("exp", None)])),
        Err(Denial::MissingClaim("exp"))
    );
    assert_eq!(
        hs_run(&claims_with(&[("iat", None)])),
        Err(Denial::MissingClaim("iat"))
    );
    let cap = policy().max_lifetime;
    let iat = NOW.to_string();
    let at_cap = (NOW + cap).to_string();
    let beyond = (NOW + cap + 1).to_string();
    let ten_years = (NOW + 10 * 365 * 86_400).to_string();
    assert!(hs_run(&claims_with(&[("iat", Some(&iat)), ("exp", Some(&at_cap))])).is_ok());
    assert_eq!(
        hs_run(&claims_with(&[("iat", Some(&iat)), ("exp", Some(&beyond))])),
        Err(Denial::LifetimeTooLong {
            lifetime: cap + 1,
            cap
        })
    );
    assert!(matches!(
        hs_run(&claims_with(&[
            ("iat", Some(&iat)),
            ("exp", Some(&ten_years))
        ])),
        Err(Denial::LifetimeTooLong { .. })
    ));
    // exp before iat is nonsense, not a negative lifetime.
    let before = (NOW - 100).to_string();
    assert_eq!(
        hs_run(&claims_with(&[("iat", Some(&iat)), ("exp", Some(&before))])),
        Err(Denial::Malformed(ParseError::InvalidClaim("exp")))
    );
    // A huge exp with a matching iat far in the future is still refused.
    let far = (MAX_NUMERIC_DATE - 100).to_string();
    let far_exp = MAX_NUMERIC_DATE.to_string();
    assert!(matches!(
        hs_run(&claims_with(&[
            ("iat", Some(&far)),
            ("exp", Some(&far_exp))
        ])),
        Err(Denial::IssuedInFuture { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Row 17: nbf and iat are checked, with a small, explicit leeway.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_17_nbf_and_iat_checked_with_explicit_leeway() {
    assert_eq!(DEFAULT_LEEWAY, 30);
    assert_eq!(Policy::default().leeway, DEFAULT_LEEWAY);
    let leeway = DEFAULT_LEEWAY;
    let at = |offset: u64| (NOW + offset).to_string();

    let c = claims_with(&[("nbf", Some(&at(leeway + 1)))]);
    assert_eq!(
        hs_run(&c),
        Err(Denial::NotYetValid {
            nbf: NOW + leeway + 1,
            now: NOW
        })
    );
    assert!(hs_run(&claims_with(&[("nbf", Some(&at(leeway)))])).is_ok());

    let c = claims_with(&[("iat", Some(&at(leeway + 1)))]);
    assert_eq!(
        hs_run(&c),
        Err(Denial::IssuedInFuture {
            iat: NOW + leeway + 1,
            now: NOW
        })
    );
    assert!(hs_run(&claims_with(&[("iat", Some(&at(leeway)))])).is_ok());

    // exp: valid while now < exp + leeway.
    let exp = NOW - leeway;
    let c = claims_with(&[
        ("iat", Some(&(NOW - 600).to_string())),
        ("exp", Some(&exp.to_string())),
    ]);
    assert_eq!(hs_run(&c), Err(Denial::Expired { exp, now: NOW }));
    let c = claims_with(&[
        ("iat", Some(&(NOW - 600).to_string())),
        ("exp", Some(&(exp + 1).to_string())),
    ]);
    assert!(hs_run(&c).is_ok());

    // The leeway is configuration: with none, one second early is too early.
    let strict = Policy {
        leeway: 0,
        ..policy()
    };
    let token = hs256(
        HS_HEADER,
        &claims_with(&[("nbf", Some(&at(1)))]),
        HMAC_SECRET,
    );
    assert_eq!(
        run_with(&hmac_jwks(), &token, &strict, NOW),
        Err(Denial::NotYetValid {
            nbf: NOW + 1,
            now: NOW
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Row 18: iss and aud: required when configured, strictly typed.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_18_iss_and_aud_wrong_types_refused() {
    for value in [
        r#"["https://issuer.test"]"#,
        "1",
        "true",
        "null",
        r#"{"iss":"https://issuer.test"}"#,
        r#""""#,
    ] {
        assert_eq!(
            hs_run(&claims_with(&[("iss", Some(value))])),
            Err(Denial::Malformed(ParseError::InvalidClaim("iss"))),
            "iss {value}"
        );
    }
    for value in [
        "1",
        "true",
        "null",
        r#"{"aud":"api"}"#,
        "[1]",
        r#"["api",1]"#,
        r#"["api",null]"#,
        r#"[["api"]]"#,
    ] {
        assert_eq!(
            hs_run(&claims_with(&[("aud", Some(value))])),
            Err(Denial::Malformed(ParseError::InvalidClaim("aud"))),
            "aud {value}"
        );
    }
}

#[test]
fn row_18_iss_and_aud_required_and_exact() {
    assert_eq!(
        hs_run(&claims_with(&[("iss", None)])),
        Err(Denial::WrongIssuer)
    );
    assert_eq!(
        hs_run(&claims_with(&[("aud", None)])),
        Err(Denial::WrongAudience)
    );
    for iss in [
        r#""https://issuer.test/""#,
        r#""HTTPS://ISSUER.TEST""#,
        r#""https://issuer.test.evil""#,
        r#""https://evil.test""#,
    ] {
        assert_eq!(
            hs_run(&claims_with(&[("iss", Some(iss))])),
            Err(Denial::WrongIssuer),
            "{iss}"
        );
    }
    for aud in [
        r#""API""#,
        r#""api ""#,
        r#"[]"#,
        r#"["web","admin"]"#,
        r#""""#,
    ] {
        assert_eq!(
            hs_run(&claims_with(&[("aud", Some(aud))])),
            Err(Denial::WrongAudience),
            "{aud}"
        );
    }
    assert!(hs_run(&claims_with(&[("aud", Some(r#"["web","api"]"#))])).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Row 19: token-type confusion.
// ---------------------------------------------------------------------------------------------

#[test]
fn row_19_typ_checked() {
    for typ in [
        Some(r#""JWT""#),
        Some(r#""rt+jwt""#),
        Some(r#""refresh+jwt""#),
        Some(r#""at+jwt ""#),
        Some(r#""application/jwt""#),
        Some(r#""""#),
        None,
    ] {
        let header = match typ {
            Some(t) => format!(r#"{{"alg":"HS256","kid":"h1","typ":{t}}}"#),
            None => r#"{"alg":"HS256","kid":"h1"}"#.to_string(),
        };
        let token = hs256(&header, &claims(), HMAC_SECRET);
        assert_eq!(run(&hmac_jwks(), &token), Err(Denial::WrongType), "{typ:?}");
    }
    for typ in [r#""at+jwt""#, r#""AT+JWT""#, r#""application/at+jwt""#] {
        let token = hs256(
            &format!(r#"{{"alg":"HS256","kid":"h1","typ":{typ}}}"#),
            &claims(),
            HMAC_SECRET,
        );
        assert!(run(&hmac_jwks(), &token).is_ok(), "{typ}");
    }
    for typ in ["1", r#"["at+jwt"]"#, "null"] {
        let token = hs256(
            &format!(r#"{{"alg":"HS256","kid":"h1","typ":{typ}}}"#),
            &claims(),
            HMAC_SECRET,
        );
        assert_eq!(
            parse(&token),
            Err(ParseError::InvalidHeader("typ")),
            "{typ}"
        );
    }
}

#[test]
fn row_19_refresh_and_id_tokens_not_access_tokens() {
    // A refresh token with its own audience is refused by the access policy even with the
    // access token's typ and key.
    let refresh_claims = claims_with(&[("aud", Some(r#""https://issuer.test/refresh""#))]);
    assert_eq!(hs_run(&refresh_claims), Err(Denial::WrongAudience));
    // An ID token: typ JWT, audience the client.
    let id_claims = claims_with(&[("aud", Some(r#""client-123""#)), ("nonce", Some(r#""n""#))]);
    let id_token = hs256(
        r#"{"alg":"HS256","kid":"h1","typ":"JWT"}"#,
        &id_claims,
        HMAC_SECRET,
    );
    assert_eq!(run(&hmac_jwks(), &id_token), Err(Denial::WrongType));
    // Refresh tokens signed with a separate key are unknown to the access key set, and cannot
    // borrow the access key's kid.
    let refresh_secret = b"refresh-secret-refresh-secret-32";
    let token = hs256(
        r#"{"alg":"HS256","kid":"refresh","typ":"at+jwt"}"#,
        &claims(),
        refresh_secret,
    );
    assert_eq!(run(&hmac_jwks(), &token), Err(Denial::UnknownKey));
    let token = hs256(HS_HEADER, &claims(), refresh_secret);
    assert_eq!(run(&hmac_jwks(), &token), Err(Denial::BadSignature));
}
