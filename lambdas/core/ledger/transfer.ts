// Transfers: the immutable record of money moving from a debtor to a creditor account, its
// content hash (what makes "same id, different content" detectable) and its outcome.
import { createHash } from 'node:crypto';
import type { CurrencyCode } from '../money/currency.js';
import type { Actor } from '../trust/api-client.js';

/** Who asked: a payment channel, or ADMIN for back-office deposits. */
export const TRANSFER_CHANNELS = ['WEB', 'MOBILE', 'POS', 'ADMIN'] as const;
export type TransferChannel = (typeof TRANSFER_CHANNELS)[number];

export const REJECTION_REASONS = [
  'INSUFFICIENT_FUNDS',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_FROZEN',
  'ACCOUNT_CLOSED',
  'CURRENCY_MISMATCH',
  /**
   * The initiator may not debit this account: a channel client debits only its own institution's
   * customer accounts, and only the back office (ADMIN) an institution's funding account.
   */
  'DEBTOR_NOT_PERMITTED',
  /** An interbank transfer would take the payer institution's position beyond its Net Debit Cap. */
  'PAYER_LIMIT_EXCEEDED',
  'MODIFIED_REQUEST',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Rejections that are stored on the transfer record; MODIFIED_REQUEST never is (the id is taken). */
export type StoredRejectionReason = Exclude<RejectionReason, 'MODIFIED_REQUEST'>;

export interface TransferRequest {
  /** The idempotency key of the transfer: derived from the API client + its Idempotency-Key. */
  readonly transferId: string;
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amountMinor: number;
  readonly currency: CurrencyCode;
  readonly channel: TransferChannel;
  readonly reference?: string;
  readonly requestedAt: string;
  /** The API client that asked (absent for the back office's deposits). */
  readonly clientId?: string;
  /**
   * The institution of that client: the only one whose accounts it may debit. The posting rules
   * hold every channel transfer to it, whatever path the transfer took to the ledger.
   */
  readonly initiatingInstitutionId?: string;
  /** The back-office principal who made a deposit (ADMIN transfers only). */
  readonly initiatedBy?: Actor;
}

export type TransferStatus = 'POSTED' | 'REJECTED';

export interface TransferRecord extends TransferRequest {
  readonly status: TransferStatus;
  readonly rejectionReason?: StoredRejectionReason;
  readonly contentHash: string;
  readonly decidedAt: string;
}

/**
 * SHA-256 over the fields that define what the transfer does. requestedAt is excluded: a resend of
 * the same request at a later time is the same transfer; so is initiatedBy: two operators
 * replaying one deposit make one deposit. The client and its institution are appended only when
 * present, so hashes of transfers stored before they existed stay what they were.
 */
export function transferContentHash(request: TransferRequest): string {
  const canonical = JSON.stringify([
    request.transferId,
    request.debtorAccountId,
    request.creditorAccountId,
    request.amountMinor,
    request.currency,
    request.channel,
    request.reference ?? null,
    ...(request.clientId !== undefined || request.initiatingInstitutionId !== undefined
      ? [request.clientId ?? null, request.initiatingInstitutionId ?? null]
      : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The transfer id for a request: a UUID-shaped digest of who asked (an API client's id, or ADMIN
 * for the back office) + its Idempotency-Key, so a retry of the same request always maps to the
 * same transfer and can never post twice, and two clients' keys can never collide.
 */
export function transferIdFor(initiator: string, idempotencyKey: string): string {
  const hex = createHash('sha256').update(`${initiator}\n${idempotencyKey}`).digest('hex');
  // RFC 9562 layout with version 8 (custom) and the RFC variant bits.
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const TRANSFER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
