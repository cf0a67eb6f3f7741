//! JSON objects with duplicate keys refused at every depth (RFC 7515 §5.2, RFC 7519 §4): the
//! refusals, and (feature `json`) whole objects as serde_json values. Token headers and claims
//! are read by the reader (`reader/mod.rs`), which accepts and refuses exactly as [`parse_object`] does.

use core::fmt;

#[cfg(feature = "json")]
pub use values::parse_object;

/// Why a JSON text was refused by [`parse_object`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not well-formed JSON (or not UTF-8).
    Syntax,
    /// Well-formed, but the top level is not an object.
    NotAnObject,
    /// An object, at any depth, names the same key twice.
    DuplicateKey,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonError::Syntax => "not valid JSON",
            JsonError::NotAnObject => "not a JSON object",
            JsonError::DuplicateKey => "a JSON object repeats a key",
        })
    }
}

impl core::error::Error for JsonError {}

/// [`parse_object`]: serde_json with a visitor that refuses duplicate keys.
#[cfg(feature = "json")]
mod values {
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::fmt;
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};

    use super::JsonError;

    /// The message of the custom error the strict visitor raises on a repeated key.
    const DUPLICATE: &str = "duplicate key";

    /// Parses a JSON object, refusing duplicate keys anywhere inside it — the strictness Warden
    /// applies to token headers and claims, offered for any other input that must not be read
    /// "last key wins" (e.g. admin requests).
    ///
    /// ```
    /// use warden_core::{parse_json_object, JsonError};
    /// assert!(parse_json_object(br#"{"jti":"a"}"#).is_ok());
    /// assert_eq!(parse_json_object(br#"{"jti":"a","jti":"b"}"#), Err(JsonError::DuplicateKey));
    /// ```
    pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
        match serde_json::from_slice::<Strict>(bytes) {
            Ok(Strict(Value::Object(map))) => Ok(map),
            Ok(_) => Err(JsonError::NotAnObject),
            Err(e) => Err(error_kind(&e)),
        }
    }

    /// What a serde_json error from the strict visitor means: a duplicate key or a syntax error.
    fn error_kind(e: &serde_json::Error) -> JsonError {
        // A custom error's message is the only channel serde offers; this runs on the error path only.
        use alloc::string::ToString;
        if e.is_data() && e.to_string().starts_with(DUPLICATE) {
            JsonError::DuplicateKey
        } else {
            JsonError::Syntax
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
        // `visit_str` or `visit_borrowed_str` for a string (`visit_string`'s default forwards
        // there too).
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

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[test]
    fn duplicates_refused_at_every_depth() {
        assert_eq!(
            parse_object(br#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateKey)
        );
        assert_eq!(
            parse_object(br#"{"a":{"b":1,"b":1}}"#),
            Err(JsonError::DuplicateKey)
        );
        assert_eq!(
            parse_object(br#"{"a":[{"b":1,"b":1}]}"#),
            Err(JsonError::DuplicateKey)
        );
        assert!(parse_object(br#"{"a":{"b":1},"b":{"a":1}}"#).is_ok());
    }

    #[test]
    fn non_objects_and_syntax() {
        assert_eq!(parse_object(b"[1]"), Err(JsonError::NotAnObject));
        assert_eq!(parse_object(b"{"), Err(JsonError::Syntax));
        assert_eq!(parse_object(b"{\"a\":1} x"), Err(JsonError::Syntax));
        // A key that merely contains the marker text is not a duplicate.
        assert!(parse_object(br#"{"duplicate key":1}"#).is_ok());
        assert_eq!(parse_object(b"{\"a\":\"\xff\"}"), Err(JsonError::Syntax));
    }
}
