// The AlertStore contract, run against DynamoDB Local and the in-memory engine: an alert is stored once; every filter
// combination pages through exactly the matching alerts, newest first, with no gaps and no
// repeats at any page size, also merged over the feed index's shards (every shard read, ties
// across shards kept whole); alerts stored before the feed was sharded are listed and move to
// their shard when resolved; a cursor only works for the query that issued it; resolution is
// conditional (resolved, replayed, conflict, not found).
import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_CURSOR_CHARS_MAX, ALERT_FEED_SHARDS, alertFeedOf, alertKey, alertToItem, DynamoAlertStore, LEGACY_ALERT_FEED } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { stableShardOf } from '../../lambdas/adapters/dynamodb/risk-store.js';
import { eventIdFor } from '../../lambdas/core/events/envelope.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import { ALERT_STATUSES, InvalidCursorError, type AlertQuery, type AlertRecord, type RaisedAlert } from '../../lambdas/core/risk/alerts.js';
import { SEVERITIES } from '../../lambdas/core/risk/severity.js';
import { interceptRequests } from '../support/fault.js';
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
      expect(page.cursor?.length ?? 0, 'a cursor the API takes').toBeLessThanOrEqual(ALERT_CURSOR_CHARS_MAX);
      ids.push(...page.alerts.map((alert) => alert.alertId));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    return { ids, pages };
  }

  /**
   * The pages of a listing up to the first that reaches past `oldest` (alerts newer than every
   * other test's come first, so a test need not page through all of them).
   */
  async function pagesThrough(query: Omit<AlertQuery, 'cursor'>, oldest: string): Promise<AlertRecord[]> {
    const alerts: AlertRecord[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 200; pages++) {
      const page = await store.listAlerts({ ...query, ...(cursor !== undefined ? { cursor } : {}) });
      expect(page.alerts.length).toBeLessThanOrEqual(query.limit);
      expect(page.cursor?.length ?? 0, 'a cursor the API takes').toBeLessThanOrEqual(ALERT_CURSOR_CHARS_MAX);
      alerts.push(...page.alerts);
      cursor = page.cursor;
      if (cursor === undefined || page.alerts.some((alert) => alert.raisedAt < oldest)) return alerts;
    }
    throw new Error('the listing never ended');
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
    const partitions = ALERT_STATUSES.length * ALERT_FEED_SHARDS + 1;
    const forge = (positions: unknown[], query = `["alertsByTime",null,null,null,${partitions}]`) => Buffer.from(JSON.stringify({ query, positions })).toString('base64url');
    const real = seeded[0] as AlertRecord;
    const realPosition = [real.raisedAt, real.alertId.slice(0, -'.alert'.length)];
    const rest = (position: unknown) => Array.from({ length: partitions }, () => position);
    for (const [label, cursor] of [
      ['not an alert id', forge([['2026-11-01T12:00:00.000Z', 'x'], ...rest(null).slice(1)])],
      // Well formed, but a sort key beyond DynamoDB's 1,024 bytes would make the query itself fail.
      ['an oversized time', forge([['\u20ac'.repeat(400), realPosition[1]], ...rest(null).slice(1)])],
      ['an oversized id', forge([['2026-11-01T12:00:00.000Z', 'a'.repeat(900)], ...rest(null).slice(1)])],
      ['a position per partition too few', forge(rest(null).slice(1))],
      ['a position per partition too many', forge([...rest(null), null])],
      ['a partition key of its own', forge([{ pk: `ALERT#${real.alertId}`, alertFeed: 'OPEN#0', raisedAt: real.raisedAt }, ...rest(null).slice(1)])],
      ['another shard count', forge(rest(null), `["alertsByTime",null,null,null,${partitions + 1}]`)],
      ['too long for the API', `${forge(rest(null))}${'A'.repeat(ALERT_CURSOR_CHARS_MAX)}`],
    ] as const) {
      await expect(store.listAlerts({ limit: 2, cursor }), label).rejects.toThrow(InvalidCursorError);
    }
    // The same shape with real values is accepted, in any partition, and so is a partition read through.
    await expect(store.listAlerts({ limit: 2, cursor: forge(rest(realPosition)) })).resolves.toBeDefined();
    await expect(store.listAlerts({ limit: 2, cursor: forge([...rest('end').slice(1), realPosition]) })).resolves.toBeDefined();
    // A position at an alert that does not exist is only a place in the index.
    const noSuchAlert = randomUUID().replace(/^(.{14})./, '$18'); // the version digit alert ids have
    await expect(store.listAlerts({ limit: 2, cursor: forge(rest([real.raisedAt, noSuchAlert])) })).resolves.toBeDefined();
  });

  /** Alerts raised at the same few instants in 2027 (after every other test's), with ids chosen to fill every shard of the feed. */
  async function recordSpread(accountId: string, count: number): Promise<AlertRecord[]> {
    const records: AlertRecord[] = [];
    const shards = new Set<number>();
    for (let attempt = 0; records.length < count && attempt < 100 * count; attempt++) {
      const raised = alertFor(accountId, records.length);
      const shard = stableShardOf(raised.alertId, ALERT_FEED_SHARDS);
      // The first alerts fill the shards still empty; the rest fall where they fall.
      if (shards.size < ALERT_FEED_SHARDS && shards.has(shard)) continue;
      shards.add(shard);
      const alert = { ...raised, raisedAt: new Date(Date.UTC(2027, 0, 1, 0, 0, records.length % 5)).toISOString() };
      records.push((await store.recordAlert(alert, new Date().toISOString())).alert);
    }
    expect(shards.size).toBe(ALERT_FEED_SHARDS);
    return records;
  }

  it('keeps alerts in shards of their status, and a listing reads every shard it needs and nothing else', async () => {
    const account = `acc-${randomUUID().slice(0, 8)}`;
    const spread = await recordSpread(account, 2 * ALERT_FEED_SHARDS);
    const feeds = new Set<string>();
    for (const alert of spread) {
      const { Item } = await world.clients.dynamodb.send(new GetItemCommand({ TableName: world.bindings.tables.risk, Key: alertKey(alert.alertId), ConsistentRead: true }));
      feeds.add(Item?.alertFeed?.S ?? '');
    }
    const queried = async (query: AlertQuery): Promise<string[]> => {
      const partitions: string[] = [];
      const restore = interceptRequests(world.clients.dynamodb, (command) => {
        if (command instanceof QueryCommand) partitions.push(`${command.input.IndexName ?? ''} ${command.input.ExpressionAttributeValues?.[':partition']?.S ?? ''}`);
      });
      try {
        await store.listAlerts(query);
      } finally {
        restore();
      }
      return [...new Set(partitions)].sort();
    };
    const shardsOf = (status: string) => Array.from({ length: ALERT_FEED_SHARDS }, (_, shard) => `alertsByTime ${status}#${shard}`);

    expect([...feeds].sort()).toEqual(Array.from({ length: ALERT_FEED_SHARDS }, (_, shard) => `OPEN#${shard}`).sort());
    expect(await queried({ status: 'OPEN', limit: 5 })).toEqual([...shardsOf('OPEN'), `alertsByTime ${LEGACY_ALERT_FEED}`].sort());
    expect(await queried({ status: 'RESOLVED', severity: 'HIGH', limit: 5 })).toEqual([...shardsOf('RESOLVED'), `alertsByTime ${LEGACY_ALERT_FEED}`].sort());
    expect(await queried({ limit: 5 })).toEqual([...shardsOf('OPEN'), ...shardsOf('RESOLVED'), `alertsByTime ${LEGACY_ALERT_FEED}`].sort());
    expect(await queried({ accountId: account, status: 'OPEN', limit: 5 })).toEqual([`alertsByAccount ${account}`]);
  });

  it('pages through alerts merged from every shard exactly once, newest first, ties across shards included', async () => {
    const spread = await recordSpread(`acc-${randomUUID().slice(0, 8)}`, 2 * ALERT_FEED_SHARDS + 3);
    const ours = new Set(spread.map((alert) => alert.alertId));
    const want = [...spread].sort((a, b) => b.raisedAt.localeCompare(a.raisedAt));

    const oldest = want.at(-1)?.raisedAt ?? '';
    const raisedAt = new Map(spread.map((alert) => [alert.alertId, alert.raisedAt]));
    // Without a status filter every page reads 17 partitions: fewer, larger pages there.
    for (const [limit, status] of [[1, 'OPEN'], [4, 'OPEN'], [100, 'OPEN'], [3, undefined], [100, undefined]] as const) {
      const ids = (await pagesThrough({ ...(status !== undefined ? { status } : {}), limit }, oldest)).map((alert) => alert.alertId);
      const got = ids.filter((id) => ours.has(id));
      expect([...got].sort(), `limit ${limit}, ${status ?? 'any status'}`).toEqual(want.map((alert) => alert.alertId).sort());
      expect(got.map((id) => raisedAt.get(id)), `newest first at limit ${limit}`).toEqual(want.map((alert) => alert.raisedAt));
      expect(new Set(ids).size, `no repeats at limit ${limit}`).toBe(ids.length);
    }
  });

  it('lists alerts stored before the feed was sharded, and moves one to its shard when it is resolved', async () => {
    const legacy = async (alert: AlertRecord): Promise<void> => {
      await world.clients.dynamodb.send(new PutItemCommand({ TableName: world.bindings.tables.risk, Item: { ...alertToItem(alert), alertFeed: { S: LEGACY_ALERT_FEED } } }));
    };
    // Raised in 2028, after every other test's alerts: the listings below stop once past them.
    const open: AlertRecord = { ...alertFor('acc-old', 30), raisedAt: '2028-01-01T00:00:01.000Z', status: 'OPEN', storedAt: '2026-01-01T00:00:00.000Z' };
    const resolved: AlertRecord = {
      ...alertFor('acc-old', 31),
      raisedAt: '2028-01-01T00:00:00.000Z',
      status: 'RESOLVED',
      storedAt: '2026-01-01T00:00:00.000Z',
      resolution: { resolution: 'FALSE_POSITIVE', note: 'old', resolvedAt: '2026-01-02T00:00:00.000Z' },
    };
    await legacy(open);
    await legacy(resolved);
    const listed = async (query: Omit<AlertQuery, 'cursor'>) =>
      (await pagesThrough(query, resolved.raisedAt))
        .map((alert) => alert.alertId)
        .filter((id) => id === open.alertId || id === resolved.alertId)
        .sort();

    expect(await listed({ limit: 1 })).toEqual([open.alertId, resolved.alertId].sort());
    expect(await listed({ status: 'OPEN', limit: 1 })).toEqual([open.alertId]);
    expect(await listed({ status: 'RESOLVED', limit: 1 })).toEqual([resolved.alertId]);

    const result = await store.resolveAlert(open.alertId, { resolution: 'CONFIRMED_FRAUD', note: 'now', resolvedAt: '2026-01-03T00:00:00.000Z' });
    const { Item } = await world.clients.dynamodb.send(new GetItemCommand({ TableName: world.bindings.tables.risk, Key: alertKey(open.alertId), ConsistentRead: true }));

    expect(result.kind).toBe('resolved');
    expect(Item?.alertFeed?.S).toBe(alertFeedOf('RESOLVED', open.alertId));
    expect(await listed({ limit: 1 })).toEqual([open.alertId, resolved.alertId].sort());
    expect(await listed({ status: 'OPEN', limit: 1 })).toEqual([]);
    expect(await listed({ status: 'RESOLVED', limit: 1 })).toEqual([open.alertId, resolved.alertId].sort());
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
