//! Which credential a request carries: the `Authorization` header when there is one (and then
//! nothing else), else the access cookie. Size-capped before anything decodes it.

use crate::denial::Denial;
use crate::parse::{ParseError, MAX_TOKEN_LEN};

/// Where a request's token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `Authorization: Bearer`: an API client, which refreshes on its own.
    Bearer,
    /// The access cookie: a browser session, which the edge may refresh.
    Cookie,
    /// `Authorization: DPoP`: a sender-constrained token, with its proof in the `DPoP` header
    /// (RFC 9449 §7.1).
    Dpop,
}

/// The credential of a request, or why the request is refused.
///
/// - `Authorization` present: it alone decides. Exactly `Bearer <token>` (RFC 6750 §2.1) or
///   `DPoP <token>` (RFC 9449 §7.1; the schemes are case-sensitive here, so that every server
///   reads the header the same way); a
///   comma (two `Authorization` headers, as the Fetch API joins them, or auth-params) or an
///   empty value is `400`; a mis-cased `bearer` or `dpop` is `400`; another scheme (`Basic …`) is no
///   bearer credential: `401` without an error code, and cookies are *not* consulted, so a
///   foreign `Authorization` value never travels next to a cookie session.
/// - No `Authorization`: the access cookie (when one is configured).
/// - `Ok(None)`: no credential at all.
///
/// ```
/// use warden_core::{select_credential, Source};
///
/// assert_eq!(select_credential(Some("Bearer a.b.c"), None, None), Ok(Some(("a.b.c", Source::Bearer))));
/// assert_eq!(select_credential(None, Some("at=a.b.c"), Some("at")), Ok(Some(("a.b.c", Source::Cookie))));
/// assert_eq!(select_credential(Some("Basic dTpw"), Some("at=a.b.c"), Some("at")).unwrap_err().code(), "token_missing");
/// assert_eq!(select_credential(Some("Basic dTpw, Bearer a.b.c"), None, None).unwrap_err().status(), 400);
/// ```
pub fn select_credential<'a>(
    authorization: Option<&'a str>,
    cookies: Option<&'a str>,
    access_cookie: Option<&str>,
) -> Result<Option<(&'a str, Source)>, Denial> {
    let found = match authorization {
        Some(value) => Some(bearer(value)?),
        None => match access_cookie {
            Some(name) => cookie(cookies, name)
                .map_err(|_| Denial::InvalidRequest("malformed or repeated access cookie"))?
                .map(|t| (t, Source::Cookie)),
            None => None,
        },
    };
    match found {
        Some((t, _)) if t.len() > MAX_TOKEN_LEN => {
            Err(Denial::Malformed(ParseError::TooLarge { len: t.len() }))
        }
        other => Ok(other),
    }
}

/// Refuses a request that carries two `Authorization` headers (joined by `, ` by the Fetch
/// API) or an empty one, whatever the route.
pub fn check_authorization(authorization: Option<&str>) -> Result<(), Denial> {
    match authorization {
        Some(v) if v.contains(',') => Err(Denial::InvalidRequest(
            "more than one Authorization header (or auth-params)",
        )),
        Some(v) if v.trim_matches([' ', '\t']).is_empty() => {
            Err(Denial::InvalidRequest("empty Authorization header"))
        }
        _ => Ok(()),
    }
}

/// The token of an `Authorization` value that must be `Bearer <token>` or `DPoP <token>`.
fn bearer(value: &str) -> Result<(&str, Source), Denial> {
    check_authorization(Some(value))?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        if token.is_empty() {
            return Err(Denial::InvalidRequest("empty bearer token"));
        }
        return Ok((token, Source::Bearer));
    }
    if let Some(token) = value.strip_prefix("DPoP ") {
        if token.is_empty() {
            return Err(Denial::InvalidRequest("empty DPoP token"));
        }
        return Ok((token, Source::Dpop));
    }
    let scheme = value.split([' ', '\t']).next().unwrap_or_default();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Err(Denial::InvalidRequest("malformed Bearer authorization"));
    }
    if scheme.eq_ignore_ascii_case("dpop") {
        return Err(Denial::InvalidRequest("malformed DPoP authorization"));
    }
    // Another scheme: no bearer credentials (RFC 6750 §3.1: no error code).
    Err(Denial::Missing)
}

/// The value of cookie `name` in a `Cookie` header (RFC 6265 §5.4 syntax: `name=value` pairs
/// separated by `;` and optional spaces; a value may be wrapped in double quotes).
/// `Ok(None)`: no such cookie, or an empty one (a cleared cookie). The same cookie twice is
/// ambiguous (cookie tossing from a sibling domain): a malformed request.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Result<Option<&'a str>, Denial> {
    const BAD: Denial = Denial::InvalidRequest("malformed or repeated cookie");
    let Some(header) = header else {
        return Ok(None);
    };
    let mut found = None;
    for pair in header.split(';') {
        let pair = pair.trim_matches([' ', '\t']);
        let Some((n, v)) = pair.split_once('=') else {
            continue;
        };
        if n.trim_end_matches([' ', '\t']) != name {
            continue;
        }
        if found.is_some() {
            return Err(BAD);
        }
        let v = v.trim_start_matches([' ', '\t']);
        let v = match v.strip_prefix('"') {
            Some(inner) => inner.strip_suffix('"').ok_or(BAD)?,
            None => v,
        };
        found = Some(v);
    }
    Ok(found.filter(|v| !v.is_empty()))
}

/// The refresh token in cookie `name` (`Ok(None)` when absent or empty). Like the access
/// cookie: twice is a malformed request, over [`MAX_TOKEN_LEN`] refused before any use.
pub fn refresh_cookie<'a>(header: Option<&'a str>, name: &str) -> Result<Option<&'a str>, Denial> {
    match cookie(header, name) {
        Ok(Some(t)) if t.len() > MAX_TOKEN_LEN => {
            Err(Denial::InvalidRequest("refresh cookie too large"))
        }
        Ok(found) => Ok(found),
        Err(_) => Err(Denial::InvalidRequest(
            "malformed or repeated refresh cookie",
        )),
    }
}

/// Whether `token` is a PAT: it starts with the PAT prefix and has no `.` (a compact JWS always
/// has two), so no prefix can capture a JWT.
pub fn is_pat(token: &str, prefix: &str) -> bool {
    token.starts_with(prefix) && !token.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel<'a>(auth: Option<&'a str>, cookies: Option<&'a str>) -> Result<Option<&'a str>, u16> {
        select_credential(auth, cookies, Some("at"))
            .map(|found| found.map(|(t, _)| t))
            .map_err(|d| d.status())
    }

    #[test]
    fn authorization_alone_decides() {
        assert_eq!(
            sel(Some("Bearer h.c.s"), Some("at=x.y.z")),
            Ok(Some("h.c.s"))
        );
        assert_eq!(sel(None, Some("at=x.y.z")), Ok(Some("x.y.z")));
        // A foreign scheme next to a cookie: no credential, and the cookie is not used.
        let d = select_credential(Some("Basic dTpw"), Some("at=x.y.z"), Some("at")).unwrap_err();
        assert_eq!(
            (d.status(), d.code(), d.error()),
            (401, "token_missing", None)
        );
        assert_eq!(sel(Some("Basic dTpw, Bearer h.c.s"), None), Err(400));
        assert_eq!(sel(Some("Bearer a.b.c, Bearer a.b.c"), None), Err(400));
        assert_eq!(sel(Some(""), Some("at=x.y.z")), Err(400));
        assert_eq!(sel(Some("  "), None), Err(400));
        assert_eq!(sel(Some("bearer abc"), None), Err(400));
        assert_eq!(sel(Some("BEARER abc"), None), Err(400));
        assert_eq!(sel(Some("Bearer"), None), Err(400));
        assert_eq!(sel(Some("Bearer "), None), Err(400));
        // Extra whitespace is not stripped: the parser refuses it as a malformed token.
        assert_eq!(sel(Some("Bearer  abc"), None), Ok(Some(" abc")));
        assert_eq!(sel(Some("Beäer x"), None), Err(401));
        assert_eq!(
            select_credential(Some("DPoP a.b.c"), Some("at=x.y.z"), Some("at")),
            Ok(Some(("a.b.c", Source::Dpop)))
        );
        assert_eq!(sel(Some("dpop a.b.c"), None), Err(400));
        assert_eq!(sel(Some("DPOP a.b.c"), None), Err(400));
        assert_eq!(sel(Some("DPoP "), None), Err(400));
        assert_eq!(sel(Some("DPoP a.b.c, Bearer a.b.c"), None), Err(400));
        assert_eq!(sel(None, None), Ok(None));
        assert_eq!(select_credential(None, Some("at=x.y.z"), None), Ok(None));
        assert_eq!(
            select_credential(None, Some("at=x.y.z"), Some("at")),
            Ok(Some(("x.y.z", Source::Cookie)))
        );
    }

    #[test]
    fn size_cap_before_decoding() {
        let huge = alloc::format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        let d = select_credential(Some(&huge), None, None).unwrap_err();
        assert_eq!(d.code(), "token_malformed");
        let huge_cookie = alloc::format!("at={}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(sel(None, Some(&huge_cookie)), Err(401));
        let max = alloc::format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN));
        assert!(select_credential(Some(&max), None, None).is_ok());
    }

    #[test]
    fn cookies_are_parsed_strictly() {
        let c = |h| cookie(Some(h), "at");
        assert_eq!(c("at=a.b.c"), Ok(Some("a.b.c")));
        assert_eq!(c("x=1; at=a.b.c; y=2"), Ok(Some("a.b.c")));
        assert_eq!(c("x=1;at=a.b.c"), Ok(Some("a.b.c")));
        assert_eq!(c("at=\"a.b.c\""), Ok(Some("a.b.c")));
        assert_eq!(c("at= a.b.c"), Ok(Some("a.b.c")));
        assert_eq!(c("xat=a.b.c; atx=1; AT=2"), Ok(None));
        assert_eq!(c("at="), Ok(None));
        assert_eq!(c("garbage; ;;"), Ok(None));
        assert_eq!(c("at=1; at=2").unwrap_err().status(), 400);
        assert_eq!(c("at=\"a.b.c").unwrap_err().status(), 400);
        assert_eq!(c("at=a=b"), Ok(Some("a=b")));
        assert_eq!(cookie(None, "at"), Ok(None));
        assert_eq!(sel(None, Some("at=1; at=2")), Err(400));
    }

    #[test]
    fn refresh_cookie_rules() {
        assert_eq!(
            refresh_cookie(Some("at=a; rt=opaque"), "rt"),
            Ok(Some("opaque"))
        );
        assert_eq!(refresh_cookie(Some("at=a; rt="), "rt"), Ok(None));
        assert_eq!(refresh_cookie(None, "rt"), Ok(None));
        assert_eq!(
            refresh_cookie(Some("rt=1; rt=2"), "rt")
                .unwrap_err()
                .status(),
            400
        );
        let huge = alloc::format!("rt={}", "r".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(refresh_cookie(Some(&huge), "rt").unwrap_err().status(), 400);
        // The cap itself is allowed: only longer is refused.
        let max = "r".repeat(MAX_TOKEN_LEN);
        let at_cap = alloc::format!("rt={max}");
        assert_eq!(refresh_cookie(Some(&at_cap), "rt"), Ok(Some(max.as_str())));
    }

    #[test]
    fn pat_prefix_never_captures_a_jwt() {
        assert!(is_pat("wdn_pat_0123", "wdn_pat_"));
        assert!(!is_pat("wdn_pat_0.1.2", "wdn_pat_"));
        assert!(!is_pat("eyJhbGciOi.e30.sig", "ey"));
        assert!(!is_pat("wdn_0123", "wdn_pat_"));
    }
}
