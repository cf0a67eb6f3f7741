#!/usr/bin/env node
// Benchmarks of the npm package `warden-wasm` (the BUILT wasm-pkg/pkg) in Node, against the
// libraries its users would pick instead, each in its fastest documented form:
//
//   1. decode + expiry: warden-wasm/lite `inspect` vs jwt-decode (`jwtDecode(token).exp - now`);
//   2. verify per algorithm (HS256, RS256, PS256, ES256, ES384, EdDSA): warden-wasm/full
//      `KeySet.verify(token)` (keys loaded once; no options: it reads the clock, and each key is
//      bound to one algorithm) vs jose `jwtVerify` with a `CryptoKey` imported once
//      (HS256 too: raw bytes would make jose import the key on every call), jose with
//      `createLocalJWKSet`, and fast-jwt's `createVerifier` (node:crypto) without and with its
//      verified-token cache (`cache: true`, default cache key);
//   3. first verify after import, each in a fresh process: load the package, load the key, verify
//      one token — warden-wasm/full (require + `new KeySet` + `await verify`) vs jose (import +
//      `importJWK` + `await jwtVerify`);
//   4. cold load: a fresh Node process loading lite (and full).
//
// Every comparison is paired: each round runs every candidate of a group once (a batch of about
// 40 ms), in alternating order (forward, then backward), and a ratio is the median over rounds of
// the per-round ratios, so that load from other processes moves both sides of a ratio alike.
// Times are the medians of the per-round times. Targets (reported, not asserted): verify at most
// 1.0× jose with a CryptoKey (HS256 at most 0.25×), decode + expiry at most 0.1× jwt-decode,
// lite instantiate at most 5 ms. Bounded: about 90 s on 2 cores.
//
//   node scripts/bench-npm.mjs                 print the tables
//   node scripts/bench-npm.mjs --write         also replace the "## npm package (wasm-pkg)" section of
//                                              docs/benchmarks.md (created if missing)
import { provenance } from "./lib/provenance.mjs";
import { writeSection } from "./lib/sections.mjs";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { jwtDecode } from "jwt-decode";
import * as jose from "jose";
import { createVerifier } from "fast-jwt";

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
const ROUNDS = 15;
const BATCH_MS = 30;

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs `fn` `n` times (awaiting it when it returns a Promise); returns ns per call. */
async function batch(fn, n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return ((performance.now() - t) * 1e6) / n;
}

/**
 * Paired rounds over `candidates` ({ name: fn }): warm-up, a batch size per candidate of about
 * BATCH_MS, then ROUNDS rounds in alternating order. Returns { name: [ns per call, per round] }.
 */
async function paired(candidates) {
  const names = Object.keys(candidates);
  const sizes = {};
  for (const name of names) {
    await batch(candidates[name], 50);
    let n = 1;
    while ((await batch(candidates[name], n)) * n < (BATCH_MS * 1e6) / 4) n *= 2;
    sizes[name] = n * 4;
  }
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of r % 2 ? [...names].reverse() : names) {
      times[name].push(await batch(candidates[name], sizes[name]));
    }
  }
  return times;
}

/** The median of the per-round ratios a / b. */
const ratioOf = (a, b) => median(a.map((t, i) => t / b[i]));

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
/** [what, warden form, warden ns, peer, peer ns, ratio, target, met?] */
const rows = [];
const now = Math.floor(Date.now() / 1000);
const claims = { iss: "https://issuer.example", sub: "user-1234567890", aud: ["api", "web"], scope: "read write", jti: "2f8e1c7a-5d3b-4e9a-9c1f-0a6b7d8e9f10", iat: now - 60, exp: now + 600 };
const JD = `jwt-decode ${version("jwt-decode")}`;
const JOSE = `jose ${version("jose")}`;
const FAST = `fast-jwt ${version("fast-jwt")}`;

// 1. decode + expiry.
{
  const { privateKey } = await jose.generateKeyPair("ES256");
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k1" }).sign(privateKey);
  const options = { now };
  if (lite.inspect(token, options).secondsLeft !== 600 || jwtDecode(token).exp - now !== 600) throw new Error("decode check failed");
  const t = await paired({
    jwtDecode: () => jwtDecode(token).exp - now,
    inspectNow: () => lite.inspect(token, options).secondsLeft,
    inspect: () => lite.inspect(token).secondsLeft,
    decode: () => lite.decode(token).claims.exp - now,
  });
  const jd = median(t.jwtDecode);
  const row = (what, form, name, target) => {
    const ratio = ratioOf(t[name], t.jwtDecode);
    rows.push([what, form, median(t[name]), JD, jd, ratio, target ? `≤ ${target}×` : "", target ? ratio <= target : undefined]);
  };
  // The target is on inspect's cheapest documented form: no options (it reads the clock itself).
  row("decode + expiry", "lite `inspect(token)` (reads the clock)", "inspect", 0.1);
  row("decode + expiry", "lite `inspect(token, { now })`", "inspectNow", undefined);
  row("decode (claims)", "lite `decode(token)`", "decode", undefined);
}

// 2. verify per algorithm.
const ALGS = ["HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA"];
/** Per algorithm: each library's own cost, with `crypto.subtle.verify` stubbed (paired rounds). */
const overheads = {};
for (const alg of ALGS) {
  let signKey;
  let cryptoKey;
  let jwk;
  let fastKey;
  if (alg === "HS256") {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    signKey = secret;
    jwk = { kty: "oct", k: Buffer.from(secret).toString("base64url") };
    cryptoKey = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    fastKey = Buffer.from(secret);
  } else {
    const pair = await jose.generateKeyPair(alg, { crv: alg === "EdDSA" ? "Ed25519" : undefined, extractable: true });
    signKey = pair.privateKey;
    cryptoKey = pair.publicKey;
    jwk = await jose.exportJWK(pair.publicKey);
    fastKey = await jose.exportSPKI(pair.publicKey);
  }
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid: "k1" }).sign(signKey);
  const jwks = { keys: [{ ...jwk, kid: "k1", alg }] };
  const keys = new full.KeySet(jwks);
  // A JWKS holds public keys only, for jose: no createLocalJWKSet row for HS256.
  const localJwks = alg === "HS256" ? null : jose.createLocalJWKSet(jwks);
  // The WebCrypto call alone, with the key jose uses: the floor under both warden-wasm and jose.
  const [signingInput, signatureB64] = [token.slice(0, token.lastIndexOf(".")), token.split(".")[2]];
  const data = new TextEncoder().encode(signingInput);
  const signature = new Uint8Array(Buffer.from(signatureB64, "base64url"));
  const params = {
    HS256: { name: "HMAC" },
    RS256: { name: "RSASSA-PKCS1-v1_5" },
    PS256: { name: "RSA-PSS", saltLength: 32 },
    ES256: { name: "ECDSA", hash: "SHA-256" },
    ES384: { name: "ECDSA", hash: "SHA-384" },
    EdDSA: { name: "Ed25519" },
  }[alg];
  if (!(await crypto.subtle.verify(params, cryptoKey, signature, data))) throw new Error(`${alg}: WebCrypto check failed`);
  const fast = createVerifier({ key: fastKey, algorithms: [alg] });
  const fastCached = createVerifier({ key: fastKey, algorithms: [alg], cache: true });
  // Each in its fastest documented form: warden-wasm with no options (it reads the clock, and
  // each key of a set is bound to one algorithm), jose with the algorithm it must accept.
  const joseOptions = { algorithms: [alg] };
  const r = await keys.verify(token);
  if (!r.valid) throw new Error(`${alg}: warden refused its own token: ${JSON.stringify(r.error)}`);
  await jose.jwtVerify(token, cryptoKey, joseOptions);
  if (localJwks) await jose.jwtVerify(token, localJwks, joseOptions);
  if (fast(token).sub !== claims.sub || fastCached(token).sub !== claims.sub) throw new Error(`${alg}: fast-jwt check failed`);
  const t = await paired({
    warden: () => keys.verify(token),
    jose: () => jose.jwtVerify(token, cryptoKey, joseOptions),
    ...(localJwks ? { joseJwks: () => jose.jwtVerify(token, localJwks, joseOptions) } : {}),
    fast: () => fast(token),
    fastCached: () => fastCached(token),
    subtle: () => crypto.subtle.verify(params, cryptoKey, signature, data),
  });
  // Each library's own work: the same calls with WebCrypto's verify answering at once (both
  // libraries call it; fast-jwt does not), so the thread pool's latency is out of the figure.
  if (alg !== "HS256") {
    const subtleProto = Object.getPrototypeOf(crypto.subtle);
    const real = subtleProto.verify;
    subtleProto.verify = () => Promise.resolve(true);
    try {
      const own = await paired({
        warden: () => keys.verify(token),
        jose: () => jose.jwtVerify(token, cryptoKey, joseOptions),
      });
      overheads[alg] = { warden: median(own.warden), jose: median(own.jose), ratio: ratioOf(own.warden, own.jose) };
    } finally {
      subtleProto.verify = real;
    }
  }
  const target = alg === "HS256" ? 0.25 : 1.0;
  const w = median(t.warden);
  const peers = [
    ["jose", `${JOSE} \`jwtVerify\`, CryptoKey`, target],
    ["joseJwks", `${JOSE} \`jwtVerify\`, \`createLocalJWKSet\``],
    ["fast", `${FAST} \`createVerifier\``],
    ["fastCached", `${FAST} \`createVerifier\`, \`cache: true\``],
    ["subtle", "`crypto.subtle.verify` alone (no JWT: the floor)"],
  ];
  for (const [name, label, tg] of peers.filter(([n]) => t[n])) {
    const ratio = ratioOf(t.warden, t[name]);
    rows.push([`verify ${alg}`, "full `KeySet.verify(token)`", w, label, median(t[name]), ratio, tg ? `≤ ${tg}×` : "", tg ? ratio <= tg : undefined]);
  }
  keys.free();
}

// 3. first verify after import, fresh processes, paired and alternating.
async function firstVerify(alg) {
  const pair = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: "k1", alg };
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid: "k1" }).sign(pair.privateKey);
  const args = JSON.stringify({ jwk, token, now, alg, full: `${PKG}full-node/warden_wasm.js`, jose: import.meta.resolve("jose") });
  const warden = `
    const { jwk, token, full } = ${args};
    const t0 = performance.now();
    const w = require(full);
    const keys = new w.KeySet({ keys: [jwk] });
    keys.verify(token).then((r) => {
      if (!r.valid) throw new Error("refused");
      console.log(performance.now() - t0);
    });`;
  const joseScript = `
    const { jwk, token, alg, jose } = ${args};
    const t0 = performance.now();
    import(jose).then(async (j) => {
      const key = await j.importJWK(jwk, alg);
      await j.jwtVerify(token, key, { algorithms: [alg] });
      console.log(performance.now() - t0);
    });`;
  const run = (script) => Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim());
  const w = [];
  const j = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2) {
      j.push(run(joseScript));
      w.push(run(warden));
    } else {
      w.push(run(warden));
      j.push(run(joseScript));
    }
  }
  return { alg, warden: median(w), jose: median(j), ratio: ratioOf(w, j) };
}
const firsts = [];
for (const alg of ["ES256", "RS256"]) firsts.push(await firstVerify(alg));

// 4. cold load, each in a fresh process; median of several.
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
  const m = (k) => median(out.map((o) => o[k]));
  return { require: m("require"), initSync: m("initSync"), init: m("init") };
}
const coldLite = cold("lite");
const coldFull = cold("full");

// Report.
const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model?.trim() ?? "unknown CPU"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
const load = os.loadavg()[0].toFixed(2);
const lines = [];
lines.push("| benchmark | warden-wasm | time/op | peer | time/op | warden ÷ peer (median of paired rounds) | target |");
lines.push("|---|---|---:|---|---:|---:|---|");
for (const [what, w, wt, peer, pt, ratio, target, met] of rows) {
  const mark = met === undefined ? "" : met ? " (met)" : " (missed)";
  lines.push(`| ${what} | ${w} | ${fmt(wt)} | ${peer} | ${fmt(pt)} | ${ratio.toFixed(2)}× | ${target}${mark} |`);
}
lines.push("");
lines.push(`| first verify after import (fresh process, median of ${ROUNDS}) | warden-wasm/full | ${JOSE} | warden ÷ jose |`);
lines.push("|---|---:|---:|---:|");
for (const f of firsts) {
  lines.push(`| ${f.alg}: load the library, load the key, verify one token | ${f.warden.toFixed(2)} ms | ${f.jose.toFixed(2)} ms | ${f.ratio.toFixed(2)}× |`);
}
lines.push("");
lines.push("| cold load (fresh process, median of 15) | lite | full | target |");
lines.push("|---|---:|---:|---|");
lines.push(`| Node build: \`require()\` (read + compile + instantiate) | ${coldLite.require.toFixed(2)} ms | ${coldFull.require.toFixed(2)} ms | |`);
lines.push(`| web build: \`initSync({ module: bytes })\` (compile + instantiate) | ${coldLite.initSync.toFixed(2)} ms | ${coldFull.initSync.toFixed(2)} ms | lite ≤ 5 ms |`);
lines.push(`| web build: \`await init({ module_or_path: bytes })\` (asynchronous) | ${coldLite.init.toFixed(2)} ms | ${coldFull.init.toFixed(2)} ms | |`);
const table = lines.join("\n");

// The reading, computed from the rows.
const targeted = rows.filter((r) => r[7] !== undefined);
const met = targeted.filter((r) => r[7]);
const missed = targeted.filter((r) => !r[7]);
const name = (r) => `${r[0]} ${r[5].toFixed(2)}× (target ${r[6].slice(2)})`;
const verifyRows = rows.filter((r) => r[0].startsWith("verify "));
const fastest = ALGS.map((alg) => {
  const own = verifyRows.filter((r) => r[0] === `verify ${alg}`);
  const beaten = own.filter((r) => r[5] > 1.0 && !r[3].includes("alone")).map((r) => r[3]);
  return beaten.length ? `${alg}: faster than warden-wasm — ${beaten.join("; ")}` : null;
}).filter(Boolean);
const own = (alg) => `${alg} ${fmt(overheads[alg].warden)} vs ${fmt(overheads[alg].jose)} (${overheads[alg].ratio.toFixed(2)}×)`;
const reading = `Reading (computed from the tables and rounds): both warden-wasm and jose spend most of a
verification in the same WebCrypto call (the "alone" rows); their own work, timed with that call
answering at once (paired rounds, warden-wasm vs jose): ${ALGS.filter((a) => overheads[a]).map(own).join(", ")}. Targets met: ${met.map(name).join(", ") || "none"}; missed:
${missed.map(name).join(", ") || "none"}. ${
  fastest.length ? `Peers ahead of warden-wasm per algorithm — ${fastest.join(". ")}.` : "No peer is ahead of warden-wasm for any algorithm."
} First verify after import: ${firsts.map((f) => `${f.alg} ${f.ratio.toFixed(2)}× jose`).join(", ")}. Lite instantiates in
${coldLite.initSync.toFixed(2)} ms synchronously (target 5 ms: ${coldLite.initSync <= 5 ? "met" : "missed"}). RS*, PS*, ES*, EdDSA, HS384 and
HS512 go through the platform's WebCrypto (crates/warden-webcrypto, as in the worker), HS256 through
\`hmac\` + \`sha2\` in WebAssembly; fast-jwt verifies with node:crypto synchronously (Node only), and with its
cache a repeated token is not verified again.`;
const { commit, clean } = provenance(ROOT);
console.log(`\nwarden-wasm benchmarks — commit ${commit} (${clean}) — ${machine}, load average ${load}\n`);
console.log(table);
console.log(`\n${reading}`);

if (process.argv.includes("--write")) {
  const doc = `${ROOT}docs/benchmarks.md`;
  const section = `## npm package (wasm-pkg)

Command: \`make bench-npm\` (\`bash scripts/build-wasm-pkg.sh && node scripts/bench-npm.mjs --write\`,
about 90 s). Commit \`${commit}\`, ${clean}. Machine: ${machine}; load average ${load} at the end
of the run. Each comparison is paired: every round runs each candidate once (a batch of about
${BATCH_MS} ms), in alternating order, over ${ROUNDS} rounds; a time is the median of the per-round times and a
ratio the median of the per-round ratios. Peers, pinned in package.json, in their fastest documented
forms: jwt-decode; jose with a \`CryptoKey\` imported once (HS256 too) and with
\`createLocalJWKSet\`, \`{ algorithms: [alg] }\`; fast-jwt's \`createVerifier\` without and with its
cache. warden-wasm verifies with a \`KeySet\` loaded once and no options (its keys are bound to one
algorithm each; it reads the clock, as jose does).

${table}

${reading}
`;
  writeSection(doc, "## npm package (wasm-pkg)", `${section}\n`);
  console.log(`\nwrote the "## npm package (wasm-pkg)" section of docs/benchmarks.md`);
}
