#!/usr/bin/env node
// `make load`: Warden under load, on loopback only. The built worker (build/index.js, from
// `make build-worker`; another build with `--build-dir`) runs in workerd through Miniflare,
// listening on 127.0.0.1, with real local KV and Durable Objects, in front of the demo origin
// (tests/origin/server.mjs, its own process). The load generator is this process.
//
//   node scripts/load.mjs [--requests 10000] [--concurrency 32] [--store 100000]
//        [--time-limit 1200] [--seed 7] [--build-dir build] [--write]
//
// Warden is configured for everything the traffic needs: the demo origin's keys and claims,
// refresh at the edge for cookie sessions, DPoP (`WARDEN_DPOP=allowed`, replay per isolate),
// Shared Signals push receiving (a transmitter key made here with jose, served inline as
// `WARDEN_SSF_JWKS`, and a push token), OpenID Connect back-channel logout (`WARDEN_CLIENT_ID`;
// logout tokens are signed with the issuer's key), and the published revocation filter
// (`WARDEN_REVOCATION_FILTER=on`).
//
// 1. The store: before anything else, `--store` active revocations (jti, and 1 in 100 a sid) are
//    written through `POST /_warden/revoke/batch`, 1,000 per call, one call at a time, with
//    progress (a call that gets 503 or no answer is retried: every write is idempotent); then the
//    script waits until `GET /_warden/health` shows the filter `loaded`, no `problem`, and
//    `ids + delta >= --store` (sending one valid request per poll, so that the isolate reads the
//    filter), and checks it again just before the measured run. `--store 0` writes none.
// 2. The mix: valid access tokens (re-used, and seen once), expired, revoked before the run,
//    revoked in the store (their jti or sid among the store's entries), malformed, wrongly
//    signed, wrong audience, unknown kid, no credentials, PATs (valid, unknown, expired), a scope
//    miss, cookie sessions (live, and with an expired access token: the edge must refresh through
//    the origin's token endpoint), and DPoP: tokens bound to a key (`cnf.jkt`) each sent with a
//    fresh proof signed just before sending (allowed, with the thumbprint forwarded), with a proof
//    that Warden already accepted (replayed: 401 `dpop_replayed`), with a proof for another URL
//    (401 `dpop_htu_mismatch`), and as a bearer token (401 `dpop_bound_token_as_bearer`).
// 3. Revocations during the run, spread evenly over it in a seeded order: through the admin API
//    (by jti, sid, subject cutoff and PAT id), as Shared Signals pushes (signed SETs: CAEP
//    session-revoked naming a session, CAEP credential-change for a user) and as back-channel
//    logouts (logout tokens naming a sid, or only a sub). A request racing the revocation of its
//    token may get either answer; once the revocation was acknowledged (200 from the admin API,
//    202 from the push endpoint, 200 from the logout endpoint) every request with it must be
//    refused, and the script reports how many such requests there were, per channel.
// 4. Every response is checked against the verdict fixed when its request was built: status,
//    the JSON `code`, the challenge (Bearer, or DPoP for DPoP refusals) and `cache-control` of a
//    denial; the identity the origin saw for an allow (sub, class, jti; for DPoP the `cnf` and the
//    key's thumbprint; for a refreshed session a new jti in the same session and both cookies).
//    Any wrong verdict, failed request, failed revocation or timeout fails the run (exit 1).
//
// Then the same requests go straight to the origin, and through a pass-through worker in the same
// workerd setup, at the same concurrency (after a checked warm-up through Warden); the difference
// of the latency percentiles is Warden's added latency. CPU per request is the workerd process's
// utime + stime (/proc/<pid>/stat, the workerd this script started) over the measured run,
// divided by the request count — for Warden (revocations, pushes and logouts of the run included)
// and for the pass-through worker. `--write` records the figures in docs/benchmarks.md under
// "## Load (make load)" (only that section is replaced). The whole run is bounded by
// `--time-limit` seconds.
import { provenance } from "./lib/provenance.mjs";
import { writeSection } from "./lib/sections.mjs";
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { cpus, loadavg, totalmem, tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Miniflare, Log, LogLevel } from "miniflare";
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from "jose";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function option(name, fallback, { zero = false } = {}) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0 || (v === 0 && !zero)) throw new Error(`--${name} needs a ${zero ? "non-negative" : "positive"} integer`);
  return v;
}
function textOption(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (!v || v.startsWith("--")) throw new Error(`--${name} needs a value`);
  return v;
}
const REQUESTS = option("requests", 10_000);
const CONCURRENCY = option("concurrency", 32);
// The 100,000-revocation store takes 2 to 8 minutes to write on a busy 2-core machine.
const TIME_LIMIT_S = option("time-limit", 1200);
const SEED = option("seed", 7);
const STORE = option("store", 100_000, { zero: true });
const BUILD = resolve(ROOT, textOption("build-dir", "build"));
const BUILD_NAME = isAbsolute(relative(ROOT, BUILD)) || relative(ROOT, BUILD).startsWith("..") ? BUILD : relative(ROOT, BUILD);
const WRITE = process.argv.includes("--write");
const REQUEST_TIMEOUT_MS = 10_000;
const WARMUP = Math.min(500, Math.ceil(REQUESTS / 10));
const STORE_BATCH = 1000;
const STORE_SID_EVERY = 100; // 1 store entry in 100 is a sid (ending it costs a session object call), the rest jti
const STORE_PARALLEL = 1; // batch calls in flight (one at a time, as a bulk import would)
const FILTER_WAIT_S = 300;

const ADMIN_TOKEN = `load-admin-${randomBytes(16).toString("hex")}`;
const ISSUER = "https://origin.warden.test"; // the demo origin's defaults
const AUDIENCE = "warden-demo";
const PAT_PREFIX = "wdn_pat_";

// Shared Signals (RFC 8935) and back-channel logout: the transmitter is this script (its key is
// made per run), the logout tokens are signed with the issuer's (the demo origin's) key.
const SSF_ISSUER = "https://transmitter.load.warden.test";
const SSF_AUDIENCE = "https://warden.load.test/ssf";
const SSF_PUSH_TOKEN = `load-push-${randomBytes(16).toString("hex")}`;
const CLIENT_ID = "warden-load-rp";
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";

// Refresh at the edge: the mix includes cookie sessions — some whose access cookie has expired,
// which the edge must refresh through the origin's token endpoint — and a failed refresh is a
// wrong verdict.
const REFRESH = true;
const ACCESS_COOKIE = "warden_access"; // the demo origin's cookie names
const REFRESH_COOKIE = "warden_refresh";

const say = (...a) => console.log(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Processes we start, stopped on every exit path (by their own handles, never by name).

const stoppers = [];
async function stopAll() {
  while (stoppers.length) {
    try {
      await stoppers.pop()();
    } catch {
      // already gone
    }
  }
}
const deadline = setTimeout(async () => {
  console.error(`load: time limit of ${TIME_LIMIT_S} s reached; stopping`);
  await stopAll();
  process.exit(1);
}, TIME_LIMIT_S * 1000);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    await stopAll();
    process.exit(130);
  });
}

function assertLoopback(url, what) {
  const { hostname } = new URL(url);
  if (hostname !== "127.0.0.1") throw new Error(`${what} is not on loopback: ${url}`);
}

// ---------------------------------------------------------------------------------------------
// CPU of the workerd processes this script starts: utime + stime from /proc/<pid>/stat.

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function workerdPids() {
  return new Set(
    readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd";
        } catch {
          return false;
        }
      }),
  );
}
const statFields = (pid) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
/** CPU seconds (user + system, all threads) the process has used so far. */
const cpuSeconds = (pid) => {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
};
/** Starts `mf` and finds its workerd: new since `before`, a child of this process. */
async function readyWithPid(mf, before, what) {
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const pid = [...workerdPids()].find((p) => !before.has(p) && Number(statFields(p)[1]) === process.pid);
  if (!pid) throw new Error(`no workerd process of ${what} found (needed for its CPU)`);
  return { url, pid };
}

/** The demo origin in its own process, with its signing key in a temporary file. */
async function startOriginProcess(dir) {
  const keyFile = join(dir, "origin-key.json");
  const child = spawn(process.execPath, [join(ROOT, "tests/origin/server.mjs"), "--port", "0", "--key-file", keyFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  stoppers.push(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  );
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the demo origin did not start within 20 s")), 20_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`the demo origin exited (${code})`)));
  });
  assertLoopback(url, "the demo origin");
  const jwks = await (await fetch(`${url}/.well-known/jwks.json`)).json();
  const privateJwk = JSON.parse(readFileSync(keyFile, "utf8"));
  return { url, jwks, key: await importJWK(privateJwk, "ES256"), kid: jwks.keys[0].kid };
}

/** The Shared Signals transmitter's key, made for this run; its JWKS goes to Warden inline. */
async function makeTransmitter() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = "load-transmitter-1";
  return { key: privateKey, kid, jwks: { keys: [{ kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: "ES256", use: "sig" }] } };
}

/** Warden (BUILD/index.js) in workerd, listening on 127.0.0.1. Audit lines are counted, not printed. */
async function startWardenServer(origin, transmitter) {
  const script = join(BUILD, "index.js");
  if (!existsSync(script)) throw new Error(`${script} is missing: run 'make build-worker' (or scripts/build-worker.sh ${BUILD_NAME}) first`);
  const auditCounts = {};
  const before = workerdPids();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
    modules: true,
    scriptPath: script,
    modulesRoot: BUILD,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["WARDEN_KV"],
    durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
    bindings: {
      WARDEN_ORIGIN: origin.url,
      WARDEN_JWKS: JSON.stringify(origin.jwks),
      WARDEN_ISSUER: ISSUER,
      WARDEN_AUDIENCE: AUDIENCE,
      WARDEN_ADMIN_TOKEN: ADMIN_TOKEN,
      WARDEN_ROUTES: "/admin=admin",
      WARDEN_REVOCATION_FILTER: "on",
      WARDEN_DPOP: "allowed",
      WARDEN_SSF_ISSUER: SSF_ISSUER,
      WARDEN_SSF_AUDIENCE: SSF_AUDIENCE,
      WARDEN_SSF_JWKS: JSON.stringify(transmitter.jwks),
      WARDEN_SSF_PUSH_TOKEN: SSF_PUSH_TOKEN,
      WARDEN_CLIENT_ID: CLIENT_ID, // back-channel logout on (with WARDEN_ISSUER)
      ...(REFRESH
        ? { WARDEN_ACCESS_COOKIE: ACCESS_COOKIE, WARDEN_REFRESH_PATH: "/oauth/token", WARDEN_REFRESH_COOKIE: REFRESH_COOKIE }
        : {}),
    },
    handleStructuredLogs: ({ message }) => {
      for (const line of message.split("\n")) {
        try {
          const e = JSON.parse(line);
          if (e?.warden === "audit") {
            const key = e.action ? `${e.event}:${e.action}` : e.event;
            auditCounts[key] = (auditCounts[key] ?? 0) + 1;
          }
        } catch {
          // not an audit line
        }
      }
    },
  });
  stoppers.push(() => mf.dispose());
  const { url, pid } = await readyWithPid(mf, before, "the Warden worker");
  assertLoopback(url, "the worker");
  return { url, pid, auditCounts };
}

/**
 * For scale: a pass-through worker in the same workerd setup, forwarding every request to the
 * origin untouched and checking nothing. Warden's figures minus these are Warden's own cost;
 * the rest is workerd's and Miniflare's HTTP hop on this machine.
 */
async function startPassThrough(origin) {
  const before = workerdPids();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
    modules: true,
    script: `export default {
      fetch(request, env) {
        const url = new URL(request.url);
        return fetch(env.ORIGIN + url.pathname + url.search, { method: request.method, headers: request.headers, redirect: "manual" });
      },
    };`,
    compatibilityDate: "2025-09-01",
    bindings: { ORIGIN: origin.url },
  });
  stoppers.push(() => mf.dispose());
  const { url, pid } = await readyWithPid(mf, before, "the pass-through worker");
  assertLoopback(url, "the pass-through worker");
  return { url, pid };
}

// ---------------------------------------------------------------------------------------------
// Tokens, proofs, events

async function mint(origin, claims = {}, { ttl = 900, iat = nowS(), key = origin.key, header = {} } = {}) {
  return new SignJWT({ jti: randomUUID(), sid: randomUUID(), ...claims })
    .setProtectedHeader({ alg: "ES256", kid: origin.kid, typ: "at+jwt", ...header })
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key);
}
const claimsOf = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url"));
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** A DPoP key (RFC 9449): ES256, its public JWK and its RFC 7638 thumbprint. */
async function dpopKey() {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, "sha256") };
}
/** A fresh proof for GET `htu` with `token` (new jti, iat now). */
function dpopProof(key, token, htu) {
  const ath = createHash("sha256").update(token).digest("base64url");
  return new SignJWT({ jti: randomUUID(), htm: "GET", htu, iat: nowS(), ath })
    .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk })
    .sign(key.privateKey);
}

/** A Shared Signals SET: CAEP session-revoked naming `sid`, or credential-change for `sub`. */
function securityEventToken(transmitter, { sid, sub }) {
  const iat = nowS();
  const sub_id = sid
    ? { format: "complex", user: { format: "opaque", id: sub }, session: { format: "opaque", id: sid } }
    : { format: "opaque", id: sub };
  const events = sid
    ? { [`${CAEP}session-revoked`]: { event_timestamp: iat } }
    : { [`${CAEP}credential-change`]: { credential_type: "password", change_type: "update", event_timestamp: iat } };
  return new SignJWT({ iss: SSF_ISSUER, aud: SSF_AUDIENCE, iat, jti: randomUUID(), sub_id, events })
    .setProtectedHeader({ alg: "ES256", kid: transmitter.kid, typ: "secevent+jwt" })
    .sign(transmitter.key);
}

/** An OpenID Connect back-channel logout token from the issuer: `sid` (and `sub`), or only `sub`. */
function logoutToken(origin, { sid, sub }) {
  const claims = { iss: ISSUER, aud: CLIENT_ID, iat: nowS(), jti: randomUUID(), events: { [BACKCHANNEL_EVENT]: {} }, sub };
  if (sid) claims.sid = sid;
  return new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: origin.kid, typ: "logout+jwt" }).sign(origin.key);
}

// Seeded PRNG (mulberry32): the same mix and order for a given --seed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffle(xs, random) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}
/** The revocations in a seeded order in which each channel's are spread over the whole run. */
function interleave(revocations, random) {
  const placed = [];
  for (const via of new Set(revocations.map((r) => r.via))) {
    const mine = shuffle(revocations.filter((r) => r.via === via), random);
    mine.forEach((r, i) => placed.push({ r, at: (i + random()) / mine.length }));
  }
  return placed.sort((a, b) => a.at - b.at).map((x) => x.r);
}

async function adminCall(warden, path, body, { method = "POST", timeout = REQUEST_TIMEOUT_MS } = {}) {
  const r = await fetch(`${warden.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeout),
  });
  const text = await r.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { status: r.status, body: parsed };
}

/** A revocation issued during the run, through `via`; resolves to null when acknowledged, else why not. */
function revocationCall(warden, origin, transmitter, via, what) {
  if (via === "admin") {
    return async () => {
      const r = await adminCall(warden, "/_warden/revoke", what);
      return r.status === 200 && r.body.ok === true ? null : `${r.status} ${JSON.stringify(r.body)}`;
    };
  }
  if (via === "ssf") {
    return async (mark) => {
      const set = await securityEventToken(transmitter, what);
      mark();
      const r = await fetch(`${warden.url}/_warden/ssf/push`, {
        method: "POST",
        headers: { authorization: `Bearer ${SSF_PUSH_TOKEN}`, "content-type": "application/secevent+jwt" },
        body: set,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await r.text();
      return r.status === 202 ? null : `${r.status} ${text}`;
    };
  }
  return async (mark) => {
    const token = await logoutToken(origin, what);
    mark();
    const r = await fetch(`${warden.url}/_warden/oidc/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: token }).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await r.text();
    return r.status === 200 ? null : `${r.status} ${text}`;
  };
}

// ---------------------------------------------------------------------------------------------
// The store: STORE active revocations written before the run, and the filter that publishes them

/**
 * Writes STORE revocations through POST /_warden/revoke/batch (1,000 per call), `seeded` first
 * (the ids of the "revoked in the store" tokens), the rest made up. Returns the time it took.
 */
async function writeStore(warden, seeded) {
  const exp = nowS() + 4 * 3600;
  const entries = [...seeded];
  for (let i = seeded.length; i < STORE; i++) {
    entries.push(i % STORE_SID_EVERY === 0 ? { sid: `store-sid-${i}-${randomUUID()}` } : { jti: `store-jti-${i}-${randomUUID()}`, exp });
  }
  const batches = [];
  for (let i = 0; i < entries.length; i += STORE_BATCH) batches.push(entries.slice(i, i + STORE_BATCH));
  const t0 = performance.now();
  let written = 0;
  let retries = 0;
  let lastSay = t0;
  await runPool(batches, STORE_PARALLEL, async (batch) => {
    for (let attempt = 1; ; attempt++) {
      let r;
      try {
        r = await adminCall(warden, "/_warden/revoke/batch", { revocations: batch }, { timeout: 60_000 });
      } catch (e) {
        r = { status: 0, body: { error: `${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.name}: ${e.cause.message})` : ""}` } };
      }
      if (r.status === 200 && r.body.revoked === batch.length) break;
      // 503 (or no answer): retry the whole batch (every write is idempotent); anything else fails.
      if (r.status !== 503 && r.status !== 0) throw new Error(`store: batch answered ${r.status} ${JSON.stringify(r.body)}`);
      if (attempt >= 5) throw new Error(`store: batch still failing after ${attempt} attempts: ${r.status} ${JSON.stringify(r.body)}`);
      retries += 1;
      say(`    store: a batch answered ${r.status} ${JSON.stringify(r.body)}; retrying it (attempt ${attempt + 1})`);
      await sleep(500 * attempt);
    }
    written += batch.length;
    const now = performance.now();
    if (now - lastSay > 5000 || written === STORE) {
      lastSay = now;
      const s = (now - t0) / 1000;
      say(`    store: ${written.toLocaleString("en")} / ${STORE.toLocaleString("en")} revocations written (${s.toFixed(0)} s, ${(written / s).toFixed(0)}/s${retries ? `, ${retries} batches retried` : ""})`);
    }
  });
  return { seconds: (performance.now() - t0) / 1000, retries };
}

/**
 * Waits until the isolate holds the published filter: `loaded`, no `problem`, `ids + delta >=
 * want`. The isolate reads the filter when a request needs a revocation answer (once per
 * WARDEN_SNAPSHOT_SECONDS), so each poll also sends one valid request (a new URL each time, so
 * the entry module's replay never answers it).
 */
async function waitForFilter(warden, probeToken, want) {
  const t0 = performance.now();
  let lastSay = 0;
  for (let i = 0; ; i++) {
    let h;
    try {
      const probe = await fetch(`${warden.url}/api/filter-probe?i=${i}`, { headers: { authorization: `Bearer ${probeToken}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await probe.arrayBuffer();
      if (probe.status !== 200) throw new Error(`filter probe answered ${probe.status}`);
      h = await adminCall(warden, "/_warden/health", null, { method: "GET" });
    } catch (e) {
      // Readiness polling only (no verdict is judged here): say so and poll again.
      say(`    filter: poll failed (${e.message}${e.cause ? `: ${e.cause.code ?? e.cause.message}` : ""}); polling again`);
      h = { status: 0, body: {} };
    }
    const f = h.body.filter ?? {};
    const ready = h.status === 200 && f.loaded === true && f.problem === null && (f.ids ?? 0) + (f.delta ?? 0) >= want;
    const s = (performance.now() - t0) / 1000;
    if (ready || s - lastSay >= 5) {
      lastSay = s;
      say(`    filter (${s.toFixed(0)} s): ${JSON.stringify(f)}`);
    }
    if (ready) return f;
    if (s > FILTER_WAIT_S) throw new Error(`the published filter did not hold ${want} revocations within ${FILTER_WAIT_S} s`);
    await sleep(1000);
  }
}

// ---------------------------------------------------------------------------------------------
// The mix

/** Tokens whose jti (or sid) the store holds: minted before the store is written. */
async function storeTokens(origin) {
  if (STORE === 0) return { tokens: [], seeded: [] };
  const exp = nowS() + 4 * 3600;
  const tokens = [];
  const seeded = [];
  const n = Math.min(120, STORE);
  for (let i = 0; i < n; i++) {
    const t = await mint(origin, { sub: `stored-${i}` }, { ttl: 3600 });
    const { jti, sid } = claimsOf(t);
    seeded.push(i % 6 === 5 ? { sid } : { jti, exp });
    tokens.push(t);
  }
  return { tokens, seeded };
}

/**
 * Builds the request mix. Each case: { kind, headers, path, expect } where expect is
 * { status, code, challenge? } for a denial or { status: 200, sub, cls, jti, jkt? } for an allow;
 * a DPoP case carries `dpop` ({ mode, key, token }: its headers are made when it is sent); a
 * case whose token is revoked during the run carries `target` (the revocation it depends on).
 */
async function buildMix(origin, warden, transmitter, stored, random) {
  const otherKey = (await generateKeyPair("ES256")).privateKey; // same kid, wrong key
  const bearer = (t) => ({ authorization: `Bearer ${t}` });
  const allow = (t, sub = claimsOf(t).sub) => ({ status: 200, sub, cls: "access", jti: claimsOf(t).jti });
  const deny = (status, code, challenge) => ({ status, code, ...(challenge ? { challenge } : {}) });
  const pools = {};
  const add = (kind, weight, cases) => {
    if (cases.length) pools[kind] = { weight, cases };
  };

  // Valid: a re-used pool (the verified-token cache answers) and tokens seen once (full verify).
  const reused = await Promise.all(Array.from({ length: 200 }, (_, i) => mint(origin, { sub: `user-${i}`, scope: "read" })));
  add("valid (re-used)", 22, reused.map((t) => ({ headers: bearer(t), path: "/api/items", expect: allow(t) })));
  const once = await Promise.all(Array.from({ length: Math.ceil(REQUESTS * 0.2) }, (_, i) => mint(origin, { sub: `once-${i}` })));
  add("valid (first sight)", 17, once.map((t) => ({ headers: bearer(t), path: "/api/items", expect: allow(t), once: true })));

  const expired = await Promise.all(Array.from({ length: 100 }, (_, i) => mint(origin, { sub: `exp-${i}` }, { iat: nowS() - 400, ttl: 300 })));
  add("expired", 6, expired.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_expired") })));

  const revokedBefore = await Promise.all(Array.from({ length: 100 }, (_, i) => mint(origin, { sub: `rb-${i}` })));
  for (const t of revokedBefore) {
    const { jti, exp, sub } = claimsOf(t);
    const r = await adminCall(warden, "/_warden/revoke", { jti, exp, sub });
    if (r.status !== 200) throw new Error(`setup: revoke answered ${r.status}`);
  }
  add("revoked before the run", 4, revokedBefore.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_revoked") })));
  add(`revoked in the store`, 3, stored.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_revoked") })));

  // Revoked during the run: through the admin API (by jti, session, subject cutoff, PAT id), as
  // Shared Signals pushes (session-revoked for a sid, credential-change for a user) and as
  // back-channel logouts (a sid, or only a sub). Each revocation: { target, via, call }.
  const revocations = [];
  const during = { admin: [], ssf: [], backchannel: [] };
  const revoke = (via, target, what) => revocations.push({ target, via, call: revocationCall(warden, origin, transmitter, via, what) });
  for (let i = 0; i < 240; i++) {
    const t = await mint(origin, { sub: `rd-${i % 40}` });
    const { jti, exp, sub } = claimsOf(t);
    const target = `jti:${jti}`;
    revoke("admin", target, { jti, exp, sub });
    during.admin.push({ headers: bearer(t), path: "/api", expect: allow(t), target });
  }
  // Sessions (3 tokens each) and subject cutoffs (3 tokens each, issued before the cutoff), per channel.
  const sessions = async (via, n, prefix) => {
    for (let i = 0; i < n; i++) {
      const sid = `${prefix}-sid-${i}-${randomUUID()}`;
      const sub = `${prefix}-user-${i % 5}`;
      revoke(via, `sid:${sid}`, { sid, sub });
      for (let k = 0; k < 3; k++) {
        const t = await mint(origin, { sub, sid });
        during[via].push({ headers: bearer(t), path: "/api", expect: allow(t), target: `sid:${sid}` });
      }
    }
  };
  const cutoffs = async (via, n, prefix) => {
    for (let i = 0; i < n; i++) {
      const sub = `${prefix}-cut-${i}-${randomUUID()}`;
      revoke(via, `sub:${sub}`, { sub }); // before = now (admin), the event's time (SSF), the logout token's iat
      for (let k = 0; k < 3; k++) {
        const t = await mint(origin, { sub }, { iat: nowS() - 10 - k });
        during[via].push({ headers: bearer(t), path: "/api", expect: allow(t), target: `sub:${sub}` });
      }
    }
  };
  await sessions("admin", 20, "adm");
  await cutoffs("admin", 10, "adm");
  const newPat = async (sub, expires_at = 0) => {
    const r = await adminCall(warden, "/_warden/pats", { sub, expires_at, scopes: ["read"] });
    if (r.status !== 201) throw new Error(`setup: PAT issue answered ${r.status}`);
    return r.body;
  };
  for (let i = 0; i < 10; i++) {
    const p = await newPat(`pat-rd-${i}`);
    revoke("admin", `pat:${p.id}`, { pat: p.id });
    during.admin.push({ headers: bearer(p.token), path: "/api", expect: { status: 200, sub: `pat-rd-${i}`, cls: "pat", jti: p.id }, target: `pat:${p.id}` });
  }
  await sessions("ssf", 20, "ssf");
  await cutoffs("ssf", 10, "ssf");
  await sessions("backchannel", 20, "bcl");
  await cutoffs("backchannel", 10, "bcl");
  add("revoked during the run (admin API)", 12, during.admin);
  add("revoked during the run (SSF push)", 5, during.ssf);
  add("revoked during the run (back-channel logout)", 5, during.backchannel);

  const header = b64({ alg: "ES256", kid: origin.kid, typ: "at+jwt" });
  const body = b64({ sub: "m", iat: nowS(), exp: nowS() + 60 });
  const malformed = [
    [{ authorization: "Bearer not-a-token" }, deny(401, "token_malformed")],
    [bearer(`${b64({ alg: "none" })}.${body}.`), deny(401, "token_malformed")],
    [bearer(`${b64({ alg: "ES256", kid: origin.kid, crit: ["exp"] })}.${body}.c2ln`), deny(401, "token_malformed")],
    [bearer(`${header}.${body}.c2ln.extra`), deny(401, "token_malformed")],
    [bearer(`${header}.${body}=.c2ln`), deny(401, "token_malformed")],
    [bearer(`${header}.${body}.${"A".repeat(86)}+/`), deny(401, "token_malformed")],
    [bearer("a".repeat(9000)), deny(401, "token_malformed")],
    [{ authorization: "Bearer " }, deny(400, "invalid_request")],
    [{ authorization: "bearer abc.def.ghi" }, deny(400, "invalid_request")],
    [{ authorization: "Bearer a.b.c, Bearer d.e.f" }, deny(400, "invalid_request")],
  ];
  add("malformed", 6, malformed.map(([headers, expect]) => ({ headers, path: "/api", expect })));

  const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(origin, { sub: `forged-${i}` }, { key: otherKey })));
  add("bad signature", 2, forged.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_bad_signature") })));
  const wrongAud = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(origin, { sub: `aud-${i}`, aud: "someone-else" })));
  add("wrong audience", 2, wrongAud.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_wrong_audience") })));
  const unknownKid = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(origin, { sub: `kid-${i}` }, { header: { kid: `gone-${i}` } })));
  add("unknown kid", 2, unknownKid.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_unknown_key") })));
  add("no credentials", 2, [{ headers: {}, path: "/api", expect: deny(401, "token_missing") }]);

  const pats = [];
  for (let i = 0; i < 20; i++) pats.push(await newPat(`pat-${i}`));
  add("PAT", 4, pats.map((p, i) => ({ headers: bearer(p.token), path: "/api", expect: { status: 200, sub: `pat-${i}`, cls: "pat", jti: p.id } })));
  const unknownPats = Array.from({ length: 20 }, () => `${PAT_PREFIX}${randomBytes(32).toString("hex")}`);
  add("PAT unknown", 1, unknownPats.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_unknown") })));
  const expiring = [];
  for (let i = 0; i < 5; i++) expiring.push(await newPat(`pat-exp-${i}`, nowS() + 2));
  add("PAT expired", 1, expiring.map((p) => ({ headers: bearer(p.token), path: "/api", expect: deny(401, "token_expired") })));

  const reader = await mint(origin, { sub: "reader", scope: "read" });
  const root = await mint(origin, { sub: "root", scope: "admin read" });
  add("scope", 2, [
    { headers: bearer(reader), path: "/admin/users", expect: deny(403, "insufficient_scope") },
    { headers: bearer(root), path: "/admin/users", expect: allow(root) },
  ]);

  // DPoP (RFC 9449): tokens bound to a key (cnf.jkt). Proofs are signed just before each request
  // is sent (iat now, a new jti), so the mix can wait as long as the store takes. "replayed"
  // re-sends, with its token and URL, a proof Warden already accepted (a fresh-proof request
  // that got its 200 before); "wrong URL" signs a fresh proof for another path.
  const dpopKeys = await Promise.all(Array.from({ length: 40 }, () => dpopKey()));
  const dpopTokens = await Promise.all(dpopKeys.map((key, i) => mint(origin, { sub: `dpop-${i}`, cnf: { jkt: key.jkt } })));
  const dpopCase = (mode, expect) => (key, i) => ({ path: "/api/items", dpop: { mode, key, token: dpopTokens[i] }, headers: {}, expect: expect(key, i) });
  const dpopChallenge = (error) => `DPoP error="${error}"`;
  add("DPoP, fresh proof", 8, dpopKeys.map(dpopCase("fresh", (key, i) => ({ ...allow(dpopTokens[i]), jkt: key.jkt }))));
  add("DPoP, replayed proof", 3, dpopKeys.map(dpopCase("replay", () => deny(401, "dpop_replayed", dpopChallenge("invalid_dpop_proof")))));
  add("DPoP, proof for another URL", 2, dpopKeys.map(dpopCase("wrong-url", () => deny(401, "dpop_htu_mismatch", dpopChallenge("invalid_dpop_proof")))));
  add("DPoP-bound token as bearer", 1, dpopKeys.map(dpopCase("bearer", () => deny(401, "dpop_bound_token_as_bearer", dpopChallenge("invalid_token")))));

  // Cookie sessions (refresh at the edge): a session logged in at the origin, its access token in
  // the access cookie and its refresh token in the refresh cookie. "refresh needed" sessions
  // present an expired access token (same sub and sid, signed by the issuer): the edge must
  // refresh through the origin's token endpoint, serve the request with the new token and set
  // both cookies. Each is used once (a second use of a rotated refresh token would be reuse).
  if (REFRESH) {
    const login = async (username) => {
      const r = await fetch(`${origin.url}/login`, { method: "POST", body: JSON.stringify({ username }) });
      if (r.status !== 200) throw new Error(`setup: origin login answered ${r.status}`);
      const b = await r.json();
      return { access: b.access_token, refresh: b.refresh_token, ...claimsOf(b.access_token) };
    };
    const cookies = (access, refresh) => ({ cookie: `theme=dark; ${ACCESS_COOKIE}=${access}; ${REFRESH_COOKIE}=${refresh}` });
    const live = [];
    for (let i = 0; i < 50; i++) live.push(await login(`cookie-${i}`));
    add("cookie session", 3, live.map((s) => ({ headers: cookies(s.access, s.refresh), path: "/api", expect: { status: 200, sub: s.sub, cls: "session", jti: s.jti } })));
    const due = [];
    const n = Math.ceil((REQUESTS * 4) / 100) + 50;
    for (let i = 0; i < n; i++) {
      const s = await login(`refresh-${i}`);
      const expired = await mint(origin, { sub: s.sub, sid: s.sid }, { iat: nowS() - 400, ttl: 300 });
      due.push({
        headers: cookies(expired, s.refresh),
        path: "/api",
        expect: { status: 200, sub: s.sub, cls: "session", sid: s.sid, refreshedFrom: claimsOf(expired).jti },
        once: true,
      });
    }
    add("cookie session, refresh needed", 4, due);
  }

  // PATs that expire must be past their expiry before the run starts.
  const latest = Math.max(...expiring.map((p) => p.expires_at));
  while (nowS() <= latest) await sleep(200);
  return { pools, revocations: interleave(revocations, random) };
}

/** REQUESTS cases drawn by weight (seeded); first-sight tokens are used once each. */
function schedule(pools, count, random) {
  const kinds = Object.keys(pools);
  const total = kinds.reduce((s, k) => s + pools[k].weight, 0);
  const cursor = Object.fromEntries(kinds.map((k) => [k, 0]));
  const out = [];
  while (out.length < count) {
    let x = random() * total;
    const kind = kinds.find((k) => (x -= pools[k].weight) < 0) ?? kinds[0];
    const { cases } = pools[kind];
    if (cases[0].once && cursor[kind] >= cases.length) continue; // used up: draw again
    const c = cases[0].once ? cases[cursor[kind]++] : cases[Math.floor(random() * cases.length)];
    out.push({ kind, ...c });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running and judging

/**
 * Proofs Warden accepted during this process's Warden runs, for the "replayed" cases: each entry
 * { token, path, proof, iat }, added once its request got its 200. A replay takes the newest one
 * no older than REPLAY_MAX_AGE_S (well inside the proof's max age of 60 s + leeway, so the only
 * thing wrong with it is that it was used). Before a run, one fresh request is sent and checked
 * when there is none (a "priming" request, outside the count); during a run the fresh-proof
 * requests keep it supplied (a priming request inside the run would be counted apart).
 */
const REPLAY_MAX_AGE_S = 20;
function replayLedger() {
  return { accepted: [], primed: 0, primeFailures: [] };
}

/** A proof Warden accepted recently enough to replay; sends a priming request when there is none. */
async function replayable(base, c, ledger) {
  const used = ledger.accepted.at(-1);
  if (used && used.iat >= nowS() - REPLAY_MAX_AGE_S) return used;
  const { key, token } = c.dpop;
  const proof = await dpopProof(key, token, `${base}${c.path}`);
  let status;
  try {
    const r = await fetch(`${base}${c.path}`, { headers: { authorization: `DPoP ${token}`, dpop: proof }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await r.arrayBuffer();
    status = r.status;
  } catch (e) {
    status = `failed (${e.message})`;
  }
  ledger.primed += 1;
  if (status !== 200) ledger.primeFailures.push(`priming DPoP request (fresh proof): expected 200, got ${status}`);
  const entry = { token, path: c.path, proof, iat: claimsOf(proof).iat };
  ledger.accepted.push(entry);
  return entry;
}

/** The headers and path of a DPoP case, made now (against `base`). */
async function dpopRequest(base, c, ledger) {
  const { mode, key, token } = c.dpop;
  if (mode === "bearer") return { headers: { authorization: `Bearer ${token}` }, path: c.path };
  if (mode === "replay" && ledger) {
    const used = await replayable(base, c, ledger);
    return { headers: { authorization: `DPoP ${used.token}`, dpop: used.proof }, path: used.path };
  }
  const htu = mode === "wrong-url" ? `${base}/elsewhere` : `${base}${c.path}`;
  const proof = await dpopProof(key, token, htu);
  return { headers: { authorization: `DPoP ${token}`, dpop: proof }, path: c.path, proof };
}

async function send(base, c, ledger) {
  let headers = c.headers;
  let path = c.path;
  let proof;
  if (c.dpop) ({ headers, path, proof } = await dpopRequest(base, c, ledger));
  const t0 = performance.now();
  try {
    const r = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await r.text();
    const res = { t0, t1: performance.now(), status: r.status, headers: r.headers, text };
    if (ledger && proof && c.dpop.mode === "fresh" && r.status === 200) {
      ledger.accepted.push({ token: c.dpop.token, path, proof, iat: claimsOf(proof).iat });
      if (ledger.accepted.length > 100) ledger.accepted.shift();
    }
    return res;
  } catch (e) {
    return { t0, t1: performance.now(), status: 0, error: e.message };
  }
}

/** Why `res` is not the answer `c` must get, or null. `revokedState`: "before", "after" or "racing". */
function wrongVerdict(c, res, revokedState) {
  if (res.status === 0) return `request failed: ${res.error}`;
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    return `status ${res.status}, body not JSON`;
  }
  const isAllow = (e) => {
    if (res.status !== 200) return `expected 200, got ${res.status} ${body.code ?? ""}`;
    const id = body.identity ?? {};
    if (id["x-warden-sub"] !== e.sub) return `origin saw sub ${id["x-warden-sub"]}, expected ${e.sub}`;
    if (id["x-warden-class"] !== e.cls) return `origin saw class ${id["x-warden-class"]}, expected ${e.cls}`;
    if (e.jkt) {
      if (id["x-warden-cnf"] !== "dpop") return `origin saw cnf ${id["x-warden-cnf"]}, expected dpop`;
      if (id["x-warden-jkt"] !== e.jkt) return `origin saw jkt ${id["x-warden-jkt"]}, expected ${e.jkt}`;
    } else if (id["x-warden-cnf"] !== undefined || id["x-warden-jkt"] !== undefined) {
      return `origin saw a sender constraint (${id["x-warden-cnf"]}) for an unbound credential`;
    }
    if (e.refreshedFrom) {
      // Served with the new access token: same session, a new jti, and both cookies set.
      if (id["x-warden-sid"] !== e.sid) return `origin saw sid ${id["x-warden-sid"]}, expected ${e.sid}`;
      if (!id["x-warden-jti"] || id["x-warden-jti"] === e.refreshedFrom) return "not served with a fresh access token";
      const set = res.headers.getSetCookie().map((c) => c.split(";")[0]);
      for (const name of [ACCESS_COOKIE, REFRESH_COOKIE]) {
        if (!set.some((c) => c.startsWith(`${name}=`) && c.length > name.length + 1)) return `no new ${name} cookie set`;
      }
      return null;
    }
    if (id["x-warden-jti"] !== e.jti) return `origin saw jti ${id["x-warden-jti"]}, expected ${e.jti}`;
    return null;
  };
  const isDeny = (status, code, expected) => {
    if (res.status !== status || body.code !== code) return `expected ${status} ${code}, got ${res.status} ${body.code ?? ""}`;
    if (res.headers.get("cache-control") !== "no-store") return "denial without cache-control: no-store";
    const challenge = res.headers.get("www-authenticate") ?? "";
    if (expected) return challenge.startsWith(expected) ? null : `challenge ${challenge}, expected ${expected}…`;
    if (code === "token_missing" && challenge !== "Bearer") return `challenge ${challenge}`;
    if (status === 401 && code !== "token_missing" && !challenge.startsWith('Bearer error="invalid_token"')) return `challenge ${challenge}`;
    if (status === 400 && !challenge.startsWith('Bearer error="invalid_request"')) return `challenge ${challenge}`;
    if (status === 403 && !challenge.startsWith('Bearer error="insufficient_scope"')) return `challenge ${challenge}`;
    return null;
  };
  if (c.target) {
    if (revokedState === "after") return isDeny(401, "token_revoked");
    if (revokedState === "before") return isAllow(c.expect);
    // Racing its revocation: either answer is right (null means right), nothing else is.
    const notAllowed = isAllow(c.expect);
    return notAllowed && isDeny(401, "token_revoked") && `neither allowed nor revoked: ${notAllowed}`;
  }
  return c.expect.status === 200 ? isAllow(c.expect) : isDeny(c.expect.status, c.expect.code, c.expect.challenge);
}

async function runPool(cases, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, cases.length) }, async () => {
      while (next < cases.length) {
        const i = next++;
        await fn(cases[i], i);
      }
    }),
  );
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] };
};

/** Runs the cases through Warden, issuing `revocations` evenly spread over the run; CPU of its workerd. */
async function runThroughWarden(warden, cases, revocations, ledger) {
  const times = new Map(); // target -> { sent, acked, via }
  let completed = 0;
  const failures = [];
  const results = new Array(cases.length);
  const step = cases.length / (revocations.length + 1);
  // A proof to replay from the first request on, primed before the clock and the CPU count start.
  const firstReplay = cases.find((c) => c.dpop?.mode === "replay");
  if (firstReplay) await replayable(warden.url, firstReplay, ledger);
  const primedBefore = ledger.primed;
  const cpu0 = cpuSeconds(warden.pid);
  const revoker = (async () => {
    for (let i = 0; i < revocations.length; i++) {
      while (completed < Math.floor((i + 1) * step)) await sleep(2);
      const { target, via, call } = revocations[i];
      const t = { sent: Infinity, acked: Infinity, via };
      times.set(target, t);
      const mark = () => (t.sent = performance.now());
      let why;
      try {
        mark(); // an admin call is made and sent at once; a push or a logout marks after signing
        why = await call(mark);
      } catch (e) {
        why = `failed: ${e.message}`;
      }
      if (why) failures.push(`${via} revocation of ${target}: ${why}`);
      else t.acked = performance.now();
    }
  })();
  const t0 = performance.now();
  await runPool(cases, CONCURRENCY, async (c, i) => {
    results[i] = await send(warden.url, c, ledger);
    completed += 1;
  });
  const wall = performance.now() - t0;
  await revoker;
  const cpu = cpuSeconds(warden.pid) - cpu0;

  const wrong = [];
  const racing = { count: 0, refused: 0 };
  const afterAck = { admin: 0, ssf: 0, backchannel: 0 };
  const revokedState = (c, res) => {
    const t = times.get(c.target);
    if (!t || res.t1 < t.sent) return "before";
    if (res.t0 > t.acked) {
      afterAck[t.via] += 1;
      return "after";
    }
    racing.count += 1;
    if (res.status === 401) racing.refused += 1;
    return "racing";
  };
  cases.forEach((c, i) => {
    const res = results[i];
    const state = c.target ? revokedState(c, res) : null;
    const why = wrongVerdict(c, res, state);
    if (why) wrong.push(`#${i} ${c.kind}${state ? ` (${state} its revocation)` : ""}: ${why}`);
  });
  for (const x of ledger.primeFailures.splice(0)) wrong.push(x);
  return { results, wall, wrong, failures, racing, afterAck, cpu, primed: ledger.primed - primedBefore, primedBefore };
}

async function runDirect(originUrl, cases, pid) {
  const results = new Array(cases.length);
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const t0 = performance.now();
  await runPool(cases, CONCURRENCY, async (c, i) => {
    results[i] = await send(originUrl, c, null);
  });
  const wall = performance.now() - t0;
  const cpu = pid ? cpuSeconds(pid) - cpu0 : null;
  const failed = results.filter((r) => r.status !== 200).length;
  return { results, wall, failed, cpu };
}

// ---------------------------------------------------------------------------------------------

function table(rows) {
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}
const ms = (x) => `${x.toFixed(2)} ms`;

function writeDocs(text) {
  const heading = "## Load (make load)";
  writeSection(join(ROOT, "docs/benchmarks.md"), heading, text);
  say(`==> wrote the "${heading}" section of docs/benchmarks.md`);
}

async function main() {
  // As scripts/load.sh does: no fetch of the `Request.cf` placeholder from the Internet.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  process.env.WRANGLER_SEND_METRICS ??= "false";
  // Other work on the machine slows every figure: say how busy it was before anything started.
  const loadBefore = loadavg()[0];
  if (loadBefore > cpus().length / 2) say(`    note: the machine is busy (1-minute load average ${loadBefore.toFixed(2)}); figures will be slower`);
  const { commit, clean } = provenance(ROOT);
  say(`==> commit ${commit} (${clean}); worker from ${BUILD_NAME}/`);
  const dir = mkdtempSync(join(tmpdir(), "warden-load-"));
  stoppers.push(() => rmSync(dir, { recursive: true, force: true }));
  say(`==> demo origin (own process) and Warden (${BUILD_NAME}/index.js in workerd via Miniflare) on 127.0.0.1`);
  const origin = await startOriginProcess(dir);
  const transmitter = await makeTransmitter();
  const warden = await startWardenServer(origin, transmitter);
  say(`    origin ${origin.url}, worker ${warden.url} (workerd pid ${warden.pid})`);
  const random = rng(SEED);
  const probeToken = await mint(origin, { sub: "filter-probe" }, { ttl: 3600 });

  let store = { seconds: 0, retries: 0 };
  const { tokens: stored, seeded } = await storeTokens(origin);
  if (STORE > 0) {
    say(`==> the store: ${STORE.toLocaleString("en")} revocations through POST /_warden/revoke/batch, ${STORE_BATCH} per call (WARDEN_REVOCATION_FILTER=on)`);
    store = await writeStore(warden, seeded);
    say(`==> waiting for the published filter to hold them (GET /_warden/health)`);
    await waitForFilter(warden, probeToken, STORE);
  }

  say("==> minting tokens and DPoP keys, revoking some and issuing PATs through the admin API");
  const { pools, revocations } = await buildMix(origin, warden, transmitter, stored, random);
  const cases = schedule(pools, REQUESTS, random);
  // The warm-up re-uses only what may be re-used: nothing revoked mid-run, nothing single-use.
  const staticPools = Object.fromEntries(Object.entries(pools).filter(([k, p]) => !k.startsWith("revoked during the run") && !p.cases[0].once));
  const warmup = schedule(staticPools, WARMUP, rng(SEED + 1));
  const ledger = replayLedger();

  say(`==> warm-up: ${WARMUP} requests through Warden (checked, not measured)`);
  const w0 = await runThroughWarden(warden, warmup, [], ledger);
  if (w0.wrong.length) {
    for (const x of w0.wrong.slice(0, 20)) console.error(`    WRONG ${x}`);
    throw new Error(`${w0.wrong.length} wrong verdicts during the warm-up`);
  }

  say(`==> baseline: the same ${REQUESTS} requests straight to the origin, concurrency ${CONCURRENCY}`);
  const direct = await runDirect(origin.url, cases, null);
  if (direct.failed) throw new Error(`${direct.failed} requests to the origin failed`);

  say(`==> for scale: the same requests through a pass-through worker (workerd, checks nothing)`);
  const passThrough = await startPassThrough(origin);
  await runDirect(passThrough.url, warmup, null);
  const pass = await runDirect(passThrough.url, cases, passThrough.pid);
  if (pass.failed) throw new Error(`${pass.failed} requests through the pass-through worker failed`);

  let filter = null;
  if (STORE > 0) {
    say(`==> before the run: the published filter (GET /_warden/health)`);
    filter = await waitForFilter(warden, probeToken, STORE);
  }
  const via = (v) => revocations.filter((r) => r.via === v).length;
  say(`==> load: ${REQUESTS} requests through Warden, concurrency ${CONCURRENCY}, ${revocations.length} revocations during the run (admin API ${via("admin")}, SSF push ${via("ssf")}, back-channel logout ${via("backchannel")})`);
  const run = await runThroughWarden(warden, cases, revocations, ledger);
  const filterAfter = STORE > 0 ? (await adminCall(warden, "/_warden/health", null, { method: "GET" })).body.filter : null;
  const unusable = Object.entries(warden.auditCounts).filter(([k]) => k.startsWith("revocation_filter:unusable")).reduce((n, [, v]) => n + v, 0);

  // Figures.
  const lat = (results, pick = () => true) => stats(results.filter((r, i) => pick(cases[i], r)).map((r) => r.t1 - r.t0));
  const w = lat(run.results);
  const d = lat(direct.results);
  const p = lat(pass.results);
  const rpsPass = (REQUESTS / pass.wall) * 1000;
  const wAllow = lat(run.results, (_c, r) => r.status === 200);
  const wDeny = lat(run.results, (_c, r) => r.status !== 200);
  const rps = (REQUESTS / run.wall) * 1000;
  const rpsDirect = (REQUESTS / direct.wall) * 1000;
  const cpuPerReq = (run.cpu / REQUESTS) * 1000; // ms
  const cpuPassPerReq = (pass.cpu / REQUESTS) * 1000;
  const byKind = {};
  cases.forEach((c, i) => {
    const k = (byKind[c.kind] ??= { n: 0, statuses: {} });
    k.n += 1;
    const st = run.results[i].status;
    k.statuses[st] = (k.statuses[st] ?? 0) + 1;
  });
  const afterAckTotal = run.afterAck.admin + run.afterAck.ssf + run.afterAck.backchannel;

  say("");
  say(table([
    ["", "requests", "p50", "p99", "max", "throughput", "workerd CPU per request"],
    ["---", "---:", "---:", "---:", "---:", "---:", "---:"],
    ["through Warden", w.n, ms(w.p50), ms(w.p99), ms(w.max), `${rps.toFixed(0)} req/s`, ms(cpuPerReq)],
    ["straight to the origin", d.n, ms(d.p50), ms(d.p99), ms(d.max), `${rpsDirect.toFixed(0)} req/s`, ""],
    ["pass-through worker (for scale)", p.n, ms(p.p50), ms(p.p99), ms(p.max), `${rpsPass.toFixed(0)} req/s`, ms(cpuPassPerReq)],
    ["**added by Warden** (vs the origin)", "", `**${ms(w.p50 - d.p50)}**`, `**${ms(w.p99 - d.p99)}**`, "", "", ""],
    ["of which beyond a pass-through worker", "", ms(w.p50 - p.p50), ms(w.p99 - p.p99), "", "", ms(cpuPerReq - cpuPassPerReq)],
  ]));
  say("");
  say(`CPU of workerd over the run: Warden ${run.cpu.toFixed(2)} s for ${REQUESTS} requests (${ms(cpuPerReq)} each), pass-through ${pass.cpu.toFixed(2)} s (${ms(cpuPassPerReq)} each); clock tick 1/${CLK_TCK} s`);
  say(`allowed (forwarded) through Warden: p50 ${ms(wAllow.p50)}, p99 ${ms(wAllow.p99)} (n=${wAllow.n}); denied at the edge: p50 ${ms(wDeny.p50)}, p99 ${ms(wDeny.p99)} (n=${wDeny.n})`);
  say(`revocations during the run: ${revocations.length} (admin API ${via("admin")}, SSF push ${via("ssf")}, back-channel logout ${via("backchannel")}; all acknowledged: ${run.failures.length === 0})`);
  say(`requests after an acknowledged revocation: ${afterAckTotal} (admin API ${run.afterAck.admin}, SSF push ${run.afterAck.ssf}, back-channel logout ${run.afterAck.backchannel}; all must be refused); racing a revocation: ${run.racing.count} (${run.racing.refused} refused, either answer allowed)`);
  if (STORE > 0) say(`store: ${STORE} revocations written in ${store.seconds.toFixed(0)} s${store.retries ? ` (${store.retries} batches retried)` : ""}; filter at the start of the run: ${JSON.stringify(filter)}; at its end: ${JSON.stringify(filterAfter)}; 'unusable' audit lines: ${unusable}`);
  if (run.primed) say(`DPoP priming requests (a fresh proof to replay, outside the count): ${run.primed}`);
  for (const [k, v] of Object.entries(byKind)) say(`    ${k.padEnd(44)} ${String(v.n).padStart(5)}  ${JSON.stringify(v.statuses)}`);
  say(`audit lines: ${JSON.stringify(warden.auditCounts)}`);
  const loadAfter = loadavg()[0];
  say(`1-minute load average: ${loadBefore.toFixed(2)} before the script started, ${loadAfter.toFixed(2)} at the end`);
  const wrongTotal = run.wrong.length + run.failures.length;
  say(`wrong verdicts: ${run.wrong.length}; failed revocations: ${run.failures.length}`);
  for (const x of [...run.failures, ...run.wrong].slice(0, 30)) console.error(`    WRONG ${x}`);
  say(`==> commit ${commit} (${clean})`);

  if (WRITE && wrongTotal === 0) {
    const cpu = cpus();
    const machine = `${cpu.length} cores (${cpu[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`;
    const miniflareVersion = JSON.parse(readFileSync(join(ROOT, "node_modules/miniflare/package.json"), "utf8")).version;
    const mixRows = Object.entries(byKind)
      .sort((a, b) => b[1].n - a[1].n)
      .map(([k, v]) => `| ${k} | ${v.n} | ${Object.entries(v.statuses).map(([st, n]) => `${st}: ${n}`).join(", ")} |`)
      .join("\n");
    const perReq = (r) => (1000 / r).toFixed(2);
    const command = `node scripts/load.mjs ${process.argv.slice(2).join(" ")}`.trim();
    const storeText =
      STORE > 0
        ? `Before the run, ${STORE.toLocaleString("en")} active revocations (jti, and 1 in ${STORE_SID_EVERY} a sid) were written through
\`POST /_warden/revoke/batch\`, ${STORE_BATCH.toLocaleString("en")} per call, in ${store.seconds.toFixed(0)} s${store.retries ? ` (${store.retries} call${store.retries === 1 ? "" : "s"} retried, as the API allows: every write is idempotent)` : ""}, with \`WARDEN_REVOCATION_FILTER=on\`; the run started only once
\`GET /_warden/health\` showed the published filter loaded with no problem and \`ids + delta\` ≥ ${STORE.toLocaleString("en")}
(at the start of the run: ${filter.ids.toLocaleString("en")} ids in the filter and ${(filter.delta ?? 0).toLocaleString("en")} in its delta, ${filter.bytes.toLocaleString("en")} bytes; at its end:
${(filterAfter?.ids ?? 0).toLocaleString("en")} and ${(filterAfter?.delta ?? 0).toLocaleString("en")}${filterAfter?.problem ? `, problem \`${filterAfter.problem}\`` : ", no problem"}). The isolate answered revocation checks from that filter
(${unusable === 0 ? "no" : unusable} \`revocation_filter\` \`unusable\` audit line${unusable === 1 ? "" : "s"} during the whole script); ${stored.length} tokens of the mix have their jti or sid among
the store's entries ("revoked in the store").`
        : `No store was written (\`--store 0\`); \`WARDEN_REVOCATION_FILTER=on\`.`;
    writeDocs(`## Load (make load)

Command: \`${command}\` (\`make load\` runs \`bash scripts/load.sh --write\` against \`build/\`):
${REQUESTS.toLocaleString("en")} requests at concurrency ${CONCURRENCY}, seed ${SEED}, over a store of ${STORE.toLocaleString("en")} active revocations, bounded
by a ${TIME_LIMIT_S} s time limit; at commit \`${commit}\` (${clean}). Machine: ${machine}.
Warden is the release build (\`${BUILD_NAME}/\`) in workerd through Miniflare ${miniflareVersion}, listening on
127.0.0.1, with local KV and Durable Objects, in front of the demo origin in its own Node
process; the load generator is a third process (Node \`fetch\`, keep-alive). All three share
the machine's cores, so these are figures for a small shared box, not for Cloudflare's edge
(1-minute load average ${loadBefore.toFixed(2)} before the script started, ${loadAfter.toFixed(2)} at its end).

${storeText}

Warden's configuration for the mix: the demo origin's keys and claims, refresh at the edge for
cookie sessions, \`WARDEN_DPOP=allowed\` (replay checked per isolate), Shared Signals push
(\`WARDEN_SSF_ISSUER\`, \`WARDEN_SSF_AUDIENCE\`, a transmitter key made by the script served inline
as \`WARDEN_SSF_JWKS\`, \`WARDEN_SSF_PUSH_TOKEN\`) and back-channel logout (\`WARDEN_CLIENT_ID\`; logout
tokens signed with the issuer's key). DPoP requests carry a proof signed just before sending:
a fresh one (allowed; the origin must see \`x-warden-cnf: dpop\` and the key's thumbprint), one
Warden already accepted (401 \`dpop_replayed\`), one for another URL (401 \`dpop_htu_mismatch\`), or
none with the bound token sent as a bearer token (401 \`dpop_bound_token_as_bearer\`).

The mix (table below): valid access tokens (re-used, and seen once), expired, revoked before the
run, revoked in the store, revoked during the run (three channels), malformed, wrongly signed,
wrong audience, unknown kid, no credentials, PATs (valid, unknown, expired), a scope miss and
its allow, cookie sessions (live, and due for refresh at the edge) and the four DPoP kinds.
Every response is checked against the verdict fixed when its request was built: status, \`code\`,
challenge (\`Bearer\`, or \`DPoP\` for DPoP refusals) and \`cache-control\` of every denial; the
identity the origin saw (sub, class, jti; cnf and thumbprint for DPoP; for a refreshed cookie
session a new jti in the same session and both cookies set) for every allow. ${revocations.length} revocations
were made during the run, spread over it: ${via("admin")} through the admin API (jti, sid, subject cutoff, PAT id),
${via("ssf")} as Shared Signals pushes (signed SETs: CAEP session-revoked for a sid, credential-change for a user)
and ${via("backchannel")} as back-channel logouts (logout tokens naming a sid, or only a sub); all were acknowledged
(200 from the admin API, 202 from \`/_warden/ssf/push\`, 200 from \`/_warden/oidc/backchannel-logout\`).
**${afterAckTotal} requests came after their token's revocation was acknowledged (admin API ${run.afterAck.admin}, SSF push
${run.afterAck.ssf}, back-channel logout ${run.afterAck.backchannel}), and all were refused**; ${run.racing.count} raced it (either answer is right;
${run.racing.refused} of them were refused). **Wrong verdicts: 0.**${run.primed ? ` (${run.primed} DPoP priming request${run.primed === 1 ? "" : "s"} — a fresh proof sent first so that a replay had one to reuse — came on top of the count, checked.)` : ""}

| request kind | requests | answers |
|---|---:|---|
${mixRows}

Latency is measured per request by the load generator, from sending to the last byte. Baseline:
the same ${REQUESTS.toLocaleString("en")} requests at the same concurrency straight to the origin (which echoes
every one), and through a pass-through worker in the same workerd setup that checks nothing.
CPU per request is the workerd process's utime + stime (\`/proc/<pid>/stat\`, all its threads:
the worker, its Durable Objects, Miniflare's entry worker, the HTTP handling) over the measured run,
divided by the ${REQUESTS.toLocaleString("en")} requests — for Warden it includes the revocations, pushes and
logouts of the run and whatever the revocation log object did meanwhile.

| | requests | p50 | p99 | max | throughput | isolate time per request (1 ÷ throughput) | workerd CPU per request |
|---|---:|---:|---:|---:|---:|---:|---:|
| through Warden | ${w.n} | ${ms(w.p50)} | ${ms(w.p99)} | ${ms(w.max)} | ${rps.toFixed(0)} req/s | ${perReq(rps)} ms | ${ms(cpuPerReq)} |
| straight to the origin | ${d.n} | ${ms(d.p50)} | ${ms(d.p99)} | ${ms(d.max)} | ${rpsDirect.toFixed(0)} req/s | | |
| pass-through worker (for scale) | ${p.n} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${rpsPass.toFixed(0)} req/s | ${perReq(rpsPass)} ms | ${ms(cpuPassPerReq)} |
| **added by Warden** (vs the origin; difference of percentiles) | | **${ms(w.p50 - d.p50)}** | **${ms(w.p99 - d.p99)}** | | | | |
| of which beyond a pass-through worker | | ${ms(w.p50 - p.p50)} | ${ms(w.p99 - p.p99)} | | | | ${ms(cpuPerReq - cpuPassPerReq)} |

Split: allowed requests (forwarded to the origin) p50 ${ms(wAllow.p50)}, p99 ${ms(wAllow.p99)} (n = ${wAllow.n});
denied at the edge (no origin round trip) p50 ${ms(wDeny.p50)}, p99 ${ms(wDeny.p99)} (n = ${wDeny.n}).

Reading: with ${CONCURRENCY} requests in flight against one workerd isolate, latency is mostly queueing
(mean latency ≈ concurrency ÷ throughput), so the figures that matter are per request: workerd
spent ${ms(cpuPerReq)} of CPU per request through Warden against ${ms(cpuPassPerReq)} for a worker that only forwards.
That difference is not the token checks alone (microseconds in the isolate, see the worker benchmark):
it also holds the calls between the entry module and wasm, the DPoP proof checks (a signature each),
one audit log line for every denial, and the ${revocations.length} revocations${REFRESH ? " and the refreshes" : ""} done during the run
(Durable Object and KV writes, the revocation log's publishing${REFRESH ? ", the origin's token endpoint" : ""}).
`);
  }
  return wrongTotal === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`load: ${e.stack ?? e}${e.cause ? `\n  cause: ${e.cause.stack ?? e.cause}` : ""}`);
  code = 1;
} finally {
  clearTimeout(deadline);
  await stopAll();
}
if (code !== 0) console.error("load: FAILED");
else say("==> load: 0 wrong verdicts");
process.exit(code);
