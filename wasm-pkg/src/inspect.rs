//! `decode` and `inspect`: what a token says, and where it stands in time. No signature check.

use warden_core::{lifetime, parse_times, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME};
use wasm_bindgen::prelude::*;

use crate::js::{decoded, inspection, malformed, token_text, Clock, Options, Range};

/// The default `refreshMargin` of `inspect`, in seconds: the edge's default refresh window
/// (`WARDEN_REFRESH_WINDOW_SECONDS`), so the app refreshes when the edge would start to.
pub const DEFAULT_REFRESH_MARGIN: u64 = 15;

/// The `leeway` accepted, in seconds: the edge's bounds on `WARDEN_LEEWAY_SECONDS`.
pub(crate) const LEEWAY: Range = Range {
    min: 0,
    max: 300,
    text: "from 0 to 300",
};

/// The `refreshMargin` accepted, in seconds: up to the default lifetime cap.
const REFRESH_MARGIN: Range = Range {
    min: 0,
    max: DEFAULT_MAX_LIFETIME as i64,
    text: "from 0 to 86400",
};

/// Decodes a token's header and claims **without checking its signature**: no trust is implied.
///
/// The token must still parse strictly, exactly as at the edge (three canonical base64url
/// segments, JSON objects without duplicate keys, a supported `alg` — never `none` — and
/// registered claims of the right types); otherwise this throws an `Error` with
/// `code: "token_malformed"` and a message saying what is wrong.
///
/// Returns `{ header, claims }`: plain objects built by `JSON.parse` from the two decoded
/// segments, so a `__proto__` key stays an ordinary own property and numbers are exactly what
/// `JSON.parse` makes of them. A `token` that is not a string throws a `TypeError` with
/// `code: "invalid_request"`.
#[wasm_bindgen(unchecked_return_type = "Decoded")]
pub fn decode(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
) -> Result<JsValue, JsValue> {
    // The core's verdict only: the objects come from the token's text, in JavaScript.
    parse_times(&token_text(&token)?).map_err(malformed)?;
    decoded(&token)
}

/// Reports where a token stands in time (**no signature check**: no trust is implied).
///
/// Options (all optional, all whole seconds; anything else throws a `TypeError`, and a value
/// out of range a `RangeError`, both with `code: "invalid_request"`; unknown options are
/// refused):
///
/// - `now`: the local time, Unix seconds; default `Math.floor(Date.now() / 1000)`;
/// - `clockOffset`: the server's clock minus the local clock (see `estimateClockOffset`);
///   default 0. Every answer is computed at the server's time, `now + clockOffset`, so a wrong
///   local clock does not matter once the offset is known;
/// - `leeway`: allowed clock skew, 0 to 300; default 30, as at the edge;
/// - `refreshMargin`: how long before `exp` to refresh, 0 to 86400; default 15, the edge's
///   default refresh window.
///
/// Returns `{ expiresAt, issuedAt, notBefore, secondsLeft, expired, refreshAt }`. The first
/// three are the `exp`, `iat` and `nbf` claims (server timestamps), `undefined` when absent.
/// `secondsLeft` is `exp - (now + clockOffset)`, without the leeway, negative once `exp` is
/// past; `expired` is `now + clockOffset >= exp + leeway`, exactly the edge's rule.
///
/// `refreshAt` is when the app should refresh, **on the local clock** (so it can be compared
/// with `Date.now() / 1000` or turned into a timer): `exp - refreshMargin - clockOffset`. That
/// is `refreshMargin` seconds before the token expires by the server's clock; the edge's
/// leeway then still covers an offset that was measured a little wrong. It may be in the past
/// (refresh now). A token without `exp` states no end: `secondsLeft` and `refreshAt` are
/// `undefined` and `expired` is `false`.
///
/// Throws an `Error` with `code: "token_malformed"` when the token does not parse (see
/// `decode`), and a `TypeError` with `code: "invalid_request"` when it is not a string.
#[wasm_bindgen(unchecked_return_type = "Inspection")]
pub fn inspect(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "InspectOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let o = Options::read(
        options,
        "inspect options",
        "now clockOffset leeway refreshMargin",
    )?;
    let clock = Clock::from_options(&o)?;
    let leeway = o
        .int("leeway", LEEWAY)?
        .map_or(DEFAULT_LEEWAY, |l| l as u64);
    let margin = o
        .int("refreshMargin", REFRESH_MARGIN)?
        .unwrap_or(DEFAULT_REFRESH_MARGIN as i64);
    let c = parse_times(&token_text(&token)?).map_err(malformed)?;
    let exp = c.exp;
    let seconds_left = exp.map(|exp| lifetime::seconds_left(exp, clock.server_now));
    let expired = exp.is_some_and(|exp| lifetime::is_expired(exp, clock.server_now, leeway));
    // All values are at most MAX_NUMERIC_DATE in magnitude: far inside i64 and f64's exact range.
    let refresh_at = exp.map(|exp| exp as i64 - margin - clock.offset);
    Ok(inspection(
        exp.map(|t| t as f64),
        c.iat.map(|t| t as f64),
        c.nbf.map(|t| t as f64),
        seconds_left.map(|s| s as f64),
        expired,
        refresh_at.map(|t| t as f64),
    ))
}
