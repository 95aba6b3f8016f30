// Proves the risk rules at, just under and just over each threshold, that rejected transfers only
// feed the rejection rule, and how hit weights combine into a severity.
import { describe, expect, it } from 'vitest';
import { RISK_RULES, RULE_IDS, screen, type ScreeningFacts } from '../../../lambdas/core/risk/rules.js';
import { severityOf, SEVERITY_FLOORS } from '../../../lambdas/core/risk/severity.js';
import { DEFAULT_THRESHOLDS as T } from '../../../lambdas/core/risk/thresholds.js';

const quiet: ScreeningFacts = {
  transferId: 't-1',
  debtorAccountId: 'acc-a',
  creditorAccountId: 'acc-b',
  amountMinor: 1_000,
  channel: 'WEB',
  outcome: 'POSTED',
  windows: { debitsInVelocityWindow: 1, debitedMinorInAmountWindow: 1_000, nearThresholdInStructuringWindow: 0, rejectionsByAccount: 0, rejectionsByChannel: 0 },
  firstToCreditor: false,
};

function facts(change: Partial<Omit<ScreeningFacts, 'windows'>> & { windows?: Partial<ScreeningFacts['windows']> }): ScreeningFacts {
  return { ...quiet, ...change, windows: { ...quiet.windows, ...change.windows } };
}

const hitIds = (f: ScreeningFacts) => screen(f, T).hits.map((hit) => hit.ruleId);

describe('risk rules', () => {
  it('has one entry per rule id, each with a positive weight', () => {
    expect(RISK_RULES.map((rule) => rule.id)).toEqual([...RULE_IDS]);
    expect(RISK_RULES.every((rule) => Number.isInteger(rule.weight) && rule.weight > 0)).toBe(true);
  });

  it('raises nothing for ordinary traffic', () => {
    expect(screen(quiet, T)).toEqual({ hits: [], totalWeight: 0 });
  });

  it.each([
    ['WEB', T.largeAmountMinor.WEB],
    ['MOBILE', T.largeAmountMinor.MOBILE],
    ['POS', T.largeAmountMinor.POS],
  ] as const)('LARGE_AMOUNT fires on %s at its threshold, not one minor unit under', (channel, threshold) => {
    expect(hitIds(facts({ channel, amountMinor: threshold - 1 }))).not.toContain('LARGE_AMOUNT');
    expect(hitIds(facts({ channel, amountMinor: threshold }))).toContain('LARGE_AMOUNT');
    expect(hitIds(facts({ channel, amountMinor: threshold + 1 }))).toContain('LARGE_AMOUNT');
  });

  it('VELOCITY_COUNT fires at the debit count, not one under', () => {
    const { debitsMin } = T.velocityCount;
    expect(hitIds(facts({ windows: { debitsInVelocityWindow: debitsMin - 1 } }))).not.toContain('VELOCITY_COUNT');
    expect(hitIds(facts({ windows: { debitsInVelocityWindow: debitsMin } }))).toContain('VELOCITY_COUNT');
    expect(hitIds(facts({ windows: { debitsInVelocityWindow: debitsMin + 1 } }))).toContain('VELOCITY_COUNT');
  });

  it('VELOCITY_AMOUNT fires at the debited amount, not one minor unit under', () => {
    const { amountMinor } = T.velocityAmount;
    expect(hitIds(facts({ windows: { debitedMinorInAmountWindow: amountMinor - 1 } }))).not.toContain('VELOCITY_AMOUNT');
    expect(hitIds(facts({ windows: { debitedMinorInAmountWindow: amountMinor } }))).toContain('VELOCITY_AMOUNT');
  });

  it('STRUCTURING fires for repeated amounts just under the reporting threshold only', () => {
    const { reportingThresholdMinor, marginMinor, transfersMin } = T.structuring;
    const justUnder = reportingThresholdMinor - 1;
    const windows = { nearThresholdInStructuringWindow: transfersMin };

    expect(hitIds(facts({ amountMinor: justUnder, windows }))).toContain('STRUCTURING');
    expect(hitIds(facts({ amountMinor: reportingThresholdMinor - marginMinor, windows }))).toContain('STRUCTURING');
    expect(hitIds(facts({ amountMinor: reportingThresholdMinor - marginMinor - 1, windows }))).not.toContain('STRUCTURING');
    expect(hitIds(facts({ amountMinor: reportingThresholdMinor, windows }))).not.toContain('STRUCTURING');
    expect(hitIds(facts({ amountMinor: justUnder, windows: { nearThresholdInStructuringWindow: transfersMin - 1 } }))).not.toContain('STRUCTURING');
  });

  it('REPEATED_REJECTIONS fires per account or per channel, and only on rejections', () => {
    const { perAccountMin, perChannelMin } = T.repeatedRejections;
    const rejected = { outcome: 'REJECTED' as const, rejectionReason: 'INSUFFICIENT_FUNDS' as const };

    expect(hitIds(facts({ ...rejected, windows: { rejectionsByAccount: perAccountMin - 1 } }))).toEqual([]);
    expect(hitIds(facts({ ...rejected, windows: { rejectionsByAccount: perAccountMin } }))).toEqual(['REPEATED_REJECTIONS']);
    expect(hitIds(facts({ ...rejected, windows: { rejectionsByChannel: perChannelMin } }))).toEqual(['REPEATED_REJECTIONS']);
    expect(hitIds(facts({ windows: { rejectionsByAccount: perAccountMin } }))).toEqual([]);
  });

  it('NEW_PAYEE_LARGE_AMOUNT fires on the first transfer to a creditor at the threshold only', () => {
    const threshold = T.newPayeeLargeAmountMinor;
    expect(hitIds(facts({ firstToCreditor: true, amountMinor: threshold - 1 }))).not.toContain('NEW_PAYEE_LARGE_AMOUNT');
    expect(hitIds(facts({ firstToCreditor: true, amountMinor: threshold }))).toContain('NEW_PAYEE_LARGE_AMOUNT');
    expect(hitIds(facts({ firstToCreditor: false, amountMinor: threshold }))).not.toContain('NEW_PAYEE_LARGE_AMOUNT');
  });

  it('lets a rejected transfer trip no amount or velocity rule', () => {
    const everything = facts({
      outcome: 'REJECTED',
      rejectionReason: 'INSUFFICIENT_FUNDS',
      amountMinor: T.largeAmountMinor.WEB * 10,
      firstToCreditor: true,
      windows: { debitsInVelocityWindow: 1_000, debitedMinorInAmountWindow: 10 ** 12, nearThresholdInStructuringWindow: 100 },
    });

    expect(hitIds(everything)).toEqual([]);
  });
});

describe('severity', () => {
  it('combines hit weights: one rule alone is at most HIGH, a burst of large debits to a new payee is CRITICAL', () => {
    const burst = facts({
      amountMinor: T.largeAmountMinor.WEB,
      firstToCreditor: true,
      windows: { debitsInVelocityWindow: T.velocityCount.debitsMin, debitedMinorInAmountWindow: T.velocityAmount.amountMinor },
    });

    for (const rule of RISK_RULES) expect(rule.weight).toBeLessThan(SEVERITY_FLOORS.CRITICAL);
    expect(screen(facts({ amountMinor: T.largeAmountMinor.WEB }), T).severity).toBe('MEDIUM');
    expect(screen(burst, T)).toMatchObject({ totalWeight: 140, severity: 'CRITICAL' });
  });

  it('maps weights to severities at the floors', () => {
    expect(severityOf(SEVERITY_FLOORS.LOW - 1)).toBeUndefined();
    expect(severityOf(SEVERITY_FLOORS.LOW)).toBe('LOW');
    expect(severityOf(SEVERITY_FLOORS.MEDIUM - 1)).toBe('LOW');
    expect(severityOf(SEVERITY_FLOORS.HIGH)).toBe('HIGH');
    expect(severityOf(SEVERITY_FLOORS.CRITICAL + 500)).toBe('CRITICAL');
    expect(() => severityOf(-1)).toThrow(RangeError);
  });
});
