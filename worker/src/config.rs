//! Configuration from wrangler vars and secrets, parsed and validated once per isolate.

use std::fmt;

use warden_core::Policy;

use crate::keys::KeyConfig;

/// Validated configuration.
#[derive(Debug)]
pub struct Config {
    /// Origin base URL, without a trailing slash.
    pub origin: String,
    /// Verification key sources.
    pub keys: KeyConfig,
    /// The claims policy.
    pub policy: Policy,
    /// The admin API's bearer secret; the admin API answers 404 while it is unset.
    pub admin_token: Option<String>,
}

/// A configuration value that is missing or wrong: which variable, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

fn err(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

impl Config {
    /// Reads every variable through `get` (which returns `None` for an unset variable) and
    /// validates it. Empty strings count as unset.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let origin = get("WARDEN_ORIGIN")
            .ok_or_else(|| err("WARDEN_ORIGIN", "is required (the origin's base URL)"))?;
        let origin = parse_origin(&origin).map_err(|why| err("WARDEN_ORIGIN", why))?;

        let keys = KeyConfig::from_vars(&get)?;

        let mut policy = Policy {
            issuer: get("WARDEN_ISSUER"),
            ..Policy::default()
        };
        if let Some(aud) = get("WARDEN_AUDIENCE") {
            policy.audiences = aud
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = get("WARDEN_LEEWAY_SECONDS") {
            policy.leeway = seconds(&v, 300).map_err(|why| err("WARDEN_LEEWAY_SECONDS", why))?;
        }
        Ok(Config {
            origin,
            keys,
            policy,
            admin_token: get("WARDEN_ADMIN_TOKEN"),
        })
    }
}

fn parse_origin(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("{value:?} must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "{value:?} is not a base URL (scheme://host[:port][/path], no query)"
        ));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn seconds(value: &str, max: u64) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!(
            "{value:?} is not a whole number of seconds between 0 and {max}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn minimal_config_and_defaults() {
        let c = load(&[
            ("WARDEN_ORIGIN", "https://api.example.com/"),
            ("WARDEN_JWKS", JWKS),
        ])
        .unwrap();
        assert_eq!(c.origin, "https://api.example.com");
        assert_eq!(c.policy, Policy::default());
        assert!(c.admin_token.is_none());
    }

    #[test]
    fn optional_values() {
        let c = load(&[
            ("WARDEN_ORIGIN", "http://127.0.0.1:8788"),
            ("WARDEN_JWKS", JWKS),
            ("WARDEN_ISSUER", "https://issuer"),
            ("WARDEN_AUDIENCE", "api, web ,"),
            ("WARDEN_LEEWAY_SECONDS", "5"),
            ("WARDEN_ADMIN_TOKEN", "s3cret"),
        ])
        .unwrap();
        assert_eq!(c.policy.issuer.as_deref(), Some("https://issuer"));
        assert_eq!(c.policy.audiences, vec!["api", "web"]);
        assert_eq!(c.policy.leeway, 5);
        assert_eq!(c.admin_token.as_deref(), Some("s3cret"));
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            load(&[("WARDEN_JWKS", JWKS)]).unwrap_err().variable,
            "WARDEN_ORIGIN"
        );
        assert_eq!(
            load(&[("WARDEN_ORIGIN", "ftp://x"), ("WARDEN_JWKS", JWKS)])
                .unwrap_err()
                .variable,
            "WARDEN_ORIGIN"
        );
        assert_eq!(
            load(&[("WARDEN_ORIGIN", "https://x")])
                .unwrap_err()
                .variable,
            "WARDEN_JWKS"
        );
        let e = load(&[
            ("WARDEN_ORIGIN", "https://x"),
            ("WARDEN_JWKS", "{\"keys\":[]}"),
        ])
        .unwrap_err();
        assert_eq!(e.to_string(), "WARDEN_JWKS: the JWKS has no keys");
        let e = load(&[
            ("WARDEN_ORIGIN", "https://x"),
            ("WARDEN_JWKS", JWKS),
            ("WARDEN_LEEWAY_SECONDS", "-1"),
        ]);
        assert_eq!(e.unwrap_err().variable, "WARDEN_LEEWAY_SECONDS");
    }
}
