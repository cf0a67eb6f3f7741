//! The gate's DPoP and mTLS rules: request shape, proof against request and token, downgrade,
//! `required`, `off`, nonces, certificates, challenges.

use alloc::format;
use alloc::string::String;

use super::*;
use crate::dpop::tests::Signer256;
use crate::dpop::{DpopMode, NonceKey};
use crate::parse::parse;
use crate::revocation::StoreAnswers;
use crate::{b64, DpopError};

const NOW: UnixTime = 1_700_000_000;
const URL: &str = "https://api.example.com/orders?page=1";
const HTU: &str = "https://api.example.com/orders";

fn token(cnf: &str) -> (String, Token) {
    let claims = format!(
        r#"{{"sub":"alice","iat":{},"exp":{},"jti":"t-1"{cnf}}}"#,
        NOW - 10,
        NOW + 300
    );
    let jws = format!(
        "{}.{}.{}",
        b64::encode(br#"{"alg":"HS256"}"#),
        b64::encode(claims.as_bytes()),
        b64::encode(b"sig")
    );
    let t = parse(&jws).unwrap();
    (jws, t)
}

fn proof(s: &Signer256, method: &str, htu: &str, raw: &str, extra: &str) -> String {
    let ath = crate::dpop::tests_ath(raw);
    s.proof(&format!(
        r#"{{"jti":"p-1","htm":"{method}","htu":"{htu}","iat":{NOW},"ath":"{ath}"{extra}}}"#
    ))
}

fn jkt(s: &Signer256) -> String {
    crate::jwk_thumbprint(&crate::json::parse_object(s.jwk().as_bytes()).unwrap()).unwrap()
}

/// Admit, then (the signatures taken as verified) check and decide.
#[allow(clippy::result_large_err)]
fn run(gate: &Gate, facts: RequestFacts<'_>, t: &Token) -> Result<Forward, Refusal> {
    let request = match gate.admit(&facts) {
        Admission::Jwt { request, .. } => request,
        Admission::Deny(r) => return Err(r),
        other => panic!("unexpected {other:?}"),
    };
    if let Step::Done(Decision::Deny(r)) = gate.check_jwt(&request, t, NOW) {
        return Err(r);
    }
    match gate.decide_jwt(&request, t, &StoreAnswers::default(), NOW) {
        Decision::Forward(f) => Ok(f),
        Decision::Deny(r) => Err(r),
        Decision::Refresh(_) => panic!("refresh"),
    }
}

fn facts<'a>(auth: Option<&'a str>, dpop: Option<&'a str>) -> RequestFacts<'a> {
    RequestFacts {
        method: "GET",
        path: "/orders",
        url: URL,
        authorization: auth,
        dpop,
        ..RequestFacts::default()
    }
}

#[allow(clippy::result_large_err)]
fn code(r: Result<Forward, Refusal>) -> (u16, &'static str, String) {
    let r = r.unwrap_err();
    (
        r.denial.status(),
        r.denial.code(),
        r.challenge().unwrap_or_default(),
    )
}

#[test]
fn a_bound_token_with_a_fresh_proof_is_forwarded_with_its_thumbprint() {
    let s = Signer256::new(3);
    let (raw, t) = token(&format!(r#","cnf":{{"jkt":"{}"}}"#, jkt(&s)));
    let p = proof(&s, "GET", HTU, &raw, "");
    let auth = format!("DPoP {raw}");
    let f = run(&Gate::default(), facts(Some(&auth), Some(&p)), &t).unwrap();
    assert!(f.headers.contains(&("x-warden-cnf", "dpop".into())));
    assert!(f.headers.contains(&("x-warden-jkt", jkt(&s))));
    let Some(Binding::Dpop { replay, nonce, .. }) = f.binding else {
        panic!("no binding")
    };
    assert_eq!(replay.until, NOW + 60 + 30 + 1);
    assert_eq!(nonce, None);
    // The identity headers Warden sets are reserved: a client can never send them.
    assert!(is_reserved_header("x-warden-jkt") && is_reserved_header("X_Warden_Cnf"));
}

#[test]
fn request_shape() {
    let s = Signer256::new(3);
    let (raw, t) = token(&format!(r#","cnf":{{"jkt":"{}"}}"#, jkt(&s)));
    let p = proof(&s, "GET", HTU, &raw, "");
    let (dpop, bearer) = (format!("DPoP {raw}"), format!("Bearer {raw}"));
    let g = Gate::default();
    let refused = |auth: Option<&str>, proof: Option<&str>| code(run(&g, facts(auth, proof), &t));
    assert_eq!(
        refused(Some(&dpop), None).0,
        400,
        "DPoP scheme without a proof"
    );
    assert_eq!(refused(None, Some(&p)).0, 400, "a proof without a token");
    assert_eq!(
        refused(Some(&bearer), Some(&p)).0,
        400,
        "a proof with a Bearer token"
    );
    let two = format!("{p}, {p}");
    let (status, c, challenge) = refused(Some(&dpop), Some(&two));
    assert_eq!((status, c), (400, "invalid_request"));
    assert!(
        challenge.starts_with("DPoP error=\"invalid_request\""),
        "{challenge}"
    );
    assert_eq!(refused(Some(&dpop), Some("")).0, 400);
    let mut cookie = facts(None, Some(&p));
    cookie.cookies = Some("at=x");
    let g2 = Gate {
        access_cookie: Some("at".into()),
        ..Gate::default()
    };
    assert_eq!(
        code(run(&g2, cookie, &t)).0,
        400,
        "a proof next to a cookie session"
    );
    // The downgrade: a bound token as a bearer token, whatever WARDEN_DPOP says.
    for mode in [DpopMode::Allowed, DpopMode::Required, DpopMode::Off] {
        let g = Gate {
            dpop: DpopPolicy {
                mode,
                ..DpopPolicy::default()
            },
            ..Gate::default()
        };
        let (status, c, challenge) = code(run(&g, facts(Some(&bearer), None), &t));
        assert_eq!((status, c), (401, "dpop_bound_token_as_bearer"), "{mode:?}");
        assert!(
            challenge.starts_with("DPoP error=\"invalid_token\""),
            "{challenge}"
        );
    }
    // Off: any DPoP request is 400.
    let off = Gate {
        dpop: DpopPolicy {
            mode: DpopMode::Off,
            ..DpopPolicy::default()
        },
        ..Gate::default()
    };
    assert_eq!(
        code(run(&off, facts(Some(&dpop), Some(&p)), &t)).1,
        "invalid_request"
    );
    // A PAT cannot be DPoP-bound.
    let pat = format!("DPoP {DEFAULT_PAT_PREFIX}abc");
    assert_eq!(
        code(run(&g, facts(Some(&pat), Some(&p)), &t)).1,
        "dpop_key_mismatch"
    );
}

#[test]
fn proof_against_request_and_token() {
    let s = Signer256::new(3);
    let other = Signer256::new(4);
    let (raw, t) = token(&format!(r#","cnf":{{"jkt":"{}"}}"#, jkt(&s)));
    let auth = format!("DPoP {raw}");
    let g = Gate::default();
    let with = |p: &str| code(run(&g, facts(Some(&auth), Some(p)), &t));
    assert_eq!(
        with(&proof(&s, "POST", HTU, &raw, "")).1,
        "dpop_htm_mismatch"
    );
    assert_eq!(
        with(&proof(&s, "GET", "https://api.example.com/other", &raw, "")).1,
        "dpop_htu_mismatch"
    );
    assert_eq!(
        with(&proof(&s, "GET", HTU, "another.token.x", "")).1,
        "dpop_ath_mismatch"
    );
    let (c, challenge) = {
        let r = with(&proof(&other, "GET", HTU, &raw, ""));
        (r.1, r.2)
    };
    assert_eq!(c, "dpop_key_mismatch");
    assert!(challenge.starts_with(
        "DPoP error=\"invalid_dpop_proof\", error_description=\"the access token is not bound"
    ));
    assert!(challenge.ends_with("algs=\"ES256 EdDSA RS256 PS256\""));
    let bad = s.sign(&s.header().replace("dpop+jwt", "JWT"), "{}");
    assert_eq!(with(&bad).1, "dpop_proof_invalid");
    // An unbound token presented with DPoP is not bound to the proof's key.
    let (raw2, t2) = token("");
    let auth2 = format!("DPoP {raw2}");
    let p2 = proof(&s, "GET", HTU, &raw2, "");
    assert_eq!(
        code(run(&g, facts(Some(&auth2), Some(&p2)), &t2)).1,
        "dpop_key_mismatch"
    );
    // A token failure in a DPoP request keeps its code, with the DPoP challenge.
    let expired = {
        let claims = format!(
            r#"{{"sub":"a","iat":{},"exp":{},"cnf":{{"jkt":"{}"}}}}"#,
            NOW - 1000,
            NOW - 500,
            jkt(&s)
        );
        parse(&format!(
            "{}.{}.{}",
            b64::encode(br#"{"alg":"HS256"}"#),
            b64::encode(claims.as_bytes()),
            b64::encode(b"s")
        ))
        .unwrap()
    };
    let (_, c, challenge) = code(run(
        &g,
        facts(Some(&auth), Some(&proof(&s, "GET", HTU, &raw, ""))),
        &expired,
    ));
    assert_eq!(c, "token_expired");
    assert!(
        challenge.starts_with("DPoP error=\"invalid_token\""),
        "{challenge}"
    );
}

#[test]
fn required_mode_and_nonces() {
    let s = Signer256::new(3);
    let (raw, t) = token("");
    let required = Gate {
        dpop: DpopPolicy {
            mode: DpopMode::Required,
            ..DpopPolicy::default()
        },
        ..Gate::default()
    };
    let bearer = format!("Bearer {raw}");
    assert_eq!(
        code(run(&required, facts(Some(&bearer), None), &t)).1,
        "dpop_required"
    );
    let (_, c, challenge) = code(run(&required, facts(None, None), &t));
    assert_eq!(
        (c, challenge.as_str()),
        ("token_missing", "DPoP algs=\"ES256 EdDSA RS256 PS256\"")
    );
    // Allowed: an unbound bearer token is still a bearer token.
    assert!(run(&Gate::default(), facts(Some(&bearer), None), &t).is_ok());
    // ... and a request without credentials is challenged for a Bearer token only.
    let (_, c, challenge) = code(run(&Gate::default(), facts(None, None), &t));
    assert_eq!(c, "token_missing");
    assert!(challenge.starts_with("Bearer"), "{challenge}");

    let key = NonceKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let g = Gate {
        dpop: DpopPolicy {
            nonce: Some(key.clone()),
            ..DpopPolicy::default()
        },
        ..Gate::default()
    };
    let (raw, t) = token(&format!(r#","cnf":{{"jkt":"{}"}}"#, jkt(&s)));
    let auth = format!("DPoP {raw}");
    let r = run(
        &g,
        facts(Some(&auth), Some(&proof(&s, "GET", HTU, &raw, ""))),
        &t,
    )
    .unwrap_err();
    assert_eq!(r.denial, Denial::Dpop(DpopError::NonceMissing));
    assert_eq!(
        r.dpop.as_ref().and_then(|a| a.nonce.clone()),
        Some(key.current(NOW))
    );
    assert!(r
        .challenge()
        .unwrap()
        .starts_with("DPoP error=\"use_dpop_nonce\""));
    let nonce = format!(r#","nonce":"{}""#, key.current(NOW));
    let f = run(
        &g,
        facts(Some(&auth), Some(&proof(&s, "GET", HTU, &raw, &nonce))),
        &t,
    )
    .unwrap();
    let Some(Binding::Dpop { nonce, .. }) = f.binding else {
        panic!()
    };
    assert_eq!(
        nonce,
        Some(key.current(NOW)),
        "a success carries the current nonce"
    );
    // A proof refused for another reason gets no nonce: only the nonce errors carry one.
    let current = format!(r#","nonce":"{}""#, key.current(NOW));
    let elsewhere = proof(&s, "GET", "https://api.example.com/other", &raw, &current);
    let r = run(&g, facts(Some(&auth), Some(&elsewhere)), &t).unwrap_err();
    assert_eq!(r.denial, Denial::Dpop(DpopError::HtuMismatch));
    assert_eq!(r.dpop.as_ref().map(|a| a.nonce.clone()), Some(None));
    let stale = format!(r#","nonce":"{}""#, key.current(NOW - 60));
    let r = run(
        &g,
        facts(Some(&auth), Some(&proof(&s, "GET", HTU, &raw, &stale))),
        &t,
    )
    .unwrap_err();
    assert_eq!(r.denial.code(), "dpop_nonce_required");
}

#[test]
fn a_refusal_before_the_credential_answers_in_the_scheme_used() {
    // A path with two readings is refused before the credential is read: the challenge is DPoP's
    // when the request used DPoP (its `Authorization` scheme, or a `DPoP` header), else Bearer's.
    let (raw, _) = token("");
    let (dpop_auth, bearer) = (format!("DPoP {raw}"), format!("Bearer {raw}"));
    for (auth, proof, dpop) in [
        (Some(dpop_auth.as_str()), None, true),
        (Some(bearer.as_str()), Some("a.b.c"), true),
        (None, Some("a.b.c"), true),
        (Some(bearer.as_str()), None, false),
    ] {
        let mut f = facts(auth, proof);
        f.path = "/a/../orders";
        let Admission::Deny(r) = Gate::default().admit(&f) else {
            panic!("{auth:?} {proof:?}: admitted")
        };
        assert_eq!(r.denial.status(), 400, "{auth:?} {proof:?}");
        assert_eq!(r.dpop.is_some(), dpop, "{auth:?} {proof:?}");
    }
}

#[test]
fn a_refusal_after_admission_answers_in_the_request_scheme() {
    // The driver's own refusals (a store that cannot answer, a bad signature) carry a DPoP
    // challenge for a DPoP request only.
    let s = Signer256::new(3);
    let (raw, _) = token(&format!(r#","cnf":{{"jkt":"{}"}}"#, jkt(&s)));
    let (dpop_auth, bearer) = (format!("DPoP {raw}"), format!("Bearer {raw}"));
    let g = Gate::default();
    let admitted = |auth: &str, proof: Option<&str>| {
        let f = facts(Some(auth), proof);
        match g.admit(&f) {
            Admission::Jwt { request, .. } => g.refuse(&request, Denial::StoreUnavailable, NOW),
            other => panic!("{auth}: {other:?}"),
        }
    };
    let dpop = admitted(&dpop_auth, Some(&proof(&s, "GET", HTU, &raw, "")));
    assert_eq!(dpop.denial, Denial::StoreUnavailable);
    assert!(dpop.dpop.is_some());
    let plain = admitted(&bearer, None);
    assert!(plain.dpop.is_none());
}

#[test]
fn mtls_bound_tokens() {
    let fingerprint: String = (0u8..32).map(|b| format!("{b:02X}")).collect();
    let x5t = b64::encode(&(0u8..32).collect::<alloc::vec::Vec<u8>>());
    let (raw, t) = token(&format!(r#","cnf":{{"x5t#S256":"{x5t}"}}"#));
    let bearer = format!("Bearer {raw}");
    let g = Gate::default();
    let mut f = facts(Some(&bearer), None);
    f.client_cert = Some(&fingerprint);
    let ok = run(&g, f, &t).unwrap();
    assert!(ok.headers.contains(&("x-warden-cnf", "mtls".into())));
    assert_eq!(ok.binding, Some(Binding::Mtls));
    assert_eq!(
        code(run(&g, facts(Some(&bearer), None), &t)).1,
        "token_binding_mismatch"
    );
    let other = "ab".repeat(32);
    f.client_cert = Some(&other);
    let (status, c, challenge) = code(run(&g, f, &t));
    assert_eq!((status, c), (401, "token_binding_mismatch"));
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    // An unbound token does not care about a certificate.
    let (raw2, t2) = token("");
    let b2 = format!("Bearer {raw2}");
    let mut f2 = facts(Some(&b2), None);
    f2.client_cert = Some(&other);
    assert_eq!(run(&g, f2, &t2).unwrap().binding, None);
}

/// The certificate matters only to tokens whose `cnf` names one ([`crate::Cnf::names_certificate`]):
/// for every other token the decision is the same with or without it, so a driver may read
/// the certificate for those tokens alone.
#[test]
fn only_tokens_naming_a_certificate_depend_on_it() {
    let fingerprint: String = (0u8..32).map(|b| format!("{b:02X}")).collect();
    let x5t = b64::encode(&(0u8..32).collect::<alloc::vec::Vec<u8>>());
    let g = Gate::default();
    let cases = [
        ("", false),
        (r#","cnf":{}"#, false),
        (r#","cnf":{"jkt":"abc"}"#, false),
        (r#","cnf":"x5t#S256""#, false),
        (r#","cnf":{"x5t#S256s":"a"}"#, false),
        (&format!(r#","cnf":{{"x5t#S256":"{x5t}"}}"#), true),
        (r#","cnf":{"x5t#S256":""}"#, true),
        (r#","cnf":{"x5t#S256":7}"#, true),
    ];
    let mut unbound_allowed = 0;
    for (cnf, names) in cases {
        let (raw, t) = token(cnf);
        assert_eq!(t.claims.cnf.names_certificate(), names, "{cnf}");
        let bearer = format!("Bearer {raw}");
        let without = run(&g, facts(Some(&bearer), None), &t);
        let mut f = facts(Some(&bearer), None);
        f.client_cert = Some(&fingerprint);
        let with = run(&g, f, &t);
        if names {
            // Only the valid binding is allowed, and only with its certificate.
            assert!(without.is_err(), "{cnf}");
            assert_eq!(with.is_ok(), cnf.contains(&x5t), "{cnf}");
        } else {
            unbound_allowed += usize::from(without.is_ok());
            assert_eq!(with, without, "{cnf}");
        }
    }
    // Both outcomes were compared: the unbound token allowed, the others refused (a `cnf` that
    // names no method Warden checks is never read as unbound).
    assert_eq!(unbound_allowed, 1);
}
