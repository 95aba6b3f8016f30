// DynamoDB state for risk screening, on the risk table: window counters, the per-transfer
// screening marker and first-payment markers per debtor/creditor pair. A transfer is counted
// exactly once: the marker (attribute_not_exists) and every counter increment are ONE
// TransactWriteItems, so a redelivered event finds the marker and changes nothing.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  TransactWriteItemsCommand,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
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

const counterKey = (family: CounterFamily, subject: string, bucketStartEpochSeconds: number): Item => ({
  pk: { S: `COUNTER#${family}#${subject}#${bucketStartEpochSeconds}` },
});
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
   * Everything screening reads about a transfer's history, in one consistent BatchGetItem: each
   * window's sum (in the order asked) and, for a posted transfer, whether it is the first from
   * its debtor to its creditor. One round trip instead of one per window.
   */
  async readScreeningState(windows: readonly WindowRead[], payee?: PayeeRead): Promise<ScreeningState> {
    const keys = windows.flatMap((window) => window.bucketStarts.map((bucket) => counterKey(window.family, window.subject, bucket)));
    const payeeItemKey = payee === undefined ? undefined : payeeKey(payee.debtorAccountId, payee.creditorAccountId);
    // BatchGetItem refuses a request that names one key twice.
    const distinct = [...new Map([...keys, ...(payeeItemKey === undefined ? [] : [payeeItemKey])].map((key) => [key.pk?.S, key])).values()];
    const items = await batchGetAll(this.#client, this.#tableName, distinct);
    const byKey = new Map(items.map((item) => [item.pk?.S, item]));
    const totals = windows.map((window): CounterTotals => {
      let count = 0;
      let amountMinor = 0;
      for (const bucket of window.bucketStarts) {
        const item = byKey.get(counterKey(window.family, window.subject, bucket).pk?.S);
        if (item === undefined) continue;
        count += integer(item, 'eventCount');
        amountMinor += integer(item, 'amountMinor');
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
