// Drives a queue's consumer the way Lambda's event source mapping does (lib/local/event-source),
// until the queue is empty, with failed records made visible again at once to keep tests fast.
// On the emulators "empty" is a few empty polls in a row; on the in-memory fabric, where a publish
// has reached every queue by the time it returns, it is exact: nothing visible, in flight or
// delayed. So on memory "nothing arrived" is proved by draining, never by waiting.
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from '../../lib/local/local-world.js';
import { pollBatch, type BatchReport, type SqsBatchHandler } from '../../lib/local/event-source.js';
import { topology, type QueueName } from '../../contract/topology.js';
import type { MemoryWorld, TestWorld } from './world.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import type { LedgerStore } from '../../lambdas/core/ledger/ports.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import { createPostingHandler } from '../../lambdas/posting/handler.js';

/** How often a drain of an in-memory queue looks again while a message it cannot receive is in flight. */
const MEMORY_IN_FLIGHT_RECHECK_MS = 10;
/** Receives one take of an in-memory queue may make: a bound far above any test's traffic. */
const MEMORY_TAKE_RECEIVES_MAX = 1_000;

/** Whether an in-memory queue holds nothing at all: no message visible, in flight or delayed. */
export function isEmpty(world: Pick<MemoryWorld, 'messaging'>, queueUrl: string): boolean {
  const depth = world.messaging.depth(queueUrl);
  return depth.visible === 0 && depth.inFlight === 0 && depth.delayed === 0;
}

export interface DrainOptions {
  /** Polls that must come back empty in a row before the queue counts as drained (emulators only). */
  readonly emptyPollsToStop?: number;
  readonly batchesMax?: number;
}

export async function drainQueue(
  world: TestWorld,
  queue: QueueName,
  handler: SqsBatchHandler,
  options: DrainOptions = {},
): Promise<BatchReport[]> {
  const spec = topology.queues[queue];
  const consumer = topology.handlers[spec.consumer];
  const binding = world.bindings.queues[queue];
  const reports: BatchReport[] = [];
  let emptyPolls = 0;
  for (let batch = 0; batch < (options.batchesMax ?? 200); batch++) {
    const report = await pollBatch({
      sqs: world.clients.sqs,
      queueUrl: binding.url,
      queueArn: binding.arn,
      region: LOCAL_REGION,
      functionName: `${world.prefix}-${consumer.name}`,
      handler,
      batchSizeMax: spec.batchSizeMax,
      timeoutSeconds: consumer.timeoutSeconds,
      memorySizeMb: consumer.memorySizeMb,
      waitSeconds: 0,
      failedRecordVisibilitySeconds: 0,
    });
    if (report.received === 0) {
      if (world.backend === 'memory') {
        if (isEmpty(world, binding.url)) return reports;
        // Held by another consumer (or delayed): wait for it to come back or go, a positive outcome.
        await new Promise((resolve) => setTimeout(resolve, MEMORY_IN_FLIGHT_RECHECK_MS));
        continue;
      }
      if (++emptyPolls >= (options.emptyPollsToStop ?? 3)) return reports;
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    emptyPolls = 0;
    reports.push(report);
  }
  throw new Error(`queue ${queue} did not drain within ${options.batchesMax ?? 200} batches`);
}

/**
 * Receives and deletes messages until `expected` have arrived or the wait ends. Deleting matters:
 * a FIFO queue hands out one in-flight message per group, so reading without deleting stalls.
 * On the in-memory fabric everything sent has already arrived: it takes every message the queue
 * holds, until the queue is empty, and neither `expected` nor `waitMs` plays a part; asking for
 * more than should arrive (to see that nothing further did) costs no time there.
 */
export async function takeMessages(world: Pick<TestWorld, 'clients'> | TestWorld, queueUrl: string, expected: number, waitMs = 5_000): Promise<Message[]> {
  if ('backend' in world && world.backend === 'memory') return takeEverything(world, queueUrl);
  const messages: Message[] = [];
  const deadline = Date.now() + waitMs;
  while (messages.length < expected && Date.now() < deadline) {
    // Long polls of a second, but never past the deadline: a short wait stays short.
    const Messages = await receiveAndDelete(world, queueUrl, deadline - Date.now() >= 1_000 ? 1 : 0);
    if (Messages.length === 0 && deadline - Date.now() < 1_000) await new Promise((resolve) => setTimeout(resolve, 50));
    messages.push(...Messages);
  }
  return messages;
}

async function takeEverything(world: MemoryWorld, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (let receive = 0; receive < MEMORY_TAKE_RECEIVES_MAX; receive++) {
    if (isEmpty(world, queueUrl)) return messages;
    const received = await receiveAndDelete(world, queueUrl, 0);
    // Nothing receivable while the queue is not empty: someone else holds a message in flight.
    if (received.length === 0) await new Promise((resolve) => setTimeout(resolve, MEMORY_IN_FLIGHT_RECHECK_MS));
    messages.push(...received);
  }
  throw new Error(`queue ${queueUrl} did not empty within ${MEMORY_TAKE_RECEIVES_MAX} receives`);
}

/** One receive of up to 10 messages (long-polling `waitSeconds`), each deleted as it is taken. */
async function receiveAndDelete(world: Pick<TestWorld, 'clients'>, queueUrl: string, waitSeconds: number): Promise<Message[]> {
  const { Messages = [] } = await world.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  for (const message of Messages) await world.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  return Messages;
}

/**
 * A queue subscribed to a topic without filter, raw delivery: the test's view of everything
 * published. FIFO for a FIFO topic, standard for a standard (notification) topic.
 */
export async function observeTopic(world: TestWorld, topicArn: string, name: string): Promise<string> {
  const fifo = topicArn.endsWith('.fifo');
  const { QueueUrl } = await world.clients.sqs.send(
    new CreateQueueCommand(fifo ? { QueueName: `${world.prefix}-${name}.fifo`, Attributes: { FifoQueue: 'true' } } : { QueueName: `${world.prefix}-${name}` }),
  );
  const { Attributes } = await world.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await world.clients.sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn, Attributes: { RawMessageDelivery: 'true' } }),
  );
  if (QueueUrl === undefined) throw new Error('observer queue has no URL');
  return QueueUrl;
}

/** Runs the posting handler (on this ledger) over everything on the posting queue, as Lambda would. */
export async function drainPosting(world: TestWorld, ledger: LedgerStore): Promise<void> {
  const posting = createPostingHandler({
    ledger,
    publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions),
    intake: new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests),
    quarantine: new SqsQuarantine(world.clients.sqs, world.bindings.queues.posting.deadLetterUrl),
    logger: new Logger({ serviceName: 'payments-posting', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-posting', namespace: 'PaymentsBackbone' }),
  });
  await drainQueue(world, 'posting', posting);
}
