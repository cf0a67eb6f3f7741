// `make bench-revocations`: revocation reads at scale, with and without the published filter.
// Warden's production build (build/) as two workers in one workerd (Miniflare) sharing one KV
// namespace and one Durable Object namespace, in front of the demo origin: "a" takes the
// revocations (admin API), "b" serves the measured requests; b's KV binding is a COUNTING
// WRAPPER (forwards every call to the same real namespace and counts it by operation and key
// prefix). Per size and mode (`filter`: WARDEN_REVOCATION_FILTER=on; `listing`: off), with
// WARDEN_SNAPSHOT_SECONDS=2:
//   1. N active revocations written through POST /_warden/revoke/batch (1,000 per call), 200
//      of them the jtis of real tokens (the revoked sample);
//   2. with the filter: wait until b holds a filter with every id (the log object's build);
//   3. R requests with unique live tokens (fresh `jti`, `sid`), then the revoked sample, to b:
//      KV reads of records per request, KV operations per interval, wrong verdicts;
//   4. one more revocation through a, and the time until b refuses its token.
// Also printed: the published filter's size, its build time (the log object's audit line), and
// the false-positive rate seen (record reads per live id looked up: jti, sid, kid).
//   node scripts/bench-revocations.mjs [--sizes 10000,100000] [--requests 2000] [--modes filter,listing] [--write]
// `--write` replaces the "## Revocations at scale" section of docs/benchmarks.md with the table.
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { startOrigin } from "../tests/origin/server.mjs";
import { ROOT } from "../tests/helpers/miniflare.mjs";
import { startPair } from "../tests/helpers/pair.mjs";
import { join } from "node:path";
import { provenance } from "./lib/provenance.mjs";
import { writeSection } from "./lib/sections.mjs";

const argv = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SIZES = argv("--sizes", "10000,100000").split(",").map(Number);
const REQUESTS = Number(argv("--requests", "2000"));
const MODES = argv("--modes", "filter,listing").split(",");
const INTERVAL = 2;
const SAMPLE = 200;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Math.floor(Date.now() / 1000);

/** The pair (tests/helpers/pair.mjs) in `mode`, with the benchmark's interval. */
function pair(origin, filter) {
  return startPair(origin, {
    WARDEN_REVOCATION_FILTER: filter ? "on" : "off",
    WARDEN_SNAPSHOT_SECONDS: String(INTERVAL),
  }, { keep: (e) => e.event === "revocation_filter" });
}

async function run(origin, size, mode) {
  const p = await pair(origin, mode === "filter");
  try {
    const sample = await Promise.all(Array.from({ length: SAMPLE }, (_, i) => origin.issue({ sub: `revoked-${i}` }, { ttl: 3600 })));
    const sampleJtis = sample.map((t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url")).jti);
    const exp = nowS() + 3600;
    const t0 = Date.now();
    for (let done = 0; done < size; done += 1000) {
      const n = Math.min(1000, size - done);
      const revocations = Array.from({ length: n }, (_, i) => ({ jti: done + i < SAMPLE ? sampleJtis[done + i] : randomUUID(), exp }));
      const r = await p.admin("/_warden/revoke/batch", { revocations });
      if (r.status !== 200) throw new Error(`batch: ${r.status} ${await r.text()}`);
      if ((done / 1000) % 10 === 9) process.stderr.write(`  ${mode} ${size}: ${done + n} written (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
    const written = (Date.now() - t0) / 1000;
    let filter = null;
    const probe = await origin.issue({ sub: "probe" });
    if (mode === "filter") {
      const end = Date.now() + 600_000;
      for (;;) {
        await p.get(p.b, probe);
        filter = (await p.health(p.b)).filter;
        if (filter?.loaded && filter.problem == null && filter.ids + (filter.delta ?? 0) >= size) break;
        if (Date.now() > end) throw new Error(`filter never complete: ${JSON.stringify(filter)}`);
        await sleep(500);
      }
    } else {
      await p.get(p.b, probe);
    }
    const live = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => origin.issue({ sub: `live-${i}`, sid: randomUUID() })));
    await p.resetCounts();
    const start = Date.now();
    let wrong = 0;
    for (const t of live) if ((await p.get(p.b, t)).status !== 200) wrong++;
    const elapsed = (Date.now() - start) / 1000;
    const counts = await p.counts();
    for (const t of sample) if ((await p.get(p.b, t)).status !== 401) wrong++;
    // Time to enforcement in the other isolate.
    const victim = await origin.issue({ sub: "victim" });
    await p.get(p.b, victim);
    const jti = JSON.parse(Buffer.from(victim.split(".")[1], "base64url")).jti;
    const acked = Date.now();
    await p.admin("/_warden/revoke", { jti });
    const ackMs = Date.now() - acked;
    let enforcedMs = null;
    while (Date.now() - acked < 120_000) {
      if ((await p.get(p.b, victim)).status === 401) {
        enforcedMs = Date.now() - acked;
        break;
      }
      await sleep(50);
    }
    const intervals = Math.max(1, elapsed / INTERVAL);
    const reads = counts["get/rv:"] ?? 0;
    const ops = Object.values(counts).reduce((s, n) => s + n, 0);
    const build = p.audit.filter((e) => e.event === "revocation_filter" && e.action === "published_filter").at(-1);
    return {
      size,
      mode,
      written_s: written,
      reads_per_request: reads / REQUESTS,
      ops_per_interval: (ops - reads) / intervals,
      lists: Object.entries(counts).filter(([k]) => k.startsWith("list")).reduce((s, [, n]) => s + n, 0),
      fp_rate: mode === "filter" ? reads / (REQUESTS * 3) : null,
      filter_bytes: filter?.bytes ?? null,
      build_ms: build?.build_ms ?? null,
      wrong,
      ack_ms: ackMs,
      enforced_ms: enforcedMs,
      counts,
    };
  } finally {
    await p.dispose();
  }
}

const origin = await startOrigin({ port: 0 });
const load = loadavg();
const rows = [];
try {
  for (const size of SIZES) for (const mode of MODES) {
    if (mode === "listing" && size > 100_000) {
      // The listing's cliff shows at 100,000 already; writing a million records twice is not needed.
      process.stderr.write(`==> ${size} active revocations, listing: skipped (above 100,000)\n`);
      continue;
    }
    process.stderr.write(`==> ${size} active revocations, ${mode}\n`);
    const r = await run(origin, size, mode);
    process.stderr.write(`    ${JSON.stringify(r)}\n`);
    rows.push(r);
  }
} finally {
  await origin.close();
}
const { commit, clean } = provenance(ROOT);
const lines = [];
const out = (l) => {
  lines.push(l);
  console.log(l);
};
out(`Command: \`make bench-revocations\` (\`node scripts/bench-revocations.mjs --sizes ${SIZES.join(",")} --requests ${REQUESTS} --modes ${MODES.join(",")}\`). Commit \`${commit}\` (${clean}); ${cpus().length} cores, Node ${process.version}; load before ${load.map((x) => x.toFixed(2)).join(", ")}, after ${loadavg().map((x) => x.toFixed(2)).join(", ")}.`);
out(`Two Warden workers in one workerd (Miniflare) sharing KV and the Durable Object namespace: revocations written through one (\`POST /_warden/revoke/batch\`, ${SAMPLE} of them the jtis of real tokens), ${REQUESTS} requests with unique live tokens (their \`jti\`, \`sid\` and \`kid\` looked up) then the ${SAMPLE} revoked ones sent to the other, whose KV binding counts every operation; \`WARDEN_SNAPSHOT_SECONDS=${INTERVAL}\`. \`filter\`: \`WARDEN_REVOCATION_FILTER=on\` (after the log object published every id); \`listing\`: \`off\`.`);
out("");
out("| active revocations | mode | KV reads of records per request | KV operations per interval (reader) | KV lists | published filter (held per isolate) | filter build (log object) | wrong verdicts | acknowledged revocation → refused in the other isolate |");
out("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  out(
    `| ${r.size.toLocaleString("en")} | ${r.mode} | ${r.reads_per_request.toFixed(3)} | ${r.ops_per_interval.toFixed(2)} | ${r.lists} | ${r.filter_bytes == null ? "—" : `${r.filter_bytes.toLocaleString("en")} B`} | ${r.build_ms == null ? "—" : `${r.build_ms} ms`} | ${r.wrong} | ${r.enforced_ms == null ? "never (120 s)" : `${(r.enforced_ms / 1000).toFixed(1)} s`} |`,
  );
}
const filtered = rows.filter((r) => r.mode === "filter");
if (filtered.length) {
  const worst = Math.max(...filtered.map((r) => r.reads_per_request));
  const ops = Math.max(...filtered.map((r) => r.ops_per_interval));
  out("");
  out(`With the filter: at most ${worst.toFixed(3)} KV reads of records per request (target ≤ 0.01) and ${ops.toFixed(2)} KV operations per interval (target ≤ 3) across ${filtered.map((r) => r.size.toLocaleString("en")).join(" / ")} active revocations; ${rows.reduce((s, r) => s + r.wrong, 0)} wrong verdicts in all runs. The published filter holds the ids of the last full build; the rest (at most 4,096) are in the delta.`);
}
if (process.argv.includes("--write")) {
  writeSection(join(ROOT, "docs/benchmarks.md"), "## Revocations at scale", `## Revocations at scale\n\n${lines.join("\n")}\n`);
  console.log("==> docs/benchmarks.md: section \"Revocations at scale\" written");
}
