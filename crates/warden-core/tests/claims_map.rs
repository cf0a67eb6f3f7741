//! The whole header and claims on request (`Token::header_map`, `Token::claims_map`), and the
//! parse's JSON verdicts against the strict object parser (`parse_json_object`): `parse` reads
//! only the registered members, yet refuses exactly the texts the strict parser refuses.
#![cfg(not(target_arch = "wasm32"))]
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::{b64, claims, hs256, HMAC_SECRET, HS_HEADER};
use proptest::prelude::*;
use serde_json::{Map, Value};
use warden_core::{parse, parse_json_object, JsonError, ParseError, Part};

fn token(header: &str, claims: &str) -> String {
    format!("{}.{}.AA", b64(header.as_bytes()), b64(claims.as_bytes()))
}

/// Unknown member names (none of them a registered claim).
fn unknown_key() -> impl Strategy<Value = String> {
    "[a-h]{1,2}|x-[a-z]{1,6}|é|[ -~]{0,3}".prop_filter("registered claims are typed", |k| {
        !matches!(
            k.as_str(),
            "iss" | "sub" | "aud" | "exp" | "nbf" | "iat" | "jti" | "sid" | "scope"
        )
    })
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Quarters: exact in binary, so the text round trip is exact without `float_roundtrip`.
        (-4000i32..4000).prop_map(|q| Value::from(f64::from(q) / 4.0)),
        "[ -~]{0,8}|\\PC{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(unknown_key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn the_maps_are_the_whole_objects() {
    let t = parse(&hs256(HS_HEADER, &claims(), HMAC_SECRET)).unwrap();
    assert_eq!(
        Value::Object(t.header_map().unwrap()),
        serde_json::from_str::<Value>(HS_HEADER).unwrap()
    );
    assert_eq!(
        Value::Object(t.claims_map().unwrap()),
        serde_json::from_str::<Value>(&claims()).unwrap()
    );
    // A cached (cloned) token still has them.
    assert_eq!(t.clone().claims_map(), t.claims_map());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Unknown members, whatever their shape, never change the typed reading, and come back
    /// whole from `claims_map`.
    #[test]
    fn unknown_members_are_walked_and_kept_for_claims_map(
        extra in prop::collection::btree_map(unknown_key(), any_value(), 0..6),
    ) {
        let base: Map<String, Value> = serde_json::from_str(&claims()).unwrap();
        let mut whole = base.clone();
        whole.extend(extra.into_iter());
        let plain = parse(&token(HS_HEADER, &claims())).unwrap();
        let text = serde_json::to_string(&whole).unwrap();
        let t = parse(&token(HS_HEADER, &text)).unwrap();
        prop_assert_eq!(&t.claims, &plain.claims);
        prop_assert_eq!(&t.header, &plain.header);
        prop_assert_eq!(t.claims_map().unwrap(), whole);
    }

    /// Duplicate keys at depth 0 to 2, trailing commas, non-objects: `parse` gives the strict
    /// parser's verdict on the claims, for the header as for the claims.
    #[test]
    fn json_verdicts_are_the_strict_parsers(
        text in "\\{(\"[ab]\":(1|\"x\"|\\{(\"[ab]\":(1|\\[\\{(\"[ab]\":1,?){0,3}\\}\\]),?){0,3}\\}|\\[\\{(\"[ab]\":1,?){0,3}\\}\\]),?){0,4}\\}|\\[(\\{(\"[ab]\":1,?){0,3}\\},?){0,2}\\]",
    ) {
        let want = match parse_json_object(text.as_bytes()) {
            Ok(map) => Ok(map),
            Err(JsonError::DuplicateKey) => Err(ParseError::DuplicateKey(Part::Claims)),
            Err(_) => Err(ParseError::Json(Part::Claims)),
        };
        let got = parse(&token(HS_HEADER, &text)).map(|t| t.claims_map().unwrap());
        prop_assert_eq!(&got, &want);

        let header = text.replacen('{', r#"{"alg":"HS256","#, 1).replace(r#"HS256",}"#, r#"HS256"}"#);
        let want = match parse_json_object(header.as_bytes()) {
            Ok(map) => Ok(map),
            Err(JsonError::DuplicateKey) => Err(ParseError::DuplicateKey(Part::Header)),
            Err(_) => Err(ParseError::Json(Part::Header)),
        };
        let got = parse(&token(&header, "{}")).map(|t| t.header_map().unwrap());
        prop_assert_eq!(got, want);
    }
}
