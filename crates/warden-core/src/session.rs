//! Interactive sessions: a sliding idle timeout, extended at most once per debounce interval,
//! inside an absolute cap that nothing extends.

use crate::denial::Denial;
use crate::UnixTime;

/// How sessions live. Defaults: idle 7 days, cap 30 days, debounce 60 s.
///
/// ```
/// use warden_core::{SessionPolicy, SessionState};
///
/// let policy = SessionPolicy { idle_timeout: 3_600, absolute_cap: 86_400, debounce: 60 };
/// let mut s = SessionState { created_at: 0, last_active: 0 };
/// // Activity 30 s later is not written (debounced); 10 minutes later it is.
/// assert_eq!(policy.touch(&s, 30), None);
/// s = policy.touch(&s, 600).unwrap();
/// assert_eq!(policy.expires_at(&s), 4_200);
/// // However active, the session ends at its cap, and never after its token.
/// let busy = SessionState { created_at: 0, last_active: 86_000 };
/// assert_eq!(policy.effective_expiry(&busy, 90_000), 86_400);
/// assert_eq!(policy.effective_expiry(&busy, 86_100), 86_100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long (seconds) ends.
    pub idle_timeout: u64,
    /// A session ends this long (seconds) after it began, however active.
    pub absolute_cap: u64,
    /// Activity is recorded at most once per this many seconds.
    pub debounce: u64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_timeout: 7 * 86_400,
            absolute_cap: 30 * 86_400,
            debounce: 60,
        }
    }
}

/// What is stored about a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionState {
    /// When the session began.
    pub created_at: UnixTime,
    /// The last recorded activity.
    pub last_active: UnixTime,
}

impl SessionPolicy {
    /// When the session ends if nothing more happens: the earlier of idle timeout and cap.
    pub fn expires_at(&self, s: &SessionState) -> UnixTime {
        let idle = s.last_active.saturating_add(self.idle_timeout);
        let cap = s.created_at.saturating_add(self.absolute_cap);
        idle.min(cap)
    }

    /// The effective expiry of a token in this session: never later than the token's own
    /// `exp`, nor the session's idle timeout, nor its cap.
    pub fn effective_expiry(&self, s: &SessionState, token_exp: UnixTime) -> UnixTime {
        self.expires_at(s).min(token_exp)
    }

    /// Whether the session is still alive at `now` (the cap is checked first).
    pub fn check(&self, s: &SessionState, now: UnixTime) -> Result<(), Denial> {
        if now >= s.created_at.saturating_add(self.absolute_cap) {
            return Err(Denial::SessionCapReached {
                created_at: s.created_at,
                cap: self.absolute_cap,
            });
        }
        if now >= s.last_active.saturating_add(self.idle_timeout) {
            return Err(Denial::SessionIdle {
                last_active: s.last_active,
                idle_timeout: self.idle_timeout,
            });
        }
        Ok(())
    }

    /// Records activity at `now`: the new state to store, or `None` when the last write is
    /// younger than the debounce interval (or `now` is not later). Never moves the cap.
    pub fn touch(&self, s: &SessionState, now: UnixTime) -> Option<SessionState> {
        (now > s.last_active && now - s.last_active >= self.debounce).then_some(SessionState {
            created_at: s.created_at,
            last_active: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: SessionPolicy = SessionPolicy {
        idle_timeout: 100,
        absolute_cap: 1_000,
        debounce: 10,
    };

    #[test]
    fn idle_and_cap() {
        let s = SessionState {
            created_at: 0,
            last_active: 0,
        };
        assert_eq!(P.check(&s, 99), Ok(()));
        assert_eq!(P.check(&s, 100).unwrap_err().code(), "session_idle");
        let busy = SessionState {
            created_at: 0,
            last_active: 990,
        };
        assert_eq!(P.expires_at(&busy), 1_000);
        assert_eq!(
            P.check(&busy, 1_000).unwrap_err().code(),
            "session_cap_reached"
        );
        assert_eq!(P.effective_expiry(&busy, 995), 995);
        assert_eq!(P.effective_expiry(&busy, 5_000), 1_000);
    }

    #[test]
    fn touch_is_debounced() {
        let s = SessionState {
            created_at: 0,
            last_active: 50,
        };
        assert_eq!(P.touch(&s, 59), None);
        assert_eq!(
            P.touch(&s, 60),
            Some(SessionState {
                created_at: 0,
                last_active: 60
            })
        );
        assert_eq!(P.touch(&s, 40), None);
    }
}
