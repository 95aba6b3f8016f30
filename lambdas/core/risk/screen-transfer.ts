// The screening use case: every decided transfer (TransactionPosted / TransactionRejected) is
// counted into its windows exactly once, the windows are read back, the rules run, and a hit worth
// at least LOW raises RiskAlertRaised, whose id derives from the transfer. The verdict is kept on
// the transfer's marker: a redelivery re-publishes it (the topic and the alerts handler absorb
// that) and never re-screens, whatever the windows say by then.
import type { EventPublisher } from '../events/ports.js';
import { riskAlertRaised, type DecidedTransferEvent } from '../events/risk-events.js';
import type { EventOf } from '../events/envelope.js';
import type { CurrencyCode } from '../money/currency.js';
import type { CounterTotals, RiskStore, ScreeningVerdict } from './ports.js';
import { screen, type ScreeningFacts } from './rules.js';
import { thresholdsFor, type RiskThresholds } from './thresholds.js';
import { channelSubject, counterIncrements, WINDOWS_READ_BY_OUTCOME, windowBucketStarts, type CounterFamily, type DecidedTransfer } from './windows.js';

export interface ScreenTransferPorts {
  readonly risk: RiskStore;
  /** The alerts topic, for RiskAlertRaised. */
  readonly publisher: EventPublisher;
  /** Per-currency overrides of the default thresholds. */
  readonly thresholds?: Partial<Record<CurrencyCode, RiskThresholds>>;
}

/** Why a decided transfer was left alone; see unscreenedReason. */
export type NotScreenedReason = 'back-office' | 'already-frozen' | 'no-thresholds';

export type ScreeningOutcome =
  | { readonly kind: 'not-screened'; readonly reason: NotScreenedReason }
  | { readonly kind: 'cleared' }
  | { readonly kind: 'alert-raised'; readonly alert: EventOf<'RiskAlertRaised'> };

export async function screenTransfer(ports: ScreenTransferPorts, event: DecidedTransferEvent): Promise<ScreeningOutcome> {
  const unscreened = unscreenedReason(event);
  if (unscreened !== undefined) return { kind: 'not-screened', reason: unscreened };
  const thresholds = thresholdsFor(event.data.currency, ports.thresholds);
  if (thresholds === undefined) return { kind: 'not-screened', reason: 'no-thresholds' };
  const alert = await screenDecided(event, thresholds, ports.risk);
  if (alert === undefined) return { kind: 'cleared' };
  await ports.publisher.publish(alert);
  return { kind: 'alert-raised', alert };
}

/**
 * Back-office deposits (ADMIN) debit the institution's own funding account: they are not
 * customer behaviour, and screening them would raise an alert for every large deposit. A debit
 * refused because the account is already frozen says nothing an analyst does not have already.
 */
export function unscreenedReason(event: DecidedTransferEvent): Exclude<NotScreenedReason, 'no-thresholds'> | undefined {
  if (event.data.channel === 'ADMIN') return 'back-office';
  return event.type === 'TransactionRejected' && event.data.rejectionReason === 'ACCOUNT_FROZEN' ? 'already-frozen' : undefined;
}

/** Counts the transfer (once), reads its windows and runs the rules; the alert to raise, if any. */
export async function screenDecided(event: DecidedTransferEvent, thresholds: RiskThresholds, risk: RiskStore): Promise<EventOf<'RiskAlertRaised'> | undefined> {
  const posted = event.type === 'TransactionPosted';
  const decidedAtIso = posted ? event.data.postedAt : event.data.rejectedAt;
  const decided = decidedTransferOf(event, decidedAtIso);
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
  const state = await readState(event, decided, thresholds, risk);
  const result = screen(factsOf(event, decided, state), thresholds);
  const verdict = await risk.recordVerdict(event.data.transactionId, {
    ...(result.severity !== undefined ? { severity: result.severity } : {}),
    totalWeight: result.totalWeight,
    rulesHit: result.hits.map((hit) => ({ ruleId: hit.ruleId, weight: hit.weight, evidence: { ...hit.evidence } })),
  });
  return alertFrom(event, decidedAtIso, verdict);
}

function decidedTransferOf(event: DecidedTransferEvent, decidedAtIso: string): DecidedTransfer {
  return {
    debtorAccountId: event.data.debtorAccountId,
    amountMinor: event.data.amountMinor,
    channel: event.data.channel,
    ...(event.data.initiatingInstitutionId !== undefined ? { initiatingInstitutionId: event.data.initiatingInstitutionId } : {}),
    outcome: event.type === 'TransactionPosted' ? 'POSTED' : 'REJECTED',
    decidedAtEpochSeconds: Math.floor(Date.parse(decidedAtIso) / 1_000),
  };
}

/** What screening read: each counter family's window total (0 where not read) and the payee marker. */
interface ReadState {
  readonly totals: Readonly<Record<CounterFamily, CounterTotals>>;
  readonly firstToCreditor: boolean;
}

/** The windows the rules read for this outcome (WINDOWS_READ_BY_OUTCOME) and (posted only) the payee marker. */
async function readState(event: DecidedTransferEvent, decided: DecidedTransfer, thresholds: RiskThresholds, risk: RiskStore): Promise<ReadState> {
  const debtor = event.data.debtorAccountId;
  const families = WINDOWS_READ_BY_OUTCOME[decided.outcome];
  const state = await risk.readScreeningState(
    families.map((family) => ({
      family,
      subject: family === 'rejections-channel' ? channelSubject(decided) : debtor,
      bucketStarts: windowBucketStarts(family, decided.decidedAtEpochSeconds, thresholds),
    })),
    event.type === 'TransactionPosted' ? { debtorAccountId: debtor, creditorAccountId: event.data.creditorAccountId, transferId: event.data.transactionId } : undefined,
  );
  if (state.windows.length !== families.length) throw new Error('screening state is missing a window');
  const none: CounterTotals = { count: 0, amountMinor: 0 };
  const totals: Record<CounterFamily, CounterTotals> = { 'debits-velocity': none, 'debits-amount': none, 'near-threshold': none, 'rejections-account': none, 'rejections-channel': none };
  for (const [index, family] of families.entries()) totals[family] = state.windows[index] ?? none;
  return { totals, firstToCreditor: state.firstToCreditor };
}

function factsOf(event: DecidedTransferEvent, decided: DecidedTransfer, state: ReadState): ScreeningFacts {
  const { totals } = state;
  return {
    transferId: event.data.transactionId,
    debtorAccountId: event.data.debtorAccountId,
    creditorAccountId: event.data.creditorAccountId,
    amountMinor: event.data.amountMinor,
    channel: event.data.channel,
    outcome: decided.outcome,
    ...(event.type === 'TransactionRejected' ? { rejectionReason: event.data.rejectionReason } : {}),
    windows: {
      debitsInVelocityWindow: totals['debits-velocity'].count,
      debitedMinorInAmountWindow: totals['debits-amount'].amountMinor,
      nearThresholdInStructuringWindow: totals['near-threshold'].count,
      rejectionsByAccount: totals['rejections-account'].count,
      rejectionsByChannel: totals['rejections-channel'].count,
    },
    firstToCreditor: state.firstToCreditor,
  };
}

/** The alert a verdict raises (none below LOW). */
function alertFrom(event: DecidedTransferEvent, decidedAtIso: string, verdict: ScreeningVerdict): EventOf<'RiskAlertRaised'> | undefined {
  const { severity } = verdict;
  return severity === undefined ? undefined : riskAlertRaised(event, decidedAtIso, { ...verdict, severity });
}
