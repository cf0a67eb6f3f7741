#!/usr/bin/env bash
# Builds the worker into build/ with the tools that `make setup` installed: build/index.js (the
# entry module, worker/js/entry.mjs), build/warden.js (the workers-rs module it imports) and
# build/index_bg.wasm. Installs nothing; never downloads binaries.
#   scripts/build-worker.sh                       release build into build/
#   scripts/build-worker.sh OUT_DIR FEATURES      e.g. `build-bench bench` (scripts/bench-worker.sh);
#                                                 set CARGO_TARGET_DIR to keep its artefacts apart
#   WARDEN_KEEP_NAMES=1 scripts/build-worker.sh ...  keep the function names (for a profiler:
#                                                 scripts/profile-worker.mjs); never shipped
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
for tool in worker-build wasm-bindgen; do
  command -v "$tool" >/dev/null || { echo "build-worker: $tool not found; run 'make setup'" >&2; exit 1; }
done
[ -x node_modules/.bin/wasm-opt ] || { echo "build-worker: node_modules/.bin/wasm-opt missing; run 'make setup'" >&2; exit 1; }
# worker-build would otherwise download wasm-bindgen and wasm-opt.
export WASM_BINDGEN_BIN
WASM_BINDGEN_BIN=$(command -v wasm-bindgen)
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
# Keep build-machine paths out of the shipped .wasm (panic locations name source files), as
# scripts/build-wasm-pkg.sh does. Only the wasm32 release units see these flags (cargo is given
# --target; clippy and the wasm tests use other profiles), so nothing else is rebuilt.
sep=$'\x1f'
cargo_home=${CARGO_HOME:-$HOME/.cargo}
flags="--remap-path-prefix=$ROOT=warden${sep}--remap-path-prefix=$cargo_home=cargo"
# Registry crates by name and version only (the last matching prefix applies): panic locations
# name their files, and the registry's directory name is long.
for registry in "$cargo_home"/registry/src/*/; do
  [ -d "$registry" ] && flags+="${sep}--remap-path-prefix=${registry%/}=crates"
done
export CARGO_ENCODED_RUSTFLAGS="$flags"
out=${1:-build}
extra=()
[ -n "${2:-}" ] && extra+=(--features "$2")
echo "==> worker-build --release ${extra[*]} (worker/ -> $out/)"
worker-build --release --out-dir "../$out" worker "${extra[@]}"
# worker-build's own wasm-opt step is off (worker/Cargo.toml): first the exports of unused
# workers-rs types go, then wasm-opt drops their code as it optimises (worker-build's `-O`, and its
# feature list, which workerd supports).
node scripts/strip-wasm-exports.mjs "$out/index_bg.wasm"
# `--low-memory-unused` lets wasm-opt fold a constant added to an address into the load's or
# store's offset (about 1.5 KB of gzip). The two differ only when the addition wraps past 4 GiB,
# into the lowest kilobyte; Rust never forms such an address (an object's fields lie within it,
# and an isolate's memory is far below 4 GiB). `--converge` repeats the passes while they still
# shrink the module (about 0.3 KB of gzip, 8 s more per build).
opt=(-O --low-memory-unused --converge --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling)
# The function-name section (half the size budget) is kept only on request; without
# `--debuginfo` wasm-opt drops it, and the producers section is dropped too.
if [ "${WARDEN_KEEP_NAMES:-}" = 1 ]; then opt+=(--debuginfo); else opt+=(--strip-producers); fi
echo "==> wasm-opt ${opt[*]}"
"$WASM_OPT_BIN" "${opt[@]}" "$out/index_bg.wasm" -o "$out/index_bg.wasm"
# The JavaScript entry module in front of the workers-rs one (worker/src/edge.rs says why).
mv "$out/index.js" "$out/warden.js"
# Short import names in the wasm and in the glue that supplies them (the script says why).
node scripts/minify-wasm-imports.mjs "$out/index_bg.wasm" "$out/warden.js"
# Shipped without its whole-line comments (the source keeps them).
sed -E '/^[[:space:]]*\/\//d; /^[[:space:]]*\/\*\*.*\*\/[[:space:]]*$/d' worker/js/entry.mjs >"$out/index.js"
echo "==> built $out/index.js, $out/index_bg.wasm ($(gzip -9c "$out/index_bg.wasm" | wc -c) bytes gzip)"
