// Proves the simulator's own checks can fail: the per-account order check flags a transfer decided
// ahead of one that had its 202 before it was submitted (and nothing else), a second decision of a
// transfer is flagged, the seeded generator replays, and the scheduler never resumes a crashed
// client continuation while always resuming a service's.
import { describe, expect, it } from 'vitest';
import type { PostingResult } from '../../lambdas/core/ledger/ports.js';
import type { TransferRecord, TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import { ClientModel } from '../../lib/dst/model.js';
import { SeededRandom } from '../../lib/dst/random.js';
import { Scheduler } from '../../lib/dst/scheduler.js';

function request(transferId: string, debtorAccountId = 'acc-1'): TransferRequest {
  return { transferId, debtorAccountId, creditorAccountId: 'acc-2', amountMinor: 100, currency: 'EUR', channel: 'WEB', requestedAt: '2026-01-05T08:00:00.000Z' };
}

function decided(transferId: string, debtorAccountId = 'acc-1'): PostingResult {
  const transfer: TransferRecord = { ...request(transferId, debtorAccountId), status: 'POSTED', contentHash: 'h', decidedAt: '2026-01-05T08:00:01.000Z' };
  return { kind: 'decided', transfer };
}

describe('ClientModel', () => {
  it('flags a transfer decided before one of its account that had its 202 before it was submitted', () => {
    const model = new ClientModel();
    model.submitting('t-1', 'acc-1');
    model.answeredAccepted('t-1', 'acc-1');
    model.submitting('t-2', 'acc-1');
    model.answeredAccepted('t-2', 'acc-1');

    model.record(request('t-2'), decided('t-2'));

    expect(model.orderViolations).toBe(1);
    expect(model.violations[0]).toMatchObject({ invariant: 'order', subjects: ['t-2', 't-1', 'acc-1'] });
  });

  it('lets concurrent submissions of one account decide in either order, and other accounts in any order', () => {
    const model = new ClientModel();
    model.submitting('t-1', 'acc-1');
    model.submitting('t-2', 'acc-1');
    model.answeredAccepted('t-2', 'acc-1');
    model.answeredAccepted('t-1', 'acc-1');
    model.submitting('t-3', 'acc-9');
    model.answeredAccepted('t-3', 'acc-9');

    model.record(request('t-3', 'acc-9'), decided('t-3', 'acc-9'));
    model.record(request('t-2'), decided('t-2'));
    model.record(request('t-1'), decided('t-1'));

    expect(model.violations).toEqual([]);
  });

  it('flags a transfer decided twice, and ignores duplicates the ledger answered as such', () => {
    const model = new ClientModel();
    model.record(request('t-1'), decided('t-1'));
    const first = decided('t-1');
    model.record(request('t-1'), first.kind === 'decided' ? { kind: 'duplicate', transfer: first.transfer } : first);
    expect(model.violations).toEqual([]);

    model.record(request('t-1'), decided('t-1'));

    expect(model.doubled).toBe(1);
    expect(model.violations[0]?.invariant).toBe('doubled');
  });
});

describe('SeededRandom', () => {
  it('replays a seed and differs between seeds', () => {
    const draws = (seed: number) => Array.from({ length: 20 }, ((random) => () => random.nextUint32())(new SeededRandom(seed)));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
  });
});

describe('Scheduler', () => {
  it('never resumes a crashed client continuation, always resumes a service one, and fires timers on simulated time', async () => {
    const scheduler = new Scheduler(new SeededRandom(1), 0);
    scheduler.running = true;
    const steps: string[] = [];
    scheduler.spawn('client', async () => {
      await scheduler.yieldPoint('client');
      steps.push('client went on');
    });
    scheduler.spawn('service', async () => {
      await scheduler.yieldPoint('service');
      steps.push('service went on');
    });
    scheduler.crashAll();
    while (scheduler.resumeOne()) await scheduler.settle();
    const restore = scheduler.installGlobals(new SeededRandom(2));
    try {
      setTimeout(() => steps.push('timer fired'), 5_000);
      await scheduler.advance(4_999);
      expect(steps).toEqual(['service went on']);
      await scheduler.advance(1);
    } finally {
      restore();
    }

    expect(steps).toEqual(['service went on', 'timer fired']);
    expect(scheduler.nowMs()).toBe(5_000);
  });
});
