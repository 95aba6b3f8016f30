// The one envelope every message travels in, and the schema of each event type's data. Validated
// with zod on publish and on consume, so a malformed message is caught at the boundary.
import * as z from 'zod';
import { ACCOUNT_ID_PATTERN, INSTITUTION_ID_PATTERN } from '../ledger/account.js';
import { WINDOW_ID_PATTERN } from '../settlement/window.js';
import { REJECTION_REASONS, TRANSFER_CHANNELS, TRANSFER_ID_PATTERN } from '../ledger/transfer.js';
import { AMOUNT_MINOR_MAX } from '../money/amount.js';
import { RULE_IDS } from '../risk/rules.js';
import { SEVERITIES } from '../risk/severity.js';
import { isCurrencyCode, type CurrencyCode } from '../money/currency.js';
import { CLIENT_ID_PATTERN } from '../trust/api-client.js';

export const ENVELOPE_VERSION = 1 as const;
/** SQS/SNS allow 128 characters for MessageDeduplicationId; event ids double as those. */
export const EVENT_ID_LENGTH_MAX = 128;
export const REFERENCE_LENGTH_MAX = 140;

const accountId = z.string().regex(ACCOUNT_ID_PATTERN);
const currency = z.string().refine((code): code is CurrencyCode => isCurrencyCode(code), 'unknown ISO 4217 currency code');
const isoTimestamp = z.iso.datetime({ offset: false });

const transferFields = {
  transactionId: z.string().regex(TRANSFER_ID_PATTERN),
  debtorAccountId: accountId,
  creditorAccountId: accountId,
  amountMinor: z.number().int().positive().max(AMOUNT_MINOR_MAX),
  currency,
  channel: z.enum(TRANSFER_CHANNELS),
  reference: z.string().min(1).max(REFERENCE_LENGTH_MAX).optional(),
  requestedAt: isoTimestamp,
  /** The API client that asked, and its institution (the only one it may debit); absent for ADMIN. */
  clientId: z.string().regex(CLIENT_ID_PATTERN).optional(),
  initiatingInstitutionId: z.string().regex(INSTITUTION_ID_PATTERN).optional(),
};

const distinctParties = (data: { debtorAccountId: string; creditorAccountId: string }): boolean =>
  data.debtorAccountId !== data.creditorAccountId;

export const TransactionRequestedData = z
  .strictObject(transferFields)
  .refine(distinctParties, 'debtor and creditor must differ');

export const TransactionPostedData = z.strictObject({ ...transferFields, postedAt: isoTimestamp });

export const TransactionRejectedData = z.strictObject({
  ...transferFields,
  rejectedAt: isoTimestamp,
  rejectionReason: z.enum(REJECTION_REASONS),
});

const evidence = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const RiskAlertRaisedData = z.strictObject({
  /** Derived from the transfer: re-screening a redelivered event can never raise a second alert. */
  alertId: z.string().min(1).max(EVENT_ID_LENGTH_MAX),
  transactionId: z.string().regex(TRANSFER_ID_PATTERN),
  accountId: accountId,
  severity: z.enum(SEVERITIES),
  totalWeight: z.number().int().nonnegative(),
  rulesHit: z.array(z.strictObject({ ruleId: z.enum(RULE_IDS), weight: z.number().int().positive(), evidence })).min(1),
  amountMinor: z.number().int().positive().max(AMOUNT_MINOR_MAX),
  currency,
  channel: z.enum(TRANSFER_CHANNELS),
  raisedAt: isoTimestamp,
});

export const AccountFrozenData = z.strictObject({
  accountId: accountId,
  alertId: z.string().min(1).max(EVENT_ID_LENGTH_MAX),
  transactionId: z.string().regex(TRANSFER_ID_PATTERN),
  frozenAt: isoTimestamp,
});

const windowId = z.string().regex(WINDOW_ID_PATTERN);
/** Settlement amounts are sums: exact decimal strings, as they may exceed 2^53. */
const decimalMinor = z.string().regex(/^-?\d{1,30}$/);

export const SettlementWindowClosedData = z.strictObject({
  windowId,
  currency,
  closedAt: isoTimestamp,
});

export const SettlementInstructionData = z.strictObject({
  windowId,
  currency,
  institutionId: z.string().regex(INSTITUTION_ID_PATTERN),
  direction: z.enum(['PAY', 'RECEIVE']),
  amountMinor: decimalMinor,
  /** How many instructions settle the window: the window is SETTLED once all are recorded. */
  instructionCount: z.number().int().positive(),
  issuedAt: isoTimestamp,
});

/** The settlement bank's acknowledgement that it carried out an institution's instruction. */
export const SettlementConfirmedData = z.strictObject({
  windowId,
  currency,
  institutionId: z.string().regex(INSTITUTION_ID_PATTERN),
  direction: z.enum(['PAY', 'RECEIVE']),
  amountMinor: decimalMinor,
  /** The settlement bank's reference for the movement. */
  reference: z.string().min(1).max(REFERENCE_LENGTH_MAX),
  confirmedAt: isoTimestamp,
});

const envelopeFields = {
  id: z.string().min(1).max(EVENT_ID_LENGTH_MAX),
  version: z.literal(ENVELOPE_VERSION),
  occurredAt: isoTimestamp,
  correlationId: z.string().min(1).max(EVENT_ID_LENGTH_MAX),
  causationId: z.string().min(1).max(EVENT_ID_LENGTH_MAX),
};

export const EventEnvelope = z.discriminatedUnion('type', [
  z.strictObject({ ...envelopeFields, type: z.literal('TransactionRequested'), data: TransactionRequestedData }),
  z.strictObject({ ...envelopeFields, type: z.literal('TransactionPosted'), data: TransactionPostedData }),
  z.strictObject({ ...envelopeFields, type: z.literal('TransactionRejected'), data: TransactionRejectedData }),
  z.strictObject({ ...envelopeFields, type: z.literal('RiskAlertRaised'), data: RiskAlertRaisedData }),
  z.strictObject({ ...envelopeFields, type: z.literal('AccountFrozen'), data: AccountFrozenData }),
  z.strictObject({ ...envelopeFields, type: z.literal('SettlementWindowClosed'), data: SettlementWindowClosedData }),
  z.strictObject({ ...envelopeFields, type: z.literal('SettlementInstruction'), data: SettlementInstructionData }),
  z.strictObject({ ...envelopeFields, type: z.literal('SettlementConfirmed'), data: SettlementConfirmedData }),
]);

export type PaymentEvent = z.infer<typeof EventEnvelope>;
export type EventType = PaymentEvent['type'];
export type EventOf<T extends EventType> = Extract<PaymentEvent, { type: T }>;

/** Which message group an event belongs to: ordering is per (debtor) account, or per settlement window. */
export function messageGroupOf(event: PaymentEvent): string {
  if ('windowId' in event.data) return event.data.windowId;
  return 'debtorAccountId' in event.data ? event.data.debtorAccountId : event.data.accountId;
}

/** Event ids are deterministic so a re-publish after a crash is deduplicated, never doubled. */
export const eventIdFor = {
  requested: (transactionId: string): string => `${transactionId}.requested`,
  posted: (transactionId: string): string => `${transactionId}.posted`,
  rejected: (transactionId: string): string => `${transactionId}.rejected`,
  /** A modified resend gets its own id (per content hash) so it is not deduplicated against the original. */
  modified: (transactionId: string, contentHash: string): string => `${transactionId}.modified.${contentHash.slice(0, 32)}`,
  alert: (transactionId: string): string => `${transactionId}.alert`,
  frozen: (alertId: string): string => `${alertId}.frozen`,
  windowClosed: (windowId: string): string => `${windowId}.closed`,
  instruction: (windowId: string, institutionId: string): string => `${windowId}.instruction.${institutionId}`,
  /**
   * Per content (a digest of direction, amount and reference): a corrected confirmation sent after
   * a wrong one was quarantined must not be deduplicated against it.
   */
  confirmed: (windowId: string, institutionId: string, contentDigest: string): string => `${windowId}.confirmed.${institutionId}.${contentDigest.slice(0, 32)}`,
};
