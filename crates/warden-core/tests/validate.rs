//! The validation pipeline end to end: parse, verify, evaluate.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use warden_core::{
    parse, Denial, JwtVerifier, KeySet, ParseError, Policy, RevocationReason, RevocationStatus,
    TokenClass, Verdict,
};

fn run(jwks: &str, token: &str, now: u64) -> Result<Verdict, Denial> {
    let keys = KeySet::from_jwks(jwks).unwrap();
    let t = parse(token).map_err(Denial::Malformed)?;
    keys.verify(&t, &JwtVerifier)?;
    Ok(
        match policy().evaluate(&t, now, RevocationStatus::NotRevoked) {
            Ok(grant) => Verdict::Allow(grant),
            Err(d) => Verdict::Deny(d),
        },
    )
}

#[test]
fn hs256_and_es256_allow() {
    for (jwks, token) in [
        (hmac_jwks(), hs256(HS_HEADER, &claims(), HMAC_SECRET)),
        (ec_jwks(), es256(ES_HEADER, &claims(), &ec_key(7))),
    ] {
        let v = run(&jwks, &token, NOW).unwrap();
        let g = v.grant().expect("allowed");
        assert_eq!(g.subject.as_deref(), Some("alice"));
        assert_eq!(g.session.as_deref(), Some("s-1"));
        assert_eq!(g.token_id.as_deref(), Some("t-1"));
        assert_eq!(g.class, TokenClass::Access);
        assert_eq!(g.expires_at, NOW + 600);
    }
}

#[test]
fn wrong_key_or_tampered_token_is_bad_signature() {
    let other = es256(ES_HEADER, &claims(), &ec_key(8));
    assert_eq!(run(&ec_jwks(), &other, NOW), Err(Denial::BadSignature));
    let wrong_secret = hs256(HS_HEADER, &claims(), b"another-secret-another-secret-xx");
    assert_eq!(
        run(&hmac_jwks(), &wrong_secret, NOW),
        Err(Denial::BadSignature)
    );
    // Swap in other claims under the original signature.
    let good = es256(ES_HEADER, &claims(), &ec_key(7));
    let sig = good.rsplit('.').next().unwrap();
    let forged_claims = claims().replace("alice", "mallory");
    let forged = format!(
        "{}.{}.{sig}",
        b64(ES_HEADER.as_bytes()),
        b64(forged_claims.as_bytes())
    );
    assert_eq!(run(&ec_jwks(), &forged, NOW), Err(Denial::BadSignature));
}

#[test]
fn unknown_kid_and_algorithm_mismatch() {
    let t = hs256(r#"{"alg":"HS256","kid":"nope"}"#, &claims(), HMAC_SECRET);
    assert_eq!(run(&hmac_jwks(), &t, NOW), Err(Denial::UnknownKey));
    let t = hs256(r#"{"alg":"HS384","kid":"h1"}"#, &claims(), HMAC_SECRET);
    assert_eq!(run(&hmac_jwks(), &t, NOW), Err(Denial::AlgorithmNotAllowed));
}

fn deny(token_claims: &str, now: u64) -> Denial {
    let token = hs256(HS_HEADER, token_claims, HMAC_SECRET);
    run(&hmac_jwks(), &token, now)
        .unwrap()
        .denial()
        .cloned()
        .expect("denied")
}

#[test]
fn expiry_with_explicit_leeway() {
    let exp = NOW + 600;
    assert!(run(
        &hmac_jwks(),
        &hs256(HS_HEADER, &claims(), HMAC_SECRET),
        exp + 29
    )
    .unwrap()
    .grant()
    .is_some());
    assert_eq!(
        deny(&claims(), exp + 30),
        Denial::Expired { exp, now: exp + 30 }
    );
    let strict = Policy {
        leeway: 0,
        ..policy()
    };
    let t = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    let parsed = parse(&t).unwrap();
    assert_eq!(
        strict.evaluate(&parsed, exp, RevocationStatus::NotRevoked),
        Err(Denial::Expired { exp, now: exp })
    );
}

#[test]
fn not_before_and_issued_in_future() {
    let c = format!(
        r#"{{"iss":"https://issuer.test","aud":"api","iat":{NOW},"nbf":{},"exp":{}}}"#,
        NOW + 100,
        NOW + 600
    );
    assert_eq!(
        deny(&c, NOW),
        Denial::NotYetValid {
            nbf: NOW + 100,
            now: NOW
        }
    );
    assert!(matches!(deny(&c, NOW + 69), Denial::NotYetValid { .. }));
    let c = format!(
        r#"{{"iss":"https://issuer.test","aud":"api","iat":{},"exp":{}}}"#,
        NOW + 31,
        NOW + 600
    );
    assert_eq!(
        deny(&c, NOW),
        Denial::IssuedInFuture {
            iat: NOW + 31,
            now: NOW
        }
    );
}

#[test]
fn issuer_audience_and_type() {
    assert_eq!(
        deny(&claims().replace("issuer.test", "evil.test"), NOW),
        Denial::WrongIssuer
    );
    assert_eq!(
        deny(
            &claims().replace(r#""iss":"https://issuer.test","#, ""),
            NOW
        ),
        Denial::WrongIssuer
    );
    assert_eq!(
        deny(
            &claims().replace(r#""aud":"api""#, r#""aud":["web","admin"]"#),
            NOW
        ),
        Denial::WrongAudience
    );
    assert_eq!(
        deny(&claims().replace(r#""aud":"api","#, ""), NOW),
        Denial::WrongAudience
    );
    let ok = claims().replace(r#""aud":"api""#, r#""aud":["web","api"]"#);
    assert!(run(&hmac_jwks(), &hs256(HS_HEADER, &ok, HMAC_SECRET), NOW)
        .unwrap()
        .grant()
        .is_some());
    let t = hs256(
        r#"{"alg":"HS256","kid":"h1","typ":"JWT"}"#,
        &claims(),
        HMAC_SECRET,
    );
    assert_eq!(
        run(&hmac_jwks(), &t, NOW).unwrap().denial(),
        Some(&Denial::WrongType)
    );
    let t = hs256(
        r#"{"alg":"HS256","kid":"h1","typ":"application/AT+JWT"}"#,
        &claims(),
        HMAC_SECRET,
    );
    assert!(run(&hmac_jwks(), &t, NOW).unwrap().grant().is_some());
}

#[test]
fn exp_and_iat_required_and_lifetime_capped() {
    assert_eq!(
        deny(
            &claims().replace(&format!(r#","exp":{}"#, NOW + 600), ""),
            NOW
        ),
        Denial::MissingClaim("exp")
    );
    assert_eq!(
        deny(
            &claims().replace(&format!(r#","iat":{}"#, NOW - 60), ""),
            NOW
        ),
        Denial::MissingClaim("iat")
    );
    let c = format!(
        r#"{{"iss":"https://issuer.test","aud":"api","iat":{NOW},"exp":{}}}"#,
        NOW + 86_401
    );
    assert_eq!(
        deny(&c, NOW),
        Denial::LifetimeTooLong {
            lifetime: 86_401,
            cap: 86_400
        }
    );
}

#[test]
fn revocation_and_store_outcomes() {
    let t = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    let parsed = parse(&t).unwrap();
    let revoked = policy().evaluate(
        &parsed,
        NOW,
        RevocationStatus::Revoked(RevocationReason::TokenId),
    );
    let d = revoked.unwrap_err();
    assert_eq!((d.code(), d.status()), ("token_revoked", 401));
    let down = policy().evaluate(&parsed, NOW, RevocationStatus::Unavailable);
    let d = down.unwrap_err();
    assert_eq!(
        (d.code(), d.status(), d.www_authenticate()),
        ("store_unavailable", 503, None)
    );
    // An expired token is reported as expired (and its claims stay readable for refresh).
    let late = policy().evaluate(&parsed, NOW + 700, RevocationStatus::Unavailable);
    assert_eq!(late.unwrap_err().code(), "token_expired");
    assert_eq!(parsed.claims.sid.as_deref(), Some("s-1"));
}

#[test]
fn rfc6750_mapping() {
    let expired = Denial::Expired { exp: 1, now: 2 };
    assert_eq!(expired.status(), 401);
    assert_eq!(
        expired.www_authenticate().unwrap(),
        r#"Bearer error="invalid_token", error_description="token expired""#
    );
    assert_eq!(Denial::Missing.www_authenticate().unwrap(), "Bearer");
    assert_eq!(Denial::Missing.status(), 401);
    let bad = Denial::InvalidRequest("two Authorization headers");
    assert_eq!(bad.status(), 400);
    assert!(bad
        .www_authenticate()
        .unwrap()
        .starts_with(r#"Bearer error="invalid_request""#));
    assert_eq!(Denial::Malformed(ParseError::SegmentCount).status(), 401);
    for d in [
        Denial::BadSignature,
        Denial::UnknownKey,
        Denial::Malformed(ParseError::AlgorithmNone),
        expired,
    ] {
        let header = d.www_authenticate().unwrap();
        assert!(header.contains(r#"error="invalid_token""#), "{header}");
        assert!(d
            .description()
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'));
    }
}

#[test]
fn refresh_only_for_sound_tokens_when_the_caller_can() {
    let t = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    let parsed = parse(&t).unwrap();
    let p = Policy {
        refresh_window: 15,
        ..policy()
    };
    let late = NOW + 600 + 30;
    match p.evaluate_with_refresh(&parsed, late, RevocationStatus::NotRevoked, true) {
        Verdict::Refresh(h) => {
            assert_eq!(
                (
                    h.session.as_deref(),
                    h.subject.as_deref(),
                    h.expires_at,
                    h.expired
                ),
                (Some("s-1"), Some("alice"), NOW + 600, true)
            );
        }
        other => panic!("{other:?}"),
    }
    // Without a way to refresh, the same token is simply expired.
    assert_eq!(
        p.evaluate_with_refresh(&parsed, late, RevocationStatus::NotRevoked, false)
            .denial()
            .map(Denial::code),
        Some("token_expired")
    );
    // Inside the window: refresh ahead of time.
    let soon = NOW + 600 - 10;
    assert!(
        matches!(p.evaluate_with_refresh(&parsed, soon, RevocationStatus::NotRevoked, true), Verdict::Refresh(h) if !h.expired)
    );
    assert!(p
        .evaluate_with_refresh(&parsed, NOW, RevocationStatus::NotRevoked, true)
        .grant()
        .is_some());
    // A revoked session or a store that cannot answer is never refreshed.
    let revoked = RevocationStatus::Revoked(RevocationReason::Session);
    assert_eq!(
        p.evaluate_with_refresh(&parsed, late, revoked, true)
            .denial()
            .map(Denial::code),
        Some("token_revoked")
    );
    assert_eq!(
        p.evaluate_with_refresh(&parsed, late, RevocationStatus::Unavailable, true)
            .denial()
            .map(Denial::status),
        Some(503)
    );
    // Any other fault is not refreshable.
    let wrong_iss = hs256(
        HS_HEADER,
        &claims().replace("issuer.test", "evil.test"),
        HMAC_SECRET,
    );
    let wrong_iss = parse(&wrong_iss).unwrap();
    assert_eq!(
        p.evaluate_with_refresh(&wrong_iss, late, RevocationStatus::NotRevoked, true)
            .denial(),
        Some(&Denial::WrongIssuer)
    );
}

#[test]
fn malleated_twin_has_the_same_revocation_ids() {
    use warden_core::{Fact, RevocationIds, StoreAnswers};
    let t = es256(ES_HEADER, &claims(), &ec_key(7));
    let parsed = parse(&t).unwrap();
    let ids = RevocationIds::of(&parsed);
    assert_eq!(
        (ids.jti, ids.sid, ids.sub, ids.iat, ids.kid),
        (
            Some("t-1"),
            Some("s-1"),
            Some("alice"),
            Some(NOW - 60),
            Some("e1")
        )
    );
    let answers = StoreAnswers {
        jti: Fact::Present,
        ..Default::default()
    };
    assert_eq!(
        ids.interpret(&answers),
        RevocationStatus::Revoked(RevocationReason::TokenId)
    );
}
