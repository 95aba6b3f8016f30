// Raised alerts as the bank keeps them: what screening found, what the alerts handler did about it
// (notified operations, froze the account) and how an analyst resolved it. Also the policy of
// which severity triggers which action, as data, and the port the handler and the API store through.
import type { Actor } from '../trust/api-client.js';
import type { CurrencyCode } from '../money/currency.js';
import type { TransferChannel } from '../ledger/transfer.js';
import type { RuleId } from './rules.js';
import { isAtLeast, type Severity } from './severity.js';

export const ALERT_STATUSES = ['OPEN', 'RESOLVED'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const ALERT_RESOLUTIONS = ['FALSE_POSITIVE', 'CONFIRMED_FRAUD'] as const;
export type AlertResolution = (typeof ALERT_RESOLUTIONS)[number];

/** What freezing the debtor account came to (the account may be gone, closed, or a funding account). */
export const FREEZE_OUTCOMES = ['FROZEN', 'ALREADY_FROZEN', 'ACCOUNT_NOT_FOUND', 'NOT_FREEZABLE'] as const;
export type FreezeOutcome = (typeof FREEZE_OUTCOMES)[number];

/** Alert ids are `<transfer id>.alert` (see eventIdFor.alert). */
export const ALERT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.alert$/;

/** Resolution notes are for people; long enough for a case summary, short enough for an index. */
export const RESOLUTION_NOTE_LENGTH_MAX = 2_000;

/** The least severity at which each action is taken. */
export const ALERT_ACTION_FLOORS = { notifyOperations: 'HIGH', freezeAccount: 'CRITICAL' } as const satisfies Record<string, Severity>;

export interface AlertActions {
  readonly notifyOperations: boolean;
  readonly freezeAccount: boolean;
}

export function alertActionsFor(severity: Severity): AlertActions {
  return {
    notifyOperations: isAtLeast(severity, ALERT_ACTION_FLOORS.notifyOperations),
    freezeAccount: isAtLeast(severity, ALERT_ACTION_FLOORS.freezeAccount),
  };
}

export interface RuleHit {
  readonly ruleId: RuleId;
  readonly weight: number;
  readonly evidence: Readonly<Record<string, string | number | boolean>>;
}

/** The alert as raised by screening (the data of RiskAlertRaised). */
export interface RaisedAlert {
  readonly alertId: string;
  readonly transactionId: string;
  readonly accountId: string;
  readonly severity: Severity;
  readonly totalWeight: number;
  readonly rulesHit: readonly RuleHit[];
  readonly amountMinor: number;
  readonly currency: CurrencyCode;
  readonly channel: TransferChannel;
  readonly raisedAt: string;
}

export interface AlertResolutionRecord {
  readonly resolution: AlertResolution;
  readonly note: string;
  readonly resolvedAt: string;
  /** The analyst (risk role) who resolved it; absent on alerts resolved before this was kept. */
  readonly resolvedBy?: Actor;
}

/** The stored alert, with what has been done about it so far. */
export interface AlertRecord extends RaisedAlert {
  readonly status: AlertStatus;
  readonly storedAt: string;
  /** Set once operations were notified; a redelivery that finds it does not notify again. */
  readonly notifiedAt?: string;
  /** Set (with the freeze itself, atomically) once the freeze was attempted; never repeated. */
  readonly freeze?: { readonly outcome: FreezeOutcome; readonly at: string };
  /** Set once AccountFrozen was published for a FROZEN outcome. */
  readonly frozenEventPublishedAt?: string;
  readonly resolution?: AlertResolutionRecord;
}

export interface AlertQuery {
  readonly accountId?: string;
  readonly severity?: Severity;
  readonly status?: AlertStatus;
  /** Page size. */
  readonly limit: number;
  /** Opaque position from the previous page. */
  readonly cursor?: string;
}

export interface AlertPage {
  readonly alerts: readonly AlertRecord[];
  /** Present when more alerts may follow. */
  readonly cursor?: string;
}

export type ResolveResult =
  | { readonly kind: 'resolved'; readonly alert: AlertRecord }
  /** Already resolved the same way with the same note: the repeated call is answered the same. */
  | { readonly kind: 'replayed'; readonly alert: AlertRecord }
  | { readonly kind: 'conflict'; readonly alert: AlertRecord }
  | { readonly kind: 'not-found' };

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

export interface AlertStore {
  /** Stores the alert unless it exists; either way returns the stored record. */
  recordAlert(alert: RaisedAlert, storedAt: string): Promise<{ readonly created: boolean; readonly alert: AlertRecord }>;
  /**
   * Claims the right to notify about the alert until `leaseUntil`: false when it was notified, or
   * another delivery holds an unexpired claim. A claimer that crashes loses the claim at the end
   * of the lease, and the retried message claims it again.
   */
  claimNotification(alertId: string, now: string, leaseUntil: string): Promise<boolean>;
  /** Gives a claim back after a send that failed, so the retry need not wait for the lease. */
  releaseNotificationClaim(alertId: string): Promise<void>;
  markNotified(alertId: string, at: string): Promise<void>;
  markFrozenEventPublished(alertId: string, at: string): Promise<void>;
  getAlert(alertId: string): Promise<AlertRecord | undefined>;
  /** Newest first. Throws InvalidCursorError for a cursor that is not from this query. */
  listAlerts(query: AlertQuery): Promise<AlertPage>;
  resolveAlert(alertId: string, resolution: AlertResolutionRecord): Promise<ResolveResult>;
}

export type FreezeResult =
  | { readonly kind: 'recorded'; readonly outcome: FreezeOutcome; readonly at: string }
  /** An earlier delivery recorded the freeze (or why there was none): nothing was done. */
  | { readonly kind: 'already-recorded'; readonly outcome: FreezeOutcome; readonly at: string }
  /** The alert was resolved before its freeze: an analyst's decision is not overridden. */
  | { readonly kind: 'alert-resolved' };

/**
 * Freezes an alert's account and records the outcome on the alert in one atomic step, only while
 * the alert is OPEN and has no freeze recorded: an operator's unfreeze or resolution is never
 * undone by a redelivered alert, and a crash can never leave a freeze unrecorded.
 */
export interface AccountFreezer {
  freezeForAlert(alert: Pick<AlertRecord, 'alertId' | 'accountId'>, at: string): Promise<FreezeResult>;
}
