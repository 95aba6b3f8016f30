// The intake port: the durable record of a channel's request, written before it is queued, so an
// accepted request can be answered idempotently and never lost. Whether it still needs queuing is
// never stored here: it is "no outcome in the ledger yet", which replays and the recovery sweep
// check against the ledger itself.
import type { TransferRequest } from '../ledger/transfer.js';

export interface TransferIntake {
  readonly request: TransferRequest;
  readonly idempotencyKey: string;
  /** transferContentHash(request): tells a resend from a different request under the same key. */
  readonly contentHash: string;
  /** API Gateway request id of the first attempt: the causation id of TransactionRequested. */
  readonly apiRequestId: string;
  readonly acceptedAt: string;
}

export type RecordIntakeResult = { readonly created: true } | { readonly created: false; readonly existing: TransferIntake };

export interface IntakeStore {
  /** Records the intake unless one exists for the transfer id; returns the existing one if so. */
  recordAccepted(intake: TransferIntake): Promise<RecordIntakeResult>;
  /** Removes an intake, only if it still holds this content (a claim that turned out invalid). */
  discard(transferId: string, contentHash: string): Promise<void>;
  get(transferId: string): Promise<TransferIntake | undefined>;
  /**
   * Intakes accepted in [fromIso, toIso), oldest hour first, decided or not; each debtor
   * account's intakes in acceptance order (a listing cut short shows each account a prefix).
   */
  listAccepted(fromIso: string, toIso: string): AsyncIterable<TransferIntake>;
}
