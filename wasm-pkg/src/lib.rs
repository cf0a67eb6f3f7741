//! Warden's validation core for JavaScript (browsers, bundlers and Node), built with wasm-bindgen.
//!
//! Every answer comes from [`warden_core`], so the browser and the edge agree: a token the edge
//! refuses as malformed is refused here with the same stable code, expiry is computed to the same
//! second with the same default leeway, and `verify` applies the edge's policy and returns the
//! edge's denial codes. This crate only gathers inputs (the clock, options, keys) and shapes the
//! results as plain JavaScript objects.
//!
//! Two builds come from this crate (cargo features):
//!
//! - **lite** (`--no-default-features`): [`decode`], [`inspect`] and [`estimate_clock_offset`] —
//!   no signature check, no crypto code;
//! - **full** (feature `full`, the default): adds `verify` and `KeySet`, which check signatures
//!   as the worker does (crate `warden-webcrypto`: the platform's WebCrypto for RS*, PS*, ES* and
//!   EdDSA, HMAC in wasm) and apply the claims policy. `verify` returns a Promise. And DPoP's
//!   client half (RFC 9449): `generateDpopKey` (a non-extractable WebCrypto key pair),
//!   `createDpopProof` (proofs the edge accepts) and `jwkThumbprint` (RFC 7638, the edge's).
//!
//! [`decode`] and [`inspect`] report what a token *says*, not what anyone vouches for: use them to
//! display a token or to decide when to refresh it, never to decide whether to trust it.
//!
//! Errors are thrown as JavaScript `Error`s with a stable `code` property equal to one of the
//! core's denial codes: `token_malformed` (the token fails [`warden_core::parse`]; the message
//! says why), `token_claim_missing` (a needed claim is absent), `keys_unavailable` (a JWKS that
//! cannot be loaded, or WebCrypto missing or failing) or `invalid_request` (options or arguments
//! of the wrong type — a `TypeError` — or out of range — a `RangeError`).

#[cfg(feature = "full")]
mod dpop;
mod inspect;
mod js;
mod skew;
#[cfg(feature = "full")]
mod verify;

#[cfg(feature = "full")]
pub use dpop::{create_dpop_proof, generate_dpop_key, jwk_thumbprint};
pub use inspect::{decode, inspect, DEFAULT_REFRESH_MARGIN};
pub use skew::estimate_clock_offset;
#[cfg(feature = "full")]
pub use verify::{verify, KeySet};

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

/** The clock options shared by `inspect` and `verify`. */
export interface ClockOptions {
  /**
   * The local time, in whole Unix seconds. Default: `Math.floor(Date.now() / 1000)`.
   */
  now?: number;
  /**
   * The server's clock minus the local clock, in whole seconds (see `estimateClockOffset`).
   * Every decision is taken at `now + clockOffset`, the server's time. Default: 0.
   */
  clockOffset?: number;
  /** Allowed clock skew in whole seconds, 0 to 300. Default: 30, the same as the edge. */
  leeway?: number;
}

/** Options for `inspect`. */
export interface InspectOptions extends ClockOptions {
  /**
   * How many seconds before `exp` (on the server's clock) the app should refresh, 0 to 86400.
   * Default: 15, the edge's default refresh window (`WARDEN_REFRESH_WINDOW_SECONDS`).
   */
  refreshMargin?: number;
}

/** What `inspect` returns. Every property is always present; times are Unix seconds. */
export interface Inspection {
  /** The `exp` claim, or `undefined` when the token has none. */
  expiresAt: number | undefined;
  /** The `iat` claim, or `undefined` when the token has none. */
  issuedAt: number | undefined;
  /** The `nbf` claim, or `undefined` when the token has none. */
  notBefore: number | undefined;
  /**
   * `exp - (now + clockOffset)`: seconds left on the server's clock, leeway not included
   * (negative once past `exp`); `undefined` without `exp`.
   */
  secondsLeft: number | undefined;
  /** Whether `now + clockOffset >= exp + leeway`, as the edge decides. `false` without `exp`. */
  expired: boolean;
  /**
   * When the app should refresh the token, **on the local clock** (compare it with
   * `Date.now() / 1000`): `exp - refreshMargin - clockOffset`. May be in the past: then refresh
   * now. `undefined` without `exp`.
   */
  refreshAt: number | undefined;
}

/** What a server told us about its clock, for `estimateClockOffset`. */
export interface ClockSample {
  /** A response's `Date` header (an HTTP-date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`). */
  date?: string;
  /** A token the server issued in that response: its `iat` is a server timestamp. */
  token?: string;
  /** Local time the request was sent, in milliseconds (`Date.now()`). Optional. */
  sentAt?: number;
  /** Local time the response arrived, in milliseconds. Default: `Date.now()`. */
  receivedAt?: number;
}

/** The denial codes `decode`, `inspect` and `estimateClockOffset` throw with. */
export type WardenErrorCode = "token_malformed" | "token_claim_missing" | "invalid_request";

/** The errors this package throws: an `Error` (or `TypeError`, `RangeError`) with a stable `code`. */
export interface WardenError extends Error {
  /** One of the core's denial codes. */
  code: WardenErrorCode | "keys_unavailable";
}
"#;

// wasm-bindgen-test suites, run in Node and in headless Chromium (see scripts/test-npm-browser.sh).
// Unit tests rather than tests/*.rs: the crate is a cdylib only (see Cargo.toml).
#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
