// Raised alerts on the risk table: stored once per alert id (conditional put), the alerts
// handler's progress marks (notified, freeze outcome) that keep a redelivery from acting twice,
// the analyst's resolution (conditional on the alert still being OPEN), and newest-first listings
// through the table's three alert indexes with opaque, query-bound pagination cursors.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
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
  type AlertStore,
  type RaisedAlert,
  type ResolveResult,
} from '../../core/risk/alerts.js';
import { CorruptItemError, type Item } from './ledger-items.js';
import { ADMIN_ROLES } from '../../core/trust/api-client.js';

const ENTITY = 'ALERT';
/** The one value of the alertsByTime index's partition key. */
const ALERT_FEED = 'ALERT';
/** Items read per Query; a filtered page may need several reads, bounded by QUERY_READS_MAX. */
const QUERY_PAGE_ITEMS = 100;
const QUERY_READS_MAX = 10;

const alertKey = (alertId: string): Item => ({ pk: { S: `ALERT#${alertId}` } });
/** raisedAt as the envelope writes it (toISOString). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface IndexChoice {
  readonly indexName: 'alertsByAccount' | 'alertsByStatus' | 'alertsByTime';
  readonly partitionAttribute: 'alertAccountId' | 'alertStatus' | 'alertFeed';
  readonly partitionValue: string;
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

  async listAlerts(query: AlertQuery): Promise<AlertPage> {
    const index = indexFor(query);
    const fingerprint = queryFingerprint(index, query);
    let startKey = query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint, index);
    const filters: string[] = [];
    const values: Item = { ':partition': { S: index.partitionValue } };
    if (query.severity !== undefined) {
      filters.push('alertSeverity = :severity');
      values[':severity'] = { S: query.severity };
    }
    if (query.status !== undefined && index.indexName !== 'alertsByStatus') {
      filters.push('alertStatus = :status');
      values[':status'] = { S: query.status };
    }
    const alerts: AlertRecord[] = [];
    for (let reads = 0; reads < QUERY_READS_MAX; reads++) {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: index.indexName,
          KeyConditionExpression: `${index.partitionAttribute} = :partition`,
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: QUERY_PAGE_ITEMS,
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const items = page.Items ?? [];
      const wanted = query.limit - alerts.length;
      if (items.length > wanted) {
        // The page overshoots: the cursor is the last alert handed out, not the end of the read.
        const taken = items.slice(0, wanted);
        alerts.push(...taken.map(alertFromItem));
        return { alerts, cursor: encodeCursor(fingerprint, cursorKeyOf(taken.at(-1) as Item, index)) };
      }
      alerts.push(...items.map(alertFromItem));
      startKey = page.LastEvaluatedKey;
      if (startKey === undefined) return { alerts };
      if (alerts.length === query.limit) break;
    }
    // A full page, or a sparse filter that used up this call's reads: the client carries on.
    if (startKey === undefined) return { alerts };
    return { alerts, cursor: encodeCursor(fingerprint, startKey) };
  }

  async resolveAlert(alertId: string, resolution: AlertResolutionRecord): Promise<ResolveResult> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: alertKey(alertId),
          UpdateExpression: `SET alertStatus = :resolved, resolution = :resolution, resolutionNote = :note, resolvedAt = :at${
            resolution.resolvedBy !== undefined ? ', resolvedByRole = :role, resolvedByPrincipal = :principal' : ''
          }`,
          ConditionExpression: 'attribute_exists(pk) AND alertStatus = :open',
          ExpressionAttributeValues: {
            ':resolved': { S: 'RESOLVED' },
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

function indexFor(query: AlertQuery): IndexChoice {
  if (query.accountId !== undefined) return { indexName: 'alertsByAccount', partitionAttribute: 'alertAccountId', partitionValue: query.accountId };
  if (query.status !== undefined) return { indexName: 'alertsByStatus', partitionAttribute: 'alertStatus', partitionValue: query.status };
  return { indexName: 'alertsByTime', partitionAttribute: 'alertFeed', partitionValue: ALERT_FEED };
}

/** A cursor is only valid for the query that produced it: same index, same filters. */
function queryFingerprint(index: IndexChoice, query: AlertQuery): string {
  return JSON.stringify([index.indexName, query.accountId ?? null, query.severity ?? null, query.status ?? null]);
}

const CursorDocument = z.strictObject({
  query: z.string(),
  key: z.record(z.string(), z.string().min(1).max(1_024)),
});

function cursorKeyOf(item: Item, index: IndexChoice): Item {
  const key: Item = {};
  for (const name of ['pk', index.partitionAttribute, 'raisedAt']) {
    const value = item[name];
    if (value === undefined) throw new CorruptItemError(`alert item lacks its index key ${name}`);
    key[name] = value;
  }
  return key;
}

function encodeCursor(fingerprint: string, key: Item): string {
  const plain = Object.fromEntries(Object.entries(key).map(([name, value]) => [name, value.S ?? '']));
  return Buffer.from(JSON.stringify({ query: fingerprint, key: plain }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, fingerprint: string, index: IndexChoice): Item {
  let parsed: z.infer<typeof CursorDocument>;
  try {
    parsed = CursorDocument.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidCursorError('the cursor is not one this API issued');
  }
  if (parsed.query !== fingerprint) throw new InvalidCursorError('the cursor belongs to a query with other filters');
  const expected = ['pk', index.partitionAttribute, 'raisedAt'].sort();
  if (JSON.stringify(Object.keys(parsed.key).sort()) !== JSON.stringify(expected)) {
    throw new InvalidCursorError('the cursor is not one this API issued');
  }
  if (parsed.key[index.partitionAttribute] !== index.partitionValue) {
    throw new InvalidCursorError('the cursor belongs to a query with other filters');
  }
  // Only keys this store could have written: anything else could make DynamoDB refuse the query.
  const alertId = parsed.key.pk?.slice('ALERT#'.length) ?? '';
  if (!parsed.key.pk?.startsWith('ALERT#') || !ALERT_ID_PATTERN.test(alertId) || !ISO_INSTANT.test(parsed.key.raisedAt ?? '')) {
    throw new InvalidCursorError('the cursor is not one this API issued');
  }
  return Object.fromEntries(Object.entries(parsed.key).map(([name, value]) => [name, { S: value }]));
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
    alertFeed: { S: ALERT_FEED },
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
