//! The gate's rules, natively: admission, JWT and PAT decisions, refresh outcomes.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use super::*;
use crate::parse::parse;
use crate::revocation::Fact;

const NOW: UnixTime = 1_700_000_000;

fn gate() -> Gate {
    Gate {
        paths: PathRules::parse(Some("/health,/public/"), Some("/admin=admin")).unwrap(),
        access_cookie: Some("at".into()),
        refresh_cookie: Some("rt".into()),
        origin_secret: Some("origin-secret".into()),
        ..Gate::default()
    }
}

fn facts<'a>(
    path: &'a str,
    authorization: Option<&'a str>,
    cookies: Option<&'a str>,
) -> RequestFacts<'a> {
    RequestFacts {
        method: "GET",
        path,
        authorization,
        cookies,
        cors_request_method: false,
        url: "https://api.example.com/",
        ..RequestFacts::default()
    }
}

/// An unsigned token with these claims (the gate never checks signatures: the driver does).
fn token(claims: &str) -> Token {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jws = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","kid":"k1"}"#),
        b64(claims),
        b64("sig")
    );
    parse(&jws).unwrap()
}

fn claims(sub: &str, extra: &str) -> String {
    format!(
        r#"{{"sub":{},"iat":{},"exp":{},"jti":"j-1","sid":"s-1"{extra}}}"#,
        serde_json::to_string(sub).unwrap(),
        NOW - 10,
        NOW + 300
    )
}

fn request(gate: &Gate, f: RequestFacts<'static>) -> (Request<'static>, &'static str) {
    match gate.admit(&f) {
        Admission::Jwt { token, request } => (request, token),
        other => panic!("not a JWT request: {other:?}"),
    }
}

fn denied(d: Decision) -> Refusal {
    match d {
        Decision::Deny(r) => r,
        other => panic!("not a denial: {other:?}"),
    }
}

fn lookup<'t>(s: Step<'t>) -> RevocationIds<'t> {
    match s {
        Step::Lookup(ids) => ids,
        Step::Done(d) => panic!("decided already: {d:?}"),
    }
}

fn done(s: Step<'_>) -> Refusal {
    match s {
        Step::Done(d) => denied(d),
        Step::Lookup(ids) => panic!("asks for a lookup: {ids:?}"),
    }
}

fn forwarded(d: Decision) -> Forward {
    match d {
        Decision::Forward(f) => f,
        other => panic!("not forwarded: {other:?}"),
    }
}

#[test]
fn paths_are_refused_before_any_routing() {
    let g = gate();
    for path in [
        "/public/x%3B/../admin",
        "/public/a%3Bb",
        "/health%3B",
        "/admin%5Cusers",
        "/_warden%2Frevoke",
        "/x%2F..%2Fadmin",
        "/a;b",
        "//admin",
    ] {
        for auth in [None, Some("Bearer a.b.c"), Some("Basic dTpw")] {
            match g.admit(&facts(path, auth, None)) {
                Admission::Deny(r) => {
                    assert_eq!(
                        (r.denial.status(), r.denial.code()),
                        (400, "invalid_request")
                    )
                }
                other => panic!("{path}: {other:?}"),
            }
        }
    }
}

#[test]
fn admission_routes_and_credentials() {
    let g = gate();
    let admit = |path, auth, cookies| g.admit(&facts(path, auth, cookies));
    assert_eq!(
        admit("/_warden/revoke", Some("Bearer x"), None),
        Admission::Admin
    );
    assert_eq!(admit("/_warden", None, None), Admission::Admin);
    assert_eq!(admit("/health", None, None), Admission::Forward);
    // Public paths keep their own Authorization, but never two.
    assert_eq!(
        admit("/public/x", Some("Basic dTpw"), None),
        Admission::Forward
    );
    assert!(matches!(
        admit("/public/x", Some("Basic dTpw, Bearer a.b.c"), None),
        Admission::Deny(r) if r.denial.status() == 400
    ));
    assert!(matches!(
        admit("/api", None, None),
        Admission::Deny(r) if r.denial == Denial::Missing
    ));
    // A foreign scheme next to an access cookie: no credential, the cookie is not used.
    assert!(matches!(
        admit("/api", Some("Basic dTpw"), Some("at=a.b.c")),
        Admission::Deny(r) if r.denial == Denial::Missing
    ));
    assert!(matches!(
        admit("/api", Some("Bearer a.b.c"), None),
        Admission::Jwt { token: "a.b.c", .. }
    ));
    assert!(matches!(
        admit("/api", Some("Bearer wdn_pat_x"), None),
        Admission::Pat {
            token: "wdn_pat_x",
            ..
        }
    ));
    // The refresh cookie counts only for a cookie session.
    match admit("/api", None, Some("at=a.b.c; rt=r1")) {
        Admission::Jwt { request, .. } => {
            assert_eq!(
                (request.source, request.refresh_token),
                (Some(Source::Cookie), Some("r1"))
            )
        }
        other => panic!("{other:?}"),
    }
    match admit("/api", Some("Bearer a.b.c"), Some("rt=r1")) {
        Admission::Jwt { request, .. } => assert_eq!(request.refresh_token, None),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        admit("/api", None, Some("rt=r1")),
        Admission::Refresh {
            refresh_token: "r1",
            ..
        }
    ));
    assert!(matches!(
        admit("/api", None, Some("rt=1; rt=2")),
        Admission::Deny(r) if r.denial.status() == 400
    ));
    // A credential-less CORS preflight is forwarded; with credentials it is checked.
    let preflight = RequestFacts {
        method: "OPTIONS",
        cors_request_method: true,
        ..facts("/api", None, None)
    };
    assert_eq!(g.admit(&preflight), Admission::Forward);
    let with_token = RequestFacts {
        authorization: Some("Bearer a.b.c"),
        ..preflight
    };
    assert!(matches!(g.admit(&with_token), Admission::Jwt { .. }));
    // Without refresh at the edge, a refresh cookie alone is no credential.
    let off = Gate {
        refresh_cookie: None,
        ..gate()
    };
    assert!(matches!(
        off.admit(&facts("/api", None, Some("rt=r1"))),
        Admission::Deny(_)
    ));
}

#[test]
fn jwt_forward_carries_exact_identity() {
    let g = gate();
    let t = token(&claims("alice", r#","scope":"read admin""#));
    let (req, _) = request(&g, facts("/admin/users", Some("Bearer x.y.z"), None));
    let ids = lookup(g.check_jwt(&req, &t, NOW));
    assert_eq!(ids.sub, Some("alice"));
    let f = forwarded(g.decide_jwt(&req, &t, &StoreAnswers::default(), NOW));
    let get = |n: &str| {
        f.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("x-warden-sub"), Some("alice"));
    assert_eq!(get("x-warden-class"), Some("access"));
    assert_eq!(get("x-warden-scopes"), Some("read admin"));
    assert_eq!(get("x-warden-auth"), Some("origin-secret"));
    assert!(!f.fail_open && !f.register_session);
}

#[test]
fn identity_values_http_could_alter_are_refused() {
    let g = gate();
    let (req, _) = request(&g, facts("/api", Some("Bearer x.y.z"), None));
    for sub in [" admin", "admin ", "ad\tmin", "admin\u{0}"] {
        let t = token(&claims(sub, ""));
        let r = done(g.check_jwt(&req, &t, NOW));
        assert_eq!(
            (r.denial.status(), r.denial.code()),
            (401, "token_claim_invalid"),
            "{sub:?}"
        );
        assert_eq!(r.denial.error(), Some("invalid_token"));
    }
    for scope in ["read\tadmin", " read", "read  admin"] {
        let t = token(&claims(
            "alice",
            &format!(r#","scope":{}"#, serde_json::to_string(scope).unwrap()),
        ));
        assert_eq!(
            done(g.check_jwt(&req, &t, NOW)).denial,
            Denial::ClaimInvalid("scope")
        );
    }
}

#[test]
fn scopes_are_required_per_route() {
    let g = gate();
    let t = token(&claims("alice", r#","scope":"read""#));
    for path in ["/admin", "/ADMIN/x", "/%61dmin", "/administrator"] {
        let (req, _) = request(&g, facts(path, Some("Bearer x.y.z"), None));
        let r = denied(g.decide_jwt(&req, &t, &StoreAnswers::default(), NOW));
        assert_eq!(
            (r.denial.status(), r.denial.code()),
            (403, "insufficient_scope"),
            "{path}"
        );
        assert_eq!(r.denial.scope(), Some("admin"));
        assert!(r
            .denial
            .www_authenticate()
            .unwrap()
            .contains("scope=\"admin\""));
    }
    let (req, _) = request(&g, facts("/api", Some("Bearer x.y.z"), None));
    forwarded(g.decide_jwt(&req, &t, &StoreAnswers::default(), NOW));
}

#[test]
fn revocation_and_fail_modes() {
    let t = token(&claims("alice", ""));
    let revoked = StoreAnswers {
        sid: Fact::Present,
        ..StoreAnswers::default()
    };
    let down = StoreAnswers {
        jti: Fact::Unknown,
        ..StoreAnswers::default()
    };
    let closed = gate();
    let (req, _) = request(&closed, facts("/api", Some("Bearer x.y.z"), None));
    assert_eq!(
        denied(closed.decide_jwt(&req, &t, &revoked, NOW))
            .denial
            .code(),
        "token_revoked"
    );
    assert_eq!(
        denied(closed.decide_jwt(&req, &t, &down, NOW))
            .denial
            .status(),
        503
    );
    let open = Gate {
        fail_mode: FailMode::Open,
        ..gate()
    };
    assert!(forwarded(open.decide_jwt(&req, &t, &down, NOW)).fail_open);
    // A definite revocation is never overridden, even failing open.
    let both = StoreAnswers {
        jti: Fact::Unknown,
        sid: Fact::Present,
        ..StoreAnswers::default()
    };
    assert_eq!(
        denied(open.decide_jwt(&req, &t, &both, NOW)).denial.code(),
        "token_revoked"
    );
}

#[test]
fn cookie_sessions_refresh_and_clear() {
    let g = gate();
    let t = token(&claims("alice", ""));
    let (req, _) = request(&g, facts("/api", None, Some("at=x.y.z; rt=r1")));
    let f = forwarded(g.decide_jwt(&req, &t, &StoreAnswers::default(), NOW));
    assert_eq!(f.grant.class, TokenClass::Session);
    assert!(f.register_session);
    // Expired + refresh cookie → refresh; expired without one → 401 with the refresh hint.
    let later = NOW + 400;
    lookup(g.check_jwt(&req, &t, later));
    assert!(matches!(
        g.decide_jwt(&req, &t, &StoreAnswers::default(), later),
        Decision::Refresh(h) if h.expired && h.session.as_deref() == Some("s-1")
    ));
    let (bearer, _) = request(&g, facts("/api", Some("Bearer x.y.z"), Some("rt=r1")));
    let r = done(g.check_jwt(&bearer, &t, later));
    assert!(r.refresh_due && !r.clear_cookies);
    assert_eq!(r.denial.code(), "token_expired");
    // A revoked cookie session: cookies cleared.
    let revoked = StoreAnswers {
        sid: Fact::Present,
        ..StoreAnswers::default()
    };
    assert!(denied(g.decide_jwt(&req, &t, &revoked, NOW)).clear_cookies);
}

#[test]
fn refresh_outcomes() {
    let g = gate();
    let old = token(&claims("alice", ""));
    let (req, _) = request(&g, facts("/api", None, Some("at=x.y.z; rt=r1")));
    let reused = g.refresh_refused(Denial::RefreshReused, Some("s-1"), Some(&old));
    assert!(reused.clear_cookies);
    assert_eq!(reused.revoked_session.as_deref(), Some("s-1"));
    assert_eq!(reused.who.class, Some(TokenClass::Session));
    let grant = g.refresh_refused(Denial::RefreshInvalidGrant, None, None);
    assert_eq!(
        (grant.denial.status(), grant.denial.code()),
        (401, "refresh_invalid_grant")
    );
    assert_eq!(grant.revoked_session, None);
    // Unavailable: a token inside its window still serves; an expired one gets a retryable 5xx.
    let hint = |expired| RefreshHint {
        session: Some("s-1".into()),
        subject: None,
        expires_at: NOW + 300,
        expired,
    };
    forwarded(g.refresh_unavailable(&req, Some((&old, &hint(false))), true, NOW));
    let r = denied(g.refresh_unavailable(&req, Some((&old, &hint(true))), true, NOW + 400));
    assert_eq!(
        (r.denial.status(), r.denial.code(), r.clear_cookies),
        (502, "refresh_upstream_error", false)
    );
    assert_eq!(r.denial.retry_after(), Some(1));
    let r = denied(g.refresh_unavailable(&req, None, false, NOW));
    assert_eq!(
        (r.denial.status(), r.denial.code(), r.denial.body_error()),
        (503, "refresh_unavailable", "temporarily_unavailable")
    );
    // The new token must name the same session.
    let other = token(&claims("alice", "").replace("s-1", "s-2"));
    let r = done(g.check_refreshed(Some("s-1"), &other, NOW));
    assert_eq!(
        (r.denial.status(), r.detail),
        (502, Some("the new access token names another session"))
    );
    lookup(g.check_refreshed(Some("s-1"), &old, NOW));
    let f = forwarded(g.decide_refreshed(&req, &old, &StoreAnswers::default(), NOW));
    assert_eq!(f.grant.class, TokenClass::Session);
    let down = StoreAnswers {
        kid: Fact::Unknown,
        ..StoreAnswers::default()
    };
    assert!(!denied(g.decide_refreshed(&req, &old, &down, NOW)).clear_cookies);
    let revoked = StoreAnswers {
        kid: Fact::Present,
        ..StoreAnswers::default()
    };
    assert!(denied(g.decide_refreshed(&req, &old, &revoked, NOW)).clear_cookies);
}

fn pat(created_at: UnixTime) -> PatRecord {
    PatRecord {
        id: "p1".into(),
        sub: "ci".into(),
        created_at,
        expires_at: 0,
        scopes: vec!["read".into()],
        active: true,
    }
}

#[test]
fn pats_and_subject_cutoffs() {
    let g = gate();
    let (req, _) = match g.admit(&facts("/api", Some("Bearer wdn_pat_abc"), None)) {
        Admission::Pat { request, token } => (request, token),
        other => panic!("{other:?}"),
    };
    let p = pat(NOW - 100);
    let f = forwarded(g.decide_pat(&req, Ok(Some(&p)), Ok(None), NOW));
    assert_eq!(f.grant.class, TokenClass::Pat);
    // Created at or before the cutoff → revoked; after it → fine.
    for before in [NOW - 100, NOW - 50] {
        let r = denied(g.decide_pat(&req, Ok(Some(&p)), Ok(Some(before)), NOW));
        assert_eq!(
            r.denial,
            Denial::Revoked(RevocationReason::SubjectCutoff { before })
        );
        assert_eq!(r.who.jti.as_deref(), Some("p1"));
    }
    forwarded(g.decide_pat(&req, Ok(Some(&p)), Ok(Some(NOW - 101)), NOW));
    assert_eq!(
        denied(g.decide_pat(&req, Ok(None), Ok(None), NOW))
            .denial
            .code(),
        "token_unknown"
    );
    assert_eq!(
        denied(g.decide_pat(&req, Err(Unavailable), Ok(None), NOW))
            .denial
            .status(),
        503
    );
    // Fail-open never applies to a PAT.
    let open = Gate {
        fail_mode: FailMode::Open,
        ..gate()
    };
    assert_eq!(
        denied(open.decide_pat(&req, Ok(Some(&p)), Err(Unavailable), NOW))
            .denial
            .status(),
        503
    );
    let bad = PatRecord {
        sub: " ci".into(),
        ..pat(1)
    };
    assert_eq!(
        denied(g.decide_pat(&req, Ok(Some(&bad)), Ok(None), NOW))
            .denial
            .code(),
        "token_claim_invalid"
    );
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use alloc::borrow::ToOwned;

    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    /// Path bytes an attacker would try: separators, dots, percent signs, hex digits, controls.
    fn path_strategy() -> impl Strategy<Value = String> {
        let atoms = prop::sample::select(vec![
            "/", "\\", ".", "..", "%", "%2e", "%2E", "%2f", "%2F", "%5c", "%5C", "%3b", "%3B",
            "%25", "%00", "%0a", "%7f", "%c3%a9", "%ff", ";", "a", "A", "dmin", "admin", "public",
            "health", "%61", "_warden", " ", "\t", "é",
        ]);
        prop::collection::vec(atoms, 0..12).prop_map(|parts| format!("/{}", parts.concat()))
    }

    /// What a lenient origin could make of a path: decoded once or twice, `\` as `/`,
    /// `;params` dropped, dot segments applied, empty segments merged, lower-cased.
    fn lenient_readings(raw: &str) -> vec::Vec<String> {
        fn decode(s: &str) -> String {
            let b = s.as_bytes();
            let mut out = vec::Vec::new();
            let mut i = 0;
            while i < b.len() {
                let hex = |c: u8| (c as char).to_digit(16);
                if b[i] == b'%' && i + 2 < b.len() {
                    if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                }
                out.push(b[i]);
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        fn resolve(s: &str, drop_params: bool) -> String {
            let s = s.replace('\\', "/");
            let mut segs: vec::Vec<&str> = vec::Vec::new();
            for seg in s.split('/') {
                let seg = if drop_params {
                    seg.split(';').next().unwrap_or("")
                } else {
                    seg
                };
                match seg {
                    "" | "." => {}
                    ".." => {
                        segs.pop();
                    }
                    x => segs.push(x),
                }
            }
            format!("/{}", segs.join("/")).to_ascii_lowercase()
        }
        let once = decode(raw);
        let twice = decode(&once);
        let mut out = vec::Vec::new();
        // (The raw form itself has no structural character left: `\`, `;`, dot and empty
        // segments are refused unencoded, so only decoding can change its shape.)
        for form in [once, twice] {
            for drop in [false, true] {
                out.push(resolve(&form, drop));
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        /// The gate never forwards a request whose path an origin could read differently from
        /// Warden: whatever it admits, every lenient reading of the raw path is the one reading
        /// Warden matched on (up to case and a trailing slash).
        #[test]
        fn admitted_paths_have_one_reading(raw in path_strategy()) {
            let g = gate();
            let admitted = !matches!(g.admit(&facts(&raw, Some("Bearer a.b.c"), None)), Admission::Deny(_));
            match canonical_path(&raw) {
                Ok(p) => {
                    prop_assert!(admitted);
                    let ours = p.lower().trim_end_matches('/').to_owned();
                    for reading in lenient_readings(&raw) {
                        prop_assert_eq!(reading.trim_end_matches('/'), ours.as_str(), "raw {:?}", raw);
                    }
                }
                Err(d) => {
                    prop_assert!(!admitted);
                    prop_assert_eq!(d.status(), 400);
                }
            }
        }

        /// Public and scoped decisions agree with the decoded path: an admitted path under
        /// `/admin` in any spelling needs the scope; a public one is forwarded with no token.
        #[test]
        fn every_spelling_of_a_route_needs_its_scope(raw in path_strategy()) {
            let g = gate();
            if let Ok(p) = canonical_path(&raw) {
                let lower = p.lower();
                prop_assert_eq!(g.paths.required_scope(&p).is_some(), lower.starts_with("/admin"));
                let public = matches!(g.admit(&facts(&raw, None, None)), Admission::Forward);
                prop_assert_eq!(public, p.as_str() == "/health" || p.as_str().starts_with("/health/") || p.as_str().starts_with("/public/"));
            }
        }

        /// Credential selection never panics and never yields a cookie next to Authorization.
        #[test]
        fn authorization_excludes_cookies(auth in "[ -~]{0,40}", cookies in "[ -~]{0,40}") {
            if let Ok(Some((_, source))) = select_credential(Some(&auth), Some(&cookies), Some("at")) {
                prop_assert_eq!(source, Source::Bearer);
            }
        }
    }

    #[test]
    fn the_property_cases_happen() {
        // Guard for the properties above: the strategy produces both kinds of path.
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut ok, mut refused, mut admin) = (0, 0, 0);
        for _ in 0..2000 {
            let raw = path_strategy().new_tree(&mut runner).unwrap().current();
            match canonical_path(&raw) {
                Ok(p) => {
                    ok += 1;
                    admin += usize::from(p.lower().starts_with("/admin"));
                }
                Err(_) => refused += 1,
            }
        }
        assert!(
            ok > 100 && refused > 100 && admin > 5,
            "ok {ok} refused {refused} admin {admin}"
        );
    }
}

// Behaviours `make mutants` found unpinned (docs/security.md, "Mutation testing"); each test
// names the mutant it kills.

/// `Who::of` → `Who::default()`: a JWT refusal names whom it concerns for the audit line.
#[test]
fn jwt_refusals_name_the_token_for_the_audit_line() {
    let g = gate();
    let (req, _) = request(&g, facts("/api", Some("Bearer x.y.z"), None));
    let expired = token(&format!(
        r#"{{"sub":"alice","iat":{},"exp":{},"jti":"j-1","sid":"s-1"}}"#,
        NOW - 1000,
        NOW - 500
    ));
    let r = done(g.check_jwt(&req, &expired, NOW));
    assert!(matches!(r.denial, Denial::Expired { .. }), "{r:?}");
    assert_eq!(
        r.who,
        Who {
            class: Some(TokenClass::Access),
            sub: Some("alice".into()),
            jti: Some("j-1".into()),
            sid: Some("s-1".into()),
        }
    );
}

/// `&&` → `||` in the CORS preflight rule of `admit`: only `OPTIONS` *with*
/// `Access-Control-Request-Method` goes through without credentials; either alone is a 401.
#[test]
fn only_a_real_preflight_goes_through_without_credentials() {
    let g = gate();
    let at = |method: &'static str, cors_request_method: bool| {
        g.admit(&RequestFacts {
            method,
            cors_request_method,
            ..facts("/api", None, None)
        })
    };
    assert_eq!(at("OPTIONS", true), Admission::Forward);
    for (method, cors) in [("OPTIONS", false), ("GET", true), ("GET", false)] {
        match at(method, cors) {
            Admission::Deny(r) => assert_eq!(r.denial, Denial::Missing, "{method} {cors}"),
            other => panic!("{method} {cors}: {other:?}"),
        }
    }
}

/// Both `&&` → `||` in `jwt_refusal`: only a *revoked* token of a *cookie session* (refresh at
/// the edge on) clears the cookies; a bearer token never does, nor does any other refusal.
#[test]
fn only_a_revoked_cookie_session_clears_its_cookies() {
    let g = gate();
    let t = token(&claims("alice", ""));
    let revoked = StoreAnswers {
        sid: Fact::Present,
        ..StoreAnswers::default()
    };
    let (session, _) = request(&g, facts("/api", None, Some("at=x.y.z; rt=r1")));
    let (bearer, _) = request(&g, facts("/api", Some("Bearer x.y.z"), Some("rt=r1")));
    assert!(denied(g.decide_jwt(&session, &t, &revoked, NOW)).clear_cookies);
    assert!(!denied(g.decide_jwt(&bearer, &t, &revoked, NOW)).clear_cookies);
    // A cookie session refused for another reason keeps its cookies.
    let bad_sub = token(&claims(" alice", ""));
    let r = done(g.check_jwt(&session, &bad_sub, NOW));
    assert_eq!(r.denial, Denial::ClaimInvalid("sub"));
    assert!(!r.clear_cookies);
    // Without refresh at the edge the access cookie alone is no session to clear.
    let no_refresh = Gate {
        refresh_cookie: None,
        ..gate()
    };
    let (plain, _) = request(&no_refresh, facts("/api", None, Some("at=x.y.z")));
    assert_eq!(plain.source, Some(Source::Cookie));
    let r = denied(no_refresh.decide_jwt(&plain, &t, &revoked, NOW));
    assert_eq!(r.denial.code(), "token_revoked");
    assert!(!r.clear_cookies);
}

/// `PathRules::public_paths` and `PathRules::routes` (→ empty): the configuration as read, the
/// routes longest prefix first, prefixes in lower case.
#[test]
fn path_rules_show_what_they_read() {
    let r = PathRules::parse(
        Some("/health, /public/,/health"),
        Some("/Admin=admin,/admin/billing=billing:read"),
    )
    .unwrap();
    assert_eq!(r.public_paths(), ["/health", "/public/"]);
    assert_eq!(
        r.routes(),
        [
            Route {
                prefix: "/admin/billing".into(),
                scope: "billing:read".into()
            },
            Route {
                prefix: "/admin".into(),
                scope: "admin".into()
            },
        ]
    );
}

/// `>` → `==` / `>=` on the prefix length in `path_prefix`, `>` → `>=` on the entry count in
/// `entries`, `>` → `==` / `>=` on the scope length in `parse_routes`: exactly `MAX_PREFIX_LEN`
/// bytes, `MAX_LIST_ENTRIES` entries and `MAX_SCOPE_LEN` bytes are accepted, one more is
/// refused.
#[test]
fn path_rule_limits_are_inclusive() {
    let prefix = |len: usize| format!("/{}", "a".repeat(len - 1));
    assert_eq!(
        path_prefix(&prefix(MAX_PREFIX_LEN)),
        Ok(prefix(MAX_PREFIX_LEN))
    );
    assert!(path_prefix(&prefix(MAX_PREFIX_LEN + 1)).is_err());
    let list = |n: usize| {
        (0..n)
            .map(|i| format!("/p{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let full = PathRules::parse(Some(&list(MAX_LIST_ENTRIES)), None).unwrap();
    assert_eq!(full.public_paths().len(), MAX_LIST_ENTRIES);
    assert_eq!(
        PathRules::parse(Some(&list(MAX_LIST_ENTRIES + 1)), None)
            .unwrap_err()
            .0,
        0
    );
    let routes = (0..MAX_LIST_ENTRIES)
        .map(|i| format!("/r{i}=s{i}"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        PathRules::parse(None, Some(&routes))
            .unwrap()
            .routes()
            .len(),
        MAX_LIST_ENTRIES
    );
    let scoped = |len: usize| PathRules::parse(None, Some(&format!("/a={}", "s".repeat(len))));
    assert_eq!(
        scoped(MAX_SCOPE_LEN).unwrap().routes()[0].scope.len(),
        MAX_SCOPE_LEN
    );
    assert_eq!(scoped(MAX_SCOPE_LEN + 1).unwrap_err().0, 1);
}

/// `&&` → `||` in `can_refresh`: a refresh token alone does not make a request refreshable — it
/// must be a cookie session with refresh at the edge on. (`admit` never builds such a request;
/// a driver that builds its own `Request` gets the same answer.)
#[test]
fn a_refresh_token_alone_does_not_make_a_request_refreshable() {
    let expired = token(&format!(
        r#"{{"sub":"alice","iat":{},"exp":{},"jti":"j-1","sid":"s-1"}}"#,
        NOW - 1000,
        NOW - 500
    ));
    let request = |source| Request {
        path: canonical_path("/api").unwrap(),
        source: Some(source),
        refresh_token: Some("r1"),
        sender: Sender::default(),
    };
    let g = gate();
    let session = request(Source::Cookie);
    lookup(g.check_jwt(&session, &expired, NOW));
    let bearer = request(Source::Bearer);
    let r = done(g.check_jwt(&bearer, &expired, NOW));
    assert!(matches!(r.denial, Denial::Expired { .. }) && r.refresh_due);
    assert!(matches!(
        g.decide_jwt(&bearer, &expired, &StoreAnswers::default(), NOW),
        Decision::Deny(_)
    ));
    let off = Gate {
        refresh_cookie: None,
        ..gate()
    };
    assert!(matches!(
        done(off.check_jwt(&session, &expired, NOW)).denial,
        Denial::Expired { .. }
    ));
}
