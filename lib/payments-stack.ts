// The payments backbone stack: interprets contract/topology.ts into AWS resources. Wiring only; every
// name, filter, limit and binding comes from the topology, every business rule lives in lambdas/.
import path from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EncryptionKey } from './constructs/encryption-key.js';
import { FifoTopic } from './constructs/fifo-topic.js';
import { NotificationTopic } from './constructs/notification-topic.js';
import { HandlerFunction, type HandlerLogLevel } from './constructs/handler-function.js';
import { LedgerTables } from './constructs/ledger-tables.js';
import { pascalCase, queueWorkerId } from './construct-ids.js';
import { PaymentsApi, usagePlanName, type ClientLimits, type ThrottleLimits } from './constructs/payments-api.js';
import { ADMIN_ROLES } from '../lambdas/core/trust/api-client.js';
import { QueueWorker } from './constructs/queue-worker.js';
import { TableBackups } from './constructs/table-backups.js';
import { acknowledgeDeadLetterQueue, acknowledgeDisposableTable, acknowledgeSynchronousInvocation } from './compliance-acknowledgements.js';
import { Monitoring } from './constructs/monitoring.js';
import { READ_ACTIONS, tableGrantsOf } from './iam-actions.js';
import { operationalSettings, type DeploymentStage, type OperationalSettings } from './stage-settings.js';
import { REJECTION_REASONS } from '../lambdas/core/ledger/transfer.js';
import { SEVERITIES } from '../lambdas/core/risk/severity.js';
import {
  API_ROUTES,
  CHANNELS,
  API_HANDLER,
  envVar,
  handlerEnvironment,
  handlerNames,
  scheduledHandlerNames,
  tableNames,
  notificationTopicNames,
  queueNames,
  serviceNameOf,
  topicNames,
  topology,
  visibilityTimeoutSeconds,
  type Channel,
  type HandlerName,
  type HandlerSpec,
  type NotificationTopicName,
  type QueueName,
  type TableName,
  type TableSpec,
  type TopicName,
} from '../contract/topology.js';

/** Schedule targets: EventBridge's retries of a failed invocation, and how long it keeps trying. */
const SCHEDULE_RETRY_ATTEMPTS = 2;
const SCHEDULE_EVENT_AGE_MAX = Duration.hours(1);
/** SQS's longest retention: a failed scheduled run waits this long for someone to look at it. */
const SCHEDULE_DLQ_RETENTION_DAYS = 14;

/** The names of a table's global secondary indexes, as the topology declares them. */
function indexNamesOf(table: TableName): string[] {
  const spec: TableSpec = topology.tables[table];
  return (spec.globalSecondaryIndexes ?? []).map((index) => index.indexName);
}

/** Repository root: topology entries and package-lock.json are relative to it. */
const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

export interface PaymentsStackProps extends StackProps {
  /** Deployment stage; also the API Gateway stage name. */
  readonly stage: DeploymentStage;
  /**
   * Keep the key, tables, queues and log groups when the stack is deleted, and turn on DynamoDB
   * deletion protection.
   * @default false in dev, true in staging and prod
   */
  readonly retainData?: boolean;
  /**
   * Powertools log level of every handler.
   * @default 'DEBUG' in dev, 'INFO' otherwise
   */
  readonly logLevel?: HandlerLogLevel;
  /**
   * Retention of the handler and API access log groups.
   * @default one week in dev, one month in staging, one year in prod
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Ship source maps with the handlers and turn them on (`--enable-source-maps`), so stack traces
   * name the source lines. They cost each cold start about 25 ms of CPU (Node parses the map as the
   * bundle loads) and the zip about 200 KB; without them stack traces still name the functions
   * (esbuild keepNames). From the `sourceMaps` context (`-c sourceMaps=true`).
   * @default true in dev, false otherwise
   */
  readonly sourceMaps?: boolean;
  /**
   * API stage throttle across all channels.
   * @default 50/s, burst 100 in dev; 1,000/s, burst 2,000 otherwise (the design's ~1,000 transfers/s)
   */
  readonly stageThrottle?: ThrottleLimits;
  /**
   * Each API client's throttle and daily quota (its own key in its channel's usage plan). Keep
   * one client's rate a small share of the stage's: the stage throttle is shared by every
   * institution, so a few clients of one institution must not be able to fill it.
   * @default 5/s, burst 10, 100,000/day in dev; 100/s, burst 200, 5,000,000/day otherwise
   */
  readonly clientLimits?: ClientLimits;
  /**
   * E-mail addresses subscribed to the operations notifications (HIGH and CRITICAL risk alerts).
   * From the `opsNotificationEmails` context in bin/payments.ts.
   * @default none (subscribe later, e.g. a pager integration)
   */
  readonly opsNotificationEmails?: readonly string[];
  /**
   * Minutes between scheduled settlement closes (each currency's OPEN window that holds
   * transfers is closed and settled). From the `settlementIntervalMinutes` context.
   * @default the topology's rate (60)
   */
  readonly settlementIntervalMinutes?: number;
}

/** Stage config with every default applied. */
export type StageConfig = Required<
  Pick<
    PaymentsStackProps,
    'stage' | 'retainData' | 'logLevel' | 'logRetention' | 'sourceMaps' | 'stageThrottle' | 'clientLimits' | 'opsNotificationEmails' | 'settlementIntervalMinutes'
  >
>;

export function resolveStageConfig(props: PaymentsStackProps): StageConfig {
  const isDev = props.stage === 'dev';
  const defaultRetention: Record<DeploymentStage, logs.RetentionDays> = {
    dev: logs.RetentionDays.ONE_WEEK,
    staging: logs.RetentionDays.ONE_MONTH,
    prod: logs.RetentionDays.ONE_YEAR,
  };
  return {
    stage: props.stage,
    retainData: props.retainData ?? !isDev,
    logLevel: props.logLevel ?? (isDev ? 'DEBUG' : 'INFO'),
    logRetention: props.logRetention ?? defaultRetention[props.stage],
    sourceMaps: props.sourceMaps ?? isDev,
    stageThrottle:
      props.stageThrottle ?? (isDev ? { rateLimitPerSecond: 50, burstLimit: 100 } : { rateLimitPerSecond: 1_000, burstLimit: 2_000 }),
    clientLimits:
      props.clientLimits ??
      (isDev
        ? { rateLimitPerSecond: 5, burstLimit: 10, quotaRequestsPerDay: 100_000 }
        : { rateLimitPerSecond: 100, burstLimit: 200, quotaRequestsPerDay: 5_000_000 }),
    opsNotificationEmails: props.opsNotificationEmails ?? [],
    settlementIntervalMinutes: props.settlementIntervalMinutes ?? topology.handlers.settlementClose.scheduleRateMinutes,
  };
}

export class PaymentsStack extends Stack {
  readonly config: StageConfig;
  readonly encryptionKey: EncryptionKey;
  readonly topics: Readonly<Record<TopicName, sns.Topic>>;
  readonly notificationTopics: Readonly<Record<NotificationTopicName, sns.Topic>>;
  readonly tables: Readonly<Record<TableName, dynamodb.Table>>;
  readonly queues: Readonly<Record<QueueName, QueueWorker>>;
  readonly handlers: Readonly<Record<HandlerName, HandlerFunction>>;
  readonly api: PaymentsApi<Channel>;
  /** Concurrency caps and alarm thresholds of this stage (lib/stage-settings.ts). */
  readonly operations: OperationalSettings;
  /**
   * The scheduled handlers' dead-letter queue: events EventBridge could not deliver after its
   * retries, and asynchronous invocations that failed after Lambda's. Standard, not FIFO:
   * EventBridge cannot target a FIFO queue as a DLQ.
   */
  readonly scheduleDeadLetterQueue: sqs.Queue;
  /** `npx payments dlq`'s permissions, attached to no role by the stack. */
  readonly deadLetterOperatorPolicy: iam.ManagedPolicy;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PaymentsStackProps) {
    super(scope, id, props);
    this.config = resolveStageConfig(props);
    this.operations = operationalSettings(this.config.stage);
    const removalPolicy = this.config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.encryptionKey = new EncryptionKey(this, 'EncryptionKey', { removalPolicy });
    const key = this.encryptionKey.key;

    this.topics = fromEntries(topicNames(), (name) =>
      new FifoTopic(this, `Topic${pascalCase(name)}`, { spec: topology.topics[name], encryptionKey: key }).topic,
    );
    this.notificationTopics = fromEntries(notificationTopicNames(), (name) =>
      new NotificationTopic(this, `Notifications${pascalCase(name)}`, {
        spec: topology.notificationTopics[name],
        encryptionKey: key,
        emailAddresses: this.config.opsNotificationEmails,
      }).topic,
    );
    this.tables = new LedgerTables(this, 'Tables', {
      specs: topology.tables,
      encryptionKey: key,
      deletionProtection: this.config.retainData,
      removalPolicy,
    }).tables;
    this.backupTables();
    this.queues = fromEntries(queueNames(), (name) => {
      const spec = topology.queues[name];
      return new QueueWorker(this, queueWorkerId(name), {
        spec,
        topic: this.topics[spec.subscription.topic],
        visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(name)),
        encryptionKey: key,
        removalPolicy,
      });
    });
    for (const name of queueNames()) this.makeDeadLetterQueueHighThroughput(this.queues[name].deadLetterQueue);
    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(SCHEDULE_DLQ_RETENTION_DAYS),
      removalPolicy,
    });
    acknowledgeDeadLetterQueue(this.scheduleDeadLetterQueue);
    this.allowServiceOnKey('AllowEventBridgeRulesOfThisAccountToUseTheScheduleDlq', 'events.amazonaws.com', `arn:${this.partition}:events:${this.region}:${this.account}:rule/*`);
    this.handlers = fromEntries(handlerNames(), (name) => this.createHandler(name, removalPolicy));
    for (const name of queueNames()) {
      const worker = this.queues[name];
      const consumer = this.handlers[topology.queues[name].consumer];
      // The event source's grant includes kms:Decrypt: Lambda's poller receives through SQS.
      consumer.role.keyGrantsVia('sqs', () => worker.connectConsumer(consumer.function, this.operations.queueMaxConcurrency[name]));
    }
    this.reserveConcurrency();
    this.api = this.createApi(removalPolicy);
    this.deadLetterOperatorPolicy = this.createDeadLetterOperatorPolicy();
    this.monitoring = this.createMonitoring();
    this.addOutputs();
  }

  /** A handler with exactly the env vars and grants its topology bindings list. */
  private createHandler(handlerName: HandlerName, removalPolicy: RemovalPolicy): HandlerFunction {
    const spec: HandlerSpec = topology.handlers[handlerName];
    const bindings = handlerEnvironment(handlerName, {
      table: (table) => this.tables[table].tableName,
      topic: (topic) => this.topics[topic].topicArn,
      deadLetterQueueUrl: (queue) => this.queues[queue].deadLetterQueue.queueUrl,
      notificationTopic: (topic) => this.notificationTopics[topic].topicArn,
    });

    const handler = new HandlerFunction(this, `Handler${pascalCase(spec.name)}`, {
      spec,
      projectRoot: PROJECT_ROOT,
      bindings,
      stage: this.config.stage,
      logLevel: this.config.logLevel,
      logRetention: this.config.logRetention,
      sourceMaps: this.config.sourceMaps,
      encryptionKey: this.encryptionKey.key,
      removalPolicy,
    });
    const fn = handler.function;
    this.grantTables(handler, handlerName, spec);
    // The stack key only through the service that encrypts with it (kms:ViaService, KeyScopedRole).
    handler.role.keyGrantsVia('sns', () => {
      for (const topic of spec.publishes) this.topics[topic].grantPublish(fn);
      for (const topic of spec.notifies) this.notificationTopics[topic].grantPublish(fn);
    });
    handler.role.keyGrantsVia('sqs', () => {
      for (const queue of spec.quarantinesTo) this.queues[queue].deadLetterQueue.grantSendMessages(fn);
    });
    if (spec.scheduleRateMinutes !== undefined) {
      const minutes = spec.name === topology.handlers.settlementClose.name ? this.config.settlementIntervalMinutes : spec.scheduleRateMinutes;
      if (!Number.isInteger(minutes) || minutes < 1) throw new Error(`${spec.name}: the schedule rate must be a whole number of minutes >= 1, got ${minutes}`);
      new events.Rule(this, `Schedule${pascalCase(spec.name)}`, {
        description: `Runs the ${spec.name} handler every ${minutes} minutes`,
        schedule: events.Schedule.rate(Duration.minutes(minutes)),
        targets: [
          new eventsTargets.LambdaFunction(fn, {
            retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
            maxEventAge: SCHEDULE_EVENT_AGE_MAX,
            deadLetterQueue: this.scheduleDeadLetterQueue,
          }),
        ],
      });
      this.sendFailedInvocationsToScheduleDlq(handler);
    } else {
      acknowledgeSynchronousInvocation(fn);
    }
    return handler;
  }

  /**
   * A redrive moves a DLQ's messages back at its source queue's pace, and quarantines come from
   * many accounts at once: the DLQ gets the same per-message-group throughput as its queue. Set on
   * the L1 queue here; QueueWorker builds the DLQ.
   */
  private makeDeadLetterQueueHighThroughput(dlq: sqs.Queue): void {
    const cfnQueue = dlq.node.defaultChild as sqs.CfnQueue;
    cfnQueue.deduplicationScope = sqs.DeduplicationScope.MESSAGE_GROUP;
    cfnQueue.fifoThroughputLimit = sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID;
  }

  /**
   * EventBridge invokes asynchronously: a run that fails after Lambda's own retries goes to the
   * schedule DLQ too (an L1 property: HandlerFunction's props do not take a DLQ).
   */
  private sendFailedInvocationsToScheduleDlq(handler: HandlerFunction): void {
    const fn = handler.function;
    handler.role.keyGrantsVia('sqs', () => this.scheduleDeadLetterQueue.grantSendMessages(fn));
    (fn.node.defaultChild as lambda.CfnFunction).deadLetterConfig = { targetArn: this.scheduleDeadLetterQueue.queueArn };
  }

  /**
   * A service principal may use the stack key for this account's resources of that service only.
   * Not on EncryptionKey: these statements exist for what this stack wires (alarms, schedules).
   */
  private allowServiceOnKey(sid: string, service: string, sourceArnPattern: string): void {
    this.encryptionKey.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account }, ArnLike: { 'aws:SourceArn': sourceArnPattern } },
      }),
    );
  }

  /**
   * Alarms and the dashboard. Alarms go to the operations notifications topic (HIGH and CRITICAL
   * risk alerts go there too): CloudWatch may publish to it and use the key it is encrypted with,
   * for this account's alarms only.
   */
  private createMonitoring(): Monitoring {
    const alarmTopic = this.notificationTopics.operations;
    const thisAccountsAlarms = `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*`;
    alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccountToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [alarmTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account }, ArnLike: { 'aws:SourceArn': thisAccountsAlarms } },
      }),
    );
    this.allowServiceOnKey('AllowCloudWatchAlarmsOfThisAccountToPublishToEncryptedTopics', 'cloudwatch.amazonaws.com', thisAccountsAlarms);
    const settlementMinutes = this.config.settlementIntervalMinutes;
    return new Monitoring(this, 'Monitoring', {
      alarmTopic,
      thresholds: this.operations.alarms,
      queues: fromEntries(queueNames(), (name) => ({ queue: this.queues[name].queue, deadLetterQueue: this.queues[name].deadLetterQueue })),
      otherDeadLetterQueues: { schedules: this.scheduleDeadLetterQueue },
      functions: fromEntries(handlerNames(), (name) => ({ function: this.handlers[name].function, serviceName: serviceNameOf(name) })),
      tables: this.tables,
      tableIndexes: fromEntries(tableNames(), indexNamesOf),
      topics: this.topics,
      apiStage: this.api.api.deploymentStage,
      rejectionReasons: REJECTION_REASONS,
      severities: SEVERITIES,
      settlementInterval: Duration.minutes(settlementMinutes),
      recoveryInterval: Duration.minutes(topology.handlers.recovery.scheduleRateMinutes),
    });
  }

  /**
   * Per-action DynamoDB grants (lib/iam-actions.ts): the item actions the handler's stores send, on
   * the table; Query on the indexes it queries, by name; the key through DynamoDB only, for reading
   * or, when the handler writes, for writing too. The tables must be the topology's bindings, and a
   * `read` binding gets read actions only.
   */
  private grantTables(handler: HandlerFunction, handlerName: HandlerName, spec: HandlerSpec): void {
    const grants = tableGrantsOf(handlerName);
    const bound = spec.tables.map((binding) => binding.table).sort();
    const granted = (Object.keys(grants) as TableName[]).sort();
    if (bound.join() !== granted.join()) {
      throw new Error(`handler ${spec.name}: lib/iam-actions.ts grants tables [${granted.join(', ')}], the topology binds [${bound.join(', ')}]`);
    }
    for (const { table, access } of spec.tables) {
      const grant = grants[table];
      if (grant === undefined) continue;
      const writes = grant.items.some((action) => !READ_ACTIONS.includes(action));
      if (access === 'read' && writes) throw new Error(`handler ${spec.name}: ${table} is bound read-only, but lib/iam-actions.ts grants ${grant.items.join(', ')}`);
      const indexes = new Set(indexNamesOf(table));
      const unknown = (grant.queries ?? []).filter((index) => !indexes.has(index));
      if (unknown.length > 0) throw new Error(`handler ${spec.name}: ${table} has no index ${unknown.join(', ')}`);
      const tableArn = this.tables[table].tableArn;
      handler.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: grant.items.map((action) => `dynamodb:${action}`),
          resources: [tableArn],
          ...(grant.leadingKeys === undefined ? {} : { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...grant.leadingKeys] } } }),
        }),
      );
      if ((grant.queries ?? []).length > 0) {
        handler.role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: (grant.queries ?? []).map((index) => `${tableArn}/index/${index}`) }),
        );
      }
      const key = this.tables[table].encryptionKey;
      if (key === undefined) throw new Error(`table ${table} has no customer-managed key`);
      handler.role.keyGrantsVia('dynamodb', () =>
        key.grant(handler.function, 'kms:Decrypt', 'kms:DescribeKey', ...(writes ? ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'] : [])),
      );
    }
  }

  /**
   * What `npx payments dlq` needs on AWS (lambdas/adapters/sqs/dead-letter.ts): list the queues,
   * read every stack queue's attributes (it pairs each work queue with its DLQ through the
   * RedrivePolicy), read and delete on the DLQs, send to the work queues (the redrive), and the key
   * through SQS only. A policy of its own rather than on the operations role: sending to the work
   * queues is also the power to put any message in front of the consumers (a transfer, a
   * settlement confirmation) without the API's signatures and checks. Attach it only to the
   * principals that redrive, behind MFA (docs/OPERATIONS.md "## Permissions").
   */
  private createDeadLetterOperatorPolicy(): iam.ManagedPolicy {
    const workQueues = queueNames().map((name) => this.queues[name].queue.queueArn);
    const deadLetterQueues = queueNames().map((name) => this.queues[name].deadLetterQueue.queueArn);
    const policy = new iam.ManagedPolicy(this, 'DeadLetterOperator', {
      description: `${this.stackName}: inspect and redrive the dead-letter queues (npx payments dlq); can send to the work queues`,
    });
    policy.addStatements(
      new iam.PolicyStatement({ sid: 'DlqToolListQueues', actions: ['sqs:ListQueues'], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'DlqToolDescribeQueues',
        actions: ['sqs:GetQueueAttributes'],
        resources: [...workQueues, ...deadLetterQueues, this.scheduleDeadLetterQueue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'DlqToolReadDeadLetterQueues',
        actions: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
        resources: deadLetterQueues,
      }),
      new iam.PolicyStatement({ sid: 'DlqToolRedriveToWorkQueues', actions: ['sqs:SendMessage'], resources: workQueues }),
      new iam.PolicyStatement({
        sid: 'DlqToolUseKeyThroughSqs',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.encryptionKey.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${this.region}.amazonaws.com` } },
      }),
    );
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'sqs:ListQueues (the dlq tool finds the stack\'s queues by name prefix) has no resource-level permissions: AWS requires Resource "*". Every other DLQ-tool statement names the stack\'s queues and key.',
    });
    return policy;
  }

  private createApi(removalPolicy: RemovalPolicy): PaymentsApi<Channel> {
    const apiHandler = this.handlers[API_HANDLER].function;
    const api = new PaymentsApi<Channel>(this, 'Api', {
      handler: apiHandler,
      routes: API_ROUTES,
      channels: CHANNELS,
      adminRoles: ADMIN_ROLES,
      stageName: this.config.stage,
      stageThrottle: this.config.stageThrottle,
      clientLimits: this.config.clientLimits,
      waf: this.operations.waf,
      encryptionKey: this.encryptionKey.key,
      accessLogRetention: this.config.logRetention,
      removalPolicy,
    });
    // Plans are found by name: their ids would make the function depend on the stage that
    // depends on the function.
    apiHandler.addEnvironment(envVar.usagePlans, JSON.stringify(fromEntries(CHANNELS, (channel) => usagePlanName(this.config.stage, channel))));
    this.grantClientKeyManagement(api);
    return api;
  }

  /**
   * Staging and prod (the stages that retain their data) back their tables up with AWS Backup. A
   * dev stack's tables are deleted with it, so a backup would be of nothing anyone keeps.
   */
  private backupTables(): void {
    const tables = tableNames().map((name) => this.tables[name]);
    if (this.config.retainData) {
      new TableBackups(this, 'TableBackups', { tables, encryptionKey: this.encryptionKey.key });
      return;
    }
    for (const table of tables) acknowledgeDisposableTable(table);
  }

  /**
   * Every function keeps a share of the account's concurrency for itself and takes no more, so
   * none can starve another: the api function its stage setting, each consumer its queues' event
   * source caps (more would never be used, less would throttle the poller), each scheduled
   * function a small fixed share. The account must keep 100 unreserved on top (docs/OPERATIONS.md).
   */
  private reserveConcurrency(): void {
    const reserved = (name: HandlerName): number => {
      if (name === API_HANDLER) return this.operations.apiReservedConcurrency;
      if (scheduledHandlerNames().includes(name)) return this.operations.scheduledReservedConcurrency;
      const consumed = queueNames().filter((queue) => topology.queues[queue].consumer === name);
      if (consumed.length === 0) throw new Error(`handler ${name} is neither the api, scheduled nor a queue consumer: no concurrency to reserve`);
      return consumed.reduce((sum, queue) => sum + this.operations.queueMaxConcurrency[queue], 0);
    };
    for (const name of handlerNames()) {
      (this.handlers[name].function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = reserved(name);
    }
  }

  /**
   * Issuing a client creates its API key and adds it to its channel's plan; revoking disables it.
   * A policy of its own (not the role's default one, which the function depends on) may name the
   * plans without a dependency cycle.
   */
  private grantClientKeyManagement(api: PaymentsApi<Channel>): void {
    const role = this.handlers[API_HANDLER].function.role;
    if (role === undefined) throw new Error('the api function has no role');
    const gateway = (path: string): string => `arn:${this.partition}:apigateway:${this.region}::${path}`;
    const policy = new iam.ManagedPolicy(this, 'ApiClientKeyManagement', {
      description: 'payments api handler: create and disable API client keys in the channel usage plans',
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['apigateway:POST'], resources: [gateway('/apikeys'), ...CHANNELS.map((channel) => gateway(`/usageplans/${api.usagePlans[channel].usagePlanId}/keys`))] }),
        new iam.PolicyStatement({ actions: ['apigateway:GET'], resources: [gateway('/usageplans')] }),
        new iam.PolicyStatement({ actions: ['apigateway:PATCH'], resources: [gateway('/apikeys/*')] }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]',
      reason: 'API keys are created at run time, one per API client, so their ids are not known at deploy time: PATCH (to disable a revoked client\'s key) is granted on /apikeys/*, nothing else.',
    });
  }

  private addOutputs(): void {
    // RestApi already outputs its URL (as `<id>Endpoint<hash>`); rename that one rather than
    // adding a duplicate, so scripts read a stable `ApiUrl`.
    const endpoint = this.api.api.node.tryFindChild('Endpoint');
    if (!(endpoint instanceof CfnOutput)) throw new Error('RestApi no longer outputs its endpoint; add an ApiUrl output');
    endpoint.overrideLogicalId('ApiUrl');
    endpoint.description = 'Base URL of the channel API stage (routes start with /v1)';
    for (const name of notificationTopicNames()) {
      new CfnOutput(this, `NotificationTopicArn${pascalCase(name)}`, {
        description: `ARN of the ${topology.notificationTopics[name].name} topic (subscribe e-mail, chat or paging here)`,
        value: this.notificationTopics[name].topicArn,
      });
    }
    new CfnOutput(this, 'DeadLetterOperatorPolicyArn', {
      description: 'Managed policy for npx payments dlq (list, show, redrive): attach it only to the principals that redrive, behind MFA',
      value: this.deadLetterOperatorPolicy.managedPolicyArn,
    });
    for (const role of ADMIN_ROLES) {
      new CfnOutput(this, `AdminRolePolicyArn${pascalCase(role)}`, {
        description: `Managed policy of the ${role} admin role: attach it to the IAM principals that do ${role} work`,
        value: this.api.rolePolicies[role].managedPolicyArn,
      });
    }
  }
}

/** Builds a record over a fixed key list, so a missing key is a compile error, not `undefined`. */
function fromEntries<K extends string, V>(keys: readonly K[], build: (key: K) => V): Record<K, V> {
  const record = {} as Record<K, V>;
  for (const key of keys) record[key] = build(key);
  return record;
}
