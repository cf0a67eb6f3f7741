//! The admin API's request parsing and authentication (pure; the handlers in the parent module
//! do the I/O). Every error message names the offending field.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use warden_core::{parse_json_object, JsonError, UnixTime, MAX_ID_LEN, MAX_NUMERIC_DATE};

use crate::pat::PatRequest;

/// Largest admin request body, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Most scopes on one PAT.
pub const MAX_SCOPES: usize = 32;
/// Longest scope, in bytes.
pub const MAX_SCOPE_LEN: usize = 64;

/// Whether `presented` (the request's `Authorization` value) carries exactly `Bearer <secret>`.
/// Compares SHA-256 digests in constant time, so neither content nor length leaks.
pub fn authorized(presented: Option<&str>, secret: &str) -> bool {
    let Some(token) = presented.and_then(|v| v.strip_prefix("Bearer ")) else {
        return false;
    };
    let a = Sha256::digest(token.as_bytes());
    let b = Sha256::digest(secret.as_bytes());
    a.ct_eq(&b).into()
}

/// A parsed `POST /_warden/revoke` body: exactly one of `jti`, `sid`, `kid`, `token`, `pat`,
/// or else `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// One token by its `jti`. `exp`, when given, bounds how long the record is kept;
    /// otherwise it is kept as long as any token may live (the lifetime cap). `sub`, when
    /// given, lists the revocation under that subject.
    Jti {
        /// The token id.
        jti: String,
        /// The token's expiry, if the caller knows it.
        exp: Option<UnixTime>,
        /// The token's subject, for `GET /_warden/revocations?sub=`.
        sub: Option<String>,
    },
    /// Every token of a session.
    Sid {
        /// The session id.
        sid: String,
        /// The session's subject, for `GET /_warden/revocations?sub=`.
        sub: Option<String>,
    },
    /// Every token signed with a key (kept forever).
    Kid {
        /// The key id.
        kid: String,
    },
    /// Every token of a subject issued at or before `before` (default: now).
    Subject {
        /// The subject.
        sub: String,
        /// The cutoff.
        before: Option<UnixTime>,
    },
    /// A token presented whole (RFC 7009): revoked by its claims, or a PAT by its digest.
    Token {
        /// The token.
        token: String,
        /// `token_type_hint` was `refresh_token`: its session ends too.
        refresh_hint: bool,
    },
    /// A PAT by id.
    Pat {
        /// The PAT id.
        id: String,
    },
}

const SELECTORS: [&str; 5] = ["jti", "sid", "kid", "token", "pat"];

/// Parses a `POST /_warden/revoke` body.
pub fn parse_revoke(body: &[u8]) -> Result<Revoke, String> {
    revoke_of(&object(body)?)
}

/// Most entries in one `POST /_warden/revoke/batch`.
pub const MAX_BATCH: usize = 1000;
/// Largest batch body, in bytes (1,000 entries with 256-byte ids and a `sub` each fit).
pub const MAX_BATCH_BODY: usize = 1024 * 1024;

/// Parses a `POST /_warden/revoke/batch` body: `{"revocations": [entry, …]}`, 1 to
/// [`MAX_BATCH`] entries, each a `POST /_warden/revoke` body selecting `jti`, `sid`, `kid` or
/// `sub`, validated the same way. The first bad entry refuses the whole batch, named by its
/// index.
pub fn parse_revoke_batch(body: &[u8]) -> Result<Vec<Revoke>, String> {
    let map = object(body)?;
    if let Some(unknown) = map.keys().find(|k| k.as_str() != "revocations") {
        return Err(format!(
            "unknown field `{unknown}`; the field is `revocations`"
        ));
    }
    let entries = match map.get("revocations") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err("field `revocations` must be an array".into()),
        None => return Err("field `revocations` is required".into()),
    };
    if entries.is_empty() || entries.len() > MAX_BATCH {
        return Err(format!(
            "field `revocations` must hold 1 to {MAX_BATCH} entries (it holds {})",
            entries.len()
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let revoke = match entry {
                Value::Object(m) => revoke_of(m),
                _ => Err("must be a JSON object".into()),
            };
            match revoke {
                Ok(r @ (Revoke::Jti { .. } | Revoke::Sid { .. } | Revoke::Kid { .. } | Revoke::Subject { .. })) => Ok(r),
                Ok(_) => Err(format!(
                    "revocations[{i}]: a batch takes `jti`, `sid`, `kid` or `sub` entries (`token` and `pat` only through POST /_warden/revoke)"
                )),
                Err(why) => Err(format!("revocations[{i}]: {why}")),
            }
        })
        .collect()
}

/// One revocation request's fields.
fn revoke_of(map: &Map<String, Value>) -> Result<Revoke, String> {
    let selectors: Vec<&str> = SELECTORS
        .into_iter()
        .filter(|s| map.contains_key(*s))
        .collect();
    let kind = match selectors.as_slice() {
        [] if map.contains_key("sub") => "sub",
        [] => return Err("one of `jti`, `sid`, `kid`, `sub`, `token` or `pat` is required".into()),
        [one] => one,
        _ => {
            return Err(format!(
                "fields `{}` cannot be combined; give exactly one",
                selectors.join("` and `")
            ))
        }
    };
    let allowed: &[&str] = match kind {
        "jti" => &["jti", "exp", "sub"],
        "sid" => &["sid", "sub"],
        "kid" => &["kid"],
        "sub" => &["sub", "before"],
        "token" => &["token", "token_type_hint"],
        _ => &["pat"],
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        let expected = allowed.join("`, `");
        return Err(format!(
            "unknown field `{unknown}`; with `{kind}` the fields are `{expected}`"
        ));
    }
    let required =
        |field: &'static str| id(map, field)?.ok_or_else(|| format!("field `{field}` is required"));
    Ok(match kind {
        "jti" => Revoke::Jti {
            jti: required("jti")?,
            exp: time(map, "exp")?,
            sub: id(map, "sub")?,
        },
        "sid" => Revoke::Sid {
            sid: required("sid")?,
            sub: id(map, "sub")?,
        },
        "kid" => Revoke::Kid {
            kid: required("kid")?,
        },
        "sub" => Revoke::Subject {
            sub: required("sub")?,
            before: time(map, "before")?,
        },
        "token" => {
            let token = match map.get("token") {
                Some(Value::String(t)) if !t.is_empty() => t.clone(),
                _ => return Err("field `token` must be a non-empty string".into()),
            };
            let refresh_hint = match map.get("token_type_hint") {
                None | Some(Value::Null) => false,
                Some(Value::String(h)) => h == "refresh_token",
                Some(_) => return Err("field `token_type_hint` must be a string".into()),
            };
            Revoke::Token {
                token,
                refresh_hint,
            }
        }
        _ => Revoke::Pat {
            id: required("pat")?,
        },
    })
}

/// Parses a `POST /_warden/pats` body: `{"sub", "expires_at" (0 = never), "scopes"?}`.
/// `expires_at` is required (never-expiring must be asked for) and must be in the future.
pub fn parse_pat_request(body: &[u8], now: UnixTime) -> Result<PatRequest, String> {
    let map = object(body)?;
    if let Some(unknown) = map
        .keys()
        .find(|k| !["sub", "expires_at", "scopes"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field `{unknown}`; the fields are `sub`, `expires_at`, `scopes`"
        ));
    }
    let sub = id(&map, "sub")?.ok_or("field `sub` is required")?;
    let expires_at = time(&map, "expires_at")?
        .ok_or("field `expires_at` is required (Unix seconds; 0 = never expires)")?;
    if expires_at != 0 && expires_at <= now {
        return Err(format!(
            "field `expires_at` must be in the future (now is {now}) or 0 for never"
        ));
    }
    let mut scopes: Vec<String> = Vec::new();
    match map.get("scopes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item.as_str() {
                    Some(s) if is_scope(s) => {
                        if !scopes.iter().any(|x| x == s) {
                            scopes.push(s.to_owned());
                        }
                    }
                    _ => {
                        return Err(format!(
                            "field `scopes` must hold strings of 1 to {MAX_SCOPE_LEN} visible ASCII characters without spaces, '\"' or '\\'"
                        ))
                    }
                }
            }
            if scopes.len() > MAX_SCOPES {
                return Err(format!("field `scopes` has more than {MAX_SCOPES} entries"));
            }
        }
        Some(_) => return Err("field `scopes` must be an array of strings".into()),
    }
    Ok(PatRequest {
        sub,
        expires_at,
        scopes,
    })
}

/// The single value of query parameter `name` (already percent-decoded pairs), validated as an
/// id. Absent → `Ok(None)`; repeated or invalid → an error naming it.
pub fn query_id<'a>(
    pairs: impl IntoIterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    name: &str,
) -> Result<Option<String>, String> {
    let mut found: Option<String> = None;
    for (k, v) in pairs {
        if k != name {
            continue;
        }
        if found.is_some() {
            return Err(format!("query parameter `{name}` appears more than once"));
        }
        if v.is_empty() || v.len() > MAX_ID_LEN {
            return Err(format!(
                "query parameter `{name}` must be a non-empty string of at most {MAX_ID_LEN} bytes"
            ));
        }
        found = Some(v.into_owned());
    }
    Ok(found)
}

/// The body as a JSON object, as strictly as tokens are read: a repeated key is refused, never
/// read "last one wins" (`{"sub":"u1","sub":"u2"}` must not cut off `u2`).
fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match parse_json_object(body) {
        Ok(map) => Ok(map),
        Err(JsonError::NotAnObject) => Err("request body must be a JSON object".into()),
        Err(JsonError::DuplicateKey) => Err("request body repeats a key".into()),
        Err(_) => Err("request body is not valid JSON".into()),
    }
}

fn id(map: &Map<String, Value>, field: &'static str) -> Result<Option<String>, String> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_LEN => Ok(Some(s.clone())),
        Some(_) => Err(format!(
            "field `{field}` must be a non-empty string of at most {MAX_ID_LEN} bytes"
        )),
    }
}

fn time(map: &Map<String, Value>, field: &'static str) -> Result<Option<UnixTime>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|t| *t <= MAX_NUMERIC_DATE)
            .map(Some)
            .ok_or_else(|| {
                format!("field `{field}` must be a Unix time in seconds (a non-negative integer)")
            }),
    }
}

fn is_scope(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SCOPE_LEN
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_not_read_last_wins() {
        for body in [
            &br#"{"sub":"u1","sub":"u2"}"#[..],
            br#"{"jti":"a","jti":"b"}"#,
        ] {
            assert_eq!(
                parse_revoke(body).unwrap_err(),
                "request body repeats a key"
            );
        }
        assert_eq!(
            parse_pat_request(br#"{"sub":"a","sub":"b","expires_at":0}"#, 1).unwrap_err(),
            "request body repeats a key"
        );
    }

    #[test]
    fn batches() {
        let ok = parse_revoke_batch(
            br#"{"revocations":[{"jti":"a","exp":5},{"sid":"s","sub":"u"},{"kid":"k"},{"sub":"u","before":7}]}"#,
        )
        .unwrap();
        assert_eq!(
            ok,
            vec![
                Revoke::Jti {
                    jti: "a".into(),
                    exp: Some(5),
                    sub: None
                },
                Revoke::Sid {
                    sid: "s".into(),
                    sub: Some("u".into())
                },
                Revoke::Kid { kid: "k".into() },
                Revoke::Subject {
                    sub: "u".into(),
                    before: Some(7)
                },
            ]
        );
        let err = |body: &str| parse_revoke_batch(body.as_bytes()).unwrap_err();
        assert_eq!(err("[]"), "request body must be a JSON object");
        assert_eq!(err("{}"), "field `revocations` is required");
        assert_eq!(
            err(r#"{"revocations":{}}"#),
            "field `revocations` must be an array"
        );
        assert!(err(r#"{"revocations":[]}"#).starts_with("field `revocations` must hold 1 to 1000"));
        assert_eq!(
            err(r#"{"revocations":[{"jti":"a"}],"x":1}"#),
            "unknown field `x`; the field is `revocations`"
        );
        assert_eq!(
            err(r#"{"revocations":[{"jti":"a"},{"jti":""}]}"#),
            "revocations[1]: field `jti` must be a non-empty string of at most 256 bytes"
        );
        assert_eq!(
            err(r#"{"revocations":[{"jti":"a"},3]}"#),
            "revocations[1]: must be a JSON object"
        );
        assert!(err(r#"{"revocations":[{"token":"a.b.c"}]}"#)
            .starts_with("revocations[0]: a batch takes"));
        assert!(
            err(r#"{"revocations":[{"pat":"p"}]}"#).starts_with("revocations[0]: a batch takes")
        );
        assert!(
            err(r#"{"revocations":[{"jti":"a","kid":"k"}]}"#).starts_with("revocations[0]: fields")
        );
        assert_eq!(
            err(r#"{"revocations":[{"jti":"a","jti":"b"}]}"#),
            "request body repeats a key"
        );
        let many = format!(
            "{{\"revocations\":[{}]}}",
            vec![r#"{"kid":"k"}"#; MAX_BATCH + 1].join(",")
        );
        assert!(err(&many).contains("(it holds 1001)"));
        let full = format!(
            "{{\"revocations\":[{}]}}",
            vec![r#"{"kid":"k"}"#; MAX_BATCH].join(",")
        );
        assert_eq!(
            parse_revoke_batch(full.as_bytes()).unwrap().len(),
            MAX_BATCH
        );
    }

    use std::borrow::Cow;

    #[test]
    fn authorization_is_exact() {
        assert!(authorized(Some("Bearer s3cret"), "s3cret"));
        assert!(!authorized(Some("Bearer s3cret2"), "s3cret"));
        assert!(!authorized(Some("Bearer s3cre"), "s3cret"));
        assert!(!authorized(Some("bearer s3cret"), "s3cret"));
        assert!(!authorized(Some("s3cret"), "s3cret"));
        assert!(!authorized(None, "s3cret"));
    }

    fn err(body: &str) -> String {
        parse_revoke(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn revoke_bodies() {
        assert_eq!(
            parse_revoke(br#"{"jti":"t-1","exp":1700000600}"#),
            Ok(Revoke::Jti {
                jti: "t-1".into(),
                exp: Some(1_700_000_600),
                sub: None
            })
        );
        assert_eq!(
            parse_revoke(br#"{"jti":"t-1","sub":"alice"}"#),
            Ok(Revoke::Jti {
                jti: "t-1".into(),
                exp: None,
                sub: Some("alice".into())
            })
        );
        assert_eq!(
            parse_revoke(br#"{"sid":"s"}"#),
            Ok(Revoke::Sid {
                sid: "s".into(),
                sub: None
            })
        );
        assert_eq!(
            parse_revoke(br#"{"kid":"k"}"#),
            Ok(Revoke::Kid { kid: "k".into() })
        );
        assert_eq!(
            parse_revoke(br#"{"sub":"alice"}"#),
            Ok(Revoke::Subject {
                sub: "alice".into(),
                before: None
            })
        );
        assert_eq!(
            parse_revoke(br#"{"sub":"alice","before":100}"#),
            Ok(Revoke::Subject {
                sub: "alice".into(),
                before: Some(100)
            })
        );
        assert_eq!(
            parse_revoke(br#"{"token":"a.b.c","token_type_hint":"refresh_token"}"#),
            Ok(Revoke::Token {
                token: "a.b.c".into(),
                refresh_hint: true
            })
        );
        assert_eq!(
            parse_revoke(br#"{"token":"a.b.c","token_type_hint":"access_token"}"#),
            Ok(Revoke::Token {
                token: "a.b.c".into(),
                refresh_hint: false
            })
        );
        assert_eq!(
            parse_revoke(br#"{"pat":"pat_1"}"#),
            Ok(Revoke::Pat { id: "pat_1".into() })
        );
    }

    #[test]
    fn revoke_errors_name_the_field() {
        assert!(err("{").starts_with("request body is not valid JSON"));
        assert_eq!(err("[]"), "request body must be a JSON object");
        assert!(err("{}").starts_with("one of `jti`, `sid`"));
        assert!(err(r#"{"jti":5}"#).starts_with("field `jti` must be"));
        assert!(err(r#"{"jti":""}"#).starts_with("field `jti` must be"));
        let long = format!(r#"{{"jti":"{}"}}"#, "x".repeat(257));
        assert!(err(&long).starts_with("field `jti` must be"));
        let long = format!(r#"{{"sub":"{}"}}"#, "x".repeat(257));
        assert!(err(&long).starts_with("field `sub` must be"));
        let long = format!(r#"{{"sid":"{}"}}"#, "x".repeat(257));
        assert!(err(&long).starts_with("field `sid` must be"));
        let long = format!(r#"{{"kid":"{}"}}"#, "x".repeat(257));
        assert!(err(&long).starts_with("field `kid` must be"));
        assert!(err(r#"{"jti":"a","exp":"soon"}"#).starts_with("field `exp` must be"));
        assert!(err(r#"{"jti":"a","exp":-1}"#).starts_with("field `exp` must be"));
        assert!(err(r#"{"jti":"a","exp":1.5}"#).starts_with("field `exp` must be"));
        assert!(err(r#"{"jti":"a","jtl":1}"#).starts_with("unknown field `jtl`"));
        assert!(err(r#"{"sub":"a","before":"now"}"#).starts_with("field `before` must be"));
        assert!(err(r#"{"kid":"k","sub":"a"}"#).starts_with("unknown field `sub`"));
        assert!(err(r#"{"jti":"a","sid":"b"}"#).contains("cannot be combined"));
        assert!(err(r#"{"token":""}"#).starts_with("field `token` must be"));
        assert!(err(r#"{"token":"x","token_type_hint":1}"#)
            .starts_with("field `token_type_hint` must be"));
        assert!(err(r#"{"pat":7}"#).starts_with("field `pat` must be"));
    }

    #[test]
    fn pat_requests() {
        let ok = parse_pat_request(
            br#"{"sub":"ci","expires_at":2000,"scopes":["read","write","read"]}"#,
            1_000,
        )
        .unwrap();
        assert_eq!(
            ok,
            PatRequest {
                sub: "ci".into(),
                expires_at: 2_000,
                scopes: vec!["read".into(), "write".into()]
            }
        );
        let never = parse_pat_request(br#"{"sub":"ci","expires_at":0}"#, 1_000).unwrap();
        assert_eq!((never.expires_at, never.scopes.len()), (0, 0));
        let e = |b: &str| parse_pat_request(b.as_bytes(), 1_000).unwrap_err();
        assert!(e(r#"{"expires_at":0}"#).starts_with("field `sub` is required"));
        assert!(e(r#"{"sub":"ci"}"#).starts_with("field `expires_at` is required"));
        assert!(e(r#"{"sub":"ci","expires_at":1000}"#)
            .starts_with("field `expires_at` must be in the future"));
        assert!(e(r#"{"sub":"ci","expires_at":-5}"#).starts_with("field `expires_at` must be"));
        assert!(e(r#"{"sub":"ci","expires_at":0,"scopes":"read"}"#)
            .starts_with("field `scopes` must be"));
        assert!(
            e(r#"{"sub":"ci","expires_at":0,"scopes":["a b"]}"#).starts_with("field `scopes` must")
        );
        assert!(e(r#"{"sub":"ci","expires_at":0,"scopes":[1]}"#).starts_with("field `scopes` must"));
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("\"s{i}\"")).collect();
        let body = format!(
            r#"{{"sub":"ci","expires_at":0,"scopes":[{}]}}"#,
            many.join(",")
        );
        assert!(e(&body).contains("more than"));
        assert!(
            e(r#"{"sub":"ci","expires_at":0,"token":"x"}"#).starts_with("unknown field `token`")
        );
    }

    #[test]
    fn query_ids() {
        let q = |pairs: &[(&'static str, &'static str)]| {
            query_id(
                pairs
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v))),
                "sub",
            )
        };
        assert_eq!(q(&[("sub", "a:b c")]), Ok(Some("a:b c".into())));
        assert_eq!(q(&[("cursor", "x")]), Ok(None));
        assert!(q(&[("sub", "a"), ("sub", "b")])
            .unwrap_err()
            .contains("more than once"));
        assert!(q(&[("sub", "")])
            .unwrap_err()
            .starts_with("query parameter `sub` must be"));
    }
}
