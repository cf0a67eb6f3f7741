#!/usr/bin/env bash
# `make bench` for the worker: builds it with the `bench` cargo feature (the test-only routes
# under /__warden/, never in a production build) into build-bench/, with its own cargo target
# directory (target/bench), so build/ and the release artefacts in target/ are never touched;
# then runs scripts/bench-worker.mjs (Warden next to a jose worker, in workerd via Miniflare).
#   scripts/bench-worker.sh                   build, then benchmark
#   scripts/bench-worker.sh --build-only      build build-bench/ only (the vector tests use it)
#   scripts/bench-worker.sh --no-build ...    benchmark the existing build-bench/
# Other arguments go to bench-worker.mjs (e.g. --iterations 20000, --algs HS256,ES256).
# Installs nothing; never downloads binaries.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
build=1 run=1 args=()
for a in "$@"; do
  case "$a" in
    --build-only) run=0 ;;
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done
if [ "$build" = 1 ]; then
  CARGO_TARGET_DIR="$ROOT/target/bench" bash scripts/build-worker.sh build-bench bench
fi
if [ "$run" = 1 ]; then
  node scripts/bench-worker.mjs "${args[@]}"
fi
