// Proves the local runtime end to end, driven only over HTTP like a channel and a back office:
// transfers post, duplicates and modified duplicates are absorbed, every rejection reason is
// reported, racing debits never overspend, a handler crash after the ledger write posts once, a
// poison message is quarantined with its reason, the quick start works as printed; settlement
// (caps, close, net instructions, SETTLED report) and the risk loop (alert, notify, freeze,
// resolve, unfreeze) run end to end; and money is conserved after every test.
//
// Every test here runs on one runtime: starting one (a DynamoDB Local JVM, provisioning, seeding)
// is the slow part, and the tests keep to their own accounts, institutions and currencies (the
// settlement test alone uses USD), so they do not see each other's traffic.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type AlertView, type SettlementWindowDetail } from '../../lib/cli/api-client.js';
import type { SqsBatchHandler } from '../../lib/local/event-source.js';
import type { ReceivedNotification } from '../../lib/local/ops-console.js';
import { LOCAL_NOTIFICATIONS_PATH, startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import { QUARANTINE_REASON_ATTRIBUTE } from '../../lambdas/adapters/sqs/quarantine.js';
import { DEFAULT_THRESHOLDS as T } from '../../lambdas/core/risk/thresholds.js';
import { expectMoneyConserved } from '../support/ledger-fixtures.js';
import { adminOver, clientOverHttp, openAccountOverHttp, transferOverHttp } from '../support/http-fixtures.js';
import { takeMessages } from '../support/queue-driver.js';

const DECISION_TIMEOUT_MS = 15_000;
/** Bound on waiting for something that follows a decision (an alert, a settlement, a redelivery). */
const FOLLOW_UP_TIMEOUT_MS = 15_000;
const run = promisify(execFile);
const CRASH_MARKER = 'e2e:crash-after-write-once';

let runtime: LocalRuntime;
let web: ApiClient;
let pos: ApiClient;
let admin: ApiClient;
const crashed = new Set<string>();
/** Marked records handled again after their crash: the redelivery ran to its end. */
const redelivered = new Set<string>();

/** Fault injection at a chosen point: the handler runs (the ledger write happens), then it crashes. */
function crashAfterWriteOnce(handler: SqsBatchHandler): SqsBatchHandler {
  return async (event, context) => {
    const response = await handler(event, context);
    const marked = event.Records.filter((record) => record.body.includes(CRASH_MARKER));
    for (const record of marked) if (crashed.has(record.body)) redelivered.add(record.body);
    const first = marked.find((record) => !crashed.has(record.body));
    if (first !== undefined) {
      crashed.add(first.body);
      throw new Error('injected crash between the ledger write and the batch response');
    }
    return response;
  };
}

/** Polls `probe` until it finds something, for at most `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = FOLLOW_UP_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  runtime = await startLocalRuntime({
    retryDelaySeconds: 0,
    // Settlement windows are closed by the tests, never by the schedule.
    settlementIntervalSeconds: 0,
    wrapQueueHandler: (queue, handler) => (queue === 'posting' ? crashAfterWriteOnce(handler) : handler),
  });
  admin = adminOver(runtime.apiUrl, runtime.credentials.adminKeys);
  [web, pos] = await Promise.all([clientOverHttp(admin, runtime.apiUrl, 'bank-e2e', 'WEB'), clientOverHttp(admin, runtime.apiUrl, 'bank-e2e', 'POS')]);
});

afterEach(async () => {
  await expectMoneyConserved(runtime.clients.dynamodb, runtime.bindings.tables.ledger);
});

afterAll(async () => {
  await runtime.stop();
});

const openAccount = (balance: number, institutionId = 'bank-e2e'): Promise<string> => openAccountOverHttp(admin, { institutionId, currency: 'EUR', balance });

async function balance(accountId: string): Promise<bigint> {
  return (await web.getAccount(accountId)).body.balance;
}

describe('the local runtime over HTTP', () => {
  it('takes a transfer from 202 to POSTED and moves the money', async () => {
    const [debtor, creditor] = await Promise.all([openAccount(10_000), openAccount(0)]);

    const accepted = await web.submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount: 2_500, currency: 'EUR' });
    const decided = await web.waitForDecision(accepted.body.transactionId as string, DECISION_TIMEOUT_MS);

    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`/v1/transactions/${String(accepted.body.transactionId)}`);
    expect(decided).toMatchObject({ status: 'POSTED', amount: 2_500, channel: 'WEB' });
    expect(await balance(debtor)).toBe(7_500n);
    expect(await balance(creditor)).toBe(2_500n);
  });

  it('absorbs a duplicate submission and refuses a modified one with 409', async () => {
    const [debtor, creditor] = await Promise.all([openAccount(10_000), openAccount(0)]);
    const body = { debtorAccountId: debtor, creditorAccountId: creditor, amount: 1_000, currency: 'EUR' };
    const key = randomUUID();

    const first = await web.submit(body, key);
    const duplicate = await web.submit(body, key);
    const modified = await web.submit({ ...body, amount: 9_000 }, key);
    await web.waitForDecision(first.body.transactionId as string, DECISION_TIMEOUT_MS);
    const afterDecision = await web.submit(body, key);

    expect([first.status, duplicate.status, modified.status, afterDecision.status]).toEqual([202, 202, 409, 202]);
    expect(duplicate.body).toEqual(first.body);
    expect(await balance(debtor)).toBe(9_000n);
  });

  it('reports INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND and ACCOUNT_FROZEN, refuses an unknown debtor before accepting it, and moves nothing', async () => {
    const [poor, frozen, creditor] = await Promise.all([openAccount(100), openAccount(5_000), openAccount(0)]);
    // Freezing comes with risk screening (next issue); until then the test sets the state itself.
    await runtime.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: runtime.bindings.tables.ledger,
        Key: { pk: { S: `ACCOUNT#${frozen}` } },
        UpdateExpression: 'SET #status = :frozen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':frozen': { S: 'FROZEN' } },
      }),
    );
    const cases = [
      { debtorAccountId: poor, creditorAccountId: creditor, amount: 101, reason: 'INSUFFICIENT_FUNDS' },
      { debtorAccountId: poor, creditorAccountId: 'acc-nobody', amount: 1, reason: 'ACCOUNT_NOT_FOUND' },
      { debtorAccountId: frozen, creditorAccountId: creditor, amount: 1, reason: 'ACCOUNT_FROZEN' },
    ];

    const decided = await Promise.all(
      cases.map(async ({ reason: _reason, ...body }) => {
        const accepted = await web.submit({ ...body, currency: 'EUR' });
        return web.waitForDecision(accepted.body.transactionId as string, DECISION_TIMEOUT_MS);
      }),
    );

    const unknownDebtor = await web.submit({ debtorAccountId: 'acc-nobody', creditorAccountId: creditor, amount: 1, currency: 'EUR' });

    expect(decided.map((transaction) => [transaction.status, transaction.rejectionReason])).toEqual(cases.map((c) => ['REJECTED', c.reason]));
    // An unknown debtor is answered as another institution's would be: existence does not leak.
    expect([unknownDebtor.status, unknownDebtor.body.type]).toEqual([403, 'urn:payments-backbone:problem:debtor-not-permitted']);
    expect([await balance(poor), await balance(frozen), await balance(creditor)]).toEqual([100n, 5_000n, 0n]);
  });

  it('posts exactly the affordable debits when channels race on one account', async () => {
    // One account's debits are decided one after another (one FIFO group), so each adds a
    // decision's time: eight, from two channels at once, are enough to overdraw it three times.
    const [debtor, creditor] = await Promise.all([openAccount(500), openAccount(0)]);

    const accepted = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        (index % 2 === 0 ? web : pos).submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount: 100, currency: 'EUR' }),
      ),
    );
    const decided = await Promise.all(accepted.map((response) => web.waitForDecision(response.body.transactionId as string, DECISION_TIMEOUT_MS)));

    expect(decided.filter((transaction) => transaction.status === 'POSTED')).toHaveLength(5);
    expect(decided.filter((transaction) => transaction.rejectionReason === 'INSUFFICIENT_FUNDS')).toHaveLength(3);
    expect(await balance(debtor)).toBe(0n);
    expect(await balance(creditor)).toBe(500n);
  });

  it('posts once when the posting handler crashes after the ledger write on the first delivery', async () => {
    const [debtor, creditor] = await Promise.all([openAccount(1_000), openAccount(0)]);

    const accepted = await web.submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount: 300, currency: 'EUR', reference: CRASH_MARKER });
    const decided = await web.waitForDecision(accepted.body.transactionId as string, DECISION_TIMEOUT_MS);
    // The redelivery comes at once (retryDelaySeconds 0); balances are read once it has run and found the transfer.
    await waitFor('the crashed batch to be redelivered and handled', () => (redelivered.size > 0 ? true : undefined));

    expect(crashed.size).toBe(1);
    expect(redelivered.size).toBe(1);
    expect(decided.status).toBe('POSTED');
    expect(await balance(debtor)).toBe(700n);
    expect(await balance(creditor)).toBe(300n);
  });

  it('quarantines a poison message on the posting queue to its DLQ, with the reason', async () => {
    await runtime.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: runtime.bindings.queues.posting.url,
        MessageBody: JSON.stringify({ id: 'x', type: 'TransactionRequested', data: { amountMinor: 'lots' } }),
        MessageGroupId: 'poison',
        MessageDeduplicationId: randomUUID(),
      }),
    );

    const [quarantined] = await takeMessagesFromRuntime(runtime.bindings.queues.posting.deadLetterUrl);

    expect(quarantined?.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue).toMatch(/^envelope invalid: /);
  });

  it('answers unknown routes 404, wrong methods 405 and missing or bad keys 403 (as API Gateway does), as problem+json', async () => {
    const unknown = await web.request('GET', '/v1/nothing-here');
    const wrongMethod = await web.request('DELETE', '/v1/transactions');
    const noKey = await new ApiClient({ baseUrl: runtime.apiUrl }).getAccount('acc-alice');
    const badKey = await new ApiClient({ baseUrl: runtime.apiUrl }).request('GET', '/v1/accounts/acc-alice', { headers: { 'x-api-key': 'stolen' } });
    const notAdmin = await new ApiClient({ baseUrl: runtime.apiUrl, adminKeys: { operations: 'guess' } }).openAccount({ institutionId: 'bank-x', currency: 'EUR' });

    expect([unknown.status, wrongMethod.status, noKey.status, badKey.status, notAdmin.status]).toEqual([404, 405, 403, 403, 403]);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('the quick start', () => {
  it("takes the banner's first command, as printed, to a POSTED transfer", async () => {
    const seeded = runtime.seededClients.find((client) => client.credentials.institutionId === 'bank-a' && client.credentials.channel === 'WEB');
    if (seeded === undefined) throw new Error('no seeded bank-a WEB client');

    // What `npx payments submit --credentials FILE --from acc-alice --to acc-bob ... --wait` runs.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'submit', '--credentials', seeded.file, '--from', 'acc-alice', '--to', 'acc-bob', '--amount', '1250', '--reference', 'demo', '--wait'], {
      timeout: 60_000,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });

    expect(stdout).toMatch(/^HTTP 202\n/);
    expect(stdout).toMatch(/"status": "POSTED"/);
  });
});

function takeMessagesFromRuntime(queueUrl: string) {
  return takeMessages(runtime, queueUrl, 1, 10_000);
}

describe('settlement over HTTP', () => {
  // Net Debit Caps are set, transfers between institutions post (one beyond its payer's cap is
  // REJECTED with PAYER_LIMIT_EXCEEDED), the window is closed, netted into instructions that are
  // recorded, and reported SETTLED with positions summing to zero, as JSON and as CSV; it cannot
  // be closed again.
  const institutionOf = new Map<string, string>();
  /** Each institution's own API client: it alone may debit that institution's customers. */
  const clients = new Map<string, Promise<ApiClient>>();

  async function openUsdAccount(institutionId: string, balance: number): Promise<string> {
    const accountId = await openAccountOverHttp(admin, { institutionId, currency: 'USD', balance });
    institutionOf.set(accountId, institutionId);
    return accountId;
  }

  async function transfer(debtorAccountId: string, creditorAccountId: string, amount: number) {
    const institutionId = institutionOf.get(debtorAccountId) ?? '';
    if (!clients.has(institutionId)) clients.set(institutionId, clientOverHttp(admin, runtime.apiUrl, institutionId));
    const client = await clients.get(institutionId)!;
    return transferOverHttp(client, { debtorAccountId, creditorAccountId, amount, currency: 'USD' }, DECISION_TIMEOUT_MS);
  }

  async function inState(windowId: string, state: SettlementWindowDetail['state']): Promise<SettlementWindowDetail> {
    return waitFor(`window ${windowId} to be ${state}`, async () => {
      const { body } = await admin.getWindow(windowId);
      return body.state === state ? body : undefined;
    });
  }

  it('posts interbank transfers within caps, closes the window, issues net instructions, and settles it once the bank confirms them', async () => {
    const [alpha, beta, gamma] = ['e2e-alpha', 'e2e-beta', 'e2e-gamma'];
    const [a1, a2, b1, c1] = await Promise.all([openUsdAccount(alpha, 50_000), openUsdAccount(alpha, 50_000), openUsdAccount(beta, 50_000), openUsdAccount(gamma, 50_000)]);
    expect((await admin.setNetDebitCap(alpha, { currency: 'USD', netDebitCap: 10_000 })).status).toBe(200);
    // Secure by default: gamma has no cap yet, so it may not send interbank.
    const uncapped = await transfer(c1, b1, 700);
    for (const institutionId of [beta, gamma]) expect((await admin.setNetDebitCap(institutionId, { currency: 'USD', netDebitCap: 100_000 })).status).toBe(200);

    const outcomes = [
      await transfer(a1, b1, 6_000),
      await transfer(a2, c1, 3_000),
      await transfer(a1, c1, 2_000), // 9,000 + 2,000 > 10,000: alpha's cap
      await transfer(b1, a2, 1_500),
      await transfer(c1, b1, 700),
      await transfer(a1, a2, 9_999), // within alpha: no settlement effect
    ];
    const position = await admin.position(alpha, 'USD');
    const closed = await admin.closeWindow({ currency: 'USD' });
    const pending = await inState(closed.body.closed.windowId, 'PENDING_SETTLEMENT');
    const awaiting = await admin.awaitingConfirmation('USD');
    // The cap still counts the closed window until the bank confirms: alpha's headroom is unchanged.
    const beforeConfirmation = await admin.position(alpha, 'USD');
    const confirmations = [];
    for (const line of pending.instructions ?? []) {
      confirmations.push(await admin.confirmSettlement(pending.windowId, { institutionId: line.institutionId, direction: line.direction, amount: line.amount, reference: `rtgs-${line.institutionId}` }));
    }
    const repeated = await admin.confirmSettlement(pending.windowId, { institutionId: alpha, direction: 'PAY', amount: 7_500, reference: `rtgs-${alpha}` });
    const conflicting = await admin.confirmSettlement(pending.windowId, { institutionId: alpha, direction: 'PAY', amount: 7_500, reference: 'another-reference' });
    const window = await inState(pending.windowId, 'SETTLED');
    const csv = await admin.windowReportCsv(window.windowId);
    const closeAgain = await admin.closeWindow({ currency: 'USD', windowId: window.windowId });

    expect([uncapped.status, uncapped.rejectionReason]).toEqual(['REJECTED', 'PAYER_LIMIT_EXCEEDED']);
    expect(awaiting.body.windows.find((entry) => entry.windowId === pending.windowId)?.awaiting.map((line) => line.institutionId).sort()).toEqual([alpha, beta, gamma].sort());
    expect(beforeConfirmation.body).toMatchObject({ position: 0n, exposure: 7_500n, headroom: 2_500n });
    expect(beforeConfirmation.body.byWindow).toEqual([
      { windowId: pending.windowId, state: 'PENDING_SETTLEMENT', position: 7_500n },
      { windowId: beforeConfirmation.body.windowId, state: 'OPEN', position: 0n },
    ]);
    expect(confirmations.map((answer) => answer.status)).toEqual([201, 201, 201]);
    expect([repeated.status, repeated.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(conflicting.status).toBe(409);

    expect(outcomes.map((outcome) => outcome.rejectionReason ?? outcome.status)).toEqual(['POSTED', 'POSTED', 'PAYER_LIMIT_EXCEEDED', 'POSTED', 'POSTED', 'POSTED']);
    expect(position.body).toMatchObject({ position: 7_500n, netDebitCap: 10_000n, headroom: 2_500n });
    expect(closed.status).toBe(200);
    expect(closed.body.settlementAnnounced).toBe(true);
    expect(window).toMatchObject({ transferCount: 4, grossAmount: 11_200n, participants: [alpha, beta, gamma].sort() });
    // alpha: owes 6,000 + 3,000 - 1,500 = 7,500; beta: 1,500 - 6,000 - 700 = -5,200; gamma: 700 - 3,000 = -2,300.
    expect(window.netPositions).toEqual(
      expect.arrayContaining([
        { institutionId: alpha, position: 7_500n },
        { institutionId: beta, position: -5_200n },
        { institutionId: gamma, position: -2_300n },
      ]),
    );
    expect(window.netPositions.reduce((sum, entry) => sum + entry.position, 0n)).toBe(0n);
    expect(window.report?.status).toBe('BALANCED');
    expect(window.instructions?.map((line) => [line.institutionId, line.direction, line.amount, line.recordedAt !== undefined])).toEqual(
      [[alpha, 'PAY', 7_500, true], [beta, 'RECEIVE', 5_200, true], [gamma, 'RECEIVE', 2_300, true]].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(csv.status).toBe(200);
    expect(csv.contentType).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('windowId,currency,state,institutionId,netPosition,direction,amount,recordedAt');
    expect(csv.text).toContain(`${window.windowId},USD,SETTLED,${alpha},7500,PAY,7500,`);
    expect(closeAgain.status).toBe(409);
    expect((await admin.listWindows({ currency: 'USD', state: 'SETTLED' })).body.windows.map((entry) => entry.windowId)).toContain(window.windowId);
    // Settled: the closed window's part of alpha's exposure is released, its headroom is its whole cap again.
    expect((await admin.position(alpha, 'USD')).body).toMatchObject({ position: 0n, exposure: 0n, headroom: 10_000n });
  });
});

describe('the risk loop over HTTP', () => {
  // A CRITICAL pattern (a large first payment to a new payee that also crosses the hourly amount)
  // raises an alert that is stored, notified to operations and freezes the debtor; its next debit
  // is REJECTED with ACCOUNT_FROZEN while a credit to it posts; resolving the alert and
  // unfreezing restores debits. Card testing (repeated rejections) raises a HIGH alert without
  // freezing.
  let risky: ApiClient;

  beforeAll(async () => {
    risky = await clientOverHttp(admin, runtime.apiUrl, 'bank-risk');
  });

  const openRiskAccount = (balance: number): Promise<string> => openAccountOverHttp(admin, { institutionId: 'bank-risk', currency: 'EUR', balance });
  const transfer = (debtorAccountId: string, creditorAccountId: string, amount: number) =>
    transferOverHttp(risky, { debtorAccountId, creditorAccountId, amount, currency: 'EUR' }, DECISION_TIMEOUT_MS);

  async function notifications(): Promise<ReceivedNotification[]> {
    const response = await admin.request<{ notifications: ReceivedNotification[] }>('GET', LOCAL_NOTIFICATIONS_PATH, { admin: true });
    expect(response.status).toBe(200);
    return response.body.notifications;
  }

  it('freezes on a CRITICAL alert: debits are refused, credits post, and resolve + unfreeze restore debits', async () => {
    const [debtor, newPayee, friend] = await Promise.all([openRiskAccount(5_000_000), openRiskAccount(0), openRiskAccount(100_000)]);
    const amount = T.velocityAmount.amountMinor; // also >= LARGE_AMOUNT (WEB) and NEW_PAYEE_LARGE_AMOUNT

    const trigger = await transfer(debtor, newPayee, amount);
    const alert = await waitFor('the CRITICAL alert to be acted on', async () => {
      const [found] = (await admin.listAlerts({ accountId: debtor })).body.alerts;
      return found?.freeze !== undefined && found.notifiedAt !== undefined ? found : undefined;
    });
    const frozen = await risky.getAccount(debtor);
    const refusedDebit = await transfer(debtor, friend, 1_000);
    const credit = await transfer(friend, debtor, 2_500);
    const notified = (await notifications()).filter((notification) => notification.alertId === alert.alertId);

    expect(trigger.status).toBe('POSTED');
    expect(alert).toMatchObject<Partial<AlertView>>({ severity: 'CRITICAL', status: 'OPEN', transactionId: trigger.transactionId, totalWeight: 100 });
    expect(alert.rulesHit.map((hit) => hit.ruleId).sort()).toEqual(['LARGE_AMOUNT', 'NEW_PAYEE_LARGE_AMOUNT', 'VELOCITY_AMOUNT']);
    expect(alert.freeze?.outcome).toBe('FROZEN');
    expect(frozen.body.status).toBe('FROZEN');
    // Channels see that the account is frozen, never which alert froze it.
    expect(frozen.body).not.toHaveProperty('frozenByAlertId');
    expect((await risky.request('GET', `/v1/alerts?accountId=${debtor}`)).status).toBe(403);
    expect(refusedDebit).toMatchObject({ status: 'REJECTED', rejectionReason: 'ACCOUNT_FROZEN' });
    expect(credit.status).toBe('POSTED');
    expect(notified).toHaveLength(1);
    expect(notified[0]?.subject).toContain('[CRITICAL]');
    expect(notified[0]?.message).toContain('FROZEN by this alert');

    const resolved = await admin.resolveAlert(alert.alertId, { resolution: 'FALSE_POSITIVE', note: 'customer bought a car; verified by phone' });
    const unfrozen = await admin.unfreeze(debtor);
    const debitAfter = await transfer(debtor, friend, 1_000);

    expect(resolved.status).toBe(200);
    expect(resolved.body.status).toBe('RESOLVED');
    expect(unfrozen.status).toBe(200);
    expect(unfrozen.body.status).toBe('ACTIVE');
    expect(debitAfter.status).toBe('POSTED');
    // The refused debit moved nothing; the credit and the debit after the unfreeze did.
    expect((await risky.getAccount(debtor)).body.balance).toBe(BigInt(5_000_000 - amount + 2_500 - 1_000));
    // The alert was acted on once: no second notification, no re-freeze.
    expect((await notifications()).filter((notification) => notification.alertId === alert.alertId)).toHaveLength(1);
    expect((await risky.getAccount(debtor)).body.status).toBe('ACTIVE');
  });

  it('raises a HIGH alert for card testing (repeated rejections) without freezing the account', async () => {
    const [prober, target] = await Promise.all([openRiskAccount(100), openRiskAccount(0)]);

    const attempts = [];
    for (let attempt = 0; attempt < T.repeatedRejections.perAccountMin; attempt++) attempts.push(await transfer(prober, target, 5_000 + attempt));
    const alert = await waitFor('the card-testing alert', async () => {
      const found = (await admin.listAlerts({ accountId: prober, severity: 'HIGH' })).body.alerts[0];
      return found?.notifiedAt !== undefined ? found : undefined;
    });

    expect(attempts.map((attempt) => attempt.rejectionReason)).toEqual(Array(T.repeatedRejections.perAccountMin).fill('INSUFFICIENT_FUNDS'));
    expect(alert.rulesHit.map((hit) => hit.ruleId)).toEqual(['REPEATED_REJECTIONS']);
    expect(alert.freeze).toBeUndefined();
    expect((await risky.getAccount(prober)).body.status).toBe('ACTIVE');
  });
});
