// The posting rules: whether a transfer may post against the current state of its two accounts,
// and if not, why. The DynamoDB adapter encodes the same rules as condition expressions and uses
// this function to explain a cancelled transaction, so there is exactly one statement of them.
import type { Account } from './account.js';
import type { StoredRejectionReason, TransferRequest } from './transfer.js';

export type PostingDecision =
  | { readonly kind: 'post' }
  | { readonly kind: 'reject'; readonly reason: StoredRejectionReason };

/** May this account be debited `amountMinor`? Returns the reason it may not, or undefined. */
export function debitRefusal(
  debtor: Account | undefined,
  request: Pick<TransferRequest, 'currency' | 'amountMinor' | 'channel' | 'initiatingInstitutionId'>,
): StoredRejectionReason | undefined {
  if (debtor === undefined) return 'ACCOUNT_NOT_FOUND';
  // A channel client moves only its own institution's money; the API refuses anything else
  // first, and this holds even for a transfer that reached the ledger by another path.
  if (request.channel !== 'ADMIN' && request.initiatingInstitutionId !== debtor.institutionId) return 'DEBTOR_NOT_PERMITTED';
  if (debtor.status === 'CLOSED') return 'ACCOUNT_CLOSED';
  if (debtor.status === 'FROZEN') return 'ACCOUNT_FROZEN';
  if (debtor.currency !== request.currency) return 'CURRENCY_MISMATCH';
  // A funding account has no floor: letting a channel debit it would create money from nothing.
  if (debtor.kind === 'FUNDING') return request.channel === 'ADMIN' ? undefined : 'DEBTOR_NOT_PERMITTED';
  const floorMinor = -debtor.overdraftLimitMinor;
  if (debtor.balanceMinor - BigInt(request.amountMinor) < floorMinor) return 'INSUFFICIENT_FUNDS';
  return undefined;
}

/** May this account be credited? A FROZEN account still receives: a freeze blocks outflows only. */
export function creditRefusal(
  creditor: Account | undefined,
  request: Pick<TransferRequest, 'currency'>,
): StoredRejectionReason | undefined {
  if (creditor === undefined) return 'ACCOUNT_NOT_FOUND';
  if (creditor.status === 'CLOSED') return 'ACCOUNT_CLOSED';
  if (creditor.currency !== request.currency) return 'CURRENCY_MISMATCH';
  return undefined;
}

/** The debtor's refusal wins over the creditor's: it is the party the channel acts for. */
export function decidePosting(
  debtor: Account | undefined,
  creditor: Account | undefined,
  request: Pick<TransferRequest, 'currency' | 'amountMinor' | 'channel' | 'initiatingInstitutionId'>,
): PostingDecision {
  const reason = debitRefusal(debtor, request) ?? creditRefusal(creditor, request);
  return reason === undefined ? { kind: 'post' } : { kind: 'reject', reason };
}
