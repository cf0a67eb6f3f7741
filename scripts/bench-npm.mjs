#!/usr/bin/env node
// Benchmarks of the npm package `warden-wasm` (the BUILT wasm-pkg/pkg) in Node, in one run:
//
//   1. decode + expiry: warden-wasm/lite `inspect` vs jwt-decode (`jwtDecode` + `exp - now`);
//   2. verify per algorithm (HS256, RS256, PS256, ES256, ES384, EdDSA): warden-wasm/full
//      `KeySet.verify` (keys loaded once) vs jose `jwtVerify` (key imported once);
//   3. cold load: a fresh Node process loading lite (and full): require() of the Node build
//      (read + compile + instantiate), and the web build's init() from bytes already in memory.
//
// Targets (reported, not asserted): decode+expiry at most 0.1x jwt-decode; lite instantiate at most
// 5 ms. Bounded: about 40 s on 2 cores.
//
//   node scripts/bench-npm.mjs                 print the table
//   node scripts/bench-npm.mjs --write         also replace the "## npm package (wasm-pkg)" section of
//                                              docs/benchmarks.md (created if missing)
import { provenance } from "./lib/provenance.mjs";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { jwtDecode } from "jwt-decode";
import * as jose from "jose";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PKG = `${ROOT}wasm-pkg/pkg/`;
const require = createRequire(import.meta.url);
if (!existsSync(`${PKG}lite-node/warden_wasm.js`)) {
  console.error("bench-npm: wasm-pkg/pkg is missing: run `bash scripts/build-wasm-pkg.sh` first");
  process.exit(1);
}
const lite = require(`${PKG}lite-node/warden_wasm.js`);
const full = require(`${PKG}full-node/warden_wasm.js`);
const version = (name) => JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, "utf8")).version;

/** Median ns/op over 5 samples of about `ms` each (after a warm-up). `fn` may be async. */
async function bench(fn, ms = 200) {
  const isAsync = fn() instanceof Promise;
  const run = isAsync
    ? async (n) => { for (let i = 0; i < n; i++) await fn(); }
    : async (n) => { for (let i = 0; i < n; i++) fn(); };
  await run(50);
  let n = 1;
  for (;;) {
    const t = performance.now();
    await run(n);
    if (performance.now() - t >= ms / 4) break;
    n *= 2;
  }
  const per = [];
  for (let s = 0; s < 5; s++) {
    const t = performance.now();
    await run(n);
    per.push(((performance.now() - t) * 1e6) / n);
  }
  per.sort((a, b) => a - b);
  return per[2];
}

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const rows = [];
const now = Math.floor(Date.now() / 1000);
const claims = { iss: "https://issuer.example", sub: "user-1234567890", aud: ["api", "web"], scope: "read write", jti: "2f8e1c7a-5d3b-4e9a-9c1f-0a6b7d8e9f10", iat: now - 60, exp: now + 600 };

// 1. decode + expiry.
{
  const { privateKey } = await jose.generateKeyPair("ES256");
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k1" }).sign(privateKey);
  const check = lite.inspect(token, { now });
  if (check.secondsLeft !== 600 || jwtDecode(token).exp - now !== 600) throw new Error("decode check failed");
  const jd = await bench(() => jwtDecode(token).exp - now);
  const wi = await bench(() => lite.inspect(token, { now }).secondsLeft);
  const wiDefault = await bench(() => lite.inspect(token).secondsLeft);
  const wd = await bench(() => lite.decode(token).claims.exp - now);
  rows.push(["decode + expiry", `warden-wasm/lite inspect(token, { now })`, wi, `jwt-decode ${version("jwt-decode")}`, jd, "≤ 0.1×"]);
  rows.push(["decode + expiry", `warden-wasm/lite inspect(token) (reads the clock)`, wiDefault, `jwt-decode ${version("jwt-decode")}`, jd, ""]);
  rows.push(["decode (claims)", `warden-wasm/lite decode(token)`, wd, `jwt-decode ${version("jwt-decode")}`, jd, ""]);
}

// 2. verify per algorithm.
for (const alg of ["HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA"]) {
  let signKey;
  let verifyKey;
  let jwk;
  if (alg === "HS256") {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    signKey = secret;
    jwk = { kty: "oct", k: Buffer.from(secret).toString("base64url") };
    // jose's fastest documented form: a CryptoKey imported once (raw bytes would make it
    // import the key on every call).
    verifyKey = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  } else {
    const pair = await jose.generateKeyPair(alg, { crv: alg === "EdDSA" ? "Ed25519" : undefined, extractable: true });
    signKey = pair.privateKey;
    verifyKey = pair.publicKey;
    jwk = await jose.exportJWK(pair.publicKey);
  }
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid: "k1" }).sign(signKey);
  const keys = new full.KeySet({ keys: [{ ...jwk, kid: "k1", alg }] });
  const options = { now };
  const r = await keys.verify(token, options);
  if (!r.valid) throw new Error(`${alg}: warden refused its own token: ${JSON.stringify(r.error)}`);
  await jose.jwtVerify(token, verifyKey, { algorithms: [alg] });
  const w = await bench(() => keys.verify(token, options));
  const j = await bench(() => jose.jwtVerify(token, verifyKey, { algorithms: [alg] }));
  rows.push([`verify ${alg}`, "warden-wasm/full KeySet.verify", w, `jose ${version("jose")} jwtVerify`, j, ""]);
  keys.free();
}

// 3. cold load, each in a fresh process; median of several.
function cold(variant, runs = 15) {
  const script = `
    const { performance } = require("node:perf_hooks");
    const fs = require("node:fs");
    const t0 = performance.now();
    const w = require(${JSON.stringify(`${PKG}${variant}-node/warden_wasm.js`)});
    const t1 = performance.now();
    const bytes = fs.readFileSync(${JSON.stringify(`${PKG}${variant}-web/warden_wasm_bg.wasm`)});
    const url = ${JSON.stringify(`${PKG}${variant}-web/warden_wasm.js`)};
    import(url).then(async (web) => {
      // initSync: compile + instantiate, synchronously, from bytes in memory.
      const t2 = performance.now();
      web.initSync({ module: bytes });
      const t3 = performance.now();
      web.inspect("eyJhbGciOiJIUzI1NiJ9.e30.c2ln", { now: 0 });
      // init(): the asynchronous path a page takes (here from the same bytes, in a second copy
      // of the module so nothing is reused).
      const again = await import(url + "?again");
      const t4 = performance.now();
      await again.default({ module_or_path: bytes });
      const t5 = performance.now();
      console.log(JSON.stringify({ require: t1 - t0, initSync: t3 - t2, init: t5 - t4 }));
    });`;
  const out = [];
  for (let i = 0; i < runs; i++) {
    out.push(JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" })));
  }
  const median = (k) => out.map((o) => o[k]).sort((a, b) => a - b)[Math.floor(runs / 2)];
  return { require: median("require"), initSync: median("initSync"), init: median("init") };
}
const coldLite = cold("lite");
const coldFull = cold("full");

// Report.
const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model?.trim() ?? "unknown CPU"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
const lines = [];
lines.push("| benchmark | warden-wasm | time/op | peer | time/op | warden ÷ peer | target |");
lines.push("|---|---|---:|---|---:|---:|---|");
for (const [what, w, wt, peer, pt, target] of rows) {
  lines.push(`| ${what} | ${w} | ${fmt(wt)} | ${peer} | ${fmt(pt)} | ${(wt / pt).toFixed(2)}× | ${target} |`);
}
lines.push("");
lines.push("| cold load (fresh process, median of 15) | lite | full | target |");
lines.push("|---|---:|---:|---|");
lines.push(`| Node build: \`require()\` (read + compile + instantiate) | ${coldLite.require.toFixed(2)} ms | ${coldFull.require.toFixed(2)} ms | |`);
lines.push(`| web build: \`initSync({ module: bytes })\` (compile + instantiate) | ${coldLite.initSync.toFixed(2)} ms | ${coldFull.initSync.toFixed(2)} ms | lite ≤ 5 ms |`);
lines.push(`| web build: \`await init({ module_or_path: bytes })\` (asynchronous) | ${coldLite.init.toFixed(2)} ms | ${coldFull.init.toFixed(2)} ms | |`);
const table = lines.join("\n");
const decodeRatio = rows[0][2] / rows[0][4];
const verifyRows = rows.filter((r) => r[0].startsWith("verify "));
const alg = (r) => r[0].slice("verify ".length);
const ratio = (r) => r[2] / r[4];
const atOrBelow = verifyRows.filter((r) => ratio(r) <= 1.0);
const above = verifyRows.filter((r) => ratio(r) > 1.0);
const list = (rs) => rs.map((r) => `${alg(r)} ${ratio(r).toFixed(2)}×`).join(", ") || "none";
const reading = `Reading (computed from the table): decode + expiry runs at ${decodeRatio.toFixed(2)}× jwt-decode,
${decodeRatio <= 0.1 ? "within" : "not within"} the 0.1× target. Lite instantiates in
${coldLite.initSync.toFixed(2)} ms synchronously (target 5 ms: ${coldLite.initSync <= 5 ? "met" : "missed"}). Verification
at or below jose: ${list(atOrBelow)}; above jose: ${list(above)}. RS*, PS*, ES* and EdDSA go
through the platform's WebCrypto (crates/warden-webcrypto, as in the worker), HS* through
\`hmac\` + \`sha2\` in WebAssembly.`;
const { commit, clean } = provenance(ROOT);
console.log(`\nwarden-wasm benchmarks — commit ${commit} (${clean}) — ${machine}\n`);
console.log(table);

if (process.argv.includes("--write")) {
  const doc = `${ROOT}docs/benchmarks.md`;
  const section = `## npm package (wasm-pkg)

Command: \`bash scripts/build-wasm-pkg.sh && node scripts/bench-npm.mjs --write\` (about 40 s).
Commit \`${commit}\`, ${clean}. Machine: ${machine}. Each figure is the median of five samples
of about 200 ms after a warm-up, in one Node process; the cold-load figures are medians over 15
fresh processes. Peers: jwt-decode and jose, pinned in package.json, jose with a \`CryptoKey\`
imported once (its fastest documented form); both verify with the platform's WebCrypto.

${table}

${reading}
`;
  let text = existsSync(doc) ? readFileSync(doc, "utf8") : "# Benchmarks\n\nEach part of Warden keeps its own section here.\n";
  const start = text.indexOf("## npm package (wasm-pkg)");
  if (start >= 0) {
    const next = text.indexOf("\n## ", start + 1);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : "");
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(doc, text);
  console.log(`\nwrote the "## npm package (wasm-pkg)" section of docs/benchmarks.md`);
}
