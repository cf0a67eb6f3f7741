//! The gate: every decision about a request, without I/O (the design of rustls and
//! quinn-proto: the state machine decides, the caller moves bytes and feeds the answers back).
//!
//! A driver (the worker, or any JavaScript edge through the npm package) calls, in order:
//! 1. [`Gate::admit`] with the [`RequestFacts`] — the path, the raw credential headers. The
//!    answer says what kind of request this is: the admin API, a request to forward as it is
//!    (a public path, a credential-less CORS preflight), a refusal, or a credential to check.
//! 2. For a JWT: the driver verifies the signature (its platform's crypto, with keys it
//!    fetched), then [`Gate::check_jwt`] names the revocation lookups; the driver asks its
//!    store and hands the answers to [`Gate::decide_jwt`]. For a PAT: the driver reads the
//!    record and the subject's cutoff and calls [`Gate::decide_pat`].
//! 3. A [`Decision`]: forward with exactly these identity headers, refresh the session, or
//!    refuse with this [`Denial`] (which also says what to do with the session's cookies).
//! 4. After a refresh the driver feeds the new token back ([`Gate::check_refreshed`],
//!    [`Gate::decide_refreshed`]), or the refusal ([`Gate::refresh_refused`]) or failure
//!    ([`Gate::refresh_unavailable`]) of the session's refresh.
//!
//! ```
//! use warden_core::{Admission, Gate, RequestFacts};
//!
//! let gate = Gate::default();
//! let facts = RequestFacts { path: "/api/x%5C..%5Cadmin", ..RequestFacts::default() };
//! match gate.admit(&facts) {
//!     Admission::Deny(refusal) => assert_eq!(refusal.denial.status(), 400),
//!     _ => unreachable!(),
//! }
//! ```

mod cookies;
mod credential;
mod identity;
mod path;
mod receiver;
mod routes;
mod sender;

use alloc::string::String;
use alloc::vec::Vec;

pub use cookies::{cookie_max_age, cookie_safe, rewrite_cookie_header};
pub use credential::{
    check_authorization, cookie, is_pat, refresh_cookie, select_credential, Source,
};
pub use identity::{
    check_identity, check_scopes, header_value, identity_headers, is_identity_value,
    is_reserved_header, is_scope_list, is_scope_token, scopes, IDENTITY_PREFIX,
};
pub use path::{canonical_path, path_and_query, CanonicalPath, MAX_PATH_LEN};
pub use receiver::{Receiver, BACKCHANNEL_LOGOUT_PATH, SSF_PUSH_PATH};
pub use routes::{path_prefix, PathRules, Route, MAX_LIST_ENTRIES, MAX_PREFIX_LEN, MAX_SCOPE_LEN};
pub use sender::{DpopAnswer, Sender};

use crate::denial::{Denial, Verdict};
use crate::dpop::{Binding, DpopPolicy};
use crate::grant::{Grant, RefreshHint, TokenClass};
use crate::parse::Token;
use crate::pat::PatRecord;
use crate::policy::Policy;
use crate::revocation::{
    under_cutoff, RevocationIds, RevocationReason, RevocationStatus, StoreAnswers, Unavailable,
};
use crate::UnixTime;

/// The prefix of the admin API's paths (`/_warden` itself too).
pub const ADMIN_PREFIX: &str = "/_warden";

/// Default PAT prefix (`WARDEN_PAT_PREFIX`).
pub const DEFAULT_PAT_PREFIX: &str = "wdn_pat_";

/// What to do when the revocation store cannot answer a revocation read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailMode {
    /// Refuse with 503 (the default).
    #[default]
    Closed,
    /// Allow, flagged for an audit line. Covers revocation reads of JWTs only: never keys,
    /// signatures, PAT records or a PAT's subject cutoff (a PAT record is the credential).
    Open,
}

impl FailMode {
    /// `closed` or `open`.
    pub fn name(self) -> &'static str {
        match self {
            FailMode::Closed => "closed",
            FailMode::Open => "open",
        }
    }
}

/// Everything the gate is configured with. `Gate::default()` is the secure default: no public
/// paths, no routes, no cookies, fail closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The claims policy.
    pub policy: Policy,
    /// Public paths and scoped routes.
    pub paths: PathRules,
    /// The cookie that may carry the access token (`WARDEN_ACCESS_COOKIE`).
    pub access_cookie: Option<String>,
    /// The cookie that carries the refresh token when refresh at the edge is on
    /// (`WARDEN_REFRESH_COOKIE`); `None` while it is off.
    pub refresh_cookie: Option<String>,
    /// Opaque tokens starting with this (and without a `.`) are PATs.
    pub pat_prefix: String,
    /// `WARDEN_FAIL_MODE`.
    pub fail_mode: FailMode,
    /// `WARDEN_ORIGIN_SECRET`, sent to the origin as `x-warden-auth`.
    pub origin_secret: Option<String>,
    /// `WARDEN_DPOP*`: sender-constrained tokens.
    pub dpop: DpopPolicy,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            policy: Policy::default(),
            paths: PathRules::default(),
            access_cookie: None,
            refresh_cookie: None,
            pat_prefix: DEFAULT_PAT_PREFIX.into(),
            fail_mode: FailMode::Closed,
            origin_secret: None,
            dpop: DpopPolicy::default(),
        }
    }
}

/// The facts of a request, as the driver read them (raw: the gate does all the reading).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The URL's path as it will be sent to the origin (percent-encoded as received).
    pub path: &'a str,
    /// The `Authorization` header (repeated headers joined by `, `, as the Fetch API does).
    pub authorization: Option<&'a str>,
    /// The `Cookie` header.
    pub cookies: Option<&'a str>,
    /// Whether an `Access-Control-Request-Method` header came (a CORS preflight with
    /// `OPTIONS`).
    pub cors_request_method: bool,
    /// The request's full URL (a DPoP proof's `htu` names it).
    pub url: &'a str,
    /// The `DPoP` header (repeated headers joined by `, `, as the Fetch API does).
    pub dpop: Option<&'a str>,
    /// The client certificate's SHA-256 fingerprint, hex, when the TLS layer verified one
    /// (mTLS-bound tokens).
    pub client_cert: Option<&'a str>,
}

/// A request that carries a credential to check, as the gate read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The canonical path.
    pub path: CanonicalPath,
    /// Where the credential came from (`None`: only a refresh cookie came).
    pub source: Option<Source>,
    /// The refresh cookie, for a cookie session with refresh at the edge on.
    pub refresh_token: Option<&'a str>,
    /// What the request brings for a sender-constrained token (a DPoP proof, a certificate).
    pub sender: Sender<'a>,
}

/// What [`Gate::admit`] makes of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission<'a> {
    /// The admin API (`/_warden`, `/_warden/…`), which authenticates itself.
    Admin,
    /// An endpoint where the identity provider delivers events ([`Receiver`]): not behind the
    /// admin token (the event's signature authenticates it), never forwarded to the origin.
    Receiver(Receiver),
    /// Forward as it is, with no identity (a public path, or a CORS preflight without
    /// credentials).
    Forward,
    /// Refuse.
    Deny(Refusal),
    /// A JWT to verify (signature with the driver's crypto), then [`Gate::check_jwt`].
    Jwt {
        /// The token, size-capped, not yet parsed.
        token: &'a str,
        /// The request.
        request: Request<'a>,
    },
    /// A PAT: read its record and the subject's cutoff, then [`Gate::decide_pat`].
    Pat {
        /// The opaque token.
        token: &'a str,
        /// The request.
        request: Request<'a>,
    },
    /// Only a refresh cookie came: refresh the session it belongs to.
    Refresh {
        /// The refresh token.
        refresh_token: &'a str,
        /// The request.
        request: Request<'a>,
    },
}

/// What the driver does next for a credential: look up these revocation ids and feed the
/// answers back, or act on a decision already made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'t> {
    /// Ask the store about these ids, then call the matching `decide_*`.
    Lookup(RevocationIds<'t>),
    /// Nothing to look up: decided.
    Done(Decision),
}

/// The gate's decision about a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Forward to the origin with these identity headers.
    Forward(Forward),
    /// The token is sound but expired (or about to be) and the session can be refreshed.
    Refresh(RefreshHint),
    /// Refuse.
    Deny(Refusal),
}

/// How to forward an allowed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// What the credential grants.
    pub grant: Grant,
    /// The identity headers the origin receives, values ready to send (client headers that
    /// [`is_reserved_header`] are removed first).
    pub headers: Vec<(&'static str, String)>,
    /// The store could not answer and `WARDEN_FAIL_MODE=open` let the request through: audit it.
    pub fail_open: bool,
    /// A cookie session with refresh on: register the session with its object (first sighting).
    pub register_session: bool,
    /// The sender constraint checked. For DPoP the driver must still consume the proof's
    /// replay id before forwarding (and refuse with [`Gate::refuse`] and `dpop_replayed` when
    /// it was seen); it adds the `DPoP-Nonce` to the answer.
    pub binding: Option<Binding>,
}

/// A refusal and what goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why: status, codes and challenge.
    pub denial: Denial,
    /// Clear the session cookies (the session is of no more use).
    pub clear_cookies: bool,
    /// An expired token: the answer carries `x-warden-refresh: due` (a bearer client
    /// refreshes on its own).
    pub refresh_due: bool,
    /// A session to treat as revoked in this isolate at once (refresh-token reuse).
    pub revoked_session: Option<String>,
    /// More detail for the audit line (never shown to the client).
    pub detail: Option<&'static str>,
    /// Whom it concerns, for the audit line.
    pub who: Who,
    /// Answer in the `DPoP` scheme ([`Refusal::challenge`]), with a fresh `DPoP-Nonce` when
    /// the refusal asks for one.
    pub dpop: Option<DpopAnswer>,
}

/// Whom a refusal concerns (ids only, never secrets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    /// The credential's class, when known.
    pub class: Option<TokenClass>,
    /// `sub`.
    pub sub: Option<String>,
    /// `jti` (a PAT's id).
    pub jti: Option<String>,
    /// `sid`.
    pub sid: Option<String>,
}

impl Who {
    fn of(token: &Token, class: TokenClass) -> Self {
        Who {
            class: Some(class),
            sub: token.claims.sub.clone(),
            jti: token.claims.jti.clone(),
            sid: token.claims.sid.clone(),
        }
    }
}

impl Refusal {
    /// A refusal that concerns nobody in particular and leaves the cookies alone.
    pub fn plain(denial: Denial) -> Self {
        Refusal {
            denial,
            clear_cookies: false,
            refresh_due: false,
            revoked_session: None,
            detail: None,
            who: Who::default(),
            dpop: None,
        }
    }
}

impl Gate {
    /// Step 1: reads the request's path and credentials, in this order:
    /// 1. the path must have one reading ([`canonical_path`]), whatever the route: else 400;
    /// 2. two `Authorization` headers (or an empty one): 400, whatever the route;
    /// 3. the event receivers ([`Receiver::at`]), then the admin API; public paths (forwarded
    ///    untouched, credentials included);
    /// 4. the credential ([`select_credential`]): `Authorization` alone when present, else the
    ///    access cookie; and the refresh cookie only for a cookie session; the DPoP request
    ///    shape and proof (`Authorization: DPoP` with exactly one `DPoP` header);
    /// 5. none: a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) is forwarded,
    ///    only a refresh cookie means a refresh, anything else is 401.
    pub fn admit<'a>(&self, facts: &RequestFacts<'a>) -> Admission<'a> {
        match self.admit_inner(facts) {
            Ok(admission) => admission,
            Err(denial) => {
                let used_dpop = facts.dpop.is_some()
                    || facts.authorization.is_some_and(|a| a.starts_with("DPoP "));
                let mut r = Refusal::plain(denial);
                r.dpop = self.dpop_answer(&r.denial, used_dpop, None);
                Admission::Deny(r)
            }
        }
    }

    fn admit_inner<'a>(&self, facts: &RequestFacts<'a>) -> Result<Admission<'a>, Denial> {
        let path = canonical_path(facts.path)?;
        check_authorization(facts.authorization)?;
        let p = path.as_str();
        if let Some(receiver) = Receiver::at(p) {
            return Ok(Admission::Receiver(receiver));
        }
        if p == ADMIN_PREFIX || p.starts_with("/_warden/") {
            return Ok(Admission::Admin);
        }
        if self.paths.is_public(&path) {
            return Ok(Admission::Forward);
        }
        let located = select_credential(
            facts.authorization,
            facts.cookies,
            self.access_cookie.as_deref(),
        )?;
        // The refresh cookie counts for cookie sessions only, never next to `Authorization`.
        let refresh_token = match (&self.refresh_cookie, located.map(|(_, s)| s)) {
            (Some(name), None | Some(Source::Cookie)) if facts.authorization.is_none() => {
                refresh_cookie(facts.cookies, name)?
            }
            _ => None,
        };
        let sender = self.sender(facts, located)?;
        let request = Request {
            path,
            source: located.map(|(_, s)| s),
            refresh_token,
            sender,
        };
        Ok(match located {
            Some((token, _)) if is_pat(token, &self.pat_prefix) => {
                Admission::Pat { token, request }
            }
            Some((token, _)) => Admission::Jwt { token, request },
            None => match refresh_token {
                Some(refresh_token) => Admission::Refresh {
                    refresh_token,
                    request,
                },
                None if facts.method == "OPTIONS" && facts.cors_request_method => {
                    Admission::Forward
                }
                None => return Err(Denial::Missing),
            },
        })
    }

    /// Whether this request may be refreshed at the edge: a cookie session that brought its
    /// refresh cookie (a bearer token decides for itself and is never refreshed).
    fn can_refresh(&self, req: &Request<'_>) -> bool {
        self.refresh_cookie.is_some()
            && req.source == Some(Source::Cookie)
            && req.refresh_token.is_some()
    }

    /// Step 2 for a JWT whose signature the driver verified: checks the claims (an expired
    /// token that can be refreshed goes on) and the identity values, and names the revocation
    /// lookups.
    pub fn check_jwt<'t>(&self, req: &Request<'_>, token: &'t Token, now: UnixTime) -> Step<'t> {
        let checked = match self.policy.check(token, now) {
            Err(Denial::Expired { .. }) if self.can_refresh(req) => Ok(()),
            other => other,
        }
        .and_then(|()| self.check_token_identity(token));
        match checked {
            Ok(()) => Step::Lookup(RevocationIds::of(token)),
            Err(d) => Step::Done(Decision::Deny(self.jwt_refusal(req, token, d, now))),
        }
    }

    /// Step 3 for a JWT: the store's answers for the ids of [`Gate::check_jwt`] → forward,
    /// refresh or refuse.
    pub fn decide_jwt(
        &self,
        req: &Request<'_>,
        token: &Token,
        answers: &StoreAnswers,
        now: UnixTime,
    ) -> Decision {
        let (status, fail_open) = self.revocation_status(token, answers);
        let can_refresh = self.can_refresh(req);
        match self
            .policy
            .evaluate_with_refresh(token, now, status, can_refresh)
        {
            Verdict::Allow(grant) => {
                let class = match req.source {
                    Some(Source::Cookie) => TokenClass::Session,
                    _ => TokenClass::Access,
                };
                match self.bind(req, token, now) {
                    Ok(binding) => self.forward(req, grant, class, fail_open, can_refresh, binding),
                    Err(d) => Decision::Deny(self.jwt_refusal(req, token, d, now)),
                }
            }
            Verdict::Refresh(hint) => Decision::Refresh(hint),
            Verdict::Deny(d) => Decision::Deny(self.jwt_refusal(req, token, d, now)),
        }
    }

    /// Step 2 for a PAT: its record (`Ok(None)`: unknown) and its subject's cutoff, as the
    /// driver read them. A store that cannot answer is a 503 (fail-open never applies: the
    /// record is the credential). A PAT created at or before its subject's cutoff is revoked,
    /// like every other credential of the user.
    pub fn decide_pat(
        &self,
        req: &Request<'_>,
        record: Result<Option<&PatRecord>, Unavailable>,
        cutoff: Result<Option<UnixTime>, Unavailable>,
        now: UnixTime,
    ) -> Decision {
        let record = match record {
            Ok(Some(r)) => r,
            Ok(None) => return self.pat_refusal(None, Denial::TokenUnknown),
            Err(Unavailable) => return self.pat_refusal(None, Denial::StoreUnavailable),
        };
        let result = record.evaluate(now).and_then(|grant| match cutoff {
            Ok(Some(before)) if under_cutoff(Some(record.created_at), Some(before)) => {
                Err(Denial::Revoked(RevocationReason::SubjectCutoff { before }))
            }
            Ok(_) => Ok(grant),
            Err(Unavailable) => Err(Denial::StoreUnavailable),
        });
        match result {
            Ok(grant) => self.forward(req, grant, TokenClass::Pat, false, false, None),
            Err(d) => self.pat_refusal(Some(record), d),
        }
    }

    /// After a refresh: the new access token (signature verified by the driver) must pass the
    /// claims policy as it is (no second refresh), name the refreshed session, and carry
    /// usable identity values. Otherwise a 502 (the origin issued an unusable token), the
    /// reason in [`Refusal::detail`].
    pub fn check_refreshed<'t>(
        &self,
        session: Option<&str>,
        token: &'t Token,
        now: UnixTime,
    ) -> Step<'t> {
        let why = if let Err(d) = self.policy.check(token, now) {
            d.code()
        } else if session.is_some() && token.claims.sid.as_deref() != session {
            "the new access token names another session"
        } else if let Err(d) = self.check_token_identity(token) {
            d.code()
        } else {
            return Step::Lookup(RevocationIds::of(token));
        };
        let mut r = Refusal::plain(Denial::RefreshUpstream(
            "the origin issued an unusable token",
        ));
        r.who = Who::of(token, TokenClass::Session);
        r.detail = Some(why);
        Step::Done(Decision::Deny(r))
    }

    /// After a refresh: the store's answers for the new token → forward as the session, or
    /// refuse. A refusal clears the cookies unless the store could not answer (then the new
    /// pair is kept: the rotation must not be lost).
    pub fn decide_refreshed(
        &self,
        req: &Request<'_>,
        token: &Token,
        answers: &StoreAnswers,
        now: UnixTime,
    ) -> Decision {
        let (status, fail_open) = self.revocation_status(token, answers);
        let bound = self
            .policy
            .evaluate(token, now, status)
            .and_then(|grant| Ok((grant, self.bind(req, token, now)?)));
        match bound {
            Ok((grant, binding)) => {
                match self.forward(req, grant, TokenClass::Session, fail_open, false, binding) {
                    Decision::Deny(mut r) => {
                        r.clear_cookies = true;
                        Decision::Deny(r)
                    }
                    d => d,
                }
            }
            Err(d) => {
                let mut r = self.jwt_refusal(req, token, d, now);
                r.clear_cookies = r.denial.status() < 500;
                r.refresh_due = false;
                r.who.class = Some(TokenClass::Session);
                Decision::Deny(r)
            }
        }
    }

    /// The session's refresh was refused for good (reuse, idle, cap, revoked, `invalid_grant`):
    /// the cookies are cleared; on reuse the session is revoked in this isolate at once.
    /// `old` is the presented access token, when one came.
    pub fn refresh_refused(
        &self,
        denial: Denial,
        sid: Option<&str>,
        old: Option<&Token>,
    ) -> Refusal {
        let mut who = old.map_or_else(Who::default, |t| Who::of(t, TokenClass::Session));
        who.class = Some(TokenClass::Session);
        who.jti = old.and_then(|t| t.claims.jti.clone());
        if sid.is_some() {
            who.sid = sid.map(String::from);
        }
        Refusal {
            revoked_session: (denial == Denial::RefreshReused)
                .then(|| who.sid.clone())
                .flatten(),
            denial,
            clear_cookies: true,
            refresh_due: false,
            detail: None,
            who,
            dpop: None,
        }
    }

    /// The session could not be refreshed now (`upstream`: the origin failed, else a timeout
    /// or an object that cannot work). A token still inside its refresh window serves as it
    /// is (refreshed again next time); otherwise a retryable 502/503 that keeps the cookies
    /// and the session: a transient fault never logs anyone out.
    pub fn refresh_unavailable(
        &self,
        req: &Request<'_>,
        old: Option<(&Token, &RefreshHint)>,
        upstream: bool,
        now: UnixTime,
    ) -> Decision {
        if let Some((token, _)) = old.filter(|(_, hint)| !hint.expired) {
            let bound = self
                .policy
                .evaluate(token, now, RevocationStatus::NotRevoked)
                .and_then(|grant| Ok((grant, self.bind(req, token, now)?)));
            if let Ok((grant, binding)) = bound {
                if let Decision::Forward(f) =
                    self.forward(req, grant, TokenClass::Session, false, false, binding)
                {
                    return Decision::Forward(f);
                }
            }
        }
        let denial = if upstream {
            Denial::RefreshUpstream("the session could not be refreshed now; retry")
        } else {
            Denial::RefreshUnavailable
        };
        let mut r = Refusal::plain(denial);
        r.who = old.map_or_else(Who::default, |(t, _)| Who::of(t, TokenClass::Session));
        Decision::Deny(r)
    }

    /// Identity values and scopes, then the identity headers.
    fn forward(
        &self,
        req: &Request<'_>,
        mut grant: Grant,
        class: TokenClass,
        fail_open: bool,
        register_session: bool,
        binding: Option<Binding>,
    ) -> Decision {
        grant.class = class;
        let checked = check_identity(&grant).and_then(|()| {
            let required = self.paths.required_scope(&req.path);
            check_scopes(&grant, required.as_slice())
        });
        match checked {
            Ok(()) => {
                let mut headers = identity_headers(Some(&grant), self.origin_secret.as_deref());
                if let Some(b) = &binding {
                    headers.push(("x-warden-cnf", b.name().into()));
                    if let Binding::Dpop { jkt, .. } = b {
                        headers.push(("x-warden-jkt", jkt.clone()));
                    }
                }
                Decision::Forward(Forward {
                    headers,
                    grant,
                    fail_open,
                    register_session,
                    binding,
                })
            }
            Err(d) => {
                let mut r = self.refuse(req, d, 0);
                r.who = Who {
                    class: Some(class),
                    sub: grant.subject,
                    jti: grant.token_id,
                    sid: grant.session,
                };
                Decision::Deny(r)
            }
        }
    }

    fn check_token_identity(&self, token: &Token) -> Result<(), Denial> {
        let c = &token.claims;
        check_identity(&Grant {
            subject: c.sub.clone(),
            session: c.sid.clone(),
            token_id: c.jti.clone(),
            scope: c.scope.clone(),
            class: TokenClass::Access,
            expires_at: 0,
        })
    }

    /// The store's answer, with the fail mode applied: `(status, fail_open)`. A definite
    /// revocation is never overridden.
    fn revocation_status(&self, token: &Token, answers: &StoreAnswers) -> (RevocationStatus, bool) {
        match RevocationIds::of(token).interpret(answers) {
            RevocationStatus::Unavailable if self.fail_mode == FailMode::Open => {
                (RevocationStatus::NotRevoked, true)
            }
            status => (status, false),
        }
    }

    fn jwt_refusal(
        &self,
        req: &Request<'_>,
        token: &Token,
        denial: Denial,
        now: UnixTime,
    ) -> Refusal {
        let cookie_session = self.refresh_cookie.is_some() && req.source == Some(Source::Cookie);
        Refusal {
            dpop: self.dpop_answer(&denial, req.source == Some(Source::Dpop), Some(now)),
            clear_cookies: cookie_session && matches!(denial, Denial::Revoked(_)),
            refresh_due: matches!(denial, Denial::Expired { .. }),
            revoked_session: None,
            detail: None,
            who: Who::of(token, TokenClass::Access),
            denial,
        }
    }

    fn pat_refusal(&self, record: Option<&PatRecord>, denial: Denial) -> Decision {
        let mut r = Refusal::plain(denial);
        r.who = Who {
            class: Some(TokenClass::Pat),
            sub: record.map(|r| r.sub.clone()),
            jti: record.map(|r| r.id.clone()),
            sid: None,
        };
        Decision::Deny(r)
    }
}

#[cfg(test)]
mod sender_tests;
#[cfg(test)]
mod tests;
