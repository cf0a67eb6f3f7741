//! Behaviours that `make mutants` (cargo-mutants over the whole core) found no test pinned: each
//! test here fails on the mutant its comment names and passes on the real code. The table in
//! docs/security.md ("Mutation testing") lists every missed mutant and the test that kills it.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use warden_core::{Algorithm, Claims, Denial, FailMode};

/// `Algorithm`'s `Display` (`fmt` → `Ok(())` prints nothing): error messages and audit lines
/// name the algorithm by it.
#[test]
fn algorithms_display_their_registered_names() {
    for alg in Algorithm::ALL {
        assert_eq!(alg.to_string(), alg.name());
        assert!(!alg.name().is_empty());
    }
    assert_eq!(format!("{}", Algorithm::EdDSA), "EdDSA");
}

/// `Claims::has_scope` (→ `true`, → `false`, `==` → `!=`): a scope is granted only when it is
/// one of the space-separated entries, whole.
#[test]
fn has_scope_matches_whole_entries_only() {
    let with = |scope: Option<&str>| Claims {
        scope: scope.map(String::from),
        ..Claims::default()
    };
    let c = with(Some("read write:orders"));
    assert!(c.has_scope("read"));
    assert!(c.has_scope("write:orders"));
    assert!(!c.has_scope("write"));
    assert!(!c.has_scope("rea"));
    assert!(!c.has_scope("admin"));
    assert!(!c.has_scope("read write:orders"));
    assert!(!with(None).has_scope("read"));
    assert!(with(Some("admin")).has_scope("admin"));
}

/// `Denial::error` (the `InsufficientScope` arm deleted: a 403 would say `invalid_token`), and
/// the rest of the RFC 6750 answer for each kind of refusal: status, `error`, the body's
/// `error`, `Retry-After` and `WWW-Authenticate`.
#[test]
fn each_refusal_has_its_rfc_6750_answer() {
    let scope = Denial::InsufficientScope {
        scope: "admin".into(),
    };
    assert_eq!(scope.status(), 403);
    assert_eq!(scope.error(), Some("insufficient_scope"));
    assert_eq!(scope.body_error(), "insufficient_scope");
    assert_eq!(
        scope.www_authenticate().as_deref(),
        Some(
            "Bearer error=\"insufficient_scope\", error_description=\"the token lacks a scope \
             this path requires\", scope=\"admin\""
        )
    );
    let cases: [(Denial, u16, Option<&str>, &str, Option<u32>); 7] = [
        (Denial::Missing, 401, None, "unauthorized", None),
        (
            Denial::InvalidRequest("two Authorization headers"),
            400,
            Some("invalid_request"),
            "invalid_request",
            None,
        ),
        (
            Denial::BadSignature,
            401,
            Some("invalid_token"),
            "invalid_token",
            None,
        ),
        (
            Denial::StoreUnavailable,
            503,
            None,
            "temporarily_unavailable",
            None,
        ),
        (
            Denial::RefreshUnavailable,
            503,
            None,
            "temporarily_unavailable",
            Some(1),
        ),
        (
            Denial::RefreshUpstream("down"),
            502,
            None,
            "bad_gateway",
            Some(1),
        ),
        (
            Denial::KeysUnavailable,
            503,
            None,
            "temporarily_unavailable",
            None,
        ),
    ];
    for (d, status, error, body, retry) in cases {
        assert_eq!(d.status(), status, "{d:?}");
        assert_eq!(d.error(), error, "{d:?}");
        assert_eq!(d.body_error(), body, "{d:?}");
        assert_eq!(d.retry_after(), retry, "{d:?}");
        assert_eq!(d.scope(), None, "{d:?}");
        assert_eq!(d.www_authenticate().is_none(), status >= 500, "{d:?}");
    }
    assert_eq!(
        Denial::Missing.www_authenticate().as_deref(),
        Some("Bearer")
    );
    assert_eq!(
        Denial::BadSignature.www_authenticate().as_deref(),
        Some("Bearer error=\"invalid_token\", error_description=\"signature verification failed\"")
    );
}

/// `Denial`'s `Display` (`fmt` → `Ok(())`): the audit line's reason, with the times that decided.
#[test]
fn denials_display_their_reason() {
    assert_eq!(
        Denial::Expired {
            exp: 1_700_000_000,
            now: 1_700_000_100
        }
        .to_string(),
        "token expired at 1700000000 (now 1700000100)"
    );
    assert_eq!(
        Denial::MissingClaim("exp").to_string(),
        "token has no `exp` claim"
    );
    assert_eq!(
        Denial::BadSignature.to_string(),
        "signature verification failed"
    );
}

/// `FailMode::name` (→ `""`, → `"xyzzy"`): the name the configuration and the audit line use.
#[test]
fn fail_modes_have_their_configuration_names() {
    assert_eq!(FailMode::Closed.name(), "closed");
    assert_eq!(FailMode::Open.name(), "open");
    assert_eq!(FailMode::default(), FailMode::Closed);
}
