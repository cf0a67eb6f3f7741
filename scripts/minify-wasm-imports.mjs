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
import { encodeLeb, encodeName, leb, name, sections, skipImport, WasmError } from "./wasm-binary.mjs";

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

// The module with its import section rewritten, and each import's old and new name.
function renameImports() {
  const parts = [wasm.subarray(0, 8)];
  let renamed = null;
  for (const { id, start, body, end } of sections(wasm)) {
    if (id !== 2) {
      parts.push(wasm.subarray(start, end));
      continue;
    }
    if (renamed) fail(`${wasmPath} has two import sections`);
    renamed = [];
    let [count, at] = leb(wasm, body);
    const entries = [encodeLeb(count)];
    for (let k = 0; k < count; k++) {
      let module, field;
      [module, at] = name(wasm, at);
      [field, at] = name(wasm, at);
      const description = at;
      at = skipImport(wasm, at);
      if (module !== MODULE) fail(`${wasmPath} imports from ${JSON.stringify(module)}, not only from ${MODULE}`);
      const short = `$${k.toString(36)}`;
      renamed.push([field, short]);
      entries.push(encodeName(SHORT_MODULE), encodeName(short), wasm.subarray(description, at));
    }
    if (at !== end) fail(`${wasmPath}: the import section does not end where it says`);
    const section = Buffer.concat(entries);
    parts.push(Buffer.from([2]), encodeLeb(section.length), section);
  }
  if (!renamed) fail(`${wasmPath} has no imports`);
  return [Buffer.concat(parts), renamed];
}

let minified, renamed;
try {
  [minified, renamed] = renameImports();
} catch (e) {
  if (e instanceof WasmError) fail(`${wasmPath}: ${e.message}`);
  throw e;
}

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

writeFileSync(wasmPath, minified);
writeFileSync(jsPath, glue);
console.log(`minify-wasm-imports: ${renamed.length} imports renamed in ${wasmPath} and ${jsPath}`);
