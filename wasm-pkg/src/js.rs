//! The JavaScript boundary: errors with a stable `code`, strict option reading, plain objects,
//! and the clock. Nothing here decides anything about a token.
//!
//! The few JavaScript built-ins needed are bound here directly rather than through `js-sys`,
//! whose glue (closures, futures) would cost the lite build kilobytes it does not use.

use std::cell::RefCell;

use warden_core::{Denial, ParseError, MAX_NUMERIC_DATE};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    fn reflect_get(target: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Array, js_name = isArray)]
    fn is_array(value: &JsValue) -> bool;
    #[wasm_bindgen(js_namespace = Array, js_name = from)]
    fn array_from(value: &JsValue) -> Vec<JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    pub(crate) fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    pub(crate) fn date_now() -> f64;
    /// `[code, description, message]`.
    #[cfg(feature = "full")]
    #[wasm_bindgen(js_namespace = Array, js_name = of)]
    fn triple(code: &str, description: &str, message: &str) -> JsValue;
}

// Shaping results for JavaScript, done by JavaScript: the platform's own base64 and UTF-8 decoders
// turn a token segment the core has already validated into `JSON.parse` input (rather than a
// second base64 decoder and a UTF-8 check shipped in the wasm), and an object literal builds the
// result of `inspect` in one call. A token comes in through `tokenInto`: the platform's UTF-8
// encoder writing straight into wasm memory (wasm-bindgen's own `&str` passing copies an ASCII
// string one character at a time in JavaScript), and goes back out as the caller's own string,
// never re-decoded.
#[wasm_bindgen(inline_js = "
const encoder = new TextEncoder();
let bytes = new Uint8Array(0);
export function tokenLength(token) {
  return typeof token === 'string' ? token.length : -1;
}
export function tokenInto(memory, token, at, room) {
  if (bytes.buffer !== memory.buffer) bytes = new Uint8Array(memory.buffer);
  const done = encoder.encodeInto(token, bytes.subarray(at, at + room));
  return done.read === token.length ? done.written : -1;
}
export function segmentJson(token, index) {
  const b = atob(token.split('.')[index].replace(/-/g, '+').replace(/_/g, '/'));
  // ASCII (most tokens): the bytes are the text already.
  if (!/[^\x00-\x7f]/.test(b)) return JSON.parse(b);
  const u = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
  return JSON.parse(new TextDecoder().decode(u));
}
export function decoded(token) {
  return { header: segmentJson(token, 0), claims: segmentJson(token, 1) };
}
export function fail(kind, message, code) {
  const e = kind === 1 ? new TypeError(message) : kind === 2 ? new RangeError(message) : new Error(message);
  e.code = code;
  return e;
}
const knownLists = new Map();
export function unknownKey(options, known) {
  let list = knownLists.get(known);
  if (list === undefined) knownLists.set(known, (list = known.split(' ')));
  return Object.keys(options).find((k) => !list.includes(k));
}
export function inspection(expiresAt, issuedAt, notBefore, secondsLeft, expired, refreshAt) {
  return { expiresAt, issuedAt, notBefore, secondsLeft, expired, refreshAt };
}
export function verified(token) {
  return { valid: true, claims: segmentJson(token, 1) };
}
export function refused(code, description, message) {
  return { valid: false, error: { code, description, message } };
}
export function settle(check, token, code, description, message, bad) {
  const no = () => refused(bad[0], bad[1], bad[2]);
  return check.then(
    (ok) => (ok !== true ? no() : code === undefined ? verified(token) : refused(code, description, message)),
    no,
  );
}
")]
extern "C" {
    /// The length of `token` in UTF-16 units, or -1 when it is not a string.
    #[wasm_bindgen(js_name = tokenLength)]
    fn token_length(token: &JsValue) -> i32;
    /// Writes `token`'s UTF-8 into `memory` at `at` (room for `room` bytes): the bytes written,
    /// or -1 when it did not all fit.
    #[wasm_bindgen(js_name = tokenInto)]
    fn token_into(memory: &JsValue, token: &JsValue, at: u32, room: u32) -> f64;
    /// `{ header, claims }` of a token `parse` accepted, each through `segmentJson`: `JSON.parse`
    /// of the segment, which the core has checked is canonical base64url of a UTF-8 JSON object
    /// without duplicate keys.
    #[wasm_bindgen(catch)]
    pub(crate) fn decoded(token: &JsValue) -> Result<JsValue, JsValue>;
    /// A new `Error` (`kind` 0), `TypeError` (1) or `RangeError` (2) with this message and
    /// `code`.
    fn fail(kind: u32, message: &str, code: &str) -> JsValue;
    /// The first own enumerable key of `options` not among the space-separated `known`.
    #[wasm_bindgen(js_name = unknownKey)]
    fn unknown_key(options: &JsValue, known: &JsValue) -> Option<String>;
    /// The object `inspect` returns.
    pub(crate) fn inspection(
        expires_at: Option<f64>,
        issued_at: Option<f64>,
        not_before: Option<f64>,
        seconds_left: Option<f64>,
        expired: bool,
        refresh_at: Option<f64>,
    ) -> JsValue;
    /// What `verify` returns for a good token: `{ valid: true, claims }`.
    #[cfg(feature = "full")]
    #[wasm_bindgen(catch)]
    pub(crate) fn verified(token: &JsValue) -> Result<JsValue, JsValue>;
    /// What `verify` returns for a refused token: `{ valid: false, error }`.
    #[cfg(feature = "full")]
    pub(crate) fn refused(code: &str, description: &str, message: &str) -> JsValue;
    /// `check` (WebCrypto's Promise of a boolean) mapped to what `verify` resolves to: the
    /// claims, or the policy's denial (`code`, ...), when it is `true`; otherwise `bad` (the
    /// bad-signature denial, `[code, description, message]`).
    #[cfg(feature = "full")]
    #[wasm_bindgen(js_name = settle)]
    fn settle_with(
        check: &js_sys::Promise,
        token: &JsValue,
        code: Option<&str>,
        description: Option<&str>,
        message: Option<&str>,
        bad: &JsValue,
    ) -> js_sys::Promise;
}

thread_local! {
    /// This module's memory, for `tokenInto`.
    static MEMORY: JsValue = wasm_bindgen::memory();
}

/// A token argument's text, or a `TypeError` (`code: "invalid_request"`) when it is not a
/// string. Its UTF-8 is written into wasm memory by the platform's `TextEncoder.encodeInto`,
/// which spells a lone surrogate U+FFFD, as wasm-bindgen's own string passing does: into one
/// byte per UTF-16 unit first (an ASCII token, the usual one, fits exactly), else into three.
/// So a string never takes more memory here than wasm-bindgen's own passing took.
pub(crate) fn token_text(token: &JsValue) -> Result<String, JsValue> {
    let not_a_string = || type_error("the token must be a string");
    let units = usize::try_from(token_length(token)).map_err(|_| not_a_string())?;
    for room in [units, units.saturating_mul(3)] {
        let mut text = vec![0u8; room];
        // wasm32: addresses and lengths are u32.
        let at = text.as_mut_ptr() as u32;
        let written = MEMORY.with(|memory| token_into(memory, token, at, room as u32));
        if written >= 0.0 {
            text.truncate(written as usize);
            return String::from_utf8(text).map_err(|_| not_a_string());
        }
    }
    // Three bytes per unit always suffice.
    Err(not_a_string())
}

#[cfg(feature = "full")]
thread_local! {
    /// The bad-signature denial's texts, made once.
    static BAD_SIGNATURE: JsValue = {
        let d = Denial::BadSignature;
        triple(d.code(), d.description(), &d.to_string())
    };
}

/// `check` (WebCrypto's Promise of a boolean) mapped, in JavaScript, to what `verify` resolves
/// to: `{ valid: true, claims }` or the policy's denial (`code`, ...) when the signature is
/// good, the bad-signature denial otherwise (also when `check` rejects).
#[cfg(feature = "full")]
pub(crate) fn settle(
    check: &js_sys::Promise,
    token: &JsValue,
    code: Option<&str>,
    description: Option<&str>,
    message: Option<&str>,
) -> js_sys::Promise {
    BAD_SIGNATURE.with(|bad| settle_with(check, token, code, description, message, bad))
}

/// `value` as JSON text: a string as it is, an object through `JSON.stringify`; otherwise a
/// `TypeError` with `message`.
#[cfg(feature = "full")]
pub(crate) fn json_text(value: &JsValue, message: &str) -> Result<String, JsValue> {
    match value.as_string() {
        Some(text) => Ok(text),
        None if value.is_object() => Ok(json_stringify(value)?.as_string().unwrap_or_default()),
        None => Err(type_error(message)),
    }
}

/// A parse failure: an `Error` with `code: "token_malformed"` and the core's message.
pub(crate) fn malformed(e: ParseError) -> JsValue {
    let message = e.to_string();
    fail(0, &message, Denial::Malformed(e).code())
}

/// A denial thrown as an `Error` carrying the denial's code (`message` says more).
pub(crate) fn denial_error(denial: &Denial, message: &str) -> JsValue {
    fail(0, message, denial.code())
}

/// An option of the wrong type: a `TypeError` with `code: "invalid_request"`.
pub(crate) fn type_error(message: &str) -> JsValue {
    fail(1, message, invalid_request_code())
}

/// An option out of range: a `RangeError` with `code: "invalid_request"`.
pub(crate) fn range_error(message: &str) -> JsValue {
    fail(2, message, invalid_request_code())
}

/// The code of every options error: the core's `invalid_request`.
fn invalid_request_code() -> &'static str {
    Denial::InvalidRequest("invalid options").code()
}

/// An options object, read strictly: unknown keys are refused (so a misspelt `issuer` cannot
/// silently switch a check off), and each value must have exactly the documented type.
///
/// Messages are assembled with `push_str` rather than `format!`: the lite build is small enough
/// that the formatting machinery would show.
pub(crate) struct Options {
    object: Option<JsValue>,
    what: &'static str,
}

impl Options {
    /// Reads `value` (absent, `undefined` and `null` mean "all defaults"), refusing any own
    /// enumerable key not among the space-separated `known`.
    pub(crate) fn read(
        value: Option<JsValue>,
        what: &'static str,
        known: &'static str,
    ) -> Result<Options, JsValue> {
        let object = match value {
            None => None,
            Some(v) if v.is_undefined() || v.is_null() => None,
            Some(v) if v.is_object() && !is_array(&v) => Some(v),
            Some(_) => return Err(type_error(&concat(&[what, " must be an object"]))),
        };
        if let Some(key) = object
            .as_ref()
            .and_then(|o| unknown_key(o, &js_string(known)))
        {
            return Err(type_error(&concat(&[
                what,
                ": unknown option `",
                &key,
                "`",
            ])));
        }
        Ok(Options { object, what })
    }

    /// `"<what>: `<name>` <rest>"`.
    fn message(&self, name: &str, rest: &[&str]) -> String {
        let mut m = concat(&[self.what, ": `", name, "` "]);
        for r in rest {
            m.push_str(r);
        }
        m
    }

    /// The value of `name`, or `None` when absent, `undefined` or `null`.
    fn get(&self, name: &'static str) -> Result<Option<JsValue>, JsValue> {
        let Some(o) = &self.object else {
            return Ok(None);
        };
        // A getter may throw: pass its exception on.
        let v = reflect_get(o, &js_string(name))?;
        Ok(if v.is_undefined() || v.is_null() {
            None
        } else {
            Some(v)
        })
    }

    /// An integer option within `range` (`min..=max`, spelt out for the message): a
    /// `TypeError` for anything but an integral number, a `RangeError` outside the range.
    pub(crate) fn int(&self, name: &'static str, range: Range) -> Result<Option<i64>, JsValue> {
        Ok(self.number(name, range, true)?.map(|f| f as i64))
    }

    /// A number option within `range`; with `integer`, integral only.
    pub(crate) fn number(
        &self,
        name: &'static str,
        range: Range,
        integer: bool,
    ) -> Result<Option<f64>, JsValue> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        match v.as_f64() {
            Some(f) if f.is_finite() && (!integer || f.trunc() == f) => {
                if f < range.min as f64 || f > range.max as f64 {
                    Err(range_error(&self.message(name, &["must be ", range.text])))
                } else {
                    Ok(Some(f))
                }
            }
            _ => Err(type_error(&self.message(
                name,
                &[if integer {
                    "must be an integer"
                } else {
                    "must be a number"
                }],
            ))),
        }
    }

    /// A non-empty string option.
    pub(crate) fn string(&self, name: &'static str) -> Result<Option<String>, JsValue> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        match v.as_string() {
            Some(s) if !s.is_empty() => Ok(Some(s)),
            _ => Err(type_error(
                &self.message(name, &["must be a non-empty string"]),
            )),
        }
    }

    /// A string option that `ok` accepts: a `TypeError` saying it `must be <what>` otherwise,
    /// and one saying it `is required` when it is absent and `required`.
    #[cfg(feature = "full")]
    pub(crate) fn text(
        &self,
        name: &'static str,
        required: bool,
        ok: fn(&str) -> bool,
        what: &str,
    ) -> Result<Option<String>, JsValue> {
        match self.string(name)? {
            None if required => Err(type_error(&self.message(name, &["is required"]))),
            Some(s) if !ok(&s) => Err(type_error(&self.message(name, &["must be ", what]))),
            v => Ok(v),
        }
    }

    /// A non-empty array of non-empty strings, or (with `single`) one non-empty string.
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub(crate) fn strings(
        &self,
        name: &'static str,
        single: bool,
    ) -> Result<Option<Vec<String>>, JsValue> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        let expected = || {
            let one = if single { "a non-empty string or " } else { "" };
            type_error(&self.message(
                name,
                &["must be ", one, "a non-empty array of non-empty strings"],
            ))
        };
        if single {
            if let Some(s) = v.as_string() {
                return if s.is_empty() {
                    Err(expected())
                } else {
                    Ok(Some(vec![s]))
                };
            }
        }
        if !is_array(&v) {
            return Err(expected());
        }
        let items: Vec<String> = array_from(&v)
            .iter()
            .map(|item| item.as_string().filter(|s| !s.is_empty()))
            .collect::<Option<_>>()
            .ok_or_else(expected)?;
        if items.is_empty() {
            return Err(expected());
        }
        Ok(Some(items))
    }
}

/// An inclusive range of integers, with its text for messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    /// Smallest value accepted.
    pub(crate) min: i64,
    /// Largest value accepted.
    pub(crate) max: i64,
    /// E.g. `"from 0 to 300"`.
    pub(crate) text: &'static str,
}

/// Unix seconds the core accepts: 0 to [`MAX_NUMERIC_DATE`] (9999-12-31T23:59:59Z).
pub(crate) const UNIX_SECONDS: Range = Range {
    min: 0,
    max: MAX_NUMERIC_DATE as i64,
    text: "from 0 to 253402300799",
};

/// Milliseconds since the Unix epoch, up to [`MAX_NUMERIC_DATE`] seconds (fractions allowed).
pub(crate) const UNIX_MILLIS: Range = Range {
    min: 0,
    max: MAX_NUMERIC_DATE as i64 * 1000,
    text: "from 0 to 253402300799000",
};

/// A clock offset: at most [`MAX_NUMERIC_DATE`] either way.
const OFFSET: Range = Range {
    min: -(MAX_NUMERIC_DATE as i64),
    max: MAX_NUMERIC_DATE as i64,
    text: "from -253402300799 to 253402300799",
};

thread_local! {
    /// Option names (and lists of them) as JavaScript strings, each made once: reading options
    /// then passes no text from wasm to JavaScript.
    static JS_STRINGS: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// `text` as a JavaScript string, made on its first use and kept.
fn js_string(text: &'static str) -> JsValue {
    JS_STRINGS.with(|strings| {
        let mut strings = strings.borrow_mut();
        if let Some((_, s)) = strings.iter().find(|(t, _)| core::ptr::eq(*t, text)) {
            return s.clone();
        }
        let s = JsValue::from_str(text);
        strings.push((text, s.clone()));
        s
    })
}

/// The strings, concatenated.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The local clock, the server's offset from it, and the server's time: the time every decision
/// is taken at.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// The server's clock minus the local clock, in seconds.
    pub(crate) offset: i64,
    /// The server's time (`now + clockOffset`), Unix seconds.
    pub(crate) server_now: u64,
}

impl Clock {
    /// From the `now` and `clockOffset` options; `now` defaults to the local clock.
    pub(crate) fn from_options(o: &Options) -> Result<Clock, JsValue> {
        let now = match o.int("now", UNIX_SECONDS)? {
            Some(now) => now,
            // A clock before 1970 (or NaN) saturates to 0.
            None => (date_now() / 1000.0).floor() as i64,
        };
        let offset = o.int("clockOffset", OFFSET)?.unwrap_or(0);
        let server_now = now + offset;
        if !(UNIX_SECONDS.min..=UNIX_SECONDS.max).contains(&server_now) {
            return Err(range_error(
                &o.message("now + clockOffset", &["must be ", UNIX_SECONDS.text]),
            ));
        }
        Ok(Clock {
            offset,
            server_now: server_now as u64,
        })
    }
}
