// Risk thresholds per currency and channel: typed configuration with documented defaults. Amounts
// are minor units of the currency they are listed under; a currency without an entry is not
// screened by amount-based rules (count-based rules still apply).
import type { CurrencyCode } from '../money/currency.js';
import type { TransferChannel } from '../ledger/transfer.js';

export interface WindowLimit {
  readonly windowSeconds: number;
}

export interface RiskThresholds {
  /** LARGE_AMOUNT: one transfer at or above this, per channel. */
  readonly largeAmountMinor: Readonly<Record<TransferChannel, number>>;
  /** VELOCITY_COUNT: this many posted debits or more from one account within the window. */
  readonly velocityCount: WindowLimit & { readonly debitsMin: number };
  /** VELOCITY_AMOUNT: this much or more debited from one account within the window. */
  readonly velocityAmount: WindowLimit & { readonly amountMinor: number };
  /**
   * STRUCTURING: this many transfers or more from one account within the window, each in
   * [reporting threshold - margin, reporting threshold): amounts kept just under the line.
   */
  readonly structuring: WindowLimit & { readonly reportingThresholdMinor: number; readonly marginMinor: number; readonly transfersMin: number };
  /** REPEATED_REJECTIONS: this many rejected attempts by one account, or on one channel. */
  readonly repeatedRejections: WindowLimit & { readonly perAccountMin: number; readonly perChannelMin: number };
  /** NEW_PAYEE_LARGE_AMOUNT: the first transfer from a debtor to a creditor at or above this. */
  readonly newPayeeLargeAmountMinor: number;
}

const MINUTE = 60;
const HOUR = 3_600;
const DAY = 86_400;

/** Defaults for two-decimal major currencies (EUR, USD, GBP, CHF): see the README's table. */
export const DEFAULT_THRESHOLDS: RiskThresholds = {
  largeAmountMinor: { WEB: 1_000_000, MOBILE: 500_000, POS: 200_000, ADMIN: Number.MAX_SAFE_INTEGER },
  velocityCount: { windowSeconds: MINUTE, debitsMin: 10 },
  velocityAmount: { windowSeconds: HOUR, amountMinor: 2_000_000 },
  structuring: { windowSeconds: DAY, reportingThresholdMinor: 1_000_000, marginMinor: 100_000, transfersMin: 3 },
  repeatedRejections: { windowSeconds: 10 * MINUTE, perAccountMin: 5, perChannelMin: 50 },
  newPayeeLargeAmountMinor: 300_000,
};

const CONFIGURED: Partial<Record<CurrencyCode, RiskThresholds>> = {
  EUR: DEFAULT_THRESHOLDS,
  USD: DEFAULT_THRESHOLDS,
  GBP: DEFAULT_THRESHOLDS,
  CHF: DEFAULT_THRESHOLDS,
};

export function thresholdsFor(currency: CurrencyCode, overrides: Partial<Record<CurrencyCode, RiskThresholds>> = {}): RiskThresholds | undefined {
  return overrides[currency] ?? CONFIGURED[currency];
}
