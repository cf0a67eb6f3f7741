// Token sources, routes and scopes, public paths, preflights and what the origin receives: the
// built worker in workerd (Miniflare), real local KV, the demo origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, assertDenied } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
const ORIGIN_SECRET = "origin-secret-0123456789abcdef";
let origin, w;

before(async () => {
  origin = await startOrigin({ port: 0 });
  w = await startWarden(origin, {
    WARDEN_ROUTES: "/admin=admin,/billing=billing:read",
    WARDEN_PUBLIC_PATHS: "/health,/public/",
    WARDEN_ACCESS_COOKIE: "warden_at",
    WARDEN_ORIGIN_SECRET: ORIGIN_SECRET,
  });
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

const get = (path, init = {}) => w.fetch(`${URL_}${path}`, init);
const bearer = (token, init = {}) => ({ ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
const reached = (path) => origin.requests.get(path) ?? 0;

test("identity headers, scopes and x-warden-auth reach the origin; client x-warden-* do not", async () => {
  const token = await origin.issue({ sub: "alice", scope: "read write" });
  const r = await get("/api/me?q=1", bearer(token, { headers: { "x-warden-auth": "forged", "X-Warden-Sub": "root", "x-warden-extra": "1" } }));
  assert.equal(r.status, 200);
  const echo = await r.json();
  assert.equal(echo.identity["x-warden-sub"], "alice");
  assert.equal(echo.identity["x-warden-scopes"], "read write");
  assert.equal(echo.identity["x-warden-class"], "access");
  assert.equal(echo.identity["x-warden-auth"], ORIGIN_SECRET);
  assert.equal(echo.identity["x-warden-extra"], undefined);
  assert.equal(echo.query, "?q=1");
});

test("without WARDEN_ORIGIN_SECRET no x-warden-auth is sent, and a client's is removed", async () => {
  const plain = await startWarden(origin);
  try {
    const token = await origin.issue({ sub: "alice" });
    const echo = await (await plain.fetch(`${URL_}/api`, bearer(token, { headers: { "x-warden-auth": "forged" } }))).json();
    assert.equal(echo.identity["x-warden-auth"], undefined);
    assert.equal(echo.identity["x-warden-sub"], "alice");
  } finally {
    await plain.dispose();
  }
});

test("non-ASCII ids are percent-encoded losslessly; header-breaking ids are refused, never split", async () => {
  const token = await origin.issue({ sub: "zoë %" });
  const echo = await (await get("/api", bearer(token))).json();
  assert.equal(echo.identity["x-warden-sub"], "zo%C3%AB %25");
  assert.equal(decodeURIComponent(echo.identity["x-warden-sub"]), "zoë %");
  const before = reached("/api");
  const breaking = await origin.issue({ sub: "zoë\r\nx-injected: 1" });
  await assertDenied(assert, await get("/api", bearer(breaking)), 401, "token_claim_invalid");
  assert.equal(reached("/api"), before, "nothing forwarded");
});

test("WARDEN_ROUTES: a missing scope is 403 insufficient_scope, every spelling of the path", async () => {
  const reader = await origin.issue({ sub: "bob", scope: "billing:read" });
  assert.equal((await get("/billing/invoices", bearer(reader))).status, 200);
  assert.equal((await get("/api/other", bearer(reader))).status, 200, "no route, no scope needed");
  const before = reached("/admin");
  for (const path of ["//admin", "/x/..%2f..%2fadmin", "/admin;x=1", "/admin%5Cx"]) {
    // Spellings an origin could read another way never reach routing at all.
    await assertDenied(assert, await get(path, bearer(reader)), 400, "invalid_request");
  }
  for (const path of ["/admin", "/admin/users", "/Admin", "/%61dmin", "/administrator"]) {
    const r = await get(path, bearer(reader));
    const body = await assertDenied(assert, r, 403, "insufficient_scope");
    assert.equal(body.error, "insufficient_scope", path);
    assert.equal(body.scope, "admin");
    assert.equal(
      r.headers.get("www-authenticate"),
      'Bearer error="insufficient_scope", error_description="the token lacks a scope this path requires", scope="admin"',
    );
  }
  assert.equal(reached("/admin"), before, "nothing forwarded");
  const lines = await w.waitForAudit((e) => e.code === "insufficient_scope");
  assert.equal(lines[0].sub, "bob");

  const admin = await origin.issue({ sub: "root", scope: "admin" });
  assert.equal((await get("/admin/users", bearer(admin))).status, 200);
  await assertDenied(assert, await get("/billing", bearer(admin)), 403, "insufficient_scope");
  // A revoked or invalid token is a 401 before any scope question.
  await assertDenied(assert, await get("/admin", bearer("x.y.z")), 401, "token_malformed");
});

test("WARDEN_PUBLIC_PATHS: forwarded without a token, client x-warden-* still stripped", async () => {
  let r = await get("/health", { headers: { "x-warden-sub": "admin" } });
  assert.equal(r.status, 200);
  let echo = await r.json();
  assert.equal(echo.path, "/health");
  assert.equal(echo.identity["x-warden-sub"], undefined);
  assert.equal(echo.identity["x-warden-auth"], ORIGIN_SECRET, "the origin can still tell Warden sent it");
  r = await get("/public/app.css");
  assert.equal(r.status, 200);
  echo = await r.json();
  assert.equal(echo.path, "/public/app.css");
  for (const path of ["/healthz", "/public", "/api/health"]) {
    await assertDenied(assert, await get(path), 401, "token_missing");
  }
  await assertDenied(assert, await get("/public/..%2fadmin"), 400, "invalid_request");
});

test("access cookie: a token in WARDEN_ACCESS_COOKIE is accepted; two are a malformed request", async () => {
  const token = await origin.issue({ sub: "carol" });
  let r = await get("/api", { headers: { cookie: `theme=dark; warden_at=${token}; x=1` } });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).identity["x-warden-sub"], "carol");
  r = await get("/api", { headers: { cookie: `warden_at=${token}; warden_at=${token}` } });
  await assertDenied(assert, r, 400, "invalid_request");
  r = await get("/api", { headers: { cookie: "warden_at=not.a.token" } });
  await assertDenied(assert, r, 401, "token_malformed");
  r = await get("/api", { headers: { cookie: `other_at=${token}` } });
  await assertDenied(assert, r, 401, "token_missing");
  // The Authorization header wins over the cookie.
  const dave = await origin.issue({ sub: "dave" });
  r = await get("/api", bearer(dave, { headers: { cookie: `warden_at=${token}` } }));
  assert.equal((await r.json()).identity["x-warden-sub"], "dave");
  // A cookie over the size cap is refused before decoding.
  r = await get("/api", { headers: { cookie: `warden_at=${"a".repeat(9000)}` } });
  await assertDenied(assert, r, 401, "token_malformed");
});

test("no access cookie configured: cookies are not credentials", async () => {
  const plain = await startWarden(origin);
  try {
    const token = await origin.issue({ sub: "carol" });
    const r = await plain.fetch(`${URL_}/api`, { headers: { cookie: `warden_at=${token}` } });
    await assertDenied(assert, r, 401, "token_missing");
  } finally {
    await plain.dispose();
  }
});

test("CORS preflight without credentials passes through; other bare OPTIONS do not", async () => {
  const before = reached("/api/cors");
  const r = await get("/api/cors", {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST", "x-warden-sub": "admin" },
  });
  assert.equal(r.status, 200);
  const echo = await r.json();
  assert.equal(echo.method, "OPTIONS");
  assert.equal(echo.identity["x-warden-sub"], undefined);
  assert.equal(reached("/api/cors"), before + 1);
  await assertDenied(assert, await get("/api/cors", { method: "OPTIONS" }), 401, "token_missing");
  // With a token, an OPTIONS request is an ordinary protected request.
  const token = await origin.issue({ sub: "erin" });
  const withToken = await get("/api/cors", bearer(token, { method: "OPTIONS", headers: { "access-control-request-method": "GET" } }));
  assert.equal((await withToken.json()).identity["x-warden-sub"], "erin");
});

test("origin errors pass through untouched", async () => {
  const token = await origin.issue({ sub: "frank" });
  const r = await get("/login", bearer(token, { method: "POST", body: "{not json" }));
  assert.equal(r.status, 400);
  assert.deepEqual(await r.json(), { error: "invalid_request", error_description: "body is not JSON" });
});

test("RFC 6750: malformed requests are 400, every auth error carries no-store", async () => {
  const token = await origin.issue({ sub: "gus" });
  const r = await w.fetch(`${URL_}/api`, { headers: [["authorization", `Bearer ${token}`], ["authorization", `Bearer ${token}`]] });
  const body = await assertDenied(assert, r, 400, "invalid_request");
  assert.equal(body.error, "invalid_request");
  assert.match(r.headers.get("www-authenticate"), /^Bearer error="invalid_request"/);
  await assertDenied(assert, await get("/api", { headers: { authorization: "bearer x" } }), 400, "invalid_request");
  const missing = await get("/api");
  assert.equal(missing.headers.get("www-authenticate"), "Bearer");
  await assertDenied(assert, missing, 401, "token_missing");
});

test("claims policy variables: typ, maximum age, lifetime cap, leeway", async () => {
  const strict = await startWarden(origin, {
    WARDEN_ACCESS_TYP: "at+jwt",
    WARDEN_MAX_TOKEN_AGE_SECONDS: "60",
    WARDEN_MAX_LIFETIME_SECONDS: "600",
    WARDEN_LEEWAY_SECONDS: "0",
  });
  const now = Math.floor(Date.now() / 1000);
  const call = async (token) => strict.fetch(`${URL_}/api`, bearer(token));
  try {
    assert.equal((await call(await origin.issue({ sub: "p" }))).status, 200);
    await assertDenied(assert, await call(await origin.issue({ sub: "p" }, { header: { typ: "rt+jwt" } })), 401, "token_wrong_type");
    await assertDenied(assert, await call(await origin.issue({ sub: "p" }, { iat: now - 120 })), 401, "token_too_old");
    await assertDenied(assert, await call(await origin.issue({ sub: "p" }, { ttl: 3600 })), 401, "token_lifetime_too_long");
    const justExpired = await origin.issue({ sub: "p" }, { iat: now - 30, ttl: 25 });
    await assertDenied(assert, await call(justExpired), 401, "token_expired");
    // The default leeway (30 s) still accepts it.
    assert.equal((await get("/api", bearer(justExpired))).status, 200);
  } finally {
    await strict.dispose();
  }
});

test("bad configuration: one log line naming the variable, a generic 500, nothing forwarded", async () => {
  const cases = [
    ["WARDEN_FAIL_MODE", "maybe"],
    ["WARDEN_ROUTES", "/admin"],
    ["WARDEN_PUBLIC_PATHS", "public"],
    ["WARDEN_ACCESS_COOKIE", "bad name"],
    ["WARDEN_SNAPSHOT_SECONDS", "0"],
    ["WARDEN_MAX_LIFETIME_SECONDS", "-5"],
    ["WARDEN_MAX_TOKEN_AGE_SECONDS", "x"],
    ["WARDEN_LEEWAY_SECONDS", "9999"],
    ["WARDEN_ACCESS_TYP", "at jwt"],
    ["WARDEN_PAT_PREFIX", "p.a.t"],
    ["WARDEN_ORIGIN_SECRET", "tiny-s3cr3t"],
    ["WARDEN_ADMIN_TOKEN", "tiny-t0ken"],
  ];
  for (const [variable, value] of cases) {
    const broken = await startWarden(origin, { [variable]: value });
    try {
      const token = await origin.issue({ sub: "h" });
      const count = reached("/api");
      const r = await broken.fetch(`${URL_}/api`, bearer(token));
      assert.equal(r.status, 500, variable);
      assert.equal(reached("/api"), count, "nothing forwarded");
      const body = await r.json();
      assert.equal(body.error, "server_error");
      assert.doesNotMatch(JSON.stringify(body), /WARDEN_/);
      const lines = await broken.waitForAudit((e) => e.event === "config_error");
      assert.equal(lines.length, 1, variable);
      assert.equal(lines[0].variable, variable);
      assert.ok(lines[0].reason.length > 5);
      if (variable.endsWith("_SECRET") || variable.endsWith("_TOKEN")) {
        assert.ok(!JSON.stringify(lines).includes(value), "secrets are never logged");
      }
    } finally {
      await broken.dispose();
    }
  }
});
