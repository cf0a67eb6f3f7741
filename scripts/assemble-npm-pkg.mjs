#!/usr/bin/env node
// Assembles wasm-pkg/pkg/ (after the six wasm-pack builds of scripts/build-wasm-pkg.sh) into one
// npm package, `warden-wasm`, with subpath exports:
//
//   warden-wasm/lite         Node: lite-node (CommonJS)   bundlers and the rest: lite-bundler
//   warden-wasm/full         Node: full-node (CommonJS)   bundlers and the rest: full-bundler
//   warden-wasm/lite/web     lite-web: an ES module for browsers without a bundler (`await init()`)
//   warden-wasm/full/web     full-web
//   warden-wasm/{lite,full}/{node,bundler}   one target explicitly
//
// Each folder gets a small package.json of its own that only states its module type (and, for
// the bundler builds, which files run code on import), so that Node and bundlers read the
// CommonJS and ES module builds correctly under one package.
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const pkg = `${root}wasm-pkg/pkg/`;
const VARIANTS = ["lite", "full"];
const TARGETS = { web: "module", bundler: "module", node: "commonjs" };

const fail = (message) => {
  console.error(`assemble-npm-pkg: ${message}`);
  process.exit(1);
};

// The npm package's version is the crate's own (wasm-pkg/Cargo.toml); licence and repository
// are the workspace's.
const section = (file, name) => readFileSync(file, "utf8").split(`[${name}]`)[1]?.split(/^\[/m)[0] ?? "";
const read = (text, name) => text.match(new RegExp(`^${name}\\s*=\\s*"([^"]+)"`, "m"))?.[1];
const workspacePackage = section(`${root}Cargo.toml`, "workspace.package");
const field = (name) => read(workspacePackage, name);
const version = read(section(`${root}wasm-pkg/Cargo.toml`, "package"), "version");
if (!version) fail('no `version = "..."` in [package] of wasm-pkg/Cargo.toml');

// wasm-bindgen copies the crate's inline JavaScript (src/js.rs) into `snippets/` as ES modules,
// but its nodejs output `require()`s them, which Node 20 cannot do with ES modules: in the
// CommonJS builds, turn each `export function f` into `function f` plus `exports.f = f`. The
// snippets are plain function declarations; anything else is refused rather than guessed at.
function commonjsSnippets(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
    const file = `${entry.parentPath ?? entry.path}/${entry.name}`;
    const text = readFileSync(file, "utf8");
    if (text.startsWith('"use strict";')) continue; // converted already
    const names = [...text.matchAll(/^export function (\w+)\(/gm)].map((m) => m[1]);
    const cjs = text.replace(/^export function /gm, "function ");
    if (/^\s*(export|import)\b/m.test(cjs)) fail(`${file}: only \`export function\` is supported`);
    writeFileSync(file, `"use strict";\n${cjs}\n${names.map((n) => `exports.${n} = ${n};`).join("\n")}\n`);
  }
}

const files = ["README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE"];
const exports = {};
const typesVersions = {};
const entry = (dir) => ({ types: `./${dir}/warden_wasm.d.ts`, default: `./${dir}/warden_wasm.js` });

for (const variant of VARIANTS) {
  for (const [target, type] of Object.entries(TARGETS)) {
    const dir = `${variant}-${target}`;
    for (const f of ["warden_wasm.js", "warden_wasm.d.ts", "warden_wasm_bg.wasm"]) {
      if (!existsSync(`${pkg}${dir}/${f}`)) fail(`${dir}/${f} is missing: run scripts/build-wasm-pkg.sh`);
    }
    if (type === "commonjs") commonjsSnippets(`${pkg}${dir}/snippets`);
    const own = { type };
    // The bundler build's entry instantiates the module on import (and the snippets it imports
    // must be kept): those files have side effects, every other file of the package has none.
    if (target === "bundler") own.sideEffects = ["./warden_wasm.js", "./snippets/*"];
    writeFileSync(`${pkg}${dir}/package.json`, `${JSON.stringify(own, null, 2)}\n`);
    files.push(`${dir}/`);
    exports[`./${variant}/${target}`] = entry(dir);
    typesVersions[`${variant}/${target}`] = [`./${dir}/warden_wasm.d.ts`];
  }
  exports[`./${variant}`] = { node: entry(`${variant}-node`), default: entry(`${variant}-bundler`) };
  exports[`./${variant}/web/warden_wasm_bg.wasm`] = `./${variant}-web/warden_wasm_bg.wasm`;
  typesVersions[variant] = [`./${variant}-bundler/warden_wasm.d.ts`];
}
exports["./package.json"] = "./package.json";

const manifest = {
  name: "warden-wasm",
  version,
  description:
    "Warden's token core for browsers and Node: decode, inspect (expiry and refresh time on the server's clock) and verify JWTs exactly as the Warden edge does.",
  license: field("license") ?? "MIT OR Apache-2.0",
  repository: { type: "git", url: `git+${field("repository") ?? ""}.git` },
  keywords: ["jwt", "jws", "token", "expiry", "clock-skew", "wasm", "warden"],
  engines: { node: ">=18" },
  sideEffects: false,
  exports,
  typesVersions: { "*": typesVersions },
  files,
};
writeFileSync(`${pkg}package.json`, `${JSON.stringify(manifest, null, 2)}\n`);
copyFileSync(`${root}wasm-pkg/README.md`, `${pkg}README.md`);
copyFileSync(`${root}wasm-pkg/CHANGELOG.md`, `${pkg}CHANGELOG.md`);
copyFileSync(`${root}LICENSE-MIT`, `${pkg}LICENSE-MIT`);
copyFileSync(`${root}LICENSE-APACHE`, `${pkg}LICENSE-APACHE`);
console.log(`    wasm-pkg/pkg/package.json: warden-wasm ${version}, ${Object.keys(exports).length} exports`);
