// Proves settlement end to end through the local runtime, driven only over HTTP: Net Debit Caps
// are set, transfers between institutions post (one beyond its payer's cap is REJECTED with
// PAYER_LIMIT_EXCEEDED), the window is closed, netted into instructions that are recorded, and
// reported SETTLED with positions summing to zero, as JSON and as CSV; it cannot be closed again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient} from '../../lib/cli/api-client.js';
import { type SettlementWindowDetail } from '../../lib/cli/api-client.js';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import { adminOver, clientOverHttp, openAccountOverHttp, transferOverHttp } from '../support/http-fixtures.js';
import { expectMoneyConserved } from '../support/ledger-fixtures.js';

const TIMEOUT_MS = 15_000;

let runtime: LocalRuntime;
let admin: ApiClient;

beforeAll(async () => {
  runtime = await startLocalRuntime({ retryDelaySeconds: 0, seed: false, settlementIntervalSeconds: 0, printNotification: () => undefined });
  admin = adminOver(runtime.apiUrl, runtime.credentials.adminKeys);
});

afterAll(async () => {
  await expectMoneyConserved(runtime.clients.dynamodb, runtime.bindings.tables.ledger);
  await runtime.stop();
});

const institutionOf = new Map<string, string>();
/** Each institution's own API client: it alone may debit that institution's customers. */
const clients = new Map<string, Promise<ApiClient>>();

async function openAccount(institutionId: string, balance: number): Promise<string> {
  const accountId = await openAccountOverHttp(admin, { institutionId, currency: 'USD', balance });
  institutionOf.set(accountId, institutionId);
  return accountId;
}

async function transfer(debtorAccountId: string, creditorAccountId: string, amount: number) {
  const institutionId = institutionOf.get(debtorAccountId) ?? '';
  if (!clients.has(institutionId)) clients.set(institutionId, clientOverHttp(admin, runtime.apiUrl, institutionId));
  const client = await clients.get(institutionId)!;
  return transferOverHttp(client, { debtorAccountId, creditorAccountId, amount, currency: 'USD' }, TIMEOUT_MS);
}

async function settled(windowId: string): Promise<SettlementWindowDetail> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const { body } = await admin.getWindow(windowId);
    if (body.state === 'SETTLED') return body;
    if (Date.now() > deadline) throw new Error(`window ${windowId} did not settle; it is ${body.state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('settlement over HTTP', () => {
  it('posts interbank transfers within caps, closes the window and settles it by net instructions', async () => {
    const [alpha, beta, gamma] = ['e2e-alpha', 'e2e-beta', 'e2e-gamma'];
    const [a1, a2, b1, c1] = await Promise.all([openAccount(alpha, 50_000), openAccount(alpha, 50_000), openAccount(beta, 50_000), openAccount(gamma, 50_000)]);
    expect((await admin.setNetDebitCap(alpha, { currency: 'USD', netDebitCap: 10_000 })).status).toBe(200);

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
    const window = await settled(closed.body.closed.windowId);
    const csv = await admin.windowReportCsv(window.windowId);
    const closeAgain = await admin.closeWindow({ currency: 'USD', windowId: window.windowId });

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
    // The new window starts from nothing: alpha's headroom is its whole cap again.
    expect((await admin.position(alpha, 'USD')).body).toMatchObject({ position: 0n, headroom: 10_000n });
  });
});
