// The RiskStore contract, run against DynamoDB Local and the in-memory engine: a transfer is
// counted exactly once however often its event is delivered (also when deliveries race, and when
// a throttled write is retried), windows sum their buckets and their shards exactly (a channel's
// rejections land on every shard, an account's counters on one item), a rejected transfer's
// windows are read in one request, and the first payment to a creditor is recognised once.
import { randomUUID } from 'node:crypto';
import { BatchGetItemCommand, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_SHARDS, DynamoRiskStore, stableShardOf } from '../../lambdas/adapters/dynamodb/risk-store.js';
import { DEFAULT_THRESHOLDS as T } from '../../lambdas/core/risk/thresholds.js';
import { channelSubject, counterIncrements, WINDOWS_READ_BY_OUTCOME, windowBucketStarts, type DecidedTransfer } from '../../lambdas/core/risk/windows.js';
import { interceptRequests } from '../support/fault.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

const now = Math.floor(Date.now() / 1_000);

function decided(debtorAccountId: string, amountMinor: number, offsetSeconds = 0): DecidedTransfer {
  return { debtorAccountId, amountMinor, channel: 'WEB', outcome: 'POSTED', decidedAtEpochSeconds: now + offsetSeconds };
}

describe.each(BACKENDS)('DynamoRiskStore on %s', (backend) => {
  let world: TestWorld;
  let risk: DynamoRiskStore;

  beforeAll(async () => {
    world = await createTestWorld('risk', backend);
    risk = new DynamoRiskStore(world.clients.dynamodb, world.bindings.tables.risk);
  });

  afterAll(() => world.destroy());

  async function record(transferId: string, transfer: DecidedTransfer) {
    return risk.recordScreening({ transferId, increments: counterIncrements(transfer, T), screenedAtEpochSeconds: transfer.decidedAtEpochSeconds });
  }

  async function debits(account: string) {
    return risk.windowTotals('debits-velocity', account, windowBucketStarts('debits-velocity', now + 1, T));
  }

  it('counts a transfer once, however often its event is delivered', async () => {
    const account = `acc-${randomUUID().slice(0, 8)}`;
    const transfer = decided(account, 700);

    const first = await record('t-once', transfer);
    const again = await record('t-once', transfer);

    expect([first, again]).toEqual(['counted', 'already-counted']);
    expect(await debits(account)).toEqual({ count: 1, amountMinor: 700 });
  });

  it('counts racing deliveries of one event once, and distinct transfers each once', async () => {
    const account = `acc-${randomUUID().slice(0, 8)}`;

    // A delivery that loses a race on a counter gets a transaction conflict; the queue would
    // deliver it again, which is what this loop does.
    const deliver = async (transferId: string, amount: number) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          return await record(transferId, decided(account, amount));
        } catch (error) {
          if (!(error instanceof Error && error.name === 'TransactionCanceledException')) throw error;
        }
      }
      throw new Error(`${transferId} never settled`);
    };

    const outcomes = await Promise.all([
      ...Array.from({ length: 6 }, () => deliver('t-race', 100)),
      deliver('t-other-1', 10),
      deliver('t-other-2', 1),
    ]);

    expect(outcomes.filter((outcome) => outcome === 'counted')).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome === 'already-counted')).toHaveLength(5);
    expect((await debits(account)).count).toBe(3);
    expect((await debits(account)).amountMinor).toBe(111);
  });

  it('retries a throttled write without counting twice', async () => {
    const account = `acc-${randomUUID().slice(0, 8)}`;
    let calls = 0;
    const restore = interceptRequests(world.clients.dynamodb, (command) => {
      if (command instanceof TransactWriteItemsCommand && calls++ === 0) {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
      }
    });
    try {
      await expect(record('t-throttled', decided(account, 50))).rejects.toThrow(/throughput/);
      expect(await record('t-throttled', decided(account, 50))).toBe('counted');
      expect(await record('t-throttled', decided(account, 50))).toBe('already-counted');
    } finally {
      restore();
    }

    expect(calls).toBeGreaterThanOrEqual(2);

    expect(await debits(account)).toEqual({ count: 1, amountMinor: 50 });
  });

  it('leaves a bucket out of the window once the window has passed it', async () => {
    const account = `acc-${randomUUID().slice(0, 8)}`;
    await record('t-old', decided(account, 5, -3 * T.velocityCount.windowSeconds));
    await record('t-new', decided(account, 7));

    expect(await debits(account)).toEqual({ count: 1, amountMinor: 7 });
  });

  it("spreads a channel's rejections over every shard of its bucket and sums them exactly, once per transfer", async () => {
    const institution = `bank-${randomUUID().slice(0, 8)}`;
    const rejected = (index: number): DecidedTransfer => ({
      debtorAccountId: `acc-${index % 5}-${institution}`,
      amountMinor: 100 + index,
      channel: 'POS',
      initiatingInstitutionId: institution,
      outcome: 'REJECTED',
      decidedAtEpochSeconds: now,
    });
    // Fixed ids, so the shards they hash to are fixed too (these 24 fall 3 to each of 8 shards).
    const transfers = Array.from({ length: 24 }, (_, index) => ({ transferId: `t-channel-${index}`, transfer: rejected(index) }));
    const shards = COUNTER_SHARDS['rejections-channel'];
    const subject = channelSubject(rejected(0));
    const [bucket] = windowBucketStarts('rejections-channel', now, T);

    for (const { transferId, transfer } of transfers) await record(transferId, transfer);
    // A redelivery finds its marker and adds to no shard.
    await record(transfers[0]?.transferId ?? '', transfers[0]?.transfer ?? rejected(0));
    const items = await Promise.all(
      Array.from({ length: shards }, (_, shard) =>
        world.clients.dynamodb.send(
          new GetItemCommand({ TableName: world.bindings.tables.risk, Key: { pk: { S: `COUNTER#rejections-channel#${subject}#s${shard}#${bucket}` } }, ConsistentRead: true }),
        ),
      ),
    );
    const perShard = items.map(({ Item }) => Number(Item?.eventCount?.N ?? 0));
    const expectedPerShard = Array.from({ length: shards }, (_, shard) => transfers.filter(({ transferId }) => stableShardOf(transferId, shards) === shard).length);

    expect(shards).toBeGreaterThan(1);
    expect(perShard).toEqual(expectedPerShard);
    expect(perShard.every((count) => count > 0)).toBe(true);
    expect(await risk.windowTotals('rejections-channel', subject, windowBucketStarts('rejections-channel', now + 1, T))).toEqual({
      count: transfers.length,
      amountMinor: transfers.reduce((sum, { transfer }) => sum + transfer.amountMinor, 0),
    });
  });

  it("keeps an account's counters on one item per bucket", async () => {
    const account = `acc-${randomUUID().slice(0, 8)}`;
    const [bucket] = windowBucketStarts('debits-velocity', now, T);

    await record('t-account-1', decided(account, 10));
    await record('t-account-2', decided(account, 20));
    const { Item } = await world.clients.dynamodb.send(
      new GetItemCommand({ TableName: world.bindings.tables.risk, Key: { pk: { S: `COUNTER#debits-velocity#${account}#${bucket}` } }, ConsistentRead: true }),
    );

    expect(Item?.eventCount?.N).toBe('2');
    expect(await debits(account)).toEqual({ count: 2, amountMinor: 30 });
  });

  it("reads a rejected transfer's windows, every shard of every bucket, in one request", async () => {
    const transfer: DecidedTransfer = { debtorAccountId: 'acc-one-read', amountMinor: 1, channel: 'POS', initiatingInstitutionId: 'bank-one-read', outcome: 'REJECTED', decidedAtEpochSeconds: now };
    const windows = WINDOWS_READ_BY_OUTCOME.REJECTED.map((family) => ({
      family,
      subject: family === 'rejections-channel' ? channelSubject(transfer) : transfer.debtorAccountId,
      bucketStarts: windowBucketStarts(family, now, T),
    }));
    const keysPerRequest: number[] = [];
    const restore = interceptRequests(world.clients.dynamodb, (command) => {
      if (command instanceof BatchGetItemCommand) keysPerRequest.push(Object.values(command.input.RequestItems ?? {}).reduce((sum, table) => sum + (table.Keys?.length ?? 0), 0));
    });
    try {
      await risk.readScreeningState(windows);
    } finally {
      restore();
    }

    expect(keysPerRequest).toEqual([windows.reduce((sum, window) => sum + window.bucketStarts.length * COUNTER_SHARDS[window.family], 0)]);
  });

  it('recognises the first payment to a creditor, and only that one', async () => {
    const debtor = `acc-${randomUUID().slice(0, 8)}`;
    const pair = { debtorAccountId: debtor, creditorAccountId: 'acc-payee' };
    await risk.recordScreening({ transferId: 'p-1', increments: [], payeePair: pair, screenedAtEpochSeconds: now });
    await risk.recordScreening({ transferId: 'p-2', increments: [], payeePair: pair, screenedAtEpochSeconds: now });

    const firstToCreditor = async (creditorAccountId: string, transferId: string) =>
      (await risk.readScreeningState([], { debtorAccountId: debtor, creditorAccountId, transferId })).firstToCreditor;
    expect(await firstToCreditor('acc-payee', 'p-1')).toBe(true);
    expect(await firstToCreditor('acc-payee', 'p-2')).toBe(false);
    expect(await firstToCreditor('acc-elsewhere', 'p-1')).toBe(false);
  });
});
