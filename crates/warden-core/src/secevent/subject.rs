//! Subject identifiers (RFC 9493, SSF 1.0 §3): which Warden user and session an event names.

use alloc::string::String;
use serde_json::{Map, Value};

use super::SetError;
use crate::claims::MAX_ID_LEN;
use crate::gate::is_identity_value;

/// A Warden id the subject names, or why it names nothing Warden can use (for the audit).
pub(super) type Mapped = Result<String, &'static str>;

/// What a subject names: a user, a session, both, or neither. `None`: the subject does not
/// name one at all; `Some(Err(_))`: it names one, in a form Warden cannot map.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Named {
    pub(super) user: Option<Mapped>,
    pub(super) session: Option<Mapped>,
}

/// Reads a subject: a simple one (`format` `opaque`, `iss_sub`, `email`, …; or, from older
/// transmitters, `subject_type` `iss-sub` as in RFC 8417's example) names a user; a complex
/// one (`format` `complex`, or no `format` and a `user` or `session` member) names its `user`
/// and its `session` (a session is mapped only from `opaque`: its `id` is the `sid`).
/// `subject_issuer`: the issuer whose `iss_sub` subjects are Warden users (`None`: none is).
pub(super) fn read(value: &Value, subject_issuer: Option<&str>) -> Result<Named, SetError> {
    let Value::Object(subject) = value else {
        return Err(SetError::InvalidSubject("the subject is not a JSON object"));
    };
    let format = match (subject.get("format"), subject.get("subject_type")) {
        (Some(Value::String(f)), _) => Some(f.as_str()),
        (Some(_), _) => {
            return Err(SetError::InvalidSubject(
                "the subject format is not a string",
            ))
        }
        // RFC 8417 §2.1.4 and the 2018 RISC event types: `"subject_type": "iss-sub"`.
        (None, Some(Value::String(t))) if t == "iss-sub" => Some("iss_sub"),
        (None, Some(Value::String(_))) => {
            return Ok(Named {
                user: Some(Err("subject format not mapped")),
                session: None,
            })
        }
        (None, Some(_)) => {
            return Err(SetError::InvalidSubject(
                "the subject format is not a string",
            ))
        }
        (None, None) => None,
    };
    match format {
        Some("complex") => complex(subject, subject_issuer),
        Some(format) => Ok(Named {
            user: Some(simple(subject, format, subject_issuer)?),
            session: None,
        }),
        None if subject.contains_key("user") || subject.contains_key("session") => {
            complex(subject, subject_issuer)
        }
        None => Err(SetError::InvalidSubject("the subject has no format")),
    }
}

fn complex(subject: &Map<String, Value>, subject_issuer: Option<&str>) -> Result<Named, SetError> {
    let member = |name: &str, read: fn(&Map<String, Value>, &str, Option<&str>) -> _| {
        subject
            .get(name)
            .map(|v| match v {
                Value::Object(m) => match m.get("format") {
                    Some(Value::String(f)) => read(m, f, subject_issuer),
                    _ => Err(SetError::InvalidSubject(
                        "a complex subject member has no format",
                    )),
                },
                _ => Err(SetError::InvalidSubject(
                    "a complex subject member is not an object",
                )),
            })
            .transpose()
    };
    Ok(Named {
        user: member("user", simple)?,
        session: member("session", session)?,
    })
}

/// A simple subject naming a user.
fn simple(
    subject: &Map<String, Value>,
    format: &str,
    subject_issuer: Option<&str>,
) -> Result<Mapped, SetError> {
    Ok(match format {
        "opaque" => id(text(subject, "id", "an opaque subject has no string id")?),
        "iss_sub" => {
            let iss = text(subject, "iss", "an iss_sub subject has no string iss")?;
            let sub = text(subject, "sub", "an iss_sub subject has no string sub")?;
            if Some(iss) == subject_issuer {
                id(sub)
            } else {
                Err("iss_sub subject of another issuer")
            }
        }
        _ => Err("subject format not mapped"),
    })
}

/// A complex subject's `session` member: only an `opaque` one names a `sid`.
fn session(
    subject: &Map<String, Value>,
    format: &str,
    _subject_issuer: Option<&str>,
) -> Result<Mapped, SetError> {
    match format {
        "opaque" => simple(subject, format, None),
        _ => Ok(Err("session subject format not mapped")),
    }
}

fn text<'a>(
    subject: &'a Map<String, Value>,
    name: &str,
    missing: &'static str,
) -> Result<&'a str, SetError> {
    match subject.get(name) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(SetError::InvalidSubject(missing)),
    }
}

/// An id is a Warden `sub` or `sid` only if a token could carry it: at most [`MAX_ID_LEN`]
/// bytes and an identity value. Any other names nobody Warden ever admitted.
fn id(value: &str) -> Mapped {
    if value.len() <= MAX_ID_LEN && is_identity_value(value) {
        Ok(String::from(value))
    } else {
        Err("subject id is not a Warden identity value")
    }
}
