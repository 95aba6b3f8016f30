// The DLQ tooling's SQS mechanics on fauxqs (lambdas/adapters/sqs/dead-letter.ts, and the
// topology lookup of lib/cli/dlq.ts): every topology queue is paired with its DLQ through its
// RedrivePolicy; a look consumes nothing; a redrive moves messages back in order per group, keeps
// the group, strips the quarantine's attributes, keeps the others, uses a fresh deduplication id,
// stops at --max, and never deletes what it could not send. A message SNS dead-lettered (its
// subscription could not deliver it to the work queue) is told apart from the others by `show` and
// redriven without SNS's ErrorCode, ErrorMessage and RequestID.
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { CfnElement } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../../lib/app.js';
import { findDeadLetterQueues, runDlqCommand } from '../../lib/cli/dlq.js';
import { QUARANTINE_REASON_ATTRIBUTE, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import {
  peekDeadLetters,
  queueDepth,
  redriveDeadLetters,
  REDRIVEN_FROM_ATTRIBUTE,
  SNS_DELIVERY_FAILURE_ATTRIBUTES,
  type RedrivePair,
} from '../../lambdas/adapters/sqs/dead-letter.js';
import { queueNames } from '../../contract/topology.js';
import { createTestWorld, type EmulatorWorld } from '../support/world.js';
import { sqsRecordOf } from '../support/sqs-record.js';

/** fauxqs answers an empty short poll exactly; AWS needs the CLI's one-second long poll. */
const RECEIVE = { waitSeconds: 0 } as const;

let world: EmulatorWorld;
let pair: RedrivePair;

beforeAll(async () => {
  world = await createTestWorld('dlq');
});

afterAll(() => {
  world.destroy();
});

/** A fresh pair of queues for each test: the screening queue's, emptied. */
beforeEach(async () => {
  const found = (await findDeadLetterQueues({ sqs: world.clients.sqs, prefix: world.prefix })).find((entry) => entry.queue === 'screening')?.pair;
  if (found === undefined) throw new Error('no screening DLQ');
  pair = found;
  for (const url of [pair.sourceUrl, pair.deadLetterUrl]) await drain(url);
});

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await world.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return messages;
    for (const message of Messages) await world.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    messages.push(...Messages);
  }
}

async function drain(queueUrl: string): Promise<void> {
  await receiveAll(queueUrl);
}

/** Puts a message straight into the DLQ, as SQS or SNS would. */
async function sendToDeadLetterQueue(body: string, group: string, attributes: Record<string, string>): Promise<void> {
  await world.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: pair.deadLetterUrl,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: randomUUID(),
      MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
    }),
  );
}

/** As SQS dead-letters after maxReceiveCount: the original body and attributes, no reason. */
async function deadLetter(body: string, group: string): Promise<void> {
  await sendToDeadLetterQueue(body, group, { eventType: 'TransactionPosted' });
}

/** As a handler quarantines: through the quarantine adapter, with its reason. */
async function quarantine(body: string, group: string, reason: string): Promise<void> {
  await new SqsQuarantine(world.clients.sqs, pair.deadLetterUrl).quarantine(sqsRecordOf(body, group, 'arn:aws:sqs:us-east-1:000000000000:source'), reason);
}

/**
 * As SNS dead-letters a message its subscription could not deliver to the work queue: the body and
 * the published attributes, plus SNS's ErrorCode, ErrorMessage and RequestID. fauxqs 1.9 does not
 * dead-letter SNS deliveries itself, so the test sends what SNS would.
 */
async function snsDeadLetter(body: string, group: string): Promise<void> {
  await sendToDeadLetterQueue(body, group, {
    eventType: 'TransactionRequested',
    ErrorCode: 'KMS.AccessDeniedException',
    ErrorMessage: 'User: sns.amazonaws.com is not authorized to perform: kms:GenerateDataKey',
    RequestID: randomUUID(),
  });
}

describe('DLQ tooling on fauxqs', () => {
  it('pairs every queue of the topology with its DLQ, under the prefix only', async () => {
    const found = await findDeadLetterQueues({ sqs: world.clients.sqs, prefix: world.prefix });

    expect(found.map((entry) => entry.queue)).toEqual(queueNames());
    for (const { queue, pair: found_ } of found) {
      expect(found_).toMatchObject({ sourceUrl: world.bindings.queues[queue].url, deadLetterUrl: world.bindings.queues[queue].deadLetterUrl, maxReceiveCount: 50 });
    }
    expect((await findDeadLetterQueues({ sqs: world.clients.sqs, prefix: `${world.prefix}-nothing` })).every((entry) => entry.pair === undefined)).toBe(true);
  });

  it("pairs a deployed stack's queues by the names CloudFormation gives them from the stack's construct ids", async () => {
    const { stack } = createPaymentsApp({ stage: 'dev', bundleAssets: false });
    const stackName = `Payments-${randomUUID().slice(0, 8)}`;
    // CloudFormation names a queue without a QueueName `<stack>-<logical id>-<random>`.
    const create = async (queue: sqs.IQueue, attributes: Record<string, string>) => {
      const logicalId = stack.getLogicalId(queue.node.defaultChild as CfnElement);
      const name = `${stackName}-${logicalId}-${randomUUID().slice(0, 12).toUpperCase()}.fifo`;
      const { QueueUrl } = await world.clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', ...attributes } }));
      const { Attributes } = await world.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      return { name, arn: Attributes?.QueueArn ?? '' };
    };
    const expected = new Map<string, { readonly source: string; readonly deadLetter: string }>();
    for (const queue of queueNames()) {
      const deadLetter = await create(stack.queues[queue].deadLetterQueue, {});
      const source = await create(stack.queues[queue].queue, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: 5 }) });
      expected.set(queue, { source: source.name, deadLetter: deadLetter.name });
    }

    const found = await findDeadLetterQueues({ sqs: world.clients.sqs, prefix: stackName });

    expect(found.map(({ queue, pair: found_ }) => [queue, found_?.sourceName, found_?.deadLetterName])).toEqual(
      queueNames().map((queue) => [queue, expected.get(queue)?.source, expected.get(queue)?.deadLetter]),
    );
  });

  it('shows messages with group, reason and receives, and leaves them in the DLQ, visible', async () => {
    await quarantine('a1', 'acc-a', 'envelope invalid: data: Required');
    await deadLetter('a2', 'acc-a');
    await deadLetter('b1', 'acc-b');

    const first = await peekDeadLetters(world.clients.sqs, pair.deadLetterUrl, 10, RECEIVE);
    const second = await peekDeadLetters(world.clients.sqs, pair.deadLetterUrl, 10, RECEIVE);

    // A held group hands out nothing more: AWS shows a group's first (up to) 10, fauxqs its first.
    const byGroup = (messages: typeof first, group: string) => messages.filter((message) => message.messageGroupId === group).map((message) => message.body);
    for (const look of [first, second]) {
      expect(['a1', 'a2'].slice(0, byGroup(look, 'acc-a').length)).toEqual(byGroup(look, 'acc-a'));
      expect(byGroup(look, 'acc-a')[0]).toBe('a1');
      expect(byGroup(look, 'acc-b')).toEqual(['b1']);
    }
    expect(first.find((message) => message.body === 'a1')).toMatchObject({ quarantineReason: 'envelope invalid: data: Required', sourceReceiveCount: 1, receiveCount: 1 });
    expect(first.find((message) => message.body === 'b1')?.quarantineReason).toBeUndefined();
    expect(second.find((message) => message.body === 'a1')?.receiveCount).toBe(2);
    expect(await queueDepth(world.clients.sqs, pair.deadLetterUrl)).toEqual({ visible: 3, inFlight: 0 });
  });

  it('peeks at most --max messages', async () => {
    for (const group of ['acc-a', 'acc-b', 'acc-c']) await deadLetter(`${group}-1`, group);

    expect(await peekDeadLetters(world.clients.sqs, pair.deadLetterUrl, 2, RECEIVE)).toHaveLength(2);
    expect(await queueDepth(world.clients.sqs, pair.deadLetterUrl)).toEqual({ visible: 3, inFlight: 0 });
  });

  it('redrives in order per group, keeping the group and other attributes, without the reason, with a fresh deduplication id', async () => {
    await quarantine('a1', 'acc-a', 'CorruptItemError: account status active');
    await deadLetter('a2', 'acc-a');
    await deadLetter('b1', 'acc-b');
    await deadLetter('a3', 'acc-a');

    const result = await redriveDeadLetters(world.clients.sqs, pair, Number.MAX_SAFE_INTEGER, RECEIVE);
    const arrived = await receiveAll(pair.sourceUrl);

    expect(result.stoppedBy).toBeUndefined();
    expect(result.moved).toHaveLength(4);
    expect(result.moved.find((message) => message.messageGroupId === 'acc-a')?.quarantineReason).toBe('CorruptItemError: account status active');
    const groupOf = (message: Message) => message.Attributes?.MessageGroupId;
    expect(arrived.filter((message) => groupOf(message) === 'acc-a').map((message) => message.Body)).toEqual(['a1', 'a2', 'a3']);
    expect(arrived.filter((message) => groupOf(message) === 'acc-b').map((message) => message.Body)).toEqual(['b1']);
    for (const message of arrived) {
      expect(message.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]).toBeUndefined();
      expect(message.MessageAttributes?.quarantinedFrom).toBeUndefined();
      expect(message.MessageAttributes?.[REDRIVEN_FROM_ATTRIBUTE]?.StringValue).toBe(pair.deadLetterName);
      expect(message.Attributes?.MessageDeduplicationId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(arrived.find((message) => message.Body === 'a2')?.MessageAttributes?.eventType?.StringValue).toBe('TransactionPosted');
    expect(new Set(arrived.map((message) => message.Attributes?.MessageDeduplicationId)).size).toBe(4);
    expect(await queueDepth(world.clients.sqs, pair.deadLetterUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect((await redriveDeadLetters(world.clients.sqs, pair, 10, RECEIVE)).moved).toEqual([]);
  });

  it('shows an SNS delivery failure as one, and redrives it once, same group, without SNS\'s attributes', async () => {
    await snsDeadLetter('s1', 'acc-s');
    await deadLetter('m1', 'acc-m');

    const looked = await peekDeadLetters(world.clients.sqs, pair.deadLetterUrl, 10, RECEIVE);
    let shown = '';
    const code = await runDlqCommand({ sqs: world.clients.sqs, prefix: world.prefix, receive: RECEIVE }, 'show', 'screening', {}, { stdout: (text) => (shown += text), stderr: () => undefined });

    expect(looked.find((message) => message.body === 's1')).toMatchObject({
      origin: 'sns-delivery-failed',
      deliveryError: 'KMS.AccessDeniedException: User: sns.amazonaws.com is not authorized to perform: kms:GenerateDataKey',
      quarantineReason: undefined,
      messageGroupId: 'acc-s',
    });
    expect(looked.find((message) => message.body === 'm1')).toMatchObject({ origin: 'max-receives', deliveryError: undefined });
    expect(code).toBe(0);
    const block = (body: string) => shown.split('\n\n').find((entry) => entry.includes(`body      ${body}`)) ?? '';
    expect(block('s1')).toContain(`  origin    SNS delivery failure: SNS could not deliver it to ${pair.sourceName}, so no consumer saw it`);
    expect(block('s1')).toContain('  error     KMS.AccessDeniedException: User: sns.amazonaws.com is not authorized to perform: kms:GenerateDataKey (the delivery path failed');
    expect(block('s1')).not.toContain('moved by SQS');
    expect(block('m1')).toContain(`  origin    moved by SQS after ${pair.maxReceiveCount} receives from ${pair.sourceName}`);

    const result = await redriveDeadLetters(world.clients.sqs, pair, Number.MAX_SAFE_INTEGER, RECEIVE);
    const arrived = await receiveAll(pair.sourceUrl);

    expect(result.stoppedBy).toBeUndefined();
    expect(result.moved.find((message) => message.messageGroupId === 'acc-s')).toMatchObject({ origin: 'sns-delivery-failed', quarantineReason: undefined });
    expect(result.moved.find((message) => message.messageGroupId === 'acc-s')?.deliveryError).toMatch(/^KMS\.AccessDeniedException: /);
    const redriven = arrived.filter((message) => message.Body === 's1');
    expect(redriven).toHaveLength(1);
    expect(redriven[0]?.Attributes?.MessageGroupId).toBe('acc-s');
    expect(Object.keys(redriven[0]?.MessageAttributes ?? {}).sort()).toEqual(['eventType', REDRIVEN_FROM_ATTRIBUTE]);
    for (const name of SNS_DELIVERY_FAILURE_ATTRIBUTES) expect(redriven[0]?.MessageAttributes?.[name]).toBeUndefined();
    expect(redriven[0]?.MessageAttributes?.eventType?.StringValue).toBe('TransactionRequested');
    expect(redriven[0]?.MessageAttributes?.[REDRIVEN_FROM_ATTRIBUTE]?.StringValue).toBe(pair.deadLetterName);
    expect(await queueDepth(world.clients.sqs, pair.deadLetterUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect((await redriveDeadLetters(world.clients.sqs, pair, 10, RECEIVE)).moved).toEqual([]);
    expect(await receiveAll(pair.sourceUrl)).toEqual([]);
  });

  it('moves at most --max messages, the oldest of their group first', async () => {
    for (const body of ['a1', 'a2', 'a3']) await deadLetter(body, 'acc-a');

    const result = await redriveDeadLetters(world.clients.sqs, pair, 2, RECEIVE);

    expect((await receiveAll(pair.sourceUrl)).map((message) => message.Body)).toEqual(['a1', 'a2']);
    expect(result.moved).toHaveLength(2);
    expect((await peekDeadLetters(world.clients.sqs, pair.deadLetterUrl, 10, RECEIVE)).map((message) => message.body)).toEqual(['a3']);
  });

  it('deletes nothing it could not send, and hands every message back at once, in order', async () => {
    for (const body of ['a1', 'a2', 'a3']) await deadLetter(body, 'acc-a');
    const nowhere = { ...pair, sourceUrl: pair.sourceUrl.replace(/[^/]+$/, `${world.prefix}-gone.fifo`) };

    const failed = await redriveDeadLetters(world.clients.sqs, nowhere, 10, RECEIVE);

    expect(failed.moved).toEqual([]);
    expect(failed.stoppedBy).toMatch(/^sending .+ to the source queue failed .*; it stays in the DLQ$/);
    expect(await queueDepth(world.clients.sqs, pair.deadLetterUrl)).toEqual({ visible: 3, inFlight: 0 });
    // Nothing overtook anything: the real redrive delivers the group in its order.
    expect((await redriveDeadLetters(world.clients.sqs, pair, 10, RECEIVE)).moved).toHaveLength(3);
    expect((await receiveAll(pair.sourceUrl)).map((message) => message.Body)).toEqual(['a1', 'a2', 'a3']);
  });
});
