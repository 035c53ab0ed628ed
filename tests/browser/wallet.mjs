// The test wallet: an EIP-1193 provider injected into the page and announced over EIP-6963,
// answered on the Node side by a fresh secp256k1 key (viem signs EIP-191 `personal_sign`).
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hexToString, isAddressEqual } from "viem";

// Anvil's chain (honnin dev runs anvil with its default chain id).
const CHAIN_ID = "0x7a69";

// Runs in the page before its own script: announces the provider when the page asks
// (`eip6963:requestProvider`) and once on load. No `window.ethereum`: the page must find it by
// EIP-6963 discovery.
function injected() {
  const provider = {
    async request({ method, params }) {
      const answer = await window.__honninWallet(method, params ?? []);
      if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
      return answer.result;
    },
    on() { return provider; },
    removeListener() { return provider; },
  };
  const info = Object.freeze({
    uuid: "5c0b6c2e-0d7e-4f53-9d0a-3f1f0c6a1e13",
    name: "honnin test wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E",
    rdns: "dev.honnin.test-wallet",
  });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", {
    detail: Object.freeze({ info, provider }),
  }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
}

// A fresh wallet for this run. `signed` lists every message it signed (as text), so the test can
// compare it with what the page showed.
export async function installWallet(context) {
  const account = privateKeyToAccount(generatePrivateKey());
  const wallet = { address: account.address, signed: [], calls: [] };
  await context.exposeFunction("__honninWallet", async (method, params) => {
    wallet.calls.push(method);
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return { result: [account.address] };
      case "eth_chainId":
        return { result: CHAIN_ID };
      case "personal_sign": {
        const [data, address] = params;
        if (!isAddressEqual(address, account.address)) {
          return { error: { code: 4100, message: `not this wallet's account: ${address}` } };
        }
        wallet.signed.push(hexToString(data));
        return { result: await account.signMessage({ message: { raw: data } }) };
      }
      default:
        return { error: { code: 4200, message: `unsupported method ${method}` } };
    }
  });
  await context.addInitScript(injected);
  return wallet;
}
