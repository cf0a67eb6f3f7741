#!/usr/bin/env bash
# Builds the worker into build/ (build/index.js + build/index_bg.wasm) with the tools that
# `make setup` installed. Installs nothing; never downloads binaries.
#   scripts/build-worker.sh            release build
#   WARDEN_WORKER_FEATURES=bench ...   adds cargo features (e.g. the benchmark route)
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
extra=()
[ -n "${WARDEN_WORKER_FEATURES:-}" ] && extra+=(--features "$WARDEN_WORKER_FEATURES")
echo "==> worker-build --release (worker/ -> build/)"
worker-build --release --out-dir ../build worker "${extra[@]}"
echo "==> built build/index.js, build/index_bg.wasm ($(gzip -9c build/index_bg.wasm | wc -c) bytes gzip)"
