// Drives honnin's page in Debian's headless Chromium, as a person would: crates/cli/tests/it/
// browser.rs starts `honnin dev` and runs `node page.mjs CONFIG_JSON`.
//
// CONFIG: { base: "http://127.0.0.1:PORT", shots: "DIR", bridge: "http://127.0.0.1:PORT",
// bridge_signs: bool } (bridge: the `honnin card bridge` the test started, trusting only the
// honnin origin; bridge_signs: the verify flow's card step goes through it, else through the
// page's manual command, as the later flows always do).
// Talks to the Rust test in JSON lines: it writes a question on stdout ({"ask": …}) and reads
// the answer from stdin; its last stdout line is {"result": …} or {"failed": …}. Progress and
// the page's console go to stderr.
//
// What it checks on the page: the flow on `/` to "verified" with the optional age step
// (EIP-6963 wallet, the exact message both keys sign, the card signing through the bridge with
// the PIN and the signing password, or the card tool's JSON pasted, pending → active with tx
// hash and block, the age claims), refusals in Japanese with their advice (and in English after
// the switch), `/status` with the claims, self-revocation, erasure, an age claim refused (a
// signing signature over another message) while the verification stands, and that every
// request the page makes goes to the honnin origin.
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { foreignOrigin } from "./foreign.mjs";
import { installWallet } from "./wallet.mjs";

const config = JSON.parse(process.argv[2]);
const origin = new URL(config.base).origin;
const log = (line) => process.stderr.write(`browser: ${line}\n`);

// ---- the Rust side: one question, one answer line ----
const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(question) {
  process.stdout.write(JSON.stringify({ ask: question }) + "\n");
  const { value, done } = await answers.next();
  if (done) throw new Error(`no answer to ${question.kind}`);
  const answer = JSON.parse(value);
  if (answer.error) throw new Error(`${question.kind}: ${answer.error}`);
  return answer;
}

// ---- the browser: Debian's Chromium, a fresh profile, nothing that phones home ----
const profile = mkdtempSync(join(tmpdir(), "honnin-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1000, height: 760 },
  locale: "ja-JP",
});
const wallet = await installWallet(context);
const page = context.pages()[0] ?? (await context.newPage());

// The page's requests: to its honnin origin, to the trusted local bridge, anywhere else.
const requests = { own: 0, bridge: 0, foreign: [] };
page.on("request", (request) => {
  const url = request.url();
  if (new URL(url).origin === origin) requests.own += 1;
  else if (config.bridge && new URL(url).origin === new URL(config.bridge).origin) requests.bridge += 1;
  else requests.foreign.push(url);
});
const consoleLines = [];
page.on("console", (message) => {
  const line = `${message.type()}: ${message.text()}`;
  consoleLines.push(line);
  log(`page console ${line}`);
});
page.on("pageerror", (error) => {
  consoleLines.push(`pageerror: ${error.message}`);
  log(`page error ${error.message}`);
});
// Every status the page read while following the attestation (GET /v1/attestations/{wallet}).
const followed = [];
page.on("response", async (response) => {
  const url = new URL(response.url());
  if (response.status() >= 400) log(`answer ${response.status()} to ${response.request().method()} ${url.pathname}`);
  if (response.request().method() !== "GET" || !url.pathname.startsWith("/v1/attestations/")) return;
  const body = await response.json().catch(() => null);
  if (body?.status) followed.push(body.status);
});

// ---- steps ----
let step = "start";
const shots = [];
async function shotOf(of, name) {
  const path = join(config.shots, `${name}.png`);
  await of.screenshot({ path, fullPage: true });
  shots.push(path);
}
const shot = (name) => shotOf(page, name);
const text = (id) => page.locator(`#${id}`).textContent();
const visible = (id) => page.locator(`#${id}`).isVisible();

// The problem box's code and text, when it is shown.
async function problem() {
  if (!(await visible("problem"))) return null;
  return {
    code: (await page.locator("#problem").getAttribute("data-code")) ?? null,
    text: await text("problem-text"),
    action: await text("problem-action"),
  };
}

// Waits until element `id` is shown; a problem shown instead fails the step with its text.
async function shown(id, timeout = 15_000) {
  await page.waitForFunction(
    (id) => !document.getElementById(id).hidden || !document.getElementById("problem").hidden,
    id,
    { timeout },
  );
  if (await visible(id)) return;
  throw new Error(`the page shows a problem instead of #${id}: ${JSON.stringify(await problem())}`);
}

// Waits until the problem box shows `code` (or any problem when `code` is null).
async function refusal(code) {
  await page.locator("#problem").waitFor({ state: "visible", timeout: 15_000 });
  await page.waitForFunction(
    (code) => code === null || document.getElementById("problem").dataset.code === code,
    code,
    { timeout: 5_000 },
  );
  return problem();
}

// Connect → challenge → wallet signature → (with `age`: the age step ticked) → the card's JSON
// pasted (with `age`: also the signing key's, from the page's second command; `stale`: that one
// signs another message, as a person pasting an older output would). Returns what was shown.
async function upToTheCard(prefix, { age = false, stale = false, query = "" } = {}) {
  step = `${prefix}: open /${query}`;
  await page.goto(`${config.base}/${query}`);
  await shown("verify");
  if (prefix === "verify") await shot("01-start");
  step = `${prefix}: connect the wallet`;
  if (prefix === "verify") {
    // By keyboard, as a person without a mouse would: Tab to the button, Enter.
    await page.focus("#lang");
    for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.id === "connect")); i += 1) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Enter");
  } else {
    await page.click("#connect");
  }
  await shown("wallet-line");
  const address = (await text("wallet-address")).trim();
  if (address !== wallet.address) throw new Error(`the page shows wallet ${address}`);
  if (prefix === "verify") await shot("02-connected");
  step = `${prefix}: ask a challenge`;
  await page.click("#ask");
  await shown("message-box");
  const message = await text("message");
  if (prefix === "verify") await shot("03-challenge");
  step = `${prefix}: the wallet signs`;
  await page.click("#wallet-sign");
  await shown("card-box");
  if (wallet.signed.at(-1) !== message) throw new Error("the wallet signed another message than the one shown");
  const command = await text("manual-command");
  if (prefix === "verify") await shot("04-wallet-signed");
  let ageStep = null, signingCommand = null;
  if (age) {
    step = `${prefix}: the age step`;
    if (await visible("manual-signing")) throw new Error("the second paste field is shown before the age step is chosen");
    // By keyboard: focus the checkbox, Space ticks it.
    await page.focus("#age");
    await page.keyboard.press("Space");
    await shown("manual-signing");
    if (!(await page.isChecked("#age"))) throw new Error("the age step is not ticked");
    signingCommand = await text("manual-signing-command");
    ageStep = {
      legend: await page.locator("#age-step legend").textContent(),
      label: await page.locator('label[for="age"]').textContent(),
      help: await text("age-help"),
      described_by: await page.getAttribute("#age", "aria-describedby"),
      signing_command: signingCommand,
      signing_label: await page.locator('label[for="signing-json"]').textContent(),
    };
    if (prefix === "verify") {
      await shot("04-age-step");
      await page.setViewportSize({ width: 390, height: 844 });
      await shot("04-age-step-phone");
      await page.setViewportSize({ width: 1000, height: 760 });
    }
  }
  if (prefix === "verify" && config.bridge_signs) return { message, command, card: null, ageStep };
  step = `${prefix}: the card signs (manual fallback)`;
  const card = await ask({ kind: "card_sign", command, message, signing_command: signingCommand, stale });
  return { message, command, card: card.json, signing: card.signing_json ?? null, ageStep };
}

// The card step through `honnin card bridge`: the page finds the bridge, the person presses
// the button, and the bridge's terminal (answered by the Rust side: y, then the PIN) signs.
async function throughTheBridge(message, age) {
  step = "verify: the page finds the bridge";
  await shown("bridge-sign");
  const found = await text("bridge-status");
  step = "verify: the card signs through the bridge";
  await page.click("#bridge-sign");
  const waitingKey = age ? "bridge_waiting_age" : "bridge_waiting";
  await page.waitForFunction((key) => document.getElementById("bridge-status").dataset.t === key, waitingKey, { timeout: 10_000 });
  const waiting = await text("bridge-status");
  await shot("05-bridge-waiting");
  const terminal = await ask({ kind: "bridge_sign", message, age });
  return { found, waiting, terminal: terminal.shown };
}

// The claims the page shows for the age step.
async function claimsShown() {
  if (!(await visible("claims-box"))) return null;
  return {
    items: await page.$$eval("#claims-list li", (lis) => lis.map((li) => ({ claim: li.dataset.claim, granted: li.dataset.granted, text: li.textContent }))),
    refused: await page.$$eval("#claims-refused-list li", (lis) => lis.map((li) => ({ code: li.dataset.code, text: li.textContent }))),
    refused_shown: await visible("claims-refused"),
    title: await text("claims-title"),
  };
}

async function verify() {
  const { message, command, card, signing, ageStep } = await upToTheCard("verify", { age: true });
  let bridge = null;
  if (card === null) {
    bridge = await throughTheBridge(message, true);
  } else {
    await page.fill("#card-json", card);
    await page.fill("#signing-json", signing);
    await shot("05-card-signed");
    step = "verify: submit";
    await page.click("#submit");
  }
  await shown("chain-box");
  await shown("claims-box");
  await shot("06-submitted");
  step = "verify: follow pending → active";
  await shown("verified", 60_000);
  const verified = {
    message,
    command,
    bridge,
    age_step: ageStep,
    claims: await claimsShown(),
    followed: [...followed],
    status: await page.locator("#chain-status").getAttribute("data-status"),
    status_text: await text("chain-status"),
    tx_hash: (await text("tx-link")).trim(),
    block: (await text("block")).trim(),
    verified_text: await text("verified"),
    lang: await page.getAttribute("html", "lang"),
    no_number_note: await page.locator(".note").textContent(),
  };
  await shot("07-verified");
  await page.locator("#claims-box").screenshot({ path: join(config.shots, "07-age-claims.png") });
  shots.push(join(config.shots, "07-age-claims.png"));
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("07-verified-phone");
  await page.setViewportSize({ width: 1000, height: 760 });
  step = "verify: the claims in English";
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  verified.claims_en = await claimsShown();
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "ja");
  step = "verify: the registry (asked by the Rust side)";
  const registry = await ask({ kind: "registry", wallet: wallet.address, expect: true, claims: [2, 4] });
  verified.registry = registry.is_verified;
  verified.has_claims = registry.has_claims;
  return verified;
}

// A second attestation for the same wallet: refused, in Japanese with its advice, then in
// English after the switch. Before it, a paste that is not the card tool's output.
// The card signs through the page's two manual commands (the age step): the second field refuses
// the first command's output.
async function refusals() {
  const { card, signing } = await upToTheCard("refusal", { age: true });
  step = "refusal: a paste that is not honnin card sign --json";
  await page.fill("#card-json", '{"not": "the card tool output"}');
  await page.click("#submit");
  const badJson = await refusal(null);
  await shot("08-bad-paste");
  step = "refusal: the first command's output in the second field";
  await page.fill("#card-json", card);
  await page.fill("#signing-json", card);
  await page.click("#submit");
  await page.waitForFunction(() => document.getElementById("problem-text").textContent.includes("--key signing"), null, { timeout: 5_000 });
  const badSigning = await problem();
  await shot("08-bad-paste-signing");
  step = "refusal: a second attestation for the same wallet";
  await page.fill("#signing-json", signing);
  await page.click("#submit");
  const ja = await refusal("wallet_already_attested");
  await shot("09-refusal-ja");
  step = "refusal: switched to English";
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  const en = await problem();
  await shot("10-refusal-en");
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "ja");
  return { bad_json: badJson, bad_signing: badSigning, ja, en };
}

// /status for the wallet, then self-revocation signed by the wallet.
async function statusAndRevocation() {
  step = "status: open /status";
  await page.goto(`${config.base}/status`);
  await shown("status");
  await page.fill("#status-wallet", wallet.address);
  await page.click("#status-form button[type=submit]");
  await shown("status-view");
  const read = async () => ({
    status: await page.locator("#sv-status").getAttribute("data-status"),
    status_text: await text("sv-status"),
    level: await text("sv-level"),
    expires: await text("sv-expires"),
    reason: await text("sv-reason"),
    reason_code: await page.locator("#sv-reason").getAttribute("data-reason"),
    claims: await text("sv-claims"),
    claims_bits: await page.locator("#sv-claims").getAttribute("data-claims"),
  });
  const before = await read();
  await shot("11-status");
  step = "status: self-revocation";
  const signed = wallet.signed.length;
  await page.click("#revoke");
  await page.waitForFunction(() => document.getElementById("sv-status").dataset.status === "revoked", null, { timeout: 15_000 })
    .catch(async (error) => { throw new Error(`${error.message}; problem: ${JSON.stringify(await problem())}`); });
  const after = { ...(await read()), live: await text("live"), revoke_message: wallet.signed.slice(signed) };
  await shot("12-revoked");
  step = "status: the registry after the revocation (asked by the Rust side)";
  after.registry = (await ask({ kind: "registry", wallet: wallet.address, expect: false })).is_verified;
  return { before, after };
}

// Erasure from /status, the card signing the `erase` challenge (manual fallback), then the
// wallet looked up again.
async function erasure() {
  step = "erasure: show the steps";
  await page.click("#erase");
  await shown("erase-box");
  const command = await text("erase-command");
  step = "erasure: the card signs (manual fallback)";
  const card = await ask({ kind: "card_sign", command, purpose: "erase" });
  await page.fill("#erase-json", card.json);
  step = "erasure: submit";
  await page.click("#erase-submit");
  await page.waitForFunction(() => document.getElementById("live").textContent === "消去しました。" || !document.getElementById("problem").hidden, null, { timeout: 15_000 });
  const erased = { live: await text("live"), problem: await problem() };
  await shot("13-erased");
  step = "erasure: the wallet looked up again";
  await page.click("#status-form button[type=submit]");
  await page.waitForTimeout(500);
  erased.after = { status_view: await visible("status-view"), status: await page.locator("#sv-status").getAttribute("data-status"), problem: await problem() };
  return erased;
}

// After the erasure, the wallet verified again with the age step, the signing key's output from
// another message pasted: the claims are refused with a sentence, the verification stands.
async function claimRefusal() {
  const { card, signing } = await upToTheCard("claims", { age: true, stale: true });
  await page.fill("#card-json", card);
  await page.fill("#signing-json", signing);
  step = "claims: submit";
  await page.click("#submit");
  await shown("claims-refused");
  const ja = await claimsShown();
  await shot("15-claims-refused");
  step = "claims: the refusal in English";
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  const en = await claimsShown();
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "ja");
  step = "claims: the verification stands (pending → active)";
  await shown("verified", 60_000);
  const registry = await ask({ kind: "registry", wallet: wallet.address, expect: true, claims: [2] });
  return { ja, en, status: await page.locator("#chain-status").getAttribute("data-status"), registry: registry.is_verified, has_claims: registry.has_claims };
}

// The dApp `kyc-drop`'s scope (honnin dev registers it): `/?scope=kyc-drop` says which dApp,
// the message names it, the record is that scope's only (asked on chain by the Rust side);
// `/status`, reached by the page's own link, keeps the scope, finds that record and revokes it
// there while the global record stands. Then an unregistered scope is refused with its advice.
async function scoped() {
  const { message, card } = await upToTheCard("scope", { query: "?scope=kyc-drop" });
  const line = {
    shown: await visible("scope-line"),
    name: await text("scope-name"),
    text: await text("scope-line"),
    status_link: await page.locator("nav a").nth(1).getAttribute("href"),
    message,
  };
  await page.fill("#card-json", card);
  step = "scope: submit";
  await page.click("#submit");
  await shown("verified", 60_000);
  await shot("16-scope-verified");
  const verified = {
    status: await page.locator("#chain-status").getAttribute("data-status"),
    registry: (await ask({ kind: "registry", wallet: wallet.address, expect: true, scope: "kyc-drop" })).is_verified,
  };
  step = "scope: /status through the page's link";
  await page.locator("nav a").nth(1).click();
  await page.waitForURL(/\/status\?scope=kyc-drop$/);
  await shown("status");
  await page.fill("#status-wallet", wallet.address);
  await page.click("#status-form button[type=submit]");
  await shown("status-view");
  const before = { status: await page.locator("#sv-status").getAttribute("data-status"), scope_shown: await visible("scope-line") };
  step = "scope: self-revocation in the scope";
  const signed = wallet.signed.length;
  await page.click("#revoke");
  await page.waitForFunction(() => document.getElementById("sv-status").dataset.status === "revoked", null, { timeout: 15_000 })
    .catch(async (error) => { throw new Error(`${error.message}; problem: ${JSON.stringify(await problem())}`); });
  const after = {
    status: await page.locator("#sv-status").getAttribute("data-status"),
    revoke_message: wallet.signed.slice(signed),
    registry: (await ask({ kind: "registry", wallet: wallet.address, expect: false, scope: "kyc-drop" })).is_verified,
    global: (await ask({ kind: "registry", wallet: wallet.address, expect: true })).is_verified,
  };
  await shot("17-scope-revoked");
  step = "scope: an unregistered scope";
  await page.goto(`${config.base}/?scope=no-such-dapp`);
  await shown("verify");
  await page.click("#connect");
  await shown("wallet-line");
  await page.click("#ask");
  const unknown = await refusal("unknown_scope");
  await shot("18-unknown-scope");
  return { line, verified, before, after, unknown };
}

let outcome;
try {
  const verified = await verify();
  const refused = await refusals();
  const status = await statusAndRevocation();
  const erased = await erasure();
  const claimsRefused = await claimRefusal();
  const scope = await scoped();
  step = "a page on another origin asks the bridge";
  const foreign = await foreignOrigin(context, config.bridge, shotOf);
  outcome = {
    result: {
      wallet: wallet.address,
      verified,
      refusals: refused,
      status,
      erased,
      claims_refused: claimsRefused,
      scope,
      foreign,
      signed: wallet.signed.length,
      wallet_calls: wallet.calls,
      requests: { own: requests.own, bridge: requests.bridge, foreign: requests.foreign },
      console: consoleLines,
      shots,
    },
  };
} catch (error) {
  log(`FAILED at step "${step}": ${error.stack ?? error}`);
  await page.screenshot({ path: join(config.shots, "failed.png"), fullPage: true }).catch(() => {});
  outcome = {
    failed: { step, error: String(error.message ?? error), problem: await problem().catch(() => null), console: consoleLines },
  };
}
await context.close();
rmSync(profile, { recursive: true, force: true });
process.stdout.write(JSON.stringify(outcome) + "\n");
process.exit(outcome.result ? 0 : 1);
