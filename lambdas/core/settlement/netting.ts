// Deferred multilateral net settlement: each institution's position in a window is what it owes
// (as payer) minus what it is owed (as payee). Positions of a window always sum to zero; a window
// settles by one instruction per institution with a non-zero position: PAY its net debit, or
// RECEIVE its net credit. The Net Debit Cap bounds how far a payer's position may grow.

export interface Obligation {
  readonly payerInstitutionId: string;
  readonly payeeInstitutionId: string;
  readonly amountMinor: bigint;
}

export type InstructionDirection = 'PAY' | 'RECEIVE';

export interface SettlementInstructionLine {
  readonly institutionId: string;
  readonly direction: InstructionDirection;
  /** Always positive. */
  readonly amountMinor: bigint;
}

/** Net positions (positive: owes) from the obligations; institutions that net to zero included. */
export function netPositions(obligations: readonly Obligation[]): Map<string, bigint> {
  const positions = new Map<string, bigint>();
  for (const { payerInstitutionId, payeeInstitutionId, amountMinor } of obligations) {
    if (amountMinor <= 0n) throw new RangeError('an obligation must be positive');
    if (payerInstitutionId === payeeInstitutionId) throw new RangeError('an obligation is between two institutions');
    positions.set(payerInstitutionId, (positions.get(payerInstitutionId) ?? 0n) + amountMinor);
    positions.set(payeeInstitutionId, (positions.get(payeeInstitutionId) ?? 0n) - amountMinor);
  }
  return positions;
}

export function sumOfPositions(positions: ReadonlyMap<string, bigint>): bigint {
  let sum = 0n;
  for (const position of positions.values()) sum += position;
  return sum;
}

export class UnbalancedPositionsError extends Error {
  override name = 'UnbalancedPositionsError';
}

/**
 * The instructions that settle a window, in institution order. Refuses positions that do not sum
 * to zero: money would be created or destroyed, and nothing may be paid on that basis.
 */
export function settlementInstructions(positions: ReadonlyMap<string, bigint>): SettlementInstructionLine[] {
  const sum = sumOfPositions(positions);
  if (sum !== 0n) throw new UnbalancedPositionsError(`net positions sum to ${sum}, not 0`);
  return [...positions.entries()]
    .filter(([, position]) => position !== 0n)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([institutionId, position]) => ({
      institutionId,
      direction: position > 0n ? 'PAY' : 'RECEIVE',
      amountMinor: position > 0n ? position : -position,
    }));
}

/**
 * The largest position a payer may hold before an interbank debit of `amountMinor`: the debit
 * posts only if position + amount <= cap. Undefined cap: the institution is not capped.
 */
export function positionCeilingBefore(amountMinor: bigint, netDebitCapMinor: bigint | undefined): bigint | undefined {
  return netDebitCapMinor === undefined ? undefined : netDebitCapMinor - amountMinor;
}
