// The IntakeStore contract, run against DynamoDB Local and the in-memory engine: an intake is
// recorded once (a second record answers the first), discarded only while it holds the given
// content, listed as undecided (each account in acceptance order, within a fair bound, never
// after the cutoff) until marked decided, and marked re-queued only while undecided; marks on a
// missing intake create nothing.
import { randomUUID } from 'node:crypto';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoIntakeStore, UNDECIDED_SHARDS } from '../../lambdas/adapters/dynamodb/intake-store.js';
import type { TransferIntake, UnreadableIntake } from '../../lambdas/core/intake/ports.js';
import { transferContentHash } from '../../lambdas/core/ledger/transfer.js';
import { intakeOf, transferRequest } from '../support/ledger-fixtures.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

/** How often, and how long, a listing on DynamoDB Local is repeated until its index has caught up. */
const INDEX_POLL_MS = 100;
const INDEX_POLLS_MAX = 50;


const account = (): string => `acc-${randomUUID().slice(0, 8)}`;
const fresh = (acceptedAt = new Date(Date.now() - 60_000)): TransferIntake => intakeOf(transferRequest(account(), account(), 100), acceptedAt);
const idsOf = (intakes: readonly TransferIntake[]): string[] => intakes.map((entry) => entry.request.transferId);

describe.each(BACKENDS)('DynamoIntakeStore on %s', (backend) => {
  let world: TestWorld;
  let intake: DynamoIntakeStore;

  beforeAll(async () => {
    world = await createTestWorld('intake', backend);
    intake = new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests);
  });

  afterAll(() => world.destroy());

  /** The readable intakes listed (the one test that damages an item quarantines it again). */
  async function list(acceptedBeforeIso: string, limit: number): Promise<TransferIntake[]> {
    const listed: TransferIntake[] = [];
    for await (const found of intake.listUndecided(acceptedBeforeIso, limit)) if (!('unreadable' in found)) listed.push(found);
    return listed;
  }

  async function listUnreadable(): Promise<UnreadableIntake[]> {
    const unreadable: UnreadableIntake[] = [];
    for await (const found of intake.listUndecided(new Date().toISOString(), Number.POSITIVE_INFINITY)) if ('unreadable' in found) unreadable.push(found);
    return unreadable;
  }

  /**
   * Lists until `settled` holds of the listing. On memory the index is written with the item, so
   * one listing is the answer. Secondary indexes are eventually consistent (on AWS as in DynamoDB
   * Local): the sweep's grace period covers that, and there this bounded wait does.
   */
  async function listSettled(acceptedBeforeIso: string, limit: number, settled: (listed: readonly TransferIntake[]) => boolean): Promise<TransferIntake[]> {
    let listed = await list(acceptedBeforeIso, limit);
    if (backend === 'memory') return listed;
    for (let poll = 1; poll < INDEX_POLLS_MAX && !settled(listed); poll++) {
      await new Promise((resolve) => setTimeout(resolve, INDEX_POLL_MS));
      listed = await list(acceptedBeforeIso, limit);
    }
    return listed;
  }

  it('records an intake once; a second record under its transfer id answers the first, unchanged', async () => {
    const first = fresh();
    const resend = { ...first, contentHash: transferContentHash({ ...first.request, amountMinor: 999 }), request: { ...first.request, amountMinor: 999 } };

    const created = await intake.recordAccepted(first);
    const again = await intake.recordAccepted(resend);

    expect(created).toEqual({ created: true });
    expect(again).toEqual({ created: false, existing: first });
    expect(await intake.get(first.request.transferId)).toEqual(first);
  });

  it('answers an unknown transfer id as absent', async () => {
    expect(await intake.get(`unknown-${randomUUID()}`)).toBeUndefined();
  });

  it('discards an intake only while it holds the given content, and discarding a missing one is a no-op', async () => {
    const held = fresh();
    await intake.recordAccepted(held);

    await intake.discard(held.request.transferId, transferContentHash({ ...held.request, amountMinor: 1 }));
    const afterWrongHash = await intake.get(held.request.transferId);
    await intake.discard(held.request.transferId, held.contentHash);
    const afterDiscard = await intake.get(held.request.transferId);
    await intake.discard(held.request.transferId, held.contentHash);

    expect(afterWrongHash).toEqual(held);
    expect(afterDiscard).toBeUndefined();
    expect(await intake.recordAccepted(held)).toEqual({ created: true });
  });

  it('marks an intake re-queued, counting each time, only while it is undecided', async () => {
    const held = fresh();
    await intake.recordAccepted(held);

    await intake.markRequeued(held.request.transferId, '2026-11-01T10:00:00.000Z');
    await intake.markRequeued(held.request.transferId, '2026-11-01T10:05:00.000Z');
    const requeued = await intake.get(held.request.transferId);
    await intake.markDecided(held.request.transferId);
    await intake.markRequeued(held.request.transferId, '2026-11-01T10:15:00.000Z');

    expect(requeued).toEqual({ ...held, requeuedAt: '2026-11-01T10:05:00.000Z', requeueCount: 2 });
    expect(await intake.get(held.request.transferId)).toEqual(requeued);
  });

  it('creates nothing when marking a transfer that has no intake decided or re-queued', async () => {
    const missing = `missing-${randomUUID()}`;

    await intake.markDecided(missing);
    await intake.markRequeued(missing, new Date().toISOString());

    expect(await intake.get(missing)).toBeUndefined();
  });

  it('lists a damaged intake as unreadable by its transfer id; quarantine takes it out for good and keeps it with the first reason', async () => {
    const damaged = fresh();
    const transferId = damaged.request.transferId;
    const key = { pk: { S: `REQUEST#${transferId}` } };
    await intake.recordAccepted(damaged);
    await world.clients.dynamodb.send(new UpdateItemCommand({ TableName: world.bindings.tables.requests, Key: key, UpdateExpression: 'REMOVE apiRequestId' }));
    const ours = async () => (await listUnreadable()).filter((entry) => entry.transferId === transferId);
    let listed = await ours();
    for (let poll = 1; poll < INDEX_POLLS_MAX && listed.length === 0; poll++) {
      await new Promise((resolve) => setTimeout(resolve, INDEX_POLL_MS));
      listed = await ours();
    }

    await intake.quarantine(transferId, 'unreadable intake: no apiRequestId', '2026-11-30T05:00:00.000Z');
    await intake.quarantine(transferId, 'a later reason', '2026-11-30T06:00:00.000Z');
    let after = await ours();
    for (let poll = 1; poll < INDEX_POLLS_MAX && after.length > 0; poll++) {
      await new Promise((resolve) => setTimeout(resolve, INDEX_POLL_MS));
      after = await ours();
    }
    const { Item } = await world.clients.dynamodb.send(new GetItemCommand({ TableName: world.bindings.tables.requests, Key: key, ConsistentRead: true }));

    expect(listed.map((entry) => entry.transferId)).toEqual([transferId]);
    expect(listed[0]?.unreadable).toMatch(/apiRequestId/);
    expect(after).toEqual([]);
    expect(Item?.quarantineReason?.S).toBe('unreadable intake: no apiRequestId');
    expect(Item?.quarantinedAt?.S).toBe('2026-11-30T05:00:00.000Z');
    expect(Item?.idempotencyKey?.S).toBe(damaged.idempotencyKey);
  });

  it('creates nothing when quarantining a transfer that has no intake', async () => {
    const missing = `missing-${randomUUID()}`;

    await intake.quarantine(missing, 'unreadable intake', new Date().toISOString());

    expect(await intake.get(missing)).toBeUndefined();
  });

  it('takes a decided intake out of the listing for good, however often it is marked', async () => {
    const decided = fresh();
    const undecided = fresh();
    await intake.recordAccepted(decided);
    await intake.recordAccepted(undecided);
    const ours = (listed: readonly TransferIntake[]) => idsOf(listed).filter((id) => id === decided.request.transferId || id === undecided.request.transferId);

    await intake.markDecided(decided.request.transferId);
    await intake.markDecided(decided.request.transferId);
    const listed = await listSettled(new Date().toISOString(), Number.POSITIVE_INFINITY, (entries) => ours(entries).length === 1);

    expect(ours(listed)).toEqual([undecided.request.transferId]);
    expect(await intake.get(decided.request.transferId)).toEqual(decided);
  });

  it("lists undecided intakes only, each account's in acceptance order, oldest first, within its bound", async () => {
    const debtors = [account(), account()];
    const creditor = account();
    const base = Date.now() - 48 * 3_600_000;
    // Accepted over two days, out of order per store write, so the index (not write order) sorts.
    const intakes = Array.from({ length: 24 }, (_, index) => intakeOf(transferRequest(debtors[index % 2]!, creditor, index + 1), new Date(base + index * 97 * 60_000)));
    for (const entry of [...intakes].reverse()) await intake.recordAccepted(entry);
    const markedDecided = intakes.filter((_, index) => index % 3 === 0);
    for (const entry of markedDecided) await intake.markDecided(entry.request.transferId);
    const cutoff = intakes[20]!.acceptedAt;
    const mine = (listed: readonly TransferIntake[]) => listed.filter((entry) => intakes.some((own) => own.request.transferId === entry.request.transferId));
    const expected = intakes.filter((entry, index) => index % 3 !== 0 && entry.acceptedAt < cutoff);

    const listed = mine(await listSettled(cutoff, Number.POSITIVE_INFINITY, (entries) => mine(entries).length === expected.length));
    const bounded = mine(await list(cutoff, UNDECIDED_SHARDS * 2));

    expect(new Set(idsOf(listed))).toEqual(new Set(idsOf(expected)));
    for (const debtor of debtors) {
      const own = (entries: readonly TransferIntake[]) => idsOf(entries.filter((entry) => entry.request.debtorAccountId === debtor));
      // Each account in acceptance order; under a bound of two per shard, a prefix of that.
      expect(own(listed)).toEqual(own(expected));
      expect(own(bounded)).toEqual(own(expected).slice(0, own(bounded).length));
    }
    expect(bounded.length).toBeGreaterThanOrEqual(2);
    expect(bounded.length).toBeLessThanOrEqual(4);
  });

  it('lists nothing under a limit of 0, and refuses a limit that is not a number >= 0', async () => {
    await intake.recordAccepted(fresh());

    const none = await list(new Date().toISOString(), 0);

    expect(none).toEqual([]);
    await expect(list(new Date().toISOString(), -1)).rejects.toThrow(RangeError);
    await expect(list(new Date().toISOString(), Number.NaN)).rejects.toThrow(RangeError);
  });
});
