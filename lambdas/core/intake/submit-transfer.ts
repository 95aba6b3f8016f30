// The submission use case: a channel client asks to move money. The client may debit only its own
// institution's customer accounts; the request is recorded (the intake) before it is queued, so it
// can be answered idempotently and is never lost; a key reused for another body is refused; and
// TransactionRequested is published unless the ledger decided the transfer already. A publish
// that fails leaves the intake recorded: a retry with the same key, or the recovery sweep, queues it.
import assert from 'node:assert/strict';
import type { EventPublisher } from '../events/ports.js';
import { transactionRequested } from '../events/transfer-events.js';
import type { Account } from '../ledger/account.js';
import type { LedgerStore } from '../ledger/ports.js';
import { transferContentHash, transferIdFor, type TransferRequest } from '../ledger/transfer.js';
import { isTransferAmountMinor } from '../money/amount.js';
import type { CurrencyCode } from '../money/currency.js';
import type { ClientChannel } from '../trust/api-client.js';
import type { IntakeStore, TransferIntake } from './ports.js';

export interface SubmitTransferPorts {
  readonly ledger: Pick<LedgerStore, 'getAccount' | 'getTransfer'>;
  readonly intake: Pick<IntakeStore, 'recordAccepted' | 'discard'>;
  /** The transactions topic, for TransactionRequested. */
  readonly publisher: EventPublisher;
}

export interface SubmitTransferCommand {
  /** The authenticated client: it acts for its institution, on its channel. */
  readonly client: { readonly clientId: string; readonly institutionId: string; readonly channel: ClientChannel };
  readonly idempotencyKey: string;
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amountMinor: number;
  readonly currency: CurrencyCode;
  readonly reference?: string;
  /** The API request's id: the causation id of TransactionRequested. */
  readonly apiRequestId: string;
  readonly now: Date;
}

export type SubmitTransferOutcome =
  /** Recorded and queued (or decided already). `replayed`: an earlier request under the key was. */
  | { readonly kind: 'accepted'; readonly transferId: string; readonly replayed: boolean }
  /** Not a customer account of the client's institution (or no account at all): nothing recorded. */
  | { readonly kind: 'debtor-not-permitted' }
  /** The key was used for another body (recorded, or decided by the ledger): nothing changed. */
  | { readonly kind: 'key-reused'; readonly transferId: string }
  /** Recorded, but the topic refused it: a retry with the same key (or the sweep) queues it. */
  | { readonly kind: 'queue-unavailable'; readonly transferId: string; readonly cause: unknown };

export async function submitTransfer(ports: SubmitTransferPorts, command: SubmitTransferCommand): Promise<SubmitTransferOutcome> {
  assert.ok(isTransferAmountMinor(command.amountMinor), 'the amount is validated before it is submitted');
  assert.notEqual(command.debtorAccountId, command.creditorAccountId, 'debtor and creditor are validated to differ');
  const request = transferRequestOf(command);
  const { transferId } = request;
  const contentHash = transferContentHash(request);
  // Was this transfer decided long ago (the ledger outlives intake records, which expire through
  // TTL, so a key reused after that is still caught)? And may this client debit that account?
  const [debtor, decided] = await Promise.all([ports.ledger.getAccount(command.debtorAccountId), ports.ledger.getTransfer(transferId)]);
  // Refused before anything is recorded.
  if (!mayDebit(command.client, debtor)) return { kind: 'debtor-not-permitted' };
  const intake: TransferIntake = { request, idempotencyKey: command.idempotencyKey, contentHash, apiRequestId: command.apiRequestId, acceptedAt: command.now.toISOString() };
  const recorded = await ports.intake.recordAccepted(intake);
  const current = recorded.created ? intake : recorded.existing;
  if (current.contentHash !== contentHash || (decided !== undefined && decided.contentHash !== contentHash)) {
    // A claim just made for a body the ledger contradicts must not linger as an accepted request.
    if (recorded.created) await ports.intake.discard(transferId, contentHash);
    return { kind: 'key-reused', transferId };
  }
  // Not decided yet: (re)publish. A replay's publish is absorbed by the topic's deduplication
  // within five minutes and by the ledger's idempotency after that; and if the first publish was
  // lost, the replay is what queues the request.
  if (decided === undefined) {
    try {
      await ports.publisher.publish(transactionRequested(current.request, { causationId: current.apiRequestId, occurredAt: current.acceptedAt }));
    } catch (cause) {
      return { kind: 'queue-unavailable', transferId: current.request.transferId, cause };
    }
  }
  return { kind: 'accepted', transferId, replayed: !recorded.created };
}

/**
 * A client debits only customer accounts of its own institution. An unknown account gets the
 * same answer as another institution's: which accounts exist elsewhere is not the client's to learn.
 */
function mayDebit(client: SubmitTransferCommand['client'], debtor: Account | undefined): boolean {
  return debtor !== undefined && debtor.institutionId === client.institutionId && debtor.kind === 'CUSTOMER';
}

function transferRequestOf(command: SubmitTransferCommand): TransferRequest {
  return {
    transferId: transferIdFor(command.client.clientId, command.idempotencyKey),
    debtorAccountId: command.debtorAccountId,
    creditorAccountId: command.creditorAccountId,
    amountMinor: command.amountMinor,
    currency: command.currency,
    channel: command.client.channel,
    ...(command.reference !== undefined ? { reference: command.reference } : {}),
    requestedAt: command.now.toISOString(),
    clientId: command.client.clientId,
    initiatingInstitutionId: command.client.institutionId,
  };
}
