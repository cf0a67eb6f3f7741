//! Warden's validation core for JavaScript (browsers and Node), built with wasm-bindgen.
//!
//! Two functions, both thin wrappers over [`warden_core`], so that a token the edge refuses as
//! malformed is refused here too, with the same stable code, and expiry is computed to the same
//! second:
//!
//! - [`decode`]: the header and claims of a token, as plain objects. **No signature check**.
//! - [`inspect`]: the token's lifetime at a given time (`exp`, `iat`, `nbf`, seconds left,
//!   expired or not), with the same clock-skew leeway as the edge.
//!
//! Neither function verifies a signature: what they return is what the token *says*, not what
//! anyone vouches for. Use them to display a token or to decide when to refresh one, never to
//! decide whether to trust it.
//!
//! Errors are thrown as JavaScript `Error`s with a stable `code` property:
//! `token_malformed` (the token fails [`warden_core::parse`]; the message says why) or
//! `invalid_request` (a `TypeError` or `RangeError` for options of the wrong type or range).

use js_sys::{Error, RangeError, Reflect, TypeError};
use serde::{Deserialize, Serialize};
use warden_core::{lifetime, parse, Denial, ParseError, Token, DEFAULT_LEEWAY, MAX_NUMERIC_DATE};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A token's protected header, as sent. `alg` is always an algorithm Warden verifies (never `none`). */
export interface DecodedHeader {
  alg: string;
  typ?: string;
  kid?: string;
  [name: string]: unknown;
}

/**
 * A token's claims, as sent. Registered claims have been type-checked: `exp`, `nbf` and `iat`
 * are integers in Unix seconds; `iss`, `sub`, `jti`, `sid` and `scope` are non-empty strings.
 */
export interface DecodedClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  sid?: string;
  scope?: string;
  [name: string]: unknown;
}

/** What `decode` returns: the header and claims exactly as the token states them, unverified. */
export interface Decoded {
  header: DecodedHeader;
  claims: DecodedClaims;
}

/** Options for `inspect`. */
export interface InspectOptions {
  /** The time to inspect the token at, in whole Unix seconds. Default: `Math.floor(Date.now() / 1000)`. */
  now?: number;
  /** Allowed clock skew in whole seconds. Default: 30, the same as the edge. */
  leeway?: number;
}

/** What `inspect` returns. Every property is always present; times are Unix seconds. */
export interface Inspection {
  /** The `exp` claim, or `undefined` when the token has none. */
  expiresAt: number | undefined;
  /** The `iat` claim, or `undefined` when the token has none. */
  issuedAt: number | undefined;
  /** The `nbf` claim, or `undefined` when the token has none. */
  notBefore: number | undefined;
  /** `exp - now`, leeway not included (negative once past `exp`); `undefined` without `exp`. */
  secondsLeft: number | undefined;
  /** Whether `now >= exp + leeway`. `false` when the token has no `exp`. */
  expired: boolean;
}

/** The errors `decode` and `inspect` throw. */
export interface WardenError extends Error {
  /** `token_malformed` for a token that does not parse, `invalid_request` for bad options. */
  code: "token_malformed" | "invalid_request";
}
"#;

/// Decodes a token's header and claims **without checking its signature**: no trust is implied.
///
/// The token must still parse strictly, exactly as at the edge (three canonical base64url
/// segments, JSON objects without duplicate keys, a supported `alg` — never `none` — and
/// registered claims of the right types); otherwise this throws an `Error` with
/// `code: "token_malformed"` and a message saying what is wrong.
///
/// Returns `{ header, claims }`: plain objects built as `JSON.parse` builds them from the two
/// decoded segments. A `__proto__` key stays an ordinary own property, and integers beyond 2^53
/// become the nearest double, as there. (Fractions and integers beyond 64 bits go through the
/// core's fast float parser and can differ from `JSON.parse` in the last binary digit.)
#[wasm_bindgen(unchecked_return_type = "Decoded")]
pub fn decode(token: &str) -> Result<JsValue, JsValue> {
    let token = parse_token(token)?;
    #[derive(Serialize)]
    struct Decoded<'a> {
        header: &'a serde_json::Map<String, serde_json::Value>,
        claims: &'a serde_json::Map<String, serde_json::Value>,
    }
    // Through JSON text rather than serde-wasm-bindgen: its object serializer assigns keys with
    // `obj[key] = value`, so a `__proto__` claim would replace the returned object's prototype,
    // and it throws on integers JavaScript cannot represent exactly.
    let json = serde_json::to_string(&Decoded {
        header: &token.header.raw,
        claims: &token.claims.raw,
    })
    .map_err(|e| Error::new(&e.to_string()))?;
    js_sys::JSON::parse(&json)
}

/// Options for [`inspect`], read from a JavaScript object (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InspectOptions {
    /// Unix seconds; default: the current time.
    now: Option<u64>,
    /// Seconds of allowed clock skew; default: [`DEFAULT_LEEWAY`].
    leeway: Option<u64>,
}

/// The result of [`inspect`], written to a plain JavaScript object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    expires_at: Option<u64>,
    issued_at: Option<u64>,
    not_before: Option<u64>,
    seconds_left: Option<i64>,
    expired: bool,
}

/// Reports a token's lifetime at `options.now` (**no signature check**: no trust is implied).
///
/// `options.now` is in whole Unix seconds and defaults to `Math.floor(Date.now() / 1000)`;
/// `options.leeway` is the allowed clock skew in whole seconds and defaults to 30, as at the
/// edge. Both must be non-negative integers: anything else throws a `TypeError` (a `RangeError`
/// for a `now` after year 9999) with `code: "invalid_request"`.
///
/// Returns `{ expiresAt, issuedAt, notBefore, secondsLeft, expired }`. The first three are the
/// `exp`, `iat` and `nbf` claims, `undefined` when absent. `secondsLeft` is `exp - now` without
/// the leeway, negative once `exp` is past; `expired` is `now >= exp + leeway`. A token without
/// `exp` has `secondsLeft: undefined` and `expired: false`: it states no end.
///
/// Throws an `Error` with `code: "token_malformed"` when the token does not parse (see
/// `decode`).
#[wasm_bindgen(unchecked_return_type = "Inspection")]
pub fn inspect(
    token: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "InspectOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let token = parse_token(token)?;
    // `undefined` and `null` mean "all defaults", as does an absent argument.
    let options: Option<InspectOptions> = match options {
        None => None,
        Some(value) => serde_wasm_bindgen::from_value(value).map_err(|e| {
            invalid_options(TypeError::new(&format!("invalid options: {e}")).into())
        })?,
    };
    let options = options.unwrap_or_default();
    let now = match options.now {
        Some(now) if now > MAX_NUMERIC_DATE => {
            let msg = format!("invalid options: now must be at most {MAX_NUMERIC_DATE}");
            return Err(invalid_options(RangeError::new(&msg).into()));
        }
        Some(now) => now,
        // Negative or NaN clocks saturate to 0.
        None => (js_sys::Date::now() / 1000.0).floor() as u64,
    };
    let leeway = options.leeway.unwrap_or(DEFAULT_LEEWAY);
    let exp = token.claims.exp;
    let inspection = Inspection {
        expires_at: exp,
        issued_at: token.claims.iat,
        not_before: token.claims.nbf,
        seconds_left: exp.map(|exp| lifetime::seconds_left(exp, now)),
        expired: exp.is_some_and(|exp| lifetime::is_expired(exp, now, leeway)),
    };
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    inspection
        .serialize(&serializer)
        .map_err(|e| Error::new(&e.to_string()).into())
}

/// Parses with the core; a failure becomes an `Error` with the core's code and message.
fn parse_token(token: &str) -> Result<Token, JsValue> {
    parse(token).map_err(malformed)
}

fn malformed(e: ParseError) -> JsValue {
    let message = e.to_string();
    with_code(Error::new(&message).into(), Denial::Malformed(e).code())
}

fn invalid_options(err: JsValue) -> JsValue {
    with_code(err, Denial::InvalidRequest("invalid options").code())
}

fn with_code(err: JsValue, code: &str) -> JsValue {
    // Setting a property on a fresh, extensible Error object cannot fail.
    let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err
}
