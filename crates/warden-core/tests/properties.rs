//! Property tests: no input panics the parser; expiry arithmetic is monotonic; a session never
//! outlives its token or its cap.
#![cfg(not(target_arch = "wasm32"))]
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use warden_core::lifetime::{is_expired, seconds_left};
use warden_core::{parse, Policy, RevocationStatus, SessionPolicy, SessionState, MAX_NUMERIC_DATE};

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,64}",
        any::<Vec<u8>>().prop_map(|b| common::b64(&b)),
        "\\{(\"[a-z]{1,4}\":(\"[a-z]{0,4}\"|[0-9]{1,12}|null|true|\\[\\]|\\{\\}),?){0,6}\\}"
            .prop_map(|j| common::b64(j.as_bytes())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_bytes(bytes in any::<Vec<u8>>()) {
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parse_never_panics_on_token_shapes(h in segment(), c in segment(), s in segment(), dots in 0usize..5) {
        let token = format!("{h}.{c}.{s}{}", ".".repeat(dots));
        if let Ok(t) = parse(&token) {
            // Whatever parses evaluates without panicking, at any time.
            let _ = Policy::default().evaluate(&t, 0, RevocationStatus::NotRevoked);
            let _ = Policy::default().evaluate(&t, u64::MAX, RevocationStatus::NotRevoked);
        }
    }

    #[test]
    fn expiry_is_monotonic(exp in 0..=MAX_NUMERIC_DATE, now in 0..=MAX_NUMERIC_DATE, later in 0u64..1_000_000, leeway in 0u64..600) {
        if is_expired(exp, now, leeway) {
            prop_assert!(is_expired(exp, now + later, leeway));
        }
        prop_assert!(seconds_left(exp, now + later) <= seconds_left(exp, now));
        prop_assert_eq!(seconds_left(exp, now) + later as i64, seconds_left(exp + later, now));
    }

    #[test]
    fn allowed_tokens_respect_exp_and_cap(iat_off in 0u64..200_000, life in 0u64..200_000, now_off in 0u64..400_000) {
        let iat = common::NOW - 100_000 + iat_off;
        let exp = iat + life;
        let now = common::NOW - 100_000 + now_off;
        let token = common::hs256(common::HS_HEADER, &format!(r#"{{"iat":{iat},"exp":{exp}}}"#), common::HMAC_SECRET);
        let t = parse(&token).unwrap();
        let p = Policy::default();
        // Both ways: a grant exactly when every bound holds (so grants do happen here).
        let sound = now < exp + p.leeway
            && exp - iat <= p.max_lifetime
            && iat <= now + p.leeway
            && exp.saturating_sub(now) <= p.max_lifetime + p.leeway;
        match p.evaluate(&t, now, RevocationStatus::NotRevoked) {
            Ok(g) => {
                prop_assert!(sound);
                prop_assert_eq!(g.expires_at, exp);
            }
            Err(_) => prop_assert!(!sound),
        }
    }

    #[test]
    fn sessions_never_outlive_token_or_cap(
        created in 0u64..1_000_000, idle in 1u64..100_000, cap in 1u64..1_000_000, debounce in 0u64..1_000,
        steps in proptest::collection::vec(0u64..200_000, 0..20), token_exp in 0u64..3_000_000,
    ) {
        let p = SessionPolicy { idle_timeout: idle, absolute_cap: cap, debounce };
        let mut s = SessionState { created_at: created, last_active: created };
        let mut now = created;
        for step in steps {
            now += step;
            if p.check(&s, now).is_ok() {
                if let Some(next) = p.touch(&s, now) {
                    prop_assert_eq!(next.created_at, s.created_at);
                    prop_assert!(next.last_active >= s.last_active + debounce.min(next.last_active - s.last_active));
                    s = next;
                }
            }
            let eff = p.effective_expiry(&s, token_exp);
            prop_assert!(eff <= token_exp);
            prop_assert!(eff <= created + cap);
            prop_assert!(p.check(&s, now).is_ok() == (now < p.expires_at(&s)));
        }
    }
}
