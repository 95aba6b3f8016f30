// Proves transfer identity: ids derived from channel + Idempotency-Key are stable, distinct per
// channel and UUID-shaped; the content hash changes with any field that changes what a transfer does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRANSFER_ID_PATTERN, transferContentHash, transferIdFor, type TransferRequest } from '../../../lambdas/core/ledger/transfer.js';

const request: TransferRequest = {
  transferId: transferIdFor('WEB', 'key-1'),
  debtorAccountId: 'acc-a',
  creditorAccountId: 'acc-b',
  amountMinor: 100,
  currency: 'EUR',
  channel: 'WEB',
  requestedAt: '2026-01-01T00:00:00.000Z',
};

describe('transferIdFor', () => {
  it('maps the same channel and key to the same UUID-shaped id, and different ones apart', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 255 }), fc.string({ minLength: 1, maxLength: 255 }), (key, other) => {
        const id = transferIdFor('WEB', key);
        expect(id).toMatch(TRANSFER_ID_PATTERN);
        expect(transferIdFor('WEB', key)).toBe(id);
        expect(transferIdFor('POS', key)).not.toBe(id);
        if (other !== key) expect(transferIdFor('WEB', other)).not.toBe(id);
      }),
    );
  });
});

describe('transferContentHash', () => {
  it('ignores when the request was made but not what it does', () => {
    const hash = transferContentHash(request);

    expect(transferContentHash({ ...request, requestedAt: '2027-01-01T00:00:00.000Z' })).toBe(hash);
    expect(transferContentHash({ ...request, amountMinor: 101 })).not.toBe(hash);
    expect(transferContentHash({ ...request, creditorAccountId: 'acc-c' })).not.toBe(hash);
    expect(transferContentHash({ ...request, currency: 'USD' })).not.toBe(hash);
    expect(transferContentHash({ ...request, reference: 'x' })).not.toBe(hash);
  });
});
