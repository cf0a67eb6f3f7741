//! Any bytes as a security event token for the core's SET and logout-token validation
//! (warden-core `secevent`): a header and a claims JSON text (NUL-separated) made into a
//! compact token, and the same bytes as a whole token. Never panics, and:
//! - a parse refusal, a key refusal and a validation refusal each carry one of the RFC 8935
//!   codes, with a description safe for a JSON body;
//! - a selected key is bound to the header's `alg` (an `HS*` token never gets a public key);
//! - an accepted SET had `typ` `secevent+jwt`, the configured `iss`, an `aud` naming the
//!   receiver, an `iat` within the leeway and a usable `jti`; it revokes only ids a Warden token
//!   could carry, a session only for session-revoked, a cutoff never beyond now + leeway;
//! - an accepted logout token had no `nonce`, and revokes its `sid` when it has one, else cuts
//!   off its `sub` at its `iat`.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use warden_core::{
    is_identity_value, parse_set, select_set_key, typ_matches, EventAction, EventKind, KeySet,
    LogoutPolicy, Received, SetError, SetPolicy, Token, MAX_ID_LEN,
};

const NOW: u64 = 1_700_000_000;

fn usable(id: &str) -> bool {
    id.len() <= MAX_ID_LEN && is_identity_value(id)
}

fn check_error(e: &SetError) {
    let code = e.code().as_str();
    assert!(matches!(
        code,
        "invalid_request" | "invalid_key" | "invalid_issuer" | "invalid_audience"
    ));
    let d = e.description();
    assert!(
        !d.is_empty()
            && d.bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    );
}

fn check_received(token: &Token, r: &Received, leeway: u64) {
    let c = &token.claims;
    assert_eq!(c.jti.as_deref(), Some(r.jti.as_str()));
    assert!(usable(&r.jti));
    assert_eq!(c.iat, Some(r.iat));
    assert!(r.iat <= NOW + leeway);
    match &r.action {
        EventAction::RevokeSession { sid, sub } => {
            assert!(matches!(
                r.kind,
                EventKind::SessionRevoked | EventKind::BackchannelLogout
            ));
            assert!(usable(sid) && sub.as_deref().is_none_or(usable));
        }
        EventAction::SubjectCutoff { sub, before } => {
            assert!(usable(sub));
            assert!(*before <= NOW + leeway);
        }
        EventAction::Verified { .. } => assert_eq!(r.kind, EventKind::Verification),
        EventAction::Ignored => assert!(matches!(r.kind, EventKind::Other(_))),
        EventAction::Unmapped { .. } => assert_ne!(r.kind, EventKind::BackchannelLogout),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (header, claims) = text
        .split_once('\0')
        .unwrap_or(("{\"alg\":\"ES256\",\"typ\":\"secevent+jwt\"}", text));
    let compact = format!("{}.{}.AA", B64.encode(header), B64.encode(claims));

    let set = SetPolicy {
        subject_issuer: Some("https://id.example".into()),
        ..SetPolicy::new("https://idp.example", "https://warden.example")
    };
    let logout = LogoutPolicy::new("https://idp.example", "client");
    let hmac = KeySet::from_jwks(
        r#"{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#,
    )
    .unwrap();
    let ec = KeySet::from_jwks(
        r#"{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#,
    )
    .unwrap();

    for raw in [compact.as_str(), text] {
        let token = match parse_set(raw) {
            Ok(t) => t,
            Err(e) => {
                check_error(&e);
                continue;
            }
        };
        for keys in [&hmac, &ec] {
            match select_set_key(keys, &token.header) {
                Ok(key) => assert_eq!(key.alg, token.header.alg),
                Err(e) => check_error(&e),
            }
        }
        match set.validate(&token, NOW) {
            Ok(r) => {
                assert!(token
                    .header
                    .typ
                    .as_deref()
                    .is_some_and(|t| typ_matches(t, "secevent+jwt")));
                assert_eq!(token.claims.iss.as_deref(), Some("https://idp.example"));
                assert!(token
                    .claims
                    .aud
                    .iter()
                    .any(|a| a == "https://warden.example"));
                assert_ne!(r.kind, EventKind::BackchannelLogout);
                check_received(&token, &r, set.leeway);
            }
            Err(e) => check_error(&e),
        }
        match logout.validate(&token, NOW) {
            Ok(r) => {
                assert_eq!(r.kind, EventKind::BackchannelLogout);
                assert!(!token.claims_map().unwrap().contains_key("nonce"));
                let c = &token.claims;
                let expected = match (&c.sid, &c.sub) {
                    (Some(sid), sub) => EventAction::RevokeSession {
                        sid: sid.clone(),
                        sub: sub.clone(),
                    },
                    (None, Some(sub)) => EventAction::SubjectCutoff {
                        sub: sub.clone(),
                        before: r.iat,
                    },
                    (None, None) => unreachable!("accepted without sid or sub"),
                };
                assert_eq!(r.action, expected);
                check_received(&token, &r, logout.leeway);
            }
            Err(e) => check_error(&e),
        }
    }
});
