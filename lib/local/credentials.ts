// Local stand-ins for what API Gateway and IAM hold on AWS: one API key per channel (what
// usage plans hand out) and an admin key (for the IAM-authorised routes). With a data dir they
// are kept there, so keys printed yesterday still work after a restart.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CHANNELS } from '../topology.js';
import type { LocalApiKey } from './api-server.js';

export interface LocalCredentials {
  readonly apiKeys: readonly LocalApiKey[];
  readonly adminKey: string;
}

const CREDENTIALS_FILE = 'local-credentials.json';

const StoredCredentials = z.object({
  apiKeys: z.array(z.object({ channel: z.enum(CHANNELS), value: z.string().min(20), id: z.string().min(1) })),
  adminKey: z.string().min(20),
});

function secret(prefix: string): string {
  return `${prefix}_${randomBytes(18).toString('base64url')}`;
}

export function generateCredentials(): LocalCredentials {
  return {
    apiKeys: CHANNELS.map((channel) => ({ channel, value: secret(`pk_local_${channel.toLowerCase()}`), id: `local-key-${channel.toLowerCase()}` })),
    adminKey: secret('admin_local'),
  };
}

export function loadOrCreateCredentials(dataDir: string | undefined): LocalCredentials {
  if (dataDir === undefined) return generateCredentials();
  const file = path.join(dataDir, CREDENTIALS_FILE);
  if (existsSync(file)) {
    const stored = StoredCredentials.parse(JSON.parse(readFileSync(file, 'utf8')));
    // A channel added to the topology since the file was written gets a key of its own.
    const missing = generateCredentials().apiKeys.filter((key) => !stored.apiKeys.some((existing) => existing.channel === key.channel));
    if (missing.length === 0) return stored;
    const updated = { ...stored, apiKeys: [...stored.apiKeys, ...missing] };
    writeFileSync(file, JSON.stringify(updated, null, 2), { mode: 0o600 });
    return updated;
  }
  mkdirSync(dataDir, { recursive: true });
  const created = generateCredentials();
  writeFileSync(file, JSON.stringify(created, null, 2), { mode: 0o600 });
  return created;
}
