//! Warden's signature step on the platform's WebCrypto, from Rust compiled to wasm32: one
//! implementation for the worker (workerd) and the npm package (browsers, Node).
//!
//! - RS*, PS*, ES* and EdDSA verify through `crypto.subtle.verify`, found on the global object
//!   (`globalThis.crypto.subtle`: workers, browsers in secure contexts, Node ≥ 19, or Node 18
//!   with `--experimental-global-webcrypto`). ECDSA signatures are the JWS form `r || s`, which is
//!   what WebCrypto takes; a DER signature fails.
//! - HS256 verifies in wasm with `hmac` + `sha2`: faster than a round trip through WebCrypto for a
//!   token-sized input (measured in the worker, `docs/benchmarks.md`, and in Node). Tags are
//!   compared in constant time, full length only. HS384 and HS512 too with the `sha512` feature
//!   (default; the npm package's); without it they go through WebCrypto (the worker's, for size).
//!
//! A [`KeyCache`] keeps, per key, the imported `CryptoKey` and the keyed HMAC state (inner and
//! outer pads absorbed), so a verification neither imports nor re-keys. Each caller decides its
//! scope: the worker keeps one per isolate, the npm package one per `KeySet`.
//!
//! Two ways to wait for WebCrypto: `async` ([`KeyCache::check_signature`], the worker's), or a
//! Promise chained in JavaScript ([`KeyCache::verify_promise`], the npm package's: no Rust future,
//! so none of wasm-bindgen's futures glue in its build).
//!
//! Outside wasm32 there is no WebCrypto: asymmetric signatures never verify natively (HMAC does).

use std::cell::RefCell;
use std::fmt;

use js_sys::{Object, Promise, Reflect};
use warden_core::{Algorithm, Key, KeyMaterial, SignatureError};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CryptoKey, SubtleCrypto};

// A key's first import, followed in JavaScript for `KeyCache::verify_promise`: `importing` wraps
// the import's Promise and notes its outcome (the CryptoKey, or null when it failed), so that a
// later call can take the key into the cache (or import again) without a Rust future.
#[wasm_bindgen(inline_js = "
const outcomes = new WeakMap();
export function importing(started) {
  const kept = started.then(
    (key) => { outcomes.set(kept, key); return key; },
    (e) => { outcomes.set(kept, null); throw e; },
  );
  return kept;
}
export function importOutcome(kept) {
  return outcomes.get(kept);
}
export function verifyOnceImported(subtle, kept, params, signature, data) {
  const s = signature.slice();
  const d = data.slice();
  return kept.then((key) => subtle.verify(params, key, s, d));
}
")]
extern "C" {
    fn importing(started: &Promise) -> Promise;
    #[wasm_bindgen(js_name = importOutcome)]
    fn import_outcome(kept: &Promise) -> JsValue;
    #[wasm_bindgen(js_name = verifyOnceImported)]
    fn verify_once_imported(
        subtle: &SubtleCrypto,
        kept: &Promise,
        params: &Object,
        signature: &[u8],
        data: &[u8],
    ) -> Promise;
}

/// An HMAC keyed with one secret: the inner and outer pads already absorbed.
#[derive(Clone)]
enum Keyed {
    S256(hmac::Hmac<sha2::Sha256>),
    #[cfg(feature = "sha512")]
    S384(hmac::Hmac<sha2::Sha384>),
    #[cfg(feature = "sha512")]
    S512(hmac::Hmac<sha2::Sha512>),
}

/// Whether an HMAC by `alg` verifies in wasm ([`KeyCache::hmac_verify`]); otherwise through
/// WebCrypto ([`KeyCache::webcrypto_verify`], [`KeyCache::verify_promise`]).
pub fn hmac_in_wasm(alg: Algorithm) -> bool {
    alg == Algorithm::HS256
        || (cfg!(feature = "sha512") && matches!(alg, Algorithm::HS384 | Algorithm::HS512))
}

/// Imported WebCrypto keys and keyed HMAC states, per key (algorithm and material), at most
/// `capacity` of each; the oldest goes first.
pub struct KeyCache {
    capacity: usize,
    imported: RefCell<Vec<(Algorithm, KeyMaterial, CryptoKey)>>,
    /// Imports started by [`KeyCache::verify_promise`], until their outcome is taken.
    importing: RefCell<Vec<(Algorithm, KeyMaterial, Promise)>>,
    hmacs: RefCell<Vec<(Algorithm, Vec<u8>, Keyed)>>,
}

impl fmt::Debug for KeyCache {
    // Never print secrets (the HMAC states are keyed with them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache")
            .field("capacity", &self.capacity)
            .field("imported", &self.imported.borrow().len())
            .field("importing", &self.importing.borrow().len())
            .field("hmacs", &self.hmacs.borrow().len())
            .finish()
    }
}

thread_local! {
    static SUBTLE: RefCell<Option<SubtleCrypto>> = const { RefCell::new(None) };
    /// The `algorithm` argument of `crypto.subtle.verify`, built once per algorithm.
    static PARAMS: RefCell<Vec<(Algorithm, Object)>> = const { RefCell::new(Vec::new()) };
}

/// `globalThis.crypto.subtle`, looked up once; `None` where there is none (natively, a browser
/// page outside a secure context, Node 18 without `--experimental-global-webcrypto`).
fn subtle() -> Option<SubtleCrypto> {
    SUBTLE.with(|cell| {
        if let Some(s) = cell.borrow().as_ref() {
            return Some(s.clone());
        }
        let subtle = lookup_subtle()?;
        *cell.borrow_mut() = Some(subtle.clone());
        Some(subtle)
    })
}

#[cfg(target_arch = "wasm32")]
fn lookup_subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    if !crypto.is_object() {
        return None;
    }
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
    subtle.is_object().then(|| subtle.unchecked_into())
}

#[cfg(not(target_arch = "wasm32"))]
fn lookup_subtle() -> Option<SubtleCrypto> {
    None
}

/// Whether this platform has WebCrypto (`globalThis.crypto.subtle`). Without it every RS*, PS*,
/// ES* and EdDSA signature fails to verify.
pub fn available() -> bool {
    subtle().is_some()
}

fn object(pairs: &[(&str, JsValue)]) -> Result<Object, SignatureError> {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).map_err(|_| SignatureError)?;
    }
    Ok(o)
}

fn hash(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 | Algorithm::HS384 => "SHA-384",
        Algorithm::RS512 | Algorithm::PS512 | Algorithm::HS512 => "SHA-512",
        _ => "SHA-256",
    }
}

/// Builds the `algorithm` argument of `verify` for `alg`, once per instance.
fn ensure_params(alg: Algorithm) -> Result<(), SignatureError> {
    if PARAMS.with(|p| p.borrow().iter().any(|(a, _)| *a == alg)) {
        return Ok(());
    }
    use Algorithm::*;
    let params = match alg {
        RS256 | RS384 | RS512 => object(&[("name", "RSASSA-PKCS1-v1_5".into())])?,
        PS256 | PS384 | PS512 => {
            let salt = match alg {
                PS384 => 48,
                PS512 => 64,
                _ => 32,
            };
            object(&[("name", "RSA-PSS".into()), ("saltLength", salt.into())])?
        }
        ES256 | ES384 => object(&[("name", "ECDSA".into()), ("hash", hash(alg).into())])?,
        EdDSA => object(&[("name", "Ed25519".into())])?,
        HS256 | HS384 | HS512 => object(&[("name", "HMAC".into())])?,
        _ => return Err(SignatureError),
    };
    PARAMS.with(|p| p.borrow_mut().push((alg, params)));
    Ok(())
}

/// `f` with the `algorithm` argument of `verify` for `alg` (built on first use).
fn with_params<R>(
    alg: Algorithm,
    f: impl FnOnce(&Object) -> Result<R, SignatureError>,
) -> Result<R, SignatureError> {
    ensure_params(alg)?;
    PARAMS.with(|p| {
        let p = p.borrow();
        let (_, params) = p.iter().find(|(a, _)| *a == alg).ok_or(SignatureError)?;
        f(params)
    })
}

/// Starts importing `key` into WebCrypto, for `verify` by exactly `key.alg`.
fn start_import(subtle: &SubtleCrypto, key: &Key) -> Result<Promise, SignatureError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine as _;
    use js_sys::{Array, Uint8Array};
    use Algorithm::*;

    let usages = Array::of1(&JsValue::from_str("verify"));
    let b64 = |bytes: &[u8]| JsValue::from_str(&B64.encode(bytes));
    let raw = |bytes: &[u8], params: &Object| {
        subtle.import_key_with_object("raw", &Uint8Array::from(bytes), params, false, &usages)
    };
    match (&key.material, key.alg) {
        (KeyMaterial::Rsa { n, e }, alg) => {
            let name = if matches!(alg, PS256 | PS384 | PS512) {
                "RSA-PSS"
            } else {
                "RSASSA-PKCS1-v1_5"
            };
            let jwk = object(&[("kty", "RSA".into()), ("n", b64(n)), ("e", b64(e))])?;
            let params = object(&[("name", name.into()), ("hash", hash(alg).into())])?;
            subtle.import_key_with_object("jwk", &jwk, &params, false, &usages)
        }
        (KeyMaterial::Ec { x, y }, alg) => {
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(4);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            let curve = if alg == ES384 { "P-384" } else { "P-256" };
            let params = object(&[("name", "ECDSA".into()), ("namedCurve", curve.into())])?;
            raw(&point, &params)
        }
        (KeyMaterial::Ed25519(x), _) => raw(x, &object(&[("name", "Ed25519".into())])?),
        (KeyMaterial::Hmac(secret), alg) => {
            let params = object(&[("name", "HMAC".into()), ("hash", hash(alg).into())])?;
            raw(secret, &params)
        }
        _ => return Err(SignatureError),
    }
    .map_err(|_| SignatureError)
}

/// What a settled `crypto.subtle.verify` promise ([`KeyCache::start_verify`]) says: `Ok` only
/// when it was fulfilled with `true`; rejected, or fulfilled with anything else, is a bad
/// signature.
pub fn verdict<E>(settled: Result<JsValue, E>) -> Result<(), SignatureError> {
    match settled {
        Ok(v) if v.as_bool() == Some(true) => Ok(()),
        _ => Err(SignatureError),
    }
}

async fn resolved(promise: Promise) -> Result<JsValue, SignatureError> {
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| SignatureError)
}

impl KeyCache {
    /// An empty cache for at most `capacity` keys (at least one).
    pub const fn new(capacity: usize) -> KeyCache {
        KeyCache {
            capacity: if capacity == 0 { 1 } else { capacity },
            imported: RefCell::new(Vec::new()),
            importing: RefCell::new(Vec::new()),
            hmacs: RefCell::new(Vec::new()),
        }
    }

    /// Empties the cache.
    pub fn clear(&self) {
        self.imported.borrow_mut().clear();
        self.importing.borrow_mut().clear();
        self.hmacs.borrow_mut().clear();
    }

    /// Checks `signature` over `signing_input` with `key`, by exactly `key.alg`: WebCrypto for
    /// RSA, ECDSA and Ed25519, `hmac` + `sha2` for HMAC ([`hmac_in_wasm`]).
    ///
    /// ECDSA signatures must be the fixed-width JWS form `r || s` (a DER signature fails);
    /// HMAC tags must be full length.
    pub async fn check_signature(
        &self,
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        match &key.material {
            KeyMaterial::Hmac(secret) if hmac_in_wasm(key.alg) => {
                self.hmac_verify(key.alg, secret, signing_input, signature)
            }
            _ => self.webcrypto_verify(key, signing_input, signature).await,
        }
    }

    /// HMAC in wasm: `verify_slice` compares in constant time and refuses a tag of any other
    /// length than the hash output (no truncated MACs in JWS). An algorithm that does not
    /// verify in wasm ([`hmac_in_wasm`]) fails.
    pub fn hmac_verify(
        &self,
        alg: Algorithm,
        secret: &[u8],
        signing_input: &[u8],
        tag: &[u8],
    ) -> Result<(), SignatureError> {
        use hmac::Mac;
        fn check<M: Mac>(mut mac: M, input: &[u8], tag: &[u8]) -> Result<(), SignatureError> {
            mac.update(input);
            mac.verify_slice(tag).map_err(|_| SignatureError)
        }
        match self.keyed(alg, secret)? {
            Keyed::S256(m) => check(m, signing_input, tag),
            #[cfg(feature = "sha512")]
            Keyed::S384(m) => check(m, signing_input, tag),
            #[cfg(feature = "sha512")]
            Keyed::S512(m) => check(m, signing_input, tag),
        }
    }

    /// The keyed HMAC state for `secret`: cached, or keyed now (and cached).
    fn keyed(&self, alg: Algorithm, secret: &[u8]) -> Result<Keyed, SignatureError> {
        use hmac::{Hmac, Mac};
        if let Some((_, _, k)) = self
            .hmacs
            .borrow()
            .iter()
            .find(|(a, s, _)| *a == alg && s.as_slice() == secret)
        {
            return Ok(k.clone());
        }
        let k = match alg {
            Algorithm::HS256 => {
                Keyed::S256(Hmac::new_from_slice(secret).map_err(|_| SignatureError)?)
            }
            #[cfg(feature = "sha512")]
            Algorithm::HS384 => {
                Keyed::S384(Hmac::new_from_slice(secret).map_err(|_| SignatureError)?)
            }
            #[cfg(feature = "sha512")]
            Algorithm::HS512 => {
                Keyed::S512(Hmac::new_from_slice(secret).map_err(|_| SignatureError)?)
            }
            _ => return Err(SignatureError),
        };
        let mut hmacs = self.hmacs.borrow_mut();
        if hmacs.len() >= self.capacity {
            hmacs.remove(0);
        }
        hmacs.push((alg, secret.to_vec(), k.clone()));
        Ok(k)
    }

    /// `crypto.subtle.verify` with `key` (imported once, then cached) by `key.alg`, for any key
    /// (HMAC too: [`KeyCache::check_signature`] keeps HMAC in wasm, this is for comparing).
    pub async fn webcrypto_verify(
        &self,
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let promise = match self.start_verify(key, signing_input, signature)? {
            Some(started) => started,
            None => {
                self.import(key).await?;
                self.start_verify(key, signing_input, signature)?
                    .ok_or(SignatureError)?
            }
        };
        verdict(resolved(promise).await)
    }

    /// Imports `key` into WebCrypto and caches it.
    async fn import(&self, key: &Key) -> Result<(), SignatureError> {
        let subtle = subtle().ok_or(SignatureError)?;
        let imported: CryptoKey = resolved(start_import(&subtle, key)?)
            .await?
            .unchecked_into();
        self.keep(key, imported);
        Ok(())
    }

    /// `crypto.subtle.verify` of `signature` over `signing_input` with a public `key`, by exactly
    /// `key.alg`, as a Promise of a boolean (`true` only for a good signature) to chain in
    /// JavaScript: nothing waits in Rust. The first use of a key imports it, once however many
    /// verifications arrive meanwhile (they wait for the same import); the `CryptoKey` is cached
    /// once a later call finds the import done, and a failed import is tried again on the next
    /// call. `Err` where WebCrypto is missing or refuses the call outright.
    pub fn verify_promise(
        &self,
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<Promise, SignatureError> {
        if let Some(started) = self.start_verify(key, signing_input, signature)? {
            return Ok(started);
        }
        let subtle = subtle().ok_or(SignatureError)?;
        let same = |(alg, material, _): &(Algorithm, KeyMaterial, Promise)| {
            *alg == key.alg && *material == key.material
        };
        let pending = self.importing.borrow().iter().position(same);
        let kept = match pending.map(|i| self.importing.borrow()[i].2.clone()) {
            // Still importing: verify once it is done.
            Some(kept) if import_outcome(&kept).is_undefined() => kept,
            pending => {
                if let Some(kept) = pending {
                    self.importing.borrow_mut().retain(|entry| !same(entry));
                    let outcome = import_outcome(&kept);
                    if !outcome.is_null() {
                        self.keep(key, outcome.unchecked_into());
                        return self
                            .start_verify(key, signing_input, signature)?
                            .ok_or(SignatureError);
                    }
                    // The import failed: try again.
                }
                let kept = importing(&start_import(&subtle, key)?);
                let mut importing = self.importing.borrow_mut();
                if importing.len() >= self.capacity {
                    drop(importing.remove(0));
                }
                importing.push((key.alg, key.material.clone(), kept.clone()));
                kept
            }
        };
        with_params(key.alg, |params| {
            Ok(verify_once_imported(
                &subtle,
                &kept,
                params,
                signature,
                signing_input,
            ))
        })
    }

    /// Caches `imported`, the `CryptoKey` of `key`.
    fn keep(&self, key: &Key, imported: CryptoKey) {
        let mut cached = self.imported.borrow_mut();
        // Two verifications may have imported the same key at the same time: keep one.
        if cached
            .iter()
            .any(|(alg, material, _)| *alg == key.alg && *material == key.material)
        {
            return;
        }
        if cached.len() >= self.capacity {
            cached.remove(0);
        }
        cached.push((key.alg, key.material.clone(), imported));
    }

    /// Starts `crypto.subtle.verify` with the cached `CryptoKey` for `key`, without cloning any
    /// JS handle: a Promise of a boolean (`true` only for a good signature), or `None` when the
    /// key has not been imported yet (then [`KeyCache::webcrypto_verify`] imports it).
    ///
    /// WebCrypto copies `signing_input` and `signature` before this returns, so a caller may
    /// chain the Promise in JavaScript and never come back to Rust for it.
    pub fn start_verify(
        &self,
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<Option<Promise>, SignatureError> {
        let imported = self.imported.borrow();
        let Some((_, _, crypto_key)) = imported
            .iter()
            .find(|(alg, material, _)| *alg == key.alg && *material == key.material)
        else {
            return Ok(None);
        };
        // An imported key means WebCrypto is there.
        with_params(key.alg, |params| {
            SUBTLE.with(|subtle| {
                let subtle = subtle.borrow();
                let subtle = subtle.as_ref().ok_or(SignatureError)?;
                subtle
                    .verify_with_object_and_u8_array_and_u8_array(
                        params,
                        crypto_key,
                        signature,
                        signing_input,
                    )
                    .map(Some)
                    .map_err(|_| SignatureError)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn tag(alg: Algorithm, key: &[u8], msg: &[u8]) -> Vec<u8> {
        macro_rules! mac {
            ($hash:ty) => {{
                let mut m = Hmac::<$hash>::new_from_slice(key).unwrap();
                m.update(msg);
                m.finalize().into_bytes().to_vec()
            }};
        }
        match alg {
            Algorithm::HS256 => mac!(sha2::Sha256),
            Algorithm::HS384 => mac!(sha2::Sha384),
            _ => mac!(sha2::Sha512),
        }
    }

    #[test]
    fn hmac_full_length_tags_only() {
        let cache = KeyCache::new(4);
        let key = [7u8; 64];
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let t = tag(alg, &key, b"a.b");
            if !hmac_in_wasm(alg) {
                // Through WebCrypto, which natively is not there.
                assert!(cache.hmac_verify(alg, &key, b"a.b", &t).is_err());
                continue;
            }
            assert_eq!(cache.hmac_verify(alg, &key, b"a.b", &t), Ok(()));
            assert!(cache.hmac_verify(alg, &key, b"a.c", &t).is_err());
            assert!(cache
                .hmac_verify(alg, &key, b"a.b", &t[..t.len() - 1])
                .is_err());
            let mut flipped = t.clone();
            flipped[0] ^= 1;
            assert!(cache.hmac_verify(alg, &key, b"a.b", &flipped).is_err());
            assert!(cache.hmac_verify(alg, &key, b"a.b", &[]).is_err());
        }
        // The algorithm is the key's: an HS384 tag does not pass as HS256 or HS512.
        let t = tag(Algorithm::HS384, &key, b"a.b");
        assert!(cache
            .hmac_verify(Algorithm::HS256, &key, b"a.b", &t)
            .is_err());
        assert!(cache
            .hmac_verify(Algorithm::HS512, &key, b"a.b", &t)
            .is_err());
        assert!(cache
            .hmac_verify(Algorithm::ES256, &key, b"a.b", &t)
            .is_err());
    }

    #[test]
    fn hmac_states_are_cached_per_key_and_bounded() {
        let cache = KeyCache::new(2);
        for i in 0..5u8 {
            let key = [i; 32];
            let t = tag(Algorithm::HS256, &key, b"x");
            assert_eq!(cache.hmac_verify(Algorithm::HS256, &key, b"x", &t), Ok(()));
            // The cached state of another key never verifies this one's tag.
            assert!(cache
                .hmac_verify(Algorithm::HS256, &[i + 1; 32], b"x", &t)
                .is_err());
        }
        assert_eq!(cache.hmacs.borrow().len(), 2);
        cache.clear();
        assert_eq!(cache.hmacs.borrow().len(), 0);
    }

    #[test]
    fn no_webcrypto_natively() {
        assert!(!available());
        let keys = warden_core::KeySet::from_jwks(
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
        )
        .unwrap();
        let cache = KeyCache::new(1);
        let fut = cache.check_signature(&keys.keys()[0], b"a.b", &[0; 64]);
        assert_eq!(block_on(fut), Err(SignatureError));
    }

    /// Polls a future that never waits (natively nothing here does).
    fn block_on<F: std::future::Future>(fut: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the future waited"),
        }
    }
}
