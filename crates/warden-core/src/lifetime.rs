//! Expiry arithmetic, shared by the edge and the npm package so that both agree to the second.

use crate::UnixTime;

/// Seconds from `now` until `exp`: negative once expired. Leeway is not included.
pub fn seconds_left(exp: UnixTime, now: UnixTime) -> i64 {
    // Both are at most MAX_NUMERIC_DATE (or a caller's clock), far inside i64.
    (exp as i64).saturating_sub(now as i64)
}

/// Whether a token with this `exp` is expired at `now`, allowing `leeway` seconds of skew:
/// valid while `now < exp + leeway`.
pub fn is_expired(exp: UnixTime, now: UnixTime, leeway: u64) -> bool {
    now >= exp.saturating_add(leeway)
}

/// Whether a token with this `nbf` is not yet valid at `now` (with `leeway`).
pub fn is_not_yet_valid(nbf: UnixTime, now: UnixTime, leeway: u64) -> bool {
    nbf > now.saturating_add(leeway)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert!(!is_expired(100, 129, 30));
        assert!(is_expired(100, 130, 30));
        assert!(is_expired(100, 100, 0));
        assert!(!is_expired(100, 99, 0));
        assert!(!is_not_yet_valid(130, 100, 30));
        assert!(is_not_yet_valid(131, 100, 30));
        assert_eq!(seconds_left(100, 90), 10);
        assert_eq!(seconds_left(100, 110), -10);
    }
}
