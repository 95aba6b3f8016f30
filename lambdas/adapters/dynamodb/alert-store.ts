// Raised alerts on the risk table: stored once per alert id (conditional put), the alerts
// handler's progress marks (notified, freeze outcome) that keep a redelivery from acting twice,
// the analyst's resolution (conditional on the alert still being OPEN), and newest-first listings
// through the table's two alert indexes with opaque, query-bound pagination cursors. The feed
// index has no single hot partition: each alert sits in one of a few shards of its status, and a
// listing merges the shards it needs in time order.
import assert from 'node:assert/strict';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { RiskAlertRaisedData } from '../../core/events/envelope.js';
import {
  ALERT_ID_PATTERN,
  ALERT_RESOLUTIONS,
  ALERT_STATUSES,
  FREEZE_OUTCOMES,
  InvalidCursorError,
  type AlertPage,
  type AlertQuery,
  type AlertRecord,
  type AlertResolutionRecord,
  type AlertStatus,
  type AlertStore,
  type RaisedAlert,
  type ResolveResult,
} from '../../core/risk/alerts.js';
import { CorruptItemError, type Item } from './ledger-items.js';
import { stableShardOf } from './risk-store.js';
import { ADMIN_ROLES } from '../../core/trust/api-client.js';

const ENTITY = 'ALERT';
/**
 * Shards per status of the alertsByTime index (partition key alertFeed = `<status>#<shard>`, the
 * shard a stable hash of the alert id). One index partition takes ~1,000 writes/s and an alert
 * writes its partition about three times (stored, then its progress marks, every attribute
 * projected), so one partition for every alert, or every open one, held an alert storm to ~333
 * alerts/s; 8 shards take ~2,600/s. A listing queries each shard it needs (8 with a status filter,
 * 16 without, and the legacy feed), so a page costs that many Query requests: an analyst's read,
 * rare beside the writes.
 */
export const ALERT_FEED_SHARDS = 8;
/**
 * The one alertFeed value of alerts stored before the feed was sharded: listings read it as one
 * more partition (filtered by status when asked), and resolving such an alert moves it to its
 * shard, so nothing needs backfilling and an old data directory lists every alert.
 */
export const LEGACY_ALERT_FEED = 'ALERT';
/** Items read per Query; a filtered page may need several reads, bounded per call (below). */
const QUERY_PAGE_ITEMS = 100;
/** Reads one listing call may make: at least this many, and three rounds over its partitions. */
const QUERY_READS_MIN = 10;
const QUERY_ROUNDS_MAX = 3;
/** The API takes cursors up to this long (lambdas/api/schemas.ts); every cursor issued fits. */
export const ALERT_CURSOR_CHARS_MAX = 2_048;
/** Partitions one listing merges at most: every shard of every status, and the legacy feed. */
const LISTING_PARTITIONS_MAX = ALERT_STATUSES.length * ALERT_FEED_SHARDS + 1;

const alertKey = (alertId: string): Item => ({ pk: { S: `ALERT#${alertId}` } });
/** raisedAt as the envelope writes it (toISOString). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Alert ids end so (ALERT_ID_PATTERN); cursors leave it out to stay short. */
const ALERT_ID_SUFFIX = '.alert';

/** The alertsByTime partition an alert of this status and id sits in. */
export function alertFeedOf(status: AlertStatus, alertId: string): string {
  return `${status}#${stableShardOf(alertId, ALERT_FEED_SHARDS)}`;
}

/** The index partitions a listing merges, in a fixed order: a cursor keeps one position per partition. */
interface Listing {
  readonly indexName: 'alertsByAccount' | 'alertsByTime';
  readonly partitionAttribute: 'alertAccountId' | 'alertFeed';
  readonly partitions: readonly { readonly value: string; readonly filters: readonly Filter[] }[];
}

type Filter = readonly [expression: string, placeholder: string, value: string];

/** One partition's progress through a listing call. */
interface Stream {
  readonly partition: string;
  readonly filters: readonly Filter[];
  /** Where the next read starts (after this key; undefined: from the newest). */
  next: Item | undefined;
  /** Read but not handed out yet, newest first. */
  buffer: Item[];
  /** Nothing follows the buffer. */
  exhausted: boolean;
  /** Every alert of this partition not handed out yet lies after this key: the cursor's position. */
  position: Item | undefined;
}

export class DynamoAlertStore implements AlertStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async recordAlert(alert: RaisedAlert, storedAt: string): Promise<{ created: boolean; alert: AlertRecord }> {
    const record: AlertRecord = { ...alert, status: 'OPEN', storedAt };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: alertToItem(record),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true, alert: record };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item !== undefined) {
        return { created: false, alert: alertFromItem(error.Item) };
      }
      throw error;
    }
  }

  async claimNotification(alertId: string, now: string, leaseUntil: string): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: alertKey(alertId),
          UpdateExpression: 'SET notifyClaimedUntil = :until',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(notifiedAt) AND (attribute_not_exists(notifyClaimedUntil) OR notifyClaimedUntil < :now)',
          ExpressionAttributeValues: { ':until': { S: leaseUntil }, ':now': { S: now } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async releaseNotificationClaim(alertId: string): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({ TableName: this.#tableName, Key: alertKey(alertId), UpdateExpression: 'REMOVE notifyClaimedUntil', ConditionExpression: 'attribute_exists(pk)' }),
    );
  }

  async markNotified(alertId: string, at: string): Promise<void> {
    await this.#setOnce(alertId, 'notifiedAt', { notifiedAt: { S: at } });
  }

  async markFrozenEventPublished(alertId: string, at: string): Promise<void> {
    await this.#setOnce(alertId, 'frozenEventPublishedAt', { frozenEventPublishedAt: { S: at } });
  }

  /** Sets the attributes unless `guard` is already set: the first record of an action stands. */
  async #setOnce(alertId: string, guard: string, values: Item): Promise<void> {
    const names = Object.keys(values);
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: alertKey(alertId),
          UpdateExpression: `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(#${guard})`,
          ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
          ExpressionAttributeValues: Object.fromEntries(names.map((name) => [`:${name}`, values[name] as Item[string]])),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item === undefined) throw new CorruptItemError(`alert ${alertId} vanished while it was being handled`);
      // Already recorded by an earlier delivery: nothing to do.
    }
  }

  async getAlert(alertId: string): Promise<AlertRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: alertKey(alertId), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : alertFromItem(Item);
  }

  /**
   * Newest first, merged over the listing's partitions: a stream per partition, read a page at a
   * time, and an alert handed out only when every partition's next alert is known (its head, or
   * nothing left), so the order is exact across shards. Reads are bounded per call (QUERY_READS_MIN,
   * QUERY_ROUNDS_MAX); a sparse filter that uses them up returns a short page and a cursor, and the
   * client carries on. Each round reads every partition whose next alert is unknown, in parallel.
   */
  async listAlerts(query: AlertQuery): Promise<AlertPage> {
    const listing = listingFor(query);
    const fingerprint = queryFingerprint(listing, query);
    const positions = query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint, listing);
    const streams = listing.partitions.map((partition, index): Stream => {
      const position = positions?.[index];
      const start = position === undefined || position === 'end' ? undefined : position;
      return { partition: partition.value, filters: partition.filters, next: start, buffer: [], exhausted: position === 'end', position: start };
    });
    const readsMax = Math.max(QUERY_READS_MIN, QUERY_ROUNDS_MAX * streams.length);
    const alerts: AlertRecord[] = [];
    for (let reads = 0; alerts.length < query.limit; ) {
      const unknown = streams.filter((stream) => stream.buffer.length === 0 && !stream.exhausted);
      if (unknown.length > 0) {
        // Every partition's next alert must be known before any is handed out.
        const round = unknown.slice(0, readsMax - reads);
        if (round.length === 0) break;
        reads += round.length;
        await Promise.all(round.map((stream) => this.#read(listing, query, stream, query.limit - alerts.length)));
        if (round.length < unknown.length) break;
        continue;
      }
      const stream = newestHead(streams);
      if (stream === undefined) break; // every partition read to its end
      const item = stream.buffer.shift() as Item;
      alerts.push(alertFromItem(item));
      stream.position = stream.buffer.length === 0 && !stream.exhausted ? stream.next : cursorKeyOf(item, listing);
    }
    if (streams.every((stream) => stream.exhausted && stream.buffer.length === 0)) return { alerts };
    return { alerts, cursor: encodeCursor(fingerprint, streams) };
  }

  /** One page of one partition into its stream's buffer. */
  async #read(listing: Listing, query: AlertQuery, stream: Stream, wanted: number): Promise<void> {
    const values: Item = { ':partition': { S: stream.partition } };
    for (const [, placeholder, value] of stream.filters) values[placeholder] = { S: value };
    if (query.severity !== undefined) values[':severity'] = { S: query.severity };
    const filters = [...stream.filters.map(([expression]) => expression), ...(query.severity !== undefined ? ['alertSeverity = :severity'] : [])];
    const page = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: listing.indexName,
        KeyConditionExpression: `${listing.partitionAttribute} = :partition`,
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        // Unfiltered, a page needs no more than it hands out; filtered, matches may be sparse.
        Limit: filters.length > 0 ? QUERY_PAGE_ITEMS : Math.min(QUERY_PAGE_ITEMS, wanted),
        ...(stream.next !== undefined ? { ExclusiveStartKey: stream.next } : {}),
      }),
    );
    stream.buffer = page.Items ?? [];
    stream.next = page.LastEvaluatedKey;
    stream.exhausted = page.LastEvaluatedKey === undefined;
    // Nothing matched: the partition's position moves past what was read.
    if (stream.buffer.length === 0 && !stream.exhausted) stream.position = stream.next;
  }

  async resolveAlert(alertId: string, resolution: AlertResolutionRecord): Promise<ResolveResult> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: alertKey(alertId),
          // The alert moves to its RESOLVED feed shard (from its OPEN one, or from the legacy feed).
          UpdateExpression: `SET alertStatus = :resolved, alertFeed = :feed, resolution = :resolution, resolutionNote = :note, resolvedAt = :at${
            resolution.resolvedBy !== undefined ? ', resolvedByRole = :role, resolvedByPrincipal = :principal' : ''
          }`,
          ConditionExpression: 'attribute_exists(pk) AND alertStatus = :open',
          ExpressionAttributeValues: {
            ':resolved': { S: 'RESOLVED' },
            ':feed': { S: alertFeedOf('RESOLVED', alertId) },
            ':open': { S: 'OPEN' },
            ':resolution': { S: resolution.resolution },
            ':note': { S: resolution.note },
            ':at': { S: resolution.resolvedAt },
            ...(resolution.resolvedBy !== undefined ? { ':role': { S: resolution.resolvedBy.role }, ':principal': { S: resolution.resolvedBy.principal } } : {}),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (Attributes === undefined) throw new CorruptItemError(`resolving alert ${alertId} returned no item`);
      return { kind: 'resolved', alert: alertFromItem(Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item === undefined) return { kind: 'not-found' };
      const existing = alertFromItem(error.Item);
      const same = existing.resolution?.resolution === resolution.resolution && existing.resolution.note === resolution.note;
      return { kind: same ? 'replayed' : 'conflict', alert: existing };
    }
  }
}

function listingFor(query: AlertQuery): Listing {
  const status: Filter[] = query.status === undefined ? [] : [['alertStatus = :status', ':status', query.status]];
  if (query.accountId !== undefined) {
    return { indexName: 'alertsByAccount', partitionAttribute: 'alertAccountId', partitions: [{ value: query.accountId, filters: status }] };
  }
  const statuses = query.status === undefined ? ALERT_STATUSES : [query.status];
  const shards = statuses.flatMap((each) => Array.from({ length: ALERT_FEED_SHARDS }, (_, shard) => ({ value: `${each}#${shard}`, filters: [] })));
  return { indexName: 'alertsByTime', partitionAttribute: 'alertFeed', partitions: [...shards, { value: LEGACY_ALERT_FEED, filters: status }] };
}

/** The stream whose next alert is the newest (ties: the first partition); undefined when all are done. */
function newestHead(streams: readonly Stream[]): Stream | undefined {
  let newest: Stream | undefined;
  for (const stream of streams) {
    const head = stream.buffer[0]?.raisedAt?.S;
    if (head === undefined) continue;
    if (newest === undefined || head > (newest.buffer[0]?.raisedAt?.S ?? '')) newest = stream;
  }
  return newest;
}

/** A cursor is only valid for the query that produced it: same index, same filters, same partitions. */
function queryFingerprint(listing: Listing, query: AlertQuery): string {
  return JSON.stringify([listing.indexName, query.accountId ?? null, query.severity ?? null, query.status ?? null, listing.partitions.length]);
}

/** Per partition: null to start from the newest, 'end' when read through, else [raisedAt, alert id without its suffix]. */
const CursorPosition = z.union([z.null(), z.literal('end'), z.tuple([z.string().max(32), z.string().max(64)])]);
const CursorDocument = z.strictObject({
  query: z.string().max(ALERT_CURSOR_CHARS_MAX),
  positions: z.array(CursorPosition).min(1).max(LISTING_PARTITIONS_MAX),
});
type Position = Item | 'end' | undefined;

function cursorKeyOf(item: Item, listing: Listing): Item {
  const key: Item = {};
  for (const name of ['pk', listing.partitionAttribute, 'raisedAt']) {
    const value = item[name];
    if (value === undefined) throw new CorruptItemError(`alert item lacks its index key ${name}`);
    key[name] = value;
  }
  return key;
}

function encodeCursor(fingerprint: string, streams: readonly Stream[]): string {
  const positions = streams.map((stream) => {
    if (stream.exhausted && stream.buffer.length === 0) return 'end';
    if (stream.position === undefined) return null;
    const alertId = stream.position.pk?.S?.slice('ALERT#'.length) ?? '';
    const raisedAt = stream.position.raisedAt?.S ?? '';
    // Only positions decodeCursor takes back: an alert this store wrote, at a time the envelope wrote.
    if (!ALERT_ID_PATTERN.test(alertId) || !ISO_INSTANT.test(raisedAt)) throw new CorruptItemError(`alert index key ${stream.position.pk?.S} at ${raisedAt} is not one this store wrote`);
    return [raisedAt, alertId.slice(0, -ALERT_ID_SUFFIX.length)];
  });
  const cursor = Buffer.from(JSON.stringify({ query: fingerprint, positions }), 'utf8').toString('base64url');
  assert.ok(cursor.length <= ALERT_CURSOR_CHARS_MAX, `an alert cursor of ${cursor.length} characters`);
  return cursor;
}

/** The positions a cursor holds, one per partition of the listing; anything this store did not issue is refused. */
function decodeCursor(cursor: string, fingerprint: string, listing: Listing): Position[] {
  const forged = () => new InvalidCursorError('the cursor is not one this API issued');
  if (cursor.length > ALERT_CURSOR_CHARS_MAX) throw forged();
  let parsed: z.infer<typeof CursorDocument>;
  try {
    parsed = CursorDocument.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw forged();
  }
  if (parsed.query !== fingerprint) throw new InvalidCursorError('the cursor belongs to a query with other filters');
  if (parsed.positions.length !== listing.partitions.length) throw forged();
  return parsed.positions.map((position, index): Position => {
    if (position === null) return undefined;
    if (position === 'end') return 'end';
    // Only keys this store could have written: anything else could make DynamoDB refuse the query.
    const [raisedAt, id] = position;
    const alertId = `${id}${ALERT_ID_SUFFIX}`;
    if (!ALERT_ID_PATTERN.test(alertId) || !ISO_INSTANT.test(raisedAt)) throw forged();
    const partition = listing.partitions[index]?.value ?? '';
    return { ...alertKey(alertId), [listing.partitionAttribute]: { S: partition }, raisedAt: { S: raisedAt } };
  });
}

export { alertKey };

export function alertToItem(alert: AlertRecord): Item {
  const item: Item = {
    ...alertKey(alert.alertId),
    entity: { S: ENTITY },
    alertId: { S: alert.alertId },
    transactionId: { S: alert.transactionId },
    alertAccountId: { S: alert.accountId },
    alertStatus: { S: alert.status },
    alertFeed: { S: alertFeedOf(alert.status, alert.alertId) },
    alertSeverity: { S: alert.severity },
    totalWeight: { N: String(alert.totalWeight) },
    rulesHit: { S: JSON.stringify(alert.rulesHit) },
    amountMinor: { N: String(alert.amountMinor) },
    currency: { S: alert.currency },
    channel: { S: alert.channel },
    raisedAt: { S: alert.raisedAt },
    storedAt: { S: alert.storedAt },
  };
  if (alert.notifiedAt !== undefined) item.notifiedAt = { S: alert.notifiedAt };
  if (alert.frozenEventPublishedAt !== undefined) item.frozenEventPublishedAt = { S: alert.frozenEventPublishedAt };
  if (alert.freeze !== undefined) {
    item.freezeOutcome = { S: alert.freeze.outcome };
    item.freezeAt = { S: alert.freeze.at };
  }
  if (alert.resolution !== undefined) {
    item.resolution = { S: alert.resolution.resolution };
    item.resolutionNote = { S: alert.resolution.note };
    item.resolvedAt = { S: alert.resolution.resolvedAt };
    if (alert.resolution.resolvedBy !== undefined) {
      item.resolvedByRole = { S: alert.resolution.resolvedBy.role };
      item.resolvedByPrincipal = { S: alert.resolution.resolvedBy.principal };
    }
  }
  return item;
}

const StoredAlert = z.object({
  alertId: z.string(),
  transactionId: z.string(),
  alertAccountId: z.string(),
  alertStatus: z.enum(ALERT_STATUSES),
  alertSeverity: RiskAlertRaisedData.shape.severity,
  totalWeight: z.number().int().nonnegative(),
  rulesHit: z.string().transform((json, context) => {
    try {
      return RiskAlertRaisedData.shape.rulesHit.parse(JSON.parse(json));
    } catch {
      context.addIssue({ code: 'custom', message: 'rulesHit is not a list of rule hits' });
      return z.NEVER;
    }
  }),
  amountMinor: RiskAlertRaisedData.shape.amountMinor,
  currency: RiskAlertRaisedData.shape.currency,
  channel: RiskAlertRaisedData.shape.channel,
  raisedAt: z.string(),
  storedAt: z.string(),
  notifiedAt: z.string().optional(),
  frozenEventPublishedAt: z.string().optional(),
  freezeOutcome: z.enum(FREEZE_OUTCOMES).optional(),
  freezeAt: z.string().optional(),
  resolution: z.enum(ALERT_RESOLUTIONS).optional(),
  resolutionNote: z.string().optional(),
  resolvedAt: z.string().optional(),
  resolvedByRole: z.enum(ADMIN_ROLES).optional(),
  resolvedByPrincipal: z.string().optional(),
});

export function alertFromItem(item: Item): AlertRecord {
  const plain: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (value.S !== undefined) plain[name] = value.S;
    else if (value.N !== undefined) plain[name] = Number(value.N);
  }
  const parsed = StoredAlert.safeParse(plain);
  if (!parsed.success) throw new CorruptItemError(`alert ${String(plain.alertId)}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
  const stored = parsed.data;
  return {
    alertId: stored.alertId,
    transactionId: stored.transactionId,
    accountId: stored.alertAccountId,
    severity: stored.alertSeverity,
    totalWeight: stored.totalWeight,
    rulesHit: stored.rulesHit,
    amountMinor: stored.amountMinor,
    currency: stored.currency,
    channel: stored.channel,
    raisedAt: stored.raisedAt,
    status: stored.alertStatus,
    storedAt: stored.storedAt,
    ...(stored.notifiedAt !== undefined ? { notifiedAt: stored.notifiedAt } : {}),
    ...(stored.frozenEventPublishedAt !== undefined ? { frozenEventPublishedAt: stored.frozenEventPublishedAt } : {}),
    ...(stored.freezeOutcome !== undefined && stored.freezeAt !== undefined ? { freeze: { outcome: stored.freezeOutcome, at: stored.freezeAt } } : {}),
    ...(stored.resolution !== undefined && stored.resolutionNote !== undefined && stored.resolvedAt !== undefined
      ? {
          resolution: {
            resolution: stored.resolution,
            note: stored.resolutionNote,
            resolvedAt: stored.resolvedAt,
            ...(stored.resolvedByRole !== undefined && stored.resolvedByPrincipal !== undefined
              ? { resolvedBy: { role: stored.resolvedByRole, principal: stored.resolvedByPrincipal } }
              : {}),
          },
        }
      : {}),
  };
}
