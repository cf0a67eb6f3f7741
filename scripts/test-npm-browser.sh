#!/usr/bin/env bash
# The npm package's wasm-bindgen-test suites (wasm-pkg/src/tests) in headless Chromium, for both
# builds: full (default features) and lite (--no-default-features). The same suites run in Node
# with `make test-wasm`. Needs Debian's chromium and chromium-driver (make setup installs them)
# and wasm-bindgen-test-runner (wasm-bindgen-cli); fails loudly when any is missing.
#
# The page loads from the runner's own server on 127.0.0.1; chromedriver starts a fresh, temporary
# Chromium profile for each run. Extra Chromium flags: wasm-pkg/tests/webdriver.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

die() { printf 'test-npm-browser: %s\n' "$*" >&2; exit 1; }
command -v wasm-bindgen-test-runner >/dev/null || die "wasm-bindgen-test-runner not found: run scripts/setup.sh"
CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || true)}"
[ -x "$CHROMEDRIVER" ] || die "chromedriver not found: install chromium-driver (scripts/setup.sh does)"
command -v chromium >/dev/null || die "chromium not found: install chromium (scripts/setup.sh does)"

export CHROMEDRIVER
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_USE_BROWSER=1
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/wasm-pkg/tests/webdriver.json"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-60}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for features in "" "--no-default-features"; do
  printf '==> wasm-bindgen-test in headless Chromium: warden-wasm %s\n' "${features:-(full)}"
  # shellcheck disable=SC2086
  cargo test -p warden-wasm $features --target wasm32-unknown-unknown --lib 2>&1 | tee "$log"
  # Guard against a silent fallback to Node: the runner must have driven the browser.
  grep -q "Running headless tests in Chrome" "$log" \
    || die "the suites did not run in Chromium (no 'Running headless tests in Chrome' line)"
  grep -Eq "test result: ok\. [1-9][0-9]* passed" "$log" || die "no passing test result"
done
echo "==> npm package: wasm-bindgen-test suites passed in headless Chromium (full and lite)"
