// The worker's size budgets, gzip -9 (zlib level 9, each file on its own): build/index_bg.wasm
// (the production build, `make build`) at most 250 KB, and the whole bundle — with the
// JavaScript beside it, build/index.js (the entry module) and build/warden.js (the workers-rs
// glue) — at most 260 KB. Without a pure-Rust RSA/ECDSA stack (WebCrypto does RSA, ECDSA and
// Ed25519) and without the `url` crate's parser (the core reads the request URL), the wasm was
// about 266 KB; the two event receivers (back-channel logout, Shared Signals push) brought it
// to about 280 KB, DPoP about 285 KB, its global replay ledger (a Durable Object shard per proof
// id) about 286 KB. JSON objects built through one function instead of `json!` at each site,
// and one B-tree type for every string-keyed map (`store::IdMap` over the JSON object's map),
// brought it back to about 270.5 KB. The published revocation filter (the log object that records,
// seeds from KV, builds the binary fuse filter and its delta and publishes them; the isolate's
// reader; the batch endpoint) took it to about 307.5 KB; the Durable Object protocol and the
// stored session and PAT records written and read by hand (`obj!`, `fields::Members`) instead of
// with derived serde code, to about 293.6 KB; the subject object's cutoff stored and read as a
// plain number, KV called through its binding (`store::Kv`) and every JSON object the worker
// reads passed to the core's `parse_json_object` — no serde-to-JavaScript serializer left in the
// wasm — to about 277.2 KB; `parse_json_object` itself on the core's reader (reader/tree.rs:
// serde_json's deserializer left the wasm), to about 272.4 KB; the path routes kept in order as
// they are read rather than sorted after (no stable sort routine), to about 270.2 KB; the
// exports of workers-rs types Warden never uses removed before wasm-opt (which then drops their
// code: scripts/strip-wasm-exports.mjs), fetched bodies read with one arrayBuffer() rather than
// through workers-rs's stream adapter, and a large JSON object's keys checked in serde_json's own
// map rather than a second B-tree type, to about 263.8 KB; one sort routine for the revocation
// filter's keys and entries, and talc as the allocator in place of dlmalloc, to about 258.4 KB;
// short import names (scripts/minify-wasm-imports.mjs), wasm-opt's --low-memory-unused and
// --converge, PAT randomness from crypto.getRandomValues without the getrandom crate, sha2's
// compact SHA-256, JSON text written without serde's serializer, one SQL call and one string
// join, no substring searcher in our code, to about 249.6 KB: the 250 KB that was the aim.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import { ROOT } from "./helpers/miniflare.mjs";

const WASM_BUDGET = 250 * 1000; // bytes, gzip -9
const BUDGET = 260 * 1000;
const FILES = ["index_bg.wasm", "index.js", "warden.js"];

test(`worker bundle: the wasm is at most ${WASM_BUDGET / 1000} KB gzip, the bundle ${BUDGET / 1000} KB`, (t) => {
  let total = 0;
  for (const name of FILES) {
    const path = `${ROOT}/build/${name}`;
    assert.ok(existsSync(path), `${path} is missing: run 'make build' first`);
    const bytes = readFileSync(path);
    const gzip = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;
    assert.ok(gzip > 100, `${name} is empty`);
    t.diagnostic(`${name}: ${bytes.length} bytes, ${gzip} bytes gzip -9`);
    if (name.endsWith(".wasm")) {
      assert.ok(gzip <= WASM_BUDGET, `${name} is ${gzip} bytes gzip, over the ${WASM_BUDGET}-byte budget`);
    }
    total += gzip;
  }
  t.diagnostic(`bundle: ${total} bytes gzip -9 (budget ${BUDGET})`);
  assert.ok(total <= BUDGET, `the bundle is ${total} bytes gzip, over the ${BUDGET}-byte budget`);
  // The production build never carries the test-only routes.
  assert.ok(!readFileSync(`${ROOT}/build/index_bg.wasm`).includes("/__warden/"), "a test-only route is compiled into the production build");
});
