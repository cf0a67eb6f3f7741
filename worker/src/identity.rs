//! What the origin receives after an allow: the identity headers, and the scope check that
//! comes first.

use std::borrow::Cow;

use warden_core::Grant;

/// Prefix of every header Warden sets for the origin; any a client sends are removed first.
pub const IDENTITY_PREFIX: &str = "x-warden-";

/// The identity headers for `grant` (none for a public path or a preflight) and, when set,
/// `x-warden-auth` with the origin secret. Values are percent-encoded where they are not
/// printable ASCII (see [`header_value`]).
pub fn identity_headers(
    grant: Option<&Grant>,
    origin_secret: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(g) = grant {
        let ids = [
            ("x-warden-sub", g.subject.as_deref()),
            ("x-warden-sid", g.session.as_deref()),
            ("x-warden-jti", g.token_id.as_deref()),
        ];
        for (name, value) in ids {
            if let Some(v) = value {
                out.push((name, header_value(v).into_owned()));
            }
        }
        out.push(("x-warden-exp", g.expires_at.to_string()));
        out.push(("x-warden-class", g.class.name().to_owned()));
        let scopes = scopes(g.scope.as_deref()).collect::<Vec<_>>().join(" ");
        if !scopes.is_empty() {
            out.push(("x-warden-scopes", header_value(&scopes).into_owned()));
        }
    }
    if let Some(secret) = origin_secret {
        out.push(("x-warden-auth", secret.to_owned()));
    }
    out
}

/// A header-safe form of an identifier: `%`, controls and non-ASCII bytes are percent-encoded
/// (UTF-8), everything else is unchanged — so ordinary ids arrive as they are, and any value
/// decodes back exactly with `decodeURIComponent`.
pub fn header_value(value: &str) -> Cow<'_, str> {
    let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'%';
    if value.bytes().all(plain) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

/// The scopes of a space-separated `scope` value.
pub fn scopes(scope: Option<&str>) -> impl Iterator<Item = &str> {
    scope
        .unwrap_or_default()
        .split([' ', '\t'])
        .filter(|s| !s.is_empty())
}

/// The required scopes `grant` lacks.
pub fn missing_scopes<'a>(grant: &Grant, required: &[&'a str]) -> Vec<&'a str> {
    required
        .iter()
        .copied()
        .filter(|want| !scopes(grant.scope.as_deref()).any(|have| have == *want))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::TokenClass;

    fn grant(scope: Option<&str>) -> Grant {
        Grant {
            subject: Some("alice".into()),
            session: None,
            token_id: Some("j-1".into()),
            scope: scope.map(String::from),
            class: TokenClass::Access,
            expires_at: 1_700_000_000,
        }
    }

    #[test]
    fn headers_for_a_grant() {
        let h = identity_headers(Some(&grant(Some(" read  write "))), Some("s3cret"));
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("x-warden-sub"), Some("alice"));
        assert_eq!(get("x-warden-sid"), None);
        assert_eq!(get("x-warden-jti"), Some("j-1"));
        assert_eq!(get("x-warden-exp"), Some("1700000000"));
        assert_eq!(get("x-warden-class"), Some("access"));
        assert_eq!(get("x-warden-scopes"), Some("read write"));
        assert_eq!(get("x-warden-auth"), Some("s3cret"));
        assert!(h.iter().all(|(k, _)| k.starts_with(IDENTITY_PREFIX)));
        let bare = identity_headers(None, None);
        assert!(bare.is_empty());
        let only_auth = identity_headers(None, Some("s"));
        assert_eq!(only_auth, vec![("x-warden-auth", "s".to_owned())]);
        let no_scope = identity_headers(Some(&grant(None)), None);
        assert!(!no_scope.iter().any(|(k, _)| *k == "x-warden-scopes"));
    }

    #[test]
    fn header_values_are_safe_and_reversible() {
        assert_eq!(header_value("alice@example.com"), "alice@example.com");
        assert_eq!(header_value("a%b"), "a%25b");
        assert_eq!(header_value("x\r\nevil: 1"), "x%0D%0Aevil: 1");
        assert_eq!(header_value("zoë"), "zo%C3%AB");
    }

    #[test]
    fn scope_checks() {
        let g = grant(Some("read billing:read"));
        assert!(missing_scopes(&g, &["billing:read"]).is_empty());
        assert_eq!(missing_scopes(&g, &["admin", "read"]), vec!["admin"]);
        assert_eq!(missing_scopes(&grant(None), &["read"]), vec!["read"]);
        assert!(missing_scopes(&grant(None), &[]).is_empty());
        // Prefix of a scope is not the scope.
        assert_eq!(
            missing_scopes(&grant(Some("billing")), &["billing:read"]),
            vec!["billing:read"]
        );
    }
}
