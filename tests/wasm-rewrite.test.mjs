// scripts/minify-wasm-imports.mjs on a small module and glue made here: the imports renamed in
// both so that the module still instantiates with the glue's import object, and a refusal
// (exit 1, both files untouched) whenever the glue does not spell each import once, as a key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/miniflare.mjs";

const SCRIPT = `${ROOT}/scripts/minify-wasm-imports.mjs`;

function leb(n) {
  const out = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return out;
}
const bytes = (s) => [...Buffer.from(s, "utf8")];
const vec = (items) => [...leb(items.length), ...items.flat()];
const name = (s) => [...leb(s.length), ...bytes(s)];
const section = (id, body) => [id, ...leb(body.length), ...body];

// A module importing the functions `names` (type `() -> i32`) from `module`, exporting `sum`,
// which calls them all and adds the results.
function moduleWith(module, names) {
  const type = section(1, vec([[0x60, 0, 1, 0x7f]]));
  const imports = section(2, vec(names.map((n) => [...name(module), ...name(n), 0, 0])));
  const funcs = section(3, vec([[0]]));
  const exports = section(7, vec([[...name("sum"), 0, names.length]]));
  const calls = names.flatMap((_, i) => (i === 0 ? [0x10, i] : [0x10, i, 0x6a]));
  const fn = [0, ...calls, 0x0b];
  const code = section(10, vec([[...leb(fn.length), ...fn]]));
  return Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...imports, ...funcs, ...exports, ...code]);
}

const NAMES = ["__wbg_one_0123456789abcdef", "__wbg_two_fedcba9876543210", "__wbindgen_three"];
const GLUE = `function imports(){return{__proto__:null,"./index_bg.js":{__proto__:null,${NAMES.map(
  (n, i) => `${n}:function(){return ${10 ** i}}`,
).join(",")}}}}`;

function run(wasm, glue) {
  const dir = mkdtempSync(join(tmpdir(), "warden-minify-"));
  try {
    writeFileSync(join(dir, "m.wasm"), wasm);
    writeFileSync(join(dir, "glue.js"), glue);
    const r = spawnSync(process.execPath, [SCRIPT, join(dir, "m.wasm"), join(dir, "glue.js")], { encoding: "utf8" });
    return {
      status: r.status,
      stderr: r.stderr,
      wasm: readFileSync(join(dir, "m.wasm")),
      glue: readFileSync(join(dir, "glue.js"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const importObject = (glue) => new Function(`${glue}; return imports();`)();

test("minify-wasm-imports: short names in the module and the glue, which still fit together", async () => {
  const wasm = moduleWith("./index_bg.js", NAMES);
  // As made: the module instantiates with the glue's imports and calls each one.
  const before = await WebAssembly.instantiate(wasm, importObject(GLUE));
  assert.equal(before.instance.exports.sum(), 111);

  const r = run(wasm, GLUE);
  assert.equal(r.status, 0, r.stderr);
  const module = new WebAssembly.Module(r.wasm);
  assert.deepEqual(
    WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`),
    ["w.$0", "w.$1", "w.$2"],
  );
  for (const n of NAMES) assert.ok(!r.glue.includes(n), `${n} is still in the glue`);
  assert.ok(r.wasm.length < wasm.length);
  const after = await WebAssembly.instantiate(module, importObject(r.glue));
  assert.equal(after.exports.sum(), 111, "each import still reaches its own function");
});

test("minify-wasm-imports: refuses, changing nothing, when the glue does not match", () => {
  const wasm = moduleWith("./index_bg.js", NAMES);
  const refusals = [
    // An import the glue also names elsewhere: renaming only the key would break that use.
    [wasm, `${GLUE}\nconst again = "${NAMES[1]}";`, /exactly once/],
    // An import the glue does not supply.
    [wasm, GLUE.replace(`${NAMES[2]}:`, "__wbindgen_other:"), /exactly once/],
    // Named, but not as a key of the import object.
    [wasm, GLUE.replace(`${NAMES[0]}:function`, `x:${NAMES[0]},y:function`), /exactly once/],
    // The import object's module key missing.
    [wasm, GLUE.replace('"./index_bg.js"', '"./other.js"'), /\.\/index_bg\.js/],
    // A module that imports from anywhere else.
    [moduleWith("env", NAMES), GLUE, /imports from "env"/],
    // Not a module at all, or a truncated one.
    [Buffer.from("not wasm"), GLUE, /not a wasm module/],
    [wasm.subarray(0, 20), GLUE, /truncated/],
  ];
  for (const [input, glue, why] of refusals) {
    const r = run(input, glue);
    assert.equal(r.status, 1, `accepted: ${glue}`);
    assert.match(r.stderr, why);
    assert.deepEqual(r.wasm, input, "the module was changed");
    assert.equal(r.glue, glue, "the glue was changed");
  }
});
