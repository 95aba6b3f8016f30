// Proves the trust model on the in-memory services (the adapters hold to their contracts on the
// emulators too): a client moves and reads only its own institution's customers' money (API and
// posting rules), every channel request is signed, fresh and untampered, a revoked client or a
// rotated-out key is refused at once, idempotency is per client, amounts are plain integer
// literals, duplicate JSON members are refused, and every admin change records who made it. Each
// case is one finding of the review that opened issue 9.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { transactionRequested } from '../../lambdas/core/events/transfer-events.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import { localAdminArn } from '../../lib/local/api-server.js';
import { clientPortsOf, issueTestClient, testApiEventHandler, testApiHandler, type ClientPorts, type TestClient } from '../support/api-clients.js';
import { jsonOf, proxyEvent, type TestRequest } from '../support/api-events.js';
import { expectMoneyConserved, ledgerOf, openFundedAccount, TEST_SETTLEMENT_ACTOR, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { drainPosting } from '../support/queue-driver.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';

let world: MemoryWorld;
let ledger: DynamoLedgerStore;
let handle: LedgerHandle;
let ports: ClientPorts;
let call: (request: TestRequest) => Promise<APIGatewayProxyResult>;
let callEvent: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
/** bank-a's WEB client, bank-a's POS client, bank-b's WEB client. */
let aWeb: TestClient;
let aPos: TestClient;
let bWeb: TestClient;
/** Funded customers: two at bank-a, one at bank-b. */
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  world = await createTestWorld('trust', 'memory');
  ({ ledger, handle } = ledgerOf(world));
  ports = clientPortsOf(world);
  call = testApiHandler(world, ports, { ledger });
  callEvent = testApiEventHandler(world, ports, { ledger });
  [aWeb, aPos, bWeb] = await Promise.all([issueTestClient(ports, 'bank-a', 'WEB'), issueTestClient(ports, 'bank-a', 'POS'), issueTestClient(ports, 'bank-b', 'WEB')]);
  [alice, bob, carol] = (
    await Promise.all([
      openFundedAccount(handle, { institutionId: 'bank-a', balanceMinor: 1_000_000n }),
      openFundedAccount(handle, { institutionId: 'bank-a', balanceMinor: 1_000_000n }),
      openFundedAccount(handle, { institutionId: 'bank-b', balanceMinor: 1_000_000n }),
    ])
  ).map((account) => account.accountId) as [string, string, string];
  // Both banks may send interbank (an institution without a cap may not).
  for (const bank of ['bank-a', 'bank-b']) await ledger.settlement.setNetDebitCap(bank, 'EUR', 100_000_000n, TEST_SETTLEMENT_ACTOR);
});

afterAll(async () => {
  await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
  world.destroy();
});

const submit = (as: TestClient, body: unknown, key: string = randomUUID(), extra: Partial<TestRequest> = {}): TestRequest => ({
  method: 'POST',
  path: '/v1/transactions',
  headers: { 'Idempotency-Key': key },
  as,
  body,
  ...extra,
});
const read = (as: TestClient, path: string, extra: Partial<TestRequest> = {}): TestRequest => ({ method: 'GET', path, as, ...extra });
const problemType = (response: APIGatewayProxyResult): string => String(jsonOf(response).type).split(':').at(-1) ?? '';

async function postingDrain(): Promise<void> {
  await drainPosting(world, ledger);
}

describe('a client moves only its own institution’s money', () => {
  it("refuses a debit of another institution's account with 403, before anything is recorded", async () => {
    const key = randomUUID();
    const response = await call(submit(aWeb, { debtorAccountId: carol, creditorAccountId: alice, amount: 150_000, currency: 'EUR' }, key));
    const intake = new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests);

    expect(response.statusCode).toBe(403);
    expect(problemType(response)).toBe('debtor-not-permitted');
    expect(await intake.get(transferIdFor(aWeb.credentials.clientId, key))).toBeUndefined();
    expect((await ledger.getAccount(carol))?.balanceMinor).toBe(1_000_000n);
  });

  it('answers an unknown debtor and a funding account exactly as another institution’s account', async () => {
    const foreign = await call(submit(aWeb, { debtorAccountId: carol, creditorAccountId: alice, amount: 1, currency: 'EUR' }));
    const unknown = await call(submit(aWeb, { debtorAccountId: 'acc-not-there', creditorAccountId: alice, amount: 1, currency: 'EUR' }));

    expect([foreign.statusCode, unknown.statusCode]).toEqual([403, 403]);
    expect(jsonOf(unknown).errors).toEqual(jsonOf(foreign).errors);
  });

  it('rejects a posting that carries another institution’s debit, whatever path it came by, and moves nothing', async () => {
    const request = transferRequest(carol, alice, 500, { initiatingInstitutionId: 'bank-a', clientId: aWeb.credentials.clientId });
    await new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions).publish(
      transactionRequested(request, { causationId: 'forged', occurredAt: new Date().toISOString() }),
    );

    await postingDrain();

    expect((await ledger.getTransfer(request.transferId))).toMatchObject({ status: 'REJECTED', rejectionReason: 'DEBTOR_NOT_PERMITTED' });
    expect((await ledger.getAccount(carol))?.balanceMinor).toBe(1_000_000n);
  });

  it('property: no accepted request ever debits an account outside the client’s institution', async () => {
    const clients = [aWeb, aPos, bWeb];
    const accounts = [alice, bob, carol, 'acc-not-there', 'fund-bank-a-eur'];
    const request = fc.record({ client: fc.nat(clients.length - 1), debtor: fc.nat(accounts.length - 1), creditor: fc.nat(accounts.length - 1), amount: fc.integer({ min: 1, max: 500 }) });
    const accepted: { transactionId: string; institutionId: string }[] = [];

    await fc.assert(
      fc.asyncProperty(request, async ({ client, debtor, creditor, amount }) => {
        const as = clients[client]!;
        const response = await call(submit(as, { debtorAccountId: accounts[debtor], creditorAccountId: accounts[creditor], amount, currency: 'EUR' }));
        expect(response.statusCode).toBeLessThan(500);
        if (response.statusCode === 202) accepted.push({ transactionId: String(jsonOf(response).transactionId), institutionId: as.credentials.institutionId });
      }),
      { numRuns: 40 },
    );
    await postingDrain();

    expect(accepted.length).toBeGreaterThan(0);
    for (const { transactionId, institutionId } of accepted) {
      const transfer = await ledger.getTransfer(transactionId);
      const debtor = await ledger.getAccount(transfer?.debtorAccountId ?? '');
      expect(transfer?.status, transactionId).toBeDefined();
      if (transfer?.status === 'POSTED') expect(debtor?.institutionId).toBe(institutionId);
    }
  });
});

describe('a client reads only its own institution’s money', () => {
  it('answers another institution’s account, and any funding account, with 404 like an unknown one', async () => {
    const own = await call(read(aWeb, `/v1/accounts/${alice}`));
    const foreign = await call(read(aWeb, `/v1/accounts/${carol}`));
    const funding = await call(read(aWeb, '/v1/accounts/fund-bank-a-eur'));
    const unknown = await call(read(aWeb, '/v1/accounts/acc-not-there'));

    expect([own.statusCode, foreign.statusCode, funding.statusCode, unknown.statusCode]).toEqual([200, 404, 404, 404]);
    expect(jsonOf(foreign).title).toBe(jsonOf(unknown).title);
  });

  it('shows a transfer to both sides, the reference only to the debtor’s, and to nobody else', async () => {
    const accepted = await call(submit(aWeb, { debtorAccountId: alice, creditorAccountId: carol, amount: 100, currency: 'EUR', reference: 'invoice 42, Alice Smith' }));
    const intrabank = await call(submit(aWeb, { debtorAccountId: alice, creditorAccountId: bob, amount: 100, currency: 'EUR', reference: 'private' }));
    await postingDrain();
    const id = String(jsonOf(accepted).transactionId);

    const debtorSide = await call(read(aPos, `/v1/transactions/${id}`));
    const creditorSide = await call(read(bWeb, `/v1/transactions/${id}`));
    const stranger = await call(read(bWeb, `/v1/transactions/${String(jsonOf(intrabank).transactionId)}`));

    expect(jsonOf(debtorSide)).toMatchObject({ status: 'POSTED', reference: 'invoice 42, Alice Smith' });
    expect(creditorSide.statusCode).toBe(200);
    expect(jsonOf(creditorSide)).not.toHaveProperty('reference');
    expect(jsonOf(creditorSide)).toMatchObject({ status: 'POSTED', amount: 100 });
    expect(stranger.statusCode).toBe(404);
  });
});

describe('idempotency is per client', () => {
  it('treats the same Idempotency-Key from two clients as two requests, and the same body on two channels as two transfers', async () => {
    const body = { debtorAccountId: alice, creditorAccountId: bob, amount: 77, currency: 'EUR' };
    const key = `till-receipt-${randomUUID()}`;

    const web = await call(submit(aWeb, body, key));
    const pos = await call(submit(aPos, body, key));
    const webAgain = await call(submit(aWeb, body, key));

    expect([web.statusCode, pos.statusCode, webAgain.statusCode]).toEqual([202, 202, 202]);
    expect(jsonOf(pos).transactionId).not.toBe(jsonOf(web).transactionId);
    expect(jsonOf(webAgain).transactionId).toBe(jsonOf(web).transactionId);
    expect(webAgain.headers?.['idempotent-replayed']).toBe('true');
  });
});

describe('request signatures', () => {
  const body = (): Record<string, unknown> => ({ debtorAccountId: alice, creditorAccountId: bob, amount: 1, currency: 'EUR' });
  const withHeader = (request: TestRequest, name: string, value: string): TestRequest => ({ ...request, headers: { ...request.headers, [name]: value } });

  it('refuses a request without a signature (401 signature-required), with WWW-Authenticate', async () => {
    const { as: _as, ...unsigned } = read(aWeb, `/v1/accounts/${alice}`);
    const response = await call({ ...unsigned, apiKeyId: aWeb.usageKeyId });

    expect([response.statusCode, problemType(response)]).toEqual([401, 'signature-required']);
    expect(response.headers?.['www-authenticate']).toBe('Signature');
  });

  it('refuses a signature that does not verify: signed for another path, or garbled', async () => {
    const signedFor = read(aWeb, `/v1/accounts/${alice}`);
    const signed = proxyEvent(signedFor);
    const replayedElsewhere = await callEvent({ ...proxyEvent({ method: 'GET', path: `/v1/accounts/${bob}`, apiKeyId: aWeb.usageKeyId }), headers: signed.headers });
    const garbled = await call(withHeader(signedFor, 'signature', 'sig1=:AAAA:'));

    expect([replayedElsewhere.statusCode, problemType(replayedElsewhere)]).toEqual([401, 'invalid-signature']);
    expect([garbled.statusCode, problemType(garbled)]).toEqual([401, 'invalid-signature']);
  });

  it('refuses a signature made with another client’s key under this client’s key id', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const forger: TestClient = { ...aWeb, credentials: { ...aWeb.credentials, privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() } };
    const withBsKey: TestClient = { ...aWeb, credentials: { ...aWeb.credentials, privateKey: bWeb.credentials.privateKey } };

    const forged = await call(submit(forger, body()));
    const crossKey = await call(submit(withBsKey, body()));

    expect([forged.statusCode, crossKey.statusCode]).toEqual([401, 401]);
  });

  it('refuses a signature created more than 300 s ago or ahead, and accepts one 300 s old', async () => {
    // The server's clock is fixed for this test: no margin depends on how fast it runs.
    const now = Date.now();
    const atNow = testApiHandler(world, ports, { ledger, now: () => new Date(now) });
    const old = await atNow(read(aWeb, `/v1/accounts/${alice}`, { signedAt: new Date(now - 301_000) }));
    const future = await atNow(read(aWeb, `/v1/accounts/${alice}`, { signedAt: new Date(now + 301_000) }));
    const fresh = await atNow(read(aWeb, `/v1/accounts/${alice}`, { signedAt: new Date(now - 300_000) }));

    expect([old.statusCode, problemType(old)]).toEqual([401, 'signature-expired']);
    expect([future.statusCode, problemType(future)]).toEqual([401, 'signature-expired']);
    expect(fresh.statusCode).toBe(200);
  });

  it('refuses a tampered body (400) and a tampered Content-Digest (401), and moves nothing', async () => {
    const signed = submit(aWeb, body());
    const event = proxyEvent(signed);
    const tamperedBody = await callEvent({ ...event, body: JSON.stringify({ ...body(), amount: 900_000 }) });
    const digestOfOther = proxyEvent(submit(aWeb, { ...body(), amount: 900_000 })).headers['content-digest'] ?? '';
    const tamperedDigest = await callEvent({ ...event, body: JSON.stringify({ ...body(), amount: 900_000 }), headers: { ...event.headers, 'content-digest': digestOfOther } });

    expect([tamperedBody.statusCode, problemType(tamperedBody)]).toEqual([400, 'content-digest-mismatch']);
    expect([tamperedDigest.statusCode, problemType(tamperedDigest)]).toEqual([401, 'invalid-signature']);
  });

  it('absorbs a captured write replayed inside the window (idempotency) and refuses it after', async () => {
    const captured = proxyEvent(submit(aWeb, body()));
    const original = await callEvent(captured);
    const replayed = await callEvent(captured);
    const late = await testApiHandler(world, ports, { ledger, now: () => new Date(Date.now() + 301_000) })(submit(aWeb, body(), 'late', { signedAt: new Date() }));

    expect([original.statusCode, replayed.statusCode]).toEqual([202, 202]);
    expect(replayed.headers?.['idempotent-replayed']).toBe('true');
    expect(jsonOf(replayed).transactionId).toBe(jsonOf(original).transactionId);
    expect([late.statusCode, problemType(late)]).toEqual([401, 'signature-expired']);
  });

  it('answers the same whether a key id exists or not: a wrong key, an expired signature, an uncovered header', async () => {
    const unknownId: TestClient = { ...aWeb, credentials: { ...aWeb.credentials, keyId: 'cli_aaaaaaaaaaaaaaaaaaaa.1' } };
    const wrongKey: TestClient = { ...aWeb, credentials: { ...aWeb.credentials, keyId: bWeb.credentials.keyId } };
    // The server's clock is fixed, so both expired answers are computed at the same instant.
    const now = Date.now();
    const hourAgo = new Date(now - 3_600_000);
    const atNow = testApiHandler(world, ports, { ledger, now: () => new Date(now) });
    const answer = async (request: TestRequest) => {
      const response = await atNow(request);
      return [response.statusCode, problemType(response), jsonOf(response).detail];
    };

    const [unknown, wrong] = await Promise.all([answer(read(unknownId, `/v1/accounts/${alice}`)), answer(read(wrongKey, `/v1/accounts/${alice}`))]);
    const [expiredUnknown, expiredKnown] = await Promise.all([
      answer(read(unknownId, `/v1/accounts/${alice}`, { signedAt: hourAgo })),
      answer(read(bWeb, `/v1/accounts/${alice}`, { signedAt: hourAgo })),
    ]);

    expect(unknown).toEqual(wrong);
    expect(unknown[0]).toBe(401);
    expect(expiredUnknown).toEqual(expiredKnown);
    expect(expiredUnknown[1]).toBe('signature-expired');
  });

  it("refuses a request whose API key is another client's", async () => {
    const response = await call(read(aWeb, `/v1/accounts/${alice}`, { apiKeyId: aPos.usageKeyId }));

    expect([response.statusCode, problemType(response)]).toEqual([403, 'invalid-api-key']);
  });
});

describe('API clients over the admin API (operations role)', () => {
  const asOperations = (method: string, path: string, body?: unknown): TestRequest => ({ method, path, role: 'operations', ...(body !== undefined ? { body } : {}) });

  it('issues a client with a generated key once, lists it, and records who issued it', async () => {
    const issued = await call(asOperations('POST', '/v1/institutions/bank-new/clients', { channel: 'MOBILE' }));
    const listed = await call(asOperations('GET', '/v1/institutions/bank-new/clients'));
    const body = jsonOf(issued);

    expect(issued.statusCode).toBe(201);
    expect(issued.headers?.['cache-control']).toBe('no-store');
    expect(body).toMatchObject({ institutionId: 'bank-new', channel: 'MOBILE', status: 'ACTIVE', createdBy: { role: 'operations', principal: localAdminArn('operations') } });
    expect(String(body.privateKey)).toContain('BEGIN PRIVATE KEY');
    expect(String(body.apiKey)).toMatch(/^pk_local_/);
    expect(jsonOf(listed).clients).toEqual([expect.objectContaining({ clientId: body.clientId, status: 'ACTIVE' })]);
    expect(JSON.stringify(jsonOf(listed))).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(jsonOf(listed))).not.toContain(String(body.apiKey));
  });

  it('takes an institution’s own Ed25519 public key and hands out no private key; refuses anything else with 422', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();

    const own = await call(asOperations('POST', '/v1/institutions/bank-own/clients', { channel: 'POS', publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() }));
    const notEd25519 = await call(asOperations('POST', '/v1/institutions/bank-own/clients', { channel: 'POS', publicKey: rsa }));
    const notPem = await call(asOperations('POST', '/v1/institutions/bank-own/clients', { channel: 'POS', publicKey: 'hello' }));
    const privatePem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const aPrivateKey = await call(asOperations('POST', '/v1/institutions/bank-own/clients', { channel: 'POS', publicKey: privatePem }));

    expect(own.statusCode).toBe(201);
    expect(jsonOf(own)).not.toHaveProperty('privateKey');
    expect([notEd25519.statusCode, notPem.statusCode, aPrivateKey.statusCode]).toEqual([422, 422, 422]);
    expect(jsonOf(notEd25519).errors).toEqual([expect.objectContaining({ pointer: '/publicKey' })]);
  });

  it('refuses a revoked client at once, everywhere, and answers a repeated revoke as a replay', async () => {
    const client = await issueTestClient(ports, 'bank-a', 'WEB');
    const before = await call(read(client, `/v1/accounts/${alice}`));

    const revoked = await call(asOperations('POST', `/v1/institutions/bank-a/clients/${client.credentials.clientId}/revoke`));
    const after = await call(read(client, `/v1/accounts/${alice}`));
    const write = await call(submit(client, { debtorAccountId: alice, creditorAccountId: bob, amount: 1, currency: 'EUR' }));
    const again = await call(asOperations('POST', `/v1/institutions/bank-a/clients/${client.credentials.clientId}/revoke`));
    const rotate = await call(asOperations('POST', `/v1/institutions/bank-a/clients/${client.credentials.clientId}/rotate`, {}));

    expect(before.statusCode).toBe(200);
    expect(jsonOf(revoked)).toMatchObject({ status: 'REVOKED', revokedBy: { role: 'operations', principal: localAdminArn('operations') } });
    expect([after.statusCode, write.statusCode]).toEqual([401, 401]);
    expect(again.headers?.['idempotent-replayed']).toBe('true');
    expect([rotate.statusCode, problemType(rotate)]).toEqual([409, 'client-revoked']);
    // Its usage-plan key is disabled too: the gateway refuses it before the function runs.
    expect(ports.usageKeys.resolve(client.credentials.apiKey)).toBeUndefined();
  });

  it("answers another institution's client as unknown: no revoke, no rotate across institutions", async () => {
    const revoke = await call(asOperations('POST', `/v1/institutions/bank-b/clients/${aWeb.credentials.clientId}/revoke`));
    const rotate = await call(asOperations('POST', `/v1/institutions/bank-b/clients/${aWeb.credentials.clientId}/rotate`, {}));
    const stillWorks = await call(read(aWeb, `/v1/accounts/${alice}`));

    expect([revoke.statusCode, rotate.statusCode, stillWorks.statusCode]).toEqual([404, 404, 200]);
  });

  it('rotates a key: the new one signs at once, the old one until its grace period ends, never after', async () => {
    const client = await issueTestClient(ports, 'bank-a', 'POS');
    const rotated = await call(asOperations('POST', `/v1/institutions/bank-a/clients/${client.credentials.clientId}/rotate`, { previousKeyValidSeconds: 60 }));
    const fresh: TestClient = { ...client, credentials: { ...client.credentials, keyId: String(jsonOf(rotated).keyId), privateKey: String(jsonOf(rotated).privateKey) } };
    const later = testApiHandler(world, ports, { ledger, now: () => new Date(Date.now() + 61_000) });

    const oldNow = await call(read(client, `/v1/accounts/${alice}`));
    const newNow = await call(read(fresh, `/v1/accounts/${alice}`));
    const oldLater = await later(read(client, `/v1/accounts/${alice}`, { signedAt: new Date(Date.now() + 61_000) }));
    const newLater = await later(read(fresh, `/v1/accounts/${alice}`, { signedAt: new Date(Date.now() + 61_000) }));

    expect(rotated.statusCode).toBe(200);
    expect(jsonOf(rotated)).toMatchObject({ keyId: `${client.credentials.clientId}.2`, rotatedBy: { role: 'operations' } });
    expect([oldNow.statusCode, newNow.statusCode, oldLater.statusCode, newLater.statusCode]).toEqual([200, 200, 401, 200]);
  });
});

describe('amounts and JSON members', () => {
  it.each(['1250.00000000000001', '1e2', '1.0E+3', '0.1e1', '12.5', '"100"', '9007199254740993'])('refuses the amount literal %s with 422 saying why', async (literal) => {
    const text = `{"debtorAccountId":"${alice}","creditorAccountId":"${bob}","amount":${literal},"currency":"EUR"}`;

    const response = await call(submit(aWeb, text, randomUUID(), { headers: { 'Idempotency-Key': randomUUID(), 'content-type': 'application/json' } }));

    expect(response.statusCode).toBe(422);
    const [error] = jsonOf(response).errors as { pointer: string; detail: string }[];
    expect(error?.pointer).toBe('/amount');
    expect(error?.detail).toMatch(/plain JSON integer literal|JSON integer in minor units|must not exceed/);
    expect(error?.detail).not.toBe('is required');
  });

  it('refuses an Idempotency-Key with outer spaces (the signature covers it trimmed) and a reference that is not well-formed text', async () => {
    const body = { debtorAccountId: alice, creditorAccountId: bob, amount: 1, currency: 'EUR' };
    const spaced = await call(submit(aWeb, body, 'till-1 '));
    const loneSurrogate = await call(submit(aWeb, `{"debtorAccountId":"${alice}","creditorAccountId":"${bob}","amount":1,"currency":"EUR","reference":"\\ud800"}`, randomUUID(), { headers: { 'Idempotency-Key': randomUUID(), 'content-type': 'application/json' } }));

    expect([spaced.statusCode, problemType(spaced)]).toEqual([400, 'invalid-header']);
    expect(loneSurrogate.statusCode).toBe(422);
    expect(jsonOf(loneSurrogate).errors).toEqual([{ pointer: '/reference', detail: 'must be well-formed Unicode text' }]);
  });

  it('refuses a body with a duplicate member name with 400, naming it', async () => {
    const text = `{"debtorAccountId":"${alice}","creditorAccountId":"${bob}","amount":1,"amount":900000,"currency":"EUR"}`;

    const response = await call(submit(aWeb, text, randomUUID(), { headers: { 'Idempotency-Key': randomUUID(), 'content-type': 'application/json' } }));

    expect([response.statusCode, problemType(response)]).toEqual([400, 'duplicate-json-member']);
    expect(jsonOf(response).errors).toEqual([{ pointer: '/amount', detail: 'appears more than once' }]);
  });
});

describe('admin changes record who made them', () => {
  it('keeps the role and principal on the account, the deposit, the cap and the closed window', async () => {
    const opened = await call({ method: 'POST', path: '/v1/accounts', role: 'operations', body: { institutionId: 'bank-audit', currency: 'EUR' } });
    const accountId = String(jsonOf(opened).accountId);
    const deposit = await call({ method: 'POST', path: `/v1/accounts/${accountId}/deposits`, role: 'operations', headers: { 'Idempotency-Key': randomUUID() }, body: { amount: 100, currency: 'EUR' } });
    const cap = await call({ method: 'PUT', path: '/v1/institutions/bank-audit/limits', role: 'settlement', body: { currency: 'EUR', netDebitCap: 1_000 } });
    const close = await call({ method: 'POST', path: '/v1/settlement-windows/close', role: 'settlement', headers: { 'Idempotency-Key': randomUUID() }, body: { currency: 'GBP' } });
    const account = await call({ method: 'GET', path: `/v1/institutions/bank-audit/accounts/${accountId}`, role: 'operations' });

    expect(jsonOf(opened).openedBy).toEqual({ role: 'operations', principal: localAdminArn('operations') });
    expect(jsonOf(account).openedBy).toEqual({ role: 'operations', principal: localAdminArn('operations') });
    expect((await ledger.getTransfer(String(jsonOf(deposit).transactionId)))?.initiatedBy).toEqual({ role: 'operations', principal: localAdminArn('operations') });
    expect(jsonOf(cap).updatedBy).toEqual({ role: 'settlement', principal: localAdminArn('settlement') });
    expect((jsonOf(close).closed as Record<string, unknown>).closedBy).toEqual({ role: 'settlement', principal: localAdminArn('settlement') });
  });
});
