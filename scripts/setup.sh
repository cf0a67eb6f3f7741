#!/usr/bin/env bash
# Installs what building and testing Warden needs, skipping every step already done.
# Idempotent: safe to run again; `make setup` calls it and every other target calls `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
WASM_PACK_VERSION=0.15.1

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
skip() { printf '    %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
command -v rustup >/dev/null || die "rustup not found: Warden pins its toolchain in rust-toolchain.toml"
command -v node >/dev/null || die "node not found: install Node.js 20 or later"
command -v npm >/dev/null || die "npm not found: install Node.js 20 or later"

# Versions of installed tools, "" when absent.
version_of() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | head -n1 || true; }

step "Rust toolchain and targets (rust-toolchain.toml)"
installed_targets=$(rustup target list --installed 2>/dev/null || true)
for t in wasm32-unknown-unknown x86_64-unknown-none; do
  if grep -qx "$t" <<<"$installed_targets"; then skip "target $t present"
  else rustup target add "$t" || die "rustup target add $t failed"; fi
done
for c in rustfmt clippy; do
  if rustup component list --installed 2>/dev/null | grep -q "^$c"; then skip "component $c present"
  else rustup component add "$c" || die "rustup component add $c failed"; fi
done

cargo_tool() { # binary version crate [--locked]
  local bin=$1 want=$2 crate=$3 locked=${4:-}
  if version_of "$bin" | grep -qF "$want"; then skip "$bin $want present"; return; fi
  step "cargo install $crate $want (a few minutes on a fresh machine)"
  cargo install $locked "$crate" --version "$want" || die "cargo install $crate $want failed"
}
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
# It is installed without --locked: its own lockfile names a crate version the index lacks.
cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build --locked
cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack --locked

step "npm packages (package-lock.json)"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f node_modules/.warden-lock ] && [ "$(cat node_modules/.warden-lock)" = "$lock_sum" ]; then
  skip "node_modules matches package-lock.json"
else
  npm ci --no-audit --no-fund || die "npm ci failed"
  echo "$lock_sum" > node_modules/.warden-lock
fi

# Headless Chromium for the browser tests; Debian's package, never a downloaded browser.
if [ "${WARDEN_SKIP_CHROMIUM:-}" != 1 ]; then
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    skip "chromium and chromedriver present"
  else
    step "apt-get install chromium chromium-driver (browser tests)"
    command -v apt-get >/dev/null || die "chromium missing and apt-get not available: install chromium and chromedriver"
    sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
    $sudo_ apt-get update -q || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q --no-install-recommends chromium chromium-driver \
      || die "apt-get install chromium chromium-driver failed"
  fi
fi
step "setup complete"
