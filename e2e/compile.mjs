// Compiles contracts/MosaicToken.sol (with OpenZeppelin 4.9.6 from
// node_modules, resolved by solc-js's import callback) and writes
// { abi, bytecode } as JSON to the path given as the first argument.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc');
const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) throw new Error('usage: node compile.mjs OUT.json');

const source = readFileSync(join(here, 'contracts', 'MosaicToken.sol'), 'utf8');
const input = {
  language: 'Solidity',
  sources: { 'MosaicToken.sol': { content: source } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
function findImports(path) {
  try {
    return { contents: readFileSync(require.resolve(path), 'utf8') };
  } catch (e) {
    return { error: `not found: ${path} (${e.message})` };
  }
}
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const contract = output.contracts['MosaicToken.sol'].MosaicToken;
const bytecode = `0x${contract.evm.bytecode.object}`;
if (bytecode.length < 100) throw new Error('empty bytecode');
writeFileSync(out, JSON.stringify({ abi: contract.abi, bytecode }));
console.log(`compiled MosaicToken with solc ${solc.version()}: ${(bytecode.length - 2) / 2} bytes`);
