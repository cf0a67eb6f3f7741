//! Warden's Cloudflare Worker: every request to the origin is checked for signature, expiry
//! and revocation; identity is forwarded to the origin; failures answer per RFC 6750.
//!
//! The decisions are `warden-core`'s; this crate does the I/O (KV, the origin, the clock).

pub mod admin;
pub mod config;
pub mod credentials;
pub mod keys;

#[cfg(target_arch = "wasm32")]
mod edge;
