// Proves the alerting use case reports each step the moment it is done, so what a delivery did is
// logged and counted even when a later step fails and the retry skips the steps already marked:
// a CRITICAL alert's freeze and notification are reported before the AccountFrozen publish fails.
import { describe, expect, it } from 'vitest';
import { eventIdFor, ENVELOPE_VERSION, type EventOf } from '../../../lambdas/core/events/envelope.js';
import type { AlertRecord } from '../../../lambdas/core/risk/alerts.js';
import { handleRaisedAlert, NOTIFY_CLAIM_SECONDS, type AlertStep, type HandleAlertPorts } from '../../../lambdas/core/risk/handle-alert.js';
import type { OpsNotification } from '../../../lambdas/core/risk/notification.js';

const NOW = new Date('2026-11-30T10:00:00.000Z');
const transactionId = '0a1b2c3d-4e5f-8a1b-9c2d-3e4f5a6b7c8d';

function raised(severity: 'HIGH' | 'CRITICAL'): EventOf<'RiskAlertRaised'> {
  const alertId = eventIdFor.alert(transactionId);
  return {
    id: alertId,
    type: 'RiskAlertRaised',
    version: ENVELOPE_VERSION,
    occurredAt: NOW.toISOString(),
    correlationId: transactionId,
    causationId: `${transactionId}.posted`,
    data: {
      alertId,
      transactionId,
      accountId: 'acc-debtor',
      severity,
      totalWeight: 100,
      rulesHit: [{ ruleId: 'VELOCITY_AMOUNT', weight: 100, evidence: { debitedMinor: 2_500_000 } }],
      amountMinor: 900_000,
      currency: 'EUR',
      channel: 'WEB',
      raisedAt: NOW.toISOString(),
    },
  };
}

/** An alert store in a variable, a freezer that always freezes, and a publisher that may fail. */
function world(publishFails: boolean) {
  let stored: AlertRecord | undefined;
  const claims: [string, string][] = [];
  const notifications: OpsNotification[] = [];
  const steps: string[] = [];
  const ports: HandleAlertPorts = {
    alerts: {
      recordAlert: (alert, storedAt) => {
        const created = stored === undefined;
        stored ??= { ...alert, status: 'OPEN', storedAt };
        return Promise.resolve({ created, alert: stored });
      },
      claimNotification: (_id, now, leaseUntil) => Promise.resolve(claims.push([now, leaseUntil]) > 0),
      releaseNotificationClaim: () => Promise.resolve(),
      markNotified: () => Promise.resolve(),
      markFrozenEventPublished: () => Promise.resolve(),
    },
    freezer: { freezeForAlert: (_alert, at) => Promise.resolve({ kind: 'recorded', outcome: 'FROZEN', at }) },
    publisher: { publish: () => (publishFails ? Promise.reject(new Error('injected: event bus down')) : Promise.resolve()) },
    notifier: { notify: (notification) => Promise.resolve(void notifications.push(notification)) },
    now: () => NOW,
    onStep: (step: AlertStep) => void steps.push(step.kind),
  };
  return { ports, claims, notifications, steps };
}

describe('handleRaisedAlert', () => {
  it('stores, freezes, notifies and announces a CRITICAL alert, reporting each step in order', async () => {
    const { ports, claims, notifications, steps } = world(false);

    const result = await handleRaisedAlert(ports, raised('CRITICAL'));

    expect(steps).toEqual(['stored', 'freeze-attempted', 'notified', 'frozen-announced']);
    expect(result.map((step) => step.kind)).toEqual(steps);
    expect(claims).toEqual([[NOW.toISOString(), new Date(NOW.getTime() + NOTIFY_CLAIM_SECONDS * 1_000).toISOString()]]);
    expect(notifications[0]?.message).toContain('FROZEN by this alert');
  });

  it('has reported the freeze and the notification when the AccountFrozen publish fails', async () => {
    const { ports, steps } = world(true);

    const handling = handleRaisedAlert(ports, raised('CRITICAL'));

    await expect(handling).rejects.toThrow(/event bus down/);
    expect(steps).toEqual(['stored', 'freeze-attempted', 'notified']);
  });

  it('notifies about a HIGH alert without freezing', async () => {
    const { ports, steps } = world(false);

    await handleRaisedAlert(ports, raised('HIGH'));

    expect(steps).toEqual(['stored', 'notified']);
  });
});
