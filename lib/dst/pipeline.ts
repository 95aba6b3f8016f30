// The whole pipeline in one process, for the simulator: the real handlers and DynamoDB/SNS adapters
// over the in-memory DynamoDB engine and FIFO fabric, provisioned from contract/topology.ts like the
// local runtime, with every AWS call a yield point of the scheduler (where a task may be paused,
// interleaved with others, or killed) and a fault hook in front of every request.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createAlertsHandler } from '../../lambdas/alerts/handler.js';
import { DynamoAccountFreezer } from '../../lambdas/adapters/dynamodb/account-freezer.js';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { DynamoRiskStore } from '../../lambdas/adapters/dynamodb/risk-store.js';
import type { DynamoSettlementStore } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import { MemoryDynamoDB } from '../../lambdas/adapters/memory/dynamodb.js';
import { MemoryMessaging } from '../../lambdas/adapters/memory/messaging.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../../lambdas/adapters/sns/ops-notifier.js';
import { SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import type { EventPublisher } from '../../lambdas/core/events/ports.js';
import type { LedgerStore, PostingResult } from '../../lambdas/core/ledger/ports.js';
import type { TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import { createPostingHandler } from '../../lambdas/posting/handler.js';
import { createRecoveryHandler } from '../../lambdas/recovery/handler.js';
import { createRiskHandler } from '../../lambdas/risk/handler.js';
import { createSettlementCloseHandler } from '../../lambdas/settlement/close-handler.js';
import { createSettlementHandler } from '../../lambdas/settlement/handler.js';
import type { SqsBatchHandler } from '../../lambdas/shared/sqs-batch.js';
import { LOCAL_REGION } from '../local/local-world.js';
import { createLambdaContext } from '../local/lambda-context.js';
import { provisionTopology, type Bindings } from '../local/provision.js';
import { toSqsRecord } from '../local/sqs-records.js';
import { queueNames, topology, type QueueName } from '../../contract/topology.js';
import type { SubmitTransferPorts } from '../../lambdas/core/intake/submit-transfer.js';
import type { StartupPorts } from '../local/startup.js';
import type { Faults } from './faults.js';
import type { Scheduler } from './scheduler.js';

/** Something every simulated AWS client has: the one method the adapters call. */
interface Sendable {
  send(command: unknown, options?: unknown): Promise<unknown>;
}

/** A decision the posting path made, in the order the ledger made them. */
export interface DecisionLog {
  record(request: TransferRequest, result: PostingResult): void;
  /** A line for the run's trace. */
  trace(line: string): void;
}

/** One generation of the runtime: stores, handlers and schedules, as a (re)started process has them. */
export interface SimulatedRuntime {
  readonly bindings: Bindings;
  readonly ledger: DynamoLedgerStore;
  readonly intake: DynamoIntakeStore;
  readonly settlement: DynamoSettlementStore;
  readonly settlements: EventPublisher;
  readonly sqs: SQSClient;
  readonly submitPorts: SubmitTransferPorts;
  readonly startupPorts: StartupPorts;
  readonly handlers: Readonly<Record<QueueName, SqsBatchHandler>>;
  readonly recovery: ReturnType<typeof createRecoveryHandler>;
  readonly settlementClose: ReturnType<typeof createSettlementCloseHandler>;
}

export interface SimulatedPipeline {
  readonly dynamodb: MemoryDynamoDB;
  readonly messaging: MemoryMessaging;
  readonly bindings: Bindings;
  /** The engine as a client, without yields or faults: for checks after the run. */
  readonly rawDynamoDB: DynamoDBClient;
  /** A fresh runtime over the same tables and queues (a restart, or the first start). */
  runtime(): SimulatedRuntime;
  /** Windows CLOSED and not SETTLED. */
  unsettledWindowIds(): string[];
  /** Messages sitting in dead-letter queues. */
  deadLettered(): number;
}

export async function createPipeline(scheduler: Scheduler, faults: Faults, decisions: DecisionLog, groupDelivery: 'one-in-flight' | 'aws'): Promise<SimulatedPipeline> {
  const dynamodb = new MemoryDynamoDB({
    now: () => scheduler.nowMs(),
    yieldPoint: () => scheduler.yieldPoint('service'),
    faults: (request) => faults.dynamodb(request),
  });
  const messaging = new MemoryMessaging({
    now: () => scheduler.nowMs(),
    region: LOCAL_REGION,
    groupDelivery,
    faults: (request) => faults.messaging(request),
  });
  const rawDynamoDB = asClient<DynamoDBClient>(dynamodb);
  // Provisioning happens outside any task: no yields, and faults are off until the run starts.
  const bindings = await provisionTopology({ dynamodb: rawDynamoDB, sns: asClient<SNSClient>(messaging.sns), sqs: asClient<SQSClient>(messaging.sqs) }, 'dst');
  return {
    dynamodb,
    messaging,
    bindings,
    rawDynamoDB,
    runtime: () => buildRuntime(scheduler, dynamodb, messaging, bindings, decisions),
    unsettledWindowIds: () =>
      dynamodb
        .snapshot(bindings.tables.ledger)
        .filter((item) => item.pk?.S?.startsWith('SETTLEMENT_WINDOW#') === true && (item.state?.S === 'CLOSED' || item.state?.S === 'PENDING_SETTLEMENT'))
        .map((item) => item.pk?.S?.slice('SETTLEMENT_WINDOW#'.length) ?? '?'),
    deadLettered: () => queueNames().reduce((sum, queue) => sum + messaging.messages(bindings.queues[queue].deadLetterUrl).length, 0),
  };
}

function buildRuntime(scheduler: Scheduler, dynamodb: MemoryDynamoDB, messaging: MemoryMessaging, bindings: Bindings, decisions: DecisionLog): SimulatedRuntime {
  const now = (): Date => scheduler.now();
  const client = {
    dynamodb: yielding<DynamoDBClient>(dynamodb, scheduler),
    sns: yielding<SNSClient>(messaging.sns, scheduler),
    sqs: yielding<SQSClient>(messaging.sqs, scheduler),
  };
  const ledger = new DynamoLedgerStore({ client: client.dynamodb, tableName: bindings.tables.ledger, now });
  const intake = new DynamoIntakeStore(client.dynamodb, bindings.tables.requests);
  const transactions = new SnsEventPublisher(client.sns, bindings.topics.transactions);
  const settlements = new SnsEventPublisher(client.sns, bindings.topics.settlements);
  const alertsTopic = new SnsEventPublisher(client.sns, bindings.topics.alerts);
  const notifier = new SnsOpsNotifier(client.sns, bindings.notificationTopics.operations);
  const quarantine = (queue: QueueName) => new SqsQuarantine(client.sqs, bindings.queues[queue].deadLetterUrl);
  const observed = (service: string) => ({ logger: new Logger({ serviceName: service, logLevel: 'SILENT' }), metrics: new Metrics({ serviceName: service, namespace: 'PaymentsBackbone' }) });
  const risk = new DynamoRiskStore(client.dynamodb, bindings.tables.risk);
  const handlers: Record<QueueName, SqsBatchHandler> = {
    posting: createPostingHandler({ ledger: recordingDecisions(ledger, decisions), publisher: transactions, intake, quarantine: quarantine('posting'), now, ...observed('payments-posting') }),
    screening: createRiskHandler({ risk, publisher: alertsTopic, quarantine: quarantine('screening'), ...observed('payments-risk') }),
    alerts: createAlertsHandler({
      alerts: new DynamoAlertStore(client.dynamodb, bindings.tables.risk),
      freezer: new DynamoAccountFreezer(client.dynamodb, { ledger: bindings.tables.ledger, risk: bindings.tables.risk }),
      publisher: alertsTopic,
      notifier,
      quarantine: quarantine('alerts'),
      now,
      ...observed('payments-alerts'),
    }),
    settlements: createSettlementHandler({ store: ledger.settlement, publisher: settlements, notifier, quarantine: quarantine('settlements'), now, ...observed('payments-settlement') }),
  };
  return {
    bindings,
    ledger,
    intake,
    settlement: ledger.settlement,
    settlements,
    sqs: client.sqs,
    submitPorts: { ledger, intake, publisher: transactions },
    startupPorts: { intake, ledger, settlement: ledger.settlement, transactions, settlements, now },
    handlers,
    recovery: createRecoveryHandler({ intake, ledger, publisher: transactions, now, ...observed('payments-recovery') }),
    settlementClose: createSettlementCloseHandler({ store: ledger.settlement, publisher: settlements, now, ...observed('payments-settlement-close') }),
  };
}

/**
 * One Lambda invocation of a queue's consumer, as the event source mapping makes it: receive a
 * batch, invoke, delete what succeeded. Records that failed stay in flight until their visibility
 * timeout, as on AWS. `skipDelete` models a delete that never happened (a crash after the handler,
 * a lost response): the whole batch is delivered again.
 */
export async function deliverBatch(pipeline: SimulatedRuntime, queue: QueueName, now: () => number, skipDelete: boolean, trace: (line: string) => void): Promise<number> {
  const binding = pipeline.bindings.queues[queue];
  const received = await pipeline.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: binding.url,
      MaxNumberOfMessages: topology.queues[queue].batchSizeMax,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return 0;
  const records = messages.map((message) => toSqsRecord(message, binding.arn, LOCAL_REGION));
  trace(`receive ${queue}: ${records.map((record) => `${subjectOf(record.body)} #${record.attributes.ApproximateReceiveCount}`).join(', ')}`);
  const handler = topology.handlers[topology.queues[queue].consumer];
  const context = createLambdaContext({ functionName: handler.name, timeoutSeconds: handler.timeoutSeconds, memorySizeMb: handler.memorySizeMb, now });
  let failed: Set<string>;
  try {
    const response = await pipeline.handlers[queue]({ Records: records }, context);
    failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  } catch (error) {
    trace(`invoke ${queue} failed: ${error instanceof Error ? error.name : String(error)}`);
    return messages.length;
  }
  if (failed.size > 0) trace(`${queue} failed records: ${records.filter((record) => failed.has(record.messageId)).map((record) => subjectOf(record.body)).join(', ')}`);
  const succeeded = records.filter((record) => !failed.has(record.messageId));
  if (succeeded.length === 0 || skipDelete) return messages.length;
  await pipeline.sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: binding.url,
      Entries: succeeded.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
    }),
  );
  return messages.length;
}

/** What a message is about, for the trace: its event type and transfer or window id. */
function subjectOf(body: string): string {
  try {
    const event = JSON.parse(body) as { type?: string; data?: { transactionId?: string; windowId?: string } };
    return `${event.type ?? '?'} ${event.data?.transactionId ?? event.data?.windowId ?? ''}`;
  } catch {
    return 'unparseable';
  }
}

function recordingDecisions(ledger: LedgerStore, decisions: DecisionLog): LedgerStore {
  return {
    postTransfer: async (request) => {
      try {
        const result = await ledger.postTransfer(request);
        decisions.record(request, result);
        decisions.trace(`post ${request.transferId} ${request.debtorAccountId}: ${result.kind} ${result.kind === 'modified' ? result.reason : `${result.transfer.status} ${result.transfer.rejectionReason ?? ''}`}`);
        return result;
      } catch (error) {
        decisions.trace(`post ${request.transferId} ${request.debtorAccountId} failed: ${error instanceof Error ? error.name : String(error)}`);
        throw error;
      }
    },
    getTransfer: (transferId) => ledger.getTransfer(transferId),
    decidedTransferIds: (transferIds) => ledger.decidedTransferIds(transferIds),
    getAccount: (accountId) => ledger.getAccount(accountId),
    openAccount: (account) => ledger.openAccount(account),
    unfreezeAccount: (accountId, by, at) => ledger.unfreezeAccount(accountId, by, at),
  };
}

/**
 * The in-memory services as the SDK client types the adapters take. Sound because the adapters
 * only ever call `send` with commands the in-memory services implement (they throw on any other).
 */
function asClient<T>(service: Sendable): T {
  return service as unknown as T;
}

function yielding<T>(service: Sendable, scheduler: Scheduler): T {
  const wrapped: Sendable = {
    send: async (command, options) => {
      await scheduler.yieldPoint();
      return service.send(command, options);
    },
  };
  return asClient<T>(wrapped);
}
