// The isolate's DPoP replay table under load, in workerd: with WARDEN_DPOP_REPLAY=isolate,
// 14,000 fresh proofs (85% of the 16,384 live ids an isolate holds; the table this one replaced,
// with a 64-slot probe window, refused new ids from about two thirds on) are each accepted once,
// every one of them is remembered (a sample sent again is refused as replayed), and the table's
// occupancy — read through GET /__warden/stats, a route only the test build has (build-bench/,
// from `scripts/bench-worker.sh --build-only`) — counts exactly those ids. worker/src/replay.rs
// tests the refusal at exactly 16,384 live ids natively.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { SignJWT, generateKeyPair, exportJWK, calculateJwkThumbprint } from "jose";
import { startOrigin } from "./origin/server.mjs";
import { startTestBuild } from "./helpers/miniflare.mjs";
import { assertDenied } from "./helpers/warden.mjs";

const URL_ = "https://api.example.com/orders";
const PROOFS = 14000;
const CAPACITY = 16384;
const CONCURRENCY = 8;
let origin, w;

before(async () => {
  origin = await startOrigin({ port: 0 });
  w = await startTestBuild(origin, { WARDEN_DPOP_REPLAY: "isolate" });
});
after(async () => {
  await w?.dispose();
  await origin?.close();
});

test(`${PROOFS} fresh DPoP proofs in one isolate: each accepted once, all remembered`, async (t) => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const token = await origin.issue({ sub: "replay-load", cnf: { jkt: await calculateJwkThumbprint(jwk, "sha256") } }, { ttl: 600 });
  const ath = createHash("sha256").update(token).digest("base64url");
  const sign = () =>
    new SignJWT({ jti: randomUUID(), htm: "GET", htu: URL_, iat: Math.floor(Date.now() / 1000), ath })
      .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk })
      .sign(pair.privateKey);
  const send = (proof, i) => w.dispatchFetch(`${URL_}?i=${i}`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });

  const proofs = [];
  let next = 0;
  const refused = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PROOFS) {
        const i = next++;
        const proof = await sign();
        proofs[i] = proof;
        const r = await send(proof, i);
        if (r.status !== 200) refused.push(`#${i}: ${r.status} ${await r.text()}`);
        else await r.arrayBuffer();
      }
    }),
  );
  assert.deepEqual(refused.slice(0, 3), [], `${refused.length} of ${PROOFS} fresh proofs refused`);

  const stats = await (await w.dispatchFetch("https://api.example.com/__warden/stats")).json();
  t.diagnostic(`dpop_replay ${JSON.stringify(stats.dpop_replay)}`);
  assert.equal(stats.dpop_replay.capacity, CAPACITY);
  assert.equal(stats.dpop_replay.live, PROOFS, "every accepted proof's id is held until it is too old");
  assert.equal(stats.dpop_replay.held, PROOFS);

  for (const i of [0, 1, 999, 6000, PROOFS - 1]) {
    await assertDenied(assert, await send(proofs[i], `again-${i}`), 401, "dpop_replayed");
  }
});
