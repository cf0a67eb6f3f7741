//! Finding the token in a request: the exact `Authorization: Bearer ` prefix or the access
//! cookie, size-capped before anything decodes it; PATs told apart by their prefix.

use warden_core::{Denial, ParseError, MAX_TOKEN_LEN};

/// The bearer token of an `Authorization` header value (as the Fetch API joins repeated
/// headers: `", "`-separated). `Ok(None)`: no bearer credentials at all.
///
/// Only the exact `Bearer ` prefix is stripped (RFC 8725, SECURITY row 13); whatever follows is
/// handed to the strict parser untouched. Two headers, an empty token, or a mis-cased scheme are
/// malformed requests (400).
pub fn bearer(authorization: Option<&str>) -> Result<Option<&str>, Denial> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    if let Some(token) = value.strip_prefix("Bearer ") {
        if token.contains(',') {
            return Err(Denial::InvalidRequest("more than one Authorization header"));
        }
        if token.is_empty() {
            return Err(Denial::InvalidRequest("empty bearer token"));
        }
        return Ok(Some(token));
    }
    if value.len() >= 6
        && value
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    {
        return Err(Denial::InvalidRequest("malformed Bearer authorization"));
    }
    Ok(None) // another scheme: no bearer credentials (RFC 6750 §3.1)
}

/// The value of cookie `name` in a `Cookie` header (RFC 6265 §5.4 syntax: `name=value` pairs
/// separated by `;` and optional spaces; a value may be wrapped in double quotes).
/// `Ok(None)`: no such cookie, or an empty one (a cleared cookie). The same cookie twice is
/// ambiguous (cookie tossing from a sibling domain): a malformed request.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Result<Option<&'a str>, Denial> {
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
            return Err(Denial::InvalidRequest("more than one access cookie"));
        }
        let v = v.trim_start_matches([' ', '\t']);
        let v = match v.strip_prefix('"') {
            Some(inner) => inner
                .strip_suffix('"')
                .ok_or(Denial::InvalidRequest("malformed access cookie"))?,
            None => v,
        };
        found = Some(v);
    }
    Ok(found.filter(|v| !v.is_empty()))
}

/// The request's token: the `Authorization: Bearer` value, else the access cookie (when one is
/// configured). Refused as malformed, before any decoding, when longer than [`MAX_TOKEN_LEN`].
pub fn token<'a>(
    authorization: Option<&'a str>,
    cookie_header: Option<&'a str>,
    cookie_name: Option<&str>,
) -> Result<Option<&'a str>, Denial> {
    Ok(located(authorization, cookie_header, cookie_name)?.map(|(t, _)| t))
}

/// Where a request's token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `Authorization: Bearer`: an API client, which refreshes on its own.
    Bearer,
    /// The access cookie: a browser session, which the edge may refresh.
    Cookie,
}

/// Like [`token`], and says where the token came from.
pub fn located<'a>(
    authorization: Option<&'a str>,
    cookie_header: Option<&'a str>,
    cookie_name: Option<&str>,
) -> Result<Option<(&'a str, Source)>, Denial> {
    let found = match bearer(authorization)? {
        Some(t) => Some((t, Source::Bearer)),
        None => match cookie_name {
            Some(name) => cookie(cookie_header, name)?.map(|t| (t, Source::Cookie)),
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

/// A CORS preflight that carries no credentials: `OPTIONS` with
/// `Access-Control-Request-Method` and neither a bearer token nor the access cookie. It is
/// forwarded without a token (browsers never attach credentials to preflights).
pub fn is_preflight(is_options: bool, has_request_method: bool, has_credentials: bool) -> bool {
    is_options && has_request_method && !has_credentials
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_prefix_only() {
        assert_eq!(bearer(Some("Bearer abc.def.ghi")), Ok(Some("abc.def.ghi")));
        assert_eq!(bearer(None), Ok(None));
        assert_eq!(bearer(Some("Basic dXNlcjpwYXNz")), Ok(None));
        assert_eq!(bearer(Some("bearer abc")).unwrap_err().status(), 400);
        assert_eq!(bearer(Some("Bearer")).unwrap_err().status(), 400);
        assert_eq!(bearer(Some("Bearer ")).unwrap_err().status(), 400);
        assert_eq!(
            bearer(Some("Bearer a.b.c, Bearer d.e.f"))
                .unwrap_err()
                .status(),
            400
        );
        // Extra whitespace is not stripped: the parser refuses it as a malformed token.
        assert_eq!(bearer(Some("Bearer  abc")), Ok(Some(" abc")));
        // Non-ASCII never panics on the slice.
        assert_eq!(bearer(Some("Beäer x")), Ok(None));
        assert_eq!(bearer(Some("é")), Ok(None));
    }

    #[test]
    fn cookies_are_parsed_strictly() {
        fn c(h: &str) -> Result<Option<&str>, Denial> {
            cookie(Some(h), "at")
        }
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
        // A value with '=' keeps it (only the first '=' separates).
        assert_eq!(c("at=a=b"), Ok(Some("a=b")));
        assert_eq!(cookie(None, "at"), Ok(None));
    }

    #[test]
    fn bearer_first_then_cookie_and_size_cap() {
        assert_eq!(
            token(Some("Bearer h.c.s"), Some("at=x.y.z"), Some("at")),
            Ok(Some("h.c.s"))
        );
        assert_eq!(
            token(Some("Basic x"), Some("at=x.y.z"), Some("at")),
            Ok(Some("x.y.z"))
        );
        assert_eq!(token(None, Some("at=x.y.z"), None), Ok(None));
        assert_eq!(token(None, None, Some("at")), Ok(None));
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            token(Some(&huge), None, None).unwrap_err().code(),
            "token_malformed"
        );
        let huge_cookie = format!("at={}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            token(None, Some(&huge_cookie), Some("at"))
                .unwrap_err()
                .code(),
            "token_malformed"
        );
        let max = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN));
        assert!(token(Some(&max), None, None).is_ok());
    }

    #[test]
    fn sources_and_refresh_cookie() {
        assert_eq!(
            located(Some("Bearer h.c.s"), Some("at=x.y.z"), Some("at")),
            Ok(Some(("h.c.s", Source::Bearer)))
        );
        assert_eq!(
            located(None, Some("rt=r; at=x.y.z"), Some("at")),
            Ok(Some(("x.y.z", Source::Cookie)))
        );
        assert_eq!(located(None, Some("rt=r"), Some("at")), Ok(None));
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
        let huge = format!("rt={}", "r".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(refresh_cookie(Some(&huge), "rt").unwrap_err().status(), 400);
    }

    #[test]
    fn pat_prefix_never_captures_a_jwt() {
        assert!(is_pat("wdn_pat_0123", "wdn_pat_"));
        assert!(!is_pat("wdn_pat_0.1.2", "wdn_pat_"));
        assert!(!is_pat("eyJhbGciOi.e30.sig", "ey"));
        assert!(!is_pat("wdn_0123", "wdn_pat_"));
    }

    #[test]
    fn preflight() {
        assert!(is_preflight(true, true, false));
        assert!(!is_preflight(true, false, false));
        assert!(!is_preflight(true, true, true));
        assert!(!is_preflight(false, true, false));
    }
}
