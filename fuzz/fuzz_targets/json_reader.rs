//! The core's token JSON reader against serde_json, on arbitrary bytes: the reader (with the
//! claim names and with the header names) and `parse_json_object` (serde_json building a
//! `Value`, duplicate keys refused) must accept the same texts, capture the same registered
//! members (string, u64, array of strings, other) and refuse with the same `JsonError`. The
//! comparison is the core's own (`reader/differential.rs`), exposed to fuzzing builds only.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    warden_core::fuzz_json_reader(data);
});
