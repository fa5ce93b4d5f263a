#!/usr/bin/env bash
# Load benchmark of the JSON-RPC path, Mosaic vs anvil, in one run:
# installs anvil from npm (@foundry-rs/anvil, pinned) into bench/node_modules
# (ignored by git), builds target/ci/mosaic if missing, and runs
# `mosaic bench rpc` with the anvil binary. Arguments go to `mosaic bench rpc`,
# e.g. scripts/bench-rpc.sh --txs 10000 --json
set -euo pipefail
cd "$(dirname "$0")/.."
ANVIL_VERSION=1.7.1

(
  cd bench
  if [[ ! -f package.json ]]; then echo '{"private": true}' > package.json; fi
  if [[ "$(node -p "require('./node_modules/@foundry-rs/anvil/package.json').version" 2>/dev/null)" != "$ANVIL_VERSION" ]]; then
    npm install --no-audit --no-fund --silent --save-exact "@foundry-rs/anvil@$ANVIL_VERSION" >&2
  fi
)
ANVIL="$(find bench/node_modules/@foundry-rs -path '*/bin/anvil' -type f | head -n 1)"
[[ -x "$ANVIL" ]] || { echo "error: no anvil binary under bench/node_modules/@foundry-rs" >&2; exit 1; }

BIN="${MOSAIC_BIN:-target/ci/mosaic}"
if [[ ! -x "$BIN" ]]; then
  cargo build --profile ci -p mosaic >&2
fi
exec "$BIN" bench rpc --anvil-bin "$ANVIL" "$@"
