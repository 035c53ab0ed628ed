// verifyWebhook against the Standard Webhooks spec's published test vector, and tampered cases.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { WebhookVerificationError, verifyWebhook } from "../dist/index.js";

// The spec's vector (standard-webhooks, spec/standard-webhooks.md).
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const timestamp = "1614265330";
const body = '{"test": 2432232314}';
const signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const now = 1614265330;
const headers = { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature };

async function refused(code, ...args) {
  await assert.rejects(verifyWebhook(...args), (error) => {
    assert.ok(error instanceof WebhookVerificationError);
    assert.equal(error.code, code);
    return true;
  });
}

test("the spec's test vector verifies", async () => {
  assert.deepEqual(await verifyWebhook(secret, headers, body, { now }), { test: 2432232314 });
  // Fetch Headers, bytes, several signatures (key rotation), upper-case header names.
  const many = new Headers({ ...headers, "webhook-signature": `v1,Zm9v v2,abc ${signature}` });
  assert.deepEqual(await verifyWebhook(secret, many, new TextEncoder().encode(body), { now }), { test: 2432232314 });
  const upper = { "Webhook-Id": id, "Webhook-Timestamp": timestamp, "Webhook-Signature": signature };
  assert.ok(await verifyWebhook(secret, upper, body, { now: now + 299 }));
});

test("tampered deliveries are refused", async () => {
  await refused("invalid_signature", secret, headers, '{"test": 2432232315}', { now });
  await refused("invalid_signature", secret, { ...headers, "webhook-id": id + "x" }, body, { now });
  await refused("invalid_signature", secret, { ...headers, "webhook-signature": signature.replace("g0h", "g1h") }, body, { now });
  await refused("invalid_signature", secret, { ...headers, "webhook-signature": signature.replace("v1,", "v2,") }, body, { now });
  await refused("invalid_signature", "whsec_" + Buffer.from("another key").toString("base64"), headers, body, { now });
  // A changed timestamp breaks the signature even inside the tolerance.
  await refused("invalid_signature", secret, { ...headers, "webhook-timestamp": String(now + 1) }, body, { now });
});

test("timestamps outside five minutes, missing headers and bad secrets are refused", async () => {
  await refused("timestamp_out_of_range", secret, headers, body, { now: now + 301 });
  await refused("timestamp_out_of_range", secret, headers, body, { now: now - 301 });
  await refused("timestamp_out_of_range", secret, { ...headers, "webhook-timestamp": "16142653e0" }, body, { now });
  // Real time: the vector is from 2021, far outside the tolerance.
  await refused("timestamp_out_of_range", secret, headers, body);
  for (const name of Object.keys(headers)) {
    const partial = { ...headers };
    delete partial[name];
    await refused("missing_headers", secret, partial, body, { now });
  }
  await refused("invalid_secret", "whsec_not base64!", headers, body, { now });
});

test("a fresh signature made as a sender would verifies now", async () => {
  const key = Buffer.from("a 24-byte signing secret").toString("base64");
  const ts = String(Math.floor(Date.now() / 1000));
  const payload = JSON.stringify({ type: "attestation.revoked", data: { wallet: "0x00" } });
  const mac = createHmac("sha256", Buffer.from(key, "base64")).update(`msg_1.${ts}.${payload}`).digest("base64");
  const fresh = { "webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": `v1,${mac}` };
  assert.equal((await verifyWebhook(`whsec_${key}`, fresh, payload)).type, "attestation.revoked");
});

test("the README's worked example (a honnin attestation.revoked body) verifies", async () => {
  const body =
    '{"type":"attestation.revoked","timestamp":"2026-12-02T14:00:00Z","data":{"attestation_id":"at_abababababababababababababababab","wallet":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","scope":null,"status":"revoked","reason":"holder","issued_at":"2026-12-01T09:00:00Z","expires_at":"2027-12-01T09:00:00Z"}}';
  const example = {
    "webhook-id": "msg_0123456789abcdef0123456789abcdef",
    "webhook-timestamp": "1796220000",
    "webhook-signature": "v1,Bswkbvkrx8phb2eBRoRaz2mj4dlpsNprb7r72iDICog=",
  };
  const payload = await verifyWebhook(secret, example, body, { now: 1796220000 });
  assert.equal(payload.data.reason, "holder");
});
