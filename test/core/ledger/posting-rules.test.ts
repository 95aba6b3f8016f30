// Proves the pure posting rules: each refusal reason at its boundary, the debtor's refusal taking
// precedence, and, as properties over random transfer sequences, that applying only the transfers
// the rules accept never breaches a limit and conserves the per-currency sum of balances.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Account } from '../../../lambdas/core/ledger/account.js';
import { creditRefusal, debitRefusal, decidePosting } from '../../../lambdas/core/ledger/posting-rules.js';

const account = (overrides: Partial<Account> = {}): Account => ({
  accountId: 'acc-1',
  institutionId: 'bank-a',
  currency: 'EUR',
  kind: 'CUSTOMER',
  status: 'ACTIVE',
  balanceMinor: 1_000n,
  overdraftLimitMinor: 0n,
  openedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('debitRefusal', () => {
  it('allows a debit down to exactly minus the overdraft limit', () => {
    const debtor = account({ balanceMinor: 100n, overdraftLimitMinor: 50n });

    expect(debitRefusal(debtor, { currency: 'EUR', amountMinor: 150, channel: 'WEB', initiatingInstitutionId: 'bank-a' })).toBeUndefined();
    expect(debitRefusal(debtor, { currency: 'EUR', amountMinor: 151, channel: 'WEB', initiatingInstitutionId: 'bank-a' })).toBe('INSUFFICIENT_FUNDS');
  });

  it.each([
    ['ACCOUNT_NOT_FOUND', undefined],
    ['ACCOUNT_FROZEN', account({ status: 'FROZEN' })],
    ['ACCOUNT_CLOSED', account({ status: 'CLOSED' })],
    ['CURRENCY_MISMATCH', account({ currency: 'USD' })],
  ] as const)('refuses with %s', (reason, debtor) => {
    expect(debitRefusal(debtor, { currency: 'EUR', amountMinor: 1, channel: 'MOBILE', initiatingInstitutionId: 'bank-a' })).toBe(reason);
  });

  it.each([
    ['another institution', 'bank-b'],
    ['no institution at all', undefined],
  ] as const)('refuses a channel debit initiated by a client of %s, whatever the balance', (_label, initiatingInstitutionId) => {
    const rich = account({ balanceMinor: 10n ** 12n });

    expect(debitRefusal(rich, { currency: 'EUR', amountMinor: 1, channel: 'POS', ...(initiatingInstitutionId !== undefined ? { initiatingInstitutionId } : {}) })).toBe('DEBTOR_NOT_PERMITTED');
    expect(debitRefusal(rich, { currency: 'EUR', amountMinor: 1, channel: 'POS', initiatingInstitutionId: 'bank-a' })).toBeUndefined();
  });

  it('lets the back office take a funding account below zero without limit', () => {
    const funding = account({ kind: 'FUNDING', balanceMinor: -(10n ** 20n) });

    expect(debitRefusal(funding, { currency: 'EUR', amountMinor: 999_999_999_999, channel: 'ADMIN' })).toBeUndefined();
  });

  it.each(['WEB', 'MOBILE', 'POS'] as const)('refuses a %s debit of a funding account: it would create money', (channel) => {
    const funding = account({ kind: 'FUNDING', balanceMinor: 1_000_000n });

    expect(debitRefusal(funding, { currency: 'EUR', amountMinor: 1, channel, initiatingInstitutionId: 'bank-a' })).toBe('DEBTOR_NOT_PERMITTED');
  });
});

describe('creditRefusal', () => {
  it('credits a frozen account but not a closed or foreign-currency one', () => {
    expect(creditRefusal(account({ status: 'FROZEN' }), { currency: 'EUR' })).toBeUndefined();
    expect(creditRefusal(account({ status: 'CLOSED' }), { currency: 'EUR' })).toBe('ACCOUNT_CLOSED');
    expect(creditRefusal(account({ currency: 'GBP' }), { currency: 'EUR' })).toBe('CURRENCY_MISMATCH');
    expect(creditRefusal(undefined, { currency: 'EUR' })).toBe('ACCOUNT_NOT_FOUND');
  });
});

describe('decidePosting', () => {
  it("reports the debtor's refusal before the creditor's", () => {
    const decision = decidePosting(account({ balanceMinor: 0n }), undefined, { currency: 'EUR', amountMinor: 1, channel: 'WEB', initiatingInstitutionId: 'bank-a' });

    expect(decision).toEqual({ kind: 'reject', reason: 'INSUFFICIENT_FUNDS' });
  });

  it('never breaches a limit and conserves the sum of balances over random transfer sequences', () => {
    const accountArb = fc.record({
      balanceMinor: fc.bigInt({ min: 0n, max: 10_000n }),
      overdraftLimitMinor: fc.bigInt({ min: 0n, max: 1_000n }),
      status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'FROZEN', 'CLOSED' as const),
      currency: fc.constantFrom('EUR', 'EUR', 'USD' as const),
      kind: fc.constantFrom('CUSTOMER', 'CUSTOMER', 'CUSTOMER', 'FUNDING' as const),
    });
    const transferArb = fc.record({
      from: fc.nat(7),
      to: fc.nat(7),
      amountMinor: fc.integer({ min: 1, max: 5_000 }),
      currency: fc.constantFrom('EUR', 'USD' as const),
      channel: fc.constantFrom('WEB', 'POS', 'ADMIN' as const),
    });

    fc.assert(
      fc.property(fc.array(accountArb, { minLength: 2, maxLength: 8 }), fc.array(transferArb, { maxLength: 60 }), (specs, transfers) => {
        const ledger = specs.map((spec, index) => account({ ...spec, accountId: `acc-${index}` }));
        const sum = (currency: string) => ledger.filter((a) => a.currency === currency).reduce((total, a) => total + a.balanceMinor, 0n);
        const before = { EUR: sum('EUR'), USD: sum('USD') };
        for (const { from, to, amountMinor, currency, channel } of transfers) {
          const debtorIndex = from % ledger.length;
          const creditorIndex = to % ledger.length;
          if (debtorIndex === creditorIndex) continue;
          const decision = decidePosting(ledger[debtorIndex], ledger[creditorIndex], { currency, amountMinor, channel, initiatingInstitutionId: 'bank-a' });
          if (decision.kind === 'reject') continue;
          const amount = BigInt(amountMinor);
          ledger[debtorIndex] = { ...ledger[debtorIndex]!, balanceMinor: ledger[debtorIndex]!.balanceMinor - amount };
          ledger[creditorIndex] = { ...ledger[creditorIndex]!, balanceMinor: ledger[creditorIndex]!.balanceMinor + amount };
        }
        for (const [index, a] of ledger.entries()) {
          // Only debits are bounded; a starting balance is >= 0, so the floor is -limit.
          // Funding accounts alone may go lower, and only through ADMIN transfers.
          if (a.kind === 'CUSTOMER') expect(a.balanceMinor, `account ${index}`).toBeGreaterThanOrEqual(-a.overdraftLimitMinor);
        }
        expect({ EUR: sum('EUR'), USD: sum('USD') }).toEqual(before);
      }),
      { numRuns: 500 },
    );
  });
});
