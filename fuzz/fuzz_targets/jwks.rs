//! Any text as a JWKS: loads or is refused with an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::KeySet;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match KeySet::from_jwks(text) {
            Ok(set) => assert!(!set.keys().is_empty()),
            Err(e) => drop(e.to_string()),
        }
    }
});
