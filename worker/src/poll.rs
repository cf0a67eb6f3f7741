//! Shared Signals poll delivery (RFC 8936), run by the cron trigger while `WARDEN_SSF_POLL_URL`
//! is set: `POST` to it with `Authorization: Bearer <WARDEN_SSF_POLL_TOKEN>` and
//! `{"ack": [jti…], "setErrs": {jti: {"err", "description"}}, "maxEvents": 100,
//! "returnImmediately": true}`; each SET of the answer's `sets` goes through
//! [`crate::ssf::deliver`], exactly as a pushed one (the same checks, apply, ledger and
//! `ssf_event` line). An applied one (or a duplicate) is acknowledged in the next poll, a
//! refused one reported in its `setErrs` with the RFC 8935 §2.3 code; one that meets a store or
//! keys that cannot be had now is neither, so the transmitter delivers it again, and the run
//! ends there.
//!
//! The acknowledgements and errors not yet delivered are written to KV (`ssf:poll`) before
//! the next poll, so before the next page is applied. KV rather than the Durable Object: the
//! ledger of applied events ([`crate::received`]) lives there, so "the store is down" means
//! one thing for both — nothing applied, nothing acknowledged — and the record is written at
//! most once per round, a handful of times per run, minutes apart. Whatever happens between
//! applying a page and its acknowledgement reaching the transmitter (a crash, a poll that
//! fails, a write refused), the worst case is a SET delivered again: the ledger makes it a
//! `duplicate`, acknowledged again and applied once. An acknowledgement already delivered and
//! sent again is harmless to the transmitter.
//!
//! A run follows `moreAvailable` (and polls once more to deliver its last acknowledgements) for
//! at most [`MAX_ROUNDS`] polls; a poll that fails or does not answer within
//! [`crate::keys::FETCH_TIMEOUT_MS`] ends the run. Each run writes one `ssf_poll` audit line.

use serde_json::{Map, Value};

use crate::fields::{obj, text};

/// The `maxEvents` of every poll.
pub const MAX_EVENTS: u32 = 100;
/// Most polls per cron run.
pub const MAX_ROUNDS: u32 = 5;
/// Largest accepted poll answer (100 SETs of several KiB each).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// Largest accepted SET in a poll answer, as for a push.
pub const MAX_SET_BYTES: usize = 64 * 1024;
/// The KV record of the acknowledgements and errors not yet delivered.
pub const PENDING_KEY: &str = "ssf:poll";

/// What the next poll tells the transmitter: `{"ack": [jti…], "setErrs": {jti: {"err",
/// "description"}}}`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pending {
    /// The `jti`s applied (or found applied before).
    pub ack: Vec<String>,
    /// The refused ones.
    pub set_errs: Map<String, Value>,
}

impl Pending {
    /// Nothing to tell.
    pub fn is_empty(&self) -> bool {
        self.ack.is_empty() && self.set_errs.is_empty()
    }

    /// Records `jti` as refused with `err` (an RFC 8935 §2.3 code) and `description`.
    pub fn refuse(&mut self, jti: &str, err: &str, description: &str) {
        self.set_errs.insert(
            jti.to_owned(),
            obj! {"err": err, "description": description},
        );
    }

    /// The stored form: `{"ack", "setErrs"}`.
    pub fn to_json(&self) -> Value {
        obj! {"ack": self.ack, "setErrs": self.set_errs}
    }

    /// Reads the stored form (anything else is nothing pending: the transmitter delivers again
    /// what it has no acknowledgement for).
    pub fn from_json(text: &str) -> Pending {
        let stored: Value = crate::fields::parse(text).unwrap_or_default();
        let ack = stored["ack"].as_array().map_or(&[][..], Vec::as_slice);
        Pending {
            ack: ack
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            set_errs: stored["setErrs"].as_object().cloned().unwrap_or_default(),
        }
    }

    /// The poll request's body: the stored form with `maxEvents` and `returnImmediately`.
    pub fn request(&self) -> String {
        let stored = text(&self.to_json());
        let rest = stored.strip_prefix('{').unwrap_or_default();
        format!("{{\"maxEvents\":{MAX_EVENTS},\"returnImmediately\":true,{rest}")
    }
}

/// One SET of a poll answer: its member name (the transmitter's `jti`) and its text, or why it
/// is refused before any check.
pub type Polled = (String, Result<String, &'static str>);

/// A poll answer (RFC 8936 §2.3): its SETs and `moreAvailable`, or why it is unusable.
pub fn answer(body: &str) -> Result<(Vec<Polled>, bool), &'static str> {
    let answer = crate::fields::parse(body).map_err(|_| "the answer is not a JSON object")?;
    let more = match &answer["moreAvailable"] {
        Value::Null => false,
        Value::Bool(more) => *more,
        _ => return Err("moreAvailable is not a boolean"),
    };
    let sets = answer["sets"]
        .as_object()
        .ok_or("the answer has no sets object")?;
    let sets = sets
        .iter()
        .map(|(jti, set)| {
            let set = match set.as_str() {
                Some(s) if s.len() > MAX_SET_BYTES => Err("the SET is over 64 KiB"),
                Some(s) => Ok(s.to_owned()),
                None => Err("the sets member is not a string"),
            };
            (jti.clone(), set)
        })
        .collect();
    Ok((sets, more))
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use warden_core::SetErrorCode;
    use worker::Env;

    use super::*;
    use crate::admin::StoreFailure;
    use crate::audit::{audit, AuditEvent};
    use crate::config::{Config, PollConfig};
    use crate::fields::fields;
    use crate::keys::fetch_text;
    use crate::received::{self, logged, Line};
    use crate::ssf::{deliver, Delivery, EVENT};

    /// What a run did, for its `ssf_poll` line.
    #[derive(Default)]
    struct Run {
        polls: u32,
        received: usize,
        acknowledged: usize,
        refused: usize,
    }

    /// One cron run: polls while the transmitter has more (or there is something to tell it),
    /// at most [`MAX_ROUNDS`] times. Does nothing while polling is not configured.
    pub async fn run(env: &Env, config: &Config, now: u64) {
        let Some(ssf) = &config.ssf else { return };
        let Some(poll) = &ssf.poll else { return };
        let mut run = Run::default();
        let outcome = rounds(env, config, ssf, poll, now, &mut run).await;
        let error = outcome.err();
        let line = fields! {
            "polls": run.polls,
            "received": run.received,
            "acknowledged": run.acknowledged,
            "refused": run.refused,
            "error": error,
        };
        audit(AuditEvent::SsfPoll, &line);
    }

    async fn rounds(
        env: &Env,
        config: &Config,
        ssf: &crate::config::SsfConfig,
        poll: &PollConfig,
        now: u64,
        run: &mut Run,
    ) -> Result<(), String> {
        let stored = received::stored(env, PENDING_KEY)
            .await
            .map_err(|e| failed("get", e))?;
        let mut pending = stored
            .as_deref()
            .map(Pending::from_json)
            .unwrap_or_default();
        let mut stored = !pending.is_empty();
        while run.polls < MAX_ROUNDS {
            run.polls += 1;
            let auth = format!("Bearer {}", poll.token);
            let request = Some(pending.request());
            let (body, _) = fetch_text(
                &poll.url,
                "POST",
                ("authorization", &auth),
                request,
                MAX_ANSWER_BYTES,
            )
            .await
            .map_err(|e| format!("poll: {e}"))?;
            // The transmitter has what this poll told it.
            run.acknowledged += pending.ack.len();
            pending = Pending::default();
            let (sets, more) = answer(&body)?;
            run.received += sets.len();
            let mut unavailable = false;
            for (jti, set) in sets {
                let done = match set {
                    Ok(set) => deliver(&set, Some(&jti), env, config, ssf, now).await,
                    Err(why) => Delivery::Refused(SetErrorCode::InvalidRequest, why),
                };
                match done {
                    Delivery::Accepted => pending.ack.push(jti),
                    Delivery::Refused(code, why) => {
                        logged(EVENT, &Line::refused(code.as_str(), why));
                        pending.refuse(&jti, code.as_str(), why);
                        run.refused += 1;
                    }
                    Delivery::Unavailable(_) => {
                        unavailable = true;
                        break;
                    }
                }
            }
            // Written before the next poll, so before the next page is applied.
            if stored || !pending.is_empty() {
                received::record(env, PENDING_KEY, &pending.to_json(), now)
                    .await
                    .map_err(|e| failed("put", e))?;
                stored = !pending.is_empty();
            }
            if unavailable {
                return Err("a SET could not be applied now; not acknowledged".into());
            }
            if !more && pending.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// A store failure: audited (`store_error`), and the run's error.
    fn failed(op: &'static str, error: worker::Error) -> String {
        let _audited = StoreFailure::new(op, error).response();
        format!("store {op} failed")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_request_carries_what_is_pending() {
        let mut p = Pending::default();
        assert!(p.is_empty());
        let request = |p: &Pending| serde_json::from_str::<Value>(&p.request()).unwrap();
        assert_eq!(
            request(&p),
            json!({"ack": [], "setErrs": {}, "maxEvents": 100, "returnImmediately": true})
        );
        p.ack.push("a".into());
        p.refuse("b", "invalid_key", "signature verification failed");
        assert!(!p.is_empty());
        assert_eq!(
            request(&p),
            json!({"ack": ["a"], "setErrs": {"b": {"err": "invalid_key", "description": "signature verification failed"}}, "maxEvents": 100, "returnImmediately": true})
        );
        // Stored and read back.
        assert_eq!(Pending::from_json(&p.to_json().to_string()), p);
        for garbage in ["", "[]", "{\"ack\": 1}", "null"] {
            assert!(Pending::from_json(garbage).is_empty(), "{garbage}");
        }
    }

    #[test]
    fn answers() {
        let (sets, more) =
            answer(r#"{"sets": {"j1": "a.b.c", "j2": 7}, "moreAvailable": true}"#).unwrap();
        assert!(more);
        assert_eq!(
            sets,
            vec![
                ("j1".to_owned(), Ok("a.b.c".to_owned())),
                ("j2".to_owned(), Err("the sets member is not a string")),
            ]
        );
        assert_eq!(answer(r#"{"sets": {}}"#), Ok((vec![], false)));
        let big = format!(
            r#"{{"sets": {{"j": "{}"}}}}"#,
            "a".repeat(MAX_SET_BYTES + 1)
        );
        assert_eq!(
            answer(&big).unwrap().0,
            vec![("j".to_owned(), Err("the SET is over 64 KiB"))]
        );
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"sets": []}"#,
            r#"{"sets": {}, "moreAvailable": "yes"}"#,
        ] {
            assert!(answer(bad).is_err(), "{bad}");
        }
    }
}
