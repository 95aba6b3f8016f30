// Alerts handler: consumes RiskAlertRaised from the alerts FIFO queue. Each alert is stored once.
// A CRITICAL one freezes its debtor account (atomically with recording the outcome on the alert,
// and only while the alert is OPEN), HIGH and above notify operations, and a freeze is announced
// as AccountFrozen. Each step is marked on the stored alert once done, so a redelivery repeats
// none of them. Freezing comes first (stopping the money matters most), then the notification
// (people must hear even if the event bus is down), then the event.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { envVar } from '../../lib/topology.js';
import { DynamoAlertStore } from '../adapters/dynamodb/alert-store.js';
import { DynamoAccountFreezer } from '../adapters/dynamodb/account-freezer.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../adapters/sns/ops-notifier.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf, type PaymentEvent } from '../core/events/envelope.js';
import type { EventPublisher } from '../core/events/ports.js';
import { alertActionsFor, type AccountFreezer, type AlertRecord, type AlertStore } from '../core/risk/alerts.js';
import { operationsNotificationFor, type OpsNotifier } from '../core/risk/notification.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { eventConsumer, type SqsBatchHandler } from '../shared/sqs-batch.js';
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

/**
 * How long a delivery may hold the right to notify: longer than a notification takes, shorter than
 * the queue's visibility timeout, so a crashed claimer's retried message finds the claim expired.
 */
export const NOTIFY_CLAIM_SECONDS = 60;

export function createAlertsHandler(deps: AlertsDependencies): SqsBatchHandler {
  const now = deps.now ?? (() => new Date());

  const freeze = async (alert: AlertRecord): Promise<AlertRecord> => {
    const result = await deps.freezer.freezeForAlert(alert, now().toISOString());
    if (result.kind === 'alert-resolved') return { ...alert, status: 'RESOLVED' };
    if (result.kind === 'recorded') {
      deps.logger.warn('freeze on critical alert', { alertId: alert.alertId, accountId: alert.accountId, outcome: result.outcome });
      if (result.outcome === 'FROZEN') deps.metrics.addMetric('AccountsFrozen', MetricUnit.Count, 1);
    }
    return { ...alert, freeze: { outcome: result.outcome, at: result.at } };
  };

  // Racing deliveries: one claims and sends. A crash after the send and before the mark sends
  // again once the claim expires (at least once: a lost page is worse than two).
  const notify = async (alert: AlertRecord): Promise<void> => {
    const at = now();
    if (!(await deps.alerts.claimNotification(alert.alertId, at.toISOString(), new Date(at.getTime() + NOTIFY_CLAIM_SECONDS * 1_000).toISOString()))) return;
    try {
      await deps.notifier.notify(operationsNotificationFor(alert));
    } catch (error) {
      await deps.alerts.releaseNotificationClaim(alert.alertId);
      throw error;
    }
    await deps.alerts.markNotified(alert.alertId, now().toISOString());
    deps.metrics.addMetric('OperationsNotified', MetricUnit.Count, 1);
  };

  return eventConsumer({
    queue: 'alerts',
    types: ['RiskAlertRaised'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (raised) => raised.data.transactionId,
    handle: async (raised) => {
      const stored = await deps.alerts.recordAlert(raised.data, now().toISOString());
      if (stored.created) deps.metrics.addMetric(`AlertsStored${stored.alert.severity}`, MetricUnit.Count, 1);
      let alert = stored.alert;
      const actions = alertActionsFor(alert.severity);
      if (actions.freezeAccount && alert.freeze === undefined && alert.status === 'OPEN') alert = await freeze(alert);
      // An alert an analyst already resolved needs nobody woken up.
      if (actions.notifyOperations && alert.notifiedAt === undefined && alert.status === 'OPEN') await notify(alert);
      if (alert.freeze?.outcome === 'FROZEN' && alert.frozenEventPublishedAt === undefined) {
        await deps.publisher.publish(accountFrozen(alert, raised, alert.freeze.at));
        await deps.alerts.markFrozenEventPublished(alert.alertId, now().toISOString());
      }
    },
  });
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
    freezer: new DynamoAccountFreezer(clients.dynamodb, { ledger: requireEnv(env, envVar.table('ledger')), risk: requireEnv(env, envVar.table('risk')) }),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('alerts'))),
    notifier: new SnsOpsNotifier(clients.sns, requireEnv(env, envVar.notificationTopic('operations'))),
    quarantine: new SqsQuarantine(clients.sqs, requireEnv(env, envVar.deadLetterQueue('alerts'))),
    logger,
    metrics,
  });
}

export const handler: SqsBatchHandler = lazyHandler(alertsHandlerFromEnv);
