// End to end: the built worker in workerd (Miniflare), real local KV, the demo origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./origin/server.mjs";
import { startWorker, bearer, ADMIN_TOKEN } from "./helpers/miniflare.mjs";

let origin, mf;
const URL_ = "http://warden.test";

before(async () => {
  origin = await startOrigin({ port: 0 });
  mf = await startWorker(origin);
});
after(async () => {
  await mf?.dispose();
  await origin?.close();
});

async function login(username = "alice") {
  const r = await fetch(`${origin.url}/login`, { method: "POST", body: JSON.stringify({ username }) });
  assert.equal(r.status, 200);
  return (await r.json()).access_token;
}

function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
}

async function assertDenied(resp, status, code) {
  assert.equal(resp.status, status);
  assert.equal(resp.headers.get("cache-control"), "no-store");
  const body = await resp.json();
  assert.equal(body.code, code, JSON.stringify(body));
  return body;
}

test("valid token reaches the origin with identity headers", async () => {
  const token = await login("alice");
  const c = claimsOf(token);
  const r = await mf.dispatchFetch(`${URL_}/api/items?x=1&y=two`, bearer(token));
  assert.equal(r.status, 200);
  const echo = await r.json();
  assert.equal(echo.path, "/api/items");
  assert.equal(echo.query, "?x=1&y=two");
  assert.equal(echo.identity["x-warden-sub"], "alice");
  assert.equal(echo.identity["x-warden-jti"], c.jti);
  assert.equal(echo.identity["x-warden-sid"], c.sid);
  assert.equal(echo.identity["x-warden-exp"], String(c.exp));
  assert.equal(echo.identity["x-warden-class"], "access");
});

test("method and body pass through untouched", async () => {
  const token = await login();
  const r = await mf.dispatchFetch(`${URL_}/api/things`, bearer(token, { method: "PUT", body: '{"n":1}' }));
  assert.equal(r.status, 200);
  const echo = await r.json();
  assert.equal(echo.method, "PUT");
  assert.equal(echo.body, '{"n":1}');
});

test("spoofed x-warden-* headers never reach the origin", async () => {
  const token = await login("alice");
  const r = await mf.dispatchFetch(
    `${URL_}/whoami`,
    bearer(token, { headers: { "x-warden-sub": "admin", "X-Warden-Role": "root" } }),
  );
  const echo = await r.json();
  assert.equal(echo.identity["x-warden-sub"], "alice");
  assert.equal(echo.identity["x-warden-role"], undefined);
});

test("no credentials: 401 with a bare Bearer challenge", async () => {
  const r = await mf.dispatchFetch(`${URL_}/api`);
  assert.equal(r.headers.get("www-authenticate"), "Bearer");
  await assertDenied(r, 401, "token_missing");
  assert.equal(origin.requests.get("/api") ?? 0, 0);
});

test("expired token: 401 invalid_token", async () => {
  const token = await origin.issue({ sub: "alice" }, { iat: Math.floor(Date.now() / 1000) - 400, ttl: 300 });
  const r = await mf.dispatchFetch(`${URL_}/api`, bearer(token));
  assert.equal(r.headers.get("www-authenticate"), 'Bearer error="invalid_token", error_description="token expired"');
  const body = await assertDenied(r, 401, "token_expired");
  assert.equal(body.error, "invalid_token");
});

test("wrong signature: 401 invalid_token", async () => {
  const other = await startOrigin({ port: 0 }); // same kid, different key
  try {
    const forged = await other.issue({ sub: "alice" });
    await assertDenied(await mf.dispatchFetch(`${URL_}/api`, bearer(forged)), 401, "token_bad_signature");
  } finally {
    await other.close();
  }
});

test("malformed tokens and requests", async () => {
  await assertDenied(await mf.dispatchFetch(`${URL_}/api`, bearer("not-a-token")), 401, "token_malformed");
  const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from("{}").toString("base64url")}.`;
  await assertDenied(await mf.dispatchFetch(`${URL_}/api`, bearer(none)), 401, "token_malformed");
  const r = await mf.dispatchFetch(`${URL_}/api`, { headers: { authorization: "Bearer " } });
  await assertDenied(r, 400, "invalid_request");
  await assertDenied(await mf.dispatchFetch(`${URL_}/api`, bearer("a".repeat(9000))), 401, "token_malformed");
});

test("wrong audience or issuer: 401", async () => {
  const t = await origin.issue({ sub: "alice", aud: "someone-else" });
  await assertDenied(await mf.dispatchFetch(`${URL_}/api`, bearer(t)), 401, "token_wrong_audience");
  const i = await origin.issue({ sub: "alice", iss: "https://evil.test" });
  await assertDenied(await mf.dispatchFetch(`${URL_}/api`, bearer(i)), 401, "token_wrong_issuer");
});

async function admin(path, init = {}) {
  return mf.dispatchFetch(`${URL_}${path}`, {
    method: "POST",
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...(init.headers ?? {}) },
  });
}

test("revoke through the admin API: the same token is then refused", async () => {
  const token = await login("bob");
  const { jti, exp } = claimsOf(token);
  assert.equal((await mf.dispatchFetch(`${URL_}/api`, bearer(token))).status, 200);

  const r = await admin("/_warden/revoke", { body: JSON.stringify({ jti, exp }) });
  assert.equal(r.status, 200);
  const ack = await r.json();
  assert.deepEqual([ack.ok, ack.jti], [true, jti]);
  assert.ok(ack.expires_at >= exp, "record outlives the token");

  const kv = await mf.getKVNamespace("WARDEN_KV");
  const listed = await kv.list({ prefix: `rv:jti:${jti}` });
  assert.equal(listed.keys.length, 1);
  assert.equal(listed.keys[0].expiration, ack.expires_at);

  const after = await mf.dispatchFetch(`${URL_}/api`, bearer(token));
  await assertDenied(after, 401, "token_revoked");
  // Other tokens of the same user are unaffected.
  assert.equal((await mf.dispatchFetch(`${URL_}/api`, bearer(await login("bob")))).status, 200);
});

test("admin API: authentication first, then a specific 400 for bad JSON", async () => {
  let r = await mf.dispatchFetch(`${URL_}/_warden/revoke`, { method: "POST", body: "{}" });
  assert.equal(r.status, 401);
  r = await admin("/_warden/revoke", { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` }, body: "{}" });
  assert.equal(r.status, 401);
  r = await admin("/_warden/revoke", { body: "{not json" });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error_description, /^request body is not valid JSON/);
  r = await admin("/_warden/revoke", { body: '{"jti": 42}' });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error_description, /field `jti` must be/);
  r = await admin("/_warden/revoke", { body: '{"jti":"x","exp":"tomorrow"}' });
  assert.match((await r.json()).error_description, /field `exp` must be/);
  r = await admin("/_warden/revoke", { body: "x".repeat(70 * 1024) });
  assert.equal(r.status, 413);
  r = await admin("/_warden/revoke", { method: "GET" });
  assert.equal(r.status, 405);
  // Nothing was written by any of these.
  const kv = await mf.getKVNamespace("WARDEN_KV");
  assert.equal((await kv.list({ prefix: "rv:jti:x" })).keys.length, 0);
});

test("admin API is absent (404) when WARDEN_ADMIN_TOKEN is unset", async () => {
  const bare = await startWorker(origin, { WARDEN_ADMIN_TOKEN: undefined });
  try {
    const r = await bare.dispatchFetch(`${URL_}/_warden/revoke`, { method: "POST", body: "{}" });
    assert.equal(r.status, 404);
  } finally {
    await bare.dispose();
  }
});

test("bad configuration: generic 500, never an allow", async () => {
  const broken = await startWorker(origin, { WARDEN_JWKS: '{"keys":[{"kty":"oct","alg":"HS256","k":"c2hvcnQ"}]}' });
  try {
    const token = await login();
    const reached = origin.requests.get("/api") ?? 0;
    const r = await broken.dispatchFetch(`${URL_}/api`, bearer(token));
    assert.equal(r.status, 500);
    const body = await r.json();
    assert.equal(body.error, "server_error");
    assert.doesNotMatch(JSON.stringify(body), /WARDEN_JWKS|HMAC/); // details go to the log only
    assert.equal(origin.requests.get("/api") ?? 0, reached, "nothing forwarded");
  } finally {
    await broken.dispose();
  }
});

test("origin down: 502, not an allow or a 401", async () => {
  const gone = await startOrigin({ port: 0 });
  const w = await startWorker(gone);
  try {
    const token = await gone.issue({ sub: "alice" });
    await gone.close();
    const r = await w.dispatchFetch(`${URL_}/api`, bearer(token));
    assert.equal(r.status, 502);
  } finally {
    await w.dispose();
  }
});
