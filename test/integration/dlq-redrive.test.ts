// The DLQ tooling's SQS mechanics on fauxqs (lambdas/adapters/sqs/dead-letter.ts, and the
// topology lookup of lib/cli/dlq.ts): every topology queue is paired with its DLQ through its
// RedrivePolicy; a look consumes nothing; a redrive moves messages back in order per group, keeps
// the group, strips the quarantine's attributes, keeps the others, uses a fresh deduplication id,
// stops at --max, and never deletes what it could not send.
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findDeadLetterQueues } from '../../lib/cli/dlq.js';
import { QUARANTINE_REASON_ATTRIBUTE, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import { peekDeadLetters, queueDepth, redriveDeadLetters, REDRIVEN_FROM_ATTRIBUTE, type RedrivePair } from '../../lambdas/adapters/sqs/dead-letter.js';
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

/** As SQS dead-letters after maxReceiveCount: the original body and attributes, no reason. */
async function deadLetter(body: string, group: string): Promise<void> {
  await world.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: pair.deadLetterUrl,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: randomUUID(),
      MessageAttributes: { eventType: { DataType: 'String', StringValue: 'TransactionPosted' } },
    }),
  );
}

/** As a handler quarantines: through the quarantine adapter, with its reason. */
async function quarantine(body: string, group: string, reason: string): Promise<void> {
  await new SqsQuarantine(world.clients.sqs, pair.deadLetterUrl).quarantine(sqsRecordOf(body, group, 'arn:aws:sqs:us-east-1:000000000000:source'), reason);
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
