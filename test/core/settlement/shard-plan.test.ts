// The pure rules of position shards: how many an expected rate needs, which one a posting uses
// (drawn evenly), how a cap is split over them, and how a shard short of headroom plans
// to borrow from its siblings without ever moving more than they have.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planBorrowing, splitEvenly, type PositionShard } from '../../../lambdas/adapters/dynamodb/position-shards.js';
import { pickShard, POSITION_SHARDS_MAX, shardCountFor } from '../../../lambdas/core/settlement/shard-plan.js';

function shard(index: number, headroomMinor: bigint): PositionShard {
  return {
    institutionId: 'bank-a',
    currency: 'EUR',
    shard: index,
    windowSequence: 1,
    capped: true,
    blocked: false,
    capShareMinor: headroomMinor,
    exposureMinor: 0n,
    headroomMinor,
    positions: new Map(),
    counts: new Map(),
    gross: new Map(),
  };
}

describe('shardCountFor', () => {
  it('plans one shard per 200 transfers per second, at least one and at most the maximum', () => {
    expect([1, 200, 201, 2_500, 5_000, 1_000_000].map(shardCountFor)).toEqual([1, 1, 2, 13, 25, POSITION_SHARDS_MAX]);
  });
});

describe('pickShard', () => {
  it('draws every shard in range, evenly, whatever the transfer id', () => {
    const counts = new Array<number>(8).fill(0);
    let state = 7;
    // A fixed sequence stands in for Math.random, so the test is repeatable.
    const random = () => ((state = (state * 48_271) % 2_147_483_647) - 1) / 2_147_483_646;
    for (let draw = 0; draw < 8_000; draw++) {
      const chosen = pickShard(8, random);
      expect(chosen).toBeGreaterThanOrEqual(0);
      expect(chosen).toBeLessThan(8);
      counts[chosen] = (counts[chosen] ?? 0) + 1;
    }
    // Each of 8 shards gets its eighth (1,000) within 15 %.
    for (const count of counts) expect(Math.abs(count - 1_000)).toBeLessThan(150);
    expect(pickShard(1, () => 0.99)).toBe(0);
    expect(pickShard(4, () => 0.999_999_999_999)).toBe(3);
  });
});

describe('splitEvenly', () => {
  it('splits any amount, negative too, into parts that sum to it exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.integer({ min: 1, max: POSITION_SHARDS_MAX }), (total, count) => {
        const parts = splitEvenly(total, count);
        expect(parts).toHaveLength(count);
        expect(parts.reduce((sum, part) => sum + part, 0n)).toBe(total);
      }),
    );
  });
});

describe('planBorrowing', () => {
  it('tops the shard up from the richest siblings, taking at least an even share of what is left', () => {
    const plan = planBorrowing([shard(0, 10n), shard(1, 400n), shard(2, 100n), shard(3, 0n)], 0, 60n);
    // Lacking 50; the even share of 510 over 4 shards is 127: take 127 from the richest.
    expect(plan).toEqual({ from: new Map([[1, 127n]]), totalMinor: 127n });
  });

  it('refuses when the siblings together cannot make up the difference', () => {
    expect(planBorrowing([shard(0, 10n), shard(1, 20n), shard(2, -50n)], 0, 31n)).toBeUndefined();
    expect(planBorrowing([shard(0, 10n), shard(1, 21n)], 0, 31n)).toEqual({ from: new Map([[1, 21n]]), totalMinor: 21n });
  });

  it('never takes more from a shard than its headroom, and always covers what is lacking when it can', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -1_000n, max: 10_000n }), { minLength: 2, maxLength: 8 }), fc.bigInt({ min: 1n, max: 20_000n }), (headrooms, needed) => {
        const shards = headrooms.map((headroom, index) => shard(index, headroom));
        const plan = planBorrowing(shards, 0, needed);
        const own = headrooms[0] ?? 0n;
        const othersPositive = headrooms.slice(1).reduce((sum, headroom) => sum + (headroom > 0n ? headroom : 0n), 0n);
        if (own >= needed || othersPositive < needed - own) {
          expect(plan).toBeUndefined();
          return;
        }
        expect(plan).toBeDefined();
        for (const [index, taken] of plan!.from) {
          expect(index).not.toBe(0);
          expect(taken).toBeGreaterThan(0n);
          expect(taken).toBeLessThanOrEqual(headrooms[index]!);
        }
        expect(plan!.totalMinor).toBe([...plan!.from.values()].reduce((sum, taken) => sum + taken, 0n));
        expect(own + plan!.totalMinor).toBeGreaterThanOrEqual(needed);
      }),
    );
  });
});
