#![no_std]
#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod algorithm;
mod b64;
mod claims;
mod denial;
mod digest;
mod json;
mod keys;
pub mod lifetime;
mod parse;
mod pat;
mod policy;
mod revocation;
mod session;
#[cfg(feature = "jwt")]
mod verify_jwt;

pub use algorithm::Algorithm;
pub use claims::{Claims, MAX_ID_LEN, MAX_NUMERIC_DATE};
pub use denial::{Denial, Verdict};
pub use digest::{hex, token_digest};
pub use json::{parse_object as parse_json_object, JsonError};
pub use keys::{
    Key, KeyError, KeyMaterial, KeySet, SignatureError, SignatureVerifier, MAX_KID_LEN,
    MIN_RSA_BITS,
};
pub use parse::{parse, Header, ParseError, Part, Token, FORBIDDEN_HEADERS, MAX_TOKEN_LEN};
pub use pat::{PatRecord, NEVER};
pub use policy::{Grant, Policy, RefreshHint, TokenClass, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME};
pub use revocation::{
    Fact, RevocationIds, RevocationReason, RevocationStatus, StoreAnswers, Unavailable,
};
pub use session::{SessionPolicy, SessionState};
#[cfg(feature = "jwt")]
pub use verify_jwt::JwtVerifier;

/// Seconds since the Unix epoch. Warden never reads a clock: the caller passes `now`.
pub type UnixTime = u64;
