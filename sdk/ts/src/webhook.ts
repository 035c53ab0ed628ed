// Standard Webhooks signature verification (webhook-id, webhook-timestamp, webhook-signature).

/** Why a webhook was refused. */
export type WebhookErrorCode =
  | "missing_headers"
  | "invalid_secret"
  | "timestamp_out_of_range"
  | "invalid_signature";

export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(readonly code: WebhookErrorCode, message: string) {
    super(message);
  }
}

export interface VerifyWebhookOptions {
  /** Accepted clock difference in seconds (default 300: the spec's five minutes). */
  toleranceSeconds?: number;
  /** The current time, Unix seconds (default: now). */
  now?: number;
}

/** Headers as a Fetch `Headers`, a Node `IncomingHttpHeaders` or a plain record. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

const PREFIX = "whsec_";

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Compares two byte strings in time independent of where they differ. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i += 1) diff |= a[i]! ^ (b[i % b.length] ?? 0);
  return diff === 0;
}

/**
 * Verifies a webhook delivery per the Standard Webhooks spec: `webhook-signature` holds
 * space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under the key in
 * `secret` (`whsec_<base64>`); the timestamp must be within `toleranceSeconds` of now. `body`
 * must be the raw bytes received (not re-serialized JSON). Returns the parsed JSON body, or
 * throws a WebhookVerificationError.
 */
export async function verifyWebhook<T = unknown>(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): Promise<T> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  const key = fromBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
  if (!key || key.length === 0) throw new WebhookVerificationError("invalid_secret", "the secret is not whsec_<base64>");

  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  const sent = /^\d{1,15}$/.test(timestamp) ? Number(timestamp) : NaN;
  if (!Number.isFinite(sent) || Math.abs(now - sent) > tolerance) {
    throw new WebhookVerificationError("timestamp_out_of_range", "webhook-timestamp is too old, too new or malformed");
  }

  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + bytes.length);
  signed.set(prefix);
  signed.set(bytes, prefix.length);
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, signed));

  let valid = false;
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || value === undefined) continue;
    const candidate = fromBase64(value);
    if (candidate && equalBytes(candidate, expected)) valid = true;
  }
  if (!valid) throw new WebhookVerificationError("invalid_signature", "no v1 signature matches");
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}
