// The recovery sweep: every request that was accepted (recorded before its 202 or 503) but has no
// outcome in the ledger is published again. It closes the gap between "recorded" and "on the
// topic" (a crash, an SNS outage, a local runtime killed with messages in flight); re-publishing a
// request that was queued after all is harmless, because posting is idempotent by transfer id.
// Requests are re-published in the order they were accepted, whatever order the store lists them
// in: an account's requests are decided in that order, so with a tight balance the earlier one is
// the one that posts. Intakes listed as undecided whose outcome is in the ledger after all (the
// posting handler stopped between deciding and marking) are marked decided here.
//
// Two things keep the sweep from making trouble worse, both found by the simulator (npm run dst):
// - A request re-queued before waits longer each time before it is re-queued again (5, 10, 20
//   ... 60 minutes): when the posting queue is backed up, its requests are undecided because they
//   are queued, and re-publishing all of them every run (new messages once the topic's five-minute
//   deduplication has passed) only lengthened the queue the sweep was waiting on.
// - A failed publish stops that account's re-queuing for this run (its later requests must not go
//   ahead of it) but not the other accounts': one failure no longer loses the whole run's work.
//
// An intake that can never be re-queued as it stands (a damaged item, or a request this version's
// event schema refuses) is quarantined: taken out of the listing with its reason, reported, and
// left for operations. It holds no account back: waiting for a request that cannot be decided
// would stop the account for good, and stop local start-up with it.
import { EventEnvelope, eventIdFor } from '../events/envelope.js';
import type { EventPublisher } from '../events/ports.js';
import { transactionDecided, transactionRequested } from '../events/transfer-events.js';
import type { LedgerStore } from '../ledger/ports.js';
import type { IntakeStore, TransferIntake, UnreadableIntake } from './ports.js';

/** Intakes checked against the ledger per round trip (BatchGetItem takes up to 100 keys). */
export const RECOVERY_CHECK_BATCH = 100;
/** Wait after a request's first re-queue before the next; doubling each time up to the maximum. */
export const REQUEUE_BACKOFF_BASE_MS = 5 * 60_000;
export const REQUEUE_BACKOFF_MAX_MS = 60 * 60_000;

/** When a request the sweep already re-queued is due for another try. */
export function requeueDueAtMs(intake: TransferIntake): number {
  if (intake.requeuedAt === undefined) return Date.parse(intake.acceptedAt);
  const count = Math.max(1, intake.requeueCount ?? 1);
  return Date.parse(intake.requeuedAt) + Math.min(REQUEUE_BACKOFF_MAX_MS, REQUEUE_BACKOFF_BASE_MS * 2 ** (count - 1));
}

export interface RecoveryWindow {
  /** Requests accepted at or after this (ISO 8601) are still on their normal path: left alone. */
  readonly acceptedBeforeIso: string;
  /**
   * Upper bound on intakes examined in one run; the next run continues. The store shows each
   * account a prefix of its undecided intakes, so a run cut short never re-queues a later request
   * of an account ahead of an earlier one.
   */
  readonly examinedMax: number;
  /**
   * The queues were lost (a local runtime restarting): every undecided request goes back now,
   * however recently an earlier run re-queued it.
   */
  readonly requeueAll?: boolean;
  /** Stop publishing at this time (ms since the epoch), so the run ends within its function's timeout. */
  readonly deadlineMs?: number;
}

export interface RecoveryReport {
  readonly examined: number;
  readonly requeued: number;
  readonly requeuedTransferIds: readonly string[];
  /** Listed as undecided but decided in the ledger: marked decided by this run. */
  readonly markedDecided: number;
  /** Acceptance time of the oldest undecided request this run found (the lag), if any. */
  readonly oldestUndecidedAcceptedAt?: string;
  /**
   * Undecided and left for a later run: re-queued not long ago (see requeueDueAtMs), behind such
   * a request of the same account, or past the run's deadline.
   */
  readonly waiting: number;
  /** Not re-queued because a publish failed (the account's, this run); the next run tries again. */
  readonly failed: number;
  /** Intakes that can never be re-queued as stored, taken out of the listing with their reason. */
  readonly quarantined: readonly { readonly transferId: string; readonly reason: string }[];
}

export interface RecoveryPorts {
  readonly intake: IntakeStore;
  readonly ledger: LedgerStore;
  readonly publisher: EventPublisher;
  readonly now: () => Date;
  /**
   * Told of each quarantine as soon as it is written: the intake has left the listing for good,
   * so it must be reported even if the run fails later.
   */
  readonly onQuarantined?: (quarantined: { readonly transferId: string; readonly reason: string }) => void;
}

export async function recoverUnfinishedRequests(ports: RecoveryPorts, window: RecoveryWindow): Promise<RecoveryReport> {
  let examined = 0;
  let markedDecided = 0;
  const undecided: TransferIntake[] = [];
  let batch: TransferIntake[] = [];
  const check = async (): Promise<void> => {
    const decided = await ports.ledger.decidedTransferIds(batch.map((intake) => intake.request.transferId));
    for (const intake of batch) {
      if (!decided.has(intake.request.transferId)) {
        undecided.push(intake);
        continue;
      }
      // The posting handler stopped between deciding and marking: its outcome may never have
      // been announced (the message was lost with a local runtime's queues, or went to the DLQ),
      // so announce it (deterministic id: a repeat is a duplicate the topic and consumers absorb).
      const record = await ports.ledger.getTransfer(intake.request.transferId);
      if (record !== undefined) {
        // Caused by the request, as the posting handler's announcement would have been.
        await ports.publisher.publish(transactionDecided(record, { causationId: eventIdFor.requested(record.transferId), occurredAt: record.decidedAt }));
      }
      await ports.intake.markDecided(intake.request.transferId);
      markedDecided++;
    }
    batch = [];
  };
  const quarantined: { transferId: string; reason: string }[] = [];
  const quarantine = async (transferId: string, reason: string): Promise<void> => {
    await ports.intake.quarantine(transferId, reason, ports.now().toISOString());
    quarantined.push({ transferId, reason });
    ports.onQuarantined?.({ transferId, reason });
  };
  for await (const listed of ports.intake.listUndecided(window.acceptedBeforeIso, window.examinedMax)) {
    examined++;
    if (isUnreadable(listed)) {
      await quarantine(listed.transferId, `unreadable intake: ${listed.unreadable}`);
      continue;
    }
    const intake = listed;
    batch.push(intake);
    if (batch.length === RECOVERY_CHECK_BATCH) await check();
  }
  if (batch.length > 0) await check();
  // The store lists shard after shard; sorting the run puts every account's requests back on the
  // topic as accepted (and oldest first overall).
  undecided.sort(byAcceptance);
  const nowMs = ports.now().getTime();
  const requeued: TransferIntake[] = [];
  // An account stopped for this run, and why: its later requests are counted the same way.
  const stoppedAccounts = new Map<string, 'waiting' | 'failed'>();
  let waiting = 0;
  let failed = 0;
  const stop = (account: string, why: 'waiting' | 'failed'): void => {
    stoppedAccounts.set(account, why);
    if (why === 'waiting') waiting++;
    else failed++;
  };
  for (const intake of undecided) {
    const account = intake.request.debtorAccountId;
    const stopped = stoppedAccounts.get(account);
    if (stopped !== undefined) {
      stop(account, stopped);
      continue;
    }
    if (window.requeueAll !== true && requeueDueAtMs(intake) > nowMs) {
      // Its earlier re-queue should be ahead of anything this run would publish for the account,
      // but that message may be gone (a purged queue, the DLQ): the account waits with it.
      stop(account, 'waiting');
      continue;
    }
    if (window.deadlineMs !== undefined && ports.now().getTime() > window.deadlineMs) {
      // Out of time: what is left goes next run, the account's order kept by stopping it here.
      stop(account, 'waiting');
      continue;
    }
    const event = transactionRequested(intake.request, { causationId: intake.apiRequestId, occurredAt: intake.acceptedAt });
    const valid = EventEnvelope.safeParse(event);
    if (!valid.success) {
      await quarantine(intake.request.transferId, `request fails the event schema: ${valid.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
      continue;
    }
    try {
      await ports.publisher.publish(event);
    } catch {
      stop(account, 'failed');
      continue;
    }
    requeued.push(intake);
    await ports.intake.markRequeued(intake.request.transferId, new Date(nowMs).toISOString());
  }
  const oldest = undecided[0];
  return {
    examined,
    requeued: requeued.length,
    requeuedTransferIds: requeued.map((intake) => intake.request.transferId),
    markedDecided,
    waiting,
    failed,
    quarantined,
    ...(oldest !== undefined ? { oldestUndecidedAcceptedAt: oldest.acceptedAt } : {}),
  };
}

function isUnreadable(listed: TransferIntake | UnreadableIntake): listed is UnreadableIntake {
  return 'unreadable' in listed;
}

/** Acceptance order: acceptedAt (ISO 8601, so text order is time order), then transfer id for a tie. */
export function byAcceptance(a: TransferIntake, b: TransferIntake): number {
  if (a.acceptedAt !== b.acceptedAt) return a.acceptedAt < b.acceptedAt ? -1 : 1;
  return a.request.transferId < b.request.transferId ? -1 : a.request.transferId > b.request.transferId ? 1 : 0;
}
