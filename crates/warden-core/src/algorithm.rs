//! JWS algorithms Warden verifies.

use core::fmt;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A JWS signature algorithm (RFC 7518, RFC 8037). `none` is deliberately absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// EdDSA on Ed25519.
    EdDSA,
}

impl Algorithm {
    /// Every algorithm Warden knows, in a stable order.
    pub const ALL: [Algorithm; 12] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The registered name, exactly as it appears in a JOSE header.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Looks up a name case-sensitively: `hs256` or `NONE` are not algorithms.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// For HMAC algorithms, the hash output length, which is also the minimum key length.
    pub const fn hmac_len(self) -> Option<usize> {
        match self {
            Self::HS256 => Some(32),
            Self::HS384 => Some(48),
            Self::HS512 => Some(64),
            _ => None,
        }
    }

    /// Whether the algorithm uses a shared secret (HMAC) rather than a public key.
    pub const fn is_symmetric(self) -> bool {
        self.hmac_len().is_some()
    }
}

/// Why a name is not in [`Algorithm::ALL`], for an error message.
fn unknown(name: &str) -> String {
    let mut why = format!("{name:?} is not a supported algorithm (one of ");
    for (i, alg) in Algorithm::ALL.iter().enumerate() {
        if i > 0 {
            why.push_str(", ");
        }
        why.push_str(alg.name());
    }
    why.push(')');
    why
}

impl Algorithm {
    /// The algorithms `names` name, in order, each once. Every name must be one of
    /// [`Algorithm::ALL`]'s, exactly (an empty list is an empty allowlist: nothing passes);
    /// the error says which is not, and lists the supported ones.
    ///
    /// ```
    /// use warden_core::Algorithm;
    /// assert_eq!(Algorithm::list(["ES256", "HS256", "ES256"]), Ok(vec![Algorithm::ES256, Algorithm::HS256]));
    /// assert!(Algorithm::list(["none"]).is_err());
    /// ```
    pub fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Algorithm>, String> {
        let mut out = Vec::new();
        for name in names {
            let alg = Self::from_name(name).ok_or_else(|| unknown(name))?;
            if !out.contains(&alg) {
                out.push(alg);
            }
        }
        Ok(out)
    }

    /// An allowlist written as text (`WARDEN_ALGORITHMS`): names separated by commas, blanks
    /// around them ignored; it must name at least one algorithm. The error says what is wrong.
    ///
    /// ```
    /// use warden_core::Algorithm;
    /// assert_eq!(Algorithm::parse_allowlist(" ES256, HS256,"), Ok(vec![Algorithm::ES256, Algorithm::HS256]));
    /// assert!(Algorithm::parse_allowlist(" , ").is_err());
    /// ```
    pub fn parse_allowlist(text: &str) -> Result<Vec<Algorithm>, String> {
        let out = Self::list(text.split(',').map(str::trim).filter(|n| !n.is_empty()))?;
        if out.is_empty() {
            return Err(String::from("lists no algorithm"));
        }
        Ok(out)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn lists() {
        assert_eq!(
            Algorithm::list(["ES256", "HS256", "ES256"]),
            Ok(vec![Algorithm::ES256, Algorithm::HS256])
        );
        assert_eq!(Algorithm::list([]), Ok(vec![]));
        let e = Algorithm::list(["RS256", "hs256"]).unwrap_err();
        assert!(
            e.starts_with("\"hs256\" is not a supported algorithm (one of HS256, "),
            "{e}"
        );
        assert!(e.ends_with(", EdDSA)"), "{e}");
        assert!(Algorithm::list([""]).is_err());
    }

    #[test]
    fn allowlists() {
        assert_eq!(
            Algorithm::parse_allowlist("ES256, HS256,ES256"),
            Ok(vec![Algorithm::ES256, Algorithm::HS256])
        );
        assert_eq!(
            Algorithm::parse_allowlist(" ,, "),
            Err(String::from("lists no algorithm"))
        );
        assert!(Algorithm::parse_allowlist("RS256,none").is_err());
    }
}
