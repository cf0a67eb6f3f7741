// Warden's entry module (built as build/index.js; the workers-rs module beside it is
// build/warden.js). Every request comes here first and the core decides what becomes of it
// (`warden_decide`, worker/src/edge.rs): this module only reads the request's method, URL,
// header names and three headers, and carries out the answer — so the request and response
// objects never cross into WebAssembly. The admin API (which reads the body), the test routes,
// the cron trigger and the Durable Object stay in workers-rs.
import WardenRs, { WardenSessions } from "./warden.js";

export { WardenSessions };

// workers-rs puts every wasm export on its entrypoint's prototype (as RPC methods): take the
// two this module calls, and take them off it.
const rs = WardenRs.prototype;
const decide = rs.warden_decide;
const originError = rs.warden_origin_error;
delete rs.warden_decide;
delete rs.warden_origin_error;
if (typeof decide !== "function" || typeof originError !== "function") {
  throw new Error("build/warden.js does not export warden_decide and warden_origin_error: rebuild the worker");
}

/** The workers-rs handlers, constructed as workerd would (its hooks reinitialise the module after a panic). */
function workersRs(env, ctx) {
  return new WardenRs(ctx, env);
}

async function handle(request, env, ctx) {
  const headers = request.headers;
  let plan;
  try {
    plan = decide(
      env,
      ctx,
      request.method,
      request.url,
      headers.get("authorization"),
      headers.get("cookie"),
      headers.has("access-control-request-method"),
      [...headers.keys()].join(" "),
    );
    // A Promise only when the decision needs I/O (a new token, a KV read, a refresh).
    if (typeof plan?.then === "function") plan = await plan;
  } catch (e) {
    // A fault inside the module (a panic): constructing the workers-rs entrypoint reinitialises
    // it for the next request; this one is refused, never forwarded unchecked.
    console.error("warden: fault in the request path", e);
    workersRs(env, ctx);
    return Response.json(
      { error: "server_error", error_description: "internal error" },
      { status: 500, headers: { "cache-control": "no-store" } },
    );
  }
  if (plan === null) return workersRs(env, ctx).fetch(request);
  if (typeof plan !== "string") return plan; // a refusal, already audited
  // Forward: the origin's URL, the client headers to drop, the headers to set, then the
  // Set-Cookie values to add to the origin's answer (edge.rs, `plan`).
  const lines = plan.split("\n");
  const out = new Headers(headers);
  if (lines[1] !== "") for (const name of lines[1].split(" ")) out.delete(name);
  let i = 3;
  for (const end = 3 + 2 * Number(lines[2]); i < end; i += 2) out.set(lines[i], lines[i + 1]);
  const init = { method: request.method, headers: out, redirect: "manual" };
  if (request.method !== "GET" && request.method !== "HEAD") init.body = request.body;
  let response;
  try {
    response = await fetch(lines[0], init);
  } catch (e) {
    return originError(String(e?.message ?? e));
  }
  if (i < lines.length) {
    response = new Response(response.body, response); // a fetched response's headers are immutable
    for (; i < lines.length; i++) response.headers.append("set-cookie", lines[i]);
  }
  return response;
}

export default {
  fetch: handle,
  scheduled(event, env, ctx) {
    return workersRs(env, ctx).scheduled(event);
  },
};
