// Drives a queue's consumer the way Lambda's event source mapping does (lib/local/event-source),
// until the queue stays empty, with failed records made visible again at once to keep tests fast.
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from '../../lib/local/emulators.js';
import { pollBatch, type BatchReport, type SqsBatchHandler } from '../../lib/local/event-source.js';
import { topology, type QueueName } from '../../lib/topology.js';
import type { TestWorld } from './world.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import type { LedgerStore } from '../../lambdas/core/ledger/ports.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import { createPostingHandler } from '../../lambdas/posting/handler.js';

export interface DrainOptions {
  /** Polls that must come back empty in a row before the queue counts as drained. */
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
 */
export async function takeMessages(world: Pick<TestWorld, 'clients'>, queueUrl: string, expected: number, waitMs = 5_000): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + waitMs;
  while (messages.length < expected && Date.now() < deadline) {
    const { Messages = [] } = await world.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        // Long polls of a second, but never past the deadline: a short wait stays short.
        WaitTimeSeconds: deadline - Date.now() >= 1_000 ? 1 : 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0 && deadline - Date.now() < 1_000) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const message of Messages) {
      messages.push(message);
      await world.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return messages;
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
