// The revocation store (the listing snapshot) end to end: the built worker in workerd (Miniflare), real local KV and
// Durable Objects, the demo origin. KV operations are counted by the COUNTING WRAPPER and KV
// outages simulated by the DELIBERATELY FAILING BINDING of tests/helpers/warden.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, admin, nextSecond, sleep, claimsOf, assertDenied } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
let origin;

before(async () => {
  origin = await startOrigin({ port: 0 });
});
after(async () => {
  await origin?.close();
});

const get = (w, token, path = "/api") =>
  w.fetch(`${URL_}${path}`, { headers: { authorization: `Bearer ${token}` } });
const nowS = () => Math.floor(Date.now() / 1000);

// These tests are about the listing snapshot (WARDEN_REVOCATION_FILTER=off); the published
// filter has its own (worker-filter.test.mjs).
async function withWarden(vars, opts, fn) {
  const w = await startWarden(origin, { WARDEN_REVOCATION_FILTER: "off", ...vars }, opts);
  try {
    return await fn(w);
  } finally {
    await w.dispose();
  }
}

test("steady state: zero KV reads per JWT request; own revocations effective at once", async () => {
  await withWarden({ WARDEN_SNAPSHOT_SECONDS: "3600" }, { kv: "counting" }, async (w) => {
    // Something to find in the snapshot: a revoked token of another user.
    const other = await origin.issue({ sub: "zed" });
    assert.equal((await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(other).jti }) })).status, 200);
    const tokens = await Promise.all(["alice", "bob", "carol", "dave", "erin"].map((sub) => origin.issue({ sub })));
    assert.equal((await get(w, tokens[0])).status, 200); // warm-up: builds the snapshot (one list)
    await w.resetCounts();

    for (let round = 0; round < 5; round++) {
      for (const t of tokens) assert.equal((await get(w, t)).status, 200);
      await assertDenied(assert, await get(w, other), 401, "token_revoked");
    }
    assert.deepEqual(await w.counts(), {}, "30 JWT requests: no KV operation at all (no get, no list)");

    // A revocation written by this isolate is effective at once, still without a KV read.
    const { jti } = claimsOf(tokens[1]);
    assert.equal((await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti }) })).status, 200);
    await assertDenied(assert, await get(w, tokens[1]), 401, "token_revoked");
    assert.equal((await get(w, tokens[2])).status, 200);
    assert.deepEqual(await w.counts(), { put: 1 }, "the revocation's write, and nothing else");
  });
});

test("steady state over 1,000 unique tokens at the default WARDEN_SNAPSHOT_SECONDS: no KV read, one listing per 30 s at most", async () => {
  // Default interval (30 s, WARDEN_SNAPSHOT_SECONDS unset). Expected KV operations after the
  // warm-up: no get at all, and at most one `list` per started 30 s interval (one page: the
  // namespace holds far fewer than 1,000 records), i.e. ceil(elapsed / 30 s) listings.
  await withWarden({}, { kv: "counting" }, async (w) => {
    const revoked = [];
    for (let i = 0; i < 20; i++) {
      const t = await origin.issue({ sub: `revoked-${i}` });
      assert.equal((await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(t).jti }) })).status, 200);
      revoked.push(t);
    }
    const tokens = [];
    for (let i = 0; i < 1000; i++) tokens.push(await origin.issue({ sub: `user-${i}` }));
    assert.equal((await get(w, tokens[0])).status, 200); // warm-up: builds the snapshot
    await w.resetCounts();
    const started = Date.now();
    let allowed = 0;
    let refused = 0;
    for (let i = 0; i < tokens.length; i++) {
      const r = await get(w, tokens[i]);
      assert.equal(r.status, 200, `token ${i}`);
      allowed++;
      if (i % 50 === 0) {
        await assertDenied(assert, await get(w, revoked[(i / 50) % revoked.length]), 401, "token_revoked");
        refused++;
      }
    }
    const intervals = Math.ceil((Date.now() - started) / 30_000);
    const counts = await w.counts();
    assert.equal(allowed + refused, 1020, "every request was made");
    assert.equal(counts.get ?? 0, 0, "no point read for any of 1,020 JWT requests");
    assert.equal(counts.getWithMetadata ?? 0, 0);
    assert.ok((counts.list ?? 0) <= intervals, `at most one listing per 30 s interval: ${counts.list} in ${intervals}`);
    assert.deepEqual(Object.keys(counts).filter((k) => k !== "list"), [], `only listings: ${JSON.stringify(counts)}`);
  });
});

test("the snapshot picks up revocations written elsewhere within WARDEN_SNAPSHOT_SECONDS", async () => {
  await withWarden({ WARDEN_SNAPSHOT_SECONDS: "2" }, { kv: "counting" }, async (w) => {
    const token = await origin.issue({ sub: "alice" });
    assert.equal((await get(w, token)).status, 200);
    // Another location revokes the token: the record appears in KV, not through this isolate.
    const kv = await w.kv();
    await kv.put(`rv:jti:${claimsOf(token).jti}`, "{}", { expiration: nowS() + 600 });
    await w.resetCounts();
    const stale = await get(w, token);
    assert.equal(stale.status, 200, "inside the refresh interval the snapshot does not know yet");
    assert.deepEqual(await w.counts(), {}, "and no KV read was made to find out");
    await sleep(2100);
    await assertDenied(assert, await get(w, token), 401, "token_revoked");
    const counts = await w.counts();
    assert.equal(counts.list, 1, "one listing per interval");
    assert.equal(counts.get ?? 0, 0, "no point reads");
  });
});

test("own revocations stay effective across snapshot refreshes while KV's listing lags", async () => {
  await withWarden({ WARDEN_SNAPSHOT_SECONDS: "1" }, { kv: { listLagMs: 60_000 } }, async (w) => {
    const token = await origin.issue({ sub: "alice" });
    const cut = await origin.issue({ sub: "carl" }, { iat: nowS() - 10 });
    assert.equal((await get(w, token)).status, 200);
    await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(token).jti }) });
    await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub: "carl", before: nowS() - 5 }) });
    await sleep(1500); // the snapshot is rebuilt from a listing that does not show either record yet
    await assertDenied(assert, await get(w, token), 401, "token_revoked");
    await assertDenied(assert, await get(w, cut), 401, "token_revoked");
    const health = await (await admin(w, "/_warden/health", { method: "GET" })).json();
    assert.equal(health.snapshot.records, 0, "the listing indeed showed nothing");
  });
});

test("when the snapshot cannot answer (listing fails), each id is read from KV once per interval", async () => {
  await withWarden({ WARDEN_SNAPSHOT_SECONDS: "3600" }, { kv: { fail: ["list"] } }, async (w) => {
    const revoked = await origin.issue({ sub: "alice" });
    const kv = await w.kv();
    await kv.put(`rv:jti:${claimsOf(revoked).jti}`, "{}", { expiration: nowS() + 600 });
    await assertDenied(assert, await get(w, revoked), 401, "token_revoked");

    const token = await origin.issue({ sub: "alice" });
    await w.resetCounts();
    assert.equal((await get(w, token)).status, 200);
    // jti and sid are new; kid and sub were read (and remembered) for the first token.
    assert.deepEqual(await w.counts(), { get: 2 });
    assert.equal((await get(w, token)).status, 200);
    assert.deepEqual(await w.counts(), { get: 2 }, "answers are remembered until the next refresh");
  });
});

test("KV unreachable: 503 (fail closed), nothing forwarded, audited", async () => {
  await withWarden({}, { kv: { fail: "all" } }, async (w) => {
    const token = await origin.issue({ sub: "alice" });
    const reached = origin.requests.get("/api") ?? 0;
    const r = await get(w, token);
    const body = await assertDenied(assert, r, 503, "store_unavailable");
    assert.equal(body.error, "temporarily_unavailable");
    assert.equal(r.headers.get("www-authenticate"), null, "a 503 is not a challenge");
    assert.equal(origin.requests.get("/api") ?? 0, reached, "nothing forwarded");
    const errors = await w.waitForAudit((e) => e.event === "store_error");
    assert.ok(errors.some((e) => e.op === "list") && errors.some((e) => e.op === "get"), JSON.stringify(errors));
    // An admin write that cannot be stored is not acknowledged.
    const rv = await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: "j-x" }) });
    assert.equal(rv.status, 503);
    const cut = await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub: "alice" }) });
    assert.equal(cut.status, 503);
  });
});

test("WARDEN_FAIL_MODE=open: store outage allows with an audit line; never keys, signatures or PATs", async () => {
  await withWarden({ WARDEN_FAIL_MODE: "open" }, { kv: { fail: "all" } }, async (w) => {
    const token = await origin.issue({ sub: "alice" });
    const r = await get(w, token);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).identity["x-warden-sub"], "alice");
    const lines = await w.waitForAudit((e) => e.event === "fail_open_allow");
    assert.equal(lines.length, 1);
    assert.equal(lines[0].jti, claimsOf(token).jti);
    assert.equal(lines[0].sub, "alice");

    const other = await startOrigin({ port: 0 }); // same kid, different key
    try {
      await assertDenied(assert, await get(w, await other.issue({ sub: "alice" })), 401, "token_bad_signature");
    } finally {
      await other.close();
    }
    // A PAT record is the credential itself: no record, no allow.
    await assertDenied(assert, await get(w, `wdn_pat_${"a".repeat(64)}`), 503, "store_unavailable");
  });
  // Same outage, default mode: refused.
  await withWarden({}, { kv: { fail: "all" } }, async (w) => {
    await assertDenied(assert, await get(w, await origin.issue({ sub: "alice" })), 503, "store_unavailable");
    assert.equal(w.audit.filter((e) => e.event === "fail_open_allow").length, 0);
  });
});

test("password change: revoke the subject, old tokens 401, a token issued after the cutoff 200", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const old1 = await origin.issue({ sub: "dave" });
    const old2 = await origin.issue({ sub: "dave" }, { iat: nowS() - 100 });
    const bob = await origin.issue({ sub: "bob" });
    for (const t of [old1, old2, bob]) assert.equal((await get(w, t)).status, 200);

    const t0 = nowS();
    const r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub: "dave" }) });
    assert.equal(r.status, 200);
    const ack = await r.json();
    assert.equal(ack.ok, true);
    assert.ok(ack.before >= t0 && ack.before <= nowS(), `before defaults to now: ${ack.before}`);
    for (const t of [old1, old2]) await assertDenied(assert, await get(w, t), 401, "token_revoked");
    assert.equal((await get(w, bob)).status, 200, "other subjects unaffected");

    // iat has 1-second granularity: a token issued in the cutoff's second is revoked too.
    const same = await origin.issue({ sub: "dave" }, { iat: ack.before });
    await assertDenied(assert, await get(w, same), 401, "token_revoked");
    while (nowS() <= ack.before) await nextSecond();
    const fresh = await origin.issue({ sub: "dave" });
    assert.ok(claimsOf(fresh).iat > ack.before);
    assert.equal((await get(w, fresh)).status, 200);

    // The record in KV: {"before": T} in value and metadata, outliving every token it kills.
    const kv = await w.kv();
    assert.deepEqual(JSON.parse(await kv.get("rv:sub:dave")), { before: ack.before });
    const { keys } = await kv.list({ prefix: "rv:sub:dave" });
    assert.deepEqual(keys[0].metadata, { before: ack.before });
    assert.equal(keys[0].expiration, ack.before + 86400 + 30, "before + lifetime cap + leeway");
    assert.equal(ack.expires_at, keys[0].expiration);
  });
});

test("an explicit cutoff: before echoed; not later than now + leeway", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const t = nowS() - 50;
    const r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub: "erin", before: t }) });
    assert.deepEqual((await r.json()).before, t);
    await assertDenied(assert, await get(w, await origin.issue({ sub: "erin" }, { iat: t })), 401, "token_revoked");
    assert.equal((await get(w, await origin.issue({ sub: "erin" }, { iat: t + 1 }))).status, 200);
    const future = await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub: "erin", before: nowS() + 3600 }) });
    assert.equal(future.status, 400);
    assert.match((await future.json()).error_description, /field `before`/);
  });
});

test("a subject cutoff is never lowered, sequentially or under concurrent writers", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const now = nowS();
    const revoke = (sub, before) => admin(w, "/_warden/revoke", { body: JSON.stringify({ sub, before }) });
    // Higher first, then lower: the reply echoes the effective (higher) cutoff.
    assert.equal((await (await revoke("frank", now - 10)).json()).before, now - 10);
    assert.equal((await (await revoke("frank", now - 100)).json()).before, now - 10);
    const kv = await w.kv();
    assert.deepEqual(JSON.parse(await kv.get("rv:sub:frank")), { before: now - 10 });
    await assertDenied(assert, await get(w, await origin.issue({ sub: "frank" }, { iat: now - 50 })), 401, "token_revoked");

    // Many writers at once, in shuffled order.
    const values = Array.from({ length: 24 }, (_, i) => now - 300 + i * 11);
    const shuffled = values.map((v) => [Math.random(), v]).sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    const replies = await Promise.all(shuffled.map((b) => revoke("grace", b).then((r) => r.json())));
    const max = Math.max(...values);
    for (const [i, reply] of replies.entries()) {
      assert.equal(reply.ok, true);
      assert.ok(reply.before >= shuffled[i], "never below what was asked");
    }
    assert.deepEqual(JSON.parse(await kv.get("rv:sub:grace")), { before: max });
    const { keys } = await kv.list({ prefix: "rv:sub:grace" });
    assert.deepEqual(keys[0].metadata, { before: max });
    // A fresh isolate (no local overlay) sees the maximum through its snapshot.
    await assertDenied(assert, await get(w, await origin.issue({ sub: "grace" }, { iat: max })), 401, "token_revoked");
    assert.equal((await get(w, await origin.issue({ sub: "grace" }, { iat: max + 1 }))).status, 200);
  });
});

test("sid revocation ends every token of the session; listed under the subject", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const sid = "sess-42";
    const a = await origin.issue({ sub: "hana", sid });
    const b = await origin.issue({ sub: "hana", sid });
    const other = await origin.issue({ sub: "hana" });
    const r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ sid, sub: "hana" }) });
    assert.equal(r.status, 200);
    const ack = await r.json();
    assert.equal(ack.sid, sid);
    for (const t of [a, b]) await assertDenied(assert, await get(w, t), 401, "token_revoked");
    assert.equal((await get(w, other)).status, 200);
    const kv = await w.kv();
    const { keys } = await kv.list({ prefix: `rv:sid:${sid}` });
    assert.equal(keys[0].expiration, ack.expires_at);
    assert.ok(ack.expires_at >= nowS() + 86400, "outlives any token of the session (lifetime cap + leeway)");

    const list = await admin(w, "/_warden/revocations?sub=hana", { method: "GET" });
    assert.equal(list.status, 200);
    const body = await list.json();
    assert.deepEqual(body.revocations.map((x) => [x.kind, x.id]), [["sid", sid]]);
  });
});

test("kid revocation withdraws a signing key: every token it signed is refused, permanently", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const t = await origin.issue({ sub: "ivan" });
    assert.equal((await get(w, t)).status, 200);
    const kid = origin.jwks.keys[0].kid;
    const r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ kid }) });
    assert.deepEqual(await r.json(), { ok: true, kid, expires_at: null });
    await assertDenied(assert, await get(w, t), 401, "token_revoked");
    await assertDenied(assert, await get(w, await origin.issue({ sub: "judy" })), 401, "token_revoked");
    const { keys } = await (await w.kv()).list({ prefix: "rv:kid:" });
    assert.equal(keys.length, 1);
    assert.equal(keys[0].expiration, undefined, "kept forever: a withdrawn key can sign new tokens");
  });
});

test("jti revocation keeps its record until the token's exp + leeway (at least now + 60)", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const t = await origin.issue({ sub: "kim" });
    const { jti, exp } = claimsOf(t);
    const r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti, exp, sub: "kim" }) });
    assert.equal((await r.json()).expires_at, exp + 30);
    const soon = await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: "old", exp: nowS() - 1000 }) });
    const ack = await soon.json();
    assert.ok(ack.expires_at >= nowS() + 59 && ack.expires_at <= nowS() + 61, JSON.stringify(ack));
    const listed = await (await admin(w, "/_warden/revocations?sub=kim", { method: "GET" })).json();
    assert.deepEqual(listed.revocations.map((x) => [x.kind, x.id, x.expires_at]), [["jti", jti, exp + 30]]);
  });
});

test("RFC 7009 token revocation: by its claims; a refresh token ends its session; 200 when unknown", async () => {
  await withWarden({ WARDEN_ACCESS_TYP: "at+jwt" }, { kv: "plain" }, async (w) => {
    const sid = "sess-rt";
    const access1 = await origin.issue({ sub: "lee", sid });
    const access2 = await origin.issue({ sub: "lee", sid });
    let r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ token: access1 }) });
    assert.deepEqual(await r.json(), { ok: true, revoked: { jti: claimsOf(access1).jti } });
    await assertDenied(assert, await get(w, access1), 401, "token_revoked");
    assert.equal((await get(w, access2)).status, 200, "an access token's revocation leaves its session alone");

    // A refresh token (not of the access typ) revokes its session, so access2 dies too.
    const refresh = await origin.issue({ sub: "lee", sid }, { header: { typ: "rt+jwt" } });
    r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ token: refresh }) });
    assert.deepEqual(await r.json(), { ok: true, revoked: { jti: claimsOf(refresh).jti, sid } });
    await assertDenied(assert, await get(w, access2), 401, "token_revoked");

    // The hint works too.
    const sid2 = "sess-hint";
    const a3 = await origin.issue({ sub: "lee", sid: sid2 });
    r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ token: a3, token_type_hint: "refresh_token" }) });
    assert.equal((await r.json()).revoked.sid, sid2);

    const kv = await w.kv();
    const before = (await kv.list({ prefix: "rv:" })).keys.length;
    for (const junk of ["not-a-token", "a.b.c", `wdn_pat_${"0".repeat(64)}`]) {
      r = await admin(w, "/_warden/revoke", { body: JSON.stringify({ token: junk }) });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { ok: true, revoked: {} });
    }
    assert.equal((await kv.list({ prefix: "rv:" })).keys.length, before, "nothing written for junk");
  });
});

// P-256 group order.
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function malleate(token) {
  const [h, p, s] = token.split(".");
  const sig = Buffer.from(s, "base64url");
  const sv = BigInt(`0x${sig.subarray(32).toString("hex")}`);
  const twin = Buffer.from((N - sv).toString(16).padStart(64, "0"), "hex");
  return `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), twin]).toString("base64url")}`;
}

test("a revoked token's ECDSA-malleated twin is rejected too (revocation keys on claims)", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const t = await origin.issue({ sub: "mia" });
    const twin = malleate(t);
    assert.notEqual(twin, t);
    assert.equal((await get(w, twin)).status, 200, "the twin verifies (WebCrypto accepts high-S)");
    assert.equal((await get(w, t)).status, 200);
    await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: claimsOf(t).jti }) });
    await assertDenied(assert, await get(w, t), 401, "token_revoked");
    await assertDenied(assert, await get(w, twin), 401, "token_revoked");
  });
});

test("ids longer than 256 bytes: 400 at the admin API, 401 in a token", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    const long = "x".repeat(257);
    for (const body of [{ jti: long }, { sid: long }, { kid: long }, { sub: long }, { pat: long }]) {
      const r = await admin(w, "/_warden/revoke", { body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(Object.keys(body)));
      assert.match((await r.json()).error_description, new RegExp(`field \`${Object.keys(body)[0]}\``));
    }
    assert.equal((await admin(w, `/_warden/revocations?sub=${long}`, { method: "GET" })).status, 400);
    for (const claims of [{ sub: "a", jti: long }, { sub: "a", sid: long }, { sub: long }]) {
      await assertDenied(assert, await get(w, await origin.issue(claims)), 401, "token_malformed");
    }
    const ok = "y".repeat(256);
    assert.equal((await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: ok }) })).status, 200);
  });
});

test("revocation listing: per subject, through the index, ids with ':' kept apart", async () => {
  await withWarden({}, { kv: "plain" }, async (w) => {
    await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: "j1", sub: "a:jti" }) });
    await admin(w, "/_warden/revoke", { body: JSON.stringify({ jti: "j2", sub: "a" }) });
    const cutoff = nowS() - 5;
    await admin(w, "/_warden/revoke", { body: JSON.stringify({ sub: "a", before: cutoff }) });
    const list = async (sub) =>
      (await (await admin(w, `/_warden/revocations?sub=${encodeURIComponent(sub)}`, { method: "GET" })).json()).revocations;
    const a = await list("a");
    assert.deepEqual(a.map((x) => [x.kind, x.id]).sort(), [["jti", "j2"], ["sub", "a"]]);
    assert.equal(a.find((x) => x.kind === "sub").before, cutoff);
    assert.deepEqual((await list("a:jti")).map((x) => x.id), ["j1"]);
    assert.deepEqual(await list("nobody"), []);
    const r = await admin(w, "/_warden/revocations", { method: "GET" });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error_description, /query parameter `sub` is required/);
  });
});
