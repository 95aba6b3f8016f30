// The risk rules, as data: each has an id, a weight and a check over the screening facts of one
// decided transfer. Adding a rule is adding an entry here. screen() runs them all and combines
// the hits' weights into a severity.
import type { RejectionReason, TransferChannel } from '../ledger/transfer.js';
import { severityOf, type Severity } from './severity.js';
import type { RiskThresholds } from './thresholds.js';

export const RULE_IDS = [
  'LARGE_AMOUNT',
  'VELOCITY_COUNT',
  'VELOCITY_AMOUNT',
  'STRUCTURING',
  'REPEATED_REJECTIONS',
  'NEW_PAYEE_LARGE_AMOUNT',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** What screening knows about one decided transfer and its debtor's recent history. */
export interface ScreeningFacts {
  readonly transferId: string;
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amountMinor: number;
  readonly channel: TransferChannel;
  readonly outcome: 'POSTED' | 'REJECTED';
  readonly rejectionReason?: RejectionReason;
  /** Window aggregates, this transfer included. */
  readonly windows: {
    readonly debitsInVelocityWindow: number;
    readonly debitedMinorInAmountWindow: number;
    readonly nearThresholdInStructuringWindow: number;
    readonly rejectionsByAccount: number;
    readonly rejectionsByChannel: number;
  };
  /** No transfer from this debtor to this creditor had posted before this one. */
  readonly firstToCreditor: boolean;
}

/** Why a rule fired, in numbers an analyst can check. */
export type Evidence = Readonly<Record<string, number | string | boolean>>;

export interface RiskRule {
  readonly id: RuleId;
  readonly weight: number;
  readonly check: (facts: ScreeningFacts, thresholds: RiskThresholds) => Evidence | undefined;
}

const posted = (facts: ScreeningFacts): boolean => facts.outcome === 'POSTED';

/** Is this amount just under the reporting threshold (within the margin)? */
export function isNearReportingThreshold(amountMinor: number, thresholds: RiskThresholds): boolean {
  const { reportingThresholdMinor, marginMinor } = thresholds.structuring;
  return amountMinor < reportingThresholdMinor && amountMinor >= reportingThresholdMinor - marginMinor;
}

export const RISK_RULES: readonly RiskRule[] = [
  {
    id: 'LARGE_AMOUNT',
    weight: 30,
    check: (facts, t) => {
      const threshold = t.largeAmountMinor[facts.channel];
      return posted(facts) && facts.amountMinor >= threshold ? { amountMinor: facts.amountMinor, thresholdMinor: threshold, channel: facts.channel } : undefined;
    },
  },
  {
    id: 'VELOCITY_COUNT',
    weight: 40,
    check: (facts, t) =>
      posted(facts) && facts.windows.debitsInVelocityWindow >= t.velocityCount.debitsMin
        ? { debits: facts.windows.debitsInVelocityWindow, debitsMin: t.velocityCount.debitsMin, windowSeconds: t.velocityCount.windowSeconds }
        : undefined,
  },
  {
    id: 'VELOCITY_AMOUNT',
    weight: 40,
    check: (facts, t) =>
      posted(facts) && facts.windows.debitedMinorInAmountWindow >= t.velocityAmount.amountMinor
        ? { debitedMinor: facts.windows.debitedMinorInAmountWindow, thresholdMinor: t.velocityAmount.amountMinor, windowSeconds: t.velocityAmount.windowSeconds }
        : undefined,
  },
  {
    id: 'STRUCTURING',
    weight: 60,
    check: (facts, t) =>
      posted(facts) && isNearReportingThreshold(facts.amountMinor, t) && facts.windows.nearThresholdInStructuringWindow >= t.structuring.transfersMin
        ? {
            transfersJustUnder: facts.windows.nearThresholdInStructuringWindow,
            transfersMin: t.structuring.transfersMin,
            reportingThresholdMinor: t.structuring.reportingThresholdMinor,
            windowSeconds: t.structuring.windowSeconds,
          }
        : undefined,
  },
  {
    id: 'REPEATED_REJECTIONS',
    weight: 60,
    check: (facts, t) => {
      if (facts.outcome !== 'REJECTED') return undefined;
      const { perAccountMin, perChannelMin, windowSeconds } = t.repeatedRejections;
      const byAccount = facts.windows.rejectionsByAccount >= perAccountMin;
      const byChannel = facts.windows.rejectionsByChannel >= perChannelMin;
      return byAccount || byChannel
        ? { rejectionsByAccount: facts.windows.rejectionsByAccount, rejectionsByChannel: facts.windows.rejectionsByChannel, perAccountMin, perChannelMin, windowSeconds }
        : undefined;
    },
  },
  {
    id: 'NEW_PAYEE_LARGE_AMOUNT',
    weight: 30,
    check: (facts, t) =>
      posted(facts) && facts.firstToCreditor && facts.amountMinor >= t.newPayeeLargeAmountMinor
        ? { amountMinor: facts.amountMinor, thresholdMinor: t.newPayeeLargeAmountMinor, creditorAccountId: facts.creditorAccountId }
        : undefined,
  },
];

export interface RuleHit {
  readonly ruleId: RuleId;
  readonly weight: number;
  readonly evidence: Evidence;
}

export interface ScreeningResult {
  readonly hits: readonly RuleHit[];
  readonly totalWeight: number;
  /** Undefined when the hits (if any) weigh less than the LOW floor. */
  readonly severity?: Severity;
}

export function screen(facts: ScreeningFacts, thresholds: RiskThresholds, rules: readonly RiskRule[] = RISK_RULES): ScreeningResult {
  const hits: RuleHit[] = [];
  for (const rule of rules) {
    const evidence = rule.check(facts, thresholds);
    if (evidence !== undefined) hits.push({ ruleId: rule.id, weight: rule.weight, evidence });
  }
  const totalWeight = hits.reduce((sum, hit) => sum + hit.weight, 0);
  const severity = severityOf(totalWeight);
  return { hits, totalWeight, ...(severity !== undefined ? { severity } : {}) };
}
