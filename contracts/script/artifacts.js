#!/usr/bin/env node
// Writes or checks contracts/artifacts/: the ABI and bytecode of the deployable contracts that
// the Rust crates read through alloy's `sol!`. Usage (from contracts/):
//   node script/artifacts.js write <forge out dir>   # refresh artifacts/ after `forge build`
//   node script/artifacts.js check <forge out dir>   # exit 1 when artifacts/ differ from a build
// The bytecode carries no metadata hash (foundry.toml), so it depends only on sources and settings.
'use strict';
const fs = require('fs');
const path = require('path');

const CONTRACTS = [
  ['KycRegistry.sol', 'KycRegistry'],
  ['KycDrop.sol', 'KycDrop'],
  ['OwnedWallet.sol', 'OwnedWallet'],
];
const ARTIFACTS = path.join(__dirname, '..', 'artifacts');

function render(outDir, file, name) {
  const built = JSON.parse(fs.readFileSync(path.join(outDir, file, `${name}.json`), 'utf8'));
  const artifact = {
    contractName: name,
    abi: built.abi,
    bytecode: { object: built.bytecode.object },
    deployedBytecode: { object: built.deployedBytecode.object },
  };
  return JSON.stringify(artifact, null, 2) + '\n';
}

const [mode, outDir] = process.argv.slice(2);
if (!['write', 'check'].includes(mode) || !outDir) {
  process.stderr.write('usage: artifacts.js write|check <forge out dir>\n');
  process.exit(2);
}
let stale = [];
for (const [file, name] of CONTRACTS) {
  const fresh = render(outDir, file, name);
  const target = path.join(ARTIFACTS, `${name}.json`);
  if (mode === 'write') {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(target, fresh);
    process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
  } else {
    const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (committed !== fresh) stale.push(name);
  }
}
if (stale.length > 0) {
  process.stderr.write(
    `contracts/artifacts/ is stale for ${stale.join(', ')}: run contracts/script/build-artifacts and commit the result\n`,
  );
  process.exit(1);
}
if (mode === 'check') process.stdout.write('contracts/artifacts/ matches the sources\n');
