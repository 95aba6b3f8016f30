// The local stand-in for API Gateway's API keys and usage plans: the keys issued to API clients,
// looked up by the SHA-256 of the presented value (a Map keyed by the secret itself would answer
// in time that depends on the secret), enabled or disabled, and a token bucket per key that
// answers 429 as a usage plan's throttle does. With a data dir the keys survive restarts.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { ClientChannel } from '../../lambdas/core/trust/api-client.js';
import type { IssuedUsageKey, UsageKeys } from '../../lambdas/core/trust/usage-keys.js';

/** Per-client throttle, as each usage plan sets it (see the stack's stage configuration). */
export interface ClientThrottle {
  readonly rateLimitPerSecond: number;
  readonly burstLimit: number;
}

interface StoredKey {
  readonly id: string;
  readonly valueSha256: string;
  readonly clientId: string;
  readonly channel: ClientChannel;
  enabled: boolean;
}

const KEYS_FILE = 'local-usage-keys.json';
const StoredKeys = z.array(
  z.object({ id: z.string().min(1), valueSha256: z.string().regex(/^[0-9a-f]{64}$/), clientId: z.string().min(1), channel: z.enum(['WEB', 'MOBILE', 'POS']), enabled: z.boolean() }),
);

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

export class LocalUsageKeys implements UsageKeys {
  readonly #byHash = new Map<string, StoredKey>();
  readonly #file: string | undefined;
  readonly #throttle: ClientThrottle;
  readonly #buckets = new Map<string, { tokens: number; refilledAtMs: number }>();
  readonly #nowMs: () => number;

  constructor(options: { readonly dataDir?: string; readonly throttle: ClientThrottle; readonly nowMs?: () => number }) {
    this.#file = options.dataDir === undefined ? undefined : path.join(options.dataDir, KEYS_FILE);
    this.#throttle = options.throttle;
    this.#nowMs = options.nowMs ?? Date.now;
    if (this.#file !== undefined && existsSync(this.#file)) {
      for (const key of StoredKeys.parse(JSON.parse(readFileSync(this.#file, 'utf8')))) this.#byHash.set(key.valueSha256, key);
    }
  }

  issueKey(client: { readonly clientId: string; readonly channel: ClientChannel }): Promise<IssuedUsageKey> {
    const usageKey = `pk_local_${randomBytes(24).toString('base64url')}`;
    const key: StoredKey = { id: `local-key-${randomUUID()}`, valueSha256: sha256(usageKey), clientId: client.clientId, channel: client.channel, enabled: true };
    this.#byHash.set(key.valueSha256, key);
    this.#persist();
    return Promise.resolve({ usageKeyId: key.id, usageKey });
  }

  disableKey(usageKeyId: string): Promise<void> {
    for (const key of this.#byHash.values()) if (key.id === usageKeyId) key.enabled = false;
    this.#persist();
    return Promise.resolve();
  }

  /** The enabled key with this value, as API Gateway resolves x-api-key; undefined otherwise. */
  resolve(value: string | undefined): { readonly id: string; readonly channel: ClientChannel } | undefined {
    if (value === undefined || value.length > 256) return undefined;
    const key = this.#byHash.get(sha256(value));
    return key?.enabled === true ? { id: key.id, channel: key.channel } : undefined;
  }

  /**
   * Takes one token from the key's bucket (rate per second, up to burst). Returns undefined when
   * the request may pass, else the whole seconds to wait before a token is there again.
   */
  throttle(usageKeyId: string): number | undefined {
    const now = this.#nowMs();
    const { rateLimitPerSecond: rate, burstLimit: burst } = this.#throttle;
    const bucket = this.#buckets.get(usageKeyId) ?? { tokens: burst, refilledAtMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.refilledAtMs) / 1000) * rate);
    bucket.refilledAtMs = now;
    this.#buckets.set(usageKeyId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }

  #persist(): void {
    if (this.#file === undefined) return;
    mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, JSON.stringify([...this.#byHash.values()], null, 2), { mode: 0o600 });
  }
}
