//! Verification keys from a JWKS (RFC 7517), each bound to exactly one algorithm.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
#[cfg(feature = "json")]
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::denial::Denial;
use crate::parse::{Header, Token};
#[cfg(feature = "json")]
use crate::{b64, json, parse::valid_kid};

/// Smallest accepted RSA modulus, in bits (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;

/// The public (or, for HMAC, secret) material of a key, decoded.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// An HMAC secret (`kty: oct`).
    Hmac(Vec<u8>),
    /// An RSA public key: big-endian modulus and exponent.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
    /// An uncompressed EC public point on the curve of the key's algorithm.
    Ec {
        /// x coordinate, big-endian, full width.
        x: Vec<u8>,
        /// y coordinate, big-endian, full width.
        y: Vec<u8>,
    },
    /// An Ed25519 public key.
    Ed25519(Vec<u8>),
}

impl fmt::Debug for KeyMaterial {
    // Never print secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hmac(k) => write!(f, "Hmac({} bytes)", k.len()),
            Self::Rsa { n, .. } => write!(f, "Rsa({} bits)", rsa_bits(n)),
            Self::Ec { x, .. } => write!(f, "Ec({} bytes)", x.len()),
            Self::Ed25519(_) => f.write_str("Ed25519"),
        }
    }
}

/// One verification key, bound to one algorithm.
#[derive(Clone, Debug)]
pub struct Key {
    /// The key id, when the JWKS gave one.
    pub kid: Option<String>,
    /// The one algorithm this key verifies.
    pub alg: Algorithm,
    /// The key material.
    pub material: KeyMaterial,
    #[cfg(feature = "jwt")]
    pub(crate) decoding: jsonwebtoken::DecodingKey,
}

/// Why a JWKS was refused. Each variant names the key (by `kid`, or by position) and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a JSON object with a `keys` array (or duplicate JSON keys).
    NotAJwks,
    /// The `keys` array is empty.
    Empty,
    /// A key was refused.
    Key {
        /// The key's `kid`, or `#<index>` when it has none.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// Secret (`oct`) and public keys in one set: a public key could be confused for a secret.
    MixedSecretAndPublic,
    /// Two keys share a `kid`.
    DuplicateKid(String),
    /// More than one key has no `kid`, so a token without `kid` could not pick one.
    AmbiguousKeys,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAJwks => {
                f.write_str("not a JWKS: expected a JSON object with a \"keys\" array")
            }
            Self::Empty => f.write_str("the JWKS has no keys"),
            Self::Key { key, reason } => write!(f, "key {key}: {reason}"),
            Self::MixedSecretAndPublic => {
                f.write_str("the JWKS mixes secret (oct) and public keys; use two sets")
            }
            Self::DuplicateKid(k) => write!(f, "two keys have kid {k:?}"),
            Self::AmbiguousKeys => f.write_str("more than one key has no kid"),
        }
    }
}

impl core::error::Error for KeyError {}

/// The signature step, separated so that each platform can use its fastest primitive.
///
/// Implementations must compare MACs in constant time and must verify with exactly `key.alg`.
pub trait SignatureVerifier {
    /// Checks `signature` over `signing_input` with `key` (and its one algorithm).
    fn verify(
        &self,
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError>;
}

/// A signature did not verify. Deliberately opaque: the reason is nobody's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureError;

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("signature verification failed")
    }
}

impl core::error::Error for SignatureError {}

/// A set of verification keys.
#[derive(Clone, Debug)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// Loads a JWKS (`{"keys": [...]}`), refusing the whole set if any key is unusable.
    ///
    /// Each key is bound to one algorithm: its `alg`, or, when absent, the only one its curve
    /// allows (EC P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA). RSA and `oct` keys must
    /// state `alg`. Refused: `use` other than `sig`; `key_ops` without `verify`; private key
    /// parameters; HMAC secrets shorter than the hash output; RSA moduli under 2048 bits;
    /// unsupported key types or curves; an `alg` that does not fit the key; secret and public
    /// keys in one set; duplicate `kid`s; more than one key without `kid`.
    #[cfg(feature = "json")]
    pub fn from_jwks(jwks: &str) -> Result<Self, KeyError> {
        let root = json::parse_object(jwks.as_bytes()).map_err(|_| KeyError::NotAJwks)?;
        let Some(Value::Array(entries)) = root.get("keys") else {
            return Err(KeyError::NotAJwks);
        };
        if entries.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut keys = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let key = match entry {
                Value::Object(jwk) => load_key(jwk),
                _ => Err("is not a JSON object"),
            };
            keys.push(key.map_err(|reason| KeyError::Key {
                key: key_name(entry, i),
                reason,
            })?);
        }
        let secrets = keys.iter().filter(|k| k.alg.is_symmetric()).count();
        if secrets != 0 && secrets != keys.len() {
            return Err(KeyError::MixedSecretAndPublic);
        }
        for (i, k) in keys.iter().enumerate() {
            if let Some(kid) = &k.kid {
                if keys[..i].iter().any(|o| o.kid.as_ref() == Some(kid)) {
                    return Err(KeyError::DuplicateKid(kid.clone()));
                }
            }
        }
        if keys.iter().filter(|k| k.kid.is_none()).count() > 1 {
            return Err(KeyError::AmbiguousKeys);
        }
        Ok(KeySet { keys })
    }

    /// The keys, in JWKS order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Picks the key for a token: by `kid` when the header has one; otherwise the set's only key
    /// without a `kid`. The header's `alg` must equal the key's: it never widens a key.
    pub fn select(&self, header: &Header) -> Result<&Key, Denial> {
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == header.kid)
            .ok_or(Denial::UnknownKey)?;
        if key.alg != header.alg {
            return Err(Denial::AlgorithmNotAllowed);
        }
        Ok(key)
    }

    /// Selects the token's key and checks its signature with `verifier`.
    pub fn verify<'k>(
        &'k self,
        token: &Token,
        verifier: &impl SignatureVerifier,
    ) -> Result<&'k Key, Denial> {
        let key = self.select(&token.header)?;
        verifier
            .verify(key, token.signing_input.as_bytes(), &token.signature)
            .map_err(|SignatureError| Denial::BadSignature)?;
        Ok(key)
    }
}

#[cfg(feature = "json")]
fn key_name(entry: &Value, index: usize) -> String {
    match entry.get("kid").and_then(Value::as_str) {
        Some(kid) if valid_kid(kid) => alloc::format!("{kid:?}"),
        _ => alloc::format!("#{index}"),
    }
}

#[cfg(feature = "json")]
const PRIVATE_PARAMS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];

#[cfg(feature = "json")]
pub(crate) fn load_key(jwk: &Map<String, Value>) -> Result<Key, &'static str> {
    let text = |name: &str| -> Result<Option<&str>, &'static str> {
        match jwk.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err("a parameter has the wrong JSON type"),
        }
    };
    let bytes = |name: &str| -> Result<Vec<u8>, &'static str> {
        let s = text(name)?.ok_or("a required key parameter is missing")?;
        b64::decode(s).ok_or("a key parameter is not base64url")
    };
    let kid = match text("kid")? {
        Some(k) if !valid_kid(k) => {
            return Err("kid is too long or has characters outside A-Z a-z 0-9 - _ . ~ + / = :")
        }
        k => k.map(String::from),
    };
    match text("use")? {
        None | Some("sig") => {}
        Some(_) => return Err("use is not \"sig\" (encryption keys cannot verify tokens)"),
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verify = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|o| o.as_str() == Some("verify")));
        if !verify {
            return Err("key_ops does not allow \"verify\"");
        }
    }
    let declared = match text("alg")? {
        None => None,
        Some(name) => {
            Some(Algorithm::from_name(name).ok_or("alg is not a supported signature algorithm")?)
        }
    };
    let kty = text("kty")?.ok_or("kty is missing")?;
    if kty != "oct" && PRIVATE_PARAMS.iter().any(|p| jwk.contains_key(*p)) {
        return Err("contains private key parameters; publish only public keys");
    }
    use Algorithm::*;
    let (alg, material) = match kty {
        "oct" => {
            let alg = declared.ok_or("oct keys must state alg")?;
            let min = alg.hmac_len().ok_or("alg does not fit an oct key")?;
            let k = bytes("k")?;
            if k.len() < min {
                return Err("HMAC secret is shorter than the hash output");
            }
            (alg, KeyMaterial::Hmac(k))
        }
        "RSA" => {
            let alg = declared.ok_or("RSA keys must state alg")?;
            if !matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512) {
                return Err("alg does not fit an RSA key");
            }
            let (n, e) = (bytes("n")?, bytes("e")?);
            if rsa_bits(&n) < MIN_RSA_BITS {
                return Err("RSA modulus is shorter than 2048 bits");
            }
            if roca_fingerprint(&n) {
                return Err("RSA modulus has the ROCA weakness (CVE-2017-15361); replace the key");
            }
            // An odd exponent of at least 3 (e = 1 makes every "signature" its own message).
            let e_value = e.iter().skip_while(|b| **b == 0).collect::<Vec<_>>();
            if e_value.is_empty()
                || e_value.len() > 8
                || *e_value[e_value.len() - 1] & 1 == 0
                || e_value == [&1]
            {
                return Err("RSA exponent is invalid");
            }
            (alg, KeyMaterial::Rsa { n, e })
        }
        "EC" => {
            let (curve_alg, width) = match text("crv")? {
                Some("P-256") => (ES256, 32),
                Some("P-384") => (ES384, 48),
                _ => return Err("EC curve is not P-256 or P-384"),
            };
            let alg = declared.unwrap_or(curve_alg);
            if alg != curve_alg {
                return Err("alg does not fit the EC curve");
            }
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != width || y.len() != width {
                return Err("EC coordinates have the wrong length");
            }
            (alg, KeyMaterial::Ec { x, y })
        }
        "OKP" => {
            if text("crv")? != Some("Ed25519") {
                return Err("OKP curve is not Ed25519");
            }
            let alg = declared.unwrap_or(EdDSA);
            if alg != EdDSA {
                return Err("alg does not fit an Ed25519 key");
            }
            let x = bytes("x")?;
            if x.len() != 32 {
                return Err("Ed25519 key has the wrong length");
            }
            (alg, KeyMaterial::Ed25519(x))
        }
        _ => return Err("kty is not oct, RSA, EC or OKP"),
    };
    Ok(Key {
        kid,
        alg,
        #[cfg(feature = "jwt")]
        decoding: decoding_key(&material),
        material,
    })
}

/// The jsonwebtoken form of a key, built once when the key set is loaded.
#[cfg(feature = "jwt")]
fn decoding_key(material: &KeyMaterial) -> jsonwebtoken::DecodingKey {
    use jsonwebtoken::DecodingKey;
    match material {
        KeyMaterial::Hmac(k) => DecodingKey::from_secret(k),
        KeyMaterial::Rsa { n, e } => DecodingKey::from_rsa_raw_components(n, e),
        KeyMaterial::Ec { x, y } => {
            let mut point = alloc::vec::Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            DecodingKey::from_ec_der(&point)
        }
        KeyMaterial::Ed25519(x) => DecodingKey::from_ed_der(x),
    }
}

/// The ROCA test (Nemec et al., CCS 2017): moduli from the vulnerable library satisfy
/// `n ≡ 65537^k (mod p)` for every small prime `p` below; a random modulus almost never does.
#[cfg(feature = "json")]
fn roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        let residue = n
            .iter()
            .fold(0u32, |acc, &b| (acc * 256 + u32::from(b)) % p);
        let generator = 65_537 % p;
        let mut power = 1;
        // The subgroup generated by 65537 mod p has at most p − 1 elements.
        (0..p).any(|_| {
            power = power * generator % p;
            power == residue
        })
    })
}

fn rsa_bits(n: &[u8]) -> usize {
    let n = &n[n.iter().take_while(|b| **b == 0).count()..];
    n.first()
        .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_charset_and_length() {
        assert!(valid_kid("2024-05-key_1.v2~a+b/c=:"));
        assert!(valid_kid("bilbo.baggins@hobbiton.example"));
        assert!(!valid_kid(""));
        assert!(!valid_kid("../../etc/passwd\0"));
        assert!(!valid_kid("a' OR '1'='1"));
        assert!(!valid_kid("$(rm -rf /)"));
        assert!(valid_kid(&"k".repeat(crate::MAX_KID_LEN)));
        assert!(!valid_kid(&"k".repeat(crate::MAX_KID_LEN + 1)));
    }

    #[test]
    fn rsa_bit_length_ignores_leading_zeros() {
        assert_eq!(rsa_bits(&[0, 0, 0x80, 0]), 16);
        assert_eq!(rsa_bits(&[0x01]), 1);
        assert_eq!(rsa_bits(&[]), 0);
    }
}
