//! Shared Signals receiving (`WARDEN_SSF_*`): the transmitter, its keys, the push token.

use warden_core::{KeySet, Policy, SetPolicy};

use super::keys::{jwks_url, KeyConfig};
use super::{err, secret, ConfigError};

/// Longest `WARDEN_SSF_ISSUER`, `WARDEN_SSF_AUDIENCE` or `WARDEN_SSF_SUBJECT_ISSUER`, in bytes.
const MAX_NAME_LEN: usize = 1024;

/// Receiving Security Event Tokens by push (`POST /_warden/ssf/push`).
#[derive(Debug)]
pub struct SsfConfig {
    /// `WARDEN_SSF_ISSUER`, `WARDEN_SSF_AUDIENCE`, `WARDEN_SSF_SUBJECT_ISSUER` (default
    /// `WARDEN_ISSUER`) and the leeway.
    pub policy: SetPolicy,
    /// `WARDEN_SSF_JWKS` and/or `WARDEN_SSF_JWKS_URL`, with the token keys' cooldown and stale
    /// bound.
    pub keys: KeyConfig,
    /// `WARDEN_SSF_PUSH_TOKEN` (a secret): push requests must carry `Bearer <it>`.
    pub push_token: Option<String>,
    /// Poll delivery (RFC 8936) by the cron trigger; `None` while `WARDEN_SSF_POLL_URL` is
    /// unset.
    pub poll: Option<PollConfig>,
}

/// Where and how the cron trigger polls the transmitter for SETs (RFC 8936).
#[derive(Debug)]
pub struct PollConfig {
    /// `WARDEN_SSF_POLL_URL`: https, or http to a loopback host.
    pub url: String,
    /// `WARDEN_SSF_POLL_TOKEN` (a secret, required with the URL): sent as `Bearer <it>`.
    pub token: String,
}

fn name(
    get: &dyn Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<String>, ConfigError> {
    match get(variable) {
        Some(v) if v.len() > MAX_NAME_LEN || v.bytes().any(|b| b.is_ascii_control()) => Err(err(
            variable,
            "must be at most 1024 bytes without control characters",
        )),
        v => Ok(v),
    }
}

/// `None` (the push endpoint answers 404) while `WARDEN_SSF_ISSUER` is unset; then
/// `WARDEN_SSF_AUDIENCE` and a key source are required.
pub(super) fn ssf_config(
    get: &dyn Fn(&str) -> Option<String>,
    policy: &Policy,
    token_keys: &KeyConfig,
) -> Result<Option<SsfConfig>, ConfigError> {
    let poll_url = match get("WARDEN_SSF_POLL_URL") {
        None => None,
        Some(url) => Some(jwks_url(&url).map_err(|why| err("WARDEN_SSF_POLL_URL", why))?),
    };
    let poll_token = secret(get("WARDEN_SSF_POLL_TOKEN"), "WARDEN_SSF_POLL_TOKEN")?;
    let poll = match (poll_url, poll_token) {
        (Some(url), Some(token)) => Some(PollConfig { url, token }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(err(
                "WARDEN_SSF_POLL_TOKEN",
                "is required when WARDEN_SSF_POLL_URL is set (the poll requests' bearer token)",
            ))
        }
        (None, Some(_)) => {
            return Err(err(
                "WARDEN_SSF_POLL_URL",
                "is required when WARDEN_SSF_POLL_TOKEN is set",
            ))
        }
    };
    let Some(issuer) = name(get, "WARDEN_SSF_ISSUER")? else {
        if poll.is_some() {
            return Err(err(
                "WARDEN_SSF_ISSUER",
                "is required when WARDEN_SSF_POLL_URL is set (the transmitter's iss)",
            ));
        }
        return Ok(None);
    };
    let audience = name(get, "WARDEN_SSF_AUDIENCE")?.ok_or_else(|| {
        err(
            "WARDEN_SSF_AUDIENCE",
            "is required when WARDEN_SSF_ISSUER is set (the aud the transmitter addresses Warden with)",
        )
    })?;
    let inline = match get("WARDEN_SSF_JWKS") {
        None => None,
        Some(jwks) => {
            Some(KeySet::from_jwks(&jwks).map_err(|e| err("WARDEN_SSF_JWKS", e.to_string()))?)
        }
    };
    let url = match get("WARDEN_SSF_JWKS_URL") {
        None => None,
        Some(url) => Some(jwks_url(&url).map_err(|why| err("WARDEN_SSF_JWKS_URL", why))?),
    };
    if inline.is_none() && url.is_none() {
        return Err(err(
            "WARDEN_SSF_JWKS",
            "the transmitter's keys are required when WARDEN_SSF_ISSUER is set: WARDEN_SSF_JWKS \
             (inline JWKS) or WARDEN_SSF_JWKS_URL",
        ));
    }
    let subject_issuer = match name(get, "WARDEN_SSF_SUBJECT_ISSUER")? {
        Some(v) => Some(v),
        None => policy.issuer.clone(),
    };
    Ok(Some(SsfConfig {
        policy: SetPolicy {
            subject_issuer,
            leeway: policy.leeway,
            ..SetPolicy::new(issuer, audience)
        },
        keys: KeyConfig {
            inline,
            url,
            hmac: None,
            algorithms: None,
            cooldown: token_keys.cooldown,
            stale: token_keys.stale,
            transmitter: true,
            discovery: None,
        },
        push_token: secret(get("WARDEN_SSF_PUSH_TOKEN"), "WARDEN_SSF_PUSH_TOKEN")?,
        poll,
    }))
}
