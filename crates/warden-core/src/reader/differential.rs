//! The reader against serde_json: [`read_object`] and [`read_map`] (the reader building whole
//! values, `tree.rs`: [`crate::parse_json_object`]) must accept the same texts as serde_json
//! (building a `Value` with a visitor that refuses duplicate keys: [`oracle`]), capture the same
//! members, build the same values (floats to the bit) and refuse with the same [`JsonError`].
//! [`agree`] checks one text; the tests below run it on hand-picked texts and on generated ones,
//! and the fuzz target `json_reader` on arbitrary bytes (with the names `parse` reads: the
//! registered claims, then the header parameters).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use super::tree::read_map;
use super::{read_object, JsonError, Member};

/// Reads `bytes` with the reader, capturing `names`, with the reader building values, and with
/// serde_json; panics unless they agree. Returns the verdict.
pub(crate) fn agree<const N: usize>(
    bytes: &[u8],
    names: &[&'static str; N],
) -> Result<(), JsonError> {
    let oracle = oracle::parse(bytes);
    let built = read_map(bytes);
    assert_eq!(
        built.as_ref().map(exact),
        oracle.as_ref().map(exact),
        "{:?}",
        String::from_utf8_lossy(bytes)
    );
    let expected = oracle
        .as_ref()
        .map(|map| names.map(|name| map.get(name).map(member)))
        .map_err(|e| *e);
    let read = read_object(bytes, names).map(|mut members| {
        for (name, m) in names.iter().zip(&mut members) {
            if let Some(Member::Object(text)) = m {
                // An object is captured as its text: serde_json reads that text as the member.
                let want = oracle.as_ref().ok().and_then(|map| map.get(*name));
                assert_eq!(oracle::parse(text).ok().map(Value::Object).as_ref(), want);
                *m = Some(Member::Other);
            }
        }
        members
    });
    assert_eq!(read, expected, "{:?}", String::from_utf8_lossy(bytes));
    oracle.map(drop)
}

/// An object as text that tells every two different values apart: serde_json writes a float
/// in the fewest digits that read back to the same bits (`-0.0` too), an integer as itself.
fn exact(map: &Map<String, Value>) -> String {
    use alloc::string::ToString;
    Value::Object(map.clone()).to_string()
}

/// serde_json itself, with a visitor that refuses duplicate keys: what the reader must match.
mod oracle {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use core::fmt;
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};

    use super::super::JsonError;

    /// The message of the custom error the strict visitor raises on a repeated key.
    const DUPLICATE: &str = "duplicate key";

    pub(super) fn parse(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
        match serde_json::from_slice::<Strict>(bytes) {
            Ok(Strict(Value::Object(map))) => Ok(map),
            Ok(_) => Err(JsonError::NotAnObject),
            Err(e) if e.is_data() && e.to_string().starts_with(DUPLICATE) => {
                Err(JsonError::DuplicateKey)
            }
            Err(_) => Err(JsonError::Syntax),
        }
    }

    /// A `serde_json::Value` whose deserialisation refuses duplicate object keys.
    struct Strict(Value);

    impl<'de> Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(StrictVisitor).map(Strict)
        }
    }

    struct StrictVisitor;

    impl<'de> Visitor<'de> for StrictVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.into()))
        }
        // serde_json's `deserialize_any` calls `visit_unit` for `null` (never `visit_none`), and
        // `visit_str` or `visit_borrowed_str` for a string.
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(Strict(v)) = seq.next_element()? {
                out.push(v);
            }
            Ok(Value::Array(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(DUPLICATE));
                }
                let Strict(v) = map.next_value()?;
                out.insert(key, v);
            }
            Ok(Value::Object(out))
        }
    }
}

/// What the reader must capture for a member that serde_json read as `value` (an object: its
/// text, which [`agree`] reads back).
fn member(value: &Value) -> Member<'_> {
    match value {
        Value::String(s) => Member::Str(Cow::Borrowed(s)),
        // `as_u64` is `Some` exactly for what serde_json parsed as a u64 (`-0`, `1.0` and `1e3`
        // are floats to it).
        Value::Number(n) => n.as_u64().map_or(Member::Other, Member::U64),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(Cow::Borrowed))
            .collect::<Option<Vec<_>>>()
            .map_or(Member::Other, Member::Strs),
        _ => Member::Other,
    }
}

/// The registered claims and header parameters `parse` reads (`CLAIM_NAMES`, `HEADER_NAMES`;
/// named here, as the reader sits below `claims` and `parse`), and one more.
#[cfg(test)]
const NAMES: [&str; 19] = [
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "scope", "alg", "typ", "kid", "crit",
    "b64", "jku", "x5u", "jwk", "x5c", "a",
];

/// [`agree`] with [`NAMES`].
#[cfg(test)]
fn agree_on(bytes: &[u8]) -> Result<(), JsonError> {
    agree(bytes, &NAMES)
}

#[cfg(test)]
mod table {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const OK: Result<(), JsonError> = Ok(());
    const SYNTAX: Result<(), JsonError> = Err(JsonError::Syntax);
    const DUPLICATE: Result<(), JsonError> = Err(JsonError::DuplicateKey);
    const NOT_AN_OBJECT: Result<(), JsonError> = Err(JsonError::NotAnObject);

    fn check(cases: &[(&[u8], Result<(), JsonError>)]) {
        for (text, want) in cases {
            assert_eq!(agree_on(text), *want, "{:?}", String::from_utf8_lossy(text));
        }
    }

    /// In a member value, as a registered claim (captured) and as an unknown one (walked).
    fn check_values(cases: &[(&str, Result<(), JsonError>)]) {
        for (value, want) in cases {
            for key in ["exp", "aud", "x"] {
                let text = format!(r#"{{"{key}":{value}}}"#);
                assert_eq!(agree_on(text.as_bytes()), *want, "{text}");
                let text = format!(r#"{{"{key}":[{value}]}}"#);
                assert_eq!(agree_on(text.as_bytes()), *want, "{text}");
            }
        }
    }

    /// What [`agree`] compares built values by: texts that differ for any two different values,
    /// floats one bit apart and the two zeros included.
    #[test]
    fn exact_tells_values_apart() {
        let text = |t: &str| exact(&oracle::parse(t.as_bytes()).unwrap());
        assert_eq!(text(r#"{"a":1.5}"#), text(r#"{"a":15e-1}"#));
        assert_ne!(text(r#"{"a":0.1}"#), text(r#"{"a":0.10000000000000002}"#));
        assert_ne!(text(r#"{"a":0.0}"#), text(r#"{"a":-0.0}"#));
        assert_ne!(text(r#"{"a":1}"#), text(r#"{"a":1.0}"#));
        assert_ne!(text(r#"{"a":[]}"#), text(r#"{"a":{}}"#));
    }

    #[test]
    fn numbers() {
        check_values(&[
            ("0", OK),
            ("-0", OK),
            ("1", OK),
            ("-1", OK),
            ("1.0", OK),
            ("1.5e-3", OK),
            ("1E3", OK),
            ("1e+3", OK),
            ("0e0", OK),
            ("0.000", OK),
            ("01", SYNTAX),
            ("-01", SYNTAX),
            ("00", SYNTAX),
            ("-", SYNTAX),
            ("- 1", SYNTAX),
            ("+1", SYNTAX),
            (".5", SYNTAX),
            ("1.", SYNTAX),
            ("1.e3", SYNTAX),
            ("1e", SYNTAX),
            ("1e+", SYNTAX),
            ("1e+-1", SYNTAX),
            ("1ee1", SYNTAX),
            ("0x10", SYNTAX),
            ("1_000", SYNTAX),
            ("NaN", SYNTAX),
            ("Infinity", SYNTAX),
            ("-Infinity", SYNTAX),
            // u64 and i64 edges: larger integers become floats, not errors.
            ("18446744073709551615", OK),
            ("18446744073709551616", OK),
            ("-9223372036854775808", OK),
            ("-9223372036854775809", OK),
            ("18446744073709551616.0", OK),
            ("184467440737095516150.5e-2", OK),
            // serde_json's float range: infinity is refused, underflow is zero.
            ("1e308", OK),
            ("1e309", SYNTAX),
            ("-1e309", SYNTAX),
            ("10e308", SYNTAX),
            ("0.1e309", OK),
            ("1e-400", OK),
            ("0e400", OK),
            ("0e999999999999999", OK),
            ("1e-999999999999999", OK),
            ("1e999999999999999", SYNTAX),
            ("0.0e999999999999999", OK),
            ("1.7976931348623157e308", OK),
            ("1.7976931348623159e308", SYNTAX),
            ("1.797693134862315e308", OK),
            // serde_json's arithmetic (u64 significand × a power of ten, rounded twice) reaches
            // infinity here although the exact value is f64::MAX: refused, as serde_json does.
            ("179769313486231570000000000000000e276", SYNTAX),
            ("17976931348623157e292", OK),
            ("1e2147483647", SYNTAX),
            ("1e2147483648", SYNTAX),
            ("1e-2147483648", OK),
        ]);
        // Integers of hundreds of digits: serde_json scales by the digits a u64 cannot hold.
        let near_max = format!("17976931348623157{}", "0".repeat(292));
        let over = format!("17976931348623159{}", "0".repeat(292));
        let long = format!("1{}", "0".repeat(308));
        let longer = format!("1{}", "0".repeat(309));
        let long_fraction = format!("0.{}1", "0".repeat(400));
        let many_digits = format!("1.{}e308", "9".repeat(40));
        check_values(&[
            (&near_max, SYNTAX),
            (&over, SYNTAX),
            (&long, OK),
            (&longer, SYNTAX),
            (&long_fraction, OK),
            (&many_digits, SYNTAX),
        ]);
        // Only a plain non-negative integer that fits a u64 is captured as one.
        check(&[
            (br#"{"exp":1e3,"nbf":1.0,"iat":-0}"#, OK),
            (br#"{"exp":18446744073709551615}"#, OK),
        ]);
        assert_eq!(
            read_object(br#"{"exp":1e3,"nbf":1.0,"iat":7}"#, &["exp", "nbf", "iat"]),
            Ok([
                Some(Member::Other),
                Some(Member::Other),
                Some(Member::U64(7))
            ])
        );
    }

    #[test]
    fn strings() {
        check_values(&[
            (r#""""#, OK),
            (r#""\"\\\/\b\f\n\r\t""#, OK),
            (r#""\u0000""#, OK),
            (r#""\u00e9\u00E9""#, OK),
            (r#""\ud83d\ude00""#, OK),
            (r#""\uD83D\uDE00""#, OK),
            (r#""\ud800""#, SYNTAX),
            (r#""\udc00""#, SYNTAX),
            (r#""\ud800\u0041""#, SYNTAX),
            (r#""\ud800\ud800""#, SYNTAX),
            (r#""\ud800x""#, SYNTAX),
            (r#""\ud800\n""#, SYNTAX),
            (r#""\ude00\ud83d""#, SYNTAX),
            (r#""\u00""#, SYNTAX),
            (r#""\u00g0""#, SYNTAX),
            (r#""\U0041""#, SYNTAX),
            (r#""\x41""#, SYNTAX),
            (r#""\a""#, SYNTAX),
            (r#""\'""#, SYNTAX),
            ("\"\u{7f}\"", OK),
            ("\"é\"", OK),
            ("\"a\u{1}b\"", SYNTAX),
            ("\"\t\"", SYNTAX),
            ("\"\n\"", SYNTAX),
            ("'a'", SYNTAX),
            ("\"abc", SYNTAX),
        ]);
        for (value, want) in [
            (&b"\"\xc3\xa9\""[..], OK),
            (b"\"\xc3\"", SYNTAX),
            (b"\"\xe9\"", SYNTAX),
            (b"\"\xed\xa0\x80\"", SYNTAX),
            (b"\"\xf4\x90\x80\x80\"", SYNTAX),
            (b"\"\xc0\xaf\"", SYNTAX),
            (b"\"\xff\"", SYNTAX),
            (b"\"\xc3\\n\xa9\"", SYNTAX),
            (b"\"\\n\xc3\xa9\\n\"", OK),
            (b"\"\\u00e9\xa9\"", SYNTAX),
        ] {
            for key in [&b"sub"[..], b"x"] {
                let mut text = Vec::from(&b"{\""[..]);
                text.extend_from_slice(key);
                text.extend_from_slice(b"\":");
                text.extend_from_slice(value);
                text.push(b'}');
                assert_eq!(
                    agree_on(&text),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
            let mut key = Vec::from(&b"{"[..]);
            key.extend_from_slice(value);
            key.extend_from_slice(b":1}");
            assert_eq!(agree_on(&key), want, "{:?}", String::from_utf8_lossy(&key));
        }
    }

    #[test]
    fn structure_and_whitespace() {
        check(&[
            (b"{}", OK),
            (b" \t\n\r{ \t\n\r} \t\n\r", OK),
            (b"{\"a\" : [ 1 , { } , [ ] , null , true , false ] }", OK),
            (b"", SYNTAX),
            (b" ", SYNTAX),
            (b"{", SYNTAX),
            (b"}", SYNTAX),
            (b"{,}", SYNTAX),
            (b"{\"a\":1,}", SYNTAX),
            (b"{\"a\":[1,]}", SYNTAX),
            (b"{\"a\":[,1]}", SYNTAX),
            (b"{\"a\":[1 2]}", SYNTAX),
            (b"{\"a\" 1}", SYNTAX),
            (b"{\"a\":}", SYNTAX),
            (b"{\"a\"}", SYNTAX),
            (b"{\"a\":1 \"b\":2}", SYNTAX),
            (b"{1:1}", SYNTAX),
            (b"{a:1}", SYNTAX),
            (b"{'a':1}", SYNTAX),
            (b"{\"a\":tru}", SYNTAX),
            (b"{\"a\":nul", SYNTAX),
            (b"{\"a\":True}", SYNTAX),
            (b"{\"a\":undefined}", SYNTAX),
            (b"{}x", SYNTAX),
            (b"{} {}", SYNTAX),
            (b"{}\0", SYNTAX),
            (b"\xef\xbb\xbf{}", SYNTAX),
            (b"{}\x0c", SYNTAX),
            (b"\x0b{}", SYNTAX),
            (b"{\"a\":1/*c*/}", SYNTAX),
            ("{}\u{a0}".as_bytes(), SYNTAX),
            (b"[]", NOT_AN_OBJECT),
            (b" [1, {}] ", NOT_AN_OBJECT),
            (b"\"x\"", NOT_AN_OBJECT),
            (b"1", NOT_AN_OBJECT),
            (b"-0", NOT_AN_OBJECT),
            (b"null", NOT_AN_OBJECT),
            (b"true", NOT_AN_OBJECT),
            (b"1e999", SYNTAX),
            (b"[] x", SYNTAX),
            (b"[", SYNTAX),
            (b"[{\"a\":1,\"a\":1}]", DUPLICATE),
        ]);
    }

    #[test]
    fn duplicates_after_unescaping_and_before_anything_later() {
        check(&[
            (br#"{"a":1,"a":1}"#, DUPLICATE),
            (br#"{"a":1,"\u0061":1}"#, DUPLICATE),
            (br#"{"exp":1,"\u0065xp":1}"#, DUPLICATE),
            (br#"{"alg":"HS256","al\u0067":1}"#, DUPLICATE),
            (br#"{"\ud83d\ude00":1,"\uD83D\uDE00":1}"#, DUPLICATE),
            (br#"{"a":1,"A":1}"#, OK),
            (br#"{"a":1,"a ":1}"#, OK),
            (br#"{"":1,"":1}"#, DUPLICATE),
            (br#"{"x":{"a":1,"a":1}}"#, DUPLICATE),
            (br#"{"aud":["x",{"a":1,"a":1}]}"#, DUPLICATE),
            (br#"{"a":{"b":1},"b":{"a":1}}"#, OK),
            // The duplicate is refused as soon as its key is read: before a missing colon, a
            // bad value or the end of the text.
            (br#"{"a":1,"a""#, DUPLICATE),
            (br#"{"a":1,"a" 1}"#, DUPLICATE),
            (br#"{"a":1,"a":01}"#, DUPLICATE),
            (br#"{"sub":"x","sub":"\ud800"}"#, DUPLICATE),
            (br#"{"a":1,"a":1} x"#, DUPLICATE),
            // ... and a problem before it wins.
            (br#"{"a":01,"a":1}"#, SYNTAX),
            (br#"{"a":1,"b":[1,],"a":1}"#, SYNTAX),
            (br#"{"a":1,"\ud800":1,"a":1}"#, SYNTAX),
        ]);
    }

    #[test]
    fn the_nesting_limit() {
        for depth in [2usize, 126, 127, 128, 129, 1000] {
            // `depth` arrays and objects in all, counting the top-level object.
            let arrays = format!(
                "{{\"a\":{}{}}}",
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            );
            let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            let aud = format!(
                "{{\"aud\":{}\"x\"{}}}",
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            );
            let want = if depth < 128 { OK } else { SYNTAX };
            for text in [arrays, objects, aud] {
                assert_eq!(agree_on(text.as_bytes()), want, "{depth}");
            }
        }
        // Siblings do not add up: arrays, objects in an array, objects as members.
        let wide = format!("{{\"a\":[{}]}}", alloc::vec!["[[[]]]"; 200].join(","));
        assert_eq!(agree_on(wide.as_bytes()), OK);
        let wide = format!("{{\"a\":[{}]}}", alloc::vec!["{\"b\":{}}"; 200].join(","));
        assert_eq!(agree_on(wide.as_bytes()), OK);
        let members: Vec<String> = (0..200)
            .map(|i| format!("\"k{i}\":{{\"b\":{{}}}}"))
            .collect();
        let wide = format!("{{{}}}", members.join(","));
        assert_eq!(agree_on(wide.as_bytes()), OK);
    }

    #[test]
    fn captured_members() {
        let names = &["iss", "aud", "exp", "x"];
        assert_eq!(
            read_object(
                br#"{"aud":["a","b\n"],"iss":"\u00e9","x":[],"exp":17,"y":["z"]}"#,
                names
            ),
            Ok([
                Some(Member::Str(Cow::Borrowed("é"))),
                Some(Member::Strs(alloc::vec![
                    Cow::Borrowed("a"),
                    Cow::Borrowed("b\n")
                ])),
                Some(Member::U64(17)),
                Some(Member::Strs(Vec::new())),
            ])
        );
        assert_eq!(
            read_object(
                br#"{"aud":["a",1],"iss":null,"x":{"iss":"y"},"y":{}}"#,
                names
            ),
            Ok([
                Some(Member::Other),
                Some(Member::Other),
                None,
                Some(Member::Object(br#"{"iss":"y"}"#))
            ])
        );
        // An object is captured as its text exactly, nested ones included; read again, its
        // own members.
        let text = br#"{"x" : { "a": {"b":[{}]} ,"c":"d" } }"#;
        let Ok([.., Some(Member::Object(x))]) = read_object(text, names) else {
            unreachable!()
        };
        assert_eq!(x, br#"{ "a": {"b":[{}]} ,"c":"d" }"#);
        assert_eq!(
            read_object(x, &["c", "a"]),
            Ok([
                Some(Member::Str(Cow::Borrowed("d"))),
                Some(Member::Object(br#"{"b":[{}]}"#))
            ])
        );
        assert_eq!(
            read_object(br#"{"aud":[["a"]],"exp":-1}"#, names),
            Ok([None, Some(Member::Other), Some(Member::Other), None])
        );
        // Strings without escapes borrow from the text.
        let Ok([Some(Member::Str(s)), ..]) = read_object(br#"{"iss":"abc"}"#, names) else {
            unreachable!()
        };
        assert!(matches!(s, Cow::Borrowed("abc")));
    }
}

/// Generated JSON-like bytes, biased toward serde_json's edges: structure from a tree with
/// duplicate-prone keys, leaves from a list of valid and invalid values, then spliced with
/// pieces of JSON (or just pieces, one after another).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod generated {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use proptest::prelude::*;

    /// Keys as written, quotes included: registered names, escaped spellings of the same keys,
    /// and a few that are refused.
    const KEYS: &[&str] = &[
        r#""a""#,
        r#""\u0061""#,
        r#""b""#,
        r#""exp""#,
        r#""\u0065xp""#,
        r#""aud""#,
        r#""sub""#,
        r#""alg""#,
        r#""kid""#,
        r#""crit""#,
        r#""""#,
        r#""\ud83d\ude00""#,
        r#""😀""#,
        r#""\ud800""#,
        "a",
        "1",
    ];

    /// How many of [`leaves`] come first and are accepted.
    const VALID: usize = 18;

    /// Values as written: each kind of number, string and literal serde_json accepts, and
    /// some it refuses.
    fn leaves() -> Vec<String> {
        let mut v: Vec<String> = [
            // Accepted (the first VALID).
            "0",
            "-0",
            "7",
            "-1",
            "1.5",
            "1e3",
            "1700000000",
            "18446744073709551616",
            "true",
            "null",
            r#""""#,
            r#""x""#,
            r#""HS256""#,
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u00e9""#,
            r#""\ud83d\ude00""#,
            "\"é\"",
            "\"\u{7f}\"",
            // Edges, either way.
            "1.0",
            "1E-3",
            "1e+3",
            "0e0",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "-01",
            "253402300800",
            "18446744073709551615",
            "-9223372036854775809",
            "18446744073709551616.5",
            "1e308",
            "1e309",
            "10e308",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "0e99999999999",
            "1e99999999999",
            "1e-99999999999",
            "4.9e-324",
            "false",
            "tru",
            "nul",
            "NaN",
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""\u00g0""#,
            r#""\x41""#,
            "\"\u{1}\"",
            "'a'",
        ]
        .map(String::from)
        .into();
        v.push(format!("17976931348623157{}", "0".repeat(292)));
        v.push(format!("17976931348623159{}", "0".repeat(292)));
        v.push(format!("0.{}1e330", "0".repeat(20)));
        v
    }

    /// Pieces spliced into a text: structure, whitespace (JSON's and not), bytes that are not
    /// UTF-8 or not allowed in strings.
    const PIECES: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b":",
        b",",
        b"\"",
        b"\\",
        b" ",
        b"\t\n\r",
        b"\x0c",
        b"\x0b",
        b"\0",
        b"\x1f",
        b"\xc3\xa9",
        b"\xc3",
        b"\xa9",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xff",
        b"e",
        b"-",
        b".",
        b"0",
        b"9",
        b"u",
        b"\\u",
        b"\\ud800",
        b"\\udc00",
    ];

    #[derive(Clone, Debug)]
    enum J {
        Leaf(usize),
        Arr(Vec<J>),
        Obj(Vec<(&'static str, J)>),
    }

    fn render(j: &J, leaves: &[String], out: &mut Vec<u8>) {
        match j {
            J::Leaf(i) => out.extend_from_slice(leaves[*i % leaves.len()].as_bytes()),
            J::Arr(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    render(item, leaves, out);
                }
                out.push(b']');
            }
            J::Obj(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(k.as_bytes());
                    out.push(b':');
                    render(v, leaves, out);
                }
                out.push(b'}');
            }
        }
    }

    fn tree() -> impl Strategy<Value = J> {
        // Mostly accepted leaves, the edges one time in four.
        let leaf = prop_oneof![3 => 0..VALID, 1 => any::<usize>()].prop_map(J::Leaf);
        let keys =
            || prop_oneof![6 => prop::sample::select(&KEYS[..10]), 1 => prop::sample::select(KEYS)];
        let inner = leaf.prop_recursive(4, 32, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
                prop::collection::vec((keys(), inner), 0..4).prop_map(J::Obj),
            ]
        });
        prop_oneof![
            8 => prop::collection::vec((keys(), inner.clone()), 0..6).prop_map(J::Obj),
            1 => inner,
        ]
    }

    /// A change to a rendered text: a piece put in, a stretch taken out, or nothing.
    #[derive(Clone, Debug)]
    enum Splice {
        Insert(prop::sample::Index, &'static [u8]),
        Remove(prop::sample::Index, usize),
        Whitespace(prop::sample::Index),
    }

    fn splice() -> impl Strategy<Value = Splice> {
        prop_oneof![
            any::<prop::sample::Index>().prop_map(Splice::Whitespace),
            (any::<prop::sample::Index>(), prop::sample::select(PIECES))
                .prop_map(|(at, p)| Splice::Insert(at, p)),
            (any::<prop::sample::Index>(), 1usize..4).prop_map(|(at, n)| Splice::Remove(at, n)),
        ]
    }

    fn text() -> impl Strategy<Value = Vec<u8>> {
        let leaves = leaves();
        // Two texts in three whole, the others changed once or twice.
        let splices = prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(splice(), 1..3),
        ];
        let spliced = (tree(), splices).prop_map(move |(j, splices)| {
            let mut out = Vec::new();
            render(&j, &leaves, &mut out);
            for s in &splices {
                match s {
                    Splice::Insert(at, piece) => {
                        let at = at.index(out.len() + 1);
                        out.splice(at..at, piece.iter().copied());
                    }
                    Splice::Remove(at, n) => {
                        let at = at.index(out.len() + 1);
                        out.drain(at..(at + n).min(out.len()));
                    }
                    Splice::Whitespace(at) => {
                        let at = at.index(out.len() + 1);
                        out.insert(at, b' ');
                    }
                }
            }
            out
        });
        let leaves = self::leaves();
        let soup = prop::collection::vec(
            prop_oneof![
                prop::sample::select(PIECES).prop_map(Vec::from),
                prop::sample::select(leaves).prop_map(String::into_bytes),
            ],
            1..10,
        )
        .prop_map(|pieces| pieces.concat());
        prop_oneof![6 => spliced, 1 => soup]
    }

    /// The generated texts reach every verdict, each often enough to mean something.
    #[test]
    fn the_generated_texts_reach_every_verdict() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;

        let mut runner = TestRunner::deterministic();
        let strategy = text();
        let (mut ok, mut syntax, mut duplicate, mut not_object) = (0, 0, 0, 0);
        let cases = 4_000;
        for _ in 0..cases {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                continue;
            };
            match agree_on(&tree.current()) {
                Ok(()) => ok += 1,
                Err(JsonError::Syntax) => syntax += 1,
                Err(JsonError::DuplicateKey) => duplicate += 1,
                Err(JsonError::NotAnObject) => not_object += 1,
            }
        }
        let counts = format!(
            "accepted {ok}, syntax {syntax}, duplicate {duplicate}, not an object {not_object}"
        );
        assert!(ok >= cases / 5, "{counts}");
        assert!(syntax >= cases / 5, "{counts}");
        assert!(duplicate >= cases / 50, "{counts}");
        assert!(not_object >= cases / 100, "{counts}");
        std::println!("{counts}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

        #[test]
        fn the_reader_agrees_with_serde_json(bytes in text()) {
            let _ = agree_on(&bytes);
        }

        #[test]
        fn the_reader_agrees_with_serde_json_on_any_bytes(
            bytes in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let _ = agree_on(&bytes);
        }
    }
}
