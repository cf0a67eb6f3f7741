//! The signature step and the verified-token cache.
//!
//! - RS*, PS*, ES* and EdDSA verify through WebCrypto (`crypto.subtle.verify`, BoringSSL inside
//!   workerd); the imported `CryptoKey`s are cached per isolate. HS* verifies in wasm with
//!   `hmac` + `sha2` (constant-time comparison, full-length tags only). Both are
//!   [`warden_webcrypto`], shared with the npm package. `make bench-worker`
//!   measured both choices against the alternatives (`docs/benchmarks.md`).
//! - A token whose signature verified is cached per isolate in a bounded LRU, keyed by the
//!   token text itself (hashed with the standard library's keyed SipHash, compared in full on a
//!   hit), until its `exp` plus the leeway. A hit skips parsing and the
//!   signature; the caller still runs `Policy::check` and the revocation lookups on the claims.

use std::cell::{Cell, RefCell};
use std::num::NonZeroUsize;
use std::rc::Rc;

use lru::LruCache;
use warden_core::{parse, Algorithm, Denial, Key, KeyMaterial, SignatureError, Token};
use warden_webcrypto::KeyCache;
use worker::Env;

use crate::config::Config;
use crate::keys;

/// How many verified tokens one isolate keeps (least recently used first out).
pub const VERIFIED_CACHE_CAPACITY: usize = 4096;
/// How many imported WebCrypto keys one isolate keeps.
pub const CRYPTO_KEY_CACHE_CAPACITY: usize = 64;
/// How many imported DPoP proof keys one isolate keeps (apart from the token keys, so that
/// clients' keys never push the issuer's out).
pub const PROOF_KEY_CACHE_CAPACITY: usize = 256;

const CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(VERIFIED_CACHE_CAPACITY - 1);

struct Entry {
    token: Rc<Token>,
    /// `exp` + leeway: from then on the entry is useless (the policy refuses the token).
    dies_at: u64,
    /// Verified with a key of the fetched JWKS: reused only while that set may serve.
    fetched_key: bool,
}

thread_local! {
    static VERIFIED: RefCell<LruCache<Box<str>, Entry>> = RefCell::new(LruCache::new(CAPACITY));
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
    let withdrawals = keys::withdrawals();
    if SEEN_WITHDRAWALS.with(|seen| seen.replace(withdrawals)) != withdrawals {
        // The fetched JWKS lost a key since the cache was last used: every entry is suspect.
        forget_verified_tokens();
    }
    if let Some(token) = cached(raw, now) {
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
        remember(raw, &token, dies_at, fetched_key, now);
    }
    Ok(token)
}

fn cached(raw: &str, now: u64) -> Option<Rc<Token>> {
    let found = VERIFIED.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache.get(raw) {
            Some(entry) if now >= entry.dies_at => {
                cache.pop(raw);
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

fn remember(raw: &str, token: &Rc<Token>, dies_at: u64, fetched_key: bool, now: u64) {
    if dies_at > now {
        VERIFIED.with(|cache| {
            cache.borrow_mut().put(
                raw.into(),
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
    crate::epoch::changed();
}

/// The verified-token cache's counters in this isolate.
pub fn cache_stats() -> CacheStats {
    let entries = VERIFIED.with(|cache| cache.borrow().len());
    CacheStats {
        entries,
        ..STATS.with(Cell::get)
    }
}

thread_local! {
    /// The imported `CryptoKey`s and keyed HMAC states of this isolate.
    static KEYS: Rc<KeyCache> = Rc::new(KeyCache::new(CRYPTO_KEY_CACHE_CAPACITY));
    /// The imported DPoP proof keys of this isolate, one per key (algorithm and material: the
    /// same key as its thumbprint), the oldest out first.
    static PROOF_KEYS: Rc<KeyCache> = Rc::new(KeyCache::new(PROOF_KEY_CACHE_CAPACITY));
}

/// Checks a DPoP proof's signature with the public key its header carries (by exactly the
/// proof's `alg`), through WebCrypto with this isolate's proof-key cache. Natively it always
/// fails.
pub async fn check_proof_signature(
    key: &Key,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let keys = PROOF_KEYS.with(Rc::clone);
    webcrypto::verify_with(&keys, key, signing_input, signature).await
}

/// Checks `signature` over `signing_input` with `key`, by exactly `key.alg`: WebCrypto for
/// RSA, ECDSA, Ed25519, HS384 and HS512, `hmac` + `sha2` for HS256 ([`warden_webcrypto`], with
/// this isolate's key cache).
///
/// ECDSA signatures must be the fixed-width JWS form `r || s` (a DER signature fails);
/// HMAC tags must be full length.
pub async fn check_signature(
    key: &Key,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    match &key.material {
        // No `Rc` clone on the HMAC path: it never waits.
        KeyMaterial::Hmac(secret) if warden_webcrypto::hmac_in_wasm(key.alg) => {
            hmac_verify(key.alg, secret, signing_input, signature)
        }
        _ => webcrypto::verify(key, signing_input, signature).await,
    }
}

/// HMAC in wasm with this isolate's keyed states: constant-time comparison, full-length tags
/// only (no truncated MACs in JWS).
pub fn hmac_verify(
    alg: Algorithm,
    secret: &[u8],
    signing_input: &[u8],
    tag: &[u8],
) -> Result<(), SignatureError> {
    KEYS.with(|keys| keys.hmac_verify(alg, secret, signing_input, tag))
}

pub(crate) mod webcrypto {
    //! `crypto.subtle.verify` with this isolate's imported keys (any key, HMAC included: the
    //! benchmark compares the two HMACs).

    use std::rc::Rc;

    use warden_core::{Key, SignatureError};
    use warden_webcrypto::KeyCache;

    use super::KEYS;

    /// `crypto.subtle.verify` with `key` (imported once per isolate) by `key.alg`; the promise
    /// of an imported key's check goes to the entry module when the request path polls
    /// ([`crate::handoff`]). Natively (no WebCrypto) it always fails.
    pub(crate) async fn verify(
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let keys = KEYS.with(Rc::clone);
        verify_with(&keys, key, signing_input, signature).await
    }

    /// [`verify`] with the key cache `keys`.
    pub(crate) async fn verify_with(
        keys: &KeyCache,
        key: &Key,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        #[cfg(target_arch = "wasm32")]
        if let Some(promise) = keys.start_verify(key, signing_input, signature)? {
            return warden_webcrypto::verdict(crate::handoff::settled(promise).await);
        }
        // The key's first use imports it (awaited in Rust: once per key and isolate).
        keys.webcrypto_verify(key, signing_input, signature).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    #[test]
    fn hmac_goes_through_the_isolates_key_cache() {
        let key = [7u8; 32];
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        m.update(b"a.b");
        let t = m.finalize().into_bytes();
        assert_eq!(hmac_verify(Algorithm::HS256, &key, b"a.b", &t), Ok(()));
        assert!(hmac_verify(Algorithm::HS256, &key, b"a.c", &t).is_err());
        assert!(hmac_verify(Algorithm::HS384, &key, b"a.b", &t).is_err());
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
        let d = "t";
        remember(d, &t, 1_030, false, 900);
        assert!(Rc::ptr_eq(&cached(d, 900).unwrap(), &t));
        assert!(cached(d, 1_029).is_some());
        assert!(cached(d, 1_030).is_none());
        assert_eq!(cache_stats().entries, 0, "a dead entry is dropped");
        // Already dead: never stored.
        remember(d, &t, 1_030, false, 1_030);
        assert!(cached(d, 0).is_none());
        let before = cache_stats();
        remember(d, &t, 2_000, false, 0);
        cached(d, 1);
        cached("other", 1);
        let after = cache_stats();
        assert_eq!(
            (after.hits - before.hits, after.misses - before.misses),
            (1, 1)
        );
        forget_verified_tokens();
        assert!(cached(d, 1).is_none());
    }

    #[test]
    fn entries_from_fetched_keys_need_a_usable_fetched_set() {
        forget_verified_tokens();
        let t = token(1_000);
        let d = "fetched";
        remember(d, &t, 1_030, true, 0);
        // Natively no JWKS is ever fetched, so no fetched set is usable: never a hit.
        assert!(!keys::fetched_keys_usable(10));
        assert!(cached(d, 10).is_none());
        remember(d, &t, 1_030, false, 0);
        assert!(cached(d, 10).is_some());
        forget_verified_tokens();
    }

    #[test]
    fn cache_is_bounded() {
        forget_verified_tokens();
        let t = token(10);
        for i in 0..VERIFIED_CACHE_CAPACITY + 10 {
            remember(&i.to_string(), &t, 10, false, 0);
        }
        assert_eq!(cache_stats().entries, VERIFIED_CACHE_CAPACITY);
        // The oldest went first.
        assert!(cached("0", 0).is_none());
        assert!(cached(&(VERIFIED_CACHE_CAPACITY + 9).to_string(), 0).is_some());
        forget_verified_tokens();
    }
}
