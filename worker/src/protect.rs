//! The request path: the worker as the gate's I/O driver. It reads the request's facts, asks
//! the core's [`Gate`](warden_core::Gate) what they mean, does the I/O each step needs —
//! signature check, revocation lookups, PAT record, the session's refresh — feeds the answers
//! back, and carries out the decision ([`crate::respond`]). No rule is decided here.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};

use warden_core::{
    cookie_max_age, cookie_safe, rewrite_cookie_header, Admission, Binding, Decision, Denial,
    DpopError, Forward, Receiver, RefreshHint, Refusal, Request as GateRequest, RequestFacts,
    RevocationIds, Step, Token, Unavailable, Who,
};
use worker::{Context, Env, Request, Response, Result};

use crate::admin;
use crate::audit::{audit, AuditEvent};
use crate::backchannel;
use crate::config::{Config, RefreshConfig, ReplayScope};
use crate::fields::fields;
use crate::http::json_object;
use crate::oauth;
use crate::pat;
use crate::refresh::{self, Answer, SessionCall};
use crate::replay::{self, Seen};
use crate::respond::{refusal_response, refuse, with_cookies};
use crate::runtime::unix_now;
use crate::ssf;
use crate::store::{self, Entry, Kind};
use crate::upstream::Upstream;
use crate::verify;

/// A request the entry module handed to the workers-rs fetch handler: the admin API or an event
/// receiver (they read the body). Anything else never comes this way; if it does (the module
/// deployed without its entry), it is refused, never forwarded.
pub async fn admin_only(req: Request, env: &Env, config: &Config, now: u64) -> Result<Response> {
    let path = req.path();
    let method = req.method();
    let headers = req.headers();
    let authorization = headers.get("authorization")?;
    let cookies = headers.get("cookie")?;
    let facts = RequestFacts {
        method: method.as_ref(),
        path: &path,
        authorization: authorization.as_deref(),
        cookies: cookies.as_deref(),
        cors_request_method: headers.has("access-control-request-method")?,
        ..RequestFacts::default()
    };
    match config.gate.admit(&facts) {
        Admission::Admin => admin::api(req, env, config, now).await,
        Admission::Receiver(Receiver::BackchannelLogout) => {
            backchannel::receive(req, env, config, now).await
        }
        Admission::Receiver(Receiver::SsfPush) => ssf::receive(req, env, config, now).await,
        _ => json_object(
            500,
            &fields! {"error": "server_error", "error_description": "worker entry module missing"},
        ),
    }
}

/// What becomes of a request once the gate and its I/O are done.
pub enum Outcome {
    /// The admin API or an event receiver: handed to the workers-rs fetch handler, which reads
    /// the request's body ([`admin_only`]).
    Admin,
    /// On to the origin (the entry module carries it out: `edge::warden_decide`).
    Forward(Upstream),
    /// This answer, already audited.
    Answer(Response),
}

fn answer(resp: Result<Response>) -> Result<Outcome> {
    resp.map(Outcome::Answer)
}

/// Reads the SHA-256 fingerprint (hex) of the client certificate the zone verified, if any.
/// Asked only for a token bound to a certificate (`Call::gate_request`): reading the request's
/// `cf` object cost a repeated request about as much CPU in the isolate as its fetch to the
/// origin (`make profile-worker PROFILE_ARGS="--mode repeat"`).
pub type ClientCert<'a> = &'a dyn Fn() -> Option<String>;

/// The gate admits the request, then the step it asks for: everything but the forwarding.
/// `facts.client_cert` is left to `client_cert`, read when a token needs it.
pub async fn decide(
    facts: &RequestFacts<'_>,
    env: &Env,
    config: &Config,
    ctx: &Context,
    client_cert: ClientCert<'_>,
    now: u64,
) -> Result<Outcome> {
    match config.gate.admit(facts) {
        Admission::Admin | Admission::Receiver(_) => Ok(Outcome::Admin),
        Admission::Forward => Ok(Outcome::Forward(Upstream::anonymous())),
        Admission::Deny(r) => answer(refuse(config, &r)),
        Admission::Pat { token, request } => pat_request(env, config, token, &request, now).await,
        Admission::Jwt { token, request } => {
            let call = Call::new(env, config, ctx, &request, facts, client_cert);
            call.jwt(token, now).await
        }
        Admission::Refresh {
            refresh_token,
            request,
        } => {
            let call = Call::new(env, config, ctx, &request, facts, client_cert);
            call.refresh(None, refresh_token, now).await
        }
    }
}

/// A PAT: its record and its subject's cutoff, then the gate's decision.
async fn pat_request(
    env: &Env,
    config: &Config,
    token: &str,
    request: &GateRequest<'_>,
    now: u64,
) -> Result<Outcome> {
    let record = pat::lookup(
        env,
        &config.gate.pat_prefix,
        token,
        config.snapshot_seconds,
        now,
    )
    .await;
    let cutoff = match &record {
        Ok(Some(r)) => {
            let ids = RevocationIds {
                sub: Some(&r.sub),
                ..RevocationIds::default()
            };
            store::answers(env, config.reads(), &ids, now)
                .await
                .subject_cutoff
        }
        _ => Ok(None),
    };
    let record = record.as_ref().map(Option::as_ref).map_err(|_| Unavailable);
    match config.gate.decide_pat(request, record, cutoff, now) {
        Decision::Forward(f) => Ok(Outcome::Forward(Upstream::identified(f))),
        Decision::Deny(r) => answer(refuse(config, &r)),
        Decision::Refresh(_) => answer(refuse(
            config,
            &Refusal::plain(Denial::StoreUnavailable), // never: a PAT is never refreshed
        )),
    }
}

/// A JWT or cookie-session request and what it needs along the way.
struct Call<'a> {
    env: &'a Env,
    config: &'a Config,
    ctx: &'a Context,
    request: &'a GateRequest<'a>,
    /// What the request was admitted with.
    facts: &'a RequestFacts<'a>,
    client_cert: ClientCert<'a>,
    /// The client certificate, once read.
    cert: OnceCell<Option<String>>,
}

impl<'a> Call<'a> {
    fn new(
        env: &'a Env,
        config: &'a Config,
        ctx: &'a Context,
        request: &'a GateRequest<'a>,
        facts: &'a RequestFacts<'a>,
        client_cert: ClientCert<'a>,
    ) -> Self {
        Call {
            env,
            config,
            ctx,
            request,
            facts,
            client_cert,
            cert: OnceCell::new(),
        }
    }

    /// The request as the gate must see it to judge `token`: admitted again with the client
    /// certificate when the token names one (the certificate is read then, once), else as
    /// admitted — the gate reads the certificate for no other token.
    fn gate_request(&self, token: &Token) -> Cow<'_, GateRequest<'_>> {
        if !token.claims.cnf.names_certificate() || self.facts.client_cert.is_some() {
            return Cow::Borrowed(self.request);
        }
        let cert = self.cert.get_or_init(|| (self.client_cert)());
        let facts = RequestFacts {
            client_cert: cert.as_deref(),
            ..*self.facts
        };
        match self.config.gate.admit(&facts) {
            Admission::Jwt { request, .. } | Admission::Refresh { request, .. } => {
                Cow::Owned(request)
            }
            // Never: the same facts but the certificate were admitted so. Without the
            // certificate, the bound token is refused.
            _ => Cow::Borrowed(self.request),
        }
    }

    /// Signatures (the token's: cache or keys + crypto; a DPoP proof's: with its own key), the
    /// gate's checks, the store's answers, the decision.
    async fn jwt(&self, raw: &str, now: u64) -> Result<Outcome> {
        let (env, config, gate) = (self.env, self.config, &self.config.gate);
        let token = match verify::verified(raw, env, config, now).await {
            Ok(t) => t,
            Err(d) => return answer(refuse(config, &gate.refuse(self.request, d, now))),
        };
        if let Some(proof) = &self.request.sender.proof {
            let signed = verify::check_proof_signature(
                &proof.key,
                proof.signing_input.as_bytes(),
                &proof.signature,
            )
            .await;
            if signed.is_err() {
                let d = Denial::Dpop(DpopError::BadSignature);
                return answer(refuse(config, &gate.refuse(self.request, d, now)));
            }
        }
        let request = self.gate_request(&token);
        let ids = match gate.check_jwt(&request, &token, now) {
            Step::Lookup(ids) => ids,
            Step::Done(decision) => return self.carry_out(decision, &token, now).await,
        };
        let answers = store::answers(env, config.reads(), &ids, now).await;
        match gate.decide_jwt(&request, &token, &answers, now) {
            Decision::Refresh(hint) => match self.request.refresh_token {
                Some(rt) => self.refresh(Some((&token, &hint)), rt, now).await,
                None => answer(refuse(config, &Refusal::plain(Denial::RefreshUnavailable))),
            },
            decision => self.carry_out(decision, &token, now).await,
        }
    }

    /// Forward (using up a DPoP proof, auditing a fail-open allow, registering a seen session)
    /// or refuse.
    async fn carry_out(&self, decision: Decision, token: &Token, now: u64) -> Result<Outcome> {
        match decision {
            Decision::Forward(f) => {
                if let Some(Binding::Dpop { replay, .. }) = &f.binding {
                    let seen = match self.config.dpop_replay {
                        ReplayScope::Isolate => replay::consume(replay, now),
                        ReplayScope::Global => replay::consume_global(self.env, replay).await,
                    };
                    let denial = match seen {
                        Seen::First => None,
                        Seen::Again => Some((Denial::Dpop(DpopError::Replayed), None)),
                        Seen::Full => {
                            Some((Denial::StoreUnavailable, Some("dpop replay table full")))
                        }
                        Seen::Unreachable => Some((
                            Denial::StoreUnavailable,
                            Some("dpop replay object unavailable"),
                        )),
                    };
                    if let Some((d, detail)) = denial {
                        let mut r = self.config.gate.refuse(self.request, d, now);
                        r.detail = detail;
                        r.who = Who {
                            class: Some(f.grant.class),
                            sub: f.grant.subject.clone(),
                            jti: f.grant.token_id.clone(),
                            sid: f.grant.session.clone(),
                        };
                        return answer(refuse(self.config, &r));
                    }
                }
                let acted = self.allowed(&f, token);
                let upstream = Upstream::identified(f);
                Ok(Outcome::Forward(Upstream {
                    replayable: !acted && !upstream.bound(),
                    ..upstream
                }))
            }
            Decision::Deny(r) => answer(refuse(self.config, &r)),
            Decision::Refresh(_) => answer(refuse(
                self.config,
                &Refusal::plain(Denial::RefreshUnavailable),
            )),
        }
    }

    /// The side effects of an allowed request; whether there were any.
    fn allowed(&self, f: &Forward, token: &Token) -> bool {
        let mut acted = false;
        if f.fail_open {
            acted = true;
            audit(
                AuditEvent::FailOpenAllow,
                &fields! {
                    "class": f.grant.class.name(),
                    "sub": token.claims.sub,
                    "sid": token.claims.sid,
                    "jti": token.claims.jti,
                    "kid": token.header.kid,
                },
            );
        }
        if f.register_session {
            acted |= note_seen(self.ctx, self.env, token);
        }
        acted
    }

    /// Refreshes a cookie session through its object, then serves the request with the new
    /// access token. `old`: the presented access token (signature verified, not revoked) and
    /// the gate's hint; `None` when only the refresh cookie came.
    async fn refresh(
        &self,
        old: Option<(&Token, &RefreshHint)>,
        refresh_token: &str,
        now: u64,
    ) -> Result<Outcome> {
        let (env, config, gate) = (self.env, self.config, &self.config.gate);
        let Some(rc) = &config.refresh else {
            return answer(refuse(config, &Refusal::plain(Denial::RefreshUnavailable)));
        };
        let sid = old.and_then(|(_, h)| h.session.clone());
        let call = SessionCall {
            refresh_token: refresh_token.to_owned(),
            sid: sid.clone(),
            sub: old.and_then(|(t, _)| t.claims.sub.clone()),
            iat: old.and_then(|(t, _)| t.claims.iat),
        };
        let name = refresh::object_name(sid.as_deref(), refresh_token);
        match refresh::ask(env, &name, &call).await {
            Answer::Fresh {
                access_token,
                refresh_token,
                cap_ends_at,
            } => {
                // The clock again: the new token was minted during the refresh.
                let pair = Pair {
                    access_token: &access_token,
                    refresh_token: &refresh_token,
                    cap_ends_at,
                };
                self.deliver(rc, sid.as_deref(), pair, unix_now()).await
            }
            Answer::Refused {
                refusal,
                sid: refused_sid,
            } => {
                let sid = refused_sid.or(sid);
                let r = gate.refresh_refused(refusal.denial(), sid.as_deref(), old.map(|(t, _)| t));
                if let Some(sid) = &r.revoked_session {
                    // At once in this isolate: the family's newer access tokens die here now.
                    store::remember_write(
                        Entry::Revoked {
                            kind: Kind::Sid,
                            id: sid.clone(),
                            expiration: config.session_revocation_expiration(now),
                        },
                        now,
                    );
                }
                answer(refuse(config, &r))
            }
            Answer::Unavailable { status, reason } => {
                audit(
                    AuditEvent::RefreshUnavailable,
                    &fields! {"status": status, "reason": reason, "sid": sid},
                );
                let request = match old {
                    Some((token, _)) => self.gate_request(token),
                    None => Cow::Borrowed(self.request),
                };
                match gate.refresh_unavailable(&request, old, status == 502, now) {
                    Decision::Forward(f) => Ok(Outcome::Forward(Upstream::identified(f))),
                    Decision::Deny(r) => answer(refusal_response(config, &r)),
                    Decision::Refresh(_) => answer(refusal_response(
                        config,
                        &Refusal::plain(Denial::RefreshUnavailable),
                    )),
                }
            }
        }
    }

    /// Serves the request with a freshly refreshed pair: the new access token is verified and
    /// judged like any other, the origin receives it (identity headers and `Cookie`), and the
    /// answer sets both cookies for as long as the session may live.
    async fn deliver(
        &self,
        rc: &RefreshConfig,
        sid: Option<&str>,
        pair: Pair<'_>,
        now: u64,
    ) -> Result<Outcome> {
        let (env, config, gate) = (self.env, self.config, &self.config.gate);
        let unusable = |why: &'static str| {
            let mut r = Refusal::plain(Denial::RefreshUpstream(
                "the origin issued an unusable token",
            ));
            r.detail = Some(why);
            answer(bad_pair(config, sid, &r))
        };
        let Some(access_cookie) = gate.access_cookie.as_deref() else {
            return unusable("no access cookie configured");
        };
        if !cookie_safe(pair.access_token) || !cookie_safe(pair.refresh_token) {
            return unusable("a new token cannot travel in a cookie");
        }
        let token = match verify::verified(pair.access_token, env, config, now).await {
            Ok(t) => t,
            Err(d) => return unusable(d.code()),
        };
        let ids = match gate.check_refreshed(sid, &token, now) {
            Step::Lookup(ids) => ids,
            Step::Done(Decision::Deny(r)) => return answer(bad_pair(config, sid, &r)),
            Step::Done(_) => return unusable("unexpected decision"),
        };
        let max_age = cookie_max_age(pair.cap_ends_at, now);
        let set = [
            oauth::set_cookie(access_cookie, pair.access_token, max_age),
            oauth::set_cookie(&rc.cookie, pair.refresh_token, max_age),
        ];
        let answers = store::answers(env, config.reads(), &ids, now).await;
        match gate.decide_refreshed(&self.gate_request(&token), &token, &answers, now) {
            Decision::Forward(f) => {
                self.allowed(&f, &token);
                let cookie = rewrite_cookie_header(
                    self.facts.cookies,
                    (access_cookie, pair.access_token),
                    (&rc.cookie, pair.refresh_token),
                );
                Ok(Outcome::Forward(Upstream {
                    identity: Some(f),
                    cookie: Some(cookie),
                    set_cookies: set.to_vec(),
                    answer_headers: Vec::new(),
                    replayable: false,
                }))
            }
            // Cleared cookies come with the refusal; otherwise (the store could not answer:
            // not the pair's fault) the new pair is kept, or the rotation would be lost.
            Decision::Deny(r) if r.clear_cookies => answer(refuse(config, &r)),
            Decision::Deny(r) => answer(with_cookies(refuse(config, &r)?, &set)),
            Decision::Refresh(_) => unusable("a refreshed token asks for another refresh"),
        }
    }
}

/// A refreshed pair.
struct Pair<'a> {
    access_token: &'a str,
    refresh_token: &'a str,
    cap_ends_at: u64,
}

/// The origin issued an unusable pair: audited as `refresh_bad_token`, 502, no cookie set.
fn bad_pair(config: &Config, sid: Option<&str>, r: &Refusal) -> Result<Response> {
    audit(
        AuditEvent::RefreshBadToken,
        &fields! {"sid": sid, "reason": r.detail},
    );
    refusal_response(config, r)
}

/// Registers a cookie session with its object the first time this isolate sees it (after the
/// response, through `waitUntil`): the inventory lists it and revoke-all can end it. Whether it
/// did.
fn note_seen(ctx: &Context, env: &Env, token: &Token) -> bool {
    thread_local! {
        // The sessions seen (a set: the numbers are 0).
        static SEEN: RefCell<store::IdMap> = RefCell::new(store::IdMap::default());
    }
    /// Sessions remembered per isolate before the set starts over.
    const MAX_SEEN: usize = 10_000;
    let Some(sid) = token.claims.sid.clone() else {
        return false;
    };
    let first = SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() >= MAX_SEEN {
            seen.clear();
        }
        seen.insert(sid.clone(), 0)
    });
    if !first {
        return false;
    }
    let call = SessionCall {
        sid: Some(sid),
        sub: token.claims.sub.clone(),
        iat: token.claims.iat,
        ..SessionCall::default()
    };
    let env = env.clone();
    ctx.wait_until(async move { refresh::seen(&env, &call).await });
    true
}
