#!/usr/bin/env node
// `make bench-edge`: the CPU each request costs the workerd process, measured from outside, for
// Warden and for four other workers side by side in the same run, on loopback only:
//   - a JavaScript pass-through (tests/bench/passthrough-js.mjs): the baseline;
//   - a signature-only JavaScript worker (tests/bench/verify-js.mjs): WebCrypto verify and
//     forward, the floor of any token checker;
//   - a bare workers-rs pass-through (tests/bench/passthrough-rs, built by scripts/bench-edge.sh
//     into target/bench-passthrough-rs/build/): the same worker crate as Warden, no checks;
//   - Warden, the production build (build/, from `make build-worker`), with local KV and the
//     Durable Object binding as in tests/helpers/miniflare.mjs;
//   - a jose worker (defined below, bundled with esbuild): jose's jwtVerify on the bearer token or
//     the access cookie, then two KV reads per request (the jti and the sid), then forward.
// Each worker has its own Miniflare instance, hence its own workerd process; its CPU time is the
// on-CPU time of the process's threads in nanoseconds (/proc/<pid>/task/<tid>/schedstat, first
// field), read before and after each batch of requests; utime + stime of /proc/<pid>/stat (in
// clock ticks) is read too, as a check, and used instead when a thread came or went meanwhile. All four sit in front of the same demo origin (tests/origin/server.mjs,
// started in this process; its CPU is not counted) with the same keys.
//
//   node scripts/bench-edge.mjs [--requests 2000] [--rounds 5] [--concurrency 1] [--warmup 200]
//                               [--startups 3] [--markdown | --write]
//                               [--baseline DIR] [--workloads ID,ID]
// --baseline DIR: another build of Warden (a directory as build/: index.js, warden.js,
// index_bg.wasm; e.g. `git worktree add`, then `scripts/build-worker.sh` there) side by side with
// the others, as "base", for an A/B of a change: prints Warden's CPU minus the baseline's per
// workload, the median of the paired rounds' differences. --workloads: only these (repeat,
// HS256, ES256, RS256, EdDSA, cookie, pat). Either one prints the rounds and that comparison
// only: the docs' figures come from the whole run.
// --write replaces the section between <!-- bench-edge:start --> and <!-- bench-edge:end --> in
// docs/benchmarks.md (adds it at the end the first time); nothing else in the file changes.
import { spawnSync, execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { build } from "esbuild";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { ADMIN_TOKEN, ROOT, builtWorker, wardenBindings } from "../tests/helpers/miniflare.mjs";
import { startOrigin } from "../tests/origin/server.mjs";

const { values: flags } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "1" },
    warmup: { type: "string", default: "200" },
    startups: { type: "string", default: "3" },
    write: { type: "boolean", default: false },
    markdown: { type: "boolean", default: false },
    baseline: { type: "string" },
    workloads: { type: "string" },
  },
});
const count = (name) => {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive integer`);
  return v;
};
const [N, ROUNDS, CONCURRENCY, WARMUP, STARTUPS] = ["requests", "rounds", "concurrency", "warmup", "startups"].map(count);
const { write: WRITE, markdown: MARKDOWN } = flags;
const BASELINE = flags.baseline === undefined ? undefined : resolve(flags.baseline);
const ONLY = flags.workloads?.split(",");
const PARTIAL = BASELINE !== undefined || ONLY !== undefined;
if (PARTIAL && (WRITE || MARKDOWN)) throw new Error("--baseline and --workloads print an A/B comparison only: no --write or --markdown");
if (BASELINE !== undefined && !["index.js", "warden.js", "index_bg.wasm"].every((f) => existsSync(join(BASELINE, f)))) {
  throw new Error(`--baseline ${flags.baseline}: index.js, warden.js and index_bg.wasm expected there (scripts/build-worker.sh builds them)`);
}
const COMMAND = "make bench-edge";
const INVOCATION = ["bash scripts/bench-edge.sh", ...process.argv.slice(2)].join(" ");

const sh = (cmd, args) => execFileSync(cmd, args, { cwd: ROOT, encoding: "utf8" }).trimEnd();
const COMMIT = sh("git", ["rev-parse", "HEAD"]);
const DIRTY = sh("git", ["status", "--porcelain"]).split("\n").filter(Boolean);
const CLK_TCK = Number(sh("getconf", ["CLK_TCK"]));
const LOAD_BEFORE = loadavg();
console.log(`commit ${COMMIT}`);
console.log(`working tree: ${DIRTY.length ? `dirty (${DIRTY.length} paths)\n  ${DIRTY.join("\n  ")}` : "clean"}`);
console.log(`requests per batch ${N}, rounds ${ROUNDS}, concurrency ${CONCURRENCY}, warm-up ${WARMUP}, CLK_TCK ${CLK_TCK}`);
if (ROUNDS < 5) console.warn("note: fewer than 5 rounds; figures for docs/benchmarks.md need at least 5");

const pkg = (name) => JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
const ISSUER = "https://origin.warden.test"; // the demo origin's defaults
const AUDIENCE = "warden-demo";
const ACCESS_COOKIE = "warden_access";
const REFRESH_COOKIE = "warden_refresh";
const COMPAT = "2025-09-01";
const RS_BUILD = join(ROOT, "target/bench-passthrough-rs/build");
const SCRATCH = join(ROOT, "target/bench-edge");
const PATH = "/api/items";

// ---------------------------------------------------------------------------------------------
// Everything started here is stopped on every exit path, by its own handle.

const stoppers = new Set();
const stopAll = () => Promise.allSettled([...stoppers].map((stop) => stop()));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    await stopAll();
    process.exit(130);
  });
}

function assertLoopback(url, what) {
  if (new URL(url).hostname !== "127.0.0.1") throw new Error(`${what} is not on loopback: ${url}`);
}

// ---------------------------------------------------------------------------------------------
// workerd processes and their CPU time

/** Pids of the workerd processes this Node process started (comm = workerd, parent = us). */
function ourWorkerds() {
  const out = new Set();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() !== "workerd") continue;
      if (statFields(Number(d))[4] === String(process.pid)) out.add(Number(d)); // field 4: ppid
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** /proc/<pid>/stat as fields numbered like proc(5) (index 1 = pid, 2 = comm, 14 = utime). */
function statFields(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const close = s.lastIndexOf(")");
  return [null, s.slice(0, s.indexOf(" ")), s.slice(s.indexOf("(") + 1, close), ...s.slice(close + 2).trim().split(" ")];
}

/**
 * On-CPU time of `pid`'s threads (the kernel's sum_exec_runtime, ns): `{ ns, tids }`, the
 * thread ids joined, so that a reading can tell a thread that came or went between two.
 */
function cpuNs(pid) {
  let ns = 0;
  const tids = readdirSync(`/proc/${pid}/task`).sort();
  for (const tid of tids) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  return { ns, tids: tids.join(" ") };
}

/** utime + stime of `pid`, in clock ticks (all its threads, including ones that ended). */
function cpuTicks(pid) {
  const f = statFields(pid);
  return Number(f[14]) + Number(f[15]);
}

/**
 * Starts one Miniflare instance; returns it with its workerd pid, the time to ready and the time
 * to the first answer (`first`: the request to send, a valid token).
 */
async function startInstance(name, options, first) {
  const before = ourWorkerds();
  const t0 = performance.now();
  const mf = new Miniflare({ host: "127.0.0.1", port: 0, ...options });
  const stop = () => mf.dispose();
  stoppers.add(stop);
  const url = (await mf.ready).toString();
  const readyMs = performance.now() - t0;
  assertLoopback(url, name);
  const fresh = [...ourWorkerds()].filter((p) => !before.has(p));
  if (fresh.length !== 1) throw new Error(`${name}: expected one new workerd process, found ${fresh.length}`);
  const pid = fresh[0];
  const readyCpuMs = (cpuTicks(pid) * 1000) / CLK_TCK;
  const resp = await fetch(new URL(PATH, url), { headers: first });
  await resp.text();
  if (resp.status !== 200) throw new Error(`${name}: the first request answered ${resp.status}`);
  const firstMs = performance.now() - t0;
  return {
    mf,
    url,
    pid,
    readyMs,
    readyCpuMs,
    firstMs,
    dispose: async () => {
      stoppers.delete(stop);
      await mf.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The demo origin, keys and tokens

/** The demo origin; access tokens from /login live an hour, so a cookie session never needs a refresh here. */
async function startDemoOrigin() {
  const o = await startOrigin({ host: "127.0.0.1", port: 0, accessTtl: 3600 });
  stoppers.add(() => o.close());
  assertLoopback(o.url, "the demo origin");
  return o;
}

/** Signing keys per algorithm: ES256 is the origin's own (it signs); RS256, EdDSA and HS256 are made here. */
async function keys(origin) {
  const signers = { ES256: { origin } };
  const publicJwks = [...origin.jwks.keys];
  for (const [alg, opts] of [
    ["RS256", { modulusLength: 2048 }],
    ["EdDSA", { crv: "Ed25519" }],
  ]) {
    const pair = await generateKeyPair(alg, { extractable: true, ...opts });
    const kid = `bench-${alg.toLowerCase()}`;
    signers[alg] = { key: pair.privateKey, kid };
    publicJwks.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" });
  }
  const secret = randomBytes(32);
  signers.HS256 = { key: secret, kid: "bench-hs256" };
  const hmac = { keys: [{ kty: "oct", k: secret.toString("base64url"), kid: "bench-hs256", alg: "HS256", use: "sig" }] };
  return { signers, jwks: { keys: publicJwks }, hmac };
}

async function mint(signers, alg, sub) {
  if (signers[alg].origin) return signers[alg].origin.issue({ sub, scope: "read" }, { ttl: 3600 });
  const { key, kid } = signers[alg];
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, jti: randomUUID(), sid: randomUUID(), scope: "read" })
    .setProtectedHeader({ alg, kid, typ: "at+jwt" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(key);
}

// ---------------------------------------------------------------------------------------------
// The jose worker: what a JavaScript worker doing the same job with jose would do per request.

const JOSE_WORKER = `
import { jwtVerify, createLocalJWKSet, importJWK } from "jose";
import { tokenOf } from "./tests/bench/token-of.mjs";

let state;
async function setup(env) {
  if (state) return state;
  const jwks = createLocalJWKSet(JSON.parse(env.JWKS));
  const hmac = new Map();
  for (const k of JSON.parse(env.HMAC_KEYS).keys) hmac.set(k.kid, await importJWK(k, k.alg));
  const options = {
    algorithms: ["ES256", "RS256", "EdDSA", "HS256"],
    issuer: env.ISSUER,
    audience: env.AUDIENCE,
    typ: "at+jwt",
    clockTolerance: 30,
    requiredClaims: ["exp", "iat"],
  };
  const key = (header, token) => {
    if (!header.alg.startsWith("HS")) return jwks(header, token);
    const k = hmac.get(header.kid);
    if (!k) throw new Error("unknown kid");
    return k;
  };
  state = { key, options };
  return state;
}

const deny = (code) => Response.json({ code }, { status: 401, headers: { "cache-control": "no-store" } });

export default {
  async fetch(request, env) {
    const { key, options } = await setup(env);
    const token = tokenOf(request, env.ACCESS_COOKIE);
    if (!token) return deny("token_missing");
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, options));
    } catch (e) {
      return deny(e.code ?? "invalid_token");
    }
    const [byJti, bySid] = await Promise.all([
      env.REVOCATIONS.get("jti:" + payload.jti),
      payload.sid ? env.REVOCATIONS.get("sid:" + payload.sid) : null,
    ]);
    if (byJti !== null || bySid !== null) return deny("token_revoked");
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("host");
    headers.set("x-warden-sub", payload.sub);
    headers.set("x-warden-class", request.headers.has("authorization") ? "access" : "session");
    return fetch(env.ORIGIN + url.pathname + url.search, { method: request.method, headers, body: request.body, redirect: "manual" });
  },
};
`;

async function bundleJoseWorker() {
  mkdirSync(SCRATCH, { recursive: true });
  const out = join(SCRATCH, "jose-edge-worker.js");
  await build({
    stdin: { contents: JOSE_WORKER, resolveDir: ROOT, sourcefile: "jose-edge-worker.mjs", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    outfile: out,
    logLevel: "warning",
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The five workers

function workerOptions(origin, k, joseScript) {
  const wasmRules = [
    { type: "ESModule", include: ["**/*.js"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ];
  return [
    {
      id: "js",
      name: "JS pass-through",
      options: { modules: true, scriptPath: join(ROOT, "tests/bench/passthrough-js.mjs"), compatibilityDate: COMPAT, bindings: { ORIGIN: origin.url } },
    },
    {
      id: "rs",
      name: "workers-rs pass-through",
      options: {
        modules: true,
        scriptPath: join(RS_BUILD, "index.js"),
        modulesRoot: RS_BUILD,
        modulesRules: wasmRules,
        compatibilityDate: COMPAT,
        bindings: { ORIGIN: origin.url },
      },
    },
    {
      id: "verify",
      name: "signature-only JS worker",
      noPat: true,
      options: {
        modules: true,
        scriptPath: join(ROOT, "tests/bench/verify-js.mjs"),
        compatibilityDate: COMPAT,
        bindings: { ORIGIN: origin.url, JWKS: JSON.stringify(k.jwks), HMAC_KEYS: JSON.stringify(k.hmac), ACCESS_COOKIE },
      },
    },
    {
      id: "warden",
      name: "Warden",
      checks: true,
      options: {
        ...builtWorker(),
        kvNamespaces: ["WARDEN_KV"],
        durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
        bindings: wardenBindings(
          { url: origin.url, jwks: k.jwks, issuer: ISSUER, audience: AUDIENCE },
          {
            WARDEN_HMAC_KEYS: JSON.stringify(k.hmac),
            WARDEN_ACCESS_TYP: "at+jwt",
            WARDEN_ACCESS_COOKIE: ACCESS_COOKIE,
            WARDEN_REFRESH_COOKIE: REFRESH_COOKIE,
            WARDEN_REFRESH_PATH: "/oauth/token",
          },
        ),
      },
    },
    {
      id: "jose",
      name: "jose worker",
      checks: true,
      noPat: true,
      options: {
        modules: true,
        scriptPath: joseScript,
        compatibilityDate: COMPAT,
        kvNamespaces: ["REVOCATIONS"],
        bindings: {
          ORIGIN: origin.url,
          JWKS: JSON.stringify(k.jwks),
          HMAC_KEYS: JSON.stringify(k.hmac),
          ISSUER,
          AUDIENCE,
          ACCESS_COOKIE,
        },
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * Sends `reqs` ({ headers, sub, cls }) to `worker`, CONCURRENCY at a time; checks every answer
 * (200, and for workers that check tokens the identity the origin saw). Returns the workerd
 * process's CPU µs per request and the wall µs per request.
 */
async function batch(worker, reqs) {
  const target = new URL(PATH, worker.url).toString();
  let next = 0;
  const failures = [];
  async function lane() {
    while (next < reqs.length) {
      const r = reqs[next++];
      const resp = await fetch(target, { headers: r.headers });
      const text = await resp.text();
      if (resp.status !== 200) {
        failures.push(`${resp.status} ${text.slice(0, 200)}`);
        continue;
      }
      const body = JSON.parse(text);
      if (body.path !== PATH) failures.push(`origin saw path ${body.path}`);
      if (worker.checks && (body.identity["x-warden-sub"] !== r.sub || body.identity["x-warden-class"] !== r.cls)) {
        failures.push(`origin saw identity ${JSON.stringify(body.identity)}, expected sub ${r.sub}, class ${r.cls}`);
      }
    }
  }
  const ticks0 = cpuTicks(worker.pid);
  const ns0 = cpuNs(worker.pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, reqs.length) }, lane));
  const t1 = performance.now();
  const ns1 = cpuNs(worker.pid);
  const ticks1 = cpuTicks(worker.pid);
  if (failures.length) {
    throw new Error(`${worker.name}: ${failures.length} of ${reqs.length} answers wrong; first: ${failures[0]}`);
  }
  const tickUs = ((ticks1 - ticks0) * 1e6) / CLK_TCK / reqs.length;
  const wall = ((t1 - t0) * 1000) / reqs.length;
  if (ns0.tids !== ns1.tids) {
    cpuSource.ticks++;
    return { cpu: tickUs, wall };
  }
  const cpu = (ns1.ns - ns0.ns) / 1000 / reqs.length;
  cpuSource.ns++;
  // The two clocks must agree within a tick per reading (ticks are counted at interrupts).
  cpuSource.maxGap = Math.max(cpuSource.maxGap, Math.abs(cpu - tickUs) * reqs.length - 2 * (1e6 / CLK_TCK));
  return { cpu, wall };
}

/** How the batches' CPU was read: schedstat (ns) or, when a thread came or went, ticks; and the largest disagreement between the two beyond two ticks, in µs per batch. */
const cpuSource = { ns: 0, ticks: 0, maxGap: -Infinity };

const bearer = (token) => ({ authorization: `Bearer ${token}` });

async function workloads(origin, k, warden) {
  const repeat = await mint(k.signers, "ES256", "bench-repeat");
  const login = await fetch(`${origin.url}/login`, { method: "POST", body: JSON.stringify({ username: "bench-cookie" }) });
  if (login.status !== 200) throw new Error(`origin login answered ${login.status}`);
  const session = await login.json();
  const cookie = `theme=dark; ${ACCESS_COOKIE}=${session.access_token}; ${REFRESH_COOKIE}=${session.refresh_token}`;
  const patResp = await fetch(new URL("/_warden/pats", warden.url), {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ sub: "bench-pat", expires_at: 0, scopes: ["read"] }),
  });
  if (patResp.status !== 201) throw new Error(`PAT issue answered ${patResp.status}: ${await patResp.text()}`);
  const pat = await patResp.json();
  const same = (n, r) => Array.from({ length: n }, () => r);
  const unique = (alg) => async (n) =>
    Promise.all(Array.from({ length: n }, async (_, i) => {
      const sub = `bench-${alg.toLowerCase()}-${i}`;
      return { headers: bearer(await mint(k.signers, alg, sub)), sub, cls: "access" };
    }));
  return [
    { id: "repeat", name: "repeat token (ES256; Warden: verified-token cache hit)", make: async (n) => same(n, { headers: bearer(repeat), sub: "bench-repeat", cls: "access" }) },
    { id: "HS256", name: "unique tokens, HS256", make: unique("HS256") },
    { id: "ES256", name: "unique tokens, ES256", make: unique("ES256") },
    { id: "RS256", name: "unique tokens, RS256 (2048-bit)", make: unique("RS256") },
    { id: "EdDSA", name: "unique tokens, EdDSA (Ed25519)", make: unique("EdDSA") },
    { id: "cookie", name: "cookie session (access cookie, no refresh due)", make: async (n) => same(n, { headers: { cookie }, sub: "bench-cookie", cls: "session" }) },
    { id: "pat", name: "PAT (issued through the admin API)", pat: true, make: async (n) => same(n, { headers: bearer(pat.token), sub: "bench-pat", cls: "pat" }) },
  ];
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const us = (x) => `${x.toFixed(0)} µs`;
const signed = (x) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(0)} µs`;
const ms = (x) => `${x.toFixed(0)} ms`;
const table = (h, ls) => [h, h.map((_, i) => (i === 0 ? "---" : "---:")), ...ls].map((l) => `| ${l.join(" | ")} |`).join("\n");
const gzipSize = (file) => spawnSync("gzip", ["-9c", file], { maxBuffer: 64 << 20 }).stdout.length;

// ---------------------------------------------------------------------------------------------
// The run

let report;
try {
  if (!existsSync(join(RS_BUILD, "index.js"))) {
    throw new Error("target/bench-passthrough-rs/build/ is missing: run scripts/bench-edge.sh (it builds the workers-rs pass-through)");
  }
  const o = await startDemoOrigin();
  const k = await keys(o);
  const joseScript = await bundleJoseWorker();
  const defs = workerOptions(o, k, joseScript);
  if (BASELINE !== undefined) {
    const warden = defs.find((d) => d.id === "warden");
    defs.push({
      ...warden,
      id: "base",
      name: `Warden, baseline (${flags.baseline})`,
      options: { ...warden.options, scriptPath: join(BASELINE, "index.js"), modulesRoot: BASELINE },
    });
  }

  // Startup to ready, STARTUPS times per worker, in alternating order; the last instance of each
  // stays up for the measurement.
  const startup = Object.fromEntries(defs.map((d) => [d.id, { readyMs: [], readyCpuMs: [], firstMs: [] }]));
  const workers = {};
  const first = bearer(await mint(k.signers, "ES256", "bench-first"));
  for (let s = 0; s < STARTUPS; s++) {
    for (const d of s % 2 ? [...defs].reverse() : defs) {
      const inst = await startInstance(d.name, d.options, first);
      startup[d.id].readyMs.push(inst.readyMs);
      startup[d.id].readyCpuMs.push(inst.readyCpuMs);
      startup[d.id].firstMs.push(inst.firstMs);
      if (s < STARTUPS - 1) await inst.dispose();
      else workers[d.id] = { ...d, ...inst };
    }
  }
  for (const d of defs) console.log(`${d.name}: workerd pid ${workers[d.id].pid}, ${workers[d.id].url}`);

  const loads = (await workloads(o, k, workers.warden)).filter((l) => ONLY === undefined || ONLY.includes(l.id));
  if (ONLY !== undefined && loads.length !== ONLY.length) throw new Error(`--workloads ${flags.workloads}: unknown workload`);
  const forWorker = (w, l) => !(l.pat && w.noPat);

  // Warm-up: every workload through every worker (tokens of their own), not measured.
  for (const l of loads) {
    const reqs = await l.make(WARMUP);
    for (const d of defs) if (forWorker(d, l)) await batch(workers[d.id], reqs);
  }
  console.log(`warm-up done (${WARMUP} requests per workload and worker)`);

  // Rounds: fresh requests per round and workload (the same ones for every worker), workers in
  // alternating order.
  const samples = {}; // `${workload}/${worker}` -> { cpu: [], wall: [] }
  const roundLoad = []; // the 1-minute load average at the end of each round
  const at = (l, d) => (samples[`${l}/${d}`] ??= { cpu: [], wall: [] });
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...defs].reverse() : defs;
    for (const l of loads) {
      const reqs = await l.make(N);
      for (const d of order) {
        if (!forWorker(d, l)) continue;
        const { cpu, wall } = await batch(workers[d.id], reqs);
        at(l.id, d.id).cpu.push(cpu);
        at(l.id, d.id).wall.push(wall);
      }
    }
    roundLoad.push(loadavg()[0]);
    console.log(`round ${round + 1}/${ROUNDS} (order: ${order.map((d) => d.id).join(", ")}; load ${roundLoad[round].toFixed(2)}), CPU µs per request:`);
    for (const l of loads) {
      const cells = defs.filter((d) => forWorker(d, l)).map((d) => `${d.id} ${at(l.id, d.id).cpu[round].toFixed(0)}`);
      console.log(`  ${l.id.padEnd(7)} ${cells.join("  ")}`);
    }
  }

  report = { defs, loads, samples, startup, forWorker, roundLoad };
} finally {
  await stopAll();
}

// ---------------------------------------------------------------------------------------------
// Figures

const { defs, loads, samples, startup, forWorker, roundLoad } = report;
const s = (l, d) => samples[`${l}/${d}`];
const diffs = (l, a, b) => s(l, a).cpu.map((x, i) => x - s(l, b).cpu[i]);
if (PARTIAL) {
  console.log();
  for (const l of loads) {
    const line = (a, b) => {
      const ds = diffs(l.id, a, b);
      return `${a} − ${b} ${signed(median(ds))} (${signed(Math.min(...ds))}…${signed(Math.max(...ds))})`;
    };
    const cells = [line("warden", "js")];
    if (BASELINE !== undefined) cells.push(line("base", "js"), line("warden", "base"));
    console.log(`${l.id.padEnd(7)} CPU per request, median of paired rounds (range): ${cells.join("; ")}`);
  }
  process.exit(0);
}
const others = defs.filter((d) => d.id !== "js");
const rows = loads.map((l) => {
  const row = { id: l.id, name: l.name, cpu: {}, wall: {}, over: {}, range: {}, spread: {} };
  for (const d of defs) {
    if (!forWorker(d, l)) continue;
    row.cpu[d.id] = median(s(l.id, d.id).cpu);
    row.wall[d.id] = median(s(l.id, d.id).wall);
    const xs = s(l.id, d.id).cpu;
    row.spread[d.id] = (Math.max(...xs) - Math.min(...xs)) / median(xs);
    if (d.id !== "js") {
      const ds = diffs(l.id, d.id, "js");
      row.over[d.id] = median(ds);
      row.range[d.id] = [Math.min(...ds), Math.max(...ds)];
    }
  }
  row.wardenOverRs = median(diffs(l.id, "warden", "rs"));
  if (forWorker(defs.find((d) => d.id === "verify"), l)) row.wardenOverVerify = median(diffs(l.id, "warden", "verify"));
  return row;
});

const cell = (row, key, id, f) => (row[key][id] === undefined ? "—" : f(row[key][id]));
const cpuTable = table(
  ["workload", ...defs.map((d) => d.name)],
  rows.map((r) => [r.name, ...defs.map((d) => cell(r, "cpu", d.id, us))]),
);
const overTable = table(
  ["workload", ...others.map((d) => `${d.name} − JS`), "Warden − workers-rs pass-through", "Warden − signature-only"],
  rows.map((r) => [
    r.name,
    ...others.map((d) => (r.over[d.id] === undefined ? "—" : `${signed(r.over[d.id])} (${signed(r.range[d.id][0])} … ${signed(r.range[d.id][1])})`)),
    signed(r.wardenOverRs),
    r.wardenOverVerify === undefined ? "—" : signed(r.wardenOverVerify),
  ]),
);
const wallTable = table(
  ["workload", ...defs.map((d) => d.name)],
  rows.map((r) => [r.name, ...defs.map((d) => cell(r, "wall", d.id, us))]),
);
const startTable = table(
  ["worker", "Miniflare start to ready", "start to first answer (ES256 token)", "workerd CPU until ready", "bundle (gzip -9)"],
  defs.map((d) => {
    const size =
      d.id === "warden"
        ? `${gzipSize(join(ROOT, "build/index_bg.wasm"))} B wasm + ${gzipSize(join(ROOT, "build/index.js")) + gzipSize(join(ROOT, "build/warden.js"))} B JS`
        : d.id === "rs"
          ? `${gzipSize(join(RS_BUILD, "index_bg.wasm"))} B wasm + ${gzipSize(join(RS_BUILD, "index.js"))} B JS`
          : d.id === "js" || d.id === "verify"
            ? `${gzipSize(join(ROOT, d.id === "js" ? "tests/bench/passthrough-js.mjs" : "tests/bench/verify-js.mjs"))} B JS`
            : `${gzipSize(join(SCRATCH, "jose-edge-worker.js"))} B JS (bundled)`;
    return [d.name, ms(median(startup[d.id].readyMs)), ms(median(startup[d.id].firstMs)), ms(median(startup[d.id].readyCpuMs)), size];
  }),
);

// Sentences that depend on the figures.
const by = Object.fromEntries(rows.map((r) => [r.id, r]));
const range = (xs) => `${signed(Math.min(...xs))} to ${signed(Math.max(...xs))}`;
const uniqueIds = ["HS256", "ES256", "RS256", "EdDSA"];
const cachedIds = ["repeat", "cookie", "pat"];
const rsOver = rows.map((r) => r.over.rs);
const maxSpread = Math.max(...rows.flatMap((r) => Object.values(r.spread)));
const worstSpread = rows.flatMap((r) => Object.entries(r.spread).map(([id, v]) => ({ v, r, id }))).sort((a, b) => b.v - a.v)[0];
const joseCompare = uniqueIds.map((id) => `${id} ${signed(by[id].over.warden - by[id].over.jose)}`).join(", ");
const startMs = (id) => `${ms(median(startup[id].readyMs))} (${ms(median(startup[id].firstMs))} to its first answer)`;
const reading = [
  `The bare workers-rs pass-through costs ${range(rsOver)} of CPU per request above the JavaScript one: that is the price of workers-rs's request glue (copying the headers into a new request, wasm-bindgen calls), paid before any check.`,
  `Warden costs ${range(cachedIds.map((id) => by[id].over.warden))} above the JavaScript pass-through when the credential repeats (verified-token cache, cookie session, PAT record cached in the isolate), ` +
    `that is ${range(cachedIds.map((id) => by[id].wardenOverRs))} above the workers-rs pass-through; ` +
    `with a fresh token on every request it costs ${uniqueIds.map((id) => `${signed(by[id].over.warden)} (${id})`).join(", ")} above the JavaScript pass-through. ` +
    `The signature-only worker (WebCrypto verify of a fresh token, nothing else) costs ${uniqueIds.map((id) => `${signed(by[id].over.verify)} (${id})`).join(", ")} above the pass-through: ` +
    `that is what the signature itself costs here, and Warden's excess over it — everything Warden does besides the signature: parsing, the claims policy, revocation, identity — is ${uniqueIds.map((id) => `${signed(by[id].wardenOverVerify)} (${id})`).join(", ")}.`,
  `Against the jose worker (jwtVerify, two KV reads per request), Warden's excess over the JavaScript pass-through differs by ${joseCompare} for fresh tokens (negative: Warden costs less), ` +
    `and by ${signed(by.repeat.over.warden - by.repeat.over.jose)} for a repeated token, which jose verifies again on every request.`,
  `Round to round, the CPU per request of one worker and workload varied by up to ${(maxSpread * 100).toFixed(0)}% of its median (max − min; the widest: ${worstSpread.r.name}, ${defs.find((d) => d.id === worstSpread.id).name}); ` +
    `CPU was read in nanoseconds (schedstat) for ${cpuSource.ns} of the ${cpuSource.ns + cpuSource.ticks} batches, warm-ups included${cpuSource.ticks ? ` (in clock ticks of 1/${CLK_TCK} s, ${(1e6 / CLK_TCK / N).toFixed(1)} µs per request in a batch of ${N}, for the others: a thread of workerd came or went during them)` : ""}; ` +
    `${cpuSource.maxGap <= 0 ? "in every batch it agreed with utime + stime within two clock ticks" : `at most ${(cpuSource.maxGap / N).toFixed(1)} µs per request beyond two clock ticks from utime + stime`}. ` +
    `The 1-minute load average at the end of each round was ${roundLoad.map((x) => x.toFixed(2)).join(", ")} on ${cpus().length} cores: ` +
    "other work on the machine takes CPU from these processes and also inflates their own CPU time (caches, scheduling), which the alternating order spreads over all five workers but does not remove.",
  `Startup (medians of ${STARTUPS} fresh instances each, started in alternating order): Warden's Miniflare instance took ${startMs("warden")} from construction to ready, against ${startMs("js")} for the JavaScript pass-through and ${startMs("rs")} for the workers-rs one; ` +
    "this includes spawning workerd and compiling the wasm module. Node 20 cannot compile these wasm modules itself (`new WebAssembly.Module` refuses their `noexternref` type without `--experimental-wasm-gc`), so start-to-ready is the figure given instead of a compile time.",
].join("\n\n");

const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "unknown CPU"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, miniflare ${pkg("miniflare")} (workerd), jose ${pkg("jose")}`;
const load = (l) => l.map((x) => x.toFixed(2)).join(", ");
const tree = DIRTY.length ? `dirty: ${DIRTY.length} changed path${DIRTY.length > 1 ? "s" : ""} (${DIRTY.map((l) => `\`${l.slice(3)}\``).join(", ")})` : "clean";
const section = `<!-- bench-edge:start -->
## Edge: CPU per request above a pass-through worker

Command: \`${COMMAND}\` (\`${INVOCATION}\`: builds the workers-rs pass-through, then runs
\`scripts/bench-edge.mjs\`). Commit \`${COMMIT.slice(0, 12)}\`, working tree ${tree}.
Machine: ${machine}. Load average (1, 5, 15 min) before and after: ${load(LOAD_BEFORE)} / ${load(loadavg())}.

Five workers, each in its own Miniflare instance (its own workerd process, listening on
127.0.0.1), in front of the same demo origin (\`tests/origin/server.mjs\`, running in the
benchmark's Node process, whose CPU is not counted) with the same keys: a JavaScript
pass-through (\`tests/bench/passthrough-js.mjs\`); a signature-only JavaScript worker
(\`tests/bench/verify-js.mjs\`: WebCrypto verify of the token's signature, keys imported once,
nothing else, no cache — the floor of any token checker; no PATs, hence "—"); a bare workers-rs pass-through
(\`tests/bench/passthrough-rs\`: worker 0.8.7 like Warden, the same release profile, the headers
copied into a new \`Fetch::Request\`); Warden's production build (\`build/\`, local KV and the
Durable Object binding, cookie refresh configured); and a jose worker (defined in
\`scripts/bench-edge.mjs\`: \`jwtVerify\` with the same issuer, audience, \`typ\` and algorithms,
then two KV reads per request, the \`jti\` and the \`sid\`, then forward; it has no PAT support,
hence "—"). CPU is the on-CPU time of the workerd process's threads (\`/proc/<pid>/task/*/schedstat\`,
in nanoseconds; all its threads, so Miniflare's entry worker and workerd's HTTP handling too), read before and after each batch
of ${N} requests sent ${CONCURRENCY === 1 ? "one at a time (sequentially)" : `${CONCURRENCY} at a time`} from Node; wall time is the batch's
duration ÷ ${N}${CONCURRENCY === 1 ? " (the latency through the worker and the origin)" : ""}. Every answer is checked: 200, and for Warden
and the jose worker the identity the origin saw. Each worker first gets ${WARMUP} warm-up requests
per workload. ${ROUNDS} rounds; in each, every workload gets fresh requests (fresh tokens for the
unique-token workloads, the same ones for every worker), and the order of the workers
alternates from round to round. The tokens carry \`sub\`, \`jti\`, \`sid\`, \`scope\`, \`iss\`,
\`aud\`, \`iat\`, \`exp\` (one hour), header \`typ: at+jwt\`.

CPU per request (median over ${ROUNDS} rounds):

${cpuTable}

Above the JavaScript pass-through (median of the per-round differences; in brackets the lowest
and highest of the ${ROUNDS} differences), and Warden above the workers-rs pass-through:

${overTable}

Wall time per request (median over ${ROUNDS} rounds; all processes share the machine's cores):

${wallTable}

${startTable}

${reading}
<!-- bench-edge:end -->
`;

console.log();
console.log(section);
if (WRITE) {
  const doc = join(ROOT, "docs/benchmarks.md");
  let text = readFileSync(doc, "utf8");
  const start = text.indexOf("<!-- bench-edge:start -->");
  const endMarker = "<!-- bench-edge:end -->";
  const end = text.indexOf(endMarker);
  if (start >= 0 && end > start) {
    let after = end + endMarker.length;
    if (text[after] === "\n") after += 1;
    text = text.slice(0, start) + section + text.slice(after);
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(doc, text);
  console.log("wrote the bench-edge section of docs/benchmarks.md");
} else if (!MARKDOWN) {
  console.log("(--write records this section in docs/benchmarks.md)");
}
