// The ClientStore contract, run against both adapters (DynamoClientStore on DynamoDB Local and on
// the in-memory engine, and InMemoryClientStore): an id is
// taken once; an institution holds at most CLIENTS_PER_INSTITUTION_MAX active clients, exactly,
// even when creations race, and a revocation frees a slot; a rotation keeps the keys still inside
// their grace period; revocation is for good; another institution's client is answered as absent.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoClientStore } from '../../lambdas/adapters/dynamodb/client-store.js';
import { InMemoryClientStore } from '../../lambdas/adapters/memory/client-store.js';
import { CLIENTS_PER_INSTITUTION_MAX, keyIdOf, newClientId, type ApiClientRecord, type ClientKey, type ClientStore, type NewClientKey } from '../../lambdas/core/trust/api-client.js';
import { TEST_ACTOR } from '../support/ledger-fixtures.js';
import { createTestWorld, type EmulatorWorld, type MemoryWorld, type TestWorld } from '../support/world.js';

let emulators: EmulatorWorld;
let memory: MemoryWorld;

beforeAll(async () => {
  [emulators, memory] = await Promise.all([createTestWorld('clients', 'emulators'), createTestWorld('clients', 'memory')]);
});

afterAll(() => {
  emulators.destroy();
  memory.destroy();
});

const dynamoStoreOf = (world: TestWorld): ClientStore => new DynamoClientStore(world.clients.dynamodb, world.bindings.tables.participants);

const key = (clientId: string, version: number, createdAt: string): ClientKey => ({ keyId: keyIdOf(clientId, version), publicKey: 'x'.repeat(43), createdAt });
const newKey = (createdAt: string): NewClientKey => ({ publicKey: 'y'.repeat(43), createdAt });

function client(institutionId: string): ApiClientRecord {
  const clientId = newClientId();
  const createdAt = new Date().toISOString();
  return { clientId, institutionId, channel: 'POS', status: 'ACTIVE', keys: [key(clientId, 1, createdAt)], usageKeyId: `usage-${clientId}`, createdAt, createdBy: TEST_ACTOR };
}

describe.each([
  ['DynamoClientStore on emulators', (): ClientStore => dynamoStoreOf(emulators)],
  ['DynamoClientStore on memory', (): ClientStore => dynamoStoreOf(memory)],
  ['InMemoryClientStore', (): ClientStore => new InMemoryClientStore()],
])('%s', (_name, makeStore) => {
  it('stores a client once, reads it back, and lists it under its institution only', async () => {
    const store = makeStore();
    const bank = `bank-${randomUUID().slice(0, 8)}`;
    const first = client(bank);

    const created = await store.createClient(first);
    const again = await store.createClient(first);

    expect([created, again]).toEqual(['created', 'id-taken']);
    expect(await store.getClient(first.clientId)).toEqual(first);
    expect((await store.listClients(bank)).map((listed) => listed.clientId)).toEqual([first.clientId]);
    expect(await store.listClients(`${bank}-other`)).toEqual([]);
  });

  it('holds an institution to its bound of active clients exactly when creations race, and frees a slot on revoke', async () => {
    const store = makeStore();
    const bank = `bank-${randomUUID().slice(0, 8)}`;
    const candidates = Array.from({ length: CLIENTS_PER_INSTITUTION_MAX + 10 }, () => client(bank));

    const outcomes = await Promise.all(candidates.map((candidate) => store.createClient(candidate)));
    const created = candidates.filter((_candidate, index) => outcomes[index] === 'created');
    const revoked = await store.revokeClient(created[0]!.clientId, bank, TEST_ACTOR, new Date().toISOString());
    const afterRevoke = await store.createClient(client(bank));
    const full = await store.createClient(client(bank));

    expect(created).toHaveLength(CLIENTS_PER_INSTITUTION_MAX);
    expect(outcomes.filter((outcome) => outcome === 'limit-reached')).toHaveLength(10);
    expect([revoked, afterRevoke, full]).toEqual(['revoked', 'created', 'limit-reached']);
  });

  it('keeps rotated-out keys until their grace ends, so a retried rotation keeps the key in use', async () => {
    const store = makeStore();
    const held = client(`bank-${randomUUID().slice(0, 8)}`);
    await store.createClient(held);
    const now = Date.now();
    const at = (offsetMs: number): string => new Date(now + offsetMs).toISOString();

    const first = await store.rotateKey(held.clientId, held.institutionId, newKey(at(1_000)), at(3_600_000), TEST_ACTOR);
    // The answer to that rotation was lost; the operator rotates again.
    const second = await store.rotateKey(held.clientId, held.institutionId, newKey(at(2_000)), at(3_600_000), TEST_ACTOR);
    const rotated = await store.getClient(held.clientId);

    expect([first, second]).toEqual([2, 3].map((version) => ({ outcome: 'rotated', keyId: keyIdOf(held.clientId, version) })));
    expect(rotated?.keys.map((entry) => entry.keyId)).toEqual([3, 2, 1].map((version) => keyIdOf(held.clientId, version)));
    expect(rotated?.keys[2]?.expiresAt).toBe(at(3_600_000));
    expect(rotated?.rotatedBy).toEqual(TEST_ACTOR);
  });

  it('cuts every replaced key off at once on a rotation with no grace, however long the earlier grace was', async () => {
    const store = makeStore();
    const held = client(`bank-${randomUUID().slice(0, 8)}`);
    await store.createClient(held);
    const now = Date.now();
    const at = (offsetMs: number): string => new Date(now + offsetMs).toISOString();

    await store.rotateKey(held.clientId, held.institutionId, newKey(at(1_000)), at(7 * 86_400_000), TEST_ACTOR);
    // Key 1 or 2 leaked: rotate with previousKeyValidSeconds 0.
    await store.rotateKey(held.clientId, held.institutionId, newKey(at(2_000)), at(2_000), TEST_ACTOR);
    const rotated = await store.getClient(held.clientId);

    expect(rotated?.keys.map((entry) => entry.keyId)).toEqual([keyIdOf(held.clientId, 3)]);
  });

  it('gives racing rotations distinct key ids', async () => {
    const store = makeStore();
    const held = client(`bank-${randomUUID().slice(0, 8)}`);
    await store.createClient(held);
    const later = new Date(Date.now() + 3_600_000).toISOString();

    const outcomes = await Promise.all([1, 2].map(() => store.rotateKey(held.clientId, held.institutionId, newKey(new Date().toISOString()), later, TEST_ACTOR)));
    const keyIds = (await store.getClient(held.clientId))?.keys.map((entry) => entry.keyId) ?? [];

    expect(new Set(keyIds).size).toBe(keyIds.length);
    expect(outcomes.map((outcome) => (outcome.outcome === 'rotated' ? outcome.keyId : outcome.outcome)).sort()).toEqual([2, 3].map((version) => keyIdOf(held.clientId, version)));
  });

  it('revokes for good, answers a repeat as unchanged, and refuses to rotate a revoked client', async () => {
    const store = makeStore();
    const held = client(`bank-${randomUUID().slice(0, 8)}`);
    await store.createClient(held);

    const revoked = await store.revokeClient(held.clientId, held.institutionId, TEST_ACTOR, new Date().toISOString());
    const again = await store.revokeClient(held.clientId, held.institutionId, TEST_ACTOR, new Date().toISOString());
    const rotation = await store.rotateKey(held.clientId, held.institutionId, newKey(new Date().toISOString()), new Date().toISOString(), TEST_ACTOR);

    expect([revoked, again, rotation]).toEqual(['revoked', 'unchanged', { outcome: 'revoked' }]);
    expect(await store.getClient(held.clientId)).toMatchObject({ status: 'REVOKED', revokedBy: TEST_ACTOR });
  });

  it("answers another institution's client as absent to revoke and rotate", async () => {
    const store = makeStore();
    const held = client(`bank-${randomUUID().slice(0, 8)}`);
    await store.createClient(held);

    const revoke = await store.revokeClient(held.clientId, 'bank-intruder', TEST_ACTOR, new Date().toISOString());
    const rotate = await store.rotateKey(held.clientId, 'bank-intruder', newKey(new Date().toISOString()), new Date().toISOString(), TEST_ACTOR);

    expect([revoke, rotate]).toEqual(['not-found', { outcome: 'not-found' }]);
    expect((await store.getClient(held.clientId))?.status).toBe('ACTIVE');
  });
});
