// The simulator's settlement side: Net Debit Caps for its institutions, windows closed on an
// interval while traffic runs, the settlement bank's part (it confirms every instruction of a
// window awaiting confirmation, which releases the institutions' exposure and settles the
// window), and the figures read back over the API once every window of the run has settled: per-window totals and net positions, a check that each window's positions sum
// to zero, and that the windows' gross totals add up to every posted interbank transfer of the run.
import type { ApiClient, SettlementWindowDetail } from './api-client.js';

const SETTLE_POLL_MS = 250;

export interface WindowFigures {
  readonly windowId: string;
  readonly state: string;
  readonly transferCount: number;
  readonly grossMinor: bigint;
  readonly netPositions: readonly { readonly institutionId: string; readonly position: bigint }[];
  readonly balanced: boolean;
  readonly instructions: number;
}

export interface SettlementSummary {
  readonly currency: string;
  readonly windows: readonly WindowFigures[];
  /** Every window's positions summed to zero. */
  readonly everyWindowBalanced: boolean;
  readonly windowsGrossMinor: bigint;
  readonly postedInterbankMinor: bigint;
  readonly postedInterbankCount: number;
  /** Windows that had not settled by the deadline. */
  readonly unsettled: readonly string[];
}

export async function setCaps(admin: ApiClient, caps: Readonly<Record<string, number>>, currency: string): Promise<void> {
  for (const [institutionId, netDebitCap] of Object.entries(caps)) {
    const response = await admin.setNetDebitCap(institutionId, { currency, netDebitCap });
    if (response.status !== 200) throw new Error(`setting ${institutionId}'s cap answered ${response.status}`);
  }
}

/** The sequence number of the currency's open window now (the run's first window). */
export async function openWindowSequence(admin: ApiClient, currency: string, institutionId: string): Promise<number> {
  const { body } = await admin.position(institutionId, currency);
  return Number(body.windowId.slice(currency.length + 1));
}

/**
 * Acts as the settlement bank: confirms every instruction of the currency's windows awaiting
 * confirmation, as if it had moved the money. Returns how many it confirmed.
 */
export async function confirmAwaiting(admin: ApiClient, currency: string): Promise<number> {
  const { status, body } = await admin.awaitingConfirmation(currency);
  if (status !== 200) throw new Error(`listing windows awaiting confirmation answered ${status}`);
  let confirmed = 0;
  for (const window of body.windows) {
    for (const line of window.awaiting) {
      const answer = await admin.confirmSettlement(window.windowId, { ...line, reference: `sim-bank-${window.windowId}-${line.institutionId}` });
      if (answer.status !== 201 && answer.status !== 200) throw new Error(`confirming ${line.institutionId} in ${window.windowId} answered ${answer.status}`);
      confirmed++;
    }
  }
  return confirmed;
}

/** Closes the open window every `intervalMs` until stopped, confirming what awaits the bank as it goes. */
export function startWindowCloser(admin: ApiClient, currency: string, intervalMs: number): { stop(): Promise<void> } {
  let closing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    closing = closing
      .then(() => admin.closeWindow({ currency }))
      .then(() => confirmAwaiting(admin, currency))
      .catch(() => undefined);
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await closing;
    },
  };
}

/**
 * Closes the last window of the run, waits until every window from `firstSequence` on has
 * settled (or the deadline passes) and sums them up.
 */
export async function collectSettlementSummary(
  admin: ApiClient,
  currency: string,
  firstSequence: number,
  posted: { readonly minor: bigint; readonly count: number },
  timeoutMs: number,
): Promise<SettlementSummary> {
  const closed = await admin.closeWindow({ currency });
  if (closed.status !== 200) throw new Error(`closing the last window answered ${closed.status}`);
  const lastSequence = Number(closed.body.closed.windowId.slice(currency.length + 1));
  const ids = Array.from({ length: lastSequence - firstSequence + 1 }, (_, offset) => `${currency}-${String(firstSequence + offset).padStart(9, '0')}`);
  const deadline = Date.now() + timeoutMs;
  const details = new Map<string, SettlementWindowDetail>();
  for (;;) {
    for (const windowId of ids) {
      if (details.get(windowId)?.state === 'SETTLED') continue;
      const { status, body } = await admin.getWindow(windowId);
      if (status === 200) details.set(windowId, body);
    }
    const waiting = ids.filter((windowId) => {
      const window = details.get(windowId);
      return window === undefined || (window.state !== 'SETTLED' && window.report?.status !== 'UNBALANCED');
    });
    if (waiting.length === 0 || Date.now() > deadline) break;
    if (waiting.some((windowId) => details.get(windowId)?.state === 'PENDING_SETTLEMENT')) await confirmAwaiting(admin, currency);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
  const windows = ids.flatMap((windowId): WindowFigures[] => {
    const window = details.get(windowId);
    if (window === undefined) return [];
    const sum = window.netPositions.reduce((total, entry) => total + entry.position, 0n);
    return [
      {
        windowId,
        state: window.state,
        transferCount: window.transferCount,
        grossMinor: window.grossAmount,
        netPositions: window.netPositions,
        balanced: sum === 0n && window.report?.status !== 'UNBALANCED',
        instructions: window.instructions?.length ?? 0,
      },
    ];
  });
  return {
    currency,
    windows,
    everyWindowBalanced: windows.length === ids.length && windows.every((window) => window.balanced),
    windowsGrossMinor: windows.reduce((total, window) => total + window.grossMinor, 0n),
    postedInterbankMinor: posted.minor,
    postedInterbankCount: posted.count,
    unsettled: ids.filter((windowId) => details.get(windowId)?.state !== 'SETTLED'),
  };
}

/** At most this many windows are listed one by one; the rest are summed. */
const WINDOWS_LISTED_MAX = 8;

export function formatSettlementSummary(summary: SettlementSummary): string {
  const reconciled = summary.windowsGrossMinor === summary.postedInterbankMinor;
  const transfers = summary.windows.reduce((total, window) => total + window.transferCount, 0);
  const lines = [
    `  settlement       ${summary.windows.length} ${summary.currency} window(s), ${transfers} interbank transfers; ${summary.unsettled.length === 0 ? 'all SETTLED' : `NOT SETTLED: ${summary.unsettled.join(', ')}`}`,
    ...summary.windows.slice(0, WINDOWS_LISTED_MAX).map(
      (window) =>
        `    ${window.windowId} ${window.state.padEnd(8)} ${String(window.transferCount).padStart(5)} transfers, gross ${window.grossMinor}, ${window.instructions} instructions, net ${window.netPositions.map((entry) => `${entry.institutionId} ${entry.position}`).join(', ') || '-'}`,
    ),
    ...(summary.windows.length > WINDOWS_LISTED_MAX ? [`    ... ${summary.windows.length - WINDOWS_LISTED_MAX} more`] : []),
    `  net positions    ${summary.everyWindowBalanced ? 'sum to zero in every window' : 'DO NOT SUM TO ZERO IN SOME WINDOW'}`,
    `  reconciliation   windows' gross ${summary.windowsGrossMinor} ${reconciled ? '=' : '!='} posted interbank transfers ${summary.postedInterbankMinor} (${summary.postedInterbankCount} transfers)${reconciled ? '' : ' MISMATCH'}`,
  ];
  return lines.join('\n');
}
