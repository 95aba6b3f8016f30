// Closing settlement windows and announcing them: by an admin through the API, and on the stack's
// schedule. The close is one step in the store (window CLOSED, next OPEN, the window remembered as
// unsettled); SettlementWindowClosed follows, deduplicated by the window id. If the announcement
// fails, or the runtime dies before the window settles, the window stays unsettled until it
// settles, and the scheduled close (and, locally, every start) announces it again: a closed window
// is never forgotten, however many windows close meanwhile.
import type { EventPublisher } from '../events/ports.js';
import { windowClosedEvent } from '../events/settlement-events.js';
import type { CurrencyCode } from '../money/currency.js';
import type { Actor } from '../trust/api-client.js';
import type { CloseResult, SettlementStore } from './ports.js';
import type { SettlementWindow } from './window.js';

/** Unsettled windows re-announced per currency and run, oldest first; the next run continues. */
export const UNSETTLED_ANNOUNCE_MAX = 500;

export interface CloseWindowPorts {
  readonly store: Pick<SettlementStore, 'closeWindow'>;
  /** The settlements topic, for SettlementWindowClosed. */
  readonly publisher: EventPublisher;
  readonly now: () => Date;
}

export interface CloseWindowCommand {
  readonly currency: CurrencyCode;
  /** Close only if this is the currency's OPEN window. */
  readonly windowId?: string;
  /** The settlement admin closing it by hand; absent for the scheduled close. */
  readonly closedBy?: Actor;
  /** Makes a retried close return the first one's outcome instead of closing the next window. */
  readonly idempotencyKey?: string;
}

/** The close's result; `announced`: SettlementWindowClosed was published by this call. */
export type CloseOutcome = CloseResult & { readonly announced: boolean };

/** Closes the OPEN window (or `windowId`, if it is the OPEN one) and announces it. */
export async function closeAndAnnounce(ports: CloseWindowPorts, command: CloseWindowCommand): Promise<CloseOutcome> {
  const result = await ports.store.closeWindow(command.currency, command.windowId, command.closedBy, command.idempotencyKey);
  if (result.kind !== 'closed') return { ...result, announced: false };
  // A replayed close announces again (the first attempt may have died before its publish), but
  // only while the window still waits to settle.
  if (result.closed.state !== 'CLOSED') return { ...result, announced: false };
  try {
    await ports.publisher.publish(windowClosedEvent(result.closed, ports.now));
    return { ...result, announced: true };
  } catch {
    // The window is closed either way; the scheduled close announces it again.
    return { ...result, announced: false };
  }
}

export interface AnnounceUnsettledPorts {
  readonly store: Pick<SettlementStore, 'unsettledWindows'>;
  readonly publisher: EventPublisher;
  readonly now: () => Date;
}

/** Re-announces every CLOSED window of the currency that has not settled (a lost announcement, a crash). */
export async function announceUnsettled(ports: AnnounceUnsettledPorts, currency: CurrencyCode): Promise<string[]> {
  return announce(ports, await unsettledWindows(ports, currency));
}

/** The currency's closed windows that have not settled, awaiting the settlement bank's confirmations included. */
function unsettledWindows(ports: AnnounceUnsettledPorts, currency: CurrencyCode): Promise<SettlementWindow[]> {
  return ports.store.unsettledWindows(currency, UNSETTLED_ANNOUNCE_MAX, ['CLOSED', 'PENDING_SETTLEMENT']);
}

/** Announces those of `unsettled` the settlement handler must finish; returns their ids. */
async function announce(ports: AnnounceUnsettledPorts, unsettled: readonly SettlementWindow[]): Promise<string[]> {
  // CLOSED windows still to be netted and issued, and PENDING ones whose every confirmation is in
  // but whose SETTLED mark was lost (a crash or a conflict after the last confirmation): the
  // settlement handler finishes either.
  const toAnnounce = unsettled.filter(
    (window) => window.state === 'CLOSED' || (window.instructionCount !== undefined && window.confirmationsRecorded === window.instructionCount),
  );
  for (const window of toAnnounce) await ports.publisher.publish(windowClosedEvent(window, ports.now));
  return toAnnounce.map((window) => window.windowId);
}

/** ISO-8601 UTC timestamps of one format compare as strings. */
function earliest(timestamps: readonly (string | undefined)[]): string | undefined {
  return timestamps.reduce<string | undefined>((first, at) => (at !== undefined && (first === undefined || at < first) ? at : first), undefined);
}

export interface ScheduledClosePorts {
  readonly store: Pick<SettlementStore, 'currencies' | 'currentWindowId' | 'getWindow' | 'closeWindow' | 'unsettledWindows'>;
  readonly publisher: EventPublisher;
  readonly now: () => Date;
}

/** What went wrong in a scheduled run; the next run mends both. */
export type ScheduledCloseIncident =
  | { readonly kind: 'unannounced'; readonly windowId: string }
  | { readonly kind: 'currency-failed'; readonly currency: CurrencyCode; readonly error: unknown };

export interface ScheduledCloseReport {
  readonly closed: readonly string[];
  readonly reannounced: readonly string[];
  /** When the oldest closed window that has not settled closed, any currency; none when all have. */
  readonly oldestUnsettledClosedAt: string | undefined;
  /** In the order they happened. */
  readonly incidents: readonly ScheduledCloseIncident[];
}

/**
 * The scheduled close: per currency, re-announces every CLOSED window that never settled, then
 * closes the OPEN window if it has interbank transfers in it (an empty window is left open:
 * nothing to settle).
 */
export async function closeDueWindows(ports: ScheduledClosePorts): Promise<ScheduledCloseReport> {
  const closed: string[] = [];
  const reannounced: string[] = [];
  const incidents: ScheduledCloseIncident[] = [];
  let oldestUnsettledClosedAt: string | undefined;
  for (const currency of await ports.store.currencies()) {
    // One currency's trouble (a busy window, a failed publish) must not stop the others.
    try {
      const unsettled = await unsettledWindows(ports, currency);
      // Before announcing: a failed publish must not hide how long this currency's windows wait.
      oldestUnsettledClosedAt = earliest([oldestUnsettledClosedAt, ...unsettled.map((window) => window.closedAt)]);
      reannounced.push(...(await announce(ports, unsettled)));
      const open = await ports.store.getWindow(await ports.store.currentWindowId(currency));
      if (open === undefined || open.transferCount === 0) continue;
      const result = await closeAndAnnounce(ports, { currency, windowId: open.windowId });
      if (result.kind !== 'closed') continue;
      closed.push(result.closed.windowId);
      if (!result.announced) incidents.push({ kind: 'unannounced', windowId: result.closed.windowId });
    } catch (error) {
      incidents.push({ kind: 'currency-failed', currency, error });
    }
  }
  return { closed, reannounced, oldestUnsettledClosedAt, incidents };
}
