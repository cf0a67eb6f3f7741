//! JSON objects with duplicate keys refused at every depth (RFC 7515 §5.2, RFC 7519 §4): the
//! refusals, and (feature `json`) whole objects as serde_json values. The core's reader
//! (`reader/mod.rs`) reads them, as it reads token headers and claims.

pub use crate::reader::JsonError;

#[cfg(feature = "json")]
use alloc::string::String;
#[cfg(feature = "json")]
use serde_json::{Map, Value};

/// Parses a JSON object, refusing duplicate keys anywhere inside it — the strictness Warden
/// applies to token headers and claims, offered for any other input that must not be read "last
/// key wins" (e.g. admin requests). The values are those serde_json builds.
///
/// ```
/// use warden_core::{parse_json_object, JsonError};
/// assert!(parse_json_object(br#"{"jti":"a"}"#).is_ok());
/// assert_eq!(parse_json_object(br#"{"jti":"a","jti":"b"}"#), Err(JsonError::DuplicateKey));
/// ```
#[cfg(feature = "json")]
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    crate::reader::tree::read_map(bytes)
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
