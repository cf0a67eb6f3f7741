//! Warden's Cloudflare Worker: every request to the origin is checked for signature, expiry
//! and revocation; identity is forwarded to the origin; failures answer per RFC 6750.
//!
//! The decisions are `warden-core`'s; this crate does the I/O (KV, the origin, the clock).

/// The allocator: talc, built for single-threaded WebAssembly (workerd runs one thread per
/// isolate), in place of Rust's default dlmalloc: about 6 KB less code (3.2 KB of the worker's
/// gzip size), at the same speed per request within 0.1 µs (`make bench-worker`, both builds).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub mod admin;
pub mod audit;
pub mod backchannel;
pub mod config;
pub mod epoch;
pub mod fields;
#[cfg(target_arch = "wasm32")]
pub mod handoff;
#[cfg(target_arch = "wasm32")]
pub mod http;
pub mod keys;
pub mod oauth;
pub mod objects;
pub mod pat;
pub mod poll;
#[cfg(target_arch = "wasm32")]
pub mod protect;
pub mod protocol;
pub mod received;
pub mod refresh;
pub mod replay;
#[cfg(target_arch = "wasm32")]
pub mod respond;
pub mod revlog;
pub mod runtime;
pub mod sessions;
pub mod ssf;
pub mod store;
pub mod subject;
pub mod upstream;
pub mod verify;

#[cfg(target_arch = "wasm32")]
pub mod edge;

// Test-only routes under /__warden/: compiled only with the `testing` / `bench` features.
#[cfg(all(feature = "bench", target_arch = "wasm32"))]
mod bench;
#[cfg(all(feature = "testing", target_arch = "wasm32"))]
mod testing;
