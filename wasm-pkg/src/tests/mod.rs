//! The package as JavaScript sees it, compiled to wasm32 and run by wasm-bindgen-test: in Node
//! (`cargo test --target wasm32-unknown-unknown` with `wasm-bindgen-test-runner`) and in headless
//! Chromium (`scripts/test-npm-browser.sh`). The same tests run in both.
// Clippy's allow-unwrap-in-tests does not see through `cfg(all(test, ...))`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

mod decode_inspect;
#[cfg(feature = "full")]
mod dpop;
mod skew;
#[cfg(feature = "full")]
mod verify;

/// `decode` as JavaScript calls it, with a string.
pub(super) fn decode(token: &str) -> Result<JsValue, JsValue> {
    crate::decode(JsValue::from_str(token))
}

/// `inspect` as JavaScript calls it, with a string.
pub(super) fn inspect(token: &str, options: Option<JsValue>) -> Result<JsValue, JsValue> {
    crate::inspect(JsValue::from_str(token), options)
}

pub(super) fn b64(bytes: impl AsRef<[u8]>) -> String {
    B64.encode(bytes)
}

/// A well-formed token with a junk signature: `decode` and `inspect` never look at it.
pub(super) fn unsigned(header: &str, claims: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(header),
        b64(claims),
        b64(b"not a signature")
    )
}

pub(super) fn hs256_header_unsigned(claims: &str) -> String {
    unsigned(r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, claims)
}

pub(super) fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap()
}

pub(super) fn num(obj: &JsValue, key: &str) -> Option<f64> {
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

pub(super) fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// A plain object with these properties.
pub(super) fn opts(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

pub(super) fn n(v: f64) -> JsValue {
    JsValue::from_f64(v)
}

pub(super) fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

/// The thrown value is an `Error` with this `code`; returns it.
pub(super) fn thrown(result: Result<impl core::fmt::Debug, JsValue>, code: &str) -> js_sys::Error {
    let err = result.expect_err("expected an exception");
    let err: js_sys::Error = err.dyn_into().expect("an Error instance");
    assert_eq!(get(&err, "code").as_string().as_deref(), Some(code));
    err
}

pub(super) fn message(err: &js_sys::Error) -> String {
    err.message().into()
}

pub(super) fn is_plain_object(v: &JsValue) -> bool {
    v.is_object() && Object::get_prototype_of(v) == Object::get_prototype_of(&Object::new())
}

pub(super) fn local_now() -> f64 {
    (js_sys::Date::now() / 1000.0).floor()
}
