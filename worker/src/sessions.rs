//! The session objects' side of refresh at the edge: `WardenSessions` instances named
//! `sid:<sid>` (one per session) and `rt:<hex sha256(refresh token)>` (a refresh token that came
//! without an access token).
//!
//! A `sid:` object
//! - **coalesces**: the first caller for a refresh token stores a shared future in the object
//!   *before* its first `.await`; every concurrent caller awaits a clone, so the origin is called
//!   once (the slot is cleared when the future ends, success or not: a shared future would keep
//!   an error forever);
//! - **replays** the new pair to callers that present the same refresh token within
//!   `WARDEN_REFRESH_GRACE_SECONDS`, from memory only, and drops it after the grace;
//! - **detects reuse**: "this refresh token (by SHA-256) was rotated at T" lives in the object's
//!   storage, because an idle object loses its memory after seconds. A rotated token presented
//!   after the grace revokes the session (`rv:sid:` in KV) and is audited
//!   `refresh_reuse_detected`;
//! - **keeps the session** (created, last activity, ended) in storage and applies the
//!   [`SessionPolicy`]: idle timeout and absolute cap, activity writes debounced; it refuses a
//!   new pair whose `sid` differs from its own, refreshes of a revoked session, and sessions
//!   that began at or before the subject's cutoff (read from the `sub:` object);
//! - keeps the subject's KV index entry (`idx:<sha256(sub)>:session:<sid>`) and, per refresh
//!   token it handed out or rotated, `rth:<hash>` → sid, so a refresh token presented alone finds
//!   its session.
//!
//! An `rt:` object knows only which session its token belongs to (from its storage, or
//! `rth:<hash>` in KV) and passes the call on to that `sid:` object; for a token the edge never
//! saw, it calls the origin once (coalesced the same way), learns the session from the new
//! access token and hands the pair to the `sid:` object, which records it — or refuses it.

use serde::Serialize;
use warden_core::{SessionPolicy, SessionState, UnixTime};

use crate::fields::{obj, text, Members};
use crate::protocol::Refusal;

/// Storage key of the session record.
pub const SESSION_KEY: &str = "session";
/// Storage key of the hash (hex) of the newest refresh token handed out.
pub const CURRENT_KEY: &str = "current";
/// Storage key of an `rt:` object's session id.
pub const OWNER_KEY: &str = "owner";
/// Storage keys of rotated refresh tokens: `rotated:<hex sha256>` → [`Rotated`].
pub const ROTATED_PREFIX: &str = "rotated:";
/// After its cap, a session object keeps only its (ended) record: rotated hashes are deleted
/// this long after the cap.
pub const CLEANUP_AFTER_CAP_SECONDS: u64 = 86_400;

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

/// What a `sid:` object stores about its session (no token, no hash of one), as JSON
/// ([`SessionRecord::to_json`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session id.
    pub sid: String,
    /// Its subject.
    pub sub: Option<String>,
    /// When it began: the earliest `iat` of its tokens the edge saw (or the first sighting).
    pub created_at: UnixTime,
    /// The last recorded activity.
    pub last_active: UnixTime,
    /// Refreshes through the edge.
    pub refreshes: u64,
    /// Why it ended, if it did.
    pub ended: Option<Refusal>,
    /// When it ended.
    pub ended_at: Option<UnixTime>,
}

/// A rotated refresh token (stored under its hash as the decimal text of `at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotated {
    /// When it was exchanged for a new pair.
    pub at: UnixTime,
}

impl SessionRecord {
    /// A new record: began at `iat` (the session's earliest token seen; never after `now`).
    pub fn new(sid: &str, sub: Option<String>, iat: Option<UnixTime>, now: UnixTime) -> Self {
        SessionRecord {
            sid: sid.to_owned(),
            sub,
            created_at: iat.map_or(now, |i| i.min(now)),
            last_active: now,
            refreshes: 0,
            ended: None,
            ended_at: None,
        }
    }

    /// The state the core's [`SessionPolicy`] works on.
    pub fn state(&self) -> SessionState {
        SessionState {
            created_at: self.created_at,
            last_active: self.last_active,
        }
    }

    /// Ends the session (the first reason stays).
    pub fn end(&mut self, reason: Refusal, now: UnixTime) {
        if self.ended.is_none() {
            self.ended = Some(reason);
            self.ended_at = Some(now);
        }
    }

    /// What the admin API lists and the cookies' lifetime is derived from.
    pub fn view(&self, policy: &SessionPolicy) -> SessionView {
        SessionView {
            sid: self.sid.clone(),
            created_at: self.created_at,
            last_active: self.last_active,
            expires_at: policy.expires_at(&self.state()),
            cap_ends_at: self.created_at.saturating_add(policy.absolute_cap),
            refreshes: self.refreshes,
            ended: self.ended.as_ref().map(Refusal::name),
            ended_at: self.ended_at,
        }
    }

    /// As stored: JSON text, every field present (`null` for none; `ended` as its
    /// [`Refusal`] text).
    pub fn to_json(&self) -> String {
        text(&obj! {
            "sid": self.sid,
            "sub": self.sub,
            "created_at": self.created_at,
            "last_active": self.last_active,
            "refreshes": self.refreshes,
            "ended": self.ended.clone().map(String::from),
            "ended_at": self.ended_at,
        })
    }

    /// From [`SessionRecord::to_json`]'s text; `None` for anything else.
    pub fn from_json(json: &str) -> Option<SessionRecord> {
        let v = crate::fields::parse(json).ok()?;
        let m = Members::of(&v)?;
        Some(SessionRecord {
            sid: m.string("sid")?,
            sub: m.opt_string("sub")?,
            created_at: m.number("created_at")?,
            last_active: m.number("last_active")?,
            refreshes: m.number("refreshes")?,
            ended: match m.opt_string("ended")? {
                None => None,
                Some(refusal) => Some(Refusal::try_from(refusal).ok()?),
            },
            ended_at: m.opt_number("ended_at")?,
        })
    }
}

impl SessionView {
    /// As JSON, as its `Serialize` writes it (`ended` and `ended_at` only once it ended).
    pub fn to_value(&self) -> serde_json::Value {
        obj!(sparse:
            "sid": self.sid,
            "created_at": self.created_at,
            "last_active": self.last_active,
            "expires_at": self.expires_at,
            "cap_ends_at": self.cap_ends_at,
            "refreshes": self.refreshes,
            "ended": self.ended,
            "ended_at": self.ended_at,
        )
    }
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
    use warden_core::{
        hex, judge_refresh, parse, record_expiration, session_expiration, token_digest,
        under_cutoff, RefreshJudgement, RevocationIds, RevocationStatus,
    };
    use worker::{
        wasm_bindgen::JsValue, wasm_bindgen_futures::JsFuture, Date, Env, Fetch, Response, Storage,
    };

    use super::*;
    use crate::audit::{audit, AuditEvent};
    use crate::config::{Config, ConfigError, RefreshConfig};
    use crate::fields::{fields, obj};
    use crate::oauth::{self, RefreshFailure, TokenPair};
    use crate::protocol::{object_name, Answer, ObtainedPair, SessionCall};
    use crate::refresh::{self, owner_key, MAX_TOKEN_RESPONSE_BYTES, REFRESH_TIMEOUT_MS};
    use crate::store::{self, Kind};
    use crate::subject;

    /// The isolate's configuration as the object received it.
    pub type Configured = Result<Rc<Config>, ConfigError>;

    type SharedAnswer = Shared<LocalBoxFuture<'static, Answer>>;

    struct Inflight {
        hash: [u8; 32],
        future: SharedAnswer,
    }

    struct Replay {
        hash: [u8; 32],
        answer: Answer,
        until_ms: u64,
    }

    /// One object instance's memory (lost when the object is evicted; nothing here must
    /// survive that).
    #[derive(Default)]
    pub struct Memory {
        inflight: RefCell<Option<Inflight>>,
        replay: RefCell<Option<Replay>>,
        owner: RefCell<Option<String>>,
        ended: Cell<bool>,
    }

    impl Memory {
        /// The pair handed out for `hash`, while its grace lasts (dropped after it).
        fn replayed(&self, hash: &[u8; 32], now_ms: u64) -> Option<Answer> {
            let mut slot = self.replay.borrow_mut();
            if slot.as_ref().is_some_and(|r| now_ms >= r.until_ms) || self.ended.get() {
                *slot = None;
            }
            slot.as_ref()
                .filter(|r| same_hash(&r.hash, hash))
                .map(|r| r.answer.clone())
        }

        fn forget_pair(&self) {
            self.ended.set(true);
            *self.replay.borrow_mut() = None;
        }
    }

    /// Refresh-token hashes are compared in constant time (security checklist row 14, docs/security.md).
    fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
        use subtle::ConstantTimeEq;
        a.ct_eq(b).into()
    }

    fn now_secs() -> UnixTime {
        Date::now().as_millis() / 1000
    }

    /// A stored text value (every value this module stores is text).
    async fn get_text(storage: &Storage, key: &str) -> worker::Result<Option<String>> {
        Ok(JsFuture::from(storage.as_raw().get(key)?)
            .await?
            .as_string())
    }

    async fn get_record(storage: &Storage) -> worker::Result<Option<SessionRecord>> {
        match get_text(storage, SESSION_KEY).await? {
            Some(text) => SessionRecord::from_json(&text)
                .map(Some)
                .ok_or_else(|| worker::Error::RustError("session record unreadable".into())),
            None => Ok(None),
        }
    }

    async fn put_record(storage: &Storage, record: &SessionRecord) -> worker::Result<()> {
        storage.put_raw(SESSION_KEY, record.to_json()).await
    }

    fn storage_error(e: &worker::Error) -> Answer {
        audit(
            AuditEvent::StoreError,
            &fields! {"op": "session_object", "error": e.to_string()},
        );
        Answer::unavailable(503, "session object storage unavailable")
    }

    fn refresh_config(config: &Configured) -> Result<(Rc<Config>, RefreshConfig), Answer> {
        let config = config
            .clone()
            .map_err(|e| Answer::unavailable(503, format!("configuration: {e}")))?;
        match config.refresh.clone() {
            Some(rc) => Ok((config, rc)),
            None => Err(Answer::unavailable(503, "refresh is off")),
        }
    }

    /// The alarm set when a session began: after its cap, keep only the ended record (a
    /// rotated hash is useless once every refresh is refused anyway); an `rt:` object forgets
    /// everything.
    pub async fn alarm(storage: Storage, config: &Configured) -> worker::Result<Response> {
        let record = get_record(&storage).await?;
        storage.delete_all().await?;
        if let Some(mut record) = record {
            let cap = config
                .as_ref()
                .ok()
                .and_then(|c| c.refresh.as_ref())
                .map_or(0, |r| r.session.absolute_cap);
            let created_at = record.created_at;
            record.end(Refusal::SessionCapReached { created_at, cap }, now_secs());
            put_record(&storage, &record).await?;
        }
        Response::ok("ok")
    }

    /// A refresh: coalesced with the one in flight, replayed within the grace window, or run.
    pub async fn refresh(
        storage: Storage,
        env: Env,
        memory: Rc<Memory>,
        config: Configured,
        call: SessionCall,
        obtained: Option<ObtainedPair>,
    ) -> Answer {
        if call.refresh_token.is_empty() || call.refresh_token.len() > warden_core::MAX_TOKEN_LEN {
            return Answer::unavailable(503, "bad refresh token length");
        }
        let hash = token_digest(&call.refresh_token);
        let mut storage = Some(storage);
        loop {
            if let Some(answer) = memory.replayed(&hash, Date::now().as_millis()) {
                return answer;
            }
            // No `.await` between looking at the slot and filling it: concurrent callers (the
            // object's input gate opens while a refresh awaits the origin) find the future.
            let (future, mine) = {
                let mut slot = memory.inflight.borrow_mut();
                match (slot.as_ref(), storage.take()) {
                    (Some(f), storage_back) => {
                        let found = (f.future.clone(), same_hash(&f.hash, &hash));
                        drop(slot);
                        storage = storage_back;
                        found
                    }
                    (None, Some(storage)) => {
                        let job = Job {
                            call: call.clone(),
                            obtained: obtained.clone(),
                            hash,
                        };
                        let future = run(
                            storage,
                            env.clone(),
                            Rc::clone(&memory),
                            config.clone(),
                            job,
                        )
                        .boxed_local()
                        .shared();
                        *slot = Some(Inflight {
                            hash,
                            future: future.clone(),
                        });
                        (future, true)
                    }
                    (None, None) => return Answer::unavailable(503, "session object busy"),
                }
            };
            let answer = future.await;
            if mine {
                return answer;
            }
            // Another refresh token of this session was in flight: now judge ours.
        }
    }

    /// The refresh itself; clears the in-flight slot when done and, on success, keeps the pair
    /// for replay during the grace window.
    /// What one refresh works on: the presented session, a pair an `rt:` object obtained
    /// already, and the presented refresh token's hash.
    struct Job {
        call: SessionCall,
        obtained: Option<ObtainedPair>,
        hash: [u8; 32],
    }

    async fn run(
        storage: Storage,
        env: Env,
        memory: Rc<Memory>,
        config: Configured,
        job: Job,
    ) -> Answer {
        let Job {
            call,
            obtained,
            hash,
        } = job;
        let (answer, grace) = match refresh_config(&config) {
            Err(answer) => (answer, 0),
            Ok((config, rc)) => {
                let answer = match call.sid.as_deref() {
                    Some(sid) => {
                        let ctx = Ctx {
                            storage: &storage,
                            env: &env,
                            memory: &memory,
                            config: &config,
                            rc: &rc,
                        };
                        refresh_session(&ctx, &call, obtained, sid, &hash).await
                    }
                    None => {
                        refresh_unowned(&storage, &env, &memory, &config, &rc, &call, &hash)
                            .boxed_local()
                            .await
                    }
                };
                (answer, rc.grace)
            }
        };
        let mut slot = memory.inflight.borrow_mut();
        if slot.as_ref().is_some_and(|f| same_hash(&f.hash, &hash)) {
            *slot = None;
        }
        if matches!(answer, Answer::Fresh { .. }) && grace > 0 {
            *memory.replay.borrow_mut() = Some(Replay {
                hash,
                answer: answer.clone(),
                until_ms: Date::now().as_millis().saturating_add(grace * 1000),
            });
        }
        answer
    }

    /// What a `sid:` object's refresh works with.
    struct Ctx<'a> {
        storage: &'a Storage,
        env: &'a Env,
        memory: &'a Memory,
        config: &'a Config,
        rc: &'a RefreshConfig,
    }

    /// A `sid:` object's refresh: judge the presented token against the stored session, get a
    /// pair (from the origin, or the one an `rt:` object obtained), check it names this
    /// session, commit the rotation.
    async fn refresh_session(
        cx: &Ctx<'_>,
        call: &SessionCall,
        obtained: Option<ObtainedPair>,
        sid: &str,
        hash: &[u8; 32],
    ) -> Answer {
        let hash_hex = hex(hash);
        let session = match judge_presented(cx, call, sid, &hash_hex, now_secs()).await {
            Ok(session) => session,
            Err(answer) => return answer,
        };
        let pair = match obtained {
            Some(ObtainedPair {
                access_token,
                refresh_token,
            }) => TokenPair {
                access_token,
                refresh_token,
                expires_in: None,
            },
            None => match call_origin(cx.config, cx.rc, &call.refresh_token).await {
                Ok(pair) => pair,
                Err(answer) => {
                    log_failure(Some(sid), &answer);
                    return answer;
                }
            },
        };
        if cx.memory.ended.get() {
            // Ended by an admin while the origin answered: the pair is dropped.
            return refused(sid, Refusal::SessionRevoked);
        }
        let new_sub = match pair_subject(sid, session.sub.as_deref(), &pair) {
            Ok(new_sub) => new_sub,
            Err(answer) => return answer,
        };
        commit_refresh(cx, call, sid, &hash_hex, session, new_sub, pair).await
    }

    /// The stored session a refresh may proceed with, and whose it is.
    struct Presented {
        record: Option<SessionRecord>,
        sub: Option<String>,
        created_at: Option<UnixTime>,
    }

    /// Judges the presented refresh token (by hash) against the stored session: ended, idle,
    /// capped, rotated (within the grace: retry; after it: reuse), revoked meanwhile (the
    /// session, or the subject's cutoff). A refusal ends the session first.
    async fn judge_presented(
        cx: &Ctx<'_>,
        call: &SessionCall,
        sid: &str,
        hash_hex: &str,
        now: UnixTime,
    ) -> Result<Presented, Answer> {
        let record = get_record(cx.storage)
            .await
            .map_err(|e| storage_error(&e))?;
        if record.as_ref().is_some_and(|r| r.sid != sid) {
            return Err(Answer::unavailable(
                503,
                "session object holds another session",
            ));
        }
        let rotated = get_text(cx.storage, &format!("{ROTATED_PREFIX}{hash_hex}"))
            .await
            .map_err(|e| storage_error(&e))?
            .map(|at| Rotated {
                at: at.parse().unwrap_or(0),
            });
        let state = record.as_ref().map(|r| (r.state(), r.ended.clone()));
        let judged = judge_refresh(
            state.as_ref().map(|(s, ended)| (s, ended.is_some())),
            rotated.map(|r| r.at),
            now,
            cx.rc.grace,
            &cx.rc.session,
        );
        let refusal = match judged {
            RefreshJudgement::Proceed => None,
            RefreshJudgement::Ended => {
                cx.memory.forget_pair();
                let reason = state.and_then(|(_, ended)| ended);
                return Err(refused(sid, reason.unwrap_or(Refusal::SessionRevoked)));
            }
            RefreshJudgement::End(d) => Some(Refusal::ending(&d)),
            RefreshJudgement::RotatedWithinGrace => {
                return Err(Answer::unavailable(
                    503,
                    "refresh token rotated moments ago; retry",
                ));
            }
            RefreshJudgement::Reused => Some(Refusal::RefreshReused),
        };
        // Revoked meanwhile? The session (rv:sid, through the isolate's snapshot) and the
        // subject's cutoff (strongly, from the sub: object).
        let sub = record
            .as_ref()
            .and_then(|r| r.sub.clone())
            .or_else(|| call.sub.clone());
        let created_at = record.as_ref().map(|r| r.created_at).or(call.iat);
        let refusal = match refusal {
            Some(r) => Some(r),
            None => revoked(cx, sid, sub.as_deref(), created_at, now).await?,
        };
        if let Some(reason) = refusal {
            let mut record =
                record.unwrap_or_else(|| SessionRecord::new(sid, sub.clone(), created_at, now));
            return Err(end_and_refuse(cx, &mut record, reason, rotated, now).await);
        }
        Ok(Presented {
            record,
            sub,
            created_at,
        })
    }

    /// The new access token must name this session (and its subject): its `sub`, or a 502.
    fn pair_subject(
        sid: &str,
        sub: Option<&str>,
        pair: &TokenPair,
    ) -> Result<Option<String>, Answer> {
        let new = parse(&pair.access_token).ok();
        let new_sid = new.as_ref().and_then(|t| t.claims.sid.as_deref());
        let new_sub = new.as_ref().and_then(|t| t.claims.sub.clone());
        if new_sid != Some(sid) || (sub.is_some() && new_sub.as_deref() != sub) {
            audit(
                AuditEvent::RefreshMismatch,
                &fields! {"sid": sid, "new_sid": new_sid, "sub": sub, "new_sub": new_sub},
            );
            return Err(Answer::unavailable(
                502,
                "the origin's new access token does not name this session",
            ));
        }
        Ok(new_sub)
    }

    /// Commits a refresh in one storage write (the session, the current token's hash, the
    /// rotation of the presented one), then the owner records and the index entry in KV.
    async fn commit_refresh(
        cx: &Ctx<'_>,
        call: &SessionCall,
        sid: &str,
        hash_hex: &str,
        session: Presented,
        new_sub: Option<String>,
        pair: TokenPair,
    ) -> Answer {
        let now = now_secs();
        let is_new = session.record.is_none();
        let mut record = session
            .record
            .unwrap_or_else(|| SessionRecord::new(sid, new_sub, session.created_at, now));
        if let Some(touched) = cx.rc.session.touch(&record.state(), now) {
            record.last_active = touched.last_active;
        }
        record.refreshes = record.refreshes.saturating_add(1);
        let new_hash = hex(&token_digest(&pair.refresh_token));
        let previous = get_text(cx.storage, CURRENT_KEY).await.ok().flatten();
        let writes = js_sys::Object::new();
        let put = |key: &str, value: String| {
            js_sys::Reflect::set(&writes, &JsValue::from_str(key), &JsValue::from_str(&value))
        };
        let mut staged =
            put(SESSION_KEY, record.to_json()).and_then(|_| put(CURRENT_KEY, new_hash.clone()));
        // A server that does not rotate hands the same token back: nothing was rotated.
        if pair.refresh_token != call.refresh_token {
            staged =
                staged.and_then(|_| put(&format!("{ROTATED_PREFIX}{hash_hex}"), now.to_string()));
        }
        let written = match staged {
            Ok(_) => cx.storage.put_multiple_raw(writes).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = written {
            return storage_error(&e);
        }
        if is_new {
            set_cleanup_alarm(cx.storage, &record, &cx.rc.session).await;
        }
        let cap_ends_at = record.created_at.saturating_add(cx.rc.session.absolute_cap);
        let mut owners = vec![new_hash];
        if previous.as_deref() != Some(hash_hex) {
            owners.push(hash_hex.to_owned());
        }
        write_owners(cx.env, &owners, sid, record_expiration(cap_ends_at, now)).await;
        write_index(cx.env, &record, &cx.rc.session, now).await;
        audit(
            AuditEvent::Refresh,
            &fields! {"sid": sid, "sub": record.sub, "refreshes": record.refreshes},
        );
        Answer::Fresh {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            cap_ends_at,
        }
    }

    fn refused(sid: &str, refusal: Refusal) -> Answer {
        Answer::Refused {
            refusal,
            sid: Some(sid.to_owned()),
        }
    }

    /// Whether the session was revoked: `rv:sid:` (the isolate's snapshot) or the subject's
    /// cutoff (the `sub:` object, strongly consistent).
    async fn revoked(
        cx: &Ctx<'_>,
        sid: &str,
        sub: Option<&str>,
        created_at: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<Option<Refusal>, Answer> {
        let ids = RevocationIds {
            jti: None,
            sid: Some(sid),
            sub: None,
            iat: None,
            kid: None,
        };
        let answers = store::answers(cx.env, cx.config.reads(), &ids, now).await;
        match ids.interpret(&answers) {
            RevocationStatus::NotRevoked => {}
            RevocationStatus::Revoked(_) => return Ok(Some(Refusal::SessionRevoked)),
            _ => return Err(Answer::unavailable(503, "revocation store unavailable")),
        }
        let Some(sub) = sub else { return Ok(None) };
        match subject::cutoff_of(cx.env, sub).await {
            Ok(before) if under_cutoff(created_at, before) => Ok(Some(Refusal::SubjectRevoked {
                before: before.unwrap_or_default(),
            })),
            Ok(_) => Ok(None),
            Err(e) => {
                audit(
                    AuditEvent::SessionObjectError,
                    &fields! {"op": "cutoff", "error": e.to_string()},
                );
                Err(Answer::unavailable(503, "subject cutoff unavailable"))
            }
        }
    }

    /// Ends the session for `reason`; on reuse also revokes it in KV (`rv:sid:`) and audits
    /// `refresh_reuse_detected`.
    async fn end_and_refuse(
        cx: &Ctx<'_>,
        record: &mut SessionRecord,
        reason: Refusal,
        rotated: Option<Rotated>,
        now: UnixTime,
    ) -> Answer {
        if let Err(e) = end_record(
            cx.storage,
            cx.env,
            cx.memory,
            record,
            reason.clone(),
            &cx.rc.session,
            now,
        )
        .await
        {
            return storage_error(&e);
        }
        let sid = record.sid.as_str();
        if reason == Refusal::RefreshReused {
            let expires_at = session_expiration(
                now,
                cx.config.policy().leeway,
                cx.config.policy().max_lifetime,
            );
            let revoke = async {
                store::put_revocation(
                    cx.env,
                    cx.config.reads(),
                    Kind::Sid,
                    sid,
                    Some(expires_at),
                    now,
                )
                .await?;
                if let Some(sub) = &record.sub {
                    let entry = obj! {"kind": "sid", "id": sid, "revoked_at": now, "expires_at": expires_at, "reason": "refresh_reused"};
                    store::put_index(cx.env, sub, "sid", sid, &entry, Some(expires_at)).await?;
                }
                Ok::<(), worker::Error>(())
            };
            if let Err(e) = revoke.await {
                // Every refresh is refused already; the access tokens die at their exp. Still
                // reported: the revocation did not reach KV.
                audit(
                    AuditEvent::StoreError,
                    &fields! {"op": "put", "kind": "sid", "id": sid, "error": e.to_string()},
                );
            }
            audit(
                AuditEvent::RefreshReuseDetected,
                &fields! {"sid": sid, "sub": record.sub, "rotated_at": rotated.map(|r| r.at), "expires_at": expires_at},
            );
        } else {
            audit(
                AuditEvent::SessionEnd,
                &fields! {"sid": sid, "sub": record.sub, "code": reason.code()},
            );
        }
        refused(sid, reason)
    }

    /// Ends the session in storage (and memory) and updates its index entry.
    async fn end_record(
        storage: &Storage,
        env: &Env,
        memory: &Memory,
        record: &mut SessionRecord,
        reason: Refusal,
        policy: &SessionPolicy,
        now: UnixTime,
    ) -> worker::Result<()> {
        memory.forget_pair();
        if record.ended.is_none() {
            record.end(reason, now);
            put_record(storage, record).await?;
            write_index(env, record, policy, now).await;
        }
        Ok(())
    }

    /// An `rt:` object's refresh: pass it to the session's object, or (for a token the edge
    /// never saw) call the origin and have the session's object record the pair.
    async fn refresh_unowned(
        storage: &Storage,
        env: &Env,
        memory: &Memory,
        config: &Config,
        rc: &RefreshConfig,
        call: &SessionCall,
        hash: &[u8; 32],
    ) -> Answer {
        let mut owner = memory.owner.borrow().clone();
        if owner.is_none() {
            owner = match get_text(storage, OWNER_KEY).await {
                Ok(o) => o,
                Err(e) => return storage_error(&e),
            };
        }
        if owner.is_none() {
            let found = match store::kv(env) {
                Ok(kv) => kv.text(&owner_key(&hex(hash))).await,
                Err(e) => Err(e),
            };
            owner = match found {
                Ok(o) => o,
                Err(e) => return storage_error(&e),
            };
        }
        let mut obtained = None;
        let sid = match owner {
            Some(sid) => sid,
            None => {
                let pair = match call_origin(config, rc, &call.refresh_token).await {
                    Ok(pair) => pair,
                    Err(answer) => {
                        log_failure(None, &answer);
                        return answer;
                    }
                };
                let Some(sid) = parse(&pair.access_token).ok().and_then(|t| t.claims.sid) else {
                    audit(
                        AuditEvent::RefreshMismatch,
                        &fields! {"reason": "the new access token names no session"},
                    );
                    return Answer::unavailable(
                        502,
                        "the origin's new access token names no session",
                    );
                };
                obtained = Some(ObtainedPair {
                    access_token: pair.access_token,
                    refresh_token: pair.refresh_token,
                });
                sid
            }
        };
        if memory.owner.borrow().as_deref() != Some(sid.as_str()) {
            *memory.owner.borrow_mut() = Some(sid.clone());
            if storage.put_raw(OWNER_KEY, sid.as_str()).await.is_ok() {
                let after = rc
                    .session
                    .absolute_cap
                    .saturating_add(CLEANUP_AFTER_CAP_SECONDS);
                set_alarm_in(storage, after).await;
            }
        }
        let name = object_name(Some(&sid), "");
        let pass = SessionCall {
            refresh_token: call.refresh_token.clone(),
            sid: Some(sid),
            ..SessionCall::default()
        };
        refresh::refresh(env, &name, &pass, obtained).await
    }

    async fn set_alarm_in(storage: &Storage, seconds: u64) {
        let ms = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        if let Err(e) = storage.set_alarm(ms).await {
            audit(
                AuditEvent::StoreError,
                &fields! {"op": "set_alarm", "error": e.to_string()},
            );
        }
    }

    async fn set_cleanup_alarm(storage: &Storage, record: &SessionRecord, policy: &SessionPolicy) {
        let at = record
            .created_at
            .saturating_add(policy.absolute_cap)
            .saturating_add(CLEANUP_AFTER_CAP_SECONDS);
        set_alarm_in(storage, at.saturating_sub(now_secs())).await;
    }

    /// `rth:<hash>` → sid for the refresh tokens this object handed out (and the one it
    /// rotated, when it was not one of them), so a refresh token presented alone finds its
    /// session. Failures are audited, not fatal: the `rt:` object then asks the origin, which
    /// refuses a rotated token itself.
    async fn write_owners(env: &Env, hashes: &[String], sid: &str, expiration: UnixTime) {
        for h in hashes {
            let key = owner_key(h);
            let put = store::put(env, &key, sid.as_bytes(), None, Some(expiration));
            if let Err(e) = put.await {
                audit(
                    AuditEvent::StoreError,
                    &fields! {"op": "put", "kind": "rth", "error": e.to_string()},
                );
            }
        }
    }

    /// The subject's index entry for this session (listed by `GET /_warden/sessions`).
    async fn write_index(env: &Env, record: &SessionRecord, policy: &SessionPolicy, now: UnixTime) {
        let Some(sub) = &record.sub else { return };
        let view = record.view(policy);
        let expiration = record_expiration(view.cap_ends_at, now);
        let put = async {
            let metadata = view.to_value();
            store::put_index(
                env,
                sub,
                "session",
                &record.sid,
                &metadata,
                Some(expiration),
            )
            .await
        };
        if let Err(e) = put.await {
            audit(
                AuditEvent::StoreError,
                &fields! {"op": "put", "kind": "session", "error": e.to_string()},
            );
        }
    }

    /// One audit line for a failed refresh (never called with a pair: no token is logged).
    fn log_failure(sid: Option<&str>, answer: &Answer) {
        if !matches!(answer, Answer::Fresh { .. }) {
            audit(
                AuditEvent::RefreshFailed,
                &fields! {"sid": sid, "answer": answer.to_value()},
            );
        }
    }

    /// RFC 6749 §6 at `WARDEN_ORIGIN` + `WARDEN_REFRESH_PATH`, within [`REFRESH_TIMEOUT_MS`].
    async fn call_origin(
        config: &Config,
        rc: &RefreshConfig,
        refresh_token: &str,
    ) -> Result<TokenPair, Answer> {
        let fail = |status: u16, why: String| Answer::unavailable(status, why);
        let body = oauth::request_body(
            refresh_token,
            rc.client_id.as_deref(),
            rc.client_secret.is_some(),
        );
        let mut headers = vec![
            (
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("accept", "application/json".to_owned()),
        ];
        if let (Some(id), Some(secret)) = (&rc.client_id, &rc.client_secret) {
            headers.push(("authorization", oauth::basic_auth(id, secret)));
        }
        if let Some(secret) = &config.gate.origin_secret {
            headers.push(("x-warden-auth", secret.clone()));
        }
        let raw_signal = web_sys::AbortSignal::timeout_with_u32(REFRESH_TIMEOUT_MS);
        let signal = worker::AbortSignal::from(raw_signal.clone());
        let sent = async {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let req = crate::http::outbound(
                "POST",
                &rc.token_url(&config.origin),
                &headers,
                Some(&body),
                false,
            )?;
            let resp = Fetch::Request(req).send_with_signal(&signal).await?;
            let declared = resp
                .headers()
                .get("content-length")?
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|n| n > MAX_TOKEN_RESPONSE_BYTES) {
                return Ok((resp.status_code(), Vec::new()));
            }
            Ok::<_, worker::Error>((resp.status_code(), crate::http::body(resp).await?))
        };
        let (status, bytes) = match sent.await {
            Ok(answer) => answer,
            Err(e) if raw_signal.aborted() => {
                return Err(fail(
                    503,
                    format!("token endpoint timed out ({REFRESH_TIMEOUT_MS} ms): {e}"),
                ))
            }
            Err(e) => return Err(fail(502, format!("token endpoint unreachable: {e}"))),
        };
        if bytes.is_empty() || bytes.len() > MAX_TOKEN_RESPONSE_BYTES {
            return Err(fail(
                502,
                format!("token endpoint answered {status} with an empty or oversized body"),
            ));
        }
        match oauth::parse_response(status, &String::from_utf8_lossy(&bytes), refresh_token) {
            Ok(pair) => Ok(pair),
            Err(RefreshFailure::InvalidGrant) => Err(Answer::Refused {
                refusal: Refusal::InvalidGrant,
                sid: None,
            }),
            Err(RefreshFailure::Upstream(why)) => Err(fail(502, why)),
        }
    }

    /// The edge saw the session: registers it (created at the token's `iat`), or records
    /// activity (debounced). An ended session stays ended.
    pub async fn seen(
        storage: &Storage,
        env: &Env,
        config: &Configured,
        call: &SessionCall,
    ) -> worker::Result<()> {
        let (Ok((_, rc)), Some(sid)) = (refresh_config(config), call.sid.as_deref()) else {
            return Ok(());
        };
        let now = now_secs();
        let record = match get_record(storage).await? {
            None => {
                let record = SessionRecord::new(sid, call.sub.clone(), call.iat, now);
                set_cleanup_alarm(storage, &record, &rc.session).await;
                record
            }
            Some(r) if r.ended.is_some() || r.sid != sid => return Ok(()),
            Some(mut r) => match rc.session.touch(&r.state(), now) {
                Some(touched) => {
                    r.last_active = touched.last_active;
                    r
                }
                None => return Ok(()),
            },
        };
        put_record(storage, &record).await?;
        write_index(env, &record, &rc.session, now).await;
        Ok(())
    }

    /// No further refresh for the session `sid` (every later one is refused with `reason`).
    pub async fn end(
        storage: &Storage,
        env: &Env,
        memory: &Memory,
        config: &Configured,
        sid: &str,
        sub: Option<String>,
        reason: Refusal,
    ) -> worker::Result<()> {
        let now = now_secs();
        let policy = config
            .as_ref()
            .ok()
            .and_then(|c| c.refresh.as_ref())
            .map(|r| r.session)
            .unwrap_or_default();
        let mut record = get_record(storage)
            .await?
            .unwrap_or_else(|| SessionRecord::new(sid, sub.clone(), None, now));
        if record.sub.is_none() {
            record.sub = sub;
        }
        end_record(storage, env, memory, &mut record, reason, &policy, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: SessionPolicy = SessionPolicy {
        idle_timeout: 100,
        absolute_cap: 1_000,
        debounce: 10,
    };

    fn record(created_at: u64, last_active: u64) -> SessionRecord {
        SessionRecord {
            last_active,
            ..SessionRecord::new("s", Some("u".into()), Some(created_at), created_at)
        }
    }

    #[test]
    fn the_first_reason_stays() {
        let mut ended = record(0, 40);
        ended.end(Refusal::SessionRevoked, 41);
        ended.end(Refusal::RefreshReused, 42);
        assert_eq!(
            ended.ended,
            Some(Refusal::SessionRevoked),
            "the first reason stays"
        );
    }

    #[test]
    fn records_and_views() {
        let r = SessionRecord::new("s", None, Some(900), 1_000);
        assert_eq!((r.created_at, r.last_active), (900, 1_000));
        assert_eq!(
            SessionRecord::new("s", None, Some(2_000), 1_000).created_at,
            1_000
        );
        assert_eq!(SessionRecord::new("s", None, None, 1_000).created_at, 1_000);
        let v = r.view(&P);
        assert_eq!((v.expires_at, v.cap_ends_at, v.ended), (1_100, 1_900, None));
        let mut ended = r.clone();
        ended.end(Refusal::RefreshReused, 1_001);
        let live = v;
        let v = ended.view(&P);
        assert_eq!(v.ended, Some("refresh_reused"));
        assert_eq!(v.ended_at, Some(1_001));
        for view in [&live, &v] {
            let value = serde_json::to_value(view).unwrap();
            assert_eq!(view.to_value().to_string(), value.to_string());
        }
        let listed = serde_json::to_string(&v).unwrap();
        assert!(!listed.contains("token"), "{listed}");
    }

    #[test]
    fn records_are_stored_as_json_and_read_back() {
        let mut r = SessionRecord::new("s", Some("u".into()), Some(900), 1_000);
        assert_eq!(SessionRecord::from_json(&r.to_json()), Some(r.clone()));
        r.end(
            Refusal::SessionIdle {
                last_active: 950,
                idle_timeout: 60,
            },
            1_010,
        );
        assert_eq!(SessionRecord::from_json(&r.to_json()), Some(r.clone()));
        // What the derived serde code wrote reads the same.
        let derived = r#"{"sid":"s","sub":null,"created_at":900,"last_active":1000,"refreshes":2,"ended":"subject_revoked:950","ended_at":1010}"#;
        let read = SessionRecord::from_json(derived).unwrap();
        assert_eq!(
            (read.sub, read.refreshes, read.ended, read.ended_at),
            (
                None,
                2,
                Some(Refusal::SubjectRevoked { before: 950 }),
                Some(1_010)
            )
        );
        // A field missing, of the wrong type, or an unknown refusal: unreadable.
        for bad in [
            r#"{"sid":"s","created_at":900,"last_active":1000}"#,
            r#"{"sid":"s","created_at":900,"last_active":"1000","refreshes":0}"#,
            r#"{"sid":"s","created_at":900,"last_active":1000,"refreshes":0,"ended":"nope"}"#,
            r#"{"sid":7,"created_at":900,"last_active":1000,"refreshes":0}"#,
        ] {
            assert_eq!(SessionRecord::from_json(bad), None, "{bad}");
        }
    }
}
