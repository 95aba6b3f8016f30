// Proves the posting handler, fed through the SNS FIFO topic and SQS FIFO queue and posting to the
// ledger, all on the in-memory services (the adapters hold to their contracts on the emulators
// too), posts each transfer exactly once: one DynamoDB request per happy-path transfer, outcomes
// published, crashes and redeliveries absorbed, FIFO groups failed as a unit, poison messages
// quarantined with their reason, and money conserved. "Nothing more arrived" is exact here: a
// publish has reached every queue when it returns, and each look takes the queue until it is empty.
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLambdaContext } from '../../lib/local/lambda-context.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import { accountToItem } from '../../lambdas/adapters/dynamodb/ledger-items.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { QUARANTINE_REASON_ATTRIBUTE, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import { eventIdFor, type EventOf, type PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { transactionRequested } from '../../lambdas/core/events/transfer-events.js';
import type { EventPublisher } from '../../lambdas/core/events/ports.js';
import type { LedgerStore } from '../../lambdas/core/ledger/ports.js';
import type { TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import { createPostingHandler, type PostingDependencies } from '../../lambdas/posting/handler.js';
import { throttlingError } from '../../lambdas/adapters/memory/dynamodb.js';
import { UNCLASSIFIED_FAILURE_RECEIVES_MAX } from '../../lambdas/shared/sqs-batch.js';
import { expectMoneyConserved, ledgerOf, openFundedAccount, TEST_SETTLEMENT_ACTOR, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { drainQueue, observeTopic, takeMessages } from '../support/queue-driver.js';
import { interceptRequests, withFaults } from '../support/fault.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';

let world: MemoryWorld;
let ledger: DynamoLedgerStore;
let handle: LedgerHandle;
let publisher: SnsEventPublisher;
let observerUrl: string;

beforeAll(async () => {
  world = await createTestWorld('posting', 'memory');
  ({ ledger, handle } = ledgerOf(world));
  publisher = new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions);
  observerUrl = await observeTopic(world, world.bindings.topics.transactions, 'observer');
});

afterAll(async () => {
  await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
  world.destroy();
});

function dependencies(overrides: Partial<PostingDependencies> = {}): PostingDependencies {
  return {
    ledger,
    publisher,
    intake: new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests),
    quarantine: new SqsQuarantine(world.clients.sqs, world.bindings.queues.posting.deadLetterUrl),
    logger: new Logger({ serviceName: 'payments-posting', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-posting', namespace: 'PaymentsBackbone' }),
    ...overrides,
  };
}

function requestedEvent(request: TransferRequest): EventOf<'TransactionRequested'> {
  return transactionRequested(request, { causationId: `req-${request.transferId}`, occurredAt: request.requestedAt });
}

async function submit(...requests: TransferRequest[]): Promise<void> {
  for (const request of requests) await publisher.publish(requestedEvent(request));
}

/**
 * Outcome events published for these transfers, read off the observer queue. Every copy is kept
 * (a transfer id mapping to two events means a duplicate slipped through the topic); everything
 * published has reached the observer already and the take empties it, so no duplicate can be late.
 */
async function outcomeEvents(transferIds: readonly string[]): Promise<Map<string, PaymentEvent[]>> {
  const found = new Map<string, PaymentEvent[]>(transferIds.map((id) => [id, []]));
  for (const message of await takeMessages(world, observerUrl, Number.POSITIVE_INFINITY)) {
    const event = JSON.parse(message.Body ?? '{}') as PaymentEvent;
    if (event.type !== 'TransactionRequested' && 'transactionId' in event.data) found.get(event.data.transactionId)?.push(event);
  }
  return found;
}

/** Requests per DynamoDB operation between two readings of the engine's counts, leaving out those that did not move. */
function requestsBetween(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).flatMap(([operation, count]) => (count === before[operation] ? [] : [[operation, count - (before[operation] ?? 0)]])));
}

async function outcomes(transferIds: readonly string[]): Promise<Map<string, PaymentEvent>> {
  const all = await outcomeEvents(transferIds);
  return new Map([...all].flatMap(([id, events]) => (events.length === 0 ? [] : [[id, events[0]!] as const])));
}

function sqsRecord(request: TransferRequest, messageId = randomUUID(), receives = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(requestedEvent(request)),
    attributes: {
      ApproximateReceiveCount: String(receives),
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: request.debtorAccountId,
      MessageDeduplicationId: eventIdFor.requested(request.transferId),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: world.bindings.queues.posting.arn,
    awsRegion: 'us-east-1',
  };
}

const context = () => createLambdaContext({ functionName: 'posting', timeoutSeconds: 30, memorySizeMb: 512 });

describe('posting handler on the posting queue', () => {
  it('posts a requested transfer and publishes TransactionPosted, which does not loop back to the queue', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
    const creditor = await openFundedAccount(handle);
    const request = transferRequest(debtor.accountId, creditor.accountId, 400);
    await submit(request);

    const reports = await drainQueue(world, 'posting', createPostingHandler(dependencies()));

    const events = await outcomes([request.transferId]);
    // The outcome has reached the topic's subscribers by now; none of it may reach posting.
    const afterOutcome = await drainQueue(world, 'posting', createPostingHandler(dependencies()));

    expect(reports.reduce((sum, report) => sum + report.deleted, 0)).toBe(1);
    expect(afterOutcome).toEqual([]);
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(600n);
    expect(events.get(request.transferId)).toMatchObject({ type: 'TransactionPosted', id: eventIdFor.posted(request.transferId) });
  });

  it('costs one ledger transaction per transfer on the happy path, once the accounts are known, and one intake mark', async () => {
    const debtors = await Promise.all([1, 2, 3, 4, 5].map(() => openFundedAccount(handle, { balanceMinor: 1_000n })));
    const creditor = await openFundedAccount(handle);
    // The store learns each account's institution on first sight (it never changes), and then
    // posts from memory: warm it with one transfer per account.
    const warmUp = createPostingHandler(dependencies());
    await warmUp({ Records: debtors.map((debtor) => sqsRecord(transferRequest(debtor.accountId, creditor.accountId, 1))) }, context());
    const requests = debtors.map((debtor) => transferRequest(debtor.accountId, creditor.accountId, 100));
    const counted = createPostingHandler(dependencies());
    const commands: string[] = [];
    const countsBefore = world.dynamodb.requestCount;
    const restore = interceptRequests(world.clients.dynamodb, (command) => void commands.push(command.constructor.name));
    try {
      const result = await counted({ Records: requests.map((request) => sqsRecord(request)) }, context());
      expect(result.batchItemFailures).toEqual([]);
    } finally {
      restore();
    }
    const counts = requestsBetween(countsBefore, world.dynamodb.requestCount);

    // The mark takes the request out of the recovery sweep's index; it touches the requests table
    // only, never a ledger item, and is not part of the posting transaction.
    expect(commands).toEqual(requests.flatMap(() => ['TransactWriteItemsCommand', 'UpdateItemCommand']));
    // The engine's own count agrees: no request reached it other than those.
    expect(counts).toEqual({ TransactWriteItems: requests.length, UpdateItem: requests.length });
  });

  it('costs one ledger transaction per interbank transfer too: no window item, no reads, whatever the shards', async () => {
    const [payerBank, payeeBank] = [`payer-${randomUUID().slice(0, 6)}`, `payee-${randomUUID().slice(0, 6)}`];
    await ledger.settlement.setNetDebitCap(payerBank, 'EUR', 1_000_000_000n, TEST_SETTLEMENT_ACTOR, 4);
    await ledger.settlement.setNetDebitCap(payeeBank, 'EUR', 0n, TEST_SETTLEMENT_ACTOR, 2);
    const debtors = await Promise.all([1, 2, 3, 4, 5].map(() => openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 1_000n })));
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank });
    // Warm the store: each account's institution, the open window and both institutions' shards.
    const warmUp = createPostingHandler(dependencies());
    await warmUp({ Records: debtors.map((debtor) => sqsRecord(transferRequest(debtor.accountId, creditor.accountId, 1))) }, context());
    const requests = debtors.map((debtor) => transferRequest(debtor.accountId, creditor.accountId, 100));
    const counted = createPostingHandler(dependencies());
    const items: number[] = [];
    const countsBefore = world.dynamodb.requestCount;
    const restore = interceptRequests(world.clients.dynamodb, (command) => {
      if (command instanceof TransactWriteItemsCommand) items.push(command.input.TransactItems?.length ?? 0);
    });
    try {
      const result = await counted({ Records: requests.map((request) => sqsRecord(request)) }, context());
      expect(result.batchItemFailures).toEqual([]);
    } finally {
      restore();
    }

    expect(requestsBetween(countsBefore, world.dynamodb.requestCount)).toEqual({ TransactWriteItems: requests.length, UpdateItem: requests.length });
    // The transfer, the debit, the credit, the payer's shard and the payee's shard.
    expect(items).toEqual(requests.map(() => 5));
    expect((await ledger.settlement.exposure(payerBank, 'EUR')).exposureMinor).toBe(505n);
  });

  it('rejects an unaffordable transfer and publishes TransactionRejected with the reason', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 50n });
    const creditor = await openFundedAccount(handle);
    const request = transferRequest(debtor.accountId, creditor.accountId, 51);
    await submit(request);

    await drainQueue(world, 'posting', createPostingHandler(dependencies()));

    const events = await outcomes([request.transferId]);
    expect(events.get(request.transferId)).toMatchObject({ type: 'TransactionRejected', data: { rejectionReason: 'INSUFFICIENT_FUNDS' } });
    expect(await ledger.getTransfer(request.transferId)).toMatchObject({ status: 'REJECTED', rejectionReason: 'INSUFFICIENT_FUNDS' });
  });

  it('keeps FIFO order per debtor account: later debits see earlier ones', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 100n });
    const creditor = await openFundedAccount(handle);
    const requests = [60, 30, 20, 10].map((amount) => transferRequest(debtor.accountId, creditor.accountId, amount));
    await submit(...requests);

    await drainQueue(world, 'posting', createPostingHandler(dependencies()));

    const statuses = await Promise.all(requests.map(async (request) => (await ledger.getTransfer(request.transferId))?.status));
    expect(statuses).toEqual(['POSTED', 'POSTED', 'REJECTED', 'POSTED']);
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(0n);
  });

  it('posts once when the function crashes after the ledger write and the batch is redelivered', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
    const creditor = await openFundedAccount(handle);
    const request = transferRequest(debtor.accountId, creditor.accountId, 250);
    await submit(request);
    const real = createPostingHandler(dependencies());
    let invocations = 0;
    const crashingOnce: typeof real = async (event, ctx) => {
      const response = await real(event, ctx);
      if (++invocations === 1) throw new Error('injected crash between the ledger write and the batch response');
      return response;
    };

    const reports = await drainQueue(world, 'posting', crashingOnce);

    expect(reports.map((report) => report.batchError !== undefined)).toEqual([true, false]);
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(750n);
    expect((await ledger.getAccount(creditor.accountId))?.balanceMinor).toBe(250n);
    // Published on both deliveries with one event id: the FIFO topic delivers it once.
    expect((await outcomeEvents([request.transferId])).get(request.transferId)?.map((event) => event.type)).toEqual(['TransactionPosted']);
  });

  it('retries a record whose outcome could not be published, without posting twice', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
    const creditor = await openFundedAccount(handle);
    const request = transferRequest(debtor.accountId, creditor.accountId, 100);
    await submit(request);
    let failures = 0;
    const flakyPublisher: EventPublisher = {
      publish: async (event) => {
        if (failures++ === 0) throw new Error('injected SNS outage');
        await publisher.publish(event);
      },
    };

    const reports = await drainQueue(world, 'posting', createPostingHandler(dependencies({ publisher: flakyPublisher })));

    expect(reports.map((report) => report.failed)).toEqual([1, 0]);
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(900n);
    expect((await outcomes([request.transferId])).get(request.transferId)?.type).toBe('TransactionPosted');
  });

  it('fails the failing record and the rest of its group, while other groups proceed', async () => {
    const [a, b] = await Promise.all([openFundedAccount(handle, { balanceMinor: 500n }), openFundedAccount(handle, { balanceMinor: 500n })]);
    const creditor = await openFundedAccount(handle);
    const a1 = transferRequest(a.accountId, creditor.accountId, 100);
    const a2 = transferRequest(a.accountId, creditor.accountId, 100);
    const b1 = transferRequest(b.accountId, creditor.accountId, 100);
    const flakyLedger = withFaults<LedgerStore>(ledger, {
      postTransfer: (request) => (request.transferId === a1.transferId ? Promise.reject(new Error('injected throttling')) : ledger.postTransfer(request)),
    });
    // AWS may put several records of one group in a batch (fauxqs and the fabric as set up here
    // never do), so build it directly.
    const records = [sqsRecord(a1), sqsRecord(b1), sqsRecord(a2)];

    const result = await createPostingHandler(dependencies({ ledger: flakyLedger }))({ Records: records }, context());

    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([records[0]!.messageId, records[2]!.messageId]);
    expect(await ledger.getTransfer(a2.transferId)).toBeUndefined();
    expect((await ledger.getTransfer(b1.transferId))?.status).toBe('POSTED');
    expect((await ledger.getAccount(a.accountId))?.balanceMinor).toBe(500n);
  });

  it('quarantines a malformed message to the DLQ with its reason and acknowledges it', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
    const poison = { ...requestedEvent(transferRequest(debtor.accountId, 'acc-someone', -5)) };
    await world.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.bindings.queues.posting.url,
        MessageBody: JSON.stringify(poison),
        MessageGroupId: debtor.accountId,
        MessageDeduplicationId: poison.id,
      }),
    );
    await world.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.bindings.queues.posting.url,
        MessageBody: 'not json at all',
        MessageGroupId: 'garbage',
        MessageDeduplicationId: randomUUID(),
      }),
    );

    const reports = await drainQueue(world, 'posting', createPostingHandler(dependencies()));

    expect(reports.reduce((sum, report) => sum + report.deleted, 0)).toBe(2);
    expect(reports.every((report) => report.failed === 0)).toBe(true);
    const quarantined = await takeMessages(world, world.bindings.queues.posting.deadLetterUrl, 2);
    const reasons = quarantined.map((message) => message.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue ?? '');
    expect(reasons.sort()).toEqual([
      expect.stringMatching(/^body is not JSON/),
      expect.stringMatching(/^envelope invalid: data\.amountMinor: /),
    ]);
    expect(quarantined.map((message) => message.Body)).toContain('not json at all');
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(1_000n);
  });

  it('records transfers posted, and rejected by reason, as metrics', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 100n });
    const creditor = await openFundedAccount(handle);
    const metrics = new Metrics({ serviceName: 'payments-posting', namespace: 'PaymentsBackbone' });
    const added = vi.spyOn(metrics, 'addMetric');
    const rejections = new Metrics({ serviceName: 'payments-posting', namespace: 'PaymentsBackbone' });
    const rejectionAdded = vi.spyOn(rejections, 'addMetric');
    const dimension = vi.spyOn(rejections, 'addDimension');
    vi.spyOn(metrics, 'singleMetric').mockReturnValue(rejections);
    const handler = createPostingHandler(dependencies({ metrics }));

    await handler({ Records: [sqsRecord(transferRequest(debtor.accountId, creditor.accountId, 100))] }, context());
    await handler({ Records: [sqsRecord(transferRequest(debtor.accountId, creditor.accountId, 1))] }, context());

    expect(added.mock.calls.map(([name]) => name)).toEqual(['TransfersPosted', 'RequestToPostingLatency']);
    expect(dimension).toHaveBeenCalledWith('rejectionReason', 'INSUFFICIENT_FUNDS');
    expect(rejectionAdded.mock.calls.map(([name, , value]) => [name, value])).toEqual([['TransfersRejected', 1]]);
  });

  it('rejects a modified resend as MODIFIED_REQUEST under its own event id and leaves the original', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
    const creditor = await openFundedAccount(handle);
    const original = transferRequest(debtor.accountId, creditor.accountId, 100);
    const handler = createPostingHandler(dependencies());
    await handler({ Records: [sqsRecord(original)] }, context());
    await outcomes([original.transferId]);

    const result = await handler({ Records: [sqsRecord({ ...original, amountMinor: 700 })] }, context());

    expect(result.batchItemFailures).toEqual([]);
    const events = (await outcomeEvents([original.transferId])).get(original.transferId) ?? [];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'TransactionRejected', data: { rejectionReason: 'MODIFIED_REQUEST', amountMinor: 700 } });
    expect(events[0]?.id).toMatch(new RegExp(`^${original.transferId}\\.modified\\.`));
    expect(await ledger.getTransfer(original.transferId)).toMatchObject({ status: 'POSTED', amountMinor: 100 });
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(900n);
  });

  it('quarantines a message that fails permanently (corrupt account data) instead of retrying it', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
    const creditor = await openFundedAccount(handle);
    const item = accountToItem(debtor);
    // Corrupt the derived headroom so the ledger cannot explain the cancellation.
    await world.clients.dynamodb.send(
      new PutItemCommand({ TableName: world.bindings.tables.ledger, Item: { ...item, headroomMinor: { N: '0' }, status: { S: 'FROZEN' } } }),
    );
    const request = transferRequest(debtor.accountId, creditor.accountId, 10);
    await submit(request);

    const reports = await drainQueue(world, 'posting', createPostingHandler(dependencies()));

    expect(reports.map((report) => [report.deleted, report.failed])).toEqual([[1, 0]]);
    const [quarantined] = await takeMessages(world, world.bindings.queues.posting.deadLetterUrl, 1);
    expect(quarantined?.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue).toMatch(/^CorruptItemError: .*headroom/);
    await world.clients.dynamodb.send(new PutItemCommand({ TableName: world.bindings.tables.ledger, Item: item }));
  });

  it('quarantines a record failing with an unclassified error on its fifth receive, while a throttled one keeps its receives', async () => {
    const [a, b] = await Promise.all([openFundedAccount(handle, { balanceMinor: 500n }), openFundedAccount(handle, { balanceMinor: 500n })]);
    const creditor = await openFundedAccount(handle);
    const buggy = transferRequest(a.accountId, creditor.accountId, 100);
    const throttled = transferRequest(b.accountId, creditor.accountId, 100);
    const failingLedger = withFaults<LedgerStore>(ledger, {
      postTransfer: (request) =>
        request.transferId === buggy.transferId
          ? Promise.reject(new TypeError("Cannot read properties of undefined (reading 'amountMinor')"))
          : request.transferId === throttled.transferId
            ? Promise.reject(throttlingError())
            : ledger.postTransfer(request),
    });
    const handler = createPostingHandler(dependencies({ ledger: failingLedger }));
    const early = [sqsRecord(buggy, randomUUID(), UNCLASSIFIED_FAILURE_RECEIVES_MAX - 1), sqsRecord(throttled, randomUUID(), 49)];
    const fifth = [sqsRecord(buggy, randomUUID(), UNCLASSIFIED_FAILURE_RECEIVES_MAX), sqsRecord(throttled, randomUUID(), 49)];

    const beforeTheFifth = await handler({ Records: early }, context());
    const onTheFifth = await handler({ Records: fifth }, context());

    expect(beforeTheFifth.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(early.map((record) => record.messageId));
    // The buggy one is acknowledged (quarantined); the throttled one is still retried.
    expect(onTheFifth.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([fifth[1]!.messageId]);
    const dead = await takeMessages(world, world.bindings.queues.posting.deadLetterUrl, Number.POSITIVE_INFINITY);
    expect(dead.map((message) => (JSON.parse(message.Body ?? '{}') as PaymentEvent).id)).toEqual([eventIdFor.requested(buggy.transferId)]);
    expect(dead[0]?.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue).toBe(
      `TypeError: Cannot read properties of undefined (reading 'amountMinor') (failed on ${UNCLASSIFIED_FAILURE_RECEIVES_MAX} receives, not a known transient error)`,
    );
    expect(await ledger.getTransfer(buggy.transferId)).toBeUndefined();
  });
});
