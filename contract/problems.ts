// The problem catalogue: every error the API answers with, type -> HTTP status and title (RFC 9457
// application/problem+json). Part of the contract shared by the handlers (lambdas/api/problems.ts
// renders it) and the stack (lib/constructs/problem-responses.ts maps API Gateway's own errors
// onto it), so neither depends on the other.

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'urn:payments-backbone:problem:';

export const PROBLEM_TYPES = {
  'bad-request': { status: 400, title: 'The HTTP request is malformed' },
  'malformed-json': { status: 400, title: 'Request body is not valid JSON' },
  'duplicate-json-member': { status: 400, title: 'Request body has a duplicate member name' },
  'content-digest-mismatch': { status: 400, title: 'Content-Digest is missing or does not match the body' },
  'invalid-header': { status: 400, title: 'A required header is missing or invalid' },
  'invalid-query': { status: 400, title: 'A query parameter is invalid' },
  'signature-required': { status: 401, title: 'Request signature required' },
  'invalid-signature': { status: 401, title: 'Request signature is invalid' },
  'signature-expired': { status: 401, title: 'Request signature is outside its validity window' },
  'invalid-api-key': { status: 403, title: 'API key not recognised' },
  forbidden: { status: 403, title: 'Not allowed for this caller' },
  'debtor-not-permitted': { status: 403, title: 'The client may not debit this account' },
  'not-found': { status: 404, title: 'Resource not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this resource' },
  'idempotency-key-reused': { status: 409, title: 'Idempotency-Key already used for a different request' },
  'account-exists': { status: 409, title: 'An account with this id already exists' },
  'account-state-conflict': { status: 409, title: "The account's state does not allow this change" },
  'client-revoked': { status: 409, title: 'The API client is revoked' },
  'alert-already-resolved': { status: 409, title: 'The alert was already resolved differently' },
  'window-not-open': { status: 409, title: 'The settlement window is not open' },
  'window-not-pending': { status: 409, title: 'The settlement window has no instructions to confirm' },
  'confirmation-conflict': { status: 409, title: 'Another settlement confirmation stands for this institution and window' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Content-Type must be application/json' },
  'validation-failed': { status: 422, title: 'Request body failed validation' },
  'transfer-rejected': { status: 422, title: 'The ledger rejected the transfer' },
  'confirmation-mismatch': { status: 422, title: "The confirmation does not match the window's settlement instruction" },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  'headers-too-large': { status: 431, title: 'Request headers too large' },
  'internal-error': { status: 500, title: 'Internal error' },
  'queue-unavailable': { status: 503, title: 'The request could not be queued; retry with the same Idempotency-Key' },
  'settlement-busy': { status: 503, title: 'The settlement window changed while closing it; retry' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemType = keyof typeof PROBLEM_TYPES;

