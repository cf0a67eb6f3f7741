// Personal access tokens end to end: issue, use, list, revoke, expiry, the cron reaper. The
// built worker in workerd (Miniflare), real local KV, the demo origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, admin, sleep, assertDenied } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
const nowS = () => Math.floor(Date.now() / 1000);
const sha256 = (s) => createHash("sha256").update(s).digest("hex");
let origin, w;

before(async () => {
  origin = await startOrigin({ port: 0 });
  w = await startWarden(origin, { WARDEN_ROUTES: "/admin=admin,/billing=billing:read" });
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

const use = (token, path = "/api/pat") => w.fetch(`${URL_}${path}`, { headers: { authorization: `Bearer ${token}` } });

async function issue(body) {
  const r = await admin(w, "/_warden/pats", { body: JSON.stringify(body) });
  assert.equal(r.status, 201, await r.clone().text());
  return r.json();
}

async function allKv() {
  const kv = await w.kv();
  const { keys } = await kv.list();
  const values = await Promise.all(keys.map((k) => kv.get(k.name)));
  return keys.map((k, i) => ({ ...k, value: values[i] }));
}

test("issue: 201 with the token shown once; only its SHA-256 is stored", async () => {
  const exp = nowS() + 3600;
  const pat = await issue({ sub: "ci-bot", expires_at: exp, scopes: ["read", "billing:read"] });
  assert.match(pat.id, /^pat_[0-9a-f]{24}$/);
  assert.match(pat.token, /^wdn_pat_[0-9a-f]{64}$/);
  assert.equal(pat.expires_at, exp);

  const stored = await allKv();
  const secret = pat.token.slice("wdn_pat_".length);
  for (const entry of stored) {
    const text = JSON.stringify(entry);
    assert.ok(!text.includes(secret), `the secret leaks into ${entry.name}`);
  }
  const record = stored.find((e) => e.name === `pat:${sha256(pat.token)}`);
  assert.ok(record, "the record is keyed by the token's SHA-256");
  assert.deepEqual(JSON.parse(record.value), {
    id: pat.id,
    sub: "ci-bot",
    expires_at: exp,
    scopes: ["read", "billing:read"],
    active: true,
    created_at: JSON.parse(record.value).created_at,
  });
  assert.equal(record.expiration, exp + 7 * 86400, "KV keeps it a week past expiry, for the reaper");
});

test("issue: every secret and id are fresh random bits (crypto.getRandomValues)", async () => {
  const pats = [];
  for (let i = 0; i < 16; i++) pats.push(await issue({ sub: "random-bot", expires_at: 0 }));
  assert.equal(new Set(pats.map((p) => p.token)).size, pats.length, "a secret repeated");
  assert.equal(new Set(pats.map((p) => p.id)).size, pats.length, "an id repeated");
  // 16 x (256 + 96) random bits: about half are ones (a buffer left unfilled, or filled with
  // a constant, is far off; the bound is over 13 standard deviations wide).
  const hex = pats.map((p) => p.token.slice("wdn_pat_".length) + p.id.slice("pat_".length)).join("");
  const ones = [...hex].reduce((n, digit) => n + [...parseInt(digit, 16).toString(2)].filter((b) => b === "1").length, 0);
  const bits = hex.length * 4;
  assert.ok(ones > bits * 0.4 && ones < bits * 0.6, `${ones} ones in ${bits} bits`);
});

test("use: allowed with pat identity; never extended by use", async () => {
  const exp = nowS() + 3600;
  const pat = await issue({ sub: "ci-bot", expires_at: exp, scopes: ["read", "billing:read"] });
  const kv = await w.kv();
  const before = await kv.get(`pat:${sha256(pat.token)}`);
  for (let i = 0; i < 3; i++) {
    const r = await use(pat.token);
    assert.equal(r.status, 200);
    const echo = await r.json();
    assert.equal(echo.identity["x-warden-class"], "pat");
    assert.equal(echo.identity["x-warden-sub"], "ci-bot");
    assert.equal(echo.identity["x-warden-jti"], pat.id);
    assert.equal(echo.identity["x-warden-exp"], String(exp));
    assert.equal(echo.identity["x-warden-scopes"], "read billing:read");
    assert.equal(echo.identity["x-warden-sid"], undefined);
  }
  assert.equal(await kv.get(`pat:${sha256(pat.token)}`), before, "the record is unchanged by use");
  // Scopes are checked against WARDEN_ROUTES like a JWT's.
  assert.equal((await use(pat.token, "/billing/invoices")).status, 200);
  await assertDenied(assert, await use(pat.token, "/admin"), 403, "insufficient_scope");
});

test("never-expiring PAT (expires_at 0)", async () => {
  const pat = await issue({ sub: "robot", expires_at: 0 });
  assert.equal(pat.expires_at, 0);
  const r = await use(pat.token);
  assert.equal(r.status, 200);
  const echo = await r.json();
  assert.equal(echo.identity["x-warden-exp"], "0");
  assert.equal(echo.identity["x-warden-scopes"], undefined);
  const kv = await w.kv();
  const { keys } = await kv.list({ prefix: `pat:${sha256(pat.token)}` });
  assert.equal(keys[0].expiration, undefined, "no KV expiration while it lives");
});

test("list by subject: every PAT, never the secret", async () => {
  const a = await issue({ sub: "lister", expires_at: 0, scopes: ["x"] });
  const b = await issue({ sub: "lister", expires_at: nowS() + 100 });
  await issue({ sub: "someone-else", expires_at: 0 });
  const r = await admin(w, "/_warden/pats?sub=lister", { method: "GET" });
  assert.equal(r.status, 200);
  const text = await r.text();
  for (const t of [a.token, b.token]) assert.ok(!text.includes(t.slice(8)), "no secret in the listing");
  assert.ok(!text.includes(sha256(a.token)), "no digest in the listing either");
  const body = JSON.parse(text);
  assert.deepEqual(body.pats.map((p) => p.id).sort(), [a.id, b.id].sort());
  const pa = body.pats.find((p) => p.id === a.id);
  assert.deepEqual([pa.sub, pa.expires_at, pa.scopes, pa.active], ["lister", 0, ["x"], true]);
  assert.equal((await admin(w, "/_warden/pats", { method: "GET" })).status, 400);
});

test("revoke by id: refused at once, listed inactive; unknown id 404", async () => {
  const pat = await issue({ sub: "rev", expires_at: 0 });
  assert.equal((await use(pat.token)).status, 200);
  const r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ pat: pat.id }) });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { ok: true, pat: pat.id, sub: "rev" });
  await assertDenied(assert, await use(pat.token), 401, "token_revoked");
  const listed = await (await admin(w, "/_warden/pats?sub=rev", { method: "GET" })).json();
  assert.equal(listed.pats[0].active, false);
  assert.ok(listed.pats[0].revoked_at >= nowS() - 5);
  const lines = await w.waitForAudit((e) => e.event === "revoke" && e.id === pat.id);
  assert.equal(lines[0].kind, "pat");
  const unknown = await admin(w, "/_warden/revoke", { body: JSON.stringify({ pat: "pat_000000000000000000000000" }) });
  assert.equal(unknown.status, 404);
});

test("revoke by presenting the token (RFC 7009)", async () => {
  const pat = await issue({ sub: "rev2", expires_at: 0 });
  const r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ token: pat.token }) });
  assert.deepEqual(await r.json(), { ok: true, revoked: { pat: pat.id } });
  await assertDenied(assert, await use(pat.token), 401, "token_revoked");
});

test("unknown or malformed PATs: 401 token_unknown", async () => {
  for (const t of [`wdn_pat_${"0".repeat(64)}`, "wdn_pat_short", `wdn_pat_${"A".repeat(64)}`]) {
    const r = await use(t);
    const body = await assertDenied(assert, r, 401, "token_unknown");
    assert.equal(body.error, "invalid_token");
    assert.equal(r.headers.get("www-authenticate"), 'Bearer error="invalid_token", error_description="unknown token"');
  }
});

test("expiry: 401 with a reject_expired_token audit line", async () => {
  const pat = await issue({ sub: "shortlived", expires_at: nowS() + 2 });
  assert.equal((await use(pat.token)).status, 200);
  await sleep(2500);
  await assertDenied(assert, await use(pat.token), 401, "token_expired");
  const lines = await w.waitForAudit((e) => e.event === "reject_expired_token" && e.jti === pat.id);
  assert.equal(lines.length, 1);
  assert.deepEqual([lines[0].class, lines[0].sub, lines[0].code], ["pat", "shortlived", "token_expired"]);
});

test("cron: expired records reaped, one expire_token line each; live ones kept", async () => {
  const dying = [await issue({ sub: "reap", expires_at: nowS() + 1 }), await issue({ sub: "reap", expires_at: nowS() + 1 })];
  const living = [await issue({ sub: "reap", expires_at: 0 }), await issue({ sub: "reap", expires_at: nowS() + 3600 })];
  await sleep(2100);
  const worker = await w.mf.getWorker();
  await worker.scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });

  const lines = await w.waitForAudit((e) => e.event === "expire_token" && e.sub === "reap");
  await sleep(100);
  const reaped = w.audit.filter((e) => e.event === "expire_token" && e.sub === "reap");
  assert.deepEqual(reaped.map((e) => e.id).sort(), dying.map((p) => p.id).sort(), JSON.stringify(lines));
  const names = (await allKv()).map((e) => e.name);
  for (const p of dying) {
    assert.ok(!names.includes(`pat:${sha256(p.token)}`));
    assert.ok(!names.includes(`patid:${p.id}`));
    assert.ok(!names.some((n) => n.startsWith("idx:") && n.endsWith(`:pat:${p.id}`)));
    await assertDenied(assert, await use(p.token), 401, "token_unknown");
  }
  for (const p of living) {
    assert.ok(names.includes(`pat:${sha256(p.token)}`));
    assert.equal((await use(p.token)).status, 200);
  }
  const listed = await (await admin(w, "/_warden/pats?sub=reap", { method: "GET" })).json();
  assert.deepEqual(listed.pats.map((p) => p.id).sort(), living.map((p) => p.id).sort());
  // A second run finds nothing more to reap.
  await worker.scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });
  await sleep(200);
  assert.equal(w.audit.filter((e) => e.event === "expire_token" && e.sub === "reap").length, 2);
});

test("issue validation: 400 naming the field", async () => {
  const bad = [
    [{ expires_at: 0 }, /field `sub` is required/],
    [{ sub: "x" }, /field `expires_at` is required/],
    [{ sub: "x", expires_at: nowS() - 1 }, /field `expires_at` must be in the future/],
    [{ sub: "x", expires_at: 0, scopes: "read" }, /field `scopes` must be an array/],
    [{ sub: "x", expires_at: 0, scopes: ["has space"] }, /field `scopes`/],
    [{ sub: "x", expires_at: 0, token: "mine" }, /unknown field `token`/],
  ];
  for (const [body, re] of bad) {
    const r = await admin(w, "/_warden/pats", { body: JSON.stringify(body) });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match((await r.json()).error_description, re);
  }
});

test("PAT store unreachable: 503 (never allowed, whatever the fail mode)", async () => {
  const broken = await startWarden(origin, { WARDEN_FAIL_MODE: "open" }, { kv: { fail: ["get"] } });
  try {
    await assertDenied(assert, await broken.fetch(`${URL_}/api`, { headers: { authorization: `Bearer wdn_pat_${"1".repeat(64)}` } }), 503, "store_unavailable");
    const r = await admin(broken, "/_warden/pats", { body: JSON.stringify({ sub: "x", expires_at: 0 }) });
    assert.equal(r.status, 201, "issuing needs no read");
  } finally {
    await broken.dispose();
  }
});
