// Key sources and the verified-token cache, end to end: the built worker in workerd (Miniflare),
// real local KV and Cache API, the demo origin's JWKS endpoint (which the tests rotate and make
// fail deliberately through its knobs).
//
// Two tests read the worker's internal counters through GET /__warden/stats, a route that only
// the test build has (build-bench/, from `scripts/bench-worker.sh --build-only`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { startOrigin } from "./origin/server.mjs";
import { startWorker, startTestBuild, bearer, ADMIN_TOKEN } from "./helpers/miniflare.mjs";

const URL_ = "http://warden.test";
const JWKS_PATH = "/.well-known/jwks.json";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Math.floor(Date.now() / 1000);

let origin;
const workers = [];
before(async () => {
  origin = await startOrigin({ port: 0 });
});
after(async () => {
  for (const w of workers) await w.dispose();
  await origin?.close();
});

/** A worker whose only key source is `o`'s JWKS URL (plus `vars`). */
async function urlWorker(o, vars = {}, extra = {}) {
  const w = await startWorker(o, { WARDEN_JWKS: undefined, WARDEN_JWKS_URL: o.jwksUrl, ...vars }, extra);
  workers.push(w);
  return w;
}

/** The test build (build-bench/), for the routes that expose internal counters. */
async function testBuildWorker(o, vars = {}) {
  const w = await startTestBuild(o, vars);
  workers.push(w);
  return w;
}

const fetches = (o) => o.requests.get(JWKS_PATH) ?? 0;

async function status(w, token) {
  const r = await w.dispatchFetch(`${URL_}/api`, bearer(token));
  const body = await r.json();
  return { status: r.status, code: body.code, body };
}

async function assertDenied(w, token, httpStatus, code) {
  const r = await w.dispatchFetch(`${URL_}/api`, bearer(token));
  assert.equal(r.status, httpStatus);
  assert.equal(r.headers.get("cache-control"), "no-store");
  assert.equal((await r.json()).code, code);
}

async function allowed(w, token) {
  const r = await status(w, token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** Waits until the wall clock's whole second is at least `second`, plus a margin. */
async function untilSecond(second) {
  const wait = (second + 1) * 1000 + 150 - Date.now() - 1000;
  if (wait > 0) await sleep(wait);
}

test("JWKS URL: fetched once for concurrent requests, then served from the isolate", async () => {
  const o = await startOrigin({ port: 0 });
  try {
    const w = await urlWorker(o);
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => o.issue({ sub: `u${i}` })));
    const answers = await Promise.all(tokens.map((t) => w.dispatchFetch(`${URL_}/api`, bearer(t))));
    assert.deepEqual(
      answers.map((r) => r.status),
      tokens.map(() => 200),
    );
    assert.equal(fetches(o), 1, "one fetch for twenty concurrent requests in one isolate");
    for (let i = 0; i < 5; i++) await allowed(w, await o.issue({ sub: "later" }));
    assert.equal(fetches(o), 1, "fresh keys are not fetched again");
  } finally {
    await o.close();
  }
});

test("JWKS URL: kept in the Cache API, so a new isolate starts without a fetch", async () => {
  const o = await startOrigin({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), "warden-cache-"));
  try {
    const a = await urlWorker(o, {}, { cachePersist: dir });
    await allowed(a, await o.issue({ sub: "a" }));
    assert.equal(fetches(o), 1);
    const caches = await a.getCaches();
    const key = `https://warden-jwks.internal/${createHash("sha256").update(o.jwksUrl).digest("hex")}`;
    const entry = await caches.default.match(key);
    assert.ok(entry, "the JWKS is in the Cache API under Warden's own key");
    assert.ok(Number(entry.headers.get("x-warden-fetched-at")) > 0);
    assert.deepEqual((await entry.json()).keys.map((k) => k.kid), o.jwks.keys.map((k) => k.kid));
    await a.dispose();
    workers.splice(workers.indexOf(a), 1);

    o.knobs.jwksFailure = "error"; // a new isolate could not fetch now
    const b = await urlWorker(o, {}, { cachePersist: dir });
    await allowed(b, await o.issue({ sub: "b" }));
    assert.equal(fetches(o), 1, "the new isolate took the keys from the Cache API");
  } finally {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("JWKS rotation: a new kid at the URL is fetched and accepted; a retired key stops verifying", async () => {
  const o = await startOrigin({ port: 0 });
  try {
    const w = await urlWorker(o, { WARDEN_JWKS_COOLDOWN_SECONDS: "1" });
    const first = await o.issue({ sub: "alice" });
    const t0 = nowS();
    await allowed(w, first);
    assert.equal(fetches(o), 1);

    const kid2 = await o.rotate();
    await untilSecond(t0 + 2); // past the 1 s cooldown, whatever the worker's clock read
    const second = await o.issue({ sub: "alice" });
    assert.equal(JSON.parse(Buffer.from(second.split(".")[0], "base64url")).kid, kid2);
    await allowed(w, second);
    assert.equal(fetches(o), 2, "the unknown kid made the worker fetch again");
    await allowed(w, first); // the old key is still published

    await o.rotate({ retire: true });
    const t1 = nowS();
    await untilSecond(t1 + 2);
    await allowed(w, await o.issue({ sub: "alice" }));
    assert.equal(fetches(o), 3);
    // `first` was verified and cached before; its key is gone from the JWKS now.
    await assertDenied(w, first, 401, "token_unknown_key");
    await assertDenied(w, second, 401, "token_unknown_key");
  } finally {
    await o.close();
  }
});

test("unknown kid: 401 token_unknown_key, and refetches are held back by the cooldown", async () => {
  const o = await startOrigin({ port: 0 });
  try {
    const w = await urlWorker(o); // default cooldown: 30 s
    await allowed(w, await o.issue({ sub: "alice" }));
    assert.equal(fetches(o), 1);
    for (let i = 0; i < 5; i++) {
      await assertDenied(w, await o.issue({ sub: "alice" }, { header: { kid: `nope-${i}` } }), 401, "token_unknown_key");
    }
    await o.rotate();
    await assertDenied(w, await o.issue({ sub: "alice" }), 401, "token_unknown_key");
    assert.equal(fetches(o), 1, "no refetch within the cooldown, however many unknown kids");

    // Inline keys only: an unknown kid is a 401 too, and nothing is fetched.
    const inline = await startWorker(origin);
    workers.push(inline);
    await assertDenied(inline, await origin.issue({ sub: "a" }, { header: { kid: "elsewhere" } }), 401, "token_unknown_key");
    assert.equal(fetches(origin), 0);
  } finally {
    await o.close();
  }
});

test("JWKS outage: stale keys serve within WARDEN_JWKS_STALE_SECONDS, then 503, then recovery", async () => {
  const o = await startOrigin({ port: 0, jwksMaxAge: 1 });
  try {
    const w = await urlWorker(o, { WARDEN_JWKS_COOLDOWN_SECONDS: "1", WARDEN_JWKS_STALE_SECONDS: "3" });
    const cached = await o.issue({ sub: "alice" });
    const lo = nowS();
    await allowed(w, cached);
    const hi = nowS(); // the fetch happened at second F, lo <= F <= hi: fresh until F+1, usable until F+4
    assert.equal(fetches(o), 1);

    o.knobs.jwksFailure = "error";
    await untilSecond(hi + 2); // F+1 < now <= F+4: stale, and a refetch is due
    await allowed(w, await o.issue({ sub: "bob" }));
    await allowed(w, cached);
    assert.equal(fetches(o), 2, "the stale set served after a failed refetch");

    await untilSecond(hi + 5); // now > F+4: past the bound
    await assertDenied(w, await o.issue({ sub: "carol" }), 503, "keys_unavailable");
    await assertDenied(w, cached, 503, "keys_unavailable"); // a cached verification does not outlive its keys
    assert.ok(lo <= hi);

    o.knobs.jwksFailure = null;
    await allowed(w, await o.issue({ sub: "dave" }));
  } finally {
    await o.close();
  }
});

test("garbage JWKS: never replaces good keys; with nothing else, 503 keys_unavailable", async () => {
  const o = await startOrigin({ port: 0, jwksMaxAge: 1 });
  try {
    o.knobs.jwksFailure = "garbage";
    const cold = await urlWorker(o);
    await assertDenied(cold, await o.issue({ sub: "a" }), 503, "keys_unavailable");
    assert.ok(fetches(o) >= 1);
    o.knobs.jwksFailure = null;
    await allowed(cold, await o.issue({ sub: "a" })); // nothing usable held: retried at once

    const w = await urlWorker(o, { WARDEN_JWKS_COOLDOWN_SECONDS: "1", WARDEN_JWKS_STALE_SECONDS: "60" });
    await allowed(w, await o.issue({ sub: "b" }));
    o.knobs.jwksFailure = "garbage";
    const before = fetches(o);
    const t = nowS();
    await untilSecond(t + 2);
    await allowed(w, await o.issue({ sub: "c" }));
    assert.equal(fetches(o), before + 1, "the garbage was fetched, refused, and the good set kept");
  } finally {
    await o.close();
  }
});

test("HS256 through WARDEN_HMAC_KEYS, next to public keys", async () => {
  const secret = Buffer.from("0123456789abcdef0123456789abcdef-hs256-secret");
  const hmacKeys = JSON.stringify({ keys: [{ kty: "oct", kid: "hs-1", alg: "HS256", k: secret.toString("base64url") }] });
  const w = await startWorker(origin, { WARDEN_HMAC_KEYS: hmacKeys });
  workers.push(w);
  const hs = (key, header = {}, claims = {}) =>
    new SignJWT({ sub: "svc", jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg: "HS256", kid: "hs-1", ...header })
      .setIssuer(origin.issuer)
      .setAudience(origin.audience)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);

  const ok = await status(w, await hs(secret));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.identity["x-warden-sub"], "svc");
  await allowed(w, await origin.issue({ sub: "alice" })); // ES256 still verifies
  await assertDenied(w, await hs(Buffer.from("another-secret-of-32-bytes-or-more!!")), 401, "token_bad_signature");
  // HS* tokens only ever meet HMAC secrets: the ES256 key's kid is unknown to them (no alg confusion).
  const publicKid = origin.jwks.keys[0].kid;
  await assertDenied(w, await hs(Buffer.from(JSON.stringify(origin.jwks.keys[0])), { kid: publicKid }), 401, "token_unknown_key");

  // WARDEN_ALGORITHMS restricts: HS256 is then refused before any key is looked at.
  const es = await startWorker(origin, { WARDEN_HMAC_KEYS: hmacKeys, WARDEN_ALGORITHMS: "ES256" });
  workers.push(es);
  await assertDenied(es, await hs(secret), 401, "token_algorithm_not_allowed");
  await allowed(es, await origin.issue({ sub: "alice" }));
});

test("bad key configuration: a generic 500, never an allow", async () => {
  const token = await origin.issue({ sub: "alice" });
  for (const vars of [
    { WARDEN_JWKS: undefined, WARDEN_JWKS_URL: "http://issuer.example/jwks" }, // plain http off loopback
    { WARDEN_JWKS_COOLDOWN_SECONDS: "soon" },
    { WARDEN_JWKS_STALE_SECONDS: "-1" },
    { WARDEN_ALGORITHMS: "ES256,none" },
    { WARDEN_ALGORITHMS: "RS256" }, // allows none of the keys
    { WARDEN_HMAC_KEYS: JSON.stringify(origin.jwks) }, // public keys as HMAC secrets
  ]) {
    const w = await startWorker(origin, vars);
    try {
      const r = await w.dispatchFetch(`${URL_}/api`, bearer(token));
      assert.equal(r.status, 500, JSON.stringify(vars));
      assert.equal((await r.json()).error, "server_error");
    } finally {
      await w.dispose();
    }
  }
});

function stats(w) {
  return w.dispatchFetch(`${URL_}/__warden/stats`).then((r) => r.json());
}

async function revoke(w, token) {
  const { jti, exp } = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
  const r = await w.dispatchFetch(`${URL_}/_warden/revoke`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ jti, exp }),
  });
  assert.equal(r.status, 200);
}

test("a cached verification still meets revocation: allowed, revoked, refused on a cache hit", async () => {
  const w = await testBuildWorker(origin);
  const token = await origin.issue({ sub: "carol" });
  await allowed(w, token);
  const s1 = await stats(w);
  await allowed(w, token);
  const s2 = await stats(w);
  assert.equal(s2.verified_cache.hits, s1.verified_cache.hits + 1, "the second request was a cache hit");
  await revoke(w, token);
  await assertDenied(w, token, 401, "token_revoked");
  const s3 = await stats(w);
  assert.equal(s3.verified_cache.hits, s2.verified_cache.hits + 1, "refused after a cache hit, not a fresh verify");
  assert.equal(s3.verified_cache.misses, s2.verified_cache.misses);
});

test("an identical request in the same second is answered by replay; another request, a revocation or a new second decides again", async () => {
  const w = await testBuildWorker(origin);
  const token = await origin.issue({ sub: "dora" });
  const decisions = async () => {
    const { hits, misses } = (await stats(w)).verified_cache;
    return hits + misses;
  };
  const get = async (headers = {}) => {
    const r = await w.dispatchFetch(`${URL_}/api/replay`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    return { status: r.status, body: await r.json() };
  };
  // The first request waits for the key import (never replayed), the second is decided at once.
  assert.equal((await get()).status, 200);
  assert.equal((await get()).status, 200);
  // Two more identical requests: within one second at least one of them is a replay (no
  // decision counted). A pair may straddle a second boundary, hence a few tries.
  let replayed = false;
  for (let i = 0; i < 5 && !replayed; i++) {
    const before = await decisions();
    for (const r of [await get(), await get()]) {
      assert.equal(r.status, 200);
      assert.equal(r.body.identity["x-warden-sub"], "dora");
    }
    replayed = (await decisions()) - before < 2;
  }
  assert.ok(replayed, "no identical request was answered by replay");
  // Another header set is another request: decided again, the spoofed identity header dropped.
  for (const spoof of [{ "x-warden-sub": "mallory" }, { x_warden_sub: "mallory" }]) {
    const before = await decisions();
    const r = await get(spoof);
    assert.equal(r.status, 200);
    assert.equal(r.body.identity["x-warden-sub"], "dora");
    assert.equal(await decisions(), before + 1, `decided again with ${JSON.stringify(spoof)}`);
  }
  // A revocation in this isolate moves the state epoch: the identical request is refused at once.
  await revoke(w, token);
  const after = await get();
  assert.equal(after.status, 401);
  assert.equal(after.body.code, "token_revoked");
});

// P-256 group order.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The ECDSA-malleated twin of an ES256 token: (r, n − s), equally valid, different text. */
function malleate(token) {
  const [h, p, s] = token.split(".");
  const sig = Buffer.from(s, "base64url");
  const sValue = BigInt(`0x${sig.subarray(32).toString("hex")}`);
  const twin = Buffer.concat([sig.subarray(0, 32), Buffer.from((P256_N - sValue).toString(16).padStart(64, "0"), "hex")]);
  return `${h}.${p}.${twin.toString("base64url")}`;
}

test("an ECDSA-malleated twin of a revoked token is refused too", async () => {
  const w = await startWorker(origin);
  workers.push(w);
  const token = await origin.issue({ sub: "mallory" });
  const twin = malleate(token);
  assert.notEqual(twin, token);
  // The twin is a genuine signature (WebCrypto, like jsonwebtoken, accepts high-S), cached under
  // a different digest than the original.
  await allowed(w, token);
  await allowed(w, twin);
  await revoke(w, token);
  await assertDenied(w, token, 401, "token_revoked");
  await assertDenied(w, twin, 401, "token_revoked");
  // Not a signature failure: a corrupted twin is one.
  const broken = `${twin.slice(0, -4)}${twin.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
  await assertDenied(w, broken, 401, "token_bad_signature");
});
