// The npm package `warden-wasm` as a user gets it: the BUILT wasm-pkg/pkg (scripts/build-wasm-pkg.sh),
// packed with `npm pack`, installed into a fresh project, imported by its subpaths.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { generateKeyPairSync, createHmac, sign as cryptoSign, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { install, PKG } from "../wasm-pkg/tests/js/install.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
let consumer;
before(() => {
  consumer = install();
});
after(() => consumer?.cleanup());

const b64url = (value) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const unsigned = (header, claims, signature = "sig") =>
  `${b64url(header)}.${b64url(claims)}.${b64url(signature)}`;
const HEADER = { alg: "ES256", typ: "at+jwt", kid: "key-2024" };
const malformed = (message) => (err) => {
  assert.ok(err instanceof Error, "an Error instance");
  assert.equal(err.code, "token_malformed");
  if (message) assert.equal(err.message, message);
  return true;
};

test("package.json: subpath exports for lite and full, types, sideEffects: false", () => {
  const pkg = JSON.parse(readFileSync(join(consumer.installed, "package.json"), "utf8"));
  assert.equal(pkg.name, "warden-wasm");
  assert.equal(pkg.sideEffects, false);
  for (const variant of ["lite", "full"]) {
    assert.deepEqual(pkg.exports[`./${variant}`], {
      node: { types: `./${variant}-node/warden_wasm.d.ts`, default: `./${variant}-node/warden_wasm.js` },
      default: {
        types: `./${variant}-bundler/warden_wasm.d.ts`,
        default: `./${variant}-bundler/warden_wasm.js`,
      },
    });
    for (const target of ["web", "bundler", "node"]) {
      const entry = pkg.exports[`./${variant}/${target}`];
      assert.equal(entry.default, `./${variant}-${target}/warden_wasm.js`);
      for (const file of [entry.types, entry.default]) {
        assert.ok(consumer.files.includes(file.slice(2)), `${file} is in the tarball`);
      }
      assert.ok(consumer.files.includes(`${variant}-${target}/warden_wasm_bg.wasm`));
      const own = JSON.parse(readFileSync(join(consumer.installed, `${variant}-${target}/package.json`), "utf8"));
      assert.equal(own.type, target === "node" ? "commonjs" : "module");
      // Only the bundler entry (it instantiates the module) and its snippets have side effects.
      assert.deepEqual(own.sideEffects, target === "bundler" ? ["./warden_wasm.js", "./snippets/*"] : undefined);
    }
    assert.deepEqual(pkg.typesVersions["*"][variant], [`./${variant}-bundler/warden_wasm.d.ts`]);
  }
  // The npm version is the crate's (wasm-pkg/Cargo.toml), not the workspace's.
  const crate = readFileSync(join(ROOT, "wasm-pkg/Cargo.toml"), "utf8").match(/^version = "([^"]+)"/m)[1];
  assert.equal(pkg.version, crate);
  for (const f of ["README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE", "package.json"]) {
    assert.ok(consumer.files.includes(f), f);
  }
  assert.ok(!consumer.files.some((f) => f.endsWith(".rs") || f.includes("tests/")), "no sources or tests");
});

test("no build-machine paths in the shipped files", () => {
  const forbidden = [ROOT.replace(/\/$/, ""), homedir()].filter((p) => p.length > 1);
  for (const f of consumer.files) {
    const text = readFileSync(join(consumer.installed, f)).toString("latin1");
    for (const p of forbidden) assert.ok(!text.includes(p), `${f} contains ${p}`);
  }
});

test("warden-wasm/lite in Node (require and import): decode, inspect, estimateClockOffset, no crypto", async () => {
  const cjs = consumer.require("warden-wasm/lite");
  const esm = await consumer.importEsm("warden-wasm/lite");
  for (const lite of [cjs, esm]) {
    assert.deepEqual(
      Object.keys(lite).filter((k) => k !== "default" && k !== "module.exports").sort(),
      ["decode", "estimateClockOffset", "inspect"],
    );
    const t = unsigned(HEADER, { exp: 1_600, iat: 1_000 });
    assert.deepEqual(lite.decode(t), { header: HEADER, claims: { exp: 1_600, iat: 1_000 } });
    assert.equal(lite.inspect(t, { now: 1_630 }).expired, true);
  }
});

test("warden-wasm/full in Node (require and import) adds verify and KeySet", async () => {
  for (const full of [consumer.require("warden-wasm/full"), await consumer.importEsm("warden-wasm/full")]) {
    assert.equal(typeof full.verify, "function");
    assert.equal(typeof full.KeySet, "function");
    assert.equal(typeof full.decode, "function");
  }
});

test("the web builds (warden-wasm/{lite,full}/web) initialise from bytes, as in a browser", async () => {
  for (const variant of ["lite", "full"]) {
    const web = await consumer.importEsm(`warden-wasm/${variant}/web`);
    const wasm = readFileSync(join(consumer.installed, `${variant}-web/warden_wasm_bg.wasm`));
    await web.default({ module_or_path: wasm });
    const t = unsigned(HEADER, { exp: 1_600 });
    assert.deepEqual(web.decode(t).claims, { exp: 1_600 });
    assert.equal(web.inspect(t, { now: 1_630 }).expired, true);
    assert.throws(() => web.decode("garbage"), malformed("token must have three segments"));
    assert.equal(typeof web.verify, variant === "full" ? "function" : "undefined");
  }
});

test("the bundler builds load through ES module integration (the `default` export condition)", () => {
  // Bundlers resolve `warden-wasm/lite` to the bundler build and import its .wasm as a module;
  // Node does the same with --experimental-wasm-modules.
  const pkg = JSON.parse(readFileSync(join(consumer.installed, "package.json"), "utf8"));
  for (const variant of ["lite", "full"]) {
    const entry = join(consumer.installed, pkg.exports[`./${variant}`].default.default);
    const script = join(consumer.dir, `bundler-${variant}.mjs`);
    writeFileSync(
      script,
      `import * as w from ${JSON.stringify(entry)};
       const t = ${JSON.stringify(unsigned(HEADER, { exp: 1_600, iat: 1_000 }))};
       console.log(JSON.stringify({ keys: Object.keys(w).sort(), i: w.inspect(t, { now: 1_000 }) }));`,
    );
    const out = execFileSync(process.execPath, ["--experimental-wasm-modules", "--no-warnings", script], {
      encoding: "utf8",
    });
    const { keys, i } = JSON.parse(out);
    assert.deepEqual(keys, variant === "lite"
      ? ["decode", "estimateClockOffset", "inspect"]
      : ["KeySet", "createDpopProof", "decode", "estimateClockOffset", "generateDpopKey", "inspect", "jwkThumbprint", "verify"]);
    assert.equal(i.secondsLeft, 600);
    assert.equal(i.refreshAt, 1_585);
  }
});

test("decode: plain objects, exactly JSON.parse, for hostile keys and 64-bit integers", () => {
  const { decode } = consumer.require("warden-wasm/lite");
  const json =
    '{"sub":"mallory","__proto__":{"admin":true},"big":18446744073709551615,"neg":-9007199254740993,"f":0.1}';
  const { claims } = decode(unsigned(HEADER, json));
  assert.deepEqual(claims, JSON.parse(json));
  assert.equal(claims.admin, undefined, "no prototype replaced by a claim");
  assert.ok(Object.hasOwn(claims, "__proto__"));
  assert.equal(Object.getPrototypeOf(claims), Object.prototype);
});

test("inspect: seconds left, expiry with the edge's 30 s leeway, refreshAt", () => {
  const { inspect } = consumer.require("warden-wasm/lite");
  const t = unsigned(HEADER, { iat: 1_000, nbf: 1_005, exp: 1_600 });
  assert.deepEqual(inspect(t, { now: 1_500 }), {
    expiresAt: 1_600,
    issuedAt: 1_000,
    notBefore: 1_005,
    secondsLeft: 100,
    expired: false,
    refreshAt: 1_585,
  });
  assert.equal(inspect(t, { now: 1_629 }).expired, false);
  assert.equal(inspect(t, { now: 1_630 }).expired, true);
  assert.equal(inspect(t, { now: 1_600, leeway: 0 }).expired, true);
  assert.equal(inspect(t, { now: 1_500, refreshMargin: 60 }).refreshAt, 1_540);
  const none = inspect(unsigned(HEADER, { sub: "a" }), { now: 1 });
  assert.deepEqual(none, {
    expiresAt: undefined, issuedAt: undefined, notBefore: undefined,
    secondsLeft: undefined, expired: false, refreshAt: undefined,
  });
  const now = Math.floor(Date.now() / 1000);
  const live = inspect(unsigned(HEADER, { exp: now + 3_600 }));
  assert.ok(live.secondsLeft <= 3_600 && live.secondsLeft > 3_590, `${live.secondsLeft}`);
});

test("errors: Error objects with the core's stable codes", () => {
  const { decode, inspect, estimateClockOffset } = consumer.require("warden-wasm/lite");
  const t = unsigned(HEADER, { exp: 1_600 });
  for (const fn of [decode, (x) => inspect(x, { now: 0 })]) {
    assert.throws(() => fn("garbage"), malformed("token must have three segments"));
    assert.throws(() => fn(""), malformed("token is empty"));
    assert.throws(() => fn(unsigned({ alg: "none" }, {}, "")), malformed("unsigned tokens are not accepted"));
    assert.throws(() => fn(unsigned(HEADER, { exp: "soon" })), malformed("claim `exp` has the wrong type or value"));
    assert.throws(() => fn(unsigned({ ...HEADER, jwk: {} }, {})), malformed("header parameter `jwk` is not accepted"));
  }
  for (const options of [{ now: "1500" }, { now: 1.5 }, { leeway: "30" }, { clockOffset: 0.5 }, 42, [1]]) {
    assert.throws(() => inspect(t, options), (e) => e instanceof TypeError && e.code === "invalid_request", JSON.stringify(options));
  }
  for (const options of [{ now: -1 }, { leeway: 301 }, { now: 253_402_300_800 }, { refreshMargin: 86_401 }]) {
    assert.throws(() => inspect(t, options), (e) => e instanceof RangeError && e.code === "invalid_request", JSON.stringify(options));
  }
  assert.throws(() => inspect(t, { leway: 1 }), /unknown option `leway`/);
  // A token that is not a string is the caller's mistake, not a malformed token.
  for (const token of [42, null, undefined, {}, ["a.b.c"], new String(t)]) {
    for (const fn of [decode, (x) => inspect(x, { now: 0 })]) {
      assert.throws(() => fn(token), (e) => e instanceof TypeError && e.code === "invalid_request" && e.message === "the token must be a string", String(token));
    }
  }
  // Non-ASCII text reaches the core as UTF-8 (and is refused there, as base64url it is not); a
  // lone surrogate as U+FFFD, as wasm-bindgen spells it.
  for (const token of [`é${t}`, `${t.slice(0, 10)}\u{1F600}${t.slice(10)}`, `\uD800${t}`]) {
    assert.throws(() => inspect(token, { now: 0 }), (e) => e.code === "token_malformed" && /^header is not canonical unpadded base64url$/.test(e.message), token);
  }
  // Long tokens, up to the core's 8 KiB limit: read whole.
  for (const size of [600, 1_300, 3_000, 5_900]) {
    const long = unsigned(HEADER, { exp: 1_600, pad: "x".repeat(size) });
    assert.equal(inspect(long, { now: 1_500 }).secondsLeft, 100, `${long.length} characters`);
    assert.deepEqual(decode(long).claims.pad.length, size);
  }
  // Far over it, ASCII and not: refused with the length in bytes (the text is copied once, as
  // before: one byte per character when it is ASCII, three otherwise).
  assert.throws(() => inspect("a".repeat(5_000_000), { now: 0 }), malformed("token is 5000000 bytes, over the 8192-byte limit"));
  assert.throws(() => decode("é".repeat(2_000_000)), malformed("token is 4000000 bytes, over the 8192-byte limit"));
  const tooLong = unsigned(HEADER, { exp: 1_600, pad: "x".repeat(8_192) });
  assert.throws(() => inspect(tooLong, { now: 0 }), malformed(`token is ${tooLong.length} bytes, over the 8192-byte limit`));
  assert.equal(inspect(t, { now: 1_500 }).secondsLeft, 100, "a short token after long ones");
  assert.throws(() => estimateClockOffset({ token: unsigned(HEADER, { exp: 1 }) }), (e) => e.code === "token_claim_missing");
  assert.throws(() => estimateClockOffset({ date: "yesterday" }), (e) => e instanceof TypeError && e.code === "invalid_request");
});

test("skew: a real Date header from a loopback server, the local clock 10 minutes ahead or behind", async () => {
  const { estimateClockOffset, inspect } = consumer.require("warden-wasm/lite");
  const server = createServer((_req, res) => res.end("ok")); // Node sets the Date header itself
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${server.address().port}/`;
    const sentAt = Date.now();
    const res = await fetch(url);
    const receivedAt = Date.now();
    await res.text();
    const date = res.headers.get("date");
    assert.match(date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    // Same machine: the offset is 0, give or take the Date header's one-second resolution.
    const offset = estimateClockOffset({ date, sentAt, receivedAt });
    assert.ok(Math.abs(offset) <= 1, `offset ${offset}`);

    const serverNow = Math.floor(receivedAt / 1000);
    const token = unsigned(HEADER, { iat: serverNow - 60, exp: serverNow + 900 });
    for (const skew of [600, -600]) {
      // The local clock reads `skew` seconds off: measure against it, then inspect on it.
      const measured = estimateClockOffset({ date, sentAt: sentAt + skew * 1000, receivedAt: receivedAt + skew * 1000 });
      assert.ok(Math.abs(measured + skew) <= 1, `measured ${measured} for skew ${skew}`);
      const local = serverNow + skew;
      const i = inspect(token, { now: local, clockOffset: measured });
      assert.ok(Math.abs(i.secondsLeft - 900) <= 1, `secondsLeft ${i.secondsLeft} (skew ${skew})`);
      assert.equal(i.expired, false);
      assert.ok(Math.abs(i.refreshAt - (serverNow + 900 - 15 + skew)) <= 1, "refreshAt is on the local clock");
      const naive = inspect(token, { now: local });
      assert.equal(naive.secondsLeft, 900 - skew, "without the offset the answer is 10 minutes off");
    }
    // A fresh token's iat works as well.
    const fresh = unsigned(HEADER, { iat: serverNow, exp: serverNow + 300 });
    const fromIat = estimateClockOffset({ token: fresh, receivedAt: receivedAt + 600_000 });
    assert.ok(Math.abs(fromIat + 600) <= 1, `${fromIat}`);
  } finally {
    server.close();
  }
});

test("verify (full): tokens signed by node:crypto, as the edge would judge them", async () => {
  const { verify, KeySet } = consumer.require("warden-wasm/full");
  const now = 1_700_000_000;
  const claims = { sub: "alice", iss: "https://issuer.test", aud: "api", iat: now - 60, exp: now + 600 };
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "e1" };
  const header = { alg: "ES256", kid: "e1", typ: "at+jwt" };
  const input = `${b64url(header)}.${b64url(claims)}`;
  const es256 = `${input}.${cryptoSign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  const jwks = { keys: [jwk] };
  const pending = verify(es256, jwks, { now });
  assert.ok(pending instanceof Promise, "verify returns a Promise");
  assert.deepEqual(await pending, { valid: true, claims });
  assert.deepEqual((await verify(es256, JSON.stringify(jwks), { now, issuer: "https://issuer.test", audience: ["api"], typ: "at+jwt" })).valid, true);
  const keys = new KeySet(jwks);
  assert.equal(keys.size, 1);
  assert.ok(keys.verify(es256, { now }) instanceof Promise, "KeySet.verify returns a Promise");
  assert.equal((await keys.verify(es256, { now })).valid, true);
  const expired = await keys.verify(es256, { now: now + 631 });
  assert.deepEqual(expired, {
    valid: false,
    error: { code: "token_expired", description: "token expired", message: `token expired at ${now + 600} (now ${now + 631})` },
  });
  assert.equal((await keys.verify(es256, { now, audience: "web" })).error.code, "token_wrong_audience");
  assert.equal((await keys.verify(es256, { now, algorithms: ["RS256"] })).error.code, "token_algorithm_not_allowed");
  assert.equal((await keys.verify(`${input}.${Buffer.alloc(64).toString("base64url")}`, { now })).error.code, "token_bad_signature");
  // DER-encoded ECDSA (what node:crypto signs by default) is not a JWS signature.
  const der = cryptoSign("sha256", Buffer.from(input), privateKey).toString("base64url");
  assert.equal((await keys.verify(`${input}.${der}`, { now })).error.code, "token_bad_signature");
  // A wrong local clock, corrected by the offset.
  assert.equal((await keys.verify(es256, { now: now + 660 })).error.code, "token_expired");
  assert.equal((await keys.verify(es256, { now: now + 660, clockOffset: -600 })).valid, true);
  // Many at once: each call is its own Promise, the key imported once.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => keys.verify(es256, { now: now + i * 40 })));
  assert.deepEqual(many.map((r) => r.valid), Array.from({ length: 20 }, (_, i) => i * 40 < 630));
  keys.free();
  // Many at once on a new set, before its key is imported: they wait for one import, each with
  // its own verdict; then the imported key serves the next ones.
  const fresh = new KeySet(jwks);
  const tamperedEs256 = `${input}.${Buffer.alloc(64, 1).toString("base64url")}`;
  const first = await Promise.all([es256, tamperedEs256, es256, es256].map((t, i) => fresh.verify(t, { now: now + i * 300 })));
  assert.deepEqual(first.map((r) => r.valid || r.error.code), [true, "token_bad_signature", true, "token_expired"]);
  assert.deepEqual(await fresh.verify(es256, { now }), { valid: true, claims });
  fresh.free();
  // A key WebCrypto refuses to import (a point off the curve): a bad signature, every time.
  const offCurve = new KeySet({ keys: [{ ...jwk, x: Buffer.alloc(32, 1).toString("base64url"), y: Buffer.alloc(32, 2).toString("base64url") }] });
  for (let i = 0; i < 3; i++) assert.equal((await offCurve.verify(es256, { now })).error.code, "token_bad_signature");
  offCurve.free();

  // RSA, RSA-PSS, ECDSA P-384 and Ed25519 through WebCrypto.
  for (const [alg, type, options, signOptions] of [
    ["RS256", "rsa", { modulusLength: 2048 }, {}],
    ["PS256", "rsa", { modulusLength: 2048 }, { padding: 6, saltLength: 32 }],
    ["ES384", "ec", { namedCurve: "P-384" }, { dsaEncoding: "ieee-p1363" }],
    ["EdDSA", "ed25519", {}, {}],
  ]) {
    const pair = generateKeyPairSync(type, options);
    const set = new KeySet({ keys: [{ ...pair.publicKey.export({ format: "jwk" }), kid: "k", alg }] });
    const signingInput = `${b64url({ alg, kid: "k" })}.${b64url(claims)}`;
    const hash = alg === "EdDSA" ? null : alg === "ES384" ? "sha384" : "sha256";
    const sig = cryptoSign(hash, Buffer.from(signingInput), { key: pair.privateKey, ...signOptions });
    assert.deepEqual(await set.verify(`${signingInput}.${sig.toString("base64url")}`, { now }), { valid: true, claims }, alg);
    sig[5] ^= 1;
    assert.equal((await set.verify(`${signingInput}.${sig.toString("base64url")}`, { now })).error.code, "token_bad_signature", alg);
    set.free();
  }

  const secret = randomBytes(32);
  const hsJwks = { keys: [{ kty: "oct", kid: "h1", alg: "HS256", k: secret.toString("base64url") }] };
  const hsInput = `${b64url({ alg: "HS256", kid: "h1" })}.${b64url(claims)}`;
  const hs = `${hsInput}.${createHmac("sha256", secret).update(hsInput).digest("base64url")}`;
  assert.equal((await verify(hs, hsJwks, { now })).valid, true);
  // Not the token's fault: rejected, with the code.
  await assert.rejects(
    verify(hs, { keys: [{ kty: "oct", kid: "h1", alg: "HS256", k: "c2hvcnQ" }] }, { now }),
    (e) => e instanceof Error && e.code === "keys_unavailable" && /HMAC secret is shorter/.test(e.message),
  );
  await assert.rejects(verify(hs, hsJwks, { now, issuerr: "x" }), (e) => e instanceof TypeError && e.code === "invalid_request");
  for (const token of [42, null, { token: hs }]) {
    await assert.rejects(verify(token, hsJwks, { now }), (e) => e instanceof TypeError && e.code === "invalid_request" && e.message === "the token must be a string");
    const set = new KeySet(hsJwks);
    await assert.rejects(set.verify(token, { now }), (e) => e instanceof TypeError && e.code === "invalid_request");
    set.free();
  }
  assert.throws(() => new KeySet({ keys: [] }), (e) => e.code === "keys_unavailable", "the constructor still throws");
});

test("the .d.ts files are precise, and check with tsc --strict against the installed package", () => {
  const lite = readFileSync(join(PKG, "lite-node/warden_wasm.d.ts"), "utf8");
  const full = readFileSync(join(PKG, "full-bundler/warden_wasm.d.ts"), "utf8");
  assert.match(lite, /export function decode\(token: string\): Decoded;/);
  assert.match(lite, /export function inspect\(token: string, options\?: InspectOptions \| null\): Inspection;|export function inspect\(token: string, options\?: InspectOptions\): Inspection;/);
  assert.match(lite, /export function estimateClockOffset\(sample: ClockSample\): number;/);
  assert.match(lite, /refreshAt: number \| undefined;/);
  assert.match(lite, /no signature check|without checking its signature/i);
  assert.doesNotMatch(lite, /export function verify|class KeySet|VerifyResult/);
  assert.match(full, /export function verify\(token: string, jwks: string \| Jwks, options\?: VerifyOptions( \| null)?\): Promise<VerifyResult>;/);
  assert.match(full, /export class KeySet/);
  assert.match(full, /^\s*verify\(token: string, options\?: VerifyOptions( \| null)?\): Promise<VerifyResult>;/m);
  assert.match(full, /export function generateDpopKey\(options\?: DpopKeyOptions( \| null)?\): Promise<DpopKeyPair>;/);
  assert.match(full, /export function createDpopProof\(keyPair: CryptoKeyPair, options: DpopProofOptions\): Promise<string>;/);
  assert.match(full, /export function jwkThumbprint\(jwk: JsonWebKey \| string\): string;/);
  assert.doesNotMatch(lite, /Dpop|jwkThumbprint/);
  for (const dts of [lite, full]) assert.doesNotMatch(dts, /\bany\b/);

  const tsc = join(ROOT, "node_modules/.bin/tsc");
  const src = join(consumer.dir, "consumer.ts");
  writeFileSync(
    src,
    `import { decode, inspect, estimateClockOffset, type Inspection, type WardenError } from "warden-wasm/lite";
     import { verify, KeySet, type VerifyResult, type DenialCode } from "warden-wasm/full";
     import { generateDpopKey, createDpopProof, jwkThumbprint, type DpopKeyPair, type DpopProofOptions } from "warden-wasm/full";
     import init, { inspect as webInspect } from "warden-wasm/full/web";
     const token: string = "a.b.c";
     const sub: string | undefined = decode(token).claims.sub;
     const i: Inspection = inspect(token, { now: 1, clockOffset: estimateClockOffset({ date: "x", sentAt: 1 }) });
     const left: number | undefined = i.secondsLeft;
     async function check(): Promise<[DenialCode | undefined, number | undefined]> {
       const r: VerifyResult = await verify(token, { keys: [] }, { issuer: "i", audience: ["a"], algorithms: ["ES256"], maxAge: 1, typ: "at+jwt", leeway: 0 });
       const k = new KeySet("{}");
       const again: VerifyResult = await k.verify(token, { now: 1 });
       k.free();
       return [r.valid ? undefined : r.error.code, again.valid ? again.claims.exp : undefined];
     }
     const n: number = new KeySet("{}").size;
     async function web() { await init(); return webInspect(token).expired; }
     function isWarden(e: unknown): e is WardenError { return e instanceof Error && "code" in e; }
     async function dpop(): Promise<string> {
       const pair: DpopKeyPair = await generateDpopKey({ alg: "EdDSA" });
       const key: CryptoKey = pair.privateKey;
       const options: DpopProofOptions = { htm: "GET", htu: "https://api.example.com/", accessToken: token, nonce: "n", now: 1, clockOffset: 3 };
       const proof: string = await createDpopProof(pair, options);
       return proof + jwkThumbprint(pair.jwk) + jwkThumbprint("{}") + key.type;
     }
     export { sub, left, check, n, web, isWarden, dpop };`,
  );
  writeFileSync(
    join(consumer.dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "esnext.disposable", "dom"], skipLibCheck: false },
      files: ["consumer.ts"],
    }),
  );
  writeFileSync(join(consumer.dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  try {
    execFileSync(process.execPath, [tsc, "-p", consumer.dir], { encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
  // And a type error is caught: the check is real.
  writeFileSync(src, `import { inspect } from "warden-wasm/lite"; const x: string = inspect("t").secondsLeft; export { x };`);
  assert.throws(() => execFileSync(process.execPath, [tsc, "-p", consumer.dir], { encoding: "utf8" }));
  // verify without await is a Promise, not a result: tsc says so.
  writeFileSync(src, `import { verify } from "warden-wasm/full"; const v: boolean = verify("t", "{}").valid; export { v };`);
  assert.throws(() => execFileSync(process.execPath, [tsc, "-p", consumer.dir], { encoding: "utf8" }));
  // DPoP keys are made for the edge's algorithms only, and a proof needs its request.
  writeFileSync(src, `import { generateDpopKey } from "warden-wasm/full"; const k = generateDpopKey({ alg: "HS256" }); export { k };`);
  assert.throws(() => execFileSync(process.execPath, [tsc, "-p", consumer.dir], { encoding: "utf8" }));
  writeFileSync(src, `import { createDpopProof, generateDpopKey } from "warden-wasm/full"; const p = generateDpopKey().then((k) => createDpopProof(k, { htm: "GET" })); export { p };`);
  assert.throws(() => execFileSync(process.execPath, [tsc, "-p", consumer.dir], { encoding: "utf8" }));
});
