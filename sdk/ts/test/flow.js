// The whole attestation flow against a stack, as a dApp's backend and a person would run it.
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

/** A fresh wallet (EOA) with no funds. */
export const freshWallet = () => privateKeyToAccount(generatePrivateKey());

/** Challenge, card and wallet signatures, submission: the request `attest` sends. */
export async function evidence(stack, client, account, cardName, purpose = "attest") {
  const challenge = await client.challenge({ wallet: account.address, purpose });
  const card = await stack.signWithCard(cardName, challenge.message);
  const walletSignature = await account.signMessage({ message: challenge.message });
  return { challenge, card, walletSignature };
}

/** Attests `account` with the card `cardName` and waits until it is active. */
export async function verify(stack, client, account, cardName) {
  const { challenge, card, walletSignature } = await evidence(stack, client, account, cardName);
  await client.attest({
    challenge_id: challenge.id,
    certificate: card.certificate,
    card_signature: card.card_signature,
    wallet_signature: walletSignature,
  });
  return client.waitUntilActive(account.address, { timeoutMs: 60_000, intervalMs: 100 });
}
