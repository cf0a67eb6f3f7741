//! What the origin receives after an allow: identity values that HTTP carries unchanged, the
//! scope check, and which client headers are Warden's own.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::denial::Denial;
use crate::grant::Grant;

/// Prefix of every header Warden sets for the origin.
pub const IDENTITY_PREFIX: &str = "x-warden-";

/// Whether a client header is one of Warden's own and must be removed before forwarding: its
/// name, with ASCII case folded and `_` read as `-`, begins with `x-warden-`. CGI, WSGI and Rack
/// servers read `x_warden_sub` as `HTTP_X_WARDEN_SUB`, the same variable as `x-warden-sub`.
pub fn is_reserved_header(name: &str) -> bool {
    let name = name.as_bytes();
    name.len() >= IDENTITY_PREFIX.len()
        && name
            .iter()
            .zip(IDENTITY_PREFIX.as_bytes())
            .all(|(&got, &want)| {
                let got = if got == b'_' {
                    b'-'
                } else {
                    got.to_ascii_lowercase()
                };
                got == want
            })
}

/// Whether `value` reaches the origin unchanged through HTTP: not empty, no leading or
/// trailing space or tab (HTTP trims them), no control character (HTTP refuses or splits on
/// them). Non-ASCII is carried percent-encoded by [`header_value`], so it stays distinct.
pub fn is_identity_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if matches!(first, b' ' | b'\t') || matches!(last, b' ' | b'\t') {
        return false;
    }
    // The control characters (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F) read off the UTF-8
    // bytes: C0 and DEL are single bytes; U+0080–U+009F are 0xC2 followed by 0x80–0x9F.
    let mut after_c2 = false;
    for &b in bytes {
        if b < 0x20 || b == 0x7f || (after_c2 && (0x80..=0x9f).contains(&b)) {
            return false;
        }
        after_c2 = b == 0xc2;
    }
    true
}

/// Whether `scope` is RFC 6749 §3.3 scope tokens (`%x21 / %x23-5B / %x5D-7E`) separated by
/// exactly one space. The empty string (no scopes) is accepted.
pub fn is_scope_list(scope: &str) -> bool {
    scope.is_empty() || scope.split(' ').all(is_scope_token)
}

/// Whether `s` is one RFC 6749 §3.3 scope token.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// Checks every value of `grant` that becomes an identity header: `sub`, `sid`, `jti` must be
/// [identity values](is_identity_value), `scope` a [scope list](is_scope_list). Otherwise the
/// credential is refused (`401 invalid_token`, code `token_claim_invalid`): two different
/// subjects must never reach the origin as one.
pub fn check_identity(grant: &Grant) -> Result<(), Denial> {
    let ids = [
        ("sub", grant.subject.as_deref()),
        ("sid", grant.session.as_deref()),
        ("jti", grant.token_id.as_deref()),
    ];
    if let Some((name, _)) = ids
        .iter()
        .find(|(_, v)| v.is_some_and(|v| !is_identity_value(v)))
    {
        return Err(Denial::ClaimInvalid(name));
    }
    if grant.scope.as_deref().is_some_and(|s| !is_scope_list(s)) {
        return Err(Denial::ClaimInvalid("scope"));
    }
    Ok(())
}

/// The scopes of a grant (an unchecked `scope` value is split on single spaces only).
pub fn scopes(scope: Option<&str>) -> impl Iterator<Item = &str> {
    scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
}

/// The required scopes `grant` lacks, or `Ok` when it has them all.
pub fn check_scopes(grant: &Grant, required: &[&str]) -> Result<(), Denial> {
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|want| !scopes(grant.scope.as_deref()).any(|have| have == *want))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Denial::InsufficientScope {
            scope: missing.join(" "),
        })
    }
}

/// A header-safe, lossless form of an identity value: `%` and non-ASCII bytes are
/// percent-encoded (UTF-8), everything else is unchanged — so ordinary ids arrive as they are,
/// and any value decodes back exactly with `decodeURIComponent`. (Control characters never get
/// here: [`check_identity`] refuses them; they would be encoded too.)
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
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    Cow::Owned(out)
}

/// The identity headers for `grant` (none for a public path or a preflight) and, when set,
/// `x-warden-auth` with the origin secret.
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
        out.push(("x-warden-class", g.class.name().into()));
        let scopes = scopes(g.scope.as_deref()).collect::<Vec<_>>().join(" ");
        if !scopes.is_empty() {
            out.push(("x-warden-scopes", header_value(&scopes).into_owned()));
        }
    }
    if let Some(secret) = origin_secret {
        out.push(("x-warden-auth", secret.into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::TokenClass;

    fn grant(sub: &str, scope: Option<&str>) -> Grant {
        Grant {
            subject: Some(sub.into()),
            session: None,
            token_id: Some("j-1".into()),
            scope: scope.map(String::from),
            class: TokenClass::Access,
            expires_at: 1_700_000_000,
        }
    }

    #[test]
    fn reserved_headers_in_every_spelling() {
        for name in [
            "x-warden-sub",
            "X-Warden-Sub",
            "x_warden_sub",
            "X_WARDEN_SUB",
            "x-warden_sub",
            "x_warden-auth",
            "x-warden-",
        ] {
            assert!(is_reserved_header(name), "{name}");
        }
        for name in [
            "x-warden",
            "x-wardens-sub",
            "xwarden-sub",
            "warden-sub",
            "",
            "x-ward",
        ] {
            assert!(!is_reserved_header(name), "{name}");
        }
    }

    #[test]
    fn identity_values_http_would_alter_are_refused() {
        for bad in [
            " admin", "admin ", "\tadmin", "ad\tmin", "admin\0", "a\r\nb", "", "a\u{85}",
        ] {
            let d = check_identity(&grant(bad, None)).unwrap_err();
            assert_eq!(d.code(), "token_claim_invalid", "{bad:?}");
            assert_eq!(d.status(), 401);
        }
        for good in [
            "admin",
            "alice@example.com",
            "John Smith",
            "zoë",
            "a%b",
            "ü",
        ] {
            assert_eq!(check_identity(&grant(good, None)), Ok(()), "{good:?}");
        }
        let g = Grant {
            session: Some(" s".into()),
            ..grant("a", None)
        };
        assert_eq!(check_identity(&g), Err(Denial::ClaimInvalid("sid")));
        let g = Grant {
            token_id: Some("j\n".into()),
            ..grant("a", None)
        };
        assert_eq!(check_identity(&g), Err(Denial::ClaimInvalid("jti")));
    }

    #[test]
    fn scope_lists_are_single_space_separated() {
        for good in ["", "read", "read write", "billing:read admin", "a!#[]^~"] {
            assert!(is_scope_list(good), "{good:?}");
            assert_eq!(check_identity(&grant("a", Some(good))), Ok(()));
        }
        for bad in [
            "read\twrite",
            " read",
            "read ",
            "read  write",
            "re\"ad",
            "re\\ad",
            "lé",
        ] {
            assert!(!is_scope_list(bad), "{bad:?}");
            assert_eq!(
                check_identity(&grant("a", Some(bad))),
                Err(Denial::ClaimInvalid("scope"))
            );
        }
    }

    #[test]
    fn two_subjects_never_share_a_header_value() {
        let subjects = [
            "zoë",
            "zo%C3%AB",
            "zo%25C3%25AB",
            "a b",
            "a%20b",
            "%",
            "%25",
        ];
        let values: Vec<String> = subjects
            .iter()
            .map(|s| header_value(s).into_owned())
            .collect();
        for (i, a) in values.iter().enumerate() {
            for b in &values[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(header_value("zoë"), "zo%C3%AB");
        assert_eq!(header_value("zo%C3%AB"), "zo%25C3%25AB");
        assert_eq!(header_value("alice@example.com"), "alice@example.com");
    }

    #[test]
    fn headers_and_scopes() {
        let h = identity_headers(Some(&grant("alice", Some("read write"))), Some("s3cret"));
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("x-warden-sub"), Some("alice"));
        assert_eq!(get("x-warden-sid"), None);
        assert_eq!(get("x-warden-jti"), Some("j-1"));
        assert_eq!(get("x-warden-exp"), Some("1700000000"));
        assert_eq!(get("x-warden-class"), Some("access"));
        assert_eq!(get("x-warden-scopes"), Some("read write"));
        assert_eq!(get("x-warden-auth"), Some("s3cret"));
        assert!(h.iter().all(|(k, _)| is_reserved_header(k)));
        assert!(identity_headers(None, None).is_empty());
        let g = grant("a", Some("read billing:read"));
        assert_eq!(check_scopes(&g, &["billing:read"]), Ok(()));
        assert_eq!(
            check_scopes(&g, &["admin", "read", "x"])
                .unwrap_err()
                .scope(),
            Some("admin x")
        );
        assert!(check_scopes(&grant("a", None), &["read"]).is_err());
        assert_eq!(check_scopes(&grant("a", None), &[]), Ok(()));
        assert!(check_scopes(&grant("a", Some("billing")), &["billing:read"]).is_err());
        // A tab never separates scopes.
        assert!(check_scopes(&grant("a", Some("x\tadmin")), &["admin"]).is_err());
    }
}

#[cfg(test)]
mod value_tests {
    use super::is_identity_value;

    /// The definition the byte scan implements.
    fn by_chars(value: &str) -> bool {
        !value.is_empty()
            && !value.starts_with([' ', '\t'])
            && !value.ends_with([' ', '\t'])
            && !value.chars().any(char::is_control)
    }

    #[test]
    fn control_characters_at_every_boundary() {
        for (value, want) in [
            ("alice", true),
            ("", false),
            (" alice", false),
            ("alice\t", false),
            ("al ice", true),
            ("a\u{1f}b", false),
            ("a\u{7f}b", false),
            ("a\u{7e}b", true),
            ("a\u{80}b", false),
            ("a\u{9f}b", false),
            ("a\u{a0}b", true),
            ("\u{c2}\u{a0}", true), // Â then NBSP: 0xC3 0x82 0xC2 0xA0
            ("\u{100}\u{80}", false),
            ("\u{2028}", true), // a line separator is not Cc
        ] {
            assert_eq!(is_identity_value(value), want, "{value:?}");
            assert_eq!(by_chars(value), want, "{value:?}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::{by_chars, is_identity_value};
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

            #[test]
            fn the_byte_scan_is_the_char_definition(value in "[ \t\u{0}-\u{200}a-z]{0,12}") {
                prop_assert_eq!(is_identity_value(&value), by_chars(&value));
            }
        }
    }
}
