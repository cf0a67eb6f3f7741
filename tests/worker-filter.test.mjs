// The published revocation filter (`WARDEN_REVOCATION_FILTER=on`) end to end: two Warden
// workers in one workerd (Miniflare), each its own isolate, sharing one KV namespace and one
// Durable Object namespace (worker "b" binds worker "a"'s `WardenSessions` class, so both talk
// to the same `revlog` object), in front of the demo origin (tests/helpers/pair.mjs).
// Revocations are written through "a"; "b" must enforce them from the filter the log object
// publishes, reading KV only for the delta (and the filter when it changes) — never listing,
// never reading an id of a live token (save a filter false positive, 1 in 65,536). Worker "b"'s
// KV binding counts every operation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startOrigin } from "./origin/server.mjs";
import { ADMIN_TOKEN } from "./helpers/miniflare.mjs";
import { startPair } from "./helpers/pair.mjs";
import { assertDenied, claimsOf, sleep } from "./helpers/warden.mjs";

const URL_ = "http://warden.test";
let origin;

before(async () => {
  origin = await startOrigin({ port: 0 });
});
after(async () => {
  await origin?.close();
});

async function withPair(vars, fn) {
  const p = await startPair(origin, vars);
  try {
    return await fn(p);
  } finally {
    await p.dispose();
  }
}

/** Polls `b`'s health until `pred(filter)` holds (the filter it reads), or fails after `ms`. */
async function untilFilter(p, pred, ms = 15_000) {
  const end = Date.now() + ms;
  let last;
  const probe = await origin.issue({ sub: "probe" });
  for (;;) {
    // A request with a valid token makes the isolate read the filter when its interval passed.
    await p.get(p.b, probe);
    last = (await p.health(p.b)).filter;
    if (last && pred(last)) return last;
    if (Date.now() > end) assert.fail(`filter never reached the expected state: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

test("revocations written in one isolate are enforced in another from the published filter: no listing, no read of a live token's ids", async () => {
  await withPair({}, async (p) => {
    const t1 = await origin.issue({ sub: "alice" });
    const t2 = await origin.issue({ sub: "bob", sid: "sess-bob" });
    const old = await origin.issue({ sub: "carol" }, { iat: Math.floor(Date.now() / 1000) - 60 });
    const t3 = await origin.issue({ sub: "dave" });
    for (const t of [t1, t2, old, t3]) assert.equal((await p.get(p.b, t)).status, 200, "allowed before");

    assert.equal((await p.admin("/_warden/revoke", { jti: claimsOf(t1).jti })).status, 200);
    assert.equal((await p.admin("/_warden/revoke", { sid: "sess-bob", sub: "bob" })).status, 200);
    assert.equal((await p.admin("/_warden/revoke", { sub: "carol", before: Math.floor(Date.now() / 1000) - 30 })).status, 200);
    // A batch: 500 ids of an existing denylist, and t3's jti among them.
    const denylist = Array.from({ length: 500 }, () => ({ jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 3600 }));
    denylist.push({ jti: claimsOf(t3).jti });
    const batch = await p.admin("/_warden/revoke/batch", { revocations: denylist });
    assert.equal(batch.status, 200, await batch.clone().text());
    assert.deepEqual(await batch.json(), { ok: true, revoked: 501 });

    // "b" reads the filter the log object published: 503 ids (t1's jti, bob's sid, the batch).
    const f = await untilFilter(p, (f) => f.loaded && f.problem == null && f.ids + (f.delta ?? 0) >= 503);
    assert.equal(f.cutoffs + (f.delta ?? 0) >= 1, true, JSON.stringify(f));

    await p.resetCounts();
    await assertDenied(assert, await p.get(p.b, t1), 401, "token_revoked");
    await assertDenied(assert, await p.get(p.b, t2), 401, "token_revoked");
    await assertDenied(assert, await p.get(p.b, old), 401, "token_revoked");
    await assertDenied(assert, await p.get(p.b, t3), 401, "token_revoked");
    // Live tokens, each unique: allowed, and no read of their ids.
    const live = await Promise.all(Array.from({ length: 60 }, (_, i) => origin.issue({ sub: `live-${i}`, sid: `s-${i}` })));
    for (const [i, t] of live.entries()) {
      // Across more than one interval: the isolate reads the delta again meanwhile.
      if (i === 30) await sleep(1100);
      assert.equal((await p.get(p.b, t)).status, 200);
    }
    const counts = await p.counts();
    const listed = Object.keys(counts).filter((k) => k.startsWith("list"));
    assert.deepEqual(listed, [], `no listing: ${JSON.stringify(counts)}`);
    // Reads: the delta (once per 1 s interval), the filter when a new one is published, and at
    // most one record for a false positive among 64 tokens' 180 ids.
    const idReads = counts["get/rv:"] ?? 0;
    assert.ok(idReads <= 1, `id reads for live tokens: ${JSON.stringify(counts)}`);
    assert.ok((counts["get/rvf:delta"] ?? 0) >= 1, `the delta was read: ${JSON.stringify(counts)}`);
    assert.deepEqual(
      p.audit.filter((e) => e.event === "revocation_filter" && e.action === "published_filter").length > 0,
      true,
      "the log object published a filter",
    );
  });
});

test("batch: one bad entry refuses the whole batch with its index, and nothing is written", async () => {
  await withPair({}, async (p) => {
    const kv = await p.kv();
    const before = (await kv.list({ prefix: "rv:" })).keys.map((k) => k.name);
    const cases = [
      [{ revocations: [{ jti: "a" }, { jti: "" }] }, "revocations[1]: field `jti` must be a non-empty string of at most 256 bytes"],
      [{ revocations: [{ jti: "a" }, { token: "x.y.z" }] }, "revocations[1]: a batch takes"],
      [{ revocations: [{ kid: "k" }, { sub: "u", before: Math.floor(Date.now() / 1000) + 3600 }] }, "revocations[1]: field `before` must not be later than now + leeway"],
      [{ revocations: [] }, "field `revocations` must hold 1 to 1000 entries"],
      [{ revocations: Array.from({ length: 1001 }, (_, i) => ({ kid: `k${i}` })) }, "field `revocations` must hold 1 to 1000 entries (it holds 1001)"],
      [{ revocations: [{ jti: "a" }], extra: 1 }, "unknown field `extra`"],
    ];
    for (const [body, message] of cases) {
      const r = await p.admin("/_warden/revoke/batch", body);
      const json = await r.json();
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.equal(json.error, "invalid_request");
      assert.ok(json.error_description.startsWith(message), `${json.error_description} / ${message}`);
    }
    const wrongMethod = await p.a.fetch(`${URL_}/_warden/revoke/batch`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    const unauthorized = await p.a.fetch(`${URL_}/_warden/revoke/batch`, { method: "POST", body: "{}" });
    assert.equal(unauthorized.status, 401);
    assert.deepEqual((await kv.list({ prefix: "rv:" })).keys.map((k) => k.name), before, "KV holds no new record");
    assert.equal(p.audit.filter((e) => e.event === "revoke").length, 0, "no revoke audit line");
  });
});

test("a corrupt or withdrawn filter is never read as 'not revoked': per-id reads, audited, then the log republishes (seeded from KV)", async () => {
  await withPair({}, async (p) => {
    const revoked = await origin.issue({ sub: "erin" });
    assert.equal((await p.admin("/_warden/revoke", { jti: claimsOf(revoked).jti })).status, 200);
    await untilFilter(p, (f) => f.loaded && f.problem == null && f.ids + (f.delta ?? 0) >= 1);
    await assertDenied(assert, await p.get(p.b, revoked), 401, "token_revoked");

    // Corrupt: one flipped byte in the published delta.
    const kv = await p.kv();
    const delta = new Uint8Array(await kv.get("rvf:delta", "arrayBuffer"));
    delta[12] ^= 0xff;
    await kv.put("rvf:delta", delta);
    await sleep(1100);
    await assertDenied(assert, await p.get(p.b, revoked), 401, "token_revoked");
    const corrupt = p.audit.filter((e) => e.event === "revocation_filter" && e.action === "unusable" && e.code === "filter_corrupt");
    assert.ok(corrupt.length >= 1, JSON.stringify(p.audit.filter((e) => e.event === "revocation_filter")));
    // Asked to publish, the log object replaces it; "b" uses the filter again.
    await untilFilter(p, (f) => f.loaded && f.problem == null);
    await assertDenied(assert, await p.get(p.b, revoked), 401, "token_revoked");

    // Withdrawn: the reseed endpoint deletes the published values and seeds the log from KV.
    const reseed = await p.admin("/_warden/revocation-filter/reseed", {});
    assert.equal(reseed.status, 200);
    assert.deepEqual(await reseed.json(), { ok: true, reseeding: true });
    await sleep(1100);
    await assertDenied(assert, await p.get(p.b, revoked), 401, "token_revoked");
    const fresh = await origin.issue({ sub: "frank" });
    assert.equal((await p.get(p.b, fresh)).status, 200, "live tokens still pass meanwhile");
    const seeded = await p.mf.getWorker("a"); // the seeding is the log object's: wait for its line
    assert.ok(seeded);
    const end = Date.now() + 10_000;
    while (!p.audit.some((e) => e.event === "revocation_filter" && e.action === "seeded")) {
      if (Date.now() > end) assert.fail("the log never seeded itself again");
      await sleep(100);
    }
    const f = await untilFilter(p, (f) => f.loaded && f.problem == null && f.ids >= 1);
    assert.ok(f.ids >= 1, "the seeded filter holds the revocation from KV");
    await assertDenied(assert, await p.get(p.b, revoked), 401, "token_revoked");
  });
});
