// Proves the settlement handler on the in-memory services (its adapters hold to their contracts on
// the emulators too): a closed window is netted into one instruction per institution, whose
// recording leaves it PENDING_SETTLEMENT, and the settlement bank's confirmations (SettlementConfirmed)
// settle it at the last one, releasing each institution's exposure once; redelivered
// SettlementWindowClosed, instruction or confirmation messages change nothing; an empty window
// settles at once; positions that do not net to zero produce no instruction and tell operations;
// malformed messages and contradicting confirmations are quarantined with their reason. "Nothing was published" is exact here: a publish has reached every queue when it
// returns, and each look takes the queue until it is empty.
import { randomUUID } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaContext } from '../../lib/local/lambda-context.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { positionAttribute, shardKey } from '../../lambdas/adapters/dynamodb/position-shards.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../../lambdas/adapters/sns/ops-notifier.js';
import { QUARANTINE_REASON_ATTRIBUTE, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import type { PaymentEvent } from '../../lambdas/core/events/envelope.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import { settlementConfirmed, windowClosedEvent } from '../../lambdas/core/events/settlement-events.js';
import { createSettlementCloseHandler } from '../../lambdas/settlement/close-handler.js';
import { createSettlementHandler } from '../../lambdas/settlement/handler.js';
import { ledgerOf, openFundedAccount, TEST_SETTLEMENT_ACTOR, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { drainQueue, observeTopic, takeMessages } from '../support/queue-driver.js';
import { sqsRecordOf } from '../support/sqs-record.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';

let world: MemoryWorld;
let ledger: DynamoLedgerStore;
let handle: LedgerHandle;
let settlementsUrl: string;
let notificationsUrl: string;

beforeAll(async () => {
  world = await createTestWorld('settleh', 'memory');
  ({ ledger, handle } = ledgerOf(world));
  settlementsUrl = await observeTopic(world, world.bindings.topics.settlements, 'settlements-observer');
  notificationsUrl = await observeTopic(world, world.bindings.notificationTopics.operations, 'ops-inbox');
});

afterAll(() => world.destroy());

const handler = () =>
  createSettlementHandler({
    store: ledger.settlement,
    publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.settlements),
    notifier: new SnsOpsNotifier(world.clients.sns, world.bindings.notificationTopics.operations),
    quarantine: new SqsQuarantine(world.clients.sqs, world.bindings.queues.settlements.deadLetterUrl),
    logger: new Logger({ serviceName: 'payments-settlement', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-settlement', namespace: 'PaymentsBackbone' }),
  });

async function deliver(...bodies: string[]) {
  return handler()(
    { Records: bodies.map((body) => sqsRecordOf(body, 'window', world.bindings.queues.settlements.arn)) },
    createLambdaContext({ functionName: 'settlement', timeoutSeconds: 60, memorySizeMb: 512 }),
  );
}

/** Every settlement event published since the last look, taken off the observer until it is empty. */
async function published(): Promise<PaymentEvent[]> {
  return (await takeMessages(world, settlementsUrl, Number.POSITIVE_INFINITY)).map((message) => JSON.parse(message.Body ?? '{}') as PaymentEvent);
}

/** Opens accounts at three institutions of their own, posts the transfers, closes the window. */
async function closedWindowWith(currency: CurrencyCode, transfers: readonly [number, number, number][]) {
  const banks = [0, 1, 2].map((index) => `sb${index}-${randomUUID().slice(0, 6)}`);
  const accounts = await Promise.all(banks.map((institutionId) => openFundedAccount(handle, { institutionId, balanceMinor: 1_000_000n, currency })));
  for (const institutionId of banks) await ledger.settlement.setNetDebitCap(institutionId, currency, 1_000_000n, TEST_SETTLEMENT_ACTOR);
  for (const [from, to, amount] of transfers) {
    const result = await ledger.postTransfer(transferRequest(accounts[from]!.accountId, accounts[to]!.accountId, amount, { currency }));
    expect(result.kind === 'decided' && result.transfer.status).toBe('POSTED');
  }
  const closed = await ledger.settlement.closeWindow(currency);
  if (closed.kind !== 'closed') throw new Error('the window did not close');
  return { banks, window: closed.closed };
}

/** What the settlement bank's adapter would publish for an instruction it carried out. */
function confirmationOf(instruction: PaymentEvent, reference = 'bank-ref'): string {
  if (instruction.type !== 'SettlementInstruction') throw new Error(`not an instruction: ${instruction.type}`);
  const { windowId, currency, institutionId, direction, amountMinor } = instruction.data;
  return JSON.stringify(settlementConfirmed(windowId, currency, { institutionId, direction, amountMinor: BigInt(amountMinor), reference: `${reference}-${institutionId}` }, new Date().toISOString()));
}

describe('settlement handler', () => {
  it('nets a closed window into instructions, records each once, and settles it at the last confirmation; redeliveries change nothing', async () => {
    const { banks, window } = await closedWindowWith('EUR', [
      [0, 1, 5_000],
      [1, 2, 2_000],
      [2, 0, 1_000],
      [0, 2, 500],
    ]);
    const closedEvent = JSON.stringify(windowClosedEvent(window, () => new Date()));

    await deliver(closedEvent);
    const report = await ledger.settlement.getReport(window.windowId);
    const instructions = await published();
    await deliver(closedEvent); // redelivered before the instructions are recorded
    const again = await published();
    const bodies = instructions.map((event) => JSON.stringify(event));
    await deliver(...bodies);
    await deliver(...bodies); // every instruction redelivered
    const issued = await ledger.settlement.getWindow(window.windowId);
    const exposuresIssued = await Promise.all(banks.map(async (bank) => (await ledger.settlement.exposure(bank, 'EUR')).exposureMinor));
    const [first, ...rest] = instructions.map((event) => confirmationOf(event));
    await deliver(first!);
    const partly = await ledger.settlement.getWindow(window.windowId);
    await deliver(...rest, first!); // the last two, and the first again
    await deliver(closedEvent); // and the close, after settlement

    const settled = await ledger.settlement.getWindow(window.windowId);
    const recorded = report === undefined || settled === undefined ? [] : await ledger.settlement.recordedInstructions(settled, report);
    // bank0 owes 5,500 - 1,000 = 4,500; bank1 is owed 5,000 - 2,000 = 3,000; bank2 is owed 2,500 - 1,000 = 1,500.
    expect([...(report?.positions ?? [])]).toEqual(expect.arrayContaining([[banks[0], 4_500n], [banks[1], -3_000n], [banks[2], -1_500n]]));
    expect(report?.status).toBe('BALANCED');
    expect(instructions.map((event) => event.type === 'SettlementInstruction' && [event.data.institutionId, event.data.direction, event.data.amountMinor]).sort()).toEqual(
      [[banks[0], 'PAY', '4500'], [banks[1], 'RECEIVE', '3000'], [banks[2], 'RECEIVE', '1500']].sort(),
    );
    // The second close re-published the same instruction ids; the topic absorbed them.
    expect(again).toEqual([]);
    expect(issued).toMatchObject({ state: 'PENDING_SETTLEMENT', instructionCount: 3, instructionsRecorded: 3 });
    expect(exposuresIssued).toEqual([4_500n, -3_000n, -1_500n]);
    expect(partly).toMatchObject({ state: 'PENDING_SETTLEMENT', confirmationsRecorded: 1 });
    expect(settled).toMatchObject({ state: 'SETTLED', instructionCount: 3, instructionsRecorded: 3, confirmationsRecorded: 3 });
    // Each institution's part released once, whatever was redelivered.
    for (const bank of banks) expect((await ledger.settlement.exposure(bank, 'EUR')).exposureMinor, bank).toBe(0n);
    expect(recorded.map((line) => [line.institutionId, line.direction, line.amountMinor])).toEqual(
      [[banks[0], 'PAY', 4_500n], [banks[1], 'RECEIVE', 3_000n], [banks[2], 'RECEIVE', 1_500n]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect((await ledger.settlement.getReport(window.windowId))?.createdAt).toBe(report?.createdAt);
    expect(await published()).toEqual([]);
  });

  it('settles a window without interbank transfers at once, with no instructions', async () => {
    const closed = await ledger.settlement.closeWindow('SEK');
    if (closed.kind !== 'closed') throw new Error('the window did not close');

    await deliver(JSON.stringify(windowClosedEvent(closed.closed, () => new Date())));

    expect((await ledger.settlement.getWindow(closed.closed.windowId))?.state).toBe('SETTLED');
    expect(await published()).toEqual([]);
  });

  it('refuses to issue instructions for positions that do not net to zero, and tells operations', async () => {
    const { banks, window } = await closedWindowWith('NOK', [[0, 1, 700]]);
    // Corrupt one position behind the ledger's back: this is what the check exists for.
    await world.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: world.bindings.tables.ledger,
        Key: shardKey(banks[1]!, 'NOK', 0),
        UpdateExpression: 'ADD #position :delta',
        ExpressionAttributeNames: { '#position': positionAttribute(window.sequence) },
        ExpressionAttributeValues: { ':delta': { N: '1' } },
      }),
    );

    await deliver(JSON.stringify(windowClosedEvent(window, () => new Date())));
    const notifications = await takeMessages(world, notificationsUrl, Number.POSITIVE_INFINITY);

    expect((await ledger.settlement.getReport(window.windowId))?.status).toBe('UNBALANCED');
    expect((await ledger.settlement.getWindow(window.windowId))?.state).toBe('CLOSED');
    expect(await published()).toEqual([]);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Body).toContain(`settlement window ${window.windowId} (NOK) sum to 1, not 0`);
  });

  it('on schedule, closes windows holding transfers (not empty ones) and re-announces a closed window that never settled', async () => {
    const { window: unannounced } = await closedWindowWith('PLN', [[0, 1, 900]]);
    await closedWindowWith('HUF', []); // leaves HUF's next window open and empty
    const busy = await openFundedAccount(handle, { institutionId: `busy-${randomUUID().slice(0, 6)}`, balanceMinor: 10_000n, currency: 'CZK' });
    await ledger.settlement.setNetDebitCap(busy.institutionId, 'CZK', 10_000n, TEST_SETTLEMENT_ACTOR);
    const other = await openFundedAccount(handle, { institutionId: `other-${randomUUID().slice(0, 6)}`, currency: 'CZK' });
    await ledger.postTransfer(transferRequest(busy.accountId, other.accountId, 250, { currency: 'CZK' }));
    const hufOpen = await ledger.settlement.currentWindowId('HUF');
    const close = createSettlementCloseHandler({
      store: ledger.settlement,
      publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.settlements),
      logger: new Logger({ serviceName: 'payments-settlement-close', logLevel: 'SILENT' }),
      metrics: new Metrics({ serviceName: 'payments-settlement-close', namespace: 'PaymentsBackbone' }),
    });

    const report = await close();
    const announced = (await published()).filter((event) => event.type === 'SettlementWindowClosed').map((event) => event.data.windowId);
    await drainQueue(world, 'settlements', handler());

    expect(report.reannounced).toContain(unannounced.windowId);
    expect(report.closed).toContain('CZK-000000001');
    expect(report.closed).not.toContain(hufOpen);
    expect(announced).toEqual(expect.arrayContaining([unannounced.windowId, 'CZK-000000001']));
    // Netted and issued: each now waits for the settlement bank.
    expect((await ledger.settlement.getWindow(unannounced.windowId))?.state).toBe('PENDING_SETTLEMENT');
    expect((await ledger.settlement.getWindow('CZK-000000001'))?.state).toBe('PENDING_SETTLEMENT');
    expect((await ledger.settlement.getWindow(hufOpen))?.state).toBe('OPEN');
  });

  it("records a confirmation that overtakes another institution's instruction, settling the window when that is recorded", async () => {
    const { window } = await closedWindowWith('RON', [[0, 1, 400]]);
    await deliver(JSON.stringify(windowClosedEvent(window, () => new Date())));
    const instructions = (await published()).filter((event) => event.type === 'SettlementInstruction' && event.data.windowId === window.windowId);
    const payer = instructions.find((event) => event.type === 'SettlementInstruction' && event.data.direction === 'PAY')!;
    const payee = instructions.find((event) => event.type === 'SettlementInstruction' && event.data.direction === 'RECEIVE')!;

    // The payer's instruction is recorded and confirmed before the payee's is recorded.
    await deliver(JSON.stringify(payer), confirmationOf(payer));
    const beforeLast = await ledger.settlement.getWindow(window.windowId);
    await deliver(JSON.stringify(payee), confirmationOf(payee));

    expect(beforeLast).toMatchObject({ state: 'CLOSED', confirmationsRecorded: 1 });
    expect((await ledger.settlement.getWindow(window.windowId))?.state).toBe('SETTLED');
  });

  it('quarantines a confirmation that contradicts the instruction or an earlier confirmation, with its reason', async () => {
    const { window } = await closedWindowWith('THB', [[0, 1, 300]]);
    await deliver(JSON.stringify(windowClosedEvent(window, () => new Date())));
    const instructions = (await published()).filter((event) => event.type === 'SettlementInstruction' && event.data.windowId === window.windowId);
    await deliver(...instructions.map((event) => JSON.stringify(event)));
    const payer = instructions.find((event) => event.type === 'SettlementInstruction' && event.data.direction === 'PAY')!;
    await deliver(confirmationOf(payer));
    const wrongAmount = JSON.parse(confirmationOf(payer)) as PaymentEvent & { data: { amountMinor: string } };
    wrongAmount.data.amountMinor = '299';

    const { window: unissued } = await closedWindowWith('ISK', [[0, 1, 300]]);
    await deliver(JSON.stringify(windowClosedEvent(unissued, () => new Date())));
    const forged = (await published()).find((event) => event.type === 'SettlementInstruction' && event.data.windowId === unissued.windowId)!;

    const results = await deliver(confirmationOf(payer, 'another-ref'), JSON.stringify(wrongAmount), confirmationOf(forged));
    const dead = await takeMessages(world, world.bindings.queues.settlements.deadLetterUrl, Number.POSITIVE_INFINITY);

    expect(results.batchItemFailures).toEqual([]);
    expect(dead.map((message) => message.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue)).toEqual([
      expect.stringMatching(/contradicts the confirmation recorded .* \(reference bank-ref-/),
      expect.stringMatching(/does not match the instruction \(PAY 300\)/),
      // Its instruction was published but never recorded: nothing can have been carried out.
      expect.stringMatching(/an instruction of ISK-\d+ that was never issued/),
    ]);
    expect((await ledger.settlement.getWindow(unissued.windowId))?.confirmationsRecorded).toBeUndefined();
    expect((await ledger.settlement.getWindow(window.windowId))).toMatchObject({ state: 'PENDING_SETTLEMENT', confirmationsRecorded: 1 });
  });

  it('quarantines a malformed message and one for a window that is not closed, with their reasons', async () => {
    const open = await ledger.settlement.getWindow(await ledger.settlement.currentWindowId('DKK'));
    if (open === undefined) throw new Error('no open window');

    const result = await deliver('{"type":"SettlementWindowClosed"}', JSON.stringify(windowClosedEvent(open, () => new Date())));
    const quarantined = await takeMessages(world, world.bindings.queues.settlements.deadLetterUrl, 2);

    expect(result.batchItemFailures).toEqual([]);
    const reasons = quarantined.map((message) => message.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue ?? '');
    expect(reasons[0]).toMatch(/envelope invalid/);
    expect(reasons[1]).toMatch(/is announced closed but is OPEN/);
    expect((await ledger.settlement.getWindow(open.windowId))?.state).toBe('OPEN');
  });
});
