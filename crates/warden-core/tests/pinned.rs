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

mod common;
use common::{b64, ec_key, hs256, policy, HMAC_SECRET, NOW};

use warden_core::{
    cookie_safe, parse, typ_matches, Algorithm, Claims, Denial, FailMode, JsonError, KeyError,
    KeyMaterial, KeySet, ParseError, Part, Policy, SessionPolicy, SessionState, SignatureError,
    Token, MAX_TOKEN_LEN,
};

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
    // (denial, status, RFC 6750 error, body error, Retry-After)
    type Answer = (Denial, u16, Option<&'static str>, &'static str, Option<u32>);
    let cases: [Answer; 8] = [
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
        (
            Denial::DiscoveryFailed,
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

/// `JsonError`'s `Display` (`fmt` → `Ok(())`): the reason an admin body or a JWKS was refused.
#[test]
fn json_errors_display_their_reason() {
    assert_eq!(JsonError::Syntax.to_string(), "not valid JSON");
    assert_eq!(JsonError::NotAnObject.to_string(), "not a JSON object");
    assert_eq!(
        JsonError::DuplicateKey.to_string(),
        "a JSON object repeats a key"
    );
}

/// `KeyMaterial`'s `Debug` (`fmt` → `Ok(())`): a key prints its kind and size, never its bytes.
#[test]
fn key_material_debug_names_kind_and_size_only() {
    let secret = vec![0xAB; 32];
    let mut n = vec![0u8; 256];
    n[0] = 0x80;
    let cases = [
        (KeyMaterial::Hmac(secret), "Hmac(32 bytes)"),
        (
            KeyMaterial::Rsa {
                n,
                e: vec![1, 0, 1],
            },
            "Rsa(2048 bits)",
        ),
        (
            KeyMaterial::Ec {
                x: vec![7; 32],
                y: vec![9; 32],
            },
            "Ec(32 bytes)",
        ),
        (KeyMaterial::Ed25519(vec![5; 32]), "Ed25519"),
    ];
    for (material, shown) in cases {
        let debug = format!("{material:?}");
        assert_eq!(debug, shown);
        // 0xAB, the secret's byte, as `Debug` of a `Vec<u8>` would print it.
        assert!(!debug.contains("171"), "{debug}");
    }
}

/// `SignatureError`'s `Display` (`fmt` → `Ok(())`): one fixed, opaque reason.
#[test]
fn signature_errors_display_one_opaque_reason() {
    assert_eq!(SignatureError.to_string(), "signature verification failed");
}

/// Why `KeySet::from_jwks` refused a one-key set.
fn refusal(jwks: &str) -> &'static str {
    match KeySet::from_jwks(jwks) {
        Err(KeyError::Key { reason, .. }) => reason,
        other => panic!("not a key refusal: {other:?}"),
    }
}

/// `>` → `>=` on the RSA exponent's length in `load_key`: an odd exponent of up to 8 significant
/// bytes (leading zeros aside) is accepted; 9 are refused.
#[test]
fn rsa_exponents_of_up_to_eight_bytes_are_accepted() {
    let jwks = |e: &[u8]| {
        format!(
            r#"{{"keys":[{{"kty":"RSA","alg":"RS256","n":"{}","e":"{}"}}]}}"#,
            b64(&[0xc5; 256]),
            b64(e)
        )
    };
    let eight = [1, 0, 0, 0, 0, 0, 0, 1];
    assert!(KeySet::from_jwks(&jwks(&eight)).is_ok());
    assert!(KeySet::from_jwks(&jwks(&[&[0, 0][..], &eight].concat())).is_ok());
    assert!(KeySet::from_jwks(&jwks(&[1, 0, 1])).is_ok());
    assert_eq!(
        refusal(&jwks(&[1, 0, 0, 0, 0, 0, 0, 0, 1])),
        "RSA exponent is invalid"
    );
}

/// `||` → `&&` in `load_key`'s EC coordinate check: *either* coordinate of the wrong width
/// refuses the key.
#[test]
fn ec_keys_need_both_coordinates_full_width() {
    let point = ec_key(7).verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().unwrap().to_vec(), point.y().unwrap().to_vec());
    let jwks = |x: &[u8], y: &[u8]| {
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}]}}"#,
            b64(x),
            b64(y)
        )
    };
    assert!(KeySet::from_jwks(&jwks(&x, &y)).is_ok());
    let wrong = "EC coordinates have the wrong length";
    assert_eq!(refusal(&jwks(&x, &y[1..])), wrong);
    assert_eq!(refusal(&jwks(&x[1..], &y)), wrong);
    assert_eq!(refusal(&jwks(&[&[0][..], &x].concat(), &y)), wrong);
    assert_eq!(refusal(&jwks(&x, &[&y[..], &[0]].concat())), wrong);
}

/// A token signed for the tests' HMAC key, with this header and these claims, parsed.
fn token(header: &str, claims: &str) -> Token {
    parse(&hs256(header, claims, HMAC_SECRET)).unwrap()
}

/// `Policy::check`'s age rule (`>` → `==`, `<`, `>=`): with `max_age`, a token is accepted up
/// to exactly `max_age` seconds after `iat`, and refused one second later.
#[test]
fn max_age_accepts_up_to_the_limit_and_no_further() {
    let policy = Policy {
        max_age: Some(300),
        ..Policy::default()
    };
    let at_age = |age: u64| {
        let claims = format!(r#"{{"iat":{},"exp":{}}}"#, NOW - age, NOW + 60);
        policy.check(&token(r#"{"alg":"HS256"}"#, &claims), NOW)
    };
    assert_eq!(at_age(0), Ok(()));
    assert_eq!(at_age(10), Ok(()));
    assert_eq!(at_age(300), Ok(()));
    assert_eq!(
        at_age(301),
        Err(Denial::TooOld {
            iat: NOW - 301,
            max_age: 300
        })
    );
    // Without `max_age`, age alone refuses nothing.
    let claims = format!(r#"{{"iat":{},"exp":{}}}"#, NOW - 80_000, NOW + 60);
    assert_eq!(
        Policy::default().check(&token(r#"{"alg":"HS256"}"#, &claims), NOW),
        Ok(())
    );
}

/// `>` → `==` / `>=` on `exp − now` in `Policy::check`: a token issued at the far edge of the
/// leeway with the full lifetime has `exp − now` of exactly cap + leeway, and is accepted.
#[test]
fn full_lifetime_issued_at_the_leeway_edge_is_accepted() {
    let p = Policy::default();
    let iat = NOW + p.leeway;
    let claims = format!(r#"{{"iat":{iat},"exp":{}}}"#, iat + p.max_lifetime);
    assert_eq!(p.check(&token(r#"{"alg":"HS256"}"#, &claims), NOW), Ok(()));
    let longer = format!(r#"{{"iat":{iat},"exp":{}}}"#, iat + p.max_lifetime + 1);
    assert!(matches!(
        p.check(&token(r#"{"alg":"HS256"}"#, &longer), NOW),
        Err(Denial::LifetimeTooLong { .. })
    ));
}

/// `Policy::is_refresh_token` (→ `true`): with an access `typ` required, only a token of another
/// or no `typ` is taken for a refresh token; without one, none is.
#[test]
fn refresh_tokens_are_told_apart_by_typ() {
    let claims = format!(r#"{{"iat":{},"exp":{}}}"#, NOW, NOW + 60);
    let typed = |typ: &str| token(&format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#), &claims);
    let untyped = token(r#"{"alg":"HS256"}"#, &claims);
    let access = policy();
    assert!(!access.is_refresh_token(&typed("at+jwt")));
    assert!(!access.is_refresh_token(&typed("application/AT+JWT")));
    assert!(access.is_refresh_token(&typed("refresh+jwt")));
    assert!(access.is_refresh_token(&untyped));
    let any = Policy::default();
    assert!(!any.is_refresh_token(&typed("refresh+jwt")));
    assert!(!any.is_refresh_token(&untyped));
}

/// `Part::name` (→ `""`, → `"xyzzy"`) and `ParseError`'s `Display` (`fmt` → `Ok(())`): the parse
/// error names the segment at fault.
#[test]
fn parse_errors_name_the_segment() {
    assert_eq!(
        ParseError::Base64(Part::Claims).to_string(),
        "claims is not canonical unpadded base64url"
    );
    assert_eq!(
        ParseError::Json(Part::Header).to_string(),
        "header is not a JSON object"
    );
    assert_eq!(
        ParseError::DuplicateKey(Part::Signature).to_string(),
        "signature has a duplicate JSON key"
    );
    assert_eq!(
        ParseError::TooLarge { len: 9000 }.to_string(),
        format!("token is 9000 bytes, over the {MAX_TOKEN_LEN}-byte limit")
    );
    assert_eq!(ParseError::Empty.to_string(), "token is empty");
}

/// The `application/` guard in `typ_matches` (→ `true`): only that prefix is ignored, not any
/// twelve leading bytes.
#[test]
fn typ_ignores_only_an_application_prefix() {
    assert!(typ_matches("application/at+jwt", "at+jwt"));
    assert!(typ_matches("at+jwt", "Application/AT+JWT"));
    assert!(!typ_matches("refreshtoken/at+jwt", "at+jwt"));
    assert!(!typ_matches("xxxxxxxxxxxxat+jwt", "at+jwt"));
    assert!(!typ_matches("at+jwt", "application/x+jwt"));
}

/// `>` → `>=` in `SessionPolicy::touch`: even without a debounce, activity at the instant
/// already recorded (or earlier) writes nothing.
#[test]
fn touch_without_debounce_writes_only_later_activity() {
    let policy = SessionPolicy {
        debounce: 0,
        ..SessionPolicy::default()
    };
    let s = SessionState {
        created_at: 100,
        last_active: 500,
    };
    assert_eq!(policy.touch(&s, 500), None);
    assert_eq!(policy.touch(&s, 499), None);
    assert_eq!(
        policy.touch(&s, 501),
        Some(SessionState {
            created_at: 100,
            last_active: 501
        })
    );
}

/// `||` → `&&` in `cookie_safe`: every RFC 6265 cookie-octet (printable ASCII but `"`, `,`, `;`
/// and `\`) is accepted — `!` and `#`–`+` included — and nothing else.
#[test]
fn cookie_safe_is_exactly_the_cookie_octets() {
    for b in 0u8..=0x7f {
        let octet = b.is_ascii_graphic() && !b"\",;\\".contains(&b);
        assert_eq!(
            cookie_safe(&format!("a{}b", char::from(b))),
            octet,
            "{b:#04x}"
        );
    }
    assert!(cookie_safe("!#$%&'()*+"));
}
