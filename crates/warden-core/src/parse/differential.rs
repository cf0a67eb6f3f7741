//! The borrowing parse against the owned one it replaced (`parse::owned`: the whole header and
//! claims built with `json::parse_object`, then read by `Claims` from the map): the same
//! verdict, the same error, the same token, on hand-picked and generated JSON.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{parse_object, JsonError};
use crate::parse::owned;
use crate::{parse, parse_times, ParseError, Part};

fn b64(bytes: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token(header: &str, claims: &str) -> String {
    format!("{}.{}.AA", b64(header.as_bytes()), b64(claims.as_bytes()))
}

/// Parses `token` both ways and checks they agree, and that [`parse_times`] gives the same
/// verdict and times; returns the borrowing parse's verdict.
fn agree(token: &str) -> Result<(), ParseError> {
    let ours = parse(token);
    assert_eq!(
        parse_times(token),
        ours.as_ref()
            .map(|t| t.claims.times())
            .map_err(Clone::clone),
        "{token}"
    );
    match (&ours, owned::parse(token)) {
        (Ok(t), Ok((oracle, header, claims))) => {
            assert_eq!(t, &oracle, "{token}");
            assert_eq!(t.header_map().as_ref(), Ok(&header), "{token}");
            assert_eq!(t.claims_map().as_ref(), Ok(&claims), "{token}");
        }
        (ours, oracle) => assert_eq!(
            ours.as_ref().map(drop),
            oracle.as_ref().map(drop),
            "{token}"
        ),
    }
    ours.map(drop)
}

const HS: &str = r#"{"alg":"HS256"}"#;

fn claims(json: &str) -> Result<(), ParseError> {
    agree(&token(HS, json))
}

fn header(json: &str) -> Result<(), ParseError> {
    agree(&token(json, "{}"))
}

#[test]
fn duplicates_refused_at_every_depth_in_unknown_and_registered_members() {
    let dup = Err(ParseError::DuplicateKey(Part::Claims));
    for json in [
        r#"{"a":1,"a":2}"#,
        r#"{"sub":"x","sub":"x"}"#,
        r#"{"sub":"x","s\u0075b":"x"}"#,
        r#"{"x":{"b":1,"b":1}}"#,
        r#"{"x":[1,{"b":1,"\u0062":1}]}"#,
        r#"{"x":[[[{"c":{"d":[{"e":1,"e":2}]}}]]]}"#,
        r#"{"aud":["a",{"b":1,"b":1}]}"#,
        r#"{"aud":[1,{"b":1,"b":1}]}"#,
        r#"{"exp":{"b":1,"b":1}}"#,
        r#"{"iss":[{"b":1,"b":1}]}"#,
        // A wrong type before the duplicate: the duplicate is refused first, as before.
        r#"{"exp":"soon","a":1,"a":1}"#,
    ] {
        assert_eq!(claims(json), dup, "{json}");
    }
    assert_eq!(
        header(r#"{"alg":"HS256","jwk":{"k":1,"k":2}}"#),
        Err(ParseError::DuplicateKey(Part::Header))
    );
    assert_eq!(
        header(r#"{"alg":"HS256","alg":"HS256"}"#),
        Err(ParseError::DuplicateKey(Part::Header))
    );
    // The same key in different objects is no duplicate.
    assert_eq!(
        claims(r#"{"a":{"b":1},"b":{"a":1},"c":[{"a":1},{"a":1}]}"#),
        Ok(())
    );
}

#[test]
fn many_keys_and_a_late_duplicate() {
    for n in [1usize, 15, 16, 17, 40, 300] {
        let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
        let body = members.join(",");
        assert_eq!(claims(&format!("{{{body}}}")), Ok(()), "{n}");
        for repeat in [0, n / 2, n - 1] {
            let dup = format!("{{{body},\"k{repeat}\":0}}");
            assert_eq!(claims(&dup), Err(ParseError::DuplicateKey(Part::Claims)));
            let nested = format!("{{\"x\":{{{body},\"k{repeat}\":0}}}}");
            assert_eq!(claims(&nested), Err(ParseError::DuplicateKey(Part::Claims)));
        }
    }
}

#[test]
fn the_first_problem_in_the_text_wins() {
    // A duplicate before a syntax error, and a syntax error before a duplicate.
    assert_eq!(
        claims(r#"{"a":1,"a":2,"b":}"#),
        Err(ParseError::DuplicateKey(Part::Claims))
    );
    assert_eq!(
        claims(r#"{"a":[1,],"a":2}"#),
        Err(ParseError::Json(Part::Claims))
    );
    // Type errors only once the whole object is known good, in the registered order.
    assert_eq!(
        claims(r#"{"scope":1,"iss":2}"#),
        Err(ParseError::InvalidClaim("iss"))
    );
    assert_eq!(
        claims(r#"{"exp":"x","b":}"#),
        Err(ParseError::Json(Part::Claims))
    );
    assert_eq!(
        header(r#"{"x5c":[],"jku":"https://x","alg":"HS256"}"#),
        Err(ParseError::ForbiddenHeader("jku"))
    );
    assert_eq!(
        header(r#"{"kid":"bad kid","typ":1,"alg":"HS256"}"#),
        Err(ParseError::InvalidHeader("typ"))
    );
    assert_eq!(header(r#"{"kid":1}"#), Err(ParseError::MissingAlgorithm));
}

#[test]
fn shapes_and_types_as_before() {
    for json in [
        "[]",
        "[{\"a\":1,\"a\":1}]",
        "\"x\"",
        "1",
        "null",
        "{} {}",
        "{}x",
        "",
        "{\"a\":\"\u{7f}\"}",
        "{\"a\":1e400}",
        "{\"a\":\"\\ud800\"}",
        r#"{"exp":1.0}"#,
        r#"{"exp":-0}"#,
        r#"{"exp":-1}"#,
        r#"{"exp":1e3}"#,
        r#"{"exp":253402300799}"#,
        r#"{"exp":253402300800}"#,
        r#"{"exp":18446744073709551615}"#,
        r#"{"exp":18446744073709551616}"#,
        r#"{"exp":null}"#,
        r#"{"aud":[]}"#,
        r#"{"aud":["a","b\u00e9"]}"#,
        r#"{"aud":["a",1]}"#,
        r#"{"aud":[["a"]]}"#,
        r#"{"aud":""}"#,
        r#"{"sub":""}"#,
        r#"{"sub":"a\"b","iss":"\u00e9","scope":"read write"}"#,
        r#"{"cnf":null}"#,
        r#"{"cnf":[]}"#,
        r#"{"cnf":{}}"#,
        r#"{"cnf":{"jkt":"a","x5t#S256":1,"z":[{"jkt":2}]}}"#,
        r#"{"cnf":{"jkt":"","x5t#S256":"b"}}"#,
        r#"{"cnf":{"jkt":{"jkt":"a"}}}"#,
        r#"{"cnf":{"\u006akt":"\u0061","x5t#S256":null}}"#,
        r#"{"cnf":{"jkt":"a","jkt":"b"}}"#,
        r#"{"cnf":{"jkt":"a"},"cnf":{"jkt":"a"}}"#,
    ] {
        let _ = claims(json);
    }
    let long = "a".repeat(crate::MAX_ID_LEN);
    assert_eq!(claims(&format!(r#"{{"jti":"{long}"}}"#)), Ok(()));
    assert_eq!(
        claims(&format!(r#"{{"jti":"{long}b"}}"#)),
        Err(ParseError::InvalidClaim("jti"))
    );
    for json in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"nOnE"}"#,
        r#"{"alg":"HS\u0032\u0035\u0036"}"#,
        r#"{"alg":"hs256"}"#,
        r#"{"alg":["HS256"]}"#,
        r#"{"alg":"HS256","kid":"k\u00e9"}"#,
        r#"{"alg":"HS256","kid":""}"#,
        r#"{"alg":"HS256","kid":"k1","typ":"at+jwt","x":{"y":[]}}"#,
        r#"{"alg":"HS256","crit":null}"#,
        r#"{"alg":"HS256","b64":false}"#,
    ] {
        let _ = header(json);
    }
}

#[test]
fn the_nesting_limit_is_unchanged() {
    for depth in [100usize, 126, 127, 128, 129, 2800] {
        let arrays = format!("{{\"n\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        let _ = claims(&arrays);
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let _ = claims(&objects);
        let aud = format!("{{\"aud\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        let _ = claims(&aud);
    }
    let too_deep = format!("{{\"n\":{}{}}}", "[".repeat(200), "]".repeat(200));
    assert_eq!(claims(&too_deep), Err(ParseError::Json(Part::Claims)));
}

#[test]
fn maps_from_a_changed_signing_input() {
    let mut t = parse(&token(HS, r#"{"sub":"a"}"#)).unwrap_or_else(|e| unreachable!("{e}"));
    t.signing_input = String::from("e30!");
    assert_eq!(t.claims_map(), Err(ParseError::SegmentCount));
    assert_eq!(t.header_map(), Err(ParseError::Base64(Part::Header)));
    t.signing_input = format!("{}.{}", b64(HS.as_bytes()), b64(b"[1]"));
    assert_eq!(t.claims_map(), Err(ParseError::Json(Part::Claims)));
    assert!(t.header_map().is_ok());
}

#[test]
fn the_oracle_is_the_strict_object_parser() {
    assert_eq!(
        parse_object(br#"{"a":1,"a":1}"#),
        Err(JsonError::DuplicateKey)
    );
}

/// Generated JSON texts with duplicate keys at random depths, registered members of every type,
/// unknown members, escapes, non-objects and broken text.
#[cfg(not(target_arch = "wasm32"))]
mod generated {
    use super::*;
    use proptest::prelude::*;

    /// Keys as written between the quotes: registered names, their escaped spellings, others.
    const KEYS: &[&str] = &[
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "sid",
        "scope",
        "cnf",
        "jkt",
        "x5t#S256",
        "alg",
        "typ",
        "kid",
        "crit",
        "b64",
        "jku",
        "x5u",
        "jwk",
        "x5c",
        "a",
        "b",
        r"\u0061",
        r"s\u0075b",
        r"\u0065xp",
        "",
        r#"\""#,
        "é",
    ];
    /// String contents as written between the quotes.
    const STRINGS: &[&str] = &[
        "",
        "x",
        "HS256",
        "ES256",
        "RS256",
        "none",
        "NoNe",
        "hs256",
        r"HS\u0032\u0035\u0036",
        "k1",
        "k 1",
        r"k\u00e9",
        "at+jwt",
        "read write",
        r#"a\"b"#,
        r"\ud83d\ude00",
        r"\ud800",
        "https://issuer",
    ];
    /// Numbers and literals (one out of range for serde_json: a syntax error).
    const LITERALS: &[&str] = &[
        "null",
        "true",
        "false",
        "0",
        "1",
        "-1",
        "-0",
        "1.0",
        "1e3",
        "0.5",
        "1700000000",
        "253402300799",
        "253402300800",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775809",
        "1e400",
    ];

    #[derive(Clone, Debug)]
    enum J {
        Lit(&'static str),
        Str(String),
        Arr(Vec<J>),
        Obj(Vec<(&'static str, J)>),
    }

    fn render(j: &J, out: &mut String) {
        match j {
            J::Lit(l) => out.push_str(l),
            J::Str(s) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    render(item, out);
                }
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('"');
                    out.push_str(k);
                    out.push_str("\":");
                    render(v, out);
                }
                out.push('}');
            }
        }
    }

    fn key() -> impl Strategy<Value = &'static str> {
        prop::sample::select(KEYS)
    }

    fn value() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            3 => prop::sample::select(LITERALS).prop_map(J::Lit),
            3 => prop::sample::select(STRINGS).prop_map(|s| J::Str(s.into())),
            1 => "a{255,258}".prop_map(J::Str),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
                prop::collection::vec(prop::sample::select(STRINGS), 0..4)
                    .prop_map(|s| J::Arr(s.into_iter().map(|s| J::Str(s.into())).collect())),
                prop::collection::vec((key(), inner), 0..6).prop_map(J::Obj),
            ]
        })
    }

    /// A JSON text: mostly an object (`first` members, when given, lead it), sometimes another
    /// value, sometimes cut short or followed by more text.
    fn text(first: Vec<(&'static str, J)>) -> impl Strategy<Value = String> {
        let object = prop::collection::vec((key(), value()), 0..8).prop_map(move |rest| {
            let mut members = first.clone();
            members.extend(rest);
            J::Obj(members)
        });
        let top = prop_oneof![8 => object, 1 => value()];
        (top, 0u8..20, any::<prop::sample::Index>()).prop_map(|(j, damage, at)| {
            let mut out = String::new();
            render(&j, &mut out);
            match damage {
                0 => {
                    let cut = at.index(out.len() + 1);
                    let cut = (0..=cut)
                        .rev()
                        .find(|i| out.is_char_boundary(*i))
                        .unwrap_or(0);
                    out.truncate(cut);
                }
                1 => out.push_str(" {}"),
                2 => out.push_str(" \n"),
                _ => {}
            }
            out
        })
    }

    fn header_text() -> impl Strategy<Value = String> {
        let alg = |name: &str| ("alg", J::Str(name.into()));
        prop_oneof![
            5 => Just(alloc::vec![alg("HS256")]),
            2 => prop::sample::select(STRINGS).prop_map(move |name| alloc::vec![alg(name)]),
            2 => prop::sample::select(STRINGS)
                .prop_map(move |kid| alloc::vec![alg("ES256"), ("kid", J::Str(kid.into()))]),
            1 => Just(Vec::new()),
        ]
        .prop_flat_map(text)
    }

    /// The strategy is not vacuous: it reaches acceptance and every kind of refusal.
    #[test]
    fn the_generated_texts_reach_every_verdict() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        use std::collections::BTreeSet;
        use std::string::ToString;

        let mut runner = TestRunner::deterministic();
        let strategy = (header_text(), text(Vec::new()));
        let mut seen = BTreeSet::new();
        for _ in 0..3_000 {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                continue;
            };
            let (h, c) = tree.current();
            let verdict = match agree(&token(&h, &c)) {
                Ok(()) => "ok".to_string(),
                Err(ParseError::InvalidClaim(_)) => "invalid claim".to_string(),
                Err(ParseError::InvalidHeader(_)) => "invalid header".to_string(),
                Err(ParseError::ForbiddenHeader(_)) => "forbidden header".to_string(),
                Err(e) => format!("{e:?}"),
            };
            seen.insert(verdict);
        }
        for want in [
            "ok",
            "invalid claim",
            "invalid header",
            "forbidden header",
            "DuplicateKey(Claims)",
            "DuplicateKey(Header)",
            "Json(Claims)",
            "Json(Header)",
            "MissingAlgorithm",
            "AlgorithmNone",
            "UnsupportedAlgorithm",
            "InvalidKeyId",
        ] {
            assert!(seen.contains(want), "{want} never reached: {seen:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

        #[test]
        fn the_borrowing_parse_agrees_with_the_owned_one(
            h in header_text(),
            c in text(Vec::new()),
        ) {
            let _ = agree(&token(&h, &c));
        }

        #[test]
        fn claims_agree_under_a_fixed_header(c in text(Vec::new())) {
            let _ = claims(&c);
        }
    }
}
