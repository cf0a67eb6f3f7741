//! Any bytes as a published revocation filter and as a delta (warden-core `filter`): as they
//! come, and with a length and checksum made right for them (so that the structure behind the
//! checksum is reached). Never panics, and:
//! - what is read answers lookups and decisions at any time;
//! - a delta whose entries are all in force at its `built_at` is written back byte for byte
//!   (one encoding per delta: sorted, no repeats).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use warden_core::filter::{build_delta, Delta, FilterView, IdKind, PublishedFilter};
use warden_core::RevocationIds;

/// `body` as a value's bytes before the checksum: its length field set, the SHA-256 appended.
fn sealed(body: &[u8]) -> Option<Vec<u8>> {
    let mut v = body.to_vec();
    let total = u32::try_from(v.len() + 32).ok()?;
    v.get_mut(6..10)?.copy_from_slice(&total.to_le_bytes());
    let sum = Sha256::digest(&v);
    v.extend_from_slice(&sum);
    Some(v)
}

fn exercise(bytes: &[u8], probe: &str) {
    let filter = PublishedFilter::parse(bytes).ok();
    let delta = Delta::parse(bytes).ok();
    if let Some(d) = &delta {
        let t = d.built_at();
        if d.revocations()
            .iter()
            .all(|r| r.expires_at == 0 || r.expires_at > t)
            && d.cutoffs()
                .iter()
                .all(|c| c.expires_at == 0 || c.expires_at > t)
        {
            let again = build_delta(d.base(), d.revocations(), d.cutoffs(), t).unwrap();
            assert_eq!(again, bytes, "a delta reads back to other bytes");
        }
        for r in d.revocations() {
            assert!(d.revokes(r.kind, &r.id, t) == (r.expires_at == 0 || r.expires_at > t));
        }
    }
    let Some(f) = &filter else {
        return;
    };
    for c in f.cutoffs() {
        let _ = f.cutoff(&c.sub, f.built_at());
    }
    for now in [0, f.built_at(), u64::MAX] {
        let Ok(view) = FilterView::new(Some(f), delta.as_ref(), now, 60) else {
            continue;
        };
        for kind in IdKind::ALL {
            let _ = view.id(kind, Some(probe));
        }
        let ids = RevocationIds {
            jti: Some(probe),
            sid: Some(probe),
            sub: Some(probe),
            iat: Some(now),
            kid: Some(probe),
        };
        let _ = view.decide(&ids);
    }
}

fuzz_target!(|data: &[u8]| {
    let probe = String::from_utf8_lossy(data.get(..16).unwrap_or(data));
    exercise(data, &probe);
    if let Some(v) = sealed(data) {
        exercise(&v, &probe);
    }
});
