// What a local runtime does before it takes traffic, after a restart on persisted data: re-queue
// every accepted request that has no outcome (queues live in memory and died with the last run),
// in acceptance order and before anything new is accepted, then announce again every window that
// closed but never settled. The local runtime and the deterministic simulator both run this.
import type { EventPublisher } from '../../lambdas/core/events/ports.js';
import type { IntakeStore } from '../../lambdas/core/intake/ports.js';
import { recoverUnfinishedRequests, type RecoveryPorts, type RecoveryReport } from '../../lambdas/core/intake/recovery.js';
import type { LedgerStore } from '../../lambdas/core/ledger/ports.js';
import type { DynamoSettlementStore } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import { announceUnsettled } from '../../lambdas/core/settlement/close-window.js';

export class StartupRecoveryError extends Error {
  override name = 'StartupRecoveryError';
}

export interface StartupPorts {
  readonly intake: IntakeStore;
  readonly ledger: LedgerStore;
  readonly settlement: DynamoSettlementStore;
  readonly transactions: EventPublisher;
  readonly settlements: EventPublisher;
  readonly now: () => Date;
  /** Told of each request quarantined, as it happens (start-up may still fail after it). */
  readonly onQuarantined?: RecoveryPorts['onQuarantined'];
}

export interface StartupReport {
  readonly recovery: RecoveryReport;
  /** Windows announced again: CLOSED, not SETTLED. */
  readonly reannounced: readonly string[];
}

/** Every undecided request, however recent (a restart has nothing in flight). */
const EVERYTHING_UNDECIDED = '9999-12-31T23:59:59.999Z';

export async function recoverAtStartup(ports: StartupPorts): Promise<StartupReport> {
  const recovery = await recoverUnfinishedRequests(
    { intake: ports.intake, ledger: ports.ledger, publisher: ports.transactions, now: ports.now, ...(ports.onQuarantined !== undefined ? { onQuarantined: ports.onQuarantined } : {}) },
    { acceptedBeforeIso: EVERYTHING_UNDECIDED, examinedMax: Number.POSITIVE_INFINITY, requeueAll: true },
  );
  // Nothing may be accepted before every account's backlog is back on the topic, in order.
  if (recovery.failed > 0) throw new StartupRecoveryError(`${recovery.failed} undecided request(s) could not be re-queued; not starting`);
  const reannounced: string[] = [];
  for (const currency of await ports.settlement.currencies()) reannounced.push(...(await announceUnsettled({ store: ports.settlement, publisher: ports.settlements, now: ports.now }, currency)));
  return { recovery, reannounced };
}
