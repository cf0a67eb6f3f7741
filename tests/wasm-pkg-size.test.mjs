// Size budgets of the npm package's WebAssembly, gzip -9 (what a browser downloads, compressed):
// lite ≤ 25 KiB, full ≤ 58 KiB (1 KiB = 1024 bytes). The full build has no RSA or ECDSA code of its
// own: it verifies through the platform's WebCrypto (crates/warden-webcrypto), HMAC in wasm, and
// no Rust future either (WebCrypto's Promise is chained in JavaScript: 62 → 59.2 KiB).
// Both read tokens with the core's hand-written strict JSON reader (crates/warden-core/src/reader:
// exactly serde_json's verdicts, nothing built but the members it checks), and lite's functions ask
// the core for `parse_times` rather than a whole token. Lite links no serde or serde_json at all
// (the core's feature `json` is off): 30.1 → 23.0 KiB (30,837 → 23,595 B); before, about half of it
// was a streaming reader with serde_json under it. `parse_times` then checked the signature
// segment without decoding it (no base64-to-vector decoder left in lite): 20.1 KiB (20,592 B). Full keeps serde_json's values for KeySet's JWKS and
// carries both readers' callers (`parse` for verify, `parse_times` for inspect): 56.0 → 57.0 KiB.
// DPoP's client half (generateDpopKey, createDpopProof, jwkThumbprint; the WebCrypto calls and
// the JWS shaping in JavaScript, src/dpop.js) took full from 58.7 to 63.2 KiB (60,065 → 64,680 B),
// 1.9 KB of it the core's htu reading: full's budget 60 → 64 KiB. HS384/HS512 through WebCrypto as
// at the edge (no SHA-512 in the package) and tokens passed with `TextEncoder.encodeInto`: 63.2 →
// 59.9 KiB, the budget back to 60 KiB; lite 20.1 → 21.0 KiB (its parse at opt-level 2). Full's
// `parse_json_object` (KeySet's JWKS, DPoP) on the core's reader, serde_json's deserializer gone:
// 59.9 → 55.1 KiB (56,440 B), the budget 60 → 58 KiB. A large object's keys checked in serde_json's
// own map rather than a second B-tree type: 54.1 KiB (55,382 B, gzip -9).
// Every target of a build (web, bundler, node) ships the same module; each is measured. Fails
// when a budget is exceeded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, constants } from "node:zlib";
import { assertBuilt, PKG } from "../wasm-pkg/tests/js/install.mjs";

const KIB = 1024;
const BUDGETS = { lite: 25 * KIB, full: 58 * KIB };

const gzip = (bytes) => gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;

for (const [variant, budget] of Object.entries(BUDGETS)) {
  test(`${variant}: the .wasm is at most ${budget / KIB} KiB gzipped`, () => {
    assertBuilt();
    for (const target of ["web", "bundler", "node"]) {
      const dir = join(PKG, `${variant}-${target}`);
      const wasm = readFileSync(join(dir, "warden_wasm_bg.wasm"));
      const js = readFileSync(join(dir, "warden_wasm.js"));
      const size = gzip(wasm);
      console.log(
        `${variant}-${target}: wasm ${wasm.length} B, ${size} B gzipped (${(size / KIB).toFixed(1)} KiB of ${budget / KIB}); JS glue ${gzip(js)} B gzipped`,
      );
      assert.ok(size <= budget, `${variant}-${target}: ${size} B gzipped is over the ${budget} B budget`);
      // Sanity: a real module, not an empty file that would pass any budget.
      assert.ok(WebAssembly.validate(wasm), `${variant}-${target}: invalid wasm`);
      assert.ok(size > 10 * KIB, `${variant}-${target}: suspiciously small (${size} B)`);
    }
  });
}
