//! The proof's public key (its `jwk` header) and its RFC 7638 thumbprint.

use alloc::string::String;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::DpopError;
use crate::algorithm::Algorithm;
use crate::keys::{load_key, Key};

/// Members that only a private (or secret) key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The verification key of a proof's `jwk` for `alg`: a public key only, of the type `alg`
/// takes (EC P-256 for ES256, P-384 for ES384, OKP Ed25519 for EdDSA, RSA of at least 2048 bits
/// for RS*/PS*), with `alg`, when the jwk states one, equal to the header's.
pub(crate) fn proof_key(jwk: &Map<String, Value>, alg: Algorithm) -> Result<Key, DpopError> {
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(DpopError::Invalid("DPoP proof jwk holds a private key"));
    }
    match jwk.get("alg") {
        None => {}
        Some(Value::String(a)) if a == alg.name() => {}
        Some(_) => {
            return Err(DpopError::Invalid(
                "DPoP proof jwk alg is not the header alg",
            ))
        }
    }
    // The key set loader's rules (types, curves, lengths, RSA strength), bound to `alg`, on the
    // members that make the key. `kid`, `use` and `key_ops` play no part in a proof: they are
    // left out rather than judged.
    let not_public = DpopError::Invalid("DPoP proof jwk is not a public key for its alg");
    let mut bound = Map::new();
    for name in ["kty", "crv", "x", "y", "n", "e"] {
        match jwk.get(name) {
            None => {}
            Some(Value::String(v)) => {
                bound.insert(name.into(), Value::String(v.clone()));
            }
            Some(_) => return Err(not_public),
        }
    }
    bound.insert("alg".into(), Value::String(alg.name().into()));
    load_key(&bound).map_err(|_| not_public)
}

/// The RFC 7638 JWK SHA-256 thumbprint, base64url: SHA-256 of the required members (EC: `crv`,
/// `kty`, `x`, `y`; RSA: `e`, `kty`, `n`; OKP: `crv`, `kty`, `x`) in lexicographic order,
/// without whitespace. `None` for another key type or a required member that is not a string.
///
/// ```
/// // RFC 9449 §6.1: the thumbprint of the key of the specification's example proofs.
/// let jwk = warden_core::parse_json_object(br#"{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}"#).unwrap();
/// assert_eq!(warden_core::jwk_thumbprint(&jwk).as_deref(), Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"));
/// ```
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let get = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kty = get("kty")?;
    let members: &[&str] = match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut json = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let value = get(name)?;
        // The members of a usable key are base64url or a curve name: nothing to escape
        // (RFC 7638 §3.1). A value that would need escaping names no key.
        if !value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return None;
        }
        if i > 0 {
            json.push(',');
        }
        json.push('"');
        json.push_str(name);
        json.push_str("\":\"");
        json.push_str(value);
        json.push('"');
    }
    json.push('}');
    Some(crate::b64::encode(&Sha256::digest(json.as_bytes())))
}

/// The members of the `jwk` a proof signed with `alg` carries (what a client puts in its
/// proofs): the RFC 7638 required members of the key type `alg` takes (EC for ES*, OKP for
/// EdDSA, RSA for RS* and PS*), in lexicographic order — the public key, and exactly what
/// [`jwk_thumbprint`] hashes. `None` for a symmetric algorithm.
pub fn proof_jwk_members(alg: Algorithm) -> Option<&'static [&'static str]> {
    use Algorithm::*;
    match alg {
        ES256 | ES384 => Some(&["crv", "kty", "x", "y"]),
        EdDSA => Some(&["crv", "kty", "x"]),
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => Some(&["e", "kty", "n"]),
        _ => None,
    }
}
