//! Counted property runs for the native property tests (`properties.rs`, `dpop_properties.rs`):
//! from a fixed seed, so the counts a test asserts are the same on every run.
#![allow(dead_code, unreachable_pub)]

use proptest::prelude::*;

/// Runs `cases` cases of `strategy` through `test`, from a fixed seed (the counts a test asserts
/// are then the same on every run); returns how many cases `test` counted (those where the
/// property had something to check).
pub fn run_counting<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) -> u32 {
    let counted = std::cell::Cell::new(0);
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(
        ProptestConfig {
            cases,
            ..ProptestConfig::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    runner
        .run(&strategy, |v| {
            if test(v)? {
                counted.set(counted.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    counted.get()
}
