// Refresh at the edge (issue 5): the built worker in workerd (Miniflare) with its Durable
// Objects and local KV, in front of the demo origin's real RFC 6749 token endpoint. The origin
// counts the calls that reach its token endpoint.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { startOrigin } from "./origin/server.mjs";
import { ROOT } from "./helpers/miniflare.mjs";
import { startWarden, assertDenied, claimsOf, sleep, admin } from "./helpers/warden.mjs";
import { ACCESS, REFRESH, refreshVars, setCookies, login, outlive, assertCleared, Jar } from "./helpers/sessions.mjs";

const URL_ = "http://warden.test";
const GRACE_MS = 2000; // WARDEN_REFRESH_GRACE_SECONDS in refreshVars()
let origin, w;

before(async () => {
  origin = await startOrigin({ port: 0, accessTtl: 2 });
  w = await startWarden(origin, refreshVars());
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

const api = (jar, path = "/api/me") => w.fetch(`${URL_}${path}`, jar.init());
const refreshCalls = () => origin.requests.get("/oauth/token") ?? 0;

test("50 concurrent requests with the same expired token: 1 refresh at the origin, all 50 served with the same new pair", async (t) => {
  const { jar } = await login(w, "alice");
  const old = claimsOf(jar.get(ACCESS));
  let r = await api(jar);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).identity["x-warden-class"], "session", "cookie sessions are class session");

  await outlive(jar);
  const before = refreshCalls();
  const started = performance.now();
  // Each body is read as its response arrives (a response left unread while 49 others are
  // awaited was once found already consumed by the test client).
  const answers = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const resp = await api(jar);
      return { resp, text: await resp.text() };
    }),
  );
  t.diagnostic(`50 concurrent: ${refreshCalls() - before} token endpoint call(s), ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(refreshCalls() - before, 1, "exactly one refresh reached the origin");
  const pairs = new Set();
  const jtis = new Set();
  for (const { resp, text } of answers) {
    assert.equal(resp.status, 200, text);
    const set = setCookies(resp);
    pairs.add(`${set[ACCESS].value} ${set[REFRESH].value}`);
    for (const name of [ACCESS, REFRESH]) {
      for (const attr of ["httponly", "secure", "samesite=lax", "path=/"]) assert.ok(set[name].attrs.includes(attr), `${name}: ${attr}`);
      // The cookie outlives the token: it lives as long as the session may (30-day default cap).
      assert.ok(set[name].maxAge > 29 * 86_400, `${name} Max-Age ${set[name].maxAge}`);
    }
    jtis.add(JSON.parse(text).identity["x-warden-jti"]);
  }
  assert.equal(pairs.size, 1, "every caller got the same new pair");
  const [access, refreshToken] = [...pairs][0].split(" ");
  const fresh = claimsOf(access);
  assert.notEqual(fresh.jti, old.jti);
  assert.equal(fresh.sid, old.sid, "same session");
  assert.notEqual(refreshToken, jar.get(REFRESH), "the refresh token was rotated");
  assert.deepEqual([...jtis], [fresh.jti], "the origin was called with the new token's identity");

  // The new cookies work without another refresh.
  jar.take(answers[0].resp);
  r = await api(jar);
  assert.equal(r.status, 200);
  assert.equal(r.headers.getSetCookie().length, 0);
  assert.equal(refreshCalls() - before, 1);
});

test("the old pair within the grace window gets the same new pair again; after it, reuse revokes the session and its new tokens", async () => {
  // Access tokens that outlive the grace window, so the family's new one is still valid when
  // the reuse comes.
  const slow = await startOrigin({ port: 0, accessTtl: 5 });
  const w = await startWarden(slow, refreshVars({ WARDEN_REFRESH_GRACE_SECONDS: "1" }));
  const api = (jar, path = "/api/me") => w.fetch(`${URL_}${path}`, jar.init());
  const refreshCalls = () => slow.requests.get("/oauth/token") ?? 0;
  try {
    const { jar } = await login(w, "bob");
    await outlive(jar);
    const stolen = jar.copy();
    const calls = refreshCalls();
    let r = await api(jar);
    assert.equal(r.status, 200);
    const first = setCookies(r);
    jar.take(r);
    const sid = claimsOf(jar.get(ACCESS)).sid;

    // A request that left with the old cookies before the refresh, arriving within the grace:
    r = await api(stolen);
    assert.equal(r.status, 200, "replayed, not reuse");
    const again = setCookies(r);
    assert.equal(again[ACCESS].value, first[ACCESS].value);
    assert.equal(again[REFRESH].value, first[REFRESH].value);
    assert.equal(refreshCalls(), calls + 1, "the replay did not reach the origin");

    await sleep(1200);
    r = await api(stolen);
    await assertDenied(assert, r, 401, "refresh_reused");
    assertCleared(assert, r);
    assert.equal(refreshCalls(), calls + 1, "reuse is detected at the edge, before the origin");
    const audit = await w.waitForAudit((e) => e.event === "refresh_reuse_detected" && e.sid === sid);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].sub, "bob");
    assert.ok(!JSON.stringify(audit[0]).includes(stolen.get(REFRESH)), "no token in the audit line");
    // The session is revoked: rv:sid in KV, and the family's new access token is refused too.
    assert.ok(await (await w.kv()).get(`rv:sid:${sid}`), "rv:sid written");
    await assertDenied(assert, await api(jar), 401, "token_revoked");
    await assertDenied(assert, await w.fetch(`${URL_}/api`, { headers: { authorization: `Bearer ${jar.get(ACCESS)}` } }), 401, "token_revoked");
    // And the newest refresh token cannot revive it.
    await outlive(jar);
    r = await w.fetch(`${URL_}/api`, jar.without(ACCESS).init());
    await assertDenied(assert, r, 401, "refresh_reused");
    assert.equal(refreshCalls(), calls + 1);
  } finally {
    await w.dispose();
    await slow.close();
  }
});

test("origin down during refresh: 502, cookies and session kept; works once the origin is back", async () => {
  const { jar } = await login(w, "carol");
  await outlive(jar);
  origin.knobs.failRefresh = true; // the deliberately failing token endpoint (503)
  try {
    const r = await api(jar);
    await assertDenied(assert, r, 502, "refresh_upstream_error");
    assert.equal(r.headers.getSetCookie().length, 0, "cookies untouched");
    assert.equal(r.headers.get("retry-after"), "1");
  } finally {
    origin.knobs.failRefresh = false;
  }
  const sid = claimsOf(jar.get(ACCESS)).sid;
  assert.equal(await (await w.kv()).get(`rv:sid:${sid}`), null, "not revoked");
  // Back: the same cookies work; the request's body streams through after the refresh.
  const r = await w.fetch(`${URL_}/api/notes`, jar.init({ method: "POST", body: "note=kept" }));
  assert.equal(r.status, 200);
  const set = setCookies(r);
  assert.equal(claimsOf(set[ACCESS].value).sid, sid);
  const echo = await r.json();
  assert.equal(echo.method, "POST");
  assert.equal(echo.body, "note=kept");
});

test("token endpoint that never answers: 503 after the refresh timeout, session kept", async () => {
  const { jar } = await login(w, "cleo");
  await outlive(jar);
  origin.knobs.hangRefresh = true; // the deliberately hanging token endpoint
  const started = Date.now();
  let r;
  try {
    r = await api(jar);
  } finally {
    origin.knobs.hangRefresh = false;
  }
  await assertDenied(assert, r, 503, "refresh_unavailable");
  assert.equal(r.headers.getSetCookie().length, 0);
  const waited = Date.now() - started;
  assert.ok(waited >= 4500 && waited < 15_000, `answered after ${waited} ms (timeout 5 s)`);
  r = await api(jar);
  assert.equal(r.status, 200);
});

test("client authentication: Basic with WARDEN_CLIENT_ID + WARDEN_CLIENT_SECRET; a wrong secret is a 502, not a logout", async () => {
  const confidential = await startOrigin({ port: 0, accessTtl: 2, clientId: "warden-edge", clientSecret: "s3cret-client-0123" });
  const good = await startWarden(confidential, refreshVars({ WARDEN_CLIENT_ID: "warden-edge", WARDEN_CLIENT_SECRET: "s3cret-client-0123" }));
  const bad = await startWarden(confidential, refreshVars({ WARDEN_CLIENT_ID: "warden-edge", WARDEN_CLIENT_SECRET: "wrong-secret-0123" }));
  try {
    const { jar } = await login(good, "kim");
    const copy = jar.copy();
    await outlive(jar);
    let r = await bad.fetch(`${URL_}/api`, copy.init());
    await assertDenied(assert, r, 502, "refresh_upstream_error");
    assert.equal(r.headers.getSetCookie().length, 0);
    r = await good.fetch(`${URL_}/api`, jar.init());
    assert.equal(r.status, 200);
    assert.ok(setCookies(r)[ACCESS]);
  } finally {
    await good.dispose();
    await bad.dispose();
    await confidential.close();
  }
});

test("invalid_grant from the origin: 401 and both cookies cleared", async () => {
  const { jar } = await login(w, "dave");
  const sid = claimsOf(jar.get(ACCESS)).sid;
  origin.sessions.revokeFamily(sid); // logged out at the origin, unknown to Warden
  await outlive(jar);
  const r = await api(jar);
  await assertDenied(assert, r, 401, "refresh_invalid_grant");
  assert.match(r.headers.get("www-authenticate"), /error="invalid_token"/);
  assertCleared(assert, r);
});

test("bearer clients are never refreshed: expired → 401 invalid_token and x-warden-refresh: due", async () => {
  const { jar } = await login(w, "erin");
  const token = jar.get(ACCESS);
  await outlive(jar);
  const calls = refreshCalls();
  // Even with the refresh cookie next to it: the bearer token decides.
  const r = await w.fetch(`${URL_}/api`, { headers: { authorization: `Bearer ${token}`, cookie: `${REFRESH}=${jar.get(REFRESH)}` } });
  const body = await assertDenied(assert, r, 401, "token_expired");
  assert.equal(body.error, "invalid_token");
  assert.equal(r.headers.get("x-warden-refresh"), "due");
  assert.equal(r.headers.getSetCookie().length, 0);
  // An access cookie without a refresh cookie is not refreshable either.
  const alone = await w.fetch(`${URL_}/api`, jar.without(REFRESH).init());
  await assertDenied(assert, alone, 401, "token_expired");
  assert.equal(alone.headers.get("x-warden-refresh"), "due");
  assert.equal(refreshCalls(), calls);
});

test("only the refresh cookie (no access token): refreshed through the object named by its hash; reuse still detected", async () => {
  const { jar } = await login(w, "frank");
  const sid = claimsOf(jar.get(ACCESS)).sid;
  const only = jar.without(ACCESS);
  let r = await api(only);
  assert.equal(r.status, 200);
  const echo = await r.json();
  assert.equal(echo.identity["x-warden-sid"], sid);
  assert.equal(echo.identity["x-warden-class"], "session");
  const set = setCookies(r);
  assert.equal(claimsOf(set[ACCESS].value).sid, sid);
  jar.take(r);
  // The old refresh token alone, after the grace: its object knows the session → reuse.
  await sleep(GRACE_MS + 200);
  r = await api(only);
  await assertDenied(assert, r, 401, "refresh_reused");
  assertCleared(assert, r);
  await assertDenied(assert, await api(jar), 401, "token_revoked");
  // A token the rt: path rotated, replayed WITH an access token of the session: the sid: object
  // recorded that rotation too.
  const { jar: j2 } = await login(w, "frank");
  const stale = j2.copy();
  r = await api(j2.without(ACCESS));
  assert.equal(r.status, 200);
  await outlive(stale);
  await sleep(GRACE_MS + 200);
  await assertDenied(assert, await api(stale), 401, "refresh_reused");
});

test("inside the refresh window a valid token is refreshed ahead of expiry; if that fails, the request is still served", async () => {
  const early = await startWarden(origin, refreshVars({ WARDEN_REFRESH_WINDOW_SECONDS: "60" }));
  try {
    const { jar } = await login(early, "gina");
    const calls = refreshCalls();
    origin.knobs.failRefresh = true;
    let r;
    try {
      r = await early.fetch(`${URL_}/api`, jar.init());
      assert.equal(r.status, 200, "a still-valid token serves while the origin is down");
      assert.equal(r.headers.getSetCookie().length, 0);
    } finally {
      origin.knobs.failRefresh = false;
    }
    r = await early.fetch(`${URL_}/api`, jar.init());
    assert.equal(r.status, 200);
    const set = setCookies(r);
    assert.ok(set[ACCESS] && set[REFRESH], "refreshed ahead of expiry");
    assert.notEqual(set[ACCESS].value, jar.get(ACCESS));
    assert.equal(refreshCalls(), calls + 2);
  } finally {
    await early.dispose();
  }
});

test("a new pair naming another session is refused (502), and nothing is set", async () => {
  const { jar } = await login(w, "hank");
  await outlive(jar);
  origin.knobs.wrongSid = true; // the deliberately broken token endpoint
  try {
    const r = await api(jar);
    await assertDenied(assert, r, 502, "refresh_upstream_error");
    assert.equal(r.headers.getSetCookie().length, 0);
  } finally {
    origin.knobs.wrongSid = false;
  }
  const lines = await w.waitForAudit((e) => e.event === "refresh_mismatch" && e.sid === claimsOf(jar.get(ACCESS)).sid);
  assert.equal(lines.length, 1);
});

test("a forged or revoked access cookie is never refreshed", async () => {
  const { jar } = await login(w, "ivan");
  await outlive(jar);
  const calls = refreshCalls();
  const [h, p] = jar.get(ACCESS).split(".");
  const forged = new Jar({ [ACCESS]: `${h}.${p}.${"A".repeat(86)}`, [REFRESH]: jar.get(REFRESH) });
  await assertDenied(assert, await api(forged), 401, "token_bad_signature");
  // Revoked by jti: 401 and the cookies are cleared, no refresh.
  const jti = claimsOf(jar.get(ACCESS)).jti;
  assert.equal((await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti }) })).status, 200);
  const r = await api(jar);
  await assertDenied(assert, r, 401, "token_revoked");
  assertCleared(assert, r);
  assert.equal(refreshCalls(), calls);
});

test("session object unreachable: 503, cookies kept, nothing refreshed", async () => {
  // DELIBERATELY FAILING DURABLE OBJECT: WARDEN_SESSIONS is bound to a class that throws.
  const broken = `
    export class BrokenSessions { async fetch() { throw new Error("deliberately failing session object (test)"); } }
    export default { fetch() { return new Response("broken-sessions"); } };`;
  const mf = new Miniflare({
    workers: [
      {
        name: "warden",
        modules: true,
        scriptPath: `${ROOT}/build/index.js`,
        modulesRoot: `${ROOT}/build`,
        modulesRules: [
          { type: "ESModule", include: ["**/*.js"] },
          { type: "CompiledWasm", include: ["**/*.wasm"] },
        ],
        compatibilityDate: "2025-09-01",
        kvNamespaces: ["WARDEN_KV"],
        durableObjects: { WARDEN_SESSIONS: { className: "BrokenSessions", scriptName: "broken-sessions" } },
        bindings: { WARDEN_ORIGIN: origin.url, WARDEN_JWKS: JSON.stringify(origin.jwks), ...refreshVars() },
      },
      { name: "broken-sessions", modules: true, script: broken, compatibilityDate: "2025-09-01" },
    ],
  });
  try {
    const w = { fetch: (url, init) => mf.dispatchFetch(url, init) };
    const { jar } = await login(w, "lena");
    await outlive(jar);
    const calls = refreshCalls();
    const r = await w.fetch(`${URL_}/api`, jar.init());
    await assertDenied(assert, r, 503, "refresh_unavailable");
    assert.equal(r.headers.getSetCookie().length, 0, "cookies kept");
    assert.equal(refreshCalls(), calls, "the origin was not asked");
  } finally {
    await mf.dispose();
  }
});
