// The LedgerStore contract, run against DynamoDB Local and the in-memory engine: the DynamoDB
// ledger posts each transfer exactly once: one transaction per posting, every rejection reason
// derived and stored, redelivery and modified resends absorbed, concurrent debits never overspend,
// and money conserved throughout.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLedgerStore} from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { PostingConflictError, SameAccountTransferError } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import type { LedgerStore, PostingResult } from '../../lambdas/core/ledger/ports.js';
import { decidePosting } from '../../lambdas/core/ledger/posting-rules.js';
import type { TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import { balancesByCurrency, expectMoneyConserved, ledgerOf, openFundedAccount, TEST_RISK_ACTOR, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

function statusOf(result: PostingResult): string {
  if (result.kind === 'modified') return 'MODIFIED_REQUEST';
  return result.transfer.status === 'POSTED' ? 'POSTED' : `REJECTED:${result.transfer.rejectionReason}`;
}

/** Posting against one hot account can exhaust in-place conflict retries; a queue would redeliver. */
async function postUntilDecided(store: LedgerStore, request: TransferRequest): Promise<PostingResult> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await store.postTransfer(request);
    } catch (error) {
      if (!(error instanceof PostingConflictError)) throw error;
    }
  }
  throw new Error(`transfer ${request.transferId} never decided`);
}

describe.each(BACKENDS)('DynamoLedgerStore on %s', (backend) => {
  let world: TestWorld;
  let handle: LedgerHandle;
  let ledger: DynamoLedgerStore;

  beforeAll(async () => {
    world = await createTestWorld('ledger', backend);
    ({ ledger, handle } = ledgerOf(world));
  });

  afterAll(async () => {
    // Conservation holds for everything every test in this block did.
    await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
    world.destroy();
  });

  async function balanceOf(accountId: string): Promise<bigint | undefined> {
    return (await ledger.getAccount(accountId))?.balanceMinor;
  }

  describe('DynamoLedgerStore.postTransfer', () => {
    it('moves the amount from debtor to creditor and stores the transfer as POSTED', async () => {
      const debtor = await openFundedAccount(handle, { balanceMinor: 10_000n });
      const creditor = await openFundedAccount(handle);
      const request = transferRequest(debtor.accountId, creditor.accountId, 2_500, { reference: 'invoice 42' });

      const result = await ledger.postTransfer(request);

      expect(result.kind).toBe('decided');
      expect(statusOf(result)).toBe('POSTED');
      expect(await balanceOf(debtor.accountId)).toBe(7_500n);
      expect(await balanceOf(creditor.accountId)).toBe(2_500n);
      const stored = await ledger.getTransfer(request.transferId);
      expect(stored).toMatchObject({ status: 'POSTED', amountMinor: 2_500, reference: 'invoice 42', channel: 'WEB' });
    });

    it('lets a debit reach exactly the overdraft limit and no further', async () => {
      const debtor = await openFundedAccount(handle, { balanceMinor: 100n, overdraftLimitMinor: 50n });
      const creditor = await openFundedAccount(handle);

      const toLimit = await ledger.postTransfer(transferRequest(debtor.accountId, creditor.accountId, 150));
      const beyond = await ledger.postTransfer(transferRequest(debtor.accountId, creditor.accountId, 1));

      expect(statusOf(toLimit)).toBe('POSTED');
      expect(statusOf(beyond)).toBe('REJECTED:INSUFFICIENT_FUNDS');
      expect(await balanceOf(debtor.accountId)).toBe(-50n);
    });

    it.each([
      ['INSUFFICIENT_FUNDS', 'the debtor cannot cover it', { debtor: { balanceMinor: 99n } }],
      ['ACCOUNT_FROZEN', 'the debtor is frozen', { debtor: { balanceMinor: 1_000n, status: 'FROZEN' } }],
      ['ACCOUNT_CLOSED', 'the debtor is closed', { debtor: { balanceMinor: 1_000n, status: 'CLOSED' } }],
      ['ACCOUNT_CLOSED', 'the creditor is closed', { debtor: { balanceMinor: 1_000n }, creditor: { status: 'CLOSED' } }],
      ['CURRENCY_MISMATCH', 'the debtor holds another currency', { debtor: { balanceMinor: 1_000n, currency: 'USD' } }],
      ['CURRENCY_MISMATCH', 'the creditor holds another currency', { debtor: { balanceMinor: 1_000n }, creditor: { currency: 'GBP' } }],
    ] as const)('rejects with %s when %s, changing no balance', async (reason, _case, fixture) => {
      const debtor = await openFundedAccount(handle, fixture.debtor);
      const creditor = await openFundedAccount(handle, 'creditor' in fixture ? fixture.creditor : {});
      const request = transferRequest(debtor.accountId, creditor.accountId, 100);

      const result = await ledger.postTransfer(request);

      expect(statusOf(result)).toBe(`REJECTED:${reason}`);
      expect(await balanceOf(debtor.accountId)).toBe(debtor.balanceMinor);
      expect(await balanceOf(creditor.accountId)).toBe(creditor.balanceMinor);
      expect(await ledger.getTransfer(request.transferId)).toMatchObject({ status: 'REJECTED', rejectionReason: reason });
    });

    it('rejects with ACCOUNT_NOT_FOUND for an unknown debtor or creditor', async () => {
      const known = await openFundedAccount(handle, { balanceMinor: 500n });

      const unknownDebtor = await ledger.postTransfer(transferRequest('acc-nobody', known.accountId, 100));
      const unknownCreditor = await ledger.postTransfer(transferRequest(known.accountId, 'acc-nobody', 100));

      expect(statusOf(unknownDebtor)).toBe('REJECTED:ACCOUNT_NOT_FOUND');
      expect(statusOf(unknownCreditor)).toBe('REJECTED:ACCOUNT_NOT_FOUND');
      expect(await balanceOf(known.accountId)).toBe(500n);
    });

    it('rejects a channel debit of a funding account (it would create money) but lets ADMIN debit it', async () => {
      const customer = await openFundedAccount(handle, { institutionId: 'bank-guard' });

      const byChannel = await ledger.postTransfer(transferRequest('fund-bank-guard-eur', customer.accountId, 1_000, { channel: 'POS' }));
      const byAdmin = await ledger.postTransfer(transferRequest('fund-bank-guard-eur', customer.accountId, 1_000, { channel: 'ADMIN' }));

      expect(statusOf(byChannel)).toBe('REJECTED:DEBTOR_NOT_PERMITTED');
      expect(statusOf(byAdmin)).toBe('POSTED');
      expect(await balanceOf(customer.accountId)).toBe(1_000n);
    });

    it('refuses a transfer from an account to itself before DynamoDB does', async () => {
      const account = await openFundedAccount(handle, { balanceMinor: 100n });

      await expect(ledger.postTransfer(transferRequest(account.accountId, account.accountId, 1))).rejects.toThrow(SameAccountTransferError);
      expect(await balanceOf(account.accountId)).toBe(100n);
    });

    it('credits a FROZEN account: a freeze blocks outflows only', async () => {
      const debtor = await openFundedAccount(handle, { balanceMinor: 500n });
      const frozen = await openFundedAccount(handle, { status: 'FROZEN' });

      const result = await ledger.postTransfer(transferRequest(debtor.accountId, frozen.accountId, 200));

      expect(statusOf(result)).toBe('POSTED');
      expect(await balanceOf(frozen.accountId)).toBe(200n);
    });

    it('lets a funding account go negative without limit', async () => {
      const customer = await openFundedAccount(handle, { institutionId: 'bank-fund', balanceMinor: 1_000_000n });
      const funding = await ledger.getAccount('fund-bank-fund-eur');

      expect(customer.balanceMinor).toBe(1_000_000n);
      expect(funding?.balanceMinor).toBeLessThanOrEqual(-1_000_000n);
    });

    it('reports the stored outcome on redelivery and posts nothing twice', async () => {
      const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
      const creditor = await openFundedAccount(handle);
      const request = transferRequest(debtor.accountId, creditor.accountId, 300);

      const first = await ledger.postTransfer(request);
      const second = await ledger.postTransfer({ ...request, requestedAt: new Date(Date.now() + 5_000).toISOString() });

      expect(first.kind).toBe('decided');
      expect(second.kind).toBe('duplicate');
      expect(statusOf(second)).toBe('POSTED');
      expect(await balanceOf(debtor.accountId)).toBe(700n);
      expect(await balanceOf(creditor.accountId)).toBe(300n);
    });

    it('reproduces a stored rejection on redelivery even after the funds arrive', async () => {
      const debtor = await openFundedAccount(handle, { balanceMinor: 100n });
      const creditor = await openFundedAccount(handle);
      const request = transferRequest(debtor.accountId, creditor.accountId, 500);
      const first = await ledger.postTransfer(request);
      await ledger.postTransfer(transferRequest('fund-bank-a-eur', debtor.accountId, 1_000, { channel: 'ADMIN' }));

      const again = await ledger.postTransfer(request);

      expect(statusOf(first)).toBe('REJECTED:INSUFFICIENT_FUNDS');
      expect(again.kind).toBe('duplicate');
      expect(statusOf(again)).toBe('REJECTED:INSUFFICIENT_FUNDS');
      expect(await balanceOf(debtor.accountId)).toBe(1_100n);
    });

    it('refuses the same transfer id with different content as MODIFIED_REQUEST and writes nothing', async () => {
      const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
      const creditor = await openFundedAccount(handle);
      const request = transferRequest(debtor.accountId, creditor.accountId, 100);
      await ledger.postTransfer(request);

      const modified = await ledger.postTransfer({ ...request, amountMinor: 900 });

      expect(modified.kind).toBe('modified');
      expect(await balanceOf(debtor.accountId)).toBe(900n);
      expect(await ledger.getTransfer(request.transferId)).toMatchObject({ amountMinor: 100, status: 'POSTED' });
    });

    it('posts exactly the affordable transfers when many debits race on one account', async () => {
      const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
      const creditors = await Promise.all([1, 2, 3].map(() => openFundedAccount(handle)));
      const requests = Array.from({ length: 16 }, (_, index) =>
        transferRequest(debtor.accountId, creditors[index % creditors.length]!.accountId, 100),
      );

      const results = await Promise.all(requests.map((request) => postUntilDecided(ledger, request)));

      const posted = results.filter((result) => statusOf(result) === 'POSTED').length;
      const rejected = results.filter((result) => statusOf(result) === 'REJECTED:INSUFFICIENT_FUNDS').length;
      expect(posted).toBe(10);
      expect(rejected).toBe(6);
      expect(await balanceOf(debtor.accountId)).toBe(0n);
      const credited = await Promise.all(creditors.map((creditor) => balanceOf(creditor.accountId)));
      expect(credited.reduce<bigint>((sum, balance) => sum + (balance ?? 0n), 0n)).toBe(1_000n);
    });

    it('decides every transfer as the pure rules do, keeps limits and conserves money (random sequences)', async () => {
      const specs = [
        { balanceMinor: 0n, overdraftLimitMinor: 0n },
        { balanceMinor: 500n, overdraftLimitMinor: 100n },
        { balanceMinor: 1_000n, overdraftLimitMinor: 200n, status: 'FROZEN' as const },
        { balanceMinor: 2_000n, overdraftLimitMinor: 300n, currency: 'USD' as const },
        { balanceMinor: 800n, overdraftLimitMinor: 0n, status: 'CLOSED' as const },
      ];
      const accounts = await Promise.all(specs.map((spec) => openFundedAccount(handle, { institutionId: 'bank-prop', ...spec })));
      const ids = [...accounts.map((account) => account.accountId), 'fund-bank-prop-eur', 'acc-missing'];
      const transfer = fc.record({
        from: fc.nat(ids.length - 1),
        to: fc.nat(ids.length - 1),
        amountMinor: fc.integer({ min: 1, max: 1_500 }),
        currency: fc.constantFrom('EUR', 'EUR', 'USD' as const),
        channel: fc.constantFrom('WEB', 'ADMIN' as const),
        // A channel transfer from a client of the debtor's own institution, or of another one.
        foreignInitiator: fc.boolean(),
      });
      const sumsBefore = await balancesByCurrency(world.clients.dynamodb, world.bindings.tables.ledger);

      await fc.assert(
        fc.asyncProperty(fc.array(transfer, { minLength: 1, maxLength: 10 }), async (transfers) => {
          for (const { from, to, amountMinor, currency, channel, foreignInitiator } of transfers) {
            if (from === to) continue;
            const [debtor, creditor] = await Promise.all([ledger.getAccount(ids[from]!), ledger.getAccount(ids[to]!)]);
            const request = transferRequest(ids[from]!, ids[to]!, amountMinor, { currency, channel, ...(foreignInitiator && channel !== 'ADMIN' ? { initiatingInstitutionId: 'bank-elsewhere' } : {}) });
            const expected = decidePosting(debtor, creditor, request);

            const result = await ledger.postTransfer(request);

            expect(statusOf(result)).toBe(expected.kind === 'post' ? 'POSTED' : `REJECTED:${expected.reason}`);
          }
          for (const account of await Promise.all(accounts.map((a) => ledger.getAccount(a.accountId)))) {
            expect(account!.balanceMinor).toBeGreaterThanOrEqual(-account!.overdraftLimitMinor);
          }
          expect(await balancesByCurrency(world.clients.dynamodb, world.bindings.tables.ledger)).toEqual(sumsBefore);
        }),
        { numRuns: 8 },
      );
    });
  });

  describe('a frozen account, and DynamoLedgerStore.unfreezeAccount', () => {
    it('blocks debits but not credits while frozen, and restores debits on unfreeze, idempotently', async () => {
      const account = await openFundedAccount(handle, { balanceMinor: 1_000n, status: 'FROZEN' });
      const other = await openFundedAccount(handle, { balanceMinor: 1_000n });

      const debit = await ledger.postTransfer(transferRequest(account.accountId, other.accountId, 100));
      const credit = await ledger.postTransfer(transferRequest(other.accountId, account.accountId, 100));
      const unfrozen = await ledger.unfreezeAccount(account.accountId, TEST_RISK_ACTOR, new Date().toISOString());
      const unfrozenAgain = await ledger.unfreezeAccount(account.accountId, TEST_RISK_ACTOR, new Date().toISOString());
      const debitAfter = await ledger.postTransfer(transferRequest(account.accountId, other.accountId, 100));

      expect([unfrozen, unfrozenAgain]).toEqual(['changed', 'unchanged']);
      expect(statusOf(debit)).toBe('REJECTED:ACCOUNT_FROZEN');
      expect(statusOf(credit)).toBe('POSTED');
      expect(statusOf(debitAfter)).toBe('POSTED');
      expect(await balanceOf(account.accountId)).toBe(1_000n);
    });

    it('reports an unknown account and refuses to unfreeze a closed one', async () => {
      const closed = await openFundedAccount(handle, { status: 'CLOSED' });

      expect(await ledger.unfreezeAccount('acc-never-opened', TEST_RISK_ACTOR, new Date().toISOString())).toBe('not-found');
      expect(await ledger.unfreezeAccount(closed.accountId, TEST_RISK_ACTOR, new Date().toISOString())).toBe('conflict');
      expect((await ledger.getAccount(closed.accountId))?.status).toBe('CLOSED');
    });
  });
});
