//! JSON responses shared by the request path and the admin API.

use serde_json::{json, Value};
use worker::{Response, Result};

/// A JSON response with `status`, never cached.
pub fn json_response(status: u16, body: &Value) -> Result<Response> {
    let mut resp = Response::from_json(body)?.with_status(status);
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

/// 405 with the `Allow` header.
pub fn method_not_allowed(allow: &str) -> Result<Response> {
    let mut resp = json_response(405, &json!({"error": "method_not_allowed", "allow": allow}))?;
    resp.headers_mut().set("allow", allow)?;
    Ok(resp)
}

/// 400 `invalid_request`, saying why.
pub fn bad_request(why: &str) -> Result<Response> {
    json_response(
        400,
        &json!({"error": "invalid_request", "error_description": why}),
    )
}
