// The alerting use case: a raised alert is stored once. A CRITICAL one freezes its debtor account
// (atomically with recording the outcome on the alert, and only while the alert is OPEN), HIGH and
// above notify operations, and a freeze is announced as AccountFrozen. Each step is marked on the
// stored alert once done, so a redelivery repeats none of them. Freezing comes first (stopping the
// money matters most), then the notification (people must hear even if the event bus is down),
// then the event.
import type { EventOf } from '../events/envelope.js';
import type { EventPublisher } from '../events/ports.js';
import { accountFrozen } from '../events/risk-events.js';
import { alertActionsFor, type AccountFreezer, type AlertRecord, type AlertStore, type FreezeResult } from './alerts.js';
import { operationsNotificationFor, type OpsNotifier } from './notification.js';

/**
 * How long a delivery may hold the right to notify: longer than a notification takes, shorter than
 * the queue's visibility timeout, so a crashed claimer's retried message finds the claim expired.
 */
export const NOTIFY_CLAIM_SECONDS = 60;

export interface HandleAlertPorts {
  readonly alerts: Pick<AlertStore, 'recordAlert' | 'claimNotification' | 'releaseNotificationClaim' | 'markNotified' | 'markFrozenEventPublished'>;
  readonly freezer: AccountFreezer;
  /** The alerts topic, for AccountFrozen. */
  readonly publisher: EventPublisher;
  readonly notifier: OpsNotifier;
  readonly now: () => Date;
  /**
   * Told of each step the moment it is done. A later step may still fail (the event bus may be
   * down after the account froze), and a retry skips the steps already marked: what a step did
   * is reported here or never.
   */
  readonly onStep?: (step: AlertStep) => void;
}

/** What one delivery did, step by step. */
export type AlertStep =
  /** `created`: this delivery stored it (a redelivery finds it stored). */
  | { readonly kind: 'stored'; readonly alert: AlertRecord; readonly created: boolean }
  | { readonly kind: 'freeze-attempted'; readonly alert: AlertRecord; readonly result: FreezeResult }
  | { readonly kind: 'notified'; readonly alert: AlertRecord }
  | { readonly kind: 'frozen-announced'; readonly alert: AlertRecord };

export async function handleRaisedAlert(ports: HandleAlertPorts, raised: EventOf<'RiskAlertRaised'>): Promise<readonly AlertStep[]> {
  const steps: AlertStep[] = [];
  const done = (step: AlertStep): void => {
    steps.push(step);
    ports.onStep?.(step);
  };
  const stored = await ports.alerts.recordAlert(raised.data, ports.now().toISOString());
  done({ kind: 'stored', alert: stored.alert, created: stored.created });
  let alert = stored.alert;
  const actions = alertActionsFor(alert.severity);
  if (actions.freezeAccount && alert.freeze === undefined && alert.status === 'OPEN') alert = await freeze(ports, alert, done);
  // An alert an analyst already resolved needs nobody woken up.
  if (actions.notifyOperations && alert.notifiedAt === undefined && alert.status === 'OPEN') await notify(ports, alert, done);
  if (alert.freeze?.outcome === 'FROZEN' && alert.frozenEventPublishedAt === undefined) {
    await ports.publisher.publish(accountFrozen(alert, raised, alert.freeze.at));
    await ports.alerts.markFrozenEventPublished(alert.alertId, ports.now().toISOString());
    done({ kind: 'frozen-announced', alert });
  }
  return steps;
}

/** The alert as it stands after the freeze: resolved meanwhile, or with the freeze's outcome. */
async function freeze(ports: HandleAlertPorts, alert: AlertRecord, done: (step: AlertStep) => void): Promise<AlertRecord> {
  const result = await ports.freezer.freezeForAlert(alert, ports.now().toISOString());
  done({ kind: 'freeze-attempted', alert, result });
  if (result.kind === 'alert-resolved') return { ...alert, status: 'RESOLVED' };
  return { ...alert, freeze: { outcome: result.outcome, at: result.at } };
}

// Racing deliveries: one claims and sends. A crash after the send and before the mark sends
// again once the claim expires (at least once: a lost page is worse than two).
async function notify(ports: HandleAlertPorts, alert: AlertRecord, done: (step: AlertStep) => void): Promise<void> {
  const at = ports.now();
  const leaseUntil = new Date(at.getTime() + NOTIFY_CLAIM_SECONDS * 1_000);
  if (!(await ports.alerts.claimNotification(alert.alertId, at.toISOString(), leaseUntil.toISOString()))) return;
  try {
    await ports.notifier.notify(operationsNotificationFor(alert));
  } catch (error) {
    await ports.alerts.releaseNotificationClaim(alert.alertId);
    throw error;
  }
  await ports.alerts.markNotified(alert.alertId, ports.now().toISOString());
  done({ kind: 'notified', alert });
}
