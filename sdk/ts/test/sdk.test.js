// @honnin/sdk against a real `honnin dev` stack: the flow to active and isVerified, the typed
// errors, waitUntilActive timing out, the watcher seeing a revocation, erasure.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createPublicClient, http } from "viem";
import { foundry } from "viem/chains";
import {
  HonninAuthError,
  HonninClient,
  HonninError,
  HonninNetworkError,
  HonninRequestError,
  HonninTimeoutError,
  HonninUnavailableError,
  RevocationReason,
  Claim,
  attestationOf,
  hasClaims,
  isHonninError,
  isVerified,
  problemCodes,
  registryEvents,
  watchWallet,
  scopeId,
  isVerifiedIn,
  hasClaimsIn,
  attestationIn,
} from "../dist/index.js";
import { startStack } from "./stack.js";
import { evidence, freshWallet, verify } from "./flow.js";

let stack;
let client;
let chain;
before(async () => {
  stack = await startStack();
  client = new HonninClient({ baseUrl: stack.api, retry: { attempts: 2, baseDelayMs: 10 } });
  chain = createPublicClient({ chain: foundry, transport: http(stack.rpcUrl), pollingInterval: 100 });
});
after(async () => stack?.stop());

test("the whole flow: challenge, attest, waitUntilActive, isVerified, attestationOf, events", async () => {
  const account = freshWallet();
  assert.equal(await isVerified(chain, stack.registry, account.address), false);
  const progress = [];
  const { challenge, card, walletSignature } = await evidence(stack, client, account, "alice");
  assert.match(challenge.id, /^ch_[0-9a-f]{32}$/);
  const request = {
    challenge_id: challenge.id,
    certificate: card.certificate,
    card_signature: card.card_signature,
    wallet_signature: walletSignature,
  };
  const accepted = await client.attest(request);
  assert.equal(accepted.wallet, account.address);
  // The API's idempotent re-send: the identical request gets the original answer.
  const again = await client.attest(request);
  assert.equal(again.attestation_id, accepted.attestation_id);

  const view = await client.waitUntilActive(account.address, {
    timeoutMs: 60_000,
    intervalMs: 100,
    onProgress: (v, ms) => progress.push([v?.status, ms]),
  });
  assert.equal(view.status, "active");
  assert.ok(view.tx_hash);
  assert.ok(progress.length >= 1 && progress.at(-1)[0] === "active");

  assert.equal(await isVerified(chain, stack.registry, account.address), true);
  assert.equal(await isVerified(chain, stack.registry, account.address, 1), true);
  assert.equal(await isVerified(chain, stack.registry, account.address, 2), false);
  const record = await attestationOf(chain, stack.registry, account.address);
  assert.equal(record.level, 1);
  assert.equal(record.revoked, false);
  assert.ok(record.expiresAt > Date.now() / 1000);
  assert.equal(record.claims & Claim.uniquePerson, Claim.uniquePerson);
  assert.equal(await hasClaims(chain, stack.registry, account.address, Claim.uniquePerson), true);
  assert.equal(await hasClaims(chain, stack.registry, account.address, Claim.ageOver20), false, "the simulated card proves no age");
  const events = await registryEvents(chain, stack.registry, account.address);
  assert.deepEqual(events.map((e) => [e.kind, e.wallet]), [["attested", account.address]]);
  assert.equal(events[0].level, 1);
});

/** Runs `fn` and returns the HonninError it throws (failing when it does not). */
async function refusal(fn) {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof HonninError, `not a HonninError: ${error}`);
    const sdkCodes = ["network_error", "wait_timeout", "unexpected_response"];
    assert.ok(sdkCodes.includes(error.code) || problemCodes.includes(error.code), error.code);
    return error;
  }
  assert.fail("no error");
}

test("every problem answer is a typed error with its stable code", async () => {
  const account = freshWallet();
  const other = freshWallet();

  let error = await refusal(() => client.status(account.address));
  assert.ok(error instanceof HonninRequestError);
  assert.equal(error.code, "attestation_not_found");
  assert.equal(error.status, 404);
  assert.ok(isHonninError(error, "attestation_not_found"));

  error = await refusal(() => client.challenge({ wallet: "0x1234" }));
  assert.equal(error.code, "malformed_request");
  assert.equal(error.status, 400);
  assert.equal(error.problem.type, "https://honnin.dev/problems/malformed_request");

  const missing = "ch_" + "f".repeat(32); // no digits: twelve in a row would read as an individual number
  const { challenge, card, walletSignature } = await evidence(stack, client, account, "bob");
  error = await refusal(() =>
    client.attest({ challenge_id: missing, certificate: card.certificate, card_signature: card.card_signature, wallet_signature: walletSignature }),
  );
  assert.equal(error.code, "challenge_not_found");

  // The wallet signature is another wallet's.
  const wrong = await other.signMessage({ message: challenge.message });
  error = await refusal(() =>
    client.attest({ challenge_id: challenge.id, certificate: card.certificate, card_signature: card.card_signature, wallet_signature: wrong }),
  );
  assert.equal(error.code, "wallet_mismatch");
  assert.equal(error.status, 422);

  // The challenge is used now: a different request on it is refused, not replayed.
  error = await refusal(() =>
    client.attest({ challenge_id: challenge.id, certificate: card.certificate, card_signature: card.card_signature, wallet_signature: walletSignature }),
  );
  assert.equal(error.code, "challenge_used");
  assert.equal(error.status, 409);

  // The card signed another message.
  const second = await evidence(stack, client, account, "bob");
  const otherCard = await stack.signWithCard("bob", "another message");
  error = await refusal(() =>
    client.attest({ challenge_id: second.challenge.id, certificate: second.card.certificate, card_signature: otherCard.card_signature, wallet_signature: second.walletSignature }),
  );
  assert.equal(error.code, "bad_signature");

  // An attest challenge sent as a revocation.
  const third = await evidence(stack, client, account, "bob");
  error = await refusal(() => client.revoke({ challenge_id: third.challenge.id, wallet_signature: third.walletSignature }));
  assert.equal(error.code, "challenge_purpose_mismatch");

  // An unknown API key.
  const keyed = new HonninClient({ baseUrl: stack.api, apiKey: "not-a-key" });
  error = await refusal(() => keyed.status(account.address));
  assert.ok(error instanceof HonninAuthError);
  assert.equal(error.code, "invalid_api_key");
  assert.equal(error.status, 401);
});

test("retries only idempotent requests, with bounded backoff", async () => {
  const calls = [];
  const failing = async (url, init) => {
    calls.push(init.method + " " + new URL(url).pathname);
    throw new TypeError("connection refused");
  };
  const flaky = new HonninClient({ baseUrl: stack.api, fetch: failing, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
  const wallet = freshWallet().address;
  assert.ok((await refusal(() => flaky.status(wallet))) instanceof HonninNetworkError);
  assert.ok((await refusal(() => flaky.attest({}))) instanceof HonninNetworkError);
  assert.ok((await refusal(() => flaky.challenge({ wallet }))) instanceof HonninNetworkError);
  assert.ok((await refusal(() => flaky.revoke({}))) instanceof HonninNetworkError);
  assert.deepEqual(calls, [
    ...Array(3).fill(`GET /v1/attestations/${wallet}`),
    ...Array(3).fill("POST /v1/attestations"),
    "POST /v1/challenges",
    "POST /v1/revocations",
  ]);
});

test("a 503 is retried for a status read and not for a challenge", async () => {
  const calls = [];
  let failures = 1;
  const unavailableOnce = async (url, init) => {
    calls.push(init.method);
    if (failures-- > 0) {
      const problem = { type: "https://honnin.dev/problems/unavailable", title: "Unavailable", status: 503, detail: "try again", code: "unavailable" };
      return new Response(JSON.stringify(problem), { status: 503, headers: { "content-type": "application/problem+json" } });
    }
    return fetch(url, init);
  };
  const account = freshWallet();
  await verify(stack, client, account, "heidi");
  const retrying = new HonninClient({ baseUrl: stack.api, fetch: unavailableOnce, retry: { baseDelayMs: 5 } });
  assert.equal((await retrying.status(account.address)).status, "active");
  assert.deepEqual(calls, ["GET", "GET"]);
  failures = 1;
  calls.length = 0;
  const error = await refusal(() => retrying.challenge({ wallet: account.address }));
  assert.ok(error instanceof HonninUnavailableError);
  assert.equal(error.code, "unavailable");
  assert.deepEqual(calls, ["POST"]);
});

test("waitUntilActive times out, reporting progress", async () => {
  const wallet = freshWallet().address;
  const progress = [];
  const started = Date.now();
  const error = await refusal(() =>
    client.waitUntilActive(wallet, { timeoutMs: 600, intervalMs: 100, onProgress: (view, ms) => progress.push([view, ms]) }),
  );
  const elapsed = Date.now() - started;
  assert.ok(error instanceof HonninTimeoutError);
  assert.equal(error.code, "wait_timeout");
  assert.ok(progress.length >= 3, `progress ${progress.length}`);
  assert.ok(progress.every(([view]) => view === null));
  assert.ok(elapsed >= 400 && elapsed < 5000, `elapsed ${elapsed}`);
});

test("the watcher sees a self-revocation; erasure revokes what is left", async () => {
  const account = freshWallet();
  await verify(stack, client, account, "carol");
  const seen = [];
  let revoked;
  const done = new Promise((resolve) => (revoked = resolve));
  const stop = watchWallet(chain, stack.registry, account.address, {
    pollingInterval: 100,
    onStatus: (status) => {
      seen.push(status);
      if (status.event?.kind === "revoked") revoked(status);
    },
    onError: (error) => seen.push({ error }),
  });
  try {
    const { challenge, walletSignature } = await evidence(stack, client, account, "carol", "revoke");
    const answer = await client.revoke({ challenge_id: challenge.id, wallet_signature: walletSignature });
    assert.equal(answer.status, "revoked");
    assert.equal(answer.reason, "holder");
    const status = await Promise.race([
      done,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no revocation seen: ${JSON.stringify(seen, (k, v) => (typeof v === "bigint" ? String(v) : v))}`)), 30_000)),
    ]);
    assert.equal(status.verified, false);
    assert.equal(status.event.reason, RevocationReason.holder);
    assert.equal(status.attestation.revoked, true);
    assert.equal(seen[0].verified, true, "the first report is the status at start");
  } finally {
    stop();
  }
  assert.equal((await client.status(account.address)).status, "revoked");
  const ended = await refusal(() => client.waitUntilActive(account.address, { timeoutMs: 5000, intervalMs: 100 }));
  assert.equal(ended.code, "unexpected_response");
  assert.match(ended.message, /revoked/);

  // Erasure: a second wallet of the same person, proved with the card.
  const second = freshWallet();
  await verify(stack, client, second, "dave");
  const { challenge, card } = await evidence(stack, client, second, "dave", "erase");
  const erased = await client.erase({ challenge_id: challenge.id, certificate: card.certificate, card_signature: card.card_signature });
  assert.equal(erased.erased, true);
  assert.equal(erased.revoked, 1);
});

test("a scoped record: a wallet in the kyc-drop scope, verified there only, watched per scope", async () => {
  const account = freshWallet();
  const scope = scopeId("kyc-drop"); // honnin dev registers kyc-drop
  const challenge = await client.challenge({ wallet: account.address, scope: "kyc-drop" });
  assert.equal(challenge.scope_id, scope);
  assert.ok(challenge.message.includes(`\nScope: kyc-drop (${scope})\n`), challenge.message);
  const card = await stack.signWithCard("erin", challenge.message);
  const accepted = await client.attest({
    challenge_id: challenge.id,
    certificate: card.certificate,
    card_signature: card.card_signature,
    wallet_signature: await account.signMessage({ message: challenge.message }),
  });
  assert.equal(accepted.scope, scope);
  const view = await client.waitUntilActive(account.address, { scope: "kyc-drop", timeoutMs: 60_000, intervalMs: 100 });
  assert.equal(view.scope, scope);
  assert.equal((await client.status(account.address, { scope })).attestation_id, view.attestation_id, "by id too");
  assert.equal((await refusal(() => client.status(account.address))).code, "attestation_not_found");
  assert.equal((await refusal(() => client.status(account.address, { scope: "nope" }))).code, "unknown_scope");
  assert.equal((await refusal(() => client.challenge({ wallet: account.address, scope: "nope" }))).code, "unknown_scope");

  // On chain: in its scope only.
  assert.equal(await isVerifiedIn(chain, stack.registry, account.address, scope), true);
  assert.equal(await isVerified(chain, stack.registry, account.address), false);
  assert.equal(await isVerifiedIn(chain, stack.registry, account.address, scopeId("other")), false);
  assert.equal(await hasClaimsIn(chain, stack.registry, account.address, scope, Claim.uniquePerson), true);
  assert.equal((await attestationIn(chain, stack.registry, account.address, scope)).level, 1);
  assert.throws(() => scopeId("Not A Name"), TypeError);

  // The watcher on the scoped record sees its self-revocation.
  let revoked;
  const done = new Promise((resolve) => (revoked = resolve));
  const stop = watchWallet(chain, stack.registry, account.address, {
    scope,
    pollingInterval: 100,
    onStatus: (status) => status.event?.kind === "revoked" && revoked(status),
  });
  try {
    const revoke = await client.challenge({ wallet: account.address, purpose: "revoke", scope: "kyc-drop" });
    const answer = await client.revoke({
      challenge_id: revoke.id,
      wallet_signature: await account.signMessage({ message: revoke.message }),
    });
    assert.equal(answer.scope, scope);
    const status = await Promise.race([
      done,
      new Promise((_, reject) => setTimeout(() => reject(new Error("no scoped revocation seen")), 30_000)),
    ]);
    assert.equal(status.verified, false);
    assert.equal(status.event.scope, scope);
    assert.equal(status.attestation.revocationReason, RevocationReason.holder);
  } finally {
    stop();
  }
  const events = await registryEvents(chain, stack.registry, account.address, { scope });
  assert.deepEqual(events.map((e) => [e.kind, e.scope]), [["attested", scope], ["revoked", scope]]);
  assert.deepEqual(await registryEvents(chain, stack.registry, account.address), [], "nothing global");
});
