// The KycDrop dApp in headless Chromium against a real `honnin dev` stack: a verified wallet
// claims; a wallet revoked (the page sees it through watchWallet) is refused by the contract.
// The wallet is an injected EIP-1193 provider backed by a test key held in node.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { createPublicClient, createWalletClient, http, numberToHex } from "viem";
import { HonninClient, isVerified } from "@honnin/sdk";
import { startStack } from "../../../sdk/ts/test/stack.js";
import { evidence, freshWallet, verify } from "../../../sdk/ts/test/flow.js";
import { deployKycDrop } from "../deploy.js";
import { serve } from "../serve.js";

const CHROMIUM = process.env.HONNIN_CHROMIUM ?? "/usr/bin/chromium";
let stack, client, chain, drop, server, browser, profile, dappUrl;

before(async () => {
  stack = await startStack();
  client = new HonninClient({ baseUrl: stack.api });
  chain = createPublicClient({ transport: http(stack.rpcUrl), pollingInterval: 100 });
  drop = await deployKycDrop({ rpcUrl: stack.rpcUrl, registry: stack.registry, amount: 100n });
  server = await serve({ rpcUrl: stack.rpcUrl, registry: stack.registry, drop, honnin: stack.api });
  dappUrl = `http://127.0.0.1:${server.address().port}/`;
  profile = mkdtempSync(join(tmpdir(), "honnin-dapp-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  await stack?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** A page whose `window.ethereum` is an EIP-1193 provider signing with `account` in node. */
async function dappPage(account) {
  await chain.request({ method: "anvil_setBalance", params: [account.address, numberToHex(10n ** 18n)] });
  const signer = createWalletClient({ account, transport: http(stack.rpcUrl) });
  const page = await browser.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  await page.exposeFunction("__testWallet", async (method, params) => {
    try {
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return { result: [account.address] };
        case "eth_chainId":
          return { result: numberToHex(stack.chainId) };
        case "eth_sendTransaction": {
          const [tx] = params;
          const hash = await signer.sendTransaction({
            chain: null,
            to: tx.to,
            data: tx.data,
            value: tx.value ? BigInt(tx.value) : undefined,
            gas: tx.gas ? BigInt(tx.gas) : undefined,
          });
          return { result: hash };
        }
        default:
          return { result: await chain.request({ method, params }) };
      }
    } catch (error) {
      return { error: { code: error.code ?? -32603, message: error.shortMessage ?? String(error) } };
    }
  });
  await page.addInitScript(() => {
    window.ethereum = {
      async request({ method, params }) {
        const answer = await window.__testWallet(method, params ?? []);
        if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
        return answer.result;
      },
      on() {},
      removeListener() {},
    };
  });
  await page.goto(dappUrl);
  await page.click("#connect");
  await page.waitForFunction((wallet) => document.getElementById("wallet").textContent === wallet, account.address);
  return page;
}

const state = (page) => page.getAttribute("#status", "data-state");
const outcome = async (page) => {
  await page.waitForFunction(() => ["claimed", "refused", "error"].includes(document.getElementById("result").dataset.outcome));
  return [await page.getAttribute("#result", "data-outcome"), await page.textContent("#result")];
};

test("a verified wallet claims; an unverified one is sent to honnin", async () => {
  const account = freshWallet();
  const page = await dappPage(account);
  await page.waitForSelector('#status[data-state="unverified"]');
  assert.equal(await page.isVisible("#verify-link"), true);
  assert.equal(await page.getAttribute("#verify-link", "href"), `${stack.api}/`);

  await verify(stack, client, account, "erin");
  // The watcher notices the Attested event without a reload.
  await page.waitForSelector('#status[data-state="verified"]', { timeout: 30_000 });
  assert.equal(await page.isVisible("#verify-link"), false);
  await page.click("#claim");
  const [result, text] = await outcome(page);
  assert.equal(result, "claimed", text);
  await page.waitForFunction(() => document.getElementById("balance").textContent === "100");
  assert.equal(await chain.readContract({ address: drop, abi: (await import("../src/kycdrop.js")).kycDropAbi, functionName: "claimed", args: [account.address] }), true);
  await page.close();
});

test("after revocation the page shows it and the contract refuses the claim", async () => {
  const account = freshWallet();
  await verify(stack, client, account, "frank");
  const page = await dappPage(account);
  await page.waitForSelector('#status[data-state="verified"]');

  const { challenge, walletSignature } = await evidence(stack, client, account, "frank", "revoke");
  await client.revoke({ challenge_id: challenge.id, wallet_signature: walletSignature });
  await page.waitForSelector('#status[data-state="unverified"]', { timeout: 30_000 });
  assert.equal(await isVerified(chain, stack.registry, account.address), false);

  await page.click("#claim");
  const [result, text] = await outcome(page);
  assert.equal(result, "refused", text);
  assert.match(text, /not verified/);
  assert.equal(await page.textContent("#balance"), "0");
  await page.close();
});
