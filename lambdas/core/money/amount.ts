// Money amounts: integer minor units, never floats. Balances are bigint (they accumulate without
// bound); a single transfer amount is bounded so it is also a safe JS integer on the wire.

/**
 * The largest amount one transfer may move, in minor units (just under 10^12, i.e. ten billion
 * in a two-digit currency). Far below Number.MAX_SAFE_INTEGER, so JSON numbers carry it exactly.
 */
export const AMOUNT_MINOR_MAX = 999_999_999_999;

export function isTransferAmountMinor(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= AMOUNT_MINOR_MAX;
}

/** Overdraft limits are bounded like amounts: a limit beyond any transfer size is meaningless. */
export const OVERDRAFT_LIMIT_MINOR_MAX = AMOUNT_MINOR_MAX;
