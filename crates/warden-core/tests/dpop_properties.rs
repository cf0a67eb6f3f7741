//! Property tests of the DPoP core (fixed seed, counted cases, as `properties.rs`): no proof
//! shape panics the reader and well-formed ones really get through it; `htu` normalization is
//! one reading (idempotent, blind to scheme/host case and default ports); a server nonce holds
//! for exactly its step and the next.
#![cfg(not(target_arch = "wasm32"))]
#![allow(missing_docs, clippy::unwrap_used)]

mod common;
mod counting;

use counting::run_counting;
use proptest::prelude::*;
use warden_core::{normalize_htu, parse_proof, NonceKey, ProofContext, NONCE_STEP_SECONDS};

const JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#;

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{JWK}}}"#)),
        Just(format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{JWK},"kid":"x"}}"#
        )),
        "\\{(\"[a-z]{1,4}\":(\"[a-z+]{0,8}\"|[0-9]{1,3}|null|\\{\\}),?){0,4}\\}",
    ]
}

fn claims() -> impl Strategy<Value = String> {
    (
        "[A-Za-z0-9_-]{0,300}",
        prop_oneof![
            Just("GET".to_owned()),
            Just("POST".to_owned()),
            "[A-Za-z]{0,6}"
        ],
        prop_oneof![Just("https://a.example/x".to_owned()), "[ -~]{0,40}"],
        0u64..300_000_000_000,
        proptest::option::of("[A-Za-z0-9_-]{0,50}"),
    )
        .prop_map(|(jti, htm, htu, iat, ath)| {
            let htu = serde_json::to_string(&htu).unwrap();
            let ath = ath.map(|a| format!(r#","ath":"{a}""#)).unwrap_or_default();
            format!(r#"{{"jti":"{jti}","htm":"{htm}","htu":{htu},"iat":{iat}{ath}}}"#)
        })
}

#[test]
fn proof_shapes_never_panic_and_good_ones_are_read() {
    let segment = prop_oneof![
        "[A-Za-z0-9_.-]{0,80}",
        any::<Vec<u8>>().prop_map(|b| common::b64(&b)),
    ];
    let read = run_counting(
        2_000,
        (
            prop_oneof![
                header().prop_map(|h| common::b64(h.as_bytes())),
                segment.clone()
            ],
            prop_oneof![
                claims().prop_map(|c| common::b64(c.as_bytes())),
                segment.clone()
            ],
            prop_oneof![Just(common::b64(&[7u8; 64])), segment],
        ),
        |(h, c, s)| {
            let text = format!("{h}.{c}.{s}");
            Ok(
                match parse_proof(&text, &warden_core::DEFAULT_DPOP_ALGORITHMS) {
                    Ok(p) => {
                        // Whatever is read is checked without panicking, at any time and URL.
                        for now in [0, p.iat, u64::MAX] {
                            let cx = ProofContext {
                                method: "GET",
                                url: "https://a.example/x",
                                access_token: Some("t"),
                                now,
                                leeway: 30,
                                max_age: 60,
                                nonce: None,
                            };
                            let _ = p.check(&cx);
                        }
                        prop_assert!(p.jti.len() <= 256 && !p.jti.is_empty());
                        prop_assert_eq!(
                            p.jkt.as_str(),
                            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
                        );
                        true
                    }
                    Err(_) => false,
                },
            )
        },
    );
    assert!(read >= 100, "only {read} of 2,000 proof shapes were read");
}

#[test]
fn htu_has_one_reading() {
    let url = (
        prop_oneof![Just("https"), Just("HTTP"), Just("hTtPs"), Just("ftp")],
        "[A-Za-z0-9.-]{1,12}",
        prop_oneof![
            Just(String::new()),
            Just(":80".to_owned()),
            Just(":443".to_owned()),
            (0u32..70_000).prop_map(|p| format!(":{p}"))
        ],
        proptest::collection::vec(
            prop_oneof![
                Just("/"),
                Just("%2e"),
                Just("%7E"),
                Just("%7e"),
                Just("%2f"),
                Just("."),
                Just(".."),
                Just("a"),
                Just("Z"),
                Just("%"),
                Just("?q"),
                Just("#f")
            ],
            0..8,
        ),
    );
    let accepted = run_counting(3_000, url, |(scheme, host, port, path)| {
        let path: String = path.concat();
        let u = format!("{scheme}://{host}{port}{path}");
        let Some(n) = normalize_htu(&u) else {
            return Ok(false);
        };
        // One reading: the normal form is its own normal form, and so is any other spelling of
        // the scheme's and host's case.
        prop_assert_eq!(normalize_htu(&n), Some(n.clone()));
        let shouted = format!(
            "{}://{}{port}{path}",
            scheme.to_uppercase(),
            host.to_uppercase()
        );
        prop_assert_eq!(normalize_htu(&shouted), Some(n.clone()));
        prop_assert!(!n.contains('?') && !n.contains('#'));
        prop_assert!(!n.split('/').skip(3).any(|s| s == "." || s == ".."));
        let default = if n.starts_with("https://") {
            ":443/"
        } else {
            ":80/"
        };
        prop_assert!(!n.contains(default), "default port kept in {}", n);
        Ok(true)
    });
    assert!(
        accepted >= 500,
        "only {accepted} of 3,000 URLs were accepted"
    );
}

#[test]
fn nonce_holds_for_its_step_and_the_next() {
    let key = NonceKey::new(b"property test nonce secret......").unwrap();
    let checked = run_counting(
        2_000,
        (0u64..10_000_000_000, 0u64..200),
        |(issued, later)| {
            let nonce = key.current(issued);
            let now = issued + later;
            let steps = now / NONCE_STEP_SECONDS - issued / NONCE_STEP_SECONDS;
            prop_assert_eq!(key.accepts(&nonce, now), steps <= 1);
            Ok(steps <= 1)
        },
    );
    assert!(checked >= 200, "only {checked} accepted cases");
}
