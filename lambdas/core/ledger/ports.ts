// The ledger's port: what the posting handler and the API need from storage, in domain terms.
import type { Actor } from '../trust/api-client.js';
import type { Account } from './account.js';
import type { RejectionReason, TransferRecord, TransferRequest } from './transfer.js';

/**
 * The result of asking the ledger to post a transfer exactly once.
 * - `decided`: this call stored the outcome (POSTED, or REJECTED with its reason).
 * - `duplicate`: the transfer was already decided with the same content; its stored outcome.
 * - `modified`: the id is taken by a transfer with different content; nothing was written.
 */
export type PostingResult =
  | { readonly kind: 'decided'; readonly transfer: TransferRecord }
  | { readonly kind: 'duplicate'; readonly transfer: TransferRecord }
  | { readonly kind: 'modified'; readonly reason: Extract<RejectionReason, 'MODIFIED_REQUEST'>; readonly existing: TransferRecord };

/**
 * The result of a status change: `changed` by this call, already `unchanged` in the wanted state
 * (a repeated unfreeze is a no-op), `not-found`, or in a `conflict`ing state (a CLOSED account is
 * never unfrozen).
 */
export type StatusChange = 'changed' | 'unchanged' | 'not-found' | 'conflict';

export interface LedgerStore {
  /** Posts or rejects the transfer; idempotent by transfer id. */
  postTransfer(request: TransferRequest): Promise<PostingResult>;
  getTransfer(transferId: string): Promise<TransferRecord | undefined>;
  /** Which of these transfer ids have a decided (POSTED or REJECTED) record. */
  decidedTransferIds(transferIds: readonly string[]): Promise<Set<string>>;
  getAccount(accountId: string): Promise<Account | undefined>;
  /** Opens the account; returns false when an account with that id already exists. */
  openAccount(account: Account): Promise<boolean>;
  /**
   * FROZEN -> ACTIVE, forgetting which alert froze it and recording who unfroze it (freezing is
   * the alerts handler's, through AccountFreezer, atomically with the alert).
   */
  unfreezeAccount(accountId: string, by: Actor, at: string): Promise<StatusChange>;
}
