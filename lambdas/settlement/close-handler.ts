// Scheduled settlement close: on the stack's settlement rate (EventBridge on AWS, a timer
// locally), closes every currency's OPEN window that has interbank transfers in it (an empty
// window is left open: nothing to settle) and re-announces every CLOSED window that never
// settled. The composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { envVar } from '../../lib/topology.js';
import { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import type { EventPublisher } from '../core/events/ports.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { announceUnsettled, closeAndAnnounce } from './close-window.js';

export interface SettlementCloseDependencies {
  readonly store: DynamoSettlementStore;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface SettlementCloseReport {
  readonly closed: readonly string[];
  readonly reannounced: readonly string[];
}

export type SettlementCloseHandler = (event?: unknown) => Promise<SettlementCloseReport>;

export function createSettlementCloseHandler(deps: SettlementCloseDependencies): SettlementCloseHandler {
  return async () => {
    const closed: string[] = [];
    const reannounced: string[] = [];
    const failed: string[] = [];
    for (const currency of await deps.store.currencies()) {
      // One currency's trouble (a busy window, a failed publish) must not stop the others.
      try {
        reannounced.push(...(await announceUnsettled(deps.store, deps.publisher, currency)));
        const open = await deps.store.getWindow(await deps.store.currentWindowId(currency));
        if (open === undefined || open.transferCount === 0) continue;
        const result = await closeAndAnnounce(deps.store, deps.publisher, currency, open.windowId);
        if (result.kind === 'closed') closed.push(result.closed.windowId);
        if (result.kind === 'closed' && !result.announced) deps.logger.error('closed a window but could not announce it; the next run will', { windowId: result.closed.windowId });
      } catch (error) {
        failed.push(currency);
        deps.logger.error('scheduled settlement close failed for a currency; the next run tries again', { currency, error: error instanceof Error ? error : String(error) });
      }
    }
    if (failed.length > 0) deps.metrics.addMetric('SettlementCloseFailures', MetricUnit.Count, failed.length);
    deps.metrics.addMetric('SettlementWindowsClosed', MetricUnit.Count, closed.length);
    deps.metrics.publishStoredMetrics();
    if (reannounced.length > 0) deps.logger.warn('re-announced closed windows that had not settled', { windows: reannounced });
    return { closed, reannounced };
  };
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function settlementCloseHandlerFromEnv(env: Environment): SettlementCloseHandler {
  const { logger, metrics, clients } = wireFromEnv(env, 'payments-settlement-close');
  return createSettlementCloseHandler({
    store: new DynamoSettlementStore(clients.dynamodb, requireEnv(env, envVar.table('ledger'))),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('settlements'))),
    logger,
    metrics,
  });
}

export const handler: SettlementCloseHandler = lazyHandler(settlementCloseHandlerFromEnv);
