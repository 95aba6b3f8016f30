// Proves the settlement close and settle use cases against in-test ports where their logic is
// their own: the closed-window event takes its time from the window or the injected clock, never
// the system's; the scheduled close keeps going past one currency's failure and reports what went
// wrong in order; an unbalanced window is reported before operations are alarmed, and the alarm's
// claim is given back when the alarm cannot be sent.
import { describe, expect, it } from 'vitest';
import { windowClosedEvent } from '../../../lambdas/core/events/settlement-events.js';
import type { PaymentEvent } from '../../../lambdas/core/events/envelope.js';
import type { CurrencyCode } from '../../../lambdas/core/money/currency.js';
import { closeDueWindows, type ScheduledClosePorts } from '../../../lambdas/core/settlement/close-window.js';
import type { SettlementReport } from '../../../lambdas/core/settlement/ports.js';
import { settleClosedWindow, type SettleWindowPorts } from '../../../lambdas/core/settlement/settle-window.js';
import { windowIdFor, type SettlementWindow } from '../../../lambdas/core/settlement/window.js';

const CLOCK = new Date('2026-11-30T10:00:00.000Z');

function window(currency: CurrencyCode, sequence: number, overrides: Partial<SettlementWindow> = {}): SettlementWindow {
  return { windowId: windowIdFor(currency, sequence), currency, sequence, state: 'OPEN', openedAt: '2026-11-30T09:00:00.000Z', transferCount: 0, grossMinor: 0n, participants: [], ...overrides };
}

describe('windowClosedEvent', () => {
  it('is stamped with the closing time of a closed window', () => {
    const closed = window('EUR', 1, { state: 'CLOSED', closedAt: '2026-11-30T09:30:00.000Z' });

    const event = windowClosedEvent(closed, () => CLOCK);

    expect(event).toMatchObject({ id: 'EUR-000000001.closed', occurredAt: '2026-11-30T09:30:00.000Z', data: { closedAt: '2026-11-30T09:30:00.000Z' } });
  });

  it('is stamped by the injected clock for a window without a closing time', () => {
    const event = windowClosedEvent(window('EUR', 2), () => CLOCK);

    expect(event.data.closedAt).toBe(CLOCK.toISOString());
  });
});

describe('closeDueWindows', () => {
  it('closes busy windows, leaves empty ones open, and reports a failed currency and a lost announcement in order', async () => {
    const open = new Map<CurrencyCode, SettlementWindow>([
      ['CHF', window('CHF', 2, { transferCount: 2 })],
      ['EUR', window('EUR', 4, { transferCount: 3 })],
      ['GBP', window('GBP', 1)],
    ]);
    const published: PaymentEvent[] = [];
    const stuck = window('CHF', 1, { state: 'CLOSED', closedAt: '2026-11-29T00:00:00.000Z' });
    const ports: ScheduledClosePorts = {
      store: {
        currencies: () => Promise.resolve(['CHF', 'DKK', 'EUR', 'GBP']),
        unsettledWindows: (currency) => (currency === 'DKK' ? Promise.reject(new Error('injected: throttled')) : Promise.resolve(currency === 'CHF' ? [stuck] : [])),
        currentWindowId: (currency) => Promise.resolve(open.get(currency)?.windowId ?? 'none'),
        getWindow: (windowId) => Promise.resolve([...open.values()].find((entry) => entry.windowId === windowId)),
        closeWindow: (currency) => {
          const closing = open.get(currency);
          if (closing === undefined) return Promise.resolve({ kind: 'not-found' });
          const closed = { ...closing, state: 'CLOSED' as const, closedAt: CLOCK.toISOString() };
          return Promise.resolve({ kind: 'closed', closed, opened: window(currency, closing.sequence + 1) });
        },
      },
      // The EUR announcement is lost; the others reach the topic.
      publisher: { publish: (event) => (event.id.startsWith('EUR') ? Promise.reject(new Error('injected: topic down')) : Promise.resolve(void published.push(event))) },
      now: () => CLOCK,
    };

    const report = await closeDueWindows(ports);

    expect(report.closed).toEqual(['CHF-000000002', 'EUR-000000004']);
    expect(report.reannounced).toEqual(['CHF-000000001']);
    expect(report.incidents.map((incident) => (incident.kind === 'unannounced' ? incident.windowId : incident.currency))).toEqual(['DKK', 'EUR-000000004']);
    expect(published.map((event) => event.id)).toEqual(['CHF-000000001.closed', 'CHF-000000002.closed']);
  });
});

describe('settleClosedWindow', () => {
  it('reports an unbalanced window before alarming, and gives the claim back when the alarm fails', async () => {
    const closed = window('NOK', 1, { state: 'CLOSED', closedAt: CLOCK.toISOString(), transferCount: 1, grossMinor: 700n, participants: ['bank-a', 'bank-b'] });
    const calls: string[] = [];
    let stored: SettlementReport | undefined;
    const ports: SettleWindowPorts = {
      store: {
        getWindow: () => Promise.resolve(closed),
        getReport: () => Promise.resolve(stored),
        sealWindow: () => Promise.resolve({ window: { ...closed, sealed: true }, positions: new Map([['bank-a', 700n], ['bank-b', -699n]]) }),
        recordReport: (report) => Promise.resolve((stored = report)),
        claimUnbalancedAlarm: () => {
          calls.push('claim');
          return Promise.resolve(true);
        },
        releaseUnbalancedAlarm: () => Promise.resolve(void calls.push('release')),
        markIssuedIfComplete: () => Promise.resolve(false),
        recordedInstructions: () => Promise.resolve([]),
      },
      publisher: { publish: () => Promise.resolve() },
      notifier: { notify: () => Promise.reject(new Error('injected: notifications down')) },
      now: () => CLOCK,
      onUnbalanced: (report, sumMinor) => void calls.push(`unbalanced ${report.windowId} by ${sumMinor}`),
    };
    const announcement = { id: 'NOK-000000001.closed', type: 'SettlementWindowClosed', version: 1, occurredAt: CLOCK.toISOString(), correlationId: closed.windowId, causationId: closed.windowId, data: { windowId: closed.windowId, currency: 'NOK', closedAt: CLOCK.toISOString() } } as const;

    const settling = settleClosedWindow(ports, announcement);

    await expect(settling).rejects.toThrow(/notifications down/);
    expect(calls).toEqual(['claim', 'unbalanced NOK-000000001 by 1', 'release']);
    expect(stored).toMatchObject({ status: 'UNBALANCED', instructions: [], createdAt: CLOCK.toISOString() });
  });
});
