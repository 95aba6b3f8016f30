// Proves the Lambda SQS event-source emulation against fauxqs FIFO queues: batches of up to the
// batch size, FIFO order within a message group, deletion of exactly the successful records,
// whole-batch failure on a throw, a timeout or an unusable response, a Context that counts down
// from the function timeout, and redrive to the DLQ after maxReceiveCount through the queue.
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION } from '../../lib/local/local-world.js';
import { pollBatch, type BatchReport, type EventSourceBinding, type SqsBatchHandler } from '../../lib/local/event-source.js';
import { QueueConsumer } from '../../lib/local/queue-consumer.js';
import { takeMessages } from '../support/queue-driver.js';
import { createTestWorld, type TestWorld } from '../support/world.js';

let world: TestWorld;

beforeAll(async () => {
  world = await createTestWorld('evsrc');
});

afterAll(() => world.destroy());

interface TestQueue {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
}

/**
 * A FIFO queue with a FIFO DLQ; a 1 s visibility timeout keeps redelivery tests quick. A test that
 * expects no redelivery asks for a long one: a 1 s stall on a loaded machine would redeliver.
 */
async function fifoQueue(maxReceiveCount = 3, visibilitySeconds = 1): Promise<TestQueue> {
  const name = `${world.prefix}-${randomUUID().slice(0, 8)}`;
  const create = async (queueName: string, attributes: Record<string, string>) => {
    const { QueueUrl } = await world.clients.sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { FifoQueue: 'true', ...attributes } }));
    const { Attributes } = await world.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  };
  const dlq = await create(`${name}-dlq.fifo`, {});
  const main = await create(`${name}.fifo`, {
    VisibilityTimeout: String(visibilitySeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
  });
  return { url: main.url, arn: main.arn, deadLetterUrl: dlq.url };
}

async function send(queue: TestQueue, messages: readonly { group: string; body: string }[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    await world.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: messages.slice(start, start + 10).map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          MessageGroupId: message.group,
          MessageDeduplicationId: randomUUID(),
        })),
      }),
    );
  }
}

function binding(queue: TestQueue, handler: SqsBatchHandler, overrides: Partial<EventSourceBinding> = {}): EventSourceBinding {
  return {
    sqs: world.clients.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: LOCAL_REGION,
    functionName: 'test-function',
    handler,
    batchSizeMax: 10,
    timeoutSeconds: 5,
    memorySizeMb: 128,
    waitSeconds: 1,
    ...overrides,
  };
}

/** Polls until `predicate` holds or the budget of batches runs out. */
async function pollUntil(target: EventSourceBinding, predicate: () => boolean, batchesMax = 60): Promise<BatchReport[]> {
  const reports: BatchReport[] = [];
  for (let batch = 0; batch < batchesMax && !predicate(); batch++) {
    const report = await pollBatch(target);
    if (report.received > 0) reports.push(report);
  }
  return reports;
}

describe('event-source emulation', () => {
  it('builds real SQS records and hands at most the batch size per invocation', async () => {
    const queue = await fifoQueue(3, 30);
    await send(queue, Array.from({ length: 14 }, (_, index) => ({ group: `g${index}`, body: `m${index}` })));
    const events: SQSEvent[] = [];
    const handler: SqsBatchHandler = async (event) => {
      events.push(event);
      return Promise.resolve({ batchItemFailures: [] });
    };

    await pollUntil(binding(queue, handler, { batchSizeMax: 4 }), () => events.flatMap((event) => event.Records).length >= 14);

    expect(Math.max(...events.map((event) => event.Records.length))).toBeLessThanOrEqual(4);
    expect(events.flatMap((event) => event.Records.map((record) => record.body)).sort()).toEqual(
      Array.from({ length: 14 }, (_, index) => `m${index}`).sort(),
    );
    const record = events[0]!.Records[0]!;
    expect(record).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: queue.arn, awsRegion: LOCAL_REGION });
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(record.attributes.MessageGroupId).toMatch(/^g\d+$/);
    expect(record.attributes.MessageDeduplicationId).toEqual(expect.any(String));
    expect(record.attributes.SequenceNumber).toEqual(expect.any(String));
  });

  it('delivers the messages of one group in the order they were sent, across batches', async () => {
    const queue = await fifoQueue(3, 30);
    await send(queue, [
      ...Array.from({ length: 12 }, (_, index) => ({ group: 'account-1', body: `a${index}` })),
      ...Array.from({ length: 12 }, (_, index) => ({ group: 'account-2', body: `b${index}` })),
    ]);
    const seen: string[] = [];
    const handler: SqsBatchHandler = (event) => {
      seen.push(...event.Records.map((record) => record.body));
      return Promise.resolve({ batchItemFailures: [] });
    };

    await pollUntil(binding(queue, handler), () => seen.length >= 24);

    expect(seen.filter((body) => body.startsWith('a'))).toEqual(Array.from({ length: 12 }, (_, index) => `a${index}`));
    expect(seen.filter((body) => body.startsWith('b'))).toEqual(Array.from({ length: 12 }, (_, index) => `b${index}`));
  });

  it('deletes the records that succeeded and redelivers only the reported failures', async () => {
    const queue = await fifoQueue();
    await send(queue, ['ok-1', 'fail-once', 'ok-2'].map((body, index) => ({ group: `g${index}`, body })));
    const deliveries = new Map<string, number>();
    const handler: SqsBatchHandler = (event) => {
      const failures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const count = (deliveries.get(record.body) ?? 0) + 1;
        deliveries.set(record.body, count);
        if (record.body === 'fail-once' && count === 1) failures.push({ itemIdentifier: record.messageId });
      }
      return Promise.resolve({ batchItemFailures: failures });
    };

    await pollUntil(binding(queue, handler, { failedRecordVisibilitySeconds: 0 }), () => deliveries.get('fail-once') === 2);
    const afterwards = await pollBatch(binding(queue, handler));

    expect(Object.fromEntries(deliveries)).toEqual({ 'ok-1': 1, 'fail-once': 2, 'ok-2': 1 });
    expect(afterwards.received).toBe(0);
  });

  it.each([
    ['a thrown error', (): Promise<SQSBatchResponse> => Promise.reject(new Error('boom'))],
    ['an unknown failure id', (): Promise<SQSBatchResponse> => Promise.resolve({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] })],
    ['an empty failure id', (): Promise<SQSBatchResponse> => Promise.resolve({ batchItemFailures: [{ itemIdentifier: '' }] })],
  ])('fails the whole batch on %s, deleting nothing', async (_label, respond) => {
    const queue = await fifoQueue();
    await send(queue, [{ group: 'g1', body: 'x' }, { group: 'g2', body: 'y' }]);
    let invocations = 0;
    const handler: SqsBatchHandler = () => {
      invocations++;
      return respond();
    };

    const reports = await pollUntil(binding(queue, handler, { failedRecordVisibilitySeconds: 0 }), () => invocations >= 2, 10);

    expect(reports[0]).toMatchObject({ deleted: 0, failed: reports[0]!.received });
    expect(invocations).toBeGreaterThanOrEqual(2);
  });

  it('counts an invocation that exceeds the function timeout as failed, and its Context counts down', async () => {
    const queue = await fifoQueue(3, 2);
    await send(queue, [{ group: 'g1', body: 'slow' }]);
    const remaining: number[] = [];
    let invocations = 0;
    const handler: SqsBatchHandler = async (_event, context: Context) => {
      invocations++;
      remaining.push(context.getRemainingTimeInMillis());
      if (invocations === 1) await new Promise((resolve) => setTimeout(resolve, 1_500));
      remaining.push(context.getRemainingTimeInMillis());
      return { batchItemFailures: [] };
    };

    const first = await pollBatch(binding(queue, handler, { timeoutSeconds: 1 }));
    const retried = await pollUntil(binding(queue, handler, { timeoutSeconds: 1 }), () => invocations >= 2, 20);

    expect(first).toMatchObject({ received: 1, deleted: 0 });
    expect(first.batchError).toMatch(/HandlerTimeoutError/);
    expect(remaining[0]).toBeGreaterThan(900);
    expect(remaining[0]).toBeLessThanOrEqual(1_000);
    expect(retried.at(-1)).toMatchObject({ deleted: 1 });
  });

  it('moves a message that keeps failing to the DLQ after maxReceiveCount, through the redrive policy', async () => {
    const queue = await fifoQueue(2, 1);
    await send(queue, [{ group: 'g1', body: 'poison' }]);
    const receiveCounts: string[] = [];
    const handler: SqsBatchHandler = (event) => {
      receiveCounts.push(...event.Records.map((record) => record.attributes.ApproximateReceiveCount));
      return Promise.reject(new Error('always fails'));
    };

    await pollUntil(binding(queue, handler, { failedRecordVisibilitySeconds: 0 }), () => receiveCounts.length >= 2, 20);
    // As on AWS, the move happens when the next receive finds the count exhausted.
    const afterwards = await pollBatch(binding(queue, handler));
    const [dead] = await takeMessages(world, queue.deadLetterUrl, 1, 5_000);

    expect(receiveCounts).toEqual(['1', '2']);
    expect(dead?.Body).toBe('poison');
    expect(afterwards.received).toBe(0);
  });

  it('keeps a group in order with several concurrent pollers (a group is never in two batches at once)', async () => {
    const queue = await fifoQueue(3, 30);
    await send(queue, Array.from({ length: 20 }, (_, index) => ({ group: 'one-account', body: `m${index}` })));
    const seen: string[] = [];
    let concurrent = 0;
    let concurrentMax = 0;
    const handler: SqsBatchHandler = async (event) => {
      concurrentMax = Math.max(concurrentMax, ++concurrent);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push(...event.Records.map((record) => record.body));
      concurrent--;
      return { batchItemFailures: [] };
    };
    const consumer = new QueueConsumer({ ...binding(queue, handler, { waitSeconds: 1 }), pollersMax: 4 });

    consumer.start();
    for (let waited = 0; seen.length < 20 && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    await consumer.stop(5_000);

    expect(seen).toEqual(Array.from({ length: 20 }, (_, index) => `m${index}`));
    expect(concurrentMax).toBe(1);
  });

  it('stops a consumer without cutting a running batch short, and deletes what it finished', async () => {
    const queue = await fifoQueue(3, 30);
    await send(queue, [{ group: 'g1', body: 'slow-but-fine' }]);
    let finished = 0;
    let started = 0;
    const handler: SqsBatchHandler = async () => {
      started++;
      await new Promise((resolve) => setTimeout(resolve, 800));
      finished++;
      return { batchItemFailures: [] };
    };
    const consumer = new QueueConsumer({ ...binding(queue, handler, { waitSeconds: 1 }), pollersMax: 2 });
    consumer.start();
    for (let waited = 0; started === 0 && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));

    const drained = await consumer.stop(5_000);

    expect(drained).toBe(true);
    expect(finished).toBe(1);
    expect((await pollBatch(binding(queue, handler))).received).toBe(0);
  });
});
