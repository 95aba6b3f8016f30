// The settlement side of the LedgerStore contract, run against DynamoDB Local and the in-memory
// engine: an interbank transfer records both positions, both exposures and the window's totals in
// its own transaction (an intrabank one touches none); an institution without a cap sends nothing
// interbank; exactly the affordable transfers post when many race against one payer's Net Debit
// Cap; windows closed while transfers race leave every posted transfer in exactly one window with
// totals that reconcile; a closed window cannot be closed again; a changed cap is honoured at once.
// Finality: the cap holds across closes, because exposure spans every window not SETTLED, and a
// window's part is released only by the settlement bank's confirmation, once; a window is SETTLED
// only at its last confirmation; a repeated confirmation replays, a conflicting one is refused.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import { sumOfPositions } from '../../lambdas/core/settlement/netting.js';
import { windowIdFor } from '../../lambdas/core/settlement/window.js';
import type { PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { announceUnsettled, closeAndAnnounce } from '../../lambdas/core/settlement/close-window.js';
import { confirmSettlement } from '../../lambdas/core/settlement/confirm-settlement.js';
import { recordSettlementInstruction, settleClosedWindow } from '../../lambdas/core/settlement/settle-window.js';
import { windowClosedEvent } from '../../lambdas/core/events/settlement-events.js';
import type { EventOf } from '../../lambdas/core/events/envelope.js';
import { DeleteItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { expectMoneyConserved, ledgerOf, openFundedAccount, TEST_SETTLEMENT_ACTOR, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { interceptRequests } from '../support/fault.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

const bank = (name: string) => `${name}-${randomUUID().slice(0, 6)}`;

describe.each(BACKENDS)('interbank posting on %s', (backend) => {
  let world: TestWorld;
  let ledger: DynamoLedgerStore;
  let handle: LedgerHandle;

  beforeAll(async () => {
    world = await createTestWorld('settle', backend);
    ({ ledger, handle } = ledgerOf(world));
  });

  afterAll(async () => {
    await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
    world.destroy();
  });

  /** Caps each institution in the currency (an uncapped one may not send interbank). */
  async function cap(currency: CurrencyCode, capMinor: bigint, ...institutions: string[]): Promise<void> {
    for (const institutionId of institutions) await ledger.settlement.setNetDebitCap(institutionId, currency, capMinor, TEST_SETTLEMENT_ACTOR);
  }

  async function post(debtor: string, creditor: string, amount: number, currency: CurrencyCode = 'EUR') {
    const result = await ledger.postTransfer(transferRequest(debtor, creditor, amount, { currency }));
    if (result.kind === 'modified') throw new Error('unexpected modified request');
    return result.transfer;
  }

  it('records both positions and the window totals with the transfer; an intrabank transfer touches neither', async () => {
    const [payerBank, payeeBank] = [bank('pay'), bank('rcv')];
    const debtor = await openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 10_000n, currency: 'USD' });
    const colleague = await openFundedAccount(handle, { institutionId: payerBank, currency: 'USD' });
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank, currency: 'USD' });
    await cap('USD', 100_000n, payerBank);
    const windowId = await ledger.settlement.currentWindowId('USD');
    const before = await ledger.settlement.getWindow(windowId);

    const interbank = await post(debtor.accountId, creditor.accountId, 1_250, 'USD');
    const intrabank = await post(debtor.accountId, colleague.accountId, 300, 'USD');
    const window = await ledger.settlement.getWindow(windowId);
    const positions = window === undefined ? new Map() : await ledger.settlement.positions(window);

    expect([interbank.status, intrabank.status]).toEqual(['POSTED', 'POSTED']);
    expect(window?.transferCount).toBe((before?.transferCount ?? 0) + 1);
    expect(window?.grossMinor).toBe((before?.grossMinor ?? 0n) + 1_250n);
    expect(window?.participants).toEqual(expect.arrayContaining([payerBank, payeeBank]));
    expect(positions.get(payerBank)).toBe(1_250n);
    expect(positions.get(payeeBank)).toBe(-1_250n);
    expect(sumOfPositions(positions)).toBe(0n);
    expect((await ledger.settlement.exposure(payerBank, 'USD')).exposureMinor).toBe(1_250n);
    // The payee needs no cap to receive; its exposure falls.
    expect(await ledger.settlement.exposure(payeeBank, 'USD')).toEqual({ institutionId: payeeBank, currency: 'USD', exposureMinor: -1_250n, netDebitCapMinor: undefined, shardCount: 1 });
  });

  it('refuses every interbank transfer of an institution without a cap, and sends once one is set', async () => {
    const [uncapped, payeeBank] = [bank('uncapped'), bank('payee')];
    const debtor = await openFundedAccount(handle, { institutionId: uncapped, balanceMinor: 10_000n, currency: 'SEK' });
    const colleague = await openFundedAccount(handle, { institutionId: uncapped, currency: 'SEK' });
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank, currency: 'SEK' });

    const refused = await post(debtor.accountId, creditor.accountId, 100, 'SEK');
    const intrabank = await post(debtor.accountId, colleague.accountId, 100, 'SEK');
    await cap('SEK', 1_000n, uncapped);
    const afterCap = await post(debtor.accountId, creditor.accountId, 100, 'SEK');

    expect([refused.status, refused.rejectionReason]).toEqual(['REJECTED', 'PAYER_LIMIT_EXCEEDED']);
    expect(intrabank.status).toBe('POSTED');
    expect(afterCap.status).toBe('POSTED');
    expect((await ledger.settlement.exposure(uncapped, 'SEK')).exposureMinor).toBe(100n);
  });

  it('posts exactly the affordable transfers when many race against one payer cap', async () => {
    const [payerBank, payeeBank] = [bank('capped'), bank('payee')];
    const debtors = await Promise.all(Array.from({ length: 16 }, () => openFundedAccount(handle, { institutionId: payerBank, balanceMinor: 1_000n })));
    const creditor = await openFundedAccount(handle, { institutionId: payeeBank });
    await cap('EUR', 1_000n, payerBank);
    const { positionMinor: start } = await ledger.settlement.currentPosition(payerBank, 'EUR');

    const outcomes = await Promise.all(debtors.map((debtor) => post(debtor.accountId, creditor.accountId, 150)));
    const { positionMinor: end } = await ledger.settlement.currentPosition(payerBank, 'EUR');

    const posted = outcomes.filter((transfer) => transfer.status === 'POSTED');
    expect(start).toBe(0n);
    expect(posted).toHaveLength(6); // 6 x 150 = 900 <= 1,000 < 7 x 150
    expect(outcomes.filter((transfer) => transfer.rejectionReason === 'PAYER_LIMIT_EXCEEDED')).toHaveLength(10);
    expect(end).toBe(900n);
    // The payee side is not capped: receiving lowers a position.
    expect((await ledger.settlement.currentPosition(payeeBank, 'EUR')).positionMinor).toBe(-900n);
  });

  it('honours a changed cap at once, and a payer owed money may send beyond its cap by what it is owed', async () => {
    const [a, b] = [bank('a'), bank('b')];
    const atA = await openFundedAccount(handle, { institutionId: a, balanceMinor: 5_000n, currency: 'CHF' });
    const atB = await openFundedAccount(handle, { institutionId: b, balanceMinor: 5_000n, currency: 'CHF' });
    await cap('CHF', 500n, a);
    await cap('CHF', 5_000n, b);

    const first = await post(atA.accountId, atB.accountId, 400, 'CHF');
    await ledger.settlement.setNetDebitCap(a, 'CHF', 450n, TEST_SETTLEMENT_ACTOR);
    const overNewCap = await post(atA.accountId, atB.accountId, 100, 'CHF');
    const owed = await post(atB.accountId, atA.accountId, 1_000, 'CHF');
    const afterBeingPaid = await post(atA.accountId, atB.accountId, 1_000, 'CHF');

    expect([first.status, overNewCap.rejectionReason, owed.status, afterBeingPaid.status]).toEqual(['POSTED', 'PAYER_LIMIT_EXCEEDED', 'POSTED', 'POSTED']);
    expect((await ledger.settlement.currentPosition(a, 'CHF')).positionMinor).toBe(400n);
  });

  it('counts every transfer in exactly one window while windows close during the race, and the totals reconcile', async () => {
    const currency: CurrencyCode = 'GBP';
    const banks = [bank('x'), bank('y'), bank('z')];
    const accounts = await Promise.all(banks.flatMap((institutionId) => [1, 2, 3, 4].map(() => openFundedAccount(handle, { institutionId, balanceMinor: 100_000n, currency }))));
    await cap(currency, 1_000_000n, ...banks);
    const firstWindow = await ledger.settlement.currentWindowId(currency);

    const transfers = Array.from({ length: 36 }, (_, index) => {
      const debtor = accounts[index % accounts.length]!;
      const creditor = accounts.find((account) => account.institutionId !== debtor.institutionId && account.accountId.endsWith(String(index % 3)))
        ?? accounts.find((account) => account.institutionId !== debtor.institutionId)!;
      return { debtor: debtor.accountId, creditor: creditor.accountId, amount: 100 + index };
    });
    // Four workers post in turn and a window closes after every ninth decision. The close races
    // the transfers the other workers already have in flight, but no worker takes a new transfer
    // until it has finished: otherwise, on a loaded machine, every close could trail the last
    // transfer and the race would never happen. So every window, the open one included, gets some.
    let decided = 0;
    const closed: Promise<Awaited<ReturnType<typeof ledger.settlement.closeWindow>>>[] = [];
    let closing: Promise<unknown> = Promise.resolve();
    const outcomes: Awaited<ReturnType<typeof post>>[] = [];
    const queue = [...transfers];
    const nextTransfer = async () => {
      await closing;
      return queue.shift();
    };
    await Promise.all(
      [1, 2, 3, 4].map(async () => {
        for (let next = await nextTransfer(); next !== undefined; next = await nextTransfer()) {
          outcomes.push(await post(next.debtor, next.creditor, next.amount, currency));
          if (++decided % 9 === 0 && closed.length < 3) {
            const close = closing.then(() => ledger.settlement.closeWindow(currency));
            closing = close;
            closed.push(close);
          }
        }
      }),
    );
    const closes = await Promise.all(closed);
    const lastWindow = await ledger.settlement.currentWindowId(currency);
    const first = Number(firstWindow.slice(4));
    const last = Number(lastWindow.slice(4));
    const windows = await Promise.all(Array.from({ length: last - first + 1 }, (_, offset) => ledger.settlement.getWindow(windowIdFor(currency, first + offset))));
    const posted = outcomes.filter((transfer) => transfer.status === 'POSTED');

    expect(closes.map((close) => close.kind)).toEqual(['closed', 'closed', 'closed']);
    expect(last - first).toBe(3);
    expect(posted).toHaveLength(transfers.length);
    expect(windows.reduce((sum, window) => sum + (window?.transferCount ?? 0), 0)).toBe(posted.length);
    expect(windows.reduce((sum, window) => sum + (window?.grossMinor ?? 0n), 0n)).toBe(posted.reduce((sum, transfer) => sum + BigInt(transfer.amountMinor), 0n));
    for (const window of windows) {
      if (window === undefined) throw new Error('a window in the sequence is missing');
      expect(sumOfPositions(await ledger.settlement.positions(window)), window.windowId).toBe(0n);
    }
    expect(windows.map((window) => window?.state)).toEqual(['CLOSED', 'CLOSED', 'CLOSED', 'OPEN']);
    // The closes really did land among the transfers.
    expect(windows.map((window) => (window?.transferCount ?? 0) > 0)).toEqual([true, true, true, true]);
  });

  it('puts a transfer in a window even when its account is opened between the lookup and the posting', async () => {
    const currency: CurrencyCode = 'AUD';
    const debtor = await openFundedAccount(handle, { institutionId: bank('early'), balanceMinor: 5_000n, currency });
    await cap(currency, 5_000n, debtor.institutionId);
    const lateBank = bank('late');
    const lateAccountId = `acc-late-${randomUUID().slice(0, 8)}`;
    const windowId = await ledger.settlement.currentWindowId(currency);
    let opened = false;
    // Fault injection at the chosen point: the creditor appears just before the first posting.
    const restore = interceptRequests(world.clients.dynamodb, async (command) => {
      if (command instanceof TransactWriteItemsCommand && !opened) {
        opened = true;
        await ledger.openAccount({ accountId: lateAccountId, institutionId: lateBank, currency, kind: 'CUSTOMER', status: 'ACTIVE', balanceMinor: 0n, overdraftLimitMinor: 0n, openedAt: new Date().toISOString() });
      }
    });
    let transfer;
    try {
      transfer = await post(debtor.accountId, lateAccountId, 400, currency);
    } finally {
      restore();
    }
    const window = await ledger.settlement.getWindow(windowId);
    const positions = window === undefined ? new Map() : await ledger.settlement.positions(window);

    expect(opened).toBe(true);
    expect(transfer.status).toBe('POSTED');
    expect(positions.get(lateBank)).toBe(-400n);
    expect(positions.get(debtor.institutionId)).toBe(400n);
  });

  it('refuses to close a window that is no longer open, and names a window that does not exist', async () => {
    const currency: CurrencyCode = 'JPY';
    const open = await ledger.settlement.currentWindowId(currency);

    const first = await ledger.settlement.closeWindow(currency, open);
    const again = await ledger.settlement.closeWindow(currency, open);

    expect(first.kind).toBe('closed');
    expect(again.kind).toBe('not-open');
    expect(again.kind === 'not-open' ? again.current.state : undefined).toBe('CLOSED');
    expect((await ledger.settlement.closeWindow(currency, 'JPY-000000099')).kind).toBe('not-found');
  });

  it('remembers every closed window until it settles, however many windows closed since (no lookback limit)', async () => {
    const currency: CurrencyCode = 'HKD';
    const stuck = await ledger.settlement.currentWindowId(currency);
    await ledger.settlement.closeWindow(currency, stuck);
    // Thirty more windows close and settle after it: far more than any fixed lookback.
    for (let round = 0; round < 30; round++) {
      const open = await ledger.settlement.currentWindowId(currency);
      await ledger.settlement.closeWindow(currency, open);
      await ledger.settlement.markIssuedIfComplete(open, 0);
    }
    const published: PaymentEvent[] = [];

    const announced = await announceUnsettled({ store: ledger.settlement, publisher: { publish: (event) => Promise.resolve(void published.push(event)) }, now: () => new Date() }, currency);
    await ledger.settlement.markIssuedIfComplete(stuck, 0);
    const afterSettling = await ledger.settlement.unsettledWindows(currency, 100);

    expect(announced).toEqual([stuck]);
    expect(published.map((event) => event.type)).toEqual(['SettlementWindowClosed']);
    expect(afterSettling).toEqual([]);
  });

  it('finds windows closed before the unsettled set existed (a one-off backfill per currency)', async () => {
    const currency: CurrencyCode = 'SGD';
    const old = await ledger.settlement.currentWindowId(currency);
    await ledger.settlement.closeWindow(currency, old);
    // As a table written before the set existed: the close left no trace in it.
    await handle.client.send(new DeleteItemCommand({ TableName: handle.tableName, Key: { pk: { S: `SETTLEMENT_UNSETTLED#${currency}` } } }));

    const found = await ledger.settlement.unsettledWindows(currency, 100);

    expect(found.map((window) => window.windowId)).toEqual([old]);
  });

  it('replays a keyed close without announcing a window that has settled since', async () => {
    const currency: CurrencyCode = 'NZD';
    const published: PaymentEvent[] = [];
    const publisher = { publish: (event: PaymentEvent) => Promise.resolve(void published.push(event)) };
    const first = await closeAndAnnounce({ store: ledger.settlement, publisher, now: () => new Date() }, { currency, idempotencyKey: 'close-nzd-1' });
    if (first.kind !== 'closed') throw new Error('expected a close');
    await ledger.settlement.markIssuedIfComplete(first.closed.windowId, 0);

    const replay = await closeAndAnnounce({ store: ledger.settlement, publisher, now: () => new Date() }, { currency, idempotencyKey: 'close-nzd-1' });

    expect(replay).toMatchObject({ kind: 'closed', replayed: true, announced: false, closed: { windowId: first.closed.windowId, state: 'SETTLED' } });
    expect(published).toHaveLength(1);
    expect(await ledger.settlement.currentWindowId(currency)).toBe(first.opened.windowId);
  });

  /** Closes the currency's window and nets it, issuing and recording its instructions as the settlement handler would. */
  async function closeAndIssue(currency: CurrencyCode): Promise<{ windowId: string; instructions: EventOf<'SettlementInstruction'>[] }> {
    const closed = await ledger.settlement.closeWindow(currency);
    if (closed.kind !== 'closed') throw new Error(`expected a close, got ${closed.kind}`);
    const instructions: EventOf<'SettlementInstruction'>[] = [];
    const publisher = { publish: (event: PaymentEvent) => Promise.resolve(void (event.type === 'SettlementInstruction' && instructions.push(event))) };
    const notifier = { notify: () => Promise.resolve() };
    await settleClosedWindow({ store: ledger.settlement, publisher, notifier, now: () => new Date() }, windowClosedEvent(closed.closed, () => new Date()));
    for (const instruction of instructions) await recordSettlementInstruction({ store: ledger.settlement }, instruction);
    return { windowId: closed.closed.windowId, instructions };
  }

  function confirmationOf(instruction: EventOf<'SettlementInstruction'>, reference = `bank-ref-${instruction.data.institutionId}`) {
    const { institutionId, direction, amountMinor } = instruction.data;
    return { institutionId, direction, amountMinor: BigInt(amountMinor), reference, confirmedBy: TEST_SETTLEMENT_ACTOR };
  }

  it('holds the cap across closes: exposure falls only when the settlement bank confirms, and the window settles at its last confirmation', async () => {
    const currency: CurrencyCode = 'DKK';
    const [a, b] = [bank('a'), bank('b')];
    const atA = await openFundedAccount(handle, { institutionId: a, balanceMinor: 100_000n, currency });
    const atB = await openFundedAccount(handle, { institutionId: b, balanceMinor: 100_000n, currency });
    await cap(currency, 1_000n, a, b);

    const beforeClose = await Promise.all([600, 300].map((amount) => post(atA.accountId, atB.accountId, amount, currency)));
    const { windowId, instructions } = await closeAndIssue(currency);
    const pending = await ledger.settlement.getWindow(windowId);
    // The cap still counts the closed window: 900 + 200 > 1,000.
    const afterClose = await post(atA.accountId, atB.accountId, 200, currency);
    const payer = instructions.find((line) => line.data.institutionId === a)!;
    const payee = instructions.find((line) => line.data.institutionId === b)!;
    const first = await confirmSettlement({ store: ledger.settlement }, windowId, confirmationOf(payer));
    const halfway = await ledger.settlement.getWindow(windowId);
    const afterPayerConfirmed = await post(atA.accountId, atB.accountId, 200, currency);
    const last = await confirmSettlement({ store: ledger.settlement }, windowId, confirmationOf(payee));

    expect(beforeClose.map((transfer) => transfer.status)).toEqual(['POSTED', 'POSTED']);
    expect(pending?.state).toBe('PENDING_SETTLEMENT');
    expect([afterClose.status, afterClose.rejectionReason]).toEqual(['REJECTED', 'PAYER_LIMIT_EXCEEDED']);
    expect(first).toMatchObject({ kind: 'confirmed', window: { state: 'PENDING_SETTLEMENT', confirmationsRecorded: 1 } });
    expect(halfway?.state).toBe('PENDING_SETTLEMENT');
    // The payer's 900 is released by its own confirmation: 0 + 200 fits.
    expect(afterPayerConfirmed.status).toBe('POSTED');
    expect(last).toMatchObject({ kind: 'confirmed', window: { state: 'SETTLED', confirmationsRecorded: 2 } });
    expect((await ledger.settlement.exposure(a, currency)).exposureMinor).toBe(200n);
    expect((await ledger.settlement.exposure(b, currency)).exposureMinor).toBe(-200n);
    expect(await ledger.settlement.unsettledWindows(currency, 10, ['CLOSED', 'PENDING_SETTLEMENT'])).toEqual([]);
  });

  it('replays the same confirmation without releasing twice, and refuses a conflicting or mismatched one', async () => {
    const currency: CurrencyCode = 'NOK';
    const [a, b] = [bank('a'), bank('b')];
    const atA = await openFundedAccount(handle, { institutionId: a, balanceMinor: 100_000n, currency });
    const atB = await openFundedAccount(handle, { institutionId: b, currency });
    await cap(currency, 10_000n, a);
    await post(atA.accountId, atB.accountId, 700, currency);
    const { windowId, instructions } = await closeAndIssue(currency);
    const payer = instructions.find((line) => line.data.institutionId === a)!;
    const store = { store: ledger.settlement };

    const first = await confirmSettlement(store, windowId, confirmationOf(payer));
    const again = await confirmSettlement(store, windowId, { ...confirmationOf(payer), confirmedBy: { role: 'settlement', principal: 'someone-else' } });
    const conflicting = await confirmSettlement(store, windowId, confirmationOf(payer, 'another-bank-ref'));
    const wrongAmount = await confirmSettlement(store, windowId, { ...confirmationOf(payer), amountMinor: 699n });
    const wrongDirection = await confirmSettlement(store, windowId, { ...confirmationOf(payer), direction: 'RECEIVE' });
    const nobody = await confirmSettlement(store, windowId, { ...confirmationOf(payer), institutionId: bank('stranger') });
    const open = await confirmSettlement(store, await ledger.settlement.currentWindowId(currency), confirmationOf(payer));

    expect(first.kind).toBe('confirmed');
    expect(again).toMatchObject({ kind: 'replayed', confirmation: { reference: `bank-ref-${a}`, confirmedBy: TEST_SETTLEMENT_ACTOR } });
    expect(conflicting).toMatchObject({ kind: 'conflict', existing: { reference: `bank-ref-${a}` } });
    expect(wrongAmount).toEqual({ kind: 'mismatch', instruction: { direction: 'PAY', amountMinor: 700n } });
    expect(wrongDirection.kind).toBe('mismatch');
    expect(nobody.kind).toBe('no-instruction');
    expect(open.kind).toBe('not-pending');
    // Released once: 700 - 700, whatever was repeated.
    expect((await ledger.settlement.exposure(a, currency)).exposureMinor).toBe(0n);
    expect((await ledger.settlement.getWindow(windowId))?.confirmationsRecorded).toBe(1);
  });

  it('keeps every cap exact while postings race the confirmation that releases a closed window', async () => {
    const currency: CurrencyCode = 'PLN';
    const [a, b] = [bank('a'), bank('b')];
    const payers = await Promise.all(Array.from({ length: 6 }, () => openFundedAccount(handle, { institutionId: a, balanceMinor: 100_000n, currency })));
    const creditor = await openFundedAccount(handle, { institutionId: b, currency });
    await cap(currency, 1_000n, a);
    await Promise.all([0, 1, 2].map((index) => post(payers[index]!.accountId, creditor.accountId, 250, currency)));
    const { windowId, instructions } = await closeAndIssue(currency);
    const payer = instructions.find((line) => line.data.institutionId === a)!;

    // Twelve transfers of 250 race the confirmation that releases 750: at most 4 + 3 fit in all.
    const racing = Array.from({ length: 12 }, (_, index) => post(payers[index % payers.length]!.accountId, creditor.accountId, 250, currency));
    const [confirmed, ...outcomes] = await Promise.all([confirmSettlement({ store: ledger.settlement }, windowId, confirmationOf(payer)), ...racing]);
    const posted = outcomes.filter((transfer) => transfer.status === 'POSTED').length;
    const exposure = await ledger.settlement.exposure(a, currency);
    const open = await ledger.settlement.currentPosition(a, currency);

    expect(confirmed.kind).toBe('confirmed');
    expect(outcomes.filter((transfer) => transfer.status === 'REJECTED').every((transfer) => transfer.rejectionReason === 'PAYER_LIMIT_EXCEEDED')).toBe(true);
    // Exact: the exposure is the open window's position (the closed one is settled), never above the cap.
    expect(exposure.exposureMinor).toBe(open.positionMinor);
    expect(exposure.exposureMinor).toBe(BigInt(posted) * 250n);
    expect(exposure.exposureMinor).toBeLessThanOrEqual(1_000n);
    expect(posted).toBeGreaterThanOrEqual(1);
  });

  it('settles a window whose SETTLED mark was lost after its last confirmation, when it is announced again', async () => {
    const currency: CurrencyCode = 'CZK';
    const [a, b] = [bank('a'), bank('b')];
    const atA = await openFundedAccount(handle, { institutionId: a, balanceMinor: 100_000n, currency });
    const atB = await openFundedAccount(handle, { institutionId: b, currency });
    await cap(currency, 10_000n, a);
    await post(atA.accountId, atB.accountId, 800, currency);
    const { windowId, instructions } = await closeAndIssue(currency);
    // Fault injection at the chosen point: every SETTLED mark fails (a crash, or TransactionConflict
    // on the currency's unsettled set), after the confirmations themselves are in.
    const restore = interceptRequests(handle.client, (command) => {
      if (command instanceof TransactWriteItemsCommand && JSON.stringify(command.input).includes('SETTLEMENT_UNSETTLED#')) throw new Error('injected: the process died before the SETTLED mark');
    });
    try {
      for (const instruction of instructions) {
        await confirmSettlement({ store: ledger.settlement }, windowId, confirmationOf(instruction)).catch(() => undefined);
      }
    } finally {
      restore();
    }
    const stuck = await ledger.settlement.getWindow(windowId);
    const published: PaymentEvent[] = [];
    const publisher = { publish: (event: PaymentEvent) => Promise.resolve(void published.push(event)) };

    const announced = await announceUnsettled({ store: ledger.settlement, publisher, now: () => new Date() }, currency);
    const closedEvent = published.find((event) => event.type === 'SettlementWindowClosed');
    if (closedEvent?.type !== 'SettlementWindowClosed') throw new Error('the window was not announced again');
    const outcome = await settleClosedWindow({ store: ledger.settlement, publisher, notifier: { notify: () => Promise.resolve() }, now: () => new Date() }, closedEvent);

    expect(stuck).toMatchObject({ state: 'PENDING_SETTLEMENT', instructionCount: 2, confirmationsRecorded: 2 });
    expect(announced).toEqual([windowId]);
    expect(outcome.kind).toBe('awaiting-confirmation');
    expect((await ledger.settlement.getWindow(windowId))?.state).toBe('SETTLED');
    expect((await ledger.settlement.exposure(a, currency)).exposureMinor).toBe(0n);
  });
});
