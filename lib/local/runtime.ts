// The local runtime: the whole pipeline on one machine. It starts the embedded emulators (or uses
// an AWS-compatible endpoint), provisions the topology, seeds demo data, serves the REST API and
// runs every queue's handler through the Lambda event-source emulation, with the same handler
// code and the same environment variables as the deployed functions.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { alertsHandlerFromEnv } from '../../lambdas/alerts/handler.js';
import { apiHandlerFromEnv } from '../../lambdas/api/handler.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import type { RecoveryReport } from '../../lambdas/core/intake/recovery.js';
import { postingHandlerFromEnv } from '../../lambdas/posting/handler.js';
import { recoveryHandlerFromEnv } from '../../lambdas/recovery/handler.js';
import { riskHandlerFromEnv } from '../../lambdas/risk/handler.js';
import { settlementCloseHandlerFromEnv } from '../../lambdas/settlement/close-handler.js';
import { settlementHandlerFromEnv } from '../../lambdas/settlement/handler.js';
import { createAwsClients, type AwsClients } from '../../lambdas/shared/aws-clients.js';
import { DynamoClientStore } from '../../lambdas/adapters/dynamodb/client-store.js';
import { queueNames, topology, type HandlerName, type QueueName } from '../../contract/topology.js';
import { startApiServer, type RunningApiServer } from './api-server.js';
import { loadOrCreateCredentials, type LocalCredentials } from './credentials.js';
import { startDynamoDbLocal, startSnsSqs, type RunningEmulator } from './emulators.js';
import { LOCAL_CREDENTIALS, LOCAL_PREFIX, LOCAL_REGION } from './local-world.js';
import type { BatchReport, SqsBatchHandler } from './event-source.js';
import { startOpsConsole, type ReceivedNotification } from './ops-console.js';
import { handlerEnvironment, physicalName, provisionTopology, type Bindings } from './provision.js';
import { QueueConsumer } from './queue-consumer.js';
import { seedDemoClients, seedDemoLedger, type SeedAccount, type SeededClient } from './seed.js';
import { recoverAtStartup, type StartupReport } from './startup.js';
import { LocalUsageKeys, type ClientThrottle } from './usage-keys.js';

/**
 * Lambda runs as many concurrent batches of a FIFO queue as there are active message groups (up
 * to its concurrency limit); locally a fixed pool stands in for that. Each batch is processed in
 * order, so the pool size is what lets different accounts' transfers post side by side.
 */
export const POLLERS_PER_QUEUE_DEFAULT = 8;

/** Local only (admin key): the operations notifications the console received. */
export const LOCAL_NOTIFICATIONS_PATH = '/_local/ops-notifications';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalRuntimeOptions {
  /** AWS-compatible endpoint (LocalStack, ...) instead of the embedded emulators. */
  readonly endpoint?: string;
  /** Keep DynamoDB data (and the local keys) here between runs; in memory when absent. */
  readonly dataDir?: string;
  /** @default 0 (a free port) */
  readonly apiPort?: number;
  /** @default '127.0.0.1' */
  readonly apiHost?: string;
  /** @default true */
  readonly seed?: boolean;
  /** Resource name prefix, so several runtimes can share one endpoint. @default LOCAL_PREFIX */
  readonly prefix?: string;
  /** Concurrent pollers per queue. @default POLLERS_PER_QUEUE_DEFAULT */
  readonly pollersPerQueue?: number;
  /**
   * Seconds before a failed record is retried. AWS waits for the queue's visibility timeout
   * (6x the function timeout); a shorter delay makes local development and tests faster.
   * @default the queue's visibility timeout, as on AWS
   */
  readonly retryDelaySeconds?: number;
  /** Bounded wait for in-flight batches on stop. @default 10_000 */
  readonly drainTimeoutMs?: number;
  /** Wraps a queue handler (fault injection in tests). */
  readonly wrapQueueHandler?: (queue: QueueName, handler: SqsBatchHandler) => SqsBatchHandler;
  readonly onBatch?: (queue: QueueName, report: BatchReport) => void;
  /** Where the runtime reports what it does. @default silent */
  readonly log?: (line: string) => void;
  /**
   * Seconds between scheduled settlement closes (windows holding transfers are closed and
   * settled); 0 turns the schedule off. @default the topology's rate, as on AWS
   */
  readonly settlementIntervalSeconds?: number;
  /** Where operations notifications are printed. @default `log` */
  readonly printNotification?: (text: string) => void;
  /**
   * Each API client's throttle, as its usage plan sets it on AWS.
   * @default CLIENT_THROTTLE_DEFAULT (the stack's outside dev)
   */
  readonly clientThrottle?: ClientThrottle;
}

/** The stack's per-client usage-plan throttle outside dev (lib/payments-stack.ts). */
export const CLIENT_THROTTLE_DEFAULT: ClientThrottle = { rateLimitPerSecond: 100, burstLimit: 200 };

export interface LocalRuntime {
  readonly apiUrl: string;
  readonly credentials: LocalCredentials;
  readonly bindings: Bindings;
  readonly clients: AwsClients;
  readonly seededAccounts: readonly SeedAccount[];
  /** One API client per demo institution and channel, with the file its credentials are in. */
  readonly seededClients: readonly SeededClient[];
  /** Issues and resolves the API clients' usage-plan keys (the local API Gateway's key store). */
  readonly usageKeys: LocalUsageKeys;
  /** Operations notifications received so far (newest last), as e-mail recipients would see them. */
  readonly notifications: readonly ReceivedNotification[];
  /** What the start-up recovery sweep re-queued. */
  readonly startupRecovery: RecoveryReport;
  /** Settlement windows that were CLOSED but not SETTLED at start, announced again. */
  readonly startupReannounced: readonly string[];
  /** Graceful stop: no new requests, in-flight batches finish (bounded), then the emulators. */
  stop(): Promise<void>;
  /** Simulates a crash: everything stops at once, nothing is drained. */
  kill(): Promise<void>;
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log = options.log ?? (() => undefined);
  const emulators: RunningEmulator[] = [];
  const started: { stop(): Promise<unknown> }[] = [];
  try {
    const endpoints = await startEndpoints(options, emulators, log);
    ensureCredentialsForEmulators();
    const clients = createAwsClients({ ...endpoints, region: LOCAL_REGION, credentials: sdkCredentials() });
    const provisionStartedAt = Date.now();
    const bindings = await provisionTopology(clients, options.prefix ?? LOCAL_PREFIX);
    log(`in ${Date.now() - provisionStartedAt} ms provisioned ${Object.keys(bindings.tables).length} tables, ${Object.keys(bindings.topics).length} topics, ${queueNames().length * 2} queues`);
    const credentials = loadOrCreateCredentials(options.dataDir === undefined ? undefined : path.resolve(options.dataDir));
    const environment = (handler: HandlerName): Record<string, string> => ({
      ...handlerEnvironment(handler, bindings),
      AWS_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
      AWS_ENDPOINT_URL_SNS: endpoints.snsEndpoint,
      AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    });
    const usageKeys = new LocalUsageKeys({
      ...(options.dataDir !== undefined ? { dataDir: path.resolve(options.dataDir) } : {}),
      throttle: options.clientThrottle ?? CLIENT_THROTTLE_DEFAULT,
    });
    const ledger = new DynamoLedgerStore({ client: clients.dynamodb, tableName: bindings.tables.ledger });
    const seedStartedAt = Date.now();
    const seededAccounts = options.seed === false ? [] : await seedDemoLedger(ledger, ledger.settlement);
    if (seededAccounts.length > 0) log(`seeded ${seededAccounts.length} demo accounts in ${Date.now() - seedStartedAt} ms`);
    // A fresh in-memory database has nothing to recover; persisted data or a shared endpoint may.
    const fresh = options.dataDir === undefined && options.endpoint === undefined;
    const startup: StartupReport = fresh
      ? { recovery: { examined: 0, requeued: 0, requeuedTransferIds: [], markedDecided: 0, waiting: 0, failed: 0, quarantined: [] }, reannounced: [] }
      : await recoverAtStartup({
          intake: new DynamoIntakeStore(clients.dynamodb, bindings.tables.requests),
          ledger,
          settlement: ledger.settlement,
          transactions: new SnsEventPublisher(clients.sns, bindings.topics.transactions),
          settlements: new SnsEventPublisher(clients.sns, bindings.topics.settlements),
          now: () => new Date(),
          onQuarantined: ({ transferId, reason }) => log(`recovery: QUARANTINED accepted request ${transferId}, which cannot be re-queued (${reason})`),
        });
    const startupRecovery = startup.recovery;
    const startupReannounced = startup.reannounced;
    if (startupRecovery.requeued > 0) log(`recovery: re-queued ${startupRecovery.requeued} accepted request(s) that had no outcome`);
    if (startupReannounced.length > 0) log(`settlement: re-announced ${startupReannounced.join(', ')} (closed, not settled)`);

    const opsConsole = await startOpsConsole({
      sns: clients.sns,
      sqs: clients.sqs,
      topicArn: bindings.notificationTopics.operations,
      inboxQueueName: physicalName(options.prefix ?? LOCAL_PREFIX, `${topology.notificationTopics.operations.name}-console`),
      print: options.printNotification ?? log,
    });
    started.push(opsConsole);
    const consumers = queueNames().map((queue) => startConsumer(queue, options, clients, bindings, environment, log));
    started.push(...consumers.map((consumer) => ({ stop: () => consumer.stop(options.drainTimeoutMs ?? 10_000) })));
    const recoveryTimer = startRecoverySchedule(environment('recovery'), log);
    started.push({ stop: () => Promise.resolve(clearInterval(recoveryTimer)) });
    const settlementTimer = startSettlementSchedule(environment('settlementClose'), options.settlementIntervalSeconds, log);
    started.push({ stop: () => Promise.resolve(clearInterval(settlementTimer)) });
    const api = await startApi(options, credentials, usageKeys, environment('api'), opsConsole.notifications);
    started.unshift(api);
    // Credential files live with the data; without a data dir, in a private temp dir removed on stop.
    const temporaryDir = options.dataDir === undefined ? mkdtempSync(path.join(os.tmpdir(), 'payments-local-')) : undefined;
    const clientsDir = temporaryDir ?? path.resolve(options.dataDir ?? '.', 'clients');
    if (temporaryDir !== undefined) started.push({ stop: () => Promise.resolve(rmSync(temporaryDir, { recursive: true, force: true })) });
    const institutionIds = [...new Set(seededAccounts.map((account) => account.institutionId))];
    const seededClients = await seedDemoClients({ clients: new DynamoClientStore(clients.dynamodb, bindings.tables.participants), usageKeys }, institutionIds, clientsDir, api.url);

    let stopping: Promise<void> | undefined;
    const shutdown = (drain: boolean): Promise<void> => {
      stopping ??= (async () => {
        try {
          if (drain) {
            await api.stop();
            for (const consumer of consumers) {
              const drained = await consumer.stop(options.drainTimeoutMs ?? 10_000);
              if (!drained) log('stop: some batches were still running; their messages stay on the queue');
            }
          } else {
            void Promise.allSettled(started.map((item) => item.stop()));
          }
        } finally {
          // Whatever failed above, nothing may keep polling or hold the emulators open.
          clearInterval(recoveryTimer);
          clearInterval(settlementTimer);
          if (temporaryDir !== undefined) rmSync(temporaryDir, { recursive: true, force: true });
          await opsConsole.stop();
          clients.dynamodb.destroy();
          clients.sns.destroy();
          clients.sqs.destroy();
          await Promise.all(emulators.map((emulator) => (drain ? emulator.stop() : emulator.kill())));
        }
      })();
      return stopping;
    };
    return {
      apiUrl: api.url,
      credentials,
      bindings,
      clients,
      seededAccounts,
      seededClients,
      usageKeys,
      notifications: opsConsole.notifications,
      startupRecovery,
      startupReannounced,
      stop: () => shutdown(true),
      kill: () => shutdown(false),
    };
  } catch (error) {
    await Promise.allSettled(started.map((item) => item.stop()));
    await Promise.allSettled(emulators.map((emulator) => emulator.stop()));
    throw error;
  }
}

interface Endpoints {
  readonly dynamodbEndpoint: string;
  readonly snsEndpoint: string;
  readonly sqsEndpoint: string;
}

async function startEndpoints(options: LocalRuntimeOptions, emulators: RunningEmulator[], log: (line: string) => void): Promise<Endpoints> {
  if (options.endpoint !== undefined) {
    log(`using the AWS-compatible endpoint ${options.endpoint}`);
    return { dynamodbEndpoint: options.endpoint, snsEndpoint: options.endpoint, sqsEndpoint: options.endpoint };
  }
  const [dynamodb, snsSqs] = await Promise.all([
    startDynamoDbLocal(options.dataDir === undefined ? {} : { dataDir: path.resolve(options.dataDir, 'dynamodb') }),
    startSnsSqs(),
  ]);
  emulators.push(dynamodb, snsSqs);
  log(`DynamoDB Local at ${dynamodb.endpoint}${options.dataDir === undefined ? ' (in memory)' : ` (data in ${options.dataDir})`}; SNS/SQS (fauxqs) at ${snsSqs.endpoint}`);
  return { dynamodbEndpoint: dynamodb.endpoint, snsEndpoint: snsSqs.endpoint, sqsEndpoint: snsSqs.endpoint };
}

/**
 * The emulators accept any credentials, but the SDK's provider chain (which the handlers' own
 * clients use, exactly as on Lambda) insists on finding some.
 */
function ensureCredentialsForEmulators(): void {
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

function sdkCredentials(): { accessKeyId: string; secretAccessKey: string } {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env;
  return AWS_ACCESS_KEY_ID !== undefined && AWS_SECRET_ACCESS_KEY !== undefined
    ? { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY }
    : { ...LOCAL_CREDENTIALS };
}

function startConsumer(
  queue: QueueName,
  options: LocalRuntimeOptions,
  clients: AwsClients,
  bindings: Bindings,
  environment: (handler: HandlerName) => Record<string, string>,
  log: (line: string) => void,
): QueueConsumer {
  const spec = topology.queues[queue];
  const consumer = topology.handlers[spec.consumer];
  const handler = queueHandler(spec.consumer, environment(spec.consumer));
  const wrapped = options.wrapQueueHandler?.(queue, handler) ?? handler;
  const worker = new QueueConsumer({
    sqs: clients.sqs,
    queueUrl: bindings.queues[queue].url,
    queueArn: bindings.queues[queue].arn,
    region: LOCAL_REGION,
    functionName: `local-${consumer.name}`,
    handler: wrapped,
    batchSizeMax: spec.batchSizeMax,
    timeoutSeconds: consumer.timeoutSeconds,
    memorySizeMb: consumer.memorySizeMb,
    waitSeconds: spec.receiveWaitSeconds,
    pollersMax: options.pollersPerQueue ?? POLLERS_PER_QUEUE_DEFAULT,
    ...(options.retryDelaySeconds !== undefined ? { failedRecordVisibilitySeconds: options.retryDelaySeconds } : {}),
    onBatch: (report) => {
      if (report.failed > 0) log(`${queue}: ${report.failed} of ${report.received} record(s) failed${report.batchError !== undefined ? ` (${report.batchError})` : ''}; they will be retried`);
      options.onBatch?.(queue, report);
    },
    onPollError: (error) => log(`${queue}: polling failed: ${String(error)}`),
  });
  worker.start();
  return worker;
}

function queueHandler(handler: HandlerName, env: Record<string, string>): SqsBatchHandler {
  if (handler === 'posting') return postingHandlerFromEnv(env);
  if (handler === 'risk') return riskHandlerFromEnv(env);
  if (handler === 'alerts') return alertsHandlerFromEnv(env);
  if (handler === 'settlement') return settlementHandlerFromEnv(env);
  throw new Error(`no queue handler is registered for ${handler}`);
}

/** EventBridge's schedule, locally: the recovery handler on the topology's rate. */
function startRecoverySchedule(env: Record<string, string>, log: (line: string) => void): NodeJS.Timeout {
  const recover = recoveryHandlerFromEnv(env);
  const timer = setInterval(() => {
    recover().catch((error: unknown) => log(`recovery: run failed: ${String(error)}`));
  }, topology.handlers.recovery.scheduleRateMinutes * 60_000);
  timer.unref();
  return timer;
}

/** EventBridge's settlement schedule, locally; undefined when turned off. */
function startSettlementSchedule(env: Record<string, string>, intervalSeconds: number | undefined, log: (line: string) => void): NodeJS.Timeout | undefined {
  const seconds = intervalSeconds ?? topology.handlers.settlementClose.scheduleRateMinutes * 60;
  if (seconds === 0) return undefined;
  const close = settlementCloseHandlerFromEnv(env);
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // a slow run is never overlapped by the next tick
    running = true;
    close()
      .then(
        (report) => {
          if (report.closed.length > 0) log(`settlement: closed ${report.closed.join(', ')}`);
        },
        (error: unknown) => log(`settlement: scheduled close failed: ${String(error)}`),
      )
      .finally(() => {
        running = false;
      });
  }, seconds * 1_000);
  timer.unref();
  return timer;
}

async function startApi(
  options: LocalRuntimeOptions,
  credentials: LocalCredentials,
  usageKeys: LocalUsageKeys,
  env: Record<string, string>,
  notifications: readonly ReceivedNotification[],
): Promise<RunningApiServer> {
  const spec = topology.handlers.api;
  return startApiServer({
    localRoutes: new Map([[LOCAL_NOTIFICATIONS_PATH, () => ({ notifications })]]),
    handler: apiHandlerFromEnv(env, { usageKeys }),
    usageKeys,
    adminKeys: credentials.adminKeys,
    timeoutSeconds: spec.timeoutSeconds,
    memorySizeMb: spec.memorySizeMb,
    ...(options.apiPort !== undefined ? { port: options.apiPort } : {}),
    ...(options.apiHost !== undefined ? { host: options.apiHost } : {}),
  });
}
