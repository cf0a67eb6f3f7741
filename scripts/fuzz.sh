#!/usr/bin/env bash
# `make fuzz`: runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS each, default 60),
# starting from the committed seed corpus. Installs a nightly toolchain and cargo-fuzz if
# missing. Fails when any target finds a crash; prints executions per target.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT/fuzz"
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v warden-fuzz)}

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "==> rustup toolchain install nightly (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null; then
  echo "==> cargo install cargo-fuzz (a few minutes, once)"
  cargo install --locked cargo-fuzz
fi

status=0
summary=()
for t in $TARGETS; do
  mkdir -p "work/$t" "corpus/$t"
  echo "==> fuzz $t for ${SECONDS_EACH}s"
  log="work/$t.log"
  # New inputs go to work/<target>; the committed corpus/<target> is only read.
  if cargo +nightly fuzz run "$t" "work/$t" "corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -print_final_stats=1 -max_len=16384 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
    tail -n 40 "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  summary+=("$t: ${execs:-?} executions in ${SECONDS_EACH}s, $result")
done
echo "==> fuzz summary"
printf '    %s\n' "${summary[@]}"
[ "$status" = 0 ] || echo "crash inputs are in fuzz/artifacts/: add each as a regression test" >&2
exit "$status"
