//! Finding the token in a request.

use warden_core::Denial;

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
    if value.len() >= 6 && value[..6].eq_ignore_ascii_case("bearer") {
        return Err(Denial::InvalidRequest("malformed Bearer authorization"));
    }
    Ok(None) // another scheme: no bearer credentials (RFC 6750 §3.1)
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
    }
}
