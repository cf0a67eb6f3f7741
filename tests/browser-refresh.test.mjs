// Refresh at the edge in a real browser: headless Chromium (Debian's, driven by the pinned
// playwright-core) logs in through the worker (Miniflare listening on 127.0.0.1, Durable Objects
// and local KV, in front of the demo origin), waits past the access token's lifetime, calls the
// API and is served without a new login. The session cookies are `Secure`: Chromium keeps
// `Secure` cookies for http://127.0.0.1 and http://localhost (potentially trustworthy origins),
// so the production cookie settings work in local development too. Set CHROMIUM to use another
// binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, claimsOf, sleep } from "./helpers/warden.mjs";
import { ACCESS, REFRESH, refreshVars } from "./helpers/sessions.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let origin, w, context, profile;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run make setup (or set CHROMIUM)`);
  origin = await startOrigin({ port: 0, accessTtl: 2 });
  w = await startWarden(origin, refreshVars({ WARDEN_PUBLIC_PATHS: "/login,/public/" }));
  assert.match(String(w.url), /^http:\/\/127\.0\.0\.1:\d+\/$/, "the worker listens on loopback");
  profile = mkdtempSync(join(tmpdir(), "warden-chromium-"));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
});

after(async () => {
  await context?.close();
  await w?.dispose();
  await origin?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const sessionCookies = async () => Object.fromEntries((await context.cookies()).filter((c) => [ACCESS, REFRESH].includes(c.name)).map((c) => [c.name, c]));

test("Chromium: log in through the worker, outlive the access token, the API still answers without a new login", async () => {
  const page = await context.newPage();
  const base = String(w.url).replace(/\/$/, "");
  const landing = await page.goto(`${base}/public/app`);
  assert.equal(landing.status(), 200);

  const call = (path, init) =>
    page.evaluate(async ([path, init]) => {
      const r = await fetch(path, init);
      return { status: r.status, body: await r.text() };
    }, [path, init]);

  const loggedIn = await call("/login", { method: "POST", body: JSON.stringify({ username: "alice" }) });
  assert.equal(loggedIn.status, 200);
  let cookies = await sessionCookies();
  for (const name of [ACCESS, REFRESH]) {
    assert.ok(cookies[name], `${name} kept by the browser`);
    assert.equal(cookies[name].secure, true, `${name} is Secure and kept on http://127.0.0.1`);
    assert.equal(cookies[name].httpOnly, true);
  }
  assert.equal(await page.evaluate(() => document.cookie), "", "HttpOnly: invisible to scripts");
  const first = claimsOf(cookies[ACCESS].value);

  let r = await call("/api/me");
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).identity["x-warden-sub"], "alice");

  // Past the access token's lifetime (2 s, no leeway): the next call is refreshed at the edge.
  await sleep(Math.max(0, first.exp * 1000 - Date.now()) + 300);
  const refreshes = origin.requests.get("/oauth/token") ?? 0;
  r = await call("/api/me");
  assert.equal(r.status, 200, r.body);
  const echo = JSON.parse(r.body);
  assert.equal(echo.identity["x-warden-sub"], "alice");
  assert.equal(echo.identity["x-warden-class"], "session");
  assert.equal(origin.requests.get("/oauth/token"), refreshes + 1, "refreshed once, at the edge");
  assert.equal(origin.requests.get("/login"), 1, "no new login");

  cookies = await sessionCookies();
  const now = claimsOf(cookies[ACCESS].value);
  assert.equal(now.sid, first.sid, "same session");
  assert.notEqual(now.jti, first.jti, "a new access token");
  assert.equal(echo.identity["x-warden-jti"], now.jti, "the API saw the new token");
  assert.ok(now.exp > first.exp);
  // The browser keeps the cookies for the session's lifetime, not the token's.
  assert.ok(cookies[ACCESS].expires * 1000 > Date.now() + 86_400_000);

  // And again after the new token expires: still no login.
  await sleep(Math.max(0, now.exp * 1000 - Date.now()) + 300);
  r = await call("/api/me");
  assert.equal(r.status, 200);
  assert.equal(origin.requests.get("/oauth/token"), refreshes + 2);
  assert.equal(origin.requests.get("/login"), 1);
  await page.close();
});
