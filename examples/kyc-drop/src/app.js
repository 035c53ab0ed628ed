// The KycDrop dApp: connect an EIP-1193 wallet, show whether honnin's registry vouches for it
// (live, with @honnin/sdk's watchWallet), claim, and show the refusal the contract gives an
// unverified (e.g. revoked) wallet. Bundled by build.js into dist/app.js.
import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, custom, http } from "viem";
import { isVerified, watchWallet } from "@honnin/sdk";
import { kycDropAbi } from "./kycdrop.js";

const $ = (id) => document.getElementById(id);
const config = await (await fetch("config.json")).json();
const chain = createPublicClient({ transport: http(config.rpcUrl), pollingInterval: 250 });
let wallet = null;
let account = null;
let stopWatching = null;

function showStatus(verified) {
  const status = $("status");
  status.dataset.state = verified ? "verified" : "unverified";
  status.textContent = verified
    ? "確認状況 / Status: 本人確認済み / verified"
    : "確認状況 / Status: 未確認 / not verified";
  $("verify").hidden = verified;
  $("verify-link").href = `${config.honnin.replace(/\/+$/, "")}/`;
}

function showResult(outcome, text) {
  $("result").dataset.outcome = outcome;
  $("result").textContent = text;
}

async function refreshBalance() {
  const balance = await chain.readContract({ address: config.drop, abi: kycDropAbi, functionName: "balanceOf", args: [account] });
  $("balance").textContent = balance.toString();
}

$("connect").addEventListener("click", async () => {
  if (!window.ethereum) return showResult("error", "ウォレットが見つかりません / No wallet (EIP-1193) found");
  wallet = createWalletClient({ transport: custom(window.ethereum) });
  [account] = await wallet.requestAddresses();
  $("wallet").textContent = account;
  showStatus(await isVerified(chain, config.registry, account));
  await refreshBalance();
  $("claim").disabled = false;
  stopWatching?.();
  stopWatching = watchWallet(chain, config.registry, account, {
    pollingInterval: 250,
    onStatus: ({ verified }) => showStatus(verified),
    onError: (error) => console.warn("watchWallet", error),
  });
});

/** The contract's custom error name when `error` is a revert, else null. */
function revertName(error) {
  if (!(error instanceof BaseError)) return null;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return revert?.data?.errorName ?? null;
}

$("claim").addEventListener("click", async () => {
  $("claim").disabled = true;
  showResult("pending", "送信中… / Sending…");
  try {
    const { request } = await chain.simulateContract({ account, address: config.drop, abi: kycDropAbi, functionName: "claim" });
    const hash = await wallet.writeContract({ ...request, chain: null });
    const receipt = await chain.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`reverted: ${hash}`);
    showResult("claimed", `受け取りました / Claimed (tx ${hash})`);
    await refreshBalance();
  } catch (error) {
    const name = revertName(error);
    if (name === "KycGatedUnverifiedAccount") {
      showResult("refused", "拒否: このウォレットは本人確認されていません（取り消し済みを含む） / Refused: this wallet is not verified (or was revoked)");
    } else if (name === "KycDropAlreadyClaimed") {
      showResult("refused", "拒否: すでに受け取り済みです / Refused: already claimed");
    } else {
      showResult("error", `エラー / Error: ${error.shortMessage ?? error.message}`);
    }
  } finally {
    $("claim").disabled = false;
  }
});
