// The admin API end to end: authentication, size and JSON checks in that order, methods,
// acknowledgements only after the write, health. Built worker in workerd (Miniflare), real KV.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { startOrigin } from "./origin/server.mjs";
import { ADMIN_TOKEN } from "./helpers/miniflare.mjs";
import { startWarden, admin, claimsOf } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
const ORIGIN_SECRET = "origin-secret-0123456789abcdef";
let origin, w;

before(async () => {
  origin = await startOrigin({ port: 0 });
  w = await startWarden(origin, { WARDEN_ORIGIN_SECRET: ORIGIN_SECRET, WARDEN_ROUTES: "/admin=admin", WARDEN_SNAPSHOT_SECONDS: "45" });
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

const ENDPOINTS = [
  ["POST", "/_warden/revoke"],
  ["POST", "/_warden/revoke/batch"],
  ["POST", "/_warden/revocation-filter/reseed"],
  ["POST", "/_warden/pats"],
  ["GET", "/_warden/pats?sub=a"],
  ["GET", "/_warden/revocations?sub=a"],
  ["GET", "/_warden/health"],
];

test("404 on every admin endpoint while WARDEN_ADMIN_TOKEN is unset", async () => {
  const bare = await startWarden(origin, { WARDEN_ADMIN_TOKEN: undefined });
  try {
    for (const [method, path] of ENDPOINTS) {
      const r = await admin(bare, path, { method, body: method === "POST" ? "{}" : undefined });
      assert.equal(r.status, 404, `${method} ${path}`);
    }
  } finally {
    await bare.dispose();
  }
});

/**
 * One request on its own connection, returning the status the client sees. (workerd resets a
 * connection whose request body was not read, and fetch reports the reset of the upload rather
 * than the answer that came first; node:http shows the answer.)
 */
function rawRequest(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(new URL(path, w.url), { method, headers, agent: false }, (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode, headers: res.headers });
    });
    req.on("error", (e) => {
      if (!answered && e.code !== "ECONNRESET" && e.code !== "EPIPE") reject(e);
    });
    req.on("close", () => answered || reject(new Error(`${method} ${path}: closed without an answer`)));
    req.end(body);
  });
}

test("authentication first (401), even for unknown paths and oversized bodies", async () => {
  const huge = "x".repeat(70 * 1024);
  for (const [method, path] of [...ENDPOINTS, ["GET", "/_warden/nothing-here"]]) {
    for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}x`, `bearer ${ADMIN_TOKEN}`, ADMIN_TOKEN]) {
      const headers = authorization ? { authorization } : {};
      const r = await rawRequest(method, path, headers, method === "POST" ? huge : undefined);
      assert.equal(r.status, 401, `${method} ${path} with ${authorization}`);
      assert.equal(r.headers["cache-control"], "no-store");
    }
  }
  const lines = await w.waitForAudit((e) => e.event === "admin_unauthorized");
  assert.ok(lines.length > 0);
  assert.ok(!JSON.stringify(w.audit).includes(ADMIN_TOKEN), "the admin token is never logged");
});

test("then size (413 over 64 KiB), then JSON (400 naming the field)", async () => {
  for (const path of ["/_warden/revoke", "/_warden/pats"]) {
    let r = await admin(w, path, { body: "x".repeat(64 * 1024 + 1) });
    assert.equal(r.status, 413, path);
    r = await admin(w, path, { body: "{not json" });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.error, "invalid_request");
    assert.match(body.error_description, /^request body is not valid JSON/);
  }
  let r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: "a", exp: "tomorrow" }) });
  assert.match((await r.json()).error_description, /field `exp`/);
  r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: "a", sid: "b" }) });
  assert.match((await r.json()).error_description, /`jti` and `sid` cannot be combined/);
  r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ kid: "k", before: 1 }) });
  assert.match((await r.json()).error_description, /unknown field `before`/);
  r = await admin(w, "/_warden/revoke", { body: "{}" });
  assert.equal(r.status, 400);
  // Exactly 64 KiB is within the limit (and then fails as JSON, not as size).
  const padded = JSON.stringify({ jti: "a" }).padEnd(64 * 1024, " ");
  r = await admin(w, "/_warden/revoke", { body: padded });
  assert.equal(r.status, 200);
});

test("wrong methods: 405 with Allow; unknown paths 404", async () => {
  const cases = [
    ["GET", "/_warden/revoke", "POST"],
    ["GET", "/_warden/revoke/batch", "POST"],
    ["PUT", "/_warden/revocation-filter/reseed", "POST"],
    ["DELETE", "/_warden/pats", "GET, POST"],
    ["POST", "/_warden/revocations", "GET"],
    ["POST", "/_warden/health", "GET"],
  ];
  for (const [method, path, allow] of cases) {
    const r = await admin(w, path, { method });
    assert.equal(r.status, 405, `${method} ${path}`);
    assert.equal(r.headers.get("allow"), allow);
  }
  assert.equal((await admin(w, "/_warden/nothing", { method: "GET" })).status, 404);
});

test("each revocation kind: 200 {ok: true, ...} with one audit line", async () => {
  const token = await origin.issue({ sub: "audited" });
  const { jti } = claimsOf(token);
  const bodies = [{ jti, sub: "audited" }, { sid: "s-aud" }, { kid: "k-aud" }, { sub: "audited" }];
  for (const body of bodies) {
    const r = await admin(w, "/_warden/revoke", { body: JSON.stringify(body) });
    assert.equal(r.status, 200, JSON.stringify(body));
    const ack = await r.json();
    assert.equal(ack.ok, true);
  }
  await w.waitForAudit((e) => e.event === "revoke" && e.kind === "sub" && e.id === "audited");
  const revokes = w.audit.filter((e) => e.event === "revoke");
  for (const [kind, id] of [["jti", jti], ["sid", "s-aud"], ["kid", "k-aud"], ["sub", "audited"]]) {
    assert.equal(revokes.filter((e) => e.kind === kind && e.id === id).length, 1, `${kind} ${id}`);
  }
  assert.ok(!JSON.stringify(w.audit).includes(ADMIN_TOKEN));
  assert.ok(!JSON.stringify(w.audit).includes(ORIGIN_SECRET));
});

test("no acknowledgement without the write: 503 when KV refuses it", async () => {
  const failing = await startWarden(origin, {}, { kv: { fail: ["put"] } });
  try {
    for (const body of [{ jti: "j" }, { sid: "s" }, { kid: "k" }, { sub: "u" }]) {
      const r = await admin(failing, "/_warden/revoke", { body: JSON.stringify(body) });
      assert.equal(r.status, 503, JSON.stringify(body));
      assert.equal((await r.json()).error, "temporarily_unavailable");
    }
    const r = await admin(failing, "/_warden/pats", { body: JSON.stringify({ sub: "x", expires_at: 0 }) });
    assert.equal(r.status, 503);
    assert.ok(!(await r.text()).includes("wdn_pat_"), "no token handed out that was not stored");
    const { keys } = await (await failing.kv()).list();
    assert.equal(keys.length, 0);
  } finally {
    await failing.dispose();
  }
});

test("health: configuration summary without secrets, snapshot age, JWKS state", async () => {
  const token = await origin.issue({ sub: "health" });
  assert.equal((await w.fetch(`${URL_}/api`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  const r = await admin(w, "/_warden/health", { method: "GET" });
  assert.equal(r.status, 200);
  const text = await r.text();
  assert.ok(!text.includes(ADMIN_TOKEN) && !text.includes(ORIGIN_SECRET), "no secrets");
  const h = JSON.parse(text);
  assert.equal(h.ok, true);
  assert.equal(h.config.origin, origin.url);
  assert.equal(h.config.fail_mode, "closed");
  assert.equal(h.config.snapshot_seconds, 45);
  assert.equal(h.config.pat_prefix, "wdn_pat_");
  assert.deepEqual(h.config.routes, [{ prefix: "/admin", scope: "admin" }]);
  assert.equal(h.config.admin_token_set, true);
  assert.equal(h.config.origin_secret_set, true);
  // Revocations come from the published filter (on by default) once the log object published
  // one; until then from the listing snapshot. One of the two answered the request above.
  assert.equal(h.config.revocation_filter, "on");
  if (h.filter.loaded) {
    assert.equal(h.filter.problem, null, JSON.stringify(h.filter));
    assert.ok(h.filter.as_of <= h.now && h.filter.as_of > h.now - 180, JSON.stringify(h.filter));
  } else {
    assert.equal(h.filter.problem, "filter_missing", JSON.stringify(h.filter));
    assert.equal(h.snapshot.built, true);
    assert.ok(h.snapshot.age_seconds >= 0 && h.snapshot.age_seconds < 45, JSON.stringify(h.snapshot));
    assert.equal(h.snapshot.complete, true);
  }
  assert.equal(h.jwks.fetched, false, "inline keys only: nothing fetched");
});
