// Proves durability of the local runtime across a crash: with a persistent data dir, killing the
// runtime while transfers are queued or mid-batch and starting it again on the same data loses
// no accepted request and posts none twice (the start-up recovery sweep re-queues what the
// in-memory queues lost, in acceptance order, so an account's backlog is decided in the order it
// was accepted), a settlement window closed just before the kill settles after it; a graceful
// restart finds everything as it was.
//
// One kill serves all three crash scenarios: a runtime start is the slow part of this file, and
// the scenarios use different accounts (and the window holds no transfer), so they do not interact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type TransactionView } from '../../lib/cli/api-client.js';
import type { SqsBatchHandler } from '../../lib/local/event-source.js';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import { balancesByCurrency } from '../support/ledger-fixtures.js';
import { adminOver, openAccountOverHttp } from '../support/http-fixtures.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'payments-restart-'));
const running: LocalRuntime[] = [];
const DECISION_TIMEOUT_MS = 30_000;
/** Transfers between seeded accounts taken before the kill (half alice -> bob, half carol -> dave). */
const TRANSFER_COUNT = 12;
/** Accounts each given two debits of which it can afford one, the second accepted after the first. */
const ORDERED_ACCOUNT_COUNT = 8;

afterAll(async () => {
  await Promise.allSettled(running.map((runtime) => runtime.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

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
  // No scheduled close: a window that settles after the restart was announced again at start-up.
  const runtime = await startLocalRuntime({ dataDir, retryDelaySeconds: 0, settlementIntervalSeconds: 0, ...options });
  running.push(runtime);
  return runtime;
}

/**
 * The first runtime's posting consumer: each batch is slowed, so that work is queued and
 * mid-flight at the kill; once `hold` is called, every batch it takes stays in flight until the
 * kill, so whatever is submitted after that is certainly undecided when the runtime dies.
 */
function postingUntilHeld(): { wrap: (handler: SqsBatchHandler) => SqsBatchHandler; hold: () => void } {
  let held = false;
  const never = new Promise<never>(() => undefined);
  return {
    hold: () => {
      held = true;
    },
    wrap: (handler) => async (event, context) => {
      if (held) return never;
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (held) return never;
      return handler(event, context);
    },
  };
}

/** Slows every batch of the other consumers too, as a loaded runtime would be at a crash. */
function slow(handler: SqsBatchHandler): SqsBatchHandler {
  return async (event, context) => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    return handler(event, context);
  };
}

interface Submitted {
  readonly transactionId: string;
  readonly debtor: string;
  readonly amount: number;
}

interface BeforeTheKill {
  readonly clientIds: readonly string[];
  readonly balancesBefore: ReadonlyMap<string, bigint>;
  readonly transfers: readonly Submitted[];
  readonly ordered: readonly { readonly earlier: string; readonly later: string }[];
  readonly closedWindowId: string;
}

/**
 * On the first runtime: transfers between the seeded accounts while posting runs slowly; then,
 * posting held, two debits per fresh account that can afford only one; then a window closed
 * whose announcement the (failing) settlement consumer never handles. Then the kill.
 */
async function workThenKill(): Promise<BeforeTheKill> {
  const posting = postingUntilHeld();
  // The settlement consumer never succeeds: the close's announcement dies with the in-memory queues.
  const failing: SqsBatchHandler = () => Promise.reject(new Error('injected: the runtime dies before settling'));
  const first = await start({
    pollersPerQueue: 1,
    wrapQueueHandler: (queue, handler) => (queue === 'posting' ? posting.wrap(handler) : queue === 'settlements' ? failing : slow(handler)),
  });
  const admin = adminOver(first.apiUrl, first.credentials.adminKeys);
  const clientIds = first.seededClients.map((client) => client.credentials.clientId);
  const balancesBefore = new Map(await Promise.all(Object.keys(INSTITUTION_OF).map(async (id) => [id, await balanceOf(first, id)] as const)));
  const [orderedDebtors, payee] = await Promise.all([
    Promise.all(Array.from({ length: ORDERED_ACCOUNT_COUNT }, () => openAccountOverHttp(admin, { institutionId: 'bank-a', currency: 'EUR', balance: 1_000 }))),
    openAccountOverHttp(admin, { institutionId: 'bank-a', currency: 'EUR', balance: 0 }),
  ]);

  const transfers: Submitted[] = [];
  for (let index = 0; index < TRANSFER_COUNT; index++) {
    const [debtor, creditor] = index % 2 === 0 ? ['acc-alice', 'acc-bob'] : ['acc-carol', 'acc-dave'];
    const amount = 100 + index;
    const accepted = await clientOf(first, INSTITUTION_OF[debtor] ?? '').submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount, currency: 'EUR' });
    expect(accepted.status).toBe(202);
    transfers.push({ transactionId: accepted.body.transactionId as string, debtor, amount });
  }
  // One of them certainly posted before the kill (and must not post again); the rest may have.
  await clientOf(first, 'bank-a').waitForDecision(transfers[0]!.transactionId, DECISION_TIMEOUT_MS);
  posting.hold();
  const bankA = clientOf(first, 'bank-a');
  const ordered: { earlier: string; later: string }[] = [];
  for (const debtor of orderedDebtors) {
    const earlier = await bankA.submit({ debtorAccountId: debtor, creditorAccountId: payee, amount: 600, currency: 'EUR', reference: 'earlier' });
    const later = await bankA.submit({ debtorAccountId: debtor, creditorAccountId: payee, amount: 600, currency: 'EUR', reference: 'later' });
    expect([earlier.status, later.status]).toEqual([202, 202]);
    ordered.push({ earlier: earlier.body.transactionId as string, later: later.body.transactionId as string });
  }
  const closed = await admin.closeWindow({ currency: 'EUR' });
  expect([closed.status, closed.body.closed.state]).toEqual([200, 'CLOSED']);

  await first.kill();
  return { clientIds, balancesBefore, transfers, ordered, closedWindowId: closed.body.closed.windowId };
}

let killed: BeforeTheKill;
let second: LocalRuntime;

beforeAll(async () => {
  killed = await workThenKill();
  second = await start();
});

/** Every transfer's decision on the second runtime, waited for once and shared by the tests. */
let decisions: Promise<{ transfers: TransactionView[]; ordered: (readonly [TransactionView, TransactionView])[] }> | undefined;
function decided(): NonNullable<typeof decisions> {
  decisions ??= (async () => {
    const bankA = clientOf(second, 'bank-a');
    const [transfers, ordered] = await Promise.all([
      Promise.all(killed.transfers.map(({ transactionId, debtor }) => clientOf(second, INSTITUTION_OF[debtor] ?? '').waitForDecision(transactionId, DECISION_TIMEOUT_MS))),
      Promise.all(
        killed.ordered.map(async ({ earlier, later }) => [await bankA.waitForDecision(earlier, DECISION_TIMEOUT_MS), await bankA.waitForDecision(later, DECISION_TIMEOUT_MS)] as const),
      ),
    ]);
    return { transfers, ordered };
  })();
  return decisions;
}

describe('restarting the local runtime on a persistent data dir', () => {
  it('loses nothing and posts nothing twice when killed with transfers in flight', async () => {
    const { transfers } = await decided();

    // Every debit submitted while posting was held was undecided at the kill; the first transfer was decided.
    expect(second.startupRecovery.requeued).toBeGreaterThanOrEqual(2 * ORDERED_ACCOUNT_COUNT);
    expect(second.startupRecovery.requeued).toBeLessThan(TRANSFER_COUNT + 2 * ORDERED_ACCOUNT_COUNT);
    expect(transfers.map((transaction) => transaction.status)).toEqual(killed.transfers.map(() => 'POSTED'));
    for (const [id, balance] of killed.balancesBefore) {
      const moved = killed.transfers.filter((transfer) => transfer.debtor === id).reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
      const received = killed.transfers
        .filter((transfer) => (transfer.debtor === 'acc-alice' && id === 'acc-bob') || (transfer.debtor === 'acc-carol' && id === 'acc-dave'))
        .reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
      expect(await balanceOf(second, id), id).toBe(balance - moved + received);
    }
    const sums = await balancesByCurrency(second.clients.dynamodb, second.bindings.tables.ledger);
    expect(sums.get('EUR')).toBe(0n);
  });
});

describe('per-account order across a crash', () => {
  it('decides a killed backlog in acceptance order: with a tight balance, the earlier of two debits is the one that posts', async () => {
    const { ordered } = await decided();

    expect(ordered.map(([earlier, later]) => [earlier.status, later.rejectionReason])).toEqual(killed.ordered.map(() => ['POSTED', 'INSUFFICIENT_FUNDS']));
  });
});

describe('a settlement window closed just before a crash', () => {
  it('is announced again at start-up and settles, with no wait for the scheduled close', async () => {
    const admin = adminOver(second.apiUrl, second.credentials.adminKeys);

    let state = '';
    for (const deadline = Date.now() + DECISION_TIMEOUT_MS; state !== 'SETTLED' && Date.now() < deadline; ) {
      state = (await admin.getWindow(killed.closedWindowId)).body.state;
      if (state !== 'SETTLED') await new Promise((resolve) => setTimeout(resolve, 200));
    }

    expect(second.startupReannounced).toContain(killed.closedWindowId);
    expect(state).toBe('SETTLED');
  });
});

describe('a graceful restart after the crash', () => {
  it('finds every transfer, balance and key as it was, re-queuing nothing', async () => {
    const before = await decided();
    await second.stop();

    const third = await start();
    const transferStatuses = await Promise.all(
      killed.transfers.map(async ({ transactionId, debtor }) => (await clientOf(third, INSTITUTION_OF[debtor] ?? '').getTransaction(transactionId)).body.status),
    );
    const orderedStatuses = await Promise.all(killed.ordered.flatMap((pair) => [pair.earlier, pair.later]).map(async (id) => (await clientOf(third, 'bank-a').getTransaction(id)).body.status));
    const alice = await balanceOf(third, 'acc-alice');

    expect(third.startupRecovery.requeued).toBe(0);
    // The seeded API clients' credential files were kept and still sign.
    expect(third.seededClients.map((client) => client.credentials.clientId)).toEqual(killed.clientIds);
    expect(transferStatuses).toEqual(killed.transfers.map(() => 'POSTED'));
    expect(orderedStatuses).toEqual(before.ordered.flatMap(([earlier, later]) => [earlier.status, later.status]));
    const aliceMoved = killed.transfers.filter((transfer) => transfer.debtor === 'acc-alice').reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
    expect(alice).toBe(killed.balancesBefore.get('acc-alice')! - aliceMoved);
  });
});
