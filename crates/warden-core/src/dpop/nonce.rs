//! Stateless server nonces (RFC 9449 §8): any isolate derives and checks them from the secret
//! and the clock alone.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::UnixTime;

/// The length of a nonce period: a nonce is issued for the current step and accepted during it
/// and the next one (between 30 and 60 seconds).
pub const NONCE_STEP_SECONDS: u64 = 30;

/// What the nonce's HMAC covers before the step.
const LABEL: &[u8] = b"warden-dpop-nonce\0";

/// The secret of the server nonces (`WARDEN_DPOP_NONCE_SECRET`).
///
/// The nonce of time step `s` (`now / 30`) is base64url(HMAC-SHA256(secret, `warden-dpop-nonce`,
/// a zero byte, `s` as 8 big-endian bytes)); a proof's nonce is accepted when it is the nonce
/// of the current or the previous step (compared in constant time).
#[derive(Clone)]
pub struct NonceKey {
    secret: Vec<u8>,
    /// HMAC keyed with the secret (the pads absorbed once).
    keyed: Hmac<Sha256>,
}

impl PartialEq for NonceKey {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret
    }
}

impl Eq for NonceKey {}

impl fmt::Debug for NonceKey {
    // Never print secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NonceKey({} bytes)", self.secret.len())
    }
}

impl NonceKey {
    /// A key from the secret's bytes; `None` for an empty secret.
    pub fn new(secret: &[u8]) -> Option<Self> {
        if secret.is_empty() {
            return None;
        }
        let keyed = Hmac::<Sha256>::new_from_slice(secret).ok()?;
        Some(NonceKey {
            secret: secret.to_vec(),
            keyed,
        })
    }

    fn mac(&self, step: u64) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(LABEL);
        mac.update(&step.to_be_bytes());
        mac
    }

    /// The nonce to hand out at `now`.
    pub fn current(&self, now: UnixTime) -> String {
        crate::b64::encode(&self.mac(now / NONCE_STEP_SECONDS).finalize().into_bytes())
    }

    /// Whether `nonce` is the nonce of the current or the previous step at `now`.
    pub fn accepts(&self, nonce: &str, now: UnixTime) -> bool {
        let Some(tag) = crate::b64::decode(nonce) else {
            return false;
        };
        let step = now / NONCE_STEP_SECONDS;
        let current = self.mac(step).verify_slice(&tag).is_ok();
        let previous = step
            .checked_sub(1)
            .is_some_and(|s| self.mac(s).verify_slice(&tag).is_ok());
        current | previous
    }
}
