//! Property tests: no input panics the parser; expiry arithmetic is monotonic; a session never
//! outlives its token or its cap. A property with a conditional half counts the cases where
//! that half ran and asserts it ran often (tokens that parse, grants and refusals, sessions
//! that slide), so it cannot pass by never reaching its case.
#![cfg(not(target_arch = "wasm32"))]
#![allow(missing_docs, clippy::unwrap_used)]

mod common;
mod counting;

use counting::run_counting;
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
    fn expiry_is_monotonic(exp in 0..=MAX_NUMERIC_DATE, now in 0..=MAX_NUMERIC_DATE, later in 0u64..1_000_000, leeway in 0u64..600) {
        if is_expired(exp, now, leeway) {
            prop_assert!(is_expired(exp, now + later, leeway));
        }
        prop_assert!(seconds_left(exp, now + later) <= seconds_left(exp, now));
        prop_assert_eq!(seconds_left(exp, now) + later as i64, seconds_left(exp + later, now));
    }
}

/// A header that parses, and a signature of the length its `alg` takes.
fn good_header_and_signature() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        Just((common::HS_HEADER, 32)),
        Just((r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#, 64)),
        Just((r#"{"alg":"HS512"}"#, 64)),
    ]
    .prop_flat_map(|(h, len)| {
        proptest::collection::vec(any::<u8>(), len)
            .prop_map(move |sig| (common::b64(h.as_bytes()), common::b64(&sig)))
    })
}

/// Claims that parse: registered claims with any values in range, and some without `exp`.
fn good_claims() -> impl Strategy<Value = String> {
    (
        0u64..4_000_000_000,
        0u64..4_000_000_000,
        proptest::option::of("[a-z]{1,8}"),
        any::<bool>(),
    )
        .prop_map(|(iat, exp, sub, with_exp)| {
            let sub = sub.map(|s| format!(r#","sub":"{s}""#)).unwrap_or_default();
            let exp = if with_exp {
                format!(r#","exp":{exp}"#)
            } else {
                String::new()
            };
            common::b64(format!(r#"{{"iat":{iat}{exp}{sub}}}"#).as_bytes())
        })
}

#[test]
fn parse_and_evaluate_never_panic_on_token_shapes() {
    let header_and_signature = prop_oneof![(segment(), segment()), good_header_and_signature()];
    let claims = prop_oneof![segment(), good_claims()];
    let dots = prop_oneof![Just(0usize), 0usize..5];
    let parsed = run_counting(
        2_000,
        (header_and_signature, claims, dots),
        |((h, s), c, dots)| {
            let token = format!("{h}.{c}.{s}{}", ".".repeat(dots));
            Ok(match parse(&token) {
                Ok(t) => {
                    // Whatever parses evaluates without panicking, at any time.
                    let _ = Policy::default().evaluate(&t, 0, RevocationStatus::NotRevoked);
                    let _ =
                        Policy::default().evaluate(&t, common::NOW, RevocationStatus::NotRevoked);
                    let _ = Policy::default().evaluate(&t, u64::MAX, RevocationStatus::NotRevoked);
                    true
                }
                Err(_) => false,
            })
        },
    );
    // The evaluation half must really run: a good share of the cases parse.
    assert!(parsed >= 200, "only {parsed} of 2,000 token shapes parsed");
}

#[test]
fn allowed_tokens_respect_exp_and_cap() {
    let p = Policy::default();
    let outcomes = std::cell::Cell::new((0u32, 0u32)); // (granted, refused)
    run_counting(
        2_000,
        // Lifetimes on both sides of the cap, clocks from before `iat` to after `exp`: about
        // 30% of the cases are grants.
        (0u64..200_000, 0u64..100_000, 0u64..122_000),
        |(iat_off, life, now_off)| {
            let iat = common::NOW - 100_000 + iat_off;
            let exp = iat + life;
            let now = iat - 2_000 + now_off;
            let token = common::hs256(
                common::HS_HEADER,
                &format!(r#"{{"iat":{iat},"exp":{exp}}}"#),
                common::HMAC_SECRET,
            );
            let t = parse(&token).unwrap();
            // Both ways: a grant exactly when every bound holds.
            let sound = now < exp + p.leeway
                && exp - iat <= p.max_lifetime
                && iat <= now + p.leeway
                && exp.saturating_sub(now) <= p.max_lifetime + p.leeway;
            let (granted, refused) = outcomes.get();
            match p.evaluate(&t, now, RevocationStatus::NotRevoked) {
                Ok(g) => {
                    prop_assert!(sound);
                    prop_assert_eq!(g.expires_at, exp);
                    outcomes.set((granted + 1, refused));
                }
                Err(_) => {
                    prop_assert!(!sound);
                    outcomes.set((granted, refused + 1));
                }
            }
            Ok(true)
        },
    );
    // Both directions are exercised, not just one.
    let (granted, refused) = outcomes.get();
    assert!(
        granted >= 100 && refused >= 100,
        "granted {granted}, refused {refused} of 2,000"
    );
}

#[test]
fn sessions_never_outlive_token_or_cap() {
    let strategy = (
        (0u64..1_000_000, 1u64..100_000, 1u64..1_000_000, 0u64..1_000),
        proptest::collection::vec(0u64..200_000, 0..20),
        0u64..3_000_000,
    );
    let touched = run_counting(
        2_000,
        strategy,
        |((created, idle, cap, debounce), steps, token_exp)| {
            let p = SessionPolicy {
                idle_timeout: idle,
                absolute_cap: cap,
                debounce,
            };
            let mut s = SessionState {
                created_at: created,
                last_active: created,
            };
            let mut now = created;
            let mut any_touch = false;
            for step in steps {
                now += step;
                if p.check(&s, now).is_ok() {
                    if let Some(next) = p.touch(&s, now) {
                        prop_assert_eq!(next.created_at, s.created_at);
                        prop_assert!(
                            next.last_active
                                >= s.last_active + debounce.min(next.last_active - s.last_active)
                        );
                        s = next;
                        any_touch = true;
                    }
                }
                let eff = p.effective_expiry(&s, token_exp);
                prop_assert!(eff <= token_exp);
                prop_assert!(eff <= created + cap);
                prop_assert!(p.check(&s, now).is_ok() == (now < p.expires_at(&s)));
            }
            Ok(any_touch)
        },
    );
    // Sessions really slide in these cases: the touch half of the property runs.
    assert!(
        touched >= 200,
        "a session was touched in only {touched} of 2,000 cases"
    );
}
