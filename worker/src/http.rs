//! JSON responses shared by the request path and the admin API, and the one way the worker
//! builds an outbound request.

use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{Request, Response, Result};

use crate::fields::{fields, object, text, Field};

/// An outbound request (the token endpoint, a JWKS, a Durable Object), built on web-sys directly:
/// never follows redirects, `no_store` bypasses the HTTP cache. `worker::Request::new_with_init`
/// would convert every Cloudflare-specific option (`cf`) on each call, code Warden never needs.
pub fn outbound(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    no_store: bool,
) -> Result<Request> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if no_store {
        init.set_cache(web_sys::RequestCache::NoStore);
    }
    if !headers.is_empty() {
        let h = web_sys::Headers::new()?;
        for (name, value) in headers {
            h.set(name, value)?;
        }
        init.set_headers(&h);
    }
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    Ok(web_sys::Request::new_with_str_and_init(url, &init)?.into())
}

/// A fetched response's whole body, read with one `arrayBuffer()`. workers-rs's
/// `Response::bytes` reads a fetched body chunk by chunk through a stream adapter (wasm-streams and
/// a fold over its chunks): slower, and code the worker would carry for nothing else.
pub async fn body(resp: Response) -> Result<Vec<u8>> {
    let buffer =
        wasm_bindgen_futures::JsFuture::from(web_sys::Response::from(resp).array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A fetched response's whole body as UTF-8 text: an error, not a replacement character, for
/// bytes that are not UTF-8 (as workers-rs's `Response::text`).
pub async fn body_text(resp: Response) -> Result<String> {
    String::from_utf8(body(resp).await?)
        .map_err(|_| worker::Error::RustError("the body is not UTF-8".into()))
}

/// A JSON response with `status`, never cached.
pub fn json_response(status: u16, body: &Value) -> Result<Response> {
    let mut resp = Response::from_bytes(text(body).into_bytes())?.with_status(status);
    resp.headers_mut().set("content-type", "application/json")?;
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

/// [`json_response`] of the object with `fields` (`&fields!{"key": value, ...}`).
#[inline(never)]
pub fn json_object(status: u16, fields: &[(&str, Field<'_>)]) -> Result<Response> {
    json_response(status, &object(fields))
}

/// 405 with the `Allow` header.
pub fn method_not_allowed(allow: &str) -> Result<Response> {
    let mut resp = json_object(
        405,
        &fields! {"error": "method_not_allowed", "allow": allow},
    )?;
    resp.headers_mut().set("allow", allow)?;
    Ok(resp)
}

/// 400 `invalid_request`, saying why.
pub fn bad_request(why: &str) -> Result<Response> {
    json_object(
        400,
        &fields! {"error": "invalid_request", "error_description": why},
    )
}
