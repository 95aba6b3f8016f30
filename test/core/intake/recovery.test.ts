// Proves the recovery sweep re-publishes undecided requests in the order they were accepted,
// whatever order the intake store lists them in (shard after shard), marks the decided ones, and
// stops at its bound without ever publishing an account's later request ahead of an earlier one:
// after a crash, an account's backlog is decided in order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PaymentEvent } from '../../../lambdas/core/events/envelope.js';
import type { EventPublisher } from '../../../lambdas/core/events/ports.js';
import type { IntakeStore, TransferIntake, UnreadableIntake } from '../../../lambdas/core/intake/ports.js';
import { recoverUnfinishedRequests } from '../../../lambdas/core/intake/recovery.js';
import type { LedgerStore } from '../../../lambdas/core/ledger/ports.js';
import { transferContentHash, transferIdFor } from '../../../lambdas/core/ledger/transfer.js';

function intake(index: number, debtorAccountId: string): TransferIntake {
  const acceptedAt = new Date(Date.UTC(2026, 10, 30, 0, 0, 0, index)).toISOString();
  const request = {
    transferId: transferIdFor('cli_aaaaaaaaaaaaaaaaaaaa', `k-${index}`),
    debtorAccountId,
    creditorAccountId: 'acc-payee',
    amountMinor: 100 + index,
    currency: 'EUR' as const,
    channel: 'WEB' as const,
    requestedAt: acceptedAt,
    clientId: 'cli_aaaaaaaaaaaaaaaaaaaa',
    initiatingInstitutionId: 'bank-a',
  };
  return { request, idempotencyKey: `k-${index}`, contentHash: transferContentHash(request), apiRequestId: `req-${index}`, acceptedAt };
}

/** Only what the sweep uses of each port; listing order is the test's to choose. */
function ports(listed: readonly (TransferIntake | UnreadableIntake)[], decided: ReadonlySet<string>) {
  const published: PaymentEvent[] = [];
  const marked: string[] = [];
  const quarantined: { transferId: string; reason: string }[] = [];
  const limits: number[] = [];
  const intakeStore = {
    // The store's promise under a limit: a prefix of its listing.
    listUndecided: (_before: string, limit: number) => {
      limits.push(limit);
      const shown = listed.slice(0, limit);
      return {
        [Symbol.asyncIterator]: () => {
          let next = 0;
          return { next: () => Promise.resolve(next < shown.length ? { done: false, value: shown[next++] } : { done: true, value: undefined }) };
        },
      };
    },
    markDecided: (transferId: string) => Promise.resolve(void marked.push(transferId)),
    markRequeued: () => Promise.resolve(),
    quarantine: (transferId: string, reason: string) => Promise.resolve(void quarantined.push({ transferId, reason })),
  } as unknown as IntakeStore;
  const byId = new Map(listed.flatMap((entry) => ('request' in entry ? [[entry.request.transferId, entry] as const] : [])));
  const ledger = {
    decidedTransferIds: (ids: readonly string[]) => Promise.resolve(new Set(ids.filter((id) => decided.has(id)))),
    getTransfer: (id: string) => {
      const entry = byId.get(id);
      return Promise.resolve(decided.has(id) && entry !== undefined ? { ...entry.request, status: 'POSTED', contentHash: entry.contentHash, decidedAt: entry.acceptedAt } : undefined);
    },
  } as unknown as LedgerStore;
  const publisher: EventPublisher = { publish: (event) => Promise.resolve(void published.push(event)) };
  return { ports: { intake: intakeStore, ledger, publisher, now: () => new Date() }, published, marked, limits, quarantined };
}

const window = { acceptedBeforeIso: '2027-01-01T00:00:00.000Z', examinedMax: 10_000 };

describe('recoverUnfinishedRequests', () => {
  it('property: re-publishes the undecided requests of every account in acceptance order, whatever the listing order', async () => {
    const scenario = fc
      .array(fc.record({ account: fc.constantFrom('acc-1', 'acc-2', 'acc-3'), decided: fc.boolean() }), { minLength: 1, maxLength: 250 })
      .chain((entries) => fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries.map((_entry, index) => index), { minLength: entries.length, maxLength: entries.length })));

    await fc.assert(
      fc.asyncProperty(scenario, async ([entries, listingOrder]) => {
        const intakes = entries.map((entry, index) => intake(index, entry.account));
        const decided = new Set(entries.flatMap((entry, index) => (entry.decided ? [intakes[index]!.request.transferId] : [])));
        const { ports: sweepPorts, published, marked } = ports(listingOrder.map((index) => intakes[index]!), decided);

        const report = await recoverUnfinishedRequests(sweepPorts, window);

        const expected = intakes.filter((entry) => !decided.has(entry.request.transferId)).map((entry) => `${entry.request.transferId}.requested`);
        expect(published.filter((event) => event.type === 'TransactionRequested').map((event) => event.id)).toEqual(expected);
        // A decided intake that was never marked has its outcome announced again (it may never have been).
        expect(new Set(published.filter((event) => event.type === 'TransactionPosted').map((event) => 'transactionId' in event.data ? event.data.transactionId : ''))).toEqual(decided);
        expect(report).toMatchObject({ examined: entries.length, requeued: expected.length, markedDecided: decided.size });
        expect(new Set(marked)).toEqual(decided);
      }),
      { numRuns: 200 },
    );
  });

  it('property: a run cut short by its bound publishes, for every account, a prefix of its undecided requests in acceptance order', async () => {
    // The listing promise: accounts interleaved at random, each account's own intakes in order.
    const scenario = fc.record({
      entries: fc.array(fc.record({ account: fc.constantFrom('acc-1', 'acc-2', 'acc-3'), decided: fc.boolean() }), { minLength: 1, maxLength: 120 }),
      interleaving: fc.array(fc.nat(), { minLength: 120, maxLength: 120 }),
      bound: fc.integer({ min: 1, max: 130 }),
    });

    await fc.assert(
      fc.asyncProperty(scenario, async ({ entries, interleaving, bound }) => {
        const intakes = entries.map((entry, index) => intake(index, entry.account));
        const listed = intakes.map((entry, index) => ({ entry, key: interleaving[index] ?? 0 })).sort((a, b) => a.key - b.key || a.entry.acceptedAt.localeCompare(b.entry.acceptedAt));
        // Restore each account's own order after the shuffle: only the interleaving is random.
        const byAccount = new Map<string, TransferIntake[]>();
        for (const entry of intakes) byAccount.set(entry.request.debtorAccountId, [...(byAccount.get(entry.request.debtorAccountId) ?? []), entry]);
        const cursor = new Map<string, number>();
        const listing = listed.map(({ entry }) => {
          const own = byAccount.get(entry.request.debtorAccountId) ?? [];
          const next = cursor.get(entry.request.debtorAccountId) ?? 0;
          cursor.set(entry.request.debtorAccountId, next + 1);
          return own[next]!;
        });
        const decided = new Set(entries.flatMap((entry, index) => (entry.decided ? [intakes[index]!.request.transferId] : [])));
        const { ports: sweepPorts, published } = ports(listing, decided);

        await recoverUnfinishedRequests(sweepPorts, { ...window, examinedMax: bound });

        for (const [account, own] of byAccount) {
          const undecidedInOrder = own.filter((entry) => !decided.has(entry.request.transferId)).map((entry) => `${entry.request.transferId}.requested`);
          const publishedForAccount = published.filter((event) => event.type === 'TransactionRequested' && 'debtorAccountId' in event.data && event.data.debtorAccountId === account).map((event) => event.id);
          expect(publishedForAccount, account).toEqual(undecidedInOrder.slice(0, publishedForAccount.length));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('passes its bound to the store, and reports the oldest re-queued acceptance (the lag)', async () => {
    const intakes = Array.from({ length: 30 }, (_unused, index) => intake(index, 'acc-1'));
    const { ports: sweepPorts, published, limits } = ports(intakes, new Set([intakes[0]!.request.transferId]));

    const report = await recoverUnfinishedRequests(sweepPorts, { ...window, examinedMax: 12 });

    expect(limits).toEqual([12]);
    expect(report.examined).toBe(12);
    expect(published.filter((event) => event.type === 'TransactionRequested')).toHaveLength(11);
    expect(published.filter((event) => event.type === 'TransactionPosted').map((event) => event.id)).toEqual([`${intakes[0]!.request.transferId}.posted`]);
    expect(report.oldestUndecidedAcceptedAt).toBe(intakes[1]!.acceptedAt);
  });

  it("holds back an account's later requests while an earlier one waits after its re-queue (its message may be gone)", async () => {
    const earlier = { ...intake(1, 'acc-1'), requeuedAt: '2026-11-30T00:10:00.000Z', requeueCount: 1 };
    const later = intake(2, 'acc-1');
    const other = intake(3, 'acc-2');
    const { ports: sweepPorts, published } = ports([earlier, later, other], new Set());

    const report = await recoverUnfinishedRequests({ ...sweepPorts, now: () => new Date('2026-11-30T00:12:00.000Z') }, window);

    expect(published.map((event) => event.id)).toEqual([`${other.request.transferId}.requested`]);
    expect(report).toMatchObject({ waiting: 2, failed: 0, requeued: 1 });
  });

  it('stops publishing at its deadline, leaving the rest to the next run', async () => {
    const intakes = [intake(1, 'acc-1'), intake(2, 'acc-2')];
    const { ports: sweepPorts, published } = ports(intakes, new Set());

    const report = await recoverUnfinishedRequests(sweepPorts, { ...window, deadlineMs: 0 });

    expect(published).toEqual([]);
    expect(report).toMatchObject({ requeued: 0, waiting: 2, failed: 0 });
  });

  it("a failed publish stops that account's re-queuing for the run, not the others'", async () => {
    const first = intake(1, 'acc-1');
    const second = intake(2, 'acc-1');
    const other = intake(3, 'acc-2');
    const { ports: sweepPorts, published } = ports([first, second, other], new Set());
    const failing = {
      ...sweepPorts,
      publisher: {
        publish: (event: PaymentEvent) => (event.id === `${first.request.transferId}.requested` ? Promise.reject(new Error('topic unavailable')) : sweepPorts.publisher.publish(event)),
      },
    };

    const report = await recoverUnfinishedRequests(failing, window);

    expect(published.map((event) => event.id)).toEqual([`${other.request.transferId}.requested`]);
    expect(report).toMatchObject({ requeued: 1, failed: 2, waiting: 0 });
  });

  it('quarantines an unreadable intake and one the event schema refuses, and holds no account back for them', async () => {
    const unreadable: UnreadableIntake = { transferId: 'txn-damaged', unreadable: 'intake item lacks acceptedAt, idempotencyKey or apiRequestId' };
    const refused = intake(1, 'acc-1');
    const invalid = { ...refused, request: { ...refused.request, amountMinor: -5 } };
    const later = intake(2, 'acc-1');
    const { ports: sweepPorts, published, quarantined } = ports([unreadable, invalid, later], new Set());

    const report = await recoverUnfinishedRequests(sweepPorts, window);

    expect(quarantined.map((entry) => entry.transferId)).toEqual(['txn-damaged', invalid.request.transferId]);
    expect(quarantined[0]?.reason).toMatch(/^unreadable intake: intake item lacks acceptedAt/);
    expect(quarantined[1]?.reason).toMatch(/^request fails the event schema: .*amount/i);
    expect(report.quarantined).toEqual(quarantined);
    // The account's later request goes ahead: the quarantined one can never be decided as stored.
    expect(published.map((event) => event.id)).toEqual([`${later.request.transferId}.requested`]);
    expect(report).toMatchObject({ examined: 3, requeued: 1, waiting: 0, failed: 0 });
  });

  it('tells of each quarantine as it is written, so a run that fails afterwards still reports it', async () => {
    const unreadable: UnreadableIntake = { transferId: 'txn-damaged', unreadable: 'intake item lacks acceptedAt, idempotencyKey or apiRequestId' };
    const { ports: sweepPorts } = ports([unreadable, intake(1, 'acc-1')], new Set());
    const told: string[] = [];
    const failingLedger = { ...sweepPorts.ledger, decidedTransferIds: () => Promise.reject(new Error('injected: DynamoDB unavailable')) } as unknown as LedgerStore;

    const run = recoverUnfinishedRequests({ ...sweepPorts, ledger: failingLedger, onQuarantined: ({ transferId }) => void told.push(transferId) }, window);

    await expect(run).rejects.toThrow('injected: DynamoDB unavailable');
    expect(told).toEqual(['txn-damaged']);
  });
});
