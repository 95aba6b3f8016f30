// The checks on stored state, run periodically and once the run has healed and gone quiet: money
// conserved per currency, every balance equal to what its posted transfers say (a transfer applied
// twice shows here), no accepted request without an outcome, every closed window settled with
// positions that sum to zero, and every frozen account frozen by exactly one recorded decision.
import { accountFromItem, creditShardFromItem, transferFromItem } from '../../lambdas/adapters/dynamodb/ledger-items.js';
import { windowFromItem } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import { shardFromItem, type PositionShard } from '../../lambdas/adapters/dynamodb/position-shards.js';
import { windowIdFor } from '../../lambdas/core/settlement/window.js';
import type { DynamoSettlementStore } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import type { MemoryDynamoDB } from '../../lambdas/adapters/memory/dynamodb.js';
import type { Account } from '../../lambdas/core/ledger/account.js';
import type { TransferRecord } from '../../lambdas/core/ledger/transfer.js';
import type { Bindings } from '../local/provision.js';
import type { ClientModel } from './model.js';

export interface LedgerState {
  readonly accounts: Map<string, Account>;
  readonly transfers: Map<string, TransferRecord>;
}

export function ledgerState(dynamodb: MemoryDynamoDB, bindings: Bindings): LedgerState {
  const accounts = new Map<string, Account>();
  const transfers = new Map<string, TransferRecord>();
  const credited = new Map<string, bigint>();
  for (const item of dynamodb.snapshot(bindings.tables.ledger)) {
    if (item.entity?.S === 'ACCOUNT') {
      const account = accountFromItem(item);
      accounts.set(account.accountId, account);
    } else if (item.entity?.S === 'ACCOUNT_CREDIT') {
      // A hot account's balance is its own plus what its credit shards hold.
      const shard = creditShardFromItem(item);
      credited.set(shard.accountId, (credited.get(shard.accountId) ?? 0n) + shard.balanceMinor);
    } else if (item.entity?.S === 'TRANSFER') {
      const transfer = transferFromItem(item);
      transfers.set(transfer.transferId, transfer);
    }
  }
  for (const [accountId, balanceMinor] of credited) {
    const account = accounts.get(accountId);
    if (account !== undefined) accounts.set(accountId, { ...account, balanceMinor: account.balanceMinor + balanceMinor });
  }
  return { accounts, transfers };
}

/** Per currency, the balances sum to zero (funding accounts hold the negative of all deposits). */
export function checkConservation(state: LedgerState, model: ClientModel): boolean {
  const sums = new Map<string, bigint>();
  for (const account of state.accounts.values()) sums.set(account.currency, (sums.get(account.currency) ?? 0n) + account.balanceMinor);
  let conserved = true;
  for (const [currency, sum] of sums) {
    if (sum === 0n) continue;
    conserved = false;
    model.violation('conservation', `${currency} balances sum to ${sum}, not 0`, [currency]);
  }
  return conserved;
}

/** Each balance is its posted credits minus its posted debits: a transfer applied twice, or half, shows. */
export function checkBalances(state: LedgerState, model: ClientModel): void {
  const expected = new Map<string, bigint>();
  for (const transfer of state.transfers.values()) {
    if (transfer.status !== 'POSTED') continue;
    const amount = BigInt(transfer.amountMinor);
    expected.set(transfer.debtorAccountId, (expected.get(transfer.debtorAccountId) ?? 0n) - amount);
    expected.set(transfer.creditorAccountId, (expected.get(transfer.creditorAccountId) ?? 0n) + amount);
  }
  for (const account of state.accounts.values()) {
    const computed = expected.get(account.accountId) ?? 0n;
    if (computed !== account.balanceMinor) {
      model.violation('doubled', `account ${account.accountId} holds ${account.balanceMinor}, its posted transfers say ${computed}`, [account.accountId]);
    }
  }
  for (const transfer of state.transfers.values()) {
    if (transfer.status === 'REJECTED' && transfer.rejectionReason === undefined) model.violation('answer', `transfer ${transfer.transferId} is REJECTED without a reason`, [transfer.transferId]);
  }
}

/** No customer account is overdrawn beyond its limit: the posting rules hold under every interleaving. */
export function checkOverdrafts(state: LedgerState, model: ClientModel): void {
  for (const account of state.accounts.values()) {
    if (account.kind === 'CUSTOMER' && account.balanceMinor < -account.overdraftLimitMinor) {
      model.violation('doubled', `account ${account.accountId} holds ${account.balanceMinor}, below its overdraft limit ${-account.overdraftLimitMinor}`, [account.accountId]);
    }
  }
}

/**
 * Every transfer the posting path decided was screened: its outcome event was published and
 * reached the risk handler (a decision whose announcement is lost escapes fraud screening).
 */
export function checkScreened(decided: Iterable<string>, state: LedgerState, dynamodb: MemoryDynamoDB, bindings: Bindings, model: ClientModel): number {
  const screened = new Set<string>();
  for (const item of dynamodb.snapshot(bindings.tables.risk)) {
    const id = item.pk?.S;
    if (id?.startsWith('SCREENED#') === true) screened.add(id.slice('SCREENED#'.length));
  }
  let missing = 0;
  for (const transferId of decided) {
    if (screened.has(transferId)) continue;
    // Screening leaves these alone on purpose (lambdas/core/risk/screen-transfer.ts unscreenedReason).
    const record = state.transfers.get(transferId);
    if (record?.channel === 'ADMIN' || record?.rejectionReason === 'ACCOUNT_FROZEN') continue;
    missing++;
    if (missing <= 5) model.violation('alerts', `transfer ${transferId} was decided but never screened (its outcome was not announced)`, [transferId]);
  }
  return missing;
}

/** Every request answered 202 or 503, and every intake on record, has an outcome. Returns how many lack one. */
export function checkNothingLost(state: LedgerState, model: ClientModel, dynamodb: MemoryDynamoDB, bindings: Bindings): number {
  const owed = new Set([...model.accepted, ...model.unavailable]);
  for (const item of dynamodb.snapshot(bindings.tables.requests)) {
    const id = item.pk?.S;
    if (item.entity?.S === 'INTAKE' && id?.startsWith('REQUEST#') === true) owed.add(id.slice('REQUEST#'.length));
  }
  let lost = 0;
  for (const transferId of owed) {
    if (state.transfers.has(transferId)) continue;
    lost++;
    model.violation('lost', `request ${transferId} was accepted (${model.accepted.has(transferId) ? '202' : model.unavailable.has(transferId) ? '503' : 'recorded'}) and has no outcome`, [transferId]);
  }
  return lost;
}

/** Every window that closed has settled, and every window's positions sum to zero. Counts closed (and settled) windows. */
export async function checkSettlement(dynamodb: MemoryDynamoDB, bindings: Bindings, settlement: DynamoSettlementStore, model: ClientModel): Promise<{ windows: number; settled: number }> {
  let windows = 0;
  let settled = 0;
  // Per institution and currency: its positions in every window not SETTLED, which its exposure must equal.
  const unsettledPositions = new Map<string, bigint>();
  const settledWindows = new Set<string>();
  for (const item of dynamodb.snapshot(bindings.tables.ledger)) {
    if (item.pk?.S?.startsWith('SETTLEMENT_WINDOW#') !== true) continue;
    const window = windowFromItem(item);
    if (window.state !== 'OPEN') windows++;
    if (window.state === 'SETTLED') {
      settled++;
      settledWindows.add(window.windowId);
    }
    if (window.state === 'CLOSED' || window.state === 'PENDING_SETTLEMENT') {
      model.violation('settlement', `window ${window.windowId} closed at ${window.closedAt ?? '?'} and never settled (${window.state})`, [window.windowId]);
    }
    const positions = await settlement.positions(window);
    const sum = [...positions.values()].reduce((total, position) => total + position, 0n);
    if (sum !== 0n) model.violation('settlement', `window ${window.windowId} positions sum to ${sum}, not 0`, [window.windowId]);
    if (window.state === 'SETTLED') continue;
    for (const [institutionId, position] of positions) {
      const key = `${institutionId}#${window.currency}`;
      unsettledPositions.set(key, (unsettledPositions.get(key) ?? 0n) + position);
    }
  }
  checkExposures(dynamodb, bindings, unsettledPositions, settledWindows, model);
  return { windows, settled };
}

/**
 * Finality: an institution's exposure (over its position shards) is exactly its positions over
 * the windows not SETTLED yet (each confirmation released its window's part once, never twice,
 * never lost), and no shard still holds a part of a SETTLED window. One without a cap never owes
 * (it may only receive). Its shards' shares of the cap sum to the cap exactly, whatever borrowing
 * happened, and no shard is below zero unless all of them are blocked (which is what keeps the
 * cap exact with shards). A capped institution's exposure may pass its cap once a RECEIVE it was owed is
 * confirmed (the cap is checked when it sends, as in Mojaloop), so it is not held to its cap here.
 */
function checkExposures(dynamodb: MemoryDynamoDB, bindings: Bindings, unsettledPositions: ReadonlyMap<string, bigint>, settledWindows: ReadonlySet<string>, model: ClientModel): void {
  const caps = new Map<string, bigint | undefined>();
  const institutions = new Map<string, { exposure: bigint; shares: bigint; capped: boolean; shards: number; blocked: number; negative: number }>();
  for (const item of dynamodb.snapshot(bindings.tables.ledger)) {
    const key = item.pk?.S ?? '';
    if (key.startsWith('NET_DEBIT_CAP#')) {
      caps.set(key.slice('NET_DEBIT_CAP#'.length), item.netDebitCapMinor?.N === undefined ? undefined : BigInt(item.netDebitCapMinor.N));
      continue;
    }
    if (!key.startsWith('POSITION_SHARD#')) continue;
    let shard: PositionShard;
    try {
      shard = shardFromItem(item);
    } catch (error) {
      model.violation('settlement', `${key}: ${String(error)}`, [key]);
      continue;
    }
    const institutionAndCurrency = `${shard.institutionId}#${shard.currency}`;
    const totals = institutions.get(institutionAndCurrency) ?? { exposure: 0n, shares: 0n, capped: shard.capped, shards: 0, blocked: 0, negative: 0 };
    totals.exposure += shard.exposureMinor;
    totals.shares += shard.capShareMinor;
    totals.shards += 1;
    if (shard.blocked) totals.blocked += 1;
    if (shard.headroomMinor < 0n) totals.negative += 1;
    if (totals.capped !== shard.capped) model.violation('settlement', `${institutionAndCurrency}: shards disagree on whether it is capped`, [key]);
    institutions.set(institutionAndCurrency, totals);
    for (const sequence of shard.positions.keys()) {
      const windowId = windowIdFor(shard.currency, sequence);
      if (settledWindows.has(windowId)) model.violation('settlement', `${key} still holds part of ${windowId}, which is SETTLED`, [key, windowId]);
    }
  }
  for (const [institutionAndCurrency, totals] of institutions) {
    const expected = unsettledPositions.get(institutionAndCurrency) ?? 0n;
    if (totals.exposure !== expected) model.violation('settlement', `${institutionAndCurrency}: exposure ${totals.exposure}, but its positions in unsettled windows sum to ${expected}`, [institutionAndCurrency]);
    const cap = caps.get(institutionAndCurrency);
    if (!totals.capped && totals.exposure > 0n) model.violation('settlement', `${institutionAndCurrency}: owes ${totals.exposure} without a cap`, [institutionAndCurrency]);
    if (totals.capped !== (cap !== undefined)) model.violation('settlement', `${institutionAndCurrency}: shards say capped=${totals.capped}, its cap item says ${cap ?? 'none'}`, [institutionAndCurrency]);
    if (totals.shares !== (cap ?? 0n)) model.violation('settlement', `${institutionAndCurrency}: its ${totals.shards} shards' cap shares sum to ${totals.shares}, not its cap ${cap ?? 0n}`, [institutionAndCurrency]);
    // What keeps the cap exact across shards: a shard below zero only while every shard is blocked.
    if (totals.blocked !== 0 && totals.blocked !== totals.shards) model.violation('settlement', `${institutionAndCurrency}: ${totals.blocked} of its ${totals.shards} shards blocked`, [institutionAndCurrency]);
    if (totals.negative > 0 && totals.blocked === 0) model.violation('settlement', `${institutionAndCurrency}: ${totals.negative} shards below zero headroom, none blocked`, [institutionAndCurrency]);
  }
  for (const [institutionAndCurrency, position] of unsettledPositions) {
    if (!institutions.has(institutionAndCurrency) && position !== 0n) model.violation('settlement', `${institutionAndCurrency}: positions in unsettled windows sum to ${position}, and it has no shards`, [institutionAndCurrency]);
  }
}

/** A frozen account names the alert that froze it, and that alert recorded the freeze. */
export function checkFreezes(state: LedgerState, dynamodb: MemoryDynamoDB, bindings: Bindings, model: ClientModel): { alerts: number; frozen: number } {
  const alerts = new Map<string, string | undefined>();
  for (const item of dynamodb.snapshot(bindings.tables.risk)) {
    const id = item.pk?.S;
    if (id?.startsWith('ALERT#') === true) alerts.set(id.slice('ALERT#'.length), item.freezeOutcome?.S);
  }
  let frozen = 0;
  for (const account of state.accounts.values()) {
    if (account.status !== 'FROZEN') continue;
    frozen++;
    const by = account.frozenByAlertId;
    if (by === undefined || alerts.get(by) !== 'FROZEN') {
      model.violation('alerts', `account ${account.accountId} is FROZEN by ${by ?? 'no alert'}, which recorded ${by === undefined ? 'nothing' : (alerts.get(by) ?? 'no freeze')}`, [account.accountId]);
    }
  }
  return { alerts: alerts.size, frozen };
}
