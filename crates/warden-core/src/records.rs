//! What the edge stores: how long revocation records live, how a subject's cutoff moves, and
//! what a stored session record says about a presented refresh token.
//!
//! Pure rules only; the store itself (Workers KV, Durable Objects) is the platform's.

use crate::denial::Denial;
use crate::session::{SessionPolicy, SessionState};
use crate::UnixTime;

/// The shortest lifetime of a stored record, in seconds from `now`: the store refuses sooner
/// expirations (Workers KV's minimum).
pub const MIN_RECORD_SECONDS: u64 = 60;

/// When a record meant to live until `until` may go: then, but no sooner than
/// [`MIN_RECORD_SECONDS`] from `now`.
pub fn record_expiration(until: UnixTime, now: UnixTime) -> UnixTime {
    until.max(now.saturating_add(MIN_RECORD_SECONDS))
}

/// When the record revoking one token (`jti`) may go: the token is accepted while
/// `now < exp + leeway`, so the record lives until then (`now` + the lifetime cap when `exp`
/// is unknown), and at least [`MIN_RECORD_SECONDS`].
///
/// ```
/// assert_eq!(warden_core::token_expiration(Some(2_000), 1_000, 30, 86_400), 2_030);
/// ```
pub fn token_expiration(
    exp: Option<UnixTime>,
    now: UnixTime,
    leeway: u64,
    max_lifetime: u64,
) -> UnixTime {
    let until = exp
        .unwrap_or(now.saturating_add(max_lifetime))
        .saturating_add(leeway);
    record_expiration(until, now)
}

/// When the record ending a session (`sid`) may go: every token of the session alive now dies
/// within the lifetime cap plus the leeway.
pub fn session_expiration(now: UnixTime, leeway: u64, max_lifetime: u64) -> UnixTime {
    record_expiration(now.saturating_add(max_lifetime).saturating_add(leeway), now)
}

/// When a subject's cutoff record `before` may go: a token with `iat <= before` is dead by
/// `before + max_lifetime + leeway` (the policy caps `exp - iat`).
pub fn cutoff_expiration(
    before: UnixTime,
    now: UnixTime,
    leeway: u64,
    max_lifetime: u64,
) -> UnixTime {
    record_expiration(
        before.saturating_add(max_lifetime).saturating_add(leeway),
        now,
    )
}

/// A subject's cutoff never goes down: the new stored value is the larger of what is stored
/// and what is requested.
pub fn raised_cutoff(stored: Option<UnixTime>, requested: UnixTime) -> UnixTime {
    stored.map_or(requested, |s| s.max(requested))
}

/// A requested cutoff later than `now + leeway`: it would revoke tokens not issued yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CutoffTooLate {
    /// The latest acceptable cutoff (`now + leeway`).
    pub latest: UnixTime,
}

/// The cutoff an administrator asked for: `before` (default `now`), refused when later than
/// `now + leeway`.
pub fn requested_cutoff(
    before: Option<UnixTime>,
    now: UnixTime,
    leeway: u64,
) -> Result<UnixTime, CutoffTooLate> {
    let before = before.unwrap_or(now);
    let latest = now.saturating_add(leeway);
    if before > latest {
        return Err(CutoffTooLate { latest });
    }
    Ok(before)
}

/// What a session's stored record says about a presented refresh token, before any call to
/// the origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshJudgement {
    /// Refresh it.
    Proceed,
    /// Refuse: the session ended earlier (its stored reason stands).
    Ended,
    /// Refuse, and end the session now: idle or capped (the core's denial says which).
    End(Denial),
    /// It was rotated and the grace window is over: reuse (RFC 9700 §4.14.2). Revoke the
    /// session.
    Reused,
    /// It was rotated less than the grace window ago, but the new pair is not at hand: answer
    /// "try again", neither a pair nor a revocation.
    RotatedWithinGrace,
}

/// Judges a presented refresh token from what its session's object stores: the session (its
/// state, and whether it ended) if known, and when this token was rotated, if it was. An ended
/// session is refused before anything else; a rotated token is replayed within `grace` seconds
/// and is reuse after; otherwise the [`SessionPolicy`] decides (idle timeout, cap).
pub fn judge_refresh(
    session: Option<(&SessionState, bool)>,
    rotated_at: Option<UnixTime>,
    now: UnixTime,
    grace: u64,
    policy: &SessionPolicy,
) -> RefreshJudgement {
    if session.is_some_and(|(_, ended)| ended) {
        return RefreshJudgement::Ended;
    }
    if let Some(at) = rotated_at {
        return if now < at.saturating_add(grace) {
            RefreshJudgement::RotatedWithinGrace
        } else {
            RefreshJudgement::Reused
        };
    }
    match session.map(|(state, _)| policy.check(state, now)) {
        Some(Err(d)) => RefreshJudgement::End(d),
        _ => RefreshJudgement::Proceed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::under_cutoff;

    #[test]
    fn record_lifetimes() {
        assert_eq!(record_expiration(5_000, 1_000), 5_000);
        assert_eq!(record_expiration(1_010, 1_000), 1_060);
        assert_eq!(token_expiration(Some(2_000), 1_000, 30, 86_400), 2_030);
        assert_eq!(token_expiration(Some(900), 1_000, 30, 86_400), 1_060);
        assert_eq!(token_expiration(None, 1_000, 30, 86_400), 87_430);
        assert_eq!(token_expiration(Some(u64::MAX), 1, 30, 1), u64::MAX);
        assert_eq!(session_expiration(1_000, 30, 86_400), 87_430);
        assert_eq!(session_expiration(1_000, 0, 1), 1_060);
        assert_eq!(session_expiration(u64::MAX, 30, 1), u64::MAX);
        assert_eq!(cutoff_expiration(1_000, 1_000, 30, 900), 1_930);
        assert_eq!(cutoff_expiration(10, 1_000, 30, 900), 1_060);
    }

    #[test]
    fn cutoffs_only_rise() {
        assert_eq!(raised_cutoff(None, 100), 100);
        assert_eq!(raised_cutoff(Some(200), 100), 200);
        assert_eq!(raised_cutoff(Some(100), 200), 200);
        assert_eq!(raised_cutoff(Some(0), 0), 0);
    }

    #[test]
    fn requested_cutoffs() {
        assert_eq!(requested_cutoff(None, 1_000, 30), Ok(1_000));
        assert_eq!(requested_cutoff(Some(5), 1_000, 30), Ok(5));
        assert_eq!(requested_cutoff(Some(1_030), 1_000, 30), Ok(1_030));
        assert_eq!(
            requested_cutoff(Some(1_031), 1_000, 30),
            Err(CutoffTooLate { latest: 1_030 })
        );
        assert_eq!(requested_cutoff(None, u64::MAX, 30), Ok(u64::MAX));
    }

    #[test]
    fn under_the_cutoff() {
        assert!(!under_cutoff(Some(10), None));
        assert!(!under_cutoff(None, None));
        assert!(under_cutoff(None, Some(5)), "unknown start: refused");
        assert!(under_cutoff(Some(5), Some(5)));
        assert!(!under_cutoff(Some(6), Some(5)));
    }

    const P: SessionPolicy = SessionPolicy {
        idle_timeout: 100,
        absolute_cap: 1_000,
        debounce: 10,
    };

    fn state(created_at: u64, last_active: u64) -> SessionState {
        SessionState {
            created_at,
            last_active,
        }
    }

    #[test]
    fn live_and_unknown_sessions_proceed() {
        assert_eq!(
            judge_refresh(None, None, 50, 10, &P),
            RefreshJudgement::Proceed
        );
        let s = state(0, 40);
        assert_eq!(
            judge_refresh(Some((&s, false)), None, 50, 10, &P),
            RefreshJudgement::Proceed
        );
    }

    #[test]
    fn rotated_tokens_replay_within_grace_then_are_reuse() {
        let s = state(0, 40);
        let live = Some((&s, false));
        assert_eq!(
            judge_refresh(live, Some(45), 54, 10, &P),
            RefreshJudgement::RotatedWithinGrace
        );
        assert_eq!(
            judge_refresh(live, Some(45), 55, 10, &P),
            RefreshJudgement::Reused
        );
        // Without a record, still reuse; grace 0: any second presentation is reuse.
        assert_eq!(
            judge_refresh(None, Some(45), 500, 10, &P),
            RefreshJudgement::Reused
        );
        assert_eq!(
            judge_refresh(live, Some(45), 45, 0, &P),
            RefreshJudgement::Reused
        );
    }

    #[test]
    fn idle_cap_and_ended() {
        let idle = state(0, 40);
        assert_eq!(
            judge_refresh(Some((&idle, false)), None, 140, 10, &P),
            RefreshJudgement::End(Denial::SessionIdle {
                last_active: 40,
                idle_timeout: 100
            })
        );
        let busy = state(0, 990);
        assert_eq!(
            judge_refresh(Some((&busy, false)), None, 1_000, 10, &P),
            RefreshJudgement::End(Denial::SessionCapReached {
                created_at: 0,
                cap: 1_000
            })
        );
        // An ended session is refused before anything else, reuse included.
        assert_eq!(
            judge_refresh(Some((&idle, true)), Some(0), 5_000, 10, &P),
            RefreshJudgement::Ended
        );
    }
}
