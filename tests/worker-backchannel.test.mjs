// OpenID Connect Back-Channel Logout end to end: the demo origin as the OpenID provider signs
// logout tokens with its key, Warden (the release build in workerd, real local KV and Durable
// Objects) receives them at POST /_warden/oidc/backchannel-logout and revokes at the edge.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT, generateKeyPair } from "jose";
import { startOrigin } from "./origin/server.mjs";
import { bearer, ADMIN_TOKEN } from "./helpers/miniflare.mjs";
import { startWarden, assertDenied, claimsOf, nextSecond } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
const PATH = "/_warden/oidc/backchannel-logout";
const CLIENT_ID = "warden-rp";
const EVENT = "http://schemas.openid.net/event/backchannel-logout";
const VARS = { WARDEN_CLIENT_ID: CLIENT_ID, WARDEN_PUBLIC_PATHS: "/login" };
let origin, w;

before(async () => {
  origin = await startOrigin({ port: 0, clientId: CLIENT_ID });
  w = await startWarden(origin, VARS);
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

const api = (warden, token) => warden.fetch(`${URL_}/api/me`, bearer(token));

function logout(warden, token, init = {}) {
  return warden.fetch(`${URL_}${PATH}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(init.headers ?? {}) },
    body: init.body ?? new URLSearchParams({ logout_token: token }).toString(),
  });
}

async function assertAcknowledged(resp) {
  assert.equal(resp.status, 200, await resp.clone().text());
  assert.equal(resp.headers.get("cache-control"), "no-store");
  assert.equal(await resp.text(), "");
}

async function assertRefused(resp, description) {
  assert.equal(resp.status, 400);
  assert.equal(resp.headers.get("cache-control"), "no-store");
  const body = await resp.json();
  assert.equal(body.error, "invalid_request");
  if (description) assert.match(body.error_description, description);
  return body;
}

/** The keys under `prefix` in Warden's KV namespace. */
async function keys(prefix) {
  return (await (await w.kv()).list({ prefix })).keys.map((k) => k.name);
}

const linesFor = (jti) => w.waitForAudit((e) => e.event === "backchannel_logout" && e.jti === jti);

test("sid: that session's tokens are refused at the next request, the user's other sessions live", async (t) => {
  const sid = "bcl-session-1";
  const token = await origin.issue({ sub: "alice", sid });
  const other = await origin.issue({ sub: "alice", sid: "bcl-session-2" });
  assert.equal((await api(w, token)).status, 200); // verified and cached in this isolate
  assert.equal((await api(w, other)).status, 200);

  const logoutToken = await origin.logoutToken({ sid, sub: "alice" });
  const sent = performance.now();
  const ack = await logout(w, logoutToken);
  const acked = performance.now();
  await assertAcknowledged(ack);
  const refused = await api(w, token);
  const latency = performance.now() - acked;
  await assertDenied(assert, refused, 401, "token_revoked");
  t.diagnostic(
    `back-channel logout: ${(acked - sent).toFixed(1)} ms to the 200; the very next request refused ` +
      `(${latency.toFixed(1)} ms from the 200 to the 401)`,
  );
  console.log(`back-channel logout (sid) → refusal: next request, ${latency.toFixed(1)} ms after the 200`);
  assert.equal((await api(w, other)).status, 200, "another session of the same user is untouched");

  // What the admin API's {"sid", "sub"} writes: the record, listed under the user.
  assert.ok((await keys("rv:sid:")).includes(`rv:sid:${sid}`));
  const listed = await w.fetch(`${URL_}/_warden/revocations?sub=alice`, bearer(ADMIN_TOKEN));
  assert.ok((await listed.json()).revocations.some((r) => r.kind === "sid" && r.id === sid));
  const { jti } = claimsOf(logoutToken);
  const [line] = await linesFor(jti);
  assert.deepEqual(
    { action: line.action, sid: line.sid, sub: line.sub },
    { action: "revoked_session", sid, sub: "alice" },
  );
  assert.ok(w.audit.some((e) => e.event === "revoke" && e.kind === "sid" && e.id === sid));
  assert.ok(!JSON.stringify(w.audit).includes(logoutToken), "the logout token is never logged");
});

test("sub only: every token of the user issued at or before iat is refused; a later login works", async () => {
  const now = Math.floor(Date.now() / 1000);
  const old = await origin.issue({ sub: "bob" }, { iat: now - 60 });
  const current = await origin.issue({ sub: "bob" }, { iat: now });
  const bystander = await origin.issue({ sub: "carol" }, { iat: now });
  for (const t of [old, current, bystander]) assert.equal((await api(w, t)).status, 200);

  const logoutToken = await origin.logoutToken({ sub: "bob", iat: now });
  await assertAcknowledged(await logout(w, logoutToken));
  await assertDenied(assert, await api(w, old), 401, "token_revoked");
  await assertDenied(assert, await api(w, current), 401, "token_revoked");
  assert.equal((await api(w, bystander)).status, 200, "another user is untouched");
  const [line] = await linesFor(claimsOf(logoutToken).jti);
  assert.deepEqual({ action: line.action, sub: line.sub, before: line.before }, { action: "subject_cutoff", sub: "bob", before: now });

  // A login after the cutoff: a new token, issued later, goes through.
  await nextSecond();
  const login = await w.fetch(`${URL_}/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "bob" }),
  });
  assert.equal(login.status, 200);
  const { access_token } = await login.json();
  assert.ok(claimsOf(access_token).iat > now);
  assert.equal((await api(w, access_token)).status, 200);

  // A cutoff is never lowered: an older logout token for the same user changes nothing.
  const older = await origin.logoutToken({ sub: "bob", iat: now - 30 });
  await assertAcknowledged(await logout(w, older));
  const [again] = await linesFor(claimsOf(older).jti);
  assert.equal(again.before, now, "the effective cutoff stays the higher one");
  await assertDenied(assert, await api(w, current), 401, "token_revoked");
});

test("a replayed logout token is acknowledged again and applied once", async () => {
  const sid = "bcl-replayed";
  const logoutToken = await origin.logoutToken({ sid });
  const { jti } = claimsOf(logoutToken);
  await assertAcknowledged(await logout(w, logoutToken));
  await assertAcknowledged(await logout(w, logoutToken));
  await assertAcknowledged(await logout(w, logoutToken));
  await w.waitForAudit((e) => e.event === "backchannel_logout" && e.jti === jti && e.action === "duplicate");
  const lines = (await linesFor(jti)).map((e) => e.action);
  assert.deepEqual(lines, ["revoked_session", "duplicate", "duplicate"]);
  const revokes = w.audit.filter((e) => e.event === "revoke" && e.id === sid);
  assert.equal(revokes.length, 1, "the revocation was written once");
  await assertDenied(assert, await api(w, await origin.issue({ sub: "dave", sid })), 401, "token_revoked");
});

test("typ is optional, and when present logout+jwt in any accepted spelling", async () => {
  for (const [i, typ] of [undefined, "logout+jwt", "application/logout+jwt", "Logout+JWT"].entries()) {
    const sid = `bcl-typ-${i}`;
    const token = await origin.issue({ sub: "gina", sid });
    await assertAcknowledged(await logout(w, await origin.logoutToken({ sid }, { header: { typ } })));
    await assertDenied(assert, await api(w, token), 401, "token_revoked");
  }
});

test("every refusal: 400 invalid_request with the reason, and nothing written", async () => {
  const sid = "bcl-never-revoked";
  const token = await origin.issue({ sub: "erin", sid });
  const before_ = [...(await keys("rv:")), ...(await keys("ev:"))].sort();
  const foreign = await generateKeyPair("ES256");
  const foreignSigned = await new SignJWT({ iss: origin.issuer, aud: CLIENT_ID, iat: Math.floor(Date.now() / 1000), jti: "f1", sid, events: { [EVENT]: {} } })
    .setProtectedHeader({ alg: "ES256", kid: origin.jwks.keys[0].kid, typ: "logout+jwt" })
    .sign(foreign.privateKey);
  const good = await origin.logoutToken({ sid });
  const [h, p, s] = good.split(".");
  const tampered = `${h}.${p}.${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`;
  const otherClaims = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(good), sid: "someone-else" })).toString("base64url")}.${s}`;
  const future = Math.floor(Date.now() / 1000) + 3600;
  const cases = [
    ["wrong iss", await origin.logoutToken({ sid, iss: "https://evil.example" }), /iss is not the configured issuer/],
    ["wrong aud", await origin.logoutToken({ sid, aud: "another-client" }), /aud does not name this receiver/],
    ["aud array without us", await origin.logoutToken({ sid, aud: ["a", "b"] }), /aud does not name/],
    ["missing events", await origin.logoutToken({ sid, events: undefined }), /the token has no events/],
    ["events without the logout event", await origin.logoutToken({ sid, events: { "https://example/other": {} } }), /no back-channel logout event/],
    ["logout event not an object", await origin.logoutToken({ sid, events: { [EVENT]: true } }), /not a JSON object/],
    ["nonce present", await origin.logoutToken({ sid, nonce: "n-1" }), /must not contain nonce/],
    ["wrong typ", await origin.logoutToken({ sid }, { header: { typ: "at+jwt" } }), /typ is not logout\+jwt/],
    ["JWT typ", await origin.logoutToken({ sid }, { header: { typ: "JWT" } }), /typ is not logout\+jwt/],
    ["bad signature (tampered)", tampered, /signature verification failed/],
    ["bad signature (claims swapped)", otherClaims, /signature verification failed/],
    ["bad signature (another key, same kid)", foreignSigned, /signature verification failed/],
    ["unknown kid", await origin.logoutToken({ sid }, { header: { kid: "nobody" } }), /kid/],
    ["no jti", await origin.logoutToken({ sid, jti: undefined }), /no jti/],
    ["no iat", await origin.logoutToken({ sid, iat: undefined }), /no iat/],
    ["iat in the future", await origin.logoutToken({ sid, iat: future }), /iat is in the future/],
    ["expired", await origin.logoutToken({ sid, exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ["neither sid nor sub", await origin.logoutToken({}), /needs sid or sub/],
    ["alg none", `${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.`, null],
    ["not a JWT", "not-a-token", null],
  ];
  for (const [name, logoutToken, description] of cases) {
    await t_case(name, () => logout(w, logoutToken), description);
  }
  // The request itself.
  const form = new URLSearchParams({ logout_token: good }).toString();
  await t_case("JSON instead of a form", () => logout(w, good, { headers: { "content-type": "application/json" }, body: JSON.stringify({ logout_token: good }) }), /x-www-form-urlencoded/);
  await t_case("no content type", () => w.fetch(`${URL_}${PATH}`, { method: "POST", body: form }), /x-www-form-urlencoded/);
  await t_case("two logout tokens", () => logout(w, good, { body: `${form}&${form}` }), /more than once/);
  await t_case("empty form", () => logout(w, good, { body: "" }), /no logout_token/);
  const big = await logout(w, good, { body: `${form}&pad=${"x".repeat(64 * 1024)}` });
  assert.equal(big.status, 413);

  const after_ = [...(await keys("rv:")), ...(await keys("ev:"))].sort();
  assert.deepEqual(after_, before_, "no refused request wrote anything");
  assert.equal((await api(w, token)).status, 200, "the session is alive");
  const refusals = w.audit.filter((e) => e.event === "backchannel_logout" && e.action === "refused");
  assert.ok(refusals.length >= cases.length, `${refusals.length} refusals audited`);
  assert.ok(refusals.every((e) => e.code === "invalid_request" && e.reason));

  async function t_case(name, send, description) {
    const resp = await send();
    await assertRefused(resp, description).catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
  }
});

test("not behind the admin token, never forwarded, POST only; paths beside it stay admin", async () => {
  const seen = [...origin.requests.keys()];
  const logoutToken = await origin.logoutToken({ sid: "bcl-methods" });
  // An admin token (or any Authorization) does not matter here.
  await assertAcknowledged(await logout(w, logoutToken, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
  for (const method of ["GET", "PUT", "DELETE"]) {
    const r = await w.fetch(`${URL_}${PATH}`, { method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get("allow"), "POST");
  }
  for (const path of [`${PATH}/`, "/_warden/oidc/Backchannel-Logout", "/_warden/oidc"]) {
    const r = await w.fetch(`${URL_}${path}`, { method: "POST", body: "logout_token=x" });
    assert.equal(r.status, 401, `${path} is the admin API`);
  }
  const reached = [...origin.requests.keys()].filter((p) => !seen.includes(p));
  assert.ok(!reached.some((p) => p.startsWith("/_warden")), `reached the origin: ${reached}`);
  assert.ok(![...origin.requests.keys()].some((p) => p.startsWith("/_warden")));
});

test("off by default (WARDEN_CLIENT_ID unset) and with WARDEN_BACKCHANNEL_LOGOUT=off: 404", async () => {
  const logoutToken = await origin.logoutToken({ sid: "bcl-off" });
  for (const vars of [{}, { ...VARS, WARDEN_BACKCHANNEL_LOGOUT: "off" }]) {
    const off = await startWarden(origin, vars);
    try {
      const r = await logout(off, logoutToken);
      assert.equal(r.status, 404, JSON.stringify(vars));
      assert.equal((await r.json()).error, "not_found");
      const health = await off.fetch(`${URL_}/_warden/health`, bearer(ADMIN_TOKEN));
      assert.equal((await health.json()).config.backchannel_logout, false);
    } finally {
      await off.dispose();
    }
  }
  const bad = await startWarden(origin, { ...VARS, WARDEN_BACKCHANNEL_LOGOUT: "maybe" });
  try {
    const r = await logout(bad, logoutToken);
    assert.equal(r.status, 500);
    const lines = await bad.waitForAudit((e) => e.event === "config_error");
    assert.equal(lines[0].variable, "WARDEN_BACKCHANNEL_LOGOUT");
  } finally {
    await bad.dispose();
  }
});

test("KV failing: 503 and nothing acknowledged; the provider's retry then applies", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warden-bcl-"));
  const sid = "bcl-store-down";
  const logoutToken = await origin.logoutToken({ sid, sub: "frank" });
  const sessionToken = await origin.issue({ sub: "frank", sid });
  try {
    for (const fail of [["put"], ["get"], "all"]) {
      const down = await startWarden(origin, VARS, { kv: { fail }, persist: dir });
      try {
        const r = await logout(down, logoutToken);
        assert.equal(r.status, 503, `KV failing ${fail}`);
        const lines = await down.waitForAudit((e) => e.event === "backchannel_logout");
        assert.equal(lines.at(-1).action, "unavailable");
        assert.ok(down.audit.some((e) => e.event === "store_error"));
      } finally {
        await down.dispose();
      }
    }
    const up = await startWarden(origin, VARS, { persist: dir });
    try {
      assert.equal((await api(up, sessionToken)).status, 200, "nothing was applied while the store was down");
      await assertAcknowledged(await logout(up, logoutToken));
      const [line] = await up.waitForAudit((e) => e.event === "backchannel_logout");
      assert.equal(line.action, "revoked_session", "the retry applies (it is no duplicate)");
      await assertDenied(assert, await api(up, sessionToken), 401, "token_revoked");
    } finally {
      await up.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("keys from WARDEN_JWKS_URL: 503 while they cannot be had, then the retry applies", async () => {
  const vars = { ...VARS, WARDEN_JWKS: undefined, WARDEN_JWKS_URL: origin.jwksUrl, WARDEN_JWKS_COOLDOWN_SECONDS: "1" };
  const fetched = await startWarden(origin, vars);
  const logoutToken = await origin.logoutToken({ sid: "bcl-keys-down" });
  try {
    origin.knobs.jwksFailure = "error";
    const r = await logout(fetched, logoutToken);
    assert.equal(r.status, 503);
    assert.equal((await r.json()).error, "temporarily_unavailable");
    const [line] = await fetched.waitForAudit((e) => e.event === "backchannel_logout");
    assert.deepEqual({ action: line.action, reason: line.reason }, { action: "unavailable", reason: "keys_unavailable" });
    origin.knobs.jwksFailure = null;
    await new Promise((r) => setTimeout(r, 1100)); // the cooldown
    await assertAcknowledged(await logout(fetched, logoutToken));
  } finally {
    origin.knobs.jwksFailure = null;
    await fetched.dispose();
  }
});
