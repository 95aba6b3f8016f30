// The recorder against requests sized by hand: it bills each item written on the larger of its old
// and new image, doubles inside a transaction, bills a failed conditional write, counts index
// writes when an item enters or leaves a sparse index, bills reads per item (a missing one too),
// and gives concurrent requests of one invocation one modelled latency, sequential ones the sum.
import { BatchGetItemCommand, ConditionalCheckFailedException, GetItemCommand, PutItemCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { SERVICE_LATENCY_MS } from '../../lib/capacity/assumptions.js';
import { Recorder } from '../../lib/capacity/recorder.js';
import { DEFAULT_FAULT_RATES, Faults } from '../../lib/dst/faults.js';
import { createPipeline, type SimulatedPipeline } from '../../lib/dst/pipeline.js';
import { SeededRandom } from '../../lib/dst/random.js';
import { Scheduler } from '../../lib/dst/scheduler.js';

const SMALL = { pk: { S: 'SMALL#1' }, n: { N: '1' } }; // 2 + 7 + 1 + 2 = 12 B
const BIG = { pk: { S: 'BIG#1' }, blob: { S: 'x'.repeat(1_490) } }; // 2 + 5 + 4 + 1,490 = 1,501 B

let pipeline: SimulatedPipeline;
let recorder: Recorder;

beforeEach(async () => {
  const random = new SeededRandom(7);
  pipeline = await createPipeline(new Scheduler(random.fork(), 0), new Faults(random.fork(), DEFAULT_FAULT_RATES), { record: () => undefined, trace: () => undefined }, 'aws');
  recorder = new Recorder(pipeline.bindings);
  recorder.instrument(pipeline);
  recorder.phase = 'transfers';
});

describe('writes', () => {
  it('bills a transaction 2 WCU per started KB of each item, and an update on its larger image', async () => {
    const ledger = pipeline.bindings.tables.ledger;
    await pipeline.rawDynamoDB.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: ledger, Item: SMALL } }, { Put: { TableName: ledger, Item: BIG } }] }));
    const tally = recorder.tally();
    expect(tally.wcu.transactional).toBe(2 + 4);
    expect(tally.keys.get('ledger SMALL#1')).toEqual({ wcu: 2, rcu: 0, writes: 1, transactions: 1 });
    expect(tally.keys.get('ledger BIG#1')).toEqual({ wcu: 4, rcu: 0, writes: 1, transactions: 1 });

    // 1,501 B grows to 1,501 + 4 ('more') + 600 = 2,105 B: 3 standard units.
    await pipeline.rawDynamoDB.send(
      new UpdateItemCommand({ TableName: ledger, Key: { pk: BIG.pk }, UpdateExpression: 'SET more = :more', ExpressionAttributeValues: { ':more': { S: 'y'.repeat(600) } } }),
    );
    expect(tally.wcu.standard).toBe(3);
    expect(tally.kinds.get('ledger BIG')).toMatchObject({ writes: 2, transactionalWrites: 1, maxBytes: 2_105, wcu: 4 + 3 });
  });

  it('bills a write whose condition failed on the item as it stands', async () => {
    const ledger = pipeline.bindings.tables.ledger;
    await pipeline.rawDynamoDB.send(new PutItemCommand({ TableName: ledger, Item: SMALL }));
    await expect(pipeline.rawDynamoDB.send(new PutItemCommand({ TableName: ledger, Item: SMALL, ConditionExpression: 'attribute_not_exists(pk)' }))).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    expect(recorder.tally().wcu).toEqual({ standard: 1, transactional: 0, index: 0, failed: 1 });
  });

  it('counts an index write when an item enters a sparse index and another when it leaves', async () => {
    const requests = pipeline.bindings.tables.requests;
    const item = { pk: { S: 'REQUEST#t1' }, undecidedShard: { S: 'UNDECIDED#3' }, acceptedAt: { S: '2026-01-05T08:00:00.000Z' } };
    await pipeline.rawDynamoDB.send(new PutItemCommand({ TableName: requests, Item: item }));
    await pipeline.rawDynamoDB.send(new UpdateItemCommand({ TableName: requests, Key: { pk: item.pk }, UpdateExpression: 'REMOVE undecidedShard' }));
    // An update that leaves the index alone (no key attribute) writes no entry.
    await pipeline.rawDynamoDB.send(new UpdateItemCommand({ TableName: requests, Key: { pk: item.pk }, UpdateExpression: 'SET note = :n', ExpressionAttributeValues: { ':n': { S: 'x' } } }));
    const tally = recorder.tally();
    expect(tally.wcu).toEqual({ standard: 3, transactional: 0, index: 2, failed: 0 });
    expect(tally.keys.get('requests/undecidedByAcceptance UNDECIDED#3')).toMatchObject({ wcu: 2, writes: 2 });
  });
});

describe('reads', () => {
  it('bills each item read, found or not, by consistency', async () => {
    const ledger = pipeline.bindings.tables.ledger;
    await pipeline.rawDynamoDB.send(new PutItemCommand({ TableName: ledger, Item: SMALL }));
    await pipeline.rawDynamoDB.send(new GetItemCommand({ TableName: ledger, Key: { pk: SMALL.pk }, ConsistentRead: true }));
    await pipeline.rawDynamoDB.send(new GetItemCommand({ TableName: ledger, Key: { pk: { S: 'MISSING#1' } }, ConsistentRead: true }));
    await pipeline.rawDynamoDB.send(new BatchGetItemCommand({ RequestItems: { [ledger]: { Keys: [{ pk: SMALL.pk }, { pk: { S: 'MISSING#2' } }] } } }));
    expect(recorder.tally().rcu).toEqual({ strong: 2, eventual: 1, transactional: 0 });
    expect(recorder.tally().requests.get('DynamoDB GetItem')).toBe(2);
  });
});

describe('invocations and messaging', () => {
  it('models concurrent requests as overlapping and sequential ones as adding up', async () => {
    const ledger = pipeline.bindings.tables.ledger;
    const get = () => pipeline.rawDynamoDB.send(new GetItemCommand({ TableName: ledger, Key: { pk: SMALL.pk } }));
    await recorder.invoke('api', 0, async () => {
      await Promise.all([get(), get()]);
      await get();
    });
    const load = recorder.tally().lambda.get('api');
    expect(load?.invocations).toBe(1);
    expect(load?.latencyMs).toBe(2 * (SERVICE_LATENCY_MS['DynamoDB GetItem'] ?? Number.NaN));
    expect(load?.billedMs).toBeGreaterThanOrEqual(load?.latencyMs ?? Number.POSITIVE_INFINITY);
  });

  it('counts a FIFO publish with its payload', async () => {
    const sns = pipeline.messaging.sns as unknown as SNSClient;
    const message = '{"hello":"world"}';
    await sns.send(new PublishCommand({ TopicArn: pipeline.bindings.topics.transactions, Message: message, MessageGroupId: 'g', MessageDeduplicationId: 'd' }));
    expect(recorder.tally().sns).toMatchObject({ fifoPublishes: 1, fifoPublishBytes: message.length });
  });
});
