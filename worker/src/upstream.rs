//! How an allowed request goes on to the origin: the identity headers the gate computed, the
//! cookie after a refresh, and the forwarding plan the entry module carries out
//! (`edge::warden_decide`). Strings only, no I/O: tested natively.

use warden_core::{identity_headers, is_reserved_header, Binding, Forward};

use crate::config::Config;

/// Response header carrying a server nonce for DPoP proofs (RFC 9449 §8).
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";

/// How an allowed request goes on to the origin.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    /// The gate's identity headers; `None`: anonymous (a public path), only `x-warden-auth`.
    pub identity: Option<Forward>,
    /// Replaces the `Cookie` header (after a refresh: the new pair).
    pub cookie: Option<String>,
    /// `Set-Cookie` values added to the origin's answer (after a refresh).
    pub set_cookies: Vec<String>,
    /// Other headers added to the origin's answer (`DPoP-Nonce`).
    pub answer_headers: Vec<(&'static str, String)>,
    /// The decision had no side effect to repeat (no audit line, no session to register, no
    /// cookie to set): the entry module may replay it for an identical request
    /// (`edge::warden_decide`).
    pub replayable: bool,
}

impl Upstream {
    /// A public path: no identity.
    pub fn anonymous() -> Self {
        Upstream::default()
    }

    /// An allowed credential (with the current `DPoP-Nonce` for a DPoP request when nonces
    /// are on). A sender-constrained decision is never replayed: a proof is used once.
    pub fn identified(f: Forward) -> Self {
        let mut answer_headers = Vec::new();
        if let Some(Binding::Dpop {
            nonce: Some(nonce), ..
        }) = &f.binding
        {
            answer_headers.push((DPOP_NONCE_HEADER, nonce.clone()));
        }
        Upstream {
            identity: Some(f),
            answer_headers,
            ..Upstream::default()
        }
    }

    /// Whether the identity is sender-constrained (DPoP or mTLS).
    pub fn bound(&self) -> bool {
        self.identity.as_ref().is_some_and(|f| f.binding.is_some())
    }

    /// The origin's URL for the request's `path` and `query`.
    pub fn target(config: &Config, path: &str, query: Option<&str>) -> String {
        let query_len = query.map_or(0, |q| q.len() + 1);
        let mut target = String::with_capacity(config.origin.len() + path.len() + query_len);
        target.push_str(&config.origin);
        target.push_str(path);
        if let Some(q) = query {
            target.push('?');
            target.push_str(q);
        }
        target
    }

    /// Whether a client header reaches the origin: not one that [`is_reserved_header`]
    /// (identity is Warden's to say), not `host` (the origin's URL sets it).
    pub fn passes(name: &str) -> bool {
        !is_reserved_header(name) && name != "host"
    }

    /// Calls `each` with the headers Warden sets, after the client's that [`Upstream::passes`]:
    /// the identity (or `x-warden-auth` alone, for an anonymous request), then `cookie` after
    /// a refresh; returns how many.
    pub fn headers(&self, config: &Config, mut each: impl FnMut(&str, &str)) -> usize {
        let anonymous;
        let identity = match &self.identity {
            Some(f) => &f.headers,
            None => {
                anonymous = identity_headers(None, config.gate.origin_secret.as_deref());
                &anonymous
            }
        };
        for (name, value) in identity {
            each(name, value);
        }
        if let Some(cookie) = &self.cookie {
            each("cookie", cookie);
        }
        identity.len() + usize::from(self.cookie.is_some())
    }

    /// The forwarding plan the entry module carries out (`edge::warden_decide`), as lines: the
    /// origin's URL; the client header names (of `names`, space-separated as `Headers.keys()`
    /// gives them) that do not [pass](Upstream::passes), space-separated; the number `n` of
    /// [headers Warden sets](Upstream::headers); `n` name and value line pairs; then name and
    /// value line pairs to add to the origin's answer (`set-cookie`, `dpop-nonce`). No part can
    /// hold a line break: URLs are serialised, header names are tokens, identity values,
    /// cookies and nonces are checked or base64url.
    pub fn plan(&self, config: &Config, path: &str, query: Option<&str>, names: &str) -> String {
        let mut out = Upstream::target(config, path, query);
        out.push('\n');
        let mut first = true;
        for name in names
            .split(' ')
            .filter(|n| !n.is_empty() && !Upstream::passes(n))
        {
            if !first {
                out.push(' ');
            }
            out.push_str(name);
            first = false;
        }
        let pair = |out: &mut String, name: &str, value: &str| {
            for part in ["\n", name, "\n", value] {
                out.push_str(part);
            }
        };
        let mut set = String::new();
        let count = self.headers(config, |name, value| pair(&mut set, name, value));
        out.push('\n');
        out.push_str(&count.to_string());
        out.push_str(&set);
        for c in &self.set_cookies {
            pair(&mut out, "set-cookie", c);
        }
        for (name, value) in &self.answer_headers {
            pair(&mut out, name, value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::{Grant, TokenClass};

    fn load(secret: Option<&str>) -> Config {
        let jwks = r#"{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;
        Config::from_vars(|k| match k {
            "WARDEN_ORIGIN" => Some("https://origin.example/".into()),
            "WARDEN_JWKS" => Some(jwks.into()),
            "WARDEN_ORIGIN_SECRET" => secret.map(Into::into),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn plan_lines() {
        let grant = Grant {
            subject: Some("u1".into()),
            session: None,
            token_id: Some("t1".into()),
            scope: None,
            class: TokenClass::Session,
            expires_at: 99,
        };
        let up = Upstream {
            identity: Some(Forward {
                headers: identity_headers(Some(&grant), None),
                grant,
                fail_open: false,
                register_session: false,
                binding: None,
            }),
            cookie: Some("at=new".into()),
            set_cookies: vec!["at=new; Path=/".into(), "rt=x; Path=/".into()],
            answer_headers: vec![(DPOP_NONCE_HEADER, "n1".into())],
            replayable: false,
        };
        let config = load(None);
        assert_eq!(
            up.plan(
                &config,
                "/a/b",
                Some("q=1"),
                "accept x-warden-sub host  cookie X_Warden_Jti"
            ),
            "https://origin.example/a/b?q=1\n\
             x-warden-sub host X_Warden_Jti\n\
             5\n\
             x-warden-sub\nu1\n\
             x-warden-jti\nt1\n\
             x-warden-exp\n99\n\
             x-warden-class\nsession\n\
             cookie\nat=new\n\
             set-cookie\nat=new; Path=/\n\
             set-cookie\nrt=x; Path=/\n\
             dpop-nonce\nn1"
        );
        // The client headers that do not pass (to be dropped) are listed, in their spelling.
        // Anonymous: only the origin secret, when one is set.
        let secret = load(Some("s3cret-s3cret-s3cret-s3cret-s3cret"));
        assert_eq!(
            Upstream::anonymous().plan(&secret, "/", None, ""),
            "https://origin.example/\n\n1\nx-warden-auth\ns3cret-s3cret-s3cret-s3cret-s3cret"
        );
        assert_eq!(
            Upstream::anonymous().plan(&config, "/p", None, "accept x-warden-class"),
            "https://origin.example/p\nx-warden-class\n0"
        );
    }
}
