#!/usr/bin/env bash
# `make mutants`: mutation testing of warden-core with cargo-mutants (installed if missing).
# Every mutant is built and the core's native test suite (attacks, vectors, properties, gate,
# doctests) run against it; a mutant that survives is a change no test notices.
#   scripts/mutants.sh                       the whole core
#   scripts/mutants.sh --file 'crates/warden-core/src/gate/**'   one part (cargo-mutants --file)
#   scripts/mutants.sh --iterate             only what an earlier run did not catch (mutants.out/)
# Prints caught / missed / unviable / timeout counts and the missed mutants; the full report is
# in mutants.out/ (ignored by git). Exit status: cargo-mutants' (2: a mutant was missed;
# 3: one timed out).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if ! command -v cargo-mutants >/dev/null; then
  echo "==> cargo install --locked cargo-mutants (a few minutes, once)"
  cargo install --locked cargo-mutants
fi
# Speed, not coverage: each mutant rebuilds only warden-core, without debug info, against
# dependencies (sha2, p256, RSA, proptest) built once at opt-level 2 -- the suite then runs in
# seconds instead of about 25 s per mutant. The tests themselves and their case counts are unchanged.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-0}"
DEPS_OPT='--config=profile.dev.package."*".opt-level=2'
echo "==> cargo mutants -p warden-core $* (commit $(git rev-parse --short=12 HEAD))"
status=0
cargo mutants -p warden-core --test-package warden-core --all-features --no-shuffle \
  --cargo-arg="$DEPS_OPT" "$@" || status=$?
echo "==> summary (mutants.out/outcomes.json)"
node -e '
const o = require("./mutants.out/outcomes.json");
const count = (k) => o.outcomes.filter((x) => x.summary === k).length;
console.log(`    caught ${count("CaughtMutant")}, missed ${count("MissedMutant")}, unviable ${count("Unviable")}, timeout ${count("Timeout")}`);
' || true
if [ -s mutants.out/missed.txt ]; then
  echo "==> missed mutants"
  sed 's/^/    /' mutants.out/missed.txt
fi
exit "$status"
