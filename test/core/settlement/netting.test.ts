// Proves multilateral netting: for random sets of interbank obligations, net positions sum to
// zero and equal the sum of bilateral obligations; the instructions pay exactly the net debits
// and receive exactly the net credits; unbalanced positions are refused; the cap ceiling.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  netPositions,
  positionCeilingBefore,
  settlementInstructions,
  sumOfPositions,
  UnbalancedPositionsError,
  type Obligation,
} from '../../../lambdas/core/settlement/netting.js';
import { parseWindowId, windowIdFor } from '../../../lambdas/core/settlement/window.js';

const institutions = ['bank-a', 'bank-b', 'bank-c', 'bank-d', 'bank-e'];
const obligation = fc
  .tuple(fc.constantFrom(...institutions), fc.constantFrom(...institutions), fc.bigInt({ min: 1n, max: 10n ** 15n }))
  .filter(([payer, payee]) => payer !== payee)
  .map(([payerInstitutionId, payeeInstitutionId, amountMinor]): Obligation => ({ payerInstitutionId, payeeInstitutionId, amountMinor }));

describe('netPositions', () => {
  it('sums to zero and equals, per institution, what it owes bilaterally minus what it is owed', () => {
    fc.assert(
      fc.property(fc.array(obligation, { maxLength: 200 }), (obligations) => {
        const positions = netPositions(obligations);

        expect(sumOfPositions(positions)).toBe(0n);
        for (const institution of institutions) {
          const bilateral = institutions.map((other) => {
            const owes = obligations.filter((o) => o.payerInstitutionId === institution && o.payeeInstitutionId === other).reduce((sum, o) => sum + o.amountMinor, 0n);
            const owed = obligations.filter((o) => o.payerInstitutionId === other && o.payeeInstitutionId === institution).reduce((sum, o) => sum + o.amountMinor, 0n);
            return owes - owed;
          });
          expect(positions.get(institution) ?? 0n).toBe(bilateral.reduce((sum, net) => sum + net, 0n));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an obligation of an institution to itself, or of nothing', () => {
    expect(() => netPositions([{ payerInstitutionId: 'bank-a', payeeInstitutionId: 'bank-a', amountMinor: 5n }])).toThrow(RangeError);
    expect(() => netPositions([{ payerInstitutionId: 'bank-a', payeeInstitutionId: 'bank-b', amountMinor: 0n }])).toThrow(RangeError);
  });
});

describe('settlementInstructions', () => {
  it('pays every net debit and receives every net credit, and the two sides are equal', () => {
    fc.assert(
      fc.property(fc.array(obligation, { maxLength: 100 }), (obligations) => {
        const positions = netPositions(obligations);
        const instructions = settlementInstructions(positions);

        const paid = instructions.filter((line) => line.direction === 'PAY').reduce((sum, line) => sum + line.amountMinor, 0n);
        const received = instructions.filter((line) => line.direction === 'RECEIVE').reduce((sum, line) => sum + line.amountMinor, 0n);
        expect(paid).toBe(received);
        for (const line of instructions) {
          expect(line.amountMinor).toBeGreaterThan(0n);
          expect(positions.get(line.institutionId)).toBe(line.direction === 'PAY' ? line.amountMinor : -line.amountMinor);
        }
        expect(instructions.length).toBe([...positions.values()].filter((position) => position !== 0n).length);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses positions that do not sum to zero', () => {
    expect(() => settlementInstructions(new Map([['bank-a', 10n], ['bank-b', -9n]]))).toThrow(UnbalancedPositionsError);
  });
});

describe('positionCeilingBefore and window ids', () => {
  it('is the cap minus the amount, and absent without a cap', () => {
    expect(positionCeilingBefore(300n, 1_000n)).toBe(700n);
    expect(positionCeilingBefore(1_500n, 1_000n)).toBe(-500n);
    expect(positionCeilingBefore(300n, undefined)).toBeUndefined();
  });

  it('numbers windows per currency so they sort, and parses them back', () => {
    expect(windowIdFor('EUR', 7)).toBe('EUR-000000007');
    expect(parseWindowId('EUR-000000007')).toEqual({ currency: 'EUR', sequence: 7 });
    expect(parseWindowId('EUR-7')).toBeUndefined();
    expect(() => windowIdFor('EUR', 0)).toThrow(RangeError);
  });
});
