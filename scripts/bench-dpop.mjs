// The added cost of a DPoP proof check per request, side by side with a bearer request in the
// same run: Warden's production build (build/) as two workers in one workerd process (Miniflare)
// in front of the demo origin (its CPU, in this Node process, is not counted): "isolate" with
// WARDEN_DPOP_REPLAY=isolate, "global" with WARDEN_DPOP_REPLAY=global (its Durable Objects run
// in the same process, so their CPU is counted too). CPU is utime + stime of the workerd process
// (/proc/<pid>/stat) around each batch of N sequential requests, wall time the batch's duration;
// the batches alternate (bearer, DPoP isolate, DPoP global) for R rounds after one warm-up batch
// each.
//   node scripts/bench-dpop.mjs [--requests N] [--rounds R]
// Bearer: one unbound ES256 token (a verified-token cache hit from the second request), sent to
// the "isolate" worker. DPoP: one token bound to an ES256 key, a fresh proof per request (signed
// beforehand, not timed; the proof's key imported once per isolate). Every URL differs (?i=…) so
// that the entry module's replay never answers for the bearer batch either.
import { readFileSync, readdirSync } from "node:fs";
import { createHash, randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { SignJWT, generateKeyPair, exportJWK, calculateJwkThumbprint } from "jose";
import { startOrigin } from "../tests/origin/server.mjs";
import { Miniflare } from "miniflare";
import { ROOT, builtWorker, wardenBindings } from "../tests/helpers/miniflare.mjs";
import { provenance } from "./lib/provenance.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("--requests", 2000);
const ROUNDS = arg("--rounds", 5);
const workerds = () =>
  new Set(
    readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd";
        } catch {
          return false;
        }
      }),
  );
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks of 10 ms
};

const load = loadavg();
const origin = await startOrigin({ port: 0 });
const before = workerds();
const worker = (name, replay) => ({
  name,
  ...builtWorker(),
  bindings: wardenBindings(origin, { WARDEN_DPOP_REPLAY: replay }),
  kvNamespaces: { WARDEN_KV: `kv-${name}` },
  durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
});
const mf = new Miniflare({ workers: [worker("isolate", "isolate"), worker("global", "global")] });
await mf.ready;
const workers = { isolate: await mf.getWorker("isolate"), global: await mf.getWorker("global") };
// The workerd this process started (other workerd processes may come and go meanwhile).
const parent = (p) => Number(readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ")[1]);
const pid = [...workerds()].find((p) => !before.has(p) && parent(p) === process.pid);
if (!pid) throw new Error("no workerd process of this run found");
const pair = await generateKeyPair("ES256", { extractable: true });
const jwk = await exportJWK(pair.publicKey);
const bearer = await origin.issue({ sub: "bench" }, { ttl: 3600 });
const bound = await origin.issue({ sub: "bench", cnf: { jkt: await calculateJwkThumbprint(jwk, "sha256") } }, { ttl: 3600 });
const ath = createHash("sha256").update(bound).digest("base64url");
const URL_ = "https://api.example.com/orders";

// The `iat` of each proof a worker accepted: a refusal says how many of them were still live (a
// proof is remembered until iat + 60 s + 30 s leeway + 1, the defaults; the isolate's table holds
// 16,384 live ids, and a run sends N × (rounds + 1) proofs to each worker).
const accepted = { isolate: [], global: [] };
const live = (kind) => accepted[kind].filter((iat) => iat + 91 > Date.now() / 1000).length;

async function batch(kind, round) {
  const proofs = [];
  const iats = [];
  const dpop = kind !== "bearer";
  const target = workers[kind === "global" ? "global" : "isolate"];
  if (dpop) {
    for (let i = 0; i < N; i++) {
      const claims = { jti: randomUUID(), htm: "GET", htu: URL_, iat: Math.floor(Date.now() / 1000), ath };
      iats.push(claims.iat);
      proofs.push(await new SignJWT(claims).setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk }).sign(pair.privateKey));
    }
  }
  const c0 = cpu(pid);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const headers = dpop ? { authorization: `DPoP ${bound}`, dpop: proofs[i] } : { authorization: `Bearer ${bearer}` };
    const r = await target.fetch(`${URL_}?i=${i}`, { headers });
    if (r.status !== 200) {
      const where = round === undefined ? "warm-up" : `round ${round + 1}`;
      const proofsSent = dpop ? `; ${accepted[kind].length} proofs accepted by this worker before, ${live(kind)} of them still live` : "";
      throw new Error(`${kind}, ${where}, request #${i} at ${new Date().toISOString()}${proofsSent}: ${r.status} ${await r.text()}`);
    }
    if (dpop) accepted[kind].push(iats[i]);
    await r.arrayBuffer();
  }
  return { cpu: ((cpu(pid) - c0) * 10_000) / N, wall: ((performance.now() - t0) * 1000) / N };
}

const KINDS = ["bearer", "isolate", "global"];
try {
  for (const kind of KINDS) await batch(kind);
  const rows = {};
  for (const k of KINDS) rows[k] = { cpu: [], wall: [], addedCpu: [], addedWall: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const got = {};
    for (const k of KINDS) got[k] = await batch(k, round);
    for (const k of KINDS) {
      rows[k].cpu.push(got[k].cpu);
      rows[k].wall.push(got[k].wall);
      rows[k].addedCpu.push(got[k].cpu - got.bearer.cpu);
      rows[k].addedWall.push(got[k].wall - got.bearer.wall);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const us = (x) => `${Math.round(x)} µs`;
  const { commit, clean } = provenance(ROOT);
  console.log(`commit ${commit} (${clean}); ${cpus().length} cores, Node ${process.version}; load before ${load.map((x) => x.toFixed(2)).join(", ")}, after ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
  console.log(`${ROUNDS} rounds of ${N} requests; per request, median (lowest–highest); "added": the per-round difference to the bearer batch`);
  const shown = (xs) => `${us(median(xs))} (${us(Math.min(...xs))}–${us(Math.max(...xs))})`;
  for (const k of KINDS) {
    const r = rows[k];
    const added = k === "bearer" ? "" : `; added CPU ${shown(r.addedCpu)}, added wall ${shown(r.addedWall)}`;
    console.log(`  ${(k === "bearer" ? "bearer" : `DPoP ${k}`).padEnd(12)} CPU ${shown(r.cpu)}, wall ${shown(r.wall)}${added}`);
  }
} finally {
  await mf.dispose();
  await origin.close();
}
