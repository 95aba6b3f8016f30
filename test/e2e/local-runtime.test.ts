// Proves the local runtime end to end, driven only over HTTP like a channel: transfers post,
// duplicates and modified duplicates are absorbed, every rejection reason is reported, racing
// debits never overspend, a handler crash after the ledger write posts once, a poison message is
// quarantined with its reason, and money is conserved after every test.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/cli/api-client.js';
import type { SqsBatchHandler } from '../../lib/local/event-source.js';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import { QUARANTINE_REASON_ATTRIBUTE } from '../../lambdas/adapters/sqs/quarantine.js';
import { expectMoneyConserved } from '../support/ledger-fixtures.js';
import { adminOver, clientOverHttp, openAccountOverHttp } from '../support/http-fixtures.js';
import { takeMessages } from '../support/queue-driver.js';

const DECISION_TIMEOUT_MS = 15_000;
const run = promisify(execFile);
const CRASH_MARKER = 'e2e:crash-after-write-once';

let runtime: LocalRuntime;
let web: ApiClient;
let pos: ApiClient;
let admin: ApiClient;
const crashed = new Set<string>();

/** Fault injection at a chosen point: the handler runs (the ledger write happens), then it crashes. */
function crashAfterWriteOnce(handler: SqsBatchHandler): SqsBatchHandler {
  return async (event, context) => {
    const response = await handler(event, context);
    const marked = event.Records.find((record) => record.body.includes(CRASH_MARKER) && !crashed.has(record.body));
    if (marked !== undefined) {
      crashed.add(marked.body);
      throw new Error('injected crash between the ledger write and the batch response');
    }
    return response;
  };
}

beforeAll(async () => {
  runtime = await startLocalRuntime({
    retryDelaySeconds: 0,
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
    const [debtor, creditor] = await Promise.all([openAccount(1_000), openAccount(0)]);

    const accepted = await Promise.all(
      Array.from({ length: 15 }, (_, index) =>
        (index % 2 === 0 ? web : pos).submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount: 100, currency: 'EUR' }),
      ),
    );
    const decided = await Promise.all(accepted.map((response) => web.waitForDecision(response.body.transactionId as string, DECISION_TIMEOUT_MS)));

    expect(decided.filter((transaction) => transaction.status === 'POSTED')).toHaveLength(10);
    expect(decided.filter((transaction) => transaction.rejectionReason === 'INSUFFICIENT_FUNDS')).toHaveLength(5);
    expect(await balance(debtor)).toBe(0n);
    expect(await balance(creditor)).toBe(1_000n);
  });

  it('posts once when the posting handler crashes after the ledger write on the first delivery', async () => {
    const [debtor, creditor] = await Promise.all([openAccount(1_000), openAccount(0)]);

    const accepted = await web.submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount: 300, currency: 'EUR', reference: CRASH_MARKER });
    const decided = await web.waitForDecision(accepted.body.transactionId as string, DECISION_TIMEOUT_MS);
    // The redelivery comes at once (retryDelaySeconds 0); give it time to run and find the transfer.
    for (let waited = 0; crashed.size === 0 && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(crashed.size).toBe(1);
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
