//! The sender-constraint variables: `WARDEN_DPOP`, `WARDEN_DPOP_ALGORITHMS`,
//! `WARDEN_DPOP_MAX_AGE_SECONDS`, `WARDEN_DPOP_NONCE`, `WARDEN_DPOP_NONCE_SECRET` (a secret),
//! `WARDEN_DPOP_REPLAY`. mTLS-bound tokens need no variable: the zone's client certificates
//! decide whether a fingerprint comes.

use warden_core::{Algorithm, DpopMode, DpopPolicy, NonceKey};

use super::{err, seconds_var, secret, ConfigError, MAX_SECONDS};

/// `WARDEN_DPOP_REPLAY`: where a proof's `jti` is remembered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReplayScope {
    /// In the isolate that saw it (the default).
    #[default]
    Isolate,
    /// Once across all isolates: in the Durable Object of the proof's shard.
    Global,
}

/// Reads the DPoP variables.
pub(crate) fn dpop_config(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<(DpopPolicy, ReplayScope), ConfigError> {
    let mut policy = DpopPolicy::default();
    if let Some(v) = get("WARDEN_DPOP") {
        policy.mode = DpopMode::from_name(&v).ok_or_else(|| {
            err(
                "WARDEN_DPOP",
                format!("{v:?} is not \"allowed\", \"required\" or \"off\""),
            )
        })?;
    }
    if let Some(v) = get("WARDEN_DPOP_ALGORITHMS") {
        let list =
            Algorithm::parse_allowlist(&v).map_err(|why| err("WARDEN_DPOP_ALGORITHMS", why))?;
        if let Some(sym) = list.iter().find(|a| a.is_symmetric()) {
            return Err(err(
                "WARDEN_DPOP_ALGORITHMS",
                format!("{sym} is symmetric: a proof is signed with a public key"),
            ));
        }
        policy.algorithms = list;
    }
    if let Some(v) = seconds_var(get, "WARDEN_DPOP_MAX_AGE_SECONDS", 1, MAX_SECONDS)? {
        policy.max_age = v;
    }
    let secret = secret(get("WARDEN_DPOP_NONCE_SECRET"), "WARDEN_DPOP_NONCE_SECRET")?;
    match get("WARDEN_DPOP_NONCE").as_deref() {
        None | Some("off") => {}
        Some("on") => {
            let secret = secret.ok_or_else(|| {
                err(
                    "WARDEN_DPOP_NONCE_SECRET",
                    "is required when WARDEN_DPOP_NONCE is on",
                )
            })?;
            // Never read as "nonces off": a key that cannot be made is a configuration error.
            policy.nonce = Some(NonceKey::new(secret.as_bytes()).ok_or_else(|| {
                err(
                    "WARDEN_DPOP_NONCE_SECRET",
                    "is not a usable key (value not logged)",
                )
            })?);
        }
        Some(v) => {
            return Err(err(
                "WARDEN_DPOP_NONCE",
                format!("{v:?} is neither \"off\" nor \"on\""),
            ))
        }
    }
    let replay = match get("WARDEN_DPOP_REPLAY").as_deref() {
        None | Some("isolate") => ReplayScope::Isolate,
        Some("global") => ReplayScope::Global,
        Some(v) => {
            return Err(err(
                "WARDEN_DPOP_REPLAY",
                format!("{v:?} is neither \"isolate\" nor \"global\""),
            ))
        }
    };
    Ok((policy, replay))
}
