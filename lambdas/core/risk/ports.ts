// The risk screening port: window counters, the per-transfer screening marker (which keeps the
// verdict, so a redelivery republishes it rather than re-screening) and first-payment markers per
// debtor/creditor pair. Counting a transfer into its windows happens at most once per transfer id.
import type { RuleHit } from './rules.js';
import type { Severity } from './severity.js';
import type { CounterFamily, CounterIncrement } from './windows.js';

export interface CounterTotals {
  readonly count: number;
  readonly amountMinor: number;
}

/**
 * What screening concluded about one transfer, kept on its marker: a redelivery republishes this
 * instead of re-running the rules against windows that have moved on since.
 */
export interface ScreeningVerdict {
  /** Undefined when the hits (if any) weigh less than the LOW floor: no alert. */
  readonly severity?: Severity;
  readonly totalWeight: number;
  readonly rulesHit: readonly RuleHit[];
}

export interface WindowRead {
  readonly family: CounterFamily;
  readonly subject: string;
  readonly bucketStarts: readonly number[];
}

export interface PayeeRead {
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly transferId: string;
}

export interface ScreeningState {
  /** One total per window asked for, in the order asked. */
  readonly windows: readonly CounterTotals[];
  readonly firstToCreditor: boolean;
}

export interface ScreeningRecord {
  readonly transferId: string;
  readonly increments: readonly CounterIncrement[];
  /** Present for posted transfers: remembers the first transfer from debtor to creditor. */
  readonly payeePair?: { readonly debtorAccountId: string; readonly creditorAccountId: string };
  readonly screenedAtEpochSeconds: number;
}

export interface RiskStore {
  /**
   * Counts the transfer into every increment and writes its marker, all or nothing;
   * 'already-counted' when the marker exists (a redelivery), in which case nothing changes.
   */
  recordScreening(record: ScreeningRecord): Promise<'counted' | 'already-counted'>;
  /**
   * Keeps the verdict on the transfer's marker unless one is there already; returns the verdict
   * that stands (a concurrent or earlier delivery's, if it got there first).
   */
  recordVerdict(transferId: string, verdict: ScreeningVerdict): Promise<ScreeningVerdict>;
  /** The verdict kept for a screened transfer; undefined if it was counted but never concluded. */
  storedVerdict(transferId: string): Promise<ScreeningVerdict | undefined>;
  /**
   * Each window's sum (in the order asked; missing buckets count 0) and, with `payee`, whether
   * that transfer is the first from its debtor to its creditor. Reads are consistent.
   */
  readScreeningState(windows: readonly WindowRead[], payee?: PayeeRead): Promise<ScreeningState>;
}
