use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use super::*;
use crate::{RevocationIds, RevocationReason};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const NOW: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

fn rev(kind: IdKind, id: &str, expires_at: u64) -> Revocation {
    Revocation {
        kind,
        id: id.into(),
        expires_at,
    }
}

fn cut(sub: &str, before: u64, expires_at: u64) -> SubjectCutoff {
    SubjectCutoff {
        sub: sub.into(),
        before,
        expires_at,
    }
}

fn filter(revocations: &[Revocation], cutoffs: &[SubjectCutoff], now: u64) -> PublishedFilter {
    PublishedFilter::parse(&build_filter(revocations, cutoffs, now).unwrap().bytes).unwrap()
}

fn delta(base: &PublishedFilter, revocations: &[Revocation], now: u64) -> Delta {
    Delta::parse(&build_delta(base.checksum(), revocations, &[], now).unwrap()).unwrap()
}

/// A value edited by a test, with its stated length and checksum made right again, so that
/// the parser reaches the structure behind them.
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.truncate(bytes.len() - 32);
    let total = u32::try_from(bytes.len() + 32).unwrap();
    bytes[6..10].copy_from_slice(&total.to_le_bytes());
    let sum = Sha256::digest(&bytes);
    bytes.extend_from_slice(&sum);
    bytes
}

fn ids<'a>(jti: &'a str, sid: &'a str, kid: &'a str) -> RevocationIds<'a> {
    RevocationIds {
        jti: Some(jti),
        sid: Some(sid),
        sub: Some("alice"),
        iat: Some(NOW - 100),
        kid: Some(kid),
    }
}

#[test]
fn filter_keys_are_sha256_prefixes_per_kind() {
    // python3: int.from_bytes(sha256(b"jti:abc").digest()[:8], "little")
    assert_eq!(filter_key(IdKind::Jti, "abc"), 0x6002_92fb_15ec_45ba);
    assert_eq!(filter_key(IdKind::Kid, "abc"), 0xe676_0284_0bea_48e3);
    assert_ne!(
        filter_key(IdKind::Sid, "abc"),
        filter_key(IdKind::Jti, "abc")
    );
    for kind in IdKind::ALL {
        assert_eq!(IdKind::of_code(kind.code()), Some(kind));
    }
    assert_eq!(IdKind::of_code(0), None);
}

#[test]
fn every_size_holds_its_ids() {
    // 20,000 ids: a filter of about 44 KB, well inside the 25 MiB a published value may take.
    for n in (0..=70).chain([100, 257, 1_000, 5_000, 20_000]) {
        let list: Vec<Revocation> = (0..n)
            .map(|i| rev(IdKind::ALL[i % 3], &format!("id-{i}"), NOW + 1 + i as u64))
            .collect();
        let built = build_filter(&list, &[], NOW).unwrap();
        assert_eq!(built.count, n);
        assert_eq!(built.checksum[..], built.bytes[built.bytes.len() - 32..]);
        let f = PublishedFilter::parse(&built.bytes).unwrap();
        assert_eq!((f.len(), f.is_empty(), f.built_at()), (n, n == 0, NOW));
        assert_eq!(f.earliest_expiry(), if n == 0 { 0 } else { NOW + 1 });
        for r in &list {
            assert!(f.may_contain(r.kind, &r.id), "{n}: {r:?}");
        }
    }
}

#[test]
fn empty_filter_answers_absent() {
    let f = filter(&[], &[], NOW);
    assert!(f.is_empty() && !f.may_contain(IdKind::Jti, "x"));
    let view = FilterView::new(Some(&f), None, NOW, 60).unwrap();
    assert_eq!(view.decide(&ids("j", "s", "k")), FilterDecision::Absent);
    // Magic, version, length, built_at, earliest, count, cutoffs, filter parameters,
    // fingerprint count, checksum.
    let built = build_filter(&[], &[], NOW).unwrap();
    assert_eq!(built.bytes.len(), 10 + 8 + 8 + 4 + 4 + 20 + 4 + 32);
}

#[test]
fn duplicates_and_expired_entries() {
    let list = [
        rev(IdKind::Jti, "a", NOW + 10),
        rev(IdKind::Jti, "a", 0),
        rev(IdKind::Jti, "a", NOW + 5),
        rev(IdKind::Sid, "a", NOW + 10),
        rev(IdKind::Kid, "gone", NOW),
        rev(IdKind::Kid, "gone-too", NOW - 1),
    ];
    let built = build_filter(&list, &[], NOW).unwrap();
    assert_eq!(
        built.count, 2,
        "jti:a once, sid:a; the expired ones left out"
    );
    assert_eq!(built.earliest_expiry, NOW + 5);
    // The delta keeps one entry per id, with the later end (0: never).
    let f = filter(&[], &[], NOW);
    let d = delta(&f, &list, NOW);
    assert_eq!(
        d.revocations(),
        &[rev(IdKind::Jti, "a", 0), rev(IdKind::Sid, "a", NOW + 10)]
    );
    assert!(d.revokes(IdKind::Jti, "a", u64::MAX));
    assert!(d.revokes(IdKind::Sid, "a", NOW + 9));
    assert!(!d.revokes(IdKind::Sid, "a", NOW + 10), "ended");
    assert!(!d.revokes(IdKind::Kid, "a", NOW));
}

#[test]
fn cutoffs_are_exact_merged_and_end() {
    let cutoffs = [
        cut("bob", 500, NOW + DAY),
        cut("alice", 900, NOW + 10),
        cut("alice", 700, NOW + DAY),
        cut("old", 100, NOW),
    ];
    let f = filter(&[], &cutoffs, NOW);
    assert_eq!(
        f.cutoffs(),
        &[cut("alice", 900, NOW + DAY), cut("bob", 500, NOW + DAY)]
    );
    assert_eq!(f.cutoff("alice", NOW), Some(900));
    assert_eq!(f.cutoff("alice", NOW + DAY), None, "ended");
    assert_eq!(f.cutoff("old", NOW), None);
    assert_eq!(f.cutoff("carol", NOW), None);
    assert_eq!(f.earliest_expiry(), NOW + DAY);
    // The delta's cutoff and the filter's: the higher counts.
    let d = Delta::parse(
        &build_delta(
            f.checksum(),
            &[],
            &[cut("alice", 950, 0), cut("bob", 400, 0)],
            NOW,
        )
        .unwrap(),
    )
    .unwrap();
    let view = FilterView::new(Some(&f), Some(&d), NOW, 60).unwrap();
    assert_eq!(view.cutoff(Some("alice")), Some(950));
    assert_eq!(view.cutoff(Some("bob")), Some(500));
    assert_eq!(view.cutoff(Some("carol")), None);
    assert_eq!(view.cutoff(None), None);
}

#[test]
fn ids_no_token_could_carry_are_refused_when_built() {
    let long = "x".repeat(crate::MAX_ID_LEN);
    assert!(build_filter(&[rev(IdKind::Kid, &long, 0)], &[], NOW).is_ok());
    let too_long = "x".repeat(crate::MAX_ID_LEN + 1);
    for bad in ["", too_long.as_str()] {
        assert_eq!(
            build_filter(&[rev(IdKind::Jti, bad, 0)], &[], NOW),
            Err(BuildError::BadId)
        );
        assert_eq!(
            build_filter(&[], &[cut(bad, 1, 0)], NOW),
            Err(BuildError::BadId)
        );
        assert_eq!(
            build_delta(&[0; 32], &[rev(IdKind::Sid, bad, 0)], &[], NOW),
            Err(BuildError::BadId)
        );
        assert_eq!(
            build_delta(&[0; 32], &[], &[cut(bad, 1, 0)], NOW),
            Err(BuildError::BadId)
        );
    }
}

#[test]
fn the_decision() {
    let f = filter(
        &[
            rev(IdKind::Jti, "j-old", 0),
            rev(IdKind::Sid, "s-old", 0),
            rev(IdKind::Kid, "k-old", 0),
        ],
        &[cut("alice", NOW - 200, 0)],
        NOW,
    );
    let d = delta(
        &f,
        &[
            rev(IdKind::Jti, "j-new", 0),
            rev(IdKind::Sid, "s-new", 0),
            rev(IdKind::Kid, "k-new", NOW + 50),
        ],
        NOW + 30,
    );
    let at = |now, ids: &RevocationIds| decide(Some(&f), Some(&d), now, 60, ids);
    let now = NOW + 40;
    assert_eq!(at(now, &ids("j", "s", "k")), FilterDecision::Absent);
    assert_eq!(
        at(now, &ids("j-new", "s", "k")),
        FilterDecision::Present(RevocationReason::TokenId)
    );
    assert_eq!(
        at(now, &ids("j", "s-new", "k")),
        FilterDecision::Present(RevocationReason::Session)
    );
    assert_eq!(
        at(now, &ids("j", "s", "k-new")),
        FilterDecision::Present(RevocationReason::Key)
    );
    assert_eq!(
        at(NOW + 50, &ids("j", "s", "k-new")),
        FilterDecision::Absent,
        "the delta's entry ended"
    );
    // A filter hit is a read to make, never a verdict; an exact hit beside it wins.
    let maybe = FilterAnswers {
        jti: Membership::Maybe,
        sid: Membership::Absent,
        kid: Membership::Maybe,
        subject_cutoff: Some(NOW - 200),
    };
    assert_eq!(
        at(now, &ids("j-old", "s", "k-old")),
        FilterDecision::Maybe(maybe)
    );
    assert_eq!(
        at(now, &ids("j-old", "s-new", "k-old")),
        FilterDecision::Present(RevocationReason::Session)
    );
    // The answers complete into the store's once the reads are in.
    let mut answers = maybe.store_answers();
    assert_eq!(answers.jti, crate::Fact::Unknown);
    answers.jti = crate::Fact::Absent;
    answers.kid = crate::Fact::Present;
    assert_eq!(
        ids("j-old", "s", "k-old").interpret(&answers),
        crate::RevocationStatus::Revoked(RevocationReason::Key)
    );
    // The subject cutoff: exact, against `iat` (unknown `iat` is under it).
    let mut under = ids("j", "s", "k");
    under.iat = Some(NOW - 200);
    assert_eq!(
        at(now, &under),
        FilterDecision::Present(RevocationReason::SubjectCutoff { before: NOW - 200 })
    );
    under.iat = None;
    assert!(matches!(at(now, &under), FilterDecision::Present(_)));
    under.iat = Some(NOW - 199);
    assert_eq!(at(now, &under), FilterDecision::Absent);
    // A token without ids has nothing to look up.
    assert_eq!(at(now, &RevocationIds::default()), FilterDecision::Absent);
}

#[test]
fn unusable_unless_fresh_and_present() {
    let f = filter(&[rev(IdKind::Jti, "j", 0)], &[], NOW);
    let d = delta(&f, &[rev(IdKind::Jti, "d", 0)], NOW + 100);
    let other = filter(&[], &[], NOW + 1);
    let foreign = delta(&other, &[rev(IdKind::Jti, "d", 0)], NOW + 100);
    fn view<'a>(
        f: &'a PublishedFilter,
        d: Option<&'a Delta>,
        now: u64,
    ) -> Result<FilterView<'a>, Unusable> {
        FilterView::new(Some(f), d, now, 60)
    }

    assert_eq!(
        FilterView::new(None, Some(&d), NOW, 60).unwrap_err(),
        Unusable::Missing
    );
    // Without a delta the filter alone answers, as of its own build.
    assert_eq!(view(&f, None, NOW + 60).unwrap().as_of(), NOW);
    assert_eq!(
        view(&f, None, NOW + 61).unwrap_err(),
        Unusable::Stale { as_of: NOW }
    );
    // Its delta moves the view forward.
    let v = view(&f, Some(&d), NOW + 160).unwrap();
    assert!(v.uses_delta());
    assert_eq!(v.as_of(), NOW + 100);
    assert_eq!(v.id(IdKind::Jti, Some("d")), Membership::Present);
    assert_eq!(
        view(&f, Some(&d), NOW + 161).unwrap_err(),
        Unusable::Stale { as_of: NOW + 100 }
    );
    // A delta of another filter is ignored: its base is not this filter.
    let v = view(&f, Some(&foreign), NOW + 60).unwrap();
    assert!(!v.uses_delta());
    assert_eq!(v.as_of(), NOW);
    assert_eq!(v.id(IdKind::Jti, Some("d")), Membership::Absent);
    assert_eq!(
        view(&f, Some(&foreign), NOW + 100).unwrap_err(),
        Unusable::Stale { as_of: NOW }
    );
    // A delta older than its filter does not make it older.
    let early = delta(&f, &[], NOW - 1_000);
    assert_eq!(view(&f, Some(&early), NOW + 10).unwrap().as_of(), NOW);
    // Built in the future beyond the bound: a clock is wrong.
    assert_eq!(
        view(&f, None, NOW - 61).unwrap_err(),
        Unusable::Ahead { as_of: NOW }
    );
    assert!(view(&f, None, NOW - 60).is_ok());
    // Unusable is a decision of its own, with a stable code.
    let err = FilterError::ChecksumMismatch;
    assert_eq!(Unusable::from(err).code(), "filter_corrupt");
    assert_eq!(
        decide(None, None, NOW, 60, &RevocationIds::default()),
        FilterDecision::Unusable(Unusable::Missing)
    );
    assert_eq!(
        decide(Some(&f), None, NOW + 61, 60, &RevocationIds::default()),
        FilterDecision::Unusable(Unusable::Stale { as_of: NOW })
    );
    assert!(Unusable::Stale { as_of: 1 }.to_string().contains("stale"));
}

#[test]
fn corruption_is_refused_with_its_reason() {
    let list: Vec<Revocation> = (0..100)
        .map(|i| rev(IdKind::Jti, &format!("j{i}"), 0))
        .collect();
    let good = build_filter(&list, &[], NOW).unwrap().bytes;
    let good_delta = build_delta(&[7; 32], &list, &[], NOW).unwrap();
    let parse = |b: &[u8]| PublishedFilter::parse(b).map(|_| ());
    assert_eq!(parse(&good), Ok(()));

    assert_eq!(parse(&good_delta), Err(FilterError::BadMagic));
    assert_eq!(Delta::parse(&good).map(|_| ()), Err(FilterError::BadMagic));
    assert_eq!(parse(b""), Err(FilterError::Truncated));
    assert_eq!(parse(b"WRV"), Err(FilterError::Truncated));
    assert_eq!(parse(b"WRVF\x01"), Err(FilterError::Truncated));
    assert_eq!(parse(&good[..good.len() - 1]), Err(FilterError::Truncated));
    assert_eq!(parse(&good[..40]), Err(FilterError::Truncated));
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(parse(&longer), Err(FilterError::TrailingBytes));
    let mut v2 = good.clone();
    v2[4] = 2;
    assert_eq!(parse(&v2), Err(FilterError::UnsupportedVersion(2)));
    for at in [10, 30, 60, good.len() - 33, good.len() - 1] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x10;
        assert_eq!(parse(&flipped), Err(FilterError::ChecksumMismatch), "{at}");
    }

    // Behind a correct checksum: the structure. Offsets of a filter without cutoffs.
    let (count, seed, seg_len, mask, fp_count) = (26, 34, 42, 46, 54);
    let edit = |at: usize, bytes: &[u8]| {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        parse(&resealed(b))
    };
    assert_eq!(edit(seed, &[1]), Ok(()), "any seed is a filter");
    assert_eq!(
        edit(seg_len, &3u32.to_le_bytes()),
        Err(FilterError::BadFilter)
    );
    assert_eq!(
        edit(seg_len, &0u32.to_le_bytes()),
        Err(FilterError::BadFilter)
    );
    assert_eq!(edit(mask, &0u32.to_le_bytes()), Err(FilterError::BadFilter));
    assert_eq!(
        edit(seg_len + 8, &0u32.to_le_bytes()),
        Err(FilterError::BadFilter)
    );
    assert_eq!(
        edit(count, &0u32.to_le_bytes()),
        Err(FilterError::BadFilter)
    );
    assert_eq!(
        edit(count, &u32::MAX.to_le_bytes()),
        Err(FilterError::BadFilter)
    );
    assert_eq!(
        edit(fp_count, &u32::MAX.to_le_bytes()),
        Err(FilterError::BadLength)
    );
    assert_eq!(edit(30, &1u32.to_le_bytes()), Err(FilterError::BadLength));
    // One fingerprint fewer (the array no longer matches the parameters), or a byte left over.
    let mut short = good.clone();
    let n = u32::from_le_bytes(short[fp_count..fp_count + 4].try_into().unwrap());
    short[fp_count..fp_count + 4].copy_from_slice(&(n - 1).to_le_bytes());
    short.drain(good.len() - 34..good.len() - 32);
    assert_eq!(parse(&resealed(short)), Err(FilterError::BadFilter));
    let mut extra = good.clone();
    extra.insert(good.len() - 32, 0);
    assert_eq!(parse(&resealed(extra)), Err(FilterError::BadLength));
    // An empty filter with parameters is inconsistent.
    let mut empty = build_filter(&[], &[], NOW).unwrap().bytes;
    empty[seg_len] = 4;
    assert_eq!(parse(&resealed(empty)), Err(FilterError::BadFilter));

    // Cutoffs: ids, order.
    let with_cutoffs = build_filter(&[], &[cut("a", 1, 0), cut("b", 2, 0)], NOW)
        .unwrap()
        .bytes;
    let first_sub = 34 + 2; // after the cutoff count and the first subject's length
    let second_sub = first_sub + 1 + 16 + 2;
    let cut_edit = |at: usize, byte: u8| {
        let mut b = with_cutoffs.clone();
        b[at] = byte;
        parse(&resealed(b))
    };
    assert_eq!(cut_edit(second_sub, b'a'), Err(FilterError::Unsorted));
    assert_eq!(cut_edit(first_sub, b'c'), Err(FilterError::Unsorted));
    assert_eq!(cut_edit(first_sub, 0xff), Err(FilterError::BadId));
    assert_eq!(cut_edit(first_sub - 2, 0xff), Err(FilterError::BadLength));
    let mut empty_sub = with_cutoffs.clone();
    empty_sub[first_sub - 2] = 0;
    empty_sub.remove(first_sub);
    assert_eq!(parse(&resealed(empty_sub)), Err(FilterError::BadId));

    // The delta: kinds, order, ids.
    let dparse = |b: Vec<u8>| Delta::parse(&resealed(b)).map(|_| ());
    assert_eq!(Delta::parse(&good_delta).map(|d| d.base()[0]), Ok(7));
    let first_kind = 54;
    let mut bad_kind = good_delta.clone();
    bad_kind[first_kind] = 9;
    assert_eq!(dparse(bad_kind), Err(FilterError::BadKind(9)));
    let mut sid_first = good_delta.clone();
    sid_first[first_kind] = 2; // a sid before the jtis
    assert_eq!(dparse(sid_first), Err(FilterError::Unsorted));
    let mut repeated = good_delta.clone();
    let second_kind = first_kind + 1 + 2 + 2 + 8; // "j0"
    let second_id = second_kind + 3;
    repeated[second_id..second_id + 2].copy_from_slice(b"j0");
    assert_eq!(dparse(repeated), Err(FilterError::Unsorted));
    let mut huge_count = good_delta.clone();
    huge_count[50..54].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(dparse(huge_count), Err(FilterError::BadLength));
}

#[test]
fn errors_say_what_they_are() {
    let all = [
        FilterError::BadMagic,
        FilterError::UnsupportedVersion(3),
        FilterError::Truncated,
        FilterError::TrailingBytes,
        FilterError::ChecksumMismatch,
        FilterError::BadLength,
        FilterError::BadFilter,
        FilterError::BadId,
        FilterError::BadKind(4),
        FilterError::Unsorted,
    ];
    let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(!t.is_empty() && !texts[..i].contains(t), "{t}");
    }
    for e in [
        BuildError::BadId,
        BuildError::TooLarge,
        BuildError::Construction,
    ] {
        assert!(!e.to_string().is_empty());
    }
    let codes: Vec<&str> = [
        Unusable::Missing,
        Unusable::Corrupt(FilterError::Truncated),
        Unusable::Stale { as_of: 0 },
        Unusable::Ahead { as_of: 0 },
    ]
    .iter()
    .map(|u| u.code())
    .collect();
    assert_eq!(
        codes,
        vec![
            "filter_missing",
            "filter_corrupt",
            "filter_stale",
            "filter_ahead"
        ]
    );
}

/// The bytes of a small filter, as version 1 publishes them. A change in the format, in
/// xorf's construction or in its hashing (which would make a reader miss what another
/// build's writer put in) fails here: such a change needs a new version.
const PINNED: &str = concat!(
    "575256460100a100000000f1536500000000804255650000000003000000010000000500616c6963",
    "65fbf05365000000008042556500000000c15c0289ec2d0a91080000000700000008000000180000",
    "00000000000000000000000000000000000000000000000000000000000000000056c2000000003d",
    "c40000000000004cfa9f60200fd0c4f0e1486690b9e9388a8053e19c692f50fc69676cad1c6c5c0f",
    "6c",
);

#[test]
fn version_1_is_pinned() {
    let list = [
        rev(IdKind::Jti, "token-1", NOW + DAY),
        rev(IdKind::Sid, "session-1", 0),
        rev(IdKind::Kid, "key-1", 0),
    ];
    let pinned: Vec<u8> = (0..PINNED.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&PINNED[i..i + 2], 16).unwrap())
        .collect();
    // This build reads the pinned bytes and finds what they hold ...
    let f = PublishedFilter::parse(&pinned).unwrap();
    for r in &list {
        assert!(f.may_contain(r.kind, &r.id));
    }
    assert_eq!(f.cutoff("alice", NOW), Some(NOW - 5));
    // ... and writes them, byte for byte.
    let built = build_filter(&list, &[cut("alice", NOW - 5, NOW + DAY)], NOW).unwrap();
    assert_eq!(built.bytes, pinned);
}

#[test]
fn a_delta_count_its_bytes_cannot_hold_is_refused() {
    // Seven entries with 1-byte ids take 12 bytes each; with the cutoff count, 88 bytes follow
    // the entry count. Eight entries cannot fit in 88 bytes (8 x 12 = 96): refused at the count
    // (reading on would take the cutoff count for an eighth entry: another error).
    let f = filter(&[], &[], NOW);
    let list: Vec<Revocation> = (0..7)
        .map(|i| rev(IdKind::Jti, &format!("{i}"), 0))
        .collect();
    let bytes = build_delta(f.checksum(), &list, &[], NOW).unwrap();
    assert_eq!(Delta::parse(&bytes).unwrap().revocations().len(), 7);
    // magic 4, version 2, length 4, base 32, built_at 8: the count is at 50.
    assert_eq!(restated(&bytes, 50, 7, 8), FilterError::BadLength);
}

#[test]
fn a_delta_keeps_its_cutoffs() {
    let f = filter(&[], &[], NOW);
    let cutoffs = [cut("alice", NOW - 5, NOW + DAY), cut("bob", NOW - 9, 0)];
    let d = Delta::parse(&build_delta(f.checksum(), &[], &cutoffs, NOW).unwrap()).unwrap();
    assert_eq!(d.cutoffs(), &cutoffs[..]);
    assert_eq!(d.cutoff("alice", NOW), Some(NOW - 5));
    assert_eq!(d.cutoff("carol", NOW), None);
}

#[test]
fn a_published_value_may_take_all_of_kvs_25_mib_and_no_more() {
    use super::wire::Writer;
    // A million ids make about 2.2 MB: far over 1 MiB, well under the limit.
    let mut w = Writer::new(b"WRVF", 0);
    w.bytes(&vec![0u8; 2 << 20]);
    let (bytes, _) = w.seal().unwrap();
    assert_eq!(bytes.len(), 10 + (2 << 20) + 32);
    // One byte over: refused before anything is hashed.
    let mut w = Writer::new(b"WRVF", 0);
    w.bytes(&vec![0u8; MAX_PUBLISHED_LEN - 10 - 32 + 1]);
    assert_eq!(w.seal().unwrap_err(), BuildError::TooLarge);
    let mut w = Writer::new(b"WRVF", 0);
    w.bytes(&vec![0u8; MAX_PUBLISHED_LEN - 10 - 32]);
    assert_eq!(w.seal().unwrap().0.len(), MAX_PUBLISHED_LEN);
}

#[test]
fn debug_shows_sizes_not_contents() {
    let list = [rev(IdKind::Jti, "secret-jti", 0)];
    let built = build_filter(&list, &[], NOW).unwrap();
    let shown = format!("{built:?}");
    assert!(
        shown.starts_with("BuiltFilter") && shown.contains("count: 1"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("len: {}", built.bytes.len())),
        "{shown}"
    );
    let f = PublishedFilter::parse(&built.bytes).unwrap();
    let shown = format!("{f:?}");
    assert!(
        shown.starts_with("PublishedFilter") && shown.contains("count: 1"),
        "{shown}"
    );
    assert!(!shown.contains("secret-jti"));
}

#[test]
fn a_cutoff_count_its_bytes_cannot_hold_is_refused() {
    // Twenty cutoffs with 1-byte subjects take 19 bytes each (length, subject, before,
    // expires_at): 380 bytes follow the count, which cannot hold 21 (399): refused. (Reading on
    // would refuse with the same error: for cutoffs the count check only bounds the allocation.)
    let f = filter(&[], &[], NOW);
    let subs: Vec<String> = (0..20u8)
        .map(|i| char::from(b'a' + i).to_string())
        .collect();
    let cutoffs: Vec<SubjectCutoff> = subs.iter().map(|s| cut(s, NOW - 1, 0)).collect();
    let bytes = build_delta(f.checksum(), &[], &cutoffs, NOW).unwrap();
    assert_eq!(Delta::parse(&bytes).unwrap().cutoffs().len(), 20);
    // magic 4, version 2, length 4, base 32, built_at 8, revocation count 4: then the cutoffs'.
    assert_eq!(restated(&bytes, 54, 20, 21), FilterError::BadLength);
}

/// Why `delta` is refused once the count stated at `at` (which must be `count`) says `more`,
/// resealed so that only the count is wrong.
fn restated(delta: &[u8], at: usize, count: u32, more: u32) -> FilterError {
    let mut edited = delta.to_vec();
    assert_eq!(edited[at..at + 4], count.to_le_bytes());
    edited[at..at + 4].copy_from_slice(&more.to_le_bytes());
    Delta::parse(&resealed(edited)).unwrap_err()
}

#[test]
fn a_stated_length_shorter_than_header_and_checksum_is_refused() {
    for magic in [b"WRVF", b"WRVD"] {
        for total in [0u32, 10, 41] {
            let mut v = magic.to_vec();
            v.extend_from_slice(&1u16.to_le_bytes());
            v.extend_from_slice(&total.to_le_bytes());
            v.resize(usize::try_from(total).unwrap().max(10), 0);
            let refused = (PublishedFilter::parse(&v).err(), Delta::parse(&v).err());
            let expected = if magic == b"WRVF" {
                (Some(FilterError::BadLength), Some(FilterError::BadMagic))
            } else {
                (Some(FilterError::BadMagic), Some(FilterError::BadLength))
            };
            assert_eq!(refused, expected, "total {total}");
        }
    }
}
