// Closing a settlement window and announcing it: shared by the admin API and the scheduled close.
// The close is one transaction (window CLOSED, next OPEN, pointer moved); SettlementWindowClosed
// follows, deduplicated by the window id. If the announcement fails, the scheduled close finds
// the window CLOSED and unsettled and announces it again: a closed window is never forgotten.
import type { DynamoSettlementStore, CloseResult } from '../adapters/dynamodb/settlement-store.js';
import { ENVELOPE_VERSION, eventIdFor, type PaymentEvent } from '../core/events/envelope.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { CurrencyCode } from '../core/money/currency.js';
import type { SettlementWindow } from '../core/settlement/window.js';
import type { Actor } from '../core/trust/api-client.js';

/** How many recent windows per currency the sweep looks back over for unsettled ones. */
export const UNSETTLED_LOOKBACK_WINDOWS = 24;

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
): Promise<CloseResult & { readonly announced: boolean }> {
  const result = await store.closeWindow(currency, windowId, by);
  if (result.kind !== 'closed') return { ...result, announced: false };
  try {
    await publisher.publish(windowClosedEvent(result.closed));
    return { ...result, announced: true };
  } catch {
    return { ...result, announced: false };
  }
}

/** Re-announces recent CLOSED windows that have not settled (a lost announcement, a crash). */
export async function announceUnsettled(store: DynamoSettlementStore, publisher: EventPublisher, currency: CurrencyCode): Promise<string[]> {
  const current = await store.getWindow(await store.currentWindowId(currency));
  if (current === undefined) return [];
  const recent = await store.windowsBetween(currency, current.sequence - UNSETTLED_LOOKBACK_WINDOWS, current.sequence - 1);
  const unsettled = recent.filter((window) => window.state === 'CLOSED');
  for (const window of unsettled) await publisher.publish(windowClosedEvent(window));
  return unsettled.map((window) => window.windowId);
}
