// Settlement handler: consumes the settlements FIFO queue (grouped by window).
// - SettlementWindowClosed: nets the closed window's positions into one instruction per
//   institution with a non-zero position, verifies they sum to zero (otherwise it stores an
//   UNBALANCED report, pays nothing and notifies operations), stores the report once and
//   publishes the instructions (ids per window and institution, so a re-publish is deduplicated).
// - SettlementInstruction: records the instruction once; the last one marks the window SETTLED.
// A redelivery of either finds the stored report or the recorded instruction and changes nothing.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { envVar } from '../../lib/topology.js';
import { CorruptItemError } from '../adapters/dynamodb/ledger-items.js';
import { DynamoSettlementStore, type SettlementReport } from '../adapters/dynamodb/settlement-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../adapters/sns/ops-notifier.js';
import { SqsQuarantine, type Quarantine } from '../adapters/sqs/quarantine.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf, type PaymentEvent } from '../core/events/envelope.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { OpsNotifier } from '../core/risk/notification.js';
import { settlementInstructions, sumOfPositions } from '../core/settlement/netting.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { eventConsumer, type SqsBatchHandler } from '../shared/sqs-batch.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';

export interface SettlementDependencies {
  readonly store: DynamoSettlementStore;
  /** The settlements topic, for SettlementInstruction. */
  readonly publisher: EventPublisher;
  readonly notifier: OpsNotifier;
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export function createSettlementHandler(deps: SettlementDependencies): SqsBatchHandler {
  const now = deps.now ?? (() => new Date());

  const settle = async (closed: EventOf<'SettlementWindowClosed'>): Promise<void> => {
    const window = await deps.store.getWindow(closed.data.windowId);
    if (window === undefined) throw new CorruptItemError(`SettlementWindowClosed for unknown window ${closed.data.windowId}`);
    if (window.state === 'SETTLED') return; // a late redelivery: all done
    if (window.state === 'OPEN') throw new CorruptItemError(`window ${window.windowId} is announced closed but is OPEN`);
    let report = await deps.store.getReport(window.windowId);
    if (report === undefined) {
      const positions = await deps.store.positions(window);
      const balanced = sumOfPositions(positions) === 0n;
      report = await deps.store.recordReport({
        windowId: window.windowId,
        currency: window.currency,
        status: balanced ? 'BALANCED' : 'UNBALANCED',
        transferCount: window.transferCount,
        grossMinor: window.grossMinor,
        positions,
        instructions: balanced ? settlementInstructions(positions) : [],
        createdAt: now().toISOString(),
      });
    }
    if (report.status === 'UNBALANCED') {
      // Nothing is paid on positions that do not net to zero; operations are told (again, on a
      // redelivery whose first attempt could not tell them).
      if (await deps.store.claimUnbalancedAlarm(window.windowId)) await alarmUnbalanced(report);
      return;
    }
    if (report.instructions.length === 0) {
      await deps.store.markSettledIfComplete(window.windowId, 0);
      return;
    }
    // Only the instructions not recorded yet: a redelivery or a re-announcement repeats no
    // instruction a consumer has already seen through (the event id is its idempotency key).
    const recorded = new Set((await deps.store.recordedInstructions(window, report)).map((line) => line.institutionId));
    const pending = report.instructions.filter((line) => !recorded.has(line.institutionId));
    for (const line of pending) await deps.publisher.publish(instructionEvent(report, line, closed.id, now().toISOString()));
    if (pending.length === 0) await deps.store.markSettledIfComplete(window.windowId, report.instructions.length);
    deps.metrics.addMetric('SettlementInstructionsIssued', MetricUnit.Count, pending.length);
  };

  const alarmUnbalanced = async (report: SettlementReport): Promise<void> => {
    const sum = sumOfPositions(report.positions);
    try {
      await notifyUnbalanced(report, sum);
    } catch (error) {
      // Give the claim back so the redelivery tells operations.
      await deps.store.releaseUnbalancedAlarm(report.windowId);
      throw error;
    }
  };

  const notifyUnbalanced = async (report: SettlementReport, sum: bigint): Promise<void> => {
    deps.logger.error('settlement window positions do not net to zero; no instructions issued', { windowId: report.windowId, sum: sum.toString() });
    deps.metrics.addMetric('SettlementUnbalanced', MetricUnit.Count, 1);
    await deps.notifier.notify({
      alertId: `${report.windowId}.unbalanced`,
      severity: 'CRITICAL',
      subject: `[CRITICAL] settlement window ${report.windowId} does not balance`,
      message: [
        `The net positions of settlement window ${report.windowId} (${report.currency}) sum to ${sum}, not 0.`,
        'No settlement instructions were issued. Positions:',
        ...[...report.positions].map(([institution, position]) => `- ${institution}: ${position}`),
      ].join('\n'),
    });
  };

  const record = async (instruction: EventOf<'SettlementInstruction'>): Promise<void> => {
    const { windowId, institutionId, direction, amountMinor, instructionCount } = instruction.data;
    const recorded = await deps.store.recordInstruction(windowId, { institutionId, direction, amountMinor: BigInt(amountMinor) }, instructionCount);
    if (recorded) deps.metrics.addMetric('SettlementInstructionsRecorded', MetricUnit.Count, 1);
  };

  return eventConsumer({
    queue: 'settlements',
    types: ['SettlementWindowClosed', 'SettlementInstruction'],
    quarantine: deps.quarantine,
    logger: deps.logger,
    metrics: deps.metrics,
    correlationIdOf: (event) => event.data.windowId,
    handle: (event) => (event.type === 'SettlementWindowClosed' ? settle(event) : record(event)),
  });
}

function instructionEvent(report: SettlementReport, line: SettlementReport['instructions'][number], causationId: string, issuedAt: string): PaymentEvent {
  return {
    id: eventIdFor.instruction(report.windowId, line.institutionId),
    type: 'SettlementInstruction',
    version: ENVELOPE_VERSION,
    occurredAt: issuedAt,
    correlationId: report.windowId,
    causationId,
    data: {
      windowId: report.windowId,
      currency: report.currency,
      institutionId: line.institutionId,
      direction: line.direction,
      amountMinor: line.amountMinor.toString(),
      instructionCount: report.instructions.length,
      issuedAt,
    },
  };
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
