//! `verify` and `KeySet` (full build).

use hmac::{Hmac, Mac};
use js_sys::{RangeError, TypeError};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use sha2::Sha256;
use warden_core::{parse, JwtVerifier, KeySet as CoreKeySet, Policy, RevocationStatus};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use super::*;
use crate::KeySet;

const NOW: u64 = 1_700_000_000;
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn hs256(header: &str, claims: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(mac.finalize().into_bytes()))
}

fn ec_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32].into()).unwrap()
}

fn es256(claims: &str) -> String {
    let input = format!(
        "{}.{}",
        b64(r#"{"alg":"ES256","kid":"e1","typ":"at+jwt"}"#),
        b64(claims)
    );
    let sig: Signature = ec_key().sign(input.as_bytes());
    format!("{input}.{}", b64(sig.to_bytes()))
}

fn hmac_jwks() -> String {
    format!(
        r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"HS256","k":"{}"}}]}}"#,
        b64(SECRET)
    )
}

fn ec_jwks() -> String {
    let point = ec_key().verifying_key().to_encoded_point(false);
    format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"e1","x":"{}","y":"{}"}}]}}"#,
        b64(point.x().unwrap()),
        b64(point.y().unwrap())
    )
}

fn claims(extra: &str) -> String {
    format!(
        r#"{{"sub":"alice","iss":"https://issuer.test","aud":["api","web"],"iat":{},"exp":{}{extra}}}"#,
        NOW - 60,
        NOW + 600
    )
}

fn good() -> String {
    hs256(r#"{"alg":"HS256","kid":"h1","typ":"at+jwt"}"#, &claims(""))
}

/// `verify` as JavaScript calls it, with a string.
fn verify(token: &str, jwks: JsValue, options: Option<JsValue>) -> js_sys::Promise {
    crate::verify(JsValue::from_str(token), jwks, options)
}

fn at_now(pairs: &[(&str, JsValue)]) -> JsValue {
    let mut all = vec![("now", n(NOW as f64))];
    all.extend(pairs.iter().cloned());
    opts(&all)
}

/// `(valid, code)` of a verify result.
fn outcome(result: &JsValue) -> (bool, Option<String>) {
    let valid = get(result, "valid").as_bool().unwrap();
    let error = get(result, "error");
    (valid, if valid { None } else { string(&error, "code") })
}

async fn code_of(token: &str, jwks: &str, pairs: &[(&str, JsValue)]) -> Option<String> {
    outcome(&verify(token, s(jwks), Some(at_now(pairs))).await.unwrap()).1
}

#[wasm_bindgen_test]
async fn a_good_token_is_valid_with_its_claims() {
    let r = verify(&good(), s(&hmac_jwks()), Some(at_now(&[])))
        .await
        .unwrap();
    assert!(is_plain_object(&r));
    assert_eq!(get(&r, "valid"), JsValue::TRUE);
    assert!(get(&r, "error").is_undefined());
    let claims = get(&r, "claims");
    assert!(is_plain_object(&claims));
    assert_eq!(string(&claims, "sub").as_deref(), Some("alice"));
    let decoded = get(&decode(&good()).unwrap(), "claims");
    assert_eq!(
        js_sys::JSON::stringify(&claims).unwrap(),
        js_sys::JSON::stringify(&decoded).unwrap()
    );
}

#[wasm_bindgen_test]
async fn a_refused_token_carries_the_edges_code_description_and_message() {
    let t = good();
    let tampered = format!("{}A", &t[..t.len() - 1]);
    let r = verify(&tampered, s(&hmac_jwks()), Some(at_now(&[])))
        .await
        .unwrap();
    assert_eq!(get(&r, "valid"), JsValue::FALSE);
    assert!(
        get(&r, "claims").is_undefined(),
        "no unverified claims handed out"
    );
    let e = get(&r, "error");
    assert_eq!(string(&e, "code").as_deref(), Some("token_bad_signature"));
    assert_eq!(
        string(&e, "description").as_deref(),
        Some("signature verification failed")
    );
    let late = verify(
        &t,
        s(&hmac_jwks()),
        Some(opts(&[("now", n((NOW + 631) as f64))])),
    )
    .await
    .unwrap();
    let e = get(&late, "error");
    assert_eq!(string(&e, "code").as_deref(), Some("token_expired"));
    assert_eq!(string(&e, "description").as_deref(), Some("token expired"));
    assert_eq!(
        string(&e, "message").as_deref(),
        Some("token expired at 1700000600 (now 1700000631)")
    );
}

#[wasm_bindgen_test]
async fn the_policy_options_are_the_edges() {
    let j = hmac_jwks();
    let t = good();
    let s_ = |v: &str| s(v);
    assert_eq!(
        code_of(&t, &j, &[("issuer", s_("https://issuer.test"))]).await,
        None
    );
    assert_eq!(
        code_of(&t, &j, &[("issuer", s_("https://other"))])
            .await
            .as_deref(),
        Some("token_wrong_issuer")
    );
    assert_eq!(code_of(&t, &j, &[("audience", s_("web"))]).await, None);
    let many = JsValue::from(js_sys::Array::of2(&s_("x"), &s_("api")));
    assert_eq!(code_of(&t, &j, &[("audience", many)]).await, None);
    assert_eq!(
        code_of(&t, &j, &[("audience", s_("admin"))])
            .await
            .as_deref(),
        Some("token_wrong_audience")
    );
    assert_eq!(
        code_of(&t, &j, &[("typ", s_("application/AT+JWT"))]).await,
        None
    );
    assert_eq!(
        code_of(&t, &j, &[("typ", s_("JWT"))]).await.as_deref(),
        Some("token_wrong_type")
    );
    assert_eq!(code_of(&t, &j, &[("maxAge", n(60.0))]).await, None);
    assert_eq!(
        code_of(&t, &j, &[("maxAge", n(59.0))]).await.as_deref(),
        Some("token_too_old")
    );
    assert_eq!(
        code_of(&t, &j, &[("maxLifetime", n(600.0))])
            .await
            .as_deref(),
        Some("token_lifetime_too_long")
    );
    let hs = JsValue::from(js_sys::Array::of1(&s_("HS256")));
    assert_eq!(code_of(&t, &j, &[("algorithms", hs)]).await, None);
    let es = JsValue::from(js_sys::Array::of1(&s_("ES256")));
    assert_eq!(
        code_of(&t, &j, &[("algorithms", es)]).await.as_deref(),
        Some("token_algorithm_not_allowed")
    );
    // Leeway: 30 s by default, up to 300.
    for (now, leeway, code) in [
        (NOW + 629, None, None),
        (NOW + 630, None, Some("token_expired")),
        (NOW + 600, Some(0.0), Some("token_expired")),
        (NOW + 899, Some(300.0), None),
    ] {
        let mut o = vec![("now", n(now as f64))];
        if let Some(l) = leeway {
            o.push(("leeway", n(l)));
        }
        let r = verify(&t, s(&j), Some(opts(&o))).await.unwrap();
        assert_eq!(
            outcome(&r).1.as_deref(),
            code,
            "now {now}, leeway {leeway:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn the_clock_offset_puts_verify_on_the_servers_clock() {
    let t = good();
    // The server's clock reads NOW + 60. A local clock 10 minutes ahead would call the token
    // expired...
    let ahead = (NOW + 660) as f64;
    let r = verify(&t, s(&hmac_jwks()), Some(opts(&[("now", n(ahead))])))
        .await
        .unwrap();
    assert_eq!(outcome(&r).1.as_deref(), Some("token_expired"));
    // ...unless the measured offset is given.
    let o = opts(&[("now", n(ahead)), ("clockOffset", n(-600.0))]);
    assert_eq!(
        outcome(&verify(&t, s(&hmac_jwks()), Some(o)).await.unwrap()),
        (true, None)
    );
    // Behind: the token would look issued in the future.
    let behind = (NOW - 540) as f64;
    let r = verify(&t, s(&hmac_jwks()), Some(opts(&[("now", n(behind))])))
        .await
        .unwrap();
    assert_eq!(outcome(&r).1.as_deref(), Some("token_issued_in_future"));
    let o = opts(&[("now", n(behind)), ("clockOffset", n(600.0))]);
    assert_eq!(
        outcome(&verify(&t, s(&hmac_jwks()), Some(o)).await.unwrap()),
        (true, None)
    );
}

#[wasm_bindgen_test]
async fn key_sets_load_once_and_verify_es256() {
    let keys = KeySet::new(s(&ec_jwks())).unwrap();
    assert_eq!(keys.size(), 1);
    let t = es256(&claims(""));
    assert_eq!(
        outcome(&keys.verify(s(&t), Some(at_now(&[]))).await.unwrap()),
        (true, None)
    );
    // The same key set as an object.
    let object = js_sys::JSON::parse(&ec_jwks()).unwrap();
    let keys2 = KeySet::new(object.clone()).unwrap();
    assert_eq!(
        outcome(&keys2.verify(s(&t), Some(at_now(&[]))).await.unwrap()),
        (true, None)
    );
    assert_eq!(
        outcome(&verify(&t, object, Some(at_now(&[]))).await.unwrap()),
        (true, None)
    );
    // An HS256 token against the EC key: no key with kid h1.
    let r = keys.verify(s(&good()), Some(at_now(&[]))).await.unwrap();
    assert_eq!(outcome(&r).1.as_deref(), Some("token_unknown_key"));
    // The EC public key used as an HMAC secret (alg confusion): refused by the key's own alg.
    let confused = hs256(r#"{"alg":"HS256","kid":"e1"}"#, &claims(""));
    let r = keys.verify(s(&confused), Some(at_now(&[]))).await.unwrap();
    assert_eq!(
        outcome(&r).1.as_deref(),
        Some("token_algorithm_not_allowed")
    );
}

#[wasm_bindgen_test]
async fn bad_key_sets_and_options_throw() {
    for jwks in [
        r#"{"keys":[]}"#,
        "not json",
        r#"{"keys":[{"kty":"oct","kid":"h1","alg":"HS256","k":"c2hvcnQ"}]}"#,
    ] {
        let err = thrown(KeySet::new(s(jwks)), "keys_unavailable");
        assert!(
            message(&err).starts_with("invalid JWKS: "),
            "{}",
            message(&err)
        );
        thrown(verify(&good(), s(jwks), None).await, "keys_unavailable");
    }
    let err = thrown(KeySet::new(n(5.0)), "invalid_request");
    assert!(err.is_instance_of::<TypeError>());
    let j = hmac_jwks();
    let t = good();
    let bad = async |pairs: &[(&str, JsValue)]| {
        thrown(
            verify(&t, s(&j), Some(opts(pairs))).await,
            "invalid_request",
        )
    };
    for pairs in [
        vec![("issuer", s(""))],
        vec![("issuer", n(1.0))],
        vec![("audience", JsValue::from(js_sys::Array::new()))],
        vec![("audience", JsValue::from(js_sys::Array::of1(&n(1.0))))],
        vec![("algorithms", JsValue::from(js_sys::Array::of1(&s("none"))))],
        vec![("algorithms", JsValue::from(js_sys::Array::of1(&s("hs256"))))],
        vec![("algorithms", s("HS256"))],
        vec![("typ", JsValue::TRUE)],
        vec![("maxAge", n(1.5))],
        vec![("audiences", s("api"))],
    ] {
        assert!(bad(&pairs).await.is_instance_of::<TypeError>(), "{pairs:?}");
    }
    assert!(bad(&[("leeway", n(301.0))])
        .await
        .is_instance_of::<RangeError>());
    assert!(bad(&[("maxAge", n(-1.0))])
        .await
        .is_instance_of::<RangeError>());
    let err = bad(&[("algorithms", JsValue::from(js_sys::Array::of1(&s("none"))))]).await;
    assert!(message(&err).contains("none"), "{}", message(&err));
    let err = bad(&[("audiences", s("api"))]).await;
    assert!(message(&err).contains("unknown option `audiences`"));
}

/// The verdict and code equal the core's own, run the edge's way, for a handful of tokens (the
/// full corpus is cross-checked against the built package in tests/npm-verify.test.mjs).
#[wasm_bindgen_test]
async fn verdicts_equal_the_cores() {
    let jwks = hmac_jwks();
    let keys = CoreKeySet::from_jwks(&jwks).unwrap();
    let h = r#"{"alg":"HS256","kid":"h1"}"#;
    let tokens = [
        good(),
        hs256(h, &claims(r#","nbf":1800000000"#)),
        hs256(h, r#"{"sub":"a","exp":1700000600}"#),
        hs256(h, r#"{"sub":"a","iat":1600000000,"exp":1700000600}"#),
        hs256(r#"{"alg":"HS256","kid":"nope"}"#, &claims("")),
        hs256(r#"{"alg":"HS256","kid":"h1","crit":["exp"]}"#, &claims("")),
        hs256(
            h,
            &format!(r#"{{"iat":{},"exp":{}}}"#, NOW + 100, NOW + 700),
        ),
        "x.y.z".to_owned(),
    ];
    for t in &tokens {
        let expected = match parse(t) {
            Err(e) => Some(warden_core::Denial::Malformed(e).code()),
            Ok(token) => match keys.verify(&token, &JwtVerifier) {
                Err(d) => Some(d.code()),
                Ok(_) => Policy::default()
                    .evaluate(&token, NOW, RevocationStatus::NotRevoked)
                    .err()
                    .map(|d| d.code()),
            },
        };
        let got = outcome(&verify(t, s(&jwks), Some(at_now(&[]))).await.unwrap());
        assert_eq!(got.1.as_deref(), expected, "{t}");
        assert_eq!(got.0, expected.is_none());
    }
}

#[wasm_bindgen_test]
async fn errors_are_error_instances() {
    let err = verify(&good(), s("nope"), None).await.unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert!(err.dyn_ref::<TypeError>().is_none());
}

#[wasm_bindgen(inline_js = "
export async function signWithWebCrypto(alg, input) {
  const params = {
    RS256: [{ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }],
    PS384: [{ name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-384' }, { name: 'RSA-PSS', saltLength: 48 }],
    ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
    ES384: [{ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' }],
    EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
  }[alg];
  const pair = await crypto.subtle.generateKey(params[0], true, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const sig = await crypto.subtle.sign(params[1], pair.privateKey, new TextEncoder().encode(input));
  return { jwk: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, n: jwk.n, e: jwk.e, x: jwk.x, y: jwk.y, kid: 'k1', alg }), sig: new Uint8Array(sig) };
}
")]
extern "C" {
    /// A fresh key pair for `alg` in the platform's WebCrypto: the public JWK (JSON text) and
    /// the JWS signature of `input`.
    #[wasm_bindgen(js_name = signWithWebCrypto)]
    async fn sign_with_webcrypto(alg: &str, input: &str) -> JsValue;
}

/// RSA, RSA-PSS, ECDSA and Ed25519 through WebCrypto: tokens signed by the platform verify, a
/// flipped bit or a DER-shaped signature does not, and every verdict equals the core's own
/// verifier (jsonwebtoken, rust_crypto) compiled to wasm.
#[wasm_bindgen_test]
async fn webcrypto_verdicts_equal_the_cores_for_every_public_key_algorithm() {
    for alg in ["RS256", "PS384", "ES256", "ES384", "EdDSA"] {
        let input = format!(
            "{}.{}",
            b64(format!(r#"{{"alg":"{alg}","kid":"k1"}}"#)),
            b64(claims(""))
        );
        let signed = sign_with_webcrypto(alg, &input).await;
        let jwks = format!(r#"{{"keys":[{}]}}"#, string(&signed, "jwk").unwrap());
        let sig = js_sys::Uint8Array::new(&get(&signed, "sig")).to_vec();
        let mut flipped = sig.clone();
        flipped[sig.len() / 2] ^= 1;
        // r || s as DER would wrap it: never accepted in a JWS.
        let mut der = vec![0x30, sig.len() as u8 + 4, 0x02, sig.len() as u8 / 2];
        der.extend_from_slice(&sig[..sig.len() / 2]);
        der.extend_from_slice(&[0x02, sig.len() as u8 / 2]);
        der.extend_from_slice(&sig[sig.len() / 2..]);
        let core = CoreKeySet::from_jwks(&jwks).unwrap();
        let keys = KeySet::new(s(&jwks)).unwrap();
        for (what, signature, valid) in [
            ("good", sig, true),
            ("flipped", flipped, false),
            ("der", der, false),
        ] {
            let token = format!("{input}.{}", b64(&signature));
            let parsed = parse(&token).unwrap();
            let native = core.verify(&parsed, &JwtVerifier).is_ok();
            let got = outcome(&keys.verify(s(&token), Some(at_now(&[]))).await.unwrap());
            assert_eq!(native, valid, "{alg} {what}: the core");
            let expected = (valid, (!valid).then(|| "token_bad_signature".to_owned()));
            assert_eq!(got, expected, "{alg} {what}: the package");
            // Again: now from the key set's imported CryptoKey.
            let again = outcome(&keys.verify(s(&token), Some(at_now(&[]))).await.unwrap());
            assert_eq!(again, expected, "{alg} {what}: cached key");
        }
    }
}
