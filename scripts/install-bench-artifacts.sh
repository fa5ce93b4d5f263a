#!/usr/bin/env bash
# Installs the contract artifacts the gigagas benchmark deploys (pinned).
# They land in bench/node_modules (ignored by git). Tests do not need them.
set -euo pipefail
cd "$(dirname "$0")/../bench"
if [[ ! -f package.json ]]; then echo '{"private": true}' > package.json; fi
npm install --no-audit --no-fund --silent \
  @openzeppelin/contracts@4.9.6 \
  @uniswap/v3-core@1.0.1 \
  @uniswap/v3-periphery@1.4.4
echo "bench artifacts installed in $(pwd)/node_modules"
