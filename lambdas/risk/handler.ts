// Risk handler: screens every decided transfer (TransactionPosted / TransactionRejected from the
// risk-screening FIFO queue) against the risk rules. The transfer is counted into its windows
// exactly once (DynamoRiskStore), the windows are read back, the rules run, and a hit worth at
// least LOW raises RiskAlertRaised, whose id derives from the transfer. The verdict is kept on the
// transfer's marker: a redelivery re-publishes it (the topic and the alerts handler absorb that)
// and never re-screens.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoRiskStore, type ScreeningVerdict } from '../adapters/dynamodb/risk-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import { eventIdFor, ENVELOPE_VERSION, type EventOf, type PaymentEvent } from '../core/events/envelope.js';
import type { EventPublisher } from '../core/events/ports.js';
import { screen, type ScreeningFacts } from '../core/risk/rules.js';
import { thresholdsFor, type RiskThresholds } from '../core/risk/thresholds.js';
import { channelSubject, counterIncrements, windowBucketStarts, type CounterFamily, type DecidedTransfer } from '../core/risk/windows.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { envVar } from '../../lib/topology.js';
import { eventConsumer, type SqsBatchHandler } from '../shared/sqs-batch.js';

export interface RiskDependencies {
  readonly risk: DynamoRiskStore;
  readonly publisher: EventPublisher;
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Per-currency overrides of the default thresholds. */
  readonly thresholds?: Parameters<typeof thresholdsFor>[1];
}

type Decided = EventOf<'TransactionPosted'> | EventOf<'TransactionRejected'>;

export function createRiskHandler(deps: RiskDependencies): SqsBatchHandler {
  return eventConsumer({
    queue: 'screening',
    types: ['TransactionPosted', 'TransactionRejected'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (event) => event.data.transactionId,
    handle: async (event) => {
      if (!isScreened(event)) return;
      const thresholds = thresholdsFor(event.data.currency, deps.thresholds);
      if (thresholds === undefined) return; // no thresholds configured for this currency: not screened
      const alert = await screenDecided(event, thresholds, deps.risk);
      if (alert === undefined) return;
      await deps.publisher.publish(alert);
      deps.metrics.addMetric('RiskAlertsRaised', MetricUnit.Count, 1);
    },
  });
}

/**
 * Back-office deposits (ADMIN) debit the institution's own funding account: they are not
 * customer behaviour, and screening them would raise an alert for every large deposit. A debit
 * refused because the account is already frozen says nothing an analyst does not have already.
 */
function isScreened(event: Decided): boolean {
  if (event.data.channel === 'ADMIN') return false;
  return !(event.type === 'TransactionRejected' && event.data.rejectionReason === 'ACCOUNT_FROZEN');
}

/** Counts the transfer (once), reads its windows and runs the rules; the alert to raise, if any. */
export async function screenDecided(event: Decided, thresholds: RiskThresholds, risk: DynamoRiskStore): Promise<PaymentEvent | undefined> {
  const posted = event.type === 'TransactionPosted';
  const decidedAtIso = posted ? event.data.postedAt : event.data.rejectedAt;
  const decided: DecidedTransfer = {
    debtorAccountId: event.data.debtorAccountId,
    amountMinor: event.data.amountMinor,
    channel: event.data.channel,
    ...(event.data.initiatingInstitutionId !== undefined ? { initiatingInstitutionId: event.data.initiatingInstitutionId } : {}),
    outcome: posted ? 'POSTED' : 'REJECTED',
    decidedAtEpochSeconds: Math.floor(Date.parse(decidedAtIso) / 1_000),
  };
  const counted = await risk.recordScreening({
    transferId: event.data.transactionId,
    increments: counterIncrements(decided, thresholds),
    ...(posted ? { payeePair: { debtorAccountId: event.data.debtorAccountId, creditorAccountId: event.data.creditorAccountId } } : {}),
    screenedAtEpochSeconds: decided.decidedAtEpochSeconds,
  });
  if (counted === 'already-counted') {
    // A redelivery: the verdict reached the first time stands, whatever the windows say now.
    const stored = await risk.storedVerdict(event.data.transactionId);
    if (stored !== undefined) return alertFrom(event, decidedAtIso, stored);
    // Counted, but the first delivery stopped before concluding: conclude now (once, below).
  }
  const debtor = event.data.debtorAccountId;
  const window = (family: CounterFamily, subject: string) => ({ family, subject, bucketStarts: windowBucketStarts(family, decided.decidedAtEpochSeconds, thresholds) });
  const state = await risk.readScreeningState(
    [
      window('debits-velocity', debtor),
      window('debits-amount', debtor),
      window('near-threshold', debtor),
      window('rejections-account', debtor),
      window('rejections-channel', channelSubject(decided)),
    ],
    posted ? { debtorAccountId: debtor, creditorAccountId: event.data.creditorAccountId, transferId: event.data.transactionId } : undefined,
  );
  const [velocity, amount, nearThreshold, rejectionsByAccount, rejectionsByChannel] = state.windows;
  if (velocity === undefined || amount === undefined || nearThreshold === undefined || rejectionsByAccount === undefined || rejectionsByChannel === undefined) {
    throw new Error('screening state is missing a window');
  }
  const facts: ScreeningFacts = {
    transferId: event.data.transactionId,
    debtorAccountId: debtor,
    creditorAccountId: event.data.creditorAccountId,
    amountMinor: event.data.amountMinor,
    channel: event.data.channel,
    outcome: decided.outcome,
    ...(event.type === 'TransactionRejected' ? { rejectionReason: event.data.rejectionReason } : {}),
    windows: {
      debitsInVelocityWindow: velocity.count,
      debitedMinorInAmountWindow: amount.amountMinor,
      nearThresholdInStructuringWindow: nearThreshold.count,
      rejectionsByAccount: rejectionsByAccount.count,
      rejectionsByChannel: rejectionsByChannel.count,
    },
    firstToCreditor: state.firstToCreditor,
  };
  const result = screen(facts, thresholds);
  const verdict = await risk.recordVerdict(event.data.transactionId, {
    ...(result.severity !== undefined ? { severity: result.severity } : {}),
    totalWeight: result.totalWeight,
    rulesHit: result.hits.map((hit) => ({ ruleId: hit.ruleId, weight: hit.weight, evidence: { ...hit.evidence } })),
  });
  return alertFrom(event, decidedAtIso, verdict);
}

/** The alert a verdict raises (none below LOW); its id derives from the transfer. */
function alertFrom(event: Decided, decidedAtIso: string, verdict: ScreeningVerdict): PaymentEvent | undefined {
  if (verdict.severity === undefined) return undefined;
  const alertId = eventIdFor.alert(event.data.transactionId);
  return {
    id: alertId,
    type: 'RiskAlertRaised',
    version: ENVELOPE_VERSION,
    occurredAt: decidedAtIso,
    correlationId: event.data.transactionId,
    causationId: event.id,
    data: {
      alertId,
      transactionId: event.data.transactionId,
      accountId: event.data.debtorAccountId,
      severity: verdict.severity,
      totalWeight: verdict.totalWeight,
      rulesHit: verdict.rulesHit.map((hit) => ({ ...hit, evidence: { ...hit.evidence } })),
      amountMinor: event.data.amountMinor,
      currency: event.data.currency,
      channel: event.data.channel,
      raisedAt: decidedAtIso,
    },
  };
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function riskHandlerFromEnv(env: Environment): SqsBatchHandler {
  const { logger, metrics, clients } = wireFromEnv(env, 'payments-risk');
  return createRiskHandler({
    risk: new DynamoRiskStore(clients.dynamodb, requireEnv(env, envVar.table('risk'))),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('alerts'))),
    quarantine: new SqsQuarantine(clients.sqs, requireEnv(env, envVar.deadLetterQueue('screening'))),
    logger,
    metrics,
  });
}

export const handler: SqsBatchHandler = lazyHandler(riskHandlerFromEnv);
