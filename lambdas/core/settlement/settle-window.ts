// The settling use cases, driven by the settlements queue (grouped by window):
// - a closed window is sealed (every position shard moves past it, so nothing more can land in
//   it), then netted into one instruction per institution with a non-zero position; the
//   positions must sum to zero (otherwise an UNBALANCED report is stored, nothing is paid and
//   operations are alarmed once); the report is stored once and its instructions are published
//   (ids per window and institution, so a re-publish is deduplicated);
// - each instruction is recorded once; the last one marks the window PENDING_SETTLEMENT, where it
//   waits for the settlement bank to confirm every instruction (confirm-settlement.ts).
// A redelivery of either finds the stored report or the recorded instruction and changes nothing.
import type { EventOf } from '../events/envelope.js';
import type { EventPublisher } from '../events/ports.js';
import { settlementInstruction } from '../events/settlement-events.js';
import type { OpsNotification, OpsNotifier } from '../risk/notification.js';
import { settlementInstructions, sumOfPositions } from './netting.js';
import type { SettlementReport, SettlementStore } from './ports.js';
import type { SettlementWindow } from './window.js';

export interface SettleWindowPorts {
  readonly store: Pick<
    SettlementStore,
    'getWindow' | 'getReport' | 'sealWindow' | 'recordReport' | 'claimUnbalancedAlarm' | 'releaseUnbalancedAlarm' | 'markIssuedIfComplete' | 'recordedInstructions'
  >;
  /** The settlements topic, for SettlementInstruction. */
  readonly publisher: EventPublisher;
  readonly notifier: OpsNotifier;
  readonly now: () => Date;
  /**
   * Told just before operations are alarmed about an UNBALANCED window. The alarm may fail (and
   * be retried); what the window came to is reported either way.
   */
  readonly onUnbalanced?: (report: SettlementReport, sumMinor: bigint) => void;
}

export type SettleOutcome =
  /** The announcement names no window, or one that is still OPEN: it can never be acted on. */
  | { readonly kind: 'unknown-window'; readonly windowId: string }
  | { readonly kind: 'window-open'; readonly windowId: string }
  /** A late redelivery: all done, or every instruction issued and awaiting confirmation. */
  | { readonly kind: 'already-settled'; readonly windowId: string }
  | { readonly kind: 'awaiting-confirmation'; readonly windowId: string }
  /** Nothing paid; `alarmed`: this delivery alarmed operations (an earlier one may have). */
  | { readonly kind: 'unbalanced'; readonly report: SettlementReport; readonly alarmed: boolean }
  /** No institution had a non-zero position: the window settled without instructions (nothing to confirm). */
  | { readonly kind: 'nothing-to-pay'; readonly report: SettlementReport }
  /** `issued`: instructions published by this delivery (those not recorded yet). */
  | { readonly kind: 'instructions-issued'; readonly report: SettlementReport; readonly issued: number };

export async function settleClosedWindow(ports: SettleWindowPorts, closed: EventOf<'SettlementWindowClosed'>): Promise<SettleOutcome> {
  const window = await ports.store.getWindow(closed.data.windowId);
  if (window === undefined) return { kind: 'unknown-window', windowId: closed.data.windowId };
  if (window.state === 'SETTLED') return { kind: 'already-settled', windowId: window.windowId };
  if (window.state === 'PENDING_SETTLEMENT') {
    // Every confirmation may be in with the SETTLED mark lost; the store settles it if so.
    await ports.store.markIssuedIfComplete(window.windowId, window.instructionCount ?? 0);
    return { kind: 'awaiting-confirmation', windowId: window.windowId };
  }
  if (window.state === 'OPEN') return { kind: 'window-open', windowId: window.windowId };
  const report = (await ports.store.getReport(window.windowId)) ?? (await recordReport(ports, window));
  if (report.status === 'UNBALANCED') {
    // Nothing is paid on positions that do not net to zero; operations are told (again, on a
    // redelivery whose first attempt could not tell them).
    const alarmed = await ports.store.claimUnbalancedAlarm(window.windowId);
    if (alarmed) await alarmUnbalanced(ports, report);
    return { kind: 'unbalanced', report, alarmed };
  }
  if (report.instructions.length === 0) {
    await ports.store.markIssuedIfComplete(window.windowId, 0);
    return { kind: 'nothing-to-pay', report };
  }
  return { kind: 'instructions-issued', report, issued: await issueInstructions(ports, window, report, closed.id) };
}

/** Seals the window, nets its positions into its report and stores it once; the report that stands. */
async function recordReport(ports: SettleWindowPorts, closed: SettlementWindow): Promise<SettlementReport> {
  const { window, positions } = await ports.store.sealWindow(closed);
  const balanced = sumOfPositions(positions) === 0n;
  return ports.store.recordReport({
    windowId: window.windowId,
    currency: window.currency,
    status: balanced ? 'BALANCED' : 'UNBALANCED',
    transferCount: window.transferCount,
    grossMinor: window.grossMinor,
    positions,
    instructions: balanced ? settlementInstructions(positions) : [],
    createdAt: ports.now().toISOString(),
  });
}

/** Publishes the instructions not recorded yet; the window awaits confirmation once all are recorded. */
async function issueInstructions(ports: SettleWindowPorts, window: SettlementWindow, report: SettlementReport, causationId: string): Promise<number> {
  // Only the instructions not recorded yet: a redelivery or a re-announcement repeats no
  // instruction a consumer has already seen through (the event id is its idempotency key).
  const recorded = new Set((await ports.store.recordedInstructions(window, report)).map((line) => line.institutionId));
  const pending = report.instructions.filter((line) => !recorded.has(line.institutionId));
  for (const line of pending) await ports.publisher.publish(settlementInstruction(report, line, causationId, ports.now().toISOString()));
  if (pending.length === 0) await ports.store.markIssuedIfComplete(window.windowId, report.instructions.length);
  return pending.length;
}

async function alarmUnbalanced(ports: SettleWindowPorts, report: SettlementReport): Promise<void> {
  const sumMinor = sumOfPositions(report.positions);
  try {
    ports.onUnbalanced?.(report, sumMinor);
    await ports.notifier.notify(unbalancedWindowNotification(report, sumMinor));
  } catch (error) {
    // Give the claim back so the redelivery tells operations.
    await ports.store.releaseUnbalancedAlarm(report.windowId);
    throw error;
  }
}

export function unbalancedWindowNotification(report: SettlementReport, sumMinor: bigint): OpsNotification {
  return {
    alertId: `${report.windowId}.unbalanced`,
    severity: 'CRITICAL',
    subject: `[CRITICAL] settlement window ${report.windowId} does not balance`,
    message: [
      `The net positions of settlement window ${report.windowId} (${report.currency}) sum to ${sumMinor}, not 0.`,
      'No settlement instructions were issued. Positions:',
      ...[...report.positions].map(([institution, position]) => `- ${institution}: ${position}`),
    ].join('\n'),
  };
}

/** Records one instruction once (a redelivery changes nothing); whether this call recorded it. */
export async function recordSettlementInstruction(ports: { readonly store: Pick<SettlementStore, 'recordInstruction'> }, instruction: EventOf<'SettlementInstruction'>): Promise<boolean> {
  const { windowId, institutionId, direction, amountMinor, instructionCount } = instruction.data;
  return ports.store.recordInstruction(windowId, { institutionId, direction, amountMinor: BigInt(amountMinor) }, instructionCount);
}
