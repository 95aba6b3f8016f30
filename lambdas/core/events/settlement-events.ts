// Builds the settlement events: SettlementWindowClosed from a closed window, SettlementInstruction
// from one line of a window's report, SettlementConfirmed from the settlement bank's word. Ids derive from the window (and institution), so announcing
// again or re-issuing an instruction is a duplicate the topic and consumers absorb.
import { createHash } from 'node:crypto';
import type { SettlementConfirmation, SettlementReport } from '../settlement/ports.js';
import type { SettlementWindow } from '../settlement/window.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf } from './envelope.js';

/**
 * The window's announcement, stamped with its closing time. A window without one (not closed,
 * which only a caller bypassing the close can hand in) is stamped with the clock's time instead.
 */
export function windowClosedEvent(window: SettlementWindow, now: () => Date): EventOf<'SettlementWindowClosed'> {
  const closedAt = window.closedAt ?? now().toISOString();
  return {
    id: eventIdFor.windowClosed(window.windowId),
    type: 'SettlementWindowClosed',
    version: ENVELOPE_VERSION,
    occurredAt: closedAt,
    correlationId: window.windowId,
    causationId: window.windowId,
    data: { windowId: window.windowId, currency: window.currency, closedAt },
  };
}

export function settlementInstruction(
  report: SettlementReport,
  line: SettlementReport['instructions'][number],
  causationId: string,
  issuedAt: string,
): EventOf<'SettlementInstruction'> {
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

/** What a settlement-bank adapter publishes once it has carried out an instruction. */
export function settlementConfirmed(
  windowId: string,
  currency: EventOf<'SettlementInstruction'>['data']['currency'],
  confirmation: Omit<SettlementConfirmation, 'confirmedBy'>,
  confirmedAt: string,
): EventOf<'SettlementConfirmed'> {
  return {
    id: eventIdFor.confirmed(windowId, confirmation.institutionId, createHash('sha256').update(`${confirmation.direction}|${confirmation.amountMinor}|${confirmation.reference}`).digest('hex')),
    type: 'SettlementConfirmed',
    version: ENVELOPE_VERSION,
    occurredAt: confirmedAt,
    correlationId: windowId,
    causationId: eventIdFor.instruction(windowId, confirmation.institutionId),
    data: {
      windowId,
      currency,
      institutionId: confirmation.institutionId,
      direction: confirmation.direction,
      amountMinor: confirmation.amountMinor.toString(),
      reference: confirmation.reference,
      confirmedAt,
    },
  };
}
