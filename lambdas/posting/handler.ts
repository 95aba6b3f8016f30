// Posting handler: consumes TransactionRequested from the posting FIFO queue, posts each transfer
// to the ledger exactly once, and publishes TransactionPosted or TransactionRejected. Batches use
// Powertools' SqsFifoPartialProcessorAsync: a failed record fails the rest of its message group
// in the batch while other groups proceed. The composition root is at the end of the file.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { MissingRejectionReasonError } from '../core/events/transfer-events.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { IntakeStore } from '../core/intake/ports.js';
import { decideTransfer, type Decision } from '../core/ledger/decide-transfer.js';
import type { LedgerStore } from '../core/ledger/ports.js';
import { DynamoIntakeStore } from '../adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore, SameAccountTransferError } from '../adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { eventConsumer, isPermanentFailure, type SqsBatchHandler } from '../shared/sqs-batch.js';
import { createDynamoDBClient, createSnsClient, createSqsClient } from '../shared/aws-clients.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { envVar } from '../../contract/topology.js';

export interface PostingDependencies {
  readonly ledger: LedgerStore;
  readonly publisher: EventPublisher;
  readonly intake: Pick<IntakeStore, 'markDecided'>;
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export function createPostingHandler(deps: PostingDependencies): SqsBatchHandler {
  const now = deps.now ?? (() => new Date());
  const ports = { ledger: deps.ledger, publisher: deps.publisher, intake: deps.intake, now };
  return eventConsumer({
    queue: 'posting',
    types: ['TransactionRequested'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (event) => event.data.transactionId,
    isPermanent,
    handle: async (event) => recordOutcome(deps, await decideTransfer(ports, event), now()),
  });
}

function isPermanent(error: unknown): error is Error {
  return isPermanentFailure(error) || error instanceof SameAccountTransferError || error instanceof MissingRejectionReasonError;
}

function recordOutcome(deps: PostingDependencies, result: Decision, now: Date): void {
  if (!result.marked) {
    deps.metrics.addMetric('IntakeMarkFailures', MetricUnit.Count, 1);
    deps.logger.warn('decided, but the intake could not be marked decided; the recovery sweep will');
  }
  if (result.kind !== 'decided') {
    deps.metrics.addMetric(result.kind === 'duplicate' ? 'TransfersDuplicate' : 'TransfersModifiedRequest', MetricUnit.Count, 1);
    deps.logger.info('transfer already decided', { outcome: result.kind });
    return;
  }
  const { transfer } = result;
  const latencyMs = Math.max(0, now.getTime() - Date.parse(transfer.requestedAt));
  if (transfer.status === 'POSTED') {
    deps.metrics.addMetric('TransfersPosted', MetricUnit.Count, 1);
    deps.metrics.addMetric('RequestToPostingLatency', MetricUnit.Milliseconds, latencyMs);
  } else {
    const byReason = deps.metrics.singleMetric();
    byReason.addDimension('rejectionReason', transfer.rejectionReason ?? 'UNKNOWN');
    byReason.addMetric('TransfersRejected', MetricUnit.Count, 1);
  }
  // Ids, amounts and outcome only: no account-holder data and nothing secret reaches the logs.
  deps.logger.info('transfer decided', { status: transfer.status, rejectionReason: transfer.rejectionReason, latencyMs });
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function postingHandlerFromEnv(env: Environment): SqsBatchHandler {
  const { logger, metrics, clientOptions } = wireFromEnv(env, 'payments-posting');
  // Only the SDK clients this handler uses: the others stay out of its bundle.
  const clients = { dynamodb: createDynamoDBClient(clientOptions), sns: createSnsClient(clientOptions), sqs: createSqsClient(clientOptions) };
  return createPostingHandler({
    ledger: new DynamoLedgerStore({ client: clients.dynamodb, tableName: requireEnv(env, envVar.table('ledger')) }),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('transactions'))),
    intake: new DynamoIntakeStore(clients.dynamodb, requireEnv(env, envVar.table('requests'))),
    quarantine: new SqsQuarantine(clients.sqs, requireEnv(env, envVar.deadLetterQueue('posting'))),
    logger,
    metrics,
  });
}

export const handler: SqsBatchHandler = lazyHandler(postingHandlerFromEnv);
