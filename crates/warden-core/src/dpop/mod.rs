//! Sender-constrained tokens, sans I/O: DPoP proofs (RFC 9449) and mTLS-bound tokens (RFC 8705).
//!
//! The core reads a `DPoP` proof ([`parse_proof`]: compact JWS, `typ` `dpop+jwt`, an allowed
//! asymmetric `alg`, a public `jwk` of a matching type, typed claims), checks it against the
//! request ([`Proof::check`]: `htm`, `htu` after [`normalize_htu`], `ath`, the `iat` window, the
//! server nonce), computes the RFC 7638 thumbprint of its key ([`jwk_thumbprint`]) and matches it
//! to the token's `cnf.jkt` ([`Confirmation`]). It never verifies the proof's signature: the
//! driver does, with [`Proof::key`] over [`Proof::signing_input`] (the worker through
//! WebCrypto), before it relies on the proof. Replays are the driver's to detect, by
//! [`Proof::replay_id`], until [`Proof::replay_until`].

mod binding;
mod htu;
mod jwk;
mod nonce;
mod proof;
#[cfg(test)]
pub(crate) mod tests;

use alloc::string::String;
use alloc::vec::Vec;

pub use binding::{certificate_matches, Binding, Confirmation, ReplayId};
pub use htu::normalize_htu;
pub use jwk::{jwk_thumbprint, proof_jwk_members};
pub use nonce::{NonceKey, NONCE_STEP_SECONDS};
pub use proof::{access_token_hash, parse_proof, Proof, ProofContext, MAX_PROOF_LEN};

use crate::algorithm::Algorithm;
pub use crate::denial::DpopError;

/// `WARDEN_DPOP`: what the gate does with DPoP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// A token whose claims carry `cnf.jkt` must come with a valid proof; other tokens may
    /// still be bearer tokens (the default).
    #[default]
    Allowed,
    /// Every JWT must be DPoP-bound and come with a valid proof.
    Required,
    /// DPoP requests are refused (`400 invalid_request`), and so are bound tokens.
    Off,
}

impl DpopMode {
    /// `allowed`, `required` or `off`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Required => "required",
            Self::Off => "off",
        }
    }

    /// `allowed`, `required` or `off` (exactly; anything else is `None`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "allowed" => Some(Self::Allowed),
            "required" => Some(Self::Required),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// Default `WARDEN_DPOP_ALGORITHMS`.
pub const DEFAULT_DPOP_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];

/// Default `WARDEN_DPOP_MAX_AGE_SECONDS`.
pub const DEFAULT_DPOP_MAX_AGE: u64 = 60;

/// How the gate treats DPoP. `DpopPolicy::default()`: allowed, the default algorithms, 60 s,
/// no nonces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopPolicy {
    /// `WARDEN_DPOP`.
    pub mode: DpopMode,
    /// `WARDEN_DPOP_ALGORITHMS`: asymmetric algorithms only (a symmetric one is never accepted,
    /// even when listed).
    pub algorithms: Vec<Algorithm>,
    /// `WARDEN_DPOP_MAX_AGE_SECONDS`: how old a proof's `iat` may be (plus the leeway).
    pub max_age: u64,
    /// `WARDEN_DPOP_NONCE=on`: the key of the stateless server nonces.
    pub nonce: Option<NonceKey>,
}

impl Default for DpopPolicy {
    fn default() -> Self {
        DpopPolicy {
            mode: DpopMode::Allowed,
            algorithms: DEFAULT_DPOP_ALGORITHMS.to_vec(),
            max_age: DEFAULT_DPOP_MAX_AGE,
            nonce: None,
        }
    }
}

impl DpopPolicy {
    /// The accepted algorithms, space-separated (the challenge's `algs`).
    pub fn algs(&self) -> String {
        let mut out = String::new();
        for alg in self.algorithms.iter().filter(|a| !a.is_symmetric()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(alg.name());
        }
        out
    }
}

/// base64url(SHA-256(token)), for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn tests_ath(token: &str) -> String {
    proof::ath_of(token)
}
