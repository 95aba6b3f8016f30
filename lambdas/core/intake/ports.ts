// The intake port: the durable record of a channel's request, written before it is queued, so an
// accepted request can be answered idempotently and never lost. An intake is listed as undecided
// until the posting handler (or the recovery sweep, having seen its outcome in the ledger) marks it
// decided; the mark is only a hint that keeps the listing small: the ledger stays the truth, and
// the sweep checks every listed intake against it before re-queuing.
import type { TransferRequest } from '../ledger/transfer.js';

export interface TransferIntake {
  readonly request: TransferRequest;
  readonly idempotencyKey: string;
  /** transferContentHash(request): tells a resend from a different request under the same key. */
  readonly contentHash: string;
  /** API Gateway request id of the first attempt: the causation id of TransactionRequested. */
  readonly apiRequestId: string;
  readonly acceptedAt: string;
  /** When the recovery sweep last re-queued it, and how often it has; absent until it does. */
  readonly requeuedAt?: string;
  readonly requeueCount?: number;
}

/**
 * A listed intake that cannot be read back into a request (a damaged item, or one written by a
 * version whose fields this one does not accept). It can never be re-queued as it is.
 */
export interface UnreadableIntake {
  readonly transferId: string;
  readonly unreadable: string;
}

export type RecordIntakeResult = { readonly created: true } | { readonly created: false; readonly existing: TransferIntake };

export interface IntakeStore {
  /** Records the intake unless one exists for the transfer id; returns the existing one if so. */
  recordAccepted(intake: TransferIntake): Promise<RecordIntakeResult>;
  /** Removes an intake, only if it still holds this content (a claim that turned out invalid). */
  discard(transferId: string, contentHash: string): Promise<void>;
  get(transferId: string): Promise<TransferIntake | undefined>;
  /**
   * Intakes not yet marked decided and accepted before `acceptedBeforeIso`, at most `limit` of
   * them, without reading decided ones. Each debtor account's intakes come in acceptance order and
   * a listing cut short by `limit` shows every account a prefix of its own (never a later intake
   * without the earlier ones); the limit is shared fairly, so one busy account cannot hide others.
   */
  listUndecided(acceptedBeforeIso: string, limit: number): AsyncIterable<TransferIntake | UnreadableIntake>;
  /** Takes the intake out of the undecided listing; a no-op when it is gone or already marked. */
  markDecided(transferId: string): Promise<void>;
  /** Records that the sweep re-queued it (now), so the next sweeps wait longer before doing it again. */
  markRequeued(transferId: string, atIso: string): Promise<void>;
  /**
   * Takes an intake that can never be re-queued out of the undecided listing, keeping it with the
   * reason and time for operations (it still answers its idempotency key); a no-op once decided.
   */
  quarantine(transferId: string, reason: string, atIso: string): Promise<void>;
}
