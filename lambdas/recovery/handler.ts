// Recovery handler: on a schedule, re-queues every accepted request that has no outcome in the
// ledger yet (the safety net for a publish that failed after the intake record was written).
// It looks at a sliding window that ends a grace period ago, so requests still on their normal
// way through the queue are left alone. The composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoIntakeStore } from '../adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore } from '../adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { recoverUnfinishedRequests, type RecoveryPorts, type RecoveryReport } from '../core/intake/recovery.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { envVar, topology } from '../../lib/topology.js';

/** Requests younger than this are still on their normal path; the sweep leaves them alone. */
export const RECOVERY_GRACE_SECONDS = 60;
/** Each run looks back over three schedule periods, so one missed run loses nothing. */
const LOOKBACK_PERIODS = 3;
export const RECOVERY_EXAMINED_MAX = 50_000;

export interface RecoveryDependencies extends RecoveryPorts {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type RecoveryHandler = (event?: unknown) => Promise<RecoveryReport>;

export function createRecoveryHandler(deps: RecoveryDependencies, lookbackSeconds = defaultLookbackSeconds()): RecoveryHandler {
  return async () => {
    const now = deps.now().getTime();
    const report = await recoverUnfinishedRequests(deps, {
      fromIso: new Date(now - (lookbackSeconds + RECOVERY_GRACE_SECONDS) * 1_000).toISOString(),
      toIso: new Date(now - RECOVERY_GRACE_SECONDS * 1_000).toISOString(),
      examinedMax: RECOVERY_EXAMINED_MAX,
    });
    deps.metrics.addMetric('RequestsRequeued', MetricUnit.Count, report.requeued);
    deps.metrics.publishStoredMetrics();
    if (report.requeued > 0) deps.logger.warn('re-queued accepted requests that had no outcome', { requeued: report.requeued, examined: report.examined });
    return report;
  };
}

function defaultLookbackSeconds(): number {
  return LOOKBACK_PERIODS * topology.handlers.recovery.scheduleRateMinutes * 60;
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function recoveryHandlerFromEnv(env: Environment): RecoveryHandler {
  const { logger, metrics, clients } = wireFromEnv(env, 'payments-recovery');
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
