// In-memory implementation of the ClientStore port: the same promises as the DynamoDB one (id
// taken, an exact bound on ACTIVE clients per institution, rotation keeping keys inside their
// grace period, revocation for good, other institutions' clients answered as absent), held to the
// same contract tests. For tests and in-process runs that need no emulator.
import {
  CLIENTS_LISTED_MAX,
  CLIENTS_PER_INSTITUTION_MAX,
  type ApiClientRecord,
  type ClientCreation,
  type ClientRevocation,
  type ClientStore,
  type KeyRotation,
  rotatedKeys,
} from '../../core/trust/api-client.js';

export class InMemoryClientStore implements ClientStore {
  readonly #clients = new Map<string, ApiClientRecord>();

  getClient(clientId: string): Promise<ApiClientRecord | undefined> {
    return Promise.resolve(this.#clients.get(clientId));
  }

  createClient(client: ApiClientRecord): Promise<ClientCreation> {
    if (this.#clients.has(client.clientId)) return Promise.resolve('id-taken');
    const active = [...this.#clients.values()].filter((held) => held.institutionId === client.institutionId && held.status === 'ACTIVE').length;
    if (active >= CLIENTS_PER_INSTITUTION_MAX) return Promise.resolve('limit-reached');
    this.#clients.set(client.clientId, client);
    return Promise.resolve('created');
  }

  listClients(institutionId: string): Promise<ApiClientRecord[]> {
    const clients = [...this.#clients.values()].filter((client) => client.institutionId === institutionId);
    return Promise.resolve(clients.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).slice(0, CLIENTS_LISTED_MAX));
  }

  rotateKey(...[clientId, institutionId, key, previousExpiresAt, by]: Parameters<ClientStore['rotateKey']>): Promise<KeyRotation> {
    const client = this.#clients.get(clientId);
    if (client === undefined || client.institutionId !== institutionId) return Promise.resolve({ outcome: 'not-found' });
    if (client.status !== 'ACTIVE') return Promise.resolve({ outcome: 'revoked' });
    const keys = rotatedKeys(client, key, previousExpiresAt);
    this.#clients.set(clientId, { ...client, keys, rotatedAt: key.createdAt, rotatedBy: by });
    return Promise.resolve({ outcome: 'rotated', keyId: keys[0]?.keyId ?? '' });
  }

  revokeClient(...[clientId, institutionId, by, at]: Parameters<ClientStore['revokeClient']>): Promise<ClientRevocation> {
    const client = this.#clients.get(clientId);
    if (client === undefined || client.institutionId !== institutionId) return Promise.resolve('not-found');
    if (client.status === 'REVOKED') return Promise.resolve('unchanged');
    this.#clients.set(clientId, { ...client, status: 'REVOKED', revokedAt: at, revokedBy: by });
    return Promise.resolve('revoked');
  }
}
