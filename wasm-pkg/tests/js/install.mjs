// Installs the built package (wasm-pkg/pkg) the way a user gets it: `npm pack`, then
// `npm install <tarball>` into a fresh project in a temporary directory. Shared by the Node tests
// in tests/wasm-pkg*.test.mjs and tests/npm-*.test.mjs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const PKG = fileURLToPath(new URL("../../pkg/", import.meta.url));

/** Fails loudly when the package has not been built. */
export function assertBuilt() {
  if (!existsSync(join(PKG, "package.json")) || !existsSync(join(PKG, "lite-node"))) {
    throw new Error("wasm-pkg/pkg is missing or stale: run `bash scripts/build-wasm-pkg.sh` first");
  }
}

/**
 * Packs and installs the package into a new temporary project. Returns `{ dir, require, importEsm,
 * files, cleanup }`: `require` resolves from the project (conditions `node`, `require`), and
 * `importEsm(specifier)` imports through an ES module inside the project (conditions `node`,
 * `import`); `files` is what `npm pack` put in the tarball.
 */
export function install() {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), "warden-wasm-consumer-"));
  const npm = (...args) =>
    execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
  const packed = JSON.parse(npm("pack", PKG, "--json", "--pack-destination", dir));
  const tarball = join(dir, packed[0].filename);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true }));
  npm("install", "--offline", "--ignore-scripts", tarball);
  const require = createRequire(join(dir, "index.cjs"));
  let n = 0;
  const importEsm = async (specifier) => {
    const file = join(dir, `entry-${n++}.mjs`);
    writeFileSync(file, `import * as ns from ${JSON.stringify(specifier)};\nexport default ns;\n`);
    return (await import(pathToFileURL(file).href)).default;
  };
  return {
    dir,
    require,
    importEsm,
    files: packed[0].files.map((f) => f.path),
    installed: join(dir, "node_modules", "warden-wasm"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Lists a directory's files recursively (relative paths). */
export function listFiles(dir, prefix = "") {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}
