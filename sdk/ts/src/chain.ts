// On-chain helpers on viem: read the KycRegistry, decode its events, watch a wallet.
import {
  decodeEventLog,
  type Address,
  type Client,
  type Log,
  type Transport,
  type Chain,
} from "viem";
import { getContractEvents, readContract, watchContractEvent } from "viem/actions";
import { kycRegistryAbi } from "./generated/abi.js";

/** Why an attestation was revoked on chain (`IKycRegistry`'s REASON_* constants). */
export const RevocationReason = {
  holder: 1,
  operator: 2,
  certificateRevoked: 3,
  certificateSuperseded: 4,
  erasure: 5,
  rotated: 6,
} as const;

/** Claim bits of an attestation's `claims` bitmap (`IKycRegistry`'s CLAIM_* constants). */
export const Claim = {
  uniquePerson: 1,
  ageOver18: 2,
  ageOver20: 4,
} as const;

/** `attestationOf(wallet)`: the registry's record (zeroes when the wallet was never attested). */
export interface Attestation {
  level: number;
  claims: number;
  /** Unix seconds. */
  issuedAt: number;
  /** Unix seconds. */
  expiresAt: number;
  revocationReason: number;
  revoked: boolean;
}

/** A decoded registry event. */
export type RegistryEvent =
  | { kind: "attested"; wallet: Address; level: number; expiresAt: number; log: Log }
  | { kind: "revoked"; wallet: Address; reason: number; log: Log };

type AnyClient = Client<Transport, Chain | undefined>;

/**
 * The registry's answer to `isVerified(wallet)` (attested, not revoked, not expired), or
 * `isVerified(wallet, minLevel)` when `minLevel` is given.
 */
export function isVerified(
  client: AnyClient,
  registry: Address,
  wallet: Address,
  minLevel?: number,
): Promise<boolean> {
  return minLevel === undefined
    ? readContract(client, { address: registry, abi: kycRegistryAbi, functionName: "isVerified", args: [wallet] })
    : readContract(client, {
        address: registry,
        abi: kycRegistryAbi,
        functionName: "isVerified",
        args: [wallet, minLevel],
      });
}

/** `hasClaims(wallet, claims)`: verified, and the record holds every bit of `claims` (see `Claim`). */
export function hasClaims(client: AnyClient, registry: Address, wallet: Address, claims: number): Promise<boolean> {
  return readContract(client, { address: registry, abi: kycRegistryAbi, functionName: "hasClaims", args: [wallet, claims] });
}

/** The registry's record for `wallet`. */
export async function attestationOf(client: AnyClient, registry: Address, wallet: Address): Promise<Attestation> {
  const record = await readContract(client, {
    address: registry,
    abi: kycRegistryAbi,
    functionName: "attestationOf",
    args: [wallet],
  });
  return {
    level: record.level,
    claims: record.claims,
    issuedAt: Number(record.issuedAt),
    expiresAt: Number(record.expiresAt),
    revocationReason: record.revocationReason,
    revoked: record.revoked,
  };
}

/** Decodes the registry's `Attested` and `Revoked` logs; other logs are skipped. */
export function decodeRegistryEvents(logs: readonly Log[]): RegistryEvent[] {
  const events: RegistryEvent[] = [];
  for (const log of logs) {
    let decoded;
    try {
      decoded = decodeEventLog({ abi: kycRegistryAbi, data: log.data, topics: log.topics, strict: true });
    } catch {
      continue;
    }
    if (decoded.eventName === "Attested") {
      const { wallet, level, expiresAt } = decoded.args;
      events.push({ kind: "attested", wallet, level, expiresAt: Number(expiresAt), log });
    } else if (decoded.eventName === "Revoked") {
      const { wallet, reason } = decoded.args;
      events.push({ kind: "revoked", wallet, reason, log });
    }
  }
  return events;
}

/** The registry's `Attested`/`Revoked` events for `wallet` in a block range. */
export async function registryEvents(
  client: AnyClient,
  registry: Address,
  wallet: Address,
  range: { fromBlock?: bigint; toBlock?: bigint } = {},
): Promise<RegistryEvent[]> {
  const logs = await getContractEvents(client, {
    address: registry,
    abi: kycRegistryAbi,
    args: { wallet },
    fromBlock: range.fromBlock ?? 0n,
    toBlock: range.toBlock ?? "latest",
  });
  return decodeRegistryEvents(logs.filter((log) => log.eventName === "Attested" || log.eventName === "Revoked"));
}

/** What `watchWallet` reports: the wallet's status after an event (or at start). */
export interface WalletStatus {
  wallet: Address;
  verified: boolean;
  attestation: Attestation;
  /** The event that caused this report; absent for the first report. */
  event?: RegistryEvent;
}

export interface WatchWalletOptions {
  onStatus: (status: WalletStatus) => void;
  onError?: (error: Error) => void;
  /** Polling interval in ms for transports without subscriptions (default: the client's). */
  pollingInterval?: number;
  /** Report the current status once at start (default true). */
  emitInitial?: boolean;
}

/**
 * Watches `wallet` on the registry: reports its status at start and after every `Attested` or
 * `Revoked` event for it (viem's watchContractEvent: subscriptions on WebSocket transports,
 * log polling on HTTP). Returns the function that stops watching.
 */
export function watchWallet(
  client: AnyClient,
  registry: Address,
  wallet: Address,
  options: WatchWalletOptions,
): () => void {
  let stopped = false;
  const report = async (event?: RegistryEvent) => {
    try {
      const [verified, attestation] = await Promise.all([
        isVerified(client, registry, wallet),
        attestationOf(client, registry, wallet),
      ]);
      if (!stopped) options.onStatus({ wallet, verified, attestation, event });
    } catch (error) {
      options.onError?.(error as Error);
    }
  };
  const unwatch = watchContractEvent(client, {
    address: registry,
    abi: kycRegistryAbi,
    args: { wallet },
    pollingInterval: options.pollingInterval,
    onLogs: async (logs) => {
      for (const event of decodeRegistryEvents(logs as Log[])) await report(event);
    },
    onError: (error) => options.onError?.(error),
  });
  if (options.emitInitial ?? true) void report();
  return () => {
    stopped = true;
    unwatch();
  };
}
