// Proves which failures the queue consumers treat as transient (worth every receive the queue
// allows) and which not (quarantined after a few receives): AWS throttling, service faults, lost
// races and socket errors are transient; a cancellation for a failed condition, a validation
// error and a programming error are not.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { InternalErrorException } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { internalServerError, throttlingError, transactionConflict } from '../../lambdas/adapters/memory/dynamodb.js';
import { isTransientFailure } from '../../lambdas/shared/sqs-batch.js';
import { PostingConflictError } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SettlementConflictError } from '../../lambdas/core/settlement/ports.js';
import { FreezeConflictError } from '../../lambdas/adapters/dynamodb/account-freezer.js';
import { BatchGetIncompleteError } from '../../lambdas/adapters/dynamodb/batch-get.js';

const canceled = (...codes: string[]) =>
  Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', CancellationReasons: codes.map((Code) => ({ Code })) });

describe('isTransientFailure', () => {
  it.each([
    ['DynamoDB throttling', throttlingError()],
    ['a DynamoDB internal error', internalServerError()],
    ['a transaction that met another', transactionConflict(3, 1)],
    ['a transaction throttled on one item', canceled('None', 'ThrottlingError')],
    ['an SNS internal error', new InternalErrorException({ message: 'boom', $metadata: {} })],
    ['a socket reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['an SDK timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
    ['an unmodelled 503', Object.assign(new Error('Service Unavailable'), { name: 'Unknown', $metadata: { httpStatusCode: 503 } })],
    ['an unmodelled 429', Object.assign(new Error('Slow down'), { name: 'Unknown', $metadata: { httpStatusCode: 429 } })],
    ['a posting that kept losing to concurrent writes', new PostingConflictError('write conflict persisted after 7 attempts')],
    ['a settlement write that kept losing to concurrent writes', new SettlementConflictError('confirming conflicted; retry')],
    ['a freeze that lost to a posting on the account', new FreezeConflictError('freezing acc-1 conflicted')],
    ['a batch read DynamoDB left unprocessed while throttling', new BatchGetIncompleteError('3 keys unprocessed')],
  ])('%s is transient', (_label, error) => {
    expect(isTransientFailure(error)).toBe(true);
  });

  it.each([
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a validation error', Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })],
    ['a failed condition', new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } })],
    ['a cancellation for a failed condition, beside a conflict', canceled('ConditionalCheckFailed', 'TransactionConflict')],
    ['a cancellation without a reason', canceled('None', 'None')],
    ['a thrown string', 'not an error'],
    ['a KMS key that is disabled', Object.assign(new Error('key is disabled'), { name: 'KMSDisabledException', $metadata: { httpStatusCode: 400 } })],
  ])('%s is not transient', (_label, error) => {
    expect(isTransientFailure(error)).toBe(false);
  });
});
