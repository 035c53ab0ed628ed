// On-chain helpers on viem: read the KycRegistry, decode its events, watch a wallet.
import {
  concat,
  decodeEventLog,
  keccak256,
  toBytes,
  type Address,
  type Hex,
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

/**
 * A scope's id (`bytes32`) from its registered name: `keccak256("honnin/v1/scope" || 0x00 ||
 * name)`, as the registry and honnin's API compute it.
 */
export function scopeId(name: string): Hex {
  if (!/^[a-z0-9][a-z0-9.-]{0,63}$/.test(name)) {
    throw new TypeError("a scope name is 1 to 64 characters: a-z 0-9, then a-z 0-9 . -");
  }
  return keccak256(concat([toBytes("honnin/v1/scope"), new Uint8Array([0]), toBytes(name)]));
}

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

/** A decoded registry event; `scope` is the scope id for a scoped record, absent for the global one. */
export type RegistryEvent =
  | { kind: "attested"; wallet: Address; level: number; expiresAt: number; scope?: Hex; log: Log }
  | { kind: "revoked"; wallet: Address; reason: number; scope?: Hex; log: Log };

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

/** `isVerified(wallet, scope)`: the wallet's record in `scope` (see `scopeId`) is live. */
export function isVerifiedIn(client: AnyClient, registry: Address, wallet: Address, scope: Hex): Promise<boolean> {
  return readContract(client, { address: registry, abi: kycRegistryAbi, functionName: "isVerified", args: [wallet, scope] });
}

/** `hasClaims(wallet, scope, claims)`: the record in `scope` is live and holds every bit of `claims`. */
export function hasClaimsIn(
  client: AnyClient,
  registry: Address,
  wallet: Address,
  scope: Hex,
  claims: number,
): Promise<boolean> {
  return readContract(client, {
    address: registry,
    abi: kycRegistryAbi,
    functionName: "hasClaims",
    args: [wallet, scope, claims],
  });
}

/** The registry's record for `wallet` in `scope` (zeroes when none). */
export async function attestationIn(
  client: AnyClient,
  registry: Address,
  wallet: Address,
  scope: Hex,
): Promise<Attestation> {
  const record = await readContract(client, {
    address: registry,
    abi: kycRegistryAbi,
    functionName: "attestationOf",
    args: [wallet, scope],
  });
  return fromRecord(record);
}

type StoredRecord = {
  level: number;
  claims: number;
  issuedAt: number | bigint;
  expiresAt: number | bigint;
  revocationReason: number;
  revoked: boolean;
};

function fromRecord(record: StoredRecord): Attestation {
  return {
    level: record.level,
    claims: record.claims,
    issuedAt: Number(record.issuedAt),
    expiresAt: Number(record.expiresAt),
    revocationReason: record.revocationReason,
    revoked: record.revoked,
  };
}

/** The registry's record for `wallet`. */
export async function attestationOf(client: AnyClient, registry: Address, wallet: Address): Promise<Attestation> {
  const record = await readContract(client, {
    address: registry,
    abi: kycRegistryAbi,
    functionName: "attestationOf",
    args: [wallet],
  });
  return fromRecord(record);
}

/**
 * Decodes the registry's `Attested` and `Revoked` logs and their scoped twins `ScopedAttested`
 * and `ScopedRevoked` (with `scope`); other logs are skipped.
 */
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
    } else if (decoded.eventName === "ScopedAttested") {
      const { scope, wallet, level, expiresAt } = decoded.args;
      events.push({ kind: "attested", wallet, level, expiresAt: Number(expiresAt), scope, log });
    } else if (decoded.eventName === "ScopedRevoked") {
      const { scope, wallet, reason } = decoded.args;
      events.push({ kind: "revoked", wallet, reason, scope, log });
    }
  }
  return events;
}

/**
 * The registry's events for `wallet` in a block range: `Attested`/`Revoked` for its global
 * record, or with `scope` the `ScopedAttested`/`ScopedRevoked` of its record in that scope.
 */
export async function registryEvents(
  client: AnyClient,
  registry: Address,
  wallet: Address,
  range: { fromBlock?: bigint; toBlock?: bigint; scope?: Hex } = {},
): Promise<RegistryEvent[]> {
  const logs = await getContractEvents(client, {
    address: registry,
    abi: kycRegistryAbi,
    fromBlock: range.fromBlock ?? 0n,
    toBlock: range.toBlock ?? "latest",
  });
  return decodeRegistryEvents(logs).filter((event) => concerns(event, wallet, range.scope));
}

/** Whether `event` is about `wallet`'s record in `scope` (absent: its global record). */
function concerns(event: RegistryEvent, wallet: Address, scope?: Hex): boolean {
  const sameScope = scope === undefined ? event.scope === undefined : event.scope?.toLowerCase() === scope.toLowerCase();
  return sameScope && event.wallet.toLowerCase() === wallet.toLowerCase();
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
  /** Watch the wallet's record in this scope (see `scopeId`) instead of its global record. */
  scope?: Hex;
}

/**
 * Watches `wallet` on the registry: reports its status at start and after every `Attested` or
 * `Revoked` event for it (with `scope`: its record in that scope, `ScopedAttested` /
 * `ScopedRevoked`) (viem's watchContractEvent: subscriptions on WebSocket transports, log
 * polling on HTTP). Returns the function that stops watching.
 */
export function watchWallet(
  client: AnyClient,
  registry: Address,
  wallet: Address,
  options: WatchWalletOptions,
): () => void {
  let stopped = false;
  const { scope } = options;
  const report = async (event?: RegistryEvent) => {
    try {
      const [verified, attestation] =
        scope === undefined
          ? await Promise.all([isVerified(client, registry, wallet), attestationOf(client, registry, wallet)])
          : await Promise.all([
              isVerifiedIn(client, registry, wallet, scope),
              attestationIn(client, registry, wallet, scope),
            ]);
      if (!stopped) options.onStatus({ wallet, verified, attestation, event });
    } catch (error) {
      options.onError?.(error as Error);
    }
  };
  const unwatch = watchContractEvent(client, {
    address: registry,
    abi: kycRegistryAbi,
    pollingInterval: options.pollingInterval,
    onLogs: async (logs) => {
      for (const event of decodeRegistryEvents(logs as Log[])) {
        if (concerns(event, wallet, scope)) await report(event);
      }
    },
    onError: (error) => options.onError?.(error),
  });
  if (options.emitInitial ?? true) void report();
  return () => {
    stopped = true;
    unwatch();
  };
}
