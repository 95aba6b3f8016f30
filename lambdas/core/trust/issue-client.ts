// Issuing an API client: its first signing key (brought by the institution, or generated with the
// private half handed back once), its own usage-plan key, and the record, in that order, so a
// client never exists without a key that meters it. Used by the admin API and the local seed.
import { generateKeyPairSync } from 'node:crypto';
import { CLIENTS_PER_INSTITUTION_MAX, ed25519PublicKeyFromPem, keyIdOf, newClientId, type Actor, type ApiClientRecord, type ClientChannel, type ClientStore, type NewClientKey } from './api-client.js';
import type { UsageKeys } from './usage-keys.js';

export interface IssuedClient {
  readonly client: ApiClientRecord;
  /** The x-api-key value; not kept by the backbone in readable form. */
  readonly usageKey: string;
  /** PKCS#8 PEM, only when the backbone generated the key pair. */
  readonly privateKey?: string;
}

export class ClientIdCollisionError extends Error {
  override name = 'ClientIdCollisionError';
}

/** The institution holds as many active clients as it may. */
export class ClientLimitError extends Error {
  override name = 'ClientLimitError';
}

export async function issueClient(
  ports: { readonly clients: ClientStore; readonly usageKeys: UsageKeys },
  request: { readonly institutionId: string; readonly channel: ClientChannel; readonly publicKeyPem?: string },
  createdBy: Actor,
  now: Date,
): Promise<IssuedClient> {
  const clientId = newClientId();
  // The key is checked first: a bad PEM must not leave a usage key behind.
  const generated = signingKey(request.publicKeyPem, now);
  const signing = { key: { ...generated.key, keyId: keyIdOf(clientId, 1) }, privateKey: generated.privateKey };
  const usage = await ports.usageKeys.issueKey({ clientId, institutionId: request.institutionId, channel: request.channel });
  const client: ApiClientRecord = {
    clientId,
    institutionId: request.institutionId,
    channel: request.channel,
    status: 'ACTIVE',
    keys: [signing.key],
    usageKeyId: usage.usageKeyId,
    createdAt: now.toISOString(),
    createdBy,
  };
  let creation: Awaited<ReturnType<ClientStore['createClient']>>;
  try {
    creation = await ports.clients.createClient(client);
  } catch (error) {
    // The write may or may not have happened (a timeout after the commit): a client whose
    // credentials nobody received must not stay active, nor its key enabled.
    const written = await ports.clients.getClient(clientId).catch(() => undefined);
    if (written !== undefined) await ports.clients.revokeClient(clientId, request.institutionId, createdBy, now.toISOString()).catch(() => undefined);
    await ports.usageKeys.disableKey(usage.usageKeyId).catch(() => undefined);
    throw error;
  }
  if (creation !== 'created') {
    await ports.usageKeys.disableKey(usage.usageKeyId).catch(() => undefined);
    if (creation === 'limit-reached') throw new ClientLimitError(`${request.institutionId} already holds ${CLIENTS_PER_INSTITUTION_MAX} active clients; revoke unused ones first`);
    // 100+ random bits colliding is a broken generator, not a client's mistake.
    throw new ClientIdCollisionError(`client id ${clientId} is taken`);
  }
  return { client, usageKey: usage.usageKey, ...(signing.privateKey !== undefined ? { privateKey: signing.privateKey } : {}) };
}

/** The key a client signs with: the PEM it brought, or a fresh pair whose private half goes back once. */
export function signingKey(publicKeyPem: string | undefined, now: Date): { readonly key: NewClientKey; readonly privateKey: string | undefined } {
  if (publicKeyPem !== undefined) return { key: { publicKey: ed25519PublicKeyFromPem(publicKeyPem), createdAt: now.toISOString() }, privateKey: undefined };
  const pair = generateKeyPairSync('ed25519');
  const x = pair.publicKey.export({ format: 'jwk' }).x;
  if (x === undefined) throw new Error('a generated Ed25519 key has no public point');
  return { key: { publicKey: x, createdAt: now.toISOString() }, privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}
