//! `generateDpopKey`, `createDpopProof` and `jwkThumbprint` (full build): every proof is read
//! and checked by the core exactly as the edge does (`parse_proof`, `Proof::check`), and its
//! signature verified by the worker's own WebCrypto step.

use js_sys::{Promise, TypeError};
use warden_core::{
    access_token_hash, parse_proof, DpopError, ProofContext, DEFAULT_DPOP_ALGORITHMS,
};
use warden_webcrypto::KeyCache;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use super::*;
use crate::{create_dpop_proof, generate_dpop_key, jwk_thumbprint};

const NOW: f64 = 1_700_000_000.0;
const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";

async fn key(alg: &str) -> JsValue {
    generate_dpop_key(Some(opts(&[("alg", s(alg))])))
        .await
        .unwrap()
}

async fn proof(pair: &JsValue, pairs: &[(&str, JsValue)]) -> Result<String, JsValue> {
    Ok(create_dpop_proof(pair.clone(), opts(pairs))
        .await?
        .as_string()
        .unwrap())
}

/// The rejection of `promise`: an `Error` with this `code`.
async fn rejected(promise: Promise, code: &str) -> js_sys::Error {
    thrown(promise.await, code)
}

fn context<'a>(method: &'a str, url: &'a str, token: Option<&'a str>) -> ProofContext<'a> {
    ProofContext {
        method,
        url,
        access_token: token,
        now: NOW as u64 + 30,
        leeway: 0,
        max_age: 60,
        nonce: None,
    }
}

#[wasm_bindgen_test]
async fn proofs_are_what_the_edge_accepts_for_every_algorithm() {
    for alg in ["ES256", "EdDSA", "RS256", "PS256"] {
        let pair = key(alg).await;
        assert_eq!(string(&pair, "alg").as_deref(), Some(alg));
        let private = get(&pair, "privateKey");
        assert_eq!(get(&private, "extractable"), JsValue::FALSE, "{alg}");
        let p = proof(
            &pair,
            &[
                ("htm", s("get")),
                ("htu", s("HTTPS://API.Example.com:443/orders?page=2#top")),
                ("accessToken", s(TOKEN)),
                ("nonce", s("n-1")),
                ("now", n(NOW)),
                ("clockOffset", n(30.0)),
            ],
        )
        .await
        .unwrap();
        let parsed = parse_proof(&p, &DEFAULT_DPOP_ALGORITHMS).unwrap();
        assert_eq!(parsed.key.alg.name(), alg);
        assert_eq!(parsed.htm, "GET", "fetch sends `get` as GET");
        assert_eq!(parsed.htu, "https://api.example.com/orders");
        assert_eq!(parsed.iat, NOW as u64 + 30, "iat is now + clockOffset");
        assert_eq!(parsed.ath, Some(access_token_hash(TOKEN)));
        assert_eq!(parsed.nonce.as_deref(), Some("n-1"));
        assert_eq!(parsed.jti.len(), 22, "128 random bits, base64url");
        let url = "https://api.example.com/orders?other=query";
        assert_eq!(parsed.check(&context("GET", url, Some(TOKEN))), Ok(()));
        assert_eq!(
            parsed.check(&context("GET", url, Some("another.token"))),
            Err(DpopError::AthMismatch)
        );
        let cache = KeyCache::new(1);
        let signed = cache
            .check_signature(
                &parsed.key,
                parsed.signing_input.as_bytes(),
                &parsed.signature,
            )
            .await;
        assert_eq!(signed, Ok(()), "{alg}: the signature verifies");
        // The thumbprint of the pair's public JWK is the proof's, as the edge computes it.
        assert_eq!(jwk_thumbprint(get(&pair, "jwk")).unwrap(), parsed.jkt);
        // A fresh jti each time; the same key.
        let again = parse_proof(
            &proof(&pair, &[("htm", s("GET")), ("htu", s("http://x.test/"))])
                .await
                .unwrap(),
            &DEFAULT_DPOP_ALGORITHMS,
        )
        .unwrap();
        assert_ne!(again.jti, parsed.jti);
        assert_eq!(again.jkt, parsed.jkt);
        assert_eq!((again.ath, again.nonce), (None, None));
    }
}

#[wasm_bindgen_test]
async fn the_default_is_es256_and_symmetric_or_unknown_algorithms_are_refused() {
    let pair = generate_dpop_key(None).await.unwrap();
    assert_eq!(string(&pair, "alg").as_deref(), Some("ES256"));
    for bad in ["HS256", "none", "ES384", "es256"] {
        let e = rejected(
            generate_dpop_key(Some(opts(&[("alg", s(bad))]))),
            "invalid_request",
        )
        .await;
        assert!(e.is_instance_of::<js_sys::RangeError>(), "{bad}");
        assert!(message(&e).contains("ES256, EdDSA, RS256 or PS256"));
    }
    let e = rejected(
        generate_dpop_key(Some(opts(&[("algorithm", s("ES256"))]))),
        "invalid_request",
    )
    .await;
    assert!(e.is_instance_of::<TypeError>());
}

#[wasm_bindgen_test]
async fn bad_inputs_are_refused_with_codes() {
    let pair = key("ES256").await;
    let ok = [("htm", s("GET")), ("htu", s("https://api.example.com/x"))];
    let with = |extra: (&'static str, JsValue)| {
        let mut all = ok.to_vec();
        all.retain(|(k, _)| *k != extra.0);
        all.push(extra);
        opts(&all)
    };
    for (options, says) in [
        (
            with(("htu", s("/relative"))),
            "`htu` must be an absolute http(s) URL",
        ),
        (
            with(("htu", s("ftp://example.com/"))),
            "absolute http(s) URL",
        ),
        (
            with(("htu", s("https://a.test/x/../y"))),
            "absolute http(s) URL",
        ),
        (
            with(("htu", s("https://user@a.test/"))),
            "absolute http(s) URL",
        ),
        (with(("htm", s("GE T"))), "`htm` must be an HTTP method"),
        (with(("accessToken", s("a b"))), "`accessToken` must be"),
        (with(("nonce", s("a\"b"))), "`nonce` must be"),
        (with(("htm", n(1.0))), "`htm` must be a non-empty string"),
        (
            with(("clockOffset", n(0.5))),
            "`clockOffset` must be an integer",
        ),
        (with(("nonse", s("x"))), "unknown option `nonse`"),
        (opts(&[("htu", s("https://a.test/"))]), "`htm` is required"),
        (opts(&[("htm", s("GET"))]), "`htu` is required"),
    ] {
        let e = rejected(create_dpop_proof(pair.clone(), options), "invalid_request").await;
        assert!(e.is_instance_of::<TypeError>(), "{says}");
        assert!(message(&e).contains(says), "{} / {says}", message(&e));
    }
    let e = rejected(
        create_dpop_proof(pair.clone(), with(("now", n(-1.0)))),
        "invalid_request",
    )
    .await;
    assert!(e.is_instance_of::<js_sys::RangeError>());
    // Not a key pair: a plain object, swapped keys, a JWK.
    let public = get(&pair, "publicKey");
    let private = get(&pair, "privateKey");
    for not_a_pair in [
        JsValue::NULL,
        opts(&[]),
        opts(&[("privateKey", public.clone()), ("publicKey", private)]),
        opts(&[("privateKey", get(&pair, "jwk")), ("publicKey", public)]),
    ] {
        let e = rejected(create_dpop_proof(not_a_pair, opts(&ok)), "invalid_request").await;
        assert!(
            message(&e).starts_with("keyPair must be"),
            "{}",
            message(&e)
        );
    }
}

#[wasm_bindgen_test]
fn thumbprints_are_the_cores() {
    // RFC 7638 §3.1's example key, as an object and as JSON text, with members it ignores.
    let text = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
    let want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    assert_eq!(jwk_thumbprint(s(text)).unwrap(), want);
    assert_eq!(
        jwk_thumbprint(js_sys::JSON::parse(text).unwrap()).unwrap(),
        want
    );
    for bad in [
        s(r#"{"kty":"oct","k":"AAAA"}"#),
        s(r#"{"kty":"EC","crv":"P-256","x":"AA"}"#),
        s("not json"),
        n(7.0),
        JsValue::UNDEFINED,
    ] {
        thrown(jwk_thumbprint(bad), "invalid_request");
    }
}
