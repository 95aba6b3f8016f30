// Request body and header schemas of the public API (the OpenAPI document in docs/ mirrors them),
// and the translation of zod issues into RFC 9457 field errors with JSON Pointers.
import * as z from 'zod';
import { ACCOUNT_ID_PATTERN, CREDIT_SHARDS_MAX, CREDIT_SHARDS_MIN, INSTITUTION_ID_PATTERN, isFundingAccountId } from '../core/ledger/account.js';
import { AMOUNT_MINOR_MAX, OVERDRAFT_LIMIT_MINOR_MAX } from '../core/money/amount.js';
import { isCurrencyCode, type CurrencyCode } from '../core/money/currency.js';
import { REFERENCE_LENGTH_MAX } from '../core/events/envelope.js';
import { ALERT_RESOLUTIONS, ALERT_STATUSES, RESOLUTION_NOTE_LENGTH_MAX } from '../core/risk/alerts.js';
import { SEVERITIES } from '../core/risk/severity.js';
import { WINDOW_ID_PATTERN, WINDOW_STATES } from '../core/settlement/window.js';
import { CLIENT_CHANNELS, KEY_GRACE_SECONDS_MAX } from '../core/trust/api-client.js';
import { ApiProblem, type FieldError } from './problems.js';
import { NonIntegerLiteral } from './strict-json.js';

/**
 * 1-255 printable ASCII characters, not beginning or ending with a space: the signature covers the
 * value trimmed (RFC 9421), so a key that differed from it only by outer spaces could otherwise
 * name a second transfer under the same signature.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?$/;
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

const accountId = z.string().regex(ACCOUNT_ID_PATTERN, 'must be 3-64 characters of A-Z, a-z, 0-9, _ and -');
/**
 * Minor units, as a plain JSON integer literal: `1250`, never `1250.0`, `1.25e3` or `"1250"`.
 * The strict body parser hands any other numeric literal over as a NonIntegerLiteral, so it is
 * refused here with the reason instead of being silently rounded.
 */
function minorUnits(max: number, min: number) {
  return z
    .unknown()
    .superRefine((value, context) => {
      if (value instanceof NonIntegerLiteral) {
        const why = { fraction: 'has a fraction part', exponent: 'has an exponent', 'out-of-range': 'is out of range' }[value.problem];
        context.addIssue({ code: 'custom', message: `must be a plain JSON integer literal in minor units (no fraction, no exponent); ${value.raw.slice(0, 40)} ${why}` });
      } else if (typeof value !== 'number') {
        context.addIssue({ code: 'custom', message: `must be a JSON integer in minor units, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}` });
      } else if (value < min) {
        context.addIssue({ code: 'custom', message: min === 1 ? 'must be greater than zero' : 'must not be negative' });
      } else if (value > max) {
        context.addIssue({ code: 'custom', message: `must not exceed ${max}` });
      }
    })
    .transform((value) => value as number);
}
const amount = minorUnits(AMOUNT_MINOR_MAX, 1);
const currency = z
  .string()
  .refine((code): code is CurrencyCode => isCurrencyCode(code), 'must be an active ISO 4217 currency code');
// A lone UTF-16 surrogate is not text: storage and other parsers may each read it differently.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const reference = z.string().min(1).max(REFERENCE_LENGTH_MAX).refine((text) => !LONE_SURROGATE.test(text), 'must be well-formed Unicode text');

/** Funding accounts are the institution's own side of the ledger: no channel may move money on them. */
const customerAccountId = accountId.refine((id) => !isFundingAccountId(id), 'funding accounts cannot be used by a channel');

export const SubmitTransactionBody = z
  .strictObject({ debtorAccountId: customerAccountId, creditorAccountId: customerAccountId, amount, currency, reference: reference.optional() })
  .refine((body) => body.debtorAccountId !== body.creditorAccountId, {
    message: 'must differ from debtorAccountId',
    path: ['creditorAccountId'],
  });

export const OpenAccountBody = z.strictObject({
  accountId: accountId.refine((id) => !isFundingAccountId(id), "the 'fund-' prefix is reserved for funding accounts").optional(),
  institutionId: z.string().regex(INSTITUTION_ID_PATTERN, 'must be 2-32 characters of A-Z, a-z, 0-9, _ and -'),
  currency,
  overdraftLimit: minorUnits(OVERDRAFT_LIMIT_MINOR_MAX, 0).optional(),
  /** A hot collection account: its credits spread over this many shards (one per 200 credits a second expected). */
  creditShards: z.number().int().min(CREDIT_SHARDS_MIN).max(CREDIT_SHARDS_MAX).optional(),
});

export const DepositBody = z.strictObject({ amount, currency, reference: reference.optional() });

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new ApiProblem('validation-failed', 'one or more fields are invalid', { errors: fieldErrors(result.error, body) });
}

/**
 * zod 4 issues do not carry the offending input unless asked to, so whether a field is missing
 * is read off the input itself: only an absent member "is required"; a present one of the wrong
 * type says what it should be.
 */
function fieldErrors(error: z.ZodError, input: unknown): FieldError[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { pointer: pointerOf([...issue.path, issue.keys[0] ?? '']), detail: `unknown field(s): ${issue.keys.join(', ')}` };
    }
    const missing = (issue.code === 'invalid_type' || issue.code === 'custom') && !isPresent(input, issue.path);
    return { pointer: pointerOf(issue.path), detail: missing ? 'is required' : issue.message };
  });
}

function isPresent(input: unknown, path: readonly PropertyKey[]): boolean {
  let node: unknown = input;
  for (const segment of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return false;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node !== undefined;
}

function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function idempotencyKeyOf(value: string | undefined): string {
  if (value === undefined) throw new ApiProblem('invalid-header', 'the Idempotency-Key header is required');
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new ApiProblem('invalid-header', 'Idempotency-Key must be 1-255 printable ASCII characters, not beginning or ending with a space');
  }
  return value;
}

export const ResolveAlertBody = z.strictObject({
  resolution: z.enum(ALERT_RESOLUTIONS, { error: `must be one of ${ALERT_RESOLUTIONS.join(', ')}` }),
  note: z.string().trim().min(1, 'must say why').max(RESOLUTION_NOTE_LENGTH_MAX),
});

/** Alert listings return at most this many per page. */
export const ALERT_PAGE_SIZE_MAX = 100;
export const ALERT_PAGE_SIZE_DEFAULT = 25;
const CURSOR_LENGTH_MAX = 2_048;

export const ListAlertsQuery = z.strictObject({
  accountId: accountId.optional(),
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).optional(),
  status: z.enum(ALERT_STATUSES, { error: `must be one of ${ALERT_STATUSES.join(', ')}` }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `must be an integer from 1 to ${ALERT_PAGE_SIZE_MAX}`)
    .transform(Number)
    .refine((limit) => limit >= 1 && limit <= ALERT_PAGE_SIZE_MAX, `must be an integer from 1 to ${ALERT_PAGE_SIZE_MAX}`)
    .optional(),
  cursor: z.string().min(1).max(CURSOR_LENGTH_MAX).optional(),
});

/** A PEM public key is a few hundred characters; anything much longer is not one. */
const PUBLIC_KEY_PEM_LENGTH_MAX = 1_024;
const publicKeyPem = z.string().min(1).max(PUBLIC_KEY_PEM_LENGTH_MAX, `must be at most ${PUBLIC_KEY_PEM_LENGTH_MAX} characters of PEM`);

export const CreateClientBody = z.strictObject({
  channel: z.enum(CLIENT_CHANNELS, { error: `must be one of ${CLIENT_CHANNELS.join(', ')}` }),
  /** The client's own Ed25519 public key (SPKI PEM); without it a key pair is generated. */
  publicKey: publicKeyPem.optional(),
});

export const RotateKeyBody = z.strictObject({
  publicKey: publicKeyPem.optional(),
  /** How long the key being replaced keeps verifying. */
  previousKeyValidSeconds: boundedInteger(0, KEY_GRACE_SECONDS_MAX).optional(),
});

/** A plain JSON integer that is not money (a duration, a count). */
function boundedInteger(min: number, max: number) {
  return z.number({ error: `must be a JSON integer from ${min} to ${max}` }).int(`must be a JSON integer from ${min} to ${max}`).min(min).max(max);
}

/** Query parameters, validated; a problem names each bad one (pointer: the parameter name). */
export function parseQuery<T>(schema: z.ZodType<T>, parameters: Readonly<Record<string, string | undefined>> | null): T {
  const result = schema.safeParse(parameters ?? {});
  if (result.success) return result.data;
  throw new ApiProblem('invalid-query', 'one or more query parameters are invalid', { errors: fieldErrors(result.error, parameters ?? {}) });
}

/** The largest Net Debit Cap an admin may set (minor units): exact as a JSON number. */
export const NET_DEBIT_CAP_MAX = Number.MAX_SAFE_INTEGER;

/** The busiest rate an institution's settlement state is spread for (POSITION_SHARDS_MAX shards of 200/s). */
export const EXPECTED_TRANSFERS_PER_SECOND_MAX = 100_000;

export const SetLimitsBody = z.strictObject({
  currency,
  netDebitCap: minorUnits(NET_DEBIT_CAP_MAX, 0),
  /** Interbank transfers per second the institution is expected to pay plus receive at peak: how many position shards it gets. */
  expectedTransfersPerSecond: z.number().int().min(1).max(EXPECTED_TRANSFERS_PER_SECOND_MAX).optional(),
});

export const PositionQuery = z.strictObject({ currency });

export const AwaitingConfirmationQuery = z.strictObject({ currency });

/** The settlement bank's word, relayed by a settlement admin: one institution's instruction carried out. */
export const ConfirmSettlementBody = z.strictObject({
  institutionId: z.string().regex(INSTITUTION_ID_PATTERN, 'must be an institution id'),
  direction: z.enum(['PAY', 'RECEIVE'], { error: 'must be PAY or RECEIVE' }),
  amount: minorUnits(Number.MAX_SAFE_INTEGER, 1),
  reference,
});

const windowId = z.string().regex(WINDOW_ID_PATTERN, 'must be a settlement window id such as EUR-000000001');

export const CloseWindowBody = z
  .strictObject({ currency, windowId: windowId.optional() })
  .refine((body) => body.windowId === undefined || body.windowId.startsWith(`${body.currency}-`), {
    message: 'must be a window of the given currency',
    path: ['windowId'],
  });

export const WINDOW_PAGE_SIZE_MAX = 100;
export const WINDOW_PAGE_SIZE_DEFAULT = 25;

export const ListWindowsQuery = z.strictObject({
  currency: currency.optional(),
  state: z.enum(WINDOW_STATES, { error: `must be one of ${WINDOW_STATES.join(', ')}` }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `must be an integer from 1 to ${WINDOW_PAGE_SIZE_MAX}`)
    .transform(Number)
    .refine((limit) => limit >= 1 && limit <= WINDOW_PAGE_SIZE_MAX, `must be an integer from 1 to ${WINDOW_PAGE_SIZE_MAX}`)
    .optional(),
  cursor: z.string().min(1).max(CURSOR_LENGTH_MAX).optional(),
});
