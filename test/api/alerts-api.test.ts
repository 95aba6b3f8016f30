// Proves the alert and freeze routes of the HTTP API on the in-memory services (the adapters hold
// to their contracts on DynamoDB Local too): listing with filters and cursor pagination, reading
// one alert, resolving (admin; idempotent; conflicting resolution is 409), unfreezing (admin;
// 404/409 where due), and that every client mistake is a 4xx problem.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { eventIdFor } from '../../lambdas/core/events/envelope.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import type { AlertRecord } from '../../lambdas/core/risk/alerts.js';
import type { Severity } from '../../lambdas/core/risk/severity.js';
import { jsonOf, type TestRequest } from '../support/api-events.js';
import { ledgerOf, openFundedAccount, type LedgerHandle } from '../support/ledger-fixtures.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';
import { localAdminArn } from '../../lib/local/api-server.js';
import { clientPortsOf, issueTestClient, testApiHandler, type TestClient } from '../support/api-clients.js';
import type { APIGatewayProxyResult } from 'aws-lambda';


let world: MemoryWorld;
let ledger: DynamoLedgerStore;
let handle: LedgerHandle;
let alerts: DynamoAlertStore;
let call: (request: TestRequest) => Promise<APIGatewayProxyResult>;
let web: TestClient;

beforeAll(async () => {
  world = await createTestWorld('alertsapi', 'memory');
  ({ ledger, handle } = ledgerOf(world));
  alerts = new DynamoAlertStore(world.clients.dynamodb, world.bindings.tables.risk);
  const ports = clientPortsOf(world);
  web = await issueTestClient(ports, 'bank-a');
  call = testApiHandler(world, ports, { ledger, alerts });
});

afterAll(() => world.destroy());

const asChannel = (method: string, path: string, body?: unknown): TestRequest => ({
  method,
  path,
  as: web,
  ...(body !== undefined ? { body } : {}),
});
/** Alerts and unfreezing are the risk role's. */
const asAdmin = (method: string, path: string, body?: unknown): TestRequest => ({ method, path, role: 'risk', ...(body !== undefined ? { body } : {}) });

async function storedAlert(accountId: string, severity: Severity, second: number): Promise<AlertRecord> {
  const transactionId = transferIdFor('WEB', randomUUID());
  const { alert } = await alerts.recordAlert(
    {
      alertId: eventIdFor.alert(transactionId),
      transactionId,
      accountId,
      severity,
      totalWeight: 60,
      rulesHit: [{ ruleId: 'REPEATED_REJECTIONS', weight: 60, evidence: { rejectionsByAccount: 5, perAccountMin: 5 } }],
      amountMinor: 1_500,
      currency: 'EUR',
      channel: 'WEB',
      raisedAt: new Date(Date.UTC(2026, 10, 20, 8, 0, second)).toISOString(),
    },
    new Date().toISOString(),
  );
  return alert;
}

describe('GET /v1/alerts', () => {
  it('lists alerts newest first, filtered, and follows the next link to the last page', async () => {
    const accountId = `acc-${randomUUID().slice(0, 8)}`;
    const stored = [await storedAlert(accountId, 'HIGH', 1), await storedAlert(accountId, 'LOW', 2), await storedAlert(accountId, 'HIGH', 3)];
    await storedAlert(`acc-other-${randomUUID().slice(0, 6)}`, 'HIGH', 4);

    const first = await call(asAdmin('GET', `/v1/alerts?accountId=${accountId}&severity=HIGH&limit=1`));
    const firstBody = jsonOf(first) as { alerts: { alertId: string }[]; next?: string; cursor?: string };
    const next = firstBody.next ?? '';
    const second = await call(asAdmin('GET', next.replace(/^\/test/, '')));
    const secondBody = jsonOf(second) as { alerts: { alertId: string; status: string; rulesHit: unknown[] }[]; next?: string };
    const third = secondBody.next === undefined ? undefined : jsonOf(await call(asAdmin('GET', secondBody.next.replace(/^\/test/, ''))));

    expect(first.statusCode).toBe(200);
    expect(firstBody.alerts.map((alert) => alert.alertId)).toEqual([stored[2]?.alertId]);
    expect(next).toMatch(/^\/test\/v1\/alerts\?/);
    expect(next).toContain('severity=HIGH');
    expect(secondBody.alerts.map((alert) => alert.alertId)).toEqual([stored[0]?.alertId]);
    expect(secondBody.alerts[0]).toMatchObject({ status: 'OPEN', rulesHit: [{ ruleId: 'REPEATED_REJECTIONS' }] });
    // The last page may still carry a cursor (the store could not know nothing follows); it is empty.
    expect(third === undefined || (third.alerts as unknown[]).length === 0).toBe(true);
  });

  it.each([
    ['severity=APOCALYPTIC', '/severity'],
    ['status=CLOSED', '/status'],
    ['limit=0', '/limit'],
    ['limit=101', '/limit'],
    ['limit=ten', '/limit'],
    ['accountId=a', '/accountId'],
    ['colour=red', '/colour'],
    ['cursor=not-a-cursor', '/cursor'],
  ])('answers ?%s with 400 invalid-query naming %s', async (query, pointer) => {
    const result = await call(asAdmin('GET', `/v1/alerts?${query}`));

    expect(result.statusCode).toBe(400);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(jsonOf(result)).toMatchObject({ type: 'urn:payments-backbone:problem:invalid-query', status: 400, errors: [{ pointer }] });
  });

  it('refuses a cursor reused with other filters', async () => {
    const accountId = `acc-${randomUUID().slice(0, 8)}`;
    await storedAlert(accountId, 'MEDIUM', 5);
    await storedAlert(accountId, 'MEDIUM', 6);
    const { cursor } = jsonOf(await call(asAdmin('GET', `/v1/alerts?accountId=${accountId}&limit=1`))) as { cursor: string };

    const result = await call(asAdmin('GET', `/v1/alerts?status=OPEN&limit=1&cursor=${cursor}`));

    expect(result.statusCode).toBe(400);
    expect(jsonOf(result)).toMatchObject({ errors: [{ pointer: '/cursor', detail: 'the cursor belongs to a query with other filters' }] });
  });
});

describe('GET /v1/alerts/{id}', () => {
  it('returns the alert, and 404 for an unknown or malformed id', async () => {
    const alert = await storedAlert(`acc-${randomUUID().slice(0, 8)}`, 'CRITICAL', 7);

    const found = await call(asAdmin('GET', `/v1/alerts/${alert.alertId}`));
    const unknown = await call(asAdmin('GET', `/v1/alerts/${eventIdFor.alert(transferIdFor('WEB', randomUUID()))}`));
    const malformed = await call(asAdmin('GET', `/v1/alerts/${'x'.repeat(2_000)}`));

    expect(found.statusCode).toBe(200);
    expect(jsonOf(found)).toMatchObject({ alertId: alert.alertId, severity: 'CRITICAL', status: 'OPEN', amount: 1_500, currency: 'EUR' });
    expect([unknown.statusCode, malformed.statusCode]).toEqual([404, 404]);
  });
});

describe('POST /v1/alerts/{id}/resolve', () => {
  it('resolves once, replays the same resolution, and answers 409 to a different one', async () => {
    const alert = await storedAlert(`acc-${randomUUID().slice(0, 8)}`, 'HIGH', 8);
    const path = `/v1/alerts/${alert.alertId}/resolve`;
    const body = { resolution: 'CONFIRMED_FRAUD', note: 'customer confirmed the card was stolen' };

    const resolved = await call(asAdmin('POST', path, body));
    const replayed = await call(asAdmin('POST', path, body));
    const conflicting = await call(asAdmin('POST', path, { ...body, resolution: 'FALSE_POSITIVE' }));
    const listed = jsonOf(await call(asAdmin('GET', `/v1/alerts?accountId=${alert.accountId}&status=RESOLVED`)));

    expect(resolved.statusCode).toBe(200);
    expect(jsonOf(resolved)).toMatchObject({
      status: 'RESOLVED',
      resolution: { resolution: 'CONFIRMED_FRAUD', note: body.note, resolvedBy: { role: 'risk', principal: localAdminArn('risk') } },
    });
    expect(replayed.statusCode).toBe(200);
    expect(replayed.headers?.['idempotent-replayed']).toBe('true');
    expect(conflicting.statusCode).toBe(409);
    expect(jsonOf(conflicting)).toMatchObject({ type: 'urn:payments-backbone:problem:alert-already-resolved' });
    expect((listed.alerts as { alertId: string }[]).map((item) => item.alertId)).toEqual([alert.alertId]);
  });

  it('refuses channel callers, bad bodies and unknown alerts with the right problems', async () => {
    const alert = await storedAlert(`acc-${randomUUID().slice(0, 8)}`, 'HIGH', 9);
    const path = `/v1/alerts/${alert.alertId}/resolve`;

    const asChannelCaller = await call(asChannel('POST', path, { resolution: 'FALSE_POSITIVE', note: 'fine' }));
    const badResolution = await call(asAdmin('POST', path, { resolution: 'MAYBE', note: 'hmm' }));
    const blankNote = await call(asAdmin('POST', path, { resolution: 'FALSE_POSITIVE', note: '   ' }));
    const notJson = await call({ ...asAdmin('POST', path), body: 'resolution=x', headers: { 'content-type': 'text/plain' } });
    const unknown = await call(asAdmin('POST', `/v1/alerts/${eventIdFor.alert(transferIdFor('WEB', randomUUID()))}/resolve`, { resolution: 'FALSE_POSITIVE', note: 'n/a' }));

    expect(asChannelCaller.statusCode).toBe(403);
    expect(badResolution.statusCode).toBe(422);
    expect(jsonOf(badResolution)).toMatchObject({ errors: [{ pointer: '/resolution' }] });
    expect(blankNote.statusCode).toBe(422);
    expect(jsonOf(blankNote)).toMatchObject({ errors: [{ pointer: '/note' }] });
    expect(notJson.statusCode).toBe(415);
    expect(unknown.statusCode).toBe(404);
    expect((await alerts.getAlert(alert.alertId))?.status).toBe('OPEN');
  });
});

describe('POST /v1/accounts/{id}/unfreeze', () => {
  it('unfreezes a frozen account, replays on an active one, 404s an unknown one and 409s a closed one', async () => {
    const account = await openFundedAccount(handle, { balanceMinor: 5_000n, status: 'FROZEN' });
    const closed = await openFundedAccount(handle, { status: 'CLOSED' });
    const path = `/v1/accounts/${account.accountId}/unfreeze`;

    const unfrozen = await call(asAdmin('POST', path));
    const again = await call(asAdmin('POST', path));
    const unknown = await call(asAdmin('POST', '/v1/accounts/acc-never-opened/unfreeze'));
    const onClosed = await call(asAdmin('POST', `/v1/accounts/${closed.accountId}/unfreeze`));
    const byChannel = await call(asChannel('POST', path));

    expect(unfrozen.statusCode).toBe(200);
    expect(jsonOf(unfrozen)).toMatchObject({ accountId: account.accountId, status: 'ACTIVE', balance: 5_000 });
    expect(jsonOf(unfrozen)).not.toHaveProperty('frozenByAlertId');
    // Who unfroze it stays on the account.
    expect(jsonOf(unfrozen).statusChangedBy).toEqual({ role: 'risk', principal: localAdminArn('risk') });
    expect((await ledger.getAccount(account.accountId))?.statusChangedBy).toEqual({ role: 'risk', principal: localAdminArn('risk') });
    expect((await call(asChannel('GET', `/v1/alerts?accountId=${account.accountId}`))).statusCode).toBe(403);
    expect((await call(asChannel('GET', `/v1/alerts/${eventIdFor.alert(transferIdFor('WEB', randomUUID()))}`))).statusCode).toBe(403);
    expect([again.statusCode, again.headers?.['idempotent-replayed']]).toEqual([200, 'true']);
    expect(unknown.statusCode).toBe(404);
    expect(onClosed.statusCode).toBe(409);
    expect(jsonOf(onClosed)).toMatchObject({ type: 'urn:payments-backbone:problem:account-state-conflict' });
    expect(byChannel.statusCode).toBe(403);
  });
});
