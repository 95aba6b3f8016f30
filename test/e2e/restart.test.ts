// Proves durability of the local runtime across a crash: with a persistent data dir, killing the
// runtime while transfers are queued or mid-batch and starting it again on the same data loses
// no accepted request and posts none twice (the start-up recovery sweep re-queues what the
// in-memory queues lost, in acceptance order, so an account's backlog is decided in the order it
// was accepted); a graceful restart finds everything as it was.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient, type TransactionView } from '../../lib/cli/api-client.js';
import type { SqsBatchHandler } from '../../lib/local/event-source.js';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import { balancesByCurrency } from '../support/ledger-fixtures.js';
import { adminOver, openAccountOverHttp } from '../support/http-fixtures.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'payments-restart-'));
const running: LocalRuntime[] = [];

afterAll(async () => {
  await Promise.allSettled(running.map((runtime) => runtime.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

/** Slows every batch so that, at the moment of the crash, work is queued and mid-flight. */
function slow(handler: SqsBatchHandler): SqsBatchHandler {
  return async (event, context) => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    return handler(event, context);
  };
}

const INSTITUTION_OF: Readonly<Record<string, string>> = { 'acc-alice': 'bank-a', 'acc-bob': 'bank-a', 'acc-carol': 'bank-b', 'acc-dave': 'bank-b' };

/** The seeded WEB client of the institution: only it may debit (and read) that institution's accounts. */
function clientOf(runtime: LocalRuntime, institutionId: string): ApiClient {
  const seeded = runtime.seededClients.find((client) => client.credentials.institutionId === institutionId && client.credentials.channel === 'WEB');
  if (seeded === undefined) throw new Error(`no seeded client for ${institutionId}`);
  return new ApiClient({ baseUrl: runtime.apiUrl, credentials: seeded.credentials });
}

async function balanceOf(runtime: LocalRuntime, accountId: string): Promise<bigint> {
  return (await clientOf(runtime, INSTITUTION_OF[accountId] ?? '').getAccount(accountId)).body.balance;
}

async function start(options: Parameters<typeof startLocalRuntime>[0] = {}): Promise<LocalRuntime> {
  const runtime = await startLocalRuntime({ dataDir, retryDelaySeconds: 0, ...options });
  running.push(runtime);
  return runtime;
}

describe('restarting the local runtime on a persistent data dir', () => {
  const submitted: { transactionId: string; debtor: string; amount: number }[] = [];
  let before: Map<string, bigint>;
  let clientIds: string[];

  it('loses nothing and posts nothing twice when killed with transfers in flight', async () => {
    const first = await start({ pollersPerQueue: 1, wrapQueueHandler: (_queue, handler) => slow(handler) });
    clientIds = first.seededClients.map((client) => client.credentials.clientId);
    before = new Map(await Promise.all(['acc-alice', 'acc-carol', 'acc-bob', 'acc-dave'].map(async (id) => [id, await balanceOf(first, id)] as const)));
    const pairs = [
      ['acc-alice', 'acc-bob'],
      ['acc-carol', 'acc-dave'],
    ] as const;
    for (let index = 0; index < 24; index++) {
      const [debtor, creditor] = pairs[index % 2]!;
      const amount = 100 + index;
      const accepted = await clientOf(first, INSTITUTION_OF[debtor] ?? '').submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount, currency: 'EUR' });
      expect(accepted.status).toBe(202);
      submitted.push({ transactionId: accepted.body.transactionId as string, debtor, amount });
    }

    await first.kill();
    const second = await start();
    const decided: TransactionView[] = await Promise.all(
      submitted.map(({ transactionId, debtor }) => clientOf(second, INSTITUTION_OF[debtor] ?? '').waitForDecision(transactionId, 30_000)),
    );

    expect(second.startupRecovery.requeued).toBeGreaterThan(0);
    expect(decided.map((transaction) => transaction.status)).toEqual(submitted.map(() => 'POSTED'));
    for (const [id, balance] of before) {
      const moved = submitted.filter((transfer) => transfer.debtor === id).reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
      const received = submitted
        .filter((transfer) => (transfer.debtor === 'acc-alice' && id === 'acc-bob') || (transfer.debtor === 'acc-carol' && id === 'acc-dave'))
        .reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
      expect(await balanceOf(second, id), id).toBe(balance - moved + received);
    }
    const sums = await balancesByCurrency(second.clients.dynamodb, second.bindings.tables.ledger);
    expect(sums.get('EUR')).toBe(0n);
    await second.stop();
  });

  it('finds every transfer, balance and key as it was after a graceful restart, re-queuing nothing', async () => {
    const third = await start();

    const statuses = await Promise.all(
      submitted.map(async ({ transactionId, debtor }) => (await clientOf(third, INSTITUTION_OF[debtor] ?? '').getTransaction(transactionId)).body.status),
    );
    const alice = await balanceOf(third, 'acc-alice');

    expect(third.startupRecovery.requeued).toBe(0);
    // The seeded API clients' credential files were kept and still sign.
    expect(third.seededClients.map((client) => client.credentials.clientId)).toEqual(clientIds);
    expect(statuses).toEqual(submitted.map(() => 'POSTED'));
    const aliceMoved = submitted.filter((transfer) => transfer.debtor === 'acc-alice').reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
    expect(alice).toBe(before.get('acc-alice')! - aliceMoved);
  });
});

describe('per-account order across a crash', () => {
  it('decides a killed backlog in acceptance order: with a tight balance, the earlier of two debits is the one that posts', async () => {
    const first = await start({ pollersPerQueue: 1, wrapQueueHandler: (queue, handler) => (queue === 'posting' ? slow(handler) : handler) });
    const admin = adminOver(first.apiUrl, first.credentials.adminKeys);
    const client = clientOf(first, 'bank-a');
    // Eight accounts, each able to afford one of its two debits, not both.
    const accounts = await Promise.all(Array.from({ length: 8 }, () => openAccountOverHttp(admin, { institutionId: 'bank-a', currency: 'EUR', balance: 1_000 })));
    const pairs: { earlier: string; later: string }[] = [];
    for (const debtor of accounts) {
      const earlier = await client.submit({ debtorAccountId: debtor, creditorAccountId: 'acc-bob', amount: 600, currency: 'EUR', reference: 'earlier' });
      const later = await client.submit({ debtorAccountId: debtor, creditorAccountId: 'acc-bob', amount: 600, currency: 'EUR', reference: 'later' });
      expect([earlier.status, later.status]).toEqual([202, 202]);
      pairs.push({ earlier: earlier.body.transactionId as string, later: later.body.transactionId as string });
    }

    await first.kill();
    const second = await start();
    const after = clientOf(second, 'bank-a');
    const decided = await Promise.all(pairs.map(async ({ earlier, later }) => [await after.waitForDecision(earlier, 30_000), await after.waitForDecision(later, 30_000)] as const));

    expect(second.startupRecovery.requeued).toBeGreaterThan(0);
    expect(decided.map(([earlier, later]) => [earlier.status, later.rejectionReason])).toEqual(pairs.map(() => ['POSTED', 'INSUFFICIENT_FUNDS']));
    await second.stop();
  });
});

describe('a settlement window closed just before a crash', () => {
  it('is announced again at start-up and settles, with no wait for the scheduled close', async () => {
    // The first runtime's settlement consumer never succeeds: the close's announcement dies with
    // its in-memory queues.
    const failing: SqsBatchHandler = () => Promise.reject(new Error('injected: the runtime dies before settling'));
    const first = await start({ settlementIntervalSeconds: 0, wrapQueueHandler: (queue, handler) => (queue === 'settlements' ? failing : handler) });
    const closed = await adminOver(first.apiUrl, first.credentials.adminKeys).closeWindow({ currency: 'EUR' });
    expect([closed.status, closed.body.closed.state]).toEqual([200, 'CLOSED']);

    await first.kill();
    const second = await start({ settlementIntervalSeconds: 0 });
    const admin = adminOver(second.apiUrl, second.credentials.adminKeys);
    let state = '';
    for (let waited = 0; state !== 'SETTLED' && waited < 30_000; waited += 200) {
      state = (await admin.getWindow(closed.body.closed.windowId)).body.state;
      if (state !== 'SETTLED') await new Promise((resolve) => setTimeout(resolve, 200));
    }

    expect(second.startupReannounced).toContain(closed.body.closed.windowId);
    expect(state).toBe('SETTLED');
    await second.stop();
  });
});
