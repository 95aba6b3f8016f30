// The pipeline as typed data: topics, queues (with subscriptions, filters and DLQs), tables and
// handler bindings. The CDK stack and the local runtime are both built from this one declaration,
// and test/infra proves the synthesized template matches it.
import type { AdminRole } from '../lambdas/core/trust/api-client.js';

/** Every SNS topic in the backbone. All are FIFO: ordering per account is the product's promise. */
export interface TopicSpec {
  /** Logical name; the physical name is derived per world (CDK-generated on AWS, prefixed locally). */
  readonly name: string;
  readonly fifo: true;
  /** Per-message-group throughput scope (high-throughput FIFO topic). */
  readonly fifoThroughputScope: 'MessageGroup';
}

/** A filter policy on SNS message attributes: attribute name -> allowed string values. */
export type FilterPolicy = Readonly<Record<string, readonly string[]>>;

/**
 * A standard (non-FIFO) SNS topic for people: operations notifications fan out to e-mail (from
 * CDK context on AWS) or to the console (locally). Neither order nor exactly-once matters there;
 * the alerts handler's own bookkeeping keeps a redelivered alert from notifying twice.
 */
export interface NotificationTopicSpec {
  readonly name: string;
}

export interface SubscriptionSpec {
  readonly topic: TopicName;
  readonly rawMessageDelivery: true;
  readonly filterPolicy: FilterPolicy;
}

export interface QueueSpec {
  readonly name: string;
  readonly fifo: true;
  readonly deduplicationScope: 'messageGroup';
  readonly fifoThroughputLimit: 'perMessageGroupId';
  readonly subscription: SubscriptionSpec;
  /** Handler that consumes this queue through a Lambda event source mapping. */
  readonly consumer: HandlerName;
  /** Records per Lambda invocation (SQS FIFO allows at most 10). */
  readonly batchSizeMax: number;
  /** Receives before SQS moves a message to the DLQ. */
  readonly maxReceiveCount: number;
  /** Long-poll wait per ReceiveMessage call. */
  readonly receiveWaitSeconds: number;
  /** DLQ retention: long enough for an operator to look after a long weekend. */
  readonly dlqRetentionDays: number;
}

export interface IndexSpec {
  readonly indexName: string;
  /** String partition key. */
  readonly partitionKey: string;
  /** String sort key. */
  readonly sortKey: string;
}

export interface TableSpec {
  readonly name: string;
  readonly partitionKey: string;
  /** TTL attribute (epoch seconds), when the table's items expire. */
  readonly timeToLiveAttribute?: string;
  /** Global secondary indexes, all projecting every attribute. */
  readonly globalSecondaryIndexes?: readonly IndexSpec[];
}

/** What a handler may touch; each binding becomes one env var and one least-privilege grant. */
export interface HandlerSpec {
  readonly name: string;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  readonly tables: readonly { readonly table: TableName; readonly access: 'read' | 'readWrite' }[];
  readonly publishes: readonly TopicName[];
  /** Queues whose DLQ this handler may send to (to quarantine a poison message at once). */
  readonly quarantinesTo: readonly QueueName[];
  /** Notification topics (for people) this handler may publish to. */
  readonly notifies: readonly NotificationTopicName[];
  /** Run on a fixed rate (EventBridge on AWS, a timer locally). */
  readonly scheduleRateMinutes?: number;
}

const TOPICS = {
  transactions: { name: 'transactions', fifo: true, fifoThroughputScope: 'MessageGroup' },
  /** Risk events: RiskAlertRaised (from screening) and AccountFrozen (from the alerts handler). */
  alerts: { name: 'alerts', fifo: true, fifoThroughputScope: 'MessageGroup' },
  /** Settlement events: SettlementWindowClosed, SettlementInstruction and SettlementConfirmed, grouped by window. */
  settlements: { name: 'settlements', fifo: true, fifoThroughputScope: 'MessageGroup' },
} as const satisfies Record<string, TopicSpec>;

const NOTIFICATION_TOPICS = {
  /** HIGH and CRITICAL alerts, for the operations team. */
  operations: { name: 'ops-notifications' },
} as const satisfies Record<string, NotificationTopicSpec>;

const TABLES = {
  ledger: { name: 'ledger', partitionKey: 'pk' },
  requests: {
    name: 'requests',
    partitionKey: 'pk',
    timeToLiveAttribute: 'expiresAtEpochSeconds',
    // Sparse: only undecided intakes carry the shard attribute (the decision removes it), so the
    // recovery sweep reads what needs recovering and nothing else, oldest first per shard.
    globalSecondaryIndexes: [{ indexName: 'undecidedByAcceptance', partitionKey: 'undecidedShard', sortKey: 'acceptedAt' }],
  },
  /**
   * Participants' API clients: status and public keys (never a private key). Read on every
   * channel request (strongly consistent, so a revocation holds at once); written by admins.
   */
  participants: {
    name: 'participants',
    partitionKey: 'pk',
    globalSecondaryIndexes: [{ indexName: 'clientsByInstitution', partitionKey: 'institutionId', sortKey: 'createdAt' }],
  },
  /** Risk state: window counters and screening markers (expiring through TTL), payee pairs, alerts. */
  risk: {
    name: 'risk',
    partitionKey: 'pk',
    timeToLiveAttribute: 'expiresAtEpochSeconds',
    globalSecondaryIndexes: [
      { indexName: 'alertsByAccount', partitionKey: 'alertAccountId', sortKey: 'raisedAt' },
      // Every alert, newest first, in shards per status (alertFeed = `<status>#<shard>`, the
      // shard a hash of the alert id; alert-store.ts): listings by status and the whole feed merge
      // the shards, so no partition takes every alert, nor every open one, in an alert storm. It
      // replaced alertsByStatus (partition alertStatus: every OPEN alert in one partition); the
      // change deletes that index and adds none, one index change, as CloudFormation allows.
      { indexName: 'alertsByTime', partitionKey: 'alertFeed', sortKey: 'raisedAt' },
    ],
  },
} as const satisfies Record<string, TableSpec>;

export type TopicName = keyof typeof TOPICS;
export type NotificationTopicName = keyof typeof NOTIFICATION_TOPICS;
export type TableName = keyof typeof TABLES;
export type HandlerName = 'posting' | 'api' | 'recovery' | 'risk' | 'alerts' | 'settlement' | 'settlementClose';
export type QueueName = 'posting' | 'screening' | 'alerts' | 'settlements';

/**
 * What every queue of the backbone shares: high-throughput FIFO, the Lambda FIFO batch maximum,
 * a patient maxReceiveCount before the DLQ, long polling, two weeks of DLQ retention.
 *
 * Why patient: a message that reaches the DLQ lets its group's later messages overtake it (for
 * the posting queue, an account's later requests), and a failed batch counts a receive for every
 * message of the group behind the failure, so a busy account's backlog burns through a small count
 * within minutes of trouble (the simulator, `npm run dst`, showed it at 5). Poison messages never
 * wait for this: handlers quarantine them at once. 50 receives at a 180 s visibility timeout is two
 * and a half hours of retrying a transient failure, the queue's age of oldest message showing it all along.
 */
const WORKER_QUEUE = {
  fifo: true,
  deduplicationScope: 'messageGroup',
  fifoThroughputLimit: 'perMessageGroupId',
  batchSizeMax: 10,
  maxReceiveCount: 50,
  receiveWaitSeconds: 20,
  dlqRetentionDays: 14,
} as const;

const QUEUES = {
  posting: {
    ...WORKER_QUEUE,
    name: 'posting',
    subscription: {
      topic: 'transactions',
      rawMessageDelivery: true,
      filterPolicy: { eventType: ['TransactionRequested'] },
    },
    consumer: 'posting',
  },
  /** Every decided transfer is screened by the risk rules. */
  screening: {
    ...WORKER_QUEUE,
    name: 'risk-screening',
    subscription: {
      topic: 'transactions',
      rawMessageDelivery: true,
      filterPolicy: { eventType: ['TransactionPosted', 'TransactionRejected'] },
    },
    consumer: 'risk',
  },
  /** Raised alerts, to be stored, notified and acted on (AccountFrozen is for other consumers). */
  alerts: {
    ...WORKER_QUEUE,
    name: 'alerts',
    subscription: {
      topic: 'alerts',
      rawMessageDelivery: true,
      filterPolicy: { eventType: ['RiskAlertRaised'] },
    },
    consumer: 'alerts',
  },
  /**
   * A closed window is netted into instructions; each instruction is recorded once; the
   * settlement bank's confirmation of each (from its adapter) is recorded once.
   */
  settlements: {
    ...WORKER_QUEUE,
    name: 'settlements',
    subscription: {
      topic: 'settlements',
      rawMessageDelivery: true,
      filterPolicy: { eventType: ['SettlementWindowClosed', 'SettlementInstruction', 'SettlementConfirmed'] },
    },
    consumer: 'settlement',
  },
} as const satisfies Record<QueueName, QueueSpec>;

const HANDLERS = {
  posting: {
    name: 'posting',
    entry: 'lambdas/posting/handler.ts',
    timeoutSeconds: 30,
    memorySizeMb: 512,
    tables: [
      { table: 'ledger', access: 'readWrite' },
      // Marks the request's intake decided, which takes it out of the recovery sweep's index.
      { table: 'requests', access: 'readWrite' },
    ],
    publishes: ['transactions'],
    quarantinesTo: ['posting'],
    notifies: [],
  },
  api: {
    name: 'api',
    entry: 'lambdas/api/handler.ts',
    timeoutSeconds: 10,
    memorySizeMb: 512,
    tables: [
      { table: 'ledger', access: 'readWrite' },
      { table: 'requests', access: 'readWrite' },
      // Alert listing and resolution.
      { table: 'risk', access: 'readWrite' },
      // Every channel request is authenticated against its client; admins manage clients.
      { table: 'participants', access: 'readWrite' },
    ],
    // Settlement windows are closed through the API too.
    publishes: ['transactions', 'settlements'],
    quarantinesTo: [],
    notifies: [],
  },
  /** Re-queues accepted requests that never reached an outcome (see lambdas/core/intake/recovery.ts). */
  recovery: {
    name: 'recovery',
    entry: 'lambdas/recovery/handler.ts',
    timeoutSeconds: 120,
    memorySizeMb: 512,
    tables: [
      { table: 'requests', access: 'readWrite' },
      { table: 'ledger', access: 'read' },
    ],
    publishes: ['transactions'],
    quarantinesTo: [],
    notifies: [],
    scheduleRateMinutes: 5,
  },
  /** Screens decided transfers against the risk rules and raises RiskAlertRaised. */
  risk: {
    name: 'risk',
    entry: 'lambdas/risk/handler.ts',
    timeoutSeconds: 30,
    memorySizeMb: 512,
    tables: [{ table: 'risk', access: 'readWrite' }],
    publishes: ['alerts'],
    quarantinesTo: ['screening'],
    notifies: [],
  },
  /** Stores each alert once, notifies operations (HIGH+), freezes the account on CRITICAL. */
  alerts: {
    name: 'alerts',
    entry: 'lambdas/alerts/handler.ts',
    timeoutSeconds: 30,
    memorySizeMb: 512,
    tables: [
      { table: 'risk', access: 'readWrite' },
      { table: 'ledger', access: 'readWrite' },
    ],
    publishes: ['alerts'],
    quarantinesTo: ['alerts'],
    notifies: ['operations'],
  },
  /** Nets a closed window into instructions (refusing unbalanced positions), records them, settles. */
  settlement: {
    name: 'settlement',
    entry: 'lambdas/settlement/handler.ts',
    timeoutSeconds: 60,
    memorySizeMb: 512,
    tables: [{ table: 'ledger', access: 'readWrite' }],
    publishes: ['settlements'],
    quarantinesTo: ['settlements'],
    notifies: ['operations'],
  },
  /**
   * Closes every currency's OPEN settlement window on a schedule (the rate is a stack setting)
   * and re-announces every closed window that has not settled (its currency's unsettled set).
   */
  settlementClose: {
    name: 'settlement-close',
    entry: 'lambdas/settlement/close-handler.ts',
    timeoutSeconds: 60,
    memorySizeMb: 256,
    tables: [{ table: 'ledger', access: 'readWrite' }],
    publishes: ['settlements'],
    quarantinesTo: [],
    notifies: [],
    scheduleRateMinutes: 60,
  },
} as const satisfies Record<HandlerName, HandlerSpec>;

/**
 * SQS requires the visibility timeout to be at least the function timeout; AWS recommends six
 * times it so a batch retried by Lambda's poller cannot reappear while still being processed.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Payment channels: each has a usage plan, and every API client of that channel its own key in it. */
export const CHANNELS = ['WEB', 'MOBILE', 'POS'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The SNS message attribute that carries the event type; subscription filter policies match on it. */
export const EVENT_TYPE_ATTRIBUTE = 'eventType';

export const topology = {
  topics: TOPICS,
  notificationTopics: NOTIFICATION_TOPICS,
  queues: QUEUES,
  tables: TABLES,
  handlers: HANDLERS,
} as const;

export type Topology = typeof topology;

export function visibilityTimeoutSeconds(queue: QueueName): number {
  const consumer = HANDLERS[QUEUES[queue].consumer];
  return consumer.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
}

/**
 * Environment variable names a handler reads its bindings from. CDK sets them on the deployed
 * function and the local runtime sets the same ones, so handler code is identical in both worlds.
 */
export const envVar = {
  table: (table: TableName): string => `${table.toUpperCase()}_TABLE_NAME`,
  topic: (topic: TopicName): string => `${topic.toUpperCase()}_TOPIC_ARN`,
  notificationTopic: (topic: NotificationTopicName): string => `${topic.toUpperCase()}_NOTIFICATIONS_TOPIC_ARN`,
  deadLetterQueue: (queue: QueueName): string => `${queue.toUpperCase()}_DLQ_URL`,
  /** JSON object mapping channel -> the name of its API Gateway usage plan (api handler only). */
  usagePlans: 'USAGE_PLAN_NAMES',
} as const;

/** Where each binding of a handler lives in one world: names and ARNs CDK made, or local ones. */
export interface BindingValues {
  table(name: TableName): string;
  topic(name: TopicName): string;
  deadLetterQueueUrl(queue: QueueName): string;
  notificationTopic(name: NotificationTopicName): string;
}

/** The CloudWatch namespace of every handler's EMF metrics (Powertools Metrics), which the alarms read. */
export const METRICS_NAMESPACE = 'PaymentsBackbone';

/** The Powertools service name of a handler, the same in both worlds. */
export function serviceNameOf(handler: HandlerName): string {
  return `payments-${HANDLERS[handler].name}`;
}

/**
 * The environment a handler is wired from, built in one place for both worlds: one variable per
 * topology binding and its service name. CDK adds its stage settings; the local runtime its
 * endpoints.
 */
export function handlerEnvironment(handler: HandlerName, values: BindingValues): Record<string, string> {
  const spec: HandlerSpec = HANDLERS[handler];
  const environment: Record<string, string> = { POWERTOOLS_SERVICE_NAME: serviceNameOf(handler) };
  for (const { table } of spec.tables) environment[envVar.table(table)] = values.table(table);
  for (const topic of spec.publishes) environment[envVar.topic(topic)] = values.topic(topic);
  for (const queue of spec.quarantinesTo) environment[envVar.deadLetterQueue(queue)] = values.deadLetterQueueUrl(queue);
  for (const topic of spec.notifies) environment[envVar.notificationTopic(topic)] = values.notificationTopic(topic);
  return environment;
}

export function topicNames(): TopicName[] {
  return Object.keys(TOPICS) as TopicName[];
}
export function notificationTopicNames(): NotificationTopicName[] {
  return Object.keys(NOTIFICATION_TOPICS) as NotificationTopicName[];
}
export function queueNames(): QueueName[] {
  return Object.keys(QUEUES) as QueueName[];
}
export function tableNames(): TableName[] {
  return Object.keys(TABLES) as TableName[];
}
export function handlerNames(): HandlerName[] {
  return Object.keys(HANDLERS) as HandlerName[];
}
export function scheduledHandlerNames(): HandlerName[] {
  return handlerNames().filter((name) => 'scheduleRateMinutes' in HANDLERS[name]);
}

/**
 * How a route is authenticated: `client` routes need an API client's key (its usage plan) and its
 * RFC 9421 signature; `iam` routes are the back office's, SigV4-signed, each for one admin role.
 */
export type RouteAuth = 'client' | 'iam';

interface RouteBase {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path template under the stage, API Gateway style (`{id}` is a path parameter). */
  readonly path: string;
  /** Stable name the api handler dispatches on. */
  readonly operation: string;
}

export type ApiRouteSpec = (RouteBase & { readonly auth: 'client' }) | (RouteBase & { readonly auth: 'iam'; readonly role: AdminRole });

/** The handler behind the REST API: every route below is served by it. */
export const API_HANDLER: HandlerName = 'api';

/** The REST API's routes, all served by the `api` handler through Lambda proxy integration. */
export const API_ROUTES = [
  { method: 'POST', path: '/v1/transactions', auth: 'client', operation: 'submitTransaction' },
  { method: 'GET', path: '/v1/transactions/{id}', auth: 'client', operation: 'getTransaction' },
  { method: 'GET', path: '/v1/accounts/{id}', auth: 'client', operation: 'getAccount' },
  { method: 'POST', path: '/v1/accounts', auth: 'iam', role: 'operations', operation: 'openAccount' },
  { method: 'POST', path: '/v1/accounts/{id}/deposits', auth: 'iam', role: 'operations', operation: 'depositFunds' },
  // The back office's view of any account of an institution, funding accounts included.
  { method: 'GET', path: '/v1/institutions/{id}/accounts/{accountId}', auth: 'iam', role: 'operations', operation: 'getInstitutionAccount' },
  { method: 'POST', path: '/v1/institutions/{id}/clients', auth: 'iam', role: 'operations', operation: 'createClient' },
  { method: 'GET', path: '/v1/institutions/{id}/clients', auth: 'iam', role: 'operations', operation: 'listClients' },
  { method: 'POST', path: '/v1/institutions/{id}/clients/{clientId}/rotate', auth: 'iam', role: 'operations', operation: 'rotateClientKey' },
  { method: 'POST', path: '/v1/institutions/{id}/clients/{clientId}/revoke', auth: 'iam', role: 'operations', operation: 'revokeClient' },
  { method: 'POST', path: '/v1/accounts/{id}/unfreeze', auth: 'iam', role: 'risk', operation: 'unfreezeAccount' },
  // Alerts are for the bank's analysts, never for channels: they name flagged customers (no
  // tipping-off) and their evidence reveals the thresholds.
  { method: 'GET', path: '/v1/alerts', auth: 'iam', role: 'risk', operation: 'listAlerts' },
  { method: 'GET', path: '/v1/alerts/{id}', auth: 'iam', role: 'risk', operation: 'getAlert' },
  { method: 'POST', path: '/v1/alerts/{id}/resolve', auth: 'iam', role: 'risk', operation: 'resolveAlert' },
  { method: 'PUT', path: '/v1/institutions/{id}/limits', auth: 'iam', role: 'settlement', operation: 'setInstitutionLimits' },
  { method: 'GET', path: '/v1/institutions/{id}/position', auth: 'iam', role: 'settlement', operation: 'getInstitutionPosition' },
  { method: 'POST', path: '/v1/settlement-windows/close', auth: 'iam', role: 'settlement', operation: 'closeSettlementWindow' },
  { method: 'GET', path: '/v1/settlement-windows', auth: 'iam', role: 'settlement', operation: 'listSettlementWindows' },
  { method: 'GET', path: '/v1/settlement-windows/{id}', auth: 'iam', role: 'settlement', operation: 'getSettlementWindow' },
  { method: 'GET', path: '/v1/settlement-windows/awaiting-confirmation', auth: 'iam', role: 'settlement', operation: 'listWindowsAwaitingConfirmation' },
  { method: 'POST', path: '/v1/settlement-windows/{id}/confirmations', auth: 'iam', role: 'settlement', operation: 'confirmSettlement' },
] as const satisfies readonly ApiRouteSpec[];

export type ApiOperation = (typeof API_ROUTES)[number]['operation'];

/** The admin routes one role may call: what its IAM policy (and, locally, its key) grants. */
export function routesOfRole(role: AdminRole): (typeof API_ROUTES)[number][] {
  return API_ROUTES.filter((route) => route.auth === 'iam' && route.role === role);
}
