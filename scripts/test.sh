#!/usr/bin/env bash
# Runs everything CI checks: formatting, lints, unit/property/fixture tests,
# and the Ethereum conformance suites through the `mosaic` binary.
#
# Usage: scripts/test.sh [--quick]   (--quick skips the fixture suites)
set -euo pipefail
cd "$(dirname "$0")/.."

FIXTURES="${MOSAIC_FIXTURES:-../shared/fixtures}"
PROFILE=ci
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

if [[ ! -d "$FIXTURES/ethereum-tests" ]]; then
  echo "error: fixtures not found at $FIXTURES (set MOSAIC_FIXTURES)" >&2
  exit 1
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --profile "$PROFILE" -- -D warnings

echo "==> cargo test"
# The parallel engine's differential suite: 3,000 random blocks per run
# (the last scheduler races showed up once or twice per 30,000 blocks).
export MOSAIC_DIFF_BLOCKS="${MOSAIC_DIFF_BLOCKS:-3000}"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --profile default --cargo-profile "$PROFILE" --no-fail-fast
else
  cargo test --workspace --profile "$PROFILE" --no-fail-fast
fi

if [[ $quick == 1 ]]; then exit 0; fi

cargo build --profile "$PROFILE" -p mosaic
BIN="target/$PROFILE/mosaic"

echo "==> mosaic import (rpc-compat chain into a fresh datadir)"
datadir="$(mktemp -d)"
trap 'rm -rf "$datadir"' EXIT
"$BIN" import --datadir "$datadir" --genesis "$FIXTURES/rpc-compat/genesis.json" "$FIXTURES/rpc-compat/chain.rlp"

echo "==> mosaic rpc-compat"
"$BIN" rpc-compat "$FIXTURES/rpc-compat" | grep -v "^SHAPE\|^    " | tail -n 50

echo "==> e2e: cast + viem against mosaic node --dev (installs pinned npm packages)"
MOSAIC_BIN="$BIN" scripts/e2e.sh

echo "==> mosaic statetest"
"$BIN" statetest "$FIXTURES/ethereum-tests/GeneralStateTests" | tail -n 50

echo "==> mosaic blocktest"
"$BIN" blocktest "$FIXTURES/ethereum-tests/BlockchainTests" | tail -n 50

echo "==> mosaic blocktest --store (persistent import path)"
"$BIN" blocktest --store "$FIXTURES/ethereum-tests/BlockchainTests" | tail -n 50
