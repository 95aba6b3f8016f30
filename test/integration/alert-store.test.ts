// The AlertStore contract, run against DynamoDB Local and the in-memory engine: an alert is stored once; every filter
// combination pages through exactly the matching alerts, newest first, with no gaps and no
// repeats at any page size; a cursor only works for the query that issued it; resolution is
// conditional (resolved, replayed, conflict, not found).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { eventIdFor } from '../../lambdas/core/events/envelope.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import { InvalidCursorError, type AlertQuery, type AlertRecord, type RaisedAlert } from '../../lambdas/core/risk/alerts.js';
import { SEVERITIES } from '../../lambdas/core/risk/severity.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

const accounts = ['acc-ann', 'acc-ben', 'acc-cat'];

function alertFor(accountId: string, index: number): RaisedAlert {
  const transactionId = transferIdFor('WEB', randomUUID());
  return {
    alertId: eventIdFor.alert(transactionId),
    transactionId,
    accountId,
    severity: SEVERITIES[index % SEVERITIES.length] ?? 'LOW',
    totalWeight: 10 + index,
    rulesHit: [{ ruleId: 'LARGE_AMOUNT', weight: 30, evidence: { amountMinor: 1_000_000 + index, channel: 'WEB', large: true } }],
    amountMinor: 1_000_000 + index,
    currency: 'EUR',
    channel: 'WEB',
    // Distinct, ordered times; two share one to prove ties neither drop nor repeat an alert.
    raisedAt: new Date(Date.UTC(2026, 10, 1, 12, 0, index === 7 ? 6 : index)).toISOString(),
  };
}

describe.each(BACKENDS)('DynamoAlertStore on %s', (backend) => {
  let world: TestWorld;
  let store: DynamoAlertStore;
  const seeded: AlertRecord[] = [];

  beforeAll(async () => {
    world = await createTestWorld('alertstore', backend);
    store = new DynamoAlertStore(world.clients.dynamodb, world.bindings.tables.risk);
    for (let index = 0; index < 23; index++) {
      const { alert } = await store.recordAlert(alertFor(accounts[index % accounts.length] ?? 'acc-ann', index), new Date().toISOString());
      seeded.push(alert);
    }
    // Every third alert resolved, so status filters have both kinds to choose from.
    for (const [index, alert] of seeded.entries()) {
      if (index % 3 !== 0) continue;
      const result = await store.resolveAlert(alert.alertId, { resolution: 'FALSE_POSITIVE', note: `reviewed ${index}`, resolvedAt: new Date().toISOString() });
      if (result.kind !== 'resolved') throw new Error('seeding: resolve failed');
      seeded[index] = result.alert;
    }
  });

  afterAll(() => world.destroy());

  async function everyPage(query: Omit<AlertQuery, 'cursor'>): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listAlerts({ ...query, ...(cursor !== undefined ? { cursor } : {}) });
      expect(page.alerts.length).toBeLessThanOrEqual(query.limit);
      ids.push(...page.alerts.map((alert) => alert.alertId));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    return { ids, pages };
  }

  const raisedAtOf = (alertId: string): string => seeded.find((alert) => alert.alertId === alertId)?.raisedAt ?? '';

  function expected(filter: Partial<Pick<AlertQuery, 'accountId' | 'severity' | 'status'>>): string[] {
    return seeded
      .filter((alert) => filter.accountId === undefined || alert.accountId === filter.accountId)
      .filter((alert) => filter.severity === undefined || alert.severity === filter.severity)
      .filter((alert) => filter.status === undefined || alert.status === filter.status)
      .sort((a, b) => b.raisedAt.localeCompare(a.raisedAt))
      .map((alert) => alert.alertId);
  }

  it('stores an alert once: a second record returns the stored one unchanged', async () => {
    const alert = alertFor('acc-dan', 1);
    const first = await store.recordAlert(alert, '2026-11-01T12:00:00.000Z');
    const second = await store.recordAlert({ ...alert, severity: 'LOW' }, '2026-11-02T12:00:00.000Z');

    expect(first.created).toBe(true);
    expect(second).toEqual({ created: false, alert: first.alert });
    expect(await store.getAlert(alert.alertId)).toEqual(first.alert);
  });

  it.each([
    [{}],
    [{ accountId: 'acc-ben' }],
    [{ status: 'OPEN' as const }],
    [{ status: 'RESOLVED' as const }],
    [{ severity: 'CRITICAL' as const }],
    [{ accountId: 'acc-cat', severity: 'HIGH' as const }],
    [{ accountId: 'acc-ann', status: 'RESOLVED' as const }],
    [{ status: 'OPEN' as const, severity: 'LOW' as const }],
  ])('pages through exactly the alerts matching %o, newest first', async (filter) => {
    const want = expected(filter).filter((id) => seeded.some((alert) => alert.alertId === id));
    for (const limit of [1, 4, 100]) {
      const { ids } = await everyPage({ ...filter, limit });
      // acc-dan's alert from the first test is outside every filter here except the unfiltered one.
      const got = ids.filter((id) => seeded.some((alert) => alert.alertId === id));
      // Equal raisedAt values may come in either order (the index does not order ties).
      expect([...got].sort(), `limit ${limit}`).toEqual([...want].sort());
      expect(got.map(raisedAtOf), `newest first at limit ${limit}`).toEqual(want.map(raisedAtOf));
      expect(new Set(ids).size, `no repeats at limit ${limit}`).toBe(ids.length);
    }
  });

  it('refuses a cursor from another query, and one it never issued', async () => {
    const page = await store.listAlerts({ accountId: 'acc-ann', limit: 2 });
    expect(page.cursor).toBeDefined();

    await expect(store.listAlerts({ accountId: 'acc-ben', limit: 2, cursor: page.cursor ?? '' })).rejects.toThrow(InvalidCursorError);
    await expect(store.listAlerts({ limit: 2, cursor: page.cursor ?? '' })).rejects.toThrow(InvalidCursorError);
    await expect(store.listAlerts({ limit: 2, cursor: 'bm90IGpzb24' })).rejects.toThrow(InvalidCursorError);
    const forge = (key: Record<string, string>) => Buffer.from(JSON.stringify({ query: '["alertsByTime",null,null,null]', key })).toString('base64url');
    const realAlertKey = `ALERT#${seeded[0]?.alertId ?? ''}`;
    for (const key of [
      { pk: 'x', alertFeed: 'ALERT', raisedAt: 'y' },
      // Well formed, but a sort key beyond DynamoDB's 1,024 bytes would make the query itself fail.
      { pk: realAlertKey, alertFeed: 'ALERT', raisedAt: '\u20ac'.repeat(400) },
      { pk: `ALERT#${'a'.repeat(900)}`, alertFeed: 'ALERT', raisedAt: '2026-11-01T12:00:00.000Z' },
    ]) {
      await expect(store.listAlerts({ limit: 2, cursor: forge(key) }), JSON.stringify(key).slice(0, 60)).rejects.toThrow(InvalidCursorError);
    }
    // The same shape with real values is accepted.
    await expect(store.listAlerts({ limit: 2, cursor: forge({ pk: realAlertKey, alertFeed: 'ALERT', raisedAt: seeded[0]?.raisedAt ?? '' }) })).resolves.toBeDefined();
  });

  it('resolves an OPEN alert once; the same resolution replays, a different one conflicts', async () => {
    const { alert } = await store.recordAlert(alertFor('acc-eve', 2), new Date().toISOString());
    const resolution = { resolution: 'CONFIRMED_FRAUD' as const, note: 'card testing from one device', resolvedAt: '2026-11-03T09:00:00.000Z' };

    const resolved = await store.resolveAlert(alert.alertId, resolution);
    const replayed = await store.resolveAlert(alert.alertId, { ...resolution, resolvedAt: '2026-11-03T10:00:00.000Z' });
    const conflict = await store.resolveAlert(alert.alertId, { ...resolution, resolution: 'FALSE_POSITIVE' });
    const missing = await store.resolveAlert('no-such-alert', resolution);

    expect(resolved).toEqual({ kind: 'resolved', alert: { ...alert, status: 'RESOLVED', resolution } });
    expect(replayed).toEqual({ kind: 'replayed', alert: { ...alert, status: 'RESOLVED', resolution } });
    expect(conflict.kind).toBe('conflict');
    expect(missing).toEqual({ kind: 'not-found' });
  });

  it('lets one delivery at a time claim the notification, until the lease ends or it is released, and none once notified', async () => {
    const { alert } = await store.recordAlert(alertFor('acc-gus', 4), new Date().toISOString());
    const claim = (now: string) => store.claimNotification(alert.alertId, now, new Date(Date.parse(now) + 60_000).toISOString());

    const first = await claim('2026-11-06T10:00:00.000Z');
    const whileHeld = await claim('2026-11-06T10:00:30.000Z');
    const afterLease = await claim('2026-11-06T10:01:01.000Z');
    await store.releaseNotificationClaim(alert.alertId);
    const afterRelease = await claim('2026-11-06T10:01:02.000Z');
    await store.markNotified(alert.alertId, '2026-11-06T10:01:03.000Z');
    const afterNotified = await claim('2026-11-06T10:05:00.000Z');

    expect([first, whileHeld, afterLease, afterRelease, afterNotified]).toEqual([true, false, true, true, false]);
  });

  it('marks the notification and the AccountFrozen publication once: the first mark of each stands', async () => {
    const { alert } = await store.recordAlert(alertFor('acc-fay', 3), new Date().toISOString());

    await store.markNotified(alert.alertId, '2026-11-04T00:00:00.000Z');
    await store.markNotified(alert.alertId, '2026-11-05T00:00:00.000Z');
    await store.markFrozenEventPublished(alert.alertId, '2026-11-04T00:00:01.000Z');
    await store.markFrozenEventPublished(alert.alertId, '2026-11-05T00:00:01.000Z');

    expect(await store.getAlert(alert.alertId)).toMatchObject({
      notifiedAt: '2026-11-04T00:00:00.000Z',
      frozenEventPublishedAt: '2026-11-04T00:00:01.000Z',
    });
  });
});
