// Proves the scheduled settlement close counts, on every run, the closed windows it found still
// unsettled and re-announced (SettlementWindowsUnsettled, zero included) and how long the oldest
// unsettled window has waited (SettlementOldestUnsettledAgeSeconds): the alarms on a window
// unsettled for too long (lib/constructs/monitoring.ts) read those metrics.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import type { SettlementStore } from '../../lambdas/core/settlement/ports.js';
import { windowIdFor, type SettlementWindow } from '../../lambdas/core/settlement/window.js';
import { createSettlementCloseHandler } from '../../lambdas/settlement/close-handler.js';

function window(currency: CurrencyCode, sequence: number, overrides: Partial<SettlementWindow> = {}): SettlementWindow {
  return { windowId: windowIdFor(currency, sequence), currency, sequence, state: 'OPEN', openedAt: '2026-11-30T09:00:00.000Z', transferCount: 0, grossMinor: 0n, participants: [], ...overrides };
}

/** A store whose only unsettled windows are `stuck`; every open window is empty (nothing to close). */
function storeWith(stuck: readonly SettlementWindow[]): SettlementStore {
  const store: Pick<SettlementStore, 'currencies' | 'currentWindowId' | 'getWindow' | 'closeWindow' | 'unsettledWindows'> = {
    currencies: () => Promise.resolve(['EUR']),
    unsettledWindows: () => Promise.resolve([...stuck]),
    currentWindowId: () => Promise.resolve(windowIdFor('EUR', 9)),
    getWindow: () => Promise.resolve(window('EUR', 9)),
    closeWindow: () => Promise.reject(new Error('an empty window is never closed')),
  };
  return store as SettlementStore;
}

async function runRecordingMetrics(
  stuck: readonly SettlementWindow[],
  now = new Date('2026-11-30T10:00:00.000Z'),
  publish: () => Promise<void> = () => Promise.resolve(),
): Promise<Map<string, number>> {
  const metrics = new Metrics({ serviceName: 'payments-settlement-close', namespace: 'PaymentsBackbone' });
  const recorded = new Map<string, number>();
  vi.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
    recorded.set(name, value);
    return metrics;
  });
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  const close = createSettlementCloseHandler({
    store: storeWith(stuck),
    publisher: { publish },
    logger: new Logger({ serviceName: 'payments-settlement-close', logLevel: 'SILENT' }),
    metrics,
    now: () => now,
  });
  await close();
  return recorded;
}

describe('scheduled settlement close metrics', () => {
  it('counts the closed windows it re-announces as unsettled', async () => {
    const stuck = [window('EUR', 7, { state: 'CLOSED', closedAt: '2026-11-30T08:00:00.000Z' }), window('EUR', 8, { state: 'CLOSED', closedAt: '2026-11-30T09:00:00.000Z' })];

    const recorded = await runRecordingMetrics(stuck);

    expect(recorded.get('SettlementWindowsUnsettled')).toBe(2);
  });

  it('reports zero unsettled windows when every closed window has settled', async () => {
    const recorded = await runRecordingMetrics([]);

    expect(recorded.get('SettlementWindowsUnsettled')).toBe(0);
    expect(recorded.get('SettlementWindowsClosed')).toBe(0);
    expect(recorded.get('SettlementOldestUnsettledAgeSeconds')).toBe(0);
  });

  it("reports how long the oldest unsettled window has waited, one awaiting the bank's confirmations included", async () => {
    // Netted and issued, two of three confirmations in: not re-announced, but still unsettled.
    const awaiting = window('EUR', 5, { state: 'PENDING_SETTLEMENT', closedAt: '2026-11-30T05:00:00.000Z', instructionCount: 3, instructionsRecorded: 3, confirmationsRecorded: 2 });
    const closed = window('EUR', 6, { state: 'CLOSED', closedAt: '2026-11-30T09:30:00.000Z' });

    const recorded = await runRecordingMetrics([closed, awaiting], new Date('2026-11-30T10:00:00.000Z'));

    expect(recorded.get('SettlementWindowsUnsettled')).toBe(1);
    expect(recorded.get('SettlementOldestUnsettledAgeSeconds')).toBe(5 * 3600);
  });

  it('still reports how long a window has waited when its re-announcement fails', async () => {
    const stuck = [window('EUR', 6, { state: 'CLOSED', closedAt: '2026-11-30T07:00:00.000Z' })];

    const recorded = await runRecordingMetrics(stuck, new Date('2026-11-30T10:00:00.000Z'), () => Promise.reject(new Error('SNS unavailable')));

    expect(recorded.get('SettlementCloseFailures')).toBe(1);
    expect(recorded.get('SettlementOldestUnsettledAgeSeconds')).toBe(3 * 3600);
  });
});
