//! `decode` and `inspect`.

use js_sys::{Object, RangeError, TypeError};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use super::*;
use crate::DEFAULT_REFRESH_MARGIN;

fn at(token: &str, pairs: &[(&str, JsValue)]) -> JsValue {
    inspect(token, Some(opts(pairs))).unwrap()
}

#[wasm_bindgen_test]
fn decode_returns_header_and_claims_as_plain_objects() {
    let t = hs256_header_unsigned(
        r#"{"sub":"alice","aud":["api","web"],"exp":1700000600,"iat":1700000000,
            "roles":["admin"],"meta":{"n":null,"f":1.5,"big":18446744073709551615}}"#,
    );
    let d = decode(&t).unwrap();
    let header = get(&d, "header");
    let claims = get(&d, "claims");
    assert_eq!(string(&header, "alg").as_deref(), Some("HS256"));
    assert_eq!(string(&header, "typ").as_deref(), Some("JWT"));
    assert_eq!(string(&header, "kid").as_deref(), Some("k1"));
    assert_eq!(string(&claims, "sub").as_deref(), Some("alice"));
    assert_eq!(num(&claims, "exp"), Some(1_700_000_600.0));
    assert_eq!(num(&claims, "iat"), Some(1_700_000_000.0));
    assert!(js_sys::Array::is_array(&get(&claims, "aud")));
    assert_eq!(string(&get(&claims, "aud"), "1").as_deref(), Some("web"));
    let meta = get(&claims, "meta");
    assert!(get(&meta, "n").is_null(), "JSON null stays null");
    assert_eq!(num(&meta, "f"), Some(1.5));
    // Beyond 2^53: exactly what JSON.parse makes of it.
    assert_eq!(
        num(&meta, "big"),
        Some(18_446_744_073_709_551_615_u64 as f64)
    );
    for o in [&d, &header, &claims, &meta] {
        assert!(is_plain_object(o), "plain objects, not Maps or classes");
    }
    assert_eq!(Object::keys(claims.unchecked_ref::<Object>()).length(), 6);
    assert_eq!(Object::keys(d.unchecked_ref::<Object>()).length(), 2);
}

#[wasm_bindgen_test]
fn decode_is_json_parse_for_hostile_keys_and_numbers() {
    let json =
        r#"{"sub":"mallory","__proto__":{"admin":true},"x":1e2,"y":0.1,"u":"\u00e9\ud83d\ude00"}"#;
    let claims = get(&decode(&hs256_header_unsigned(json)).unwrap(), "claims");
    // No prototype replaced by a claim...
    assert!(get(&claims, "admin").is_undefined());
    assert!(is_plain_object(&claims));
    // ...but an ordinary own property, as JSON.parse makes it.
    let own =
        Object::get_own_property_descriptor(claims.unchecked_ref::<Object>(), &"__proto__".into());
    assert!(own.is_object());
    assert_eq!(get(&get(&own, "value"), "admin"), JsValue::TRUE);
    let expected = js_sys::JSON::parse(json).unwrap();
    for key in ["x", "y", "u", "sub"] {
        assert_eq!(get(&claims, key), get(&expected, key), "{key}");
    }
}

#[wasm_bindgen_test]
fn inspect_reports_the_claims_seconds_left_and_refresh_time() {
    let t = hs256_header_unsigned(r#"{"exp":1000,"iat":400,"nbf":500}"#);
    let i = at(&t, &[("now", n(990.0))]);
    assert!(is_plain_object(&i));
    assert_eq!(num(&i, "expiresAt"), Some(1000.0));
    assert_eq!(num(&i, "issuedAt"), Some(400.0));
    assert_eq!(num(&i, "notBefore"), Some(500.0));
    assert_eq!(num(&i, "secondsLeft"), Some(10.0));
    assert_eq!(get(&i, "expired"), JsValue::FALSE);
    assert_eq!(DEFAULT_REFRESH_MARGIN, 15);
    assert_eq!(num(&i, "refreshAt"), Some(985.0));
    // Past exp: negative, leeway not included.
    assert_eq!(
        num(&at(&t, &[("now", n(1010.0))]), "secondsLeft"),
        Some(-10.0)
    );
    let keys = Object::keys(i.unchecked_ref::<Object>());
    assert_eq!(keys.length(), 6);
}

#[wasm_bindgen_test]
fn inspect_expiry_boundaries_are_the_cores() {
    let t = hs256_header_unsigned(r#"{"exp":1000}"#);
    let expired = |now: f64, leeway: f64| {
        get(
            &at(&t, &[("now", n(now)), ("leeway", n(leeway))]),
            "expired",
        )
    };
    assert_eq!(expired(999.0, 0.0), JsValue::FALSE);
    assert_eq!(expired(1000.0, 0.0), JsValue::TRUE);
    assert_eq!(expired(1009.0, 10.0), JsValue::FALSE);
    assert_eq!(expired(1010.0, 10.0), JsValue::TRUE);
    for now in [970_u64, 999, 1000, 1029, 1030, 1100] {
        let i = at(&t, &[("now", n(now as f64))]);
        assert_eq!(
            get(&i, "expired").as_bool(),
            Some(warden_core::lifetime::is_expired(
                1000,
                now,
                warden_core::DEFAULT_LEEWAY
            )),
            "now {now}"
        );
        assert_eq!(
            num(&i, "secondsLeft"),
            Some(warden_core::lifetime::seconds_left(1000, now) as f64)
        );
    }
    // `leeway: null` means the default (30).
    assert_eq!(
        get(
            &at(&t, &[("now", n(1029.0)), ("leeway", JsValue::NULL)]),
            "expired"
        ),
        JsValue::FALSE
    );
}

#[wasm_bindgen_test]
fn inspect_with_a_clock_offset_answers_on_the_servers_clock() {
    let t = hs256_header_unsigned(r#"{"exp":10000,"iat":9400}"#);
    // The local clock is 600 s ahead: local 9_900 is server 9_300.
    let i = at(&t, &[("now", n(9_900.0)), ("clockOffset", n(-600.0))]);
    assert_eq!(num(&i, "secondsLeft"), Some(700.0));
    assert_eq!(get(&i, "expired"), JsValue::FALSE);
    // refreshAt is on the local clock: server exp - 15 is local exp - 15 + 600.
    assert_eq!(num(&i, "refreshAt"), Some(10_585.0));
    // Without the offset the same local clock would call the token expired at local 10_030.
    let wrong = at(&t, &[("now", n(10_030.0))]);
    assert_eq!(get(&wrong, "expired"), JsValue::TRUE);
    let right = at(&t, &[("now", n(10_030.0)), ("clockOffset", n(-600.0))]);
    assert_eq!(get(&right, "expired"), JsValue::FALSE);
    assert_eq!(num(&right, "secondsLeft"), Some(570.0));
    // A local clock 600 s behind.
    let behind = at(&t, &[("now", n(8_700.0)), ("clockOffset", n(600.0))]);
    assert_eq!(num(&behind, "secondsLeft"), Some(700.0));
    assert_eq!(num(&behind, "refreshAt"), Some(9_385.0));
    // refreshMargin moves refreshAt only.
    let m = at(&t, &[("now", n(9_300.0)), ("refreshMargin", n(120.0))]);
    assert_eq!(num(&m, "refreshAt"), Some(9_880.0));
    assert_eq!(num(&m, "secondsLeft"), Some(700.0));
}

#[wasm_bindgen_test]
fn inspect_without_exp() {
    let i = at(
        &hs256_header_unsigned(r#"{"sub":"alice"}"#),
        &[("now", n(1000.0))],
    );
    for key in [
        "expiresAt",
        "issuedAt",
        "notBefore",
        "secondsLeft",
        "refreshAt",
    ] {
        assert!(get(&i, key).is_undefined(), "{key}");
        assert!(
            js_sys::Reflect::has(&i, &key.into()).unwrap(),
            "{key} is present"
        );
    }
    assert_eq!(get(&i, "expired"), JsValue::FALSE);
}

#[wasm_bindgen_test]
fn inspect_now_defaults_to_the_clock() {
    let now = local_now();
    let t = hs256_header_unsigned(&format!(r#"{{"exp":{}}}"#, now as u64 + 600));
    for o in [
        None,
        Some(JsValue::UNDEFINED),
        Some(JsValue::NULL),
        Some(opts(&[])),
    ] {
        let i = inspect(&t, o).unwrap();
        let left = num(&i, "secondsLeft").unwrap();
        assert!((595.0..=600.0).contains(&left), "secondsLeft {left}");
        assert_eq!(get(&i, "expired"), JsValue::FALSE);
    }
    let old = hs256_header_unsigned(r#"{"exp":1000}"#);
    assert_eq!(get(&inspect(&old, None).unwrap(), "expired"), JsValue::TRUE);
}

#[wasm_bindgen_test]
fn inspect_refuses_options_of_the_wrong_type_or_range() {
    let t = hs256_header_unsigned(r#"{"exp":1000}"#);
    let bad_type = [
        ("now", s("1000")),
        ("now", n(1.5)),
        ("now", n(f64::NAN)),
        ("now", n(f64::INFINITY)),
        ("now", JsValue::TRUE),
        ("leeway", s("30")),
        ("clockOffset", n(0.5)),
        ("refreshMargin", JsValue::from(js_sys::Array::new())),
    ];
    for (key, value) in bad_type {
        let r = inspect(&t, Some(opts(&[(key, value.clone())])));
        let err = thrown(r, "invalid_request");
        assert!(err.is_instance_of::<TypeError>(), "{key}: {value:?}");
        assert!(message(&err).contains(key), "{}", message(&err));
    }
    let bad_range = [
        ("now", n(-1.0)),
        ("now", n(253_402_300_800.0)),
        ("leeway", n(-1.0)),
        ("leeway", n(301.0)),
        ("refreshMargin", n(86_401.0)),
        ("clockOffset", n(-253_402_300_800.0)),
    ];
    for (key, value) in bad_range {
        let r = inspect(&t, Some(opts(&[(key, value.clone())])));
        let err = thrown(r, "invalid_request");
        assert!(err.is_instance_of::<RangeError>(), "{key}: {value:?}");
    }
    // The server's time must be a time too.
    let r = inspect(
        &t,
        Some(opts(&[("now", n(10.0)), ("clockOffset", n(-11.0))])),
    );
    assert!(thrown(r, "invalid_request").is_instance_of::<RangeError>());
    // Not an object; an unknown (e.g. misspelt) option.
    let err = thrown(inspect(&t, Some(n(5.0))), "invalid_request");
    assert!(err.is_instance_of::<TypeError>());
    let err = thrown(
        inspect(&t, Some(opts(&[("leway", n(10.0))]))),
        "invalid_request",
    );
    assert!(
        message(&err).contains("unknown option `leway`"),
        "{}",
        message(&err)
    );
}

#[wasm_bindgen_test]
fn malformed_tokens_throw_token_malformed_with_the_cores_message() {
    let cases = [
        ("garbage".to_owned(), "token must have three segments"),
        (String::new(), "token is empty"),
        (
            unsigned(r#"{"alg":"none"}"#, r#"{"sub":"a"}"#),
            "unsigned tokens are not accepted",
        ),
        (
            hs256_header_unsigned(r#"{"exp":"tomorrow"}"#),
            "claim `exp` has the wrong type or value",
        ),
        (
            unsigned(r#"{"alg":"HS256","jku":"https://evil"}"#, "{}"),
            "header parameter `jku` is not accepted",
        ),
        (
            hs256_header_unsigned(r#"{"sub":"a","sub":"b"}"#),
            "claims has a duplicate JSON key",
        ),
        (
            "a".repeat(8 * 1024 + 1),
            "token is 8193 bytes, over the 8192-byte limit",
        ),
    ];
    for (t, msg) in &cases {
        let expected = warden_core::parse(t).unwrap_err().to_string();
        assert_eq!(expected, *msg);
        assert_eq!(message(&thrown(decode(t), "token_malformed")), *msg);
        assert_eq!(message(&thrown(inspect(t, None), "token_malformed")), *msg);
    }
}
