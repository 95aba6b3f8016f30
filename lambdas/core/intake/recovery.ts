// The recovery sweep: every request that was accepted (recorded before its 202 or 503) but has no
// outcome in the ledger is published again. It closes the gap between "recorded" and "on the
// topic" (a crash, an SNS outage, a local runtime killed with messages in flight); re-publishing a
// request that was queued after all is harmless, because posting is idempotent by transfer id.
// Requests are re-published in the order they were accepted, whatever order the store lists them
// in: an account's requests are decided in that order, so with a tight balance the earlier one is
// the one that posts.
import type { EventPublisher } from '../events/ports.js';
import { transactionRequested } from '../events/transfer-events.js';
import type { LedgerStore } from '../ledger/ports.js';
import type { IntakeStore, TransferIntake } from './ports.js';

/** Intakes checked against the ledger per round trip (BatchGetItem takes up to 100 keys). */
export const RECOVERY_CHECK_BATCH = 100;

export interface RecoveryWindow {
  /** Inclusive start of the acceptance window (ISO 8601). */
  readonly fromIso: string;
  /** Exclusive end: requests newer than this are left to the normal path. */
  readonly toIso: string;
  /**
   * Upper bound on intakes examined in one run; the next run continues. A listing cut short must
   * have shown each account a prefix of its intakes (the index does); a scan must not be cut.
   */
  readonly examinedMax: number;
}

export interface RecoveryReport {
  readonly examined: number;
  readonly requeued: number;
  readonly requeuedTransferIds: readonly string[];
}

export interface RecoveryPorts {
  readonly intake: IntakeStore;
  readonly ledger: LedgerStore;
  readonly publisher: EventPublisher;
  readonly now: () => Date;
}

export async function recoverUnfinishedRequests(ports: RecoveryPorts, window: RecoveryWindow): Promise<RecoveryReport> {
  let examined = 0;
  const undecided: TransferIntake[] = [];
  let batch: TransferIntake[] = [];
  const check = async (): Promise<void> => {
    const decided = await ports.ledger.decidedTransferIds(batch.map((intake) => intake.request.transferId));
    undecided.push(...batch.filter((intake) => !decided.has(intake.request.transferId)));
    batch = [];
  };
  for await (const intake of ports.intake.listAccepted(window.fromIso, window.toIso)) {
    if (examined >= window.examinedMax) break;
    examined++;
    batch.push(intake);
    if (batch.length === RECOVERY_CHECK_BATCH) await check();
  }
  if (batch.length > 0) await check();
  // Bounded by examinedMax; the whole run is sorted so that an account's requests, which the
  // store may list across buckets and pages in any order, go back on the topic as accepted.
  undecided.sort(byAcceptance);
  for (const intake of undecided) {
    await ports.publisher.publish(transactionRequested(intake.request, { causationId: intake.apiRequestId, occurredAt: intake.acceptedAt }));
  }
  return { examined, requeued: undecided.length, requeuedTransferIds: undecided.map((intake) => intake.request.transferId) };
}

/** Acceptance order: acceptedAt (ISO 8601, so text order is time order), then transfer id for a tie. */
export function byAcceptance(a: TransferIntake, b: TransferIntake): number {
  if (a.acceptedAt !== b.acceptedAt) return a.acceptedAt < b.acceptedAt ? -1 : 1;
  return a.request.transferId < b.request.transferId ? -1 : a.request.transferId > b.request.transferId ? 1 : 0;
}
