//! What the worker and the Durable Objects (class `WardenSessions`, binding `WARDEN_SESSIONS`)
//! say to each other: one typed request ([`ObjectRequest`]) as one JSON body to one path, one
//! typed answer ([`ObjectAnswer`]). Both sides import this module and nothing of each other.
//!
//! Objects: `sub:<sub>` keeps a subject's cutoff (`subject.rs`); `sid:<sid>` and `rt:<hash>`
//! refresh sessions (`sessions.rs`); `objects.rs` dispatches.

use serde_json::{Map, Value};
use warden_core::{hex, token_digest, Denial, ReplayId, RevocationReason, UnixTime};

use crate::fields::{obj, text, Members};

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedId {
    /// `jti`, `sid` or `kid`.
    pub kind: String,
    /// The id.
    pub id: String,
    /// When its KV record expires (0: never).
    pub expires_at: UnixTime,
}

/// A subject cutoff as the log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionCall {
    /// The refresh token the client presented (empty when only the session is named).
    pub refresh_token: String,
    /// The session.
    pub sid: Option<String>,
    /// The subject.
    pub sub: Option<String>,
    /// The presented access token's `iat`: the session began no later than this.
    pub iat: Option<UnixTime>,
}

/// A pair an `rt:` object already obtained from the origin for a refresh token: the `sid:`
/// object records it (and may still refuse it) instead of calling the origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObtainedPair {
    /// The new access token.
    pub access_token: String,
    /// The new refresh token that came with it.
    pub refresh_token: String,
}

/// A request to raise a subject's cutoff.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub log: bool,
}

/// The effective cutoff after a raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    /// The effective cutoff: the highest ever requested for this subject.
    pub before: UnixTime,
    /// The KV record's expiration.
    pub expires_at: UnixTime,
}

/// What the worker (or another object) asks an object. As JSON ([`ObjectRequest::to_json`]):
/// a request without fields is its name (`"read_cutoff"`), the others an object whose one
/// member is the request's name (`{"seen": {"sid": "s-1"}}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectRequest {
    /// `sid:` / `rt:`: a fresh pair for the presented refresh token ([`Answer`]).
    Refresh {
        /// The presented session.
        session: SessionCall,
        /// A pair an `rt:` object obtained already (to `sid:` objects only).
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
        ids: Vec<LoggedId>,
        /// Subject cutoffs.
        cutoffs: Vec<LoggedCutoff>,
    },
    /// `revlog`: publish soon (an isolate found the published filter missing or stale).
    Publish,
    /// `revlog`: withdraw the published filter and seed the log from KV's records again.
    Reseed,
}

/// What an object answers (with status 200; any other status is a failure, its body the
/// reason). As JSON like [`ObjectRequest`]: `"done"`, `{"raised": {...}}`, ...
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// A session object's answer to a refresh call. As JSON ([`Answer::to_value`]): one flat
/// object, `status` 200, 401, 502 or 503.
#[derive(Clone, Debug, PartialEq, Eq)]
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

impl Answer {
    /// As JSON: one flat object (`status`, then the fields of that status).
    pub fn to_value(&self) -> Value {
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

    /// From [`Answer::to_value`]'s JSON. An answer that is not one of the three is a 503 that
    /// says so, never a pair.
    fn from_value(v: &Value) -> Answer {
        let read = || {
            let m = Members::of(v)?;
            Some(match m.number("status")? {
                200 => Answer::Fresh {
                    access_token: m.string("access_token")?,
                    refresh_token: m.string("refresh_token")?,
                    cap_ends_at: m.number("cap_ends_at")?,
                },
                401 => Answer::Refused {
                    refusal: Refusal::try_from(m.string("refusal")?).ok()?,
                    sid: m.opt_string("sid")?,
                },
                status @ (502 | 503) => Answer::Unavailable {
                    status: status as u16,
                    reason: m.opt_string("reason")?.unwrap_or_default(),
                },
                _ => return None,
            })
        };
        read()
            .unwrap_or_else(|| Answer::unavailable(503, "malformed answer from the session object"))
    }
}

// The protocol's JSON, written with `obj!` and read with `Members`: the worker's own JSON
// (derived serde code for these types would be several kilobytes of the worker).

/// A message's name and body: a bare name (`"done"`, body `null`) or an object with one member.
/// A message's JSON: a unit variant's name as a JSON string (`"read_cutoff"`: lowercase
/// letters and `_` only, as [`message`] writes them), or an object read by
/// [`crate::fields::parse`].
fn read_message(text: &str) -> Option<Value> {
    if let Some(name) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        return plain.then(|| Value::String(name.to_owned()));
    }
    crate::fields::parse(text).ok()
}

fn named(v: &Value) -> Option<(&str, &Value)> {
    match v {
        Value::String(name) => Some((name, &Value::Null)),
        Value::Object(map) if map.len() == 1 => map.iter().next().map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

impl SessionCall {
    fn to_value(&self) -> Value {
        let refresh_token = Some(&self.refresh_token).filter(|t| !t.is_empty());
        obj!(sparse: "refresh_token": refresh_token, "sid": self.sid, "sub": self.sub, "iat": self.iat)
    }

    fn from_value(v: &Value) -> Option<SessionCall> {
        let m = Members::of(v)?;
        Some(SessionCall {
            refresh_token: m.opt_string("refresh_token")?.unwrap_or_default(),
            sid: m.opt_string("sid")?,
            sub: m.opt_string("sub")?,
            iat: m.opt_number("iat")?,
        })
    }
}

impl ObtainedPair {
    fn to_value(&self) -> Value {
        obj! {"access_token": self.access_token, "refresh_token": self.refresh_token}
    }

    fn from_value(v: &Value) -> Option<ObtainedPair> {
        let m = Members::of(v)?;
        Some(ObtainedPair {
            access_token: m.string("access_token")?,
            refresh_token: m.string("refresh_token")?,
        })
    }
}

impl CutoffRequest {
    fn to_value(&self) -> Value {
        obj!(sparse:
            "sub": self.sub,
            "before": self.before,
            "leeway": self.leeway,
            "max_lifetime": self.max_lifetime,
            "log": Some(true).filter(|_| self.log),
        )
    }

    fn from_value(v: &Value) -> Option<CutoffRequest> {
        let m = Members::of(v)?;
        Some(CutoffRequest {
            sub: m.string("sub")?,
            before: m.number("before")?,
            leeway: m.number("leeway")?,
            max_lifetime: m.number("max_lifetime")?,
            log: match m.get("log") {
                None => false,
                Some(v) => v.as_bool()?,
            },
        })
    }
}

impl LoggedId {
    fn to_value(&self) -> Value {
        obj! {"kind": self.kind, "id": self.id, "expires_at": self.expires_at}
    }

    fn from_value(v: &Value) -> Option<LoggedId> {
        let m = Members::of(v)?;
        Some(LoggedId {
            kind: m.string("kind")?,
            id: m.string("id")?,
            expires_at: m.number("expires_at")?,
        })
    }
}

impl LoggedCutoff {
    fn to_value(&self) -> Value {
        obj! {"sub": self.sub, "before": self.before, "expires_at": self.expires_at}
    }

    fn from_value(v: &Value) -> Option<LoggedCutoff> {
        let m = Members::of(v)?;
        Some(LoggedCutoff {
            sub: m.string("sub")?,
            before: m.number("before")?,
            expires_at: m.number("expires_at")?,
        })
    }
}

impl ObjectRequest {
    /// As JSON text (the body of a call).
    pub fn to_json(&self) -> String {
        let (name, body) = match self {
            ObjectRequest::Refresh { session, obtained } => {
                let obtained = obtained.as_ref().map(ObtainedPair::to_value);
                let body = obj!(sparse: "session": session.to_value(), "obtained": obtained);
                ("refresh", body)
            }
            ObjectRequest::Seen(session) => ("seen", session.to_value()),
            ObjectRequest::End { sid, sub, reason } => {
                let reason = String::from(reason.clone());
                (
                    "end",
                    obj!(sparse: "sid": sid, "sub": sub, "reason": reason),
                )
            }
            ObjectRequest::RaiseCutoff(request) => ("raise_cutoff", request.to_value()),
            ObjectRequest::ReadCutoff => ("read_cutoff", Value::Null),
            ObjectRequest::UseProof { id, until } => ("use_proof", obj! {"id": id, "until": until}),
            ObjectRequest::Record { ids, cutoffs } => {
                let ids: Vec<Value> = ids.iter().map(LoggedId::to_value).collect();
                let cutoffs: Vec<Value> = cutoffs.iter().map(LoggedCutoff::to_value).collect();
                ("record", obj! {"ids": ids, "cutoffs": cutoffs})
            }
            ObjectRequest::Publish => ("publish", Value::Null),
            ObjectRequest::Reseed => ("reseed", Value::Null),
        };
        text(&message(name, body))
    }

    /// From [`ObjectRequest::to_json`]'s text; `None` for anything else.
    pub fn from_json(text: &str) -> Option<ObjectRequest> {
        let v = read_message(text)?;
        let (name, body) = named(&v)?;
        let m = || Members::of(body);
        Some(match name {
            "refresh" => ObjectRequest::Refresh {
                session: SessionCall::from_value(m()?.get("session")?)?,
                obtained: match m()?.get("obtained") {
                    None => None,
                    Some(pair) => Some(ObtainedPair::from_value(pair)?),
                },
            },
            "seen" => ObjectRequest::Seen(SessionCall::from_value(body)?),
            "end" => ObjectRequest::End {
                sid: m()?.string("sid")?,
                sub: m()?.opt_string("sub")?,
                reason: Refusal::try_from(m()?.string("reason")?).ok()?,
            },
            "raise_cutoff" => ObjectRequest::RaiseCutoff(CutoffRequest::from_value(body)?),
            "read_cutoff" if body.is_null() => ObjectRequest::ReadCutoff,
            "use_proof" => ObjectRequest::UseProof {
                id: m()?.string("id")?,
                until: m()?.number("until")?,
            },
            "record" => ObjectRequest::Record {
                ids: m()?.opt_list("ids", LoggedId::from_value)?,
                cutoffs: m()?.opt_list("cutoffs", LoggedCutoff::from_value)?,
            },
            "publish" if body.is_null() => ObjectRequest::Publish,
            "reseed" if body.is_null() => ObjectRequest::Reseed,
            _ => return None,
        })
    }
}

impl ObjectAnswer {
    /// As JSON text (the body of an object's answer).
    pub fn to_json(&self) -> String {
        let (name, body) = match self {
            ObjectAnswer::Refreshed(answer) => ("refreshed", answer.to_value()),
            ObjectAnswer::Done => ("done", Value::Null),
            ObjectAnswer::Raised(c) => (
                "raised",
                obj! {"before": c.before, "expires_at": c.expires_at},
            ),
            ObjectAnswer::Stored(before) => ("stored", before.map_or(Value::Null, Value::from)),
            ObjectAnswer::FirstUse(first) => ("first_use", Value::Bool(*first)),
        };
        text(&message(name, body))
    }

    /// From [`ObjectAnswer::to_json`]'s text; `None` for anything else.
    pub fn from_json(text: &str) -> Option<ObjectAnswer> {
        let v = read_message(text)?;
        let (name, body) = named(&v)?;
        Some(match name {
            "refreshed" => ObjectAnswer::Refreshed(Answer::from_value(body)),
            "done" if body.is_null() => ObjectAnswer::Done,
            "raised" => {
                let m = Members::of(body)?;
                ObjectAnswer::Raised(Cutoff {
                    before: m.number("before")?,
                    expires_at: m.number("expires_at")?,
                })
            }
            "stored" if body.is_null() => ObjectAnswer::Stored(None),
            "stored" => ObjectAnswer::Stored(Some(body.as_u64()?)),
            "first_use" => ObjectAnswer::FirstUse(body.as_bool()?),
            _ => return None,
        })
    }
}

/// A message as JSON: its bare name when it has no body, else `{name: body}`.
fn message(name: &str, body: Value) -> Value {
    if body.is_null() {
        return Value::String(name.to_owned());
    }
    let mut map = Map::new();
    map.insert(name.to_owned(), body);
    Value::Object(map)
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
        let body = request.to_json();
        let resp = stub
            .fetch_with_request(crate::http::outbound(
                "POST",
                CALL_URL,
                &[],
                Some(&body),
                false,
            )?)
            .await?;
        let status = resp.status_code();
        let text = crate::http::body_text(resp).await?;
        if status != 200 {
            return Err(worker::Error::RustError(format!(
                "object {} answered {}: {text}",
                name.split(':').next().unwrap_or_default(),
                status
            )));
        }
        ObjectAnswer::from_json(&text).ok_or_else(|| {
            worker::Error::RustError(format!(
                "object {} answered nonsense",
                name.split(':').next().unwrap_or_default()
            ))
        })
    }

    /// An answer of the wrong kind (shown as its JSON: the writer is there anyway, a `Debug`
    /// rendering of every answer would not be).
    pub fn unexpected(answer: &ObjectAnswer) -> worker::Error {
        worker::Error::RustError(format!("unexpected object answer: {}", answer.to_json()))
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
            assert_eq!(Answer::from_value(&a.to_value()), a, "{}", a.to_value());
        }
        let refused = Answer::Refused {
            refusal: Refusal::RefreshReused,
            sid: None,
        };
        assert_eq!(
            text(&refused.to_value()),
            r#"{"refusal":"refresh_reused","status":401}"#
        );
        // Nonsense is a 503, never a pair.
        for bad in [
            r#"{"status":200}"#,
            r#"{"status":200,"access_token":"a","refresh_token":"r","cap_ends_at":"9"}"#,
            r#"{"status":401}"#,
            r#"{"status":401,"refusal":"nope"}"#,
            r#"{"status":418}"#,
            r#"{"status":"200"}"#,
            r#"[]"#,
        ] {
            let v: Value = serde_json::from_str(bad).unwrap();
            assert_eq!(
                Answer::from_value(&v),
                Answer::unavailable(503, "malformed answer from the session object"),
                "{bad}"
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
        let text = seen.to_json();
        assert_eq!(text, r#"{"seen":{"sid":"s"}}"#);
        assert_eq!(ObjectRequest::from_json(&text), Some(seen));
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
            ObjectRequest::Seen(SessionCall::default()),
            ObjectRequest::Refresh {
                session: SessionCall::default(),
                obtained: None,
            },
            ObjectRequest::UseProof {
                id: "ab".into(),
                until: u64::MAX,
            },
            ObjectRequest::Record {
                ids: Vec::new(),
                cutoffs: Vec::new(),
            },
        ];
        for r in requests {
            let text = r.to_json();
            assert_eq!(ObjectRequest::from_json(&text), Some(r), "{text}");
        }
        assert_eq!(ObjectRequest::ReadCutoff.to_json(), r#""read_cutoff""#);
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
            ObjectAnswer::FirstUse(true),
            ObjectAnswer::FirstUse(false),
        ];
        for a in answers {
            let text = a.to_json();
            assert_eq!(ObjectAnswer::from_json(&text), Some(a), "{text}");
        }
        // What the derived serde code wrote reads the same (`null` members, `{"stored":null}`).
        assert_eq!(
            ObjectRequest::from_json(r#"{"seen":{"sid":"s","sub":null,"iat":null}}"#),
            Some(ObjectRequest::Seen(SessionCall {
                sid: Some("s".into()),
                ..SessionCall::default()
            }))
        );
        assert_eq!(
            ObjectAnswer::from_json(r#"{"stored":null}"#),
            Some(ObjectAnswer::Stored(None))
        );
    }

    #[test]
    fn malformed_messages_are_refused_whole() {
        for bad in [
            "",
            "7",
            r#""read_cutoff_x""#,
            r#"{"read_cutoff":1}"#,
            r#"{"seen":5}"#,
            r#"{"seen":{"sid":7}}"#,
            r#"{"seen":{},"end":{}}"#,
            r#"{"refresh":{}}"#,
            r#"{"refresh":{"session":{},"obtained":{"access_token":"a"}}}"#,
            r#"{"end":{"sid":"s","reason":"nope"}}"#,
            r#"{"raise_cutoff":{"sub":"u","before":1,"leeway":2}}"#,
            r#"{"raise_cutoff":{"sub":"u","before":1,"leeway":2,"max_lifetime":3,"log":"yes"}}"#,
            r#"{"use_proof":{"id":"x","until":-1}}"#,
            r#"{"use_proof":{"id":"x","until":1.5}}"#,
            r#"{"record":{"ids":[{"kind":"jti"}]}}"#,
            r#"{"record":{"cutoffs":{}}}"#,
            // One reading per text: a repeated key, at any depth, refuses the message.
            r#"{"seen":{"sid":"a","sid":"b"}}"#,
            r#"{"seen":{"sid":"a"},"seen":{"sid":"b"}}"#,
            r#""read\u005fcutoff""#,
            r#" "read_cutoff""#,
        ] {
            assert_eq!(ObjectRequest::from_json(bad), None, "{bad}");
        }
        for bad in [
            "",
            r#""stored_x""#,
            r#"{"done":1}"#,
            r#"{"stored":"7"}"#,
            r#"{"first_use":1}"#,
            r#"{"raised":{"before":1}}"#,
        ] {
            assert_eq!(ObjectAnswer::from_json(bad), None, "{bad}");
        }
    }
}
