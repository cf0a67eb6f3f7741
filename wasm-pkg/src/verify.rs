//! `verify` and `KeySet` (the full build): the edge's verdict for a token, from the same core —
//! strict parsing, the key set's one-algorithm-per-key selection, the signature check and the
//! claims policy, with the edge's denial codes.
//!
//! The signature step is the worker's own ([`warden_webcrypto`]): RS*, PS*, ES* and EdDSA
//! through the platform's WebCrypto (`crypto.subtle.verify`), HS* in wasm. WebCrypto answers
//! asynchronously, so `verify` returns a Promise; each `KeySet` keeps its imported `CryptoKey`s.
//! Everything but the signature's answer is decided before the Promise is returned, and that
//! answer is mapped to the result in JavaScript: a verification crosses into wasm once, and no
//! Rust future (nor wasm-bindgen's futures glue) is in the build.

use js_sys::Promise;
use warden_core::{
    parse, Algorithm, Denial, KeyMaterial, KeySet as CoreKeySet, Policy, RevocationStatus,
    DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME,
};
use warden_webcrypto::KeyCache;
use wasm_bindgen::prelude::*;

use crate::inspect::LEEWAY;
use crate::js::{
    denial_error, json_text, refused, settle, token_text, type_error, verified, Clock, Options,
    UNIX_SECONDS,
};

#[wasm_bindgen(typescript_custom_section)]
const TS_VERIFY: &'static str = r#"
/** A JSON Web Key Set (RFC 7517): `{ keys: [...] }`, as an object or as JSON text. */
export interface Jwks {
  keys: Array<Record<string, unknown>>;
}

/** The algorithms Warden verifies. `none` is not one of them. */
export type Algorithm =
  | "HS256" | "HS384" | "HS512"
  | "RS256" | "RS384" | "RS512"
  | "PS256" | "PS384" | "PS512"
  | "ES256" | "ES384" | "EdDSA";

/** Options for `verify`: the edge's policy. Every check not configured is the edge's default. */
export interface VerifyOptions extends ClockOptions {
  /** Required `iss` (the edge's `WARDEN_ISSUER`). Default: not checked. */
  issuer?: string;
  /** Accepted audiences; `aud` must name one (the edge's `WARDEN_AUDIENCE`). Default: not checked. */
  audience?: string | string[];
  /** Accepted algorithms, on top of each key's own one. Default: whatever the keys are bound to. */
  algorithms?: Algorithm[];
  /** Oldest accepted token, `now - iat`, in seconds. Default: not checked. */
  maxAge?: number;
  /** Longest accepted lifetime (`exp - iat`, and `exp - now`), in seconds. Default: 86400. */
  maxLifetime?: number;
  /** Required header `typ` (e.g. `at+jwt`), case-insensitive, `application/` optional. Default: not checked. */
  typ?: string;
}

/** The denial codes `verify` answers with: the edge's. */
export type DenialCode =
  | "token_malformed"
  | "token_unknown_key"
  | "token_algorithm_not_allowed"
  | "token_bad_signature"
  | "token_claim_missing"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_issued_in_future"
  | "token_too_old"
  | "token_lifetime_too_long"
  | "token_wrong_issuer"
  | "token_wrong_audience"
  | "token_wrong_type";

/** Why `verify` refused a token. */
export interface VerifyError {
  /** The edge's stable code, e.g. `token_expired`. */
  code: DenialCode;
  /** The edge's fixed `error_description`, e.g. `token expired`. */
  description: string;
  /** A longer explanation, e.g. `token expired at 1700000600 (now 1700000700)`. */
  message: string;
}

/** What `verify` resolves to: the claims of a good token, or why it is refused. */
export type VerifyResult =
  | { valid: true; claims: DecodedClaims; error?: undefined }
  | { valid: false; claims?: undefined; error: VerifyError };
"#;

/// A loaded JWKS: load it once, verify many tokens.
///
/// `new KeySet(jwks)` takes a JWKS (`{ keys: [...] }`) as an object or as JSON text and loads it
/// exactly as the edge loads `WARDEN_JWKS`: every key bound to one algorithm, weak or ambiguous
/// keys refused (HMAC secrets shorter than the hash, RSA under 2048 bits, `use: enc`, private key
/// parameters, secret and public keys mixed, duplicate `kid`s). A set that cannot be loaded
/// throws an `Error` with `code: "keys_unavailable"` and a message naming the key and the reason.
/// Public keys are imported into WebCrypto on first use and kept with the set.
/// Call `free()` (or use `using`) to release it early; otherwise the garbage collector does.
#[wasm_bindgen]
#[derive(Debug)]
pub struct KeySet {
    keys: CoreKeySet,
    crypto: KeyCache,
}

#[wasm_bindgen]
impl KeySet {
    /// Loads a JWKS (object or JSON text); throws `keys_unavailable` when it cannot be used.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string | Jwks")] jwks: JsValue,
    ) -> Result<KeySet, JsValue> {
        let text = json_text(&jwks, "jwks must be a JWKS object or JSON text")?;
        let keys = CoreKeySet::from_jwks(&text)
            .map_err(|e| denial_error(&Denial::KeysUnavailable, &format!("invalid JWKS: {e}")))?;
        // Room for every key of the set: each is imported (or keyed) once.
        let crypto = KeyCache::new(keys.keys().len());
        Ok(KeySet { keys, crypto })
    }

    /// The number of keys in the set.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.keys.keys().len() as u32
    }

    /// Verifies `token` against this key set; see the package's `verify` for the options and
    /// the result.
    #[wasm_bindgen(unchecked_return_type = "Promise<VerifyResult>")]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "VerifyOptions")] options: Option<JsValue>,
    ) -> Promise {
        match Checks::read(options) {
            Ok(checks) => run(self, &token, &checks),
            Err(e) => Promise::reject(&e),
        }
    }
}

/// Verifies a token as the edge does and resolves to the verdict — never rejects for a bad
/// token.
///
/// In order: the token is parsed strictly; its `alg` must be among `options.algorithms` (when
/// given); the key is picked by `kid` from `jwks` (its one algorithm must equal the header's)
/// and the signature checked (RS*, PS*, ES*, EdDSA with the platform's WebCrypto, HS* in wasm);
/// then the claims policy runs at the server's time (`now + clockOffset`): `exp` and `iat`
/// required, `typ`, `iss`, `aud`, lifetime within `maxLifetime` (default 86400 s), `nbf`, `iat`
/// not in the future, `exp` not past (leeway 30 s by default, 0 to 300), `maxAge`.
///
/// Resolves to `{ valid: true, claims }` (claims built by `JSON.parse`) or `{ valid: false,
/// error: { code, description, message } }` with the edge's stable `code` (`token_expired`,
/// `token_bad_signature`, `token_wrong_audience`, ...) and `error_description`.
///
/// What only the edge can know is not checked here: revocation. A `valid` answer means the
/// edge would accept the token unless it has been revoked.
///
/// `jwks` is a JWKS object or its JSON text, loaded (and its public key imported) on every
/// call; to verify many tokens, load a `KeySet` once and call `await keySet.verify(token,
/// options)`. Rejects (rather than answering) only for what is not the token's fault: options
/// of the wrong type or range, or a token that is not a string (`TypeError` / `RangeError`, `code: "invalid_request"`; unknown
/// options are refused, so a misspelt `issuer` cannot switch the check off), a JWKS that cannot
/// be loaded (`code: "keys_unavailable"`), and a platform without WebCrypto for an RS*, PS*,
/// ES* or EdDSA key (`code: "keys_unavailable"`; browsers have it in secure contexts only).
#[wasm_bindgen(unchecked_return_type = "Promise<VerifyResult>")]
pub fn verify(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Jwks")] jwks: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "VerifyOptions")] options: Option<JsValue>,
) -> Promise {
    let checks = match Checks::read(options) {
        Ok(checks) => checks,
        Err(e) => return Promise::reject(&e),
    };
    match KeySet::new(jwks) {
        Ok(keys) => run(&keys, &token, &checks),
        Err(e) => Promise::reject(&e),
    }
}

/// The edge's policy and the time to apply it at, read from `verify`'s options.
struct Checks {
    policy: Policy,
    algorithms: Option<Vec<Algorithm>>,
    now: u64,
}

impl Checks {
    fn read(options: Option<JsValue>) -> Result<Checks, JsValue> {
        let o = Options::read(
            options,
            "verify options",
            "now clockOffset leeway issuer audience algorithms maxAge maxLifetime typ",
        )?;
        let clock = Clock::from_options(&o)?;
        let algorithms = match o.strings("algorithms", false)? {
            None => None,
            Some(names) => Some(
                Algorithm::list(names.iter().map(String::as_str))
                    .map_err(|why| type_error(&format!("verify options: `algorithms`: {why}")))?,
            ),
        };
        let policy = Policy {
            issuer: o.string("issuer")?,
            audiences: o.strings("audience", true)?.unwrap_or_default(),
            leeway: o
                .int("leeway", LEEWAY)?
                .map_or(DEFAULT_LEEWAY, |l| l as u64),
            max_lifetime: o
                .int("maxLifetime", UNIX_SECONDS)?
                .map_or(DEFAULT_MAX_LIFETIME, |l| l as u64),
            max_age: o.int("maxAge", UNIX_SECONDS)?.map(|a| a as u64),
            typ: o.string("typ")?,
            ..Policy::default()
        };
        Ok(Checks {
            policy,
            algorithms,
            now: clock.server_now,
        })
    }
}

/// Where a verification stands once everything that needs no waiting is done.
enum Step {
    /// The verdict is known (a refused token, or an HMAC signature checked in wasm).
    Done(Result<(), Denial>),
    /// WebCrypto is checking the signature (a Promise of a boolean, the key imported first on
    /// its first use); `then` is the verdict if the signature is good.
    Signing {
        check: Promise,
        then: Result<(), Denial>,
    },
}

/// The edge's decision, step by step, as far as it goes without waiting: parse, algorithm,
/// key, the claims policy (pure, so it is taken before the signature's answer and used only
/// if the signature is good), then the signature — HMAC in wasm, WebCrypto started. `Err` (a
/// rejection) when this platform cannot check the signature at all.
fn step(keys: &KeySet, token: &str, checks: &Checks) -> Result<Step, JsValue> {
    let token = match parse(token) {
        Ok(token) => token,
        Err(e) => return Ok(Step::Done(Err(Denial::Malformed(e)))),
    };
    if let Some(allowed) = &checks.algorithms {
        if !allowed.contains(&token.header.alg) {
            return Ok(Step::Done(Err(Denial::AlgorithmNotAllowed)));
        }
    }
    // The core's `KeySet::verify`, with the signature step started.
    let key = match keys.keys.select(&token.header) {
        Ok(key) => key,
        Err(denial) => return Ok(Step::Done(Err(denial))),
    };
    let then = checks
        .policy
        .evaluate(&token, checks.now, RevocationStatus::NotRevoked)
        .map(drop);
    let input = token.signing_input.as_bytes();
    if let (KeyMaterial::Hmac(secret), true) =
        (&key.material, warden_webcrypto::hmac_in_wasm(key.alg))
    {
        let signed = keys
            .crypto
            .hmac_verify(key.alg, secret, input, &token.signature);
        return Ok(Step::Done(
            signed.map_err(|_| Denial::BadSignature).and(then),
        ));
    }
    if !warden_webcrypto::available() {
        return Err(denial_error(
            &Denial::KeysUnavailable,
            "WebCrypto (crypto.subtle) is not available here, so RS*, PS*, ES* and EdDSA \
             signatures cannot be checked: browsers have it in secure contexts only (https, \
             localhost); Node 18 needs --experimental-global-webcrypto",
        ));
    }
    Ok(
        match keys.crypto.verify_promise(key, input, &token.signature) {
            Ok(check) => Step::Signing { check, then },
            Err(_) => Step::Done(Err(Denial::BadSignature)),
        },
    )
}

/// `verify`'s Promise: WebCrypto's own, mapped to the result in JavaScript (`settle`), so a
/// verification crosses into wasm once and nothing waits in Rust.
fn run(keys: &KeySet, token: &JsValue, checks: &Checks) -> Promise {
    match token_text(token).and_then(|text| step(keys, &text, checks)) {
        Err(e) => Promise::reject(&e),
        Ok(Step::Done(verdict)) => match result(token, verdict) {
            Ok(v) => Promise::resolve(&v),
            Err(e) => Promise::reject(&e),
        },
        Ok(Step::Signing { check, then }) => match then {
            Ok(()) => settle(&check, token, None, None, None),
            Err(d) => settle(
                &check,
                token,
                Some(d.code()),
                Some(d.description()),
                Some(&d.to_string()),
            ),
        },
    }
}

/// The verdict as `verify` returns it.
fn result(token: &JsValue, verdict: Result<(), Denial>) -> Result<JsValue, JsValue> {
    match verdict {
        Ok(()) => verified(token),
        Err(d) => Ok(refused(d.code(), d.description(), &d.to_string())),
    }
}
