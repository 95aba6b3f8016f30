// The posting use case: decide a requested transfer exactly once, announce the outcome, and take
// the request out of the recovery sweep's listing. The order is what makes a crash harmless: the
// ledger write is idempotent by transfer id, the outcome event has a deterministic id (a repeat is
// a duplicate the topic absorbs), and the intake is marked decided last, so a crash before it only
// leaves the sweep to find the outcome in the ledger and mark it.
import type { EventOf, PaymentEvent } from '../events/envelope.js';
import type { EventPublisher } from '../events/ports.js';
import { transactionDecided, transactionModified } from '../events/transfer-events.js';
import type { IntakeStore } from '../intake/ports.js';
import type { LedgerStore, PostingResult } from './ports.js';
import { transferContentHash, type TransferRequest } from './transfer.js';

export interface DecideTransferPorts {
  readonly ledger: LedgerStore;
  readonly publisher: EventPublisher;
  readonly intake: Pick<IntakeStore, 'markDecided'>;
  readonly now: () => Date;
}

/** The posting result, and whether the intake was marked decided (false: the sweep will). */
export type Decision = PostingResult & { readonly marked: boolean };

export async function decideTransfer(ports: DecideTransferPorts, requested: EventOf<'TransactionRequested'>): Promise<Decision> {
  const result = await ports.ledger.postTransfer(transferRequestOf(requested));
  await ports.publisher.publish(outcomeEvent(requested, result, ports.now()));
  // Every result means the ledger holds an outcome under this id (a modified request's is the
  // original's), so the intake under it needs no recovery. The mark is only a hint (the sweep
  // repairs a missing one), so failing it must not fail the message: that would block the
  // account's group and publish the outcome again on every retry.
  try {
    await ports.intake.markDecided(requested.data.transactionId);
  } catch {
    return { ...result, marked: false };
  }
  return { ...result, marked: true };
}

export function transferRequestOf(event: EventOf<'TransactionRequested'>): TransferRequest {
  const { transactionId, reference, clientId, initiatingInstitutionId, ...fields } = event.data;
  return {
    transferId: transactionId,
    ...fields,
    ...(reference !== undefined ? { reference } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(initiatingInstitutionId !== undefined ? { initiatingInstitutionId } : {}),
  };
}

/** The event that reports a posting result. */
export function outcomeEvent(cause: EventOf<'TransactionRequested'>, result: PostingResult, now: Date): PaymentEvent {
  const causation = { causationId: cause.id, occurredAt: now.toISOString() };
  if (result.kind === 'modified') {
    const request = transferRequestOf(cause);
    return transactionModified(request, transferContentHash(request), causation);
  }
  return transactionDecided(result.transfer, causation);
}
