// Closing a settlement window and announcing it: shared by the admin API and the scheduled close.
// The close is one transaction (window CLOSED, next OPEN, pointer moved, window added to its
// currency's unsettled set); SettlementWindowClosed follows, deduplicated by the window id. If
// the announcement fails, or the runtime dies before the window settles, the window stays in the
// unsettled set until it settles, and the scheduled close (and, locally, every start) announces
// it again: a closed window is never forgotten, however many windows close meanwhile.
import type { DynamoSettlementStore, CloseResult } from '../adapters/dynamodb/settlement-store.js';
import { ENVELOPE_VERSION, eventIdFor, type PaymentEvent } from '../core/events/envelope.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { CurrencyCode } from '../core/money/currency.js';
import type { SettlementWindow } from '../core/settlement/window.js';
import type { Actor } from '../core/trust/api-client.js';

/** Unsettled windows re-announced per currency and run, oldest first; the next run continues. */
export const UNSETTLED_ANNOUNCE_MAX = 500;

export function windowClosedEvent(window: SettlementWindow): PaymentEvent {
  const closedAt = window.closedAt ?? new Date().toISOString();
  return {
    id: eventIdFor.windowClosed(window.windowId),
    type: 'SettlementWindowClosed',
    version: ENVELOPE_VERSION,
    occurredAt: closedAt,
    correlationId: window.windowId,
    causationId: window.windowId,
    data: { windowId: window.windowId, currency: window.currency, closedAt },
  };
}

/** Closes the OPEN window (or `windowId`, if it is the OPEN one) and announces it. */
export async function closeAndAnnounce(
  store: DynamoSettlementStore,
  publisher: EventPublisher,
  currency: CurrencyCode,
  windowId?: string,
  by?: Actor,
  idempotencyKey?: string,
): Promise<CloseResult & { readonly announced: boolean }> {
  const result = await store.closeWindow(currency, windowId, by, idempotencyKey);
  if (result.kind !== 'closed') return { ...result, announced: false };
  // A replayed close announces again (the first attempt may have died before its publish), but
  // only while the window still waits to settle.
  if (result.closed.state !== 'CLOSED') return { ...result, announced: false };
  try {
    await publisher.publish(windowClosedEvent(result.closed));
    return { ...result, announced: true };
  } catch {
    return { ...result, announced: false };
  }
}

/** Re-announces every CLOSED window of the currency that has not settled (a lost announcement, a crash). */
export async function announceUnsettled(store: DynamoSettlementStore, publisher: EventPublisher, currency: CurrencyCode): Promise<string[]> {
  const unsettled = await store.unsettledWindows(currency, UNSETTLED_ANNOUNCE_MAX);
  for (const window of unsettled) await publisher.publish(windowClosedEvent(window));
  return unsettled.map((window) => window.windowId);
}
