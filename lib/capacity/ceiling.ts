// From per-transfer load on each partition key to the AWS ceiling in transfers per second, as pure
// functions. Two ceilings per key: the capacity one (the rate at which the key reaches DynamoDB's
// 1,000 write units per second per partition) and the conservative one (also capped where
// concurrent transactions on the key start conflicting too often: see assumptions.ts). A
// workload's ceiling is the lowest over its keys: the first key to saturate stops the whole flow.
import { CONFLICT_SHARE_MAX, ITEM_TRANSACTIONS_PER_SECOND, PARTITION_RCU_PER_SECOND, PARTITION_WCU_PER_SECOND } from './assumptions.js';

/** What one partition key takes per transfer of a workload, on average. */
export interface KeyDemand {
  readonly key: string;
  readonly wcuPerTransfer: number;
  /** TransactWriteItems (attempts) that include the key, per transfer. */
  readonly transactionsPerTransfer: number;
  readonly rcuPerTransfer: number;
}

export interface KeyCeiling extends KeyDemand {
  /** Transfers/s at which the key reaches PARTITION_WCU_PER_SECOND (Infinity when never written). */
  readonly capacity: number;
  /** Transfers/s at which the key's transactions conflict CONFLICT_SHARE_MAX of the time. */
  readonly conflicts: number;
  /** The lower of the two. */
  readonly conservative: number;
  /** Transfers/s at which the key reaches PARTITION_RCU_PER_SECOND (reads are limited separately). */
  readonly reads: number;
}

export interface WorkloadCeiling {
  /** Transfers/s, and the key that reaches its limit first. */
  readonly capacity: { readonly rate: number; readonly key: string };
  readonly conservative: { readonly rate: number; readonly key: string };
  readonly reads: { readonly rate: number; readonly key: string };
}

/** Transfers/s at which `perTransfer` units per transfer reach `limitPerSecond` on one key. */
export function rateAtLimit(perTransfer: number, limitPerSecond: number): number {
  return perTransfer > 0 ? limitPerSecond / perTransfer : Number.POSITIVE_INFINITY;
}

/**
 * Transactions per second on one item at which CONFLICT_SHARE_MAX of them find it held: with
 * Poisson arrivals the chance of finding it held is the rate over what it can take one at a time.
 */
export function conflictLimitedTransactionsPerSecond(itemTransactionsPerSecond = ITEM_TRANSACTIONS_PER_SECOND, conflictShareMax = CONFLICT_SHARE_MAX): number {
  return conflictShareMax * itemTransactionsPerSecond;
}

export function keyCeiling(demand: KeyDemand): KeyCeiling {
  const capacity = rateAtLimit(demand.wcuPerTransfer, PARTITION_WCU_PER_SECOND);
  const conflicts = rateAtLimit(demand.transactionsPerTransfer, conflictLimitedTransactionsPerSecond());
  return { ...demand, capacity, conflicts, conservative: Math.min(capacity, conflicts), reads: rateAtLimit(demand.rcuPerTransfer, PARTITION_RCU_PER_SECOND) };
}

/** The workload's ceilings: the lowest over its keys, each with the key that sets it. */
export function workloadCeiling(keys: readonly KeyCeiling[]): WorkloadCeiling {
  const lowest = (of: (key: KeyCeiling) => number) =>
    keys.reduce<{ rate: number; key: string }>((best, key) => (of(key) < best.rate ? { rate: of(key), key: key.key } : best), { rate: Number.POSITIVE_INFINITY, key: '(none)' });
  return { capacity: lowest((key) => key.capacity), conservative: lowest((key) => key.conservative), reads: lowest((key) => key.reads) };
}
