// The worker's bundle budget: build/index_bg.wasm (the production build, `make build`) must stay
// within 400 KB gzip (zlib level 9). Without jsonwebtoken, with WebCrypto doing RSA/ECDSA/Ed25519,
// it is far below; linking a pure-Rust RSA/ECDSA stack again would blow it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import { ROOT } from "./helpers/miniflare.mjs";

const BUDGET = 400 * 1000; // bytes, gzip -9

test("worker bundle: build/index_bg.wasm is at most 400 KB gzip", (t) => {
  const path = `${ROOT}/build/index_bg.wasm`;
  assert.ok(existsSync(path), `${path} is missing: run 'make build' first`);
  const wasm = readFileSync(path);
  const gzip = gzipSync(wasm, { level: constants.Z_BEST_COMPRESSION }).length;
  t.diagnostic(`index_bg.wasm: ${wasm.length} bytes, ${gzip} bytes gzip -9 (budget ${BUDGET})`);
  assert.ok(gzip <= BUDGET, `index_bg.wasm is ${gzip} bytes gzip, over the ${BUDGET}-byte budget`);
  // The production build never carries the test-only routes.
  assert.ok(!wasm.includes("/__warden/"), "a test-only route is compiled into the production build");
});
