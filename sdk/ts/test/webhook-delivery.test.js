// A real delivery from honnin (its webhook worker, `honnin dev`) verified by verifyWebhook:
// attestation.active and attestation.revoked for one wallet, each signed and checked over the
// raw body as received; the same delivery with its body changed is refused.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { HonninClient, WebhookVerificationError, verifyWebhook } from "../dist/index.js";
import { startStack } from "./stack.js";
import { evidence, freshWallet, verify } from "./flow.js";

let stack;
let client;
let receiver;
const received = [];
const waiters = [];

before(async () => {
  stack = await startStack();
  client = new HonninClient({ baseUrl: stack.api });
  receiver = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      waiters.splice(0).forEach((wake) => wake());
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
});
after(async () => {
  await stack?.stop();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve()));
});

/** The first delivery whose verified payload satisfies `match`, waited for up to 60 s. */
async function delivery(secret, match) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    for (const message of received) {
      const payload = await verifyWebhook(secret, message.headers, message.body);
      if (match(payload)) return { message, payload };
    }
    assert.ok(Date.now() < deadline, `no matching delivery among ${received.length}`);
    await new Promise((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 500);
    });
  }
}

test("honnin's deliveries verify with verifyWebhook; a changed body does not", async () => {
  const admin = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };
  const url = `http://127.0.0.1:${receiver.address().port}/hooks`;
  const created = await fetch(`${stack.api}/v1/admin/webhooks`, { method: "POST", headers: admin, body: JSON.stringify({ url }) });
  assert.equal(created.status, 201, await created.clone().text());
  const { endpoint, secret } = await created.json();
  assert.match(secret, /^whsec_/);

  const account = freshWallet();
  await verify(stack, client, account, "grace");
  const active = await delivery(secret, (p) => p.type === "attestation.active" && p.data.wallet === account.address);
  assert.equal(active.payload.data.status, "active");
  assert.equal(active.payload.data.reason, null);

  const { challenge, walletSignature } = await evidence(stack, client, account, "grace", "revoke");
  await client.revoke({ challenge_id: challenge.id, wallet_signature: walletSignature });
  const revoked = await delivery(secret, (p) => p.type === "attestation.revoked" && p.data.wallet === account.address);
  assert.equal(revoked.payload.data.reason, "holder");

  // The same signed delivery with one byte of its body changed, or under another secret.
  const tampered = Buffer.from(revoked.message.body);
  tampered[tampered.indexOf("holder")] = "H".charCodeAt(0);
  await assert.rejects(verifyWebhook(secret, revoked.message.headers, tampered), WebhookVerificationError);
  await assert.rejects(
    verifyWebhook("whsec_" + Buffer.from("not the endpoint's secret").toString("base64"), revoked.message.headers, revoked.message.body),
    (error) => error.code === "invalid_signature",
  );

  const removed = await fetch(`${stack.api}/v1/admin/webhooks/${endpoint.id}`, { method: "DELETE", headers: admin });
  assert.equal(removed.status, 204);
});
