//! Sender-constrained requests at the gate: the DPoP request shape (RFC 9449 §7), the proof
//! against the request and the token's `cnf`, mTLS-bound tokens (RFC 8705 §3), the downgrade
//! rule, and the `DPoP` challenge of a refusal.

use alloc::string::String;

use super::{is_pat, Gate, Refusal, Request, RequestFacts, Source};
use crate::denial::{Denial, DpopError};
use crate::dpop::{
    certificate_matches, parse_proof, Binding, Confirmation, DpopMode, Proof, ProofContext,
};
use crate::parse::Token;
use crate::UnixTime;

/// What a request brings for a sender-constrained token, as [`Gate::admit`] read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender<'a> {
    /// The `DPoP` proof of an `Authorization: DPoP` request, read but **not yet verified**: the
    /// driver verifies its signature with [`Proof::key`] before the gate's next step.
    pub proof: Option<Proof>,
    /// The request's method (the proof's `htm`).
    pub method: &'a str,
    /// The request's URL (the proof's `htu`).
    pub url: &'a str,
    /// The access token the proof must name (`ath`).
    pub token: Option<&'a str>,
    /// The client certificate's SHA-256 fingerprint, hex, when the TLS layer verified one.
    pub client_cert: Option<&'a str>,
}

/// How a refusal answers in the `DPoP` scheme (RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopAnswer {
    /// The accepted proof algorithms, space-separated (the challenge's `algs`).
    pub algs: String,
    /// A fresh server nonce for the `DPoP-Nonce` header (a `use_dpop_nonce` refusal).
    pub nonce: Option<String>,
}

impl Refusal {
    /// The `WWW-Authenticate` value: the `DPoP` scheme when the refusal answers a DPoP request
    /// or concerns a proof or binding, else RFC 6750's `Bearer`. `None` for a 5xx.
    pub fn challenge(&self) -> Option<String> {
        match &self.dpop {
            Some(a) => self.denial.dpop_challenge(&a.algs),
            None => self.denial.www_authenticate(),
        }
    }
}

impl Gate {
    /// The DPoP request shape, for a request that carries a credential: with `WARDEN_DPOP=off`
    /// any `DPoP` header or scheme is `400`; `Authorization: DPoP` needs exactly one `DPoP`
    /// header and a `DPoP` header needs `Authorization: DPoP` (else `400`); a PAT cannot be
    /// DPoP-bound; the proof must read ([`parse_proof`]).
    pub(super) fn sender<'a>(
        &self,
        facts: &RequestFacts<'a>,
        located: Option<(&'a str, Source)>,
    ) -> Result<Sender<'a>, Denial> {
        let mut sender = Sender {
            method: facts.method,
            url: facts.url,
            token: located.map(|(t, _)| t),
            client_cert: facts.client_cert.filter(|c| !c.is_empty()),
            proof: None,
        };
        let scheme = matches!(located, Some((_, Source::Dpop)));
        if facts.dpop.is_none() && !scheme {
            return Ok(sender);
        }
        if self.dpop.mode == DpopMode::Off {
            return Err(Denial::InvalidRequest("DPoP is not accepted here"));
        }
        let (Some(proof), Some((token, Source::Dpop))) = (facts.dpop, located) else {
            return Err(Denial::InvalidRequest(if scheme {
                "DPoP authorization without a DPoP proof"
            } else {
                "a DPoP proof came without a DPoP access token"
            }));
        };
        // The driver reads the header with `Headers.get`, which joins repeated headers with
        // ", ": a compact JWS never holds a comma, so two headers show as one with a comma.
        if proof.contains(',') {
            return Err(Denial::InvalidRequest("more than one DPoP header"));
        }
        if proof.is_empty() {
            return Err(Denial::InvalidRequest("empty DPoP header"));
        }
        if is_pat(token, &self.pat_prefix) {
            return Err(Denial::Dpop(DpopError::KeyMismatch));
        }
        sender.proof = Some(parse_proof(proof, &self.dpop.algorithms).map_err(Denial::Dpop)?);
        Ok(sender)
    }

    /// The token's sender constraint against what the request brought (after the driver
    /// verified the token's and the proof's signatures):
    /// - `cnf["x5t#S256"]`: the client certificate must be the one named, else
    ///   `token_binding_mismatch`;
    /// - a DPoP proof: [`Proof::check`] against the request, then `cnf.jkt` must be its key's
    ///   thumbprint (`dpop_key_mismatch`, also for a token that is not DPoP-bound);
    /// - no proof: a token with `cnf.jkt` is a downgrade (`dpop_bound_token_as_bearer`, whatever
    ///   `WARDEN_DPOP` says); with `WARDEN_DPOP=required`, `dpop_required`.
    pub(super) fn bind(
        &self,
        req: &Request<'_>,
        token: &Token,
        now: UnixTime,
    ) -> Result<Option<Binding>, Denial> {
        let cnf = Confirmation::of(token)?;
        let s = &req.sender;
        if let Some(bound) = &cnf.x5t_s256 {
            if !s
                .client_cert
                .is_some_and(|cert| certificate_matches(cert, bound))
            {
                return Err(Denial::Dpop(DpopError::BindingMismatch));
            }
        }
        let Some(proof) = &s.proof else {
            if cnf.jkt.is_some() {
                return Err(Denial::Dpop(DpopError::BoundTokenAsBearer));
            }
            if self.dpop.mode == DpopMode::Required {
                return Err(Denial::Dpop(DpopError::Required));
            }
            return Ok(cnf.x5t_s256.map(|_| Binding::Mtls));
        };
        let leeway = self.policy.leeway;
        let cx = ProofContext::of(&self.dpop, s.method, s.url, s.token, now, leeway);
        proof.check(&cx).map_err(Denial::Dpop)?;
        if cnf.jkt.as_deref() != Some(proof.jkt.as_str()) {
            return Err(Denial::Dpop(DpopError::KeyMismatch));
        }
        Ok(Some(Binding::Dpop {
            jkt: proof.jkt.clone(),
            replay: proof.replay(self.dpop.max_age, leeway),
            nonce: self.dpop.nonce.as_ref().map(|k| k.current(now)),
        }))
    }

    /// How a refusal of a request answers in the `DPoP` scheme: when the request used it, when
    /// the refusal concerns a proof or a DPoP binding, or when `WARDEN_DPOP=required` and no
    /// credential came. `now` gives the fresh nonce of a `use_dpop_nonce` refusal.
    pub(super) fn dpop_answer(
        &self,
        denial: &Denial,
        used_dpop: bool,
        now: Option<UnixTime>,
    ) -> Option<DpopAnswer> {
        // A certificate binding is not DPoP: it answers in the request's own scheme.
        let about_dpop = matches!(denial, Denial::Dpop(e) if *e != DpopError::BindingMismatch);
        let wanted = used_dpop
            || about_dpop
            || (matches!(denial, Denial::Missing) && self.dpop.mode == DpopMode::Required);
        if !wanted || self.dpop.mode == DpopMode::Off && !about_dpop {
            return None;
        }
        let nonce = match (denial, &self.dpop.nonce, now) {
            (Denial::Dpop(e), Some(key), Some(now)) if e.wants_nonce() => Some(key.current(now)),
            _ => None,
        };
        Some(DpopAnswer {
            algs: self.dpop.algs(),
            nonce,
        })
    }

    /// A refusal the driver decided for a request the gate admitted (the token's or the
    /// proof's signature, a replayed proof, a store that cannot answer), answered in the
    /// request's scheme.
    pub fn refuse(&self, req: &Request<'_>, denial: Denial, now: UnixTime) -> Refusal {
        let mut r = Refusal::plain(denial);
        r.dpop = self.dpop_answer(&r.denial, req.source == Some(Source::Dpop), Some(now));
        r
    }
}
