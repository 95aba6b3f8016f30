// What the API returns for a transaction, an account and a risk alert: the public shape, kept apart from how
// the ledger stores them. Amounts are integers in minor units; balances are exact (bigint).
import type { Account } from '../core/ledger/account.js';
import type { AlertRecord } from '../core/risk/alerts.js';
import type { TransferRecord, TransferRequest } from '../core/ledger/transfer.js';

export interface TransactionView {
  readonly transactionId: string;
  readonly status: 'RECEIVED' | 'POSTED' | 'REJECTED';
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amount: number;
  readonly currency: string;
  readonly channel: string;
  readonly reference?: string;
  readonly rejectionReason?: string;
  readonly requestedAt: string;
  readonly decidedAt?: string;
}

function requestFields(request: TransferRequest): Omit<TransactionView, 'status'> {
  return {
    transactionId: request.transferId,
    debtorAccountId: request.debtorAccountId,
    creditorAccountId: request.creditorAccountId,
    amount: request.amountMinor,
    currency: request.currency,
    channel: request.channel,
    ...(request.reference !== undefined ? { reference: request.reference } : {}),
    requestedAt: request.requestedAt,
  };
}

export function decidedTransactionView(transfer: TransferRecord): TransactionView {
  return {
    ...requestFields(transfer),
    status: transfer.status,
    ...(transfer.rejectionReason !== undefined ? { rejectionReason: transfer.rejectionReason } : {}),
    decidedAt: transfer.decidedAt,
  };
}

export function receivedTransactionView(request: TransferRequest): TransactionView {
  return { ...requestFields(request), status: 'RECEIVED' };
}

/**
 * What the creditor's institution sees of a transfer: not the payer's free-text reference, nor
 * why a payment to its customer was rejected (that is the payer's financial state).
 */
export function creditorSideView(view: TransactionView): TransactionView {
  const { reference: _reference, rejectionReason: _reason, ...visible } = view;
  return visible;
}

/**
 * An account as a client sees it, or (`admin`) with who opened it and who last changed its
 * status: back-office principals are not the channels' business.
 */
export function accountView(account: Account, audience: 'client' | 'admin' = 'client'): Record<string, unknown> {
  const audit =
    audience === 'admin'
      ? {
          ...(account.openedBy !== undefined ? { openedBy: account.openedBy } : {}),
          ...(account.statusChangedAt !== undefined ? { statusChangedAt: account.statusChangedAt, statusChangedBy: account.statusChangedBy } : {}),
          ...(account.creditShards !== undefined ? { creditShards: account.creditShards } : {}),
        }
      : {};
  return {
    accountId: account.accountId,
    institutionId: account.institutionId,
    currency: account.currency,
    kind: account.kind,
    status: account.status,
    balance: account.balanceMinor,
    overdraftLimit: account.overdraftLimitMinor,
    openedAt: account.openedAt,
    ...audit,
  };
}

export function alertView(alert: AlertRecord): Record<string, unknown> {
  return {
    alertId: alert.alertId,
    status: alert.status,
    severity: alert.severity,
    accountId: alert.accountId,
    transactionId: alert.transactionId,
    amount: alert.amountMinor,
    currency: alert.currency,
    channel: alert.channel,
    totalWeight: alert.totalWeight,
    rulesHit: alert.rulesHit,
    raisedAt: alert.raisedAt,
    storedAt: alert.storedAt,
    ...(alert.notifiedAt !== undefined ? { notifiedAt: alert.notifiedAt } : {}),
    ...(alert.freeze !== undefined ? { freeze: alert.freeze } : {}),
    ...(alert.resolution !== undefined ? { resolution: alert.resolution } : {}),
  };
}
