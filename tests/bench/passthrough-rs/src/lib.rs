//! A pass-through worker in Rust (workers-rs) for `make bench-edge`: every request goes to
//! `ORIGIN` with its method, path, query and headers (`host` left out), the origin's answer comes
//! back untouched. No checks, no KV, no state: the baseline of a workers-rs worker.

use worker::*;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let origin = env.var("ORIGIN")?.to_string();
    let url = req.url()?;
    let mut target = format!("{}{}", origin, url.path());
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if name != "host" {
            headers.append(&name, &value)?;
        }
    }
    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(method, Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(Into::into));
    }
    Fetch::Request(Request::new_with_init(&target, &init)?)
        .send()
        .await
}
