// Recovery handler: on a schedule, re-queues every accepted request that has no outcome in the
// ledger yet (the safety net for a publish that failed after the intake record was written). It
// reads the sparse index of undecided intakes, so its cost follows the backlog, not the traffic,
// and leaves requests younger than a grace period to their normal path. The composition root is
// at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoIntakeStore } from '../adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore } from '../adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { recoverUnfinishedRequests, type RecoveryPorts, type RecoveryReport } from '../core/intake/recovery.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { createDynamoDBClient, createSnsClient } from '../shared/aws-clients.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { envVar, topology } from '../../contract/topology.js';

/** Requests younger than this are still on their normal path; the sweep leaves them alone. */
export const RECOVERY_GRACE_SECONDS = 60;
/**
 * Undecided intakes examined per run (spread evenly over the index's shards); the next run
 * continues with what is left. A backlog this large is an incident: the metrics below alarm first.
 */
export const RECOVERY_EXAMINED_MAX = 50_000;
/** Of the function's timeout, what the run may spend before it stops publishing. */
const RECOVERY_PUBLISH_BUDGET_SECONDS = topology.handlers.recovery.timeoutSeconds * 0.75;

export interface RecoveryDependencies extends RecoveryPorts {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type RecoveryHandler = (event?: unknown) => Promise<RecoveryReport>;

export function createRecoveryHandler(deps: RecoveryDependencies): RecoveryHandler {
  return async () => {
    const now = deps.now().getTime();
    const report = await recoverUnfinishedRequests(
      {
        ...deps,
        // Reported as each happens (a later failure must not hide it): an accepted request that
        // will never be decided without someone. Alarm on any.
        onQuarantined: ({ transferId, reason }) => {
          deps.logger.error('quarantined an accepted request that cannot be re-queued', { transferId, reason });
          deps.metrics.addMetric('IntakesQuarantined', MetricUnit.Count, 1);
          deps.metrics.publishStoredMetrics();
        },
      },
      {
        acceptedBeforeIso: new Date(now - RECOVERY_GRACE_SECONDS * 1_000).toISOString(),
        examinedMax: RECOVERY_EXAMINED_MAX,
        // Publishing stops well inside the function's timeout, so the metrics below always go out.
        deadlineMs: now + RECOVERY_PUBLISH_BUDGET_SECONDS * 1_000,
      },
    );
    // Backlog: requests past the grace period with no outcome (re-queued now, or waiting after an
    // earlier re-queue). Lag: how long the oldest of them has waited. Both are zero in a healthy
    // pipeline; these are the metrics to alarm on.
    deps.metrics.addMetric('RecoveryBacklog', MetricUnit.Count, report.requeued + report.waiting + report.failed);
    const lagSeconds = report.oldestUndecidedAcceptedAt !== undefined ? Math.max(0, (now - Date.parse(report.oldestUndecidedAcceptedAt)) / 1_000) : 0;
    deps.metrics.addMetric('RecoveryLag', MetricUnit.Seconds, lagSeconds);
    deps.metrics.addMetric('RequestsRequeued', MetricUnit.Count, report.requeued);
    deps.metrics.addMetric('IntakesMarkedDecided', MetricUnit.Count, report.markedDecided);
    deps.metrics.addMetric('RequeueFailures', MetricUnit.Count, report.failed);
    deps.metrics.publishStoredMetrics();
    if (report.requeued > 0 || report.failed > 0) {
      deps.logger.warn('re-queued accepted requests that had no outcome', { requeued: report.requeued, waiting: report.waiting, failed: report.failed, examined: report.examined, lagSeconds });
    }
    return report;
  };
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function recoveryHandlerFromEnv(env: Environment): RecoveryHandler {
  const { logger, metrics, clientOptions } = wireFromEnv(env, 'payments-recovery');
  // Only the SDK clients this handler uses: the others stay out of its bundle.
  const clients = { dynamodb: createDynamoDBClient(clientOptions), sns: createSnsClient(clientOptions) };
  return createRecoveryHandler({
    intake: new DynamoIntakeStore(clients.dynamodb, requireEnv(env, envVar.table('requests'))),
    ledger: new DynamoLedgerStore({ client: clients.dynamodb, tableName: requireEnv(env, envVar.table('ledger')) }),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('transactions'))),
    now: () => new Date(),
    logger,
    metrics,
  });
}

export const handler: RecoveryHandler = lazyHandler(recoveryHandlerFromEnv);
