//! Key sources: where the worker's verification keys come from, and how they stay fresh.
//!
//! - `WARDEN_JWKS`: an inline JWKS, loaded strictly when the configuration is parsed.
//! - `WARDEN_JWKS_URL`: the issuer's JWKS endpoint. Fetched on first use and kept in the isolate
//!   and in the Cache API (so a new isolate in the same location starts warm). Fresh for the
//!   response's `Cache-Control: max-age` (300 s when absent), never less than the cooldown nor
//!   more than 24 h. A token with an unknown `kid` triggers a refetch, at most once per
//!   `WARDEN_JWKS_COOLDOWN_SECONDS` (default 30). When the endpoint fails (network error, non-200,
//!   a body that is not a usable JWKS), the last good set keeps serving for at most
//!   `WARDEN_JWKS_STALE_SECONDS` (default 3600) after it stopped being fresh; after that the
//!   answer is 503 `keys_unavailable`. Concurrent requests in one isolate share one fetch.
//! - `WARDEN_HMAC_KEYS` (a secret): a JWKS of `oct` keys for HS* issuers, kept as its own set
//!   (the core never mixes secret and public keys in one set). A fetched JWKS never supplies
//!   HMAC secrets.
//! - `WARDEN_ALGORITHMS`: when set, only these algorithms are accepted; by default each key
//!   accepts exactly its own `alg`.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;
use warden_core::{Denial, Header, Key, KeyError, KeySet};

use crate::config::{is_symmetric, jwks_url, Discovery, KeyConfig};
use crate::fields::{obj, text};

/// Freshness of a fetched JWKS whose response has no `max-age`.
pub const DEFAULT_TTL_SECONDS: u64 = 300;
/// Longest freshness of a fetched JWKS, whatever its `max-age` says.
pub const MAX_TTL_SECONDS: u64 = 86_400;
/// Largest accepted JWKS response body.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// A JWKS fetch that has not answered within this many milliseconds has failed.
pub const FETCH_TIMEOUT_MS: u32 = 5_000;

/// The key chosen for a token: one of the configured sets', or one of a fetched set's.
#[derive(Debug)]
pub enum KeyRef<'a> {
    /// From `WARDEN_JWKS` or `WARDEN_HMAC_KEYS`.
    Configured(&'a Key),
    /// From the set fetched from `WARDEN_JWKS_URL` (the set, and the key's index in it).
    Fetched(Rc<KeySet>, usize),
}

impl KeyRef<'_> {
    /// The key.
    pub fn key(&self) -> &Key {
        match self {
            KeyRef::Configured(k) => k,
            KeyRef::Fetched(set, i) => &set.keys()[*i],
        }
    }
}

/// Picks the key for a token header: `WARDEN_ALGORITHMS` first, then HMAC secrets for HS*
/// tokens, and for the others the inline JWKS, then the fetched one (which may be fetched or
/// refetched here).
///
/// `AlgorithmNotAllowed` when no configured source holds keys of the token's kind;
/// `UnknownKey` (401) when no key has the token's `kid`; `KeysUnavailable` (503) only when the
/// JWKS URL is the only place the key could be and no usable copy of it can be had.
pub async fn key_for<'a>(
    config: &'a KeyConfig,
    header: &Header,
    now: u64,
) -> Result<KeyRef<'a>, Denial> {
    if !config.allows(header.alg) {
        return Err(Denial::AlgorithmNotAllowed);
    }
    if header.alg.is_symmetric() {
        let sets = [config.hmac.as_ref(), config.inline.as_ref()];
        let mut any = false;
        for set in sets.into_iter().flatten().filter(|s| is_symmetric(s)) {
            any = true;
            match set.select(header) {
                Ok(key) => return Ok(KeyRef::Configured(key)),
                Err(Denial::UnknownKey) => {}
                Err(other) => return Err(other),
            }
        }
        return Err(if any {
            Denial::UnknownKey
        } else {
            Denial::AlgorithmNotAllowed
        });
    }
    let inline = config.inline.as_ref().filter(|s| !is_symmetric(s));
    if let Some(set) = inline {
        match set.select(header) {
            Ok(key) => return Ok(KeyRef::Configured(key)),
            Err(Denial::UnknownKey) => {}
            Err(other) => return Err(other),
        }
    }
    if let Some(discovery) = &config.discovery {
        return discovered_key(discovery, config, header, now).await;
    }
    match &config.url {
        Some(url) => remote_key(url, config, header, now).await,
        None if inline.is_some() => Err(Denial::UnknownKey),
        None => Err(Denial::AlgorithmNotAllowed),
    }
}

// ---------------------------------------------------------------------------------------------
// The fetched JWKS: isolate state, Cache API, network.
// ---------------------------------------------------------------------------------------------

/// The isolate's copy of the fetched JWKS.
struct Remote {
    url: String,
    /// The last good set.
    set: Option<Rc<KeySet>>,
    /// When `set` was fetched from the endpoint (by this isolate or, via the Cache API, another).
    fetched_at: u64,
    /// `set` is fresh before this time.
    fresh_until: u64,
    /// `set` may serve until this time (fresh, then stale while the endpoint fails).
    usable_until: u64,
    /// The last time the endpoint was asked (or the fetch time of a set adopted from the cache).
    last_attempt: Option<u64>,
    /// A request of this isolate is loading the JWKS now.
    loading: bool,
    /// Fetch attempts by this isolate, and how many failed.
    fetches: u64,
    failures: u64,
    /// The access tokens' keys (`WARDEN_JWKS_URL`); else only a transmitter's
    /// (`WARDEN_SSF_JWKS_URL`), whose changes never touch the verified-token cache.
    token: bool,
}

impl Remote {
    fn new(url: &str) -> Remote {
        Remote {
            url: url.to_owned(),
            set: None,
            fetched_at: 0,
            fresh_until: 0,
            usable_until: 0,
            last_attempt: None,
            loading: false,
            fetches: 0,
            failures: 0,
            token: false,
        }
    }
}

/// Most JWKS URLs one isolate keeps: the access tokens' (two while a discovered `jwks_uri`
/// moves) and a transmitter's.
const MAX_REMOTES: usize = 3;

thread_local! {
    // One isolate runs one thread; its configuration names at most two JWKS URLs.
    static REMOTE: RefCell<Vec<Remote>> = const { RefCell::new(Vec::new()) };
}

fn with_remote<R>(url: &str, f: impl FnOnce(&mut Remote) -> R) -> R {
    REMOTE.with(|cell| {
        let mut remotes = cell.borrow_mut();
        let i = match remotes.iter().position(|r| r.url == url) {
            Some(i) => i,
            None => {
                if remotes.len() >= MAX_REMOTES {
                    remotes.remove(0);
                }
                remotes.push(Remote::new(url));
                remotes.len() - 1
            }
        };
        f(&mut remotes[i])
    })
}

/// The access tokens' fetched JWKS, if this isolate holds one.
fn with_token_remote<R>(f: impl FnOnce(&Remote) -> Option<R>) -> Option<R> {
    REMOTE.with(|cell| cell.borrow().iter().find(|r| r.token).and_then(f))
}

/// What the isolate holds for `url` at `now`.
struct View {
    /// The set, if still usable (fresh, or stale within the bound).
    set: Option<Rc<KeySet>>,
    fresh: bool,
    /// The cooldown since the last attempt has passed.
    may_fetch: bool,
}

fn view(url: &str, config: &KeyConfig, now: u64) -> View {
    with_remote(url, |r| {
        let usable = r.set.is_some() && now <= r.usable_until;
        View {
            set: if usable { r.set.clone() } else { None },
            fresh: usable && now < r.fresh_until,
            may_fetch: r
                .last_attempt
                .is_none_or(|t| now >= t.saturating_add(config.cooldown)),
        }
    })
}

async fn remote_key(
    url: &str,
    config: &KeyConfig,
    header: &Header,
    now: u64,
) -> Result<KeyRef<'static>, Denial> {
    if !config.transmitter {
        with_remote(url, |_| ());
        // The access tokens' set is this one (a discovered `jwks_uri` may have moved).
        REMOTE.with(|cell| {
            for r in cell.borrow_mut().iter_mut() {
                r.token = r.url == url;
            }
        });
    }
    let v = view(url, config, now);
    let mut refreshed = false;
    let set = match v.set {
        Some(set) if v.fresh || !v.may_fetch => set,
        _ => {
            // Cold, or stale and the cooldown allows another try.
            load(url, config, now, false).await;
            refreshed = true;
            view(url, config, now).set.ok_or(Denial::KeysUnavailable)?
        }
    };
    match select(&set, header) {
        Err(Denial::UnknownKey) if !refreshed && view(url, config, now).may_fetch => {
            // Perhaps a new signing key: ask the endpoint itself, not a cached copy.
            load(url, config, now, true).await;
            let set = view(url, config, now).set.ok_or(Denial::KeysUnavailable)?;
            select(&set, header)
        }
        other => other,
    }
}

fn select(set: &Rc<KeySet>, header: &Header) -> Result<KeyRef<'static>, Denial> {
    let key = set.select(header)?;
    let index = set
        .keys()
        .iter()
        .position(|k| std::ptr::eq(k, key))
        .ok_or(Denial::KeysUnavailable)?;
    Ok(KeyRef::Fetched(Rc::clone(set), index))
}

// ---------------------------------------------------------------------------------------------
// OpenID Connect discovery (`WARDEN_OIDC_DISCOVERY=on`): where the token keys are.
// ---------------------------------------------------------------------------------------------

/// Largest accepted discovery document.
pub const MAX_DISCOVERY_BYTES: usize = 64 * 1024;

/// The isolate's copy of the discovery document: its checked `jwks_uri` (empty before the first
/// good one), kept like a fetched JWKS — fresh for its `max-age` (300 s when absent, within the
/// cooldown and 24 h), then while the endpoint fails for at most `WARDEN_JWKS_STALE_SECONDS`;
/// asked at most once per cooldown.
struct Discovered {
    jwks_uri: String,
    fresh_until: u64,
    usable_until: u64,
    last_attempt: Option<u64>,
}

thread_local! {
    static DISCOVERED: RefCell<Discovered> = const {
        RefCell::new(Discovered { jwks_uri: String::new(), fresh_until: 0, usable_until: 0, last_attempt: None })
    };
}

/// The `jwks_uri` of a discovery document, or why it is unusable: its `issuer` must be exactly
/// `issuer` (OpenID Connect Discovery §4.3) and its `jwks_uri` https (plain http only to a
/// loopback host, as `WARDEN_JWKS_URL`).
pub fn discovered_jwks_uri(document: &str, issuer: &str) -> Result<String, String> {
    let doc = crate::fields::parse(document).map_err(|_| "the document is not a JSON object")?;
    match doc["issuer"].as_str() {
        Some(found) if found == issuer => {}
        Some(found) => {
            return Err(format!(
                "the document's issuer {found:?} is not WARDEN_ISSUER {issuer:?}"
            ))
        }
        None => return Err("the document has no issuer".into()),
    }
    let uri = doc["jwks_uri"]
        .as_str()
        .ok_or("the document has no jwks_uri")?;
    jwks_url(uri).map_err(|why| format!("jwks_uri: {why}"))
}

async fn discovered_key(
    discovery: &Discovery,
    config: &KeyConfig,
    header: &Header,
    now: u64,
) -> Result<KeyRef<'static>, Denial> {
    let uri = jwks_uri(discovery, config, now, false).await?;
    match remote_key(&uri, config, header, now).await {
        // Perhaps the keys moved: the document asked again (at most once per cooldown).
        Err(Denial::UnknownKey) => match jwks_uri(discovery, config, now, true).await? {
            moved if moved != uri => remote_key(&moved, config, header, now).await,
            _ => Err(Denial::UnknownKey),
        },
        other => other,
    }
}

/// The token keys' URL from the discovery document: held, or fetched (`refetch`: even while the
/// held one is fresh). A document that cannot be fetched leaves the held one serving within the
/// stale bound; one that is wrong (another `issuer`, a `jwks_uri` that is not https) is dropped
/// at once. Each failure is a `config_error` audit line; with nothing usable,
/// `DiscoveryFailed` (503 `config_error`).
async fn jwks_uri(
    discovery: &Discovery,
    config: &KeyConfig,
    now: u64,
    refetch: bool,
) -> Result<String, Denial> {
    let (fresh, usable, may_fetch) = DISCOVERED.with(|cell| {
        let d = cell.borrow();
        let may_fetch = d
            .last_attempt
            .is_none_or(|t| now >= t.saturating_add(config.cooldown));
        (now < d.fresh_until, now <= d.usable_until, may_fetch)
    });
    if !may_fetch || (fresh && !refetch) {
        return DISCOVERED.with(|cell| match usable {
            true => Ok(cell.borrow().jwks_uri.clone()),
            false => Err(Denial::DiscoveryFailed),
        });
    }
    let outcome = match fetch_document(&discovery.url).await {
        Err(why) => Err((false, why)),
        Ok((body, cache_control)) => discovered_jwks_uri(&body, &discovery.issuer)
            .map(|uri| (uri, cache_control))
            .map_err(|why| (true, why)),
    };
    DISCOVERED.with(|cell| {
        let mut d = cell.borrow_mut();
        d.last_attempt = Some(now);
        match outcome {
            Ok((uri, cache_control)) => {
                let ttl = cache_control
                    .as_deref()
                    .and_then(max_age)
                    .unwrap_or(DEFAULT_TTL_SECONDS)
                    .clamp(config.cooldown, MAX_TTL_SECONDS);
                if !d.jwks_uri.is_empty() && d.jwks_uri != uri {
                    // Tokens verified with the old set's keys must be verified again.
                    WITHDRAWALS.with(|w| w.set(w.get().wrapping_add(1)));
                }
                d.fresh_until = now + ttl;
                d.usable_until = d.fresh_until.saturating_add(config.stale);
                d.jwks_uri = uri;
                Ok(d.jwks_uri.clone())
            }
            Err((wrong, why)) => {
                if wrong {
                    d.usable_until = 0;
                    d.fresh_until = 0;
                }
                #[cfg(not(target_arch = "wasm32"))]
                log(obj! {"event": "discovery_failed", "error": why});
                #[cfg(target_arch = "wasm32")]
                crate::audit::audit(
                    crate::audit::AuditEvent::ConfigError,
                    &crate::fields::fields! {"variable": "WARDEN_OIDC_DISCOVERY", "reason": why, "url": discovery.url},
                );
                match now <= d.usable_until {
                    true => Ok(d.jwks_uri.clone()),
                    false => Err(Denial::DiscoveryFailed),
                }
            }
        }
    })
}

/// Polling step of a request that waits for another request's load of the JWKS.
const WAIT_STEP_MS: u64 = 5;

/// Clears the isolate's "loading" mark when the load ends, however it ends (a request that is
/// cancelled mid-fetch drops its future, and with it this guard).
struct Loading<'a>(&'a str);

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        with_remote(self.0, |r| r.loading = false);
    }
}

/// Loads the JWKS; or, when another request of this isolate is loading it already, waits for
/// that load to end (then the caller reads the isolate's state again). So one isolate fetches
/// once, however many requests need the keys at the same moment.
///
/// The waiting polls the isolate's state on this request's own timer rather than awaiting the
/// other request's fetch: workerd does not resume a request from another request's I/O (its
/// continuations would be cancelled).
async fn load(url: &str, config: &KeyConfig, now: u64, force_network: bool) {
    let start = with_remote(url, |r| !std::mem::replace(&mut r.loading, true));
    if start {
        let _loading = Loading(url);
        run_load(url, now, force_network, config.cooldown, config.stale).await;
        return;
    }
    // The other load gives up after FETCH_TIMEOUT_MS; so does this wait, a little later.
    let steps = (u64::from(FETCH_TIMEOUT_MS) + 2_000) / WAIT_STEP_MS;
    for _ in 0..steps {
        sleep_ms(WAIT_STEP_MS).await;
        if !with_remote(url, |r| r.loading) {
            return;
        }
    }
}

/// A JWKS as stored in the Cache API.
struct CachedJwks {
    body: String,
    fetched_at: u64,
    fresh_until: u64,
}

async fn run_load(url: &str, now: u64, force_network: bool, cooldown: u64, stale: u64) {
    let url = url.to_owned();
    let current_fetched_at = with_remote(&url, |r| r.set.as_ref().map(|_| r.fetched_at));
    // Another isolate may have fetched it already: a fresher, still-fresh copy in the Cache API
    // saves a fetch (unless the endpoint itself must be asked, for a new kid).
    let cached = cache_get(&url).await;
    if !force_network {
        if let Some(entry) = &cached {
            let newer = current_fetched_at.is_none_or(|t| entry.fetched_at > t);
            if newer && now < entry.fresh_until {
                if let Ok(set) = load_fetched(&entry.body) {
                    adopt(
                        &url,
                        set,
                        entry.fetched_at,
                        entry.fresh_until,
                        stale,
                        entry.fetched_at,
                    );
                    return;
                }
            }
        }
    }
    with_remote(&url, |r| r.fetches += 1);
    match fetch(&url).await {
        Ok((body, set, max_age)) => {
            let ttl = max_age
                .unwrap_or(DEFAULT_TTL_SECONDS)
                .clamp(cooldown, MAX_TTL_SECONDS);
            adopt(&url, set, now, now + ttl, stale, now);
            let entry = CachedJwks {
                body,
                fetched_at: now,
                fresh_until: now + ttl,
            };
            if let Err(e) = cache_put(&url, &entry, stale, now).await {
                log(obj! {"event": "jwks_cache_error", "error": e});
            }
        }
        Err(why) => {
            log(obj! {"event": "jwks_fetch_failed", "url": url, "error": why});
            with_remote(&url, |r| {
                r.failures += 1;
                r.last_attempt = Some(now);
                crate::epoch::changed();
            });
            // A new isolate has nothing yet: a stale copy another isolate stored may still serve.
            if let Some(entry) = cached {
                let newer = current_fetched_at.is_none_or(|t| entry.fetched_at > t);
                if newer && now <= entry.fresh_until.saturating_add(stale) {
                    if let Ok(set) = load_fetched(&entry.body) {
                        adopt(&url, set, entry.fetched_at, entry.fresh_until, stale, now);
                    }
                }
            }
        }
    }
}

fn adopt(url: &str, set: KeySet, fetched_at: u64, fresh_until: u64, stale: u64, attempt: u64) {
    let withdrawn = with_remote(url, |r| {
        let withdrawn = r.token
            && r.set.as_ref().is_some_and(|old| {
                old.keys().iter().any(|k| {
                    !set.keys()
                        .iter()
                        .any(|n| n.kid == k.kid && n.material == k.material)
                })
            });
        r.set = Some(Rc::new(set));
        r.fetched_at = fetched_at;
        r.fresh_until = fresh_until;
        r.usable_until = fresh_until.saturating_add(stale);
        r.last_attempt = Some(attempt);
        withdrawn
    });
    crate::epoch::changed();
    if withdrawn {
        // Tokens verified with a key the issuer no longer publishes must be checked again.
        WITHDRAWALS.with(|w| w.set(w.get().wrapping_add(1)));
    }
}

thread_local! {
    static WITHDRAWALS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times this isolate adopted a fetched JWKS that no longer holds a key it held: a
/// token verified before the count last moved must be verified again.
pub fn withdrawals() -> u64 {
    WITHDRAWALS.with(std::cell::Cell::get)
}

/// Loads a fetched JWKS. Strict when the whole set is acceptable; otherwise keys the core
/// refuses (encryption keys, unsupported curves, weak keys) and any `oct` key (a JWKS endpoint
/// never supplies HMAC secrets) are left out with a log line, as long as one key remains and
/// the JSON itself is well formed.
pub fn load_fetched(body: &str) -> Result<KeySet, String> {
    match KeySet::from_jwks(body) {
        Ok(set) if !is_symmetric(&set) => return Ok(set),
        Ok(_) | Err(KeyError::Key { .. } | KeyError::MixedSecretAndPublic) => {}
        Err(e) => return Err(e.to_string()),
    }
    let root = crate::fields::parse(body).map_err(|e| e.to_string())?;
    let entries = root
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("not a JWKS")?;
    let mut kept = Vec::new();
    for (i, jwk) in entries.iter().enumerate() {
        let name = jwk
            .get("kid")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{i}"), |k| format!("{k:?}"));
        if jwk.get("kty").and_then(Value::as_str) == Some("oct") {
            log(
                obj! {"event": "jwks_key_skipped", "key": name, "reason": "oct keys are never taken from a JWKS URL"},
            );
            continue;
        }
        match KeySet::from_jwks(&text(&obj! {"keys": std::slice::from_ref(jwk)})) {
            Ok(_) => kept.push(jwk.clone()),
            Err(e) => log(obj! {"event": "jwks_key_skipped", "key": name, "reason": e.to_string()}),
        }
    }
    if kept.is_empty() {
        return Err("no usable signature key in the JWKS".into());
    }
    KeySet::from_jwks(&text(&obj! { "keys": kept })).map_err(|e| e.to_string())
}

/// `max-age` from a `Cache-Control` value: `Some(0)` for `no-cache`/`no-store`, `None` when absent.
pub fn max_age(cache_control: &str) -> Option<u64> {
    let mut found = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(0);
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            found = v.trim_matches('"').parse::<u64>().ok().or(Some(0));
        }
    }
    found
}

fn log(mut event: Value) {
    if let Some(obj) = event.as_object_mut() {
        obj.insert("warden".into(), Value::from("keys"));
    }
    #[cfg(target_arch = "wasm32")]
    worker::console_log!("{}", text(&event));
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{}", text(&event));
}

/// Whether the fetched JWKS held by this isolate may still serve at `now` (fresh, or stale
/// within `WARDEN_JWKS_STALE_SECONDS`). A verified token whose key came from it is only
/// reused from the cache while this holds.
pub fn fetched_keys_usable(now: u64) -> bool {
    with_token_remote(|r| Some(r.set.is_some() && now <= r.usable_until)).unwrap_or(false)
}

/// The state of the fetched JWKS in this isolate (e.g. for a health report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksStatus {
    /// The `kid`s of the set held (`None` entries for keys without one).
    pub kids: Vec<Option<String>>,
    /// When the set held was fetched from the endpoint (Unix seconds).
    pub fetched_at: u64,
    /// Seconds since then.
    pub age: u64,
    /// The set is fresh until this time; after it, it serves only while the endpoint fails,
    /// for at most `WARDEN_JWKS_STALE_SECONDS`.
    pub fresh_until: u64,
    /// Fetch attempts made by this isolate, and how many failed.
    pub fetches: u64,
    /// Failed fetch attempts.
    pub failures: u64,
}

/// The fetched JWKS as held by this isolate, or `None` before the first successful load.
pub fn jwks_status(now: u64) -> Option<JwksStatus> {
    with_token_remote(|r| {
        let set = r.set.as_ref()?;
        Some(JwksStatus {
            kids: set.keys().iter().map(|k| k.kid.clone()).collect(),
            fetched_at: r.fetched_at,
            age: now.saturating_sub(r.fetched_at),
            fresh_until: r.fresh_until,
            fetches: r.fetches,
            failures: r.failures,
        })
    })
}

#[cfg(target_arch = "wasm32")]
pub use io::fetch_text;
#[cfg(target_arch = "wasm32")]
use io::{cache_get, cache_put, fetch, fetch_document, sleep_ms};

#[cfg(target_arch = "wasm32")]
mod io {
    //! The Cache API and the endpoint.

    use warden_core::{hex, token_digest, KeySet};
    use worker::{Cache, Fetch, Headers, Response};

    use super::{
        load_fetched, max_age, CachedJwks, FETCH_TIMEOUT_MS, MAX_DISCOVERY_BYTES, MAX_JWKS_BYTES,
    };

    /// The Cache API key for a JWKS URL: a name of Warden's own, never the URL itself (which the
    /// zone might cache for other reasons).
    pub(super) async fn sleep_ms(ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }

    fn cache_key(url: &str) -> String {
        format!("https://warden-jwks.internal/{}", hex(&token_digest(url)))
    }

    pub(super) async fn cache_get(url: &str) -> Option<CachedJwks> {
        let resp = Cache::default().get(cache_key(url), false).await.ok()??;
        let header = |name: &str| -> Option<u64> { resp.headers().get(name).ok()??.parse().ok() };
        let fetched_at = header("x-warden-fetched-at")?;
        let fresh_until = header("x-warden-fresh-until")?;
        let body = crate::http::body_text(resp).await.ok()?;
        Some(CachedJwks {
            body,
            fetched_at,
            fresh_until,
        })
    }

    pub(super) async fn cache_put(
        url: &str,
        entry: &CachedJwks,
        stale: u64,
        now: u64,
    ) -> Result<(), String> {
        // Kept by the cache as long as it may serve: fresh, then stale within the bound.
        let keep = entry
            .fresh_until
            .saturating_add(stale)
            .saturating_sub(now)
            .max(1);
        let headers = Headers::new();
        let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
        set("content-type", "application/json")?;
        set("cache-control", &format!("max-age={keep}"))?;
        set("x-warden-fetched-at", &entry.fetched_at.to_string())?;
        set("x-warden-fresh-until", &entry.fresh_until.to_string())?;
        let resp = Response::ok(entry.body.clone())
            .map_err(|e| e.to_string())?
            .with_headers(headers);
        Cache::default()
            .put(cache_key(url), resp)
            .await
            .map_err(|e| e.to_string())
    }

    /// GETs the discovery document: its body and `Cache-Control`.
    pub(super) async fn fetch_document(url: &str) -> Result<(String, Option<String>), String> {
        let accept = ("accept", "application/json");
        fetch_text(url, "GET", accept, None, MAX_DISCOVERY_BYTES).await
    }

    /// GETs the JWKS and loads it.
    pub(super) async fn fetch(url: &str) -> Result<(String, KeySet, Option<u64>), String> {
        let accept = ("accept", "application/jwk-set+json, application/json");
        let (body, cache_control) = fetch_text(url, "GET", accept, None, MAX_JWKS_BYTES).await?;
        let set = load_fetched(&body)?;
        Ok((body, set, cache_control.as_deref().and_then(max_age)))
    }

    /// Sends `method` to `url` with the `accept` header (a name and value: `accept`, or
    /// `authorization` for a JSON `body`), no HTTP cache, no redirects (a document that moves
    /// is a configuration change), within [`FETCH_TIMEOUT_MS`]: the body of a `200` answer (at
    /// most `max` bytes of UTF-8) and its `Cache-Control`, or why not.
    pub async fn fetch_text(
        url: &str,
        method: &str,
        header: (&str, &str),
        body: Option<String>,
        max: usize,
    ) -> Result<(String, Option<String>), String> {
        let mut headers = vec![header];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
            headers.push(("accept", "application/json"));
        }
        let req = crate::http::outbound(method, url, &headers, body.as_deref(), true)
            .map_err(|e| e.to_string())?;
        let signal =
            worker::AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS));
        let resp = Fetch::Request(req)
            .send_with_signal(&signal)
            .await
            .map_err(|e| format!("fetch failed: {e}"))?;
        if resp.status_code() != 200 {
            return Err(format!("status {}", resp.status_code()));
        }
        let declared = resp
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > max) {
            return Err(format!("body over {max} bytes"));
        }
        let cache_control = resp.headers().get("cache-control").ok().flatten();
        let body = crate::http::body(resp).await.map_err(|e| e.to_string())?;
        if body.len() > max {
            return Err(format!("body over {max} bytes"));
        }
        let body = String::from_utf8(body).map_err(|_| "body is not UTF-8".to_owned())?;
        Ok((body, cache_control))
    }
}

// Natively (unit tests, clippy) there is no network and no Cache API: every fetch fails.
#[cfg(not(target_arch = "wasm32"))]
async fn cache_get(_url: &str) -> Option<CachedJwks> {
    None
}

#[cfg(not(target_arch = "wasm32"))]
async fn cache_put(_url: &str, _entry: &CachedJwks, _stale: u64, _now: u64) -> Result<(), String> {
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
async fn sleep_ms(_ms: u64) {}

#[cfg(not(target_arch = "wasm32"))]
async fn fetch_document(_url: &str) -> Result<(String, Option<String>), String> {
    Err("no network outside workerd".into())
}

#[cfg(not(target_arch = "wasm32"))]
async fn fetch(_url: &str) -> Result<(String, KeySet, Option<u64>), String> {
    Err("no network outside workerd".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HS: &str = r#"{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;
    const EC: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

    #[test]
    fn discovery_documents() {
        let issuer = "https://id.example/tenant";
        let doc = |iss: &str, uri: &str| format!(r#"{{"issuer":"{iss}","jwks_uri":"{uri}"}}"#);
        assert_eq!(
            discovered_jwks_uri(&doc(issuer, "https://id.example/keys"), issuer),
            Ok("https://id.example/keys".to_owned())
        );
        assert_eq!(
            discovered_jwks_uri(&doc(issuer, "http://127.0.0.1:9/keys"), issuer).as_deref(),
            Ok("http://127.0.0.1:9/keys")
        );
        for (body, why) in [
            (
                doc("https://id.example/tenant/", "https://k"),
                "is not WARDEN_ISSUER",
            ),
            (
                doc("https://id.example", "https://k"),
                "is not WARDEN_ISSUER",
            ),
            (doc(issuer, "http://id.example/keys"), "jwks_uri"),
            (doc(issuer, "keys"), "jwks_uri"),
            (format!(r#"{{"issuer":"{issuer}"}}"#), "no jwks_uri"),
            (r#"{"jwks_uri":"https://k"}"#.to_owned(), "no issuer"),
            ("<html>".to_owned(), "not a JSON object"),
            (r#"["https://k"]"#.to_owned(), "not a JSON object"),
            (
                format!(r#"{{"issuer":"{issuer}","jwks_uri":"https://a","jwks_uri":"https://b"}}"#),
                "not a JSON object",
            ),
        ] {
            let e = discovered_jwks_uri(&body, issuer).unwrap_err();
            assert!(e.contains(why), "{body}: {e}");
        }
    }

    #[test]
    fn max_age_parsing() {
        assert_eq!(max_age("public, max-age=300"), Some(300));
        assert_eq!(max_age("Max-Age=60, must-revalidate"), Some(60));
        assert_eq!(max_age("no-store"), Some(0));
        assert_eq!(max_age("max-age=600, no-cache"), Some(0));
        assert_eq!(max_age("max-age=banana"), Some(0));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age(""), None);
    }

    #[test]
    fn fetched_sets_drop_what_they_cannot_use() {
        // Strict when everything is usable.
        assert_eq!(load_fetched(EC).unwrap().keys().len(), 1);
        // An encryption key and an HMAC secret next to a signature key: only the latter is kept.
        let mixed = r#"{"keys":[
            {"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"EC","crv":"P-256","kid":"enc","use":"enc","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"oct","kid":"h","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;
        let set = load_fetched(mixed).unwrap();
        let kids: Vec<_> = set.keys().iter().map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, vec![Some("e")]);
        // Only secrets, nothing usable, or not a JWKS at all: refused.
        assert!(load_fetched(HS).is_err());
        assert!(
            load_fetched(r#"{"keys":[{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}]}"#).is_err()
        );
        assert!(load_fetched("<html>").is_err());
        assert!(load_fetched(r#"{"keys":[]}"#).is_err());
        // Duplicate members are refused even when a key would otherwise be skipped.
        assert!(load_fetched(r#"{"keys":[{"kty":"oct","kty":"oct"}]}"#).is_err());
    }
}
