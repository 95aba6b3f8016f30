// Proves the HTTP API contract on the in-memory services (the adapters hold to their contracts on
// the emulators too): every status code it promises, idempotent submission (same key + body
// replays, different body conflicts, a failed publish is re-queued on retry, never answered with a
// cached 202), the transaction lifecycle from RECEIVED to POSTED, admin account routes, and that
// no client mistake produces a 5xx.
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaContext } from '../../lib/local/lambda-context.js';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { DynamoSettlementStore } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { createApiHandler, type ApiHandlerDependencies } from '../../lambdas/api/handler.js';
import { API_BODY_BYTES_MAX } from '../../lambdas/api/http.js';
import type { EventPublisher } from '../../lambdas/core/events/ports.js';
import type { LedgerStore } from '../../lambdas/core/ledger/ports.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import { jsonOf, proxyEvent, type TestRequest } from '../support/api-events.js';
import { expectMoneyConserved, ledgerOf, openFundedAccount, type LedgerHandle } from '../support/ledger-fixtures.js';
import { drainPosting, takeMessages } from '../support/queue-driver.js';
import { withFaults } from '../support/fault.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';
import { clientPortsOf, issueTestClient, type ClientPorts, type TestClient } from '../support/api-clients.js';

let world: MemoryWorld;
let ports: ClientPorts;
/** Two clients of bank-a (WEB and POS). */
let web: TestClient;
let pos: TestClient;
let ledger: DynamoLedgerStore;
let handle: LedgerHandle;
let intake: DynamoIntakeStore;
let publisher: SnsEventPublisher;

beforeAll(async () => {
  world = await createTestWorld('api', 'memory');
  ({ ledger, handle } = ledgerOf(world));
  intake = new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests);
  publisher = new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions);
  ports = clientPortsOf(world);
  [web, pos] = await Promise.all([issueTestClient(ports, 'bank-a', 'WEB'), issueTestClient(ports, 'bank-a', 'POS')]);
});

afterAll(async () => {
  await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
  world.destroy();
});

function api(overrides: Partial<ApiHandlerDependencies> = {}) {
  const handler = createApiHandler({
    ledger,
    intake,
    publisher,
    alerts: new DynamoAlertStore(world.clients.dynamodb, world.bindings.tables.risk),
    settlement: { store: new DynamoSettlementStore(world.clients.dynamodb, world.bindings.tables.ledger), publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.settlements) },
    ...ports,
    logger: new Logger({ serviceName: 'payments-api', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-api', namespace: 'PaymentsBackbone' }),
    ...overrides,
  });
  return (request: TestRequest) => handler(proxyEvent(request), createLambdaContext({ functionName: 'api', timeoutSeconds: 10, memorySizeMb: 512 }));
}

const call = (request: TestRequest) => api()(request);

function submit(body: unknown, key: string, extra: Partial<TestRequest> = {}): TestRequest {
  return {
    method: 'POST',
    path: '/v1/transactions',
    headers: { 'Idempotency-Key': key },
    as: web,
    body,
    ...extra,
  };
}

/** The same request, not signed and without a usage-plan key. */
function unsigned({ as: _client, ...request }: TestRequest): TestRequest {
  return request;
}

async function postingDrain(): Promise<void> {
  await drainPosting(world, ledger);
}

async function fundedPair(balanceMinor = 10_000n) {
  const debtor = await openFundedAccount(handle, { balanceMinor });
  const creditor = await openFundedAccount(handle);
  return { debtor: debtor.accountId, creditor: creditor.accountId };
}

describe('POST /v1/transactions', () => {
  it('accepts a transfer with 202, a Location and RECEIVED, then reports it POSTED once processed', async () => {
    const { debtor, creditor } = await fundedPair();
    const body = { debtorAccountId: debtor, creditorAccountId: creditor, amount: 1_250, currency: 'EUR', reference: 'rent' };

    const accepted = await call(submit(body, 'happy-1'));
    const id = jsonOf(accepted).transactionId as string;
    const received = await call({ method: 'GET', path: `/v1/transactions/${id}`, as: web });
    await postingDrain();
    const posted = await call({ method: 'GET', path: `/v1/transactions/${id}`, as: pos });

    expect(accepted.statusCode).toBe(202);
    expect(jsonOf(accepted)).toEqual({ transactionId: id, status: 'RECEIVED' });
    expect(accepted.headers?.location).toBe(`/test/v1/transactions/${id}`);
    expect(jsonOf(received)).toMatchObject({ status: 'RECEIVED', amount: 1_250, channel: 'WEB' });
    expect(posted.statusCode).toBe(200);
    expect(jsonOf(posted)).toMatchObject({
      transactionId: id,
      status: 'POSTED',
      debtorAccountId: debtor,
      creditorAccountId: creditor,
      amount: 1_250,
      currency: 'EUR',
      channel: 'WEB',
      reference: 'rent',
    });
    expect(jsonOf(posted).decidedAt).toEqual(expect.any(String));
  });

  it('replays the same key and body with the same 202 and queues nothing new', async () => {
    const { debtor, creditor } = await fundedPair();
    const body = { debtorAccountId: debtor, creditorAccountId: creditor, amount: 100, currency: 'EUR' };

    const first = await call(submit(body, 'replay-1'));
    const second = await call(submit(body, 'replay-1'));
    await postingDrain();

    expect(second.statusCode).toBe(202);
    expect(second.body).toBe(first.body);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect((await ledger.getAccount(debtor))?.balanceMinor).toBe(9_900n);
  });

  it('answers 409 for the same key with a different body, and treats another client as another key', async () => {
    const { debtor, creditor } = await fundedPair();
    const body = { debtorAccountId: debtor, creditorAccountId: creditor, amount: 100, currency: 'EUR' };
    await call(submit(body, 'conflict-1'));

    const conflict = await call(submit({ ...body, amount: 101 }, 'conflict-1'));
    const otherClient = await call(submit({ ...body, amount: 101 }, 'conflict-1', { as: pos }));

    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers?.['content-type']).toBe('application/problem+json');
    expect(jsonOf(conflict)).toMatchObject({ status: 409, type: 'urn:payments-backbone:problem:idempotency-key-reused' });
    expect(otherClient.statusCode).toBe(202);
    expect(jsonOf(otherClient).transactionId).not.toBe(jsonOf(conflict).transactionId);
  });

  it('answers 503 when the topic is down, and queues the request when the client retries the same key', async () => {
    const { debtor, creditor } = await fundedPair();
    const body = { debtorAccountId: debtor, creditorAccountId: creditor, amount: 300, currency: 'EUR' };
    const down: EventPublisher = { publish: () => Promise.reject(new Error('injected SNS outage')) };
    await postingDrain(); // whatever earlier tests left on the queue

    const failed = await api({ publisher: down })(submit(body, 'outage-1'));
    const id = jsonOf(failed).transactionId as string;
    const recordedAfterFailure = await intake.get(id);
    // Everything the posting queue holds, taken until it is empty: exact on the in-memory fabric.
    const queuedAfterFailure = await takeMessages(world, world.bindings.queues.posting.url, Number.POSITIVE_INFINITY);
    const retried = await call(submit(body, 'outage-1'));
    await postingDrain();

    expect(failed.statusCode).toBe(503);
    expect(failed.headers?.['retry-after']).toBe('1');
    expect(recordedAfterFailure?.request.amountMinor).toBe(300);
    expect(queuedAfterFailure).toEqual([]);
    expect(retried.statusCode).toBe(202);
    expect((await ledger.getTransfer(id))?.status).toBe('POSTED');
    expect((await ledger.getAccount(debtor))?.balanceMinor).toBe(9_700n);
  });

  it('still detects a reused key once the intake record has expired, from the ledger', async () => {
    const { debtor, creditor } = await fundedPair();
    const body = { debtorAccountId: debtor, creditorAccountId: creditor, amount: 100, currency: 'EUR' };
    const id = jsonOf(await call(submit(body, 'expired-1'))).transactionId as string;
    await postingDrain();
    await world.clients.dynamodb.send(new DeleteItemCommand({ TableName: world.bindings.tables.requests, Key: { pk: { S: `REQUEST#${id}` } } }));

    const modified = await call(submit({ ...body, amount: 999 }, 'expired-1'));
    const claimAfterConflict = await intake.get(id);
    const same = await call(submit(body, 'expired-1'));
    await postingDrain();

    expect(modified.statusCode).toBe(409);
    expect(claimAfterConflict).toBeUndefined();
    expect(same.statusCode).toBe(202);
    expect((await intake.get(id))?.contentHash).toBe((await ledger.getTransfer(id))?.contentHash);
    expect((await ledger.getAccount(debtor))?.balanceMinor).toBe(9_900n);
  });

  it.each([
    ['a missing field', { creditorAccountId: 'acc-b', amount: 1, currency: 'EUR' }, '/debtorAccountId'],
    ['an unknown field', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amount: 1, currency: 'EUR', iban: 'x' }, '/iban'],
    ['a fractional amount', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amount: 1.5, currency: 'EUR' }, '/amount'],
    ['a zero amount', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amount: 0, currency: 'EUR' }, '/amount'],
    ['a negative amount', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amount: -5, currency: 'EUR' }, '/amount'],
    ['an amount over the limit', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amount: 1e12, currency: 'EUR' }, '/amount'],
    ['an amount as a string', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amount: '100', currency: 'EUR' }, '/amount'],
    ['an unknown currency', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-b', amount: 1, currency: 'XYZ' }, '/currency'],
    ['debtor equal to creditor', { debtorAccountId: 'acc-a', creditorAccountId: 'acc-a', amount: 1, currency: 'EUR' }, '/creditorAccountId'],
    ['a funding account as debtor', { debtorAccountId: 'fund-bank-a-eur', creditorAccountId: 'acc-b', amount: 1, currency: 'EUR' }, '/debtorAccountId'],
    ['a funding account as creditor', { debtorAccountId: 'acc-a', creditorAccountId: 'fund-bank-a-eur', amount: 1, currency: 'EUR' }, '/creditorAccountId'],
  ])('answers 422 for %s, pointing at the field', async (_label, body, pointer) => {
    const response = await call(submit(body, `invalid-${pointer}-${Math.random()}`));

    expect(response.statusCode).toBe(422);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    const problem = jsonOf(response);
    expect(problem).toMatchObject({ status: 422, title: 'Request body failed validation' });
    expect((problem.errors as { pointer: string }[]).map((error) => error.pointer)).toContain(pointer);
  });

  it.each([
    ['malformed JSON', () => submit('{"amount": ', 'k', { headers: { 'Idempotency-Key': 'k', 'content-type': 'application/json' } }), 400],
    ['a missing Idempotency-Key', () => submit({}, 'k', { headers: {} }), 400],
    ['an over-long Idempotency-Key', () => submit({}, 'k'.repeat(256)), 400],
    ['a non-printable Idempotency-Key', () => submit({}, 'tab\there'), 400],
    ['a wrong content type', () => submit('amount=1', 'k', { headers: { 'Idempotency-Key': 'k', 'content-type': 'text/plain' } }), 415],
    ['a body over 256 KiB', () => submit({ reference: 'x'.repeat(API_BODY_BYTES_MAX) }, 'k'), 413],
    ['no API key', () => unsigned(submit({}, 'k')), 403],
    ["another client's API key", () => submit({}, 'k', { apiKeyId: pos.usageKeyId }), 403],
    ['no signature', () => ({ ...unsigned(submit({}, 'k')), apiKeyId: web.usageKeyId }), 401],
  ] as const)('answers problem+json for %s', async (_label, request, status) => {
    const response = await call(request());

    expect(response.statusCode).toBe(status);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    const problem = jsonOf(response);
    expect(problem.status).toBe(status);
    expect(problem.type).toMatch(/^urn:payments-backbone:problem:/);
    expect(typeof problem.detail).toBe('string');
  });

  it('never answers a client mistake with a 5xx, whatever the body and headers', async () => {
    const handler = api();
    const request = fc.record({
      body: fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((value) => JSON.stringify({ debtorAccountId: 'acc-a', amount: value }))),
      contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'APPLICATION/JSON', ''),
      // A line break cannot travel in an HTTP header at all (nor be signed).
      key: fc.string({ minLength: 0, maxLength: 300 }).filter((key) => !/[\r\n]/.test(key)),
    });

    await fc.assert(
      fc.asyncProperty(request, async ({ body, contentType, key }) => {
        const response = await handler({
          method: 'POST',
          path: '/v1/transactions',
          headers: { 'Idempotency-Key': key, 'content-type': contentType },
          as: web,
          body,
        });
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });
});

describe('GET routes and routing', () => {
  it('never answers a malformed path id with a 5xx', async () => {
    const handler = api();
    const id = fc.oneof(
      fc.string({ maxLength: 3_000 }),
      fc.constantFrom('%', '%E0%A4%A', '%25', 'a'.repeat(3_000), '..', ' ', '%00'),
    );
    const paths = id.chain((value) =>
      fc.constantFrom(`/v1/transactions/${value}`, `/v1/accounts/${value}`, `/v1/accounts/${value}/deposits`),
    );

    await fc.assert(
      fc.asyncProperty(paths, async (path) => {
        const deposit = path.endsWith('/deposits');
        const response = await handler({
          method: deposit ? 'POST' : 'GET',
          path,
          headers: { 'Idempotency-Key': 'fuzz' },
          ...(deposit ? { role: 'operations' as const } : { as: web }),
          body: { amount: 1, currency: 'EUR' },
        });
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });

  it('answers 404 for an unknown transaction or account', async () => {
    const transaction = await call({ method: 'GET', path: '/v1/transactions/nope', as: web });
    const account = await call({ method: 'GET', path: '/v1/accounts/acc-nope', as: web });

    expect([transaction.statusCode, account.statusCode]).toEqual([404, 404]);
    expect(jsonOf(account)).toMatchObject({ status: 404, instance: '/test/v1/accounts/acc-nope' });
  });

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const unknown = await call({ method: 'GET', path: '/v1/teleport', as: web });
    const wrongMethod = await call({ method: 'DELETE', path: '/v1/transactions', as: web });

    expect(unknown.statusCode).toBe(404);
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers?.allow).toBe('POST');
  });

  it('returns an account with its institution, currency, exact balance and status', async () => {
    const { debtor } = await fundedPair(12_345n);

    const response = await call({ method: 'GET', path: `/v1/accounts/${debtor}`, as: web });

    expect(response.statusCode).toBe(200);
    expect(jsonOf(response)).toMatchObject({ accountId: debtor, institutionId: 'bank-a', currency: 'EUR', balance: 12_345, status: 'ACTIVE' });
  });

  it('answers 500 problem+json without internals when the ledger fails', async () => {
    const broken = withFaults<LedgerStore>(ledger, { getTransfer: () => Promise.reject(new Error('secret internal detail')) });

    const path = `/v1/transactions/${transferIdFor('WEB', 'any')}`;

    const response = await api({ ledger: broken })({ method: 'GET', path, as: web });

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret internal detail');
    expect(jsonOf(response)).toMatchObject({ status: 500, type: 'urn:payments-backbone:problem:internal-error' });
  });
});

describe('admin routes', () => {
  const admin = (request: Omit<TestRequest, 'role'>): TestRequest => ({ ...request, role: 'operations' });

  it('opens an account (201) and refuses the same id again (409)', async () => {
    const body = { accountId: 'acc-admin-1', institutionId: 'bank-z', currency: 'GBP', overdraftLimit: 500 };

    const opened = await call(admin({ method: 'POST', path: '/v1/accounts', body }));
    const again = await call(admin({ method: 'POST', path: '/v1/accounts', body }));

    expect(opened.statusCode).toBe(201);
    expect(opened.headers?.location).toBe('/test/v1/institutions/bank-z/accounts/acc-admin-1');
    expect(jsonOf(opened)).toMatchObject({ accountId: 'acc-admin-1', balance: 0, overdraftLimit: 500, kind: 'CUSTOMER', status: 'ACTIVE' });
    expect(again.statusCode).toBe(409);
  });

  it('refuses admin routes to callers without IAM credentials (403) and bad bodies (422)', async () => {
    const body = { institutionId: 'bank-z', currency: 'GBP' };

    const unsigned = await call({ method: 'POST', path: '/v1/accounts', body, as: web });
    const reserved = await call(admin({ method: 'POST', path: '/v1/accounts', body: { ...body, accountId: 'fund-bank-z-gbp' } }));
    const generated = await call(admin({ method: 'POST', path: '/v1/accounts', body }));

    expect(unsigned.statusCode).toBe(403);
    expect(reserved.statusCode).toBe(422);
    expect(generated.statusCode).toBe(201);
    expect(jsonOf(generated).accountId).toMatch(/^acc-/);
  });

  it('funds an account from its institution funding account, idempotently', async () => {
    const account = await openFundedAccount(handle, { institutionId: 'bank-dep' });
    const deposit = (amount: number) =>
      admin({
        method: 'POST',
        path: `/v1/accounts/${account.accountId}/deposits`,
        headers: { 'Idempotency-Key': `dep-${account.accountId}` },
        body: { amount, currency: 'EUR' },
      });

    const first = await call(deposit(5_000));
    const replay = await call(deposit(5_000));
    const conflict = await call(deposit(6_000));

    expect(first.statusCode).toBe(201);
    expect(jsonOf(first)).toMatchObject({ status: 'POSTED', amount: 5_000, channel: 'ADMIN', debtorAccountId: 'fund-bank-dep-eur' });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect(conflict.statusCode).toBe(409);
    expect((await ledger.getAccount(account.accountId))?.balanceMinor).toBe(5_000n);
    expect((await ledger.getAccount('fund-bank-dep-eur'))?.balanceMinor).toBe(-5_000n);
  });

  it('refuses a deposit into a funding account with 422', async () => {
    await openFundedAccount(handle, { institutionId: 'bank-fdep' });

    const response = await call(
      admin({ method: 'POST', path: '/v1/accounts/fund-bank-fdep-eur/deposits', headers: { 'Idempotency-Key': 'fdep' }, body: { amount: 1, currency: 'EUR' } }),
    );

    expect(response.statusCode).toBe(422);
    expect((await ledger.getAccount('fund-bank-fdep-eur'))?.balanceMinor).toBe(0n);
  });

  it('answers deposits to unknown accounts with 404, wrong currency and closed accounts with 422', async () => {
    const closed = await openFundedAccount(handle, { status: 'CLOSED' });
    const deposit = (accountId: string, currency: string) =>
      admin({ method: 'POST', path: `/v1/accounts/${accountId}/deposits`, headers: { 'Idempotency-Key': `d-${accountId}-${currency}` }, body: { amount: 1, currency } });

    const unknown = await call(deposit('acc-nobody', 'EUR'));
    const wrongCurrency = await call(deposit(closed.accountId, 'USD'));
    const rejected = await call(deposit(closed.accountId, 'EUR'));

    expect(unknown.statusCode).toBe(404);
    expect(wrongCurrency.statusCode).toBe(422);
    expect(rejected.statusCode).toBe(422);
    expect(jsonOf(rejected)).toMatchObject({ rejectionReason: 'ACCOUNT_CLOSED', type: 'urn:payments-backbone:problem:transfer-rejected' });
  });
});
