// Every problem+json answer of the API as a typed error carrying its stable `code`.
import type { ProblemCode } from "./generated/codes.js";
import type { components } from "./generated/api.js";

/** The RFC 9457 problem body the API answers with (its OpenAPI `Problem`). */
export type Problem = components["schemas"]["Problem"] & { detail_ja?: string };

/** Base class of every error the SDK throws; `code` is the API's stable code to branch on. */
export class HonninError extends Error {
  override readonly name: string = "HonninError";
  /** The stable snake_case code (`ProblemCode` for API problems, or an SDK code below). */
  readonly code: ProblemCode | "network_error" | "wait_timeout" | "unexpected_response";
  /** The HTTP status (0 when there was no answer). */
  readonly status: number;
  /** The problem body as received, when there was one. */
  readonly problem?: Problem;

  constructor(
    code: HonninError["code"],
    status: number,
    message: string,
    problem?: Problem,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.status = status;
    this.problem = problem;
  }
}

/** The API refused the request as sent (400, 404, 409, 410, 413, 415, 422): do not re-send it. */
export class HonninRequestError extends HonninError {
  override readonly name = "HonninRequestError";
}

/** 401: an unknown API key or a missing/invalid admin token. */
export class HonninAuthError extends HonninError {
  override readonly name = "HonninAuthError";
}

/** 429: rate limited; `retryAfterSeconds` from the Retry-After header. */
export class HonninRateLimitError extends HonninError {
  override readonly name = "HonninRateLimitError";
  retryAfterSeconds?: number;
}

/** 500 or 503: the service could not answer now (retried where the request is idempotent). */
export class HonninUnavailableError extends HonninError {
  override readonly name = "HonninUnavailableError";
}

/** No answer at all (connection refused, reset, DNS). */
export class HonninNetworkError extends HonninError {
  override readonly name = "HonninNetworkError";
}

/** `waitUntilActive` gave up: the attestation was not active in time (`lastStatus` says where it was). */
export class HonninTimeoutError extends HonninError {
  override readonly name = "HonninTimeoutError";
  lastStatus?: string;
}

/** True when `error` is a HonninError with `code` (narrowing it). */
export function isHonninError<C extends HonninError["code"]>(
  error: unknown,
  code?: C,
): error is HonninError & { code: C } {
  return error instanceof HonninError && (code === undefined || error.code === code);
}

/** The typed error for a problem answer with `status`. */
export function problemError(status: number, problem: Problem, retryAfter: string | null): HonninError {
  const code = problem.code as ProblemCode;
  const message = `${status} ${code}: ${problem.detail}`;
  if (status === 401) return new HonninAuthError(code, status, message, problem);
  if (status === 429) {
    const error = new HonninRateLimitError(code, status, message, problem);
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    if (Number.isFinite(seconds)) error.retryAfterSeconds = seconds;
    return error;
  }
  if (status >= 500) return new HonninUnavailableError(code, status, message, problem);
  return new HonninRequestError(code, status, message, problem);
}
