// `payments dlq` against a whole local runtime, as an operator would use it: a transfer whose
// creditor account item was damaged (its status written in lower case, as a bad migration might)
// cannot be decided, so the posting handler quarantines it to the posting DLQ with the reason;
// `dlq list` shows the DLQ one deep, `dlq show` prints the reason without consuming the message,
// the item is mended, `dlq redrive` moves the message back, the transfer posts exactly once, the
// DLQ is empty and a second redrive moves nothing. The SQS endpoint is taken from the runtime's
// start-up log line, exactly where `npm start` prints it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/cli/api-client.js';
import { dlqMain } from '../../lib/cli/dlq.js';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import { queueDepth } from '../../lambdas/adapters/sqs/dead-letter.js';
import { expectMoneyConserved } from '../support/ledger-fixtures.js';
import { adminOver, clientOverHttp, openAccountOverHttp } from '../support/http-fixtures.js';

const run = promisify(execFile);
const DECISION_TIMEOUT_MS = 15_000;
const QUARANTINE_TIMEOUT_MS = 15_000;

let runtime: LocalRuntime;
let sqsEndpoint: string;
let admin: ApiClient;
let web: ApiClient;

beforeAll(async () => {
  const logLines: string[] = [];
  runtime = await startLocalRuntime({ retryDelaySeconds: 0, settlementIntervalSeconds: 0, seed: false, log: (line) => logLines.push(line) });
  // What npm start prints: "[local] DynamoDB Local at ...; SNS/SQS (fauxqs) at http://127.0.0.1:PORT".
  const endpoint = logLines.map((line) => /SNS\/SQS \(fauxqs\) at (\S+)/.exec(line)?.[1]).find((found) => found !== undefined);
  if (endpoint === undefined) throw new Error(`the runtime did not log its SNS/SQS endpoint: ${logLines.join(' | ')}`);
  sqsEndpoint = endpoint;
  admin = adminOver(runtime.apiUrl, runtime.credentials.adminKeys);
  web = await clientOverHttp(admin, runtime.apiUrl, 'bank-dlq', 'WEB');
});

afterEach(async () => {
  await expectMoneyConserved(runtime.clients.dynamodb, runtime.bindings.tables.ledger);
});

afterAll(async () => {
  await runtime?.stop();
});

/** `payments dlq ARGS --sqs-endpoint URL`, in process, with the CLI's own parsing; stdout, stderr and the exit code. */
async function dlq(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await dlqMain([...args, '--sqs-endpoint', sqsEndpoint], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, {});
  return { code, stdout, stderr };
}

async function dlqJson<T>(...args: string[]): Promise<T> {
  const result = await dlq(...args, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

interface Listed {
  readonly queue: string;
  readonly deadLetterQueue: string | null;
  readonly depth: number | null;
}

async function setStatus(accountId: string, status: string): Promise<void> {
  await runtime.clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: runtime.bindings.tables.ledger,
      Key: { pk: { S: `ACCOUNT#${accountId}` } },
      UpdateExpression: 'SET #status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': { S: status } },
    }),
  );
}

async function untilDeadLettered(count: number): Promise<void> {
  const deadline = Date.now() + QUARANTINE_TIMEOUT_MS;
  while ((await queueDepth(runtime.clients.sqs, runtime.bindings.queues.posting.deadLetterUrl)).visible < count) {
    if (Date.now() > deadline) throw new Error(`nothing reached the posting DLQ within ${QUARANTINE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('payments dlq on the local runtime', () => {
  it('lists, shows and redrives a quarantined transfer, which then posts exactly once', async () => {
    const [debtor, creditor] = await Promise.all([
      openAccountOverHttp(admin, { institutionId: 'bank-dlq', currency: 'EUR', balance: 10_000 }),
      openAccountOverHttp(admin, { institutionId: 'bank-dlq', currency: 'EUR', balance: 0 }),
    ]);
    await setStatus(creditor, 'active');

    const accepted = await web.submit({ debtorAccountId: debtor, creditorAccountId: creditor, amount: 1_250, currency: 'EUR', reference: 'dlq-e2e' });
    expect(accepted.status).toBe(202);
    const transactionId = accepted.body.transactionId as string;
    await untilDeadLettered(1);

    // list: every DLQ of the topology, the posting one holding the poison message.
    const listed = await dlqJson<Listed[]>('list');
    expect(listed.map(({ queue, depth }) => [queue, depth])).toEqual([
      ['posting', 1],
      ['screening', 0],
      ['alerts', 0],
      ['settlements', 0],
    ]);
    expect(listed[0]?.deadLetterQueue).toBe('local-posting-dlq.fifo');
    const table = await dlq('list');
    expect(table.stdout).toMatch(/^posting\s+local-posting-dlq\.fifo\s+1\s+0\s+local-posting\.fifo$/m);

    // show: the reason, the group and the body, twice (looking consumes nothing).
    const shown = await dlq('show', 'posting');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`group     ${debtor}`);
    expect(shown.stdout).toContain('reason    CorruptItemError: account status active');
    expect(shown.stdout).toMatch(new RegExp(`body {6}\\{"id":"${transactionId}\\.requested"`));
    const again = await dlqJson<{ depth: number; messages: { messageGroupId: string; quarantineReason: string; body: string }[] }>('show', 'posting');
    expect(again.depth).toBe(1);
    expect(again.messages).toHaveLength(1);
    expect(again.messages[0]).toMatchObject({ messageGroupId: debtor, quarantineReason: 'CorruptItemError: account status active' });
    expect(JSON.parse(again.messages[0]?.body ?? '{}')).toMatchObject({ data: { transactionId } });
    expect((await web.getTransaction(transactionId)).body.status).not.toBe('POSTED');

    // Mend the item, then redrive: the transfer posts, once.
    await setStatus(creditor, 'ACTIVE');
    const redriven = await dlq('redrive', 'posting');
    expect(redriven.stderr).toBe('');
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toMatch(/redrove 1 message\(s\) from local-posting-dlq\.fifo to local-posting\.fifo; 0 left in the DLQ/);
    const decided = await web.waitForDecision(transactionId, DECISION_TIMEOUT_MS);
    expect(decided).toMatchObject({ status: 'POSTED', amount: 1_250 });
    expect((await web.getAccount(debtor)).body.balance).toBe(8_750n);
    expect((await web.getAccount(creditor)).body.balance).toBe(1_250n);

    // Empty, and a second redrive has nothing to move.
    expect((await dlqJson<Listed[]>('list')).find((entry) => entry.queue === 'posting')?.depth).toBe(0);
    const second = await dlqJson<{ moved: unknown[]; depth: number }>('redrive', 'posting');
    expect(second).toMatchObject({ moved: [], depth: 0 });
    // Nothing came back: the posting queue and its DLQ are both empty, and the balance moved once.
    expect(await queueDepth(runtime.clients.sqs, runtime.bindings.queues.posting.deadLetterUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect((await web.getAccount(debtor)).body.balance).toBe(8_750n);
  });

  it('runs as `payments dlq` from the command line, and says what is wrong with its arguments', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'dlq', ...args], { timeout: 60_000, env: { ...process.env, AWS_ENDPOINT_URL_SQS: sqsEndpoint } });

    const { stdout } = await cli('list');
    expect(stdout).toMatch(/^QUEUE\s+DLQ\s+DEPTH\s+IN FLIGHT\s+SOURCE$/m);
    expect(stdout).toMatch(/^settlements\s+local-settlements-dlq\.fifo\s+0\s+0\s+local-settlements\.fifo$/m);
    const unknown = await dlq('show', 'nowhere');
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringMatching(/^unknown queue nowhere: one of posting, screening, alerts, settlements/)]);
    const badMax = await dlq('redrive', 'posting', '--max', '0');
    expect([badMax.code, badMax.stderr]).toEqual([2, expect.stringMatching(/^--max must be a positive integer/)]);
  });
});
