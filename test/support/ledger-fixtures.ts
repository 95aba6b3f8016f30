// Fixtures for ledger tests: accounts opened straight through the store, transfer requests with
// fresh ids, and the per-currency sum of balances used to check conservation of money.
import { randomUUID } from 'node:crypto';
import { PutItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { fundingAccountId, type Account } from '../../lambdas/core/ledger/account.js';
import type { LedgerStore } from '../../lambdas/core/ledger/ports.js';
import type { TransferIntake } from '../../lambdas/core/intake/ports.js';
import { transferContentHash, transferIdFor, type TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import { accountFromItem, accountToItem, creditShardFromItem } from '../../lambdas/adapters/dynamodb/ledger-items.js';
import { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import type { TestWorld } from './world.js';

export interface LedgerHandle {
  readonly ledger: LedgerStore;
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** The DynamoDB ledger of a test world, and the handle fixtures open accounts through. */
export function ledgerOf(world: Pick<TestWorld, 'clients' | 'bindings'>): { ledger: DynamoLedgerStore; handle: LedgerHandle } {
  const ledger = new DynamoLedgerStore({ client: world.clients.dynamodb, tableName: world.bindings.tables.ledger });
  return { ledger, handle: { ledger, client: world.clients.dynamodb, tableName: world.bindings.tables.ledger } };
}

export interface AccountFixture {
  readonly institutionId?: string;
  readonly currency?: CurrencyCode;
  readonly balanceMinor?: bigint;
  readonly overdraftLimitMinor?: bigint;
  readonly status?: Account['status'];
}

let sequence = 0;

/**
 * Opens a customer account funded from its institution's funding account, so the ledger stays
 * balanced: the funding account holds the negative of every opening balance.
 */
export async function openFundedAccount(handle: LedgerHandle, fixture: AccountFixture = {}): Promise<Account> {
  const { ledger } = handle;
  const institutionId = fixture.institutionId ?? 'bank-a';
  const currency = fixture.currency ?? 'EUR';
  const account: Account = {
    accountId: `acc-${++sequence}-${randomUUID().slice(0, 8)}`,
    institutionId,
    currency,
    kind: 'CUSTOMER',
    status: 'ACTIVE',
    balanceMinor: 0n,
    overdraftLimitMinor: fixture.overdraftLimitMinor ?? 0n,
    openedAt: new Date().toISOString(),
  };
  await ledger.openAccount(account);
  await ledger.openAccount({
    ...account,
    accountId: fundingAccountId(institutionId, currency),
    kind: 'FUNDING',
    overdraftLimitMinor: 0n,
  });
  const balance = fixture.balanceMinor ?? 0n;
  if (balance > 0n) {
    const result = await ledger.postTransfer(transferRequest(fundingAccountId(institutionId, currency), account.accountId, Number(balance), { currency, channel: 'ADMIN' }));
    if (result.kind !== 'decided' || result.transfer.status !== 'POSTED') throw new Error(`funding ${account.accountId} failed`);
  }
  if (fixture.status !== undefined && fixture.status !== 'ACTIVE') {
    // CLOSED has no port (accounts are never closed through this API yet): a test-only overwrite.
    const current = await ledger.getAccount(account.accountId);
    if (current === undefined) throw new Error('account vanished');
    await handle.client.send(new PutItemCommand({ TableName: handle.tableName, Item: accountToItem({ ...current, status: fixture.status }) }));
  }
  const opened = await ledger.getAccount(account.accountId);
  if (opened === undefined) throw new Error('account vanished');
  institutionOfFixture.set(opened.accountId, opened.institutionId);
  return opened;
}

/**
 * A transfer as the API would build it: a channel transfer comes from a client of the debtor's
 * institution (as opened by openFundedAccount; bank-a for an account these fixtures did not
 * open), so the posting rules' institution check passes unless a test overrides it.
 */
export function transferRequest(
  debtorAccountId: string,
  creditorAccountId: string,
  amountMinor: number,
  overrides: Partial<TransferRequest> = {},
): TransferRequest {
  const channel = overrides.channel ?? 'WEB';
  const client = channel === 'ADMIN' ? {} : { clientId: 'cli_fixture0000000000000', initiatingInstitutionId: institutionOfFixture.get(debtorAccountId) ?? 'bank-a' };
  return {
    transferId: transferIdFor(channel === 'ADMIN' ? 'ADMIN' : `fixture-${channel}`, randomUUID()),
    debtorAccountId,
    creditorAccountId,
    amountMinor,
    currency: 'EUR',
    channel,
    requestedAt: new Date().toISOString(),
    ...client,
    ...overrides,
  };
}

/** A back-office principal for admin changes made by tests. */
export const TEST_ACTOR = { role: 'operations', principal: 'arn:aws:iam::000000000000:user/test-operations' } as const;
export const TEST_RISK_ACTOR = { role: 'risk', principal: 'arn:aws:iam::000000000000:user/test-risk' } as const;
export const TEST_SETTLEMENT_ACTOR = { role: 'settlement', principal: 'arn:aws:iam::000000000000:user/test-settlement' } as const;

/** Accounts these fixtures opened, and their institutions. */
const institutionOfFixture = new Map<string, string>();

/** Sum of all account balances per currency: zero in a closed ledger, by conservation. */
export async function balancesByCurrency(client: DynamoDBClient, tableName: string): Promise<Map<string, bigint>> {
  const sums = new Map<string, bigint>();
  let startKey: Record<string, AttributeValue> | undefined;
  for (let page = 0; page < 1_000; page++) {
    const result = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'entity IN (:account, :credit)',
        ExpressionAttributeValues: { ':account': { S: 'ACCOUNT' }, ':credit': { S: 'ACCOUNT_CREDIT' } },
        ConsistentRead: true,
        ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of result.Items ?? []) {
      // A hot account's credit shards hold part of its balance.
      const { currency, balanceMinor } = item.entity?.S === 'ACCOUNT_CREDIT' ? creditShardFromItem(item) : accountFromItem(item);
      sums.set(currency, (sums.get(currency) ?? 0n) + balanceMinor);
    }
    startKey = result.LastEvaluatedKey;
    if (startKey === undefined) return sums;
  }
  throw new Error('ledger scan exceeded 1000 pages');
}

/** The conservation invariant: per currency, every balance of the ledger sums to zero. */
export async function expectMoneyConserved(client: DynamoDBClient, tableName: string): Promise<void> {
  const sums = await balancesByCurrency(client, tableName);
  for (const [currency, sum] of sums) expect(sum, `sum of ${currency} balances`).toBe(0n);
}

/** The intake the API would have recorded for this request, accepted at `acceptedAt`. */
export function intakeOf(request: TransferRequest, acceptedAt: Date): TransferIntake {
  return {
    request: { ...request, requestedAt: acceptedAt.toISOString() },
    idempotencyKey: request.transferId,
    contentHash: transferContentHash(request),
    apiRequestId: `api-${request.transferId}`,
    acceptedAt: acceptedAt.toISOString(),
  };
}
