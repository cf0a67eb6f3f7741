//! Key sources: where the worker's verification keys come from.

use warden_core::KeySet;

use crate::config::ConfigError;

/// The configured key sources.
#[derive(Debug)]
pub struct KeyConfig {
    /// Keys from `WARDEN_JWKS` (inline JSON).
    pub inline: KeySet,
}

impl KeyConfig {
    /// Reads the key variables through `get` (unset or empty → `None`).
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<KeyConfig, ConfigError> {
        let jwks = get("WARDEN_JWKS").ok_or_else(|| ConfigError {
            variable: "WARDEN_JWKS",
            reason: "is required (the issuer's JWKS, inline JSON)".into(),
        })?;
        let inline = KeySet::from_jwks(&jwks).map_err(|e| ConfigError {
            variable: "WARDEN_JWKS",
            reason: e.to_string(),
        })?;
        Ok(KeyConfig { inline })
    }
}
