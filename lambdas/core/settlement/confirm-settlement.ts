// Settlement finality: the settlement bank (through its adapter, or a settlement admin on its
// word) confirms that an institution's instruction of a window was carried out. Each confirmation
// is checked against the window's report (the institution must have an instruction, in that
// direction and amount), recorded once, and releases the window's part of the institution's
// exposure in the same write; the last one marks the window SETTLED. The same confirmation again
// replays; another one for the same institution and window is a conflict, never a second release.
import type { ConfirmResult, SettlementConfirmation, SettlementStore } from './ports.js';
import type { InstructionDirection } from './netting.js';
import type { SettlementWindow } from './window.js';

export interface ConfirmSettlementPorts {
  readonly store: Pick<SettlementStore, 'getWindow' | 'getReport' | 'confirmSettlement'>;
}

export type ConfirmOutcome =
  | ConfirmResult
  | { readonly kind: 'not-found'; readonly windowId: string }
  /** The institution has no instruction in this window (it netted to zero, or took no part). */
  | { readonly kind: 'no-instruction'; readonly window: SettlementWindow }
  /** The confirmation names another direction or amount than the instruction: nothing recorded. */
  | { readonly kind: 'mismatch'; readonly instruction: { readonly direction: InstructionDirection; readonly amountMinor: bigint } };

export async function confirmSettlement(ports: ConfirmSettlementPorts, windowId: string, confirmation: SettlementConfirmation): Promise<ConfirmOutcome> {
  const window = await ports.store.getWindow(windowId);
  if (window === undefined) return { kind: 'not-found', windowId };
  // Before its report (and so its instructions) exists, nothing can have been carried out. A
  // CLOSED window with a report may have its instructions out while the last is being recorded;
  // a SETTLED one goes on to the store, which replays a confirmation it holds and refuses others.
  if (window.state === 'OPEN') return { kind: 'not-pending', window };
  const report = await ports.store.getReport(windowId);
  if (report === undefined || report.status !== 'BALANCED') return { kind: 'not-pending', window };
  const instruction = report.instructions.find((line) => line.institutionId === confirmation.institutionId);
  if (instruction === undefined) return { kind: 'no-instruction', window };
  if (instruction.direction !== confirmation.direction || instruction.amountMinor !== confirmation.amountMinor) {
    return { kind: 'mismatch', instruction: { direction: instruction.direction, amountMinor: instruction.amountMinor } };
  }
  const positionMinor = report.positions.get(confirmation.institutionId) ?? 0n;
  return ports.store.confirmSettlement(windowId, confirmation, positionMinor, report.instructions.length);
}
