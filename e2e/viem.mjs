// viem against a running `mosaic node --dev`: deploy the ERC-20, transfer,
// read balances, wait for receipts, query logs by event and topic, read a
// reverted call's reason, and watch new heads and logs over WebSocket
// (eth_subscribe). Every step asserts; any failure exits non-zero.
//
// Usage: MOSAIC_HTTP=http://127.0.0.1:P MOSAIC_WS=ws://127.0.0.1:Q node viem.mjs ARTIFACT.json
import { readFileSync } from 'node:fs';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeEventTopics,
  http,
  parseAbiItem,
  parseEther,
  webSocket,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const HTTP = process.env.MOSAIC_HTTP;
const WS = process.env.MOSAIC_WS;
const artifact = JSON.parse(readFileSync(process.argv[2], 'utf8'));
if (!HTTP || !WS) throw new Error('MOSAIC_HTTP and MOSAIC_WS must be set');

// Dev accounts 1, 3 and 4 of the test mnemonic (the cast part uses 0 and 2).
const deployer = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const alice = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const broke = privateKeyToAccount('0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a');

const chain = defineChain({
  id: 1337,
  name: 'mosaic-dev',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [HTTP], webSocket: [WS] } },
});
const client = createPublicClient({ chain, transport: http(HTTP), pollingInterval: 50 });
const wallet = createWalletClient({ chain, transport: http(HTTP), account: deployer });
const ws = createPublicClient({ chain, transport: webSocket(WS) });

let steps = 0;
function check(condition, what, detail) {
  if (!condition) {
    console.error(`not ok - ${what}${detail === undefined ? '' : `: ${detail}`}`);
    process.exit(1);
  }
  steps += 1;
  console.log(`ok - ${what}`);
}

/** The revert reason inside a viem error, if any. */
function revertReason(error) {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.reason : undefined;
}

const transferEvent = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');
const abi = artifact.abi;
const supply = 1_000_000n * 10n ** 18n;

check((await client.getChainId()) === 1337, 'eth_chainId is 1337');
const startBlock = await client.getBlockNumber();

// Deploy.
const deployHash = await wallet.deployContract({ abi, bytecode: artifact.bytecode, args: [supply] });
const deployed = await client.waitForTransactionReceipt({ hash: deployHash, timeout: 15_000 });
check(deployed.status === 'success', 'deployment receipt has status success', deployed.status);
const token = deployed.contractAddress;
check(typeof token === 'string' && token.length === 42, 'deployment receipt has the contract address', token);
const code = await client.getCode({ address: token });
check(code !== undefined && code.length > 2, 'eth_getCode returns the runtime code');
check((await client.readContract({ address: token, abi, functionName: 'symbol' })) === 'MOS', 'symbol() is MOS');

// Transfer, receipt, balances.
const amount = 12_345n;
const transferHash = await wallet.writeContract({
  address: token,
  abi,
  functionName: 'transfer',
  args: [alice, amount],
});
const transferred = await client.waitForTransactionReceipt({ hash: transferHash, timeout: 15_000 });
check(transferred.status === 'success', 'transfer receipt has status success');
check(transferred.logs.length === 1, 'transfer receipt has one log', transferred.logs.length);
check(transferred.blockNumber > deployed.blockNumber, 'transfer is in a later block than the deployment');
const tx = await client.getTransaction({ hash: transferHash });
check(tx.blockHash === transferred.blockHash && tx.from.toLowerCase() === deployer.address.toLowerCase(),
  'eth_getTransactionByHash matches the receipt');
const balance = (address) => client.readContract({ address: token, abi, functionName: 'balanceOf', args: [address] });
check((await balance(alice)) === amount, 'balanceOf(recipient) is the amount sent');
check((await balance(deployer.address)) === supply - amount, 'balanceOf(deployer) is supply minus the amount');

// Logs by event, by indexed argument (topic) and by raw topics.
const all = await client.getLogs({ address: token, event: transferEvent, fromBlock: startBlock, toBlock: 'latest' });
check(all.length === 2, 'getLogs(Transfer) finds the mint and the transfer', all.length);
check(all[0].args.from === '0x0000000000000000000000000000000000000000' && all[0].args.value === supply,
  'first Transfer is the mint');
check(all[1].transactionHash === transferHash && all[1].args.value === amount, 'second Transfer is the transfer');
const toAlice = await client.getLogs({
  address: token,
  event: transferEvent,
  args: { to: alice },
  fromBlock: startBlock,
});
check(toAlice.length === 1 && toAlice[0].transactionHash === transferHash, 'getLogs filtered by the indexed recipient');
const topics = encodeEventTopics({ abi: [transferEvent], eventName: 'Transfer' });
const raw = await client.request({
  method: 'eth_getLogs',
  params: [{ fromBlock: `0x${startBlock.toString(16)}`, toBlock: 'latest', topics: [topics[0]] }],
});
check(raw.length === 2 && raw.every((log) => log.topics[0] === topics[0]), 'eth_getLogs by the Transfer topic');
const events = await client.getContractEvents({ address: token, abi, eventName: 'Transfer', fromBlock: startBlock });
check(events.length === 2, 'getContractEvents(Transfer)', events.length);

// Reverted calls carry their reason.
try {
  await client.simulateContract({
    address: token,
    abi,
    functionName: 'transfer',
    args: [alice, 1n],
    account: broke,
  });
  check(false, 'simulateContract of an unfunded transfer reverts');
} catch (error) {
  const reason = revertReason(error);
  check(reason === 'ERC20: transfer amount exceeds balance', 'simulateContract revert reason', reason ?? error);
}
try {
  await client.readContract({ address: token, abi, functionName: 'fail' });
  check(false, 'fail() reverts');
} catch (error) {
  check(revertReason(error) === 'MosaicToken: always fails', 'readContract(fail()) revert reason', error.message);
}
try {
  await client.estimateContractGas({ address: token, abi, functionName: 'fail', account: deployer });
  check(false, 'estimateGas of fail() reverts');
} catch (error) {
  check(error.message.includes('MosaicToken: always fails'), 'estimateContractGas revert reason', error.message);
}

// WebSocket subscriptions: newHeads (watchBlocks), logs (watchEvent) and
// newPendingTransactions (watchPendingTransactions). Notifications may come
// before the HTTP answer with the hash, so everything is collected first.
const heads = [];
const logs = [];
const pendingHashes = new Set();
const errors = [];
const unwatchBlocks = ws.watchBlocks({ onBlock: (b) => heads.push(b), onError: (e) => errors.push(e) });
const unwatchLogs = ws.watchEvent({
  address: token,
  event: transferEvent,
  onLogs: (l) => logs.push(...l),
  onError: (e) => errors.push(e),
});
const unwatchPending = ws.watchPendingTransactions({
  onTransactions: (hashes) => hashes.forEach((h) => pendingHashes.add(h)),
  onError: (e) => errors.push(e),
});
// Let the eth_subscribe calls land before the transaction.
await new Promise((r) => setTimeout(r, 300));
const watchedHash = await wallet.writeContract({ address: token, abi, functionName: 'transfer', args: [alice, 1n] });
const watched = await client.waitForTransactionReceipt({ hash: watchedHash, timeout: 15_000 });
const streamedLog = () => logs.find((l) => l.transactionHash === watchedHash);
for (let i = 0; i < 200; i += 1) {
  const headSeen = heads.some((b) => b.number >= watched.blockNumber);
  if ((headSeen && streamedLog() && pendingHashes.has(watchedHash)) || errors.length > 0) break;
  await new Promise((r) => setTimeout(r, 50));
}
check(errors.length === 0, 'no subscription errors', errors[0]);
check(heads.some((b) => b.number === watched.blockNumber && b.hash === watched.blockHash),
  'watchBlocks received the new head of the transaction', heads.length);
const streamed = streamedLog();
check(streamed !== undefined && streamed.blockNumber === watched.blockNumber && streamed.args.value === 1n,
  'watchEvent received the Transfer log');
check(pendingHashes.has(watchedHash), 'watchPendingTransactions received the transaction hash');
unwatchBlocks();
unwatchLogs();
unwatchPending();

// A plain value transfer and the ETH balance.
const before = await client.getBalance({ address: alice });
const valueHash = await wallet.sendTransaction({ to: alice, value: parseEther('1.5') });
const valueReceipt = await client.waitForTransactionReceipt({ hash: valueHash, timeout: 15_000 });
check(valueReceipt.status === 'success' && valueReceipt.gasUsed === 21_000n, 'value transfer uses 21000 gas');
check((await client.getBalance({ address: alice })) === before + parseEther('1.5'), 'eth_getBalance after the transfer');
const block = await client.getBlock({ blockNumber: valueReceipt.blockNumber, includeTransactions: true });
check(block.transactions.some((t) => t.hash === valueHash), 'eth_getBlockByNumber(full) contains the transaction');

console.log(`viem: ${steps} checks passed (token ${token})`);
process.exit(0);
