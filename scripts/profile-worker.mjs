// `make profile-worker`: where the worker spends its time, under V8's sampling profiler in
// workerd (Miniflare), reached through workerd's inspector on a loopback port; prints each
// function's share of the samples, by itself ("self") and with what it calls ("inclusive").
//   --mode cached | uncached: the bench route's loop (`POST /__warden/bench`, worker/src/bench.rs:
//     `protect::decide` and the forwarding plan, for a cached hit or an uncached token), nothing
//     else; --alg picks the token's algorithm.
//   --mode requests: whole requests, one at a time, each with a fresh ES256 token from the demo
//     origin (tests/origin/server.mjs, on loopback, in this process), through the entry module,
//     the decision, the fetch to the origin and the answer: the glue too. V8's "(idle)" samples
//     (waiting for the origin) are left out of the shares.
//   --mode repeat: the same, with one token and one URL for every request (the entry module's
//     replayed answers within a second, the verified-token cache once a second).
//
//   node --experimental-websocket scripts/profile-worker.mjs [--mode cached|uncached|requests|repeat]
//                                        [--alg HS256|ES256|RS256|EdDSA] [--iterations N] [--top N]
//                                        [--lines FUNCTION]
//   --lines FUNCTION: also the lines of the JavaScript function FUNCTION (e.g. `handle`, the
//     entry module's request handler) that its own samples fell on, with their source.
// (Node 20 has its WebSocket client behind that flag; Node 22 and later without it.)
//
// Needs build-profile/: the bench build with its function names kept (`make profile-worker`
// builds it: WARDEN_KEEP_NAMES=1 scripts/build-worker.sh build-profile bench). The profiler slows
// the loop down; the time per operation without it is printed first. Shares, not times, are the
// result: they say which step to make cheaper; `make bench-worker` measures the outcome.
import { existsSync, readFileSync } from "node:fs";
import { ROOT, startWorker } from "../tests/helpers/miniflare.mjs";
import { startOrigin } from "../tests/origin/server.mjs";
import { provenance } from "./lib/provenance.mjs";
import { AUDIENCE, ISSUER, benchToken } from "./lib/bench-token.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const MODE = arg("--mode", "cached");
const ALG = arg("--alg", "HS256");
const ITERATIONS = Number(arg("--iterations", { cached: 200000, uncached: 20000, requests: 3000, repeat: 3000 }[MODE] ?? 0));
const TOP = Number(arg("--top", 30));
const LINES = arg("--lines", null);
const BUILD = `${ROOT}/build-profile`;
if (!existsSync(`${BUILD}/index.js`)) {
  console.error("build-profile/ is missing: run `make profile-worker` (it builds it)");
  process.exit(1);
}
if (typeof WebSocket !== "function") {
  console.error("no WebSocket client: run with `node --experimental-websocket` (Node 20) or Node 22+");
  process.exit(1);
}
const WHOLE = MODE === "requests" || MODE === "repeat";
if (!["cached", "uncached", ...(WHOLE ? [MODE] : [])].includes(MODE)) {
  throw new Error(`--mode cached|uncached|requests|repeat, not ${MODE}`);
}

const { jwk, token } = await benchToken(ALG, "profile");
const hmac = ALG === "HS256";
const demo = WHOLE ? await startOrigin({ port: 0 }) : null;
const origin = demo ?? { url: "http://127.0.0.1:9", jwks: { keys: hmac ? [] : [jwk] }, issuer: ISSUER, audience: AUDIENCE };
const vars = hmac && !demo ? { WARDEN_HMAC_KEYS: JSON.stringify({ keys: [jwk] }), WARDEN_JWKS: undefined } : {};
const INSPECTOR = 9300 + Math.floor(Math.random() * 600);
const worker = await startWorker(origin, vars, { scriptPath: `${BUILD}/index.js`, modulesRoot: BUILD, inspectorPort: INSPECTOR });

/** `iterations` requests, one at a time, each with a fresh token (signed beforehand), or all with one (`repeat`). */
async function requests(iterations) {
  const tokens = [];
  const one = MODE === "repeat" ? await demo.issue({ sub: "user-repeat" }) : null;
  for (let i = 0; i < iterations; i++) tokens.push(one ?? (await demo.issue({ sub: `user-${i}` })));
  const t0 = performance.now();
  for (const [i, t] of tokens.entries()) {
    const r = await worker.dispatchFetch(`https://api.example.com/orders${one ? "" : `?i=${i}`}`, { headers: { authorization: `Bearer ${t}` } });
    if (r.status !== 200) throw new Error(`request ${i}: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  }
  return ((performance.now() - t0) * 1000) / iterations;
}

async function loop(iterations) {
  if (demo) return requests(iterations);
  const r = await worker.dispatchFetch("http://bench.test/__warden/bench", {
    method: "POST",
    body: JSON.stringify({ token, iterations, mode: MODE }),
  });
  const body = await r.json();
  if (r.status !== 200) throw new Error(`bench route: ${JSON.stringify(body)}`);
  return body.us_per_op;
}

/** The Chrome DevTools Protocol on the worker's inspector: one session, one call at a time. */
async function inspector() {
  const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR}/json`)).json();
  if (!targets.length) throw new Error("workerd's inspector lists no isolate");
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("cannot reach workerd's inspector")), { once: true });
  });
  let next = 0;
  const pending = new Map();
  ws.addEventListener("message", (event) => {
    const m = JSON.parse(event.data);
    if (pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => ws.close() };
}

/** Each function's share of the samples: by itself, and with its callees (counted once per stack). */
function shares(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const name = (id) => nodes.get(id).callFrame.functionName || "(anonymous)";
  const self = new Map();
  const inclusive = new Map();
  const busy = profile.samples.filter((id) => name(id) !== "(idle)");
  for (const id of busy) {
    self.set(name(id), (self.get(name(id)) ?? 0) + 1);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const n = name(at);
      if (!seen.has(n)) inclusive.set(n, (inclusive.get(n) ?? 0) + 1);
      seen.add(n);
    }
  }
  const total = busy.length;
  // V8 counts a node's own samples per source line (`positionTicks`, 1-based lines).
  const lines = new Map();
  for (const n of profile.nodes) {
    if (name(n.id) !== LINES) continue;
    for (const { line, ticks } of n.positionTicks ?? []) lines.set(`${n.callFrame.url}:${line}`, (lines.get(`${n.callFrame.url}:${line}`) ?? 0) + ticks);
  }
  const top = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([n, c]) => `${((100 * c) / total).toFixed(1).padStart(6)}%  ${n.replace(/::h[0-9a-f]{16}$/, "")}`);
  return { total, self: top(self), inclusive: top(inclusive), lines };
}

try {
  await loop(Math.ceil(ITERATIONS / 10)); // warm-up (tier-up)
  const plain = await loop(ITERATIONS);
  const cdp = await inspector();
  await cdp.call("Profiler.enable");
  await cdp.call("Profiler.setSamplingInterval", { interval: 50 });
  await cdp.call("Profiler.start");
  const profiled = await loop(ITERATIONS);
  const { profile } = await cdp.call("Profiler.stop");
  cdp.close();
  const s = shares(profile);
  const { commit, clean } = provenance(ROOT);
  const what = demo ? "ES256 tokens from the demo origin, one request each" : ALG;
  console.log(`commit ${commit} (${clean}); ${what}, ${MODE}, ${ITERATIONS} iterations`);
  const per = demo ? "request (wall time)" : "operation";
  console.log(`${plain.toFixed(2)} µs per ${per} without the profiler, ${profiled.toFixed(2)} µs with it; ${s.total} samples (idle left out)`);
  console.log("\nself (the function's own code):");
  console.log(s.self.join("\n"));
  console.log("\ninclusive (with what it calls):");
  console.log(s.inclusive.join("\n"));
  if (LINES) {
    console.log(`\nlines of ${LINES} (its own samples):`);
    const sources = new Map();
    const source = (url) => {
      if (!sources.has(url)) {
        const file = `${BUILD}/${url.split("/").pop()}`;
        sources.set(url, existsSync(file) ? readFileSync(file, "utf8").split("\n") : []);
      }
      return sources.get(url);
    };
    for (const [at, ticks] of [...s.lines].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      const [url, line] = [at.slice(0, at.lastIndexOf(":")), Number(at.slice(at.lastIndexOf(":") + 1))];
      const text = (source(url)[line - 1] ?? "").trim().slice(0, 110);
      console.log(`${((100 * ticks) / s.total).toFixed(1).padStart(6)}%  line ${String(line).padStart(4)}  ${text}`);
    }
  }
} finally {
  await worker.dispose();
  await demo?.close();
}
