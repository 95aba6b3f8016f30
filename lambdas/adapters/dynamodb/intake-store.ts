// DynamoDB implementation of the IntakeStore port, on the requests table (one item per transfer
// id, expiring through TTL once the idempotency window has passed). An undecided intake carries an
// `undecidedShard` attribute, which puts it in a sparse index ordered by acceptance; marking it
// decided removes the attribute, so the recovery sweep reads undecided intakes only, however many
// requests the table holds.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { IntakeStore, RecordIntakeResult, TransferIntake, UnreadableIntake } from '../../core/intake/ports.js';
import { CorruptItemError, transferFromItem, transferToItem, type Item } from './ledger-items.js';
import { topology } from '../../../contract/topology.js';

/** How long a request record is kept for idempotent replays (and recovery) before TTL removes it. */
export const INTAKE_RETENTION_SECONDS = 7 * 86_400;
/**
 * Partitions of the undecided index. Every accepted request writes the index once and its decision
 * removes it once: at 10,000 requests/s that is 20,000 index writes/s, and one index partition
 * takes about 1,000, so 64 shards leave room. The shard is a function of the debtor account, which
 * keeps each account's undecided intakes in one partition, in acceptance order.
 */
export const UNDECIDED_SHARDS = 64;
/** A quarantine reason is kept to this many characters (it quotes validation messages). */
const QUARANTINE_REASON_MAX = 500;
/** Items per index page. */
const PAGE_ITEMS_MAX = 1_000;

const UNDECIDED_INDEX = topology.tables.requests.globalSecondaryIndexes[0];

const intakeKey = (transferId: string): Item => ({ pk: { S: `REQUEST#${transferId}` } });

export class DynamoIntakeStore implements IntakeStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
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

  async markDecided(transferId: string): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: intakeKey(transferId),
          UpdateExpression: 'REMOVE #shard',
          // Never create a stub item for a transfer that has no intake (expired, or not from the API).
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#shard': UNDECIDED_INDEX.partitionKey },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async markRequeued(transferId: string, atIso: string): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: intakeKey(transferId),
          UpdateExpression: 'SET requeuedAt = :at ADD requeueCount :one',
          // Only while undecided: a decided intake has nothing to wait for.
          ConditionExpression: 'attribute_exists(#shard)',
          ExpressionAttributeNames: { '#shard': UNDECIDED_INDEX.partitionKey },
          ExpressionAttributeValues: { ':at': { S: atIso }, ':one': { N: '1' } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async quarantine(transferId: string, reason: string, atIso: string): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: intakeKey(transferId),
          UpdateExpression: 'REMOVE #shard SET quarantinedAt = :at, quarantineReason = :reason',
          ConditionExpression: 'attribute_exists(#shard)',
          ExpressionAttributeNames: { '#shard': UNDECIDED_INDEX.partitionKey },
          ExpressionAttributeValues: { ':at': { S: atIso }, ':reason': { S: reason.slice(0, QUARANTINE_REASON_MAX) } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async *listUndecided(acceptedBeforeIso: string, limit: number): AsyncIterable<TransferIntake | UnreadableIntake> {
    if (!(limit >= 0)) throw new RangeError(`limit must be a number >= 0, got ${limit}`);
    const perShard = Math.ceil(limit / UNDECIDED_SHARDS);
    if (perShard === 0) return;
    // One shard after the other, one page at a time: memory stays bounded by a page.
    for (let shard = 0; shard < UNDECIDED_SHARDS; shard++) yield* this.#listShard(shard, acceptedBeforeIso, perShard);
  }

  async *#listShard(shard: number, acceptedBeforeIso: string, max: number): AsyncIterable<TransferIntake | UnreadableIntake> {
    let listed = 0;
    let startKey: Item | undefined;
    do {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: UNDECIDED_INDEX.indexName,
          KeyConditionExpression: '#shard = :shard AND #acceptedAt < :before',
          ExpressionAttributeNames: { '#shard': UNDECIDED_INDEX.partitionKey, '#acceptedAt': UNDECIDED_INDEX.sortKey },
          ExpressionAttributeValues: { ':shard': { S: shardKey(shard) }, ':before': { S: acceptedBeforeIso } },
          Limit: Math.min(PAGE_ITEMS_MAX, max - listed),
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        listed++;
        yield readListed(item);
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined && listed < max);
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
    [UNDECIDED_INDEX.partitionKey]: { S: shardKey(shardOf(intake.request.debtorAccountId)) },
    expiresAtEpochSeconds: { N: String(acceptedSeconds + INTAKE_RETENTION_SECONDS) },
  };
}

/** A damaged item is reported, not thrown: one of them must not stop the sweep for every account. */
function readListed(item: Item): TransferIntake | UnreadableIntake {
  try {
    return fromItem(item);
  } catch (error) {
    if (!(error instanceof CorruptItemError)) throw error;
    const transferId = item.pk?.S?.slice('REQUEST#'.length) ?? '';
    return { transferId, unreadable: error.message };
  }
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
  const requeuedAt = item.requeuedAt?.S;
  const requeueCount = item.requeueCount?.N;
  return {
    request,
    idempotencyKey,
    contentHash,
    apiRequestId,
    acceptedAt,
    ...(requeuedAt !== undefined ? { requeuedAt } : {}),
    ...(requeueCount !== undefined ? { requeueCount: Number(requeueCount) } : {}),
  };
}

const shardKey = (shard: number): string => `UNDECIDED#${shard}`;

function shardOf(accountId: string): number {
  let hash = 0;
  for (const character of accountId) hash = (Math.imul(hash, 31) + character.charCodeAt(0)) >>> 0;
  return hash % UNDECIDED_SHARDS;
}
