// Proves the simulator's nearest-rank percentile: exact ranks on small lists, bounds at the ends,
// and monotonic in the fraction for any list.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentile } from '../../lib/cli/percentiles.js';

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const sorted = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.95)).toBe(100);
    expect(percentile(sorted, 0.1)).toBe(10);
    expect(percentile([], 0.99)).toBe(0);
  });

  it('is monotonic in the fraction and stays within the list', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (values, a, b) => {
        const sorted = [...values].sort((x, y) => x - y);
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(percentile(sorted, low)).toBeLessThanOrEqual(percentile(sorted, high));
        expect(sorted).toContain(percentile(sorted, high));
      }),
    );
  });
});
