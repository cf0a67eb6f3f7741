#!/usr/bin/env bash
# `make load`: scripts/load.mjs against the built worker (build/, from `make build-worker`; another
# build with --build-dir DIR), everything on 127.0.0.1. Arguments pass through (e.g. --requests 2000
# --concurrency 8 --store 5000, --write).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH" WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
build=build
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[i]}" = --build-dir ]; then build=${args[i + 1]:-}; fi
done
[ -f "$build/index.js" ] || { echo "load: $build/index.js is missing; run 'make build-worker' first" >&2; exit 1; }
[ -d node_modules/miniflare ] || { echo "load: node_modules is missing; run 'make setup' first" >&2; exit 1; }
exec node scripts/load.mjs "$@"
