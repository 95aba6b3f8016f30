// Proves MemoryMessaging keeps the SNS/SQS contract the project relies on, differentially: each
// shared scenario runs through real SDK clients against fauxqs and against the in-memory fabric,
// and both must observe the same outcomes (fan-out and filters, per-group order, dedup,
// visibility and redelivery, DLQ after maxReceiveCount, receive counts, error names). The
// memory-only part covers what fauxqs cannot show (AWS group delivery, the injected clock,
// faults, long polling, inspection) and runs the project's own code on the fabric unchanged.
import { createHash, randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, PublishCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  asSnsClient,
  asSqsClient,
  DEDUPLICATION_WINDOW_MS,
  MemoryMessaging,
  UnsupportedFilterPolicyError,
  type MemoryMessagingOptions,
} from '../../lambdas/adapters/memory/messaging.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../../lambdas/adapters/sns/ops-notifier.js';
import { QUARANTINE_REASON_ATTRIBUTE, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import { EventEnvelope, eventIdFor, type PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import { createAwsClients, type AwsClients } from '../../lambdas/shared/aws-clients.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/local-world.js';
import { pollBatch, type EventSourceBinding } from '../../lib/local/event-source.js';
import { startOpsConsole } from '../../lib/local/ops-console.js';
import { provisionTopology, type Bindings } from '../../lib/local/provision.js';
import { toSqsRecord } from '../../lib/local/sqs-records.js';
import { topology, visibilityTimeoutSeconds } from '../../contract/topology.js';

/** One SNS/SQS world behind real SDK client types. */
interface Backend {
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  /** Lets time pass: a real sleep on fauxqs, the injected clock on memory. */
  elapse(ms: number): Promise<void>;
}

const START_MS = Date.UTC(2026, 0, 1);
let fauxqsClients: AwsClients;
let runId = '';
let names = 0;

beforeAll(() => {
  fauxqsClients = createAwsClients({ endpoint: inject('snsSqsEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  runId = randomBytes(3).toString('hex');
});

afterAll(() => {
  fauxqsClients.sns.destroy();
  fauxqsClients.sqs.destroy();
});

const fauxqs = (): Backend => ({
  sns: fauxqsClients.sns,
  sqs: fauxqsClients.sqs,
  elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

function memory(options: MemoryMessagingOptions = {}): Backend & { readonly fabric: MemoryMessaging; readonly clock: { ms: number } } {
  const clock = { ms: START_MS };
  const fabric = new MemoryMessaging({ now: () => clock.ms, ...options });
  return {
    fabric,
    clock,
    sns: asSnsClient(fabric),
    sqs: asSqsClient(fabric),
    elapse: (ms) => {
      clock.ms += ms;
      return Promise.resolve();
    },
  };
}

/** Names unique within fauxqs, which every integration test file shares. */
const uniqueName = (label: string): string => `mm${runId}-${++names}-${label}`;

/** The same scenario against both; each gets its own names. */
async function observeBoth<T>(scenario: (backend: Backend) => Promise<T>): Promise<{ fauxqs: T; memory: T }> {
  const [onFauxqs, onMemory] = await Promise.all([scenario(fauxqs()), scenario(memory())]);
  return { fauxqs: onFauxqs, memory: onMemory };
}

// --- helpers over SDK clients, the same for both backends --------------------------------------

interface TestQueue {
  readonly url: string;
  readonly arn: string;
}

async function createQueue(backend: Backend, name: string, attributes: Record<string, string> = {}): Promise<TestQueue> {
  const { QueueUrl } = await backend.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (QueueUrl === undefined) throw new Error(`no URL for ${name}`);
  const { Attributes } = await backend.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  if (Attributes?.QueueArn === undefined) throw new Error(`no ARN for ${name}`);
  return { url: QueueUrl, arn: Attributes.QueueArn };
}

const fifoQueue = (backend: Backend, label: string, attributes: Record<string, string> = {}): Promise<TestQueue> =>
  createQueue(backend, `${uniqueName(label)}.fifo`, { FifoQueue: 'true', DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId', ...attributes });

async function fifoTopic(backend: Backend, label: string): Promise<string> {
  const { TopicArn } = await backend.sns.send(
    new CreateTopicCommand({
      Name: `${uniqueName(label)}.fifo`,
      Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false', FifoThroughputScope: 'MessageGroup' },
    }),
  );
  if (TopicArn === undefined) throw new Error('no topic ARN');
  return TopicArn;
}

async function subscribeRaw(backend: Backend, topicArn: string, queue: TestQueue, filterPolicy?: Record<string, string[]>): Promise<void> {
  await backend.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queue.arn,
      Attributes: { RawMessageDelivery: 'true', ...(filterPolicy !== undefined ? { FilterPolicy: JSON.stringify(filterPolicy) } : {}) },
    }),
  );
}

async function receive(backend: Backend, url: string, max = 10, visibilitySeconds?: number): Promise<Message[]> {
  const { Messages = [] } = await backend.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      ...(visibilitySeconds !== undefined ? { VisibilityTimeout: visibilitySeconds } : {}),
    }),
  );
  return Messages;
}

/** Receives and deletes until a receive comes back empty; every receive's bodies, in receive order. */
async function drain(backend: Backend, url: string, receivesMax = 50): Promise<string[][]> {
  const receives: string[][] = [];
  for (let count = 0; count < receivesMax; count++) {
    const messages = await receive(backend, url);
    if (messages.length === 0) return receives;
    receives.push(messages.map((message) => message.Body ?? ''));
    for (const message of messages) await backend.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
  }
  throw new Error(`${url} did not drain within ${receivesMax} receives`);
}

async function publish(backend: Backend, topicArn: string, body: string, group: string, eventType?: string, deduplicationId = body): Promise<void> {
  await backend.sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: body,
      MessageGroupId: group,
      MessageDeduplicationId: deduplicationId,
      ...(eventType !== undefined ? { MessageAttributes: { eventType: { DataType: 'String', StringValue: eventType } } } : {}),
    }),
  );
}

async function send(backend: Backend, url: string, body: string, group: string, deduplicationId = body): Promise<string | undefined> {
  const { MessageId } = await backend.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: deduplicationId }));
  return MessageId;
}

async function errorName(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
  return 'no error';
}

const receiveCountOf = (message: Message | undefined): string | undefined => message?.Attributes?.ApproximateReceiveCount;

// --- the differential contract ------------------------------------------------------------------

describe.concurrent('MemoryMessaging and fauxqs observe the same', () => {
  it('fan-out: a raw copy, attributes kept, on each queue whose filter matches; an absent attribute matches no filter', async () => {
    const observed = await observeBoth(async (backend) => {
      const topic = await fifoTopic(backend, 'fan');
      const posting = await fifoQueue(backend, 'posting');
      const screening = await fifoQueue(backend, 'screening');
      const everything = await fifoQueue(backend, 'everything');
      await subscribeRaw(backend, topic, posting, { eventType: ['TransactionRequested'] });
      await subscribeRaw(backend, topic, screening, { eventType: ['TransactionPosted', 'TransactionRejected'] });
      await subscribeRaw(backend, topic, everything);
      const events: [string, string | undefined][] = [['r1', 'TransactionRequested'], ['p1', 'TransactionPosted'], ['x1', 'TransactionRejected'], ['n1', undefined], ['o1', 'Other']];
      for (const [body, eventType] of events) await publish(backend, topic, body, 'acc-1', eventType);

      const [first] = await receive(backend, posting.url);
      return {
        postingAttributes: first?.MessageAttributes,
        postingGroup: first?.Attributes?.MessageGroupId,
        posting: [first?.Body, ...(await drain(backend, posting.url)).flat()],
        screening: (await drain(backend, screening.url)).flat(),
        everything: (await drain(backend, everything.url)).flat(),
      };
    });

    expect(observed.fauxqs).toEqual({
      postingAttributes: { eventType: { DataType: 'String', StringValue: 'TransactionRequested' } },
      postingGroup: 'acc-1',
      posting: ['r1'],
      screening: ['p1', 'x1'],
      everything: ['r1', 'p1', 'x1', 'n1', 'o1'],
    });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('per-group order, with at most one message of a group in flight', async () => {
    const observed = await observeBoth(async (backend) => {
      const queue = await fifoQueue(backend, 'order');
      const entries = ['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3'].map((body, index) => ({
        Id: String(index),
        MessageBody: body,
        MessageGroupId: body.startsWith('a') ? 'group-a' : 'group-b',
        MessageDeduplicationId: body,
      }));
      await backend.sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
      const firstReceive = (await receive(backend, queue.url)).map((message) => message.Body).sort();
      const whileInFlight = await receive(backend, queue.url);
      await backend.sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
      await backend.sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries.map((entry) => ({ ...entry, MessageDeduplicationId: `again-${entry.Id}` })) }));
      const receives = await drain(backend, queue.url);
      const all = receives.flat();
      return {
        firstReceive,
        whileInFlight: whileInFlight.length,
        groupA: all.filter((body) => body.startsWith('a')),
        groupB: all.filter((body) => body.startsWith('b')),
        mostOfOneGroupPerReceive: Math.max(...receives.map((bodies) => Math.max(bodies.filter((b) => b.startsWith('a')).length, bodies.filter((b) => b.startsWith('b')).length))),
      };
    });

    expect(observed.fauxqs).toEqual({ firstReceive: ['a0', 'b0'], whileInFlight: 0, groupA: ['a0', 'a1', 'a2', 'a3'], groupB: ['b0', 'b1', 'b2'], mostOfOneGroupPerReceive: 1 });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('deduplication of a repeated MessageDeduplicationId on the queue and on the topic', async () => {
    const observed = await observeBoth(async (backend) => {
      const queue = await fifoQueue(backend, 'dedup');
      const firstId = await send(backend, queue.url, 'first', 'g', 'd1');
      const repeatedId = await send(backend, queue.url, 'second', 'g', 'd1');
      await send(backend, queue.url, 'third', 'g', 'd2');
      const topic = await fifoTopic(backend, 'dedup');
      const subscribed = await fifoQueue(backend, 'dedup-sub');
      await subscribeRaw(backend, topic, subscribed);
      await publish(backend, topic, 'pub-1', 'g', undefined, 'p1');
      await publish(backend, topic, 'pub-1-again', 'g', undefined, 'p1');
      return { sameIdForTheDuplicate: firstId === repeatedId, queue: (await drain(backend, queue.url)).flat(), topic: (await drain(backend, subscribed.url)).flat() };
    });

    expect(observed.fauxqs).toEqual({ sameIdForTheDuplicate: true, queue: ['first', 'third'], topic: ['pub-1'] });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('visibility: hidden while in flight, redelivered with a new handle after the timeout; stale handles refused or ignored', async () => {
    const observed = await observeBoth(async (backend) => {
      const queue = await fifoQueue(backend, 'visibility', { VisibilityTimeout: '1' });
      await send(backend, queue.url, 'm', 'g');
      const [first] = await receive(backend, queue.url);
      const whileHidden = await receive(backend, queue.url);
      await backend.elapse(1_500);
      const [again] = await receive(backend, queue.url);
      const staleChange = await errorName(backend.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 0 })));
      const batch = await backend.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: [
            { Id: 'stale', ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 0 },
            { Id: 'current', ReceiptHandle: again?.ReceiptHandle, VisibilityTimeout: 0 },
          ],
        }),
      );
      const staleDelete = await errorName(backend.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: first?.ReceiptHandle })));
      const [third] = await receive(backend, queue.url);
      await backend.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: third?.ReceiptHandle }));
      return {
        counts: [first, again, third].map(receiveCountOf),
        whileHidden: whileHidden.length,
        newHandle: first?.ReceiptHandle !== again?.ReceiptHandle,
        staleChange,
        batch: { successful: batch.Successful?.map((entry) => entry.Id), failed: batch.Failed?.map((entry) => [entry.Id, entry.Code]) },
        staleDelete,
        afterDelete: (await receive(backend, queue.url)).length,
      };
    });

    expect(observed.fauxqs).toEqual({
      counts: ['1', '2', '3'],
      whileHidden: 0,
      newHandle: true,
      staleChange: 'MessageNotInflight',
      batch: { successful: ['current'], failed: [['stale', 'ReceiptHandleIsInvalid']] },
      staleDelete: 'no error',
      afterDelete: 0,
    });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('redrive: the receive that finds maxReceiveCount used up moves the message to the DLQ, body, attributes and group kept', async () => {
    const observed = await observeBoth(async (backend) => {
      const dlq = await fifoQueue(backend, 'dlq');
      const queue = await fifoQueue(backend, 'redrive', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) });
      await backend.sqs.send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison', MessageGroupId: 'g1', MessageDeduplicationId: 'poison', MessageAttributes: { reason: { DataType: 'String', StringValue: 'x' } } }),
      );
      await send(backend, queue.url, 'next', 'g1');
      // A zero visibility timeout makes each receive's message visible again at once.
      const receives = [await receive(backend, queue.url, 10, 0), await receive(backend, queue.url, 10, 0), await receive(backend, queue.url, 10, 0)];
      const [dead] = await receive(backend, dlq.url);
      const { Attributes } = await backend.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return {
        receives: receives.map((messages) => messages.map((message) => [message.Body, receiveCountOf(message)])),
        dead: { body: dead?.Body, group: dead?.Attributes?.MessageGroupId, count: receiveCountOf(dead), attributes: dead?.MessageAttributes },
        dlqDepth: Attributes,
      };
    });

    expect(observed.fauxqs).toEqual({
      receives: [[['poison', '1']], [['poison', '2']], [['next', '1']]],
      dead: { body: 'poison', group: 'g1', count: '4', attributes: { reason: { DataType: 'String', StringValue: 'x' } } },
      dlqDepth: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' },
    });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('queue attributes, counts, idempotent creation and purge', async () => {
    const observed = await observeBoth(async (backend) => {
      const name = `${uniqueName('attrs')}.fifo`;
      const attributes = { FifoQueue: 'true', VisibilityTimeout: '7', DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${LOCAL_REGION}:000000000000:${name}-dlq.fifo`, maxReceiveCount: 3 }) };
      const queue = await createQueue(backend, name, attributes);
      const again = await createQueue(backend, name, attributes);
      const rejected = (await errorName(backend.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { ...attributes, VisibilityTimeout: '8' } })))) !== 'no error';
      const { QueueUrl } = await backend.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      for (const group of ['g1', 'g2', 'g3']) await send(backend, queue.url, `in-${group}`, group);
      await receive(backend, queue.url, 1);
      const { Attributes = {} } = await backend.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['All'] }));
      await backend.sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
      return {
        sameUrl: again.url === queue.url && QueueUrl === queue.url,
        rejected,
        arnEndsWithName: queue.arn.endsWith(`:000000000000:${name}`),
        attributes: {
          visible: Attributes.ApproximateNumberOfMessages,
          inFlight: Attributes.ApproximateNumberOfMessagesNotVisible,
          visibility: Attributes.VisibilityTimeout,
          redrive: Attributes.RedrivePolicy === attributes.RedrivePolicy,
          fifo: [Attributes.FifoQueue, Attributes.ContentBasedDeduplication, Attributes.DeduplicationScope, Attributes.FifoThroughputLimit],
        },
        afterPurge: (await receive(backend, queue.url)).length,
      };
    });

    expect(observed.fauxqs).toEqual({
      sameUrl: true,
      rejected: true,
      arnEndsWithName: true,
      attributes: { visible: '2', inFlight: '1', visibility: '7', redrive: true, fifo: ['true', 'false', 'messageGroup', 'perMessageGroupId'] },
      afterPurge: 0,
    });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('error names for a missing queue or topic, FIFO parameters left out and an aborted request', async () => {
    const observed = await observeBoth(async (backend) => {
      const queue = await fifoQueue(backend, 'errors');
      const topic = await fifoTopic(backend, 'errors');
      const missingUrl = queue.url.replace(/[^/]+$/, `${uniqueName('missing')}.fifo`);
      return {
        missingQueue: await errorName(send(backend, missingUrl, 'x', 'g')),
        missingTopic: await errorName(publish(backend, topic.replace(/[^:]+$/, `${uniqueName('missing')}.fifo`), 'x', 'g')),
        publishWithoutGroup: await errorName(backend.sns.send(new PublishCommand({ TopicArn: topic, Message: 'x', MessageDeduplicationId: 'd' }))),
        sendWithoutGroup: await errorName(backend.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x', MessageDeduplicationId: 'd' }))),
        sendWithoutDeduplicationId: await errorName(backend.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x', MessageGroupId: 'g' }))),
        receiveTooMany: await errorName(receive(backend, queue.url, 11)),
        alreadyAborted: await errorName(backend.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url }), { abortSignal: AbortSignal.abort() })),
      };
    });

    expect(observed.fauxqs).toEqual({
      missingQueue: 'QueueDoesNotExist',
      missingTopic: 'NotFoundException',
      publishWithoutGroup: 'InvalidParameterException',
      sendWithoutGroup: 'AWS.SimpleQueueService.MissingParameter',
      sendWithoutDeduplicationId: 'AWS.SimpleQueueService.InvalidParameterValue',
      receiveTooMany: 'AWS.SimpleQueueService.InvalidParameterValue',
      alreadyAborted: 'AbortError',
    });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('the SNS envelope on a standard queue without raw delivery (the operations notifications path)', async () => {
    const observed = await observeBoth(async (backend) => {
      const { TopicArn } = await backend.sns.send(new CreateTopicCommand({ Name: uniqueName('ops') }));
      const inbox = await createQueue(backend, uniqueName('inbox'));
      await backend.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: inbox.arn }));
      await backend.sns.send(
        new PublishCommand({
          TopicArn,
          Subject: 'subject',
          Message: 'hello',
          MessageAttributes: { alertId: { DataType: 'String', StringValue: 'a1' }, severity: { DataType: 'String', StringValue: 'HIGH' } },
        }),
      );
      const [message] = await receive(backend, inbox.url);
      const envelope = JSON.parse(message?.Body ?? '{}') as Record<string, unknown>;
      return {
        envelope: { Type: envelope.Type, Subject: envelope.Subject, Message: envelope.Message, MessageAttributes: envelope.MessageAttributes, TopicArn: envelope.TopicArn === TopicArn },
        timestamp: typeof envelope.Timestamp === 'string' && !Number.isNaN(Date.parse(envelope.Timestamp)),
        sqsMessageAttributes: message?.MessageAttributes,
      };
    });

    expect(observed.fauxqs).toEqual({
      envelope: { Type: 'Notification', Subject: 'subject', Message: 'hello', MessageAttributes: { alertId: { Type: 'String', Value: 'a1' }, severity: { Type: 'String', Value: 'HIGH' } }, TopicArn: true },
      timestamp: true,
      sqsMessageAttributes: undefined,
    });
    expect(observed.memory).toEqual(observed.fauxqs);
  });

  it('the system attributes and digests a consumer reads', async () => {
    const observed = await observeBoth(async (backend) => {
      const queue = await fifoQueue(backend, 'system');
      const sent = await backend.sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: 'body ✓ é',
          MessageGroupId: 'acc-9',
          MessageDeduplicationId: 'dedup-9',
          MessageAttributes: { eventType: { DataType: 'String', StringValue: 'TransactionPosted' }, amount: { DataType: 'Number', StringValue: '42' } },
        }),
      );
      const [message] = await receive(backend, queue.url);
      const attributes = message?.Attributes ?? {};
      return {
        sent: { md5OfBody: sent.MD5OfMessageBody, md5OfAttributes: sent.MD5OfMessageAttributes, sequence: sent.SequenceNumber },
        keys: Object.keys(attributes).sort(),
        values: [attributes.ApproximateReceiveCount, attributes.MessageGroupId, attributes.MessageDeduplicationId, attributes.SequenceNumber],
        firstReceiveNotBeforeSent: Number(attributes.ApproximateFirstReceiveTimestamp) >= Number(attributes.SentTimestamp),
        md5OfBody: message?.MD5OfBody,
        md5OfAttributes: message?.MD5OfMessageAttributes,
        messageAttributes: message?.MessageAttributes,
      };
    });

    const bodyDigest = createHash('md5').update('body ✓ é', 'utf8').digest('hex');
    expect(observed.fauxqs).toMatchObject({
      sent: { md5OfBody: bodyDigest, sequence: '00000000000000000001' },
      keys: ['ApproximateFirstReceiveTimestamp', 'ApproximateReceiveCount', 'MessageDeduplicationId', 'MessageGroupId', 'SenderId', 'SentTimestamp', 'SequenceNumber'],
      values: ['1', 'acc-9', 'dedup-9', '00000000000000000001'],
      firstReceiveNotBeforeSent: true,
      md5OfBody: bodyDigest,
      messageAttributes: { eventType: { DataType: 'String', StringValue: 'TransactionPosted' }, amount: { DataType: 'Number', StringValue: '42' } },
    });
    expect(observed.fauxqs.md5OfAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(observed.memory).toEqual(observed.fauxqs);
  });
});

// --- memory only ------------------------------------------------------------------------------

describe('MemoryMessaging (memory only)', () => {
  async function sevenInTwoGroups(backend: Backend): Promise<TestQueue> {
    const queue = await fifoQueue(backend, 'groups', { VisibilityTimeout: '30' });
    for (const body of ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1']) await send(backend, queue.url, body, body.startsWith('a') ? 'g-a' : 'g-b');
    return queue;
  }

  const bodies = (messages: readonly Message[]): (string | undefined)[] => messages.map((message) => message.Body);

  it("'aws' group delivery: one receive takes consecutive messages of a group in order; a group with anything in flight gives nothing", async () => {
    const backend = memory({ groupDelivery: 'aws' });
    const queue = await sevenInTwoGroups(backend);

    const first = await receive(backend, queue.url);
    const whileInFlight = await receive(backend, queue.url);
    for (const message of first.slice(0, 3)) await backend.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    const stillBlocked = await receive(backend, queue.url);
    await backend.elapse(30_000);
    const afterTimeout = await receive(backend, queue.url, 3);

    expect(bodies(first)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1']);
    expect(whileInFlight).toEqual([]);
    expect(stillBlocked).toEqual([]);
    expect(bodies(afterTimeout)).toEqual(['a3', 'a4', 'b0']);
    expect(afterTimeout.map(receiveCountOf)).toEqual(['2', '2', '2']);
  });

  it("'one-in-flight' group delivery (the default) gives one message per group per receive", async () => {
    const backend = memory();
    const queue = await sevenInTwoGroups(backend);

    const first = await receive(backend, queue.url);

    expect(bodies(first)).toEqual(['a0', 'b0']);
  });

  it('times visibility and the deduplication window by the injected clock alone', async () => {
    const backend = memory();
    const queue = await fifoQueue(backend, 'clock', { VisibilityTimeout: '30' });
    await send(backend, queue.url, 'm', 'g', 'd');

    const [first] = await receive(backend, queue.url);
    await backend.elapse(29_999);
    const justBefore = await receive(backend, queue.url);
    await backend.elapse(1);
    // Expired but not yet received again: no longer in flight (fauxqs may still accept it until its timer runs).
    const expiredChange = await errorName(backend.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 60 })));
    const [redelivered] = await receive(backend, queue.url);
    await backend.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: redelivered?.ReceiptHandle }));
    await send(backend, queue.url, 'inside-window', 'g', 'd');
    const insideWindow = await receive(backend, queue.url);
    await backend.elapse(DEDUPLICATION_WINDOW_MS - 30_000);
    await send(backend, queue.url, 'after-window', 'g', 'd');
    const afterWindow = await receive(backend, queue.url);

    expect(first?.Attributes).toMatchObject({ SentTimestamp: String(START_MS), ApproximateFirstReceiveTimestamp: String(START_MS) });
    expect(justBefore).toEqual([]);
    expect(expiredChange).toBe('MessageNotInflight');
    expect(redelivered).toMatchObject({ Body: 'm', Attributes: { ApproximateReceiveCount: '2', ApproximateFirstReceiveTimestamp: String(START_MS) } });
    expect(insideWindow).toEqual([]);
    expect(bodies(afterWindow)).toEqual(['after-window']);
  });

  it.each([
    ['messageGroup', ['in-g1', 'in-g2']],
    ['queue', ['in-g1']],
  ])('deduplicates within scope %s (fauxqs always deduplicates queue-wide; AWS honours the scope)', async (scope, expected) => {
    const backend = memory();
    const queue = await createQueue(backend, `${uniqueName('scope')}.fifo`, { FifoQueue: 'true', DeduplicationScope: scope });

    await send(backend, queue.url, 'in-g1', 'g1', 'same');
    await send(backend, queue.url, 'in-g2', 'g2', 'same');

    expect((await drain(backend, queue.url)).flat().sort()).toEqual(expected);
  });

  it('matches String.Array attributes by any element, never a Number attribute against strings', async () => {
    const backend = memory();
    const topic = await fifoTopic(backend, 'array');
    const queue = await fifoQueue(backend, 'array');
    await subscribeRaw(backend, topic, queue, { eventType: ['A'] });

    for (const [body, DataType, StringValue] of [['array-hit', 'String.Array', '["B","A"]'], ['array-miss', 'String.Array', '["B"]'], ['number', 'Number', '1'], ['string-hit', 'String', 'A']]) {
      await backend.sns.send(new PublishCommand({ TopicArn: topic, Message: body, MessageGroupId: 'g', MessageDeduplicationId: body, MessageAttributes: { eventType: { DataType, StringValue } } }));
    }

    expect((await drain(backend, queue.url)).flat()).toEqual(['array-hit', 'string-hit']);
  });

  it.each([
    ['an operator', { FilterPolicy: JSON.stringify({ eventType: [{ prefix: 'Trans' }] }) }, UnsupportedFilterPolicyError],
    ['$or', { FilterPolicy: JSON.stringify({ $or: [{ a: ['x'] }, { b: ['y'] }] }) }, UnsupportedFilterPolicyError],
    ['a numeric value', { FilterPolicy: JSON.stringify({ amount: [5] }) }, UnsupportedFilterPolicyError],
    ['the message body scope', { FilterPolicy: JSON.stringify({ a: ['x'] }), FilterPolicyScope: 'MessageBody' }, UnsupportedFilterPolicyError],
  ])('refuses a filter policy with %s loudly instead of matching it', async (_label, attributes, ErrorClass) => {
    const backend = memory();
    const topic = await fifoTopic(backend, 'filters');
    const queue = await fifoQueue(backend, 'filters');

    const subscribing = backend.sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: queue.arn, Attributes: attributes }));

    await expect(subscribing).rejects.toBeInstanceOf(ErrorClass);
  });

  it.each([
    ['a value that is not an array', { eventType: 'TransactionRequested' }],
    ['an empty array', { eventType: [] }],
    ['JSON that does not parse', '{'],
  ])('rejects a filter policy with %s as AWS does', async (_label, policy) => {
    const backend = memory();
    const topic = await fifoTopic(backend, 'invalid');
    const queue = await fifoQueue(backend, 'invalid');

    const subscribing = backend.sns.send(
      new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: queue.arn, Attributes: { FilterPolicy: typeof policy === 'string' ? policy : JSON.stringify(policy) } }),
    );

    await expect(subscribing).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('consults the fault hook before each request: a returned error is thrown and nothing changes', async () => {
    const seen: string[] = [];
    let failNext: Error | undefined;
    const backend = memory({
      faults: (request) => {
        seen.push(`${request.service}:${request.operation}`);
        const fault = failNext;
        failNext = undefined;
        return fault;
      },
    });
    const topic = await fifoTopic(backend, 'faults');
    const queue = await fifoQueue(backend, 'faults');
    await subscribeRaw(backend, topic, queue);
    const injected = new Error('injected: SNS unavailable');

    failNext = injected;
    const failedPublish = publish(backend, topic, 'lost', 'g');
    await expect(failedPublish).rejects.toBe(injected);
    await publish(backend, topic, 'kept', 'g');
    failNext = new Error('injected: receive fails');
    await expect(receive(backend, queue.url)).rejects.toThrow(/receive fails/);

    expect(backend.fabric.published(topic).map((entry) => entry.message)).toEqual(['kept']);
    expect(backend.fabric.depth(queue.url)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    expect(seen).toEqual(expect.arrayContaining(['sns:CreateTopic', 'sqs:CreateQueue', 'sns:Subscribe', 'sns:Publish', 'sqs:ReceiveMessage']));
  });

  it('long polling: returns at once by default, waits for a message with real long polling, and honours the abort signal', async () => {
    const immediate = memory();
    const real = memory({ longPolling: 'real' });
    const [immediateQueue, realQueue] = [await fifoQueue(immediate, 'poll'), await fifoQueue(real, 'poll')];
    const longPoll = (backend: Backend, url: string, abortSignal?: AbortSignal): Promise<Message[]> =>
      backend.sqs
        .send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }), abortSignal !== undefined ? { abortSignal } : {})
        .then(({ Messages = [] }) => Messages);

    const immediateStart = performance.now();
    const nothing = await longPoll(immediate, immediateQueue.url);
    const immediateMs = performance.now() - immediateStart;
    const realStart = performance.now();
    const waiting = longPoll(real, realQueue.url);
    setTimeout(() => void send(real, realQueue.url, 'arrived', 'g'), 100);
    const arrived = await waiting;
    const realMs = performance.now() - realStart;
    const abort = new AbortController();
    const aborted = longPoll(real, realQueue.url, abort.signal);
    setTimeout(() => abort.abort(), 50);

    // The upper bounds only tell an early answer from the 20 s wait, with room for a loaded machine.
    expect(nothing).toEqual([]);
    expect(immediateMs).toBeLessThan(10_000);
    expect(bodies(arrived)).toEqual(['arrived']);
    expect(realMs).toBeGreaterThanOrEqual(90);
    expect(realMs).toBeLessThan(10_000);
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses an already aborted request without receiving anything', async () => {
    const backend = memory();
    const queue = await fifoQueue(backend, 'aborted');
    await send(backend, queue.url, 'still-here', 'g');

    const receiving = backend.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url }), { abortSignal: AbortSignal.abort() });

    await expect(receiving).rejects.toMatchObject({ name: 'AbortError' });
    expect(backend.fabric.depth(queue.url)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
  });

  it('is deterministic: the same requests at the same times give the same ids, handles and timestamps, without Math.random', async () => {
    const random = vi.spyOn(Math, 'random');
    const script = async (): Promise<unknown[]> => {
      const backend = memory();
      const topic = await backend.sns.send(new CreateTopicCommand({ Name: 'same.fifo' }));
      const queue = await createQueue(backend, 'same.fifo');
      const subscription = await backend.sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: queue.arn, Attributes: { RawMessageDelivery: 'true' } }));
      const published = await backend.sns.send(new PublishCommand({ TopicArn: topic.TopicArn, Message: 'm', MessageGroupId: 'g', MessageDeduplicationId: 'd' }));
      await backend.elapse(1_234);
      const messages = await receive(backend, queue.url);
      return [topic.TopicArn, queue, subscription.SubscriptionArn, published.MessageId, published.SequenceNumber, messages];
    };

    const [first, second] = [await script(), await script()];

    expect(second).toEqual(first);
    expect(JSON.stringify(first)).toContain(String(START_MS + 1_234));
    expect(random).not.toHaveBeenCalled();
    random.mockRestore();
  });

  it('treats a receipt handle it never issued as invalid, and a stale FIFO delete per the staleDelete option', async () => {
    const lenient = memory();
    const strict = memory({ staleDelete: 'reject' });
    const outcomes: string[] = [];
    for (const backend of [lenient, strict]) {
      const queue = await fifoQueue(backend, 'handles', { VisibilityTimeout: '1' });
      await send(backend, queue.url, 'm', 'g');
      const [first] = await receive(backend, queue.url);
      await backend.elapse(1_000);
      await receive(backend, queue.url);
      outcomes.push(await errorName(backend.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: first?.ReceiptHandle }))));
      outcomes.push(await errorName(backend.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: 'never-issued' }))));
    }

    expect(outcomes).toEqual(['no error', 'ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid']);
  });

  it('inspection: depth, queue URLs, a DLQ read without receiving, what a topic without subscribers was sent', async () => {
    const backend = memory();
    const { fabric } = backend;
    const dlq = await fifoQueue(backend, 'inspect-dlq');
    const queue = await fifoQueue(backend, 'inspect', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }) });
    const { TopicArn: opsTopic = '' } = await backend.sns.send(new CreateTopicCommand({ Name: uniqueName('ops') }));
    await send(backend, queue.url, 'poison', 'g');
    await send(backend, queue.url, 'waiting', 'g');
    await receive(backend, queue.url, 10, 0);
    const afterFirst = fabric.depth(queue.url);
    await receive(backend, queue.url);
    await new SnsOpsNotifier(backend.sns, opsTopic).notify({ alertId: 'alert-1', severity: 'HIGH', subject: 'subject', message: 'look at this' });

    expect(afterFirst).toEqual({ visible: 2, inFlight: 0, delayed: 0 });
    expect(fabric.depth(queue.url)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    expect(fabric.queueUrls()).toEqual([dlq.url, queue.url]);
    expect(fabric.messages(dlq.url)).toEqual([expect.objectContaining({ body: 'poison', groupId: 'g', receiveCount: 2, state: 'visible' })]);
    expect(fabric.messages(dlq.url)).toHaveLength(1);
    expect(fabric.published(opsTopic)).toEqual([
      expect.objectContaining({
        message: 'look at this',
        subject: 'subject',
        messageAttributes: { alertId: { DataType: 'String', StringValue: 'alert-1' }, severity: { DataType: 'String', StringValue: 'HIGH' } },
        deliveredTo: [],
      }),
    ]);
  });

  it('loseEverything empties every queue and the dedup history but keeps topics, queues and subscriptions', async () => {
    const backend = memory();
    const topic = await fifoTopic(backend, 'lose');
    const queue = await fifoQueue(backend, 'lose');
    await subscribeRaw(backend, topic, queue);
    await publish(backend, topic, 'before', 'g', undefined, 'd');
    await publish(backend, topic, 'queued', 'g', undefined, 'd2');
    const [inFlight] = await receive(backend, queue.url);

    backend.fabric.loseEverything();
    const afterRestart = backend.fabric.depth(queue.url);
    await publish(backend, topic, 'before-again', 'g', undefined, 'd');
    const staleDelete = await errorName(backend.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: inFlight?.ReceiptHandle })));

    expect(afterRestart).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(staleDelete).toBe('no error');
    expect((await drain(backend, queue.url)).flat()).toEqual(['before-again']);
  });
});

// --- the project's own code on the fabric -------------------------------------------------------

describe('the project runs unchanged on MemoryMessaging', () => {
  const transactionId = transferIdFor('MOBILE', 'memory-messaging');
  const requested: PaymentEvent = EventEnvelope.parse({
    id: eventIdFor.requested(transactionId),
    type: 'TransactionRequested',
    version: 1,
    occurredAt: '2026-01-01T00:00:00.000Z',
    correlationId: transactionId,
    causationId: 'req-memory',
    data: { transactionId, debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amountMinor: 100, currency: 'EUR', channel: 'MOBILE', requestedAt: '2026-01-01T00:00:00.000Z' },
  });
  let dynamodb: DynamoDBClient;
  /** One prefix for the block: the tables are created once, each test still gets its own fabric. */
  let prefix = '';

  beforeAll(() => {
    dynamodb = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    prefix = uniqueName('topology');
  });

  afterAll(() => dynamodb.destroy());

  async function provisioned(): Promise<{ backend: ReturnType<typeof memory>; bindings: Bindings }> {
    const backend = memory();
    const bindings = await provisionTopology({ dynamodb, sns: backend.sns, sqs: backend.sqs }, prefix);
    return { backend, bindings };
  }

  it('provisions the whole topology, idempotently, with the queue attributes contract/topology.ts declares', async () => {
    const { backend, bindings } = await provisioned();

    const again = await provisionTopology({ dynamodb, sns: backend.sns, sqs: backend.sqs }, prefix);
    const { Attributes } = await backend.sqs.send(new GetQueueAttributesCommand({ QueueUrl: bindings.queues.posting.url, AttributeNames: ['All'] }));

    expect(again).toEqual(bindings);
    expect(backend.fabric.queueUrls()).toHaveLength(2 * Object.keys(topology.queues).length);
    expect(Attributes).toMatchObject({
      FifoQueue: 'true',
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      VisibilityTimeout: String(visibilityTimeoutSeconds('posting')),
      ReceiveMessageWaitTimeSeconds: String(topology.queues.posting.receiveWaitSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: bindings.queues.posting.deadLetterArn, maxReceiveCount: topology.queues.posting.maxReceiveCount }),
    });
  });

  it('a TransactionRequested published through SnsEventPublisher lands on the posting queue only', async () => {
    const { backend, bindings } = await provisioned();

    await new SnsEventPublisher(backend.sns, bindings.topics.transactions).publish(requested);

    const depths = Object.fromEntries(Object.entries(bindings.queues).flatMap(([name, queue]) => [[name, backend.fabric.depth(queue.url).visible], [`${name}-dlq`, backend.fabric.depth(queue.deadLetterUrl).visible]]));
    expect(depths).toEqual({ posting: 1, 'posting-dlq': 0, screening: 0, 'screening-dlq': 0, alerts: 0, 'alerts-dlq': 0, settlements: 0, 'settlements-dlq': 0 });
    expect(backend.fabric.messages(bindings.queues.posting.url)).toEqual([
      expect.objectContaining({ body: JSON.stringify(requested), groupId: 'acc-a', deduplicationId: requested.id, messageAttributes: { eventType: { DataType: 'String', StringValue: 'TransactionRequested' } } }),
    ]);
  });

  it('the Lambda event-source emulation receives, redelivers a reported failure and deletes a success', async () => {
    const { backend, bindings } = await provisioned();
    await new SnsEventPublisher(backend.sns, bindings.topics.transactions).publish(requested);
    const events: SQSEvent[] = [];
    const binding = (respond: (event: SQSEvent) => SQSBatchResponse): EventSourceBinding => ({
      sqs: backend.sqs,
      queueUrl: bindings.queues.posting.url,
      queueArn: bindings.queues.posting.arn,
      region: LOCAL_REGION,
      functionName: 'posting',
      handler: (event) => {
        events.push(event);
        return Promise.resolve(respond(event));
      },
      batchSizeMax: 10,
      timeoutSeconds: 5,
      memorySizeMb: 128,
      waitSeconds: topology.queues.posting.receiveWaitSeconds,
      failedRecordVisibilitySeconds: 0,
    });

    const failed = await pollBatch(binding((event) => ({ batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) })));
    const succeeded = await pollBatch(binding(() => ({ batchItemFailures: [] })));
    const empty = await pollBatch(binding(() => ({ batchItemFailures: [] })));

    expect(failed).toMatchObject({ received: 1, deleted: 0, failed: 1 });
    expect(succeeded).toMatchObject({ received: 1, deleted: 1, failed: 0 });
    expect(empty.received).toBe(0);
    expect(events.map((event) => event.Records[0]?.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(events[0]?.Records[0]).toMatchObject({ eventSourceARN: bindings.queues.posting.arn, body: JSON.stringify(requested), attributes: { MessageGroupId: 'acc-a' } });
    expect(backend.fabric.depth(bindings.queues.posting.url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('quarantine sends to the DLQ once, with the reason, even when repeated', async () => {
    const { backend, bindings } = await provisioned();
    await new SnsEventPublisher(backend.sns, bindings.topics.transactions).publish(requested);
    const [message] = await receive(backend, bindings.queues.posting.url);
    if (message === undefined) throw new Error('nothing on the posting queue');
    const record = toSqsRecord(message, bindings.queues.posting.arn, LOCAL_REGION);
    const quarantine = new SqsQuarantine(backend.sqs, bindings.queues.posting.deadLetterUrl);

    await quarantine.quarantine(record, 'schema-invalid');
    await quarantine.quarantine(record, 'schema-invalid');

    const quarantined = backend.fabric.messages(bindings.queues.posting.deadLetterUrl);
    expect(quarantined).toEqual([expect.objectContaining({ body: record.body, groupId: 'acc-a', deduplicationId: record.messageId })]);
    expect(quarantined[0]?.messageAttributes[QUARANTINE_REASON_ATTRIBUTE]).toEqual({ DataType: 'String', StringValue: 'schema-invalid' });
  });

  it('the ops console receives an operations notification through its inbox queue', async () => {
    const { backend, bindings } = await provisioned();
    const opsConsole = await startOpsConsole({ sns: backend.sns, sqs: backend.sqs, topicArn: bindings.notificationTopics.operations, inboxQueueName: `${prefix}-ops-inbox`, print: () => undefined });

    await new SnsOpsNotifier(backend.sns, bindings.notificationTopics.operations).notify({ alertId: 'alert-7', severity: 'CRITICAL', subject: '[CRITICAL] alert', message: 'frozen' });
    for (let waited = 0; opsConsole.notifications.length === 0 && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    await opsConsole.stop();

    expect(opsConsole.notifications).toEqual([expect.objectContaining({ subject: '[CRITICAL] alert', message: 'frozen', alertId: 'alert-7', severity: 'CRITICAL', publishedAt: new Date(START_MS).toISOString() })]);
  });
});
