//! A DPoP proof (RFC 9449 §4.2) read and checked (§4.3), signature aside.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::binding::ReplayId;
use super::{jwk, normalize_htu, DpopError, DpopPolicy, NonceKey};
use crate::algorithm::Algorithm;
use crate::claims::{MAX_ID_LEN, MAX_NUMERIC_DATE};
use crate::keys::Key;
use crate::policy::DPOP_TYP;
use crate::{b64, json, UnixTime};

/// Proofs longer than this many bytes are refused before any decoding (8 KiB: an RSA 4096 key
/// and its signature fit comfortably).
pub const MAX_PROOF_LEN: usize = 8 * 1024;

/// Header parameters a proof must not carry: `crit` and `b64` change how it must be processed,
/// and the key comes from `jwk` alone (never `jku`, `x5u`, `x5c`).
const FORBIDDEN: [&str; 5] = ["crit", "b64", "jku", "x5u", "x5c"];

/// A DPoP proof whose form and claims' types [`parse_proof`] checked. Its signature is
/// **not** verified: the driver verifies [`Proof::signature`] over [`Proof::signing_input`]
/// with [`Proof::key`] before anything relies on the proof.
#[derive(Clone, Debug)]
pub struct Proof {
    /// The proof's public key (its `jwk` header), bound to the header's `alg`.
    pub key: Key,
    /// The RFC 7638 SHA-256 thumbprint of [`Proof::key`], base64url.
    pub jkt: String,
    /// `jti`: at most 256 bytes, not empty.
    pub jti: String,
    /// `htm`.
    pub htm: String,
    /// `htu`.
    pub htu: String,
    /// `iat`.
    pub iat: UnixTime,
    /// `ath`, when present.
    pub ath: Option<String>,
    /// `nonce`, when present.
    pub nonce: Option<String>,
    /// `BASE64URL(header) . BASE64URL(payload)`: what the signature covers.
    pub signing_input: String,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

impl PartialEq for Proof {
    fn eq(&self, o: &Self) -> bool {
        // The key is its algorithm and material (its thumbprint follows from them).
        self.key.alg == o.key.alg
            && self.key.material == o.key.material
            && self.signing_input == o.signing_input
            && self.signature == o.signature
    }
}

impl Eq for Proof {}

/// What a proof is checked against.
#[derive(Debug, Clone, Copy)]
pub struct ProofContext<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The request's URL (query and fragment are ignored).
    pub url: &'a str,
    /// The access token presented with the proof.
    pub access_token: Option<&'a str>,
    /// The time of the check.
    pub now: UnixTime,
    /// The leeway for `iat`, in seconds.
    pub leeway: u64,
    /// The maximum age of `iat`, in seconds (before the leeway).
    pub max_age: u64,
    /// The nonce key, when nonces are on.
    pub nonce: Option<&'a NonceKey>,
}

impl<'a> ProofContext<'a> {
    /// The context of `policy` for a request.
    pub fn of(
        policy: &'a DpopPolicy,
        method: &'a str,
        url: &'a str,
        access_token: Option<&'a str>,
        now: UnixTime,
        leeway: u64,
    ) -> Self {
        ProofContext {
            method,
            url,
            access_token,
            now,
            leeway,
            max_age: policy.max_age,
            nonce: policy.nonce.as_ref(),
        }
    }
}

const fn invalid(why: &'static str) -> DpopError {
    DpopError::Invalid(why)
}

/// Reads a proof: at most [`MAX_PROOF_LEN`] bytes; a compact JWS (three segments of canonical
/// base64url, JSON objects without duplicate keys); header `typ` exactly `dpop+jwt`, `alg` one
/// of `algorithms` and never symmetric, `jwk` a public key of the type `alg` takes (private
/// members refused), no `crit`, `b64`, `jku`, `x5u`, `x5c`; claims `jti` (a string of 1 to 256
/// bytes), `htm` and `htu` (strings), `iat` (an integer NumericDate), `ath` and `nonce`
/// (strings, when present).
pub fn parse_proof(text: &str, algorithms: &[Algorithm]) -> Result<Proof, DpopError> {
    if text.is_empty() || text.len() > MAX_PROOF_LEN {
        return Err(invalid("DPoP proof is empty or too large"));
    }
    let mut parts = text.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("DPoP proof is not a compact JWS"));
    };
    let decode = |seg: &str| b64::decode(seg).ok_or(invalid("DPoP proof is not base64url"));
    let header = json::parse_object(&decode(h)?)
        .map_err(|_| invalid("DPoP proof header is not a JSON object"))?;
    let claims = json::parse_object(&decode(c)?)
        .map_err(|_| invalid("DPoP proof claims are not a JSON object"))?;
    let signature = decode(s)?;

    if header.get("typ").and_then(Value::as_str) != Some(DPOP_TYP) {
        return Err(invalid("DPoP proof typ is not dpop+jwt"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Algorithm::from_name)
        .filter(|a| !a.is_symmetric() && algorithms.contains(a))
        .ok_or(invalid("DPoP proof alg is not accepted"))?;
    if FORBIDDEN.iter().any(|p| header.contains_key(*p)) {
        return Err(invalid("DPoP proof header has a parameter not accepted"));
    }
    let Some(Value::Object(jwk_map)) = header.get("jwk") else {
        return Err(invalid("DPoP proof has no jwk"));
    };
    let key = jwk::proof_key(jwk_map, alg)?;
    let jkt = jwk::jwk_thumbprint(jwk_map)
        .ok_or(invalid("DPoP proof jwk is not a public key for its alg"))?;

    let jti = match claims.get("jti") {
        Some(Value::String(j)) if !j.is_empty() && j.len() <= MAX_ID_LEN => j.clone(),
        _ => return Err(invalid("DPoP proof jti is missing or invalid")),
    };
    let htm = string(&claims, "htm").ok_or(invalid("DPoP proof htm is missing"))?;
    let htu = string(&claims, "htu").ok_or(invalid("DPoP proof htu is missing"))?;
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .filter(|t| *t <= MAX_NUMERIC_DATE)
        .ok_or(invalid("DPoP proof iat is missing or invalid"))?;
    let ath = optional(&claims, "ath").map_err(|()| invalid("DPoP proof ath is not a string"))?;
    let nonce =
        optional(&claims, "nonce").map_err(|()| invalid("DPoP proof nonce is not a string"))?;
    Ok(Proof {
        key,
        jkt,
        jti,
        htm,
        htu,
        iat,
        ath,
        nonce,
        signing_input: text[..h.len() + 1 + c.len()].into(),
        signature,
    })
}

fn string(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(String::from)
}

fn optional(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, ()> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// base64url(SHA-256(token)): the `ath` of a proof presented with `token`.
pub(crate) fn ath_of(token: &str) -> String {
    b64::encode(&Sha256::digest(token.as_bytes()))
}

/// The `ath` claim of a proof sent with `access_token` (RFC 9449 §4.2): base64url of the
/// SHA-256 of the token's ASCII text, exactly what [`Proof::check`] compares.
///
/// ```
/// // RFC 9449 §7.1: the access token and `ath` of the specification's example.
/// let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
/// assert_eq!(warden_core::access_token_hash(token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
/// ```
pub fn access_token_hash(access_token: &str) -> String {
    ath_of(access_token)
}

impl Proof {
    /// Checks the claims against the request, in this order: `htm` equals the method
    /// (case-sensitively); `htu` equals the URL in [`normalize_htu`]'s reading; `ath`, required
    /// whenever a token is presented, equals base64url(SHA-256(token)); `iat` is at most
    /// `leeway` in the future and at most `max_age + leeway` in the past; with nonces on,
    /// `nonce` is a current server nonce.
    pub fn check(&self, cx: &ProofContext<'_>) -> Result<(), DpopError> {
        if self.htm != cx.method {
            return Err(DpopError::HtmMismatch);
        }
        match (normalize_htu(&self.htu), normalize_htu(cx.url)) {
            (Some(a), Some(b)) if a == b => {}
            _ => return Err(DpopError::HtuMismatch),
        }
        if let Some(token) = cx.access_token {
            match &self.ath {
                None => return Err(DpopError::AthMissing),
                // Both sides are public (the token travels in the same request): no secret to
                // compare in constant time.
                Some(ath) if *ath != ath_of(token) => return Err(DpopError::AthMismatch),
                Some(_) => {}
            }
        }
        if self.iat > cx.now.saturating_add(cx.leeway) {
            return Err(DpopError::FromFuture);
        }
        if self
            .iat
            .saturating_add(cx.max_age)
            .saturating_add(cx.leeway)
            < cx.now
        {
            return Err(DpopError::Expired);
        }
        if let Some(key) = cx.nonce {
            match &self.nonce {
                None => return Err(DpopError::NonceMissing),
                Some(n) if !key.accepts(n, cx.now) => return Err(DpopError::NonceStale),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The proof's identity for replay detection: SHA-256 of its key's thumbprint and its
    /// `jti` (a `jti` is unique per key, so another key can never use up someone's `jti`).
    pub fn replay_id(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.jkt.as_bytes());
        h.update(b".");
        h.update(self.jti.as_bytes());
        h.finalize().into()
    }

    /// The first second at which [`Proof::check`] refuses the proof as too old, whatever the
    /// store remembers: a replay record is needed until then.
    pub fn replay_until(&self, max_age: u64, leeway: u64) -> UnixTime {
        self.iat
            .saturating_add(max_age)
            .saturating_add(leeway)
            .saturating_add(1)
    }

    /// [`Proof::replay_id`] and [`Proof::replay_until`] together.
    pub fn replay(&self, max_age: u64, leeway: u64) -> ReplayId {
        ReplayId {
            id: self.replay_id(),
            until: self.replay_until(max_age, leeway),
        }
    }
}
