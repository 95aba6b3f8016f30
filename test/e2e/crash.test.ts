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
/** A graceful stop drains in-flight batches (up to 10 s) before the emulators stop. */
const EXIT_TIMEOUT_MS = 30_000;
/**
 * Transfers taken before the kill, which comes as soon as the last is accepted, while the
 * account's backlog is still being decided. They are all one account's, decided one after
 * another, so each one more only lengthens the wait for the restarted runtime.
 */
const TRANSFER_COUNT = 15;
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
  // Normally both have exited (killed, and stopped gracefully); after a failure, end them first.
  await Promise.all(
    children.map((child) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited(child, EXIT_TIMEOUT_MS);
    }),
  );
  rmSync(dataDir, { recursive: true, force: true });
});

/** The child's exit code (null when ended by a signal), once it has exited; bounded by `timeoutMs`. */
function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${String(child.pid)} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

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
    for (let index = 0; index < TRANSFER_COUNT; index++) {
      const amount = 1_000 + index;
      const response = await before.submit({ debtorAccountId: 'acc-alice', creditorAccountId: 'acc-bob', amount, currency: 'EUR' });
      expect(response.status).toBe(202);
      accepted.push({ id: response.body.transactionId as string, amount });
    }

    first.child.kill('SIGKILL');
    await exited(first.child, EXIT_TIMEOUT_MS);
    const second = await startRuntime();
    const after = clientOf(second);
    const decided = await Promise.all(accepted.map(({ id }) => after.waitForDecision(id, 60_000, 100)));

    expect(decided.map((transaction) => transaction.status)).toEqual(accepted.map(() => 'POSTED'));
    const moved = accepted.reduce((sum, { amount }) => sum + BigInt(amount), 0n);
    expect((await after.getAccount('acc-alice')).body.balance).toBe(aliceBefore - moved);
    expect(await total(second)).toBe(0n);
    second.child.kill('SIGTERM');
    const code = await exited(second.child, EXIT_TIMEOUT_MS);
    expect(code).toBe(0);
  });
});
