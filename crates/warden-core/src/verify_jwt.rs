//! Signature checks over `jsonwebtoken` with its RustCrypto backend (feature `jwt`).

use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::{Algorithm as Jwa, DecodingKey};

use crate::algorithm::Algorithm;
use crate::keys::{Key, KeyMaterial, SignatureError, SignatureVerifier};

/// Verifies with `jsonwebtoken` (`rust_crypto`): constant-time MAC comparison, fixed-width
/// (IEEE P1363) ECDSA signatures only, so DER-encoded signatures fail.
#[derive(Clone, Copy, Debug, Default)]
pub struct JwtVerifier;

impl SignatureVerifier for JwtVerifier {
    fn verify(
        &self,
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let verifier = (DEFAULT_PROVIDER.verifier_factory)(&jwa(key.alg), &key.decoding)
            .map_err(|_| SignatureError)?;
        verifier
            .verify(signing_input, &signature.to_vec())
            .map_err(|_| SignatureError)
    }
}

pub(crate) fn decoding_key(material: &KeyMaterial) -> DecodingKey {
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

fn jwa(alg: Algorithm) -> Jwa {
    match alg {
        Algorithm::HS256 => Jwa::HS256,
        Algorithm::HS384 => Jwa::HS384,
        Algorithm::HS512 => Jwa::HS512,
        Algorithm::RS256 => Jwa::RS256,
        Algorithm::RS384 => Jwa::RS384,
        Algorithm::RS512 => Jwa::RS512,
        Algorithm::PS256 => Jwa::PS256,
        Algorithm::PS384 => Jwa::PS384,
        Algorithm::PS512 => Jwa::PS512,
        Algorithm::ES256 => Jwa::ES256,
        Algorithm::ES384 => Jwa::ES384,
        Algorithm::EdDSA => Jwa::EdDSA,
    }
}
