// Risk handler: screens every decided transfer (TransactionPosted / TransactionRejected from the
// risk-screening FIFO queue) with the core's screenTransfer, and counts the alerts it raises. The
// composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoRiskStore } from '../adapters/dynamodb/risk-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { RiskStore } from '../core/risk/ports.js';
import { screenTransfer, type ScreeningOutcome, type ScreenTransferPorts } from '../core/risk/screen-transfer.js';
import type { thresholdsFor } from '../core/risk/thresholds.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { createDynamoDBClient, createSnsClient, createSqsClient } from '../shared/aws-clients.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { envVar } from '../../contract/topology.js';
import { eventConsumer, type SqsBatchHandler } from '../shared/sqs-batch.js';

export interface RiskDependencies {
  readonly risk: RiskStore;
  readonly publisher: EventPublisher;
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Per-currency overrides of the default thresholds. */
  readonly thresholds?: Parameters<typeof thresholdsFor>[1];
}

export function createRiskHandler(deps: RiskDependencies): SqsBatchHandler {
  const ports: ScreenTransferPorts = {
    risk: deps.risk,
    publisher: deps.publisher,
    ...(deps.thresholds !== undefined ? { thresholds: deps.thresholds } : {}),
  };
  return eventConsumer({
    queue: 'screening',
    types: ['TransactionPosted', 'TransactionRejected'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (event) => event.data.transactionId,
    handle: async (event) => recordOutcome(deps, await screenTransfer(ports, event)),
  });
}

function recordOutcome(deps: RiskDependencies, outcome: ScreeningOutcome): void {
  if (outcome.kind === 'alert-raised') deps.metrics.addMetric('RiskAlertsRaised', MetricUnit.Count, 1);
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function riskHandlerFromEnv(env: Environment): SqsBatchHandler {
  const { logger, metrics, clientOptions } = wireFromEnv(env, 'payments-risk');
  // Only the SDK clients this handler uses: the others stay out of its bundle.
  const clients = { dynamodb: createDynamoDBClient(clientOptions), sns: createSnsClient(clientOptions), sqs: createSqsClient(clientOptions) };
  return createRiskHandler({
    risk: new DynamoRiskStore(clients.dynamodb, requireEnv(env, envVar.table('risk'))),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('alerts'))),
    quarantine: new SqsQuarantine(clients.sqs, requireEnv(env, envVar.deadLetterQueue('screening'))),
    logger,
    metrics,
  });
}

export const handler: SqsBatchHandler = lazyHandler(riskHandlerFromEnv);
