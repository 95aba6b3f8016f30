// DynamoDB state for risk screening, on the risk table: window counters, the per-transfer
// screening marker and first-payment markers per debtor/creditor pair. A transfer is counted
// exactly once: the marker (attribute_not_exists) and every counter increment are ONE
// TransactWriteItems, so a redelivered event finds the marker and changes nothing. A counter
// family shared by many accounts is split into shards per bucket, one chosen by the transfer id.
import assert from 'node:assert/strict';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  TransactWriteItemsCommand,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { RiskAlertRaisedData } from '../../core/events/envelope.js';
import type { CounterTotals, PayeeRead, RiskStore, ScreeningRecord, ScreeningState, ScreeningVerdict, WindowRead } from '../../core/risk/ports.js';
import type { CounterFamily, CounterIncrement } from '../../core/risk/windows.js';
import { batchGetAll } from './batch-get.js';
import { CorruptItemError, type Item } from './ledger-items.js';

/** Screening markers outlive any window a redelivery could arrive in (SQS keeps messages 4 days). */
export const SCREENING_MARKER_RETENTION_SECONDS = 14 * 86_400;

/** The verdict as kept on the marker (JSON): checked on read, as anything read from the table is. */
const StoredVerdict = z.strictObject({
  severity: RiskAlertRaisedData.shape.severity.optional(),
  totalWeight: z.number().int().nonnegative(),
  rulesHit: z.array(RiskAlertRaisedData.shape.rulesHit.element),
});

/**
 * Items per counter bucket, by family. Every family but one is about one account: its counters
 * are hot only when the account is, and its ACCOUNT item is the wall first. A channel's rejections
 * are shared by every customer of an institution's channel (all its POS terminals) and come in
 * thousands a second under card testing, past the ~500 transactional writes/s one item takes: 8
 * shards take 4,000/s. More would buy nothing: every rejection reads every shard of the window
 * (consistently, 1 RCU each), so at 3,000 rejections/s of one channel each shard reaches the
 * 3,000 RCU/s a partition serves; and a rejected transfer's read stays one BatchGetItem (7 buckets
 * x 8 shards + 7 of its account, under 100 keys).
 *
 * Counters written before a family was sharded (one item per bucket, no shard segment) are not
 * read: the rejection window is 10 minutes (read as 7 buckets of 100 s) and its counters expire by
 * TTL soon after, so the old items drop out of every window 11 minutes after the change, while
 * reading them would cost every rejection 7 more keys for good. Until then a channel's count starts
 * from the rejections made since the change (the per-account count, unsharded, is unaffected).
 */
export const COUNTER_SHARDS: Readonly<Record<CounterFamily, number>> = {
  'debits-velocity': 1,
  'debits-amount': 1,
  'near-threshold': 1,
  'rejections-account': 1,
  'rejections-channel': 8,
};

/**
 * The shard an id falls in among `shardCount`: a stable hash (FNV-1a), so every redelivery of one
 * transfer meets the same shard, and ids spread evenly over the shards.
 */
export function stableShardOf(id: string, shardCount: number): number {
  assert.ok(Number.isInteger(shardCount) && shardCount >= 1, `shard count ${shardCount}`);
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}

/**
 * A counter's item: `COUNTER#<family>#<subject>#<bucket>`, or for a sharded family
 * `COUNTER#<family>#<subject>#s<shard>#<bucket>` (the bucket stays last: the capacity model folds
 * a counter's buckets into one hot key by it).
 */
function counterKey(family: CounterFamily, subject: string, bucketStartEpochSeconds: number, shard: number): Item {
  const shards = COUNTER_SHARDS[family];
  assert.ok(Number.isInteger(shard) && shard >= 0 && shard < shards, `shard ${shard} of ${family}`);
  return { pk: { S: shards === 1 ? `COUNTER#${family}#${subject}#${bucketStartEpochSeconds}` : `COUNTER#${family}#${subject}#s${shard}#${bucketStartEpochSeconds}` } };
}

/** Every item a counter bucket is kept in (one per shard). */
function counterKeysOf(family: CounterFamily, subject: string, bucketStartEpochSeconds: number): Item[] {
  return Array.from({ length: COUNTER_SHARDS[family] }, (_, shard) => counterKey(family, subject, bucketStartEpochSeconds, shard));
}

const markerKey = (transferId: string): Item => ({ pk: { S: `SCREENED#${transferId}` } });
const payeeKey = (debtorAccountId: string, creditorAccountId: string): Item => ({ pk: { S: `PAYEE#${debtorAccountId}#${creditorAccountId}` } });

export class DynamoRiskStore implements RiskStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  /** Counts the transfer once; 'already-counted' when its marker exists (a redelivery). */
  async recordScreening(record: ScreeningRecord): Promise<'counted' | 'already-counted'> {
    const items: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.#tableName,
          Item: {
            ...markerKey(record.transferId),
            entity: { S: 'SCREENING_MARKER' },
            expiresAtEpochSeconds: { N: String(record.screenedAtEpochSeconds + SCREENING_MARKER_RETENTION_SECONDS) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...record.increments.map((increment) => this.#incrementItem(increment, record.transferId)),
    ];
    if (record.payeePair !== undefined) {
      items.push({
        Update: {
          TableName: this.#tableName,
          Key: payeeKey(record.payeePair.debtorAccountId, record.payeePair.creditorAccountId),
          UpdateExpression: 'SET firstTransferId = if_not_exists(firstTransferId, :transfer), entity = :entity',
          ExpressionAttributeValues: { ':transfer': { S: record.transferId }, ':entity': { S: 'PAYEE_PAIR' } },
        },
      });
    }
    try {
      await this.#client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return 'counted';
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
        return 'already-counted';
      }
      throw error; // throttling, conflicts: the message is retried and the marker keeps it once
    }
  }

  /** The transfer adds to one shard of the bucket, the same one on every delivery. */
  #incrementItem(increment: CounterIncrement, transferId: string): TransactWriteItem {
    const shard = stableShardOf(transferId, COUNTER_SHARDS[increment.family]);
    return {
      Update: {
        TableName: this.#tableName,
        Key: counterKey(increment.family, increment.subject, increment.bucketStartEpochSeconds, shard),
        UpdateExpression: 'ADD eventCount :one, amountMinor :amount SET expiresAtEpochSeconds = :expires, entity = :entity',
        ExpressionAttributeValues: {
          ':one': { N: '1' },
          ':amount': { N: String(increment.amountMinor) },
          ':expires': { N: String(increment.expiresAtEpochSeconds) },
          ':entity': { S: 'COUNTER' },
        },
      },
    };
  }

  /**
   * Keeps the verdict on the transfer's marker unless one is there already; returns the verdict
   * that stands (a concurrent or earlier delivery's, if it got there first).
   */
  async recordVerdict(transferId: string, verdict: ScreeningVerdict): Promise<ScreeningVerdict> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: markerKey(transferId),
          UpdateExpression: 'SET verdict = :verdict',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(verdict)',
          ExpressionAttributeValues: { ':verdict': { S: JSON.stringify(verdict) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return verdict;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = error.Item === undefined ? undefined : verdictOf(error.Item);
      if (stored === undefined) throw new CorruptItemError(`screening marker of ${transferId} is missing`);
      return stored;
    }
  }

  /** The verdict kept for a screened transfer; undefined if it was counted but never concluded. */
  async storedVerdict(transferId: string): Promise<ScreeningVerdict | undefined> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: markerKey(transferId), ConsistentRead: true }));
    return Item === undefined ? undefined : verdictOf(Item);
  }

  /** Sums a counter family for one subject over the given buckets (missing buckets count 0). */
  async windowTotals(family: CounterFamily, subject: string, bucketStarts: readonly number[]): Promise<CounterTotals> {
    const [totals] = (await this.readScreeningState([{ family, subject, bucketStarts }])).windows;
    return totals ?? { count: 0, amountMinor: 0 };
  }

  /**
   * Everything screening reads about a transfer's history, in one consistent BatchGetItem (while
   * the keys fit in one): each window's sum over its buckets and their shards (in the order asked)
   * and, for a posted transfer, whether it is the first from its debtor to its creditor. One round
   * trip instead of one per window.
   */
  async readScreeningState(windows: readonly WindowRead[], payee?: PayeeRead): Promise<ScreeningState> {
    const keys = windows.flatMap((window) => window.bucketStarts.flatMap((bucket) => counterKeysOf(window.family, window.subject, bucket)));
    const payeeItemKey = payee === undefined ? undefined : payeeKey(payee.debtorAccountId, payee.creditorAccountId);
    // BatchGetItem refuses a request that names one key twice.
    const distinct = [...new Map([...keys, ...(payeeItemKey === undefined ? [] : [payeeItemKey])].map((key) => [key.pk?.S, key])).values()];
    const items = await batchGetAll(this.#client, this.#tableName, distinct);
    const byKey = new Map(items.map((item) => [item.pk?.S, item]));
    const totals = windows.map((window): CounterTotals => {
      let count = 0;
      let amountMinor = 0;
      for (const bucket of window.bucketStarts) {
        for (const key of counterKeysOf(window.family, window.subject, bucket)) {
          const item = byKey.get(key.pk?.S);
          if (item === undefined) continue;
          count += integer(item, 'eventCount');
          amountMinor += integer(item, 'amountMinor');
        }
      }
      return { count, amountMinor };
    });
    const firstTransferId = payeeItemKey === undefined ? undefined : byKey.get(payeeItemKey.pk?.S)?.firstTransferId?.S;
    return { windows: totals, firstToCreditor: payee !== undefined && firstTransferId === payee.transferId };
  }
}

function verdictOf(item: Item): ScreeningVerdict | undefined {
  const json = item.verdict?.S;
  if (json === undefined) return undefined;
  try {
    const parsed = StoredVerdict.parse(JSON.parse(json));
    return { ...(parsed.severity !== undefined ? { severity: parsed.severity } : {}), totalWeight: parsed.totalWeight, rulesHit: parsed.rulesHit };
  } catch {
    throw new CorruptItemError('screening verdict is not one this code wrote');
  }
}

function integer(item: Item, name: string): number {
  const value = item[name]?.N;
  if (value === undefined || !/^\d+$/.test(value)) throw new CorruptItemError(`counter attribute ${name} is not a count: ${value}`);
  return Number(value);
}
