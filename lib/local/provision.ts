// Provisions everything in contract/topology.ts against an AWS-compatible endpoint (the embedded
// emulators, LocalStack, ...): tables, FIFO topics, standard notification topics, FIFO queues with their DLQs and redrive
// policies, filtered raw-delivery subscriptions. Idempotent, so a restart against persisted data
// works, and a data directory from an earlier version gets the secondary indexes this version
// declares (and loses the ones it no longer does) before anything reads them. Returns the bindings (physical names, ARNs, URLs) handlers need as environment.
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  handlerEnvironment as topologyHandlerEnvironment,
  notificationTopicNames,
  queueNames,
  tableNames,
  topicNames,
  topology,
  visibilityTimeoutSeconds,
  type HandlerName,
  type IndexSpec,
  type NotificationTopicName,
  type QueueName,
  type TableName,
  type TopicName,
} from '../../contract/topology.js';

const SECONDS_PER_DAY = 86_400;
const TABLE_ACTIVE_WAIT_MS = 30_000;
/**
 * An index change on an existing table: DynamoDB Local deletes and backfills an index in the
 * background, behind whatever else it is serving, and a large data directory takes its time.
 */
export const INDEX_CHANGE_WAIT_MS = 300_000;

export interface QueueBinding {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

export interface Bindings {
  readonly tables: Readonly<Record<TableName, string>>;
  readonly topics: Readonly<Record<TopicName, string>>;
  readonly notificationTopics: Readonly<Record<NotificationTopicName, string>>;
  readonly queues: Readonly<Record<QueueName, QueueBinding>>;
}

export interface ProvisionClients {
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
}

/** Physical names: `<prefix>-<logical>` (plus `.fifo` for FIFO resources), as CDK would suffix. */
export function physicalName(prefix: string, logical: string, fifo = false): string {
  return `${prefix}-${logical}${fifo ? '.fifo' : ''}`;
}

export async function provisionTopology(clients: ProvisionClients, prefix: string): Promise<Bindings> {
  const tables = {} as Record<TableName, string>;
  for (const table of tableNames()) tables[table] = await provisionTable(clients.dynamodb, prefix, table);
  const topics = {} as Record<TopicName, string>;
  for (const topic of topicNames()) topics[topic] = await provisionTopic(clients.sns, prefix, topic);
  const notificationTopics = {} as Record<NotificationTopicName, string>;
  for (const topic of notificationTopicNames()) notificationTopics[topic] = await provisionNotificationTopic(clients.sns, prefix, topic);
  const queues = {} as Record<QueueName, QueueBinding>;
  for (const queue of queueNames()) queues[queue] = await provisionQueue(clients, prefix, queue, topics);
  return { tables, topics, notificationTopics, queues };
}

async function provisionTable(client: DynamoDBClient, prefix: string, table: TableName): Promise<string> {
  const spec = topology.tables[table];
  const name = physicalName(prefix, spec.name);
  const indexes: readonly IndexSpec[] = 'globalSecondaryIndexes' in spec ? spec.globalSecondaryIndexes : [];
  const attributes = [spec.partitionKey, ...indexes.flatMap((index) => [index.partitionKey, index.sortKey])];
  let created = true;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...new Set(attributes)].map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' })),
        KeySchema: [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }],
        ...(indexes.length > 0
          ? {
              GlobalSecondaryIndexes: indexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' },
                  { AttributeName: index.sortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              })),
            }
          : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    created = false;
  }
  await waitForTableActive(client, name);
  if (!created) await reconcileIndexes(client, name, indexes);
  if ('timeToLiveAttribute' in spec) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: spec.timeToLiveAttribute, Enabled: true },
        }),
      );
    } catch (error) {
      // Re-enabling TTL on a restart answers "TimeToLive is already enabled": that is success.
      if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
    }
  }
  return name;
}

/**
 * An existing table (a data directory from an earlier version) gets the indexes the topology
 * declares and loses the others, one change at a time as DynamoDB requires. DynamoDB backfills a
 * new index from the items already there; the undecided index only lists intakes that carry its
 * shard attribute, which intakes written before it existed do not (see the README's upgrade note).
 */
async function reconcileIndexes(client: DynamoDBClient, name: string, indexes: readonly IndexSpec[]): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const wanted = new Set(indexes.map((index) => index.indexName));
  for (const stale of [...existing].filter((indexName) => indexName !== undefined && !wanted.has(indexName))) {
    await client.send(new UpdateTableCommand({ TableName: name, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: stale } }] }));
    await waitForTableActive(client, name, INDEX_CHANGE_WAIT_MS);
  }
  for (const index of indexes.filter((spec) => !existing.has(spec.indexName))) {
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: [...new Set([index.partitionKey, index.sortKey])].map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' })),
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.indexName,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: 'HASH' },
                { AttributeName: index.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          },
        ],
      }),
    );
    await waitForTableActive(client, name, INDEX_CHANGE_WAIT_MS);
  }
}

export async function waitForTableActive(client: DynamoDBClient, name: string, timeoutMs = TABLE_ACTIVE_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    // A new index is readable only once it is ACTIVE too (it is CREATING while it backfills).
    if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`table ${name} and its indexes did not become ACTIVE within ${timeoutMs} ms`);
}

async function provisionTopic(client: SNSClient, prefix: string, topic: TopicName): Promise<string> {
  const spec = topology.topics[topic];
  const { TopicArn } = await client.send(
    new CreateTopicCommand({
      Name: physicalName(prefix, spec.name, spec.fifo),
      Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false', FifoThroughputScope: spec.fifoThroughputScope },
    }),
  );
  if (TopicArn === undefined) throw new Error(`CreateTopic returned no ARN for ${topic}`);
  return TopicArn;
}

async function provisionNotificationTopic(client: SNSClient, prefix: string, topic: NotificationTopicName): Promise<string> {
  const { TopicArn } = await client.send(new CreateTopicCommand({ Name: physicalName(prefix, topology.notificationTopics[topic].name) }));
  if (TopicArn === undefined) throw new Error(`CreateTopic returned no ARN for ${topic}`);
  return TopicArn;
}

async function provisionQueue(
  clients: ProvisionClients,
  prefix: string,
  queue: QueueName,
  topics: Readonly<Record<TopicName, string>>,
): Promise<QueueBinding> {
  const spec = topology.queues[queue];
  const fifoAttributes = {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    DeduplicationScope: spec.deduplicationScope,
    FifoThroughputLimit: spec.fifoThroughputLimit,
  };
  const deadLetter = await createQueue(clients.sqs, physicalName(prefix, `${spec.name}-dlq`, true), {
    ...fifoAttributes,
    MessageRetentionPeriod: String(spec.dlqRetentionDays * SECONDS_PER_DAY),
  });
  const main = await createQueue(clients.sqs, physicalName(prefix, spec.name, true), {
    ...fifoAttributes,
    VisibilityTimeout: String(visibilityTimeoutSeconds(queue)),
    ReceiveMessageWaitTimeSeconds: String(spec.receiveWaitSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: spec.maxReceiveCount }),
  });
  await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topics[spec.subscription.topic],
      Protocol: 'sqs',
      Endpoint: main.arn,
      Attributes: {
        RawMessageDelivery: String(spec.subscription.rawMessageDelivery),
        FilterPolicy: JSON.stringify(spec.subscription.filterPolicy),
        FilterPolicyScope: 'MessageAttributes',
      },
      ReturnSubscriptionArn: true,
    }),
  );
  return { url: main.url, arn: main.arn, deadLetterUrl: deadLetter.url, deadLetterArn: deadLetter.arn };
}

async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (QueueUrl === undefined) throw new Error(`CreateQueue returned no URL for ${name}`);
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`queue ${name} has no ARN`);
  return { url: QueueUrl, arn };
}

/** The environment a handler gets locally: what CDK sets on the deployed function, from the same builder. */
export function handlerEnvironment(handler: HandlerName, bindings: Bindings): Record<string, string> {
  return topologyHandlerEnvironment(handler, {
    table: (table) => bindings.tables[table],
    topic: (topic) => bindings.topics[topic],
    deadLetterQueueUrl: (queue) => bindings.queues[queue].deadLetterUrl,
    notificationTopic: (topic) => bindings.notificationTopics[topic],
  });
}
