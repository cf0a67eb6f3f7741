//! SET and logout-token validation: every rule, every error code, every event type and subject
//! format, with the shapes of the CAEP 1.0, RISC 1.0, SSF 1.0 and Back-Channel Logout 1.0
//! examples.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde_json::{json, Value};

use super::*;
use crate::claims::MAX_ID_LEN;
use crate::parse::ParseError;

const NOW: UnixTime = 1_700_000_000;
const ISS: &str = "https://idp.example.com/123456789/";
const AUD: &str = "https://warden.example/ssf";
const SUBJECT_ISS: &str = "https://id.example";
const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact token of these header and claims texts (signature unchecked: the driver's).
fn compact(header: &str, claims: &str) -> String {
    format!("{}.{}.AA", b64(header.as_bytes()), b64(claims.as_bytes()))
}

fn token_of(header: &Value, claims: &Value) -> Token {
    parse_set(&compact(&header.to_string(), &claims.to_string())).unwrap()
}

fn set_header() -> Value {
    json!({"alg": "ES256", "kid": "t1", "typ": "secevent+jwt"})
}

/// A sound SET carrying `events`, with `extra` members laid over the claims (`null` removes).
fn set_claims(events: Value, extra: Value) -> Value {
    let mut claims = json!({
        "iss": ISS,
        "jti": "24c63fb56e5a2d77a6b512616ca9fa24",
        "iat": NOW - 5,
        "aud": AUD,
        "txn": 8_675_309,
        "events": events,
    });
    overlay(&mut claims, extra);
    claims
}

/// Lays `extra`'s members over `claims`; a `null` removes the member.
fn overlay(claims: &mut Value, extra: Value) {
    let map = claims.as_object_mut().unwrap();
    for (k, v) in extra.as_object().unwrap() {
        map.insert(k.clone(), v.clone());
    }
    map.retain(|_, v| !v.is_null());
}

fn policy() -> SetPolicy {
    SetPolicy {
        subject_issuer: Some(SUBJECT_ISS.into()),
        ..SetPolicy::new(ISS, AUD)
    }
}

fn validate(claims: &Value) -> Result<Received, SetError> {
    let token = parse_set(&compact(&set_header().to_string(), &claims.to_string()))?;
    policy().validate(&token, NOW)
}

fn action(claims: &Value) -> EventAction {
    validate(claims).unwrap().action
}

fn code(claims: &Value) -> &'static str {
    validate(claims).unwrap_err().code().as_str()
}

/// One event of type `uri` with `payload`, its subject in `sub_id`.
fn event(uri: &str, sub_id: Value, payload: Value) -> Value {
    set_claims(json!({ uri: payload }), json!({ "sub_id": sub_id }))
}

fn opaque(id: &str) -> Value {
    json!({"format": "opaque", "id": id})
}

fn iss_sub(iss: &str, sub: &str) -> Value {
    json!({"format": "iss_sub", "iss": iss, "sub": sub})
}

/// A sound credential-change SET about `alice`, `extra` laid over it.
fn credential_change(extra: Value) -> Value {
    let mut claims = set_claims(
        json!({ CREDENTIAL_CHANGE: {} }),
        json!({"sub_id": opaque("alice")}),
    );
    overlay(&mut claims, extra);
    claims
}

fn cutoff(sub: &str, before: UnixTime) -> EventAction {
    EventAction::SubjectCutoff {
        sub: sub.into(),
        before,
    }
}

fn unmapped(reason: &'static str) -> EventAction {
    EventAction::Unmapped { reason }
}

// ---------------------------------------------------------------------------------------------
// The SET rules, one by one.

#[test]
fn caep_session_revoked_with_a_complex_subject_revokes_the_session() {
    // CAEP 1.0 §3.1's complex-subject example shape (session, user, tenant).
    let claims = event(
        SESSION_REVOKED,
        json!({
            "format": "complex",
            "session": opaque("dMTlD|1600802906337.16|16008.16"),
            "user": iss_sub(SUBJECT_ISS, "99beb27c-c1c2-4955-882a-e0dc4996fcbc"),
            "tenant": opaque("123456789"),
        }),
        json!({"initiating_entity": "policy", "reason_admin": {"en": "Landspeed Policy Violation: C076E82F"},
               "event_timestamp": 1_615_304_991_643u64}),
    );
    let received = validate(&claims).unwrap();
    assert_eq!(
        received,
        Received {
            jti: "24c63fb56e5a2d77a6b512616ca9fa24".into(),
            iat: NOW - 5,
            kind: EventKind::SessionRevoked,
            action: EventAction::RevokeSession {
                sid: "dMTlD|1600802906337.16|16008.16".into(),
                sub: Some("99beb27c-c1c2-4955-882a-e0dc4996fcbc".into()),
            },
        }
    );
    // The event time is not needed to revoke a session: a millisecond value does not refuse it.
    assert_eq!(received.action.name(), "revoked_session");
}

#[test]
fn session_revoked_naming_only_a_user_is_a_cutoff_at_the_event_time_or_iat() {
    let with_time = event(
        SESSION_REVOKED,
        opaque("alice"),
        json!({"event_timestamp": NOW - 100}),
    );
    assert_eq!(action(&with_time), cutoff("alice", NOW - 100));
    let without = event(SESSION_REVOKED, opaque("alice"), json!({}));
    assert_eq!(action(&without), cutoff("alice", NOW - 5));
    // A complex subject with a user and no session.
    let complex_user = event(
        SESSION_REVOKED,
        json!({"format": "complex", "user": iss_sub(SUBJECT_ISS, "bob")}),
        json!({}),
    );
    assert_eq!(action(&complex_user), cutoff("bob", NOW - 5));
    // A session without a user: the session alone.
    let session_only = event(
        SESSION_REVOKED,
        json!({"format": "complex", "session": opaque("s-1")}),
        json!({}),
    );
    assert_eq!(
        action(&session_only),
        EventAction::RevokeSession {
            sid: "s-1".into(),
            sub: None
        }
    );
}

#[test]
fn a_session_warden_cannot_name_does_not_cut_off_its_user() {
    for session in [
        json!({"format": "email", "email": "a@example.com"}),
        opaque(" padded"),
    ] {
        let claims = event(
            SESSION_REVOKED,
            json!({"format": "complex", "session": session, "user": opaque("alice")}),
            json!({}),
        );
        assert!(
            matches!(action(&claims), EventAction::Unmapped { .. }),
            "{claims}"
        );
    }
    // For a user-wide event the user member decides, whatever the session.
    let claims = event(
        CREDENTIAL_CHANGE,
        json!({"format": "complex", "session": json!({"format": "email", "email": "x@y"}), "user": opaque("alice")}),
        json!({"event_timestamp": NOW - 1}),
    );
    assert_eq!(action(&claims), cutoff("alice", NOW - 1));
}

#[test]
fn caep_credential_change_cuts_off_the_user() {
    // CAEP 1.0 §3.3's example shape.
    let claims = event(
        CREDENTIAL_CHANGE,
        iss_sub(SUBJECT_ISS, "jane.smith"),
        json!({"credential_type": "fido2-roaming", "change_type": "create",
               "fido2_aaguid": "accced6a-63f5-490a-9eea-e59bc1896cfc",
               "friendly_name": "Jane's USB authenticator",
               "initiating_entity": "user", "event_timestamp": NOW - 60}),
    );
    let received = validate(&claims).unwrap();
    assert_eq!(received.kind, EventKind::CredentialChange);
    assert_eq!(received.action, cutoff("jane.smith", NOW - 60));
    assert_eq!(received.action.name(), "subject_cutoff");
}

#[test]
fn the_four_risc_types_cut_off_the_user_at_iat() {
    let types = [
        ("sessions-revoked", EventKind::SessionsRevoked),
        ("account-disabled", EventKind::AccountDisabled),
        ("account-purged", EventKind::AccountPurged),
        (
            "account-credential-change-required",
            EventKind::AccountCredentialChangeRequired,
        ),
    ];
    for (name, kind) in types {
        let uri = format!("https://schemas.openid.net/secevent/risc/event-type/{name}");
        assert_eq!(EventKind::from_uri(&uri), kind);
        assert_eq!(kind.uri(), uri);
        // SSF-style: a top-level sub_id.
        let claims = event(&uri, iss_sub(SUBJECT_ISS, "7375626A656374"), json!({}));
        let received = validate(&claims).unwrap();
        assert_eq!(received.kind, kind);
        assert_eq!(received.action, cutoff("7375626A656374", NOW - 5), "{name}");
        // RFC 8417 §2.1.4 / RISC event types: the event's own subject, `subject_type: iss-sub`.
        let legacy = set_claims(
            json!({ uri.clone(): {
                "subject": {"subject_type": "iss-sub", "iss": SUBJECT_ISS, "sub": "7375626A656374"},
                "reason": "hijacking",
            }}),
            json!({}),
        );
        assert_eq!(action(&legacy), cutoff("7375626A656374", NOW - 5), "{name}");
    }
}

#[test]
fn verification_is_acknowledged_and_revokes_nothing() {
    // SSF 1.0 §8.1.4's example shape: the stream as the subject, a state.
    let claims = set_claims(
        json!({ VERIFICATION: {"state": "VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo="} }),
        json!({"sub_id": {"format": "opaque", "id": "f67e39a0a4d34d56b3aa1bc4cff0069f"}}),
    );
    let received = validate(&claims).unwrap();
    assert_eq!(received.kind, EventKind::Verification);
    assert_eq!(
        received.action,
        EventAction::Verified {
            state: Some("VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo=".into())
        }
    );
    assert_eq!(received.action.name(), "verified");
    let no_state = set_claims(json!({ VERIFICATION: {} }), json!({}));
    assert_eq!(action(&no_state), EventAction::Verified { state: None });
    let bad_state = set_claims(json!({ VERIFICATION: {"state": 7} }), json!({}));
    assert_eq!(
        validate(&bad_state),
        Err(SetError::InvalidEventClaim("state"))
    );
    assert_eq!(code(&bad_state), "invalid_request");
}

#[test]
fn other_types_are_ignored_whatever_their_subject() {
    for uri in [
        "https://schemas.openid.net/secevent/caep/event-type/token-claims-change",
        "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change",
        "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
        "https://schemas.openid.net/secevent/ssf/event-type/stream-updated",
        // Case and spelling matter: a near miss is another type.
        "https://schemas.openid.net/secevent/caep/event-type/Session-Revoked",
        "https://schemas.openid.net/secevent/caep/event-type/session-revoked/",
        "urn:example:event",
    ] {
        let claims = event(uri, json!("not even an object"), json!({}));
        let received = validate(&claims).unwrap();
        assert_eq!(received.kind, EventKind::Other(uri.to_owned()));
        assert_eq!(received.kind.uri(), uri);
        assert_eq!(received.action, EventAction::Ignored);
        assert_eq!(received.action.name(), "ignored");
    }
}

#[test]
fn subject_formats() {
    let cases: Vec<(Value, EventAction)> = vec![
        (opaque("alice"), cutoff("alice", NOW - 5)),
        (iss_sub(SUBJECT_ISS, "alice"), cutoff("alice", NOW - 5)),
        // `iss_sub` maps only for the configured subject issuer, exactly.
        (
            iss_sub("https://other.example", "alice"),
            unmapped("iss_sub subject of another issuer"),
        ),
        (
            iss_sub("https://id.example/", "alice"),
            unmapped("iss_sub subject of another issuer"),
        ),
        (
            json!({"format": "email", "email": "user@example.com"}),
            unmapped("subject format not mapped"),
        ),
        (
            json!({"format": "phone_number", "phone_number": "+12065550100"}),
            unmapped("subject format not mapped"),
        ),
        (
            json!({"format": "aliases", "identifiers": [opaque("alice")]}),
            unmapped("subject format not mapped"),
        ),
        (
            json!({"subject_type": "email", "email": "user@example.com"}),
            unmapped("subject format not mapped"),
        ),
        // Complex, with and without `format` (older transmitters).
        (
            json!({"format": "complex", "user": opaque("alice"), "device": {"format": "opaque", "id": "d"}}),
            cutoff("alice", NOW - 5),
        ),
        (json!({"user": opaque("alice")}), cutoff("alice", NOW - 5)),
        (
            json!({"format": "complex", "tenant": opaque("t")}),
            unmapped("the subject names no user"),
        ),
        (
            json!({"format": "complex", "user": {"format": "email", "email": "a@b"}}),
            unmapped("subject format not mapped"),
        ),
        // Ids no Warden token could carry name nobody.
        (
            opaque(""),
            unmapped("subject id is not a Warden identity value"),
        ),
        (
            opaque("alice\n"),
            unmapped("subject id is not a Warden identity value"),
        ),
        (
            opaque(&"a".repeat(MAX_ID_LEN + 1)),
            unmapped("subject id is not a Warden identity value"),
        ),
        (
            opaque(&"a".repeat(MAX_ID_LEN)),
            cutoff(&"a".repeat(MAX_ID_LEN), NOW - 5),
        ),
    ];
    for (subject, expected) in cases {
        let claims = event(CREDENTIAL_CHANGE, subject.clone(), json!({}));
        assert_eq!(action(&claims), expected, "{subject}");
        // The same subject in the event's own `subject` member reads the same.
        let legacy = set_claims(
            json!({ CREDENTIAL_CHANGE: {"subject": subject} }),
            json!({}),
        );
        assert_eq!(action(&legacy), expected);
    }
    // Without a configured subject issuer no iss_sub maps.
    let p = SetPolicy::new(ISS, AUD);
    let claims = event(CREDENTIAL_CHANGE, iss_sub(SUBJECT_ISS, "alice"), json!({}));
    assert_eq!(
        p.validate(&token_of(&set_header(), &claims), NOW)
            .unwrap()
            .action,
        unmapped("iss_sub subject of another issuer")
    );
}

#[test]
fn malformed_subjects_are_invalid_requests() {
    let cases = [
        (json!("alice"), "the subject is not a JSON object"),
        (json!({"id": "alice"}), "the subject has no format"),
        (
            json!({"format": 1, "id": "alice"}),
            "the subject format is not a string",
        ),
        (
            json!({"subject_type": 1}),
            "the subject format is not a string",
        ),
        (
            json!({"format": "opaque"}),
            "an opaque subject has no string id",
        ),
        (
            json!({"format": "opaque", "id": 5}),
            "an opaque subject has no string id",
        ),
        (
            json!({"format": "iss_sub", "sub": "a"}),
            "an iss_sub subject has no string iss",
        ),
        (
            json!({"format": "iss_sub", "iss": SUBJECT_ISS}),
            "an iss_sub subject has no string sub",
        ),
        (
            json!({"format": "complex", "user": "alice"}),
            "a complex subject member is not an object",
        ),
        (
            json!({"format": "complex", "user": {"id": "alice"}}),
            "a complex subject member has no format",
        ),
        (
            json!({"format": "complex", "session": {"format": "opaque"}}),
            "an opaque subject has no string id",
        ),
    ];
    for (subject, why) in cases {
        let claims = event(SESSION_REVOKED, subject.clone(), json!({}));
        assert_eq!(
            validate(&claims),
            Err(SetError::InvalidSubject(why)),
            "{subject}"
        );
        assert_eq!(code(&claims), "invalid_request");
        assert_eq!(validate(&claims).unwrap_err().description(), why);
    }
}

#[test]
fn sub_id_and_the_event_subject_must_agree() {
    let both = |event_subject: Value| {
        set_claims(
            json!({ CREDENTIAL_CHANGE: {"subject": event_subject} }),
            json!({"sub_id": opaque("alice")}),
        )
    };
    assert_eq!(action(&both(opaque("alice"))), cutoff("alice", NOW - 5));
    assert_eq!(
        validate(&both(opaque("mallory"))),
        Err(SetError::InvalidSubject(
            "sub_id and the event's subject differ"
        ))
    );
    // No subject at all: acknowledged, nothing revoked.
    let none = set_claims(json!({ CREDENTIAL_CHANGE: {} }), json!({}));
    assert_eq!(action(&none), unmapped("the event has no subject"));
    assert_eq!(action(&none).name(), "unmapped");
}

#[test]
fn event_time() {
    let at = |t: Value| {
        event(
            CREDENTIAL_CHANGE,
            opaque("alice"),
            json!({"event_timestamp": t}),
        )
    };
    assert_eq!(action(&at(json!(0))), cutoff("alice", 0));
    // Up to now + leeway, inclusive.
    assert_eq!(action(&at(json!(NOW + 30))), cutoff("alice", NOW + 30));
    assert_eq!(
        validate(&at(json!(NOW + 31))),
        Err(SetError::EventInFuture {
            event_time: NOW + 31,
            latest: NOW + 30
        })
    );
    // Milliseconds (CAEP's examples use them) are refused, never read as a far-future cutoff.
    assert_eq!(
        validate(&at(json!(1_615_304_991_643u64))),
        Err(SetError::InvalidEventClaim("event_timestamp"))
    );
    for bad in [
        json!(-1),
        json!(1.5),
        json!("1700000000"),
        json!(null),
        json!(MAX_NUMERIC_DATE + 1),
    ] {
        assert_eq!(
            validate(&at(bad.clone())),
            Err(SetError::InvalidEventClaim("event_timestamp")),
            "{bad}"
        );
        assert_eq!(code(&at(bad)), "invalid_request");
    }
    let e = validate(&at(json!(NOW + 31))).unwrap_err();
    assert_eq!(e.code(), SetErrorCode::InvalidRequest);
    assert_eq!(
        e.to_string(),
        format!(
            "event_timestamp {} is later than {} (seconds are expected)",
            NOW + 31,
            NOW + 30
        )
    );
}

#[test]
fn typ_is_required_and_compared_as_the_core_compares_it() {
    let claims = event(CREDENTIAL_CHANGE, opaque("alice"), json!({}));
    let p = policy();
    for typ in [
        "secevent+jwt",
        "SECEVENT+JWT",
        "application/secevent+jwt",
        "Application/SecEvent+JWT",
    ] {
        let t = token_of(&json!({"alg": "ES256", "typ": typ}), &claims);
        assert!(p.validate(&t, NOW).is_ok(), "{typ}");
    }
    for header in [
        json!({"alg": "ES256"}),
        json!({"alg": "ES256", "typ": "JWT"}),
        json!({"alg": "ES256", "typ": "logout+jwt"}),
        json!({"alg": "ES256", "typ": "secevent+jwt "}),
        json!({"alg": "ES256", "typ": "application/application/secevent+jwt"}),
    ] {
        let e = p.validate(&token_of(&header, &claims), NOW).unwrap_err();
        assert_eq!(e, SetError::WrongType { expected: SET_TYP }, "{header}");
        assert_eq!(e.code(), SetErrorCode::InvalidRequest);
        assert_eq!(e.description(), "header typ is not secevent+jwt");
    }
}

#[test]
fn issuer_exactly() {
    let base = event(CREDENTIAL_CHANGE, opaque("alice"), json!({}));
    for iss in [
        json!(null),
        json!("https://idp.example.com/123456789"),
        json!("HTTPS://idp.example.com/123456789/"),
    ] {
        let claims = set_claims(
            base["events"].clone(),
            json!({"iss": iss, "sub_id": opaque("alice")}),
        );
        assert_eq!(validate(&claims), Err(SetError::WrongIssuer), "{iss}");
        assert_eq!(code(&claims), "invalid_issuer");
    }
    // An `iss` of the wrong type is refused by the parser, with the same code.
    let claims = set_claims(base["events"].clone(), json!({"iss": ["x"]}));
    assert_eq!(
        validate(&claims),
        Err(SetError::Malformed(ParseError::InvalidClaim("iss")))
    );
    assert_eq!(code(&claims), "invalid_issuer");
}

#[test]
fn audience_string_or_array() {
    let with_aud = |aud: Value| credential_change(json!({ "aud": aud }));
    assert!(validate(&with_aud(json!(AUD))).is_ok());
    assert!(validate(&with_aud(json!(["https://other.example", AUD]))).is_ok());
    for aud in [
        json!(null),
        json!([]),
        json!("https://warden.example"),
        json!(["https://other.example"]),
    ] {
        assert_eq!(
            validate(&with_aud(aud.clone())),
            Err(SetError::WrongAudience),
            "{aud}"
        );
        assert_eq!(code(&with_aud(aud)), "invalid_audience");
    }
    assert_eq!(code(&with_aud(json!([AUD, 1]))), "invalid_audience");
    assert_eq!(code(&with_aud(json!({"aud": AUD}))), "invalid_audience");
}

#[test]
fn iat_present_and_not_in_the_future() {
    let with = credential_change;
    assert_eq!(
        validate(&with(json!({"iat": null}))),
        Err(SetError::MissingClaim("iat"))
    );
    assert_eq!(code(&with(json!({"iat": null}))), "invalid_request");
    assert!(validate(&with(json!({"iat": NOW + 30}))).is_ok());
    assert_eq!(
        validate(&with(json!({"iat": NOW + 31}))),
        Err(SetError::OutOfTime {
            claim: "iat",
            time: NOW + 31,
            now: NOW
        })
    );
    assert_eq!(code(&with(json!({"iat": NOW + 31}))), "invalid_request");
    // Old SETs are fine (poll delivery may bring them late), and no `exp` is required.
    assert!(validate(&with(json!({"iat": 1}))).is_ok());
    // `exp` and `nbf`, when present, are honoured (RFC 7519 §4.1.4, §4.1.5).
    assert!(validate(&with(json!({"exp": NOW + 60}))).is_ok());
    assert_eq!(
        validate(&with(json!({"exp": NOW - 30}))),
        Err(SetError::OutOfTime {
            claim: "exp",
            time: NOW - 30,
            now: NOW
        })
    );
    assert!(validate(&with(json!({"exp": NOW - 29}))).is_ok());
    assert_eq!(
        validate(&with(json!({"nbf": NOW + 31}))),
        Err(SetError::OutOfTime {
            claim: "nbf",
            time: NOW + 31,
            now: NOW
        })
    );
    assert_eq!(code(&with(json!({"iat": "now"}))), "invalid_request");
}

#[test]
fn jti_present_and_usable() {
    let with = |jti: Value| credential_change(json!({ "jti": jti }));
    assert_eq!(
        validate(&with(json!(null))),
        Err(SetError::MissingClaim("jti"))
    );
    assert_eq!(
        validate(&with(json!("a\tb"))),
        Err(SetError::InvalidClaim("jti"))
    );
    assert_eq!(
        validate(&with(json!(" a"))),
        Err(SetError::InvalidClaim("jti"))
    );
    assert_eq!(code(&with(json!(7))), "invalid_request");
    assert_eq!(code(&with(json!(""))), "invalid_request");
    assert_eq!(
        code(&with(json!("x".repeat(MAX_ID_LEN + 1)))),
        "invalid_request"
    );
    assert_eq!(validate(&with(json!("j-1"))).unwrap().jti, "j-1");
}

#[test]
fn events_exactly_one_object_member() {
    let with = |events: Value| set_claims(events, json!({"sub_id": opaque("alice")}));
    assert_eq!(
        validate(&with(json!(null))),
        Err(SetError::MissingClaim("events"))
    );
    assert_eq!(
        validate(&with(json!([CREDENTIAL_CHANGE]))),
        Err(SetError::InvalidClaim("events"))
    );
    assert_eq!(validate(&with(json!({}))), Err(SetError::EventCount(0)));
    assert_eq!(
        validate(&with(json!({ CREDENTIAL_CHANGE: {}, SESSION_REVOKED: {} }))),
        Err(SetError::EventCount(2))
    );
    for payload in [json!(null), json!(true), json!("x"), json!([{}])] {
        assert_eq!(
            validate(&with(json!({ CREDENTIAL_CHANGE: payload }))),
            Err(SetError::EventNotObject)
        );
    }
    for events in [
        json!(null),
        json!([]),
        json!({}),
        json!({"a": {}, "b": {}}),
        json!({"a": 1}),
    ] {
        assert_eq!(code(&with(events)), "invalid_request");
    }
    assert_eq!(
        validate(&with(json!({}))).unwrap_err().description(),
        "events has no event"
    );
}

#[test]
fn duplicate_keys_are_refused_at_every_depth() {
    let header = set_header().to_string();
    let inner = format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","iat":{},"jti":"j","sub_id":{{"format":"opaque","id":"a","id":"b"}},"events":{{"{CREDENTIAL_CHANGE}":{{}}}}}}"#,
        NOW
    );
    let event_twice = format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","iat":{},"jti":"j","events":{{"{CREDENTIAL_CHANGE}":{{}},"{CREDENTIAL_CHANGE}":{{}}}}}}"#,
        NOW
    );
    for claims in [inner, event_twice] {
        let e = parse_set(&compact(&header, &claims)).unwrap_err();
        assert_eq!(
            e,
            SetError::Malformed(ParseError::DuplicateKey(crate::Part::Claims))
        );
        assert_eq!(e.code(), SetErrorCode::InvalidRequest);
    }
}

#[test]
fn parse_refusals_and_their_codes() {
    let claims = event(CREDENTIAL_CHANGE, opaque("alice"), json!({})).to_string();
    let case = |header: &str| parse_set(&compact(header, &claims)).unwrap_err();
    let key = [
        (
            r#"{"alg":"none","typ":"secevent+jwt"}"#,
            ParseError::AlgorithmNone,
        ),
        (
            r#"{"alg":"HS1","typ":"secevent+jwt"}"#,
            ParseError::UnsupportedAlgorithm,
        ),
        (r#"{"alg":"ES256","kid":"a b"}"#, ParseError::InvalidKeyId),
        (
            r#"{"alg":"ES256","jku":"https://evil"}"#,
            ParseError::ForbiddenHeader("jku"),
        ),
        (
            r#"{"alg":"ES256","jwk":{}}"#,
            ParseError::ForbiddenHeader("jwk"),
        ),
        (
            r#"{"alg":"ES256","x5u":"https://evil"}"#,
            ParseError::ForbiddenHeader("x5u"),
        ),
        (
            r#"{"alg":"ES256","x5c":[]}"#,
            ParseError::ForbiddenHeader("x5c"),
        ),
    ];
    for (header, parse_error) in key {
        let e = case(header);
        assert_eq!(e, SetError::Malformed(parse_error), "{header}");
        assert_eq!(e.code(), SetErrorCode::InvalidKey, "{header}");
    }
    for header in [
        r#"{"alg":"ES256","crit":["exp"]}"#,
        r#"{"alg":"ES256","b64":false}"#,
        r#"{"typ":"secevent+jwt"}"#,
        "[]",
    ] {
        assert_eq!(
            case(header).code(),
            SetErrorCode::InvalidRequest,
            "{header}"
        );
    }
    assert_eq!(
        parse_set("").unwrap_err().code(),
        SetErrorCode::InvalidRequest
    );
    assert_eq!(
        parse_set("a.b").unwrap_err(),
        SetError::Malformed(ParseError::SegmentCount)
    );
    let huge = "a".repeat(crate::MAX_TOKEN_LEN + 1);
    assert_eq!(
        parse_set(&huge).unwrap_err(),
        SetError::Malformed(ParseError::TooLarge { len: huge.len() })
    );
    assert!(SetError::from(ParseError::Empty)
        .to_string()
        .starts_with("malformed token"));
}

// ---------------------------------------------------------------------------------------------
// Keys: the core's selection, `invalid_key` when it refuses.

struct Accepting(bool);

impl SignatureVerifier for Accepting {
    fn verify(&self, _: &Key, _: &[u8], _: &[u8]) -> Result<(), SignatureError> {
        if self.0 {
            Ok(())
        } else {
            Err(SignatureError)
        }
    }
}

const EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"t1","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}"#;

fn hs_set(kid: &str) -> KeySet {
    KeySet::from_jwks(&format!(
        r#"{{"keys":[{{"kty":"oct","kid":"{kid}","alg":"HS256","k":"{}"}}]}}"#,
        b64(&[7; 32])
    ))
    .unwrap()
}

#[test]
fn keys_are_selected_by_kid_and_bound_to_their_algorithm() {
    let ec = KeySet::from_jwks(&format!(r#"{{"keys":[{EC_JWK}]}}"#)).unwrap();
    let claims = event(CREDENTIAL_CHANGE, opaque("alice"), json!({}));
    let es = token_of(
        &json!({"alg": "ES256", "kid": "t1", "typ": "secevent+jwt"}),
        &claims,
    );
    assert_eq!(
        select_set_key(&ec, &es.header).unwrap().kid.as_deref(),
        Some("t1")
    );
    assert!(verify_set_signature(&ec, &es, &Accepting(true)).is_ok());
    let bad = verify_set_signature(&ec, &es, &Accepting(false)).unwrap_err();
    assert_eq!(bad, SetError::BadSignature);
    assert_eq!(bad.code(), SetErrorCode::InvalidKey);
    // An unknown kid; and HS256 against a set of public keys: never.
    let other = token_of(
        &json!({"alg": "ES256", "kid": "t2", "typ": "secevent+jwt"}),
        &claims,
    );
    assert_eq!(
        select_set_key(&ec, &other.header).unwrap_err(),
        SetError::UnknownKey
    );
    let hs = token_of(
        &json!({"alg": "HS256", "kid": "t1", "typ": "secevent+jwt"}),
        &claims,
    );
    let e = verify_set_signature(&ec, &hs, &Accepting(true)).unwrap_err();
    assert_eq!(e, SetError::AlgorithmNotAllowed);
    assert_eq!(e.code(), SetErrorCode::InvalidKey);
    // HS only with an `oct` key in the transmitter's set.
    assert!(verify_set_signature(&hs_set("t1"), &hs, &Accepting(true)).is_ok());
    assert_eq!(
        verify_set_signature(&hs_set("t1"), &es, &Accepting(true)).unwrap_err(),
        SetError::AlgorithmNotAllowed
    );
    for e in [
        SetError::UnknownKey,
        SetError::AlgorithmNotAllowed,
        SetError::BadSignature,
    ] {
        assert_eq!(e.code().as_str(), "invalid_key");
        assert_eq!(e.code().status(), 400);
    }
}

#[cfg(feature = "jwt")]
#[test]
fn a_real_hs256_set_verifies_and_validates() {
    use hmac::{Hmac, Mac};
    let claims = event(SESSION_REVOKED, opaque("alice"), json!({})).to_string();
    let header = r#"{"alg":"HS256","kid":"h","typ":"secevent+jwt"}"#;
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&[7; 32]).unwrap();
    mac.update(input.as_bytes());
    let good = format!("{input}.{}", b64(&mac.finalize().into_bytes()));
    let token = parse_set(&good).unwrap();
    verify_set_signature(&hs_set("h"), &token, &crate::JwtVerifier).unwrap();
    assert_eq!(
        policy().validate(&token, NOW).unwrap().action,
        cutoff("alice", NOW - 5)
    );
    let forged = parse_set(&format!("{input}.{}", b64(&[0; 32]))).unwrap();
    assert_eq!(
        verify_set_signature(&hs_set("h"), &forged, &crate::JwtVerifier).unwrap_err(),
        SetError::BadSignature
    );
}

// ---------------------------------------------------------------------------------------------
// Codes and descriptions.

#[test]
fn every_code_once() {
    let codes = [
        (SetErrorCode::InvalidRequest, "invalid_request", 400),
        (SetErrorCode::InvalidKey, "invalid_key", 400),
        (SetErrorCode::InvalidIssuer, "invalid_issuer", 400),
        (SetErrorCode::InvalidAudience, "invalid_audience", 400),
        (
            SetErrorCode::AuthenticationFailed,
            "authentication_failed",
            401,
        ),
        (SetErrorCode::AccessDenied, "access_denied", 403),
    ];
    for (c, name, status) in codes {
        assert_eq!(c.as_str(), name);
        assert_eq!(c.to_string(), name);
        assert_eq!(c.status(), status);
    }
    assert_eq!(
        SetError::AuthenticationFailed.code(),
        SetErrorCode::AuthenticationFailed
    );
}

#[test]
fn descriptions_are_safe_for_a_json_body_and_a_header() {
    let errors = [
        SetError::Malformed(ParseError::Empty),
        SetError::UnknownKey,
        SetError::AlgorithmNotAllowed,
        SetError::BadSignature,
        SetError::WrongType { expected: SET_TYP },
        SetError::WrongType {
            expected: LOGOUT_TYP,
        },
        SetError::WrongIssuer,
        SetError::WrongAudience,
        SetError::MissingClaim("iat"),
        SetError::MissingClaim("jti"),
        SetError::MissingClaim("events"),
        SetError::MissingClaim("other"),
        SetError::InvalidClaim("jti"),
        SetError::InvalidClaim("sid"),
        SetError::InvalidClaim("sub"),
        SetError::InvalidClaim("events"),
        SetError::InvalidClaim("other"),
        SetError::OutOfTime {
            claim: "iat",
            time: 2,
            now: 1,
        },
        SetError::OutOfTime {
            claim: "exp",
            time: 1,
            now: 2,
        },
        SetError::OutOfTime {
            claim: "nbf",
            time: 2,
            now: 1,
        },
        SetError::EventCount(0),
        SetError::EventCount(3),
        SetError::EventNotObject,
        SetError::InvalidSubject("the subject has no format"),
        SetError::InvalidEventClaim("event_timestamp"),
        SetError::InvalidEventClaim("state"),
        SetError::EventInFuture {
            event_time: 2,
            latest: 1,
        },
        SetError::NotALogoutToken,
        SetError::NoncePresent,
        SetError::NoSessionOrSubject,
        SetError::AuthenticationFailed,
    ];
    let mut seen = Vec::new();
    for e in &errors {
        let d = e.description();
        assert!(
            !d.is_empty()
                && d.bytes()
                    .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'),
            "{d}"
        );
        assert!(!e.to_string().is_empty());
        seen.push(d);
    }
    seen.sort_unstable();
    seen.dedup();
    // Distinct situations read differently (the two `other` fallbacks aside).
    assert!(seen.len() >= errors.len() - 2, "{seen:?}");
}

// ---------------------------------------------------------------------------------------------
// Back-channel logout.

const CLIENT: &str = "s6BhdRkqt3";

fn logout_policy() -> LogoutPolicy {
    LogoutPolicy::new("https://server.example.com", CLIENT)
}

/// Back-Channel Logout 1.0 §2.4's example shape, `extra` laid over it (`null` removes).
fn logout_claims(extra: Value) -> Value {
    let mut claims = json!({
        "iss": "https://server.example.com",
        "sub": "248289761001",
        "aud": CLIENT,
        "iat": NOW - 2,
        "jti": "bWJq",
        "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    });
    overlay(&mut claims, extra);
    claims
}

fn logout(header: Value, extra: Value) -> Result<Received, SetError> {
    let token = parse_set(&compact(
        &header.to_string(),
        &logout_claims(extra).to_string(),
    ))?;
    logout_policy().validate(&token, NOW)
}

fn rs256() -> Value {
    json!({"alg": "RS256", "kid": "k"})
}

#[test]
fn logout_by_sid_and_by_sub() {
    let both = logout(rs256(), json!({})).unwrap();
    assert_eq!(
        both,
        Received {
            jti: "bWJq".into(),
            iat: NOW - 2,
            kind: EventKind::BackchannelLogout,
            action: EventAction::RevokeSession {
                sid: "08a5019c-17e1-4977-8f42-65a12843ea02".into(),
                sub: Some("248289761001".into()),
            },
        }
    );
    assert_eq!(both.kind.uri(), BACKCHANNEL_LOGOUT_EVENT);
    assert_eq!(
        EventKind::from_uri(BACKCHANNEL_LOGOUT_EVENT),
        EventKind::BackchannelLogout
    );
    let sid_only = logout(rs256(), json!({"sub": null})).unwrap();
    assert_eq!(
        sid_only.action,
        EventAction::RevokeSession {
            sid: "08a5019c-17e1-4977-8f42-65a12843ea02".into(),
            sub: None
        }
    );
    let sub_only = logout(rs256(), json!({"sid": null})).unwrap();
    assert_eq!(sub_only.action, cutoff("248289761001", NOW - 2));
    assert_eq!(
        logout(rs256(), json!({"sid": null, "sub": null})),
        Err(SetError::NoSessionOrSubject)
    );
}

#[test]
fn logout_typ_when_present_is_logout_jwt() {
    for typ in ["logout+jwt", "application/logout+jwt", "LOGOUT+JWT"] {
        assert!(
            logout(json!({"alg": "RS256", "typ": typ}), json!({})).is_ok(),
            "{typ}"
        );
    }
    for typ in ["JWT", "secevent+jwt", "at+jwt"] {
        assert_eq!(
            logout(json!({"alg": "RS256", "typ": typ}), json!({})),
            Err(SetError::WrongType {
                expected: LOGOUT_TYP
            }),
            "{typ}"
        );
    }
    assert_eq!(
        SetError::WrongType {
            expected: LOGOUT_TYP
        }
        .description(),
        "header typ is not logout+jwt"
    );
}

#[test]
fn logout_rules() {
    let cases: Vec<(Value, SetError)> = vec![
        (
            json!({"iss": "https://server.example.com/"}),
            SetError::WrongIssuer,
        ),
        (json!({"iss": null}), SetError::WrongIssuer),
        (json!({"aud": "other"}), SetError::WrongAudience),
        (json!({"aud": null}), SetError::WrongAudience),
        (json!({"iat": null}), SetError::MissingClaim("iat")),
        (
            json!({"iat": NOW + 31}),
            SetError::OutOfTime {
                claim: "iat",
                time: NOW + 31,
                now: NOW,
            },
        ),
        (
            json!({"exp": NOW - 30}),
            SetError::OutOfTime {
                claim: "exp",
                time: NOW - 30,
                now: NOW,
            },
        ),
        (json!({"jti": null}), SetError::MissingClaim("jti")),
        (json!({"events": null}), SetError::MissingClaim("events")),
        (
            json!({"events": [BACKCHANNEL_LOGOUT_EVENT]}),
            SetError::InvalidClaim("events"),
        ),
        (json!({"events": {}}), SetError::NotALogoutToken),
        (
            json!({"events": {"https://schemas.openid.net/event/backchannel-logout": {}}}),
            SetError::NotALogoutToken,
        ),
        (
            json!({"events": { BACKCHANNEL_LOGOUT_EVENT: true }}),
            SetError::EventNotObject,
        ),
        (json!({"nonce": "n-0S6_WzA2Mj"}), SetError::NoncePresent),
        (json!({"sid": "a\u{0}b"}), SetError::InvalidClaim("sid")),
        (json!({"sub": "alice "}), SetError::InvalidClaim("sub")),
    ];
    for (extra, expected) in cases {
        assert_eq!(logout(rs256(), extra.clone()), Err(expected), "{extra}");
    }
    // Other events beside the logout event, `exp` in the future, an `aud` array: accepted.
    let fine = json!({
        "events": { BACKCHANNEL_LOGOUT_EVENT: {}, "urn:example:other": {"x": 1} },
        "exp": NOW + 120,
        "aud": ["other", CLIENT],
    });
    assert!(logout(rs256(), fine).is_ok());
}

#[test]
fn a_set_is_not_a_logout_token_and_a_logout_token_not_a_set() {
    // A SET carrying the logout event, typed as a SET, is refused as a logout token.
    let set_typed = logout(set_header(), json!({}));
    assert_eq!(
        set_typed,
        Err(SetError::WrongType {
            expected: LOGOUT_TYP
        })
    );
    // A logout token (typed or not) is refused as a SET.
    let p = SetPolicy::new("https://server.example.com", CLIENT);
    for header in [rs256(), json!({"alg": "RS256", "typ": "logout+jwt"})] {
        let t = token_of(&header, &logout_claims(json!({})));
        assert_eq!(
            p.validate(&t, NOW),
            Err(SetError::WrongType { expected: SET_TYP })
        );
    }
    // An ID token (a nonce, no events) is not a logout token.
    let id_token = logout(rs256(), json!({"events": null, "nonce": "n"}));
    assert_eq!(id_token, Err(SetError::MissingClaim("events")));
}

// ---------------------------------------------------------------------------------------------
// Properties.

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn id() -> impl Strategy<Value = String> {
        "[ -~]{0,12}|\\PC{0,6}|[a-z]{1,4}[\\x00-\\x1f][a-z]{0,2}"
    }

    fn subject() -> impl Strategy<Value = Value> {
        let simple: BoxedStrategy<Value> = prop_oneof![
            id().prop_map(|i| opaque(&i)),
            (
                prop_oneof![Just(SUBJECT_ISS.to_owned()), "[a-z:/.]{0,12}"],
                id()
            )
                .prop_map(|(iss, sub)| iss_sub(&iss, &sub)),
            id().prop_map(|e| json!({"format": "email", "email": e})),
            Just(json!({"format": "opaque"})),
            Just(json!("x")),
        ]
        .boxed();
        prop_oneof![
            simple.clone(),
            (
                proptest::option::of(simple.clone()),
                proptest::option::of(simple),
                any::<bool>()
            )
                .prop_map(|(user, session, tagged)| {
                    let mut m = serde_json::Map::new();
                    if tagged {
                        m.insert("format".into(), json!("complex"));
                    }
                    if let Some(u) = user {
                        m.insert("user".into(), u);
                    }
                    if let Some(s) = session {
                        m.insert("session".into(), s);
                    }
                    Value::Object(m)
                }),
        ]
    }

    fn kind() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(SESSION_REVOKED.to_owned()),
            Just(CREDENTIAL_CHANGE.to_owned()),
            Just("https://schemas.openid.net/secevent/risc/event-type/account-disabled".to_owned()),
            Just(VERIFICATION.to_owned()),
            "https://schemas.openid.net/secevent/[a-z/-]{0,20}",
        ]
    }

    /// Runs `check` on `cases` generated values and counts the outcome index each returns:
    /// a property must show that every case it speaks of actually happened. From a fixed seed,
    /// so that the counts (and the minimum each must reach) are the same on every run.
    fn run_counting<S: Strategy, const N: usize>(
        cases: u32,
        strategy: S,
        check: impl Fn(S::Value) -> Result<usize, TestCaseError>,
    ) -> [usize; N] {
        let counts = core::cell::RefCell::new([0usize; N]);
        let config = ProptestConfig {
            cases,
            ..ProptestConfig::default()
        };
        let rng = proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        );
        proptest::test_runner::TestRunner::new_with_rng(config, rng)
            .run(&strategy, |value| {
                let i = check(value)?;
                counts.borrow_mut()[i] += 1;
                Ok(())
            })
            .unwrap();
        counts.into_inner()
    }

    fn payload(time: Option<UnixTime>) -> Value {
        time.map_or_else(|| json!({}), |t| json!({ "event_timestamp": t }))
    }

    /// Whatever the subject and event, an accepted SET revokes only ids a Warden token could
    /// carry, never with a cutoff beyond now + leeway, and only for the event types that
    /// revoke; a session only for session-revoked. Every action and the refusal happen.
    #[test]
    fn actions_name_only_usable_ids() {
        let strategy = (kind(), subject(), proptest::option::of(0u64..NOW + 100));
        let seen: [usize; 6] = run_counting(8000, strategy, |(kind, subject, time)| {
            let usable = |s: &str| s.len() <= MAX_ID_LEN && is_identity_value(s);
            let received = match validate(&event(&kind, subject, payload(time))) {
                Ok(r) => r,
                Err(e) => {
                    prop_assert_eq!(e.code(), SetErrorCode::InvalidRequest);
                    return Ok(5);
                }
            };
            Ok(match &received.action {
                EventAction::RevokeSession { sid, sub } => {
                    prop_assert_eq!(&received.kind, &EventKind::SessionRevoked);
                    prop_assert!(usable(sid));
                    prop_assert!(sub.as_deref().is_none_or(usable));
                    0
                }
                EventAction::SubjectCutoff { sub, before } => {
                    prop_assert!(usable(sub));
                    prop_assert!(*before <= NOW + DEFAULT_LEEWAY);
                    prop_assert_eq!(*before, time.unwrap_or(NOW - 5));
                    prop_assert!(
                        received.kind == EventKind::SessionRevoked || received.kind.cuts_off_user()
                    );
                    1
                }
                EventAction::Verified { .. } => {
                    prop_assert_eq!(&received.kind, &EventKind::Verification);
                    2
                }
                EventAction::Ignored => {
                    prop_assert!(matches!(received.kind, EventKind::Other(_)));
                    3
                }
                EventAction::Unmapped { .. } => 4,
            })
        });
        assert!(seen.iter().all(|n| *n >= 10), "{seen:?}");
    }

    /// Any claims text, and any event type and `iat`: never a panic; accepted exactly when
    /// `iat` is within the leeway, with that `iat`. Both outcomes happen.
    #[test]
    fn arbitrary_claims_never_panic() {
        let strategy = ("\\PC{0,200}", 0u64..NOW * 2);
        let seen: [usize; 2] = run_counting(2000, strategy, |(text, iat)| {
            let _ = parse_set(&compact(&set_header().to_string(), &text))
                .map(|t| policy().validate(&t, NOW));
            let claims = set_claims(
                json!({ text.clone(): {} }),
                json!({"iat": iat, "sub_id": opaque(&text)}),
            );
            match validate(&claims) {
                Ok(r) => {
                    prop_assert!(iat <= NOW + DEFAULT_LEEWAY);
                    prop_assert_eq!(r.iat, iat);
                    Ok(0)
                }
                Err(e) => {
                    prop_assert_eq!(
                        e,
                        SetError::OutOfTime {
                            claim: "iat",
                            time: iat,
                            now: NOW
                        }
                    );
                    Ok(1)
                }
            }
        });
        assert!(seen.iter().all(|n| *n >= 100), "{seen:?}");
    }

    /// A logout token revokes exactly its `sid` when it has one, else cuts off its `sub` at
    /// its `iat`; ids that are not identity values, a future `iat`, or neither id: refused.
    /// Every outcome happens.
    #[test]
    fn logout_actions() {
        let strategy = (
            proptest::option::of(id()),
            proptest::option::of(id()),
            NOW - 1000..NOW + 60,
        );
        let seen: [usize; 3] = run_counting(3000, strategy, |(sid, sub, iat)| {
            let text = |v: &Option<String>| v.as_ref().map_or(Value::Null, |s| json!(s));
            let result = logout(
                rs256(),
                json!({"sid": text(&sid), "sub": text(&sub), "iat": iat}),
            );
            let usable = |v: &Option<String>| {
                v.as_ref()
                    .is_none_or(|s| s.len() <= MAX_ID_LEN && is_identity_value(s))
            };
            let expected = match (&sid, &sub) {
                _ if iat > NOW + DEFAULT_LEEWAY || !usable(&sid) || !usable(&sub) => None,
                (Some(s), u) => Some(EventAction::RevokeSession {
                    sid: s.clone(),
                    sub: u.clone(),
                }),
                (None, Some(u)) => Some(cutoff(u, iat)),
                (None, None) => None,
            };
            let case = match &expected {
                Some(EventAction::RevokeSession { .. }) => 0,
                Some(_) => 1,
                None => 2,
            };
            prop_assert_eq!(result.ok().map(|r| r.action), expected);
            Ok(case)
        });
        assert!(seen.iter().all(|n| *n >= 100), "{seen:?}");
    }
}
