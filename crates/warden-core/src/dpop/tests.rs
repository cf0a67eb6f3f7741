use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

use super::*;
use crate::b64;
use crate::keys::KeyMaterial;

// RFC 9449 §5 Figure 2 (a token request) and §7.1 Figure 13 (a resource request with `ath`),
// both signed by the key whose thumbprint §6.1 gives.
const RFC_TOKEN_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
const RFC_RESOURCE_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA";
const RFC_ACCESS_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

const ES256: &[Algorithm] = &DEFAULT_DPOP_ALGORITHMS;
const NOW: u64 = 1_700_000_000;
const URL: &str = "https://api.example.com/orders";
const TOKEN: &str = "h.c.s";

fn verifies(p: &Proof) -> bool {
    let KeyMaterial::Ec { x, y } = &p.key.material else {
        return false;
    };
    let mut point = alloc::vec![4u8];
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    let vk = VerifyingKey::from_sec1_bytes(&point).unwrap();
    let sig = Signature::from_slice(&p.signature).unwrap();
    vk.verify(p.signing_input.as_bytes(), &sig).is_ok()
}

fn cx(
    method: &'static str,
    url: &'static str,
    token: Option<&'static str>,
    now: u64,
) -> ProofContext<'static> {
    ProofContext {
        method,
        url,
        access_token: token,
        now,
        leeway: 5,
        max_age: 60,
        nonce: None,
    }
}

#[test]
fn rfc9449_examples() {
    let p = parse_proof(RFC_TOKEN_PROOF, ES256).unwrap();
    assert_eq!(p.jkt, RFC_JKT);
    assert_eq!(
        (p.jti.as_str(), p.htm.as_str(), p.htu.as_str(), p.iat),
        (
            "-BwC3ESc6acc2lTc",
            "POST",
            "https://server.example.com/token",
            1_562_262_616
        )
    );
    assert_eq!(p.key.alg, Algorithm::ES256);
    assert!(
        verifies(&p),
        "the example's signature verifies with the key the core extracted"
    );
    assert_eq!(
        p.check(&cx(
            "POST",
            "https://server.example.com/token",
            None,
            1_562_262_616
        )),
        Ok(())
    );

    let r = parse_proof(RFC_RESOURCE_PROOF, ES256).unwrap();
    assert_eq!(r.jkt, RFC_JKT);
    assert_eq!(
        r.ath.as_deref(),
        Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
    );
    assert_eq!(
        proof::ath_of(RFC_ACCESS_TOKEN),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    assert!(verifies(&r));
    let url = "https://resource.example.org/protectedresource";
    assert_eq!(
        r.check(&cx("GET", url, Some(RFC_ACCESS_TOKEN), 1_562_262_618)),
        Ok(())
    );
    assert_eq!(
        r.check(&cx("GET", url, Some("another"), 1_562_262_618)),
        Err(DpopError::AthMismatch)
    );
    // A signature over other bytes does not verify: the example is the real thing.
    let mut tampered = r.clone();
    tampered.signing_input.push('x');
    assert!(!verifies(&tampered));
}

/// A test signer: a P-256 key and proofs with any header and claims.
pub(crate) struct Signer256 {
    sk: SigningKey,
}

impl Signer256 {
    pub(crate) fn new(seed: u8) -> Self {
        let mut bytes = [seed; 32];
        bytes[0] = 1;
        Signer256 {
            sk: SigningKey::from_bytes(&bytes.into()).unwrap(),
        }
    }

    pub(crate) fn jwk(&self) -> String {
        let point = self.sk.verifying_key().to_encoded_point(false);
        format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
            b64::encode(point.x().unwrap()),
            b64::encode(point.y().unwrap())
        )
    }

    pub(crate) fn sign(&self, header: &str, claims: &str) -> String {
        let input = format!(
            "{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(claims.as_bytes())
        );
        let sig: Signature = self.sk.sign(input.as_bytes());
        format!("{input}.{}", b64::encode(&sig.to_bytes()))
    }

    pub(crate) fn header(&self) -> String {
        format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, self.jwk())
    }

    pub(crate) fn proof(&self, claims: &str) -> String {
        self.sign(&self.header(), claims)
    }

    fn good(&self, extra: &str) -> String {
        self.proof(&format!(
            r#"{{"jti":"j1","htm":"GET","htu":"{URL}","iat":{NOW},"ath":"{}"{extra}}}"#,
            proof::ath_of(TOKEN)
        ))
    }
}

fn invalid(text: &str) -> &'static str {
    match parse_proof(text, ES256) {
        Err(DpopError::Invalid(why)) => why,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_good_proof_passes_and_is_signed_by_its_jwk() {
    let s = Signer256::new(7);
    let p = parse_proof(&s.good(""), ES256).unwrap();
    assert!(verifies(&p));
    assert_eq!(p.check(&cx("GET", URL, Some(TOKEN), NOW)), Ok(()));
    let jwk = crate::json::parse_object(s.jwk().as_bytes()).unwrap();
    assert_eq!(Some(p.jkt.clone()), jwk_thumbprint(&jwk));
    // Signed by another key than the one it carries: the driver's verification fails.
    let other = Signer256::new(9);
    let forged = other.sign(
        &s.header(),
        r#"{"jti":"j","htm":"GET","htu":"https://a/","iat":1}"#,
    );
    assert!(!verifies(&parse_proof(&forged, ES256).unwrap()));
}

#[test]
fn header_rules() {
    let s = Signer256::new(7);
    let claims = format!(r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{NOW}}}"#);
    let jwk = s.jwk();
    let with = |h: String| s.sign(&h, &claims);
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"JWT","alg":"ES256","jwk":{jwk}}}"#
        ))),
        "DPoP proof typ is not dpop+jwt"
    );
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"DPoP+jwt","alg":"ES256","jwk":{jwk}}}"#
        ))),
        "DPoP proof typ is not dpop+jwt"
    );
    assert_eq!(
        invalid(&with(format!(r#"{{"alg":"ES256","jwk":{jwk}}}"#))),
        "DPoP proof typ is not dpop+jwt"
    );
    for alg in ["none", "HS256", "es256", "ES384x"] {
        assert_eq!(
            invalid(&with(format!(
                r#"{{"typ":"dpop+jwt","alg":"{alg}","jwk":{jwk}}}"#
            ))),
            "DPoP proof alg is not accepted"
        );
    }
    // HS256 stays refused even when listed: a proof's key is public.
    let hs = s.sign(
        r#"{"typ":"dpop+jwt","alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}"#,
        &claims,
    );
    assert!(parse_proof(&hs, &[Algorithm::HS256]).is_err());
    // ES256 not in the configured list.
    assert!(parse_proof(&s.good(""), &[Algorithm::EdDSA]).is_err());
    assert_eq!(
        invalid(&with(r#"{"typ":"dpop+jwt","alg":"ES256"}"#.into())),
        "DPoP proof has no jwk"
    );
    assert_eq!(
        invalid(&with(
            r#"{"typ":"dpop+jwt","alg":"ES256","jwk":"x"}"#.into()
        )),
        "DPoP proof has no jwk"
    );
    let private = jwk.replace('}', r#","d":"AAAA"}"#);
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{private}}}"#
        ))),
        "DPoP proof jwk holds a private key"
    );
    let other_alg = jwk.replace('}', r#","alg":"ES384"}"#);
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{other_alg}}}"#
        ))),
        "DPoP proof jwk alg is not the header alg"
    );
    let same_alg = jwk.replace('}', r#","alg":"ES256","kid":"any thing at all"}"#);
    assert!(parse_proof(
        &with(format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{same_alg}}}"#
        )),
        ES256
    )
    .is_ok());
    // A P-256 key under an EdDSA or RS256 header; a P-384 curve name on P-256 coordinates.
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"dpop+jwt","alg":"EdDSA","jwk":{jwk}}}"#
        ))),
        "DPoP proof jwk is not a public key for its alg"
    );
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"dpop+jwt","alg":"RS256","jwk":{jwk}}}"#
        ))),
        "DPoP proof jwk is not a public key for its alg"
    );
    let p384 = jwk.replace("P-256", "P-384");
    assert!(parse_proof(
        &with(format!(
            r#"{{"typ":"dpop+jwt","alg":"ES384","jwk":{p384}}}"#
        )),
        &[Algorithm::ES384]
    )
    .is_err());
    for p in ["crit", "b64", "jku", "x5u", "x5c"] {
        assert_eq!(
            invalid(&with(format!(
                r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk},"{p}":[]}}"#
            ))),
            "DPoP proof header has a parameter not accepted"
        );
    }
    // Duplicate keys, at any depth.
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}"#
        ))),
        "DPoP proof header is not a JSON object"
    );
    let dup = jwk.replace('}', r#","x":"AA"}"#);
    assert_eq!(
        invalid(&with(format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{dup}}}"#
        ))),
        "DPoP proof header is not a JSON object"
    );
}

#[test]
fn form_rules() {
    let s = Signer256::new(7);
    let good = s.good("");
    assert_eq!(invalid(""), "DPoP proof is empty or too large");
    assert_eq!(
        invalid(&"a".repeat(MAX_PROOF_LEN + 1)),
        "DPoP proof is empty or too large"
    );
    assert_eq!(invalid("a.b"), "DPoP proof is not a compact JWS");
    assert_eq!(
        invalid(&format!("{good}.x")),
        "DPoP proof is not a compact JWS"
    );
    assert_eq!(invalid(&format!("{good}=")), "DPoP proof is not base64url");
    assert_eq!(
        invalid(&good.replacen('e', "+", 1)),
        "DPoP proof is not base64url"
    );
    // Two DPoP headers as the Fetch API joins them: never a proof.
    assert!(parse_proof(&format!("{good}, {good}"), ES256).is_err());
}

#[test]
fn claim_rules() {
    let s = Signer256::new(7);
    let claims = |c: &str| invalid(&s.proof(c));
    let iat = NOW;
    assert_eq!(
        claims(&format!(r#"{{"htm":"GET","htu":"{URL}","iat":{iat}}}"#)),
        "DPoP proof jti is missing or invalid"
    );
    assert_eq!(
        claims(&format!(
            r#"{{"jti":"","htm":"GET","htu":"{URL}","iat":{iat}}}"#
        )),
        "DPoP proof jti is missing or invalid"
    );
    assert_eq!(
        claims(&format!(
            r#"{{"jti":7,"htm":"GET","htu":"{URL}","iat":{iat}}}"#
        )),
        "DPoP proof jti is missing or invalid"
    );
    let long = "j".repeat(257);
    assert_eq!(
        claims(&format!(
            r#"{{"jti":"{long}","htm":"GET","htu":"{URL}","iat":{iat}}}"#
        )),
        "DPoP proof jti is missing or invalid"
    );
    let max = "j".repeat(256);
    assert!(parse_proof(
        &s.proof(&format!(
            r#"{{"jti":"{max}","htm":"GET","htu":"{URL}","iat":{iat}}}"#
        )),
        ES256
    )
    .is_ok());
    assert_eq!(
        claims(&format!(r#"{{"jti":"j","htu":"{URL}","iat":{iat}}}"#)),
        "DPoP proof htm is missing"
    );
    assert_eq!(
        claims(&format!(r#"{{"jti":"j","htm":"GET","iat":{iat}}}"#)),
        "DPoP proof htu is missing"
    );
    for bad in ["\"1\"", "1.5", "-1", "253402300800"] {
        assert_eq!(
            claims(&format!(
                r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{bad}}}"#
            )),
            "DPoP proof iat is missing or invalid"
        );
    }
    assert_eq!(
        claims(&format!(
            r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{iat},"ath":1}}"#
        )),
        "DPoP proof ath is not a string"
    );
    assert_eq!(
        claims(&format!(
            r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{iat},"nonce":null}}"#
        )),
        "DPoP proof nonce is not a string"
    );
}

#[test]
fn request_rules() {
    let s = Signer256::new(7);
    let p = parse_proof(&s.good(""), ES256).unwrap();
    let check = |m, u, t, now| p.check(&cx(m, u, t, now));
    assert_eq!(
        check("POST", URL, Some(TOKEN), NOW),
        Err(DpopError::HtmMismatch)
    );
    assert_eq!(
        check("get", URL, Some(TOKEN), NOW),
        Err(DpopError::HtmMismatch)
    );
    assert_eq!(
        check("GET", "https://api.example.com/order", Some(TOKEN), NOW),
        Err(DpopError::HtuMismatch)
    );
    assert_eq!(
        check("GET", "https://other.example.com/orders", Some(TOKEN), NOW),
        Err(DpopError::HtuMismatch)
    );
    assert_eq!(
        check("GET", "http://api.example.com/orders", Some(TOKEN), NOW),
        Err(DpopError::HtuMismatch)
    );
    // The request's query does not matter; its normal form does not either.
    assert_eq!(
        check(
            "GET",
            "https://API.example.com:443/orders?page=2#x",
            Some(TOKEN),
            NOW
        ),
        Ok(())
    );
    assert_eq!(
        check("GET", URL, Some("h.c.t"), NOW),
        Err(DpopError::AthMismatch)
    );
    // A proof without ath is refused whenever a token is presented.
    let no_ath = parse_proof(
        &s.proof(&format!(
            r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{NOW}}}"#
        )),
        ES256,
    )
    .unwrap();
    assert_eq!(
        no_ath.check(&cx("GET", URL, Some(TOKEN), NOW)),
        Err(DpopError::AthMissing)
    );
    assert_eq!(no_ath.check(&cx("GET", URL, None, NOW)), Ok(()));
    // iat: at most leeway (5) ahead, at most max_age + leeway (65) behind.
    assert_eq!(check("GET", URL, Some(TOKEN), NOW - 5), Ok(()));
    assert_eq!(
        check("GET", URL, Some(TOKEN), NOW - 6),
        Err(DpopError::FromFuture)
    );
    assert_eq!(check("GET", URL, Some(TOKEN), NOW + 65), Ok(()));
    assert_eq!(
        check("GET", URL, Some(TOKEN), NOW + 66),
        Err(DpopError::Expired)
    );
    assert_eq!(
        p.replay_until(60, 5),
        NOW + 66,
        "remembered exactly while it could be accepted"
    );
}

#[test]
fn nonces_are_stateless_and_last_two_steps() {
    let key = NonceKey::new(b"a nonce secret of enough length!").unwrap();
    assert!(NonceKey::new(b"").is_none());
    let t = 1_000_000 * NONCE_STEP_SECONDS; // the start of a step
    let n = key.current(t);
    assert_eq!(
        n,
        key.current(t + NONCE_STEP_SECONDS - 1),
        "one nonce per step"
    );
    assert!(key.accepts(&n, t));
    assert!(
        key.accepts(&n, t + NONCE_STEP_SECONDS),
        "the previous step's nonce"
    );
    assert!(key.accepts(&n, t + 2 * NONCE_STEP_SECONDS - 1));
    assert!(
        !key.accepts(&n, t + 2 * NONCE_STEP_SECONDS),
        "two steps old"
    );
    assert!(!key.accepts(&n, t - 1), "a nonce from the future");
    assert!(!key.accepts(&n[..n.len() - 1], t));
    assert!(!key.accepts("", t));
    let other = NonceKey::new(b"another secret, another nonce!!!").unwrap();
    assert!(!other.accepts(&n, t));
    assert!(!format!("{key:?}").contains("secret"));

    let s = Signer256::new(7);
    let policy_cx = |nonce: Option<&'static NonceKey>, now| ProofContext {
        nonce,
        ..cx("GET", URL, Some(TOKEN), now)
    };
    let key: &'static NonceKey = alloc::boxed::Box::leak(alloc::boxed::Box::new(key));
    let p = parse_proof(&s.good(""), ES256).unwrap();
    assert_eq!(
        p.check(&policy_cx(Some(key), NOW)),
        Err(DpopError::NonceMissing)
    );
    let current = key.current(NOW);
    let with_nonce = parse_proof(&s.good(&format!(r#","nonce":"{current}""#)), ES256).unwrap();
    assert_eq!(with_nonce.check(&policy_cx(Some(key), NOW)), Ok(()));
    let stale = key.current(NOW - 2 * NONCE_STEP_SECONDS);
    let old = parse_proof(&s.good(&format!(r#","nonce":"{stale}""#)), ES256).unwrap();
    assert_eq!(
        old.check(&policy_cx(Some(key), NOW)),
        Err(DpopError::NonceStale)
    );
    // Nonces off: a nonce is carried, not judged.
    assert_eq!(old.check(&policy_cx(None, NOW)), Ok(()));
}

#[test]
fn htu_normalization() {
    let n = |u: &str| normalize_htu(u);
    let same = |a: &str, b: &str| assert_eq!(n(a), n(b), "{a} vs {b}");
    assert_eq!(
        n("https://api.example.com/orders").as_deref(),
        Some("https://api.example.com/orders")
    );
    same(
        "HTTPS://API.EXAMPLE.COM/orders",
        "https://api.example.com/orders",
    );
    same(
        "https://api.example.com:443/orders",
        "https://api.example.com/orders",
    );
    same(
        "http://api.example.com:80/orders",
        "http://api.example.com/orders",
    );
    same(
        "https://api.example.com:/orders",
        "https://api.example.com/orders",
    );
    same("https://api.example.com", "https://api.example.com/");
    same(
        "https://api.example.com/orders?x=1#f",
        "https://api.example.com/orders",
    );
    same(
        "https://api.example.com/a%2fb",
        "https://api.example.com/a%2Fb",
    );
    same(
        "https://api.example.com/%7Euser/%41",
        "https://api.example.com/~user/A",
    );
    same("https://[::1]:8443/x", "https://[::1]:08443/x");
    for (url, reads) in [
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
        ("https://[::1]/x", "https://[::1]/x"),
        ("https://[::1]:443/x", "https://[::1]/x"),
    ] {
        assert_eq!(n(url).as_deref(), Some(reads), "{url}");
    }
    assert_eq!(n("https://[::1]8443/x"), None, "after ] only a port");
    // The highest port is a port; one more is not.
    assert_eq!(
        n("https://api.example.com:65535/x").as_deref(),
        Some("https://api.example.com:65535/x")
    );
    assert_eq!(n("https://api.example.com:65536/x"), None);
    assert_ne!(
        n("https://api.example.com:8443/orders"),
        n("https://api.example.com/orders")
    );
    assert_ne!(
        n("http://api.example.com:443/orders"),
        n("https://api.example.com/orders")
    );
    assert_ne!(
        n("https://api.example.com/Orders"),
        n("https://api.example.com/orders"),
        "the path is case-sensitive"
    );
    assert_ne!(
        n("https://api.example.com/orders/"),
        n("https://api.example.com/orders")
    );
    assert_ne!(
        n("https://api.example.com/a%2Fb"),
        n("https://api.example.com/a/b"),
        "an encoded / is not a /"
    );
    for refused in [
        "ftp://api.example.com/x",
        "https://user@api.example.com/x",
        "https:///x",
        "https://api.example.com/a/../b",
        "https://api.example.com/a/./b",
        "https://api.example.com/a/%2e%2E/b",
        "https://api.example.com/%2e",
        "https://api.example.com/a%zz",
        "https://api.example.com/a%2",
        "https://api.example.com/a b",
        "https://api.example.com/é",
        "https://api.example.com:99999/x",
        "https://api.example.com:8o/x",
        "https://a:b:c/x",
        "api.example.com/x",
        "https:/api.example.com/x",
        "https:api.example.com//x",
        "a:https://api.example.com/x",
        "https:x://api.example.com/x",
        "",
    ] {
        assert_eq!(n(refused), None, "{refused}");
    }
}

#[test]
fn thumbprints_and_certificates() {
    let jwk = |s: &str| crate::json::parse_object(s.as_bytes()).unwrap();
    // Member order and extra members do not change the thumbprint.
    let a = jwk(
        r#"{"crv":"P-256","kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","kid":"k","use":"sig"}"#,
    );
    assert_eq!(jwk_thumbprint(&a).as_deref(), Some(RFC_JKT));
    assert_eq!(jwk_thumbprint(&jwk(r#"{"kty":"oct","k":"AAAA"}"#)), None);
    assert_eq!(
        jwk_thumbprint(&jwk(r#"{"kty":"EC","crv":"P-256","x":"AA"}"#)),
        None
    );
    // RFC 8037 §A.3: the Ed25519 example key's thumbprint.
    let ed =
        jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#);
    assert_eq!(
        jwk_thumbprint(&ed).as_deref(),
        Some("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    );
    // A member that would need escaping in the thumbprint's JSON names no key (RFC 7638 §3.1).
    for x in [r#"a\"b"#, r#"a\\b"#, "a b", "é"] {
        let text = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#);
        assert_eq!(jwk_thumbprint(&jwk(&text)), None, "{text}");
    }

    let hex: String = (0u8..32).map(|b| format!("{b:02x}")).collect();
    let bound = b64::encode(&(0u8..32).collect::<Vec<u8>>());
    assert!(certificate_matches(&hex, &bound));
    assert!(certificate_matches(&hex.to_uppercase(), &bound));
    assert!(!certificate_matches(&hex[2..], &bound));
    assert!(!certificate_matches(&format!("{}zz", &hex[2..]), &bound));
    assert!(!certificate_matches(&hex, &b64::encode(&[0u8; 32])));
    assert!(!certificate_matches(&hex, &format!("{bound}=")));
    assert!(!certificate_matches("", ""));
}

fn token_with(claims: &str) -> crate::Token {
    let h = b64::encode(br#"{"alg":"ES256"}"#);
    crate::parse(&format!(
        "{h}.{}.{}",
        b64::encode(claims.as_bytes()),
        b64::encode(&[0u8; 64])
    ))
    .unwrap()
}

#[test]
fn confirmations() {
    let of = |c: &str| Confirmation::of(&token_with(c));
    assert_eq!(of(r#"{"sub":"a"}"#), Ok(Confirmation::default()));
    assert_eq!(
        of(r#"{"cnf":{"jkt":"abc"}}"#).unwrap().jkt.as_deref(),
        Some("abc")
    );
    assert_eq!(
        of(r#"{"cnf":{"x5t#S256":"abc"}}"#)
            .unwrap()
            .x5t_s256
            .as_deref(),
        Some("abc")
    );
    for bad in [
        r#"{"cnf":"abc"}"#,
        r#"{"cnf":{"jkt":1}}"#,
        r#"{"cnf":{"jkt":""}}"#,
        r#"{"cnf":{"x5t#S256":null}}"#,
    ] {
        assert_eq!(of(bad).unwrap_err().code(), "token_claim_invalid", "{bad}");
    }
    assert_eq!(
        of(r#"{"cnf":{"jwk":{}}}"#).unwrap_err().code(),
        "token_binding_mismatch"
    );
    assert_eq!(
        of(r#"{"cnf":{}}"#).unwrap_err().code(),
        "token_binding_mismatch"
    );
}

#[test]
fn errors_have_stable_codes_and_distinct_descriptions() {
    let all = [
        DpopError::Invalid("DPoP proof typ is not dpop+jwt"),
        DpopError::BadSignature,
        DpopError::Replayed,
        DpopError::HtmMismatch,
        DpopError::HtuMismatch,
        DpopError::AthMissing,
        DpopError::AthMismatch,
        DpopError::KeyMismatch,
        DpopError::NonceMissing,
        DpopError::NonceStale,
        DpopError::Expired,
        DpopError::FromFuture,
        DpopError::BoundTokenAsBearer,
        DpopError::Required,
        DpopError::BindingMismatch,
    ];
    let mut descriptions: Vec<&str> = all.iter().map(DpopError::description).collect();
    descriptions.sort_unstable();
    descriptions.dedup();
    assert_eq!(descriptions.len(), all.len());
    for e in all {
        let d = crate::Denial::Dpop(e);
        assert_eq!(d.status(), 401);
        assert!(e
            .description()
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'));
        let challenge = d.dpop_challenge("ES256 EdDSA").unwrap();
        assert!(
            challenge.starts_with(&format!("DPoP error=\"{}\"", e.error())),
            "{challenge}"
        );
        assert!(challenge.ends_with(", algs=\"ES256 EdDSA\""), "{challenge}");
        // The message is the description, and only the two nonce errors ask for a nonce.
        assert_eq!(e.to_string(), e.description());
        assert_eq!(
            e.wants_nonce(),
            matches!(e, DpopError::NonceMissing | DpopError::NonceStale),
            "{e:?}"
        );
    }
    let codes: Vec<String> = all.iter().map(|e| e.code().to_string()).collect();
    for code in [
        "dpop_proof_invalid",
        "dpop_replayed",
        "dpop_htm_mismatch",
        "dpop_htu_mismatch",
        "dpop_ath_mismatch",
        "dpop_key_mismatch",
        "dpop_nonce_required",
        "dpop_proof_expired",
        "dpop_bound_token_as_bearer",
        "token_binding_mismatch",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code}");
    }
    assert_eq!(DpopError::NonceStale.error(), "use_dpop_nonce");
    assert_eq!(DpopError::BoundTokenAsBearer.error(), "invalid_token");
    assert_eq!(DpopError::KeyMismatch.error(), "invalid_dpop_proof");
    assert_eq!(
        crate::Denial::Missing.dpop_challenge("ES256").as_deref(),
        Some("DPoP algs=\"ES256\"")
    );
    assert_eq!(
        crate::Denial::StoreUnavailable.dpop_challenge("ES256"),
        None
    );
    assert_eq!(DpopPolicy::default().algs(), "ES256 EdDSA RS256 PS256");
    // `WARDEN_DPOP`: exactly these three names, each read back as itself.
    for (mode, name) in [
        (DpopMode::Allowed, "allowed"),
        (DpopMode::Required, "required"),
        (DpopMode::Off, "off"),
    ] {
        assert_eq!(mode.name(), name);
        assert_eq!(DpopMode::from_name(name), Some(mode));
    }
    for name in ["Required", "", "on", "allowed ", "xyzzy"] {
        assert_eq!(DpopMode::from_name(name), None, "{name:?}");
    }
}

#[test]
fn what_a_client_puts_in_its_proofs() {
    // A proof's jwk is the thumbprint's members: a key reduced to them keeps its thumbprint, and
    // is a public key of the type its algorithm takes.
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let cases = [
        (
            Algorithm::ES256,
            r#"{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","kid":"k","key_ops":["verify"],"ext":true}"#.to_string(),
            RFC_JKT,
        ),
        (
            Algorithm::EdDSA,
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"EdDSA"}"#.to_string(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
        ),
        (
            // RFC 7638 §3.1: the example key and its thumbprint.
            Algorithm::RS256,
            format!(r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}"#),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
        ),
    ];
    for (alg, text, jkt) in cases {
        let full = crate::json::parse_object(text.as_bytes()).unwrap();
        let members = proof_jwk_members(alg).unwrap();
        let mut sorted = members.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, members, "lexicographic order");
        let reduced: serde_json::Map<String, serde_json::Value> = members
            .iter()
            .map(|m| (m.to_string(), full[*m].clone()))
            .collect();
        assert_eq!(jwk_thumbprint(&full).as_deref(), Some(jkt), "{alg:?}");
        assert_eq!(jwk_thumbprint(&reduced).as_deref(), Some(jkt), "{alg:?}");
        assert_eq!(jwk::proof_key(&reduced, alg).unwrap().alg, alg);
    }
    for alg in [Algorithm::PS256, Algorithm::PS512, Algorithm::RS512] {
        assert_eq!(proof_jwk_members(alg), proof_jwk_members(Algorithm::RS256));
    }
    assert_eq!(
        proof_jwk_members(Algorithm::ES384),
        proof_jwk_members(Algorithm::ES256)
    );
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        assert_eq!(proof_jwk_members(alg), None, "never a symmetric key");
    }
    // `ath` is what the check compares.
    assert_eq!(
        access_token_hash(RFC_ACCESS_TOKEN),
        proof::ath_of(RFC_ACCESS_TOKEN)
    );
    let r = parse_proof(RFC_RESOURCE_PROOF, ES256).unwrap();
    assert_eq!(r.ath, Some(access_token_hash(RFC_ACCESS_TOKEN)));
}

#[test]
fn replay_ids_shard_by_their_first_four_bytes() {
    let id = |first: [u8; 4]| {
        let mut id = [0xAAu8; 32];
        id[..4].copy_from_slice(&first);
        ReplayId { id, until: NOW }
    };
    // 0x00000102 = 258.
    let r = id([0, 0, 1, 2]);
    assert_eq!(r.shard(16), 2);
    assert_eq!(r.shard(1_000), 258);
    assert_eq!(r.shard(1), 0);
    assert_eq!(r.shard(0), 0, "no shards means one");
    assert_eq!(id([0xFF; 4]).shard(u32::MAX), 0);
    // Every shard is used.
    let mut used = [false; 16];
    for b in 0..=255u8 {
        let s = id([b, 7, b, b]).shard(16);
        assert!(s < 16);
        used[s as usize] = true;
    }
    assert!(used.iter().all(|u| *u));
}

#[test]
fn nonce_keys_compare_by_secret_and_never_print_it() {
    let a = NonceKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let same = NonceKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let other = NonceKey::new(b"0123456789abcdef0123456789abcdeF").unwrap();
    assert_eq!(a, same);
    assert_ne!(a, other);
    assert_eq!(format!("{a:?}"), "NonceKey(32 bytes)");
    assert!(NonceKey::new(b"").is_none());
}

#[test]
fn proofs_are_equal_by_key_signed_text_and_signature() {
    let s = Signer256::new(7);
    let p = parse_proof(&s.good(""), ES256).unwrap();
    assert_eq!(p, parse_proof(&s.good(""), ES256).unwrap());
    let differs = |change: &dyn Fn(&mut Proof)| {
        let mut q = p.clone();
        change(&mut q);
        q != p
    };
    assert!(differs(&|q| q.key.alg = Algorithm::ES384));
    let other = parse_proof(&Signer256::new(8).good(""), ES256).unwrap();
    assert!(differs(&|q| q.key.material = other.key.material.clone()));
    assert!(differs(&|q| q.signing_input.push('x')));
    assert!(differs(&|q| q.signature[0] ^= 1));
    // What follows from the signed text is not compared again.
    assert!(!differs(&|q| q.jti.push('x')));
}

#[test]
fn replay_ids_are_per_key_and_jti() {
    let (a, b) = (Signer256::new(7), Signer256::new(8));
    let claims = |jti: &str| format!(r#"{{"jti":"{jti}","htm":"GET","htu":"{URL}","iat":{NOW}}}"#);
    let id = |s: &Signer256, jti: &str| {
        let p = parse_proof(&s.proof(&claims(jti)), ES256).unwrap();
        // SHA-256 of the thumbprint, a dot and the jti.
        let mut text = p.jkt.clone();
        text.push('.');
        text.push_str(jti);
        assert_eq!(p.replay_id(), crate::digest::token_digest(&text));
        p.replay_id()
    };
    assert_ne!(id(&a, "j1"), id(&a, "j2"));
    assert_ne!(id(&a, "j1"), id(&b, "j1"));
    assert_eq!(id(&a, "j1"), id(&a, "j1"));
}

#[test]
fn a_proof_may_take_exactly_max_proof_len_bytes() {
    let at_limit = "a".repeat(MAX_PROOF_LEN);
    assert_eq!(invalid(&at_limit), "DPoP proof is not a compact JWS");
    let over = "a".repeat(MAX_PROOF_LEN + 1);
    assert_eq!(invalid(&over), "DPoP proof is empty or too large");
    assert_eq!(invalid(""), "DPoP proof is empty or too large");
}
