//! The core's JSON reader against serde_json, on arbitrary bytes: the reader (with the claim
//! names and with the header names), `parse_json_object` (the same reader building whole
//! values) and serde_json (building a `Value` with duplicate keys refused) must accept the same
//! texts, capture the same registered members (string, u64, array of strings, other), build the
//! same values (floats to the bit) and refuse with the same `JsonError`. The comparison is the
//! core's own (`reader/differential.rs`), exposed to fuzzing builds only.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    warden_core::fuzz_json_reader(data);
});
