// Settlement windows: per currency, one OPEN window at a time collects the interbank obligations
// that settle together. Windows are numbered in sequence; an id names currency and number, so
// windows sort and page naturally. Pure data and rules.
//
// Lifecycle: OPEN -> CLOSED (no more postings) -> PENDING_SETTLEMENT (netted, report stored,
// every instruction issued) -> SETTLED (the settlement bank confirmed every instruction). A window
// whose institutions all netted to zero has nothing to confirm and goes from CLOSED to SETTLED.
// Until a window is SETTLED, its positions count in each institution's exposure.
import type { Actor } from '../trust/api-client.js';
import type { CurrencyCode } from '../money/currency.js';

export const WINDOW_STATES = ['OPEN', 'CLOSED', 'PENDING_SETTLEMENT', 'SETTLED'] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

export const WINDOW_SEQUENCE_DIGITS = 9;
export const WINDOW_ID_PATTERN = /^[A-Z]{3}-\d{9}$/;

export interface SettlementWindow {
  readonly windowId: string;
  readonly currency: CurrencyCode;
  readonly sequence: number;
  readonly state: WindowState;
  readonly openedAt: string;
  readonly closedAt?: string;
  /** The settlement admin who closed it by hand; absent for the scheduled close. */
  readonly closedBy?: Actor;
  readonly settledAt?: string;
  /** Interbank transfers counted in this window, and their gross sum. */
  readonly transferCount: number;
  readonly grossMinor: bigint;
  /** Institutions with a position in this window. */
  readonly participants: readonly string[];
  /** Once netted: how many instructions settle it, and how many are recorded. */
  readonly instructionCount?: number;
  readonly instructionsRecorded?: number;
  /** Instructions the settlement bank has confirmed as done (PENDING_SETTLEMENT and after). */
  readonly confirmationsRecorded?: number;
  /**
   * Closed and final: every position shard has moved past it, and the totals above are stored.
   * Before that (OPEN, or CLOSED but not sealed) they are added up from the shards when read.
   */
  readonly sealed?: true;
  /**
   * Opened by the version before position shards, which kept each institution's position in a
   * window on an item of its own: those count with the shards' until the window settles.
   */
  readonly legacyPositions?: true;
}

export function windowIdFor(currency: CurrencyCode, sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 1 || sequence >= 10 ** WINDOW_SEQUENCE_DIGITS) {
    throw new RangeError(`window sequence ${sequence} out of range`);
  }
  return `${currency}-${String(sequence).padStart(WINDOW_SEQUENCE_DIGITS, '0')}`;
}

export function parseWindowId(windowId: string): { currency: string; sequence: number } | undefined {
  if (!WINDOW_ID_PATTERN.test(windowId)) return undefined;
  const [currency = '', sequence = ''] = windowId.split('-');
  return { currency, sequence: Number(sequence) };
}
