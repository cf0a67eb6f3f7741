//! Which paths need no token (`WARDEN_PUBLIC_PATHS`) and which need a scope (`WARDEN_ROUTES`),
//! matched on the [canonical path](super::CanonicalPath).

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::identity::is_scope_token;
use super::path::CanonicalPath;

/// Most entries in `WARDEN_PUBLIC_PATHS` or `WARDEN_ROUTES`.
pub const MAX_LIST_ENTRIES: usize = 64;
/// Longest path prefix, in bytes.
pub const MAX_PREFIX_LEN: usize = 256;
/// Longest scope in `WARDEN_ROUTES`, in bytes.
pub const MAX_SCOPE_LEN: usize = 128;

/// One `WARDEN_ROUTES` entry: requests under `prefix` need `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The path prefix in ASCII lower case, e.g. `/admin`.
    pub prefix: String,
    /// The scope a credential must carry, e.g. `admin` or `billing:read`.
    pub scope: String,
}

/// The path rules: public prefixes and scoped routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathRules {
    public: Vec<String>,
    /// Longest prefix first.
    routes: Vec<Route>,
}

impl PathRules {
    /// Reads `WARDEN_PUBLIC_PATHS` (comma-separated prefixes, e.g. `/health,/public/`) and
    /// `WARDEN_ROUTES` (comma-separated `prefix=scope`, e.g. `/admin=admin`). The error names
    /// no variable: `Err((which, why))` with `which` 0 for public paths, 1 for routes.
    pub fn parse(public: Option<&str>, routes: Option<&str>) -> Result<Self, (usize, String)> {
        Ok(PathRules {
            public: public
                .map(parse_public_paths)
                .transpose()
                .map_err(|e| (0, e))?
                .unwrap_or_default(),
            routes: routes
                .map(parse_routes)
                .transpose()
                .map_err(|e| (1, e))?
                .unwrap_or_default(),
        })
    }

    /// The public prefixes, as configured.
    pub fn public_paths(&self) -> &[String] {
        &self.public
    }

    /// The routes, longest prefix first.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Whether `path` is under a public prefix (case-sensitive). A prefix ending in `/` covers
    /// everything below it; any other prefix covers itself and everything below `prefix/`.
    pub fn is_public(&self, path: &CanonicalPath) -> bool {
        let path = path.as_str();
        self.public.iter().any(|p| {
            if p.ends_with('/') {
                path.starts_with(p.as_str())
            } else {
                path.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            }
        })
    }

    /// The scope `path` requires: the longest route prefix that the lower-cased path starts
    /// with (a plain prefix, so `/admin` covers `/administrator` too).
    pub fn required_scope(&self, path: &CanonicalPath) -> Option<&str> {
        self.routes
            .iter()
            .find(|r| path.lower().starts_with(&r.prefix))
            .map(|r| r.scope.as_str())
    }
}

/// A configured path prefix: starts with `/`, RFC 3986 path characters except `%`, `;` and `,`,
/// no empty, `.` or `..` segments, at most [`MAX_PREFIX_LEN`] bytes.
pub fn path_prefix(p: &str) -> Result<String, String> {
    let ok_chars = p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+=:@/".contains(&b));
    if !p.starts_with('/') || p.len() > MAX_PREFIX_LEN || !ok_chars {
        return Err(format!(
            "{p:?} is not a path prefix (starts with /, letters, digits and -._~!$&'()*+=:@/ only, at most {MAX_PREFIX_LEN} bytes)"
        ));
    }
    let inner = p.trim_start_matches('/').trim_end_matches('/');
    if p.as_bytes().windows(2).any(|w| w == b"//")
        || inner.split('/').any(|s| s == "." || s == "..")
    {
        return Err(format!("{p:?} has an empty, `.` or `..` segment"));
    }
    Ok(p.to_owned())
}

fn entries(value: &str) -> Result<Vec<&str>, String> {
    let items: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.len() > MAX_LIST_ENTRIES {
        return Err(format!(
            "has {} entries, more than {MAX_LIST_ENTRIES}",
            items.len()
        ));
    }
    Ok(items)
}

fn parse_public_paths(value: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for p in entries(value)? {
        let p = path_prefix(p)?;
        if p == "/" {
            return Err("\"/\" would make every path public".into());
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

fn parse_routes(value: &str) -> Result<Vec<Route>, String> {
    let mut routes: Vec<Route> = Vec::new();
    for entry in entries(value)? {
        let (prefix, scope) = entry
            .split_once('=')
            .ok_or_else(|| format!("{entry:?} is not prefix=scope (e.g. /admin=admin)"))?;
        let prefix = path_prefix(prefix.trim())?.to_ascii_lowercase();
        let scope = scope.trim();
        if !is_scope_token(scope) || scope.len() > MAX_SCOPE_LEN {
            return Err(format!(
                "{entry:?}: the scope must be 1 to {MAX_SCOPE_LEN} visible ASCII characters without spaces, '\"' or '\\'"
            ));
        }
        if routes.iter().any(|r| r.prefix == prefix) {
            return Err(format!("{prefix:?} appears twice"));
        }
        // Longest prefix first; of two as long, the one written first (a stable order, kept as
        // the list grows rather than sorted after: no sort routine in the wasm for a few routes).
        let at = routes
            .iter()
            .position(|r| r.prefix.len() < prefix.len())
            .unwrap_or(routes.len());
        routes.insert(
            at,
            Route {
                prefix,
                scope: scope.to_owned(),
            },
        );
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::path::canonical_path;

    fn rules(public: &str, routes: &str) -> PathRules {
        PathRules::parse(Some(public), Some(routes)).unwrap()
    }

    fn path(p: &str) -> CanonicalPath {
        canonical_path(p).unwrap()
    }

    #[test]
    fn public_paths_match_whole_segments() {
        let r = rules("/health,/public/,/docs", "");
        for p in [
            "/health",
            "/health/x",
            "/public/",
            "/public/a/b",
            "/docs",
            "/%68ealth",
        ] {
            assert!(r.is_public(&path(p)), "{p}");
        }
        for p in ["/healthz", "/public", "/Health", "/", "/api", "/docsx"] {
            assert!(!r.is_public(&path(p)), "{p}");
        }
        assert!(!PathRules::default().is_public(&path("/health")));
    }

    #[test]
    fn routes_longest_prefix_case_insensitive() {
        let r = rules("", "/admin=admin,/admin/billing=billing:read");
        let scope = |p| r.required_scope(&path(p));
        assert_eq!(scope("/admin"), Some("admin"));
        assert_eq!(scope("/ADMIN/users"), Some("admin"));
        assert_eq!(scope("/administrator"), Some("admin"));
        assert_eq!(scope("/%61dmin"), Some("admin"));
        assert_eq!(scope("/admin/billing/x"), Some("billing:read"));
        assert_eq!(scope("/api/v2"), None);
        assert_eq!(scope("/"), None);
        // Longest first, whatever the order written; as long: the order written.
        let r = rules("", "/a=x,/abc=y,/b=w,/ab=z,/c=v");
        let prefixes: Vec<&str> = r.routes().iter().map(|r| r.prefix.as_str()).collect();
        assert_eq!(prefixes, ["/abc", "/ab", "/a", "/b", "/c"]);
    }

    #[test]
    fn configuration_errors() {
        assert_eq!(PathRules::parse(Some("/"), None).unwrap_err().0, 0);
        assert_eq!(PathRules::parse(Some("health"), None).unwrap_err().0, 0);
        assert_eq!(PathRules::parse(Some("/a/../b"), None).unwrap_err().0, 0);
        assert_eq!(PathRules::parse(Some("/a%2f"), None).unwrap_err().0, 0);
        assert_eq!(PathRules::parse(None, Some("/admin")).unwrap_err().0, 1);
        assert_eq!(PathRules::parse(None, Some("/a=x y")).unwrap_err().0, 1);
        assert_eq!(PathRules::parse(None, Some("/a=x,/A=y")).unwrap_err().0, 1);
        let many = (0..=MAX_LIST_ENTRIES)
            .map(|i| alloc::format!("/p{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(PathRules::parse(Some(&many), None).is_err());
        assert_eq!(PathRules::parse(None, None), Ok(PathRules::default()));
    }
}
