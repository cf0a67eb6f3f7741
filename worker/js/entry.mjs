// Warden's entry module (built as build/index.js; the workers-rs module beside it is
// build/warden.js). Every request comes here first and the core decides what becomes of it
// (`warden_decide`, worker/src/edge.rs): this module only reads the request's method, URL,
// header names and three headers, and carries out the answer — so the request and response
// objects never cross into WebAssembly. The admin API (which reads the body), the test routes,
// the cron trigger and the Durable Object stay in workers-rs.
import WardenRs, { WardenSessions } from "./warden.js";

export { WardenSessions };

// workers-rs puts every wasm export on its entrypoint's prototype (as RPC methods): take the
// four this module calls, and take them off it.
const rs = WardenRs.prototype;
const decide = rs.warden_decide;
const resume = rs.warden_resume;
const originError = rs.warden_origin_error;
const stateEpoch = rs.warden_epoch;
delete rs.warden_decide;
delete rs.warden_resume;
delete rs.warden_origin_error;
delete rs.warden_epoch;
if ([decide, resume, originError, stateEpoch].some((f) => typeof f !== "function")) {
  throw new Error(
    "build/warden.js does not export warden_decide, warden_resume, warden_origin_error and warden_epoch: rebuild the worker",
  );
}

// Replayed decisions (edge.rs, `warden_decide`): a forward the core marked replayable holds for
// an identical request within the same clock second while the isolate's state epoch is
// unchanged. The map starts over when either moves, and holds at most REPLAY_MAX answers to
// requests of at most REPLAY_KEY_MAX characters of method, URL and headers (256 KiB at most).
const REPLAY_MAX = 64;
const REPLAY_KEY_MAX = 4096;
const replays = new Map();
let replaySecond = -1;
let replayEpoch = -1;

/**
 * The SHA-256 fingerprint (hex) of the client certificate the zone verified (RFC 8705
 * mTLS-bound tokens), or null. `decide` asks for it only for a token bound to a certificate:
 * reading `request.cf` cost a repeated request about as much CPU in the isolate as its fetch
 * (`make profile-worker PROFILE_ARGS="--mode repeat"`).
 */
function clientCert(request) {
  const tls = request.cf?.tlsClientAuth;
  return tls?.certVerified === "SUCCESS" && typeof tls.certFingerprintSHA256 === "string" ? tls.certFingerprintSHA256 : null;
}

/** The workers-rs handlers, constructed as workerd would (its hooks reinitialise the module after a panic). */
function workersRs(env, ctx) {
  return new WardenRs(ctx, env);
}

async function handle(request, env, ctx) {
  const headers = request.headers;
  const method = request.method;
  const url = request.url;
  const authorization = headers.get("authorization");
  const cookie = headers.get("cookie");
  const preflight = headers.has("access-control-request-method");
  const names = [...headers.keys()].join(" ");
  // Repeated headers are joined with ", ": a compact JWS has no comma, so two DPoP headers show.
  const dpop = headers.get("dpop");
  // Every fact passed to `decide`, none with a line break, absent ones told apart from present
  // ones: one spelling per request. (A DPoP decision is never replayable anyway; nor is one that
  // read the client certificate, the only decisions that depend on it: not in the key.)
  const key = `${method}\n${url}\n${authorization === null ? "-" : `+${authorization}`}\n${
    cookie === null ? "-" : `+${cookie}`
  }\n${preflight ? 1 : 0}\n${names}\n${dpop === null ? "-" : `+${dpop}`}`;
  let plan;
  try {
    const second = Math.floor(Date.now() / 1000);
    const epoch = stateEpoch();
    if (second !== replaySecond || epoch !== replayEpoch) {
      replays.clear();
      replaySecond = second;
      replayEpoch = epoch;
    }
    plan = replays.get(key);
    if (plan === undefined) {
      plan = decide(env, ctx, method, url, authorization, cookie, preflight, names, dpop, () => clientCert(request));
      // [promise, index]: the decision waits for a WebCrypto signature check (a token or DPoP
      // proof not seen before); it goes on with how the promise settled (edge.rs, `handoff`).
      while (Array.isArray(plan)) {
        let fulfilled = true;
        let value;
        try {
          value = await plan[0];
        } catch (e) {
          fulfilled = false;
          value = e;
        }
        plan = resume(plan, fulfilled, value);
      }
      // A Promise when the decision needs other I/O (a KV read, a key fetch, a refresh).
      if (typeof plan?.then === "function") plan = await plan;
      else if (
        typeof plan === "string" &&
        plan.startsWith("1\n") &&
        replays.size < REPLAY_MAX &&
        key.length <= REPLAY_KEY_MAX
      ) {
        replays.set(key, plan);
      }
    }
  } catch (e) {
    // A fault inside the module (a panic): constructing the workers-rs entrypoint reinitialises
    // it for the next request; this one is refused, never forwarded unchecked.
    console.error("warden: fault in the request path", e);
    replays.clear();
    replayEpoch = -1;
    workersRs(env, ctx);
    return Response.json(
      { error: "server_error", error_description: "internal error" },
      { status: 500, headers: { "cache-control": "no-store" } },
    );
  }
  if (plan === null) return workersRs(env, ctx).fetch(request);
  if (typeof plan !== "string") return plan; // a refusal, already audited
  // Forward: the replay flag, the origin's URL, the client headers to drop, the headers to
  // set, then the headers to add to the origin's answer, as name and value lines (edge.rs,
  // `plan`).
  const lines = plan.split("\n");
  const out = new Headers(headers);
  if (lines[2] !== "") for (const name of lines[2].split(" ")) out.delete(name);
  let i = 4;
  for (const end = 4 + 2 * Number(lines[3]); i < end; i += 2) out.set(lines[i], lines[i + 1]);
  const init = { method, headers: out, redirect: "manual" };
  if (method !== "GET" && method !== "HEAD") init.body = request.body;
  let response;
  try {
    response = await fetch(lines[1], init);
  } catch (e) {
    return originError(String(e?.message ?? e));
  }
  if (i < lines.length) {
    response = new Response(response.body, response); // a fetched response's headers are immutable
    for (; i + 1 < lines.length; i += 2) response.headers.append(lines[i], lines[i + 1]);
  }
  return response;
}

export default {
  fetch: handle,
  scheduled(event, env, ctx) {
    return workersRs(env, ctx).scheduled(event);
  },
};
