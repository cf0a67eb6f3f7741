//! Clock skew: how far the local clock is from the server's, measured from what the server said.

use warden_core::{parse_times, Denial, UnixTime, MAX_NUMERIC_DATE};
use wasm_bindgen::prelude::*;

use crate::js::{date_now, denial_error, malformed, range_error, type_error, Options, UNIX_MILLIS};

/// Estimates the server's clock minus the local clock, in whole seconds: the `clockOffset` to
/// pass to `inspect` (and `verify`).
///
/// `sample` holds what one response from the server said about its clock, and when it came:
///
/// - `date`: the response's `Date` header, an HTTP-date (RFC 9110 §5.6.7: IMF-fixdate such as
///   `Sun, 06 Nov 1994 08:49:37 GMT`, or the obsolete RFC 850 and asctime forms). Cross-origin,
///   the server must list `Date` in `Access-Control-Expose-Headers` for a page to read it;
/// - `token`: a token the server issued in that response (parsed strictly, not verified): its
///   `iat` is the server's clock at issue. A token without `iat` throws an `Error` with
///   `code: "token_claim_missing"`; one that does not parse, `code: "token_malformed"`;
/// - `receivedAt`: the local time the response arrived, in milliseconds (`Date.now()`, the
///   default);
/// - `sentAt`: the local time the request was sent, in milliseconds. With it, the server's stamp
///   is compared with the middle of the round trip, which halves the error.
///
/// At least one of `date` and `token` is needed; with both, the later stamp is used. Both stamps
/// are whole seconds, truncated, so the server's time is taken as the stamp plus half a second.
/// The estimate is then off by at most about half a second plus half the round trip — or plus
/// the whole transfer time without `sentAt` — which the edge's 30-second leeway easily covers.
///
/// Throws a `TypeError` (`code: "invalid_request"`) for a `date` that is not an HTTP-date, an
/// empty sample or values of the wrong type, and a `RangeError` when `sentAt > receivedAt`.
#[wasm_bindgen(js_name = estimateClockOffset)]
pub fn estimate_clock_offset(
    #[wasm_bindgen(unchecked_param_type = "ClockSample")] sample: JsValue,
) -> Result<f64, JsValue> {
    let o = Options::read(Some(sample), "clock sample", "date token sentAt receivedAt")?;
    let received = o
        .number("receivedAt", UNIX_MILLIS, false)?
        .unwrap_or_else(date_now);
    let sent = o.number("sentAt", UNIX_MILLIS, false)?.unwrap_or(received);
    if sent > received {
        return Err(range_error("clock sample: `sentAt` is after `receivedAt`"));
    }
    // `None` < `Some`: with both a date and a token, the later stamp wins.
    let mut stamp = None;
    if let Some(date) = o.string("date")? {
        let secs = parse_http_date(&date, received / 1000.0)
            .ok_or_else(|| type_error("clock sample: `date` is not an HTTP-date"))?;
        stamp = Some(secs);
    }
    if let Some(token) = o.string("token")? {
        let iat = parse_times(&token).map_err(malformed)?.iat.ok_or_else(|| {
            denial_error(&Denial::MissingClaim("iat"), "the token has no `iat` claim")
        })?;
        stamp = stamp.max(Some(iat));
    }
    let stamp = stamp.ok_or_else(|| {
        type_error("clock sample: needs `date` (a Date header) or `token` (a fresh token)")
    })?;
    // The middle of the round trip (`receivedAt` itself without `sentAt`).
    Ok(offset_seconds(stamp, sent + (received - sent) / 2.0))
}

/// `stamp + 0.5 - local`, in seconds, rounded to the nearest whole second (halves up; never
/// `-0`).
pub(crate) fn offset_seconds(stamp: UnixTime, local_ms: f64) -> f64 {
    let offset = ((stamp as f64 * 1000.0 + 500.0 - local_ms) / 1000.0 + 0.5).floor();
    if offset == 0.0 {
        0.0
    } else {
        offset
    }
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The three HTTP-date forms as patterns: `w` a day name, `l` a long day name, `n` a month
/// name, `D` a day digit (`d`: a digit or a space), `Y` a year digit (`y`: of a two-digit
/// year), `h` `m` `s` time digits; any other byte stands for itself.
const FORMS: [&[u8]; 3] = [
    b"w, DD n YYYY hh:mm:ss GMT", // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    b"l, DD-n-yy hh:mm:ss GMT",   // rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT
    b"w n dD hh:mm:ss YYYY",      // asctime-date: Sun Nov  6 08:49:37 1994
];

/// Parses an HTTP-date (RFC 9110 §5.6.7) to Unix seconds: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime
/// (`Sun Nov  6 08:49:37 1994`). Case-sensitive, as the grammar is; the weekday must be a day
/// name but is not cross-checked. A two-digit RFC 850 year more than 50 years after `now_secs`
/// is read as the most recent such year in the past. `None` for anything else, and for dates
/// before 1970 or after 9999.
///
/// A small pattern matcher over bytes rather than three hand-written parsers: this ships in the
/// lite build, where every kilobyte counts.
pub(crate) fn parse_http_date(s: &str, now_secs: f64) -> Option<UnixTime> {
    FORMS
        .iter()
        .find_map(|form| match_form(s.as_bytes(), form, now_secs))
}

fn match_form(b: &[u8], form: &[u8], now_secs: f64) -> Option<UnixTime> {
    // day, month, year, hour, minute, second
    let mut f = [0u64; 6];
    let mut i = 0;
    for &p in form {
        match p {
            b'w' | b'l' | b'n' => {
                let names: &[&str] = match p {
                    b'w' => &DAYS,
                    b'l' => &LONG_DAYS,
                    _ => &MONTHS,
                };
                let k = names
                    .iter()
                    .position(|n| b.get(i..i + n.len()) == Some(n.as_bytes()))?;
                i += names[k].len();
                if p == b'n' {
                    f[1] = k as u64 + 1;
                }
            }
            b'D' | b'd' | b'Y' | b'y' | b'h' | b'm' | b's' => {
                let c = *b.get(i)?;
                i += 1;
                let digit = match c {
                    b' ' if p == b'd' => 0,
                    b'0'..=b'9' => u64::from(c - b'0'),
                    _ => return None,
                };
                let at = match p {
                    b'D' | b'd' => 0,
                    b'Y' | b'y' => 2,
                    b'h' => 3,
                    b'm' => 4,
                    _ => 5,
                };
                f[at] = f[at] * 10 + digit;
            }
            literal => {
                if b.get(i) != Some(&literal) {
                    return None;
                }
                i += 1;
            }
        }
    }
    let [day, month, mut year, h, m, sec] = f;
    if i != b.len() {
        return None;
    }
    if form[0] == b'l' {
        year += century_of(now_secs);
        if year as f64 > year_of(now_secs) + 50.0 {
            year -= 100;
        }
    }
    if year < 1970 || day == 0 || day > days_in_month(year, month) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + sec;
    (secs <= MAX_NUMERIC_DATE).then_some(secs)
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (proleptic Gregorian, year ≥ 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    // Howard Hinnant's algorithm, with March as the first month of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (approximate, ±1 day is fine here) Gregorian year at `secs`.
fn year_of(secs: f64) -> f64 {
    1970.0 + (secs.max(0.0) / 31_556_952.0).floor()
}

fn century_of(secs: f64) -> u64 {
    (year_of(secs) as u64 / 100) * 100
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000.0; // 2023-11-14

    #[test]
    fn the_three_http_date_forms() {
        let want = Some(784_111_777);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", NOW), want);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", NOW), want);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994", NOW), want);
        assert_eq!(
            parse_http_date("Sun Nov 16 08:49:37 1994", NOW),
            Some(784_975_777)
        );
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", NOW),
            Some(0)
        );
        assert_eq!(
            parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT", NOW),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT", NOW),
            Some(1_709_208_000)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT", NOW),
            Some(MAX_NUMERIC_DATE)
        );
    }

    #[test]
    fn rfc850_two_digit_years_pivot_on_now() {
        // In 2023, "24" is 2024 and "94" is 1994 (2094 would be > 50 years ahead).
        assert_eq!(
            parse_http_date("Thursday, 29-Feb-24 12:00:00 GMT", NOW),
            Some(1_709_208_000)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", NOW),
            Some(784_111_777)
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "0",
            "1700000000",
            "2023-11-14T22:13:20Z",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            " Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 23:60:00 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08-49-37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\u{e9}",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sund, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94  ",
            "Sun  Nov 6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(bad, NOW), None, "{bad:?}");
        }
    }

    #[test]
    fn offsets_round_to_whole_seconds() {
        // Stamp 1000 means the server's clock read 1000.0..1001.0: taken as 1000.5.
        assert_eq!(offset_seconds(1000, 1_000_000.0), 1.0);
        assert_eq!(offset_seconds(1000, 1_000_400.0), 0.0);
        assert!(offset_seconds(1000, 1_000_600.0).is_sign_positive());
        assert_eq!(offset_seconds(1000, 1_600_000.0), -599.0);
        assert_eq!(offset_seconds(1600, 1_000_000.0), 601.0);
    }
}
