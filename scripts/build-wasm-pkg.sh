#!/usr/bin/env bash
# Builds the npm package `warden-wasm` (crate wasm-pkg) into wasm-pkg/pkg/: two builds, three
# targets each, one package.json with subpath exports (scripts/assemble-npm-pkg.mjs).
#
#   lite (cargo --no-default-features): decode, inspect, estimateClockOffset — no crypto
#   full (cargo default feature `full`): adds verify and KeySet (async: WebCrypto, HMAC in wasm)
#
#   wasm-pkg/pkg/{lite,full}-web      --target web      ES module; call `await init()` first
#   wasm-pkg/pkg/{lite,full}-bundler  --target bundler  ES module importing the .wasm (bundlers)
#   wasm-pkg/pkg/{lite,full}-node     --target nodejs   CommonJS, loads the .wasm synchronously
#
# Profiles `wasm-pkg` (full) and `wasm-pkg-lite` (root Cargo.toml: release with opt-level "z", a
# few crates raised), then binaryen's wasm-opt -Oz.
# Needs wasm-pack and `npm ci` (for binaryen's wasm-opt): run scripts/setup.sh first.
# Prints each build's size; tests/wasm-pkg-size.test.mjs holds the budgets.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '==> %s\n' "$*"; }
die() { printf 'build-wasm-pkg: %s\n' "$*" >&2; exit 1; }

# wasm-pack runs the wasm-opt it finds on PATH and otherwise tries to download one, which fails
# offline: use binaryen from the repository's pinned npm packages (never Debian's, see TOOLCHAIN).
export PATH="$ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v wasm-pack >/dev/null || die "wasm-pack not found: run scripts/setup.sh"
command -v node >/dev/null || die "node not found"
[ -x "$ROOT/node_modules/.bin/wasm-opt" ] \
  || die "node_modules/.bin/wasm-opt not found: run scripts/setup.sh (npm ci installs binaryen)"

# Keep build-machine paths out of the shipped .wasm (panic locations name source files).
# Only the wasm32 units see RUSTFLAGS (cargo is given --target), and the profile has its own
# target directory, so this neither touches nor rebuilds anything else.
sep=$'\x1f'
export CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$ROOT=warden${sep}--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=cargo"

OUT=wasm-pkg/pkg
rm -rf "$OUT"
mkdir -p "$OUT"

build() { # variant (lite|full) target (web|bundler|nodejs)
  local variant=$1 target=$2 dir features=() profile=wasm-pkg
  dir="$variant-${target/nodejs/node}"
  [ "$variant" = lite ] && features=(--no-default-features) && profile=wasm-pkg-lite
  step "wasm-pack build --profile $profile --target $target ($variant) -> $OUT/$dir"
  wasm-pack --quiet build wasm-pkg --profile "$profile" --target "$target" --out-dir "pkg/$dir" \
    --no-pack --no-gitignore -- "${features[@]}" \
    || die "wasm-pack build --target $target ($variant) failed"
  local wasm="$OUT/$dir/warden_wasm_bg.wasm"
  [ -s "$wasm" ] || die "$wasm was not produced"
  [ -s "$OUT/$dir/warden_wasm.d.ts" ] || die "$OUT/$dir/warden_wasm.d.ts was not produced"
  printf '    %s: %s bytes, %s gzipped\n' "$wasm" "$(wc -c <"$wasm")" "$(gzip -9c "$wasm" | wc -c)"
}

for variant in lite full; do
  for target in web bundler nodejs; do
    build "$variant" "$target"
  done
done

step "assemble $OUT/package.json (exports for lite and full), README, licences"
node scripts/assemble-npm-pkg.mjs || die "assembling the package failed"
step "done: $OUT"
