// Proves the event envelope schema accepts well-formed events and refuses, with a path to the
// culprit, the malformed ones a consumer must quarantine.
import { describe, expect, it } from 'vitest';
import { EventEnvelope, eventIdFor } from '../../../lambdas/core/events/envelope.js';
import { transferIdFor } from '../../../lambdas/core/ledger/transfer.js';

const transactionId = transferIdFor('MOBILE', 'k');
const valid = {
  id: eventIdFor.requested(transactionId),
  type: 'TransactionRequested',
  version: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: transactionId,
  causationId: 'req-1',
  data: {
    transactionId,
    debtorAccountId: 'acc-a',
    creditorAccountId: 'acc-b',
    amountMinor: 100,
    currency: 'EUR',
    channel: 'MOBILE',
    requestedAt: '2026-01-01T00:00:00.000Z',
  },
};

describe('EventEnvelope', () => {
  it('accepts a well-formed TransactionRequested', () => {
    expect(EventEnvelope.safeParse(valid).success).toBe(true);
  });

  it.each([
    ['a float amount', { data: { ...valid.data, amountMinor: 1.5 } }, 'data.amountMinor'],
    ['an unknown currency', { data: { ...valid.data, currency: 'EURO' } }, 'data.currency'],
    ['an unknown field', { data: { ...valid.data, iban: 'DE00' } }, 'data'],
    ['debtor equal to creditor', { data: { ...valid.data, creditorAccountId: 'acc-a' } }, 'data'],
    ['an unknown type', { type: 'TransactionTeleported' }, 'type'],
    ['another version', { version: 2 }, 'version'],
  ])('refuses %s', (_label, change, path) => {
    const result = EventEnvelope.safeParse({ ...valid, ...change });

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});
