// The ceiling arithmetic against hand-worked cases: an item a share of transfers write inside
// their transaction reaches 1,000 WCU/s at 1,000 / (share x 2 x KB) transfers/s; conservatively it
// also stops at 250 transactions/s (half of them conflicting at 500/s one at a time); a workload
// stops at its lowest key.
import { describe, expect, it } from 'vitest';
import { conflictLimitedTransactionsPerSecond, keyCeiling, rateAtLimit, workloadCeiling } from '../../lib/capacity/ceiling.js';
import { writeUnits } from '../../lib/capacity/sizing.js';

/** What a transactional write of `bytes` by `share` of the transfers puts on one key per transfer. */
function transactional(key: string, share: number, bytes: number) {
  return { key, wcuPerTransfer: share * writeUnits(bytes, true), transactionsPerTransfer: share, rcuPerTransfer: 0 };
}

describe('rateAtLimit', () => {
  it('is the limit over the per-transfer demand, and unbounded without demand', () => {
    expect(rateAtLimit(2, 1_000)).toBe(500);
    expect(rateAtLimit(0.25, 1_000)).toBe(4_000);
    expect(rateAtLimit(0, 1_000)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('keyCeiling', () => {
  it('the conflict limit is half of 500 transactions/s per item', () => {
    expect(conflictLimitedTransactionsPerSecond()).toBe(250);
    expect(conflictLimitedTransactionsPerSecond(400, 0.25)).toBe(100);
  });

  it('a window item (322 B) written by the half of transfers that are interbank: 1,000/s, conservatively 500/s', () => {
    const ceiling = keyCeiling(transactional('window', 0.5, 322));
    expect(ceiling.wcuPerTransfer).toBe(1); // 0.5 x 2 WCU
    expect(ceiling.capacity).toBe(1_000);
    expect(ceiling.conflicts).toBe(500); // 250 / 0.5
    expect(ceiling.conservative).toBe(500);
  });

  it("a hub's position, in half of the interbank half: 2,000/s, conservatively 1,000/s", () => {
    const ceiling = keyCeiling(transactional('position', 0.25, 115));
    expect(ceiling.capacity).toBe(2_000);
    expect(ceiling.conservative).toBe(1_000);
  });

  it('an item over 1 KB costs 2 WCU per started KB in a transaction: 1,500 B in every transfer stops at 250/s', () => {
    const ceiling = keyCeiling(transactional('big', 1, 1_500));
    expect(ceiling.wcuPerTransfer).toBe(4);
    expect(ceiling.capacity).toBe(250);
    expect(ceiling.conservative).toBe(250);
  });

  it('an item written outside transactions has no conflict limit', () => {
    const ceiling = keyCeiling({ key: 'counter', wcuPerTransfer: 1, transactionsPerTransfer: 0, rcuPerTransfer: 0 });
    expect(ceiling.capacity).toBe(1_000);
    expect(ceiling.conflicts).toBe(Number.POSITIVE_INFINITY);
    expect(ceiling.conservative).toBe(1_000);
  });

  it('reads are limited at 3,000 RCU/s per key', () => {
    expect(keyCeiling({ key: 'read', wcuPerTransfer: 0, transactionsPerTransfer: 0, rcuPerTransfer: 1.5 }).reads).toBe(2_000);
  });
});

describe('workloadCeiling', () => {
  it('stops at the lowest key, which may differ between the capacity and the conservative ceiling', () => {
    const keys = [
      keyCeiling({ key: 'heavy', wcuPerTransfer: 1.25, transactionsPerTransfer: 0, rcuPerTransfer: 0 }), // 800/s, never conflicts
      keyCeiling(transactional('shared', 0.5, 100)), // 1,000/s, conservatively 500/s
      keyCeiling(transactional('cold', 0.01, 100)),
    ];
    const ceiling = workloadCeiling(keys);
    expect(ceiling.capacity).toEqual({ rate: 800, key: 'heavy' });
    expect(ceiling.conservative).toEqual({ rate: 500, key: 'shared' });
  });

  it('is unbounded for no keys', () => {
    expect(workloadCeiling([]).capacity.rate).toBe(Number.POSITIVE_INFINITY);
  });
});
