// Cross-check: for the shared vector corpus (tests/vectors: Wycheproof, JOSE cookbook) and the
// attack corpus, `verify` (and `decode`) in the BUILT npm package give exactly the verdict, code
// and description the core gives natively — the package through WebCrypto (HMAC in wasm), the
// core through its own verifier (jsonwebtoken, rust_crypto). The corpus and its native verdicts come from
// wasm-pkg/tests/corpus.rs, run here with cargo (WARDEN_CORPUS_OUT names the file it writes).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { install } from "../wasm-pkg/tests/js/install.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
let consumer;
let corpus;
let scratch;

before(() => {
  consumer = install();
  scratch = mkdtempSync(join(tmpdir(), "warden-corpus-"));
  const out = join(scratch, "corpus.json");
  try {
    execFileSync("cargo", ["test", "--quiet", "-p", "warden-wasm", "--test", "corpus"], {
      cwd: ROOT,
      env: { ...process.env, WARDEN_CORPUS_OUT: out },
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    });
  } catch (e) {
    throw new Error(`generating the corpus with cargo failed (is cargo installed?):\n${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
  corpus = JSON.parse(readFileSync(out, "utf8"));
});
after(() => {
  consumer?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The package's answer for one case, in the corpus's shape. */
async function answer(pkg, c) {
  let decodes;
  try {
    pkg.decode(c.token);
    decodes = true;
  } catch (e) {
    assert.equal(e.code, "token_malformed", `${c.name}: decode threw ${e.code}`);
    decodes = false;
  }
  try {
    const pending = pkg.verify(c.token, c.jwks, c.options);
    assert.ok(pending instanceof Promise, `${c.name}: verify returns a Promise`);
    const r = await pending;
    return r.valid
      ? { valid: true, code: null, description: null, decodes }
      : { valid: false, code: r.error.code, description: r.error.description, decodes };
  } catch (e) {
    assert.ok(e instanceof Error, `${c.name}: rejected with a non-Error`);
    return { throws: e.code, decodes };
  }
}

async function crossCheck(pkg, label) {
  const mismatches = [];
  const tally = {};
  for (const c of corpus.cases) {
    const got = await answer(pkg, c);
    const key = c.expected.throws ? `throws ${c.expected.throws}` : (c.expected.code ?? "valid");
    tally[key] = (tally[key] ?? 0) + 1;
    try {
      assert.deepEqual(got, c.expected);
    } catch {
      mismatches.push(`${c.source} / ${c.name}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(got)}`);
    }
  }
  console.log(`${label}: ${corpus.cases.length} cases, ${mismatches.length} mismatches; ${JSON.stringify(tally)}`);
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${corpus.cases.length} cases differ`);
  return tally;
}

test("the corpus is substantial and spans every verdict", () => {
  assert.ok(corpus.cases.length > 500, `${corpus.cases.length} cases`);
  const sources = new Set(corpus.cases.map((c) => c.source));
  for (const s of ["json_web_signature_test.json", "json_web_key_test.json", "attacks", "curve25519-jws.json"]) {
    assert.ok(sources.has(s), s);
  }
  assert.ok(corpus.cases.some((c) => c.expected.valid === true));
});

test("verify in warden-wasm/full (Node build) equals the core natively, case by case", async () => {
  const tally = await crossCheck(consumer.require("warden-wasm/full"), "full-node");
  // Every code verify can answer with is in the package's DenialCode type.
  const dts = readFileSync(join(consumer.installed, "full-node/warden_wasm.d.ts"), "utf8");
  const union = dts.match(/export type DenialCode =([^;]*);/)[1];
  for (const code of Object.keys(tally).filter((k) => k.startsWith("token_"))) {
    assert.match(union, new RegExp(`"${code}"`), `${code} in DenialCode`);
  }
});

test("verify in warden-wasm/full/web (the browser build) equals the core natively too", async () => {
  const web = await consumer.importEsm("warden-wasm/full/web");
  await web.default({ module_or_path: readFileSync(join(consumer.installed, "full-web/warden_wasm_bg.wasm")) });
  await crossCheck(web, "full-web");
});
