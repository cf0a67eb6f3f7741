// warden-wasm where its users run it, from the package as a user installs it (npm pack + install,
// wasm-pkg/tests/js/install.mjs):
//   - Node, ES modules and CommonJS: `exports` resolves `warden-wasm/{lite,full}` to the Node build
//     for both `import` and `require()`;
//   - a real bundler, esbuild (platform "browser"): a bundler user picks `warden-wasm/full/web`
//     (or lite/web) and hands the wasm to `init`, because the bundler build imports its .wasm as
//     an ES module (WebAssembly ES module integration: webpack 5, Vite with a plugin, Rollup with
//     a plugin), which esbuild does not do;
//   - workerd (Miniflare): a plain JavaScript worker with the web build and its .wasm as a
//     compiled module — the Web APIs that other edge runtimes (Vercel, Netlify, Deno Deploy) share;
//   - Deno and Bun (their npm packages, pinned devDependencies): a script importing
//     `warden-wasm/lite` and `warden-wasm/full` by name from the installed project.
// Tokens are ES256, signed here with node:crypto; a tampered one must be refused with
// `token_bad_signature`, an expired one with `token_expired`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, sign as cryptoSign } from "node:crypto";
import { copyFileSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { install } from "../wasm-pkg/tests/js/install.mjs";
import { bearer } from "./helpers/miniflare.mjs";

const FIXTURES = new URL("./npm-runtimes/", import.meta.url);
const ISSUER = "https://issuer.test";
const AUDIENCE = "api";
const OPTIONS = { issuer: ISSUER, audience: AUDIENCE, algorithms: ["ES256"] };

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const JWKS = { keys: [{ ...publicKey.export({ format: "jwk" }), kid: "rt-1", alg: "ES256" }] };
const b64url = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An ES256 token for `sub`, valid for 10 minutes from `iat` (default: now). */
function es256(sub, iat = Math.floor(Date.now() / 1000)) {
  const input = `${b64url({ alg: "ES256", typ: "JWT", kid: "rt-1" })}.${b64url({
    iss: ISSUER, aud: AUDIENCE, sub, iat, exp: iat + 600,
  })}`;
  const signature = cryptoSign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** `token` with one bit of its signature flipped (still canonical base64url). */
function tampered(token) {
  const [h, c, s] = token.split(".");
  const sig = Buffer.from(s, "base64url");
  sig[5] ^= 0x01;
  return `${h}.${c}.${sig.toString("base64url")}`;
}

let consumer;
before(() => {
  consumer = install();
});
after(() => consumer?.cleanup());

const inPackage = (file) => join(consumer.installed, file);

test("Node: import and require() of warden-wasm/lite and /full resolve the Node build, which decodes, inspects and verifies", async () => {
  for (const variant of ["lite", "full"]) {
    const specifier = `warden-wasm/${variant}`;
    assert.equal(consumer.require.resolve(specifier), inPackage(`${variant}-node${sep}warden_wasm.js`));
    const cjs = consumer.require(specifier);
    const esm = await consumer.importEsm(specifier);
    // `import` got the very module.exports that require() got: the same CommonJS Node build.
    assert.equal(esm.default, cjs, `${specifier}: import and require() load one build`);
    for (const [how, pkg] of [["require", cjs], ["import", esm]]) {
      const token = es256(`${variant}-${how}`);
      assert.deepEqual(pkg.decode(token).claims.sub, `${variant}-${how}`);
      assert.deepEqual(pkg.decode(token).header, { alg: "ES256", typ: "JWT", kid: "rt-1" });
      const seen = pkg.inspect(token);
      assert.equal(seen.expired, false);
      assert.ok(seen.secondsLeft > 590 && seen.secondsLeft <= 600, `${seen.secondsLeft}`);
      assert.equal(typeof pkg.verify, variant === "full" ? "function" : "undefined", `${specifier} (${how}): verify`);
      if (variant === "lite") continue;
      const good = await pkg.verify(token, JWKS, OPTIONS);
      assert.equal(good.valid, true, JSON.stringify(good.error));
      assert.equal(good.claims.sub, `full-${how}`);
      const bad = await pkg.verify(tampered(token), JWKS, OPTIONS);
      assert.equal(bad.valid, false);
      assert.equal(bad.error.code, "token_bad_signature");
      const keys = new pkg.KeySet(JSON.stringify(JWKS));
      assert.equal((await keys.verify(token, OPTIONS)).valid, true);
      assert.equal((await keys.verify(tampered(token), OPTIONS)).error.code, "token_bad_signature");
      keys.free();
    }
  }
});

test("esbuild (platform browser): warden-wasm/full resolves to the bundler build, which needs WebAssembly ES module integration", async () => {
  // What a user of esbuild meets with the bare subpath: the `default` condition picks the bundler
  // build, and its `import * as wasm from "./warden_wasm_bg.wasm"` has no esbuild loader.
  const failed = await build({
    stdin: { contents: 'export { verify } from "warden-wasm/full";', resolveDir: consumer.dir },
    bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent",
  }).then(() => null, (e) => e);
  assert.ok(failed, "esbuild bundled the bundler build's .wasm import without a loader");
  assert.ok(
    failed.errors.some((e) => e.location?.file.endsWith("full-bundler/warden_wasm.js") && /warden_wasm_bg\.wasm/.test(e.text)),
    failed.errors.map((e) => `${e.location?.file}: ${e.text}`).join("\n"),
  );
});

test("esbuild (platform browser) bundles warden-wasm/full/web with its wasm, and the bundle verifies", async () => {
  const entry = join(consumer.dir, "bundle-entry.mjs");
  copyFileSync(new URL("bundle-entry.mjs", FIXTURES), entry);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    loader: { ".wasm": "binary" },
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.warnings, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((f) => f.endsWith("warden-wasm/full-web/warden_wasm.js")), inputs.join("\n"));
  assert.ok(inputs.some((f) => f.endsWith("warden-wasm/full-web/warden_wasm_bg.wasm")), inputs.join("\n"));
  assert.ok(!inputs.some((f) => /-(node|bundler)\//.test(f)), `only the web build is bundled:\n${inputs.join("\n")}`);
  const [output] = result.outputFiles;
  assert.doesNotMatch(output.text, /\brequire\(|from "node:|from "warden-wasm/, "a self-contained browser bundle");

  // Run the bundle as a browser would load it: one ES module, no node_modules behind it.
  const bundle = await import(`data:text/javascript;base64,${Buffer.from(output.contents).toString("base64")}`);
  const token = es256("bundled");
  const good = await bundle.check(token, JWKS, OPTIONS);
  assert.equal(good.header.kid, "rt-1");
  assert.equal(good.result.valid, true, JSON.stringify(good.result.error));
  assert.equal(good.result.claims.sub, "bundled");
  const bad = await bundle.check(tampered(token), JWKS, OPTIONS);
  assert.equal(bad.result.valid, false);
  assert.equal(bad.result.error.code, "token_bad_signature");
});

test("workerd: a plain JavaScript worker with warden-wasm/full/web answers 200 for a good token and 401 with the code otherwise", async () => {
  const script = join(consumer.dir, "worker.js");
  copyFileSync(new URL("worker.js", FIXTURES), script);
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: consumer.dir,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    bindings: { JWKS: JSON.stringify(JWKS), ISSUER, AUDIENCE },
  });
  try {
    const ask = async (init) => {
      const res = await mf.dispatchFetch("http://127.0.0.1/private", init);
      return { status: res.status, body: await res.json() };
    };
    const token = es256("edge-user");
    assert.deepEqual(await ask(bearer(token)), { status: 200, body: { sub: "edge-user" } });
    // A second request reuses the key set the first one loaded.
    assert.deepEqual(await ask(bearer(es256("second"))), { status: 200, body: { sub: "second" } });
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    assert.deepEqual(await ask(bearer(es256("late", hourAgo))), { status: 401, body: { code: "token_expired" } });
    assert.deepEqual(await ask(bearer(tampered(token))), { status: 401, body: { code: "token_bad_signature" } });
    assert.deepEqual(await ask(bearer("not.a.token")), { status: 401, body: { code: "token_malformed" } });
    assert.deepEqual(await ask({}), { status: 401, body: { code: "token_missing" } });
  } finally {
    await mf.dispose();
  }
});

/** The pinned runtime's binary (node_modules/.bin of the repository). */
const runtimeBin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

for (const [name, args] of [
  ["deno", ["run", "--quiet", "--no-lock", "--allow-read", "--allow-env"]],
  ["bun", ["run"]],
]) {
  test(`${name}: import of warden-wasm/lite and /full by name from the installed project decodes, inspects and verifies`, () => {
    const script = join(consumer.dir, "runtime-check.mjs");
    copyFileSync(new URL("runtime-check.mjs", FIXTURES), script);
    const token = es256(`${name}-user`);
    const input = JSON.stringify({ jwks: JWKS, good: token, bad: tampered(token), options: OPTIONS });
    const stdout = execFileSync(runtimeBin(name), [...args, script, input], {
      cwd: consumer.dir,
      encoding: "utf8",
      env: { ...process.env, DENO_DIR: join(consumer.dir, ".deno"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split("\n").at(-1));
    assert.match(out.runtime, new RegExp(`^${name} \\d`));
    assert.equal(out.sub, `${name}-user`);
    assert.equal(out.expired, false);
    assert.deepEqual(out.good, { valid: true, claims: JSON.parse(Buffer.from(token.split(".")[1], "base64url")) });
    assert.equal(out.again.valid, true, JSON.stringify(out.again.error));
    assert.equal(out.bad.valid, false);
    assert.equal(out.bad.error.code, "token_bad_signature");
  });
}
