//! Refresh at the edge (issue 5): what the worker and the session objects say to each other,
//! and the pure helpers around it (object names, cookies, what a refusal means).
//!
//! A cookie session whose access token is expired (correctly signed, not revoked) or inside
//! `WARDEN_REFRESH_WINDOW_SECONDS` of expiry, and that carries the refresh cookie, is refreshed
//! by the Durable Object `sid:<sid>` (or, when no access token came, `rt:<hex sha256(refresh
//! token)>`; see [`object_name`]). The object calls the origin's OAuth 2.0 token endpoint once
//! for any number of concurrent callers and answers an [`Answer`]; the worker verifies the new
//! access token like any other, forwards the request with it, and sets both cookies.
//! The object's side lives in [`crate::sessions`].

use serde::{Deserialize, Serialize};
use warden_core::{hex, token_digest, Denial, RevocationReason, UnixTime};

/// How long the object waits for the origin's token endpoint (then: 503, session kept).
pub const REFRESH_TIMEOUT_MS: u32 = 5_000;
/// Largest token endpoint answer read, in bytes.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;
/// The code of a 401 after the origin answered `invalid_grant`.
pub const INVALID_GRANT_CODE: &str = "refresh_invalid_grant";
/// Response header telling a bearer client that its token expired and it should refresh.
pub const REFRESH_HINT_HEADER: &str = "x-warden-refresh";

/// The object that serialises refreshes for a session: `sid:<sid>` when the request's access
/// token names its session, else `rt:<hex sha256(refresh token)>` (the token itself never
/// appears in a name).
pub fn object_name(sid: Option<&str>, refresh_token: &str) -> String {
    match sid {
        Some(sid) => format!("sid:{sid}"),
        None => format!("rt:{}", hex(&token_digest(refresh_token))),
    }
}

/// The KV key recording which session a refresh token (by hash) belongs to:
/// `rth:<hex sha256(refresh token)>`, value the `sid`. Written by the session object for every
/// refresh token it hands out or rotates, so a refresh token presented without an access token
/// still reaches its session's object (and its reuse detection).
pub fn owner_key(refresh_hash_hex: &str) -> String {
    format!("rth:{refresh_hash_hex}")
}

/// A call to a session object: `POST /refresh` (`refresh_token`, and `sid`/`sub`/`iat` of the
/// presented access token; `obtained_*` when an `rt:` object hands over a pair), `POST /seen`
/// (`sid`, `sub`, `iat`) and `POST /end` (`sid`, `sub`, `reason`). One shape for all three keeps
/// the worker small.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionCall {
    /// The refresh token the client presented (travels only between worker and object).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub refresh_token: String,
    /// The session: named by the presented access token (verified by the worker); `None` on
    /// the `rt:` path.
    #[serde(default)]
    pub sid: Option<String>,
    /// The subject.
    #[serde(default)]
    pub sub: Option<String>,
    /// The presented access token's `iat`: the session began no later than this.
    #[serde(default)]
    pub iat: Option<UnixTime>,
    /// A new access token an `rt:` object already obtained from the origin for this refresh
    /// token: the `sid:` object records the pair (and may still refuse it) instead of calling
    /// the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obtained_access_token: Option<String>,
    /// The new refresh token that came with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obtained_refresh_token: Option<String>,
    /// `POST /end`: why the session ends (what later refresh attempts are told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Refusal>,
}

/// What the edge knows about a session: listed by `GET /_warden/sessions` and kept in the
/// subject's KV index. Never a token.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SessionView {
    /// The session id.
    pub sid: String,
    /// When it began (the earliest `iat` of its tokens the edge saw).
    pub created_at: UnixTime,
    /// The last recorded activity (refreshes and first sightings, debounced).
    pub last_active: UnixTime,
    /// When it ends if nothing more happens: the earlier of idle timeout and cap.
    pub expires_at: UnixTime,
    /// When it ends however active (the absolute cap).
    pub cap_ends_at: UnixTime,
    /// Refreshes through the edge.
    pub refreshes: u64,
    /// Why it ended, if it did ([`Refusal::name`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<&'static str>,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<UnixTime>,
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
        match self.denial() {
            Some(d) => d.code(),
            None => INVALID_GRANT_CODE,
        }
    }

    /// The core's denial for this refusal (`None` for `invalid_grant`, which has no core code).
    pub fn denial(&self) -> Option<Denial> {
        Some(match self {
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
            Refusal::InvalidGrant => return None,
        })
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
    /// An [`Answer::Unavailable`].
    pub fn unavailable(status: u16, reason: impl Into<String>) -> Answer {
        Answer::Unavailable {
            status,
            reason: reason.into(),
        }
    }
}

/// The `Cookie` header forwarded to the origin after a refresh: the access and refresh cookies
/// carry the new tokens; every other cookie is kept as sent. Any client cookie whose name could
/// be read as one of the two by a lenient parser (surrounding Unicode whitespace, other ASCII
/// case, no `=`) is dropped, so nothing shadows the new values.
pub fn rewrite_cookie_header(
    header: Option<&str>,
    access: (&str, &str),
    refresh: (&str, &str),
) -> String {
    let ours = |name: &str| {
        let name = name.trim();
        name.eq_ignore_ascii_case(access.0) || name.eq_ignore_ascii_case(refresh.0)
    };
    let mut out: Vec<&str> = header
        .unwrap_or_default()
        .split(';')
        .map(|pair| pair.trim_matches([' ', '\t']))
        .filter(|pair| !pair.is_empty() && !ours(pair.split_once('=').map_or(*pair, |(n, _)| n)))
        .collect();
    let access = format!("{}={}", access.0, access.1);
    let refresh = format!("{}={}", refresh.0, refresh.1);
    out.push(&access);
    out.push(&refresh);
    out.join("; ")
}

/// How long the session cookies live after a refresh: as long as the session may (until its
/// cap ends), not as long as the access token, so that the expired token and its `sid` come
/// back when the next refresh is due. At least one second.
pub fn cookie_max_age(cap_ends_at: UnixTime, now: UnixTime) -> u64 {
    cap_ends_at.saturating_sub(now).max(1)
}

/// A value that can go into a `Set-Cookie` header as it is (RFC 6265 cookie-octets). Tokens
/// from the origin that are not are refused rather than quoted.
pub fn cookie_safe(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| {
            b == 0x21
                || (0x23..=0x2b).contains(&b)
                || (0x2d..=0x3a).contains(&b)
                || (0x3c..=0x5b).contains(&b)
                || (0x5d..=0x7e).contains(&b)
        })
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use serde_json::json;
    use worker::{wasm_bindgen::JsValue, Env, Method, Request, RequestInit};

    use super::*;
    use crate::audit::audit;
    use crate::subject::DO_BINDING;

    /// `POST https://warden-sessions<path>` to the object `name`; the answer's text on 200.
    async fn call_object(
        env: &Env,
        name: &str,
        path: &str,
        body: &SessionCall,
    ) -> worker::Result<String> {
        let stub = env
            .durable_object(DO_BINDING)?
            .id_from_name(name)?
            .get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&serde_json::to_string(body)?)));
        let mut resp = stub
            .fetch_with_request(Request::new_with_init(
                &format!("https://warden-sessions{path}"),
                &init,
            )?)
            .await?;
        let text = resp.text().await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "session object answered {}: {text}",
                resp.status_code()
            )));
        }
        Ok(text)
    }

    fn object_error(op: &str, sid: Option<&str>, e: &worker::Error) {
        audit(
            json!({"event": "session_object_error", "op": op, "sid": sid, "error": e.to_string()}),
        );
    }

    /// Asks the session object `name` (see [`object_name`]) for a fresh pair. An object that
    /// cannot be reached is [`Answer::Unavailable`] 503.
    pub async fn ask(env: &Env, name: &str, call: &SessionCall) -> Answer {
        let answer = call_object(env, name, "/refresh", call)
            .await
            .and_then(|text| Ok(serde_json::from_str(&text)?));
        answer.unwrap_or_else(|e| {
            object_error("refresh", call.sid.as_deref(), &e);
            Answer::unavailable(503, "session object unreachable")
        })
    }

    /// Tells the object `sid:<sid>` the session was seen (registers it, or records activity).
    pub async fn seen(env: &Env, call: &SessionCall) {
        let name = object_name(call.sid.as_deref(), "");
        if let Err(e) = call_object(env, &name, "/seen", call).await {
            object_error("seen", call.sid.as_deref(), &e);
        }
    }

    /// Ends a session at its object (`call.sid`, `call.reason`): every later refresh is
    /// refused.
    pub async fn end(env: &Env, call: &SessionCall) -> worker::Result<()> {
        let name = object_name(call.sid.as_deref(), "");
        call_object(env, &name, "/end", call).await.map(|_| ())
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
        assert_eq!(owner_key("ab"), "rth:ab");
    }

    #[test]
    fn cookie_header_is_rewritten() {
        let h = "theme=dark; at=old.a.t; rt=old-r ; x=1";
        assert_eq!(
            rewrite_cookie_header(Some(h), ("at", "new.a.t"), ("rt", "new-r")),
            "theme=dark; x=1; at=new.a.t; rt=new-r"
        );
        assert_eq!(
            rewrite_cookie_header(None, ("at", "A"), ("rt", "R")),
            "at=A; rt=R"
        );
        // Prefixed names are other cookies; look-alikes a lenient origin might read as ours are
        // dropped, so nothing shadows the new values.
        assert_eq!(
            rewrite_cookie_header(
                Some("xat=1; AT=2; \u{a0}at=3; rt ; at=4; at=5; =6"),
                ("at", "A"),
                ("rt", "R")
            ),
            "xat=1; =6; at=A; rt=R"
        );
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
        assert_eq!(Refusal::InvalidGrant.code(), INVALID_GRANT_CODE);
        for r in [Refusal::RefreshReused, idle, cap, Refusal::SessionRevoked] {
            assert_eq!(r.denial().map(|d| d.status()), Some(401));
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
        let call = SessionCall {
            sid: Some("s".into()),
            reason: Some(Refusal::SessionRevoked),
            ..SessionCall::default()
        };
        let text = serde_json::to_string(&call).unwrap();
        assert!(!text.contains("refresh_token"), "{text}");
        assert_eq!(serde_json::from_str::<SessionCall>(&text).unwrap(), call);
    }

    #[test]
    fn cookie_lifetime_follows_the_cap() {
        assert_eq!(cookie_max_age(1_100, 160), 940);
        assert_eq!(cookie_max_age(1_100, 5_000), 1);
    }

    #[test]
    fn cookie_values() {
        assert!(cookie_safe("eyJhbGciOi.eyJzdWIiOi.c2ln"));
        assert!(cookie_safe("Abc-_~09"));
        for bad in ["", "a b", "a;b", "a,b", "a\"b", "a\\b", "é"] {
            assert!(!cookie_safe(bad), "{bad:?}");
        }
    }
}
