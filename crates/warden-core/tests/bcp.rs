//! RFC 8725 and draft-ietf-oauth-rfc8725bis (JSON Web Token Best Current Practices): one
//! `bcp_2_N_…` / `bcp_3_N_…` test or more for each threat (§2) and practice (§3) that no
//! `row_NN_…` test of `attacks.rs` (or another suite) already covers. Section numbers follow the
//! working group's current text of the draft; docs/security.md maps every section to its tests.
//!
//! Each test sends the attack and a control that differs only in the attack, so that it fails
//! if the defence is removed. "Without key work" is counted: [`Counting`] wraps the verifier
//! and records every signature check.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;
use common::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::cell::Cell;

use warden_core::{
    parse, parse_proof, parse_set, parse_times, Admission, Algorithm, Decision, Denial, DpopError,
    Gate, Grant, JwtVerifier, Key, KeyError, KeySet, LogoutPolicy, ParseError, Part, Policy,
    RequestFacts, RevocationStatus, SetError, SetPolicy, SignatureError, SignatureVerifier, Step,
    DEFAULT_DPOP_ALGORITHMS, LOGOUT_TYP, MAX_TOKEN_LEN, SET_TYP,
};

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

/// [`JwtVerifier`], counting the signature checks it is asked for.
#[derive(Default)]
struct Counting {
    calls: Cell<usize>,
}

impl SignatureVerifier for Counting {
    fn verify(&self, key: &Key, input: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        self.calls.set(self.calls.get() + 1);
        JwtVerifier.verify(key, input, signature)
    }
}

/// Parse, select the key, verify and evaluate, as the worker does; also how many signature
/// checks that took.
fn check(jwks: &str, token: &str, policy: &Policy) -> (Result<Grant, Denial>, usize) {
    let keys = KeySet::from_jwks(jwks).unwrap();
    let verifier = Counting::default();
    let verdict = parse(token)
        .map_err(Denial::Malformed)
        .and_then(|t| keys.verify(&t, &verifier).map(|_| t))
        .and_then(|t| policy.evaluate(&t, NOW, RevocationStatus::NotRevoked));
    (verdict, verifier.calls.get())
}

/// [`check`] with the HMAC key set and the tests' access policy.
fn hs_check(token: &str) -> (Result<Grant, Denial>, usize) {
    check(&hmac_jwks(), token, &policy())
}

/// A compact JWS of raw header and claims bytes (any encoding), HS256 with the test secret.
fn signed(header: &[u8], claims: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HMAC_SECRET).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// A compact JWE: five segments, a header and four segments of arbitrary bytes.
fn jwe(header: &str) -> String {
    let parts: [&[u8]; 4] = [&[7; 256], &[1; 12], b"ciphertext of the claims", &[2; 16]];
    let mut out = b64(header.as_bytes());
    for p in parts {
        out.push('.');
        out.push_str(&b64(p));
    }
    out
}

/// RFC 7520's RSA public key (public domain), a 2048-bit RS256 key.
const RSA_N: &str = "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw";

/// RFC 8037's Ed25519 public key (public domain).
const ED25519_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

/// JWE key management algorithms (RFC 7518 §4.1) and content encryption algorithms (§5.1):
/// none of them is a signature algorithm.
const JWE_ALGORITHMS: [&str; 23] = [
    "RSA1_5",
    "RSA-OAEP",
    "RSA-OAEP-256",
    "A128KW",
    "A192KW",
    "A256KW",
    "dir",
    "ECDH-ES",
    "ECDH-ES+A128KW",
    "ECDH-ES+A192KW",
    "ECDH-ES+A256KW",
    "A128GCMKW",
    "A192GCMKW",
    "A256GCMKW",
    "PBES2-HS256+A128KW",
    "PBES2-HS384+A192KW",
    "PBES2-HS512+A256KW",
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
    "A128GCM",
    "A192GCM",
    "A256GCM",
];

/// An attacker's ECDH-ES ephemeral key (`epk`): a P-256 public key of the attacker's own.
fn attacker_epk() -> String {
    let point = ec_key(9).verifying_key().to_encoded_point(false);
    format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        b64(point.x().unwrap()),
        b64(point.y().unwrap())
    )
}

// ---------------------------------------------------------------------------------------------
// §2.3 Incorrect composition of encryption and signature; §3.3 validate all cryptographic
// operations. Warden verifies a JWS Compact Serialization and never decrypts anything.
// ---------------------------------------------------------------------------------------------

#[test]
fn bcp_2_3_compact_jwe_refused_before_any_key_work() {
    let epk = attacker_epk();
    for header in [
        r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#.to_string(),
        r#"{"alg":"RSA1_5","enc":"A128CBC-HS256","kid":"h1","typ":"at+jwt"}"#.to_string(),
        r#"{"alg":"dir","enc":"A128GCM","kid":"h1"}"#.to_string(),
        r#"{"alg":"A128KW","enc":"A128GCM","zip":"DEF","kid":"h1"}"#.to_string(),
        r#"{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":2000000000,"p2s":"M773JyfWle_alIsksCNMOA"}"#.to_string(),
        format!(r#"{{"alg":"ECDH-ES","enc":"A128GCM","epk":{epk},"kid":"e1"}}"#),
        // A JWE whose protected header claims to be a signed access token.
        r#"{"alg":"HS256","enc":"A128GCM","kid":"h1","typ":"at+jwt","cty":"JWT"}"#.to_string(),
    ] {
        let token = jwe(&header);
        assert_eq!(token.split('.').count(), 5);
        assert_eq!(parse(&token), Err(ParseError::SegmentCount), "{header}");
        for jwks in [hmac_jwks(), ec_jwks()] {
            assert_eq!(
                check(&jwks, &token, &policy()),
                (Err(Denial::Malformed(ParseError::SegmentCount)), 0),
                "{header}"
            );
        }
        assert_eq!(
            parse_set(&token),
            Err(SetError::Malformed(ParseError::SegmentCount))
        );
        assert_eq!(
            parse_proof(&token, &DEFAULT_DPOP_ALGORITHMS).map(|_| ()),
            Err(DpopError::Invalid("DPoP proof is not a compact JWS"))
        );
    }
    // Control: the signed form of the same claims is verified (one signature check) and passes.
    assert_eq!(hs_check(&hs256(HS_HEADER, &claims(), HMAC_SECRET)).1, 1);
    assert!(hs_check(&hs256(HS_HEADER, &claims(), HMAC_SECRET))
        .0
        .is_ok());
}

#[test]
fn bcp_2_3_jwe_algorithms_refused_as_unsupported_before_any_key_work() {
    for alg in JWE_ALGORITHMS {
        // Signed with the configured secret: a library that let the header choose a JWE or a
        // "direct" use of the key would find a valid MAC here.
        let header = format!(r#"{{"alg":"{alg}","kid":"h1","typ":"at+jwt","enc":"A128GCM"}}"#);
        let token = hs256(&header, &claims(), HMAC_SECRET);
        assert_eq!(
            parse(&token),
            Err(ParseError::UnsupportedAlgorithm),
            "{alg}"
        );
        assert_eq!(
            hs_check(&token),
            (Err(Denial::Malformed(ParseError::UnsupportedAlgorithm)), 0),
            "{alg}"
        );
        assert!(Algorithm::from_name(alg).is_none(), "{alg}");
        assert!(Algorithm::parse_allowlist(alg).is_err(), "{alg}");
        // Nor can a key be bound to it.
        let jwk = format!(
            r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"{alg}","k":"{}"}}]}}"#,
            b64(HMAC_SECRET)
        );
        assert!(KeySet::from_jwks(&jwk).is_err(), "{alg}");
    }
}

/// A nested JWT (RFC 7519 §5.2: `cty: JWT`, the payload another JWT) is never accepted: the
/// payload of a JWT Warden accepts is a JSON object, so no inner token, and no inner signature
/// left unchecked, is ever taken for claims.
#[test]
fn bcp_2_3_nested_jwts_refused() {
    let inner_signed = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    let inner_unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"at+jwt"}"#),
        b64(claims().as_bytes())
    );
    let inner_jwe = jwe(r#"{"alg":"dir","enc":"A128GCM","cty":"JWT"}"#);
    for inner in [&inner_signed, &inner_unsigned, &inner_jwe] {
        for header in [
            r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","cty":"JWT"}"#,
            HS_HEADER,
        ] {
            // The outer token is correctly signed with the configured key.
            let outer = signed(header.as_bytes(), inner.as_bytes());
            assert_eq!(
                parse(&outer),
                Err(ParseError::Json(Part::Claims)),
                "{inner}"
            );
            assert_eq!(
                hs_check(&outer),
                (Err(Denial::Malformed(ParseError::Json(Part::Claims))), 0)
            );
        }
    }
    // Control: the inner signed token on its own is an access token.
    assert!(hs_check(&inner_signed).0.is_ok());
}

/// The JWE-only header parameters (RFC 7516 §4.1.2 `enc`, §4.1.3 `zip`; RFC 7518 §4.6.1.1
/// `epk`, §4.8.1 `p2s`/`p2c`) in a three-segment token. RFC 7516 §9: "If the `enc` member
/// exists, it is a JWE; otherwise, it is a JWS" — such a token is neither a valid JWS header nor
/// a JWE: refused as malformed (`FORBIDDEN_HEADERS`) before any key work, even when the
/// configured key signed it.
#[test]
fn bcp_2_3_jwe_header_parameters_refused_before_any_key_work() {
    let epk = attacker_epk();
    let mut accepted = Vec::new();
    for (name, value) in [
        ("enc", r#""A128GCM""#.to_string()),
        ("zip", r#""DEF""#.to_string()),
        ("epk", epk),
        ("p2c", "2000000000".to_string()),
        ("p2s", r#""M773JyfWle_alIsksCNMOA""#.to_string()),
    ] {
        let header = format!(r#"{{"alg":"HS256","kid":"h1","typ":"at+jwt","{name}":{value}}}"#);
        let token = hs256(&header, &claims(), HMAC_SECRET);
        let (verdict, checks) = hs_check(&token);
        if !matches!(verdict, Err(Denial::Malformed(_))) || checks != 0 {
            accepted.push(format!(
                "{name}: {:?} after {checks} signature check(s)",
                verdict.map(|_| "allowed")
            ));
        }
    }
    assert!(accepted.is_empty(), "{}", accepted.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// §2.4 / §3.6 compression, §2.12 / §3.15 decompression bombs: `zip` is never honoured.
// ---------------------------------------------------------------------------------------------

/// Raw DEFLATE (RFC 1951), one final block of fixed Huffman codes: `prefix` as literals, then
/// `repeats` copies of 258 bytes at distance 1 (each the repeat of `prefix`'s last byte), then
/// `suffix` as literals. 13 bits per 258 bytes: a decompression bomb.
fn deflate_bomb(prefix: &[u8], repeats: usize, suffix: &[u8]) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        used: u32,
    }
    impl Bits {
        /// `len` bits of `value`, least significant first (header fields, extra bits).
        fn lsb(&mut self, value: u32, len: u32) {
            for i in 0..len {
                if self.used.is_multiple_of(8) {
                    self.out.push(0);
                }
                let bit = ((value >> i) & 1) as u8;
                *self.out.last_mut().unwrap() |= bit << (self.used % 8);
                self.used += 1;
            }
        }
        /// A Huffman code of `len` bits, most significant first (RFC 1951 §3.1.1).
        fn code(&mut self, code: u32, len: u32) {
            for i in (0..len).rev() {
                self.lsb((code >> i) & 1, 1);
            }
        }
        /// A literal byte in the fixed code (RFC 1951 §3.2.6).
        fn literal(&mut self, byte: u8) {
            match byte {
                0..=143 => self.code(0x30 + u32::from(byte), 8),
                _ => self.code(0x190 + u32::from(byte) - 144, 9),
            }
        }
    }
    let mut bits = Bits {
        out: Vec::new(),
        used: 0,
    };
    bits.lsb(1, 1); // BFINAL
    bits.lsb(1, 2); // BTYPE = 01, fixed Huffman codes
    prefix.iter().for_each(|b| bits.literal(*b));
    for _ in 0..repeats {
        bits.code(0xc5, 8); // length code 285: 258 bytes, no extra bits
        bits.code(0, 5); // distance code 0: distance 1
    }
    suffix.iter().for_each(|b| bits.literal(*b));
    bits.code(0, 7); // end of block (256)
    bits.out
}

#[test]
fn bcp_2_12_zip_is_never_inflated() {
    // `{"sub":"alice",…,"pad":"aaaa…"}`: 3,000 × 258 bytes of padding from about 5 KB, which a
    // library honouring `zip` would inflate to 774,123 bytes of claims (checked with zlib).
    let c = claims();
    let open = format!(r#"{},"pad":"a"#, c.trim_end_matches('}'));
    let bomb = deflate_bomb(open.as_bytes(), 3_000, br#""}"#);
    assert!(bomb.len() < 5_100, "{}", bomb.len());
    for header in [
        r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","zip":"DEF"}"#,
        r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","zip":"def"}"#,
    ] {
        let token = signed(header.as_bytes(), &bomb);
        assert!(token.len() <= MAX_TOKEN_LEN, "{}", token.len());
        // Refused: the compressed bytes are read as they are, and are not JSON (or, should the
        // core come to refuse `zip` itself, for carrying it). Never inflated, never accepted.
        let (verdict, checks) = hs_check(&token);
        assert!(
            matches!(
                verdict,
                Err(Denial::Malformed(
                    ParseError::Json(Part::Claims) | ParseError::ForbiddenHeader(_)
                ))
            ),
            "{verdict:?}"
        );
        assert_eq!(checks, 0);
        assert!(parse_times(&token).is_err());
    }
    // The same claims, compressed, in a five-segment JWE: refused before decoding.
    let compressed_jwe = format!(
        "{}.{}.{}.{}.{}",
        b64(br#"{"alg":"dir","enc":"A128GCM","zip":"DEF"}"#),
        "",
        b64(&[1; 12]),
        b64(&bomb),
        b64(&[2; 16])
    );
    assert_eq!(parse(&compressed_jwe), Err(ParseError::SegmentCount));
    // Control: the uncompressed claims of the same shape, with a short padding, pass.
    let plain = format!(r#"{open}aaaa"}}"#);
    assert!(hs_check(&hs256(HS_HEADER, &plain, HMAC_SECRET)).0.is_ok());
}

// ---------------------------------------------------------------------------------------------
// §2.5 invalid-curve ECDH-ES; §2.10 / §3.13 PBES2 iteration counts. Neither key agreement nor
// key derivation exists in Warden; their header parameters never reach a key or a loop.
// ---------------------------------------------------------------------------------------------

#[test]
fn bcp_2_5_ecdh_es_and_epk_never_reach_a_key() {
    let epk = attacker_epk();
    for alg in [
        "ECDH-ES",
        "ECDH-ES+A128KW",
        "ECDH-ES+A192KW",
        "ECDH-ES+A256KW",
    ] {
        let header = format!(r#"{{"alg":"{alg}","kid":"e1","typ":"at+jwt","epk":{epk}}}"#);
        let token = es256(&header, &claims(), &ec_key(9));
        assert_eq!(
            check(&ec_jwks(), &token, &policy()),
            (Err(Denial::Malformed(ParseError::UnsupportedAlgorithm)), 0),
            "{alg}"
        );
    }
    // An ES256 token signed by the attacker, carrying the attacker's key as `epk`: the key is
    // the configured one, never the header's, so the signature fails (or the header is
    // refused). At most one signature check.
    let header = format!(r#"{{"alg":"ES256","kid":"e1","typ":"at+jwt","epk":{epk}}}"#);
    let token = es256(&header, &claims(), &ec_key(9));
    let (verdict, checks) = check(&ec_jwks(), &token, &policy());
    assert!(
        matches!(verdict, Err(Denial::BadSignature | Denial::Malformed(_))),
        "{verdict:?}"
    );
    assert!(checks <= 1);
    // Control: signed by the configured key, without `epk`, it passes.
    assert!(check(
        &ec_jwks(),
        &es256(ES_HEADER, &claims(), &ec_key(7)),
        &policy()
    )
    .0
    .is_ok());
}

#[test]
fn bcp_2_10_p2c_never_drives_any_work() {
    for alg in [
        "PBES2-HS256+A128KW",
        "PBES2-HS384+A192KW",
        "PBES2-HS512+A256KW",
    ] {
        for p2c in ["4294967295", "18446744073709551615", "1"] {
            let header = format!(
                r#"{{"alg":"{alg}","kid":"h1","typ":"at+jwt","p2c":{p2c},"p2s":"M773JyfWle_alIsksCNMOA"}}"#
            );
            let token = hs256(&header, &claims(), HMAC_SECRET);
            assert_eq!(
                hs_check(&token),
                (Err(Denial::Malformed(ParseError::UnsupportedAlgorithm)), 0),
                "{alg} {p2c}"
            );
        }
    }
    // With a signature algorithm, `p2c` is not a parameter of anything Warden runs: a token not
    // signed by the configured key is refused after one HMAC (or for carrying it).
    let header = r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","p2c":4294967295,"p2s":"AAAA"}"#;
    let token = hs256(header, &claims(), b"attacker-secret-attacker-secret!");
    let (verdict, checks) = hs_check(&token);
    assert!(
        matches!(verdict, Err(Denial::BadSignature | Denial::Malformed(_))),
        "{verdict:?}"
    );
    assert!(checks <= 1);
}

// ---------------------------------------------------------------------------------------------
// §2.6 multiplicity of JSON encodings; §3.7 use UTF-8.
// ---------------------------------------------------------------------------------------------

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let units = bom.then_some(0xfeff).into_iter().chain(text.encode_utf16());
    units
        .flat_map(|u: u16| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn utf32(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let chars = bom.then_some('\u{feff}').into_iter().chain(text.chars());
    chars
        .flat_map(|c| {
            let u = u32::from(c);
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

/// `text` in every encoding but plain UTF-8: UTF-16 and UTF-32 in both byte orders with and
/// without a byte-order mark, and UTF-8 with a byte-order mark.
fn other_encodings(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![(
        "UTF-8 with BOM".to_string(),
        [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat(),
    )];
    for be in [false, true] {
        for bom in [false, true] {
            let name = |w: u8| format!("UTF-{w}{} bom={bom}", if be { "BE" } else { "LE" });
            out.push((name(16), utf16(text, be, bom)));
            out.push((name(32), utf32(text, be, bom)));
        }
    }
    out
}

/// `text` with the placeholder `@@` replaced by each byte sequence that is not UTF-8, or by a
/// `\u` escape of a lone surrogate (which names no Unicode scalar value).
fn not_utf8(text: &str) -> Vec<(String, Vec<u8>)> {
    let (before, after) = text.split_once("@@").unwrap();
    let bad: [(&str, &[u8]); 12] = [
        ("lone continuation byte", &[0x80]),
        ("0xFF", &[0xff]),
        ("0xFE", &[0xfe]),
        ("overlong NUL", &[0xc0, 0x80]),
        ("overlong /", &[0xe0, 0x80, 0xaf]),
        ("UTF-8 encoded surrogate", &[0xed, 0xa0, 0x80]),
        ("beyond U+10FFFF", &[0xf4, 0x90, 0x80, 0x80]),
        ("truncated sequence", &[0xe2, 0x82]),
        ("Latin-1 é", &[0xe9]),
        ("escaped lone high surrogate", br"\ud800"),
        ("escaped lone low surrogate", br"\udc00"),
        ("escaped surrogates reversed", br"\udc00\ud800"),
    ];
    bad.iter()
        .map(|(name, bytes)| {
            let text = [before.as_bytes(), bytes, after.as_bytes()].concat();
            ((*name).to_string(), text)
        })
        .collect()
}

#[test]
fn bcp_3_7_header_and_claims_only_in_utf8() {
    let header = r#"{"alg":"HS256","kid":"h1","typ":"at+jwt","x":"@@"}"#;
    let c = claims();
    let claims_text = format!(r#"{},"name":"@@"}}"#, c.trim_end_matches('}'));
    let good_header = header.replace("@@", "zoë");
    let good_claims = claims_text.replace("@@", r"zoë \ud83d\ude00");
    // Controls: UTF-8 header and claims, non-ASCII and an escaped surrogate pair included.
    assert!(
        hs_check(&signed(good_header.as_bytes(), good_claims.as_bytes()))
            .0
            .is_ok()
    );

    let mut cases: Vec<(String, Part, String)> = Vec::new();
    for (name, bytes) in other_encodings(&good_header) {
        cases.push((name, Part::Header, signed(&bytes, good_claims.as_bytes())));
    }
    for (name, bytes) in not_utf8(header) {
        cases.push((name, Part::Header, signed(&bytes, good_claims.as_bytes())));
    }
    for (name, bytes) in other_encodings(&good_claims) {
        cases.push((name, Part::Claims, signed(good_header.as_bytes(), &bytes)));
    }
    for (name, bytes) in not_utf8(&claims_text) {
        cases.push((name, Part::Claims, signed(good_header.as_bytes(), &bytes)));
    }
    assert_eq!(cases.len(), 2 * (9 + 12));
    for (name, part, token) in &cases {
        assert_eq!(
            parse(token),
            Err(ParseError::Json(*part)),
            "{name} {part:?}"
        );
        assert_eq!(
            parse_times(token),
            Err(ParseError::Json(*part)),
            "{name} {part:?}"
        );
        assert_eq!(
            hs_check(token),
            (Err(Denial::Malformed(ParseError::Json(*part))), 0),
            "{name} {part:?}"
        );
        assert_eq!(
            parse_set(token),
            Err(SetError::Malformed(ParseError::Json(*part)))
        );
    }
    // A DPoP proof's header and claims are read by the same strict rules.
    let proof_header = dpop_header(&ec_key(9));
    let proof_claims = proof_claims_for("https://api.test/api");
    for (name, bytes) in other_encodings(&proof_header) {
        let proof = es256_bytes(&bytes, proof_claims.as_bytes(), &ec_key(9));
        assert_eq!(
            parse_proof(&proof, &DEFAULT_DPOP_ALGORITHMS).map(|_| ()),
            Err(DpopError::Invalid("DPoP proof header is not a JSON object")),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §2.9 indirect attacks on the server; §3.8 validate the subject. The claims Warden looks up
// (`jti`, `sid`, `sub`; `kid` in attacks.rs row 3) are bounded, checked before any lookup, and
// then only exact keys of a map: never a query, a path or a URL.
// ---------------------------------------------------------------------------------------------

/// What the gate does with a bearer token whose signature verified: look up these ids, or a
/// decision taken before any lookup.
fn gate_step(token: &str) -> Result<Option<(String, String, String)>, Denial> {
    let gate = Gate::default();
    let authorization = format!("Bearer {token}");
    let facts = RequestFacts {
        method: "GET",
        path: "/api",
        authorization: Some(&authorization),
        ..RequestFacts::default()
    };
    let Admission::Jwt { token, request } = gate.admit(&facts) else {
        panic!("not admitted as a JWT");
    };
    let parsed = parse(token).map_err(Denial::Malformed)?;
    match gate.check_jwt(&request, &parsed, NOW) {
        Step::Lookup(ids) => Ok(Some((
            ids.jti.unwrap_or_default().to_string(),
            ids.sid.unwrap_or_default().to_string(),
            ids.sub.unwrap_or_default().to_string(),
        ))),
        Step::Done(Decision::Deny(refusal)) => Err(refusal.denial),
        Step::Done(other) => panic!("{other:?}"),
    }
}

fn with_claim(name: &str, value: &str) -> String {
    let c = claims();
    let quoted = serde_json::to_string(value).unwrap();
    let mut members: Vec<String> = c[1..c.len() - 1]
        .split(',')
        .filter(|m| !m.starts_with(&format!(r#""{name}":"#)))
        .map(String::from)
        .collect();
    members.push(format!(r#""{name}":{quoted}"#));
    hs256(
        HS_HEADER,
        &format!("{{{}}}", members.join(",")),
        HMAC_SECRET,
    )
}

#[test]
fn bcp_2_9_lookup_claims_are_bounded_and_checked_before_any_lookup() {
    for name in ["sub", "jti", "sid"] {
        // Bounded: at most 256 bytes, never empty; refused by the parser.
        for bad in ["x".repeat(257), String::new()] {
            assert_eq!(
                gate_step(&with_claim(name, &bad)),
                Err(Denial::Malformed(ParseError::InvalidClaim(name))),
                "{name}: {} bytes",
                bad.len()
            );
        }
        assert!(
            gate_step(&with_claim(name, &"x".repeat(256))).is_ok(),
            "{name}"
        );
        // Values HTTP, logs or a store key could read in another way: refused before the
        // revocation lookups are even named.
        for bad in ["a\r\nb", " admin", "admin ", "a\u{0}b", "a\tb", "\u{7f}"] {
            assert_eq!(
                gate_step(&with_claim(name, bad)),
                Err(Denial::ClaimInvalid(name)),
                "{name}: {bad:?}"
            );
        }
        // Anything else is an opaque key, looked up exactly as it is.
        for odd in [
            "*)(uid=*))(|(uid=*",
            "' OR '1'='1",
            "../../etc/passwd",
            "rv:sub:bob",
        ] {
            let ids = gate_step(&with_claim(name, odd)).unwrap().unwrap();
            let looked_up = match name {
                "jti" => ids.0,
                "sid" => ids.1,
                _ => ids.2,
            };
            assert_eq!(looked_up, odd, "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// §2.11 algorithm verification code not defensively written.
// ---------------------------------------------------------------------------------------------

/// Every spelling of `name` that differs from it in letter case only.
fn case_variants(name: &str) -> Vec<String> {
    let letters: Vec<usize> = name
        .char_indices()
        .filter(|(_, c)| c.is_ascii_alphabetic())
        .map(|(i, _)| i)
        .collect();
    (0..1u32 << letters.len())
        .map(|mask| {
            let mut bytes = name.as_bytes().to_vec();
            for (bit, i) in letters.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    bytes[*i] = if bytes[*i].is_ascii_uppercase() {
                        bytes[*i].to_ascii_lowercase()
                    } else {
                        bytes[*i].to_ascii_uppercase()
                    };
                }
            }
            String::from_utf8(bytes).unwrap()
        })
        .collect()
}

#[test]
fn bcp_2_11_every_spelling_of_none_and_of_each_algorithm_name() {
    let nones = case_variants("none");
    assert_eq!(nones.len(), 16);
    assert!(nones.iter().any(|n| n == "noNE"));
    for none in &nones {
        let header = format!(r#"{{"alg":"{none}","kid":"h1","typ":"at+jwt"}}"#);
        for token in [
            hs256(&header, &claims(), HMAC_SECRET),
            format!("{}.{}.", b64(header.as_bytes()), b64(claims().as_bytes())),
        ] {
            assert_eq!(
                hs_check(&token),
                (Err(Denial::Malformed(ParseError::AlgorithmNone)), 0),
                "{none}"
            );
        }
        assert!(Algorithm::parse_allowlist(none).is_err(), "{none}");
    }
    for alg in Algorithm::ALL {
        for spelling in case_variants(alg.name()) {
            let exact = spelling == alg.name();
            assert_eq!(
                Algorithm::from_name(&spelling).is_some(),
                exact,
                "{spelling}"
            );
            assert_eq!(
                Algorithm::parse_allowlist(&spelling).is_ok(),
                exact,
                "{spelling}"
            );
            let header = format!(r#"{{"alg":"{spelling}","kid":"h1","typ":"at+jwt"}}"#);
            let parsed = parse(&hs256(&header, &claims(), HMAC_SECRET));
            if exact {
                assert_eq!(parsed.unwrap().header.alg, alg);
            } else {
                assert_eq!(parsed, Err(ParseError::UnsupportedAlgorithm), "{spelling}");
            }
        }
    }
    // A key cannot be bound to a mis-spelled algorithm, nor to `none`.
    for spelling in case_variants("HS256").into_iter().chain(nones) {
        let jwks = format!(
            r#"{{"keys":[{{"kty":"oct","kid":"h1","alg":"{spelling}","k":"{}"}}]}}"#,
            b64(HMAC_SECRET)
        );
        assert_eq!(
            KeySet::from_jwks(&jwks).is_ok(),
            spelling == "HS256",
            "{spelling}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §2.13 JWT format confusion; §3.14 check the JWT format type.
// ---------------------------------------------------------------------------------------------

#[test]
fn bcp_2_13_json_serializations_refused() {
    let good = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    let [h, p, s]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    // The same header, payload and signature, each verifying under RFC 7515 §7.2.
    let flattened = format!(r#"{{"payload":"{p}","protected":"{h}","signature":"{s}"}}"#);
    let general =
        format!(r#"{{"payload":"{p}","signatures":[{{"protected":"{h}","signature":"{s}"}}]}}"#);
    let with_header = format!(
        r#"{{"payload":"{p}","protected":"{h}","header":{{"kid":"h1"}},"signature":"{s}"}}"#
    );
    // A polyglot: a compact-looking member in front, the real JWS members behind it (what a
    // verifier reading JSON and a parser splitting on dots would each read their own way).
    let forged = b64(br#"{"sub":"admin","iss":"https://issuer.test","aud":"api"}"#);
    let polyglot =
        format!(r#"{{"x":"{h}.{forged}.","payload":"{p}","protected":"{h}","signature":"{s}"}}"#);
    let jwe_json = r#"{"protected":"eyJlbmMiOiJBMTI4R0NNIn0","encrypted_key":"","iv":"AQEBAQEBAQEBAQEB","ciphertext":"Y2lwaGVydGV4dA","tag":"AgICAgICAgICAgICAgICAg"}"#;
    for (name, text, want) in [
        ("flattened", flattened.as_str(), ParseError::SegmentCount),
        ("general", general.as_str(), ParseError::SegmentCount),
        (
            "unprotected header",
            with_header.as_str(),
            ParseError::SegmentCount,
        ),
        (
            "polyglot",
            polyglot.as_str(),
            ParseError::Base64(Part::Header),
        ),
        ("JWE JSON", jwe_json, ParseError::SegmentCount),
    ] {
        assert_eq!(parse(text), Err(want.clone()), "{name}");
        assert_eq!(parse_times(text), Err(want.clone()), "{name}");
        assert_eq!(
            hs_check(text),
            (Err(Denial::Malformed(want.clone())), 0),
            "{name}"
        );
        assert_eq!(parse_set(text), Err(SetError::Malformed(want)), "{name}");
        assert!(
            parse_proof(text, &DEFAULT_DPOP_ALGORITHMS).is_err(),
            "{name}"
        );
    }
    // Control: the same three parts in the compact serialization pass.
    assert!(hs_check(&format!("{h}.{p}.{s}")).0.is_ok());
}

#[test]
fn bcp_3_14_only_base64url_characters_and_two_dots() {
    let good = hs256(HS_HEADER, &claims(), HMAC_SECRET);
    assert!(hs_check(&good).0.is_ok());
    let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    // Every other ASCII character (braces, quotes, spaces, `+`, `/`, `=`, controls…) and a few
    // non-ASCII ones that look like dots, spaces or nothing.
    let mut others: Vec<char> = (0u8..=0x7f)
        .map(char::from)
        .filter(|c| !alphabet(*c) && *c != '.')
        .collect();
    others.extend([
        'é', '\u{a0}', '\u{200b}', '\u{feff}', '\u{ff0e}', '\u{2024}', '\u{3002}',
    ]);
    assert_eq!(others.len(), 128 - 64 - 1 + 7);
    let parts = [Part::Header, Part::Claims, Part::Signature];
    for c in &others {
        for (i, part) in parts.iter().enumerate() {
            let segments: Vec<&str> = good.split('.').collect();
            let seg = segments[i];
            for at in [0, seg.len() / 2, seg.len()] {
                let mut bad: Vec<String> = segments.iter().map(|s| (*s).to_string()).collect();
                bad[i].insert(at, *c);
                let token = bad.join(".");
                assert_eq!(
                    parse(&token),
                    Err(ParseError::Base64(*part)),
                    "{c:?} at {at} in {part:?}"
                );
                assert_eq!(hs_check(&token).1, 0, "{c:?}");
            }
        }
    }
    // A third dot is a fourth segment, wherever it stands.
    for at in [0, 10, good.len() / 2, good.len()] {
        let mut token = good.clone();
        token.insert(at, '.');
        assert_eq!(parse(&token), Err(ParseError::SegmentCount), "dot at {at}");
    }
    // Whole-token shapes of JSON: quoted, braced.
    for token in [
        format!(r#""{good}""#),
        format!("{{{good}}}"),
        format!(r#"["{good}"]"#),
        format!(r#"{{"token":"{good}"}}"#),
    ] {
        assert!(
            matches!(
                parse(&token),
                Err(ParseError::Base64(_) | ParseError::SegmentCount)
            ),
            "{token}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §3.1 perform algorithm verification: each key verifies exactly one algorithm.
// ---------------------------------------------------------------------------------------------

#[test]
fn bcp_3_1_a_key_verifies_its_one_algorithm_and_no_other() {
    let rsa = format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"r1","alg":"RS256","n":"{RSA_N}","e":"AQAB"}}]}}"#
    );
    let ed =
        format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"d1","x":"{ED25519_X}"}}]}}"#);
    for (jwks, kid, own) in [
        (hmac_jwks(), "h1", Algorithm::HS256),
        (ec_jwks(), "e1", Algorithm::ES256),
        (rsa, "r1", Algorithm::RS256),
        (ed, "d1", Algorithm::EdDSA),
    ] {
        assert_eq!(KeySet::from_jwks(&jwks).unwrap().keys()[0].alg, own);
        for alg in Algorithm::ALL {
            let header = format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"at+jwt"}}"#);
            // A signature from the configured HMAC secret, so that only the binding decides.
            let token = hs256(&header, &claims(), HMAC_SECRET);
            let (verdict, checks) = check(&jwks, &token, &policy());
            if alg == own {
                assert_eq!(checks, 1, "{kid}: {alg}");
                assert_eq!(verdict.is_ok(), own == Algorithm::HS256, "{kid}: {alg}");
            } else {
                assert_eq!(
                    (verdict, checks),
                    (Err(Denial::AlgorithmNotAllowed), 0),
                    "{kid}: {alg}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// §3.4 validate cryptographic inputs: an EC point that is not on its curve.
// ---------------------------------------------------------------------------------------------

#[test]
fn bcp_3_4_ec_points_off_the_curve_never_verify() {
    let key = ec_key(7);
    let point = key.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().unwrap().to_vec(), point.y().unwrap().to_vec());
    let mut y_plus_one = y.clone();
    y_plus_one[31] ^= 1;
    let p256_p: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ];
    let mut one = [0u8; 32];
    one[31] = 1;
    let good = es256(ES_HEADER, &claims(), &key);
    let zero = format!("{}.{}", good.rsplit_once('.').unwrap().0, b64(&[0; 64]));
    for (name, px, py) in [
        ("y off by one bit", x.clone(), y_plus_one),
        ("(1, 1)", one.to_vec(), one.to_vec()),
        ("(0, 0)", vec![0; 32], vec![0; 32]),
        ("x = p", p256_p.to_vec(), y.clone()),
    ] {
        let jwks = format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"e1","x":"{}","y":"{}"}}]}}"#,
            b64(&px),
            b64(&py)
        );
        // Refused when the set is loaded, or every signature fails under it.
        if let Ok(keys) = KeySet::from_jwks(&jwks) {
            for token in [&good, &zero] {
                let t = parse(token).unwrap();
                assert_eq!(
                    keys.verify(&t, &JwtVerifier).map(|_| ()),
                    Err(Denial::BadSignature),
                    "{name}"
                );
            }
        }
    }
    // Control: the real point verifies the real signature.
    assert!(check(&ec_jwks(), &good, &policy()).0.is_ok());
}

// ---------------------------------------------------------------------------------------------
// §3.5 sufficient key entropy: RSA moduli of the ROCA key generator (CVE-2017-15361).
// ---------------------------------------------------------------------------------------------

/// A 2048-bit modulus with the ROCA fingerprint: `n ≡ 65537 (mod p)` for each small prime `p`
/// the fingerprint tests (Nemec et al., CCS 2017), so `n mod p` lies in the subgroup that
/// 65537 generates. Built as `M · 2^k + 65537`, `M` the product of those primes.
fn roca_shaped_modulus() -> Vec<u8> {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    // Big-endian bytes times a small factor.
    let times = |n: &[u8], f: u32| -> Vec<u8> {
        let mut out = Vec::with_capacity(n.len() + 4);
        let mut carry = 0u64;
        for b in n.iter().rev() {
            let v = u64::from(*b) * u64::from(f) + carry;
            out.push((v & 0xff) as u8);
            carry = v >> 8;
        }
        while carry > 0 {
            out.push((carry & 0xff) as u8);
            carry >>= 8;
        }
        out.reverse();
        out
    };
    let mut n = PRIMES.iter().fold(vec![1u8], |m, p| times(&m, *p));
    while n[0] < 0x80 {
        n = times(&n, 2);
    }
    n.resize(256, 0);
    n[253] = 0x01; // + 65537 = 0x010001
    n[255] = 0x01;
    n
}

#[test]
fn bcp_3_5_roca_moduli_refused() {
    let jwks = |n: &str| {
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"r1","alg":"RS256","n":"{n}","e":"AQAB"}}]}}"#)
    };
    let n = roca_shaped_modulus();
    assert_eq!(n.len(), 256);
    assert!(n[0] >= 0x80, "2048 bits");
    assert_eq!(
        KeySet::from_jwks(&jwks(&b64(&n))).map(|_| ()),
        Err(KeyError::Key {
            key: r#""r1""#.into(),
            reason: "RSA modulus has the ROCA weakness (CVE-2017-15361); replace the key"
        })
    );
    // Control: a modulus without the fingerprint (RFC 7520's) is loaded.
    assert!(KeySet::from_jwks(&jwks(RSA_N)).is_ok());
}

// ---------------------------------------------------------------------------------------------
// §2.8 cross-JWT confusion; §3.11 explicit typing; §3.12 mutually exclusive validation rules:
// access tokens, Security Event Tokens, logout tokens and DPoP proofs.
// ---------------------------------------------------------------------------------------------

const CLIENT_ID: &str = "client-123";
const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const BACKCHANNEL_LOGOUT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A SET from the issuer to the API (as `SetPolicy::new("https://issuer.test", "api")` takes
/// it), HS256 with the access tokens' key.
fn set_token(typ: Option<&str>, extra: &str) -> String {
    let typ = typ.map(|t| format!(r#","typ":"{t}""#)).unwrap_or_default();
    let header = format!(r#"{{"alg":"HS256","kid":"h1"{typ}}}"#);
    let claims = format!(
        r#"{{"iss":"https://issuer.test","aud":"api","iat":{},"jti":"e-1","sub_id":{{"format":"opaque","id":"alice"}},"events":{{"{CREDENTIAL_CHANGE}":{{}}}}{extra}}}"#,
        NOW - 5
    );
    hs256(&header, &claims, HMAC_SECRET)
}

/// A logout token from the issuer to `aud` (OpenID Connect Back-Channel Logout 1.0 §2.4),
/// HS256 with the access tokens' key (logout tokens are signed with the token keys).
fn logout_token(typ: Option<&str>, aud: &str) -> String {
    let typ = typ.map(|t| format!(r#","typ":"{t}""#)).unwrap_or_default();
    let header = format!(r#"{{"alg":"HS256","kid":"h1"{typ}}}"#);
    let claims = format!(
        r#"{{"iss":"https://issuer.test","aud":"{aud}","iat":{},"exp":{},"jti":"l-1","sub":"alice","sid":"s-1","events":{{"{BACKCHANNEL_LOGOUT}":{{}}}}}}"#,
        NOW - 5,
        NOW + 115
    );
    hs256(&header, &claims, HMAC_SECRET)
}

fn dpop_header(key: &p256::ecdsa::SigningKey) -> String {
    let jwk = ec_jwk(key, "p1");
    format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}"#)
}

fn proof_claims_for(url: &str) -> String {
    format!(r#"{{"jti":"p-1","htm":"GET","htu":"{url}","iat":{NOW}}}"#)
}

/// A compact JWS of raw header and claims bytes, ES256.
fn es256_bytes(header: &[u8], claims: &[u8], key: &p256::ecdsa::SigningKey) -> String {
    use p256::ecdsa::{signature::Signer, Signature};
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

/// A DPoP proof (RFC 9449 §4.2) by the client's own key, with the claims an access token has
/// besides its own: what would be needed to pass for one.
fn dpop_proof() -> String {
    let key = ec_key(9);
    let claims = format!(
        r#"{{"jti":"p-1","htm":"GET","htu":"https://api.test/api","iat":{NOW},"iss":"https://issuer.test","aud":"api","sub":"alice","exp":{}}}"#,
        NOW + 60
    );
    es256(&dpop_header(&key), &claims, &key)
}

fn access_token(typ: &str) -> String {
    hs256(
        &format!(r#"{{"alg":"HS256","kid":"h1","typ":"{typ}"}}"#),
        &claims(),
        HMAC_SECRET,
    )
}

#[test]
fn bcp_3_12_the_access_policy_refuses_other_kinds_by_typ() {
    // Access-token claims, the access key: only `typ` says what the token is.
    for typ in [
        "secevent+jwt",
        "application/secevent+jwt",
        "logout+jwt",
        "application/logout+jwt",
        "dpop+jwt",
        "DPoP+JWT",
        "JWT",
    ] {
        assert_eq!(
            hs_check(&access_token(typ)),
            (Err(Denial::WrongType), 1),
            "{typ}"
        );
        assert_eq!(Denial::WrongType.code(), "token_wrong_type");
    }
    // Control: the access type passes.
    assert!(hs_check(&access_token("at+jwt")).0.is_ok());
}

#[test]
fn bcp_3_12_events_and_proofs_are_not_access_tokens() {
    // A SET has no `exp`: refused by any access policy, typed or not.
    for typ in [Some(SET_TYP), None] {
        assert_eq!(
            hs_check(&set_token(typ, "")).0,
            Err(Denial::MissingClaim("exp"))
        );
        assert_eq!(
            check(&hmac_jwks(), &set_token(typ, ""), &Policy::default()).0,
            Err(Denial::MissingClaim("exp"))
        );
    }
    // With an `exp`, its `typ` still refuses it.
    let exp = format!(r#","exp":{}"#, NOW + 60);
    assert_eq!(
        hs_check(&set_token(Some(SET_TYP), &exp)).0,
        Err(Denial::WrongType)
    );
    // A logout token, typed or untyped, to this API or to the client.
    for typ in [Some(LOGOUT_TYP), None] {
        for aud in ["api", CLIENT_ID] {
            assert_eq!(
                hs_check(&logout_token(typ, aud)).0,
                Err(Denial::WrongType),
                "{typ:?} {aud}"
            );
        }
        // Without a `typ` policy, its `events` claim still refuses it, before the audience.
        let audience_only = Policy {
            typ: None,
            ..policy()
        };
        assert_eq!(
            check(&hmac_jwks(), &logout_token(typ, CLIENT_ID), &audience_only).0,
            Err(Denial::WrongType)
        );
    }
    // A DPoP proof names its own key (`jwk`), which no token may: refused by the parser, for
    // every policy, before any key work (the key set never sees the proof's key).
    let proof = dpop_proof();
    assert!(parse_proof(&proof, &DEFAULT_DPOP_ALGORITHMS).is_ok());
    for p in [policy(), Policy::default()] {
        assert_eq!(
            check(&ec_jwks(), &proof, &p),
            (
                Err(Denial::Malformed(ParseError::ForbiddenHeader("jwk"))),
                0
            )
        );
    }
    assert_eq!(
        parse_set(&proof).map(|_| ()),
        Err(SetError::Malformed(ParseError::ForbiddenHeader("jwk")))
    );
    // With neither `WARDEN_ACCESS_TYP` nor `WARDEN_AUDIENCE`, a logout token signed with the
    // token key (it carries `exp` and `sub`) is still no access token: its `events` claim, and
    // its `typ` when it has one, refuse it under every access policy.
    for typ in [Some(LOGOUT_TYP), None] {
        assert_eq!(
            check(
                &hmac_jwks(),
                &logout_token(typ, CLIENT_ID),
                &Policy::default()
            ),
            (Err(Denial::WrongType), 1),
            "{typ:?}"
        );
    }
    for kind in warden_core::OTHER_KINDS {
        let typed = hs256(
            &format!(r#"{{"alg":"HS256","kid":"h1","typ":"{kind}"}}"#),
            &claims(),
            HMAC_SECRET,
        );
        assert_eq!(
            check(&hmac_jwks(), &typed, &Policy::default()).0,
            Err(Denial::WrongType),
            "{kind}"
        );
    }
    // Control: the same claims, untyped, pass the default policy.
    let untyped = hs256(r#"{"alg":"HS256","kid":"h1"}"#, &claims(), HMAC_SECRET);
    assert!(check(&hmac_jwks(), &untyped, &Policy::default()).0.is_ok());
}

#[test]
fn bcp_3_12_access_tokens_are_not_events_or_proofs() {
    let set_policy = SetPolicy::new("https://issuer.test", "api");
    let logout_policy = LogoutPolicy::new("https://issuer.test", "api");
    // Controls: a SET and a logout token of the same issuer and audience are accepted.
    let set = parse_set(&set_token(Some(SET_TYP), "")).unwrap();
    assert!(set_policy.validate(&set, NOW).is_ok());
    let logout = parse_set(&logout_token(Some(LOGOUT_TYP), "api")).unwrap();
    assert!(logout_policy.validate(&logout, NOW).is_ok());

    let typed = parse_set(&access_token("at+jwt")).unwrap();
    let untyped = parse_set(&hs256(
        r#"{"alg":"HS256","kid":"h1"}"#,
        &claims(),
        HMAC_SECRET,
    ))
    .unwrap();
    for token in [&typed, &untyped] {
        assert_eq!(
            set_policy.validate(token, NOW),
            Err(SetError::WrongType { expected: SET_TYP })
        );
    }
    assert_eq!(
        logout_policy.validate(&typed, NOW),
        Err(SetError::WrongType {
            expected: LOGOUT_TYP
        })
    );
    // An untyped access token carries no back-channel logout event.
    assert_eq!(
        logout_policy.validate(&untyped, NOW),
        Err(SetError::MissingClaim("events"))
    );
    // A SET is not a logout token and a logout token is not a SET (the core's own tests:
    // secevent/tests.rs `a_set_is_not_a_logout_token_and_a_logout_token_not_a_set`).
    assert_eq!(
        logout_policy.validate(&set, NOW),
        Err(SetError::WrongType {
            expected: LOGOUT_TYP
        })
    );
    assert_eq!(
        set_policy.validate(&logout, NOW),
        Err(SetError::WrongType { expected: SET_TYP })
    );

    // Neither an access token, a SET nor a logout token is a DPoP proof.
    let not_dpop = DpopError::Invalid("DPoP proof typ is not dpop+jwt");
    for token in [
        access_token("at+jwt"),
        access_token("dpop"),
        set_token(Some(SET_TYP), ""),
        logout_token(Some(LOGOUT_TYP), "api"),
    ] {
        assert_eq!(
            parse_proof(&token, &DEFAULT_DPOP_ALGORITHMS).map(|_| ()),
            Err(not_dpop),
            "{token}"
        );
    }
    // Through the gate: an access token sent as its own DPoP proof is refused when the request
    // is admitted, with the DPoP code.
    let token = access_token("at+jwt");
    let authorization = format!("DPoP {token}");
    let facts = RequestFacts {
        method: "GET",
        path: "/api",
        url: "https://api.test/api",
        authorization: Some(&authorization),
        dpop: Some(&token),
        ..RequestFacts::default()
    };
    match Gate::default().admit(&facts) {
        Admission::Deny(refusal) => {
            assert_eq!(refusal.denial, Denial::Dpop(not_dpop));
            assert_eq!(refusal.denial.code(), "dpop_proof_invalid");
        }
        other => panic!("{other:?}"),
    }
    // Control: with a real proof in the DPoP header the same request is admitted.
    let proof = es256(
        &dpop_header(&ec_key(9)),
        &proof_claims_for("https://api.test/api"),
        &ec_key(9),
    );
    let facts = RequestFacts {
        dpop: Some(&proof),
        ..facts
    };
    assert!(matches!(
        Gate::default().admit(&facts),
        Admission::Jwt { .. }
    ));
}
