// Settlement handler: consumes the settlements FIFO queue (grouped by window) and hands
// SettlementWindowClosed to the core's settleClosedWindow (net, report once, issue instructions
// or alarm an unbalanced window), SettlementInstruction to recordSettlementInstruction (the last
// one leaves the window PENDING_SETTLEMENT) and SettlementConfirmed, the settlement bank's
// acknowledgement, to confirmSettlement (the last one settles the window). An announcement or a
// confirmation that can never be acted on (no such window, one still OPEN, a confirmation that
// contradicts the report or an earlier one) is quarantined with its reason. The composition root
// is at the end.
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
import { confirmSettlement, type ConfirmOutcome } from '../core/settlement/confirm-settlement.js';
import type { Actor } from '../core/trust/api-client.js';
import type { EventOf } from '../core/events/envelope.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { eventConsumer, type SqsBatchHandler } from '../shared/sqs-batch.js';
import { createDynamoDBClient, createSnsClient, createSqsClient } from '../shared/aws-clients.js';
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
    types: ['SettlementWindowClosed', 'SettlementInstruction', 'SettlementConfirmed'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (event) => event.data.windowId,
    handle: async (event) => {
      if (event.type === 'SettlementWindowClosed') return recordSettled(deps, await settleClosedWindow(ports, event));
      if (event.type === 'SettlementConfirmed') return recordConfirmed(deps, await confirmFromBank(deps, event));
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
    case 'awaiting-confirmation':
    case 'unbalanced': // logged and counted as it was alarmed (onUnbalanced)
    case 'nothing-to-pay':
      return;
  }
}

/**
 * Whoever may publish to the settlements topic is the settlement bank's adapter (the topic's
 * policy decides that); its confirmations are recorded under this actor.
 */
export const SETTLEMENT_BANK_ACTOR: Actor = { role: 'settlement', principal: 'settlement-bank-adapter' };

function confirmFromBank(deps: SettlementDependencies, event: EventOf<'SettlementConfirmed'>): Promise<ConfirmOutcome> {
  const { windowId, institutionId, direction, amountMinor, reference } = event.data;
  return confirmSettlement({ store: deps.store }, windowId, { institutionId, direction, amountMinor: BigInt(amountMinor), reference, confirmedBy: SETTLEMENT_BANK_ACTOR });
}

function recordConfirmed(deps: SettlementDependencies, outcome: ConfirmOutcome): void {
  switch (outcome.kind) {
    case 'confirmed':
      deps.metrics.addMetric('SettlementsConfirmed', MetricUnit.Count, 1);
      if (outcome.window.state === 'SETTLED') deps.metrics.addMetric('SettlementWindowsSettled', MetricUnit.Count, 1);
      return;
    case 'replayed':
      return;
    // A confirmation that contradicts the store can never be recorded: quarantined (permanent).
    case 'not-found':
      throw new CorruptItemError(`SettlementConfirmed for unknown window ${outcome.windowId}`);
    case 'not-pending':
      throw new CorruptItemError(`SettlementConfirmed for window ${outcome.window.windowId}, which is ${outcome.window.state} without instructions to confirm`);
    case 'not-issued':
      // Its instruction comes first in the window's message group, so this is a forgery or a bug.
      throw new CorruptItemError(`SettlementConfirmed for an instruction of ${outcome.window.windowId} that was never issued`);
    case 'no-instruction':
      throw new CorruptItemError(`SettlementConfirmed for an institution without an instruction in ${outcome.window.windowId}`);
    case 'mismatch':
      throw new CorruptItemError(`SettlementConfirmed does not match the instruction (${outcome.instruction.direction} ${outcome.instruction.amountMinor})`);
    case 'conflict':
      throw new CorruptItemError(`SettlementConfirmed contradicts the confirmation recorded at ${outcome.existing.confirmedAt} (reference ${outcome.existing.reference})`);
  }
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function settlementHandlerFromEnv(env: Environment): SqsBatchHandler {
  const { logger, metrics, clientOptions } = wireFromEnv(env, 'payments-settlement');
  // Only the SDK clients this handler uses: the others stay out of its bundle.
  const clients = { dynamodb: createDynamoDBClient(clientOptions), sns: createSnsClient(clientOptions), sqs: createSqsClient(clientOptions) };
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
