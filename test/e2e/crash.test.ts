// Proves what a hard kill does to `npm start` with a data dir, with real processes: SIGKILL the
// runtime mid-traffic (its DynamoDB Local JVM is orphaned, its in-memory queues are gone), start
// it again on the same data dir, and every accepted transfer posts exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/cli/api-client.js';
import { readClientCredentials } from '../../lib/local/credentials.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'payments-crash-'));
const children: ChildProcess[] = [];
const BANNER_TIMEOUT_MS = 90_000;
/** Every seeded account, funding accounts included, with its institution. */
const SEEDED: readonly (readonly [string, string])[] = [
  ['bank-a', 'acc-alice'],
  ['bank-a', 'acc-bob'],
  ['bank-b', 'acc-carol'],
  ['bank-b', 'acc-dave'],
  ['bank-b', 'acc-shop'],
  ['bank-a', 'fund-bank-a-eur'],
  ['bank-b', 'fund-bank-b-eur'],
];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  // The second runtime stopped gracefully; give the OS a moment before removing its files.
  await new Promise((resolve) => setTimeout(resolve, 200));
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly apiUrl: string;
  /** The banner's first command: a bank-a WEB client's credentials file. */
  readonly credentialsFile: string;
  readonly operationsKey: string;
}

/** Starts `npm start`'s entry point as its own process and reads the banner for URL, client and keys. */
function startRuntime(): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/main.ts', '--data-dir', dataDir, '--port', '0', '--retry-delay-seconds', '1'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no banner within ${BANNER_TIMEOUT_MS} ms: ${err}`)), BANNER_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => void (err += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /API\s+(http:\/\/\S+)\/v1/.exec(out)?.[1];
      const credentialsFile = /--credentials (\S+)/.exec(out)?.[1];
      const operationsKey = /operations\s+(admin_\S+)/.exec(out)?.[1];
      if (url !== undefined && credentialsFile !== undefined && operationsKey !== undefined && out.includes('Ctrl-C')) {
        clearTimeout(timer);
        resolve({ child, apiUrl: url, credentialsFile, operationsKey });
      }
    });
    child.once('exit', (code) => reject(new Error(`runtime exited with ${code} before its banner: ${err}`)));
  });
}

/** Through the back office: no API client may read another institution's or a funding account. */
async function total(started: Started): Promise<bigint> {
  const admin = new ApiClient({ baseUrl: started.apiUrl, adminKeys: { operations: started.operationsKey } });
  let sum = 0n;
  for (const [institutionId, accountId] of SEEDED) sum += (await admin.institutionAccount(institutionId, accountId)).body.balance;
  return sum;
}

function clientOf(started: Started): ApiClient {
  return new ApiClient({ baseUrl: started.apiUrl, credentials: readClientCredentials(started.credentialsFile) });
}

describe('a hard kill of npm start with a data dir', () => {
  it('loses no accepted transfer and posts none twice', async () => {
    const first = await startRuntime();
    const before = clientOf(first);
    const aliceBefore = (await before.getAccount('acc-alice')).body.balance;
    const accepted: { id: string; amount: number }[] = [];
    for (let index = 0; index < 30; index++) {
      const amount = 1_000 + index;
      const response = await before.submit({ debtorAccountId: 'acc-alice', creditorAccountId: 'acc-bob', amount, currency: 'EUR' });
      expect(response.status).toBe(202);
      accepted.push({ id: response.body.transactionId as string, amount });
    }

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const second = await startRuntime();
    const after = clientOf(second);
    const decided = await Promise.all(accepted.map(({ id }) => after.waitForDecision(id, 60_000, 100)));

    expect(decided.map((transaction) => transaction.status)).toEqual(accepted.map(() => 'POSTED'));
    const moved = accepted.reduce((sum, { amount }) => sum + BigInt(amount), 0n);
    expect((await after.getAccount('acc-alice')).body.balance).toBe(aliceBefore - moved);
    expect(await total(second)).toBe(0n);
    second.child.kill('SIGTERM');
    const code = await new Promise((resolve) => second.child.once('exit', resolve));
    expect(code).toBe(0);
  });
});
