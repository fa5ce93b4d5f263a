#!/usr/bin/env bash
# End-to-end test with real clients against `mosaic node --dev`:
#   - installs the pinned npm packages of e2e/ (Foundry's cast, viem, solc-js,
#     OpenZeppelin 4.9.6),
#   - builds target/ci/mosaic if missing (MOSAIC_BIN overrides the binary),
#   - starts a dev node on a temporary datadir and OS-chosen loopback ports,
#   - compiles an OpenZeppelin ERC-20 with solc-js, then with `cast`: deploy,
#     transfer, balanceOf, receipt, logs by the Transfer topic, revert reasons
#     of calls, a reverted transaction included with status 0, block-number;
#   - runs e2e/viem.mjs: deploy, transfer, balances, receipts, logs by event
#     and topic, revert reasons, newHeads and logs subscriptions over WebSocket;
#   - SIGKILLs the node, restarts it on the same datadir and checks that the
#     head and the balances are the last committed ones.
# Every step asserts; the script exits non-zero on the first failure, kills
# the node on exit, and gives up after MOSAIC_E2E_TIMEOUT seconds (180).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

if [[ -z "${MOSAIC_E2E_CHILD:-}" ]]; then
  # Global timeout: timeout(1) signals the whole process group, node included.
  MOSAIC_E2E_CHILD=1 exec timeout --kill-after=10 "${MOSAIC_E2E_TIMEOUT:-180}" "$0" "$@"
fi

started=$SECONDS
work="$(mktemp -d)"
node_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -KILL "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if [[ $rc != 0 && -f "$work/node.log" ]]; then
    echo "--- node log (last 40 lines) ---" >&2
    tail -n 40 "$work/node.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok - $*"; }
# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1: got '$2', expected '$3'"
  ok "$1"
}
# json FILE EXPR: evaluates a JS expression over the JSON value `j` read from FILE.
json() { node -e "const j = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log($2)" "$1"; }

echo "==> npm install (e2e/)"
# `npm install` with the committed lock file, not `npm ci`: npm 11 leaves the
# other platforms' optional cast packages out of the lock and `npm ci` then
# refuses it as out of sync. --no-save keeps the lock file untouched.
(cd e2e && npm install --no-audit --no-fund --no-save --silent)
CAST="$(find e2e/node_modules/@foundry-rs -path '*/bin/cast' -type f | head -n 1)"
[[ -x "$CAST" ]] || fail "no cast binary under e2e/node_modules/@foundry-rs"
"$CAST" --version | head -n 1

BIN="${MOSAIC_BIN:-target/ci/mosaic}"
if [[ ! -x "$BIN" ]]; then
  echo "==> cargo build --profile ci -p mosaic"
  cargo build --profile ci -p mosaic
fi

# start_node: starts the dev node on $work/data with port 0 (the OS picks) and
# reads the addresses it prints into $HTTP and $WS.
start_node() {
  : >"$work/node.log"
  "$BIN" node --dev --datadir "$work/data" --http.port 0 --ws.port 0 >>"$work/node.log" 2>&1 &
  node_pid=$!
  HTTP="" WS=""
  for _ in $(seq 1 200); do
    HTTP="$(sed -n 's|^HTTP JSON-RPC on \(http://.*\)$|\1|p' "$work/node.log")"
    WS="$(sed -n 's|^WebSocket JSON-RPC on \(ws://.*\)$|\1|p' "$work/node.log")"
    [[ -n "$HTTP" && -n "$WS" ]] && return 0
    kill -0 "$node_pid" 2>/dev/null || fail "node exited: $(cat "$work/node.log")"
    sleep 0.05
  done
  fail "node did not print its addresses"
}

echo "==> start mosaic node --dev"
start_node
echo "node at $HTTP and $WS"

echo "==> compile the ERC-20 with solc-js"
node e2e/compile.mjs "$work/token.json"
BYTECODE="$(json "$work/token.json" j.bytecode)"

# Dev accounts of the test mnemonic (crates/chain/src/dev.rs); viem uses 1, 3 and 4.
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
A0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
K2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
A2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
A9=0xa0Ee7A142d267C1f36714E4a8F75612F20a79720
export ETH_RPC_URL="$HTTP"

echo "==> cast"
expect_eq "cast chain-id" "$("$CAST" chain-id)" 1337
supply=1000000000000000000000000
"$CAST" send --private-key "$K0" --json --create "$BYTECODE" "constructor(uint256)" "$supply" >"$work/deploy.json"
expect_eq "cast send --create: status" "$(json "$work/deploy.json" j.status)" 0x1
TOKEN="$(json "$work/deploy.json" j.contractAddress)"
[[ "$TOKEN" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "no contract address in the deployment receipt"
ok "deployed MosaicToken at $TOKEN"
expect_eq "cast call symbol()" "$("$CAST" call "$TOKEN" "symbol()(string)")" '"MOS"'

"$CAST" send --private-key "$K0" --json "$TOKEN" "transfer(address,uint256)" "$A2" 777 >"$work/transfer.json"
TRANSFER_TX="$(json "$work/transfer.json" j.transactionHash)"
expect_eq "cast send transfer: status" "$(json "$work/transfer.json" j.status)" 0x1
expect_eq "cast call balanceOf(recipient)" "$("$CAST" call "$TOKEN" "balanceOf(address)(uint256)" "$A2")" 777
expect_eq "cast call balanceOf(deployer)" \
  "$("$CAST" call "$TOKEN" "balanceOf(address)(uint256)" "$A0" | cut -d' ' -f1)" 999999999999999999999223
"$CAST" receipt --json "$TRANSFER_TX" >"$work/receipt.json"
expect_eq "cast receipt: status 1" "$(json "$work/receipt.json" j.status)" 0x1
expect_eq "cast receipt: one log from the token" \
  "$(json "$work/receipt.json" "j.logs.length + ' ' + j.logs[0].address.toLowerCase()")" "1 ${TOKEN,,}"

TOPIC="$("$CAST" keccak "Transfer(address,address,uint256)")"
expect_eq "Transfer topic" "$TOPIC" 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef
"$CAST" logs --json --from-block 0 --to-block latest --address "$TOKEN" "$TOPIC" >"$work/logs.json"
expect_eq "cast logs by the Transfer topic: mint and transfer" \
  "$(json "$work/logs.json" "j.length + ' ' + j[1].transactionHash")" "2 $TRANSFER_TX"
"$CAST" logs --json --from-block 0 --address "$TOKEN" "Transfer(address indexed,address indexed,uint256)" \
  "" "$A2" >"$work/logs_to.json"
expect_eq "cast logs by event signature and indexed recipient" "$(json "$work/logs_to.json" j.length)" 1

# Logs subscription over WebSocket (eth_subscribe "logs"; cast prints nothing
# there with --json), and a transaction
# signed offline (cast mktx) published raw.
"$CAST" logs --subscribe --rpc-url "$WS" --address "$TOKEN" "$TOPIC" >"$work/sub.log" 2>&1 &
sub_pid=$!
sleep 0.5
"$CAST" mktx --private-key "$K0" "$TOKEN" "transfer(address,uint256)" "$A2" 5 >"$work/raw.txt"
"$CAST" publish "$(cat "$work/raw.txt")" >"$work/published.json"
PUBLISHED_TX="$(json "$work/published.json" j.transactionHash)"
expect_eq "cast publish of a cast mktx transaction: status" "$(json "$work/published.json" j.status)" 0x1
for _ in $(seq 1 100); do grep -q "$PUBLISHED_TX" "$work/sub.log" && break; sleep 0.05; done
kill "$sub_pid" 2>/dev/null || true
wait "$sub_pid" 2>/dev/null || true
grep -q "$PUBLISHED_TX" "$work/sub.log" || fail "cast logs --subscribe did not print the transfer: $(cat "$work/sub.log")"
ok "cast logs --subscribe received the Transfer log"
if out="$("$CAST" publish "$(cat "$work/raw.txt")" 2>&1)"; then fail "publishing the same transaction again succeeded"; fi
[[ "$out" == *"nonce too low"* ]] || fail "second publish: $out"
ok "publishing it again is refused with 'nonce too low'"
expect_eq "cast call balanceOf(recipient) after both transfers" \
  "$("$CAST" call "$TOKEN" "balanceOf(address)(uint256)" "$A2")" 782

# Reverting calls: cast prints the decoded reason.
if out="$("$CAST" call --from "$A9" "$TOKEN" "transfer(address,uint256)" "$A0" 1 2>&1)"; then
  fail "cast call of an unfunded transfer succeeded: $out"
fi
[[ "$out" == *"ERC20: transfer amount exceeds balance"* ]] || fail "no revert reason in: $out"
ok "cast call shows the revert reason 'ERC20: transfer amount exceeds balance'"
if out="$("$CAST" call "$TOKEN" "fail()" 2>&1)"; then fail "cast call fail() succeeded: $out"; fi
[[ "$out" == *"MosaicToken: always fails"* ]] || fail "no revert reason in: $out"
ok "cast call fail() shows the revert reason 'MosaicToken: always fails'"
if out="$("$CAST" estimate "$TOKEN" "fail()" 2>&1)"; then fail "cast estimate fail() succeeded: $out"; fi
[[ "$out" == *"MosaicToken: always fails"* ]] || fail "no revert reason in: $out"
ok "cast estimate fail() shows the revert reason"

# A reverting transaction is included and pays (status 0).
"$CAST" send --private-key "$K2" --json --gas-limit 100000 "$TOKEN" "fail()" >"$work/reverted.json" 2>&1 || true
REVERTED_TX="$(json "$work/reverted.json" j.transactionHash)"
"$CAST" receipt --json "$REVERTED_TX" >"$work/reverted_receipt.json"
expect_eq "reverted transaction included with status 0, all its gas limit not used" \
  "$(json "$work/reverted_receipt.json" "j.status + ' ' + (Number(j.gasUsed) < 100000)")" "0x0 true"

BLOCK="$("$CAST" block-number)"
[[ "$BLOCK" =~ ^[0-9]+$ && "$BLOCK" -ge 3 ]] || fail "cast block-number: $BLOCK"
ok "cast block-number is $BLOCK"
expect_eq "cast block latest number" "$("$CAST" block latest --field number)" "$BLOCK"
expect_eq "cast balance of an untouched account" "$("$CAST" balance "$A9")" 10000000000000000000000

echo "==> viem"
MOSAIC_HTTP="$HTTP" MOSAIC_WS="$WS" node e2e/viem.mjs "$work/token.json"

echo "==> SIGKILL and restart on the same datadir"
"$CAST" send --private-key "$K2" --json "$A9" --value 1234 >"$work/last.json"
expect_eq "last transfer before the kill: status" "$(json "$work/last.json" j.status)" 0x1
head_before="$("$CAST" block latest --field hash)"
number_before="$("$CAST" block-number)"
balances_before="$("$CAST" balance "$A9") $("$CAST" balance "$A2") $("$CAST" call "$TOKEN" "balanceOf(address)(uint256)" "$A2")"
kill -KILL "$node_pid"
wait "$node_pid" 2>/dev/null || true
node_pid=""
start_node
export ETH_RPC_URL="$HTTP"
expect_eq "head number after restart" "$("$CAST" block-number)" "$number_before"
expect_eq "head hash after restart" "$("$CAST" block latest --field hash)" "$head_before"
expect_eq "balances after restart" \
  "$("$CAST" balance "$A9") $("$CAST" balance "$A2") $("$CAST" call "$TOKEN" "balanceOf(address)(uint256)" "$A2")" \
  "$balances_before"
"$CAST" receipt --json "$(json "$work/last.json" j.transactionHash)" >"$work/last_receipt.json"
expect_eq "receipt of the last transaction after restart" \
  "$(json "$work/last_receipt.json" "j.status + ' ' + j.blockHash")" "0x1 $(json "$work/last.json" j.blockHash)"
"$CAST" send --private-key "$K2" --json "$A9" --value 1 >"$work/after.json"
expect_eq "the restarted node produces blocks" "$(json "$work/after.json" "Number(j.blockNumber)")" "$((number_before + 1))"

echo "e2e passed in $((SECONDS - started)) s"
