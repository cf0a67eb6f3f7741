//! Published test vectors run through the core: Project Wycheproof (token-level JWS and JWK files,
//! and the signature primitives Warden verifies) and the JOSE cookbook (RFC 7520 §4.1–4.4,
//! RFC 7797 `b64: false`, the RFC 8037 Ed25519 example).
//!
//! The vector files are copied into the repository's `tests/vectors/` (sources, commits and licences
//! in `tests/vectors/README.md`), so these tests need nothing outside the repository.
//!
//! Run with `--nocapture` to see the agreement figures for each file.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use warden_core::{
    parse, Algorithm, Denial, JwtVerifier, KeyError, KeySet, ParseError, Part, SignatureVerifier,
    Token,
};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/");

fn load(relative: &str) -> Value {
    let path = format!("{VECTORS}{relative}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn wycheproof(name: &str) -> Value {
    load(&format!("wycheproof/testvectors_v1/{name}"))
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn str_of<'v>(v: &'v Value, field: &str) -> &'v str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is not a string"))
}

fn items<'v>(v: &'v Value, field: &str) -> &'v [Value] {
    v[field]
        .as_array()
        .unwrap_or_else(|| panic!("`{field}` is not an array"))
}

// ---------------------------------------------------------------------------------------------
// Token level: compact JWS through parse + KeySet + JwtVerifier.
// ---------------------------------------------------------------------------------------------

/// What Warden did with one compact JWS.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// Parsed as a JWT and the signature verified.
    Jwt,
    /// The signature verified, but the payload is not a JSON object, so the token is a JWS and not a
    /// JWT (see [`check_jws`]).
    JwsOnly,
    /// `parse` refused the token.
    Parse(ParseError),
    /// `KeySet::from_jwks` refused the key set.
    Keys(KeyError),
    /// Key selection or the signature check refused the token.
    Denied(Denial),
}

impl Outcome {
    fn accepted(&self) -> bool {
        matches!(self, Outcome::Jwt | Outcome::JwsOnly)
    }
}

/// Runs a compact JWS through `parse`, `KeySet::from_jwks` and `KeySet::verify`.
///
/// Warden validates JWTs, whose payload must be a JSON object (RFC 7519 §7.2 step 10), while most
/// JWS vectors sign arbitrary bytes (`foo`, `Test`, an empty payload). `parse` checks, in this
/// order: segment count, canonical base64url of all three segments, the header (alg, forbidden
/// parameters, kid), and only then the claims. So when it fails with exactly
/// `Json(Part::Claims)`, everything else about the token already passed the strict checks; to
/// still test the signature, the token's header and signature are parsed again around an empty
/// claims object (`e30`), and the result is verified over the *original* signing input, with the
/// same key selection and verifier. Any other error is the final answer.
fn check_jws(jwks: &str, jws: &str) -> Outcome {
    let keys = KeySet::from_jwks(jwks);
    let verify = |token: &Token, ok: Outcome| match &keys {
        Err(e) => Outcome::Keys(e.clone()),
        Ok(keys) => match keys.verify(token, &JwtVerifier) {
            Ok(_) => ok,
            Err(d) => Outcome::Denied(d),
        },
    };
    match parse(jws) {
        Ok(token) => verify(&token, Outcome::Jwt),
        Err(ParseError::Json(Part::Claims)) => {
            let mut segments = jws.split('.');
            let (h, c, s) = (
                segments.next().unwrap(),
                segments.next().unwrap(),
                segments.next().unwrap(),
            );
            let twin = format!("{h}.e30.{s}");
            let mut token = parse(&twin).expect("only the payload differs");
            token.signing_input = jws[..h.len() + 1 + c.len()].to_string();
            verify(&token, Outcome::JwsOnly)
        }
        Err(e) => Outcome::Parse(e),
    }
}

/// What a vector should produce.
#[derive(Debug)]
enum Expect {
    Accept,
    Reject,
    /// A documented exception to the file's label, with the exact outcome required.
    Exactly(Outcome, &'static str),
}

/// Agreement figures for one token-level file.
#[derive(Default)]
struct Agreement {
    total: usize,
    as_labelled: usize,
    documented: Vec<String>,
    jws_only: usize,
    disagreements: Vec<String>,
}

impl Agreement {
    fn record(&mut self, id: u64, comment: &str, label: &str, expect: Expect, outcome: Outcome) {
        self.total += 1;
        if outcome == Outcome::JwsOnly {
            self.jws_only += 1;
        }
        let ok = match &expect {
            Expect::Accept => outcome.accepted(),
            Expect::Reject => !outcome.accepted(),
            Expect::Exactly(want, why) => {
                let ok = *want == outcome;
                if ok {
                    self.documented
                        .push(format!("{id} ({label}): {outcome:?}: {why}"));
                }
                ok
            }
        };
        match (ok, &expect) {
            (true, Expect::Exactly(..)) => {}
            (true, _) => self.as_labelled += 1,
            (false, _) => self.disagreements.push(format!(
                "tcId {id} {comment:?}: labelled {label}, expected {expect:?}, got {outcome:?}"
            )),
        }
    }

    fn finish(self, file: &str) {
        println!(
            "{file}: {} tests, {} agree with their label, {} documented exceptions, \
             {} disagreements ({} checked at JWS level: payload not a JSON object)",
            self.total,
            self.as_labelled,
            self.documented.len(),
            self.disagreements.len(),
            self.jws_only
        );
        for d in &self.documented {
            println!("  documented: {d}");
        }
        assert!(
            self.disagreements.is_empty(),
            "{file}: {} of {} vectors disagree:\n{}",
            self.disagreements.len(),
            self.total,
            self.disagreements.join("\n")
        );
    }
}

fn header_alg(jws: &str) -> Option<String> {
    let header = B64.decode(jws.split('.').next()?).ok()?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    header["alg"].as_str().map(String::from)
}

/// The key set for a group of `json_web_signature_test.json`.
///
/// The group's `public` key when it has one; otherwise its `private` key, which the file only
/// leaves alone for `oct` secrets (asserted). Warden refuses RSA and `oct` keys that do not state
/// `alg`; the only such groups are `rsa_encryption` (`use: enc` or `key_ops: [encrypt]`), whose
/// tests check that an otherwise fitting key is refused for its use. There the intended binding
/// is the algorithm of the group's tokens (one per group, asserted), so it is added to the key:
/// the key must then be refused for its `use`/`key_ops`, not for a missing `alg`.
fn jws_group_jwks(group: &Value) -> String {
    let mut jwk = match group.get("public") {
        Some(public) => public.as_object().unwrap().clone(),
        None => {
            let private = group["private"].as_object().unwrap().clone();
            assert_eq!(
                private["kty"], "oct",
                "only secret keys may come from `private`"
            );
            private
        }
    };
    let kty = jwk["kty"].as_str().unwrap_or_default();
    if !jwk.contains_key("alg") && matches!(kty, "RSA" | "oct") {
        let algs: BTreeSet<String> = items(group, "tests")
            .iter()
            .filter_map(|t| header_alg(str_of(t, "jws")))
            .collect();
        assert_eq!(algs.len(), 1, "one token algorithm per group: {algs:?}");
        let alg = algs.into_iter().next().unwrap();
        jwk.insert("alg".into(), Value::String(alg));
    }
    json!({ "keys": [jwk] }).to_string()
}

/// Wycheproof `json_web_signature_test.json`: every vector through parse + KeySet + JwtVerifier.
///
/// Documented exceptions (the vector notes in tests/vectors/README.md and docs/security.md):
/// - 346 and 350 put a `PS384` header on a key bound to `PS256`: refusing is correct.
/// - 347 and 351 are RFC 7520's ES512 example (P-521): Warden does not support ES512 and must
///   refuse it cleanly, as an unsupported algorithm, at parse time.
/// - 372 and 373 carry a `?` inside base64url: strict decoding refuses them.
/// - 357 is valid. 367 and 370 are labelled invalid ("invalid padding") but are byte-for-byte the
///   same token as 357 (asserted below): the padding they describe is absent from the file, so
///   no deterministic verifier can honour both labels; they must be accepted exactly like 357.
#[test]
fn wycheproof_json_web_signature() {
    let file = wycheproof("json_web_signature_test.json");
    let groups = items(&file, "testGroups");
    let by_id = |id: u64| -> String {
        groups
            .iter()
            .flat_map(|g| items(g, "tests"))
            .find(|t| t["tcId"] == id)
            .map(|t| str_of(t, "jws").to_owned())
            .unwrap()
    };
    let token_357 = by_id(357);
    assert_eq!(by_id(367), token_357);
    assert_eq!(by_id(370), token_357);

    let mut agreement = Agreement::default();
    for group in groups {
        let jwks = jws_group_jwks(group);
        for test in items(group, "tests") {
            let id = test["tcId"].as_u64().unwrap();
            let label = str_of(test, "result");
            let outcome = check_jws(&jwks, str_of(test, "jws"));
            let expect = match id {
                346 | 350 => Expect::Exactly(
                    Outcome::Denied(Denial::AlgorithmNotAllowed),
                    "PS384 header on a PS256 key",
                ),
                347 | 351 => Expect::Exactly(
                    Outcome::Parse(ParseError::UnsupportedAlgorithm),
                    "ES512 is not supported",
                ),
                367 | 370 => Expect::Exactly(Outcome::JwsOnly, "the same token as 357"),
                372 => Expect::Exactly(
                    Outcome::Parse(ParseError::Base64(Part::Header)),
                    "`?` in base64url",
                ),
                373 => Expect::Exactly(
                    Outcome::Parse(ParseError::Base64(Part::Claims)),
                    "`?` in base64url",
                ),
                _ => match label {
                    "valid" => Expect::Accept,
                    "invalid" => Expect::Reject,
                    other => panic!("tcId {id}: unexpected result {other:?}"),
                },
            };
            agreement.record(id, str_of(test, "comment"), label, expect, outcome);
        }
    }
    assert_eq!(
        agreement.total,
        file["numberOfTests"].as_u64().unwrap() as usize
    );
    agreement.finish("json_web_signature_test.json");
}

/// Wycheproof `json_web_key_test.json`: key sets (the group's `public` set, else its `private`
/// set, which the file only uses for `oct` secrets and one mixed set whose EC key is public) and a
/// token each. Every key in these sets states `alg`.
#[test]
fn wycheproof_json_web_key() {
    let file = wycheproof("json_web_key_test.json");
    let mut agreement = Agreement::default();
    for group in items(&file, "testGroups") {
        let set = match group.get("public") {
            Some(public) => public.clone(),
            None => group["private"].clone(),
        };
        for key in items(&set, "keys") {
            assert!(key.get("alg").is_some());
            assert!(
                key["kty"] == "oct" || key.get("d").is_none(),
                "no private asymmetric keys"
            );
        }
        let jwks = set.to_string();
        for test in items(group, "tests") {
            let id = test["tcId"].as_u64().unwrap();
            let label = str_of(test, "result");
            let expect = match label {
                "valid" => Expect::Accept,
                "invalid" => Expect::Reject,
                other => panic!("tcId {id}: unexpected result {other:?}"),
            };
            let outcome = check_jws(&jwks, str_of(test, "jws"));
            agreement.record(id, str_of(test, "comment"), label, expect, outcome);
        }
    }
    assert_eq!(
        agreement.total,
        file["numberOfTests"].as_u64().unwrap() as usize
    );
    agreement.finish("json_web_key_test.json");
}

// ---------------------------------------------------------------------------------------------
// JOSE cookbook.
// ---------------------------------------------------------------------------------------------

const PRIVATE_PARAMS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];

/// The public half of a cookbook example's key, as a JWK. RFC 7520's keys do not state `alg`;
/// Warden requires it for RSA and `oct` keys, and each example's `input.alg` is the algorithm the
/// key is used with there, so it is the intended binding. EC and OKP keys get their algorithm
/// from the curve, as in production.
fn cookbook_public_key(example: &Value) -> Map<String, Value> {
    let mut key = example["input"]["key"].as_object().unwrap().clone();
    for p in PRIVATE_PARAMS {
        key.remove(p);
    }
    let kty = key["kty"].as_str().unwrap().to_owned();
    if !key.contains_key("alg") && matches!(kty.as_str(), "RSA" | "oct") {
        key.insert("alg".into(), example["input"]["alg"].clone());
    }
    key
}

fn flip_one_char(segment: &str) -> String {
    let mut bytes = segment.as_bytes().to_vec();
    bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// An RFC 7520 compact example must verify: first the bare signature with the key (kid removed,
/// so only the cryptography is tested), then the whole token through parse + KeySet + verify, and
/// a tampered payload must not.
fn cookbook_verifies(name: &str, alg: Algorithm) {
    let example = load(&format!("jose-cookbook/jws/{name}"));
    let compact = str_of(&example["output"], "compact");
    let (input, sig) = compact.rsplit_once('.').unwrap();
    let payload = str_of(&example["input"], "payload");
    assert_eq!(
        input.split('.').nth(1),
        Some(b64(payload.as_bytes()).as_str())
    );

    let key = cookbook_public_key(&example);
    let mut anonymous = key.clone();
    anonymous.remove("kid");
    let bare = KeySet::from_jwks(&json!({ "keys": [anonymous] }).to_string()).unwrap();
    assert_eq!(bare.keys()[0].alg, alg);
    assert_eq!(
        JwtVerifier.verify(&bare.keys()[0], input.as_bytes(), &B64.decode(sig).unwrap()),
        Ok(()),
        "{name}: the signature itself must verify"
    );

    let jwks = json!({ "keys": [key] }).to_string();
    assert_eq!(
        check_jws(&jwks, compact),
        Outcome::JwsOnly,
        "{name}: the compact token must verify through parse + KeySet + JwtVerifier \
         (kid {:?})",
        key.get("kid")
    );
    let mut parts: Vec<String> = compact.split('.').map(String::from).collect();
    parts[1] = flip_one_char(&parts[1]);
    assert!(!check_jws(&jwks, &parts.join(".")).accepted());
}

#[test]
fn cookbook_rfc7520_4_1_rs256() {
    cookbook_verifies("4_1.rsa_v15_signature.json", Algorithm::RS256);
}

#[test]
fn cookbook_rfc7520_4_2_ps384() {
    cookbook_verifies("4_2.rsa-pss_signature.json", Algorithm::PS384);
}

#[test]
fn cookbook_rfc7520_4_4_hs256() {
    cookbook_verifies("4_4.hmac-sha2_integrity_protection.json", Algorithm::HS256);
}

/// RFC 7520 §4.3 is ES512 on P-521, which Warden does not support: the token is refused at parse
/// time as an unsupported algorithm (401 `invalid_token`), and the key is refused at load time.
#[test]
fn cookbook_rfc7520_4_3_es512_unsupported() {
    let example = load("jose-cookbook/jws/4_3.ecdsa_signature.json");
    let compact = str_of(&example["output"], "compact");
    let err = parse(compact).unwrap_err();
    assert_eq!(err, ParseError::UnsupportedAlgorithm);
    let denial = Denial::Malformed(err);
    assert_eq!(
        (denial.status(), denial.error(), denial.description()),
        (401, Some("invalid_token"), "algorithm not supported")
    );
    let key = cookbook_public_key(&example);
    let jwks = json!({ "keys": [key] }).to_string();
    assert!(matches!(
        KeySet::from_jwks(&jwks),
        Err(KeyError::Key { .. })
    ));
    // Without its kid (which has an `@`), the key is refused for its curve.
    let mut anonymous = key.clone();
    anonymous.remove("kid");
    match KeySet::from_jwks(&json!({ "keys": [anonymous] }).to_string()) {
        Err(KeyError::Key { reason, .. }) => assert!(reason.contains("curve"), "{reason}"),
        other => panic!("a P-521 key must be refused: {other:?}"),
    }
    assert_eq!(
        check_jws(&jwks, compact),
        Outcome::Parse(ParseError::UnsupportedAlgorithm)
    );
}

/// RFC 8037 appendix A.4: Ed25519 (`alg: EdDSA`, no `kid`; the key is bound by its curve).
#[test]
fn cookbook_rfc8037_ed25519() {
    let example = load("jose-cookbook/curve25519-jws.json");
    let compact = str_of(&example["output"], "compact");
    let key = cookbook_public_key(&example);
    let jwks = json!({ "keys": [key] }).to_string();
    assert_eq!(
        KeySet::from_jwks(&jwks).unwrap().keys()[0].alg,
        Algorithm::EdDSA
    );
    assert_eq!(check_jws(&jwks, compact), Outcome::JwsOnly);
    let (input, _) = compact.rsplit_once('.').unwrap();
    let forged = format!("{input}.{}", b64(&[0; 64]));
    assert_eq!(
        check_jws(&jwks, &forged),
        Outcome::Denied(Denial::BadSignature)
    );
}

/// RFC 7797 `b64: false`: the signatures in the examples are genuine (a verifier that honoured
/// `b64` would accept them), yet Warden refuses the tokens: in compact form the raw payload is not
/// base64url (or adds a fourth segment), and even with a well-formed payload the header itself is
/// refused (`crit` first when both are present, else `b64`).
#[test]
fn cookbook_rfc7797_b64_false_refused() {
    for (name, forbidden) in [
        ("hmac-sha2_b64_false.json", "crit"),
        ("4.2.hmac-sha2_b64_false.json", "b64"),
    ] {
        let example = load(&format!("jose-cookbook/rfc7797/{name}"));
        let jwks = json!({ "keys": [example["input"]["key"]] }).to_string();
        let keys = KeySet::from_jwks(&jwks).unwrap();
        let flat = &example["output"]["json_flat"];
        let (protected, payload, sig) = (
            str_of(flat, "protected"),
            str_of(flat, "payload"),
            str_of(flat, "signature"),
        );
        let signing_input = format!("{protected}.{payload}");
        assert_eq!(
            JwtVerifier.verify(
                &keys.keys()[0],
                signing_input.as_bytes(),
                &B64.decode(sig).unwrap()
            ),
            Ok(()),
            "{name}: the example's signature is genuine"
        );
        let compact = format!("{protected}.{payload}.{sig}");
        if let Some(given) = example["output"]["compact"].as_str() {
            assert_eq!(given, compact);
        }
        let err = parse(&compact).unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Base64(Part::Claims) | ParseError::SegmentCount
            ),
            "{name}: {err:?}"
        );
        assert!(!check_jws(&jwks, &compact).accepted());
        let encoded_payload = format!("{protected}.{}.{sig}", b64(payload.as_bytes()));
        assert_eq!(
            parse(&encoded_payload).unwrap_err(),
            ParseError::ForbiddenHeader(forbidden),
            "{name}"
        );
        let empty_claims = format!("{protected}.e30.{sig}");
        assert_eq!(
            parse(&empty_claims).unwrap_err(),
            ParseError::ForbiddenHeader(forbidden),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Primitive level: the SignatureVerifier on Wycheproof's signature files.
// ---------------------------------------------------------------------------------------------

/// Results of one primitive file.
#[derive(Default)]
struct Tally {
    /// Every signature must be refused, whatever its label (DER-encoded ECDSA).
    all_fail: bool,
    valid: (usize, usize),
    invalid: (usize, usize),
    acceptable_accepted: usize,
    acceptable_refused: usize,
    /// Tests whose key Warden refuses by policy (asserted refused), outside the agreement figures.
    key_refused: usize,
    /// Tests outside what JWS can express (e.g. truncated MACs), not run.
    skipped: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, id: u64, label: &str, comment: &str, verified: bool) {
        let all_fail = self.all_fail;
        let expected = match (all_fail, label) {
            (true, _) => Some(false),
            (false, "valid") => Some(true),
            (false, "invalid") => Some(false),
            (false, "acceptable") => None,
            (false, other) => panic!("tcId {id}: unexpected result {other:?}"),
        };
        let slot = match label {
            "valid" => &mut self.valid,
            "invalid" => &mut self.invalid,
            _ => {
                if verified {
                    self.acceptable_accepted += 1;
                } else {
                    self.acceptable_refused += 1;
                }
                if all_fail && verified {
                    self.failures
                        .push(format!("tcId {id} {comment:?} ({label}) verified"));
                }
                return;
            }
        };
        slot.1 += 1;
        if expected == Some(verified) {
            slot.0 += 1;
        } else {
            self.failures.push(format!(
                "tcId {id} {comment:?}: labelled {label}, verified = {verified}"
            ));
        }
    }

    fn finish(self, file: &str, expected_total: usize) {
        let run =
            self.valid.1 + self.invalid.1 + self.acceptable_accepted + self.acceptable_refused;
        println!(
            "{file}: valid {}/{} {}, invalid {}/{} refused, acceptable {} accepted / {} \
             refused, {} refused at key load by policy, {} skipped",
            self.valid.0,
            self.valid.1,
            if self.all_fail { "refused" } else { "verified" },
            self.invalid.0,
            self.invalid.1,
            self.acceptable_accepted,
            self.acceptable_refused,
            self.key_refused,
            self.skipped
        );
        assert_eq!(
            run + self.key_refused + self.skipped,
            expected_total,
            "{file}"
        );
        assert!(
            self.failures.is_empty(),
            "{file}: {} disagreements:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// Runs every test of a signature file with `JwtVerifier` directly: one single-key `KeySet` per
/// group (or per test, for MAC files), built from a JWK that `jwk` makes out of the group's public
/// key. When `all_fail`, every signature must be refused whatever its label.
fn run_primitive(
    name: &str,
    alg: Algorithm,
    all_fail: bool,
    jwk: impl Fn(&Value, &Value) -> Value,
) -> Tally {
    let file = wycheproof(name);
    let mut tally = Tally {
        all_fail,
        ..Tally::default()
    };
    for group in items(&file, "testGroups") {
        for test in items(group, "tests") {
            let id = test["tcId"].as_u64().unwrap();
            let keys = KeySet::from_jwks(&json!({ "keys": [jwk(group, test)] }).to_string())
                .unwrap_or_else(|e| panic!("{name} tcId {id}: key refused: {e}"));
            let key = &keys.keys()[0];
            assert_eq!(key.alg, alg);
            let verified = JwtVerifier
                .verify(key, &hex(str_of(test, "msg")), &hex(str_of(test, "sig")))
                .is_ok();
            tally.check(
                id,
                str_of(test, "result"),
                str_of(test, "comment"),
                verified,
            );
        }
    }
    tally
}

fn file_total(name: &str) -> usize {
    wycheproof(name)["numberOfTests"].as_u64().unwrap() as usize
}

/// `uncompressed` is `04 || X || Y` at full width, unlike `wx`/`wy`, which may carry a sign byte
/// or drop leading zeros; some groups have no ready-made JWK, so it is built here for all.
fn ec_jwk(group: &Value, crv: &str) -> Value {
    let point = hex(str_of(&group["publicKey"], "uncompressed"));
    assert_eq!(point[0], 4);
    let width = (point.len() - 1) / 2;
    json!({
        "kty": "EC",
        "crv": crv,
        "x": b64(&point[1..1 + width]),
        "y": b64(&point[1 + width..]),
    })
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    let name = "ecdsa_secp256r1_sha256_p1363_test.json";
    run_primitive(name, Algorithm::ES256, false, |g, _| ec_jwk(g, "P-256"))
        .finish(name, file_total(name));
}

#[test]
fn wycheproof_ecdsa_p384_p1363() {
    let name = "ecdsa_secp384r1_sha384_p1363_test.json";
    run_primitive(name, Algorithm::ES384, false, |g, _| ec_jwk(g, "P-384"))
        .finish(name, file_total(name));
}

/// JWS signatures are fixed-width `r || s`: DER-encoded signatures, valid ones included, must all
/// be refused.
#[test]
fn wycheproof_ecdsa_der_always_refused() {
    for (name, alg, crv) in [
        (
            "ecdsa_secp256r1_sha256_test.json",
            Algorithm::ES256,
            "P-256",
        ),
        (
            "ecdsa_secp384r1_sha384_test.json",
            Algorithm::ES384,
            "P-384",
        ),
    ] {
        run_primitive(name, alg, true, |g, _| ec_jwk(g, crv)).finish(name, file_total(name));
    }
}

#[test]
fn wycheproof_ed25519() {
    let name = "ed25519_test.json";
    run_primitive(name, Algorithm::EdDSA, false, |g, _| {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64(&hex(str_of(&g["publicKey"], "pk"))),
        })
    })
    .finish(name, file_total(name));
}

fn rsa_jwk(group: &Value, alg: Algorithm) -> Value {
    let public = &group["publicKey"];
    let n = hex(str_of(public, "modulus"));
    let zeros = n.iter().take_while(|b| **b == 0).count();
    json!({
        "kty": "RSA",
        "alg": alg.name(),
        "n": b64(&n[zeros..]),
        "e": b64(&hex(str_of(public, "publicExponent"))),
    })
}

#[test]
fn wycheproof_rsa_pkcs1() {
    for (name, alg) in [
        ("rsa_signature_2048_sha256_test.json", Algorithm::RS256),
        ("rsa_signature_2048_sha384_test.json", Algorithm::RS384),
        ("rsa_signature_2048_sha512_test.json", Algorithm::RS512),
    ] {
        run_primitive(name, alg, false, |g, _| rsa_jwk(g, alg)).finish(name, file_total(name));
    }
}

/// PS256/384/512 are RSASSA-PSS with MGF1 on the same hash and a salt as long as the hash
/// (RFC 7518 §3.5), which is what these files use (asserted).
#[test]
fn wycheproof_rsa_pss() {
    for (name, alg, hash, salt) in [
        (
            "rsa_pss_2048_sha256_mgf1_32_test.json",
            Algorithm::PS256,
            "SHA-256",
            32,
        ),
        (
            "rsa_pss_2048_sha384_mgf1_48_test.json",
            Algorithm::PS384,
            "SHA-384",
            48,
        ),
        (
            "rsa_pss_4096_sha512_mgf1_64_test.json",
            Algorithm::PS512,
            "SHA-512",
            64,
        ),
    ] {
        let tally = run_primitive(name, alg, false, |g, _| {
            assert_eq!(
                (g["sha"].as_str(), g["mgfSha"].as_str()),
                (Some(hash), Some(hash))
            );
            assert_eq!(g["sLen"], salt);
            rsa_jwk(g, alg)
        });
        tally.finish(name, file_total(name));
    }
}

/// HMAC files: only full-length tags exist in JWS, so groups with truncated tags are skipped.
/// Groups whose keys are shorter than the hash output are refused at key-set load (docs/security.md
/// row 15), which is asserted for every such test; they are outside the agreement figures.
#[test]
fn wycheproof_hmac() {
    for (name, alg, bits) in [
        ("hmac_sha256_test.json", Algorithm::HS256, 256),
        ("hmac_sha384_test.json", Algorithm::HS384, 384),
        ("hmac_sha512_test.json", Algorithm::HS512, 512),
    ] {
        let file = wycheproof(name);
        let mut tally = Tally::default();
        for group in items(&file, "testGroups") {
            let tests = items(group, "tests");
            if group["tagSize"] != bits {
                tally.skipped += tests.len();
                continue;
            }
            let short_key = group["keySize"].as_u64().unwrap() < bits;
            for test in tests {
                let id = test["tcId"].as_u64().unwrap();
                let jwk = json!({
                    "kty": "oct",
                    "alg": alg.name(),
                    "k": b64(&hex(str_of(test, "key"))),
                });
                let keys = KeySet::from_jwks(&json!({ "keys": [jwk] }).to_string());
                if short_key {
                    match keys {
                        Err(KeyError::Key { reason, .. }) => {
                            assert!(reason.contains("shorter"), "{name} tcId {id}: {reason}");
                            tally.key_refused += 1;
                        }
                        other => panic!("{name} tcId {id}: short key not refused: {other:?}"),
                    }
                    continue;
                }
                let keys = keys.unwrap_or_else(|e| panic!("{name} tcId {id}: {e}"));
                let verified = JwtVerifier
                    .verify(
                        &keys.keys()[0],
                        &hex(str_of(test, "msg")),
                        &hex(str_of(test, "tag")),
                    )
                    .is_ok();
                tally.check(
                    id,
                    str_of(test, "result"),
                    str_of(test, "comment"),
                    verified,
                );
            }
        }
        tally.finish(name, file["numberOfTests"].as_u64().unwrap() as usize);
    }
}
