// The request-shape gate, end to end: one canonical reading of the path (ambiguous spellings are
// 400 before any routing), identity claims that could be read two ways refused, client headers
// that an origin could read as x-warden-* removed, one Authorization or none, and subject
// cutoffs over every credential kind. The built worker in workerd (Miniflare), real local KV and
// Durable Objects; tokens signed by the demo origin; a recording origin (tests/helpers/gate.mjs)
// behind Warden, so every test can see exactly what reached it — or that nothing did.
//
// Paths and header lines go out through node:http byte for byte (rawFetch): no WHATWG URL parsing
// and no header merging on the client. What workerd still does before the worker sees a request:
// it resolves dot segments spelled `.`/`..`/`%2e`/`%2e%2e`/`.%2e`/`%2e.` (any case), turns a raw
// `\` into `/`, replaces raw bytes that are not UTF-8 by U+FFFD (`%EF%BF%BD`), and joins repeated
// header lines with ", " (the one `Headers` value). Every spelling below survives that.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, admin, assertDenied, nextSecond } from "./helpers/warden.mjs";
import { startRecorder, rawFetch, headerValues } from "./helpers/gate.mjs";

const ORIGIN_SECRET = "origin-secret-0123456789abcdef";
const COOKIE = "warden_at";
const BASIC = "Basic dXNlcjpwYXNz"; // user:pass
const nowS = () => Math.floor(Date.now() / 1000);
let origin, rec, w;
let tokens; // { admin, reader } access tokens, "now"-relative iat/exp from the demo origin

before(async () => {
  origin = await startOrigin({ port: 0 }); // the issuer (keys inline in WARDEN_JWKS)
  rec = await startRecorder(); // the origin Warden forwards to
  w = await startWarden(origin, {
    WARDEN_ORIGIN: rec.url,
    WARDEN_ROUTES: "/admin=admin,/billing=billing:read",
    WARDEN_PUBLIC_PATHS: "/health,/public/",
    WARDEN_ACCESS_COOKIE: COOKIE,
    WARDEN_ORIGIN_SECRET: ORIGIN_SECRET,
  });
  tokens = {
    admin: await origin.issue({ sub: "root", scope: "admin" }, { ttl: 3600 }),
    reader: await origin.issue({ sub: "bob", scope: "read billing:read" }, { ttl: 3600 }),
  };
});
after(async () => {
  await w?.dispose();
  await rec?.close();
  await origin?.close();
});

const auth = (token) => (token ? [["authorization", `Bearer ${token}`]] : []);
/** A raw request to the worker: `path` exactly as given, `headers` as separate lines. */
const send = (path, { token, headers = [], method } = {}) => rawFetch(w.url, path, { method, headers: [...auth(token), ...headers] });
/** Runs `f` and says how many requests reached the recording origin meanwhile. */
async function forwarded(f) {
  const n = rec.seen.length;
  const result = await f();
  return { result, count: rec.seen.length - n, last: rec.seen.at(-1) };
}

/** "" when `r` is the gate's refusal (400 invalid_request, no-store), else what it was instead. */
async function refusalProblem(r) {
  const text = await r.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below
  }
  const ok = r.status === 400 && body.error === "invalid_request" && body.code === "invalid_request" && r.headers.get("cache-control") === "no-store";
  const code = body.code ?? body.error;
  return ok ? "" : `${r.status}${code ? ` ${code}` : ""} (cache-control: ${r.headers.get("cache-control")})`;
}

// ---------------------------------------------------------------------------------------------
// 1. Paths: one canonical reading.

// Spellings an origin could read as another path (or not at all): each is one path segment.
const AMBIGUOUS = [
  ["encoded /", "x%2Fy"],
  ["encoded / (lower case)", "x%2fy"],
  ["encoded \\", "x%5Cy"],
  ["encoded \\ (lower case)", "x%5cy"],
  ["encoded ;", "x%3By"],
  ["encoded ; (lower case)", "x%3by"],
  ["encoded %", "x%25y"],
  ["double-encoded /", "x%252Fy"],
  ["encoded NUL", "x%00y"],
  ["encoded LF", "x%0Ay"],
  ["encoded CR", "x%0Dy"],
  ["encoded TAB", "x%09y"],
  ["encoded US (0x1f)", "x%1Fy"],
  ["encoded DEL", "x%7Fy"],
  ["Tomcat dot-dot segment ..;", "..;"],
  ["Tomcat dot segment .;x", ".;x"],
  ["encoded ..; (%2e%2e%3b)", "%2e%2e%3b"],
  ["..%3B", "..%3B"],
  ["raw ; (matrix parameter)", "x;y=1"],
  ["empty segment (//)", ""],
  ["invalid UTF-8 %C3%28", "%C3%28"],
  ["invalid UTF-8 %FF", "%FF"],
  ["overlong UTF-8 / (%C0%AF)", "%C0%AF"],
];

// Where the spelling appears, and with which credentials.
const CONTEXTS = [
  ["under a public prefix, no token", (s) => `/public/${s}/app.css`, null],
  ["under a WARDEN_ROUTES route, token with the scope", (s) => `/admin/${s}/users`, "admin"],
  ["under a WARDEN_ROUTES route, token without the scope", (s) => `/admin/${s}/users`, "reader"],
  ["on a protected path, valid token", (s) => `/api/${s}/me`, "reader"],
  ["on a protected path, no token", (s) => `/api/${s}/me`, null],
];

test("paths: every ambiguous spelling is 400 invalid_request before any routing, in every context; nothing reaches the origin", async () => {
  const wrong = [];
  for (const [context, pathOf, who] of CONTEXTS) {
    for (const [spelling, segment] of AMBIGUOUS) {
      const path = pathOf(segment);
      const { result: problem, count } = await forwarded(async () => refusalProblem(await send(path, { token: who && tokens[who] })));
      if (problem || count) wrong.push(`${context}: ${spelling} ${path} -> ${problem || "400"}${count ? ", forwarded to the origin" : ""}`);
    }
  }
  assert.ok(wrong.length === 0, `${wrong.length} spellings not refused:\n${wrong.join("\n")}`);
});

test("paths: the reported holes — encoded ; under a public prefix, encoded \\ past WARDEN_ROUTES", async () => {
  // Tomcat-style origins read `..;` (and `..%3B`, decoded once) as `..`: /public/..;/admin is
  // /admin there. None of these may reach the origin, with or without a token.
  for (const path of ["/public/..%3B/admin", "/public/x%3B/..%3B/admin", "/public/..%3b/..%3b/admin", "/public/app.css;jsessionid=1", "/public/..;/admin"]) {
    const { result: r, count } = await forwarded(() => send(path));
    assert.equal(await refusalProblem(r), "", path);
    assert.equal(count, 0, `${path} reached the origin without a token`);
  }
  // Origins that read `\` as `/` (decoded once) see /x/../admin = /admin: the reader token
  // lacks `admin`, and must not get there.
  for (const path of ["/x/..%5Cadmin", "/x/..%5cadmin/users", "/admin%5C..%5Capi", "/billing%5C..%5Cadmin"]) {
    const { result: r, count } = await forwarded(() => send(path, { token: tokens.reader }));
    assert.equal(await refusalProblem(r), "", path);
    assert.equal(count, 0, `${path} reached the origin with a token lacking the route's scope`);
  }
});

test("paths: plain public paths forwarded without a token; decoded spellings need the route's scope; a token with it passes", async () => {
  for (const path of ["/public/app.css", "/health", "/public/img/logo.png?v=2"]) {
    const { result: r, count, last } = await forwarded(() => send(path));
    assert.equal(r.status, 200, path);
    assert.equal(count, 1, path);
    assert.equal(last.target, path);
    assert.deepEqual(headerValues(last, "x-warden-sub"), [], "no identity on a public path");
    assert.deepEqual(headerValues(last, "x-warden-auth"), [ORIGIN_SECRET]);
  }
  // `/%61dmin` decoded once is `/admin`: the admin route's scope is required.
  for (const path of ["/%61dmin", "/%61dmin/users", "/%41dmin", "/adm%69n/users"]) {
    const { result: r, count } = await forwarded(() => send(path, { token: tokens.reader }));
    const body = await assertDenied(assert, r, 403, "insufficient_scope");
    assert.equal(body.scope, "admin", path);
    assert.equal(count, 0, path);
  }
  const { result: ok, count } = await forwarded(() => send("/%61dmin/users", { token: tokens.admin }));
  assert.equal(ok.status, 200);
  assert.equal(count, 1);
  for (const [path, token] of [["/admin/users", tokens.admin], ["/billing/invoices", tokens.reader], ["/api/me", tokens.reader]]) {
    const { result: r, count: n, last } = await forwarded(() => send(path, { token }));
    assert.equal(r.status, 200, path);
    assert.equal(n, 1);
    assert.equal(last.target, path);
  }
  await assertDenied(assert, await send("/admin/users"), 401, "token_missing");
});

test("paths: one reading for public prefixes too — /%70ublic/app.css is the public /public/app.css", async () => {
  // Decoded once, an encoded ordinary character is the character itself: public paths are
  // matched on the same reading as routes.
  for (const path of ["/public/%61pp.css", "/%70ublic/app.css", "/heal%74h"]) {
    const { result: r, count } = await forwarded(() => send(path));
    assert.equal(r.status, 200, `${path}: ${r.status} ${await r.clone().text()}`);
    assert.equal(count, 1);
  }
});

test("paths: spellings the URL parser resolves arrive resolved — never public, never past a route", async () => {
  // workerd resolves these before the worker runs; the worker judges what they resolve to.
  for (const [path, resolved] of [
    ["/public/%2e%2e/admin", "/admin"],
    ["/public/.%2E/admin", "/admin"],
    ["/public/%2E./admin/users", "/admin/users"],
    ["/public\\..\\admin", "/admin"],
    ["/public/x/../../admin", "/admin"],
  ]) {
    const { result: r, count } = await forwarded(() => send(path));
    await assertDenied(assert, r, 401, "token_missing");
    assert.equal(count, 0, path);
    const scoped = await forwarded(() => send(path, { token: tokens.reader }));
    const body = await assertDenied(assert, scoped.result, 403, "insufficient_scope");
    assert.equal(body.scope, "admin", `${path} is ${resolved}`);
    assert.equal(scoped.count, 0);
  }
  // A `%3B` segment removed by a literal `..` leaves a plain public path.
  const { result: r, last } = await forwarded(() => send("/public/x%3B/../app.css"));
  assert.equal(r.status, 200);
  assert.equal(last.target, "/public/app.css");
});

// ---------------------------------------------------------------------------------------------
// 2. Identity values.

async function assertClaimRefused(claims, label) {
  const token = await origin.issue(claims);
  const { result: r, count } = await forwarded(() => send("/api/me", { token }));
  assert.equal(r.status, 401, `${label}: status`);
  assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer error="invalid_token"/, label);
  await assertDenied(assert, r, 401, "token_claim_invalid");
  assert.equal(count, 0, `${label}: reached the origin`);
}

test("identity values: sub, sid and jti with edge spaces or control characters are 401 token_claim_invalid", async () => {
  for (const sub of [" admin", "admin ", "ad\tmin", "admin\u0000", "admin\u007f", "admin\n"]) {
    await assertClaimRefused({ sub }, `sub ${JSON.stringify(sub)}`);
  }
  for (const sid of [" s-1", "s-1 ", "s\u0007-1", "s-1\r\n"]) {
    await assertClaimRefused({ sub: "alice", sid }, `sid ${JSON.stringify(sid)}`);
  }
  for (const jti of [" j-1", "j-1 ", "j\t-1", "j-1\u0000"]) {
    await assertClaimRefused({ sub: "alice", jti }, `jti ${JSON.stringify(jti)}`);
  }
});

test("identity values: a scope claim is single-space separated (RFC 6749 §3.3) — tab, edge or double spaces are 401", async () => {
  for (const scope of ["read\twrite", " read", "read ", "read  write", "admin\u0000"]) {
    await assertClaimRefused({ sub: "alice", scope }, `scope ${JSON.stringify(scope)}`);
  }
  const token = await origin.issue({ sub: "alice", scope: "read write" });
  const { result: r } = await forwarded(() => send("/api/me", { token }));
  assert.equal(r.status, 200);
  const seen = await r.json();
  assert.deepEqual(headerValues(seen, "x-warden-scopes"), ["read write"]);
});

test("identity values: zoë and the literal zo%C3%AB never reach the origin as the same x-warden-sub", async () => {
  const subs = {};
  for (const sub of ["zoë", "zo%C3%AB"]) {
    const { result: r, count } = await forwarded(async () => send("/api/me", { token: await origin.issue({ sub }) }));
    assert.equal(r.status, 200, sub);
    assert.equal(count, 1);
    subs[sub] = headerValues(await r.json(), "x-warden-sub");
  }
  assert.deepEqual(subs["zoë"], ["zo%C3%AB"]);
  assert.deepEqual(subs["zo%C3%AB"], ["zo%25C3%25AB"]);
  assert.notDeepEqual(subs["zoë"], subs["zo%C3%AB"]);
});

// ---------------------------------------------------------------------------------------------
// 3. Header hygiene.

const FORGED = [
  ["x_warden_sub", "evil"],
  ["X_Warden_Sub", "evil"],
  ["x-warden_sub", "evil"],
  ["X-WARDEN-SUB", "evil"],
  ["x_warden-auth", "evil"],
];
/** The header lines of `entry` an origin (or a CGI-style proxy: `_` = `-`) reads as x-warden-*. */
const wardenLines = (entry) => entry.headers.filter(([n]) => n.toLowerCase().replaceAll("_", "-").startsWith("x-warden-"));

test("header hygiene: x-warden-* in any case or with underscores never reach the origin", async () => {
  const token = await origin.issue({ sub: "alice" });
  let { result: r, count, last } = await forwarded(() => send("/api/me", { token, headers: FORGED }));
  assert.equal(r.status, 200);
  assert.equal(count, 1);
  const lines = wardenLines(last);
  assert.deepEqual(lines.filter(([, v]) => v.includes("evil")), [], `forged lines forwarded: ${JSON.stringify(lines)}`);
  assert.ok(lines.every(([n]) => /^x-warden-[a-z]+$/.test(n.toLowerCase())), JSON.stringify(lines));
  assert.deepEqual(headerValues(last, "x-warden-sub"), ["alice"]);
  assert.deepEqual(headerValues(last, "x-warden-auth"), [ORIGIN_SECRET]);

  ({ result: r, count, last } = await forwarded(() => send("/public/app.css", { headers: FORGED })));
  assert.equal(r.status, 200);
  assert.equal(count, 1);
  assert.deepEqual(
    wardenLines(last).map(([n, v]) => [n.toLowerCase(), v]),
    [["x-warden-auth", ORIGIN_SECRET]],
    "on a public path the origin sees only Warden's x-warden-auth",
  );
});

// ---------------------------------------------------------------------------------------------
// 4. Authorization.

test("Authorization: two header lines are 400 invalid_request on protected and public paths, whatever their order", async () => {
  const token = await origin.issue({ sub: "alice" });
  const twice = [["authorization", BASIC], ["Authorization", `Bearer ${token}`]];
  // The client really sends two lines (checked against the recording origin directly).
  await rawFetch(rec.url, "/wire-check", { headers: twice });
  assert.deepEqual(headerValues(rec.seen.at(-1), "authorization"), [BASIC, `Bearer ${token}`]);

  for (const [path, headers] of [
    ["/api/me", twice],
    ["/api/me", [...twice].reverse()],
    ["/public/app.css", twice],
    ["/public/app.css", [...twice].reverse()],
  ]) {
    const { result: r, count } = await forwarded(() => send(path, { headers }));
    const label = `${path} ${headers.map(([, v]) => v.split(" ")[0]).join(" + ")}`;
    assert.equal(await refusalProblem(r), "", label);
    assert.equal(count, 0, `${label} reached the origin`);
  }
  await assertDenied(assert, await send("/api/me", { headers: [["authorization", "bearer x"]] }), 400, "invalid_request");
});

test("Authorization: an access cookie next to Authorization: Basic is not the cookie's user — 401 token_missing, Basic never forwarded", async () => {
  const token = await origin.issue({ sub: "carol" });
  const cookie = ["cookie", `theme=dark; ${COOKIE}=${token}`];
  const { result: r, count } = await forwarded(() => send("/api/me", { headers: [cookie, ["authorization", BASIC]] }));
  assert.equal(r.status, 401);
  assert.equal(r.headers.get("www-authenticate"), "Bearer");
  await assertDenied(assert, r, 401, "token_missing");
  assert.equal(count, 0, "the origin never receives the Basic credentials");
  // The cookie alone still is carol.
  const alone = await forwarded(() => send("/api/me", { headers: [cookie] }));
  assert.equal(alone.result.status, 200);
  assert.deepEqual(headerValues(alone.last, "x-warden-sub"), ["carol"]);
  assert.deepEqual(headerValues(alone.last, "authorization"), []);
});

// ---------------------------------------------------------------------------------------------
// 5. Subject cutoffs cover PATs.

async function issuePat(sub) {
  const r = await admin(w, "/_warden/pats", { body: JSON.stringify({ sub, expires_at: 0 }) });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()).token;
}

test("subject cutoff ({sub}, the password-change revoke) refuses the user's PATs, cookie sessions and access tokens at once; later ones and other users' work", async () => {
  const sub = "cutoff-user";
  const pat = await issuePat(sub);
  const otherPat = await issuePat("cutoff-other");
  const access = await origin.issue({ sub });
  const session = await origin.issue({ sub });
  const viaCookie = (t) => send("/api/me", { headers: [["cookie", `${COOKIE}=${t}`]] });
  for (const r of [await send("/api/me", { token: pat }), await send("/api/me", { token: otherPat }), await send("/api/me", { token: access }), await viaCookie(session)]) {
    assert.equal(r.status, 200);
  }

  const revoke = await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub }) });
  assert.equal(revoke.status, 200);
  const { before: cutoff } = await revoke.json();
  assert.ok(cutoff >= nowS() - 5);

  // Immediately, in the same worker: every credential of the user created at or before it.
  let before = rec.seen.length;
  await assertDenied(assert, await send("/api/me", { token: access }), 401, "token_revoked");
  await assertDenied(assert, await viaCookie(session), 401, "token_revoked");
  const patAfter = await send("/api/me", { token: pat });
  assert.equal(patAfter.status, 401, "the PAT issued before the cutoff is refused");
  await assertDenied(assert, patAfter, 401, "token_revoked");
  assert.equal(rec.seen.length, before, "nothing forwarded");
  assert.equal((await send("/api/me", { token: otherPat })).status, 200, "another user's PAT still works");

  // The cutoff is iat <= before in whole seconds: credentials from a later second work.
  while (nowS() <= cutoff) await nextSecond();
  const later = await issuePat(sub);
  before = rec.seen.length;
  const r = await send("/api/me", { token: later });
  assert.equal(r.status, 200, "a PAT issued after the cutoff works");
  assert.deepEqual(headerValues(await r.json(), "x-warden-sub"), [sub]);
  assert.equal((await send("/api/me", { token: await origin.issue({ sub }) })).status, 200, "so does a later access token");
  assert.equal(rec.seen.length, before + 2);
});
