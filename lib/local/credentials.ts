// Local stand-ins for what IAM and the participants hold on AWS: one admin key per admin role (what
// a role's IAM policy grants), and the seeded API clients' credential files (what an institution
// keeps: its client id, key id, usage-plan key and Ed25519 private key; the backbone keeps only
// the public key). With a data dir they are kept there, so yesterday's keys still work.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { ADMIN_ROLES, CLIENT_CHANNELS, type AdminRole } from '../../lambdas/core/trust/api-client.js';

export interface LocalCredentials {
  /** The x-admin-key of each admin role. */
  readonly adminKeys: Readonly<Record<AdminRole, string>>;
}

const CREDENTIALS_FILE = 'local-credentials.json';

const StoredCredentials = z.object({
  adminKeys: z.strictObject({ operations: z.string().min(20), risk: z.string().min(20), settlement: z.string().min(20) }),
});

function secret(prefix: string): string {
  return `${prefix}_${randomBytes(18).toString('base64url')}`;
}

export function generateCredentials(): LocalCredentials {
  const adminKeys = Object.fromEntries(ADMIN_ROLES.map((role) => [role, secret(`admin_${role}`)])) as Record<AdminRole, string>;
  return { adminKeys };
}

export function loadOrCreateCredentials(dataDir: string | undefined): LocalCredentials {
  if (dataDir === undefined) return generateCredentials();
  const file = path.join(dataDir, CREDENTIALS_FILE);
  if (existsSync(file)) {
    const stored = StoredCredentials.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    // A file from before admin roles existed holds one shared admin key: replace it, never widen it.
    if (stored.success) return stored.data;
  }
  mkdirSync(dataDir, { recursive: true });
  const created = generateCredentials();
  writeFileSync(file, JSON.stringify(created, null, 2), { mode: 0o600 });
  return created;
}

/** What an API client needs to call the API: the file `payments --credentials FILE` reads. */
export const ClientCredentials = z.strictObject({
  /** Base URL the client was issued for (up to, excluding, /v1); the CLI's default --api. */
  api: z.string().url().optional(),
  clientId: z.string().min(1),
  keyId: z.string().min(1),
  institutionId: z.string().min(1),
  channel: z.enum(CLIENT_CHANNELS),
  /** The usage-plan key, sent as x-api-key. */
  apiKey: z.string().min(1),
  /** PKCS#8 PEM of the Ed25519 signing key. */
  privateKey: z.string().min(1),
});
export type ClientCredentials = z.infer<typeof ClientCredentials>;

export function readClientCredentials(file: string): ClientCredentials {
  return ClientCredentials.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export function writeClientCredentials(file: string, credentials: ClientCredentials): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}
