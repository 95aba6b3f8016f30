// Proves that screening reads only the windows some rule looks at for the transfer's outcome (a
// posted transfer never reads the rejection counters, whose channel family is sharded), and that
// leaving the others out changes no verdict: for any facts, zeroing the windows not read gives
// the same hits and weight.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecidedTransferEvent } from '../../../lambdas/core/events/risk-events.js';
import { transactionDecided } from '../../../lambdas/core/events/transfer-events.js';
import { transferContentHash, transferIdFor, type TransferRecord } from '../../../lambdas/core/ledger/transfer.js';
import type { RiskStore, WindowRead } from '../../../lambdas/core/risk/ports.js';
import { screen, type ScreeningFacts } from '../../../lambdas/core/risk/rules.js';
import { screenDecided } from '../../../lambdas/core/risk/screen-transfer.js';
import { DEFAULT_THRESHOLDS as T } from '../../../lambdas/core/risk/thresholds.js';
import { COUNTER_FAMILIES, WINDOWS_READ_BY_OUTCOME, type CounterFamily } from '../../../lambdas/core/risk/windows.js';

/** The fact each counter family's window becomes (screen-transfer.ts factsOf). */
const FACT_OF: Record<CounterFamily, keyof ScreeningFacts['windows']> = {
  'debits-velocity': 'debitsInVelocityWindow',
  'debits-amount': 'debitedMinorInAmountWindow',
  'near-threshold': 'nearThresholdInStructuringWindow',
  'rejections-account': 'rejectionsByAccount',
  'rejections-channel': 'rejectionsByChannel',
};

function decidedEvent(status: 'POSTED' | 'REJECTED'): DecidedTransferEvent {
  const request = {
    transferId: transferIdFor('POS', randomUUID()),
    debtorAccountId: 'acc-payer',
    creditorAccountId: 'acc-payee',
    amountMinor: 950_000,
    currency: 'EUR' as const,
    channel: 'POS' as const,
    initiatingInstitutionId: 'bank-a',
    requestedAt: '2026-11-01T12:00:00.000Z',
  };
  const record: TransferRecord = {
    ...request,
    status,
    ...(status === 'REJECTED' ? { rejectionReason: 'INSUFFICIENT_FUNDS' as const } : {}),
    contentHash: transferContentHash(request),
    decidedAt: '2026-11-01T12:00:01.000Z',
  };
  return transactionDecided(record, { causationId: 'test', occurredAt: record.decidedAt }) as DecidedTransferEvent;
}

/** A store whose every window holds `count`, recording what screening asked for. */
function recordingStore(count: number): { store: RiskStore; asked: WindowRead[][] } {
  const asked: WindowRead[][] = [];
  const store: RiskStore = {
    recordScreening: () => Promise.resolve('counted'),
    recordVerdict: (_transferId, verdict) => Promise.resolve(verdict),
    storedVerdict: () => Promise.resolve(undefined),
    readScreeningState: (windows) => {
      asked.push([...windows]);
      return Promise.resolve({ windows: windows.map(() => ({ count, amountMinor: count * 1_000_000 })), firstToCreditor: false });
    },
  };
  return { store, asked };
}

describe('screening reads', () => {
  it.each(['POSTED', 'REJECTED'] as const)('reads only the windows the rules look at for a %s transfer', async (status) => {
    const { store, asked } = recordingStore(100);

    const alert = await screenDecided(decidedEvent(status), T, store);

    expect(asked.map((windows) => windows.map((window) => window.family))).toEqual([WINDOWS_READ_BY_OUTCOME[status]]);
    expect(alert?.data.rulesHit.map((hit) => hit.ruleId)).toContain(status === 'POSTED' ? 'VELOCITY_COUNT' : 'REPEATED_REJECTIONS');
  });

  it('reads every counter family for one outcome or the other', () => {
    expect([...WINDOWS_READ_BY_OUTCOME.POSTED, ...WINDOWS_READ_BY_OUTCOME.REJECTED].sort()).toEqual([...COUNTER_FAMILIES].sort());
  });

  it('property: zeroing the windows not read for an outcome never changes the verdict', () => {
    const count = fc.nat({ max: 5_000_000 });
    const facts = fc.record({
      amountMinor: fc.integer({ min: 1, max: 3_000_000 }),
      channel: fc.constantFrom('WEB' as const, 'MOBILE' as const, 'POS' as const),
      outcome: fc.constantFrom('POSTED' as const, 'REJECTED' as const),
      firstToCreditor: fc.boolean(),
      windows: fc.record({
        debitsInVelocityWindow: count,
        debitedMinorInAmountWindow: count,
        nearThresholdInStructuringWindow: count,
        rejectionsByAccount: count,
        rejectionsByChannel: count,
      }),
    });
    fc.assert(
      fc.property(facts, (generated) => {
        const full: ScreeningFacts = { transferId: 't-1', debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', ...generated };
        const read = new Set(WINDOWS_READ_BY_OUTCOME[full.outcome].map((family) => FACT_OF[family]));
        const windows = Object.fromEntries(Object.entries(full.windows).map(([fact, value]) => [fact, read.has(fact as keyof ScreeningFacts['windows']) ? value : 0]));
        expect(screen({ ...full, windows: windows as ScreeningFacts['windows'] }, T)).toEqual(screen(full, T));
      }),
      { numRuns: 500 },
    );
  });
});
