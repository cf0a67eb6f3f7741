#!/usr/bin/env bash
# Builds the npm package (crate wasm-pkg) with wasm-pack, release profile, twice:
#   wasm-pkg/pkg/node  --target nodejs  (CommonJS, loads the .wasm synchronously)
#   wasm-pkg/pkg/web   --target web     (ES module; call the default export `init()` first)
# Needs wasm-pack and `npm ci` (for binaryen's wasm-opt): run scripts/setup.sh first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '==> %s\n' "$*"; }
die() { printf 'build-wasm-pkg: %s\n' "$*" >&2; exit 1; }

# wasm-pack runs the wasm-opt it finds on PATH and otherwise tries to download one, which fails
# offline: use binaryen from the repository's pinned npm packages (never Debian's, see TOOLCHAIN).
export PATH="$ROOT/node_modules/.bin:$PATH"
command -v wasm-pack >/dev/null || die "wasm-pack not found: run scripts/setup.sh"
[ -x "$ROOT/node_modules/.bin/wasm-opt" ] \
  || die "node_modules/.bin/wasm-opt not found: run scripts/setup.sh (npm ci installs binaryen)"

build() { # target out-dir
  local target=$1 out=$2
  step "wasm-pack build --release --target $target -> wasm-pkg/pkg/$out"
  rm -rf "wasm-pkg/pkg/$out"
  wasm-pack build wasm-pkg --release --target "$target" --out-dir "pkg/$out" \
    || die "wasm-pack build --target $target failed"
  local wasm="wasm-pkg/pkg/$out/warden_wasm_bg.wasm"
  [ -s "$wasm" ] || die "$wasm was not produced"
  [ -s "wasm-pkg/pkg/$out/warden_wasm.d.ts" ] || die "wasm-pkg/pkg/$out/warden_wasm.d.ts was not produced"
  step "$wasm: $(wc -c <"$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped"
}

build nodejs node
build web web
step "done: wasm-pkg/pkg/node and wasm-pkg/pkg/web"
