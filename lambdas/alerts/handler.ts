// Alerts handler: consumes RiskAlertRaised from the alerts FIFO queue and hands each alert to the
// core's handleRaisedAlert (store once, freeze on CRITICAL, notify on HIGH and above, announce a
// freeze), logging and counting each step as it completes. The composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { envVar } from '../../contract/topology.js';
import { DynamoAlertStore } from '../adapters/dynamodb/alert-store.js';
import { DynamoAccountFreezer } from '../adapters/dynamodb/account-freezer.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../adapters/sns/ops-notifier.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { AccountFreezer, AlertStore } from '../core/risk/alerts.js';
import { handleRaisedAlert, type AlertStep, type HandleAlertPorts } from '../core/risk/handle-alert.js';
import type { OpsNotifier } from '../core/risk/notification.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { eventConsumer, type SqsBatchHandler } from '../shared/sqs-batch.js';
import { createDynamoDBClient, createSnsClient, createSqsClient } from '../shared/aws-clients.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';

export interface AlertsDependencies {
  readonly alerts: AlertStore;
  readonly freezer: AccountFreezer;
  /** The alerts topic, for AccountFrozen. */
  readonly publisher: EventPublisher;
  readonly notifier: OpsNotifier;
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export function createAlertsHandler(deps: AlertsDependencies): SqsBatchHandler {
  const ports: HandleAlertPorts = {
    alerts: deps.alerts,
    freezer: deps.freezer,
    publisher: deps.publisher,
    notifier: deps.notifier,
    now: deps.now ?? (() => new Date()),
    onStep: (step) => recordStep(deps, step),
  };
  return eventConsumer({
    queue: 'alerts',
    types: ['RiskAlertRaised'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (raised) => raised.data.transactionId,
    handle: async (raised) => {
      await handleRaisedAlert(ports, raised);
    },
  });
}

function recordStep(deps: AlertsDependencies, step: AlertStep): void {
  switch (step.kind) {
    case 'stored':
      if (step.created) deps.metrics.addMetric(`AlertsStored${step.alert.severity}`, MetricUnit.Count, 1);
      return;
    case 'freeze-attempted':
      if (step.result.kind !== 'recorded') return;
      deps.logger.warn('freeze on critical alert', { alertId: step.alert.alertId, accountId: step.alert.accountId, outcome: step.result.outcome });
      if (step.result.outcome === 'FROZEN') deps.metrics.addMetric('AccountsFrozen', MetricUnit.Count, 1);
      return;
    case 'notified':
      deps.metrics.addMetric('OperationsNotified', MetricUnit.Count, 1);
      return;
    case 'frozen-announced':
      return;
  }
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function alertsHandlerFromEnv(env: Environment): SqsBatchHandler {
  const { logger, metrics, clientOptions } = wireFromEnv(env, 'payments-alerts');
  // Only the SDK clients this handler uses: the others stay out of its bundle.
  const clients = { dynamodb: createDynamoDBClient(clientOptions), sns: createSnsClient(clientOptions), sqs: createSqsClient(clientOptions) };
  return createAlertsHandler({
    alerts: new DynamoAlertStore(clients.dynamodb, requireEnv(env, envVar.table('risk'))),
    freezer: new DynamoAccountFreezer(clients.dynamodb, { ledger: requireEnv(env, envVar.table('ledger')), risk: requireEnv(env, envVar.table('risk')) }),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('alerts'))),
    notifier: new SnsOpsNotifier(clients.sns, requireEnv(env, envVar.notificationTopic('operations'))),
    quarantine: new SqsQuarantine(clients.sqs, requireEnv(env, envVar.deadLetterQueue('alerts'))),
    logger,
    metrics,
  });
}

export const handler: SqsBatchHandler = lazyHandler(alertsHandlerFromEnv);
