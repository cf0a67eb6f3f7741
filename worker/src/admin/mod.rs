//! The admin API (`/_warden/*`, bearer `WARDEN_ADMIN_TOKEN`): revocations, PATs, the session
//! inventory, health. Every write answers 200 only after it returned. The request parsing and
//! authentication are pure ([`parse`]); this module does the I/O.

mod parse;

pub use parse::*;

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use serde_json::Value;
    use std::future::Future;
    use std::pin::Pin;
    use warden_core::{
        parse, path_and_query, requested_cutoff, session_expiration, token_expiration, UnixTime,
    };

    use futures_util::future::join_all;
    use worker::{Env, Method, Request, Response, Result};

    use super::*;
    use crate::audit::{audit, AuditEvent};
    use crate::config::Config;
    use crate::fields::{fields, obj};
    use crate::http::{bad_request, json_object, json_response, method_not_allowed};
    use crate::pat;
    use crate::protocol::{Cutoff, CutoffRequest, LoggedId, Refusal};
    use crate::refresh;
    use crate::store::{self, Entry, Kind, Reads};
    use crate::subject;

    /// Answers an admin API request (the path is `/_warden` or under `/_warden/`).
    pub async fn api(mut req: Request, env: &Env, config: &Config, now: u64) -> Result<Response> {
        let Some(secret) = &config.admin_token else {
            return json_object(404, &fields! {"error": "not_found"});
        };
        if !authorized(req.headers().get("authorization")?.as_deref(), secret) {
            audit(AuditEvent::AdminUnauthorized, &fields! {"path": req.path()});
            let mut resp = json_object(
                401,
                &fields! {"error": "unauthorized", "error_description": "admin token required"},
            )?;
            resp.headers_mut()
                .set("www-authenticate", "Bearer realm=\"warden-admin\"")?;
            return Ok(resp);
        }
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/_warden/revoke") => {
                let body = match read_body(&mut req).await? {
                    Ok(body) => body,
                    Err(resp) => return Ok(resp),
                };
                match parse_revoke(&body) {
                    Ok(revoke) => revoke_request(env, config, revoke, now).await,
                    Err(why) => bad_request(&why),
                }
            }
            (Method::Post, "/_warden/revoke/batch") => {
                let body = match read_body_within(&mut req, MAX_BATCH_BODY).await? {
                    Ok(body) => body,
                    Err(resp) => return Ok(resp),
                };
                match parse_revoke_batch(&body) {
                    Ok(entries) => revoke_batch(env, config, entries, now).await,
                    Err(why) => bad_request(&why),
                }
            }
            (Method::Post, "/_warden/revocation-filter/reseed") => {
                let call = crate::protocol::call(
                    env,
                    crate::protocol::LOG_OBJECT,
                    &crate::protocol::ObjectRequest::Reseed,
                )
                .await;
                match call {
                    Ok(_) => json_object(200, &fields! {"ok": true, "reseeding": true}),
                    Err(e) => store_unavailable("reseed", &e),
                }
            }
            (Method::Get, "/_warden/revocations") => {
                let query = query_of(&req);
                let sub = match required_sub(&query) {
                    Ok(sub) => sub,
                    Err(why) => return bad_request(&why),
                };
                match store::list_index(env, &sub, &["jti", "sid", "sub"], cursor(&query)).await {
                    Ok((items, next)) => json_object(
                        200,
                        &fields! {"sub": sub, "revocations": items, "cursor": next},
                    ),
                    Err(e) => store_unavailable("list", &e),
                }
            }
            (Method::Post, "/_warden/pats") => {
                let body = match read_body(&mut req).await? {
                    Ok(body) => body,
                    Err(resp) => return Ok(resp),
                };
                let request = match parse_pat_request(&body, now) {
                    Ok(r) => r,
                    Err(why) => return bad_request(&why),
                };
                match pat::issue(env, &config.gate.pat_prefix, request, now).await {
                    Ok(reply) => json_response(201, &reply),
                    Err(e) => store_unavailable("put", &e),
                }
            }
            (Method::Get, "/_warden/pats") => {
                let query = query_of(&req);
                let sub = match required_sub(&query) {
                    Ok(sub) => sub,
                    Err(why) => return bad_request(&why),
                };
                match pat::list(env, &sub, cursor(&query)).await {
                    Ok((items, next)) => {
                        json_object(200, &fields! {"sub": sub, "pats": items, "cursor": next})
                    }
                    Err(e) => store_unavailable("list", &e),
                }
            }
            (Method::Get, "/_warden/sessions") => {
                let query = query_of(&req);
                let sub = match required_sub(&query) {
                    Ok(sub) => sub,
                    Err(why) => return bad_request(&why),
                };
                match store::list_index(env, &sub, &["session"], cursor(&query)).await {
                    Ok((items, next)) => json_object(
                        200,
                        &fields! {"sub": sub, "sessions": items, "cursor": next},
                    ),
                    Err(e) => store_unavailable("list", &e),
                }
            }
            (Method::Get, "/_warden/health") => json_object(
                200,
                &fields! {
                    "ok": true,
                    "now": now,
                    "config": config.summary(),
                    "jwks": jwks_health(now),
                    "snapshot": store::snapshot_status(now),
                    "filter": config.revocation_filter.then(|| store::filter_status(now)),
                },
            ),
            (
                _,
                "/_warden/revoke" | "/_warden/revoke/batch" | "/_warden/revocation-filter/reseed",
            ) => method_not_allowed("POST"),
            (_, "/_warden/pats") => method_not_allowed("GET, POST"),
            (_, "/_warden/revocations" | "/_warden/health" | "/_warden/sessions") => {
                method_not_allowed("GET")
            }
            _ => json_object(404, &fields! {"error": "not_found"}),
        }
    }

    /// The fetched JWKS as this isolate holds it (`keys::jwks_status`); `null` before the first
    /// fetch (or with inline keys only).
    fn jwks_health(now: u64) -> Value {
        match crate::keys::jwks_status(now) {
            Some(s) => obj! {
                "fetched": true,
                "age_seconds": s.age,
                "fetched_at": s.fetched_at,
                "fresh_until": s.fresh_until,
                "kids": Value::from(s.kids),
                "fetches": s.fetches,
                "failures": s.failures,
            },
            None => obj! {"fetched": false, "age_seconds": Value::Null},
        }
    }

    /// The request URL's query (empty when it has none).
    fn query_of(req: &Request) -> String {
        let url = req.inner().url();
        path_and_query(&url).1.unwrap_or_default().to_owned()
    }

    fn required_sub(query: &str) -> std::result::Result<String, String> {
        query_id(form_urlencoded::parse(query.as_bytes()), "sub")?
            .ok_or_else(|| "query parameter `sub` is required".to_owned())
    }

    fn cursor(query: &str) -> Option<String> {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    }

    /// The request body, or the response refusing it (413 when over [`MAX_BODY`]).
    pub async fn read_body(req: &mut Request) -> Result<std::result::Result<Vec<u8>, Response>> {
        read_body_within(req, MAX_BODY).await
    }

    /// The request body, or the response refusing it (413 when over `limit` bytes).
    async fn read_body_within(
        req: &mut Request,
        limit: usize,
    ) -> Result<std::result::Result<Vec<u8>, Response>> {
        let declared = req
            .headers()
            .get("content-length")?
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return too_large(limit).map(Err);
        }
        let body = req.bytes().await?;
        if body.len() > limit {
            return too_large(limit).map(Err);
        }
        Ok(Ok(body))
    }

    fn too_large(limit: usize) -> Result<Response> {
        json_object(
            413,
            &fields! {"error": "invalid_request", "error_description": format!("body over {limit} bytes")},
        )
    }

    fn store_unavailable(op: &str, e: &worker::Error) -> Result<Response> {
        audit(
            AuditEvent::StoreError,
            &fields! {"op": op, "error": e.to_string()},
        );
        json_object(
            503,
            &fields! {"error": "temporarily_unavailable", "error_description": "revocation store unavailable"},
        )
    }

    /// Writes one revocation record (and the subject's index entry), then audits it.
    async fn put_revocation(
        env: &Env,
        reads: Reads,
        kind: Kind,
        id: &str,
        expiration: Option<u64>,
        sub: Option<&str>,
        now: u64,
    ) -> Result<()> {
        store::put_revocation(env, reads, kind, id, expiration, now).await?;
        if let Some(sub) = sub {
            let entry =
                obj! {"kind": kind.name(), "id": id, "revoked_at": now, "expires_at": expiration};
            store::put_index(env, sub, kind.name(), id, &entry, expiration).await?;
        }
        audit(
            AuditEvent::Revoke,
            &fields! {"kind": kind.name(), "id": id, "sub": sub, "expires_at": expiration},
        );
        Ok(())
    }

    /// `POST /_warden/revoke`: answers 200 only after the write returned.
    async fn revoke_request(
        env: &Env,
        config: &Config,
        revoke: Revoke,
        now: u64,
    ) -> Result<Response> {
        let leeway = config.policy().leeway;
        let max_lifetime = config.policy().max_lifetime;
        match revoke {
            Revoke::Jti { jti, exp, sub } => {
                let expires_at = token_expiration(exp, now, leeway, max_lifetime);
                match put_revocation(
                    env,
                    config.reads(),
                    Kind::Jti,
                    &jti,
                    Some(expires_at),
                    sub.as_deref(),
                    now,
                )
                .await
                {
                    Ok(()) => json_object(
                        200,
                        &fields! {"ok": true, "jti": jti, "expires_at": expires_at},
                    ),
                    Err(e) => store_unavailable("put", &e),
                }
            }
            Revoke::Sid { sid, sub } => {
                match revoke_session(env, config, &sid, sub.as_deref(), now).await {
                    Ok(expires_at) => json_object(
                        200,
                        &fields! {"ok": true, "sid": sid, "expires_at": expires_at},
                    ),
                    Err(failed) => failed.response(),
                }
            }
            Revoke::Kid { kid } => {
                match put_revocation(env, config.reads(), Kind::Kid, &kid, None, None, now).await {
                    Ok(()) => json_object(
                        200,
                        &fields! {"ok": true, "kid": kid, "expires_at": Value::Null},
                    ),
                    Err(e) => store_unavailable("put", &e),
                }
            }
            Revoke::Subject { sub, before } => {
                let before = match requested_cutoff(before, now, leeway) {
                    Ok(before) => before,
                    Err(late) => {
                        return bad_request(&format!(
                            "field `before` must not be later than now + leeway ({})",
                            late.latest
                        ))
                    }
                };
                match cut_off_subject(env, config, sub, before, now).await {
                    Ok((sub, cutoff, ended)) => json_object(
                        200,
                        &fields! {"ok": true, "sub": sub, "before": cutoff.before, "expires_at": cutoff.expires_at, "sessions_ended": ended},
                    ),
                    Err(failed) => failed.response(),
                }
            }
            Revoke::Token {
                token,
                refresh_hint,
            } => revoke_presented(env, config, &token, refresh_hint, now).await,
            Revoke::Pat { id } => match pat::revoke_id(env, &id, now).await {
                Ok(Some(record)) => json_object(
                    200,
                    &fields! {"ok": true, "pat": record.id, "sub": record.sub},
                ),
                Ok(None) => json_object(
                    404,
                    &fields! {"error": "not_found", "error_description": "no PAT with this id"},
                ),
                Err(e) => store_unavailable("put", &e),
            },
        }
    }

    /// Writes in flight at once in a batch.
    const BATCH_PARALLEL: usize = 32;

    /// `POST /_warden/revoke/batch`: every entry checked first (one bad entry: 400, nothing
    /// written), then recorded in the revocation log in one call (filter on), then written
    /// [`BATCH_PARALLEL`] at a time, exactly as the single endpoint writes each; sessions ended
    /// and subjects cut off through their objects. 200 only once every entry is durable; a
    /// failure answers 503, and a retry of the whole batch is harmless (every write is
    /// idempotent).
    async fn revoke_batch(
        env: &Env,
        config: &Config,
        entries: Vec<Revoke>,
        now: u64,
    ) -> Result<Response> {
        let policy = config.policy();
        let count = entries.len();
        let mut ids = Vec::new();
        let mut sessions = Vec::new();
        let mut subjects = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            match entry {
                Revoke::Jti { jti, exp, sub } => {
                    let e = token_expiration(exp, now, policy.leeway, policy.max_lifetime);
                    ids.push((Kind::Jti, jti, Some(e), sub));
                }
                Revoke::Sid { sid, sub } => {
                    let e = session_expiration(now, policy.leeway, policy.max_lifetime);
                    sessions.push((sid.clone(), sub.clone()));
                    ids.push((Kind::Sid, sid, Some(e), sub));
                }
                Revoke::Kid { kid } => ids.push((Kind::Kid, kid, None, None)),
                Revoke::Subject { sub, before } => {
                    match requested_cutoff(before, now, policy.leeway) {
                        Ok(before) => subjects.push((sub, before)),
                        Err(late) => {
                            return bad_request(&format!(
                                "revocations[{i}]: field `before` must not be later than now + leeway ({})",
                                late.latest
                            ))
                        }
                    }
                }
                // `parse_revoke_batch` refuses these.
                Revoke::Token { .. } | Revoke::Pat { .. } => {
                    return bad_request(&format!("revocations[{i}]: not a batch entry"))
                }
            }
        }
        let mut reads = config.reads();
        if reads.filter && !ids.is_empty() {
            let logged = ids
                .iter()
                .map(|(kind, id, e, _)| LoggedId {
                    kind: kind.name().to_owned(),
                    id: id.clone(),
                    expires_at: e.unwrap_or(0),
                })
                .collect();
            if let Err(e) = store::record_in_log(env, logged, Vec::new()).await {
                return store_unavailable("log", &e);
            }
            // Recorded above, once for all.
            reads.filter = false;
        }
        // One future type for every kind of write: one copy of the code that runs them.
        type Write<'a> = Pin<Box<dyn Future<Output = std::result::Result<(), StoreFailure>> + 'a>>;
        let mut writes: Vec<Write<'_>> = Vec::with_capacity(count + sessions.len());
        for (kind, id, e, sub) in &ids {
            writes.push(Box::pin(async move {
                put_revocation(env, reads, *kind, id, *e, sub.as_deref(), now)
                    .await
                    .map_err(StoreFailure::of("put"))
            }));
        }
        // Sessions end and subjects are cut off only after every record is written.
        let mut later: Vec<Write<'_>> = Vec::with_capacity(sessions.len() + subjects.len());
        for (sid, sub) in &sessions {
            later.push(Box::pin(async move {
                end_session(env, config, sid, sub.as_deref(), Refusal::SessionRevoked)
                    .await
                    .map_err(StoreFailure::of("end_session"))
            }));
        }
        for (sub, before) in &subjects {
            later.push(Box::pin(async move {
                cut_off_subject(env, config, sub.clone(), *before, now)
                    .await
                    .map(|_| ())
            }));
        }
        for batch in [writes, later] {
            let mut batch = batch.into_iter();
            loop {
                let chunk: Vec<Write<'_>> = batch.by_ref().take(BATCH_PARALLEL).collect();
                if chunk.is_empty() {
                    break;
                }
                if let Some(Err(failed)) = join_all(chunk).await.into_iter().find(Result::is_err) {
                    return failed.response();
                }
            }
        }
        json_object(200, &fields! {"ok": true, "revoked": count})
    }

    /// A store operation that failed: which one, and its error.
    pub struct StoreFailure {
        /// `get`, `put`, `cutoff` or `end_session`.
        pub op: &'static str,
        /// The error.
        pub error: worker::Error,
    }

    impl StoreFailure {
        /// `op` failed with `error`.
        pub fn new(op: &'static str, error: worker::Error) -> StoreFailure {
            StoreFailure { op, error }
        }

        fn of(op: &'static str) -> impl FnOnce(worker::Error) -> StoreFailure {
            move |error| StoreFailure { op, error }
        }

        /// Audited as `store_error`; 503 `temporarily_unavailable`.
        pub fn response(&self) -> Result<Response> {
            store_unavailable(self.op, &self.error)
        }
    }

    /// Revokes every token of the session `sid`, as `{"sid"}` does: the `rv:sid:` record (and
    /// its entry in the index of `sub`), audited, then the session ended at its object (refresh
    /// on). Returns when the record expires; done only once every write returned.
    pub async fn revoke_session(
        env: &Env,
        config: &Config,
        sid: &str,
        sub: Option<&str>,
        now: u64,
    ) -> std::result::Result<u64, StoreFailure> {
        let policy = config.policy();
        let expires_at = session_expiration(now, policy.leeway, policy.max_lifetime);
        put_revocation(
            env,
            config.reads(),
            Kind::Sid,
            sid,
            Some(expires_at),
            sub,
            now,
        )
        .await
        .map_err(StoreFailure::of("put"))?;
        end_session(env, config, sid, sub, Refusal::SessionRevoked)
            .await
            .map_err(StoreFailure::of("end_session"))?;
        Ok(expires_at)
    }

    /// Revokes every credential of `sub` issued at or before `before` (already checked against
    /// now plus the leeway), as `{"sub", "before"}` does: the cutoff raised through the
    /// subject's Durable Object (never lowered), known in this isolate at once, audited, then
    /// every session the edge has seen for the subject ended. Returns the subject, the
    /// effective cutoff and how many sessions were ended.
    pub async fn cut_off_subject(
        env: &Env,
        config: &Config,
        sub: String,
        before: UnixTime,
        now: u64,
    ) -> std::result::Result<(String, Cutoff, usize), StoreFailure> {
        let request = CutoffRequest {
            sub,
            before,
            leeway: config.policy().leeway,
            max_lifetime: config.policy().max_lifetime,
            log: config.revocation_filter,
        };
        let cutoff = subject::raise_cutoff(env, &request)
            .await
            .map_err(StoreFailure::of("cutoff"))?;
        store::remember_write(
            Entry::Cutoff {
                sub: request.sub.clone(),
                before: cutoff.before,
            },
            now,
        );
        audit(
            AuditEvent::Revoke,
            &fields! {"kind": "sub", "id": request.sub, "before": cutoff.before, "expires_at": cutoff.expires_at},
        );
        // And every session the edge has seen for the subject: no more refreshes.
        let ended = end_subject_sessions(env, config, &request.sub, cutoff.before)
            .await
            .map_err(StoreFailure::of("end_session"))?;
        Ok((request.sub, cutoff, ended))
    }

    /// RFC 7009: a presented token is revoked by what it names — a PAT by its digest, a JWT by its
    /// `jti` and, for a refresh token, its `sid` (which ends every token of the session). The
    /// answer is 200 even for a token that is unknown or not a token at all; the signature is not
    /// checked (the caller is the administrator, who may revoke any id anyway).
    async fn revoke_presented(
        env: &Env,
        config: &Config,
        token: &str,
        refresh_hint: bool,
        now: u64,
    ) -> Result<Response> {
        if warden_core::is_pat(token, &config.gate.pat_prefix) {
            return match pat::revoke_token(env, &config.gate.pat_prefix, token, now).await {
                Ok(record) => revoked(record.as_ref().map(|r| r.id.as_str()), None, None),
                Err(e) => store_unavailable("put", &e),
            };
        }
        let Ok(parsed) = parse(token) else {
            return revoked(None, None, None);
        };
        let c = &parsed.claims;
        let leeway = config.policy().leeway;
        let max_lifetime = config.policy().max_lifetime;
        let mut jti_revoked = None;
        if let Some(jti) = &c.jti {
            let expires_at = token_expiration(c.exp, now, leeway, max_lifetime);
            if let Err(e) = put_revocation(
                env,
                config.reads(),
                Kind::Jti,
                jti,
                Some(expires_at),
                c.sub.as_deref(),
                now,
            )
            .await
            {
                return store_unavailable("put", &e);
            }
            jti_revoked = Some(jti.as_str());
        }
        let mut sid_revoked = None;
        if refresh_hint || config.policy().is_refresh_token(&parsed) {
            if let Some(sid) = &c.sid {
                if let Err(failed) = revoke_session(env, config, sid, c.sub.as_deref(), now).await {
                    return failed.response();
                }
                sid_revoked = Some(sid.as_str());
            }
        }
        revoked(None, jti_revoked, sid_revoked)
    }

    /// The answer to a presented token's revocation: `{"ok": true, "revoked": {...}}` with
    /// what was revoked (`pat`, `jti`, `sid`; none for a token that names nothing known).
    fn revoked(pat: Option<&str>, jti: Option<&str>, sid: Option<&str>) -> Result<Response> {
        let revoked = obj!(sparse: "pat": pat, "jti": jti, "sid": sid);
        json_object(200, &fields! {"ok": true, "revoked": revoked})
    }

    /// Ends a session at its object (refresh on): every later refresh of it is refused.
    async fn end_session(
        env: &Env,
        config: &Config,
        sid: &str,
        sub: Option<&str>,
        reason: Refusal,
    ) -> Result<()> {
        if config.refresh.is_none() {
            return Ok(());
        }
        refresh::end(env, sid, sub, reason).await
    }

    /// Most index pages read when ending a subject's sessions (1000 sessions each).
    const MAX_SESSION_PAGES: usize = 10;

    /// Ends every session of `sub` the edge has seen (its KV index); returns how many were live.
    async fn end_subject_sessions(
        env: &Env,
        config: &Config,
        sub: &str,
        before: UnixTime,
    ) -> Result<usize> {
        if config.refresh.is_none() {
            return Ok(0);
        }
        let mut ended = 0;
        let mut cursor = None;
        for _ in 0..MAX_SESSION_PAGES {
            let (items, next) = store::list_index(env, sub, &["session"], cursor).await?;
            let live: Vec<String> = items
                .iter()
                .filter(|m| m.get("ended").is_none_or(Value::is_null))
                .filter_map(|m| m.get("sid").and_then(Value::as_str).map(str::to_owned))
                .collect();
            for sid in &live {
                end_session(
                    env,
                    config,
                    sid,
                    Some(sub),
                    Refusal::SubjectRevoked { before },
                )
                .await?;
            }
            ended += live.len();
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(ended)
    }
}
