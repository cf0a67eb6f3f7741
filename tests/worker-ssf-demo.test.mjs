// The demo origin as a Shared Signals transmitter (what `make dev` runs): a password change and
// a logout, made through Warden, push a CAEP SET signed with the origin's transmitter key to
// Warden's /_warden/ssf/push (the release build in workerd, real local KV and Durable Objects),
// which revokes at the edge. The origin has no admin token: the admin API is not its path.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./origin/server.mjs";
import { bearer } from "./helpers/miniflare.mjs";
import { startWarden, assertDenied, nextSecond } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
const TX = "https://origin.warden.test/ssf";
const AUD = "https://warden.test/ssf";
const PUSH_TOKEN = "demo-push-token-0123456789";
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
let origin, w;

before(async () => {
  origin = await startOrigin({ port: 0, ssfIssuer: TX, ssfAudience: AUD, ssfPushToken: PUSH_TOKEN });
  w = await startWarden(origin, {
    WARDEN_SSF_ISSUER: TX,
    WARDEN_SSF_AUDIENCE: AUD,
    WARDEN_SSF_JWKS: JSON.stringify(origin.ssfJwks),
    WARDEN_SSF_PUSH_TOKEN: PUSH_TOKEN,
  });
  origin.options.wardenUrl = w.url; // the origin pushes to Warden over loopback HTTP
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

async function login(username, password) {
  const r = await fetch(`${origin.url}/login`, { method: "POST", body: JSON.stringify({ username, password }) });
  assert.equal(r.status, 200);
  return (await r.json()).access_token;
}
const api = (token) => w.fetch(`${URL_}/api/me`, bearer(token));
const claims = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url"));

test("POST /password through Warden: the origin pushes credential-change; every older token refused", async () => {
  const token = await login("uma");
  const other = await login("uma");
  assert.equal((await api(token)).status, 200);
  const r = await w.fetch(`${URL_}/password`, bearer(token, { method: "POST", body: JSON.stringify({ password: "correct horse battery" }) }));
  assert.equal(r.status, 200, await r.clone().text());
  const { before: cutoff } = await r.json();
  assert.ok(cutoff >= claims(token).iat);
  for (const t of [token, other]) await assertDenied(assert, await api(t), 401, "token_revoked");
  const lines = w.audit.filter((e) => e.event === "ssf_event" && e.type === `${CAEP}credential-change`);
  assert.equal(lines.length, 2, "revoke, change, revoke again");
  assert.ok(lines.every((l) => l.action === "subject_cutoff" && l.sub === "uma"));
  assert.equal(origin.pushed.length, 2);
  await nextSecond();
  assert.equal((await api(await login("uma", "correct horse battery"))).status, 200, "a login after the change works");
});

test("POST /logout through Warden: the origin pushes session-revoked for that session only", async () => {
  const token = await login("vic");
  const other = await login("vic");
  const r = await w.fetch(`${URL_}/logout`, bearer(token, { method: "POST" }));
  assert.equal(r.status, 200, await r.clone().text());
  await assertDenied(assert, await api(token), 401, "token_revoked");
  assert.equal((await api(other)).status, 200, "the user's other session lives");
  const [line] = await w.waitForAudit((e) => e.event === "ssf_event" && e.type === `${CAEP}session-revoked`);
  assert.deepEqual({ action: line.action, sid: line.sid, sub: line.sub }, { action: "revoked_session", sid: claims(token).sid, sub: "vic" });
  assert.equal(origin.requests.get("/_warden/revoke") ?? 0, 0);
});

test("Warden refusing the push: the password is not changed (fail closed)", async () => {
  const token = await login("wes");
  const saved = origin.options.ssfPushToken;
  origin.options.ssfPushToken = "wrong-push-token-0123456789";
  try {
    const r = await w.fetch(`${URL_}/password`, bearer(token, { method: "POST", body: JSON.stringify({ password: "correct horse battery" }) }));
    assert.equal(r.status, 503);
    assert.match((await r.json()).error_description, /401/);
    assert.equal((await api(token)).status, 200, "nothing revoked");
    const relog = await fetch(`${origin.url}/login`, { method: "POST", body: JSON.stringify({ username: "wes", password: "anything" }) });
    assert.equal(relog.status, 200, "the old (any) password still logs in");
  } finally {
    origin.options.ssfPushToken = saved;
  }
});
