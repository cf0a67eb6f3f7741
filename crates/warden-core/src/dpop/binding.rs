//! A token's confirmation (`cnf`, RFC 7800) and what an allowed bound request carries on.

use alloc::string::String;

use crate::claims::{Cnf, CnfMember};
use crate::denial::Denial;
use crate::parse::Token;
use crate::{b64, UnixTime};

/// What a token's `cnf` claim binds it to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmation {
    /// `cnf.jkt`: the RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1).
    pub jkt: Option<String>,
    /// `cnf["x5t#S256"]`: the base64url SHA-256 thumbprint of the client certificate
    /// (RFC 8705 §3.1).
    pub x5t_s256: Option<String>,
}

impl Confirmation {
    /// The token's `cnf`: absent → unbound. `cnf` not an object, `jkt` or `x5t#S256` not a
    /// non-empty string → `token_claim_invalid`; a `cnf` that names neither (a confirmation
    /// method Warden cannot check) → `token_binding_mismatch`: never read as unbound.
    pub fn of(token: &Token) -> Result<Self, Denial> {
        let bad = Denial::ClaimInvalid("cnf");
        let (jkt, x5t_s256) = match &token.claims.cnf {
            Cnf::Absent => return Ok(Confirmation::default()),
            Cnf::NotAnObject => return Err(bad),
            Cnf::Object { jkt, x5t_s256 } => (jkt, x5t_s256),
        };
        let member = |m: &CnfMember| match m {
            CnfMember::Absent => Ok(None),
            CnfMember::Str(s) if !s.is_empty() => Ok(Some(s.clone())),
            _ => Err(bad.clone()),
        };
        let found = Confirmation {
            jkt: member(jkt)?,
            x5t_s256: member(x5t_s256)?,
        };
        if found.jkt.is_none() && found.x5t_s256.is_none() {
            return Err(Denial::Dpop(super::DpopError::BindingMismatch));
        }
        Ok(found)
    }
}

/// Whether a client certificate whose SHA-256 fingerprint is `fingerprint_hex` (hex, either
/// case, as `request.cf.tlsClientAuth.certFingerprintSHA256` gives it) is the one `x5t_s256`
/// (base64url of the same 32 bytes) names.
///
/// ```
/// use warden_core::certificate_matches;
/// let hex = "a3".repeat(32);
/// assert!(certificate_matches(&hex, "o6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6M"));
/// assert!(!certificate_matches(&hex, "o6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Q"));
/// ```
pub fn certificate_matches(fingerprint_hex: &str, x5t_s256: &str) -> bool {
    let hex = fingerprint_hex.as_bytes();
    if hex.len() != 64 {
        return false;
    }
    let mut fingerprint = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => fingerprint[i] = (h * 16 + l) as u8,
            _ => return false,
        }
    }
    b64::decode(x5t_s256).is_some_and(|bound| bound == fingerprint)
}

/// A proof's identity for replay detection and how long it must be remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayId {
    /// SHA-256 of the key's thumbprint and the `jti`.
    pub id: [u8; 32],
    /// The first second at which the proof is refused as too old anyway.
    pub until: UnixTime,
}

impl ReplayId {
    /// The shard of the id, for a store split in `shards` (at least one).
    pub fn shard(&self, shards: u32) -> u32 {
        u32::from_be_bytes([self.id[0], self.id[1], self.id[2], self.id[3]]) % shards.max(1)
    }
}

/// The sender constraint an allowed request was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// A DPoP proof: the driver must still consume its `replay` id (once, refusing the
    /// request with `dpop_replayed` when it was seen), and adds `DPoP-Nonce: nonce` to the
    /// answer when nonces are on.
    Dpop {
        /// The proof key's thumbprint (`x-warden-jkt`).
        jkt: String,
        /// The proof's replay id.
        replay: ReplayId,
        /// The current server nonce, when nonces are on.
        nonce: Option<String>,
    },
    /// A client certificate matched the token's `x5t#S256`.
    Mtls,
}

impl Binding {
    /// `dpop` or `mtls` (`x-warden-cnf`).
    pub fn name(&self) -> &'static str {
        match self {
            Binding::Dpop { .. } => "dpop",
            Binding::Mtls => "mtls",
        }
    }
}
