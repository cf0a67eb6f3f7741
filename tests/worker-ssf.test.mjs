// Shared Signals push delivery (RFC 8935) end to end: the demo origin as the transmitter signs
// Security Event Tokens with its key; Warden (the release build in workerd, real local KV and
// Durable Objects) receives them at POST /_warden/ssf/push and revokes at the edge.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { SignJWT, generateKeyPair } from "jose";
import { startOrigin } from "./origin/server.mjs";
import { bearer, ADMIN_TOKEN } from "./helpers/miniflare.mjs";
import { startWarden, assertDenied, nextSecond } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
const PATH = "/_warden/ssf/push";
const TX = "https://tx.warden.test";
const AUD = "https://warden.test/ssf";
const PUSH_TOKEN = "ssf-push-token-0123456789";
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
const SSF = "https://schemas.openid.net/secevent/ssf/event-type/";
let origin, w;

function vars(extra = {}) {
  return {
    WARDEN_SSF_ISSUER: TX,
    WARDEN_SSF_AUDIENCE: AUD,
    WARDEN_SSF_JWKS: JSON.stringify(origin.jwks),
    WARDEN_SSF_PUSH_TOKEN: PUSH_TOKEN,
    ...extra,
  };
}

before(async () => {
  origin = await startOrigin({ port: 0 });
  w = await startWarden(origin, vars());
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

const api = (warden, token) => warden.fetch(`${URL_}/api/me`, bearer(token));
const now = () => Math.floor(Date.now() / 1000);

/** A SET from the transmitter: `claims` override (undefined removes), `header` likewise. */
function set(events, claims = {}, header = {}) {
  const payload = { iss: TX, aud: AUD, iat: now(), jti: randomUUID(), events, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const h = { typ: "secevent+jwt", ...header };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  return origin.sign(payload, h);
}

function push(warden, body, { token = PUSH_TOKEN, contentType = "application/secevent+jwt" } = {}) {
  const headers = { "content-type": contentType };
  if (token) headers.authorization = `Bearer ${token}`;
  return warden.fetch(`${URL_}${PATH}`, { method: "POST", headers, body });
}

async function assertAccepted(resp) {
  assert.equal(resp.status, 202, await resp.clone().text());
  assert.equal(await resp.text(), "");
}

async function assertRefusal(resp, status, err, description) {
  assert.equal(resp.status, status);
  assert.equal(resp.headers.get("cache-control"), "no-store");
  const body = await resp.json();
  assert.equal(body.err, err, JSON.stringify(body));
  if (description) assert.match(body.description, description);
}

const lineFor = async (jti) =>
  (await w.waitForAudit((e) => e.event === "ssf_event" && e.jti === jti)).at(-1);
const jtiOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url")).jti;

test("session-revoked naming a session: that session refused at the next request", async (t) => {
  const sid = "ssf-s1";
  const token = await origin.issue({ sub: "alice", sid });
  const other = await origin.issue({ sub: "alice", sid: "ssf-s2" });
  assert.equal((await api(w, token)).status, 200);
  const s = await set(
    { [`${CAEP}session-revoked`]: { event_timestamp: now() } },
    { sub_id: { format: "complex", user: { format: "opaque", id: "alice" }, session: { format: "opaque", id: sid } } },
  );
  const ack = await push(w, s);
  const acked = performance.now();
  await assertAccepted(ack);
  const refused = await api(w, token);
  const latency = performance.now() - acked;
  await assertDenied(assert, refused, 401, "token_revoked");
  t.diagnostic(`SSF push: the very next request refused, ${latency.toFixed(1)} ms after the 202`);
  console.log(`SSF push (session-revoked) → refusal: next request, ${latency.toFixed(1)} ms after the 202`);
  assert.equal((await api(w, other)).status, 200, "the user's other session lives");
  const line = await lineFor(jtiOf(s));
  assert.deepEqual(
    { action: line.action, sid: line.sid, sub: line.sub, type: line.type },
    { action: "revoked_session", sid, sub: "alice", type: `${CAEP}session-revoked` },
  );
});

test("user cutoffs: session-revoked for a user, credential-change and each RISC event, every subject format", async () => {
  const cases = [
    [`${CAEP}session-revoked`, { sub_id: { format: "opaque", id: "u-opaque" } }, "u-opaque"],
    [`${CAEP}credential-change`, { sub_id: { format: "iss_sub", iss: origin.issuer, sub: "u-isssub" } }, "u-isssub"],
    [`${RISC}sessions-revoked`, { sub_id: { format: "complex", user: { format: "opaque", id: "u-complex" } } }, "u-complex"],
    [`${RISC}account-disabled`, { sub_id: { format: "opaque", id: "u-disabled" } }, "u-disabled"],
    [`${RISC}account-purged`, { sub_id: { format: "opaque", id: "u-purged" } }, "u-purged"],
    [`${RISC}account-credential-change-required`, { sub_id: { format: "opaque", id: "u-ccr" } }, "u-ccr"],
    // An older transmitter: the subject inside the event.
    [`${RISC}account-disabled`, { event_subject: { subject_type: "iss-sub", iss: origin.issuer, sub: "u-legacy" } }, "u-legacy"],
  ];
  const t0 = now();
  const tokens = [];
  for (const [, , sub] of cases) tokens.push(await origin.issue({ sub }, { iat: t0 }));
  const bystander = await origin.issue({ sub: "u-bystander" }, { iat: t0 });
  for (const [i, [type, subject, sub]] of cases.entries()) {
    const event = { event_timestamp: t0 };
    const claims = { ...subject };
    if (claims.event_subject) {
      event.subject = claims.event_subject;
      delete claims.event_subject;
    }
    const s = await set({ [type]: event }, claims);
    await assertAccepted(await push(w, s));
    await assertDenied(assert, await api(w, tokens[i]), 401, "token_revoked");
    const line = await lineFor(jtiOf(s));
    assert.deepEqual({ action: line.action, sub: line.sub, before: line.before, type: line.type }, { action: "subject_cutoff", sub, before: t0, type });
  }
  assert.equal((await api(w, bystander)).status, 200);
  // Issued after the cutoff: accepted.
  await nextSecond();
  assert.equal((await api(w, await origin.issue({ sub: "u-opaque" }))).status, 200);
});

test("verification, other event types and subjects Warden cannot map: 202, nothing revoked", async () => {
  const token = await origin.issue({ sub: "carol", sid: "ssf-carol" });
  const before_ = (await (await w.kv()).list({ prefix: "rv:" })).keys.length;
  const cases = [
    [{ [`${SSF}verification`]: { state: "st-1" } }, {}, "verified"],
    [{ "https://example.com/event-type/other": { x: 1 } }, { sub_id: { format: "opaque", id: "carol" } }, "ignored"],
    [{ [`${CAEP}credential-change`]: {} }, { sub_id: { format: "email", email: "carol@example.com" } }, "unmapped"],
    [{ [`${CAEP}credential-change`]: {} }, { sub_id: { format: "iss_sub", iss: "https://another.example", sub: "carol" } }, "unmapped"],
    [{ [`${CAEP}session-revoked`]: {} }, { sub_id: { format: "complex", session: { format: "email", email: "x@y" } } }, "unmapped"],
  ];
  for (const [events, claims, action] of cases) {
    const s = await set(events, claims);
    await assertAccepted(await push(w, s));
    const line = await lineFor(jtiOf(s));
    assert.equal(line.action, action, JSON.stringify(line));
    if (action === "verified") assert.equal(line.state, "st-1");
    if (action === "unmapped") assert.ok(line.reason);
  }
  assert.equal((await (await w.kv()).list({ prefix: "rv:" })).keys.length, before_, "nothing revoked");
  assert.equal((await api(w, token)).status, 200);
});

test("a repeated jti is acknowledged again and applied once", async () => {
  const sid = "ssf-replayed";
  const s = await set({ [`${CAEP}session-revoked`]: {} }, { sub_id: { format: "complex", session: { format: "opaque", id: sid } } });
  for (let i = 0; i < 3; i++) await assertAccepted(await push(w, s));
  await w.waitForAudit((e) => e.event === "ssf_event" && e.jti === jtiOf(s) && e.action === "duplicate");
  const actions = w.audit.filter((e) => e.event === "ssf_event" && e.jti === jtiOf(s)).map((e) => e.action);
  assert.deepEqual(actions, ["revoked_session", "duplicate", "duplicate"]);
  assert.equal(w.audit.filter((e) => e.event === "revoke" && e.id === sid).length, 1);
});

test("every refusal code, and nothing written", async () => {
  const sid = "ssf-never";
  const token = await origin.issue({ sub: "erin", sid });
  const keys = async () => (await (await w.kv()).list()).keys.map((k) => k.name).filter((n) => /^(rv|ev):/.test(n)).sort();
  const before_ = await keys();
  const event = { [`${CAEP}session-revoked`]: {} };
  const subject = { sub_id: { format: "complex", session: { format: "opaque", id: sid } } };
  const good = await set(event, subject);
  const [h, p, sig] = good.split(".");
  const foreign = await generateKeyPair("ES256");
  const foreignSigned = await new SignJWT({ iss: TX, aud: AUD, iat: now(), jti: "f", events: event, ...subject })
    .setProtectedHeader({ alg: "ES256", kid: origin.jwks.keys[0].kid, typ: "secevent+jwt" })
    .sign(foreign.privateKey);
  const cases = [
    ["no events", await set(undefined, subject), 400, "invalid_request", /no events/],
    ["two events", await set({ ...event, [`${CAEP}credential-change`]: {} }, subject), 400, "invalid_request", /more than one/],
    ["empty events", await set({}, subject), 400, "invalid_request", /no event/],
    ["no jti", await set(event, { ...subject, jti: undefined }), 400, "invalid_request", /no jti/],
    ["no iat", await set(event, { ...subject, iat: undefined }), 400, "invalid_request", /no iat/],
    ["iat in the future", await set(event, { ...subject, iat: now() + 3600 }), 400, "invalid_request", /future/],
    ["wrong typ", await set(event, subject, { typ: "JWT" }), 400, "invalid_request", /secevent\+jwt/],
    ["no typ", await set(event, subject, { typ: undefined }), 400, "invalid_request", /secevent\+jwt/],
    ["malformed", "not-a-set", 400, "invalid_request", null],
    ["tampered signature", `${h}.${p}.${sig.startsWith("A") ? "B" : "A"}${sig.slice(1)}`, 400, "invalid_key", /signature/],
    ["another key", foreignSigned, 400, "invalid_key", /signature/],
    ["unknown kid", await set(event, subject, { kid: "nobody" }), 400, "invalid_key", /kid/],
    ["alg none", `${Buffer.from('{"alg":"none","typ":"secevent+jwt"}').toString("base64url")}.${p}.`, 400, "invalid_key", null],
    ["wrong iss", await set(event, { ...subject, iss: "https://evil.example" }), 400, "invalid_issuer", /iss/],
    ["wrong aud", await set(event, { ...subject, aud: "https://other.example" }), 400, "invalid_audience", /aud/],
    ["aud array without us", await set(event, { ...subject, aud: ["a", "b"] }), 400, "invalid_audience", /aud/],
  ];
  for (const [name, body, status, err, description] of cases) {
    await assertRefusal(await push(w, body), status, err, description).catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
  }
  // The request.
  await assertRefusal(await push(w, good, { contentType: "application/jwt" }), 400, "invalid_request", /secevent\+jwt/);
  await assertRefusal(await push(w, good, { token: null }), 401, "authentication_failed");
  await assertRefusal(await push(w, good, { token: `${PUSH_TOKEN}x` }), 401, "authentication_failed");
  await assertRefusal(await push(w, good, { token: ADMIN_TOKEN }), 401, "authentication_failed");
  const big = await push(w, `${good}${" ".repeat(64 * 1024)}`);
  assert.equal(big.status, 413);
  // Authentication first, as at the admin API; then the method.
  assert.equal((await w.fetch(`${URL_}${PATH}`, { method: "GET" })).status, 401);
  const r = await w.fetch(`${URL_}${PATH}`, bearer(PUSH_TOKEN, { method: "GET" }));
  assert.equal(r.status, 405);
  assert.equal(r.headers.get("allow"), "POST");

  assert.deepEqual(await keys(), before_, "no refused push wrote anything");
  assert.equal((await api(w, token)).status, 200, "the session is alive");
  const refusals = w.audit.filter((e) => e.event === "ssf_event" && e.action === "refused");
  assert.ok(refusals.length >= cases.length + 4);
  assert.ok(!JSON.stringify(w.audit).includes(PUSH_TOKEN), "the push token is never logged");
  assert.ok(![...origin.requests.keys()].some((p) => p.startsWith("/_warden")), "never forwarded");
});

test("keys from WARDEN_SSF_JWKS_URL; no push token configured: none needed", async () => {
  const fetched = await startWarden(origin, vars({ WARDEN_SSF_JWKS: undefined, WARDEN_SSF_JWKS_URL: origin.jwksUrl, WARDEN_SSF_PUSH_TOKEN: undefined }));
  try {
    const sid = "ssf-fetched";
    const token = await origin.issue({ sub: "gina", sid });
    const s = await set({ [`${CAEP}session-revoked`]: {} }, { sub_id: { format: "complex", session: { format: "opaque", id: sid } } });
    await assertAccepted(await push(fetched, s, { token: null }));
    await assertDenied(assert, await api(fetched, token), 401, "token_revoked");
  } finally {
    await fetched.dispose();
  }
});

test("404 while WARDEN_SSF_ISSUER is unset", async () => {
  const off = await startWarden(origin, {});
  try {
    const r = await push(off, await set({ [`${SSF}verification`]: {} }));
    assert.equal(r.status, 404);
  } finally {
    await off.dispose();
  }
});

test("store down: 503 and nothing acknowledged; the transmitter's retry then applies", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warden-ssf-"));
  const sid = "ssf-store-down";
  const s = await set({ [`${CAEP}session-revoked`]: {} }, { sub_id: { format: "complex", session: { format: "opaque", id: sid } } });
  const sessionToken = await origin.issue({ sub: "hal", sid });
  try {
    for (const fail of [["put"], ["get"]]) {
      const down = await startWarden(origin, vars(), { kv: { fail }, persist: dir });
      try {
        assert.equal((await push(down, s)).status, 503, `KV failing ${fail}`);
        const lines = await down.waitForAudit((e) => e.event === "ssf_event");
        assert.equal(lines.at(-1).action, "unavailable");
      } finally {
        await down.dispose();
      }
    }
    const up = await startWarden(origin, vars(), { persist: dir });
    try {
      assert.equal((await api(up, sessionToken)).status, 200, "nothing was applied while the store was down");
      await assertAccepted(await push(up, s));
      const [line] = await up.waitForAudit((e) => e.event === "ssf_event");
      assert.equal(line.action, "revoked_session", "the retry applies");
      await assertDenied(assert, await api(up, sessionToken), 401, "token_revoked");
    } finally {
      await up.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
