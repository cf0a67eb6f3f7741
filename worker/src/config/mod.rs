//! Configuration from wrangler vars and secrets, parsed and validated once per isolate.
//!
//! Every variable is optional except `WARDEN_ORIGIN` and a key source; a bad value is a
//! [`ConfigError`] naming the variable and why (the worker logs it once per request and answers
//! a generic 500). Nothing here panics on any input.

use std::fmt;

use serde_json::Value;
use warden_core::{
    FailMode, Gate, LogoutPolicy, PathRules, Policy, SessionPolicy, DEFAULT_PAT_PREFIX,
};

use crate::fields::obj;

mod dpop;
mod keys;
mod ssf;

pub use dpop::ReplayScope;
pub use keys::*;
pub use ssf::{PollConfig, SsfConfig};

/// Default for `WARDEN_SNAPSHOT_SECONDS`: how often an isolate rebuilds its revocation snapshot.
pub const DEFAULT_SNAPSHOT_SECONDS: u64 = 30;
/// Shortest accepted `WARDEN_ADMIN_TOKEN` and `WARDEN_ORIGIN_SECRET`, in bytes.
pub const MIN_SECRET_LEN: usize = 12;
/// Longest cookie name or PAT prefix, in bytes.
const MAX_NAME_LEN: usize = 64;
/// Upper bound for every `*_SECONDS` variable except the leeway: ten years.
const MAX_SECONDS: u64 = 10 * 365 * 86_400;
/// Default for `WARDEN_REFRESH_GRACE_SECONDS`: how long a rotated refresh token's successor
/// pair is replayed to late concurrent callers.
pub const DEFAULT_REFRESH_GRACE_SECONDS: u64 = 10;
/// Longest `WARDEN_REFRESH_GRACE_SECONDS`.
pub const MAX_REFRESH_GRACE_SECONDS: u64 = 300;
/// Default for `WARDEN_REFRESH_WINDOW_SECONDS`: a cookie session's access token this close to
/// its `exp` is refreshed ahead of time.
pub const DEFAULT_REFRESH_WINDOW_SECONDS: u64 = 15;
/// Default for `WARDEN_SESSION_IDLE_SECONDS`: seven days.
pub const DEFAULT_SESSION_IDLE_SECONDS: u64 = 7 * 86_400;
/// Default for `WARDEN_SESSION_MAX_SECONDS`: thirty days.
pub const DEFAULT_SESSION_MAX_SECONDS: u64 = 30 * 86_400;
/// Most seconds between two recorded activities of a session (a tenth of the idle timeout when
/// that is shorter).
pub const MAX_SESSION_DEBOUNCE_SECONDS: u64 = 60;
/// Longest `WARDEN_CLIENT_ID`, in bytes.
const MAX_CLIENT_ID_LEN: usize = 256;

/// Refresh at the edge (`WARDEN_REFRESH_PATH` set): how the worker refreshes cookie sessions
/// through the origin's OAuth 2.0 token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshConfig {
    /// `WARDEN_REFRESH_PATH`: the token endpoint's path on `WARDEN_ORIGIN`, e.g. `/oauth/token`.
    pub path: String,
    /// `WARDEN_REFRESH_COOKIE`: the cookie that carries the refresh token (full name, no prefix
    /// added).
    pub cookie: String,
    /// `WARDEN_CLIENT_ID`: sent as `client_id` (public client) or as the Basic user name.
    pub client_id: Option<String>,
    /// `WARDEN_CLIENT_SECRET` (a secret): HTTP Basic client authentication when set.
    pub client_secret: Option<String>,
    /// `WARDEN_REFRESH_GRACE_SECONDS`: a refresh token presented again within this many seconds
    /// of its rotation gets the same new pair; later, it is reuse.
    pub grace: u64,
    /// `WARDEN_SESSION_IDLE_SECONDS`, `WARDEN_SESSION_MAX_SECONDS` and the derived debounce.
    pub session: SessionPolicy,
}

impl RefreshConfig {
    /// The token endpoint's URL.
    pub fn token_url(&self, origin: &str) -> String {
        format!("{origin}{}", self.path)
    }
}

/// Validated configuration.
#[derive(Debug)]
pub struct Config {
    /// Origin base URL, without a trailing slash.
    pub origin: String,
    /// Verification key sources.
    pub keys: KeyConfig,
    /// Every request decision: the claims policy (`WARDEN_ISSUER`, `WARDEN_AUDIENCE`,
    /// `WARDEN_LEEWAY_SECONDS`, `WARDEN_MAX_TOKEN_AGE_SECONDS`, `WARDEN_MAX_LIFETIME_SECONDS`,
    /// `WARDEN_ACCESS_TYP`, `WARDEN_REFRESH_WINDOW_SECONDS`), `WARDEN_PUBLIC_PATHS`,
    /// `WARDEN_ROUTES`, `WARDEN_ACCESS_COOKIE`, `WARDEN_REFRESH_COOKIE` (while refresh is on),
    /// `WARDEN_PAT_PREFIX`, `WARDEN_FAIL_MODE`, `WARDEN_ORIGIN_SECRET`.
    pub gate: Gate,
    /// `WARDEN_SNAPSHOT_SECONDS`: the revocation snapshot's (or filter's) and PAT cache's
    /// refresh interval.
    pub snapshot_seconds: u64,
    /// `WARDEN_REVOCATION_FILTER` (`on` unless `off`): revocations are recorded in the log
    /// object, which publishes a filter of them that isolates read instead of listing KV
    /// ([`crate::revlog`]).
    pub revocation_filter: bool,
    /// The admin API's bearer secret; the admin API answers 404 while it is unset.
    pub admin_token: Option<String>,
    /// Refresh at the edge; `None` (off) while `WARDEN_REFRESH_PATH` is unset.
    pub refresh: Option<RefreshConfig>,
    /// OpenID Connect Back-Channel Logout (`POST /_warden/oidc/backchannel-logout`): logout
    /// tokens from `WARDEN_ISSUER` addressed to `WARDEN_CLIENT_ID`, signed with the token keys.
    /// `None` (the endpoint answers 404) while either is unset or `WARDEN_BACKCHANNEL_LOGOUT`
    /// is `off`.
    pub backchannel: Option<LogoutPolicy>,
    /// Shared Signals push receiving (`POST /_warden/ssf/push`); `None` (404) while
    /// `WARDEN_SSF_ISSUER` is unset.
    pub ssf: Option<SsfConfig>,
    /// `WARDEN_DPOP_REPLAY`: where proof `jti`s are remembered (the rest of the DPoP
    /// variables are the gate's: `gate.dpop`).
    pub dpop_replay: ReplayScope,
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

pub(crate) fn err(variable: &'static str, reason: impl Into<String>) -> ConfigError {
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
        if let Some(v) = seconds_var(&get, "WARDEN_LEEWAY_SECONDS", 0, 300)? {
            policy.leeway = v;
        }
        policy.max_age = seconds_var(&get, "WARDEN_MAX_TOKEN_AGE_SECONDS", 1, MAX_SECONDS)?;
        if let Some(v) = seconds_var(&get, "WARDEN_MAX_LIFETIME_SECONDS", 1, MAX_SECONDS)? {
            policy.max_lifetime = v;
        }
        if let Some(v) = get("WARDEN_ACCESS_TYP") {
            if v.len() > MAX_NAME_LEN || !v.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(err(
                    "WARDEN_ACCESS_TYP",
                    format!("{v:?} is not a media type such as \"at+jwt\""),
                ));
            }
            policy.typ = Some(v);
        }

        let paths = PathRules::parse(
            get("WARDEN_PUBLIC_PATHS").as_deref(),
            get("WARDEN_ROUTES").as_deref(),
        )
        .map_err(|(which, why)| err(["WARDEN_PUBLIC_PATHS", "WARDEN_ROUTES"][which.min(1)], why))?;
        let access_cookie = match get("WARDEN_ACCESS_COOKIE") {
            None => None,
            Some(v) if is_token(&v) && v.len() <= MAX_NAME_LEN => Some(v),
            Some(v) => {
                return Err(err(
                    "WARDEN_ACCESS_COOKIE",
                    format!("{v:?} is not a cookie name (letters, digits and !#$%&'*+-.^_`|~, at most {MAX_NAME_LEN})"),
                ))
            }
        };
        let pat_prefix = match get("WARDEN_PAT_PREFIX") {
            None => DEFAULT_PAT_PREFIX.to_owned(),
            Some(v)
                if v.len() <= 32
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                v
            }
            Some(v) => {
                return Err(err(
                    "WARDEN_PAT_PREFIX",
                    format!("{v:?} must be 1 to 32 of A-Z a-z 0-9 _ -"),
                ))
            }
        };
        let fail_mode = match get("WARDEN_FAIL_MODE").as_deref() {
            None | Some("closed") => FailMode::Closed,
            Some("open") => FailMode::Open,
            Some(v) => {
                return Err(err(
                    "WARDEN_FAIL_MODE",
                    format!("{v:?} is neither \"closed\" nor \"open\""),
                ))
            }
        };
        let snapshot_seconds = seconds_var(&get, "WARDEN_SNAPSHOT_SECONDS", 1, 3600)?
            .unwrap_or(DEFAULT_SNAPSHOT_SECONDS);
        let revocation_filter = match get("WARDEN_REVOCATION_FILTER").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(v) => {
                return Err(err(
                    "WARDEN_REVOCATION_FILTER",
                    format!("{v:?} is neither \"on\" nor \"off\""),
                ))
            }
        };
        let admin_token = secret(get("WARDEN_ADMIN_TOKEN"), "WARDEN_ADMIN_TOKEN")?;
        let origin_secret = secret(get("WARDEN_ORIGIN_SECRET"), "WARDEN_ORIGIN_SECRET")?;
        policy.refresh_window = seconds_var(&get, "WARDEN_REFRESH_WINDOW_SECONDS", 0, 3600)?
            .unwrap_or(DEFAULT_REFRESH_WINDOW_SECONDS);
        let refresh = refresh_config(&get, access_cookie.as_deref())?;
        let backchannel = backchannel_config(&get, &policy)?;
        let ssf = ssf::ssf_config(&get, &policy, &keys)?;
        let (dpop, dpop_replay) = dpop::dpop_config(&get)?;

        let gate = Gate {
            policy,
            paths,
            refresh_cookie: refresh.as_ref().map(|r| r.cookie.clone()),
            access_cookie,
            pat_prefix,
            fail_mode,
            origin_secret,
            dpop,
        };
        Ok(Config {
            origin,
            keys,
            gate,
            snapshot_seconds,
            revocation_filter,
            admin_token,
            refresh,
            backchannel,
            ssf,
            dpop_replay,
        })
    }

    /// How revocations are read and recorded.
    pub fn reads(&self) -> crate::store::Reads {
        crate::store::Reads {
            interval: self.snapshot_seconds,
            filter: self.revocation_filter,
        }
    }

    /// The claims policy.
    pub fn policy(&self) -> &Policy {
        &self.gate.policy
    }

    /// How long an `rv:sid:` record written now lives: as long as the session could still
    /// mint tokens.
    pub fn session_revocation_expiration(&self, now: u64) -> u64 {
        warden_core::session_expiration(now, self.gate.policy.leeway, self.gate.policy.max_lifetime)
    }

    /// A summary for `GET /_warden/health`: every setting, no secrets (only whether each is set).
    pub fn summary(&self) -> Value {
        let (policy, gate) = (&self.gate.policy, &self.gate);
        obj! {
            "origin": self.origin,
            "issuer": policy.issuer,
            "audiences": policy.audiences,
            "leeway_seconds": policy.leeway,
            "max_token_age_seconds": policy.max_age,
            "max_lifetime_seconds": policy.max_lifetime,
            "access_typ": policy.typ,
            "public_paths": gate.paths.public_paths(),
            "access_cookie": gate.access_cookie,
            "pat_prefix": gate.pat_prefix,
            "fail_mode": gate.fail_mode.name(),
            "dpop": obj! {
                "mode": gate.dpop.mode.name(),
                "algorithms": gate.dpop.algs(),
                "max_age_seconds": gate.dpop.max_age,
                "nonce": gate.dpop.nonce.is_some(),
                "replay": "isolate",
            },
            "snapshot_seconds": self.snapshot_seconds,
            "revocation_filter": if self.revocation_filter { "on" } else { "off" },
            "routes": gate.paths.routes().iter().map(|r| obj! {"prefix": r.prefix, "scope": r.scope}).collect::<Vec<_>>(),
            "admin_token_set": self.admin_token.is_some(),
            "origin_secret_set": gate.origin_secret.is_some(),
            "refresh_window_seconds": policy.refresh_window,
            "refresh": self.refresh.as_ref().map(|r| obj! {
                "path": r.path,
                "cookie": r.cookie,
                "client_id": r.client_id,
                "client_secret_set": r.client_secret.is_some(),
                "grace_seconds": r.grace,
                "session_idle_seconds": r.session.idle_timeout,
                "session_max_seconds": r.session.absolute_cap,
                "session_debounce_seconds": r.session.debounce,
            }),
            "backchannel_logout": self.backchannel.is_some(),
        }
    }
}

/// The refresh settings: `None` while `WARDEN_REFRESH_PATH` is unset (the other refresh
/// variables are then ignored, except that a client secret without a client id is refused).
fn refresh_config(
    get: &dyn Fn(&str) -> Option<String>,
    access_cookie: Option<&str>,
) -> Result<Option<RefreshConfig>, ConfigError> {
    let client_id = client_id(get)?;
    let client_secret = secret(get("WARDEN_CLIENT_SECRET"), "WARDEN_CLIENT_SECRET")?;
    if client_secret.is_some() && client_id.is_none() {
        return Err(err(
            "WARDEN_CLIENT_SECRET",
            "is set but WARDEN_CLIENT_ID is not (Basic client authentication needs both)",
        ));
    }
    let Some(path) = get("WARDEN_REFRESH_PATH") else {
        return Ok(None);
    };
    let path = warden_core::path_prefix(&path).map_err(|why| err("WARDEN_REFRESH_PATH", why))?;
    if access_cookie.is_none() {
        return Err(err(
            "WARDEN_ACCESS_COOKIE",
            "is required when WARDEN_REFRESH_PATH is set (refresh serves cookie sessions)",
        ));
    }
    let cookie = match get("WARDEN_REFRESH_COOKIE") {
        None => {
            return Err(err(
                "WARDEN_REFRESH_COOKIE",
                "is required when WARDEN_REFRESH_PATH is set",
            ))
        }
        Some(v) if access_cookie == Some(v.as_str()) => {
            return Err(err(
                "WARDEN_REFRESH_COOKIE",
                "must differ from WARDEN_ACCESS_COOKIE",
            ))
        }
        Some(v) if is_token(&v) && v.len() <= MAX_NAME_LEN => v,
        Some(v) => {
            return Err(err(
                "WARDEN_REFRESH_COOKIE",
                format!("{v:?} is not a cookie name (letters, digits and !#$%&'*+-.^_`|~, at most {MAX_NAME_LEN})"),
            ))
        }
    };
    let grace = seconds_var(
        get,
        "WARDEN_REFRESH_GRACE_SECONDS",
        0,
        MAX_REFRESH_GRACE_SECONDS,
    )?
    .unwrap_or(DEFAULT_REFRESH_GRACE_SECONDS);
    let idle_timeout = seconds_var(get, "WARDEN_SESSION_IDLE_SECONDS", 1, MAX_SECONDS)?
        .unwrap_or(DEFAULT_SESSION_IDLE_SECONDS);
    let absolute_cap = seconds_var(get, "WARDEN_SESSION_MAX_SECONDS", 1, MAX_SECONDS)?
        .unwrap_or(DEFAULT_SESSION_MAX_SECONDS);
    Ok(Some(RefreshConfig {
        path,
        cookie,
        client_id,
        client_secret,
        grace,
        session: SessionPolicy {
            idle_timeout,
            absolute_cap,
            debounce: (idle_timeout / 10).min(MAX_SESSION_DEBOUNCE_SECONDS),
        },
    }))
}

/// `WARDEN_CLIENT_ID`: 1 to [`MAX_CLIENT_ID_LEN`] printable ASCII characters.
fn client_id(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    match get("WARDEN_CLIENT_ID") {
        None => Ok(None),
        Some(v) if v.len() <= MAX_CLIENT_ID_LEN && v.bytes().all(|b| (0x20..0x7f).contains(&b)) => {
            Ok(Some(v))
        }
        Some(_) => Err(err(
            "WARDEN_CLIENT_ID",
            format!("must be 1 to {MAX_CLIENT_ID_LEN} printable ASCII characters"),
        )),
    }
}

/// Back-channel logout: on (by default) when `WARDEN_CLIENT_ID` and `WARDEN_ISSUER` are set
/// (a key source always is); `WARDEN_BACKCHANNEL_LOGOUT=off` turns it off, `on` requires both.
fn backchannel_config(
    get: &dyn Fn(&str) -> Option<String>,
    policy: &Policy,
) -> Result<Option<LogoutPolicy>, ConfigError> {
    let required = match get("WARDEN_BACKCHANNEL_LOGOUT").as_deref() {
        None => false,
        Some("on") => true,
        Some("off") => return Ok(None),
        Some(v) => {
            return Err(err(
                "WARDEN_BACKCHANNEL_LOGOUT",
                format!("{v:?} is neither \"on\" nor \"off\""),
            ))
        }
    };
    match (client_id(get)?, &policy.issuer) {
        (Some(client_id), Some(issuer)) => Ok(Some(LogoutPolicy {
            leeway: policy.leeway,
            ..LogoutPolicy::new(issuer.as_str(), client_id)
        })),
        (None, _) if required => Err(err(
            "WARDEN_CLIENT_ID",
            "is required when WARDEN_BACKCHANNEL_LOGOUT is on (logout tokens are addressed to it)",
        )),
        (_, None) if required => Err(err(
            "WARDEN_ISSUER",
            "is required when WARDEN_BACKCHANNEL_LOGOUT is on (logout tokens come from it)",
        )),
        _ => Ok(None),
    }
}

fn parse_origin(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("{value:?} must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ', '\\']) {
        return Err(format!(
            "{value:?} is not a base URL (scheme://host[:port][/path], no query)"
        ));
    }
    if host.contains('@') {
        return Err(format!(
            "{value:?} carries credentials; use WARDEN_ORIGIN_SECRET instead"
        ));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

pub(crate) fn seconds(value: &str, min: u64, max: u64) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{value:?} is not a whole number of seconds between {min} and {max}"
        )),
    }
}

/// `variable` as [`seconds`] between `min` and `max`; `None` while it is unset.
pub(crate) fn seconds_var(
    get: &dyn Fn(&str) -> Option<String>,
    variable: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ConfigError> {
    get(variable)
        .map(|v| seconds(&v, min, max).map_err(|why| err(variable, why)))
        .transpose()
}

pub(crate) fn secret(
    value: Option<String>,
    variable: &'static str,
) -> Result<Option<String>, ConfigError> {
    match value {
        None => Ok(None),
        Some(v) if v.len() < MIN_SECRET_LEN => Err(err(
            variable,
            format!("is shorter than {MIN_SECRET_LEN} bytes (value not logged)"),
        )),
        Some(v) if !v.bytes().all(|b| b.is_ascii_graphic()) => Err(err(
            variable,
            "must be printable ASCII without spaces (value not logged)",
        )),
        Some(v) => Ok(Some(v)),
    }
}

/// RFC 9110 `token` characters (cookie names).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;
    use warden_core::Route;

    const JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = [
            ("WARDEN_ORIGIN", "https://api.example.com/"),
            ("WARDEN_JWKS", JWKS),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in vars {
            if v.is_empty() {
                map.remove(*k);
            } else {
                map.insert(k.to_string(), v.to_string());
            }
        }
        Config::from_vars(|k| map.get(k).cloned())
    }

    fn variable(vars: &[(&str, &str)]) -> &'static str {
        load(vars).unwrap_err().variable
    }

    #[test]
    fn minimal_config_and_defaults() {
        let c = load(&[]).unwrap();
        assert_eq!(c.origin, "https://api.example.com");
        assert_eq!(
            c.gate,
            Gate {
                policy: Policy {
                    refresh_window: DEFAULT_REFRESH_WINDOW_SECONDS,
                    ..Policy::default()
                },
                ..Gate::default()
            }
        );
        assert!(
            c.refresh.is_none(),
            "refresh is off without WARDEN_REFRESH_PATH"
        );
        assert!(c.admin_token.is_none());
        assert_eq!(c.gate.pat_prefix, DEFAULT_PAT_PREFIX);
        assert_eq!(c.snapshot_seconds, DEFAULT_SNAPSHOT_SECONDS);
        assert!(c.revocation_filter, "the published filter is on by default");
        assert!(
            load(&[("WARDEN_REVOCATION_FILTER", "on")])
                .unwrap()
                .revocation_filter
        );
        assert!(
            !load(&[("WARDEN_REVOCATION_FILTER", "off")])
                .unwrap()
                .revocation_filter
        );
    }

    #[test]
    fn optional_values() {
        let c = load(&[
            ("WARDEN_ORIGIN", "http://127.0.0.1:8788"),
            ("WARDEN_ISSUER", "https://issuer"),
            ("WARDEN_AUDIENCE", "api, web ,"),
            ("WARDEN_LEEWAY_SECONDS", "5"),
            ("WARDEN_MAX_TOKEN_AGE_SECONDS", "3600"),
            ("WARDEN_MAX_LIFETIME_SECONDS", "900"),
            ("WARDEN_ACCESS_TYP", "at+jwt"),
            ("WARDEN_PUBLIC_PATHS", "/health, /public/"),
            ("WARDEN_ACCESS_COOKIE", "__Host-warden_at"),
            ("WARDEN_PAT_PREFIX", "acme_"),
            ("WARDEN_FAIL_MODE", "open"),
            ("WARDEN_SNAPSHOT_SECONDS", "5"),
            ("WARDEN_ROUTES", "/admin=admin, /billing/=billing:read"),
            ("WARDEN_ADMIN_TOKEN", "s3cret-s3cret-s3cret"),
            ("WARDEN_ORIGIN_SECRET", "origin-secret-0123456789"),
        ])
        .unwrap();
        let (p, g) = (c.policy(), &c.gate);
        assert_eq!(p.issuer.as_deref(), Some("https://issuer"));
        assert_eq!(p.audiences, vec!["api", "web"]);
        assert_eq!(p.leeway, 5);
        assert_eq!(p.max_age, Some(3600));
        assert_eq!(p.max_lifetime, 900);
        assert_eq!(p.typ.as_deref(), Some("at+jwt"));
        assert_eq!(g.paths.public_paths(), ["/health", "/public/"]);
        assert_eq!(g.access_cookie.as_deref(), Some("__Host-warden_at"));
        assert_eq!(g.pat_prefix, "acme_");
        assert_eq!(g.fail_mode, FailMode::Open);
        assert_eq!(c.snapshot_seconds, 5);
        // Longest prefix first.
        assert_eq!(
            g.paths.routes(),
            [
                Route {
                    prefix: "/billing/".into(),
                    scope: "billing:read".into()
                },
                Route {
                    prefix: "/admin".into(),
                    scope: "admin".into()
                },
            ]
        );
        assert_eq!(c.admin_token.as_deref(), Some("s3cret-s3cret-s3cret"));
        assert_eq!(g.origin_secret.as_deref(), Some("origin-secret-0123456789"));
        let summary = c.summary().to_string();
        assert!(summary.contains("\"fail_mode\":\"open\""));
        assert!(!summary.contains("s3cret"), "no secrets in the summary");
        assert!(
            !summary.contains("origin-secret"),
            "no secrets in the summary"
        );
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(variable(&[("WARDEN_ORIGIN", "")]), "WARDEN_ORIGIN");
        assert_eq!(variable(&[("WARDEN_ORIGIN", "ftp://x")]), "WARDEN_ORIGIN");
        assert_eq!(
            variable(&[("WARDEN_ORIGIN", "https://user:pw@x")]),
            "WARDEN_ORIGIN"
        );
        assert_eq!(
            variable(&[("WARDEN_ORIGIN", "https://x/?q")]),
            "WARDEN_ORIGIN"
        );
        assert_eq!(variable(&[("WARDEN_JWKS", "")]), "WARDEN_JWKS");
        let e = load(&[("WARDEN_JWKS", "{\"keys\":[]}")]).unwrap_err();
        assert_eq!(e.to_string(), "WARDEN_JWKS: the JWKS has no keys");
        let cases: &[(&str, &str)] = &[
            ("WARDEN_LEEWAY_SECONDS", "-1"),
            ("WARDEN_LEEWAY_SECONDS", "301"),
            ("WARDEN_LEEWAY_SECONDS", "1.5"),
            ("WARDEN_MAX_TOKEN_AGE_SECONDS", "0"),
            ("WARDEN_MAX_TOKEN_AGE_SECONDS", "soon"),
            ("WARDEN_MAX_LIFETIME_SECONDS", "0"),
            ("WARDEN_MAX_LIFETIME_SECONDS", "99999999999999999999999"),
            ("WARDEN_ACCESS_TYP", "at jwt"),
            ("WARDEN_PUBLIC_PATHS", "health"),
            ("WARDEN_PUBLIC_PATHS", "/"),
            ("WARDEN_PUBLIC_PATHS", "/a/../b"),
            ("WARDEN_PUBLIC_PATHS", "/a//b"),
            ("WARDEN_PUBLIC_PATHS", "/a%2f"),
            ("WARDEN_PUBLIC_PATHS", "/a;b"),
            ("WARDEN_ACCESS_COOKIE", "bad name"),
            ("WARDEN_ACCESS_COOKIE", "a=b"),
            ("WARDEN_PAT_PREFIX", "pat."),
            (
                "WARDEN_PAT_PREFIX",
                "a-very-long-prefix-that-goes-on-and-on",
            ),
            ("WARDEN_FAIL_MODE", "Open"),
            ("WARDEN_FAIL_MODE", "maybe"),
            ("WARDEN_REVOCATION_FILTER", "ON"),
            ("WARDEN_REVOCATION_FILTER", "true"),
            ("WARDEN_SNAPSHOT_SECONDS", "0"),
            ("WARDEN_SNAPSHOT_SECONDS", "3601"),
            ("WARDEN_ROUTES", "/admin"),
            ("WARDEN_ROUTES", "admin=admin"),
            ("WARDEN_ROUTES", "/admin="),
            ("WARDEN_ROUTES", "/admin=a b"),
            ("WARDEN_ROUTES", "/admin=a\"b"),
            ("WARDEN_ROUTES", "/admin=a,/ADMIN=b"),
            ("WARDEN_ADMIN_TOKEN", "short"),
            ("WARDEN_ADMIN_TOKEN", "has a space in it, long enough"),
            ("WARDEN_ORIGIN_SECRET", "short"),
        ];
        for (name, value) in cases {
            let e = load(&[(name, value)]).unwrap_err();
            assert_eq!(e.variable, *name, "{name}={value:?}: {e}");
            assert!(!e.reason.is_empty());
        }
        // Secrets are never echoed into the log line.
        let e = load(&[("WARDEN_ADMIN_TOKEN", "tiny")]).unwrap_err();
        assert!(!e.to_string().contains("tiny"));
        let many = (0..=warden_core::MAX_LIST_ENTRIES)
            .map(|i| format!("/p{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            variable(&[("WARDEN_PUBLIC_PATHS", many.as_str())]),
            "WARDEN_PUBLIC_PATHS"
        );
    }

    #[test]
    fn backchannel_logout_settings() {
        let on = |vars: &[(&str, &str)]| load(vars).map(|c| c.backchannel);
        // Off by default: no client id, or no issuer.
        assert_eq!(on(&[]), Ok(None));
        assert_eq!(on(&[("WARDEN_CLIENT_ID", "web")]), Ok(None));
        assert_eq!(on(&[("WARDEN_ISSUER", "https://id.example")]), Ok(None));
        let both = [
            ("WARDEN_ISSUER", "https://id.example"),
            ("WARDEN_CLIENT_ID", "web"),
            ("WARDEN_LEEWAY_SECONDS", "7"),
        ];
        let policy = on(&both).unwrap().unwrap();
        assert_eq!(
            (
                policy.issuer.as_str(),
                policy.client_id.as_str(),
                policy.leeway
            ),
            ("https://id.example", "web", 7)
        );
        let mut vars = both.to_vec();
        vars.push(("WARDEN_BACKCHANNEL_LOGOUT", "off"));
        assert_eq!(on(&vars), Ok(None));
        vars.pop();
        vars.push(("WARDEN_BACKCHANNEL_LOGOUT", "on"));
        assert!(on(&vars).unwrap().is_some());
        assert!(load(&both).unwrap().summary()["backchannel_logout"] == json!(true));
        // `on` needs both; any other value is refused.
        let var = |vars: &[(&str, &str)]| load(vars).unwrap_err().variable;
        assert_eq!(
            var(&[
                ("WARDEN_BACKCHANNEL_LOGOUT", "on"),
                ("WARDEN_ISSUER", "https://i")
            ]),
            "WARDEN_CLIENT_ID"
        );
        assert_eq!(
            var(&[
                ("WARDEN_BACKCHANNEL_LOGOUT", "on"),
                ("WARDEN_CLIENT_ID", "web")
            ]),
            "WARDEN_ISSUER"
        );
        for v in ["On", "yes", "1"] {
            assert_eq!(
                var(&[("WARDEN_BACKCHANNEL_LOGOUT", v)]),
                "WARDEN_BACKCHANNEL_LOGOUT"
            );
        }
    }

    #[test]
    fn ssf_settings() {
        let tx = [
            ("WARDEN_SSF_ISSUER", "https://tx.example"),
            ("WARDEN_SSF_AUDIENCE", "https://warden.example"),
            ("WARDEN_SSF_JWKS_URL", "https://tx.example/jwks"),
        ];
        assert!(load(&[]).unwrap().ssf.is_none(), "off by default");
        let c = load(&tx).unwrap();
        let s = c.ssf.as_ref().unwrap();
        assert_eq!(s.policy.issuer, "https://tx.example");
        assert_eq!(s.policy.audience, "https://warden.example");
        assert_eq!(s.policy.subject_issuer, None);
        assert!(s.keys.transmitter && s.keys.inline.is_none() && s.push_token.is_none());
        let mut vars = tx.to_vec();
        vars.extend([
            ("WARDEN_ISSUER", "https://id.example"),
            ("WARDEN_SSF_PUSH_TOKEN", "push-token-0123456789"),
            ("WARDEN_SSF_JWKS", JWKS),
            ("WARDEN_LEEWAY_SECONDS", "9"),
        ]);
        let c = load(&vars).unwrap();
        let s = c.ssf.as_ref().unwrap();
        assert_eq!(
            s.policy.subject_issuer.as_deref(),
            Some("https://id.example")
        );
        assert_eq!(s.policy.leeway, 9);
        assert!(s.keys.inline.is_some());
        assert!(!c.summary().to_string().contains("push-token-0123456789"));
        vars.push(("WARDEN_SSF_SUBJECT_ISSUER", "https://other.example"));
        let s = load(&vars).unwrap().ssf.unwrap();
        assert_eq!(
            s.policy.subject_issuer.as_deref(),
            Some("https://other.example")
        );

        let var = |extra: &[(&'static str, &'static str)]| {
            let mut v = tx.to_vec();
            v.extend_from_slice(extra);
            load(&v).unwrap_err().variable
        };
        assert_eq!(var(&[("WARDEN_SSF_AUDIENCE", "")]), "WARDEN_SSF_AUDIENCE");
        assert_eq!(var(&[("WARDEN_SSF_JWKS_URL", "")]), "WARDEN_SSF_JWKS");
        assert_eq!(
            var(&[("WARDEN_SSF_JWKS_URL", "http://tx.example/jwks")]),
            "WARDEN_SSF_JWKS_URL"
        );
        assert_eq!(
            var(&[("WARDEN_SSF_JWKS", "{\"keys\":[]}")]),
            "WARDEN_SSF_JWKS"
        );
        assert_eq!(
            var(&[("WARDEN_SSF_PUSH_TOKEN", "short")]),
            "WARDEN_SSF_PUSH_TOKEN"
        );
        assert_eq!(
            var(&[("WARDEN_SSF_ISSUER", "a\u{1}b")]),
            "WARDEN_SSF_ISSUER"
        );

        // Poll delivery: the URL and its token go together, and need the transmitter.
        assert!(load(&tx).unwrap().ssf.unwrap().poll.is_none());
        let mut polled = tx.to_vec();
        polled.extend([
            ("WARDEN_SSF_POLL_URL", "https://tx.example/poll"),
            ("WARDEN_SSF_POLL_TOKEN", "poll-token-0123456789"),
        ]);
        let c = load(&polled).unwrap();
        let p = c.ssf.as_ref().unwrap().poll.as_ref().unwrap();
        assert_eq!(
            (p.url.as_str(), p.token.as_str()),
            ("https://tx.example/poll", "poll-token-0123456789")
        );
        assert!(!c.summary().to_string().contains("poll-token-0123456789"));
        let poll_url = ("WARDEN_SSF_POLL_URL", "https://tx.example/poll");
        let poll_token = ("WARDEN_SSF_POLL_TOKEN", "poll-token-0123456789");
        assert_eq!(var(&[poll_url]), "WARDEN_SSF_POLL_TOKEN");
        assert_eq!(var(&[poll_token]), "WARDEN_SSF_POLL_URL");
        assert_eq!(
            var(&[
                ("WARDEN_SSF_POLL_URL", "http://tx.example/poll"),
                poll_token
            ]),
            "WARDEN_SSF_POLL_URL"
        );
        assert_eq!(
            var(&[poll_url, ("WARDEN_SSF_POLL_TOKEN", "short")]),
            "WARDEN_SSF_POLL_TOKEN"
        );
        assert_eq!(
            variable(&[poll_url, poll_token]),
            "WARDEN_SSF_ISSUER",
            "polling needs the transmitter"
        );
    }

    #[test]
    fn refresh_settings() {
        let on = [
            ("WARDEN_REFRESH_PATH", "/oauth/token"),
            ("WARDEN_ACCESS_COOKIE", "warden_access"),
            ("WARDEN_REFRESH_COOKIE", "warden_refresh"),
        ];
        let c = load(&on).unwrap();
        let r = c.refresh.clone().unwrap();
        assert_eq!(r.path, "/oauth/token");
        assert_eq!(r.cookie, "warden_refresh");
        assert_eq!(
            r.token_url(&c.origin),
            "https://api.example.com/oauth/token"
        );
        assert_eq!(r.grace, DEFAULT_REFRESH_GRACE_SECONDS);
        assert_eq!(
            r.session,
            SessionPolicy {
                idle_timeout: DEFAULT_SESSION_IDLE_SECONDS,
                absolute_cap: DEFAULT_SESSION_MAX_SECONDS,
                debounce: MAX_SESSION_DEBOUNCE_SECONDS,
            }
        );
        assert_eq!((r.client_id, r.client_secret), (None, None));

        let mut vars = on.to_vec();
        vars.extend([
            ("WARDEN_CLIENT_ID", "web app"),
            ("WARDEN_CLIENT_SECRET", "client-secret-0123"),
            ("WARDEN_REFRESH_GRACE_SECONDS", "0"),
            ("WARDEN_REFRESH_WINDOW_SECONDS", "30"),
            ("WARDEN_SESSION_IDLE_SECONDS", "4"),
            ("WARDEN_SESSION_MAX_SECONDS", "6"),
        ]);
        let c = load(&vars).unwrap();
        let r = c.refresh.clone().unwrap();
        assert_eq!(r.client_id.as_deref(), Some("web app"));
        assert_eq!(r.grace, 0);
        assert_eq!(c.policy().refresh_window, 30);
        assert_eq!(
            r.session,
            SessionPolicy {
                idle_timeout: 4,
                absolute_cap: 6,
                debounce: 0
            }
        );
        let summary = c.summary().to_string();
        assert!(summary.contains("\"client_secret_set\":true"), "{summary}");
        assert!(
            !summary.contains("client-secret-0123"),
            "no secrets in the summary"
        );

        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = on.to_vec();
            v.extend_from_slice(extra);
            load(&v).map(|_| ()).map_err(|e| e.variable)
        };
        assert_eq!(
            with(&[("WARDEN_ACCESS_COOKIE", "")]),
            Err("WARDEN_ACCESS_COOKIE")
        );
        assert_eq!(
            with(&[("WARDEN_REFRESH_COOKIE", "")]),
            Err("WARDEN_REFRESH_COOKIE")
        );
        assert_eq!(
            with(&[("WARDEN_REFRESH_COOKIE", "warden_access")]),
            Err("WARDEN_REFRESH_COOKIE")
        );
        assert_eq!(
            with(&[("WARDEN_REFRESH_COOKIE", "a b")]),
            Err("WARDEN_REFRESH_COOKIE")
        );
        for bad in ["oauth/token", "/a/../b", "/t?x=1", "/a//b"] {
            assert_eq!(
                with(&[("WARDEN_REFRESH_PATH", bad)]),
                Err("WARDEN_REFRESH_PATH"),
                "{bad}"
            );
        }
        for (name, value) in [
            ("WARDEN_REFRESH_GRACE_SECONDS", "301"),
            ("WARDEN_REFRESH_GRACE_SECONDS", "ten"),
            ("WARDEN_REFRESH_WINDOW_SECONDS", "3601"),
            ("WARDEN_SESSION_IDLE_SECONDS", "0"),
            ("WARDEN_SESSION_MAX_SECONDS", "-1"),
            ("WARDEN_CLIENT_ID", "tab\there"),
            ("WARDEN_CLIENT_SECRET", "short"),
        ] {
            let mut extra = vec![(name, value)];
            if name == "WARDEN_CLIENT_SECRET" {
                extra.push(("WARDEN_CLIENT_ID", "web"));
            }
            assert_eq!(with(&extra), Err(name), "{name}={value:?}");
        }
        // A client secret needs a client id, with refresh on or off.
        assert_eq!(
            variable(&[("WARDEN_CLIENT_SECRET", "client-secret-0123")]),
            "WARDEN_CLIENT_SECRET"
        );
        // Without WARDEN_REFRESH_PATH the other refresh settings are inert.
        assert!(load(&[("WARDEN_CLIENT_ID", "web")])
            .unwrap()
            .refresh
            .is_none());
        assert!(load(&[
            ("WARDEN_REFRESH_COOKIE", "rt"),
            ("WARDEN_SESSION_MAX_SECONDS", "5")
        ])
        .unwrap()
        .refresh
        .is_none());
    }

    #[test]
    fn dpop_settings() {
        let c = load(&[]).unwrap();
        assert_eq!(c.gate.dpop, warden_core::DpopPolicy::default());
        assert_eq!(c.dpop_replay, ReplayScope::Isolate);
        let c = load(&[
            ("WARDEN_DPOP", "required"),
            ("WARDEN_DPOP_ALGORITHMS", "ES256, EdDSA"),
            ("WARDEN_DPOP_MAX_AGE_SECONDS", "30"),
            ("WARDEN_DPOP_NONCE", "on"),
            (
                "WARDEN_DPOP_NONCE_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("WARDEN_DPOP_REPLAY", "isolate"),
        ])
        .unwrap();
        assert_eq!(c.dpop_replay, ReplayScope::Isolate);
        let global = load(&[("WARDEN_DPOP_REPLAY", "global")]).unwrap();
        assert_eq!(global.dpop_replay, ReplayScope::Global);
        let d = &c.gate.dpop;
        assert_eq!(d.mode, warden_core::DpopMode::Required);
        assert_eq!(d.algs(), "ES256 EdDSA");
        assert_eq!(d.max_age, 30);
        assert!(d.nonce.is_some());
        for (vars, variable) in [
            (&[("WARDEN_DPOP", "Allowed")][..], "WARDEN_DPOP"),
            (
                &[("WARDEN_DPOP_ALGORITHMS", "ES256,HS256")][..],
                "WARDEN_DPOP_ALGORITHMS",
            ),
            (
                &[("WARDEN_DPOP_ALGORITHMS", "none")][..],
                "WARDEN_DPOP_ALGORITHMS",
            ),
            (
                &[("WARDEN_DPOP_MAX_AGE_SECONDS", "0")][..],
                "WARDEN_DPOP_MAX_AGE_SECONDS",
            ),
            (
                &[("WARDEN_DPOP_NONCE", "on")][..],
                "WARDEN_DPOP_NONCE_SECRET",
            ),
            (&[("WARDEN_DPOP_NONCE", "yes")][..], "WARDEN_DPOP_NONCE"),
            (
                &[
                    ("WARDEN_DPOP_NONCE", "on"),
                    ("WARDEN_DPOP_NONCE_SECRET", "short"),
                ][..],
                "WARDEN_DPOP_NONCE_SECRET",
            ),
            (
                &[("WARDEN_DPOP_REPLAY", "Global")][..],
                "WARDEN_DPOP_REPLAY",
            ),
            (
                &[("WARDEN_DPOP_REPLAY", "cluster")][..],
                "WARDEN_DPOP_REPLAY",
            ),
        ] {
            assert_eq!(self::variable(vars), variable, "{vars:?}");
        }
    }
}
