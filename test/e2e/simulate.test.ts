// Proves the traffic simulator against a real local runtime: every accepted request is decided
// (none lost), deliberate duplicates are absorbed, money is conserved, and the figures add up;
// with the fraud profile, every pattern's actor is alerted on, the structuring actor frozen, and
// the alert latency measured.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDecisionFeed } from '../../lib/cli/decision-feed.js';
import { formatSummary, simulate } from '../../lib/cli/simulate.js';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({ seed: false });
});

afterAll(async () => {
  await runtime.stop();
});

/** A short simulation against the test's runtime, with the decision feed; options vary per test. */
function simulateHere(options: {
  readonly seed: number;
  readonly durationSeconds?: number;
  readonly settlementIntervalSeconds?: number;
  readonly fraudShare?: number;
  readonly channelTransport?: typeof fetch;
}) {
  return simulate({
    baseUrl: runtime.apiUrl,
    adminKeys: runtime.credentials.adminKeys,
    rate: 20,
    durationSeconds: 3,
    customers: 10,
    ...options,
    decisionFeed: (onDecision) => startDecisionFeed(runtime.clients, runtime.bindings.topics.transactions, onDecision),
  });
}

/**
 * Loses the answer to every `every`-th new submission after the API has handled it, as a client
 * timeout does: the transfer may be accepted while the channel never hears so. A resend of the
 * same key is answered. It also loses the answer to the first deliberate duplicate (a key whose
 * first answer arrived, sent again): that duplicate must be resent and absorbed like the rest.
 */
function losingAnswers(every: number) {
  const answered = new Set<string>();
  const lostKeys = new Set<string>();
  const lost = { count: 0, duplicates: 0 };
  let newKeys = 0;
  const transport: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const key = new Headers(init?.headers).get('idempotency-key');
    const submission = init?.method === 'POST' && (input instanceof Request ? input.url : input.toString()).endsWith('/v1/transactions') && key !== null;
    if (!submission || lostKeys.has(key)) return response;
    if (answered.has(key)) {
      if (lost.duplicates > 0) return response;
      lost.duplicates++;
    } else if (++newKeys % every !== 0) {
      answered.add(key);
      return response;
    } else {
      lost.count++;
    }
    lostKeys.add(key);
    await response.arrayBuffer();
    throw new DOMException('the answer was lost', 'TimeoutError');
  };
  return { transport, lost };
}

describe('simulate, one run with every profile: lost answers, frequent closes and fraud actors', () => {
  // One run carries every check: two runs cost twice the runtime's time for no more coverage.
  const lostAnswers = losingAnswers(6);
  let summary: Awaited<ReturnType<typeof simulate>>;

  beforeAll(async () => {
    summary = await simulateHere({ seed: 42, durationSeconds: 3, settlementIntervalSeconds: 1, fraudShare: 0.3, channelTransport: lostAnswers.transport });
  });

  it('decides every accepted request, absorbs duplicates, learns the fate of every lost answer and conserves money', () => {
    expect(summary.sent).toBeGreaterThanOrEqual(60);
    // Under a loaded machine a submission may time out at the client (it may or may not have
    // been accepted); the API itself must refuse nothing. Every other submission is accounted for.
    const timedOut = Object.entries(summary.refused).reduce((sum, [kind, count]) => sum + (kind === 'timeout' || kind === 'network error' ? count : 0), 0);
    expect(Object.keys(summary.refused).filter((kind) => kind !== 'timeout' && kind !== 'network error')).toEqual([]);
    // (A duplicate that timed out is counted both as sent as a duplicate and as timed out.)
    expect(summary.accepted + summary.duplicatesSent).toBeLessThanOrEqual(summary.sent);
    expect(summary.accepted + summary.duplicatesSent + timedOut).toBeGreaterThanOrEqual(summary.sent);
    // How many are answered within the client's timeout depends on the machine's load, not on the
    // code: no share is required, only that something was accepted for the checks below to check.
    expect(summary.accepted).toBeGreaterThan(0);
    expect(summary.lost).toBe(0);
    expect(summary.posted + Object.values(summary.rejectedByReason).reduce((sum, count) => sum + count, 0)).toBe(summary.accepted);
    expect(summary.duplicatesAbsorbed).toBe(summary.duplicatesSent);
    // Every submission whose answer was lost was resent with its key and its fate learnt (some
    // were accepted although the channel never heard so); only then do the balances reconcile.
    expect(lostAnswers.lost.count).toBeGreaterThan(0);
    // The first deliberate duplicate's answer is lost (when the run sent one: the simulator draws
    // duplicates at random); it is resent and absorbed like the rest (the line below).
    expect(lostAnswers.lost.duplicates).toBe(Math.min(1, summary.duplicatesSent));
    expect(summary.answeredOnResend + summary.unresolved).toBeGreaterThanOrEqual(lostAnswers.lost.count + lostAnswers.lost.duplicates);
    expect(summary.unresolved).toBe(0);
    expect(summary.conservation.after).toBe(summary.conservation.before);
    expect(formatSummary(summary)).toMatch(/unanswered {7}\d+ answered when resent with their key/);
    expect(summary.latencyMs.p50).toBeLessThanOrEqual(summary.latencyMs.p99);
    expect(formatSummary(summary)).toMatch(/lost {13}0 \(every accepted request was decided\)/);
  });

  it('settles every window of the run, each netted to zero, together holding exactly the interbank transfers that posted', () => {
    expect(summary.settlement.unsettled).toEqual([]);
    expect(summary.settlement.everyWindowBalanced).toBe(true);
    expect(summary.settlement.postedInterbankCount).toBeGreaterThan(0);
    expect(summary.settlement.windowsGrossMinor).toBe(summary.settlement.postedInterbankMinor);
    expect(summary.settlement.windows.reduce((sum, window) => sum + window.transferCount, 0)).toBe(summary.settlement.postedInterbankCount);
  });

  it('alerts on each fraud pattern, freezes structuring, and acts on every serious alert', () => {
    expect(summary.risk.fraud.map((outcome) => outcome.pattern).sort()).toEqual(['burst', 'card-testing', 'structuring']);
    for (const outcome of summary.risk.fraud) {
      expect(outcome.completed, outcome.pattern).toBe(outcome.actors);
      expect(outcome.alerted, outcome.pattern).toBe(outcome.actors);
      expect(outcome.frozen, outcome.pattern).toBe(outcome.expectedFrozen);
    }
    expect(summary.risk.fraud.find((outcome) => outcome.pattern === 'structuring')?.expectedFrozen).toBeGreaterThan(0);
    expect(summary.risk.actionsMissing).toBe(0);
    for (const rule of ['STRUCTURING', 'REPEATED_REJECTIONS', 'VELOCITY_COUNT']) expect(summary.risk.byRule[rule], rule).toBeGreaterThan(0);
    // How many alerts the CLI managed to time (202 -> stored) depends on the machine's load, not on
    // the pipeline: some, and never more than there are.
    expect(summary.risk.alertsTimed).toBeGreaterThan(0);
    expect(summary.risk.alertsTimed).toBeLessThanOrEqual(summary.risk.alerts);
    expect(formatSummary(summary)).toMatch(/latency 202->alert stored {2}p50 \d+ ms/);
  });
});
