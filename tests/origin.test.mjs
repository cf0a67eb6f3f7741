// The demo origin's issuer half on its own: RFC 6749 refresh with rotation and reuse detection.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./origin/server.mjs";

let origin;
before(async () => {
  origin = await startOrigin({ port: 0, accessTtl: 60, clientId: "web" });
});
after(() => origin.close());

const claims = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url"));

async function login(username) {
  const r = await fetch(`${origin.url}/login`, { method: "POST", body: JSON.stringify({ username }) });
  assert.equal(r.status, 200);
  return { body: await r.json(), cookies: r.headers.getSetCookie() };
}

function refresh(token, clientId = "web") {
  return fetch(`${origin.url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: token, client_id: clientId }),
  });
}

test("login issues an at+jwt access token with sid and jti, a refresh token, and cookies", async () => {
  const { body, cookies } = await login("carol");
  const c = claims(body.access_token);
  assert.equal(c.sub, "carol");
  assert.ok(c.sid && c.jti);
  assert.equal(c.exp - c.iat, 60);
  assert.equal(JSON.parse(Buffer.from(body.access_token.split(".")[0], "base64url")).typ, "at+jwt");
  assert.equal(body.token_type, "Bearer");
  assert.ok(body.refresh_token.length >= 43);
  assert.ok(cookies.some((c) => c.startsWith("warden_access=") && /HttpOnly/.test(c) && /SameSite=Lax/.test(c)));
  assert.ok(cookies.some((c) => c.startsWith("warden_refresh=")));
});

test("refresh rotates the token and keeps the session; the old token replayed kills the family", async () => {
  const { body } = await login("dave");
  const sid = claims(body.access_token).sid;
  const r1 = await refresh(body.refresh_token);
  assert.equal(r1.status, 200);
  const next = await r1.json();
  assert.notEqual(next.refresh_token, body.refresh_token);
  assert.equal(claims(next.access_token).sid, sid);
  assert.equal(next.expires_in, 60);

  const replay = await refresh(body.refresh_token);
  assert.equal(replay.status, 400);
  assert.equal((await replay.json()).error, "invalid_grant");
  // The family is dead: even the newest token no longer works.
  const after = await refresh(next.refresh_token);
  assert.equal(after.status, 400);
  assert.equal(origin.sessions.reuseDetected, 1);
});

test("token endpoint refuses unknown tokens, other grants and other clients", async () => {
  assert.equal((await refresh("nope")).status, 400);
  assert.equal((await refresh((await login("erin")).body.refresh_token, "other")).status, 401);
  const r = await fetch(`${origin.url}/oauth/token`, { method: "POST", body: "grant_type=password&client_id=web" });
  assert.equal((await r.json()).error, "unsupported_grant_type");
});

test("password change needs Warden's identity header and a real password", async () => {
  let r = await fetch(`${origin.url}/password`, { method: "POST", body: '{"password":"long-enough"}' });
  assert.equal(r.status, 401);
  r = await fetch(`${origin.url}/password`, { method: "POST", headers: { "x-warden-sub": "frank" }, body: '{"password":"x"}' });
  assert.equal(r.status, 400);
});
