// Deploys KycDrop against a registry (e.g. the one `honnin dev` prints) with a funded key.
//   node deploy.js --rpc http://127.0.0.1:PORT --registry 0x… [--amount 100]
// The key comes from DEPLOYER_KEY (default: anvil's well-known account 0, dev chains only).
// Prints the KycDrop address.
import { createWalletClient, createPublicClient, http, encodeDeployData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { kycDropAbi, kycDropBytecode } from "./src/kycdrop.js";

/** Anvil's account 0: public knowledge, for local chains only. */
export const ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/** Deploys KycDrop(registry, amount) and returns its address. */
export async function deployKycDrop({ rpcUrl, registry, amount = 100n, key = ANVIL_KEY_0 }) {
  const account = privateKeyToAccount(key);
  const wallet = createWalletClient({ account, transport: http(rpcUrl) });
  const chain = createPublicClient({ transport: http(rpcUrl) });
  const hash = await wallet.sendTransaction({
    chain: null,
    data: encodeDeployData({ abi: kycDropAbi, bytecode: kycDropBytecode, args: [registry, amount] }),
  });
  const receipt = await chain.waitForTransactionReceipt({ hash, pollingInterval: 100 });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deploy failed: ${hash}`);
  return receipt.contractAddress;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  if (!arg("rpc") || !arg("registry")) {
    console.error("usage: node deploy.js --rpc URL --registry 0x… [--amount N]");
    process.exit(2);
  }
  const address = await deployKycDrop({
    rpcUrl: arg("rpc"),
    registry: arg("registry"),
    amount: BigInt(arg("amount") ?? 100),
    key: process.env.DEPLOYER_KEY ?? ANVIL_KEY_0,
  });
  console.log(address);
}
