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

pub use crate::protocol::{object_name, Answer, Refusal, SessionCall};

/// How long the object waits for the origin's token endpoint (then: 503, session kept).
pub const REFRESH_TIMEOUT_MS: u32 = 5_000;
/// Largest token endpoint answer read, in bytes.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// The KV key recording which session a refresh token (by hash) belongs to:
/// `rth:<hex sha256(refresh token)>`, value the `sid`. Written by the session object for every
/// refresh token it hands out or rotates, so a refresh token presented without an access token
/// still reaches its session's object (and its reuse detection).
pub fn owner_key(refresh_hash_hex: &str) -> String {
    format!("rth:{refresh_hash_hex}")
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use worker::Env;

    use super::*;
    use crate::audit::{audit, AuditEvent};
    use crate::fields::fields;
    use crate::protocol::{self, ObjectAnswer, ObjectRequest, ObtainedPair};

    fn object_error(op: &str, sid: Option<&str>, e: &worker::Error) {
        audit(
            AuditEvent::SessionObjectError,
            &fields! {"op": op, "sid": sid, "error": e.to_string()},
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
}
