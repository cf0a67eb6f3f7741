// Removes, in place, the exports of the workers-rs types that Warden never uses: the container
// start-up options, the HTML minifier's and R2's range settings (plain data types, exported with
// their getters and setters) and wasm-streams' sources and sink (a Rust stream handed to a
// JavaScript ReadableStream). wasm-bindgen exports every `#[wasm_bindgen]` type of every crate
// linked in, used or not, and an export keeps its code alive; without them `wasm-opt` (run after
// this, scripts/build-worker.sh) drops that code: about 3 KB of the worker's gzip size.
//
// Sound only while the Rust side never hands one of these objects to JavaScript: that needs a
// wasm-bindgen import named after the type (`__wbg_<type>_new…`, which wraps a Rust pointer in the
// JavaScript class), so the script refuses to run when the module imports any such name. The
// JavaScript classes stay in the glue, never constructed.
//   node scripts/strip-wasm-exports.mjs build/index_bg.wasm
import { readFileSync, writeFileSync } from "node:fs";
import { encodeLeb, leb, name, sections, skipImport, WasmError } from "./wasm-binary.mjs";

const TYPES = ["containerstartupoptions", "minifyconfig", "r2range", "intounderlyingbytesource", "intounderlyingsink", "intounderlyingsource"];
// `__wbg_minifyconfig_free`, `__wbg_get_r2range_offset`, `intounderlyingsink_write`, ...
const UNUSED = new RegExp(`^(__wbg_((get|set)_)?)?(${TYPES.join("|")})_`);

const path = process.argv[2];
if (!path) {
  console.error("usage: node scripts/strip-wasm-exports.mjs FILE.wasm");
  process.exit(2);
}
const wasm = readFileSync(path);

const parts = [wasm.subarray(0, 8)];
const removed = [];
try {
  for (const { id, start, body, end } of sections(wasm)) {
    if (id === 2) {
      let [count, p] = leb(wasm, body);
      for (; count > 0; count--) {
        let field;
        [, p] = name(wasm, p);
        [field, p] = name(wasm, p);
        p = skipImport(wasm, p);
        const type = TYPES.find((t) => field.includes(`_${t}_`));
        if (type) {
          console.error(`${path}: the module imports ${field}: Rust hands a ${type} to JavaScript, so its exports are needed`);
          process.exit(1);
        }
      }
    }
    if (id !== 7) {
      parts.push(wasm.subarray(start, end));
      continue;
    }
    let [count, p] = leb(wasm, body);
    const kept = [];
    for (; count > 0; count--) {
      const entry = p;
      let field;
      [field, p] = name(wasm, p);
      p = leb(wasm, p + 1)[1];
      if (UNUSED.test(field)) removed.push(field);
      else kept.push(wasm.subarray(entry, p));
    }
    const section = Buffer.concat([encodeLeb(kept.length), ...kept]);
    parts.push(Buffer.from([7]), encodeLeb(section.length), section);
  }
} catch (e) {
  if (!(e instanceof WasmError)) throw e;
  console.error(`${path}: ${e.message}`);
  process.exit(1);
}
if (removed.length === 0) {
  console.error(`${path}: none of the exports of ${TYPES.join(", ")} found (has workers-rs changed?)`);
  process.exit(1);
}
const out = Buffer.concat(parts);
writeFileSync(path, out);
console.log(`==> ${path}: removed ${removed.length} exports of unused workers-rs types (${TYPES.join(", ")})`);
