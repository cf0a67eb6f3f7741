//! Refresh at the edge, the worker's side: the calls to the session objects, and the pure
//! helpers around them (cookies, the owner records' keys).
//!
//! A cookie session whose access token is expired (correctly signed, not revoked) or inside
//! `WARDEN_REFRESH_WINDOW_SECONDS` of expiry, and that carries the refresh cookie, is refreshed
//! by the Durable Object `sid:<sid>` (or, when no access token came, `rt:<hex sha256(refresh
//! token)>`; see [`object_name`]). The object calls the origin's OAuth 2.0 token endpoint once
//! for any number of concurrent callers and answers an [`Answer`]; the worker verifies the new
//! access token like any other, forwards the request with it, and sets both cookies.
//! The messages are [`crate::protocol`]'s; the object's side lives in `sessions.rs`.

use warden_core::UnixTime;

pub use crate::protocol::{object_name, Answer, Refusal, SessionCall, INVALID_GRANT_CODE};

/// How long the object waits for the origin's token endpoint (then: 503, session kept).
pub const REFRESH_TIMEOUT_MS: u32 = 5_000;
/// Largest token endpoint answer read, in bytes.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;
/// Response header telling a bearer client that its token expired and it should refresh.
pub const REFRESH_HINT_HEADER: &str = "x-warden-refresh";

/// The KV key recording which session a refresh token (by hash) belongs to:
/// `rth:<hex sha256(refresh token)>`, value the `sid`. Written by the session object for every
/// refresh token it hands out or rotates, so a refresh token presented without an access token
/// still reaches its session's object (and its reuse detection).
pub fn owner_key(refresh_hash_hex: &str) -> String {
    format!("rth:{refresh_hash_hex}")
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
    use worker::Env;

    use super::*;
    use crate::audit::{audit, AuditEvent};
    use crate::protocol::{self, ObjectAnswer, ObjectRequest, ObtainedPair};

    fn object_error(op: &str, sid: Option<&str>, e: &worker::Error) {
        audit(
            AuditEvent::SessionObjectError,
            json!({"op": op, "sid": sid, "error": e.to_string()}),
        );
    }

    /// Asks the session object `name` (see [`object_name`]) for a fresh pair for `session`
    /// (and records `obtained`, a pair an `rt:` object got already). An object that cannot be
    /// reached is [`Answer::Unavailable`] 503.
    pub async fn refresh(
        env: &Env,
        name: &str,
        session: &SessionCall,
        obtained: Option<ObtainedPair>,
    ) -> Answer {
        let request = ObjectRequest::Refresh {
            session: session.clone(),
            obtained,
        };
        let answer = match protocol::call(env, name, &request).await {
            Ok(ObjectAnswer::Refreshed(answer)) => Ok(answer),
            Ok(other) => Err(protocol::unexpected(&other)),
            Err(e) => Err(e),
        };
        answer.unwrap_or_else(|e| {
            object_error("refresh", session.sid.as_deref(), &e);
            Answer::unavailable(503, "session object unreachable")
        })
    }

    /// Asks the session object `name` for a fresh pair for the presented `session`.
    pub async fn ask(env: &Env, name: &str, session: &SessionCall) -> Answer {
        refresh(env, name, session, None).await
    }

    /// Tells the object `sid:<sid>` the session was seen (registers it, or records activity).
    pub async fn seen(env: &Env, session: &SessionCall) {
        let name = object_name(session.sid.as_deref(), "");
        let seen = SessionCall {
            refresh_token: String::new(),
            ..session.clone()
        };
        let done = match protocol::call(env, &name, &ObjectRequest::Seen(seen)).await {
            Ok(ObjectAnswer::Done) => Ok(()),
            Ok(other) => Err(protocol::unexpected(&other)),
            Err(e) => Err(e),
        };
        if let Err(e) = done {
            object_error("seen", session.sid.as_deref(), &e);
        }
    }

    /// Ends the session `sid` at its object: every later refresh is refused with `reason`.
    pub async fn end(
        env: &Env,
        sid: &str,
        sub: Option<&str>,
        reason: Refusal,
    ) -> worker::Result<()> {
        let request = ObjectRequest::End {
            sid: sid.to_owned(),
            sub: sub.map(str::to_owned),
            reason,
        };
        match protocol::call(env, &object_name(Some(sid), ""), &request).await? {
            ObjectAnswer::Done => Ok(()),
            other => Err(protocol::unexpected(&other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_keys() {
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
