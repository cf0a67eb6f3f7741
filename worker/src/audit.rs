//! Audit lines: one structured JSON line per deny, revoke, reap and fail-open allow. Ids, never
//! secrets (tokens, admin or origin secrets, PAT secrets).

use serde_json::{json, Value};

/// The line for `event`: its fields with nulls dropped, plus `"warden": "audit"` so log
/// pipelines can pick Warden's audit lines out.
pub fn line(mut event: Value) -> String {
    if let Some(obj) = event.as_object_mut() {
        obj.insert("warden".into(), json!("audit"));
        obj.retain(|_, v| !v.is_null());
    }
    event.to_string()
}

/// Writes the audit line for `event` to the worker's log (`console.log`).
#[cfg(target_arch = "wasm32")]
pub fn audit(event: Value) {
    worker::console_log!("{}", line(event));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_dropped_and_tagged() {
        let l = line(json!({"event": "deny", "sub": null, "jti": "j1"}));
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v, json!({"event": "deny", "jti": "j1", "warden": "audit"}));
    }
}
