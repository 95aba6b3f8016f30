// Sliding windows as bucketed counters: which counters one decided transfer adds to, and which
// buckets make up a window at a given moment. A window of W seconds is read as the
// BUCKETS_PER_WINDOW + 1 buckets of W / BUCKETS_PER_WINDOW seconds that cover it, so a count can
// include up to one bucket's worth of events older than W: the price of bounded reads, and on
// the side of raising an alert rather than missing one.
import type { TransferChannel } from '../ledger/transfer.js';
import { isNearReportingThreshold } from './rules.js';
import type { RiskThresholds } from './thresholds.js';

export const BUCKETS_PER_WINDOW = 6;

export const COUNTER_FAMILIES = ['debits-velocity', 'debits-amount', 'near-threshold', 'rejections-account', 'rejections-channel'] as const;
export type CounterFamily = (typeof COUNTER_FAMILIES)[number];

export interface CounterIncrement {
  readonly family: CounterFamily;
  /** The account or channel the counter is about. */
  readonly subject: string;
  readonly bucketStartEpochSeconds: number;
  readonly amountMinor: number;
  /** Counters outlive their window by one bucket, then TTL removes them. */
  readonly expiresAtEpochSeconds: number;
}

export interface DecidedTransfer {
  readonly debtorAccountId: string;
  readonly amountMinor: number;
  readonly channel: TransferChannel;
  /** The institution whose client initiated it (absent for the back office's deposits). */
  readonly initiatingInstitutionId?: string;
  readonly outcome: 'POSTED' | 'REJECTED';
  readonly decidedAtEpochSeconds: number;
}

export function windowSecondsOf(family: CounterFamily, thresholds: RiskThresholds): number {
  switch (family) {
    case 'debits-velocity':
      return thresholds.velocityCount.windowSeconds;
    case 'debits-amount':
      return thresholds.velocityAmount.windowSeconds;
    case 'near-threshold':
      return thresholds.structuring.windowSeconds;
    case 'rejections-account':
    case 'rejections-channel':
      return thresholds.repeatedRejections.windowSeconds;
  }
}

function bucketSecondsOf(family: CounterFamily, thresholds: RiskThresholds): number {
  return Math.max(1, Math.floor(windowSecondsOf(family, thresholds) / BUCKETS_PER_WINDOW));
}

function increment(family: CounterFamily, subject: string, transfer: DecidedTransfer, thresholds: RiskThresholds): CounterIncrement {
  const bucketSeconds = bucketSecondsOf(family, thresholds);
  const bucketStartEpochSeconds = Math.floor(transfer.decidedAtEpochSeconds / bucketSeconds) * bucketSeconds;
  return {
    family,
    subject,
    bucketStartEpochSeconds,
    amountMinor: transfer.amountMinor,
    expiresAtEpochSeconds: bucketStartEpochSeconds + windowSecondsOf(family, thresholds) + 2 * bucketSeconds,
  };
}

/**
 * A channel's rejections are counted per institution: one institution's clients failing in bulk
 * must not put alerts on another institution's customers.
 */
export function channelSubject(transfer: Pick<DecidedTransfer, 'channel' | 'initiatingInstitutionId'>): string {
  return `${transfer.initiatingInstitutionId ?? '-'}#${transfer.channel}`;
}

/** The counters a decided transfer adds one (and its amount) to. */
export function counterIncrements(transfer: DecidedTransfer, thresholds: RiskThresholds): CounterIncrement[] {
  if (transfer.outcome === 'REJECTED') {
    return [
      increment('rejections-account', transfer.debtorAccountId, transfer, thresholds),
      increment('rejections-channel', channelSubject(transfer), transfer, thresholds),
    ];
  }
  const increments = [
    increment('debits-velocity', transfer.debtorAccountId, transfer, thresholds),
    increment('debits-amount', transfer.debtorAccountId, transfer, thresholds),
  ];
  if (isNearReportingThreshold(transfer.amountMinor, thresholds)) {
    increments.push(increment('near-threshold', transfer.debtorAccountId, transfer, thresholds));
  }
  return increments;
}

/**
 * The windows screening reads for a transfer of each outcome: the ones some rule looks at for that
 * outcome (every rule on a window is gated on the outcome, see rules.ts). A posted transfer never
 * reads the rejection counters, so sharding the channel's (many reads per rejection) costs the
 * common case nothing; a window not read counts 0 in the facts.
 */
export const WINDOWS_READ_BY_OUTCOME: Readonly<Record<DecidedTransfer['outcome'], readonly CounterFamily[]>> = {
  POSTED: ['debits-velocity', 'debits-amount', 'near-threshold'],
  REJECTED: ['rejections-account', 'rejections-channel'],
};

/** Bucket starts (epoch seconds) whose counters make up the window ending at `nowEpochSeconds`. */
export function windowBucketStarts(family: CounterFamily, nowEpochSeconds: number, thresholds: RiskThresholds): number[] {
  const bucketSeconds = bucketSecondsOf(family, thresholds);
  const current = Math.floor(nowEpochSeconds / bucketSeconds) * bucketSeconds;
  return Array.from({ length: BUCKETS_PER_WINDOW + 1 }, (_, index) => current - index * bucketSeconds);
}
