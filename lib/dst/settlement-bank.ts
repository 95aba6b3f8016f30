// The simulated settlement bank, shared by the simulator and the capacity model: it carries out
// each instruction it has received (one the settlement handler recorded) and says so on the
// settlements topic with SettlementConfirmed, as its adapter would. Instructions not received yet
// wait for a later round; one already confirmed is not confirmed again.
import { settlementConfirmed } from '../../lambdas/core/events/settlement-events.js';
import type { EventPublisher } from '../../lambdas/core/events/ports.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import type { SettlementStore } from '../../lambdas/core/settlement/ports.js';

/** Windows looked at per currency and round: the oldest awaiting the bank. */
const WINDOWS_PER_ROUND = 5;

export interface SettlementBankPorts {
  readonly settlement: Pick<SettlementStore, 'unsettledWindows' | 'getReport' | 'confirmations' | 'recordedInstructions'>;
  /** The settlements topic. */
  readonly settlements: EventPublisher;
}

/** One round of the bank over these currencies; how many confirmations it published. */
export async function confirmReceivedInstructions(ports: SettlementBankPorts, currencies: readonly CurrencyCode[], now: () => Date): Promise<number> {
  let confirmed = 0;
  for (const currency of currencies) {
    for (const window of await ports.settlement.unsettledWindows(currency, WINDOWS_PER_ROUND, ['CLOSED', 'PENDING_SETTLEMENT'])) {
      const report = await ports.settlement.getReport(window.windowId);
      if (report === undefined || report.status !== 'BALANCED') continue;
      const done = new Set((await ports.settlement.confirmations(window, report)).map((line) => line.institutionId));
      const received = new Set((await ports.settlement.recordedInstructions(window, report)).map((line) => line.institutionId));
      for (const line of report.instructions) {
        if (done.has(line.institutionId) || !received.has(line.institutionId)) continue;
        const reference = `bank-${window.windowId}-${line.institutionId}`;
        await ports.settlements.publish(settlementConfirmed(window.windowId, window.currency, { ...line, reference }, now().toISOString()));
        confirmed++;
      }
    }
  }
  return confirmed;
}
