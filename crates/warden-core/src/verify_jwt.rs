//! Signature checks over `jsonwebtoken` with its RustCrypto backend (feature `jwt`).

use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::Algorithm as Jwa;

use crate::algorithm::Algorithm;
use crate::keys::{Key, SignatureError, SignatureVerifier};

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
