// The capacity model's seeded workloads: the world they run in (institutions, customer accounts,
// API clients per channel, one currency) and, per shape, the stream of transfer requests. The
// shapes are the issue's: spread over many institutions and accounts; concentrated on one
// institution (it pays or receives half of the interbank transfers); concentrated on one merchant
// account (it receives half of all transfers). Two more, all-intrabank and all-interbank, price a
// transfer of each kind on its own.
import type { ClientChannel } from '../../lambdas/core/trust/api-client.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import { shardCountFor } from '../../lambdas/core/settlement/shard-plan.js';
import type { SeededRandom } from '../dst/random.js';

/**
 * One currency: the settlement window is per currency, so one currency is the case where every
 * interbank transfer meets the same window item. With k currencies of equal volume the window
 * ceiling is k times higher; nothing else changes.
 */
export const CURRENCY: CurrencyCode = 'EUR';
export const CHANNELS: readonly ClientChannel[] = ['WEB', 'MOBILE', 'POS'];

/** The participants a run opens: institutions, their customer accounts, and the concentrated shapes' targets. */
export interface World {
  readonly institutions: readonly string[];
  readonly accountsPerInstitution: number;
  /** The hub institution of the one-institution shape, and the merchant's bank. */
  readonly hub: string;
  /** The merchant shape's collection account (a customer account of the hub). */
  readonly merchantAccount: string;
}

export function worldOf(institutionCount: number, accountsPerInstitution: number): World {
  if (institutionCount < 3 || accountsPerInstitution < 3) throw new RangeError('a world needs at least 3 institutions of 3 accounts');
  const institutions = Array.from({ length: institutionCount }, (_, index) => `bank-${String(index + 1).padStart(2, '0')}`);
  const hub = institutions[0] ?? 'bank-01';
  return { institutions, accountsPerInstitution, hub, merchantAccount: accountId(hub, 0) };
}

/**
 * Twenty institutions of 40 accounts: many enough that no institution's or account's items are
 * hot in the spread shape (each institution is in a tenth of the interbank transfers), few enough
 * to open in a second or two.
 */
export const DEFAULT_WORLD = worldOf(20, 40);
/** Opening balance of every customer account: ample, so only the deliberate overdrafts are refused. */
export const OPENING_BALANCE_MINOR = 100_000_000;
/** Share of interbank transfers in the mixed shapes (the rest are intrabank). */
export const DEFAULT_INTERBANK_SHARE = 0.5;
/** Share of requests that overdraw their account (refused INSUFFICIENT_FUNDS): the rejection path. */
export const OVERDRAFT_SHARE = 0.02;
/**
 * Share of requests large enough to trip LARGE_AMOUNT (and so raise an alert): the alert path,
 * its index writes and the operations notification. Kept small: a real scheme alerts rarely.
 */
export const LARGE_SHARE = 0.005;

/** The goal: 10,000 transfers/s overall, and 5,000/s through one institution. */
export const GOAL_TRANSFERS_PER_SECOND = 10_000;
export const GOAL_ONE_INSTITUTION_PER_SECOND = 5_000;

/**
 * The interbank rate an operator would configure an institution for (PUT limits
 * expectedTransfersPerSecond, which sets its position shards) to meet the goal: the hub (which is
 * also the merchant's bank) the whole one-institution goal; every other institution its even
 * share of the overall goal, twice (each interbank transfer has a payer and a payee).
 */
export function expectedTransfersPerSecond(world: World, institutionId: string): number {
  return institutionId === world.hub ? GOAL_ONE_INSTITUTION_PER_SECOND : Math.ceil((2 * GOAL_TRANSFERS_PER_SECOND) / world.institutions.length);
}

/** The merchant's collection account is opened hot, with a credit shard per 200 credits a second of the one-institution goal. */
export const MERCHANT_CREDIT_SHARDS = shardCountFor(GOAL_ONE_INSTITUTION_PER_SECOND);

export type ShapeName = 'spread' | 'institution' | 'merchant' | 'intrabank' | 'interbank';

export interface Shape {
  readonly name: ShapeName;
  readonly title: string;
  /** Of the transfers not sent to the merchant, the share that is interbank. */
  readonly interbankShare: number;
  /** Of the interbank transfers, the share the hub pays or receives (half each). */
  readonly hubShare: number;
  /** Of all transfers, the share credited to the merchant account. */
  readonly merchantShare: number;
}

export function shapes(interbankShare: number, world: World = DEFAULT_WORLD): Record<ShapeName, Shape> {
  return {
    spread: { name: 'spread', title: `spread: ${world.institutions.length} institutions x ${world.accountsPerInstitution} accounts`, interbankShare, hubShare: 0, merchantShare: 0 },
    institution: { name: 'institution', title: `one institution: ${world.hub} pays or receives 50 % of interbank transfers`, interbankShare, hubShare: 0.5, merchantShare: 0 },
    merchant: { name: 'merchant', title: `one merchant: ${world.merchantAccount} receives 50 % of transfers`, interbankShare, hubShare: 0, merchantShare: 0.5 },
    intrabank: { name: 'intrabank', title: 'intrabank only', interbankShare: 0, hubShare: 0, merchantShare: 0 },
    interbank: { name: 'interbank', title: 'interbank only', interbankShare: 1, hubShare: 0, merchantShare: 0 },
  };
}

export interface TransferRequestSpec {
  readonly institutionId: string;
  readonly channel: ClientChannel;
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amountMinor: number;
  readonly idempotencyKey: string;
  readonly interbank: boolean;
}

export function accountId(institutionId: string, index: number): string {
  return `acc-${institutionId}-${index}`;
}

/** The stream of requests of one shape, drawn from the seed. */
export class Workload {
  readonly #shape: Shape;
  readonly #world: World;
  readonly #random: SeededRandom;
  #issued = 0;

  constructor(shape: Shape, world: World, random: SeededRandom) {
    this.#shape = shape;
    this.#world = world;
    this.#random = random;
  }

  next(): TransferRequestSpec {
    const random = this.#random;
    const shape = this.#shape;
    const { institutions, hub, merchantAccount } = this.#world;
    const key = `cap-${++this.#issued}`;
    let payer: string;
    let payee: string;
    let creditor: string | undefined;
    if (random.chance(shape.merchantShare)) {
      // Customers of every institution pay the merchant; the merchant's own bank's customers intrabank.
      payer = random.pick(institutions);
      payee = hub;
      creditor = merchantAccount;
    } else if (random.chance(shape.interbankShare)) {
      [payer, payee] = this.#interbankPair();
    } else {
      payer = random.pick(institutions);
      payee = payer;
    }
    const debtor = this.#account(payer, creditor);
    creditor ??= this.#account(payee, debtor);
    const roll = random.next();
    const amountMinor =
      roll < OVERDRAFT_SHARE ? OPENING_BALANCE_MINOR * 10 : roll < OVERDRAFT_SHARE + LARGE_SHARE ? random.between(1_000_000, 2_000_000) : random.between(100, 10_000);
    return { institutionId: payer, channel: random.pick(CHANNELS), debtorAccountId: debtor, creditorAccountId: creditor, amountMinor, idempotencyKey: key, interbank: payer !== payee };
  }

  /** Payer and payee institutions of an interbank transfer; in the hub shape the hub is one of them as often as asked. */
  #interbankPair(): [string, string] {
    const random = this.#random;
    const { institutions, hub } = this.#world;
    const others = institutions.filter((institution) => institution !== hub);
    if (random.chance(this.#shape.hubShare)) {
      const other = random.pick(others);
      return random.chance(0.5) ? [hub, other] : [other, hub];
    }
    // Otherwise any pair; in the hub shape, any pair without the hub, so its share is exact.
    const pool = this.#shape.hubShare > 0 ? others : institutions;
    const payer = random.pick(pool);
    const payee = random.pick(pool.filter((institution) => institution !== payer));
    return [payer, payee];
  }

  /** A customer account of the institution other than `not` (never the merchant's as a debtor). */
  #account(institutionId: string, not: string | undefined): string {
    for (;;) {
      const account = accountId(institutionId, this.#random.int(this.#world.accountsPerInstitution));
      if (account !== not && account !== this.#world.merchantAccount) return account;
    }
  }
}
