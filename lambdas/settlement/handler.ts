// Settlement handler: consumes the settlements FIFO queue (grouped by window) and hands
// SettlementWindowClosed to the core's settleClosedWindow (net, report once, issue instructions
// or alarm an unbalanced window) and SettlementInstruction to recordSettlementInstruction (the
// last one settles the window). An announcement that can never be acted on (no such window, or
// one still OPEN) is quarantined. The composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { envVar } from '../../contract/topology.js';
import { CorruptItemError } from '../adapters/dynamodb/ledger-items.js';
import { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../adapters/sns/ops-notifier.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { OpsNotifier } from '../core/risk/notification.js';
import type { SettlementStore } from '../core/settlement/ports.js';
import { recordSettlementInstruction, settleClosedWindow, type SettleOutcome, type SettleWindowPorts } from '../core/settlement/settle-window.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { eventConsumer, type SqsBatchHandler } from '../shared/sqs-batch.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';

export interface SettlementDependencies {
  readonly store: SettlementStore;
  /** The settlements topic, for SettlementInstruction. */
  readonly publisher: EventPublisher;
  readonly notifier: OpsNotifier;
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export function createSettlementHandler(deps: SettlementDependencies): SqsBatchHandler {
  const ports: SettleWindowPorts = {
    store: deps.store,
    publisher: deps.publisher,
    notifier: deps.notifier,
    now: deps.now ?? (() => new Date()),
    onUnbalanced: (report, sumMinor) => {
      deps.logger.error('settlement window positions do not net to zero; no instructions issued', { windowId: report.windowId, sum: sumMinor.toString() });
      deps.metrics.addMetric('SettlementUnbalanced', MetricUnit.Count, 1);
    },
  };
  return eventConsumer({
    queue: 'settlements',
    types: ['SettlementWindowClosed', 'SettlementInstruction'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (event) => event.data.windowId,
    handle: async (event) => {
      if (event.type === 'SettlementWindowClosed') return recordSettled(deps, await settleClosedWindow(ports, event));
      if (await recordSettlementInstruction({ store: deps.store }, event)) deps.metrics.addMetric('SettlementInstructionsRecorded', MetricUnit.Count, 1);
    },
  });
}

function recordSettled(deps: SettlementDependencies, outcome: SettleOutcome): void {
  switch (outcome.kind) {
    // Retrying cannot mend an announcement that contradicts the store: quarantined (permanent).
    case 'unknown-window':
      throw new CorruptItemError(`SettlementWindowClosed for unknown window ${outcome.windowId}`);
    case 'window-open':
      throw new CorruptItemError(`window ${outcome.windowId} is announced closed but is OPEN`);
    case 'instructions-issued':
      deps.metrics.addMetric('SettlementInstructionsIssued', MetricUnit.Count, outcome.issued);
      return;
    case 'already-settled':
    case 'unbalanced': // logged and counted as it was alarmed (onUnbalanced)
    case 'nothing-to-pay':
      return;
  }
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function settlementHandlerFromEnv(env: Environment): SqsBatchHandler {
  const { logger, metrics, clients } = wireFromEnv(env, 'payments-settlement');
  return createSettlementHandler({
    store: new DynamoSettlementStore(clients.dynamodb, requireEnv(env, envVar.table('ledger'))),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('settlements'))),
    notifier: new SnsOpsNotifier(clients.sns, requireEnv(env, envVar.notificationTopic('operations'))),
    quarantine: new SqsQuarantine(clients.sqs, requireEnv(env, envVar.deadLetterQueue('settlements'))),
    logger,
    metrics,
  });
}

export const handler: SqsBatchHandler = lazyHandler(settlementHandlerFromEnv);
