//! DPoP, the client half (RFC 9449; the full build): a key pair kept in WebCrypto, proofs signed
//! with it, and RFC 7638 thumbprints, made so that the edge accepts them.
//!
//! What goes in a proof is the core's to say, read exactly as the edge reads it: the accepted
//! algorithms ([`warden_core::DEFAULT_DPOP_ALGORITHMS`]), the one reading of `htu`
//! ([`normalize_htu`]), `ath` ([`access_token_hash`]), the members of the proof's `jwk`
//! ([`proof_jwk_members`]) and the thumbprint ([`warden_core::jwk_thumbprint`]); `iat` is the
//! server's time, from the package's clock options. The WebCrypto calls and the JWS's JSON and
//! base64url are JavaScript (`src/dpop.js`): they are asynchronous, and a Promise chained in
//! JavaScript keeps Rust futures and their glue out of the build, as `verify` does.

use js_sys::Promise;
use warden_core::{
    access_token_hash, normalize_htu, parse_json_object, proof_jwk_members, Algorithm, Denial,
    DEFAULT_DPOP_ALGORITHMS, MIN_RSA_BITS,
};
use wasm_bindgen::prelude::*;

use crate::js::{concat, denial_error, json_text, range_error, type_error, Clock, Options};

#[wasm_bindgen(module = "/src/dpop.js")]
extern "C" {
    /// A non-extractable key pair for `alg` (RSA of `bits`), resolving to `{ privateKey,
    /// publicKey, alg, jwk }` (`jwk`: the public key's `members`); rejects with an `Error`
    /// carrying `code` when the platform cannot make one.
    fn generate(alg: &str, bits: u32, members: &str, code: &str) -> Promise;
    /// The JWS `alg` of `{ privateKey, publicKey }` CryptoKeys (RSA of at least `bits`), or
    /// `None` when it is no such pair or of no algorithm DPoP proofs are signed with.
    #[wasm_bindgen(js_name = pairAlg, catch)]
    fn pair_alg(pair: &JsValue, bits: u32) -> Result<Option<String>, JsValue>;
    /// The signed proof for these claims (a fresh `jti` added), its header carrying the public
    /// key's `members`; rejects with an `Error` carrying `code` when WebCrypto fails.
    #[allow(clippy::too_many_arguments)]
    fn prove(
        pair: &JsValue,
        alg: &str,
        members: &str,
        htm: &str,
        htu: &str,
        iat: f64,
        ath: Option<&str>,
        nonce: Option<&str>,
        code: &str,
    ) -> Promise;
}

#[wasm_bindgen(typescript_custom_section)]
const TS_DPOP: &'static str = r#"
/** The algorithms DPoP keys are made for: those the edge accepts by default (`WARDEN_DPOP_ALGORITHMS`). */
export type DpopAlgorithm = "ES256" | "EdDSA" | "RS256" | "PS256";

/** Options for `generateDpopKey`. */
export interface DpopKeyOptions {
  /** Default: `ES256`. `EdDSA` (Ed25519) needs a platform whose WebCrypto has it. */
  alg?: DpopAlgorithm;
}

/** A public key as a proof's header carries it: the RFC 7638 required members only. */
export interface DpopPublicJwk {
  kty: "EC" | "OKP" | "RSA";
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/**
 * A DPoP key pair: WebCrypto keys (the private one non-extractable), the algorithm and the public
 * JWK. Structured-cloneable: keep it in IndexedDB to keep the key across page loads.
 */
export interface DpopKeyPair extends CryptoKeyPair {
  alg: DpopAlgorithm;
  jwk: DpopPublicJwk;
}

/** Options for `createDpopProof`: the request the proof goes with, and the clock. */
export interface DpopProofOptions {
  /** The request's method, e.g. `GET` (`get`, `post`, ... are upper-cased, as `fetch` does). */
  htm: string;
  /** The request's absolute http(s) URL; the query and fragment are left out. */
  htu: string;
  /** The access token sent with the proof (`Authorization: DPoP <token>`): adds `ath`. */
  accessToken?: string;
  /** A server nonce (the `DPoP-Nonce` answer header). */
  nonce?: string;
  /** The local time, in whole Unix seconds. Default: `Math.floor(Date.now() / 1000)`. */
  now?: number;
  /** The server's clock minus the local clock, in whole seconds (`estimateClockOffset`). `iat` is `now + clockOffset`. Default: 0. */
  clockOffset?: number;
}
"#;

/// The algorithm named `name`, when DPoP keys are made for it: one the edge accepts by default
/// ([`warden_core::DEFAULT_DPOP_ALGORITHMS`], `WARDEN_DPOP_ALGORITHMS`), never a symmetric one.
fn dpop_alg(name: &str) -> Option<Algorithm> {
    Algorithm::from_name(name).filter(|a| !a.is_symmetric() && DEFAULT_DPOP_ALGORITHMS.contains(a))
}

/// What [`dpop_alg`] accepts, for messages.
const DPOP_ALGS: &str = "ES256, EdDSA, RS256 or PS256";

/// The members of a proof's `jwk` for `alg`, each followed by a space.
fn members(alg: Algorithm) -> String {
    let mut out = String::new();
    for m in proof_jwk_members(alg).unwrap_or_default() {
        out.push_str(m);
        out.push(' ');
    }
    out
}

/// The rejection where this platform has no WebCrypto.
fn no_webcrypto() -> JsValue {
    denial_error(
        &Denial::KeysUnavailable,
        "WebCrypto (crypto.subtle) is not available here, and DPoP keys live in it: browsers \
         have it in secure contexts only (https, localhost); Node 18 needs \
         --experimental-global-webcrypto",
    )
}

fn keys_unavailable_code() -> &'static str {
    Denial::KeysUnavailable.code()
}

/// Makes a DPoP key pair in the platform's WebCrypto: `{ privateKey, publicKey, alg, jwk }`.
///
/// `alg` (default `ES256`; also `EdDSA`, `RS256`, `PS256`, RSA keys of 2048 bits) is one the edge
/// accepts by default. The private key is **not extractable**: no script can read it, only sign
/// with it. `jwk` is the public key as proofs carry it (RFC 7638's required members). The pair
/// is structured-cloneable, so it can be kept in IndexedDB.
///
/// Rejects with a `RangeError` (`code: "invalid_request"`) for another `alg`, a `TypeError` for
/// options of the wrong type or unknown options, and an `Error` with `code: "keys_unavailable"`
/// where WebCrypto is missing or cannot make such a key (Ed25519 on an older platform).
#[wasm_bindgen(js_name = generateDpopKey, unchecked_return_type = "Promise<DpopKeyPair>")]
pub fn generate_dpop_key(
    #[wasm_bindgen(unchecked_optional_param_type = "DpopKeyOptions")] options: Option<JsValue>,
) -> Promise {
    let start = || -> Result<Promise, JsValue> {
        let o = Options::read(options, "DPoP key options", "alg")?;
        let name = o.string("alg")?;
        let alg = match name.as_deref() {
            None => Algorithm::ES256,
            Some(name) => dpop_alg(name).ok_or_else(|| {
                range_error(&concat(&["DPoP key options: `alg` must be ", DPOP_ALGS]))
            })?,
        };
        if !warden_webcrypto::available() {
            return Err(no_webcrypto());
        }
        Ok(generate(
            alg.name(),
            MIN_RSA_BITS as u32,
            &members(alg),
            keys_unavailable_code(),
        ))
    };
    start().unwrap_or_else(|e| Promise::reject(&e))
}

/// Signs a DPoP proof (RFC 9449 §4.2) for one request with `keyPair` (from `generateDpopKey`,
/// or another `{ privateKey, publicKey }` WebCrypto pair of ES256, EdDSA, RS256 or PS256):
/// resolves to the compact JWS to send as the `DPoP` header.
///
/// The header is `{ typ: "dpop+jwt", alg, jwk }` (the public key, its RFC 7638 members only);
/// the claims are a fresh random `jti` (128 bits), `htm` as `fetch` sends it (`get` is `GET`),
/// `htu` in the edge's reading (scheme and host lower-case, default port, query and fragment
/// dropped), `iat` = `now + clockOffset` (the server's time, as everywhere in the package),
/// `ath` (base64url SHA-256 of `accessToken`) when a token is given, and `nonce` when given.
///
/// Rejects with a `TypeError` (`code: "invalid_request"`) for a key pair that is not one, an
/// `htm` that is not a method, an `htu` that is not an absolute http(s) URL, an `accessToken`
/// or `nonce` with characters they cannot have, and options of the wrong type or unknown; a
/// `RangeError` for clock options out of range; an `Error` with `code: "keys_unavailable"`
/// when WebCrypto fails to sign.
#[wasm_bindgen(js_name = createDpopProof, unchecked_return_type = "Promise<string>")]
pub fn create_dpop_proof(
    #[wasm_bindgen(js_name = keyPair, unchecked_param_type = "CryptoKeyPair")] key_pair: JsValue,
    #[wasm_bindgen(unchecked_param_type = "DpopProofOptions")] options: JsValue,
) -> Promise {
    let start = || -> Result<Promise, JsValue> {
        if !warden_webcrypto::available() {
            return Err(no_webcrypto());
        }
        let alg = pair_alg(&key_pair, MIN_RSA_BITS as u32)?
            .as_deref()
            .and_then(dpop_alg)
            .ok_or_else(|| {
                type_error(&concat(&[
                    "keyPair must be { privateKey, publicKey } WebCrypto keys of ",
                    DPOP_ALGS,
                    ", the private one for signing (generateDpopKey)",
                ]))
            })?;
        let o = Options::read(
            Some(options),
            "DPoP proof options",
            "htm htu accessToken nonce now clockOffset",
        )?;
        let htm = o.text("htm", true, is_method, "an HTTP method")?;
        let htu = o
            .text("htu", true, |_| true, "")?
            .and_then(|u| normalize_htu(&u));
        let htu = htu.ok_or_else(|| {
            type_error("DPoP proof options: `htu` must be an absolute http(s) URL")
        })?;
        let token = o.text(
            "accessToken",
            false,
            is_token68,
            "the token as sent (token68)",
        )?;
        let nonce = o.text("nonce", false, is_nonce, "a server nonce (NQCHAR)")?;
        let iat = Clock::from_options(&o)?.server_now;
        Ok(prove(
            &key_pair,
            alg.name(),
            &members(alg),
            &htm.unwrap_or_default(),
            &htu,
            iat as f64,
            token.map(|t| access_token_hash(&t)).as_deref(),
            nonce.as_deref(),
            keys_unavailable_code(),
        ))
    };
    start().unwrap_or_else(|e| Promise::reject(&e))
}

/// The RFC 7638 SHA-256 thumbprint of a public key, base64url: the edge's own computation, so it
/// equals the `x-warden-jkt` the origin receives and the `cnf.jkt` a bound token carries.
///
/// `jwk` is a JWK object (or its JSON text) of type EC, RSA or OKP; only its required members
/// count (a private JWK gives its public key's thumbprint). Throws a `TypeError` (`code:
/// "invalid_request"`) for anything else.
#[wasm_bindgen(js_name = jwkThumbprint)]
pub fn jwk_thumbprint(
    #[wasm_bindgen(unchecked_param_type = "JsonWebKey | string")] jwk: JsValue,
) -> Result<String, JsValue> {
    let text = json_text(&jwk, "jwk must be a JWK object or JSON text")?;
    parse_json_object(text.as_bytes())
        .ok()
        .and_then(|jwk| warden_core::jwk_thumbprint(&jwk))
        .ok_or_else(|| {
            type_error(
                "jwk must be an EC, RSA or OKP key with its required members as strings (RFC 7638)",
            )
        })
}

/// Whether `htm` is an HTTP method: a token (RFC 9110 §9.1). The six methods `fetch` upper-cases
/// whatever their case (`get`, `Post`, ...) are upper-cased in JavaScript, so the proof names the
/// method the edge sees.
fn is_method(htm: &str) -> bool {
    htm.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `token` is a token68 (RFC 9110 §11.2), as an `Authorization` credential is.
fn is_token68(token: &str) -> bool {
    let b = token.as_bytes();
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || b"-._~+/".contains(c))
        .count();
    n > 0 && b[n..].iter().all(|c| *c == b'=')
}

/// Whether `nonce` is a DPoP nonce (RFC 9449 §4.2: `NQCHAR`s, visible ASCII but `"` and `\`).
fn is_nonce(nonce: &str) -> bool {
    nonce
        .bytes()
        .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_tokens_and_nonces() {
        for good in ["GET", "get", "PATCH", "M-SEARCH", "x!#$%&'*+-.^_`|~1"] {
            assert!(is_method(good), "{good:?}");
        }
        for bad in ["GET ", "G ET", "GET\n", "GÉT", "(GET)", "GET/1"] {
            assert!(!is_method(bad), "{bad:?}");
        }
        for good in [
            "a.b.c",
            "eyJ0-_x.y~z",
            "abc+/==",
            "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU",
        ] {
            assert!(is_token68(good), "{good:?}");
        }
        for bad in ["", "=", "a b", "a\tb", "a=b", "a,b", "tökén", "\"a\""] {
            assert!(!is_token68(bad), "{bad:?}");
        }
        assert!(is_nonce("eyJ7Ijoi!#[]~"));
        for bad in ["a b", "a\"", "a\\", "\x7f", "é"] {
            assert!(!is_nonce(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_algorithms_are_the_edges_defaults() {
        for name in ["ES256", "EdDSA", "RS256", "PS256"] {
            assert_eq!(dpop_alg(name).map(Algorithm::name), Some(name));
        }
        for name in [
            "HS256", "HS512", "ES384", "RS512", "PS384", "none", "es256", "",
        ] {
            assert_eq!(dpop_alg(name), None, "{name:?}");
        }
        let listed: Vec<&str> = DEFAULT_DPOP_ALGORITHMS.iter().map(|a| a.name()).collect();
        assert_eq!(
            listed,
            ["ES256", "EdDSA", "RS256", "PS256"],
            "as DPOP_ALGS says"
        );
        assert_eq!(DPOP_ALGS, "ES256, EdDSA, RS256 or PS256");
        assert_eq!(members(Algorithm::ES256), "crv kty x y ");
        assert_eq!(members(Algorithm::EdDSA), "crv kty x ");
        assert_eq!(members(Algorithm::PS256), "e kty n ");
    }
}
