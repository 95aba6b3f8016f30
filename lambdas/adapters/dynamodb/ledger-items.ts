// How ledger entities are laid out as DynamoDB items (single table, partition key `pk`), and the
// strict conversions both ways. Money is written as exact decimal strings (N) and read as bigint.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ACCOUNT_STATUSES, type Account, type AccountKind } from '../../core/ledger/account.js';
import {
  REJECTION_REASONS,
  TRANSFER_CHANNELS,
  type StoredRejectionReason,
  type TransferRecord,
} from '../../core/ledger/transfer.js';
import { isCurrencyCode, type CurrencyCode } from '../../core/money/currency.js';
import { ADMIN_ROLES, type Actor } from '../../core/trust/api-client.js';

export type Item = Record<string, AttributeValue>;

/** A stored item does not have the shape this code wrote: data corruption, not a client error. */
export class CorruptItemError extends Error {
  override name = 'CorruptItemError';
}

export const accountKey = (accountId: string): Item => ({ pk: { S: `ACCOUNT#${accountId}` } });
export const transferKey = (transferId: string): Item => ({ pk: { S: `TRANSFER#${transferId}` } });
/** One of a hot account's credit shards: what it has been paid since its last sweep. */
export const creditShardKey = (accountId: string, shard: number): Item => ({ pk: { S: `ACCOUNT_CREDIT#${accountId}#${shard}` } });
/** The keys of all of a hot account's credit shards, in shard order. */
export const creditShardKeys = (accountId: string, shardCount: number): Item[] => Array.from({ length: shardCount }, (_, shard) => creditShardKey(accountId, shard));

/** A credit shard as its account opens it: empty, and with what a credit's condition checks. */
export function creditShardToItem(account: Account, shard: number): Item {
  return {
    ...creditShardKey(account.accountId, shard),
    entity: { S: 'ACCOUNT_CREDIT' },
    accountId: { S: account.accountId },
    institutionId: { S: account.institutionId },
    currency: { S: account.currency },
    shard: { N: String(shard) },
    // Credits are refused only to a CLOSED account; a close must set this on every shard too.
    status: { S: 'ACTIVE' },
    balanceMinor: { N: '0' },
  };
}

/** A credit shard's account and balance. */
export function creditShardFromItem(item: Item): { readonly accountId: string; readonly currency: CurrencyCode; readonly shard: number; readonly balanceMinor: bigint } {
  return { accountId: str(item, 'accountId'), currency: currency(item), shard: Number(int(item, 'shard')), balanceMinor: int(item, 'balanceMinor') };
}

export function accountToItem(account: Account): Item {
  return {
    ...accountKey(account.accountId),
    entity: { S: 'ACCOUNT' },
    accountId: { S: account.accountId },
    institutionId: { S: account.institutionId },
    currency: { S: account.currency },
    kind: { S: account.kind },
    status: { S: account.status },
    balanceMinor: { N: account.balanceMinor.toString() },
    overdraftLimitMinor: { N: account.overdraftLimitMinor.toString() },
    headroomMinor: { N: (account.balanceMinor + account.overdraftLimitMinor).toString() },
    openedAt: { S: account.openedAt },
    ...(account.frozenByAlertId !== undefined ? { frozenByAlertId: { S: account.frozenByAlertId } } : {}),
    ...(account.openedBy !== undefined ? { openedBy: actorToAttribute(account.openedBy) } : {}),
    ...(account.creditShards !== undefined ? { creditShards: { N: String(account.creditShards) } } : {}),
  };
}

export function accountFromItem(item: Item): Account {
  const status = str(item, 'status');
  const kind = str(item, 'kind');
  if (!isOneOf(status, ACCOUNT_STATUSES)) throw new CorruptItemError(`account status ${status}`);
  if (!isOneOf(kind, ['CUSTOMER', 'FUNDING'] as const)) throw new CorruptItemError(`account kind ${kind}`);
  const balanceMinor = int(item, 'balanceMinor');
  const overdraftLimitMinor = int(item, 'overdraftLimitMinor');
  // headroomMinor is derived state kept for condition expressions; it must never drift.
  if (int(item, 'headroomMinor') !== balanceMinor + overdraftLimitMinor) {
    throw new CorruptItemError(`account ${str(item, 'accountId')}: headroom out of step with balance`);
  }
  return {
    accountId: str(item, 'accountId'),
    institutionId: str(item, 'institutionId'),
    currency: currency(item),
    kind: kind satisfies AccountKind,
    status,
    balanceMinor,
    overdraftLimitMinor,
    openedAt: str(item, 'openedAt'),
    ...(item.frozenByAlertId?.S !== undefined ? { frozenByAlertId: item.frozenByAlertId.S } : {}),
    ...(item.openedBy !== undefined ? { openedBy: actorFromAttribute(item.openedBy, 'openedBy') } : {}),
    ...(item.statusChangedAt?.S !== undefined ? { statusChangedAt: item.statusChangedAt.S, statusChangedBy: actorFromAttribute(item.statusChangedBy, 'statusChangedBy') } : {}),
    ...(item.creditShards?.N !== undefined ? { creditShards: Number(int(item, 'creditShards')) } : {}),
  };
}

export function transferToItem(transfer: TransferRecord): Item {
  const item: Item = {
    ...transferKey(transfer.transferId),
    entity: { S: 'TRANSFER' },
    transferId: { S: transfer.transferId },
    debtorAccountId: { S: transfer.debtorAccountId },
    creditorAccountId: { S: transfer.creditorAccountId },
    amountMinor: { N: String(transfer.amountMinor) },
    currency: { S: transfer.currency },
    channel: { S: transfer.channel },
    status: { S: transfer.status },
    contentHash: { S: transfer.contentHash },
    requestedAt: { S: transfer.requestedAt },
    decidedAt: { S: transfer.decidedAt },
  };
  if (transfer.reference !== undefined) item.reference = { S: transfer.reference };
  if (transfer.rejectionReason !== undefined) item.rejectionReason = { S: transfer.rejectionReason };
  if (transfer.clientId !== undefined) item.clientId = { S: transfer.clientId };
  if (transfer.initiatingInstitutionId !== undefined) item.initiatingInstitutionId = { S: transfer.initiatingInstitutionId };
  if (transfer.initiatedBy !== undefined) item.initiatedBy = actorToAttribute(transfer.initiatedBy);
  return item;
}

export function transferFromItem(item: Item): TransferRecord {
  const status = str(item, 'status');
  const channel = str(item, 'channel');
  if (status !== 'POSTED' && status !== 'REJECTED') throw new CorruptItemError(`transfer status ${status}`);
  if (!isOneOf(channel, TRANSFER_CHANNELS)) throw new CorruptItemError(`transfer channel ${channel}`);
  const amountMinor = Number(int(item, 'amountMinor'));
  const reference = item.reference?.S;
  const rejectionReason = item.rejectionReason?.S;
  const record: TransferRecord = {
    transferId: str(item, 'transferId'),
    debtorAccountId: str(item, 'debtorAccountId'),
    creditorAccountId: str(item, 'creditorAccountId'),
    amountMinor,
    currency: currency(item),
    channel,
    status,
    contentHash: str(item, 'contentHash'),
    requestedAt: str(item, 'requestedAt'),
    decidedAt: str(item, 'decidedAt'),
    ...(reference !== undefined ? { reference } : {}),
    ...(rejectionReason !== undefined ? { rejectionReason: storedReason(rejectionReason) } : {}),
    ...(item.clientId?.S !== undefined ? { clientId: item.clientId.S } : {}),
    ...(item.initiatingInstitutionId?.S !== undefined ? { initiatingInstitutionId: item.initiatingInstitutionId.S } : {}),
    ...(item.initiatedBy !== undefined ? { initiatedBy: actorFromAttribute(item.initiatedBy, 'initiatedBy') } : {}),
  };
  if ((status === 'REJECTED') !== (record.rejectionReason !== undefined)) {
    throw new CorruptItemError(`transfer ${record.transferId}: status ${status} with rejection reason ${rejectionReason}`);
  }
  return record;
}

/** Who made an admin change, as a map on the item it changed. */
export function actorToAttribute(actor: Actor): AttributeValue {
  return { M: { role: { S: actor.role }, principal: { S: actor.principal } } };
}

export function actorFromAttribute(value: AttributeValue | undefined, name: string): Actor {
  const role = value?.M?.role?.S;
  const principal = value?.M?.principal?.S;
  if (role === undefined || principal === undefined || !isOneOf(role, ADMIN_ROLES)) throw new CorruptItemError(`attribute ${name} is not an actor`);
  return { role, principal };
}

function storedReason(value: string): StoredRejectionReason {
  if (!isOneOf(value, REJECTION_REASONS) || value === 'MODIFIED_REQUEST') throw new CorruptItemError(`rejection reason ${value}`);
  return value;
}

function str(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw new CorruptItemError(`missing string attribute ${name}`);
  return value;
}

/** An integer attribute, exactly (N as bigint). */
export function int(item: Item, name: string): bigint {
  const value = item[name]?.N;
  if (value === undefined || !/^-?\d+$/.test(value)) throw new CorruptItemError(`attribute ${name} is not an integer: ${value}`);
  return BigInt(value);
}

function currency(item: Item): CurrencyCode {
  const value = str(item, 'currency');
  if (!isCurrencyCode(value)) throw new CorruptItemError(`currency ${value}`);
  return value;
}

export function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}
