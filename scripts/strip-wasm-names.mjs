// Removes the `name` and `producers` custom sections from a wasm module, in place. worker-build
// always keeps the name section (function names for stack traces: about 200 KB before
// compression, half of the worker's size budget); the code and every other section are copied
// byte for byte.
//   node scripts/strip-wasm-names.mjs build/index_bg.wasm
import { readFileSync, writeFileSync } from "node:fs";

const DROP = new Set(["name", "producers"]);
const path = process.argv[2];
if (!path) {
  console.error("usage: node scripts/strip-wasm-names.mjs FILE.wasm");
  process.exit(2);
}
const wasm = readFileSync(path);
if (wasm.readUInt32LE(0) !== 0x6d736100) {
  console.error(`${path}: not a wasm module`);
  process.exit(1);
}

function leb(buf, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

const kept = [wasm.subarray(0, 8)];
const dropped = [];
let at = 8;
while (at < wasm.length) {
  const start = at;
  const id = wasm[at++];
  const [size, body] = leb(wasm, at);
  const end = body + size;
  if (end > wasm.length) {
    console.error(`${path}: truncated section at byte ${start}`);
    process.exit(1);
  }
  if (id === 0) {
    const [nameLen, nameAt] = leb(wasm, body);
    const name = wasm.subarray(nameAt, nameAt + nameLen).toString("utf8");
    if (DROP.has(name)) {
      dropped.push(`${name} (${end - start} bytes)`);
      at = end;
      continue;
    }
  }
  kept.push(wasm.subarray(start, end));
  at = end;
}
const out = Buffer.concat(kept);
writeFileSync(path, out);
console.log(`==> ${path}: ${wasm.length} -> ${out.length} bytes${dropped.length ? `, dropped ${dropped.join(", ")}` : ""}`);
