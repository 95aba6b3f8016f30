// Accounts: who holds money, in which currency, and what state they are in. Pure data and rules.
import type { CurrencyCode } from '../money/currency.js';
import type { Actor } from '../trust/api-client.js';

export const ACCOUNT_STATUSES = ['ACTIVE', 'FROZEN', 'CLOSED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/**
 * CUSTOMER accounts are bounded below by their overdraft limit. FUNDING accounts are an
 * institution's own side of the ledger (one per currency): they may go negative without bound,
 * which is what keeps deposits double-entry.
 */
export type AccountKind = 'CUSTOMER' | 'FUNDING';

export interface Account {
  readonly accountId: string;
  readonly institutionId: string;
  readonly currency: CurrencyCode;
  readonly kind: AccountKind;
  readonly status: AccountStatus;
  readonly balanceMinor: bigint;
  /** How far below zero the balance may go; 0 means no overdraft. */
  readonly overdraftLimitMinor: bigint;
  readonly openedAt: string;
  /** While FROZEN by a risk alert: which one. */
  readonly frozenByAlertId?: string;
  /** The back-office principal who opened it (absent for accounts opened by seeding tools). */
  readonly openedBy?: Actor;
  /** The last status change an admin made (an unfreeze), and who made it. */
  readonly statusChangedAt?: string;
  readonly statusChangedBy?: Actor;
  /**
   * A hot collection account (a very busy merchant's): its credits land on this many credit
   * shards, one drawn at random per posting, so that no single item limits how fast it is paid. Its
   * balance is the account's own plus its shards'; what the shards hold is swept into the
   * account before a debit that needs it. Absent: every credit lands on the account itself.
   */
  readonly creditShards?: number;
}

/** Credit shards a hot account may have at most, and at least when it has any. */
export const CREDIT_SHARDS_MAX = 32;
export const CREDIT_SHARDS_MIN = 2;

/** Account and institution ids: short, URL-safe, stable. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/;
export const INSTITUTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$/;

/** The one funding account an institution has per currency; its id is derived, never chosen. */
export function fundingAccountId(institutionId: string, currency: CurrencyCode): string {
  return `fund-${institutionId}-${currency.toLowerCase()}`;
}

export function isFundingAccountId(accountId: string): boolean {
  return accountId.startsWith('fund-');
}
