#!/usr/bin/env node
// Gives every import of the worker's wasm a short name, in the wasm and in the JavaScript glue
// that supplies it, as Emscripten does for its own imports:
//   node scripts/minify-wasm-imports.mjs build/index_bg.wasm build/warden.js
// wasm-bindgen names each import after the JavaScript it calls plus a 16-digit hash
// (`__wbg_headers_5fc0106c076eb731`), and hashes barely compress: the names were about 3.4 KB of
// the wasm's gzip size. The import module `./index_bg.js` becomes `w`, the import `k` of it
// becomes `$` followed by k in base 36.
//
// The glue (worker-build's bundle of wasm-bindgen's output) builds the import object once, as
// `{"./index_bg.js": {name: function..., ...}}`: the script renames a name only where the glue
// spells it once, as a key of that object, and refuses (exit 1, nothing written) when the module
// or any import name is missing, repeated or used anywhere else — a glue that reads its imports
// any other way would no longer match the renamed wasm.
import { readFileSync, writeFileSync } from "node:fs";

const MODULE = "./index_bg.js";
const SHORT_MODULE = "w";

function fail(why) {
  console.error(`minify-wasm-imports: ${why}`);
  process.exit(1);
}

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) fail("usage: minify-wasm-imports.mjs MODULE.wasm GLUE.js");
const wasm = readFileSync(wasmPath);
let glue = readFileSync(jsPath, "utf8");

let pos = 0;
function byte() {
  if (pos >= wasm.length) fail(`${wasmPath} is truncated`);
  return wasm[pos++];
}
function uleb() {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = byte();
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return result;
    if (shift > 63) fail(`${wasmPath}: bad LEB128 at ${pos}`);
  }
}
function skipLeb() {
  while (byte() & 0x80);
}
function uleb128(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
function name() {
  const len = uleb();
  const start = pos;
  pos += len;
  if (pos > wasm.length) fail(`${wasmPath} is truncated`);
  return wasm.subarray(start, pos).toString("utf8");
}
function encodedName(s) {
  const bytes = Buffer.from(s, "utf8");
  return Buffer.concat([uleb128(bytes.length), bytes]);
}
// A value or reference type: one byte, or 0x63/0x64 and a heap type (signed LEB128).
function valueType() {
  const b = byte();
  if (b === 0x63 || b === 0x64) skipLeb();
}
function limits() {
  const flags = byte();
  skipLeb();
  if (flags & 1) skipLeb();
}
// Past one import's description (function, table, memory, global or tag).
function skipDescription() {
  const kind = byte();
  switch (kind) {
    case 0: skipLeb(); break;
    case 1: valueType(); limits(); break;
    case 2: limits(); break;
    case 3: valueType(); byte(); break;
    case 4: byte(); skipLeb(); break;
    default: fail(`${wasmPath}: import of unknown kind ${kind}`);
  }
}

if (wasm.readUInt32BE(0) !== 0x0061736d || wasm.readUInt32LE(4) !== 1) fail(`${wasmPath} is not a wasm module`);
pos = 8;
const parts = [wasm.subarray(0, 8)];
let renamed = null;
while (pos < wasm.length) {
  const sectionStart = pos;
  const id = byte();
  const size = uleb();
  const bodyStart = pos;
  const end = bodyStart + size;
  if (end > wasm.length) fail(`${wasmPath} is truncated`);
  if (id !== 2) {
    parts.push(wasm.subarray(sectionStart, end));
    pos = end;
    continue;
  }
  if (renamed) fail(`${wasmPath} has two import sections`);
  renamed = [];
  const count = uleb();
  const body = [uleb128(count)];
  for (let k = 0; k < count; k++) {
    const module = name();
    const field = name();
    const descStart = pos;
    skipDescription();
    if (module !== MODULE) fail(`${wasmPath} imports from ${JSON.stringify(module)}, not only from ${MODULE}`);
    const short = `$${k.toString(36)}`;
    renamed.push([field, short]);
    body.push(encodedName(SHORT_MODULE), encodedName(short), wasm.subarray(descStart, pos));
  }
  if (pos !== end) fail(`${wasmPath}: the import section does not end where it says`);
  const section = Buffer.concat(body);
  parts.push(Buffer.from([2]), uleb128(section.length), section);
}
if (!renamed) fail(`${wasmPath} has no imports`);

// Every place in the glue where `word` stands as a whole identifier or string.
function occurrences(word) {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [...glue.matchAll(new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`, "g"))];
}
const moduleKey = `"${MODULE}":{`;
if (occurrences(MODULE).length !== 1 || !glue.includes(moduleKey)) {
  fail(`${jsPath} does not name ${MODULE} exactly once, as the import object's key`);
}
glue = glue.replace(moduleKey, `${SHORT_MODULE}:{`);
const originals = new Set(renamed.map(([field]) => field));
for (const [field, short] of renamed) {
  // A key of the import object only: a variable of the glue that is spelt alike is no matter.
  if (originals.has(short)) fail(`${wasmPath} already imports a ${short}`);
  const found = occurrences(field);
  if (found.length !== 1 || glue[found[0].index + field.length] !== ":") {
    fail(`${jsPath} does not name the import ${field} exactly once, as a key`);
  }
  const at = found[0].index;
  glue = glue.slice(0, at) + short + glue.slice(at + field.length);
}

writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(jsPath, glue);
console.log(`minify-wasm-imports: ${renamed.length} imports renamed in ${wasmPath} and ${jsPath}`);
