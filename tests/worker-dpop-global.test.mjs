// DPoP proof replay across isolates (`WARDEN_DPOP_REPLAY`): two Warden workers in one workerd
// (Miniflare), each its own isolate, sharing one KV namespace and one Durable Object namespace
// (worker "b" binds worker "a"'s `WardenSessions` class), in front of the demo origin. With
// `isolate`, each isolate accepts a proof once — so the same proof passes once in each, which
// shows the two are separate isolates; with `global`, the proof's shard object (`dpop:<hex>`)
// accepts it once across both, also when both present it at the same moment. A ledger object
// that fails refuses the proof with 503, never accepts it unremembered.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { Miniflare } from "miniflare";
import { SignJWT, generateKeyPair, exportJWK, calculateJwkThumbprint } from "jose";
import { startOrigin } from "./origin/server.mjs";
import { builtWorker, wardenBindings } from "./helpers/miniflare.mjs";
import { assertDenied } from "./helpers/warden.mjs";

const URL_ = "https://api.example.com/orders";
const nowS = () => Math.floor(Date.now() / 1000);
let origin;
const started = [];

before(async () => {
  origin = await startOrigin({ port: 0 });
});
after(async () => {
  for (const mf of started) await mf.dispose();
  await origin?.close();
});

// FAILING LEDGER (fault injection, named so): a Durable Object class whose every call fails,
// bound as WARDEN_SESSIONS of worker "b" in the outage test — the object is reachable but
// cannot answer, as when its storage is down.
const BROKEN = `
import { DurableObject } from "cloudflare:workers";
export class BrokenLedger extends DurableObject {
  async fetch() { return new Response("deliberately failing ledger (test)", { status: 500 }); }
}
export default { fetch() { return new Response("broken"); } };
`;

/** Workers "a" and "b" (the built Warden), sharing KV and "a"'s Durable Object namespace. */
async function pair(replay, { brokenLedger = false } = {}) {
  const bindings = wardenBindings(origin, { WARDEN_DPOP_REPLAY: replay });
  const kvNamespaces = { WARDEN_KV: "shared-kv" };
  const workers = [
    {
      name: "a",
      ...builtWorker(),
      bindings,
      kvNamespaces,
      durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
    },
    {
      name: "b",
      ...builtWorker(),
      bindings,
      kvNamespaces,
      durableObjects: {
        WARDEN_SESSIONS: brokenLedger
          ? { className: "BrokenLedger", scriptName: "broken" }
          : { className: "WardenSessions", scriptName: "a", useSQLite: true },
      },
    },
  ];
  if (brokenLedger) {
    workers.push({
      name: "broken",
      modules: true,
      script: BROKEN,
      compatibilityDate: "2025-09-01",
      durableObjects: { LEDGER: { className: "BrokenLedger", useSQLite: true } },
    });
  }
  const mf = new Miniflare({ workers });
  started.push(mf);
  await mf.ready;
  const a = await mf.getWorker("a");
  const b = await mf.getWorker("b");
  return { mf, a, b };
}

async function dpopKey() {
  const keys = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(keys.publicKey);
  return { ...keys, jwk, jkt: await calculateJwkThumbprint(jwk, "sha256") };
}

function proof(key, token) {
  const ath = createHash("sha256").update(token).digest("base64url");
  return new SignJWT({ jti: randomUUID(), htm: "GET", htu: URL_, iat: nowS(), ath })
    .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk })
    .sign(key.privateKey);
}

function send(worker, token, p) {
  return worker.fetch(URL_, { headers: { authorization: `DPoP ${token}`, dpop: p } });
}

async function boundToken() {
  const key = await dpopKey();
  const token = await origin.issue({ sub: "alice", cnf: { jkt: key.jkt } }, { ttl: 600 });
  return { key, token };
}

test("isolate: the same proof is accepted once in each of two isolates (they are two), and refused again in each", async () => {
  const { a, b } = await pair("isolate");
  const { key, token } = await boundToken();
  const p = await proof(key, token);
  const first = await send(a, token, p);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-warden-replay"), null);
  const other = await send(b, token, p);
  assert.equal(other.status, 200, "the other isolate does not know the proof: the stated cross-isolate bound");
  await assertDenied(assert, await send(a, token, p), 401, "dpop_replayed");
  await assertDenied(assert, await send(b, token, p), 401, "dpop_replayed");
});

test("global: a proof used in one isolate is refused in the other, and fresh proofs pass in both", async () => {
  const { a, b } = await pair("global");
  const { key, token } = await boundToken();
  const p = await proof(key, token);
  assert.equal((await send(a, token, p)).status, 200);
  await assertDenied(assert, await send(b, token, p), 401, "dpop_replayed");
  await assertDenied(assert, await send(a, token, p), 401, "dpop_replayed");
  // Fresh proofs of the same key and token: each accepted once, wherever it comes first.
  for (let i = 0; i < 6; i++) {
    const q = await proof(key, token);
    const [first, second] = i % 2 ? [a, b] : [b, a];
    assert.equal((await send(first, token, q)).status, 200, `proof ${i}`);
    await assertDenied(assert, await send(second, token, q), 401, "dpop_replayed");
  }
});

test("global: the same proof sent to both isolates at the same moment is accepted exactly once", async () => {
  const { a, b } = await pair("global");
  const { key, token } = await boundToken();
  for (let round = 0; round < 8; round++) {
    const p = await proof(key, token);
    const answers = await Promise.all([send(a, token, p), send(b, token, p), send(a, token, p), send(b, token, p)]);
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 401, 401, 401], `round ${round}`);
    for (const r of answers) {
      if (r.status === 401) assert.equal((await r.json()).code, "dpop_replayed");
      else await r.arrayBuffer();
    }
  }
});

test("global: a ledger object that cannot answer refuses the proof with 503 (fail closed), and the same proof still passes once where the ledger works", async () => {
  const { a, b } = await pair("global", { brokenLedger: true });
  const { key, token } = await boundToken();
  const p = await proof(key, token);
  const refused = await assertDenied(assert, await send(b, token, p), 503, "store_unavailable");
  assert.ok(refused, "a JSON refusal");
  // "b" never remembered it, "a"'s ledger never saw it: it is still unused.
  assert.equal((await send(a, token, p)).status, 200);
  await assertDenied(assert, await send(a, token, p), 401, "dpop_replayed");
});
