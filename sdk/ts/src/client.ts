// HonninClient: honnin's HTTP API, typed from its OpenAPI document, with typed errors and
// retries only for requests the API makes idempotent.
import type { components } from "./generated/api.js";
import {
  HonninError,
  HonninNetworkError,
  HonninRateLimitError,
  HonninTimeoutError,
  HonninUnavailableError,
  problemError,
  type Problem,
} from "./errors.js";

type Schemas = components["schemas"];
export type ChallengeRequest = Schemas["ChallengeRequest"];
export type Challenge = Schemas["ChallengeResponse"];
export type AttestationRequest = Schemas["AttestationRequest"];
export type AttestationAccepted = Schemas["AttestationAccepted"];
export type AttestationView = Schemas["AttestationView"];
export type AttestationStatus = Schemas["StatusName"];
export type RevocationRequest = Schemas["RevocationRequest"];
export type RevocationAccepted = Schemas["RevocationAccepted"];
export type ErasureRequest = Schemas["ErasureRequest"];
export type ErasureAccepted = Schemas["ErasureAccepted"];

/** Retry policy for idempotent requests (status reads and attestation re-sends). */
export interface RetryOptions {
  /** Attempts in all, the first included (default 4; 1 turns retries off). */
  attempts?: number;
  /** The first back-off in ms, doubled per attempt, with jitter (default 200). */
  baseDelayMs?: number;
  /** The longest back-off in ms, Retry-After included (default 5000). */
  maxDelayMs?: number;
}

export interface HonninClientOptions {
  /** The API's base URL, e.g. `https://honnin.example` (no trailing path). */
  baseUrl: string;
  /** A dApp's API key (`x-api-key`): its own rate limit. */
  apiKey?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  retry?: RetryOptions;
  /** Per-request timeout in ms (default 30000). */
  requestTimeoutMs?: number;
}

export interface WaitOptions {
  /** The scope whose record to wait for (name or `0x` id); absent: the global record. */
  scope?: string;
  /** Give up after this many ms (default 120000) with a HonninTimeoutError. */
  timeoutMs?: number;
  /** Between status reads, in ms (default 1000). */
  intervalMs?: number;
  /** Called after every status read (also while the wallet has no attestation yet: `null`). */
  onProgress?: (view: AttestationView | null, elapsedMs: number) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** The honnin HTTP API. Every problem answer is thrown as a typed `HonninError`. */
export class HonninClient {
  readonly baseUrl: string;
  readonly #options: HonninClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: HonninClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** `POST /v1/challenges`: a challenge whose message the card and the wallet sign. Not retried. */
  challenge(request: ChallengeRequest): Promise<Challenge> {
    return this.#request("POST", "/v1/challenges", request, false);
  }

  /**
   * `POST /v1/attestations`: the signed evidence. Retried on 429/5xx/network errors: an identical
   * re-send gets the original answer (the API replays it), never a second attestation.
   */
  attest(request: AttestationRequest): Promise<AttestationAccepted> {
    return this.#request("POST", "/v1/attestations", request, true);
  }

  /**
   * `GET /v1/attestations/{wallet}`: the wallet's most recent attestation (retried); with
   * `scope` (a registered scope's name or `0x` id) its record in that scope.
   */
  status(wallet: string, options: { scope?: string } = {}): Promise<AttestationView> {
    const query = options.scope === undefined ? "" : `?scope=${encodeURIComponent(options.scope)}`;
    return this.#request("GET", `/v1/attestations/${encodeURIComponent(wallet)}${query}`, undefined, true);
  }

  /** `POST /v1/revocations`: the holder revokes (a `revoke` challenge signed by the wallet). Not retried. */
  revoke(request: RevocationRequest): Promise<RevocationAccepted> {
    return this.#request("POST", "/v1/revocations", request, false);
  }

  /** `POST /v1/erasures`: the person, proved with the card, is forgotten. Not retried. */
  erase(request: ErasureRequest): Promise<ErasureAccepted> {
    return this.#request("POST", "/v1/erasures", request, false);
  }

  /**
   * Reads the wallet's status until it is `active` (returned). Throws a HonninError with code
   * `unexpected_response` when it is `revoked` or `expired` instead (it will not become active),
   * a HonninTimeoutError after `timeoutMs`.
   * A wallet with no attestation yet (`attestation_not_found`) is waited for.
   */
  async waitUntilActive(wallet: string, options: WaitOptions = {}): Promise<AttestationView> {
    const { timeoutMs = 120_000, intervalMs = 1000, onProgress, signal, scope } = options;
    const started = Date.now();
    let last: AttestationView | null = null;
    for (;;) {
      try {
        last = await this.status(wallet, { scope });
      } catch (error) {
        if (!(error instanceof HonninError && error.code === "attestation_not_found")) throw error;
        last = null;
      }
      const elapsed = Date.now() - started;
      onProgress?.(last, elapsed);
      if (last?.status === "active") return last;
      if (last && last.status !== "pending") {
        throw new HonninError(
          "unexpected_response",
          200,
          `the attestation is ${last.status}, not pending: it will not become active`,
        );
      }
      if (elapsed + intervalMs > timeoutMs) {
        const error = new HonninTimeoutError(
          "wait_timeout",
          0,
          `not active after ${elapsed} ms (status: ${last?.status ?? "none"})`,
        );
        error.lastStatus = last?.status;
        throw error;
      }
      await sleep(intervalMs, signal);
    }
  }

  async #request<T>(method: string, path: string, body: unknown, idempotent: boolean): Promise<T> {
    const retry = this.#options.retry ?? {};
    const attempts = idempotent ? Math.max(1, retry.attempts ?? 4) : 1;
    const base = retry.baseDelayMs ?? 200;
    const max = retry.maxDelayMs ?? 5000;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#once<T>(method, path, body);
      } catch (error) {
        const retryable =
          error instanceof HonninNetworkError ||
          error instanceof HonninUnavailableError ||
          error instanceof HonninRateLimitError;
        if (!retryable || attempt >= attempts) throw error;
        const backoff = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        const hinted =
          error instanceof HonninRateLimitError && error.retryAfterSeconds !== undefined
            ? Math.min(max, error.retryAfterSeconds * 1000)
            : 0;
        await sleep(Math.max(backoff, hinted));
      }
    }
  }

  async #once<T>(method: string, path: string, body: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#options.apiKey) headers["x-api-key"] = this.#options.apiKey;
    let response: Response;
    try {
      response = await this.#fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 30_000),
      });
    } catch (cause) {
      throw new HonninNetworkError("network_error", 0, `${method} ${path}: no answer (${cause})`, undefined, { cause });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.ok && json !== undefined) return json as T;
    if (isProblem(json)) throw problemError(response.status, json, response.headers.get("retry-after"));
    const error = new HonninError(
      "unexpected_response",
      response.status,
      `${method} ${path}: unexpected ${response.status} answer`,
    );
    throw response.status >= 500
      ? new HonninUnavailableError("unexpected_response", response.status, error.message)
      : error;
  }
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Problem).code === "string" &&
    typeof (value as Problem).status === "number"
  );
}
