// Proves the bucketed sliding windows: which counters a decided transfer feeds, that a window's
// buckets cover it (and at most one bucket more), and that counters expire after their window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS as T } from '../../../lambdas/core/risk/thresholds.js';
import { BUCKETS_PER_WINDOW, COUNTER_FAMILIES, counterIncrements, windowBucketStarts, windowSecondsOf } from '../../../lambdas/core/risk/windows.js';

const decided = { debtorAccountId: 'acc-a', amountMinor: 5_000, channel: 'POS' as const, outcome: 'POSTED' as const, decidedAtEpochSeconds: 1_800_000_123 };

describe('counterIncrements', () => {
  it('counts a posted debit for velocity and amount, and near-threshold amounts for structuring', () => {
    const ordinary = counterIncrements(decided, T).map((increment) => increment.family);
    const nearThreshold = counterIncrements({ ...decided, amountMinor: T.structuring.reportingThresholdMinor - 1 }, T).map((increment) => increment.family);

    expect(ordinary).toEqual(['debits-velocity', 'debits-amount']);
    expect(nearThreshold).toEqual(['debits-velocity', 'debits-amount', 'near-threshold']);
  });

  it("counts a rejection against the account and the initiating institution's channel only", () => {
    const increments = counterIncrements({ ...decided, outcome: 'REJECTED', initiatingInstitutionId: 'bank-a' }, T);
    const otherBank = counterIncrements({ ...decided, outcome: 'REJECTED', initiatingInstitutionId: 'bank-b' }, T);

    expect(increments.map((increment) => [increment.family, increment.subject])).toEqual([
      ['rejections-account', 'acc-a'],
      ['rejections-channel', 'bank-a#POS'],
    ]);
    // One institution's failures never count towards another's channel.
    expect(otherBank[1]?.subject).toBe('bank-b#POS');
  });
});

describe('windowBucketStarts', () => {
  it('covers the whole window and at most one extra bucket, for any moment', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COUNTER_FAMILIES), fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), (family, now) => {
        const window = windowSecondsOf(family, T);
        const starts = windowBucketStarts(family, now, T);
        const bucket = Math.floor(window / BUCKETS_PER_WINDOW);
        const oldest = Math.min(...starts);

        expect(starts).toHaveLength(BUCKETS_PER_WINDOW + 1);
        expect(Math.max(...starts)).toBeLessThanOrEqual(now);
        expect(Math.max(...starts) + bucket).toBeGreaterThan(now);
        expect(oldest).toBeLessThanOrEqual(now - window);
        expect(oldest).toBeGreaterThan(now - window - bucket);
      }),
    );
  });

  it('reads back the bucket a transfer was counted in, until the window has passed', () => {
    const [increment] = counterIncrements(decided, T);
    const window = windowSecondsOf('debits-velocity', T);

    expect(windowBucketStarts('debits-velocity', decided.decidedAtEpochSeconds, T)).toContain(increment!.bucketStartEpochSeconds);
    expect(windowBucketStarts('debits-velocity', decided.decidedAtEpochSeconds + window - 1, T)).toContain(increment!.bucketStartEpochSeconds);
    expect(windowBucketStarts('debits-velocity', decided.decidedAtEpochSeconds + 2 * window, T)).not.toContain(increment!.bucketStartEpochSeconds);
    expect(increment!.expiresAtEpochSeconds).toBeGreaterThan(decided.decidedAtEpochSeconds + window);
  });
});
