// Builds the transfer events from domain records: TransactionRequested from a request, and
// TransactionPosted / TransactionRejected from a decided transfer. Deterministic ids make a
// re-publish after a crash a duplicate the topic and consumers absorb, never a second event.
import type { TransferRecord, TransferRequest } from '../ledger/transfer.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf, type PaymentEvent } from './envelope.js';

export interface Causation {
  /** The event or API request that caused this one. */
  readonly causationId: string;
  readonly occurredAt: string;
}

function transferData(request: TransferRequest): EventOf<'TransactionRequested'>['data'] {
  return {
    transactionId: request.transferId,
    debtorAccountId: request.debtorAccountId,
    creditorAccountId: request.creditorAccountId,
    amountMinor: request.amountMinor,
    currency: request.currency,
    channel: request.channel,
    ...(request.reference !== undefined ? { reference: request.reference } : {}),
    requestedAt: request.requestedAt,
    ...(request.clientId !== undefined ? { clientId: request.clientId } : {}),
    ...(request.initiatingInstitutionId !== undefined ? { initiatingInstitutionId: request.initiatingInstitutionId } : {}),
  };
}

function envelope(transferId: string, causation: Causation) {
  return { version: ENVELOPE_VERSION, occurredAt: causation.occurredAt, correlationId: transferId, causationId: causation.causationId };
}

export function transactionRequested(request: TransferRequest, causation: Causation): EventOf<'TransactionRequested'> {
  return {
    ...envelope(request.transferId, causation),
    id: eventIdFor.requested(request.transferId),
    type: 'TransactionRequested',
    data: transferData(request),
  };
}

export class MissingRejectionReasonError extends Error {
  override name = 'MissingRejectionReasonError';
}

export function transactionDecided(transfer: TransferRecord, causation: Causation): PaymentEvent {
  const data = transferData(transfer);
  if (transfer.status === 'POSTED') {
    return {
      ...envelope(transfer.transferId, causation),
      id: eventIdFor.posted(transfer.transferId),
      type: 'TransactionPosted',
      data: { ...data, postedAt: transfer.decidedAt },
    };
  }
  if (transfer.rejectionReason === undefined) throw new MissingRejectionReasonError(`transfer ${transfer.transferId} is REJECTED without a reason`);
  return {
    ...envelope(transfer.transferId, causation),
    id: eventIdFor.rejected(transfer.transferId),
    type: 'TransactionRejected',
    data: { ...data, rejectedAt: transfer.decidedAt, rejectionReason: transfer.rejectionReason },
  };
}

/** A resend under a taken id with other content: rejected, under an id of its own content. */
export function transactionModified(request: TransferRequest, contentHash: string, causation: Causation): PaymentEvent {
  return {
    ...envelope(request.transferId, causation),
    id: eventIdFor.modified(request.transferId, contentHash),
    type: 'TransactionRejected',
    data: { ...transferData(request), rejectedAt: causation.occurredAt, rejectionReason: 'MODIFIED_REQUEST' },
  };
}
