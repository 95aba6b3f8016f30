// Proves the local API Gateway enforces what API Gateway enforces on AWS before the function
// runs: each API client's usage-plan key, its own throttle (one client over its rate gets 429
// while another is untouched), a disabled key refused, and each admin route only with its own
// role's key (IAM policies per role on AWS); and that it answers malformed HTTP as problem+json.
import { connect } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROLES, type AdminRole } from '../../lambdas/core/trust/api-client.js';
import { localAdminArn, secretEquals, startApiServer, type RunningApiServer } from '../../lib/local/api-server.js';
import { LocalUsageKeys } from '../../lib/local/usage-keys.js';
import { API_ROUTES } from '../../contract/topology.js';

const ADMIN_KEYS: Record<AdminRole, string> = { operations: 'admin_operations_0123456789abcdef', risk: 'admin_risk_0123456789abcdef01', settlement: 'admin_settlement_0123456789ab' };

let server: RunningApiServer;
let clockMs = 1_000_000;
const usageKeys = new LocalUsageKeys({ throttle: { rateLimitPerSecond: 1, burstLimit: 2 }, nowMs: () => clockMs });
const seen: APIGatewayProxyEvent[] = [];

beforeAll(async () => {
  server = await startApiServer({
    handler: (event) => {
      seen.push(event);
      return Promise.resolve({ statusCode: 200, body: '{}', headers: { 'content-type': 'application/json' } });
    },
    usageKeys,
    adminKeys: ADMIN_KEYS,
    localRoutes: new Map([['/_local/ops-notifications', () => ({ notifications: [] })]]),
    timeoutSeconds: 10,
    memorySizeMb: 128,
  });
});

afterAll(() => server.stop());

const get = (path: string, headers: Record<string, string>) => fetch(`${server.url}${path}`, { headers });

describe('client routes', () => {
  it('throttles each client on its own: one over its rate gets 429 with Retry-After, another still passes', async () => {
    const noisy = await usageKeys.issueKey({ clientId: 'cli_noisy', channel: 'POS' });
    const quiet = await usageKeys.issueKey({ clientId: 'cli_quiet', channel: 'POS' });

    const burst = [];
    for (let index = 0; index < 3; index++) burst.push(await get('/v1/accounts/acc-x', { 'x-api-key': noisy.usageKey }));
    const other = await get('/v1/accounts/acc-x', { 'x-api-key': quiet.usageKey });
    clockMs += 1_000;
    const afterRefill = await get('/v1/accounts/acc-x', { 'x-api-key': noisy.usageKey });

    expect(burst.map((response) => response.status)).toEqual([200, 200, 429]);
    expect(burst[2]?.headers.get('retry-after')).toBe('1');
    expect(burst[2]?.headers.get('content-type')).toBe('application/problem+json');
    expect(other.status).toBe(200);
    expect(afterRefill.status).toBe(200);
    expect(seen.at(-1)?.requestContext.identity.apiKeyId).toBe(noisy.usageKeyId);
  });

  it('refuses a missing, unknown or disabled key with 403 before the function runs', async () => {
    const revoked = await usageKeys.issueKey({ clientId: 'cli_revoked', channel: 'WEB' });
    await usageKeys.disableKey(revoked.usageKeyId);
    const before = seen.length;

    const statuses = await Promise.all([get('/v1/accounts/acc-x', {}), get('/v1/accounts/acc-x', { 'x-api-key': 'pk_guess' }), get('/v1/accounts/acc-x', { 'x-api-key': revoked.usageKey })]);

    expect(statuses.map((response) => response.status)).toEqual([403, 403, 403]);
    expect(seen.length).toBe(before);
  });
});

describe('admin routes', () => {
  const iamRoutes = API_ROUTES.filter((route) => route.auth === 'iam');

  it.each(ADMIN_ROLES)("lets the %s role's key reach exactly that role's routes", async (role) => {
    for (const route of iamRoutes) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x1x');
      const response = await fetch(`${server.url}${path}`, { method: route.method, headers: { 'x-admin-key': ADMIN_KEYS[role] } });
      expect(response.status, `${route.method} ${route.path} with the ${role} key`).toBe(route.role === role ? 200 : 403);
      if (route.role === role) expect(seen.at(-1)?.requestContext.identity.userArn).toBe(localAdminArn(role));
    }
  });

  it('shows the local operations notifications (alert contents) to the risk role only', async () => {
    const statuses = await Promise.all(ADMIN_ROLES.map(async (role) => (await fetch(`${server.url}/_local/ops-notifications`, { headers: { 'x-admin-key': ADMIN_KEYS[role] } })).status));

    expect(statuses).toEqual(ADMIN_ROLES.map((role) => (role === 'risk' ? 200 : 403)));
  });

  it('refuses an admin route with no key or a guessed one', async () => {
    const responses = await Promise.all([fetch(`${server.url}/v1/alerts`), fetch(`${server.url}/v1/alerts`, { headers: { 'x-admin-key': `${ADMIN_KEYS.risk}x` } })]);

    expect(responses.map((response) => response.status)).toEqual([403, 403]);
  });

  it('compares secrets whatever their lengths, without throwing', () => {
    expect(secretEquals('abc', 'abc')).toBe(true);
    expect(secretEquals('abcd', 'abc')).toBe(false);
    expect(secretEquals(undefined, '')).toBe(false);
    expect(secretEquals('', 'abc')).toBe(false);
  });
});

describe('malformed HTTP', () => {
  it('answers a NUL byte in a header as problem+json, not a bare 400', async () => {
    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /v1/alerts HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n'));
      let text = '';
      socket.setTimeout(5_000, () => reject(new Error('no answer')));
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });

    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('content-type: application/problem+json');
    expect(raw).toContain('urn:payments-backbone:problem:bad-request');
  });
});
