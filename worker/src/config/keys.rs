//! The key variables: `WARDEN_JWKS`, `WARDEN_JWKS_URL`, `WARDEN_HMAC_KEYS` (a secret),
//! `WARDEN_ALGORITHMS`, `WARDEN_JWKS_COOLDOWN_SECONDS`, `WARDEN_JWKS_STALE_SECONDS`, parsed and
//! validated with the rest of the configuration. Fetching and selecting keys is `keys.rs`'s.

use warden_core::{Algorithm, KeySet};

use super::{seconds_var, ConfigError};

/// Default for `WARDEN_JWKS_COOLDOWN_SECONDS`: the shortest interval between two fetches of the
/// JWKS by one isolate, whatever triggers them (unknown `kid`, expiry, a failed attempt).
pub const DEFAULT_COOLDOWN_SECONDS: u64 = 30;
/// Largest accepted `WARDEN_JWKS_COOLDOWN_SECONDS`.
pub const MAX_COOLDOWN_SECONDS: u64 = 3_600;
/// Default for `WARDEN_JWKS_STALE_SECONDS`: how long past its freshness a JWKS may still serve
/// while its endpoint fails.
pub const DEFAULT_STALE_SECONDS: u64 = 3_600;
/// Largest accepted `WARDEN_JWKS_STALE_SECONDS` (7 days).
pub const MAX_STALE_SECONDS: u64 = 7 * 86_400;
/// The configured key sources.
#[derive(Debug)]
pub struct KeyConfig {
    /// Keys from `WARDEN_JWKS` (inline JSON), if set.
    pub inline: Option<KeySet>,
    /// `WARDEN_JWKS_URL`, if set.
    pub url: Option<String>,
    /// HMAC secrets from `WARDEN_HMAC_KEYS`, if set (only `oct` keys).
    pub hmac: Option<KeySet>,
    /// `WARDEN_ALGORITHMS`: when `Some`, only these algorithms are accepted.
    pub algorithms: Option<Vec<Algorithm>>,
    /// `WARDEN_JWKS_COOLDOWN_SECONDS`.
    pub cooldown: u64,
    /// `WARDEN_JWKS_STALE_SECONDS`.
    pub stale: u64,
    /// A transmitter's keys (`WARDEN_SSF_JWKS`, `WARDEN_SSF_JWKS_URL`), not the access
    /// tokens'.
    pub transmitter: bool,
    /// `WARDEN_OIDC_DISCOVERY=on`: the keys come from the `jwks_uri` of the issuer's discovery
    /// document (then `inline` and `url` are unset).
    pub discovery: Option<Discovery>,
}

/// OpenID Connect discovery of the token keys (`WARDEN_OIDC_DISCOVERY=on`).
#[derive(Debug)]
pub struct Discovery {
    /// `WARDEN_ISSUER`: the document's `issuer` must be exactly this (OIDC Discovery §4.3).
    pub issuer: String,
    /// `<WARDEN_ISSUER>/.well-known/openid-configuration`.
    pub url: String,
}

/// The discovery document's URL: the issuer's own path kept, no double slash.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

fn config_error(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

/// Whether a set holds HMAC secrets (a set holds secrets only, or public keys only).
pub fn is_symmetric(set: &KeySet) -> bool {
    set.keys().first().is_some_and(|k| k.alg.is_symmetric())
}

impl KeyConfig {
    /// Reads the key variables through `get` (unset or empty → `None`) and validates them. At
    /// least one of `WARDEN_JWKS`, `WARDEN_JWKS_URL` and `WARDEN_HMAC_KEYS` is required.
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<KeyConfig, ConfigError> {
        let inline = match get("WARDEN_JWKS") {
            None => None,
            Some(jwks) => Some(
                KeySet::from_jwks(&jwks).map_err(|e| config_error("WARDEN_JWKS", e.to_string()))?,
            ),
        };
        let url = match get("WARDEN_JWKS_URL") {
            None => None,
            Some(url) => Some(jwks_url(&url).map_err(|why| config_error("WARDEN_JWKS_URL", why))?),
        };
        let hmac = match get("WARDEN_HMAC_KEYS") {
            None => None,
            Some(jwks) => {
                let set = KeySet::from_jwks(&jwks)
                    .map_err(|e| config_error("WARDEN_HMAC_KEYS", e.to_string()))?;
                if !is_symmetric(&set) {
                    return Err(config_error(
                        "WARDEN_HMAC_KEYS",
                        "holds only oct keys (HMAC secrets); public keys go in WARDEN_JWKS",
                    ));
                }
                Some(set)
            }
        };
        let discovery =
            match get("WARDEN_OIDC_DISCOVERY").as_deref() {
                None | Some("off") => None,
                Some("on") if inline.is_some() || url.is_some() => return Err(config_error(
                    "WARDEN_OIDC_DISCOVERY",
                    "is on, so the token keys come from the issuer's jwks_uri: unset WARDEN_JWKS \
                     and WARDEN_JWKS_URL",
                )),
                Some("on") => {
                    let issuer = get("WARDEN_ISSUER").ok_or_else(|| {
                        config_error(
                        "WARDEN_ISSUER",
                        "is required when WARDEN_OIDC_DISCOVERY is on (the discovery document is \
                         the issuer's)",
                    )
                    })?;
                    let url = jwks_url(&discovery_url(&issuer))
                        .and_then(|url| match issuer.contains('?') {
                            true => Err(format!("{issuer:?} has a query")),
                            false => Ok(url),
                        })
                        .map_err(|why| config_error("WARDEN_ISSUER", why))?;
                    Some(Discovery { issuer, url })
                }
                Some(v) => {
                    return Err(config_error(
                        "WARDEN_OIDC_DISCOVERY",
                        format!("{v:?} is neither \"on\" nor \"off\""),
                    ))
                }
            };
        if inline.is_none() && url.is_none() && hmac.is_none() && discovery.is_none() {
            return Err(config_error(
                "WARDEN_JWKS",
                "a key source is required: WARDEN_JWKS (inline JWKS), WARDEN_JWKS_URL, the \
                 secret WARDEN_HMAC_KEYS, or WARDEN_OIDC_DISCOVERY=on",
            ));
        }
        if let (Some(inline), Some(hmac)) = (&inline, &hmac) {
            for key in hmac.keys() {
                if inline.keys().iter().any(|k| k.kid == key.kid) {
                    return Err(config_error(
                        "WARDEN_HMAC_KEYS",
                        format!("kid {:?} is also in WARDEN_JWKS", key.kid),
                    ));
                }
            }
        }
        let algorithms = match get("WARDEN_ALGORITHMS") {
            None => None,
            Some(list) => Some(
                Algorithm::parse_allowlist(&list)
                    .map_err(|why| config_error("WARDEN_ALGORITHMS", why))?,
            ),
        };
        let cooldown = seconds_var(get, "WARDEN_JWKS_COOLDOWN_SECONDS", 1, MAX_COOLDOWN_SECONDS)?
            .unwrap_or(DEFAULT_COOLDOWN_SECONDS);
        let stale = seconds_var(get, "WARDEN_JWKS_STALE_SECONDS", 0, MAX_STALE_SECONDS)?
            .unwrap_or(DEFAULT_STALE_SECONDS);
        let config = KeyConfig {
            inline,
            url,
            hmac,
            algorithms,
            cooldown,
            stale,
            transmitter: false,
            discovery,
        };
        if let Some(allowed) = &config.algorithms {
            let static_keys = config.inline.iter().chain(&config.hmac);
            let usable = static_keys
                .flat_map(KeySet::keys)
                .any(|k| allowed.contains(&k.alg));
            let remote = config.url.is_some() || config.discovery.is_some();
            let remote_usable = remote && allowed.iter().any(|a| !a.is_symmetric());
            if !usable && !remote_usable {
                return Err(config_error(
                    "WARDEN_ALGORITHMS",
                    "allows none of the configured keys' algorithms",
                ));
            }
        }
        Ok(config)
    }

    /// Whether tokens signed with `alg` may be accepted at all (`WARDEN_ALGORITHMS`).
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&alg))
    }
}

/// `https://…`, or `http://` to a loopback host only (local development): a JWKS (or a
/// discovery document, or a poll answer) fetched over plain HTTP could be swapped in transit
/// for the attacker's.
pub fn jwks_url(value: &str) -> Result<String, String> {
    let invalid = || format!("{value:?} is not a valid URL");
    // The scheme ends at the first `:` (RFC 3986); an absolute URL has `//` after it.
    let (scheme, rest) = value
        .split_once(':')
        .and_then(|(scheme, rest)| Some((scheme, rest.strip_prefix("//")?)))
        .ok_or_else(|| format!("{value:?} is not an absolute URL"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (inner, after) = v6.split_once(']').ok_or_else(invalid)?;
            (&authority[..inner.len() + 2], after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if host.is_empty() || !port_ok || authority.contains('@') || value.contains([' ', '#']) {
        return Err(invalid());
    }
    match scheme {
        "https" => Ok(value.to_owned()),
        "http" if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => Ok(value.to_owned()),
        "http" => Err(format!(
            "{value:?} must use https:// (plain http only for 127.0.0.1, localhost, [::1])"
        )),
        _ => Err(format!("{value:?} must start with https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const HS: &str = r#"{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;
    const EC: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

    fn load(vars: &[(&str, &str)]) -> Result<KeyConfig, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        KeyConfig::from_vars(&|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn defaults() {
        let c = load(&[("WARDEN_JWKS", EC)]).unwrap();
        assert!(c.inline.is_some() && c.url.is_none() && c.hmac.is_none());
        assert_eq!(c.algorithms, None);
        assert_eq!((c.cooldown, c.stale), (30, 3600));
        assert!(Algorithm::ALL.iter().all(|a| c.allows(*a)));
    }

    #[test]
    fn every_source_and_option() {
        let c = load(&[
            ("WARDEN_JWKS", EC),
            (
                "WARDEN_JWKS_URL",
                "https://issuer.example/.well-known/jwks.json",
            ),
            ("WARDEN_HMAC_KEYS", HS),
            ("WARDEN_ALGORITHMS", "ES256, HS256,ES256"),
            ("WARDEN_JWKS_COOLDOWN_SECONDS", "5"),
            ("WARDEN_JWKS_STALE_SECONDS", "0"),
        ])
        .unwrap();
        assert_eq!(
            c.url.as_deref(),
            Some("https://issuer.example/.well-known/jwks.json")
        );
        assert_eq!(c.algorithms, Some(vec![Algorithm::ES256, Algorithm::HS256]));
        assert!(c.allows(Algorithm::HS256) && !c.allows(Algorithm::RS256));
        assert_eq!((c.cooldown, c.stale), (5, 0));
        // A URL alone, or HMAC secrets alone, are key sources too.
        assert!(load(&[("WARDEN_JWKS_URL", "http://127.0.0.1:8788/jwks")]).is_ok());
        assert!(load(&[("WARDEN_HMAC_KEYS", HS)]).is_ok());
    }

    #[test]
    fn errors_name_the_variable() {
        let var = |vars: &[(&str, &str)]| load(vars).unwrap_err().variable;
        assert_eq!(var(&[]), "WARDEN_JWKS");
        assert_eq!(var(&[("WARDEN_JWKS", "{\"keys\":[]}")]), "WARDEN_JWKS");
        for url in [
            "http://issuer.example/jwks",
            "ftp://issuer.example/jwks",
            "issuer.example/jwks",
            "https:///jwks",
            "https://user@issuer.example/jwks",
            "https://issuer.example:x/jwks",
        ] {
            assert_eq!(var(&[("WARDEN_JWKS_URL", url)]), "WARDEN_JWKS_URL", "{url}");
        }
        assert_eq!(var(&[("WARDEN_HMAC_KEYS", EC)]), "WARDEN_HMAC_KEYS");
        assert_eq!(
            var(&[(
                "WARDEN_HMAC_KEYS",
                r#"{"keys":[{"kty":"oct","alg":"HS256","k":"c2hvcnQ"}]}"#
            )]),
            "WARDEN_HMAC_KEYS"
        );
        // The same kid in both static sets.
        assert_eq!(
            var(&[
                ("WARDEN_JWKS", &HS.replace("\"h\"", "\"x\"")),
                ("WARDEN_HMAC_KEYS", &HS.replace("\"h\"", "\"x\""))
            ]),
            "WARDEN_HMAC_KEYS"
        );
        for algs in [" , ", "none", "hs256", "ES256,ES512"] {
            assert_eq!(
                var(&[("WARDEN_JWKS", EC), ("WARDEN_ALGORITHMS", algs)]),
                "WARDEN_ALGORITHMS",
                "{algs:?}"
            );
        }
        // Allows nothing the keys could verify.
        assert_eq!(
            var(&[("WARDEN_JWKS", EC), ("WARDEN_ALGORITHMS", "RS256")]),
            "WARDEN_ALGORITHMS"
        );
        for v in ["0", "-1", "3601", "1.5", "soon"] {
            assert_eq!(
                var(&[("WARDEN_JWKS", EC), ("WARDEN_JWKS_COOLDOWN_SECONDS", v)]),
                "WARDEN_JWKS_COOLDOWN_SECONDS"
            );
        }
        for v in ["-1", "604801", "1h"] {
            assert_eq!(
                var(&[("WARDEN_JWKS", EC), ("WARDEN_JWKS_STALE_SECONDS", v)]),
                "WARDEN_JWKS_STALE_SECONDS"
            );
        }
        let e = load(&[("WARDEN_JWKS_URL", "http://issuer.example/jwks")]).unwrap_err();
        assert!(e.reason.contains("https://"), "{}", e.reason);
    }

    #[test]
    fn discovery() {
        assert!(load(&[("WARDEN_JWKS", EC)]).unwrap().discovery.is_none());
        for (issuer, url) in [
            (
                "https://id.example",
                "https://id.example/.well-known/openid-configuration",
            ),
            (
                "https://id.example/tenant",
                "https://id.example/tenant/.well-known/openid-configuration",
            ),
            (
                "https://id.example/tenant/",
                "https://id.example/tenant/.well-known/openid-configuration",
            ),
            (
                "http://127.0.0.1:8788",
                "http://127.0.0.1:8788/.well-known/openid-configuration",
            ),
        ] {
            let on = [("WARDEN_OIDC_DISCOVERY", "on"), ("WARDEN_ISSUER", issuer)];
            let c = load(&on).unwrap();
            let d = c.discovery.unwrap();
            assert_eq!((d.issuer.as_str(), d.url.as_str()), (issuer, url));
            // HMAC secrets may sit next to it (a discovered JWKS never supplies them).
            assert!(load(&[on[0], on[1], ("WARDEN_HMAC_KEYS", HS)]).is_ok());
        }
        let off = load(&[("WARDEN_OIDC_DISCOVERY", "off"), ("WARDEN_JWKS", EC)]).unwrap();
        assert!(off.discovery.is_none());
        let var = |vars: &[(&str, &str)]| load(vars).unwrap_err().variable;
        let on = ("WARDEN_OIDC_DISCOVERY", "on");
        let issuer = ("WARDEN_ISSUER", "https://id.example");
        for v in ["On", "yes", "1", "true"] {
            assert_eq!(
                var(&[("WARDEN_OIDC_DISCOVERY", v), issuer, ("WARDEN_JWKS", EC)]),
                "WARDEN_OIDC_DISCOVERY"
            );
        }
        assert_eq!(var(&[on]), "WARDEN_ISSUER");
        for i in ["http://id.example", "id.example", "https://id.example/?t=1"] {
            assert_eq!(var(&[on, ("WARDEN_ISSUER", i)]), "WARDEN_ISSUER", "{i}");
        }
        // Never two sources of the token keys.
        assert_eq!(
            var(&[on, issuer, ("WARDEN_JWKS", EC)]),
            "WARDEN_OIDC_DISCOVERY"
        );
        assert_eq!(
            var(&[on, issuer, ("WARDEN_JWKS_URL", "https://id.example/jwks")]),
            "WARDEN_OIDC_DISCOVERY"
        );
    }

    #[test]
    fn loopback_http_and_ports() {
        for url in [
            "http://127.0.0.1:8788/.well-known/jwks.json",
            "http://localhost/jwks",
            "http://[::1]:9000/jwks",
            "https://issuer.example:8443/jwks?tenant=a",
            "https://[2001:db8::1]/jwks",
        ] {
            assert_eq!(jwks_url(url).as_deref(), Ok(url), "{url}");
        }
    }
}
