// Sessions at the edge (issue 5): sliding idle timeout and absolute cap, the session inventory
// and revoke-all, the demo origin's password change end to end, and reuse detection after the
// objects lost their memory. Built worker in workerd (Miniflare) with Durable Objects and local
// KV, in front of the demo origin.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, assertDenied, claimsOf, sleep, admin, nextSecond } from "./helpers/warden.mjs";
import { ADMIN_TOKEN } from "./helpers/miniflare.mjs";
import { ACCESS, REFRESH, refreshVars, setCookies, login, outlive, assertCleared } from "./helpers/sessions.mjs";

const URL_ = "http://warden.test";
const cleanup = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function setup(originOptions, vars, options) {
  const origin = await startOrigin({ port: 0, ...originOptions });
  const w = await startWarden(origin, refreshVars(vars), options);
  cleanup.push(() => origin.close(), () => w.dispose());
  const api = (jar) => w.fetch(`${URL_}/api/me`, jar.init());
  return { origin, w, api };
}

const sessionsOf = async (w, sub) => {
  const r = await admin(w, `/_warden/sessions?sub=${encodeURIComponent(sub)}`, { method: "GET" });
  assert.equal(r.status, 200);
  return r.json();
};

test("absolute cap: refreshes slide until WARDEN_SESSION_MAX_SECONDS, then 401 session_cap_reached and cleared cookies", async () => {
  const { w, api } = await setup({ accessTtl: 2 }, { WARDEN_SESSION_MAX_SECONDS: "5" });
  const { jar } = await login(w, "alice");
  const created = claimsOf(jar.get(ACCESS)).iat;
  let refreshed = 0;
  for (;;) {
    await outlive(jar);
    const r = await api(jar);
    if (r.status !== 200) {
      await assertDenied(assert, r, 401, "session_cap_reached");
      assertCleared(assert, r);
      assert.ok(Date.now() / 1000 >= created + 5, "not before the cap");
      break;
    }
    refreshed += 1;
    const set = setCookies(r);
    // The cookies live until the cap, not past it.
    assert.ok(set[ACCESS].maxAge <= created + 5 - Math.floor(Date.now() / 1000) + 1, `Max-Age ${set[ACCESS].maxAge}`);
    jar.take(r);
    assert.ok(refreshed < 5, "the cap must end the session");
  }
  assert.ok(refreshed >= 1, "the session was refreshed before its cap");
  const listed = (await sessionsOf(w, "alice")).sessions;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].ended, "session_cap_reached");
  assert.equal(listed[0].cap_ends_at, created + 5);
});

test("idle timeout: a refresh after WARDEN_SESSION_IDLE_SECONDS without activity is 401 session_idle, cookies cleared", async () => {
  const { w, api } = await setup({ accessTtl: 2 }, { WARDEN_SESSION_IDLE_SECONDS: "3" });
  const { jar } = await login(w, "bob");
  assert.equal((await api(jar)).status, 200);
  // Active: a refresh within the idle timeout slides the session.
  await outlive(jar);
  let r = await api(jar);
  assert.equal(r.status, 200);
  jar.take(r);
  const before = (await sessionsOf(w, "bob")).sessions[0];
  assert.ok(before.last_active >= claimsOf(jar.get(ACCESS)).iat - 1, "activity recorded");
  // Idle for longer than the timeout.
  await sleep(4200);
  r = await api(jar);
  await assertDenied(assert, r, 401, "session_idle");
  assertCleared(assert, r);
  // And it stays ended, even from another copy of the cookies.
  r = await w.fetch(`${URL_}/api`, jar.without(ACCESS).init());
  await assertDenied(assert, r, 401, "session_idle");
});

test("inventory and revoke: GET /_warden/sessions lists ids and times (never tokens); {sid} and {sub} end the refresh families", async () => {
  const { w, api } = await setup({ accessTtl: 2 });
  const one = (await login(w, "carol")).jar;
  const two = (await login(w, "carol")).jar;
  const three = (await login(w, "carol")).jar;
  for (const jar of [one, two, three]) assert.equal((await api(jar)).status, 200);
  // Sessions register with their object after the response (waitUntil).
  let listed;
  for (let i = 0; i < 40; i++) {
    listed = await sessionsOf(w, "carol");
    if (listed.sessions.length === 3) break;
    await sleep(50);
  }
  assert.equal(listed.sessions.length, 3);
  const text = JSON.stringify(listed);
  for (const jar of [one, two, three]) {
    assert.ok(!text.includes(jar.get(REFRESH)) && !text.includes(jar.get(ACCESS)), "no tokens listed");
  }
  const s1 = claimsOf(one.get(ACCESS)).sid;
  const entry = listed.sessions.find((s) => s.sid === s1);
  assert.equal(entry.created_at, claimsOf(one.get(ACCESS)).iat);
  for (const field of ["last_active", "expires_at", "cap_ends_at"]) assert.equal(typeof entry[field], "number", field);
  assert.equal((await admin(w, "/_warden/sessions", { method: "GET" })).status, 400, "sub is required");
  assert.equal((await admin(w, "/_warden/sessions?sub=carol", { method: "DELETE" })).status, 405);
  assert.equal((await w.fetch(`${URL_}/_warden/sessions?sub=carol`)).status, 401, "admin only");

  // {sid}: that session's refresh family ends — the refresh cookie alone is refused too.
  assert.equal((await admin(w, "/_warden/revoke", { body: JSON.stringify({ sid: s1, sub: "carol" }) })).status, 200);
  await assertDenied(assert, await api(one), 401, "token_revoked");
  let r = await w.fetch(`${URL_}/api`, one.without(ACCESS).init());
  await assertDenied(assert, r, 401, "token_revoked");
  assertCleared(assert, r);
  // The others live on, and refresh.
  await outlive(two);
  r = await api(two);
  assert.equal(r.status, 200);
  two.take(r);

  // {sub}: all of carol's sessions end, including the refresh family of one never refreshed.
  r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub: "carol" }) });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).sessions_ended, 2);
  for (const jar of [two, three]) {
    await assertDenied(assert, await api(jar), 401, "token_revoked");
    await assertDenied(assert, await w.fetch(`${URL_}/api`, jar.without(ACCESS).init()), 401, "token_revoked");
  }
  listed = await sessionsOf(w, "carol");
  assert.deepEqual(listed.sessions.map((s) => s.ended).sort(), ["session_revoked", "subject_revoked", "subject_revoked"]);
  // A new login afterwards (a later second than the cutoff) is a new session and works.
  await nextSecond();
  const fresh = (await login(w, "carol")).jar;
  assert.equal((await api(fresh)).status, 200);
});

test("password change end to end: every token issued before it is rejected, the new login works", async () => {
  const { origin, w, api } = await setup({ accessTtl: 2, wardenAdminToken: ADMIN_TOKEN });
  origin.options.wardenUrl = w.url; // the origin calls Warden's admin API over loopback HTTP
  const { jar } = await login(w, "dave");
  const first = jar.copy();
  assert.equal((await api(jar)).status, 200);
  await outlive(jar);
  let r = await api(jar);
  assert.equal(r.status, 200);
  jar.take(r);
  const other = (await login(w, "dave")).jar; // a second device
  // A bearer token that outlives the whole test: refused for the cutoff alone, however slow
  // the machine (the short-lived ones below may have expired by then, which also refuses them).
  const longLived = await origin.issue({ sub: "dave" }, { ttl: 3600 });

  // Change the password through Warden (the origin needs Warden's identity headers).
  r = await w.fetch(`${URL_}/password`, jar.init({ method: "POST", body: JSON.stringify({ password: "correct horse battery" }) }));
  assert.equal(r.status, 200, await r.clone().text());
  const { before } = await r.json();
  assert.ok(before >= claimsOf(jar.get(ACCESS)).iat);

  // Every token from before: as a bearer, as cookies, and the refresh cookies alone.
  assert.ok(claimsOf(longLived).iat <= before);
  await assertDenied(assert, await w.fetch(`${URL_}/api`, { headers: { authorization: `Bearer ${longLived}` } }), 401, "token_revoked");
  for (const j of [first, jar, other]) {
    const token = j.get(ACCESS);
    r = await w.fetch(`${URL_}/api`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 401); // revoked, or expired as well on a slow machine
    r = await w.fetch(`${URL_}/api`, j.without(ACCESS).init());
    assert.equal(r.status, 401);
    assertCleared(assert, r);
  }
  await outlive(other);
  r = await api(other);
  assert.equal(r.status, 401);
  assertCleared(assert, r);

  // The old password no longer logs in; the new one does, and its session refreshes.
  r = await w.fetch(`${URL_}/login`, { method: "POST", body: JSON.stringify({ username: "dave", password: "wrong-old" }) });
  assert.equal(r.status, 401);
  const { jar: now } = await login(w, "dave", "correct horse battery");
  assert.ok(claimsOf(now.get(ACCESS)).iat > before);
  assert.equal((await api(now)).status, 200);
  await outlive(now);
  r = await api(now);
  assert.equal(r.status, 200);
  assert.ok(setCookies(r)[ACCESS]);
});

test("memory loss: a Warden restarted on the same storage (no object memory) still detects reuse", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warden-refresh-"));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const origin = await startOrigin({ port: 0, accessTtl: 2 });
  cleanup.push(() => origin.close());
  const vars = refreshVars({ WARDEN_REFRESH_GRACE_SECONDS: "1" });
  let w = await startWarden(origin, vars, { persist: dir });
  const { jar } = await login(w, "erin");
  const sid = claimsOf(jar.get(ACCESS)).sid;
  await outlive(jar);
  const old = jar.copy();
  let r = await w.fetch(`${URL_}/api`, jar.init());
  assert.equal(r.status, 200);
  jar.take(r);
  // The old refresh token alone went through an rt: object once too.
  const { jar: alone } = await login(w, "erin");
  const aloneOld = alone.without(ACCESS);
  r = await w.fetch(`${URL_}/api`, aloneOld.init());
  assert.equal(r.status, 200);
  await w.dispose();

  await sleep(1200); // past the grace
  w = await startWarden(origin, vars, { persist: dir });
  cleanup.push(() => w.dispose());
  const calls = origin.requests.get("/oauth/token");
  r = await w.fetch(`${URL_}/api`, old.init());
  await assertDenied(assert, r, 401, "refresh_reused");
  assertCleared(assert, r);
  r = await w.fetch(`${URL_}/api`, aloneOld.init());
  await assertDenied(assert, r, 401, "refresh_reused");
  assert.equal(origin.requests.get("/oauth/token"), calls, "detected from storage, not by the origin");
  assert.ok(await (await w.kv()).get(`rv:sid:${sid}`));
});
