//! The signature step and the verified-token cache.
//!
//! - RS*, PS*, ES* and EdDSA verify through WebCrypto (`crypto.subtle.verify`, BoringSSL inside
//!   workerd); the imported `CryptoKey`s are cached per isolate. HS* verifies in wasm with
//!   `hmac` + `sha2` (constant-time comparison, full-length tags only). `make bench-worker`
//!   measured both choices against the alternatives (`docs/benchmarks.md`).
//! - A token whose signature verified is cached per isolate in a bounded LRU, keyed by the
//!   SHA-256 of the token text, until its `exp` plus the leeway. A hit skips parsing and the
//!   signature; the caller still runs `Policy::check` and the revocation lookups on the claims.

use std::cell::{Cell, RefCell};
use std::num::NonZeroUsize;
use std::rc::Rc;

use lru::LruCache;
use warden_core::{
    parse, token_digest, Algorithm, Denial, Key, KeyMaterial, SignatureError, Token,
};
use worker::Env;

use crate::config::Config;
use crate::keys;

/// How many verified tokens one isolate keeps (least recently used first out).
pub const VERIFIED_CACHE_CAPACITY: usize = 4096;
/// How many imported WebCrypto keys one isolate keeps.
pub const CRYPTO_KEY_CACHE_CAPACITY: usize = 64;

const CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(VERIFIED_CACHE_CAPACITY - 1);

struct Entry {
    token: Rc<Token>,
    /// `exp` + leeway: from then on the entry is useless (the policy refuses the token).
    dies_at: u64,
    /// Verified with a key of the fetched JWKS: reused only while that set may serve.
    fetched_key: bool,
}

thread_local! {
    static VERIFIED: RefCell<LruCache<[u8; 32], Entry>> = RefCell::new(LruCache::new(CAPACITY));
    /// [`keys::withdrawals`] when the cache was last used.
    static SEEN_WITHDRAWALS: Cell<u64> = const { Cell::new(0) };
    static STATS: Cell<CacheStats> = const { Cell::new(CacheStats { hits: 0, misses: 0, entries: 0 }) };
}

/// Counters of the verified-token cache in this isolate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to parse and verify.
    pub misses: u64,
    /// Entries held now.
    pub entries: usize,
}

/// The token behind `raw`, with its signature verified by a configured or fetched key: from
/// the isolate's cache, or parsed, matched to a key and verified (then cached until its `exp`
/// plus the leeway).
///
/// Only the signature is vouched for: the caller must still run `Policy::check` and the
/// revocation lookups on the claims, on every request, hit or miss.
pub async fn verified(
    raw: &str,
    _env: &Env,
    config: &Config,
    now: u64,
) -> Result<Rc<Token>, Denial> {
    let digest = token_digest(raw);
    let withdrawals = keys::withdrawals();
    if SEEN_WITHDRAWALS.with(|seen| seen.replace(withdrawals)) != withdrawals {
        // The fetched JWKS lost a key since the cache was last used: every entry is suspect.
        forget_verified_tokens();
    }
    if let Some(token) = cached(&digest, now) {
        return Ok(token);
    }
    let token = parse(raw).map_err(Denial::Malformed)?;
    let key = keys::key_for(&config.keys, &token.header, now).await?;
    check_signature(key.key(), token.signing_input.as_bytes(), &token.signature)
        .await
        .map_err(|SignatureError| Denial::BadSignature)?;
    let fetched_key = matches!(key, keys::KeyRef::Fetched(..));
    let token = Rc::new(token);
    if let Some(exp) = token.claims.exp {
        let dies_at = exp.saturating_add(config.policy().leeway);
        remember(digest, &token, dies_at, fetched_key, now);
    }
    Ok(token)
}

fn cached(digest: &[u8; 32], now: u64) -> Option<Rc<Token>> {
    let found = VERIFIED.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache.get(digest) {
            Some(entry) if now >= entry.dies_at => {
                cache.pop(digest);
                None
            }
            // Its key's set is past the stale bound: verify again (which fetches, or says 503).
            Some(entry) if entry.fetched_key && !keys::fetched_keys_usable(now) => None,
            Some(entry) => Some(Rc::clone(&entry.token)),
            None => None,
        }
    });
    STATS.with(|s| {
        let mut stats = s.get();
        match found {
            Some(_) => stats.hits += 1,
            None => stats.misses += 1,
        }
        s.set(stats);
    });
    found
}

fn remember(digest: [u8; 32], token: &Rc<Token>, dies_at: u64, fetched_key: bool, now: u64) {
    if dies_at > now {
        VERIFIED.with(|cache| {
            cache.borrow_mut().put(
                digest,
                Entry {
                    token: Rc::clone(token),
                    dies_at,
                    fetched_key,
                },
            );
        });
    }
}

/// Empties the verified-token cache (e.g. when a fetched JWKS no longer has a key it had).
pub fn forget_verified_tokens() {
    VERIFIED.with(|cache| cache.borrow_mut().clear());
}

/// The verified-token cache's counters in this isolate.
pub fn cache_stats() -> CacheStats {
    let entries = VERIFIED.with(|cache| cache.borrow().len());
    CacheStats {
        entries,
        ..STATS.with(Cell::get)
    }
}

/// Checks `signature` over `signing_input` with `key`, by exactly `key.alg`: WebCrypto for
/// RSA, ECDSA and Ed25519, `hmac` + `sha2` for HMAC.
///
/// ECDSA signatures must be the fixed-width JWS form `r || s` (a DER signature fails);
/// HMAC tags must be full length.
pub async fn check_signature(
    key: &Key,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    match &key.material {
        KeyMaterial::Hmac(secret) => hmac_verify(key.alg, secret, signing_input, signature),
        _ => webcrypto::verify(key, signing_input, signature).await,
    }
}

/// An HMAC keyed with one secret: the inner and outer pads already absorbed.
#[derive(Clone)]
enum Keyed {
    S256(hmac::Hmac<sha2::Sha256>),
    S384(hmac::Hmac<sha2::Sha384>),
    S512(hmac::Hmac<sha2::Sha512>),
}

thread_local! {
    // Keyed HMAC states of the configured secrets (a handful), so that a verification hashes
    // only the token, not the key pads too.
    static HMACS: RefCell<Vec<(Algorithm, Vec<u8>, Keyed)>> = const { RefCell::new(Vec::new()) };
}

fn keyed(alg: Algorithm, secret: &[u8]) -> Result<Keyed, SignatureError> {
    use hmac::{Hmac, Mac};
    if let Some(k) = HMACS.with(|h| {
        h.borrow()
            .iter()
            .find(|(a, s, _)| *a == alg && s.as_slice() == secret)
            .map(|(_, _, k)| k.clone())
    }) {
        return Ok(k);
    }
    let k = match alg {
        Algorithm::HS256 => Keyed::S256(Hmac::new_from_slice(secret).map_err(|_| SignatureError)?),
        Algorithm::HS384 => Keyed::S384(Hmac::new_from_slice(secret).map_err(|_| SignatureError)?),
        Algorithm::HS512 => Keyed::S512(Hmac::new_from_slice(secret).map_err(|_| SignatureError)?),
        _ => return Err(SignatureError),
    };
    HMACS.with(|h| {
        let mut h = h.borrow_mut();
        if h.len() >= CRYPTO_KEY_CACHE_CAPACITY {
            h.remove(0);
        }
        h.push((alg, secret.to_vec(), k.clone()));
    });
    Ok(k)
}

/// HMAC in wasm: `verify_slice` compares in constant time and refuses a tag of any other length
/// than the hash output (no truncated MACs in JWS).
pub fn hmac_verify(
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
    match keyed(alg, secret)? {
        Keyed::S256(m) => check(m, signing_input, tag),
        Keyed::S384(m) => check(m, signing_input, tag),
        Keyed::S512(m) => check(m, signing_input, tag),
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) mod webcrypto {
    //! `crypto.subtle` from Rust, with the imported keys cached per isolate.

    use std::cell::RefCell;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine as _;
    use js_sys::futures::JsFuture;
    use js_sys::{Array, Object, Reflect, Uint8Array};
    use warden_core::{Algorithm, Key, KeyMaterial, SignatureError};
    use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};
    use worker::wasm_bindgen::{JsCast, JsValue};

    use super::CRYPTO_KEY_CACHE_CAPACITY;

    thread_local! {
        static SUBTLE: RefCell<Option<SubtleCrypto>> = const { RefCell::new(None) };
        static KEYS: RefCell<Vec<(Algorithm, KeyMaterial, CryptoKey)>> = const { RefCell::new(Vec::new()) };
        static PARAMS: RefCell<Vec<(Algorithm, Object)>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn subtle() -> Result<SubtleCrypto, SignatureError> {
        SUBTLE.with(|cell| {
            if let Some(s) = cell.borrow().as_ref() {
                return Ok(s.clone());
            }
            let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
            let subtle = scope.crypto().map_err(|_| SignatureError)?.subtle();
            *cell.borrow_mut() = Some(subtle.clone());
            Ok(subtle)
        })
    }

    pub(crate) fn object(pairs: &[(&str, JsValue)]) -> Result<Object, SignatureError> {
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

    /// Builds the `algorithm` argument of `verify` for `alg`, once per isolate.
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

    /// The `CryptoKey` for `key`: from the isolate's cache, or imported (and cached).
    pub(crate) async fn crypto_key(
        subtle: &SubtleCrypto,
        key: &Key,
    ) -> Result<CryptoKey, SignatureError> {
        let found = KEYS.with(|keys| {
            keys.borrow()
                .iter()
                .find(|(alg, material, _)| *alg == key.alg && *material == key.material)
                .map(|(_, _, k)| k.clone())
        });
        if let Some(k) = found {
            return Ok(k);
        }
        let usages = Array::of1(&JsValue::from_str("verify"));
        let b64 = |bytes: &[u8]| JsValue::from_str(&B64.encode(bytes));
        use Algorithm::*;
        let promise = match (&key.material, key.alg) {
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
                subtle.import_key_with_object(
                    "raw",
                    &Uint8Array::from(point.as_slice()),
                    &params,
                    false,
                    &usages,
                )
            }
            (KeyMaterial::Ed25519(x), _) => {
                let params = object(&[("name", "Ed25519".into())])?;
                subtle.import_key_with_object(
                    "raw",
                    &Uint8Array::from(x.as_slice()),
                    &params,
                    false,
                    &usages,
                )
            }
            (KeyMaterial::Hmac(secret), alg) => {
                let params = object(&[("name", "HMAC".into()), ("hash", hash(alg).into())])?;
                subtle.import_key_with_object(
                    "raw",
                    &Uint8Array::from(secret.as_slice()),
                    &params,
                    false,
                    &usages,
                )
            }
            _ => return Err(SignatureError),
        }
        .map_err(|_| SignatureError)?;
        let imported: CryptoKey = JsFuture::from(promise)
            .await
            .map_err(|_| SignatureError)?
            .unchecked_into();
        KEYS.with(|keys| {
            let mut keys = keys.borrow_mut();
            // Two requests may have imported the same key at the same time: keep one.
            if keys
                .iter()
                .any(|(alg, material, _)| *alg == key.alg && *material == key.material)
            {
                return;
            }
            if keys.len() >= CRYPTO_KEY_CACHE_CAPACITY {
                keys.remove(0);
            }
            keys.push((key.alg, key.material.clone(), imported.clone()));
        });
        Ok(imported)
    }

    /// Starts `crypto.subtle.verify` with the cached `CryptoKey` for `key`, without cloning any
    /// JS handle; `None` when the key has not been imported yet.
    fn start_verify(
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<Result<js_sys::Promise, SignatureError>> {
        if let Err(e) = ensure_params(key.alg) {
            return Some(Err(e));
        }
        SUBTLE.with(|subtle| {
            let subtle = subtle.borrow();
            let subtle = subtle.as_ref()?;
            KEYS.with(|keys| {
                let keys = keys.borrow();
                let (_, _, crypto_key) = keys
                    .iter()
                    .find(|(alg, material, _)| *alg == key.alg && *material == key.material)?;
                PARAMS.with(|p| {
                    let p = p.borrow();
                    let (_, params) = p.iter().find(|(a, _)| *a == key.alg)?;
                    Some(
                        subtle
                            .verify_with_object_and_u8_array_and_u8_array(
                                params,
                                crypto_key,
                                signature,
                                signing_input,
                            )
                            .map_err(|_| SignatureError),
                    )
                })
            })
        })
    }

    /// `crypto.subtle.verify` with `key` (imported once per isolate) by `key.alg`.
    pub(crate) async fn verify(
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let promise = match start_verify(key, signing_input, signature) {
            Some(started) => started?,
            None => {
                let subtle = subtle()?;
                crypto_key(&subtle, key).await?;
                start_verify(key, signing_input, signature).ok_or(SignatureError)??
            }
        };
        match JsFuture::from(promise).await {
            Ok(v) if v.as_bool() == Some(true) => Ok(()),
            _ => Err(SignatureError),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod webcrypto {
    //! Outside workerd there is no WebCrypto: asymmetric signatures never verify natively.

    use warden_core::{Key, SignatureError};

    pub(crate) async fn verify(
        _key: &Key,
        _signing_input: &[u8],
        _signature: &[u8],
    ) -> Result<(), SignatureError> {
        Err(SignatureError)
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
        let key = [7u8; 64];
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let t = tag(alg, &key, b"a.b");
            assert_eq!(hmac_verify(alg, &key, b"a.b", &t), Ok(()));
            assert!(hmac_verify(alg, &key, b"a.c", &t).is_err());
            assert!(hmac_verify(alg, &key, b"a.b", &t[..t.len() - 1]).is_err());
            let mut flipped = t.clone();
            flipped[0] ^= 1;
            assert!(hmac_verify(alg, &key, b"a.b", &flipped).is_err());
            assert!(hmac_verify(alg, &key, b"a.b", &[]).is_err());
        }
        // The algorithm is the key's: an HS384 tag does not pass as HS256 or HS512.
        let t = tag(Algorithm::HS384, &key, b"a.b");
        assert!(hmac_verify(Algorithm::HS256, &key, b"a.b", &t).is_err());
        assert!(hmac_verify(Algorithm::HS512, &key, b"a.b", &t).is_err());
        assert!(hmac_verify(Algorithm::ES256, &key, b"a.b", &t).is_err());
    }

    fn token(exp: u64) -> Rc<Token> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        use base64::Engine as _;
        let h = B64.encode(br#"{"alg":"HS256"}"#);
        let c = B64.encode(format!(r#"{{"exp":{exp},"iat":1}}"#));
        Rc::new(parse(&format!("{h}.{c}.{}", B64.encode([0u8; 32]))).unwrap())
    }

    #[test]
    fn cache_entries_die_at_exp_plus_leeway() {
        forget_verified_tokens();
        let t = token(1_000);
        let d = token_digest("t");
        remember(d, &t, 1_030, false, 900);
        assert!(Rc::ptr_eq(&cached(&d, 900).unwrap(), &t));
        assert!(cached(&d, 1_029).is_some());
        assert!(cached(&d, 1_030).is_none());
        assert_eq!(cache_stats().entries, 0, "a dead entry is dropped");
        // Already dead: never stored.
        remember(d, &t, 1_030, false, 1_030);
        assert!(cached(&d, 0).is_none());
        let before = cache_stats();
        remember(d, &t, 2_000, false, 0);
        cached(&d, 1);
        cached(&token_digest("other"), 1);
        let after = cache_stats();
        assert_eq!(
            (after.hits - before.hits, after.misses - before.misses),
            (1, 1)
        );
        forget_verified_tokens();
        assert!(cached(&d, 1).is_none());
    }

    #[test]
    fn entries_from_fetched_keys_need_a_usable_fetched_set() {
        forget_verified_tokens();
        let t = token(1_000);
        let d = token_digest("fetched");
        remember(d, &t, 1_030, true, 0);
        // Natively no JWKS is ever fetched, so no fetched set is usable: never a hit.
        assert!(!keys::fetched_keys_usable(10));
        assert!(cached(&d, 10).is_none());
        remember(d, &t, 1_030, false, 0);
        assert!(cached(&d, 10).is_some());
        forget_verified_tokens();
    }

    #[test]
    fn cache_is_bounded() {
        forget_verified_tokens();
        let t = token(10);
        for i in 0..VERIFIED_CACHE_CAPACITY + 10 {
            remember(token_digest(&i.to_string()), &t, 10, false, 0);
        }
        assert_eq!(cache_stats().entries, VERIFIED_CACHE_CAPACITY);
        // The oldest went first.
        assert!(cached(&token_digest("0"), 0).is_none());
        assert!(cached(&token_digest(&(VERIFIED_CACHE_CAPACITY + 9).to_string()), 0).is_some());
        forget_verified_tokens();
    }
}
