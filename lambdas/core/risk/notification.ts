// The operations notification for a serious alert: a short subject and a plain-text body an
// on-call analyst can act on from an e-mail client, with everything needed to find the case.
import type { AlertRecord, FreezeOutcome } from './alerts.js';

/** SNS wants e-mail subjects of printable ASCII, "less than 100 characters". */
export const NOTIFICATION_SUBJECT_LENGTH_MAX = 99;

export interface OpsNotification {
  readonly alertId: string;
  readonly severity: AlertRecord['severity'];
  readonly subject: string;
  readonly message: string;
}

export interface OpsNotifier {
  notify(notification: OpsNotification): Promise<void>;
}

const FREEZE_NOTES: Readonly<Record<FreezeOutcome, string>> = {
  FROZEN: 'FROZEN by this alert: its debits are rejected until it is unfrozen',
  ALREADY_FROZEN: 'already frozen by an earlier alert',
  ACCOUNT_NOT_FOUND: 'not a ledger account (attempts against an unknown account)',
  NOT_FREEZABLE: 'not frozen: closed, or an institution funding account',
};

export function operationsNotificationFor(alert: AlertRecord): OpsNotification {
  const frozen = alert.freeze?.outcome === 'FROZEN' || alert.freeze?.outcome === 'ALREADY_FROZEN';
  const rules = alert.rulesHit.map((hit) => hit.ruleId).join(', ');
  const subject = `[${alert.severity}] payments risk alert on account ${alert.accountId}`
    .replace(/[^\x20-\x7E]/g, '?')
    .slice(0, NOTIFICATION_SUBJECT_LENGTH_MAX);
  const lines = [
    `${alert.severity} risk alert ${alert.alertId}`,
    '',
    `Account:      ${alert.accountId}${alert.freeze !== undefined ? `, ${FREEZE_NOTES[alert.freeze.outcome]}` : ''}`,
    `Transaction:  ${alert.transactionId} (${alert.amountMinor} minor units ${alert.currency}, channel ${alert.channel})`,
    `Raised at:    ${alert.raisedAt}`,
    `Total weight: ${alert.totalWeight}; rules hit: ${rules}`,
    '',
    ...alert.rulesHit.map((hit) => `- ${hit.ruleId} (weight ${hit.weight}): ${Object.entries(hit.evidence).map(([key, value]) => `${key}=${String(value)}`).join(', ')}`),
    '',
    `Review: GET /v1/alerts/${alert.alertId}; resolve: POST /v1/alerts/${alert.alertId}/resolve${frozen ? `; unfreeze: POST /v1/accounts/${alert.accountId}/unfreeze` : ''}`,
  ];
  return { alertId: alert.alertId, severity: alert.severity, subject, message: lines.join('\n') };
}
