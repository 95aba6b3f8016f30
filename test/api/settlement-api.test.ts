// Proves the settlement routes' contract against DynamoDB Local: caps are set and read back with
// the position and headroom; every client mistake is a 4xx problem (bad bodies 422, bad queries
// 400, unknown ids 404, a closed window 409); a literal path beats a window id; listings page.
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaContext } from '../../lib/local/lambda-context.js';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { createApiHandler } from '../../lambdas/api/handler.js';
import { jsonOf, proxyEvent, type TestRequest } from '../support/api-events.js';
import { ledgerOf } from '../support/ledger-fixtures.js';
import { createTestWorld, type TestWorld } from '../support/world.js';

const ADMIN_ARN = 'arn:aws:iam::000000000000:role/payments-admin';

let world: TestWorld;
let ledger: DynamoLedgerStore;
let call: (request: TestRequest) => ReturnType<ReturnType<typeof createApiHandler>>;

beforeAll(async () => {
  world = await createTestWorld('settleapi');
  ({ ledger } = ledgerOf(world));
  const handler = createApiHandler({
    ledger,
    intake: new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests),
    publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions),
    alerts: new DynamoAlertStore(world.clients.dynamodb, world.bindings.tables.risk),
    settlement: { store: ledger.settlement, publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.settlements) },
    channelsByApiKeyId: new Map([['key-web', 'WEB']]),
    logger: new Logger({ serviceName: 'payments-api', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-api', namespace: 'PaymentsBackbone' }),
  });
  call = (request) => handler(proxyEvent(request), createLambdaContext({ functionName: 'api', timeoutSeconds: 10, memorySizeMb: 512 }));
});

afterAll(() => world.destroy());

const admin = (method: string, path: string, body?: unknown): TestRequest => ({ method, path, userArn: ADMIN_ARN, ...(body !== undefined ? { body } : {}) });
const problemOf = async (request: TestRequest) => {
  const result = await call(request);
  return { status: result.statusCode, type: String(jsonOf(result).type).split(':').at(-1), errors: jsonOf(result).errors, allow: result.headers?.allow };
};

describe('settlement routes', () => {
  it('sets a cap and reads the position with its headroom', async () => {
    const bank = `bank-${randomUUID().slice(0, 6)}`;

    const set = await call(admin('PUT', `/v1/institutions/${bank}/limits`, { currency: 'EUR', netDebitCap: 250_000 }));
    const position = await call(admin('GET', `/v1/institutions/${bank}/position?currency=EUR`));

    expect(set.statusCode).toBe(200);
    expect(jsonOf(set)).toEqual({ institutionId: bank, currency: 'EUR', netDebitCap: 250_000 });
    expect(jsonOf(position)).toMatchObject({ institutionId: bank, currency: 'EUR', position: 0, netDebitCap: 250_000, headroom: 250_000 });
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
    ]);
    expect(cases[0]?.errors).toEqual([{ pointer: '/netDebitCap', detail: 'must not be negative' }]);
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
});
