// The intake port: the durable record of a channel's request, written before it is queued, so an
// accepted request can be answered idempotently and never lost (a recovery sweep re-queues
// requests that were accepted but never reached an outcome).
import type { TransferRequest } from '../ledger/transfer.js';

/** ACCEPTED: recorded, not yet confirmed on the topic. QUEUED: the topic accepted it. */
export type IntakeState = 'ACCEPTED' | 'QUEUED';

export interface TransferIntake {
  readonly request: TransferRequest;
  readonly idempotencyKey: string;
  /** transferContentHash(request): tells a resend from a different request under the same key. */
  readonly contentHash: string;
  /** API Gateway request id of the first attempt: the causation id of TransactionRequested. */
  readonly apiRequestId: string;
  readonly state: IntakeState;
  readonly acceptedAt: string;
  readonly queuedAt?: string;
}

export type RecordIntakeResult = { readonly created: true } | { readonly created: false; readonly existing: TransferIntake };

export interface IntakeStore {
  /** Records the intake unless one exists for the transfer id; returns the existing one if so. */
  recordAccepted(intake: TransferIntake): Promise<RecordIntakeResult>;
  markQueued(transferId: string, queuedAt: string): Promise<void>;
  get(transferId: string): Promise<TransferIntake | undefined>;
  /** Intakes accepted in [fromIso, toIso), oldest hour first, whatever their state. */
  listAccepted(fromIso: string, toIso: string): AsyncIterable<TransferIntake>;
}
