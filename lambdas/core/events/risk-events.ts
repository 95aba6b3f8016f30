// Builds the risk events: RiskAlertRaised from a screened transfer's verdict, and AccountFrozen
// from an alert whose freeze took. Ids derive from the transfer and the alert, so a redelivery
// that builds the event again builds the same one, and the topic absorbs the repeat.
import type { AlertRecord } from '../risk/alerts.js';
import type { ScreeningVerdict } from '../risk/ports.js';
import type { Severity } from '../risk/severity.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf } from './envelope.js';

export type DecidedTransferEvent = EventOf<'TransactionPosted'> | EventOf<'TransactionRejected'>;

/** The alert a verdict raises on the debtor account, stamped with the transfer's decision time. */
export function riskAlertRaised(cause: DecidedTransferEvent, decidedAtIso: string, verdict: ScreeningVerdict & { readonly severity: Severity }): EventOf<'RiskAlertRaised'> {
  const alertId = eventIdFor.alert(cause.data.transactionId);
  return {
    id: alertId,
    type: 'RiskAlertRaised',
    version: ENVELOPE_VERSION,
    occurredAt: decidedAtIso,
    correlationId: cause.data.transactionId,
    causationId: cause.id,
    data: {
      alertId,
      transactionId: cause.data.transactionId,
      accountId: cause.data.debtorAccountId,
      severity: verdict.severity,
      totalWeight: verdict.totalWeight,
      rulesHit: verdict.rulesHit.map((hit) => ({ ...hit, evidence: { ...hit.evidence } })),
      amountMinor: cause.data.amountMinor,
      currency: cause.data.currency,
      channel: cause.data.channel,
      raisedAt: decidedAtIso,
    },
  };
}

export function accountFrozen(alert: AlertRecord, raised: EventOf<'RiskAlertRaised'>, frozenAt: string): EventOf<'AccountFrozen'> {
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
