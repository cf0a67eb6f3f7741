//! What the worker and the Durable Objects (class `WardenSessions`, binding `WARDEN_SESSIONS`)
//! say to each other: one typed request ([`ObjectRequest`]) as one JSON body to one path, one
//! typed answer ([`ObjectAnswer`]). Both sides import this module and nothing of each other.
//!
//! Objects: `sub:<sub>` keeps a subject's cutoff (`subject.rs`); `sid:<sid>` and `rt:<hash>`
//! refresh sessions (`sessions.rs`); `objects.rs` dispatches.

use serde::{Deserialize, Serialize};
use warden_core::{hex, token_digest, Denial, ReplayId, RevocationReason, UnixTime};

use crate::fields::obj;

/// The Durable Object namespace binding.
pub const DO_BINDING: &str = "WARDEN_SESSIONS";
/// The Durable Object class exported by the worker.
pub const DO_CLASS: &str = "WardenSessions";
/// The one URL every call goes to (an object's URL is not routed anywhere; the body says what
/// is asked).
pub const CALL_URL: &str = "https://warden-sessions/call";

/// The object that serialises refreshes for a session: `sid:<sid>` when the request's access
/// token names its session, else `rt:<hex sha256(refresh token)>` (the token itself never
/// appears in a name).
pub fn object_name(sid: Option<&str>, refresh_token: &str) -> String {
    match sid {
        Some(sid) => format!("sid:{sid}"),
        None => format!("rt:{}", hex(&token_digest(refresh_token))),
    }
}

/// The object keeping the cutoff of `sub`: `sub:<sub>`.
pub fn subject_object(sub: &str) -> String {
    format!("sub:{sub}")
}

/// Shards of the DPoP proof ledger (`WARDEN_DPOP_REPLAY=global`): objects `dpop:00` … `dpop:ff`.
pub const PROOF_SHARDS: u32 = 256;

/// The object that remembers the proofs whose replay id falls in its shard: `dpop:<2 hex>`
/// (from the id's first bytes, a SHA-256 output: evenly spread).
pub fn proof_object(replay: &ReplayId) -> String {
    format!("dpop:{:02x}", replay.shard(PROOF_SHARDS))
}

/// The revocation log object (`WARDEN_REVOCATION_FILTER=on`, `revlog.rs`): one per
/// namespace; every writer of a revocation records it here before writing it to KV, and the
/// object publishes the revocation filter built from what it holds.
pub const LOG_OBJECT: &str = "revlog";

/// An id revocation as the log records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoggedId {
    /// `jti`, `sid` or `kid`.
    pub kind: String,
    /// The id.
    pub id: String,
    /// When its KV record expires (0: never).
    pub expires_at: UnixTime,
}

/// A subject cutoff as the log records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoggedCutoff {
    /// The subject.
    pub sub: String,
    /// Tokens of `sub` issued at or before this are revoked.
    pub before: UnixTime,
    /// When its KV record expires (0: never).
    pub expires_at: UnixTime,
}

/// The session a request presented, as the worker knows it: the refresh token (travels only
/// between worker and object, never logged), and the `sid`, `sub` and `iat` of the presented
/// access token (verified by the worker; `None` on the `rt:` path).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionCall {
    /// The refresh token the client presented (empty when only the session is named).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub refresh_token: String,
    /// The session.
    #[serde(default)]
    pub sid: Option<String>,
    /// The subject.
    #[serde(default)]
    pub sub: Option<String>,
    /// The presented access token's `iat`: the session began no later than this.
    #[serde(default)]
    pub iat: Option<UnixTime>,
}

/// A pair an `rt:` object already obtained from the origin for a refresh token: the `sid:`
/// object records it (and may still refuse it) instead of calling the origin.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObtainedPair {
    /// The new access token.
    pub access_token: String,
    /// The new refresh token that came with it.
    pub refresh_token: String,
}

/// A request to raise a subject's cutoff.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CutoffRequest {
    /// The subject.
    pub sub: String,
    /// The requested cutoff (tokens with `iat <= before` are revoked).
    pub before: UnixTime,
    /// The policy's leeway, for the record's expiration.
    pub leeway: u64,
    /// The policy's lifetime cap, for the record's expiration.
    pub max_lifetime: u64,
    /// Record the cutoff in the revocation log before writing it to KV
    /// (`WARDEN_REVOCATION_FILTER=on`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub log: bool,
}

/// The effective cutoff after a raise.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cutoff {
    /// The effective cutoff: the highest ever requested for this subject.
    pub before: UnixTime,
    /// The KV record's expiration.
    pub expires_at: UnixTime,
}

/// What the worker (or another object) asks an object.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ObjectRequest {
    /// `sid:` / `rt:`: a fresh pair for the presented refresh token ([`Answer`]).
    Refresh {
        /// The presented session.
        session: SessionCall,
        /// A pair an `rt:` object obtained already (to `sid:` objects only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        obtained: Option<ObtainedPair>,
    },
    /// `sid:`: the edge saw the session (registers it, or records activity). No token.
    Seen(SessionCall),
    /// `sid:`: no further refresh for this session.
    End {
        /// The session.
        sid: String,
        /// Its subject, when known.
        sub: Option<String>,
        /// Why it ends (what later refresh attempts are told).
        reason: Refusal,
    },
    /// `sub:`: raise the cutoff (inside `blockConcurrencyWhile`), write it to KV, answer the
    /// effective one.
    RaiseCutoff(CutoffRequest),
    /// `sub:`: the stored cutoff (strongly consistent).
    ReadCutoff,
    /// `dpop:`: use up a DPoP proof's replay id (hex), remembered until `until`.
    UseProof {
        /// The replay id, hex.
        id: String,
        /// When the proof is too old anyway (Unix seconds).
        until: UnixTime,
    },
    /// `revlog`: record revocations durably (all or none), before they are written to KV;
    /// the next filter or delta the object publishes holds them.
    Record {
        /// Id revocations.
        #[serde(default)]
        ids: Vec<LoggedId>,
        /// Subject cutoffs.
        #[serde(default)]
        cutoffs: Vec<LoggedCutoff>,
    },
    /// `revlog`: publish soon (an isolate found the published filter missing or stale).
    Publish,
    /// `revlog`: withdraw the published filter and seed the log from KV's records again.
    Reseed,
}

/// What an object answers (with status 200; any other status is a failure, its body the
/// reason).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ObjectAnswer {
    /// To [`ObjectRequest::Refresh`].
    Refreshed(Answer),
    /// To [`ObjectRequest::Seen`] and [`ObjectRequest::End`].
    Done,
    /// To [`ObjectRequest::RaiseCutoff`]: the effective cutoff.
    Raised(Cutoff),
    /// To [`ObjectRequest::ReadCutoff`]: the stored cutoff, if any.
    Stored(Option<UnixTime>),
    /// To [`ObjectRequest::UseProof`]: whether this was the id's first use in its window.
    FirstUse(bool),
}

/// Why a refresh is refused for good: the user must log in again (the worker answers 401 and
/// clears both cookies). Stored and sent as text, e.g. `session_idle:1700000000:3600`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(into = "String", try_from = "String")]
pub enum Refusal {
    /// A rotated refresh token came back after the grace window (RFC 9700 §4.14.2): the
    /// session is revoked.
    RefreshReused,
    /// The session was idle longer than `WARDEN_SESSION_IDLE_SECONDS`.
    SessionIdle {
        /// The last recorded activity.
        last_active: UnixTime,
        /// The idle timeout.
        idle_timeout: u64,
    },
    /// The session reached `WARDEN_SESSION_MAX_SECONDS`.
    SessionCapReached {
        /// When it began.
        created_at: UnixTime,
        /// The cap.
        cap: u64,
    },
    /// The session was revoked (admin `{"sid"}`, a revoked refresh token, logout).
    SessionRevoked,
    /// The subject's sessions were revoked (admin `{"sub"}`, e.g. a password change) and this
    /// one began at or before the cutoff (or cannot be shown to have begun after it).
    SubjectRevoked {
        /// The cutoff.
        before: UnixTime,
    },
    /// The origin answered `invalid_grant`: the refresh token is dead.
    InvalidGrant,
}

impl From<Refusal> for String {
    fn from(r: Refusal) -> String {
        let name = r.name();
        match r {
            Refusal::SessionIdle {
                last_active,
                idle_timeout,
            } => format!("{name}:{last_active}:{idle_timeout}"),
            Refusal::SessionCapReached { created_at, cap } => format!("{name}:{created_at}:{cap}"),
            Refusal::SubjectRevoked { before } => format!("{name}:{before}"),
            _ => name.into(),
        }
    }
}

impl TryFrom<String> for Refusal {
    type Error = String;

    fn try_from(text: String) -> Result<Refusal, String> {
        let mut parts = text.split(':');
        let code = parts.next().unwrap_or_default();
        let mut num = || parts.next().and_then(|n| n.parse::<u64>().ok());
        let refusal = match code {
            "refresh_reused" => Some(Refusal::RefreshReused),
            "session_revoked" => Some(Refusal::SessionRevoked),
            "invalid_grant" => Some(Refusal::InvalidGrant),
            "session_idle" => {
                num()
                    .zip(num())
                    .map(|(last_active, idle_timeout)| Refusal::SessionIdle {
                        last_active,
                        idle_timeout,
                    })
            }
            "session_cap_reached" => num()
                .zip(num())
                .map(|(created_at, cap)| Refusal::SessionCapReached { created_at, cap }),
            "subject_revoked" => num().map(|before| Refusal::SubjectRevoked { before }),
            _ => None,
        };
        refusal.ok_or_else(|| format!("not a refusal: {text:?}"))
    }
}

impl Refusal {
    /// Why the session ended, as the session inventory lists it: `refresh_reused`,
    /// `session_idle`, `session_cap_reached`, `session_revoked`, `subject_revoked` or
    /// `invalid_grant`.
    pub fn name(&self) -> &'static str {
        match self {
            Refusal::RefreshReused => "refresh_reused",
            Refusal::SessionIdle { .. } => "session_idle",
            Refusal::SessionCapReached { .. } => "session_cap_reached",
            Refusal::SessionRevoked => "session_revoked",
            Refusal::SubjectRevoked { .. } => "subject_revoked",
            Refusal::InvalidGrant => "invalid_grant",
        }
    }

    /// The stable code the client sees (`refresh_reused`, `session_idle`, `token_revoked`,
    /// `refresh_invalid_grant`, ...).
    pub fn code(&self) -> &'static str {
        self.denial().code()
    }

    /// The refusal that ends a session the core's [`warden_core::SessionPolicy`] refused:
    /// idle or capped (any other denial ends it as revoked).
    pub fn ending(d: &Denial) -> Refusal {
        match *d {
            Denial::SessionIdle {
                last_active,
                idle_timeout,
            } => Refusal::SessionIdle {
                last_active,
                idle_timeout,
            },
            Denial::SessionCapReached { created_at, cap } => {
                Refusal::SessionCapReached { created_at, cap }
            }
            _ => Refusal::SessionRevoked,
        }
    }

    /// The core's denial for this refusal: every code a client sees is the core's.
    pub fn denial(&self) -> Denial {
        match self {
            Refusal::RefreshReused => Denial::RefreshReused,
            Refusal::SessionIdle {
                last_active,
                idle_timeout,
            } => Denial::SessionIdle {
                last_active: *last_active,
                idle_timeout: *idle_timeout,
            },
            Refusal::SessionCapReached { created_at, cap } => Denial::SessionCapReached {
                created_at: *created_at,
                cap: *cap,
            },
            Refusal::SessionRevoked => Denial::Revoked(RevocationReason::Session),
            Refusal::SubjectRevoked { before } => {
                Denial::Revoked(RevocationReason::SubjectCutoff { before: *before })
            }
            Refusal::InvalidGrant => Denial::RefreshInvalidGrant,
        }
    }
}

/// A session object's answer to a refresh call.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(into = "AnswerWire", from = "AnswerWire")]
pub enum Answer {
    /// A new pair: the same one for every caller that presented this refresh token within the
    /// grace window.
    Fresh {
        /// The new access token (to be verified by the worker before use).
        access_token: String,
        /// The new refresh token.
        refresh_token: String,
        /// When the session reaches its cap: the cookies live until then.
        cap_ends_at: UnixTime,
    },
    /// Refused for good.
    Refused {
        /// Why.
        refusal: Refusal,
        /// The session, when known (the worker revokes it in its isolate on reuse).
        sid: Option<String>,
    },
    /// Not now: the origin failed or timed out, or the object could not work. The session is
    /// untouched; the client keeps its cookies and may retry.
    Unavailable {
        /// 502 (the origin failed or answered nonsense) or 503 (timeout, object or store
        /// unavailable).
        status: u16,
        /// For the audit line.
        reason: String,
    },
}

/// [`Answer`] as it travels: one flat object (`status` 200, 401, 502 or 503).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct AnswerWire {
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cap_ends_at: Option<UnixTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refusal: Option<Refusal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<Answer> for AnswerWire {
    fn from(a: Answer) -> AnswerWire {
        match a {
            Answer::Fresh {
                access_token,
                refresh_token,
                cap_ends_at,
            } => AnswerWire {
                status: 200,
                access_token: Some(access_token),
                refresh_token: Some(refresh_token),
                cap_ends_at: Some(cap_ends_at),
                ..AnswerWire::default()
            },
            Answer::Refused { refusal, sid } => AnswerWire {
                status: 401,
                refusal: Some(refusal),
                sid,
                ..AnswerWire::default()
            },
            Answer::Unavailable { status, reason } => AnswerWire {
                status,
                reason: Some(reason),
                ..AnswerWire::default()
            },
        }
    }
}

impl From<AnswerWire> for Answer {
    fn from(w: AnswerWire) -> Answer {
        match (
            w.status,
            w.access_token,
            w.refresh_token,
            w.cap_ends_at,
            w.refusal,
        ) {
            (200, Some(access_token), Some(refresh_token), Some(cap_ends_at), _) => Answer::Fresh {
                access_token,
                refresh_token,
                cap_ends_at,
            },
            (401, _, _, _, Some(refusal)) => Answer::Refused {
                refusal,
                sid: w.sid,
            },
            (status @ (502 | 503), ..) => Answer::Unavailable {
                status,
                reason: w.reason.unwrap_or_default(),
            },
            _ => Answer::unavailable(503, "malformed answer from the session object"),
        }
    }
}

impl Answer {
    /// As JSON, as its `Serialize` writes it (the flat [`AnswerWire`] object).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Answer::Fresh {
                access_token,
                refresh_token,
                cap_ends_at,
            } => obj! {
                "status": 200u16,
                "access_token": access_token,
                "refresh_token": refresh_token,
                "cap_ends_at": cap_ends_at,
            },
            Answer::Refused { refusal, sid } => obj!(sparse:
                "status": 401u16,
                "refusal": String::from(refusal.clone()),
                "sid": sid,
            ),
            Answer::Unavailable { status, reason } => obj! {"status": status, "reason": reason},
        }
    }

    /// An [`Answer::Unavailable`].
    pub fn unavailable(status: u16, reason: impl Into<String>) -> Answer {
        Answer::Unavailable {
            status,
            reason: reason.into(),
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use worker::Env;

    use super::*;

    /// Sends `request` to the object `name` and reads its answer; an object that cannot be
    /// reached, fails, or answers nonsense is an error.
    pub async fn call(
        env: &Env,
        name: &str,
        request: &ObjectRequest,
    ) -> worker::Result<ObjectAnswer> {
        let stub = env
            .durable_object(DO_BINDING)?
            .id_from_name(name)?
            .get_stub()?;
        let body = serde_json::to_string(request)?;
        let mut resp = stub
            .fetch_with_request(crate::http::outbound(
                "POST",
                CALL_URL,
                &[],
                Some(&body),
                false,
            )?)
            .await?;
        let text = resp.text().await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "object {} answered {}: {text}",
                name.split(':').next().unwrap_or_default(),
                resp.status_code()
            )));
        }
        Ok(serde_json::from_slice(text.as_bytes())?)
    }

    /// An answer of the wrong kind (shown as its JSON: the serializer is there anyway, a
    /// `Debug` rendering of every answer would not be).
    pub fn unexpected(answer: &ObjectAnswer) -> worker::Error {
        let shown = serde_json::to_string(answer).unwrap_or_default();
        worker::Error::RustError(format!("unexpected object answer: {shown}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_carry_the_token() {
        assert_eq!(object_name(Some("s-1"), "secret"), "sid:s-1");
        let rt = object_name(None, "secret");
        assert!(rt.starts_with("rt:") && rt.len() == 3 + 64, "{rt}");
        assert!(!rt.contains("secret"));
        assert_eq!(rt, object_name(None, "secret"));
        assert_ne!(rt, object_name(None, "secret2"));
        assert_eq!(subject_object("u"), "sub:u");
        let mut id = ReplayId {
            id: [0; 32],
            until: 9,
        };
        assert_eq!(proof_object(&id), "dpop:00");
        id.id[3] = 0xff;
        assert_eq!(proof_object(&id), "dpop:ff");
    }

    #[test]
    fn refusals_map_to_core_codes() {
        assert_eq!(Refusal::RefreshReused.code(), "refresh_reused");
        let idle = Refusal::SessionIdle {
            last_active: 1,
            idle_timeout: 2,
        };
        assert_eq!(idle.code(), "session_idle");
        let cap = Refusal::SessionCapReached {
            created_at: 1,
            cap: 2,
        };
        assert_eq!(cap.code(), "session_cap_reached");
        assert_eq!(Refusal::SessionRevoked.code(), "token_revoked");
        assert_eq!(
            Refusal::SubjectRevoked { before: 5 }.code(),
            "token_revoked"
        );
        assert_eq!(Refusal::InvalidGrant.code(), "refresh_invalid_grant");
        assert_eq!(Refusal::ending(&idle.denial()), idle);
        assert_eq!(Refusal::ending(&cap.denial()), cap);
        for r in [Refusal::RefreshReused, idle, cap, Refusal::SessionRevoked] {
            assert_eq!(r.denial().status(), 401);
        }
    }

    #[test]
    fn answers_and_refusals_round_trip_as_json() {
        let answers = [
            Answer::Refused {
                refusal: Refusal::SessionIdle {
                    last_active: 10,
                    idle_timeout: 20,
                },
                sid: Some("s".into()),
            },
            Answer::Fresh {
                access_token: "a.b.c".into(),
                refresh_token: "r".into(),
                cap_ends_at: 99,
            },
            Answer::unavailable(502, "x"),
            Answer::unavailable(503, "y"),
        ];
        for a in answers {
            let text = serde_json::to_string(&a).unwrap();
            assert_eq!(serde_json::from_str::<Answer>(&text).unwrap(), a, "{text}");
            let value = serde_json::to_value(&a).unwrap();
            assert_eq!(a.to_value().to_string(), value.to_string(), "{text}");
        }
        let text = serde_json::to_string(&Answer::Refused {
            refusal: Refusal::RefreshReused,
            sid: None,
        })
        .unwrap();
        assert_eq!(text, r#"{"status":401,"refusal":"refresh_reused"}"#);
        // Nonsense is a 503, never a pair.
        for bad in [
            r#"{"status":200}"#,
            r#"{"status":401}"#,
            r#"{"status":418}"#,
        ] {
            assert_eq!(
                serde_json::from_str::<Answer>(bad).unwrap(),
                Answer::unavailable(503, "malformed answer from the session object")
            );
        }
        for r in [
            Refusal::RefreshReused,
            Refusal::SessionIdle {
                last_active: 1,
                idle_timeout: 2,
            },
            Refusal::SessionCapReached {
                created_at: 3,
                cap: 4,
            },
            Refusal::SessionRevoked,
            Refusal::SubjectRevoked { before: 5 },
            Refusal::InvalidGrant,
        ] {
            assert_eq!(Refusal::try_from(String::from(r.clone())), Ok(r));
        }
        assert!(Refusal::try_from("session_idle:1".to_owned()).is_err());
        assert!(Refusal::try_from("nope".to_owned()).is_err());
        let seen = ObjectRequest::Seen(SessionCall {
            sid: Some("s".into()),
            ..SessionCall::default()
        });
        let text = serde_json::to_string(&seen).unwrap();
        assert!(!text.contains("refresh_token"), "{text}");
        assert_eq!(serde_json::from_str::<ObjectRequest>(&text).unwrap(), seen);
    }

    #[test]
    fn requests_and_answers_travel_as_one_json_body() {
        let requests = [
            ObjectRequest::Refresh {
                session: SessionCall {
                    refresh_token: "r".into(),
                    sid: Some("s".into()),
                    sub: Some("u".into()),
                    iat: Some(5),
                },
                obtained: Some(ObtainedPair {
                    access_token: "a.b.c".into(),
                    refresh_token: "r2".into(),
                }),
            },
            ObjectRequest::End {
                sid: "s".into(),
                sub: None,
                reason: Refusal::SubjectRevoked { before: 9 },
            },
            ObjectRequest::RaiseCutoff(CutoffRequest {
                sub: "u".into(),
                before: 1,
                leeway: 2,
                max_lifetime: 3,
                log: false,
            }),
            ObjectRequest::RaiseCutoff(CutoffRequest {
                sub: "u".into(),
                before: 1,
                leeway: 2,
                max_lifetime: 3,
                log: true,
            }),
            ObjectRequest::ReadCutoff,
            ObjectRequest::Record {
                ids: vec![LoggedId {
                    kind: "jti".into(),
                    id: "j".into(),
                    expires_at: 0,
                }],
                cutoffs: vec![LoggedCutoff {
                    sub: "u".into(),
                    before: 5,
                    expires_at: 9,
                }],
            },
            ObjectRequest::Publish,
            ObjectRequest::Reseed,
        ];
        for r in requests {
            let text = serde_json::to_string(&r).unwrap();
            assert_eq!(
                serde_json::from_str::<ObjectRequest>(&text).unwrap(),
                r,
                "{text}"
            );
        }
        assert_eq!(
            serde_json::to_string(&ObjectRequest::ReadCutoff).unwrap(),
            r#""read_cutoff""#
        );
        let answers = [
            ObjectAnswer::Refreshed(Answer::unavailable(503, "x")),
            ObjectAnswer::Refreshed(Answer::Refused {
                refusal: Refusal::RefreshReused,
                sid: Some("s".into()),
            }),
            ObjectAnswer::Done,
            ObjectAnswer::Raised(Cutoff {
                before: 1,
                expires_at: 2,
            }),
            ObjectAnswer::Stored(None),
            ObjectAnswer::Stored(Some(7)),
        ];
        for a in answers {
            let text = serde_json::to_string(&a).unwrap();
            assert_eq!(
                serde_json::from_str::<ObjectAnswer>(&text).unwrap(),
                a,
                "{text}"
            );
        }
    }
}
