// Proves the settlement routes' contract on the in-memory services (the adapters hold to their
// contracts on DynamoDB Local too): caps are set and read back with the position and headroom;
// every client mistake is a 4xx problem (bad bodies 422, bad queries 400, unknown ids 404, a closed
// window 409); a literal path beats a window id; listings page.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { jsonOf, type TestRequest } from '../support/api-events.js';
import { ledgerOf } from '../support/ledger-fixtures.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';
import { localAdminArn } from '../../lib/local/api-server.js';
import { clientPortsOf, testApiHandler } from '../support/api-clients.js';
import type { APIGatewayProxyResult } from 'aws-lambda';


let world: MemoryWorld;
let ledger: DynamoLedgerStore;
let call: (request: TestRequest) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  world = await createTestWorld('settleapi', 'memory');
  ({ ledger } = ledgerOf(world));
  const ports = clientPortsOf(world);
  call = testApiHandler(world, ports, { ledger });
});

afterAll(() => world.destroy());

/** A settlement admin's request; every one carries a fresh Idempotency-Key (a close needs one). */
const admin = (method: string, path: string, body?: unknown, idempotencyKey: string = randomUUID()): TestRequest => ({
  method,
  path,
  role: 'settlement',
  headers: { 'Idempotency-Key': idempotencyKey },
  ...(body !== undefined ? { body } : {}),
});
const problemOf = async (request: TestRequest) => {
  const result = await call(request);
  return { status: result.statusCode, type: String(jsonOf(result).type).split(':').at(-1), errors: jsonOf(result).errors, allow: result.headers?.allow };
};

describe('settlement routes', () => {
  it('sets a cap and reads the position with its headroom', async () => {
    const bank = `bank-${randomUUID().slice(0, 6)}`;

    const set = await call(admin('PUT', `/v1/institutions/${bank}/limits`, { currency: 'EUR', netDebitCap: 250_000 }));
    const position = await call(admin('GET', `/v1/institutions/${bank}/position?currency=EUR`));
    const spread = await call(admin('PUT', `/v1/institutions/${bank}/limits`, { currency: 'EUR', netDebitCap: 300_000, expectedTransfersPerSecond: 1_000 }));
    const kept = await call(admin('PUT', `/v1/institutions/${bank}/limits`, { currency: 'EUR', netDebitCap: 300_000, expectedTransfersPerSecond: 1 }));
    const after = await call(admin('GET', `/v1/institutions/${bank}/position?currency=EUR`));

    expect(set.statusCode).toBe(200);
    expect(jsonOf(set)).toEqual({ institutionId: bank, currency: 'EUR', netDebitCap: 250_000, positionShards: 1, updatedBy: { role: 'settlement', principal: localAdminArn('settlement') } });
    expect(jsonOf(position)).toMatchObject({ institutionId: bank, currency: 'EUR', position: 0, netDebitCap: 250_000, headroom: 250_000 });
    // 1,000 transfers a second: five shards of 200/s; a lower figure later never removes one.
    expect(jsonOf(spread)).toMatchObject({ netDebitCap: 300_000, positionShards: 5 });
    expect(jsonOf(kept)).toMatchObject({ positionShards: 5 });
    expect(jsonOf(after)).toMatchObject({ exposure: 0, netDebitCap: 300_000, headroom: 300_000 });
  });

  it('answers every client mistake with the right problem', async () => {
    const cases = await Promise.all([
      problemOf(admin('PUT', '/v1/institutions/bank-x/limits', { currency: 'EUR', netDebitCap: -1 })),
      problemOf(admin('PUT', '/v1/institutions/bank-x/limits', { currency: 'XXX', netDebitCap: 5 })),
      problemOf(admin('PUT', '/v1/institutions/b/limits', { currency: 'EUR', netDebitCap: 5 })),
      problemOf(admin('GET', '/v1/institutions/bank-x/position')),
      problemOf(admin('GET', '/v1/institutions/bank-x/position?currency=EUR&colour=red')),
      problemOf(admin('POST', '/v1/settlement-windows/close', { currency: 'EUR', windowId: 'USD-000000001' })),
      problemOf(admin('POST', '/v1/settlement-windows/close', { currency: 'EUR', windowId: 'EUR-1' })),
      problemOf(admin('GET', '/v1/settlement-windows?state=PENDING')),
      problemOf(admin('GET', '/v1/settlement-windows?cursor=bm9wZQ')),
      problemOf(admin('GET', '/v1/settlement-windows/EUR-999999999')),
      problemOf(admin('GET', '/v1/settlement-windows/not-a-window')),
      problemOf(admin('GET', '/v1/settlement-windows/close')),
      problemOf({ method: 'POST', path: '/v1/settlement-windows/close', body: { currency: 'EUR' }, headers: { 'x-api-key': 'k' }, apiKeyId: 'key-web' }),
      problemOf(admin('PUT', '/v1/institutions/bank-x/limits', { currency: 'EUR', netDebitCap: 5, expectedTransfersPerSecond: 0 })),
      problemOf(admin('PUT', '/v1/institutions/bank-x/limits', { currency: 'EUR', netDebitCap: 5, expectedTransfersPerSecond: 100_001 })),
      problemOf(admin('PUT', '/v1/institutions/bank-x/limits', { currency: 'EUR', netDebitCap: 5, expectedTransfersPerSecond: 2.5 })),
    ]);

    expect(cases.map((entry) => [entry.status, entry.type])).toEqual([
      [422, 'validation-failed'],
      [422, 'validation-failed'],
      [404, 'not-found'],
      [400, 'invalid-query'],
      [400, 'invalid-query'],
      [422, 'validation-failed'],
      [422, 'validation-failed'],
      [400, 'invalid-query'],
      [400, 'invalid-query'],
      [404, 'not-found'],
      [404, 'not-found'],
      [405, 'method-not-allowed'],
      [403, 'forbidden'],
      [422, 'validation-failed'],
      [422, 'validation-failed'],
      [422, 'validation-failed'],
    ]);
    expect(cases[0]?.errors).toEqual([{ pointer: '/netDebitCap', detail: 'must not be negative' }]);
    for (const index of [13, 14, 15]) expect(cases[index]?.errors, `case ${index}`).toEqual([expect.objectContaining({ pointer: '/expectedTransfersPerSecond' })]);
    expect(cases[11]?.allow).toBe('POST');
  });

  it('closes a window once (409 after), and pages through the windows newest first', async () => {
    const first = await ledger.settlement.currentWindowId('CAD');
    const closes = [];
    for (let round = 0; round < 3; round++) closes.push(await call(admin('POST', '/v1/settlement-windows/close', { currency: 'CAD' })));
    const again = await problemOf(admin('POST', '/v1/settlement-windows/close', { currency: 'CAD', windowId: first }));

    const seen: string[] = [];
    let path: string | undefined = '/v1/settlement-windows?currency=CAD&limit=2';
    while (path !== undefined) {
      const page = jsonOf(await call(admin('GET', path))) as { windows: { windowId: string }[]; next?: string };
      seen.push(...page.windows.map((window) => window.windowId));
      path = page.next?.replace(/^\/test/, '');
    }
    const closedOnly = jsonOf(await call(admin('GET', '/v1/settlement-windows?currency=CAD&state=CLOSED'))) as { windows: { windowId: string }[] };

    expect(closes.map((close) => close.statusCode)).toEqual([200, 200, 200]);
    expect(again).toMatchObject({ status: 409, type: 'window-not-open' });
    expect(seen).toEqual(['CAD-000000004', 'CAD-000000003', 'CAD-000000002', 'CAD-000000001']);
    expect(closedOnly.windows.map((window) => window.windowId)).toEqual(['CAD-000000003', 'CAD-000000002', 'CAD-000000001']);
    // A forged cursor beyond the open window is refused, not paged through (or a 500).
    const forged = Buffer.from(JSON.stringify({ query: '["CAD",null]', currency: 'CAD', sequence: 999_999_999 })).toString('base64url');
    expect(await problemOf(admin('GET', `/v1/settlement-windows?currency=CAD&cursor=${forged}`))).toMatchObject({ status: 400, type: 'invalid-query' });
    expect(await problemOf(admin('POST', '/v1/settlement-windows/close', { currency: 'CAD', windowId: 'CAD-000000099' }))).toMatchObject({ status: 404, type: 'not-found' });
  });

  it('replays a retried close (same Idempotency-Key) instead of closing the next window too', async () => {
    const key = randomUUID();
    const first = await call(admin('POST', '/v1/settlement-windows/close', { currency: 'NOK' }, key));
    const retried = await call(admin('POST', '/v1/settlement-windows/close', { currency: 'NOK' }, key));
    const otherBody = await problemOf(admin('POST', '/v1/settlement-windows/close', { currency: 'SEK' }, key));
    const { headers: _headers, ...withoutKey } = admin('POST', '/v1/settlement-windows/close', { currency: 'NOK' });
    const noKey = await problemOf(withoutKey);
    const closedFirst = (jsonOf(first).closed as { windowId: string }).windowId;

    expect([first.statusCode, retried.statusCode]).toEqual([200, 200]);
    expect(retried.headers?.['idempotent-replayed']).toBe('true');
    expect((jsonOf(retried).closed as { windowId: string }).windowId).toBe(closedFirst);
    // The window opened by the first close is still the open one.
    expect(await ledger.settlement.currentWindowId('NOK')).toBe((jsonOf(first).opened as { windowId: string }).windowId);
    expect(otherBody).toMatchObject({ status: 409, type: 'idempotency-key-reused' });
    expect(noKey).toMatchObject({ status: 400, type: 'invalid-header' });
  });
});
