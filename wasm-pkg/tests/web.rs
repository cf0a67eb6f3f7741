//! `decode` and `inspect` as JavaScript sees them: run with `wasm-pack test --node wasm-pkg`.
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use js_sys::{Object, Reflect};
use warden_wasm::{decode, inspect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

/// An unsigned-but-well-formed token: `decode` and `inspect` never look at the signature.
fn token(header: &str, claims: &str) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header),
        B64.encode(claims),
        B64.encode(b"not a signature")
    )
}

fn hs256(claims: &str) -> String {
    token(r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, claims)
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap()
}

fn num(obj: &JsValue, key: &str) -> Option<f64> {
    let v = get(obj, key);
    if v.is_undefined() {
        None
    } else {
        Some(
            v.as_f64()
                .unwrap_or_else(|| panic!("{key} is not a number: {v:?}")),
        )
    }
}

fn options(now: Option<f64>, leeway: Option<f64>) -> JsValue {
    let o = Object::new();
    if let Some(now) = now {
        Reflect::set(&o, &"now".into(), &now.into()).unwrap();
    }
    if let Some(leeway) = leeway {
        Reflect::set(&o, &"leeway".into(), &leeway.into()).unwrap();
    }
    o.into()
}

fn at(token: &str, now: u64, leeway: Option<u64>) -> JsValue {
    inspect(
        token,
        Some(options(Some(now as f64), leeway.map(|l| l as f64))),
    )
    .unwrap()
}

/// The thrown value: an `Error` with the given `code`; returns its message.
fn error_code(result: Result<JsValue, JsValue>, code: &str) -> String {
    let err = result.expect_err("expected an error");
    let err: js_sys::Error = err.dyn_into().expect("an Error instance");
    assert_eq!(get(&err, "code").as_string().as_deref(), Some(code));
    err.message().into()
}

#[wasm_bindgen_test]
fn decode_returns_header_and_claims_as_plain_objects() {
    let t = hs256(
        r#"{"sub":"alice","aud":["api","web"],"exp":1700000600,"iat":1700000000,
            "roles":["admin"],"meta":{"n":null,"f":1.5,"big":18446744073709551615}}"#,
    );
    let d = decode(&t).unwrap();
    let header = get(&d, "header");
    let claims = get(&d, "claims");
    assert_eq!(get(&header, "alg").as_string().as_deref(), Some("HS256"));
    assert_eq!(get(&header, "typ").as_string().as_deref(), Some("JWT"));
    assert_eq!(get(&header, "kid").as_string().as_deref(), Some("k1"));
    assert_eq!(get(&claims, "sub").as_string().as_deref(), Some("alice"));
    assert_eq!(num(&claims, "exp"), Some(1_700_000_600.0));
    assert_eq!(num(&claims, "iat"), Some(1_700_000_000.0));
    assert!(js_sys::Array::is_array(&get(&claims, "aud")));
    assert_eq!(
        get(&get(&claims, "aud"), "1").as_string().as_deref(),
        Some("web")
    );
    let meta = get(&claims, "meta");
    assert!(get(&meta, "n").is_null(), "JSON null stays null");
    assert_eq!(num(&meta, "f"), Some(1.5));
    // Beyond 2^53: the nearest double, as JSON.parse gives, not an exception.
    assert_eq!(
        num(&meta, "big"),
        Some(18_446_744_073_709_551_615_u64 as f64)
    );
    // Plain objects, not Maps.
    for o in [&d, &header, &claims, &meta] {
        assert_eq!(
            Object::get_prototype_of(o),
            Object::get_prototype_of(&Object::new())
        );
    }
    assert_eq!(Object::keys(claims.unchecked_ref::<Object>()).length(), 6);
}

#[wasm_bindgen_test]
fn decode_keeps_proto_as_an_own_property() {
    let t = hs256(r#"{"sub":"mallory","__proto__":{"admin":true}}"#);
    let claims = get(&decode(&t).unwrap(), "claims");
    // Not inherited through a replaced prototype...
    assert!(get(&claims, "admin").is_undefined());
    assert_eq!(
        Object::get_prototype_of(&claims),
        Object::get_prototype_of(&Object::new())
    );
    // ...but an ordinary own property, as JSON.parse makes it.
    let own =
        Object::get_own_property_descriptor(claims.unchecked_ref::<Object>(), &"__proto__".into());
    assert!(own.is_object());
    assert_eq!(get(&get(&own, "value"), "admin"), JsValue::TRUE);
}

#[wasm_bindgen_test]
fn inspect_reports_the_claims_and_seconds_left() {
    let t = hs256(r#"{"exp":1000,"iat":400,"nbf":500}"#);
    let i = at(&t, 990, None);
    assert_eq!(num(&i, "expiresAt"), Some(1000.0));
    assert_eq!(num(&i, "issuedAt"), Some(400.0));
    assert_eq!(num(&i, "notBefore"), Some(500.0));
    assert_eq!(num(&i, "secondsLeft"), Some(10.0));
    assert_eq!(get(&i, "expired"), JsValue::FALSE);
    // Past exp: negative, leeway not included.
    assert_eq!(num(&at(&t, 1010, None), "secondsLeft"), Some(-10.0));
}

#[wasm_bindgen_test]
fn inspect_expiry_boundaries_with_explicit_leeway() {
    let t = hs256(r#"{"exp":1000}"#);
    let expired = |now, leeway| get(&at(&t, now, Some(leeway)), "expired");
    assert_eq!(expired(999, 0), JsValue::FALSE);
    assert_eq!(expired(1000, 0), JsValue::TRUE);
    assert_eq!(expired(1009, 10), JsValue::FALSE);
    assert_eq!(expired(1010, 10), JsValue::TRUE);
    assert_eq!(num(&at(&t, 1009, Some(10)), "secondsLeft"), Some(-9.0));
}

#[wasm_bindgen_test]
fn inspect_default_leeway_is_the_cores() {
    assert_eq!(warden_core::DEFAULT_LEEWAY, 30);
    let t = hs256(r#"{"exp":1000}"#);
    assert_eq!(get(&at(&t, 1029, None), "expired"), JsValue::FALSE);
    assert_eq!(get(&at(&t, 1030, None), "expired"), JsValue::TRUE);
    // `leeway: null` / absent options mean the default too.
    let o = options(Some(1029.0), None);
    Reflect::set(&o, &"leeway".into(), &JsValue::NULL).unwrap();
    assert_eq!(
        get(&inspect(&t, Some(o)).unwrap(), "expired"),
        JsValue::FALSE
    );
}

#[wasm_bindgen_test]
fn inspect_without_exp() {
    let i = at(&hs256(r#"{"sub":"alice"}"#), 1000, None);
    for key in ["expiresAt", "issuedAt", "notBefore", "secondsLeft"] {
        assert!(get(&i, key).is_undefined(), "{key}");
        assert!(Reflect::has(&i, &key.into()).unwrap(), "{key} is present");
    }
    assert_eq!(get(&i, "expired"), JsValue::FALSE);
}

#[wasm_bindgen_test]
fn inspect_now_defaults_to_the_clock() {
    let now = (js_sys::Date::now() / 1000.0).floor();
    let t = hs256(&format!(r#"{{"exp":{}}}"#, now as u64 + 600));
    for opts in [
        None,
        Some(JsValue::UNDEFINED),
        Some(JsValue::NULL),
        Some(options(None, None)),
    ] {
        let i = inspect(&t, opts).unwrap();
        let left = num(&i, "secondsLeft").unwrap();
        assert!((595.0..=600.0).contains(&left), "secondsLeft {left}");
        assert_eq!(get(&i, "expired"), JsValue::FALSE);
    }
    let old = hs256(r#"{"exp":1000}"#);
    assert_eq!(get(&inspect(&old, None).unwrap(), "expired"), JsValue::TRUE);
}

#[wasm_bindgen_test]
fn inspect_refuses_options_of_the_wrong_type() {
    let t = hs256(r#"{"exp":1000}"#);
    let bad_now = |v: JsValue| {
        let o = Object::new();
        Reflect::set(&o, &"now".into(), &v).unwrap();
        inspect(&t, Some(o.into()))
    };
    for v in [
        JsValue::from_str("1000"),
        JsValue::from_f64(-1.0),
        JsValue::from_f64(1.5),
        JsValue::from_f64(f64::NAN),
        JsValue::TRUE,
    ] {
        let result = bad_now(v.clone());
        let err = result.clone().expect_err("bad now accepted");
        assert!(err.is_instance_of::<js_sys::TypeError>(), "{v:?}");
        error_code(result, "invalid_request");
    }
    let o = options(Some(1000.0), Some(-5.0));
    error_code(inspect(&t, Some(o)), "invalid_request");
    error_code(inspect(&t, Some(JsValue::from_f64(5.0))), "invalid_request");
    let too_late = bad_now(JsValue::from_f64(253_402_300_800.0));
    assert!(too_late
        .clone()
        .unwrap_err()
        .is_instance_of::<js_sys::RangeError>());
    error_code(too_late, "invalid_request");
}

#[wasm_bindgen_test]
fn malformed_tokens_throw_token_malformed() {
    let cases = [
        ("garbage".to_owned(), "token must have three segments"),
        (String::new(), "token is empty"),
        (
            token(r#"{"alg":"none"}"#, r#"{"sub":"a"}"#),
            "unsigned tokens are not accepted",
        ),
        (
            hs256(r#"{"exp":"tomorrow"}"#),
            "claim `exp` has the wrong type or value",
        ),
        (
            token(r#"{"alg":"HS256","jku":"https://evil"}"#, "{}"),
            "header parameter `jku` is not accepted",
        ),
        (
            hs256(r#"{"sub":"a","sub":"b"}"#),
            "claims has a duplicate JSON key",
        ),
    ];
    for (t, message) in &cases {
        assert_eq!(error_code(decode(t), "token_malformed"), *message, "{t}");
        assert_eq!(
            error_code(inspect(t, None), "token_malformed"),
            *message,
            "{t}"
        );
    }
}
