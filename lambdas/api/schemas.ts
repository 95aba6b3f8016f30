// Request body and header schemas of the public API (the OpenAPI document in docs/ mirrors them),
// and the translation of zod issues into RFC 9457 field errors with JSON Pointers.
import { z } from 'zod';
import { ACCOUNT_ID_PATTERN, INSTITUTION_ID_PATTERN, isFundingAccountId } from '../core/ledger/account.js';
import { AMOUNT_MINOR_MAX, OVERDRAFT_LIMIT_MINOR_MAX } from '../core/money/amount.js';
import { isCurrencyCode, type CurrencyCode } from '../core/money/currency.js';
import { REFERENCE_LENGTH_MAX } from '../core/events/envelope.js';
import { ALERT_RESOLUTIONS, ALERT_STATUSES, RESOLUTION_NOTE_LENGTH_MAX } from '../core/risk/alerts.js';
import { SEVERITIES } from '../core/risk/severity.js';
import { WINDOW_ID_PATTERN, WINDOW_STATES } from '../core/settlement/window.js';
import { ApiProblem, type FieldError } from './problems.js';

export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]{1,255}$/;

const accountId = z.string().regex(ACCOUNT_ID_PATTERN, 'must be 3-64 characters of A-Z, a-z, 0-9, _ and -');
const amount = z
  .number({ error: 'must be an integer number of minor units' })
  .int('must be an integer number of minor units')
  .positive('must be greater than zero')
  .max(AMOUNT_MINOR_MAX, `must not exceed ${AMOUNT_MINOR_MAX}`);
const currency = z
  .string()
  .refine((code): code is CurrencyCode => isCurrencyCode(code), 'must be an active ISO 4217 currency code');
const reference = z.string().min(1).max(REFERENCE_LENGTH_MAX);

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
  overdraftLimit: z.number().int().min(0).max(OVERDRAFT_LIMIT_MINOR_MAX).optional(),
});

export const DepositBody = z.strictObject({ amount, currency, reference: reference.optional() });

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new ApiProblem('validation-failed', 'one or more fields are invalid', { errors: fieldErrors(result.error) });
}

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { pointer: pointerOf([...issue.path, issue.keys[0] ?? '']), detail: `unknown field(s): ${issue.keys.join(', ')}` };
    }
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return { pointer: pointerOf(issue.path), detail: missing ? 'is required' : issue.message };
  });
}

function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function idempotencyKeyOf(value: string | undefined): string {
  if (value === undefined) throw new ApiProblem('invalid-header', 'the Idempotency-Key header is required');
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new ApiProblem('invalid-header', 'Idempotency-Key must be 1-255 printable ASCII characters');
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

/** Query parameters, validated; a problem names each bad one (pointer: the parameter name). */
export function parseQuery<T>(schema: z.ZodType<T>, parameters: Readonly<Record<string, string | undefined>> | null): T {
  const result = schema.safeParse(parameters ?? {});
  if (result.success) return result.data;
  throw new ApiProblem('invalid-query', 'one or more query parameters are invalid', { errors: fieldErrors(result.error) });
}

/** The largest Net Debit Cap an admin may set (minor units): exact as a JSON number. */
export const NET_DEBIT_CAP_MAX = Number.MAX_SAFE_INTEGER;

export const SetLimitsBody = z.strictObject({
  currency,
  netDebitCap: z
    .number({ error: 'must be an integer number of minor units' })
    .int('must be an integer number of minor units')
    .min(0, 'must not be negative')
    .max(NET_DEBIT_CAP_MAX, `must not exceed ${NET_DEBIT_CAP_MAX}`),
});

export const PositionQuery = z.strictObject({ currency });

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
