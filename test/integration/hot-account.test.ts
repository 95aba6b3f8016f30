// Hot collection accounts, against DynamoDB Local and the in-memory engine: credits to an account
// opened with credit shards land on the shards (one drawn at random per posting), one DynamoDB request each;
// its balance counts them; a debit that needs them sweeps them in first; and credits, debits and
// sweeps racing each other lose and create nothing.
import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_ATTEMPTS_MAX } from '../../lambdas/adapters/dynamodb/batch-get.js';
import { accountKey, creditShardFromItem, creditShardKey } from '../../lambdas/adapters/dynamodb/ledger-items.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import type { Account } from '../../lambdas/core/ledger/account.js';
import { expectMoneyConserved, ledgerOf, openFundedAccount, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { interceptRequests, withSnapshotsCancelled } from '../support/fault.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

describe.each(BACKENDS)('hot accounts on %s', (backend) => {
  let world: TestWorld;
  let ledger: DynamoLedgerStore;
  let handle: LedgerHandle;

  beforeAll(async () => {
    world = await createTestWorld('hotacct', backend);
    ({ ledger, handle } = ledgerOf(world));
  });

  afterAll(async () => {
    await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
    world.destroy();
  });

  /** Every account here is at `institutionId`, whose channel initiates. */
  async function post(debtor: string, creditor: string, amount: number, institutionId?: string) {
    const result = await ledger.postTransfer(transferRequest(debtor, creditor, amount, institutionId === undefined ? {} : { initiatingInstitutionId: institutionId }));
    if (result.kind === 'modified') throw new Error('unexpected modified request');
    return result.transfer;
  }

  async function openMerchant(institutionId: string, creditShards: number): Promise<Account> {
    const merchant: Account = {
      accountId: `acc-merchant-${randomUUID().slice(0, 8)}`,
      institutionId,
      currency: 'EUR',
      kind: 'CUSTOMER',
      status: 'ACTIVE',
      balanceMinor: 0n,
      overdraftLimitMinor: 0n,
      openedAt: new Date().toISOString(),
      creditShards,
    };
    expect(await ledger.openAccount(merchant)).toBe(true);
    return merchant;
  }

  async function ownBalance(accountId: string): Promise<bigint> {
    const { Item } = await world.clients.dynamodb.send(new GetItemCommand({ TableName: world.bindings.tables.ledger, Key: accountKey(accountId), ConsistentRead: true }));
    return BigInt(Item?.balanceMinor?.N ?? 'NaN');
  }

  async function shardBalances(accountId: string, shards: number): Promise<bigint[]> {
    return Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        const { Item } = await world.clients.dynamodb.send(new GetItemCommand({ TableName: world.bindings.tables.ledger, Key: creditShardKey(accountId, shard), ConsistentRead: true }));
        return creditShardFromItem(Item!).balanceMinor;
      }),
    );
  }

  it("spreads a hot account's credits over its shards, counts them in its balance, and sweeps them in for a debit that needs them", async () => {
    const institutionId = `bank-${randomUUID().slice(0, 6)}`;
    const merchant = await openMerchant(institutionId, 4);
    const payers = await Promise.all(Array.from({ length: 12 }, () => openFundedAccount(handle, { institutionId, balanceMinor: 1_000n })));
    const supplier = await openFundedAccount(handle, { institutionId });

    const paid = await Promise.all(payers.map((payer) => post(payer.accountId, merchant.accountId, 100)));
    const shardsAfterCredits = await shardBalances(merchant.accountId, 4);
    const ownAfterCredits = await ownBalance(merchant.accountId);
    const payout = await post(merchant.accountId, supplier.accountId, 1_000, institutionId);
    const tooMuch = await post(merchant.accountId, supplier.accountId, 500, institutionId);

    expect(paid.every((transfer) => transfer.status === 'POSTED')).toBe(true);
    expect(ownAfterCredits).toBe(0n);
    expect(shardsAfterCredits.reduce((sum, balance) => sum + balance, 0n)).toBe(1_200n);
    expect(shardsAfterCredits.filter((balance) => balance > 0n).length).toBeGreaterThan(1);
    expect(payout.status).toBe('POSTED');
    expect([tooMuch.status, tooMuch.rejectionReason]).toEqual(['REJECTED', 'INSUFFICIENT_FUNDS']);
    expect((await ledger.getAccount(merchant.accountId))?.balanceMinor).toBe(200n);
    // The payout swept only what it needed; a full sweep (as a periodic one would) takes the rest.
    const rest = (await shardBalances(merchant.accountId, 4)).reduce((sum, balance) => sum + balance, 0n);
    expect(await ownBalance(merchant.accountId)).toBe(200n - rest);
    expect(await ledger.sweepCredits(merchant.accountId, 4)).toBe(rest);
    expect(await shardBalances(merchant.accountId, 4)).toEqual([0n, 0n, 0n, 0n]);
    expect(await ownBalance(merchant.accountId)).toBe(200n);
  });

  it('loses and creates nothing while credits, debits and sweeps race each other', async () => {
    const institutionId = `bank-${randomUUID().slice(0, 6)}`;
    const merchant = await openMerchant(institutionId, 3);
    const payers = await Promise.all(Array.from({ length: 6 }, () => openFundedAccount(handle, { institutionId, balanceMinor: 10_000n })));
    const supplier = await openFundedAccount(handle, { institutionId });

    const outcomes = await Promise.all([
      ...Array.from({ length: 24 }, (_, index) => post(payers[index % payers.length]!.accountId, merchant.accountId, 50)),
      ...Array.from({ length: 12 }, () => post(merchant.accountId, supplier.accountId, 100, institutionId)),
      ledger.sweepCredits(merchant.accountId, 3),
    ]);

    const transfers = outcomes.filter((outcome) => typeof outcome === 'object');
    const credits = transfers.filter((transfer) => transfer.creditorAccountId === merchant.accountId);
    const debits = transfers.filter((transfer) => transfer.debtorAccountId === merchant.accountId);
    const postedDebits = debits.filter((transfer) => transfer.status === 'POSTED').length;
    expect(credits.every((transfer) => transfer.status === 'POSTED')).toBe(true);
    expect(debits.every((transfer) => transfer.status === 'POSTED' || transfer.rejectionReason === 'INSUFFICIENT_FUNDS')).toBe(true);
    const balance = (await ledger.getAccount(merchant.accountId))?.balanceMinor;
    expect(balance).toBe(24n * 50n - BigInt(postedDebits) * 100n);
    expect(balance).toBeGreaterThanOrEqual(0n);
    expect((await ledger.getAccount(supplier.accountId))?.balanceMinor).toBe(BigInt(postedDebits) * 100n);
    // The own balance never went below zero: the shards were swept in, never overdrawn.
    expect(await ownBalance(merchant.accountId)).toBeGreaterThanOrEqual(0n);
  });

  it("reads a hot account's balance item by item when writes in flight cancel every snapshot of it", async () => {
    const institutionId = `bank-${randomUUID().slice(0, 6)}`;
    const merchant = await openMerchant(institutionId, 3);
    const payer = await openFundedAccount(handle, { institutionId, balanceMinor: 1_000n });
    for (const amount of [10, 20, 30]) await post(payer.accountId, merchant.accountId, amount);
    const { result: account, snapshots } = await withSnapshotsCancelled(world.clients.dynamodb, () => ledger.getAccount(merchant.accountId));

    expect(snapshots).toBe(SNAPSHOT_ATTEMPTS_MAX);
    expect(account?.balanceMinor).toBe(60n);
    expect(await ownBalance(merchant.accountId)).toBe(0n);
  });

  it('credits a hot account in one DynamoDB request once the store knows it, and opens it only once', async () => {
    const institutionId = `bank-${randomUUID().slice(0, 6)}`;
    const merchant = await openMerchant(institutionId, 2);
    const payer = await openFundedAccount(handle, { institutionId, balanceMinor: 1_000n });
    await post(payer.accountId, merchant.accountId, 1);
    const commands: string[] = [];
    const restore = interceptRequests(world.clients.dynamodb, (command) => void commands.push(command.constructor.name));
    try {
      await post(payer.accountId, merchant.accountId, 10);
    } finally {
      restore();
    }

    expect(commands).toEqual(['TransactWriteItemsCommand']);
    expect(await ledger.openAccount(merchant)).toBe(false);
    expect((await ledger.getAccount(merchant.accountId))?.balanceMinor).toBe(11n);
  });
});
