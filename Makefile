# Warden. The two commands: `make dev` and `make test`. Everything installs itself via `make setup`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false

WASM_RUNNER := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

.PHONY: setup build build-worker build-wasm dev test lint nostd docs test-native test-wasm test-js bench bench-core bench-npm bench-worker bench-edge build-bench profile-worker bench-revocations fuzz load mutants

## Install what is missing (idempotent; prints each step).
setup:
	@bash scripts/setup.sh

build: build-worker build-wasm build-bench

build-worker: setup
	@bash scripts/build-worker.sh

build-wasm: setup
	@bash scripts/build-wasm-pkg.sh

## Worker test build (test-only /__warden/ routes) into build-bench/; worker-keys, worker-vectors and worker-dpop-replay tests use it.
build-bench: setup
	@bash scripts/bench-worker.sh --build-only

## Run the worker (wrangler dev, local KV) in front of the demo origin on 127.0.0.1.
dev: setup
	@bash scripts/dev.sh

## Every test: format, lints, no_std, native and wasm tests, the npm build, end to end in workerd.
test: setup lint nostd docs test-native test-wasm build test-js
	@echo "==> make test: all passed"

lint:
	@echo "==> module cycles (no module imports one that imports it back)"
	python3 scripts/module-cycles.py
	@echo "==> cargo fmt --check"
	cargo fmt --all -- --check
	@echo "==> cargo clippy (all targets, all features)"
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	cargo clippy -p warden-worker -p warden-wasm --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p warden-core --features jwt --lib --tests --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p warden-worker --target wasm32-unknown-unknown --features bench -- -D warnings
	cargo clippy -p warden-wasm --no-default-features --all-targets --target wasm32-unknown-unknown -- -D warnings

nostd:
	@echo "==> no_std check (x86_64-unknown-none has no std at all)"
	cargo check -p warden-core --no-default-features --target x86_64-unknown-none
	cargo check -p warden-core --no-default-features --features json --target x86_64-unknown-none

docs:
	@echo "==> rustdoc (warnings are errors; every public item documented)"
	RUSTDOCFLAGS="-D warnings" cargo doc -p warden-core --all-features --no-deps

test-native:
	@echo "==> native tests (all features)"
	cargo test --workspace --all-features

test-wasm:
	@echo "==> wasm tests in Node (wasm-bindgen-test)"
	$(WASM_RUNNER) cargo test -p warden-core --features jwt --target wasm32-unknown-unknown
	$(WASM_RUNNER) cargo test -p warden-wasm --target wasm32-unknown-unknown
	$(WASM_RUNNER) cargo test -p warden-wasm --no-default-features --target wasm32-unknown-unknown
	@echo "==> wasm tests in headless Chromium (wasm-bindgen-test)"
	bash scripts/test-npm-browser.sh

test-js:
	@echo "==> Node tests: npm package and the worker end to end (Miniflare)"
	node --test --test-concurrency=1 tests/*.test.mjs

## Benchmarks (not part of `make test`): figures go to docs/benchmarks.md.
bench: bench-core bench-npm bench-worker bench-edge

bench-worker: build-worker
	@echo "==> worker allow path vs a jose worker, in workerd (Miniflare)"
	bash scripts/bench-worker.sh --write

## Where the worker's decision spends its time: the bench route under V8's sampling profiler.
profile-worker: setup
	@CARGO_TARGET_DIR="$(CURDIR)/target/bench" WARDEN_KEEP_NAMES=1 bash scripts/build-worker.sh build-profile bench
	node --experimental-websocket scripts/profile-worker.mjs $(PROFILE_ARGS)

bench-npm: build-wasm
	@echo "==> npm package vs jwt-decode and jose (Node)"
	node scripts/bench-npm.mjs --write

## CPU per request of the workerd process, from outside (/proc/<pid>/stat): Warden's production build
## next to a JS pass-through, a workers-rs pass-through and a jose worker, same origin and keys.
## 1,500 requests per batch keep a run under 10 minutes on 2 cores.
## Revocation reads at 10,000 and 100,000 active revocations, filter on and off (SIZES=… to change;
## 1000000 in a long bench run).
bench-revocations: build-worker
	@echo "==> revocation reads at scale: the published filter vs the listing snapshot (workerd)"
	node scripts/bench-revocations.mjs --sizes $${SIZES:-10000,100000} --write

bench-edge: build-worker
	@echo "==> worker CPU per request above a pass-through worker, in workerd (Miniflare)"
	bash scripts/bench-edge.sh --requests 1500 --rounds 9 --write

bench-core:
	@echo "==> Criterion: warden-core parse + verify + evaluate, cached hit"
	cargo bench -p warden-core --features jwt --bench validate

## Fuzz every target for FUZZ_SECONDS (default 60) each; installs nightly + cargo-fuzz if missing.
fuzz:
	@bash scripts/fuzz.sh

## Mutation testing of warden-core (cargo-mutants, installed if missing); counts in docs/security.md.
mutants:
	@bash scripts/mutants.sh

## Load: 10,000 requests at concurrency 32 through the built worker (Miniflare, 127.0.0.1) in front of
## the demo origin, revocations mid-run; fails on any wrong verdict; figures go to docs/benchmarks.md.
load: build-worker
	@bash scripts/load.sh --write
