// Scheduled settlement close: on the stack's settlement rate (EventBridge on AWS, a timer
// locally), runs the core's closeDueWindows (close every currency's OPEN window that has
// interbank transfers in it, re-announce every CLOSED window that never settled) and logs and
// counts what it did. The composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { envVar } from '../../contract/topology.js';
import { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import type { EventPublisher } from '../core/events/ports.js';
import { closeDueWindows, type ScheduledCloseIncident } from '../core/settlement/close-window.js';
import type { SettlementStore } from '../core/settlement/ports.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { createDynamoDBClient, createSnsClient } from '../shared/aws-clients.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';

export interface SettlementCloseDependencies {
  readonly store: SettlementStore;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export interface SettlementCloseReport {
  readonly closed: readonly string[];
  readonly reannounced: readonly string[];
}

export type SettlementCloseHandler = (event?: unknown) => Promise<SettlementCloseReport>;

export function createSettlementCloseHandler(deps: SettlementCloseDependencies): SettlementCloseHandler {
  const ports = { store: deps.store, publisher: deps.publisher, now: deps.now ?? (() => new Date()) };
  return async () => {
    const { closed, reannounced, oldestUnsettledClosedAt, incidents } = await closeDueWindows(ports);
    for (const incident of incidents) logIncident(deps.logger, incident);
    const failed = incidents.filter((incident) => incident.kind === 'currency-failed').length;
    if (failed > 0) deps.metrics.addMetric('SettlementCloseFailures', MetricUnit.Count, failed);
    deps.metrics.addMetric('SettlementWindowsClosed', MetricUnit.Count, closed.length);
    // Closed windows still unsettled at this run (re-announced): alarmed when runs in a row find one.
    deps.metrics.addMetric('SettlementWindowsUnsettled', MetricUnit.Count, reannounced.length);
    // How long the oldest closed window has waited to settle, awaiting the settlement bank's
    // confirmations included (0 when none waits): alarmed past the stage's limit.
    const waitedMs = oldestUnsettledClosedAt === undefined ? 0 : Math.max(0, ports.now().getTime() - Date.parse(oldestUnsettledClosedAt));
    deps.metrics.addMetric('SettlementOldestUnsettledAgeSeconds', MetricUnit.Seconds, Math.floor(waitedMs / 1000));
    deps.metrics.publishStoredMetrics();
    if (reannounced.length > 0) deps.logger.warn('re-announced closed windows that had not settled', { windows: reannounced });
    return { closed, reannounced };
  };
}

function logIncident(logger: Logger, incident: ScheduledCloseIncident): void {
  if (incident.kind === 'unannounced') {
    logger.error('closed a window but could not announce it; the next run will', { windowId: incident.windowId });
    return;
  }
  const { currency, error } = incident;
  logger.error('scheduled settlement close failed for a currency; the next run tries again', { currency, error: error instanceof Error ? error : String(error) });
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function settlementCloseHandlerFromEnv(env: Environment): SettlementCloseHandler {
  const { logger, metrics, clientOptions } = wireFromEnv(env, 'payments-settlement-close');
  // Only the SDK clients this handler uses: the others stay out of its bundle.
  const clients = { dynamodb: createDynamoDBClient(clientOptions), sns: createSnsClient(clientOptions) };
  return createSettlementCloseHandler({
    store: new DynamoSettlementStore(clients.dynamodb, requireEnv(env, envVar.table('ledger'))),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('settlements'))),
    logger,
    metrics,
  });
}

export const handler: SettlementCloseHandler = lazyHandler(settlementCloseHandlerFromEnv);
