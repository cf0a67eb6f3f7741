//! The ledger of received security events: which `jti`s of which issuer were applied, so that
//! a delivery repeated (a retry, a replay) is acknowledged again without being applied again.
//!
//! One KV record per event, `ev:<hex sha256(source, iss, jti)>`, written only after the
//! event's revocation was durably written and kept for [`LEDGER_SECONDS`]. A repeat after that
//! would change nothing anyway: a session revoked again stays revoked, a cutoff is never
//! lowered.

use warden_core::{hex, token_digest};

/// How long a received event's `jti` is remembered: seven days.
pub const LEDGER_SECONDS: u64 = 7 * 86_400;

/// The KV key of an event: `source` (`bcl` for back-channel logout, `ssf` for Shared Signals),
/// its issuer and its `jti`, hashed (ids of any length, no separator ambiguity).
pub fn ledger_key(source: &str, issuer: &str, jti: &str) -> String {
    let mut input = String::with_capacity(source.len() + issuer.len() + jti.len() + 2);
    for (i, part) in [source, issuer, jti].into_iter().enumerate() {
        if i > 0 {
            input.push('\0');
        }
        input.push_str(part);
    }
    format!("ev:{}", hex(&token_digest(&input)))
}

#[cfg(target_arch = "wasm32")]
pub use io::*;

#[cfg(target_arch = "wasm32")]
mod io {
    use serde_json::Value;
    use worker::Env;

    use super::LEDGER_SECONDS;
    use crate::store;

    /// Whether the event under `key` was applied already.
    pub async fn applied(env: &Env, key: &str) -> worker::Result<bool> {
        Ok(store::kv(env)?.get(key).text().await?.is_some())
    }

    /// Records the event under `key` as applied (`record`: what was done, for inspection).
    pub async fn record(env: &Env, key: &str, record: &Value, now: u64) -> worker::Result<()> {
        store::kv(env)?
            .put_bytes(key, record.to_string().as_bytes())?
            .expiration(now + LEDGER_SECONDS)
            .execute()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_sources_issuers_and_ids() {
        let k = ledger_key("bcl", "https://id.example", "j1");
        assert!(k.starts_with("ev:") && k.len() == 3 + 64, "{k}");
        assert_eq!(k, ledger_key("bcl", "https://id.example", "j1"));
        for other in [
            ledger_key("ssf", "https://id.example", "j1"),
            ledger_key("bcl", "https://id.example/", "j1"),
            ledger_key("bcl", "https://id.example", "j2"),
            ledger_key("bcl", "https://id.examplej", "1"),
        ] {
            assert_ne!(k, other);
        }
    }
}
