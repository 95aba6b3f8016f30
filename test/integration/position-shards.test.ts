// Position shards, against DynamoDB Local and the in-memory engine: an institution's cap spread
// over k shards stays exact while postings race each other, a cap change and a close (a shard that
// runs short borrows headroom from its siblings; the shares always sum to the cap); a close rolls
// every shard, so a transfer lands in exactly one window; an institution's first transfer racing a
// close lands in the next window, never in the closed one; an exposure kept on the cap item by an
// older version moves onto the shards; and a warm interbank posting is one DynamoDB request.
import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand, TransactWriteItemsCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_ATTEMPTS_MAX } from '../../lambdas/adapters/dynamodb/batch-get.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { shardFromItem, shardKey, type PositionShard } from '../../lambdas/adapters/dynamodb/position-shards.js';
import { limitKey } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import { sumOfPositions } from '../../lambdas/core/settlement/netting.js';
import { parseWindowId } from '../../lambdas/core/settlement/window.js';
import type { EventOf, PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { windowClosedEvent } from '../../lambdas/core/events/settlement-events.js';
import { confirmSettlement } from '../../lambdas/core/settlement/confirm-settlement.js';
import { recordSettlementInstruction, settleClosedWindow } from '../../lambdas/core/settlement/settle-window.js';
import { expectMoneyConserved, ledgerOf, openFundedAccount, TEST_SETTLEMENT_ACTOR, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { interceptRequests, withSnapshotsCancelled } from '../support/fault.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

const bank = (name: string) => `${name}-${randomUUID().slice(0, 6)}`;

describe.each(BACKENDS)('position shards on %s', (backend) => {
  let world: TestWorld;
  let ledger: DynamoLedgerStore;
  let handle: LedgerHandle;

  beforeAll(async () => {
    world = await createTestWorld('shards', backend);
    ({ ledger, handle } = ledgerOf(world));
  });

  afterAll(async () => {
    await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
    world.destroy();
  });

  async function post(debtor: string, creditor: string, amount: number, currency: CurrencyCode) {
    const result = await ledger.postTransfer(transferRequest(debtor, creditor, amount, { currency }));
    if (result.kind === 'modified') throw new Error('unexpected modified request');
    return result.transfer;
  }

  async function shardsOf(institutionId: string, currency: CurrencyCode): Promise<PositionShard[]> {
    return ledger.settlement.shardsOf(institutionId, currency);
  }

  /** What must hold of an institution's shards whatever raced: the shares sum to the cap, the exposure to what it paid net. */
  async function expectExact(institutionId: string, currency: CurrencyCode, capMinor: bigint, exposureMinor: bigint): Promise<PositionShard[]> {
    const shards = await shardsOf(institutionId, currency);
    expect(shards.reduce((sum, shard) => sum + shard.capShareMinor, 0n), 'cap shares').toBe(capMinor);
    expect(shards.reduce((sum, shard) => sum + shard.exposureMinor, 0n), 'exposure').toBe(exposureMinor);
    return shards;
  }

  it('posts exactly the affordable transfers when many race against a cap spread over four shards, borrowing headroom between them', async () => {
    const currency: CurrencyCode = 'EUR';
    const [payerBank, payeeBank] = [bank('sharded'), bank('payee')];
    const debtors = await Promise.all(Array.from({ length: 16 }, () => openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 1_000n, currency })));
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank, currency });
    const limits = await ledger.settlement.setNetDebitCap(payerBank, currency, 1_000n, TEST_SETTLEMENT_ACTOR, 4);
    const initial = await shardsOf(payerBank, currency);

    const outcomes = await Promise.all(debtors.map((debtor) => post(debtor.accountId, creditor.accountId, 150, currency)));

    const posted = outcomes.filter((transfer) => transfer.status === 'POSTED');
    expect(limits).toEqual({ netDebitCapMinor: 1_000n, shardCount: 4 });
    expect(initial.map((shard) => shard.capShareMinor)).toEqual([250n, 250n, 250n, 250n]);
    // Without borrowing each 250 share affords one 150 (4 in all); the cap affords 6.
    expect(posted).toHaveLength(6);
    expect(outcomes.filter((transfer) => transfer.rejectionReason === 'PAYER_LIMIT_EXCEEDED')).toHaveLength(10);
    const shards = await expectExact(payerBank, currency, 1_000n, 900n);
    expect(shards.map((shard) => shard.capShareMinor)).not.toEqual([250n, 250n, 250n, 250n]);
    expect(shards.every((shard) => shard.headroomMinor >= 0n)).toBe(true);
    expect((await ledger.settlement.exposure(payerBank, currency)).exposureMinor).toBe(900n);
  });

  it('keeps the cap exact and every transfer in one window while postings race a cap change and a close', async () => {
    const currency: CurrencyCode = 'SEK';
    const [payerBank, payeeBank] = [bank('racer'), bank('hub')];
    const debtors = await Promise.all(Array.from({ length: 8 }, () => openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 10_000n, currency })));
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank, currency });
    await ledger.settlement.setNetDebitCap(payerBank, currency, 2_000n, TEST_SETTLEMENT_ACTOR, 4);
    await ledger.settlement.setNetDebitCap(payeeBank, currency, 0n, TEST_SETTLEMENT_ACTOR, 3);
    const firstWindow = await ledger.settlement.currentWindowId(currency);

    const postings = Array.from({ length: 32 }, (_, index) => post(debtors[index % debtors.length]!.accountId, creditor.accountId, 100, currency));
    const [outcomes, capped, closed] = await Promise.all([
      Promise.all(postings),
      ledger.settlement.setNetDebitCap(payerBank, currency, 1_500n, TEST_SETTLEMENT_ACTOR),
      ledger.settlement.closeWindow(currency),
    ]);

    const posted = outcomes.filter((transfer) => transfer.status === 'POSTED');
    const paid = BigInt(posted.length) * 100n;
    expect(capped.netDebitCapMinor).toBe(1_500n);
    expect(closed.kind).toBe('closed');
    expect(outcomes.every((transfer) => transfer.status === 'POSTED' || transfer.rejectionReason === 'PAYER_LIMIT_EXCEEDED')).toBe(true);
    // Whichever cap a transfer met, no transfer took the exposure past the cap in force then.
    expect(paid).toBeLessThanOrEqual(2_000n);
    expect(posted.length).toBeGreaterThanOrEqual(15);
    await expectExact(payerBank, currency, 1_500n, paid);
    await expectExact(payeeBank, currency, 0n, -paid);
    // Every posted transfer is in exactly one of the two windows, and each window nets to zero.
    const next = await ledger.settlement.currentWindowId(currency);
    const windows = await Promise.all([firstWindow, next].map(async (windowId) => (await ledger.settlement.getWindow(windowId))!));
    expect(windows.map((window) => window.state)).toEqual(['CLOSED', 'OPEN']);
    expect(windows.reduce((sum, window) => sum + window.transferCount, 0)).toBe(posted.length);
    for (const window of windows) expect(sumOfPositions(await ledger.settlement.positions(window)), window.windowId).toBe(0n);
    // The close moved every shard on: nothing more can land in the closed window.
    const sequence = parseWindowId(next)!.sequence;
    for (const shard of [...(await shardsOf(payerBank, currency)), ...(await shardsOf(payeeBank, currency))]) expect(shard.windowSequence).toBe(sequence);
    const late = await post(debtors[0]!.accountId, creditor.accountId, 1, currency);
    expect(late.status === 'POSTED' || late.rejectionReason === 'PAYER_LIMIT_EXCEEDED').toBe(true);
    expect((await ledger.settlement.getWindow(firstWindow))?.transferCount).toBe(windows[0]!.transferCount);
  });

  it("puts an institution's first transfer in the next window when a close lands while its shards are being created", async () => {
    const currency: CurrencyCode = 'HUF';
    const [payerBank, newcomer] = [bank('payer'), bank('newcomer')];
    const debtor = await openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 5_000n, currency });
    const creditor = await openFundedAccount(handle, { institutionId: newcomer, currency });
    await ledger.settlement.setNetDebitCap(payerBank, currency, 5_000n, TEST_SETTLEMENT_ACTOR);
    const before = await ledger.settlement.currentWindowId(currency);
    let closedFirst = false;
    // Fault injection at the chosen point: the window closes just before the newcomer's shards are created in it.
    const restore = interceptRequests(world.clients.dynamodb, async (command) => {
      if (!closedFirst && command instanceof TransactWriteItemsCommand && JSON.stringify(command.input).includes(`POSITION_SHARD#${newcomer}#`)) {
        closedFirst = true;
        await ledger.settlement.closeWindow(currency);
      }
    });
    let transfer;
    try {
      transfer = await post(debtor.accountId, creditor.accountId, 400, currency);
    } finally {
      restore();
    }
    const after = await ledger.settlement.currentWindowId(currency);
    const closed = (await ledger.settlement.getWindow(before))!;
    const open = (await ledger.settlement.getWindow(after))!;

    expect(closedFirst).toBe(true);
    expect(transfer.status).toBe('POSTED');
    expect(closed.transferCount).toBe(0);
    expect(open).toMatchObject({ transferCount: 1, grossMinor: 400n, participants: [payerBank, newcomer].sort() });
    expect((await shardsOf(newcomer, currency)).map((shard) => shard.windowSequence)).toEqual([open.sequence]);
  });

  it('moves an exposure an older version kept on the cap item onto the shards, once', async () => {
    const currency: CurrencyCode = 'RON';
    const [older, payee] = [bank('older'), bank('payee')];
    const debtor = await openFundedAccount(handle, { institutionId: older, balanceMinor: 5_000n, currency });
    const creditor = await openFundedAccount(handle, { institutionId: payee, currency });
    // The cap item as the version before shards wrote it: cap and exposure on one item.
    await world.clients.dynamodb.send(
      new PutItemCommand({
        TableName: world.bindings.tables.ledger,
        Item: { ...limitKey(older, currency), entity: { S: 'NET_DEBIT_CAP' }, institutionId: { S: older }, currency: { S: currency }, netDebitCapMinor: { N: '1000' }, exposureMinor: { N: '700' } },
      }),
    );

    const fits = await post(debtor.accountId, creditor.accountId, 300, currency);
    const over = await post(debtor.accountId, creditor.accountId, 1, currency);
    const { Item } = await world.clients.dynamodb.send(new GetItemCommand({ TableName: world.bindings.tables.ledger, Key: limitKey(older, currency), ConsistentRead: true }));

    expect([fits.status, over.rejectionReason]).toEqual(['POSTED', 'PAYER_LIMIT_EXCEEDED']);
    expect(Item?.exposureMinor).toBeUndefined();
    await expectExact(older, currency, 1_000n, 1_000n);
  });

  it('settles a window the version before shards opened: its positions on POSITION items count with the shards\' and are released once', async () => {
    const currency: CurrencyCode = 'SGD';
    const [a, b] = [bank('legacy-a'), bank('legacy-b')];
    const atA = await openFundedAccount(handle, { institutionId: a, balanceMinor: 10_000n, currency });
    const atB = await openFundedAccount(handle, { institutionId: b, balanceMinor: 10_000n, currency });
    // What the previous version left: an OPEN window counting one transfer of 500 from a to b on
    // its own item and on per-window POSITION items, and the exposure on each cap item.
    const windowId = 'SGD-000000001';
    const table = world.bindings.tables.ledger;
    const put = (item: Record<string, AttributeValue>) => world.clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
    const S = (value: string): AttributeValue => ({ S: value });
    const N = (value: bigint | number): AttributeValue => ({ N: String(value) });
    await put({ pk: S(`SETTLEMENT_CURRENT#${currency}`), entity: S('SETTLEMENT_CURRENT'), windowId: S(windowId), sequence: N(1) });
    await put({ pk: S(`SETTLEMENT_WINDOW#${windowId}`), entity: S('SETTLEMENT_WINDOW'), windowId: S(windowId), currency: S(currency), sequence: N(1), state: S('OPEN'), openedAt: S(new Date().toISOString()), transferCount: N(1), grossMinor: N(500), participants: { SS: [a, b] } });
    for (const [institutionId, position] of [[a, 500n], [b, -500n]] as const) {
      await put({ pk: S(`POSITION#${windowId}#${institutionId}`), entity: S('POSITION'), windowId: S(windowId), institutionId: S(institutionId), currency: S(currency), positionMinor: N(position) });
      await put({ ...limitKey(institutionId, currency), entity: S('NET_DEBIT_CAP'), institutionId: S(institutionId), currency: S(currency), netDebitCapMinor: N(1_000), exposureMinor: N(position) });
    }

    const fits = await post(atA.accountId, atB.accountId, 200, currency);
    const over = await post(atA.accountId, atB.accountId, 400, currency);
    const { instructions } = await closeAndIssue(currency);
    const window = await ledger.settlement.getWindow(windowId);
    // b spends what it is owed in the closed window (1,000 + 700 of headroom) before it is settled.
    const spent = await post(atB.accountId, atA.accountId, 1_500, currency);
    for (const instruction of instructions) {
      const { institutionId, direction, amountMinor } = instruction.data;
      expect((await confirmSettlement({ store: ledger.settlement }, windowId, { institutionId, direction, amountMinor: BigInt(amountMinor), reference: `ref-${institutionId}`, confirmedBy: TEST_SETTLEMENT_ACTOR })).kind).toBe('confirmed');
    }
    // b's receivable, old part and new, is released: it owes 1,500 against 1,000, so it is blocked.
    const blocked = await expectExact(b, currency, 1_000n, 1_500n);
    const again = await post(atA.accountId, atB.accountId, 1_000, currency);
    // Paid 1,000, b owes 500: its next payment rebalances and unblocks its shards.
    const afterBlock = await post(atB.accountId, atA.accountId, 100, currency);

    expect([fits.status, over.rejectionReason]).toEqual(['POSTED', 'PAYER_LIMIT_EXCEEDED']);
    // The old transfer and the new one, in one window, netted together.
    expect(window).toMatchObject({ state: 'PENDING_SETTLEMENT', transferCount: 2, grossMinor: 700n, participants: [a, b].sort() });
    expect(instructions.map((line) => [line.data.institutionId, line.data.direction, line.data.amountMinor])).toEqual(
      expect.arrayContaining([
        [a, 'PAY', '700'],
        [b, 'RECEIVE', '700'],
      ]),
    );
    expect((await ledger.settlement.getWindow(windowId))?.state).toBe('SETTLED');
    // Released once: a may send its whole cap again (and what b paid it).
    expect([spent.status, again.status, afterBlock.status]).toEqual(['POSTED', 'POSTED', 'POSTED']);
    await expectExact(a, currency, 1_000n, -600n);
    expect(blocked.every((shard) => shard.blocked)).toBe(true);
    expect((await expectExact(b, currency, 1_000n, 600n)).some((shard) => shard.blocked)).toBe(false);
  });

  it('grows an institution to more shards without moving its cap or exposure', async () => {
    const currency: CurrencyCode = 'NZD';
    const [grower, payee] = [bank('grower'), bank('payee')];
    const debtor = await openFundedAccount(handle, { institutionId: grower, balanceMinor: 5_000n, currency });
    const creditor = await openFundedAccount(handle, { institutionId: payee, currency });
    await ledger.settlement.setNetDebitCap(grower, currency, 1_000n, TEST_SETTLEMENT_ACTOR);
    await post(debtor.accountId, creditor.accountId, 600, currency);

    const grown = await ledger.settlement.setNetDebitCap(grower, currency, 1_000n, TEST_SETTLEMENT_ACTOR, 5);
    const outcomes = await Promise.all([150, 150, 150].map((amount) => post(debtor.accountId, creditor.accountId, amount, currency)));

    expect(grown.shardCount).toBe(5);
    // 600 + 2 x 150 = 900 <= 1,000 < 600 + 3 x 150.
    expect(outcomes.filter((transfer) => transfer.status === 'POSTED')).toHaveLength(2);
    const shards = await expectExact(grower, currency, 1_000n, 900n);
    expect(shards).toHaveLength(5);
  });

  it('never refuses on a stale shard count: shards another process added are counted before the cap says no', async () => {
    const currency: CurrencyCode = 'MXN';
    const [payerBank, payeeBank] = [bank('grown'), bank('payee')];
    const debtor = await openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 5_000n, currency });
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank, currency });
    await ledger.settlement.setNetDebitCap(payerBank, currency, 100n, TEST_SETTLEMENT_ACTOR);
    // This store (one Lambda) learns one shard; another process then grows the cap over four.
    expect((await post(debtor.accountId, creditor.accountId, 10, currency)).status).toBe('POSTED');
    const admin = ledgerOf(world).ledger;
    await admin.settlement.setNetDebitCap(payerBank, currency, 1_000n, TEST_SETTLEMENT_ACTOR, 4);

    const large = await post(debtor.accountId, creditor.accountId, 500, currency);

    expect(large.status).toBe('POSTED');
    await expectExact(payerBank, currency, 1_000n, 510n);
  });

  it('refuses a borrow only on a snapshot: while writes in flight cancel every one it says conflict, and insufficient once one completes', async () => {
    const currency: CurrencyCode = 'MXN';
    const payerBank = bank('snapshot');
    await ledger.settlement.setNetDebitCap(payerBank, currency, 1_000n, TEST_SETTLEMENT_ACTOR, 2);
    const { result: busy, snapshots } = await withSnapshotsCancelled(world.clients.dynamodb, () => ledger.settlement.borrowHeadroom(payerBank, currency, 2, 0, 2_000n));

    expect(busy).toBe('conflict');
    expect(snapshots).toBe(SNAPSHOT_ATTEMPTS_MAX);
    expect(await ledger.settlement.borrowHeadroom(payerBank, currency, 2, 0, 2_000n)).toBe('insufficient');
    await expectExact(payerBank, currency, 1_000n, 0n);
  });

  it('keeps the cap exact when it is lowered below what one shard has used: the others give up headroom in the same step', async () => {
    const currency: CurrencyCode = 'THB';
    const [payerBank, payeeBank] = [bank('lowered'), bank('payee')];
    const debtor = await openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 10_000n, currency });
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank, currency });
    await ledger.settlement.setNetDebitCap(payerBank, currency, 1_000n, TEST_SETTLEMENT_ACTOR, 2);
    expect((await post(debtor.accountId, creditor.accountId, 500, currency)).status).toBe('POSTED');

    await ledger.settlement.setNetDebitCap(payerBank, currency, 600n, TEST_SETTLEMENT_ACTOR);
    // Several tries, so that some meet each shard (a posting's shard is drawn at random).
    const over = [];
    for (let attempt = 0; attempt < 6; attempt++) over.push(await post(debtor.accountId, creditor.accountId, 300, currency));
    const fits = await post(debtor.accountId, creditor.accountId, 100, currency);

    // 500 + 300 > 600 whichever shard it meets; 500 + 100 fits.
    expect(over.map((transfer) => transfer.rejectionReason)).toEqual(over.map(() => 'PAYER_LIMIT_EXCEEDED'));
    expect(fits.status).toBe('POSTED');
    const shards = await expectExact(payerBank, currency, 600n, 600n);
    expect(shards.every((shard) => shard.headroomMinor >= 0n && !shard.blocked)).toBe(true);
  });

  it('blocks every shard of an institution over its cap as a whole, and unblocks them once what it is paid brings it back under', async () => {
    const currency: CurrencyCode = 'PHP';
    const [payerBank, otherBank] = [bank('over'), bank('other')];
    const debtor = await openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 10_000n, currency });
    const other = await openFundedAccount(handle, { institutionId: otherBank, balanceMinor: 10_000n, currency });
    await ledger.settlement.setNetDebitCap(payerBank, currency, 1_000n, TEST_SETTLEMENT_ACTOR, 3);
    await ledger.settlement.setNetDebitCap(otherBank, currency, 10_000n, TEST_SETTLEMENT_ACTOR);
    for (const amount of [300, 300, 300]) expect((await post(debtor.accountId, other.accountId, amount, currency)).status).toBe('POSTED');

    await ledger.settlement.setNetDebitCap(payerBank, currency, 500n, TEST_SETTLEMENT_ACTOR);
    const blocked = await shardsOf(payerBank, currency);
    // Paid 300 (exposure 600, still over 500): one shard now has headroom, yet nothing may be paid.
    expect((await post(other.accountId, debtor.accountId, 300, currency)).status).toBe('POSTED');
    const stillOver = await post(debtor.accountId, other.accountId, 1, currency);
    // Paid 200 more (exposure 400): 100 of headroom, spread back over unblocked shards.
    expect((await post(other.accountId, debtor.accountId, 200, currency)).status).toBe('POSTED');
    const under = await post(debtor.accountId, other.accountId, 100, currency);
    const beyond = await post(debtor.accountId, other.accountId, 1, currency);

    expect(blocked.every((shard) => shard.blocked)).toBe(true);
    expect([stillOver.status, stillOver.rejectionReason]).toEqual(['REJECTED', 'PAYER_LIMIT_EXCEEDED']);
    expect(under.status).toBe('POSTED');
    expect([beyond.status, beyond.rejectionReason]).toEqual(['REJECTED', 'PAYER_LIMIT_EXCEEDED']);
    const shards = await expectExact(payerBank, currency, 500n, 500n);
    expect(shards.every((shard) => shard.headroomMinor >= 0n)).toBe(true);
  });

  it('blocks an institution whose confirmed receivable it had already spent, and pays nothing more until it is back under its cap', async () => {
    const currency: CurrencyCode = 'INR';
    const [receiver, sender] = [bank('receiver'), bank('sender')];
    const atReceiver = await openFundedAccount(handle, { institutionId: receiver, balanceMinor: 10_000n, currency });
    const atSender = await openFundedAccount(handle, { institutionId: sender, balanceMinor: 10_000n, currency });
    await ledger.settlement.setNetDebitCap(receiver, currency, 600n, TEST_SETTLEMENT_ACTOR, 2);
    await ledger.settlement.setNetDebitCap(sender, currency, 10_000n, TEST_SETTLEMENT_ACTOR);
    expect((await post(atSender.accountId, atReceiver.accountId, 1_000, currency)).status).toBe('POSTED');
    const { windowId, instructions } = await closeAndIssue(currency);
    // Owed 1,000 in the closed window, it may pay 600 + 1,000 now (as in Mojaloop).
    expect((await post(atReceiver.accountId, atSender.accountId, 1_400, currency)).status).toBe('POSTED');

    const receive = instructions.find((line) => line.data.institutionId === receiver)!;
    const confirmed = await confirmSettlement({ store: ledger.settlement }, windowId, {
      institutionId: receiver,
      direction: receive.data.direction,
      amountMinor: BigInt(receive.data.amountMinor),
      reference: 'bank-ref',
      confirmedBy: TEST_SETTLEMENT_ACTOR,
    });
    const after = await post(atReceiver.accountId, atSender.accountId, 1, currency);

    expect(confirmed.kind).toBe('confirmed');
    // Its exposure is now 1,400 against a cap of 600: every shard blocked, nothing paid.
    const shards = await expectExact(receiver, currency, 600n, 1_400n);
    expect(shards.every((shard) => shard.blocked)).toBe(true);
    expect([after.status, after.rejectionReason]).toEqual(['REJECTED', 'PAYER_LIMIT_EXCEEDED']);
  });

  async function closeAndIssue(currency: CurrencyCode): Promise<{ windowId: string; instructions: EventOf<'SettlementInstruction'>[] }> {
    const closed = await ledger.settlement.closeWindow(currency);
    if (closed.kind !== 'closed') throw new Error(`expected a close, got ${closed.kind}`);
    const instructions: EventOf<'SettlementInstruction'>[] = [];
    const publisher = { publish: (event: PaymentEvent) => Promise.resolve(void (event.type === 'SettlementInstruction' && instructions.push(event))) };
    await settleClosedWindow({ store: ledger.settlement, publisher, notifier: { notify: () => Promise.resolve() }, now: () => new Date() }, windowClosedEvent(closed.closed, () => new Date()));
    for (const instruction of instructions) await recordSettlementInstruction({ store: ledger.settlement }, instruction);
    return { windowId: closed.closed.windowId, instructions };
  }

  it('posts a transfer that needs the whole cap of an institution spread over 32 shards (the shard it borrowed into is kept)', async () => {
    const currency: CurrencyCode = 'NOK';
    const payee = bank('payee');
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round++) {
      const payer = bank('wide');
      const debtor = await openFundedAccount(handle, { institutionId: payer, balanceMinor: 10_000n, currency });
      const creditor = await openFundedAccount(handle, { institutionId: payee, currency });
      await ledger.settlement.setNetDebitCap(payer, currency, 3_200n, TEST_SETTLEMENT_ACTOR, 32);
      // A fresh draw per attempt would chase the headroom from shard to shard and run out of attempts.
      outcomes.push(await post(debtor.accountId, creditor.accountId, 3_200, currency).then((transfer) => transfer.status, (error: unknown) => (error as Error).name));
    }
    expect(outcomes).toEqual(['POSTED', 'POSTED', 'POSTED', 'POSTED']);
  });

  it('reads a shard item back exactly as written', async () => {
    const currency: CurrencyCode = 'ISK';
    const institution = bank('reader');
    await ledger.settlement.setNetDebitCap(institution, currency, 777n, TEST_SETTLEMENT_ACTOR, 2);
    const { Item } = await world.clients.dynamodb.send(new GetItemCommand({ TableName: world.bindings.tables.ledger, Key: shardKey(institution, currency, 1), ConsistentRead: true }));
    expect(shardFromItem(Item!)).toMatchObject({ institutionId: institution, currency, shard: 1, capped: true, capShareMinor: 388n, exposureMinor: 0n, headroomMinor: 388n });
  });
});
