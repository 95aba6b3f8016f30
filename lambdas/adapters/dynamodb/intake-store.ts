// DynamoDB implementation of the IntakeStore port, on the requests table (one item per transfer
// id, expiring through TTL once the idempotency window has passed).
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { IntakeStore, RecordIntakeResult, TransferIntake } from '../../core/intake/ports.js';
import { CorruptItemError, transferFromItem, transferToItem, type Item } from './ledger-items.js';
import { topology } from '../../../lib/topology.js';

/** How long a request record is kept for idempotent replays (and recovery) before TTL removes it. */
export const INTAKE_RETENTION_SECONDS = 7 * 86_400;
/** Shards per acceptance hour in the sweep index (spreads one hour's writes over partitions). */
export const ACCEPTANCE_BUCKET_SHARDS = 8;
/** Bound on index pages read per bucket in one listing. */
const BUCKET_PAGES_MAX = 1_000;
const HOUR_MS = 3_600_000;

const SWEEP_INDEX = topology.tables.requests.globalSecondaryIndexes[0];

export type IntakeListing = 'index' | 'scan';

const intakeKey = (transferId: string): Item => ({ pk: { S: `REQUEST#${transferId}` } });

export class DynamoIntakeStore implements IntakeStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  readonly #listBy: IntakeListing;

  /**
   * @param listBy how listAccepted finds intakes: through the acceptance index (a few queries per
   *   hour of window; right for a short window over a large table, the scheduled sweep) or one
   *   table scan (right for a long window over a small table, a local runtime's start-up sweep).
   *   A scan lists in no order at all, so it keeps the per-account prefix promise only when it is
   *   read to the end: use it only with a bound the table cannot reach.
   */
  constructor(client: DynamoDBClient, tableName: string, listBy: IntakeListing = 'index') {
    this.#client = client;
    this.#tableName = tableName;
    this.#listBy = listBy;
  }

  async recordAccepted(intake: TransferIntake): Promise<RecordIntakeResult> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: toItem(intake),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = error.Item !== undefined ? fromItem(error.Item) : await this.get(intake.request.transferId);
      if (existing === undefined) throw new CorruptItemError(`intake ${intake.request.transferId}: condition failed but no item`);
      return { created: false, existing };
    }
  }

  async discard(transferId: string, contentHash: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: intakeKey(transferId),
          ConditionExpression: 'contentHash = :hash',
          ExpressionAttributeValues: { ':hash': { S: contentHash } },
        }),
      );
    } catch (error) {
      // Gone already, or another request's content: either way not ours to remove.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  listAccepted(fromIso: string, toIso: string): AsyncIterable<TransferIntake> {
    return this.#listBy === 'index' ? this.#listByIndex(fromIso, toIso) : this.#listByScan(fromIso, toIso);
  }

  async *#listByScan(fromIso: string, toIso: string): AsyncIterable<TransferIntake> {
    let startKey: Item | undefined;
    for (let page = 0; page < BUCKET_PAGES_MAX; page++) {
      const result = await this.#client.send(
        new ScanCommand({
          TableName: this.#tableName,
          FilterExpression: 'entity = :intake AND acceptedAt >= :from AND acceptedAt < :to',
          ExpressionAttributeValues: { ':intake': { S: 'INTAKE' }, ':from': { S: fromIso }, ':to': { S: toIso } },
          ConsistentRead: true,
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) yield fromItem(item);
      startKey = result.LastEvaluatedKey;
      if (startKey === undefined) return;
    }
    throw new CorruptItemError(`requests table has more than ${BUCKET_PAGES_MAX} scan pages`);
  }

  async *#listByIndex(fromIso: string, toIso: string): AsyncIterable<TransferIntake> {
    const fromMs = Date.parse(fromIso);
    const toMs = Date.parse(toIso);
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new RangeError(`bad window ${fromIso} .. ${toIso}`);
    for (let hourMs = Math.floor(fromMs / HOUR_MS) * HOUR_MS; hourMs < toMs; hourMs += HOUR_MS) {
      const hour = new Date(hourMs).toISOString().slice(0, 13);
      // One page at a time: memory stays bounded by a page whatever the window holds.
      for (let shard = 0; shard < ACCEPTANCE_BUCKET_SHARDS; shard++) yield* this.#listBucket(`${hour}#${shard}`, fromIso, toIso);
    }
  }

  async *#listBucket(bucket: string, fromIso: string, toIso: string): AsyncIterable<TransferIntake> {
    let startKey: Item | undefined;
    for (let page = 0; page < BUCKET_PAGES_MAX; page++) {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: SWEEP_INDEX.indexName,
          KeyConditionExpression: '#bucket = :bucket AND #acceptedAt BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#bucket': SWEEP_INDEX.partitionKey, '#acceptedAt': SWEEP_INDEX.sortKey },
          ExpressionAttributeValues: { ':bucket': { S: bucket }, ':from': { S: fromIso }, ':to': { S: toIso } },
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        const intake = fromItem(item);
        if (intake.acceptedAt < toIso) yield intake;
      }
      startKey = result.LastEvaluatedKey;
      if (startKey === undefined) return;
    }
    throw new CorruptItemError(`acceptance bucket ${bucket} has more than ${BUCKET_PAGES_MAX} pages`);
  }

  async get(transferId: string): Promise<TransferIntake | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: intakeKey(transferId), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : fromItem(Item);
  }
}

/**
 * The request itself is stored with the transfer item layout (status/decidedAt are placeholders
 * there: an intake has no outcome), so both tables share one strict codec for transfer fields.
 */
function toItem(intake: TransferIntake): Item {
  const transfer = transferToItem({ ...intake.request, status: 'POSTED', contentHash: intake.contentHash, decidedAt: intake.acceptedAt });
  const { pk: _pk, entity: _entity, status: _status, decidedAt: _decidedAt, ...requestFields } = transfer;
  const acceptedSeconds = Math.floor(Date.parse(intake.acceptedAt) / 1_000);
  return {
    ...intakeKey(intake.request.transferId),
    entity: { S: 'INTAKE' },
    ...requestFields,
    idempotencyKey: { S: intake.idempotencyKey },
    apiRequestId: { S: intake.apiRequestId },
    acceptedAt: { S: intake.acceptedAt },
    [SWEEP_INDEX.partitionKey]: { S: acceptanceBucket(intake) },
    expiresAtEpochSeconds: { N: String(acceptedSeconds + INTAKE_RETENTION_SECONDS) },
  };
}

function fromItem(item: Item): TransferIntake {
  const acceptedAt = item.acceptedAt?.S;
  const idempotencyKey = item.idempotencyKey?.S;
  const apiRequestId = item.apiRequestId?.S;
  if (acceptedAt === undefined || idempotencyKey === undefined || apiRequestId === undefined) {
    throw new CorruptItemError('intake item lacks acceptedAt, idempotencyKey or apiRequestId');
  }
  const { status: _status, decidedAt: _decidedAt, contentHash, ...request } = transferFromItem({
    ...item,
    status: { S: 'POSTED' },
    decidedAt: { S: acceptedAt },
  });
  return { request, idempotencyKey, contentHash, apiRequestId, acceptedAt };
}

/**
 * `<acceptance hour>#<shard>`, the shard a stable function of the debtor account: all of an
 * account's requests of one hour are in one bucket, listed in acceptance order (the index's sort
 * key). A sweep cut short by its bound has then seen, for every account, a prefix of its requests
 * in acceptance order, never a later one without the earlier ones.
 */
function acceptanceBucket(intake: TransferIntake): string {
  return `${intake.acceptedAt.slice(0, 13)}#${shardOf(intake.request.debtorAccountId)}`;
}

function shardOf(accountId: string): number {
  let hash = 0;
  for (const character of accountId) hash = (Math.imul(hash, 31) + character.charCodeAt(0)) >>> 0;
  return hash % ACCEPTANCE_BUCKET_SHARDS;
}
