#!/usr/bin/env bash
# `make bench-edge`: builds the bare workers-rs pass-through (tests/bench/passthrough-rs, its own
# workspace, never part of `make test`) with the same tools and settings as the worker
# (scripts/build-worker.sh), into target/bench-passthrough-rs/build/, then runs
# scripts/bench-edge.mjs against it, the production build (build/, from `make build-worker`), a
# JavaScript pass-through and a jose worker.
#   scripts/bench-edge.sh [--no-build] [arguments of bench-edge.mjs: --requests N, --rounds R, --write]
# Installs nothing; never downloads binaries.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH" WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
build=1 args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done
[ -f build/index.js ] || { echo "bench-edge: build/index.js is missing; run 'make build-worker' first" >&2; exit 1; }
if [ "$build" = 1 ]; then
  # As in scripts/build-worker.sh: worker-build would otherwise download wasm-bindgen and wasm-opt.
  export WASM_BINDGEN_BIN WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
  WASM_BINDGEN_BIN=$(command -v wasm-bindgen) || { echo "bench-edge: wasm-bindgen not found; run 'make setup'" >&2; exit 1; }
  export CARGO_TARGET_DIR="$ROOT/target/bench-passthrough-rs"
  echo "==> worker-build --release (tests/bench/passthrough-rs -> target/bench-passthrough-rs/build/)"
  (cd tests/bench/passthrough-rs && worker-build --release --out-dir "$ROOT/target/bench-passthrough-rs/build")
fi
exec node scripts/bench-edge.mjs "${args[@]}"
