//! Claims evaluation end to end, from JSON: the input is a JWS header and a payload (split at
//! the first NUL; without one, the payload under a fixed ES256 header), made into a compact token
//! and run through the strict parser, then through `Policy::check` / `evaluate` /
//! `evaluate_with_refresh` at times around the token's own `iat`/`nbf`/`exp` and at extremes,
//! with every revocation answer, and into the identity headers the worker sends the origin.
//!
//! Properties: an Allow only for a token whose `exp`/`iat`/`nbf`, lifetime, issuer, audience,
//! type and age all pass, never when revoked or when the store is unavailable (503); `evaluate`
//! never asks for a refresh; a definite revocation wins over a failed lookup; denials render
//! RFC 6750-safe headers; identity header values are printable ASCII that decode back exactly.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use warden_core::{
    parse, Fact, Policy, RevocationIds, RevocationReason, RevocationStatus, StoreAnswers,
    Unavailable, Verdict,
};
use warden_core::identity_headers;

const HEADER: &str = r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#;

fn percent_decode(v: &str) -> Vec<u8> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            assert!(i + 2 < b.len(), "a truncated %-escape in a header value");
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits after %"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn check_verdict(v: &Verdict) {
    if let Verdict::Deny(d) = v {
        assert!(matches!(d.status(), 400 | 401 | 403 | 503));
        assert!(!d.code().is_empty() && d.code().is_ascii());
        let desc = d.description();
        assert!(desc
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'));
        match d.www_authenticate() {
            Some(h) => assert!(d.status() != 503 && h.bytes().all(|b| (0x20..0x7f).contains(&b))),
            None => assert_eq!(d.status(), 503),
        }
        let _ = d.to_string();
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (header, payload) = text.split_once('\0').unwrap_or((HEADER, text));
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    );
    let Ok(token) = parse(&token) else { return };
    let c = token.claims.clone();

    let strict = Policy {
        issuer: Some("https://issuer.test".into()),
        audiences: vec!["api".into(), "web".into()],
        leeway: 5,
        max_lifetime: 3600,
        max_age: Some(600),
        typ: Some("at+jwt".into()),
        refresh_window: 60,
    };
    let zero = Policy {
        leeway: 0,
        ..Policy::default()
    };
    let policies = [Policy::default(), strict, zero];

    let mut nows = vec![0, 1, 1_700_000_000, 253_402_300_799, u64::MAX];
    for t in [c.iat, c.nbf, c.exp].into_iter().flatten() {
        for d in [0u64, 1, 5, 29, 30, 31, 60] {
            nows.push(t.saturating_add(d));
            nows.push(t.saturating_sub(d));
        }
    }

    let reasons = [
        RevocationStatus::Revoked(RevocationReason::TokenId),
        RevocationStatus::Revoked(RevocationReason::SubjectCutoff { before: 1 }),
        RevocationStatus::Unavailable,
    ];
    for p in &policies {
        for &now in &nows {
            let checked = p.check(&token, now);
            let allowed = match p.evaluate(&token, now, RevocationStatus::NotRevoked) {
                Ok(g) => Verdict::Allow(g),
                Err(d) => Verdict::Deny(d),
            };
            check_verdict(&allowed);
            // `evaluate` never asks for a refresh: it is `evaluate_with_refresh` without one.
            assert_eq!(
                allowed,
                p.evaluate_with_refresh(&token, now, RevocationStatus::NotRevoked, false)
            );
            if let Verdict::Allow(g) = &allowed {
                assert!(checked.is_ok());
                let (exp, iat) = (c.exp.expect("exp required"), c.iat.expect("iat required"));
                assert!(
                    now < exp.saturating_add(p.leeway),
                    "allowed after exp + leeway"
                );
                assert!(iat <= now.saturating_add(p.leeway), "allowed before iat");
                assert!(c.nbf.is_none_or(|nbf| nbf <= now.saturating_add(p.leeway)));
                assert!(exp >= iat && exp - iat <= p.max_lifetime);
                assert!(exp.saturating_sub(now) <= p.max_lifetime.saturating_add(p.leeway));
                assert!(p.max_age.is_none_or(|a| now.saturating_sub(iat) <= a));
                if let Some(iss) = &p.issuer {
                    assert_eq!(c.iss.as_ref(), Some(iss));
                }
                if !p.audiences.is_empty() {
                    assert!(c.aud.iter().any(|a| p.audiences.contains(a)));
                }
                if p.typ.is_some() {
                    assert!(token.header.typ.is_some());
                }
                assert_eq!(
                    (g.expires_at, &g.subject, &g.token_id),
                    (exp, &c.sub, &c.jti)
                );

                // What the origin receives: printable ASCII only, decoding back exactly.
                for (name, value) in identity_headers(Some(g), Some("origin-secret")) {
                    assert!(
                        value.bytes().all(|b| (0x20..0x7f).contains(&b)),
                        "{name}: {value:?}"
                    );
                    let original = match name {
                        "x-warden-sub" => g.subject.clone(),
                        "x-warden-sid" => g.session.clone(),
                        "x-warden-jti" => g.token_id.clone(),
                        _ => None,
                    };
                    if let Some(original) = original {
                        assert_eq!(percent_decode(&value), original.as_bytes(), "{name}");
                    }
                }
            } else {
                assert!(checked.is_err() || !matches!(allowed, Verdict::Allow(_)));
            }
            for status in reasons {
                for can_refresh in [false, true] {
                    let v = p.evaluate_with_refresh(&token, now, status, can_refresh);
                    check_verdict(&v);
                    match v {
                        Verdict::Allow(_) | Verdict::Refresh(_) => {
                            panic!("{status:?} gave {v:?}")
                        }
                        Verdict::Deny(d) if checked.is_ok() => {
                            let want = if status == RevocationStatus::Unavailable {
                                "store_unavailable"
                            } else {
                                "token_revoked"
                            };
                            assert_eq!(d.code(), want);
                        }
                        Verdict::Deny(_) => {}
                    }
                }
            }
            if let Verdict::Refresh(h) =
                p.evaluate_with_refresh(&token, now, RevocationStatus::NotRevoked, true)
            {
                assert_eq!(
                    (h.expires_at, &h.session),
                    (c.exp.unwrap_or_default(), &c.sid)
                );
            }
        }
    }

    // The store's answers: a definite revocation wins; otherwise any failed lookup is a 503.
    let ids = RevocationIds::of(&token);
    let facts = [Fact::Absent, Fact::Present, Fact::Unknown];
    let cutoffs = [
        Ok(None),
        Ok(c.iat),
        Ok(c.iat.map(|i| i.saturating_sub(1))),
        Err(Unavailable),
    ];
    for jti in facts {
        for sid in facts {
            for kid in facts {
                for cutoff in cutoffs {
                    let answers = StoreAnswers {
                        jti,
                        sid,
                        kid,
                        subject_cutoff: cutoff,
                    };
                    let cut = match cutoff {
                        Ok(Some(before)) => ids.iat.is_none_or(|iat| iat <= before),
                        _ => false,
                    };
                    let status = ids.interpret(&answers);
                    if [jti, sid, kid].contains(&Fact::Present) || cut {
                        assert!(
                            matches!(status, RevocationStatus::Revoked(_)),
                            "{answers:?}"
                        );
                    } else if [jti, sid, kid].contains(&Fact::Unknown) || cutoff.is_err() {
                        assert_eq!(status, RevocationStatus::Unavailable);
                    } else {
                        assert_eq!(status, RevocationStatus::NotRevoked);
                    }
                }
            }
        }
    }
});
