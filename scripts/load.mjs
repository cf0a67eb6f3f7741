#!/usr/bin/env node
// `make load`: Warden under load, on loopback only. The built worker (build/index.js, from
// `make build-worker`) runs in workerd through Miniflare, listening on 127.0.0.1, with real local
// KV and Durable Objects, in front of the demo origin (tests/origin/server.mjs, its own process).
//
//   node scripts/load.mjs [--requests 10000] [--concurrency 32] [--time-limit 300] [--seed 7] [--write]
//
// A mixed stream of requests — valid access tokens (half re-used, half seen once), expired,
// revoked before the run, revoked *during* the run (by jti, sid, subject cutoff and PAT id,
// through the admin API while the load runs), malformed, wrongly signed, wrong audience,
// unknown kid, no credentials, PATs (valid, unknown, expired) and a scope miss — goes through
// Warden at the given concurrency. Every response is checked against the verdict it must have
// (status, the JSON `code`, the challenge and `cache-control` of a denial; the identity the origin
// saw for an allow). A request racing the revocation of its token may get either answer; once the
// revocation was acknowledged it must be refused. Any wrong verdict, failed request or timeout
// fails the run (exit 1).
//
// Then the same requests go straight to the origin at the same concurrency; the difference of
// the latency percentiles is Warden's added latency. `--write` records the figures in
// docs/benchmarks.md under "## Load (make load)" (only that section is replaced).
import { provenance } from "./lib/provenance.mjs";
import { writeSection } from "./lib/sections.mjs";
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Miniflare, Log, LogLevel } from "miniflare";
import { SignJWT, generateKeyPair, importJWK } from "jose";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
const REQUESTS = option("requests", 10_000);
const CONCURRENCY = option("concurrency", 32);
const TIME_LIMIT_S = option("time-limit", 300);
const SEED = option("seed", 7);
const WRITE = process.argv.includes("--write");
const REQUEST_TIMEOUT_MS = 10_000;
const WARMUP = Math.min(500, Math.ceil(REQUESTS / 10));

const ADMIN_TOKEN = `load-admin-${randomBytes(16).toString("hex")}`;
const ISSUER = "https://origin.warden.test"; // the demo origin's defaults
const AUDIENCE = "warden-demo";
const PAT_PREFIX = "wdn_pat_";

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

/** Warden (build/index.js) in workerd, listening on 127.0.0.1. Audit lines are counted, not printed. */
async function startWardenServer(origin) {
  const script = join(ROOT, "build/index.js");
  if (!existsSync(script)) throw new Error("build/index.js is missing: run 'make build-worker' first");
  const auditCounts = {};
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
    modules: true,
    scriptPath: script,
    modulesRoot: join(ROOT, "build"),
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
      ...(REFRESH
        ? { WARDEN_ACCESS_COOKIE: ACCESS_COOKIE, WARDEN_REFRESH_PATH: "/oauth/token", WARDEN_REFRESH_COOKIE: REFRESH_COOKIE }
        : {}),
    },
    handleStructuredLogs: ({ message }) => {
      for (const line of message.split("\n")) {
        try {
          const e = JSON.parse(line);
          if (e?.warden === "audit") auditCounts[e.event] = (auditCounts[e.event] ?? 0) + 1;
        } catch {
          // not an audit line
        }
      }
    },
  });
  stoppers.push(() => mf.dispose());
  const url = (await mf.ready).toString().replace(/\/$/, "");
  assertLoopback(url, "the worker");
  return { url, auditCounts };
}

/**
 * For scale: a pass-through worker in the same workerd setup, forwarding every request to the
 * origin untouched and checking nothing. Warden's figures minus these are Warden's own cost;
 * the rest is workerd's and Miniflare's HTTP hop on this machine.
 */
async function startPassThrough(origin) {
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
  const url = (await mf.ready).toString().replace(/\/$/, "");
  assertLoopback(url, "the pass-through worker");
  return { url };
}

// ---------------------------------------------------------------------------------------------
// Tokens

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

async function adminCall(warden, path, body) {
  const r = await fetch(`${warden.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text) };
}

/**
 * Builds the request mix. Each case: { kind, headers, path, expect } where expect is
 * { status, code } for a denial or { status: 200, sub, cls, jti } for an allow; a case whose
 * token is revoked during the run carries `target` (the revocation it depends on).
 */
async function buildMix(origin, warden) {
  const otherKey = (await generateKeyPair("ES256")).privateKey; // same kid, wrong key
  const bearer = (t) => ({ authorization: `Bearer ${t}` });
  const allow = (t, sub = claimsOf(t).sub) => ({ status: 200, sub, cls: "access", jti: claimsOf(t).jti });
  const deny = (status, code) => ({ status, code });
  const pools = {};
  const add = (kind, weight, cases) => {
    pools[kind] = { weight, cases };
  };

  // Valid: a re-used pool (the verified-token cache answers) and tokens seen once (full verify).
  const reused = await Promise.all(Array.from({ length: 200 }, (_, i) => mint(origin, { sub: `user-${i}`, scope: "read" })));
  add("valid (re-used)", 25, reused.map((t) => ({ headers: bearer(t), path: "/api/items", expect: allow(t) })));
  const once = await Promise.all(Array.from({ length: Math.ceil(REQUESTS * 0.22) }, (_, i) => mint(origin, { sub: `once-${i}` })));
  add("valid (first sight)", 20, once.map((t) => ({ headers: bearer(t), path: "/api/items", expect: allow(t), once: true })));

  const expired = await Promise.all(Array.from({ length: 100 }, (_, i) => mint(origin, { sub: `exp-${i}` }, { iat: nowS() - 400, ttl: 300 })));
  add("expired", 8, expired.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_expired") })));

  const revokedBefore = await Promise.all(Array.from({ length: 100 }, (_, i) => mint(origin, { sub: `rb-${i}` })));
  for (const t of revokedBefore) {
    const { jti, exp, sub } = claimsOf(t);
    const r = await adminCall(warden, "/_warden/revoke", { jti, exp, sub });
    if (r.status !== 200) throw new Error(`setup: revoke answered ${r.status}`);
  }
  add("revoked before the run", 6, revokedBefore.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_revoked") })));

  // Revoked during the run: by jti, by session, by subject cutoff, by PAT id.
  const during = [];
  const revocations = [];
  for (let i = 0; i < 240; i++) {
    const t = await mint(origin, { sub: `rd-${i % 40}` });
    const { jti, exp, sub } = claimsOf(t);
    const target = `jti:${jti}`;
    revocations.push({ target, body: { jti, exp, sub } });
    during.push({ headers: bearer(t), path: "/api", expect: allow(t), target });
  }
  for (let i = 0; i < 20; i++) {
    const sid = `load-sid-${i}-${randomUUID()}`;
    revocations.push({ target: `sid:${sid}`, body: { sid, sub: "sess-user" } });
    for (let k = 0; k < 3; k++) {
      const t = await mint(origin, { sub: "sess-user", sid });
      during.push({ headers: bearer(t), path: "/api", expect: allow(t), target: `sid:${sid}` });
    }
  }
  for (let i = 0; i < 10; i++) {
    const sub = `cut-${i}-${randomUUID()}`;
    revocations.push({ target: `sub:${sub}`, body: { sub } }); // before = now (default)
    for (let k = 0; k < 3; k++) {
      const t = await mint(origin, { sub }, { iat: nowS() - 10 - k });
      during.push({ headers: bearer(t), path: "/api", expect: allow(t), target: `sub:${sub}` });
    }
  }
  const newPat = async (sub, expires_at = 0) => {
    const r = await adminCall(warden, "/_warden/pats", { sub, expires_at, scopes: ["read"] });
    if (r.status !== 201) throw new Error(`setup: PAT issue answered ${r.status}`);
    return r.body;
  };
  for (let i = 0; i < 10; i++) {
    const p = await newPat(`pat-rd-${i}`);
    revocations.push({ target: `pat:${p.id}`, body: { pat: p.id } });
    during.push({ headers: bearer(p.token), path: "/api", expect: { status: 200, sub: `pat-rd-${i}`, cls: "pat", jti: p.id }, target: `pat:${p.id}` });
  }
  add("revoked during the run", 15, during);

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
  add("malformed", 8, malformed.map(([headers, expect]) => ({ headers, path: "/api", expect })));

  const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(origin, { sub: `forged-${i}` }, { key: otherKey })));
  add("bad signature", 3, forged.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_bad_signature") })));
  const wrongAud = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(origin, { sub: `aud-${i}`, aud: "someone-else" })));
  add("wrong audience", 2, wrongAud.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_wrong_audience") })));
  const unknownKid = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(origin, { sub: `kid-${i}` }, { header: { kid: `gone-${i}` } })));
  add("unknown kid", 2, unknownKid.map((t) => ({ headers: bearer(t), path: "/api", expect: deny(401, "token_unknown_key") })));
  add("no credentials", 2, [{ headers: {}, path: "/api", expect: deny(401, "token_missing") }]);

  const pats = [];
  for (let i = 0; i < 20; i++) pats.push(await newPat(`pat-${i}`));
  add("PAT", 5, pats.map((p, i) => ({ headers: bearer(p.token), path: "/api", expect: { status: 200, sub: `pat-${i}`, cls: "pat", jti: p.id } })));
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
  return { pools, revocations };
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

async function send(base, c) {
  const t0 = performance.now();
  try {
    const r = await fetch(`${base}${c.path}`, { headers: c.headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await r.text();
    return { t0, t1: performance.now(), status: r.status, headers: r.headers, text };
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
  const isDeny = (status, code) => {
    if (res.status !== status || body.code !== code) return `expected ${status} ${code}, got ${res.status} ${body.code ?? ""}`;
    if (res.headers.get("cache-control") !== "no-store") return "denial without cache-control: no-store";
    const challenge = res.headers.get("www-authenticate") ?? "";
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
  return c.expect.status === 200 ? isAllow(c.expect) : isDeny(c.expect.status, c.expect.code);
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

/** Runs the cases through Warden, issuing `revocations` evenly spread over the run. */
async function runThroughWarden(warden, cases, revocations) {
  const times = new Map(); // target -> { sent, acked }
  let completed = 0;
  const failures = [];
  const results = new Array(cases.length);
  const step = cases.length / (revocations.length + 1);
  const revoker = (async () => {
    for (let i = 0; i < revocations.length; i++) {
      while (completed < Math.floor((i + 1) * step)) await sleep(2);
      const { target, body } = revocations[i];
      const sent = performance.now();
      times.set(target, { sent, acked: Infinity });
      let r;
      try {
        r = await adminCall(warden, "/_warden/revoke", body);
      } catch (e) {
        r = { status: 0, body: { error: e.message } };
      }
      if (r.status !== 200 || r.body.ok !== true) failures.push(`revoke ${target}: ${r.status} ${JSON.stringify(r.body)}`);
      else times.get(target).acked = performance.now();
    }
  })();
  const t0 = performance.now();
  await runPool(cases, CONCURRENCY, async (c, i) => {
    results[i] = await send(warden.url, c);
    completed += 1;
  });
  const wall = performance.now() - t0;
  await revoker;

  const wrong = [];
  const racing = { count: 0, refused: 0 };
  const revokedState = (c, res) => {
    const t = times.get(c.target);
    if (!t || res.t1 < t.sent) return "before";
    if (res.t0 > t.acked) return "after";
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
  const afterAck = cases.filter((c, i) => c.target && results[i].t0 > (times.get(c.target)?.acked ?? Infinity)).length;
  return { results, wall, wrong, failures, racing, afterAck };
}

async function runDirect(originUrl, cases) {
  const results = new Array(cases.length);
  const t0 = performance.now();
  await runPool(cases, CONCURRENCY, async (c, i) => {
    results[i] = await send(originUrl, c);
  });
  const wall = performance.now() - t0;
  const failed = results.filter((r) => r.status !== 200).length;
  return { results, wall, failed };
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
  // Other work on the machine slows every figure: say how busy it was before anything started.
  const loadBefore = loadavg()[0];
  if (loadBefore > cpus().length / 2) say(`    note: the machine is busy (1-minute load average ${loadBefore.toFixed(2)}); figures will be slower`);
  const dir = mkdtempSync(join(tmpdir(), "warden-load-"));
  stoppers.push(() => rmSync(dir, { recursive: true, force: true }));
  say("==> demo origin (own process) and Warden (build/index.js in workerd via Miniflare) on 127.0.0.1");
  const origin = await startOriginProcess(dir);
  const warden = await startWardenServer(origin);
  say(`    origin ${origin.url}, worker ${warden.url}`);

  say("==> minting tokens, revoking some and issuing PATs through the admin API");
  const { pools, revocations } = await buildMix(origin, warden);
  const random = rng(SEED);
  const cases = schedule(pools, REQUESTS, random);
  // The warm-up re-uses only what may be re-used: nothing revoked mid-run, nothing single-use.
  const staticPools = Object.fromEntries(Object.entries(pools).filter(([k, p]) => k !== "revoked during the run" && !p.cases[0].once));
  const warmup = schedule(staticPools, WARMUP, rng(SEED + 1));

  say(`==> warm-up: ${WARMUP} requests through Warden (checked, not measured)`);
  const w0 = await runThroughWarden(warden, warmup, []);
  if (w0.wrong.length) {
    for (const x of w0.wrong.slice(0, 20)) console.error(`    WRONG ${x}`);
    throw new Error(`${w0.wrong.length} wrong verdicts during the warm-up`);
  }

  say(`==> baseline: the same ${REQUESTS} requests straight to the origin, concurrency ${CONCURRENCY}`);
  const direct = await runDirect(origin.url, cases);
  if (direct.failed) throw new Error(`${direct.failed} requests to the origin failed`);

  say(`==> for scale: the same requests through a pass-through worker (workerd, checks nothing)`);
  const passThrough = await startPassThrough(origin);
  await runDirect(passThrough.url, warmup);
  const pass = await runDirect(passThrough.url, cases);
  if (pass.failed) throw new Error(`${pass.failed} requests through the pass-through worker failed`);

  say(`==> load: ${REQUESTS} requests through Warden, concurrency ${CONCURRENCY}, ${revocations.length} revocations during the run`);
  const run = await runThroughWarden(warden, cases, revocations);

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
  const byKind = {};
  cases.forEach((c, i) => {
    const k = (byKind[c.kind] ??= { n: 0, statuses: {} });
    k.n += 1;
    const st = run.results[i].status;
    k.statuses[st] = (k.statuses[st] ?? 0) + 1;
  });

  say("");
  say(table([
    ["", "requests", "p50", "p99", "max", "throughput"],
    ["---", "---:", "---:", "---:", "---:", "---:"],
    ["through Warden", w.n, ms(w.p50), ms(w.p99), ms(w.max), `${rps.toFixed(0)} req/s`],
    ["straight to the origin", d.n, ms(d.p50), ms(d.p99), ms(d.max), `${rpsDirect.toFixed(0)} req/s`],
    ["pass-through worker (for scale)", p.n, ms(p.p50), ms(p.p99), ms(p.max), `${rpsPass.toFixed(0)} req/s`],
    ["**added by Warden** (vs the origin)", "", `**${ms(w.p50 - d.p50)}**`, `**${ms(w.p99 - d.p99)}**`, "", ""],
    ["of which beyond a pass-through worker", "", ms(w.p50 - p.p50), ms(w.p99 - p.p99), "", ""],
  ]));
  say("");
  say(`allowed (forwarded) through Warden: p50 ${ms(wAllow.p50)}, p99 ${ms(wAllow.p99)} (n=${wAllow.n}); denied at the edge: p50 ${ms(wDeny.p50)}, p99 ${ms(wDeny.p99)} (n=${wDeny.n})`);
  say(`revocations during the run: ${revocations.length} (all acknowledged: ${run.failures.length === 0}); requests after an acknowledgement: ${run.afterAck} (all must be refused); racing a revocation: ${run.racing.count} (${run.racing.refused} refused, either answer allowed)`);
  for (const [k, v] of Object.entries(byKind)) say(`    ${k.padEnd(32)} ${String(v.n).padStart(5)}  ${JSON.stringify(v.statuses)}`);
  say(`audit lines: ${JSON.stringify(warden.auditCounts)}`);
  const loadAfter = loadavg()[0];
  say(`1-minute load average: ${loadBefore.toFixed(2)} before the script started, ${loadAfter.toFixed(2)} at the end`);
  const wrongTotal = run.wrong.length + run.failures.length;
  say(`wrong verdicts: ${run.wrong.length}; failed revocations: ${run.failures.length}`);
  for (const x of [...run.failures, ...run.wrong].slice(0, 30)) console.error(`    WRONG ${x}`);

  if (WRITE && wrongTotal === 0) {
    const cpu = cpus();
    const machine = `${cpu.length} cores (${cpu[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`;
    const miniflareVersion = JSON.parse(readFileSync(join(ROOT, "node_modules/miniflare/package.json"), "utf8")).version;
    const mixRows = Object.entries(byKind)
      .sort((a, b) => b[1].n - a[1].n)
      .map(([k, v]) => `| ${k} | ${v.n} | ${Object.entries(v.statuses).map(([st, n]) => `${st}: ${n}`).join(", ")} |`)
      .join("\n");
    const perReq = (r) => (1000 / r).toFixed(2);
    const { commit, clean } = provenance(ROOT);
    writeDocs(`## Load (make load)

Command: \`make load\` (\`bash scripts/load.sh --write\`: ${REQUESTS.toLocaleString("en")} requests at concurrency
${CONCURRENCY}, seed ${SEED}, bounded by a ${TIME_LIMIT_S} s time limit), at commit \`${commit}\` (${clean}). Machine: ${machine}.
Warden is the release build (\`build/\`) in workerd through Miniflare ${miniflareVersion}, listening on
127.0.0.1, with local KV and Durable Objects, in front of the demo origin in its own Node
process; the load generator is a third process (Node \`fetch\`, keep-alive). All three share
the machine's cores, so these are figures for a small shared box, not for Cloudflare's edge
(1-minute load average ${loadBefore.toFixed(2)} before the script started, ${loadAfter.toFixed(2)} at its end).

Every response is checked: status, \`code\`, challenge and \`cache-control\` of every denial; the
identity the origin saw (sub, class, jti; for a refreshed cookie session a new jti in the same
session and both cookies set) for every allow. ${revocations.length} revocations (jti, sid, subject cutoff, PAT
id) were issued through the admin API during the run; ${run.afterAck} requests came after their token's
revocation was acknowledged, and all were refused; ${run.racing.count} raced it (either answer is right;
${run.racing.refused} of them were refused). **Wrong verdicts: 0.**

| request kind | requests | answers |
|---|---:|---|
${mixRows}

Latency is measured per request by the load generator, from sending to the last byte. Baseline:
the same ${REQUESTS.toLocaleString("en")} requests at the same concurrency straight to the origin (which echoes
every one), and through a pass-through worker in the same workerd setup that checks nothing.

| | requests | p50 | p99 | max | throughput | isolate time per request (1 ÷ throughput) |
|---|---:|---:|---:|---:|---:|---:|
| through Warden | ${w.n} | ${ms(w.p50)} | ${ms(w.p99)} | ${ms(w.max)} | ${rps.toFixed(0)} req/s | ${perReq(rps)} ms |
| straight to the origin | ${d.n} | ${ms(d.p50)} | ${ms(d.p99)} | ${ms(d.max)} | ${rpsDirect.toFixed(0)} req/s | |
| pass-through worker (for scale) | ${p.n} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${rpsPass.toFixed(0)} req/s | ${perReq(rpsPass)} ms |
| **added by Warden** (vs the origin; difference of percentiles) | | **${ms(w.p50 - d.p50)}** | **${ms(w.p99 - d.p99)}** | | | |
| of which beyond a pass-through worker | | ${ms(w.p50 - p.p50)} | ${ms(w.p99 - p.p99)} | | | |

Split: allowed requests (forwarded to the origin) p50 ${ms(wAllow.p50)}, p99 ${ms(wAllow.p99)} (n = ${wAllow.n});
denied at the edge (no origin round trip) p50 ${ms(wDeny.p50)}, p99 ${ms(wDeny.p99)} (n = ${wDeny.n}).

Reading: with ${CONCURRENCY} requests in flight against one workerd isolate, latency is mostly queueing
(mean latency ≈ concurrency ÷ throughput), so the figure that matters is the isolate's time per
request: ${perReq(rps)} ms for Warden against ${perReq(rpsPass)} ms for a worker that only forwards. That
difference is not the token checks alone (microseconds in the isolate, see the worker benchmark):
it also holds the calls between the entry module and wasm, one audit log line for every denial, and the
${revocations.length} revocations${REFRESH ? " and the refreshes" : ""} done during the run (KV writes, Durable Object calls${REFRESH ? ", the origin's token endpoint" : ""}).
`);
  }
  return wrongTotal === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`load: ${e.stack ?? e}`);
  code = 1;
} finally {
  clearTimeout(deadline);
  await stopAll();
}
if (code !== 0) console.error("load: FAILED");
else say("==> load: 0 wrong verdicts");
process.exit(code);
