// The simulator's fraud profile: scripted actors mixed into normal traffic, each playing one
// pattern the risk rules exist for. Their steps are sent in order (one actor's debits stay within
// the rules' windows at any sensible rate), and each actor says what screening should make of it.
//   burst        account takeover draining an account: a dozen quick mid-size debits (velocity)
//   structuring  payments kept just under the reporting threshold to one mule (CRITICAL: frozen)
//   card-testing a stolen-card prober: small POS attempts that bounce, some to made-up accounts
import { DEFAULT_THRESHOLDS as T } from '../../lambdas/core/risk/thresholds.js';
import type { ApiClient, SubmitTransfer } from './api-client.js';

export const FRAUD_PATTERNS = ['burst', 'structuring', 'card-testing'] as const;
export type FraudPattern = (typeof FRAUD_PATTERNS)[number];

export interface FraudActor {
  readonly accountId: string;
  readonly pattern: FraudPattern;
  /** Whether screening is expected to freeze this account (a CRITICAL alert). */
  readonly expectFrozen: boolean;
}

export interface ScriptedRequest {
  readonly channel: 'WEB' | 'MOBILE' | 'POS';
  readonly body: SubmitTransfer;
  readonly actor: FraudActor;
  /** The actor's last step: once sent, the actor played its whole pattern. */
  readonly last: boolean;
}

/** How a pattern funds its actor and what it sends; amounts are EUR cents (the default thresholds). */
interface PatternScript {
  readonly openingBalance: number;
  readonly expectFrozen: boolean;
  steps(actor: string, payees: readonly string[], ghost: (index: number) => string, random: () => number): Omit<ScriptedRequest, 'actor' | 'last'>[];
}

const between = (random: () => number, min: number, max: number): number => Math.floor(min + random() * (max - min));

const PATTERNS: Readonly<Record<FraudPattern, PatternScript>> = {
  burst: {
    openingBalance: 4_000_000,
    expectFrozen: false,
    // More debits than VELOCITY_COUNT allows in its minute, adding up past VELOCITY_AMOUNT.
    steps: (actor, payees, _ghost, random) =>
      Array.from({ length: T.velocityCount.debitsMin + 2 }, () => ({
        channel: 'MOBILE' as const,
        body: transfer(actor, pick(payees, random), between(random, 200_000, 260_000)),
      })),
  },
  structuring: {
    openingBalance: 6_000_000,
    expectFrozen: true,
    // Just under the reporting threshold, to one mule: the third hits STRUCTURING and, with the
    // hour's total past VELOCITY_AMOUNT, reaches CRITICAL; the fourth finds the account frozen.
    steps: (actor, payees, _ghost, random) => {
      const mule = pick(payees, random);
      const { reportingThresholdMinor, marginMinor } = T.structuring;
      return Array.from({ length: T.structuring.transfersMin + 1 }, () => ({
        channel: 'WEB' as const,
        body: transfer(actor, mule, between(random, reportingThresholdMinor - marginMinor, reportingThresholdMinor)),
      }));
    },
  },
  'card-testing': {
    openingBalance: 1_000,
    expectFrozen: false,
    // Attempts the balance cannot cover, and some against accounts that do not exist.
    steps: (actor, payees, ghost, random) =>
      Array.from({ length: T.repeatedRejections.perAccountMin + 3 }, (_, index) => ({
        channel: 'POS' as const,
        body: transfer(actor, index % 3 === 2 ? ghost(index) : pick(payees, random), between(random, 2_000, 9_000)),
      })),
  },
};

function transfer(debtorAccountId: string, creditorAccountId: string, amount: number): SubmitTransfer {
  return { debtorAccountId, creditorAccountId, amount, currency: 'EUR', reference: 'sim fraud' };
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('nothing to pick from');
  return item;
}

/**
 * Opens one actor per scenario (patterns in turn) until the scripts hold about `requests`
 * submissions, at least one of each pattern. Their steps are interleaved, a step of each actor in
 * turn, as concurrent fraud would be; each actor's own steps stay in order.
 */
export async function prepareFraud(
  admin: ApiClient,
  runId: string,
  institutionId: string,
  payees: readonly string[],
  requests: number,
  random: () => number,
): Promise<{ actors: FraudActor[]; script: ScriptedRequest[] }> {
  const actors: FraudActor[] = [];
  const scripts: ScriptedRequest[][] = [];
  for (let index = 0, planned = 0; planned < requests || index < FRAUD_PATTERNS.length; index++) {
    const pattern = FRAUD_PATTERNS[index % FRAUD_PATTERNS.length] ?? 'burst';
    const plan = PATTERNS[pattern];
    const accountId = `sim-${runId}-fraud-${index}`;
    const opened = await admin.openAccount({ accountId, institutionId, currency: 'EUR' });
    if (opened.status !== 201) throw new Error(`opening ${accountId} answered ${opened.status}`);
    const funded = await admin.deposit(accountId, { amount: plan.openingBalance, currency: 'EUR', reference: 'simulation opening balance' });
    if (funded.status !== 201) throw new Error(`funding ${accountId} answered ${funded.status}`);
    const actor: FraudActor = { accountId, pattern, expectFrozen: plan.expectFrozen };
    actors.push(actor);
    const ghost = (step: number) => `sim-${runId}-ghost-${index}-${step}`;
    const steps = plan.steps(accountId, payees, ghost, random);
    scripts.push(steps.map((step, position) => ({ ...step, actor, last: position === steps.length - 1 })));
    planned += steps.length;
  }
  const script: ScriptedRequest[] = [];
  for (let position = 0; scripts.some((steps) => position < steps.length); position++) {
    for (const steps of scripts) {
      const step = steps[position];
      if (step !== undefined) script.push(step);
    }
  }
  return { actors, script };
}
