// Alerts handler: consumes RiskAlertRaised from the alerts FIFO queue. Each alert is stored once;
// a CRITICAL one freezes its debtor account (conditional, attributed to the alert) and publishes
// AccountFrozen; HIGH and above notify operations. Each action is marked on the stored alert
// once done, so a redelivery finds the marks and repeats nothing. Freezing comes before notifying:
// stopping the money matters more than the e-mail, and an SNS outage must not delay it.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { ZodError } from 'zod';
import { envVar } from '../../lib/topology.js';
import { DynamoAlertStore } from '../adapters/dynamodb/alert-store.js';
import { CorruptItemError } from '../adapters/dynamodb/ledger-items.js';
import { DynamoLedgerStore } from '../adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../adapters/sns/ops-notifier.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf, type PaymentEvent } from '../core/events/envelope.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { LedgerStore, StatusChange } from '../core/ledger/ports.js';
import { alertActionsFor, type AlertRecord, type AlertStore, type FreezeOutcome } from '../core/risk/alerts.js';
import { operationsNotificationFor, type OpsNotifier } from '../core/risk/notification.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { fifoBatchHandler, parseEventRecord, type SqsBatchHandler } from '../shared/sqs-batch.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';

export interface AlertsDependencies {
  readonly alerts: AlertStore;
  readonly ledger: Pick<LedgerStore, 'freezeAccount'>;
  /** The alerts topic, for AccountFrozen. */
  readonly publisher: EventPublisher;
  readonly notifier: OpsNotifier;
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

const FREEZE_OUTCOME_OF: Readonly<Record<StatusChange, FreezeOutcome>> = {
  changed: 'FROZEN',
  unchanged: 'ALREADY_FROZEN',
  'not-found': 'ACCOUNT_NOT_FOUND',
  conflict: 'NOT_FREEZABLE',
};

export function createAlertsHandler(deps: AlertsDependencies): SqsBatchHandler {
  const now = deps.now ?? (() => new Date());

  const freeze = async (alert: AlertRecord, raised: EventOf<'RiskAlertRaised'>): Promise<AlertRecord> => {
    const frozenAt = now().toISOString();
    const outcome = FREEZE_OUTCOME_OF[await deps.ledger.freezeAccount(alert.accountId, alert.alertId)];
    if (outcome === 'FROZEN') {
      // Published before the outcome is marked: a crash in between re-runs the freeze, which the
      // ledger reports as this alert's own change, and the publish repeats under the same id.
      await deps.publisher.publish(accountFrozen(alert, raised, frozenAt));
      deps.metrics.addMetric('AccountsFrozen', MetricUnit.Count, 1);
    }
    await deps.alerts.recordFreeze(alert.alertId, outcome, frozenAt);
    deps.logger.warn('freeze on critical alert', { alertId: alert.alertId, accountId: alert.accountId, outcome });
    return { ...alert, freeze: { outcome, at: frozenAt } };
  };

  const processRecord = async (record: SQSRecord): Promise<void> => {
    const raised = parseEventRecord(record, ['RiskAlertRaised'], 'alerts');
    if (typeof raised === 'string') {
      deps.logger.error('quarantining a malformed alert message', { messageId: record.messageId, reason: raised });
      await deps.quarantine.quarantine(record, raised);
      return;
    }
    deps.logger.setCorrelationId(raised.data.transactionId);
    try {
      const stored = await deps.alerts.recordAlert(raised.data, now().toISOString());
      if (stored.created) deps.metrics.addMetric(`AlertsStored${stored.alert.severity}`, MetricUnit.Count, 1);
      let alert = stored.alert;
      const actions = alertActionsFor(alert.severity);
      if (actions.freezeAccount && alert.freeze === undefined) alert = await freeze(alert, raised);
      if (actions.notifyOperations && alert.notifiedAt === undefined) {
        await deps.notifier.notify(operationsNotificationFor(alert));
        await deps.alerts.markNotified(alert.alertId, now().toISOString());
        deps.metrics.addMetric('OperationsNotified', MetricUnit.Count, 1);
      }
    } catch (error) {
      if (error instanceof CorruptItemError || error instanceof ZodError) {
        await deps.quarantine.quarantine(record, `${error.name}: ${error.message}`);
        return;
      }
      throw error;
    }
  };
  return fifoBatchHandler(processRecord, deps.metrics);
}

function accountFrozen(alert: AlertRecord, raised: EventOf<'RiskAlertRaised'>, frozenAt: string): PaymentEvent {
  return {
    id: eventIdFor.frozen(alert.alertId),
    type: 'AccountFrozen',
    version: ENVELOPE_VERSION,
    occurredAt: frozenAt,
    correlationId: raised.correlationId,
    causationId: raised.id,
    data: { accountId: alert.accountId, alertId: alert.alertId, transactionId: alert.transactionId, frozenAt },
  };
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function alertsHandlerFromEnv(env: Environment): SqsBatchHandler {
  const { logger, metrics, clients } = wireFromEnv(env, 'payments-alerts');
  return createAlertsHandler({
    alerts: new DynamoAlertStore(clients.dynamodb, requireEnv(env, envVar.table('risk'))),
    ledger: new DynamoLedgerStore({ client: clients.dynamodb, tableName: requireEnv(env, envVar.table('ledger')) }),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('alerts'))),
    notifier: new SnsOpsNotifier(clients.sns, requireEnv(env, envVar.notificationTopic('operations'))),
    quarantine: new SqsQuarantine(clients.sqs, requireEnv(env, envVar.deadLetterQueue('alerts'))),
    logger,
    metrics,
  });
}

export const handler: SqsBatchHandler = lazyHandler(alertsHandlerFromEnv);
