// DynamoDB state for risk screening, on the risk table: window counters, the per-transfer
// screening marker and first-payment markers per debtor/creditor pair. A transfer is counted
// exactly once: the marker (attribute_not_exists) and every counter increment are ONE
// TransactWriteItems, so a redelivered event finds the marker and changes nothing.
import {
  BatchGetItemCommand,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import type { CounterFamily, CounterIncrement } from '../../core/risk/windows.js';
import { CorruptItemError, type Item } from './ledger-items.js';

/** Screening markers outlive any window a redelivery could arrive in (SQS keeps messages 4 days). */
export const SCREENING_MARKER_RETENTION_SECONDS = 14 * 86_400;
const BATCH_GET_KEYS_MAX = 100;
const BATCH_GET_ATTEMPTS_MAX = 8;

export class RiskStoreError extends Error {
  override name = 'RiskStoreError';
}

export interface CounterTotals {
  readonly count: number;
  readonly amountMinor: number;
}

export interface ScreeningRecord {
  readonly transferId: string;
  readonly increments: readonly CounterIncrement[];
  /** Present for posted transfers: remembers the first transfer from debtor to creditor. */
  readonly payeePair?: { readonly debtorAccountId: string; readonly creditorAccountId: string };
  readonly screenedAtEpochSeconds: number;
}

const counterKey = (family: CounterFamily, subject: string, bucketStartEpochSeconds: number): Item => ({
  pk: { S: `COUNTER#${family}#${subject}#${bucketStartEpochSeconds}` },
});
const markerKey = (transferId: string): Item => ({ pk: { S: `SCREENED#${transferId}` } });
const payeeKey = (debtorAccountId: string, creditorAccountId: string): Item => ({ pk: { S: `PAYEE#${debtorAccountId}#${creditorAccountId}` } });

export class DynamoRiskStore {
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
      ...record.increments.map((increment) => this.#incrementItem(increment)),
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

  #incrementItem(increment: CounterIncrement): TransactWriteItem {
    return {
      Update: {
        TableName: this.#tableName,
        Key: counterKey(increment.family, increment.subject, increment.bucketStartEpochSeconds),
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

  /** Sums a counter family for one subject over the given buckets (missing buckets count 0). */
  async windowTotals(family: CounterFamily, subject: string, bucketStarts: readonly number[]): Promise<CounterTotals> {
    let count = 0;
    let amountMinor = 0;
    for (let start = 0; start < bucketStarts.length; start += BATCH_GET_KEYS_MAX) {
      let keys: Item[] = bucketStarts.slice(start, start + BATCH_GET_KEYS_MAX).map((bucket) => counterKey(family, subject, bucket));
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > BATCH_GET_ATTEMPTS_MAX) throw new RiskStoreError(`${keys.length} counter keys unprocessed after ${BATCH_GET_ATTEMPTS_MAX} attempts`);
        const result = await this.#client.send(
          new BatchGetItemCommand({ RequestItems: { [this.#tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.#tableName] ?? []) {
          count += integer(item, 'eventCount');
          amountMinor += integer(item, 'amountMinor');
        }
        keys = result.UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
      }
    }
    return { count, amountMinor };
  }

  /** Whether this transfer is the first that posted from debtor to creditor. */
  async isFirstToCreditor(debtorAccountId: string, creditorAccountId: string, transferId: string): Promise<boolean> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: payeeKey(debtorAccountId, creditorAccountId), ConsistentRead: true }),
    );
    return Item?.firstTransferId?.S === transferId;
  }
}

function integer(item: Item, name: string): number {
  const value = item[name]?.N;
  if (value === undefined || !/^\d+$/.test(value)) throw new CorruptItemError(`counter attribute ${name} is not a count: ${value}`);
  return Number(value);
}
