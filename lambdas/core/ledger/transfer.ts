// Transfers: the immutable record of money moving from a debtor to a creditor account, its
// content hash (what makes "same id, different content" detectable) and its outcome.
import { createHash } from 'node:crypto';
import type { CurrencyCode } from '../money/currency.js';

/** Who asked: a payment channel, or ADMIN for back-office deposits. */
export const TRANSFER_CHANNELS = ['WEB', 'MOBILE', 'POS', 'ADMIN'] as const;
export type TransferChannel = (typeof TRANSFER_CHANNELS)[number];

export const REJECTION_REASONS = [
  'INSUFFICIENT_FUNDS',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_FROZEN',
  'ACCOUNT_CLOSED',
  'CURRENCY_MISMATCH',
  /** Only the back office (ADMIN) may debit an institution's funding account. */
  'DEBTOR_NOT_PERMITTED',
  /** An interbank transfer would take the payer institution's position beyond its Net Debit Cap. */
  'PAYER_LIMIT_EXCEEDED',
  'MODIFIED_REQUEST',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Rejections that are stored on the transfer record; MODIFIED_REQUEST never is (the id is taken). */
export type StoredRejectionReason = Exclude<RejectionReason, 'MODIFIED_REQUEST'>;

export interface TransferRequest {
  /** The idempotency key of the transfer: derived from channel + the client's Idempotency-Key. */
  readonly transferId: string;
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amountMinor: number;
  readonly currency: CurrencyCode;
  readonly channel: TransferChannel;
  readonly reference?: string;
  readonly requestedAt: string;
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
 * the same request at a later time is the same transfer.
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
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The transfer id for a client request: a UUID-shaped digest of channel + Idempotency-Key, so a
 * retry of the same request always maps to the same transfer and can never post twice.
 */
export function transferIdFor(channel: TransferChannel, idempotencyKey: string): string {
  const hex = createHash('sha256').update(`${channel}\n${idempotencyKey}`).digest('hex');
  // RFC 9562 layout with version 8 (custom) and the RFC variant bits.
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const TRANSFER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
