//! Measures the published revocation filter: for 10k, 100k and 1M revoked ids, BinaryFuse8 and
//! BinaryFuse16 side by side — size, false-positive rate on 1M ids not in the set, KV reads
//! per request for a live token checking three ids — and the published value's size, build,
//! parse and per-token decision times, and a delta's size.
//!
//! ```sh
//! cargo run --release -p warden-core --example filter_measure
//! ```
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use warden_core::filter::{
    build_delta, build_filter, filter_key, Delta, FilterDecision, FilterView, IdKind,
    PublishedFilter, Revocation, SubjectCutoff,
};
use warden_core::RevocationIds;
use xorf::{BinaryFuse16, BinaryFuse8, Filter};

const QUERIES: usize = 1_000_000;

fn revocations(n: usize) -> Vec<Revocation> {
    (0..n)
        .map(|i| Revocation {
            kind: IdKind::ALL[i % 3],
            id: format!("revoked-{i:08}-6f1c2a"),
            expires_at: 2_000_000_000,
        })
        .collect()
}

/// Per-id false-positive rate of `contains` over ids that are not in the set.
fn fp_rate(contains: impl Fn(IdKind, &str) -> bool) -> f64 {
    let hits = (0..QUERIES)
        .filter(|i| contains(IdKind::ALL[i % 3], &format!("live-{i:08}")))
        .count();
    hits as f64 / QUERIES as f64
}

fn main() {
    println!("| ids | filter | bytes | bytes/id | per-id FP rate | KV reads/request (3 ids) | build | parse | decide (3 ids) |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    let now = 1_700_000_000;
    for n in [10_000, 100_000, 1_000_000] {
        let list = revocations(n);
        let mut keys: Vec<u64> = list.iter().map(|r| filter_key(r.kind, &r.id)).collect();
        keys.sort_unstable();
        keys.dedup();

        // The two candidates over the same keys (hashing and dedup not timed).
        let start = Instant::now();
        let f8 = BinaryFuse8::try_from(&keys).unwrap();
        let build8 = start.elapsed();
        let start = Instant::now();
        let f16 = BinaryFuse16::try_from(&keys).unwrap();
        let build16 = start.elapsed();
        for (name, bytes, build, fp) in [
            (
                "xorf BinaryFuse8",
                f8.len(),
                build8,
                fp_rate(|k, id| f8.contains(&filter_key(k, id))),
            ),
            (
                "xorf BinaryFuse16",
                2 * f16.len(),
                build16,
                fp_rate(|k, id| f16.contains(&filter_key(k, id))),
            ),
        ] {
            println!(
                "| {n} | {name} (fingerprints) | {bytes} | {:.2} | {:.4}% | {:.6} | {:.0} ms | – | – |",
                bytes as f64 / n as f64,
                fp * 100.0,
                1.0 - (1.0 - fp).powi(3),
                build.as_secs_f64() * 1e3,
            );
        }

        // The published value: build_filter from the revocations (ids hashed, deduped, checked).
        let start = Instant::now();
        let built = build_filter(&list, &[], now).unwrap();
        let build = start.elapsed();
        let start = Instant::now();
        let parsed = PublishedFilter::parse(&built.bytes).unwrap();
        let parse = start.elapsed();
        let fp = fp_rate(|kind, id| parsed.may_contain(kind, id));
        let tokens: Vec<[String; 3]> = (0..100_000)
            .map(|i| {
                [
                    format!("jti-{i}"),
                    format!("sid-{i}"),
                    format!("kid-{}", i % 7),
                ]
            })
            .collect();
        let view = FilterView::new(Some(&parsed), None, now, 60).unwrap();
        let start = Instant::now();
        let absent = tokens
            .iter()
            .filter(|[jti, sid, kid]| {
                let ids = RevocationIds {
                    jti: Some(jti),
                    sid: Some(sid),
                    kid: Some(kid),
                    ..RevocationIds::default()
                };
                view.decide(&ids) == FilterDecision::Absent
            })
            .count();
        let decide = start.elapsed() / tokens.len() as u32;
        assert!(absent > tokens.len() * 99 / 100);
        println!(
            "| {n} | published (build_filter) | {} | {:.2} | {:.4}% | {:.6} | {:.0} ms | {:.1} ms | {:.2} µs |",
            built.bytes.len(),
            built.bytes.len() as f64 / n as f64,
            fp * 100.0,
            1.0 - (1.0 - fp).powi(3),
            build.as_secs_f64() * 1e3,
            parse.as_secs_f64() * 1e3,
            decide.as_secs_f64() * 1e6,
        );
    }
    // A delta of 1,000 revocations (e.g. a few minutes of logouts) and 100 cutoffs.
    let delta = build_delta(&[0; 32], &revocations(1_000), &cutoffs(100), now).unwrap();
    let start = Instant::now();
    let parsed = Delta::parse(&delta).unwrap();
    println!(
        "\ndelta of {} revocations and {} cutoffs: {} bytes, parsed in {:.2} ms",
        parsed.revocations().len(),
        parsed.cutoffs().len(),
        delta.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
}

fn cutoffs(n: usize) -> Vec<SubjectCutoff> {
    (0..n)
        .map(|i| SubjectCutoff {
            sub: format!("user-{i:06}@example.com"),
            before: 1_699_999_000,
            expires_at: 1_700_090_000,
        })
        .collect()
}
