// The settlement port: per currency one OPEN window (opened on first use), closed windows until
// they settle, each institution's position in a window and its Net Debit Cap, and what a window's
// settlement came to (its report and the instructions recorded against it). Closing a window
// opens the next in the same step, so an interbank posting lands in exactly one window.
import type { CurrencyCode } from '../money/currency.js';
import type { Actor } from '../trust/api-client.js';
import type { InstructionDirection } from './netting.js';
import type { SettlementWindow, WindowState } from './window.js';

/** What a window's settlement came to, stored once. */
export interface SettlementReport {
  readonly windowId: string;
  readonly currency: CurrencyCode;
  /** BALANCED: instructions follow. UNBALANCED: positions did not sum to zero; nothing is paid. */
  readonly status: 'BALANCED' | 'UNBALANCED';
  readonly transferCount: number;
  readonly grossMinor: bigint;
  readonly positions: ReadonlyMap<string, bigint>;
  readonly instructions: readonly { readonly institutionId: string; readonly direction: InstructionDirection; readonly amountMinor: bigint }[];
  readonly createdAt: string;
}

export interface RecordedInstruction {
  readonly institutionId: string;
  readonly direction: InstructionDirection;
  readonly amountMinor: bigint;
  readonly recordedAt: string;
}

export type CloseResult =
  /** `replayed`: a close with this idempotency key was made before; this is its outcome. */
  | { readonly kind: 'closed'; readonly closed: SettlementWindow; readonly opened: SettlementWindow; readonly replayed?: true }
  /** The idempotency key was used for a close of another currency or window. */
  | { readonly kind: 'key-reused' }
  /** The window asked for is not the OPEN one (already closed). */
  | { readonly kind: 'not-open'; readonly current: SettlementWindow }
  /** The window asked for does not exist. */
  | { readonly kind: 'not-found' };

/** The settlement bank's word that an instruction was carried out. */
export interface SettlementConfirmation {
  readonly institutionId: string;
  readonly direction: InstructionDirection;
  readonly amountMinor: bigint;
  /** The settlement bank's reference for the movement (e.g. its payment id). */
  readonly reference: string;
  /** Who confirmed: a settlement admin, or the settlement-bank adapter. */
  readonly confirmedBy: Actor;
}

export interface RecordedConfirmation extends SettlementConfirmation {
  readonly confirmedAt: string;
}

export type ConfirmResult =
  /** Recorded now; the window's part of the institution's exposure is released. */
  | { readonly kind: 'confirmed'; readonly confirmation: RecordedConfirmation; readonly window: SettlementWindow }
  /** The same confirmation was recorded before; nothing changed. */
  | { readonly kind: 'replayed'; readonly confirmation: RecordedConfirmation; readonly window: SettlementWindow }
  /** Another confirmation (other amount, direction or reference) stands for this institution. */
  | { readonly kind: 'conflict'; readonly existing: RecordedConfirmation }
  /** The window is not awaiting confirmations (still OPEN, not netted yet, or UNBALANCED). */
  | { readonly kind: 'not-pending'; readonly window: SettlementWindow }
  /** The institution's instruction has not been issued (recorded) yet: nothing can have been carried out. */
  | { readonly kind: 'not-issued'; readonly window: SettlementWindow };

/** What an institution may still send: its cap against its exposure over unsettled windows. */
export interface InstitutionExposure {
  readonly institutionId: string;
  readonly currency: CurrencyCode;
  /** Net position over every window not SETTLED yet, the open one included: positive when it owes. */
  readonly exposureMinor: bigint;
  /** Undefined when no cap is set: the institution cannot send interbank transfers. */
  readonly netDebitCapMinor: bigint | undefined;
  /** Items its position and exposure are spread over (0 until it first takes part or is capped). */
  readonly shardCount: number;
}

/** An institution's Net Debit Cap in a currency, and how many position shards carry it. */
export interface InstitutionLimits {
  readonly netDebitCapMinor: bigint | undefined;
  /** Position shards it has (0: none yet; its first interbank transfer or cap creates them). */
  readonly shardCount: number;
}

/** An institution's position in the OPEN window of a currency: positive when it owes. */
export interface InstitutionPosition {
  readonly windowId: string;
  readonly positionMinor: bigint;
}

/** A write lost to a concurrent one and was not applied; retrying it is safe. */
export class SettlementConflictError extends Error {
  override name = 'SettlementConflictError';
}

export interface SettlementStore {
  /** The OPEN window of a currency; the first one is opened on first use. */
  currentWindowId(currency: CurrencyCode): Promise<string>;
  getWindow(windowId: string): Promise<SettlementWindow | undefined>;
  /** The windows of a currency with sequence numbers in [from, to], newest first. */
  windowsBetween(currency: CurrencyCode, from: number, to: number): Promise<SettlementWindow[]>;
  /** Currencies that have settlement windows. */
  currencies(): Promise<CurrencyCode[]>;
  /**
   * Closes the currency's OPEN window and opens the next, atomically; with `windowId`, only if
   * that is the OPEN one; with `idempotencyKey`, a repeat returns the first close's outcome.
   * Throws SettlementConflictError when concurrent writes keep winning.
   */
  closeWindow(currency: CurrencyCode, windowId?: string, by?: Actor, idempotencyKey?: string): Promise<CloseResult>;
  /**
   * The currency's closed windows that have not settled, oldest first, at most `limit`: those in
   * `states` (CLOSED by default: the ones still to be netted and issued).
   */
  unsettledWindows(currency: CurrencyCode, limit: number, states?: readonly WindowState[]): Promise<SettlementWindow[]>;
  /** Every participant's position in the window, positive when it owes (read only: final once sealed). */
  positions(window: SettlementWindow): Promise<ReadonlyMap<string, bigint>>;
  /**
   * Makes a closed window final (no posting can land in it after this) and returns it with its
   * totals and every participant's position; releases the window from the exposure of every
   * institution that netted to zero. Idempotent.
   */
  sealWindow(window: SettlementWindow): Promise<{ readonly window: SettlementWindow; readonly positions: ReadonlyMap<string, bigint> }>;
  /** Stores the report unless one exists; returns the report that stands. */
  recordReport(report: SettlementReport): Promise<SettlementReport>;
  getReport(windowId: string): Promise<SettlementReport | undefined>;
  /** Claims the one operations alarm of an UNBALANCED report; false once claimed. */
  claimUnbalancedAlarm(windowId: string): Promise<boolean>;
  /** Gives the claim back after an alarm that could not be sent, so the retry sends it. */
  releaseUnbalancedAlarm(windowId: string): Promise<void>;
  /**
   * Records one instruction of a CLOSED window once, then marks the window PENDING_SETTLEMENT
   * when all `instructionCount` are in. Returns whether this call recorded it.
   */
  recordInstruction(windowId: string, instruction: Omit<RecordedInstruction, 'recordedAt'>, instructionCount: number): Promise<boolean>;
  /**
   * CLOSED -> PENDING_SETTLEMENT once all `instructionCount` instructions are recorded; with none
   * (every position netted to zero) CLOSED -> SETTLED at once: there is nothing to confirm.
   */
  markIssuedIfComplete(windowId: string, instructionCount: number): Promise<boolean>;
  /**
   * Records the settlement bank's confirmation of an institution's instruction once, releasing
   * the window's `positionMinor` from the institution's exposure in the same transaction; the
   * last confirmation marks the window SETTLED. The caller checks it against the report.
   * Throws SettlementConflictError when concurrent writes keep winning.
   */
  confirmSettlement(windowId: string, confirmation: SettlementConfirmation, positionMinor: bigint, confirmationCount: number): Promise<ConfirmResult>;
  /** The confirmations recorded for a window, in institution order. */
  confirmations(window: SettlementWindow, report: SettlementReport): Promise<RecordedConfirmation[]>;
  /** The institution's exposure and cap in a currency. */
  exposure(institutionId: string, currency: CurrencyCode): Promise<InstitutionExposure>;
  /** The institution's position in each of these windows (0 where it has none). */
  positionsOf(institutionId: string, windowIds: readonly string[]): Promise<ReadonlyMap<string, bigint>>;
  /** The report's instructions recorded so far, in institution order. */
  recordedInstructions(window: SettlementWindow, report: SettlementReport): Promise<RecordedInstruction[]>;
  /** Undefined when the institution has no cap in the currency (not capped). */
  netDebitCap(institutionId: string, currency: CurrencyCode): Promise<bigint | undefined>;
  /**
   * Sets the cap, keeping the shards' shares summing to it; `shardCount` grows the institution's
   * position shards to that many (never fewer). Returns the limits that now stand.
   */
  setNetDebitCap(institutionId: string, currency: CurrencyCode, netDebitCapMinor: bigint, by: Actor, shardCount?: number): Promise<InstitutionLimits>;
  /** 0 when the institution has no position in the OPEN window yet. */
  currentPosition(institutionId: string, currency: CurrencyCode): Promise<InstitutionPosition>;
}
