// Consistent BatchGetItem over any number of keys of one table: chunks of 100 (the API's limit),
// unprocessed keys retried with exponential backoff, boundedly; and a snapshot of a few items read
// at one instant (TransactGetItems). The one place both stores read many items at once.
import { BatchGetItemCommand, TransactGetItemsCommand, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Item } from './ledger-items.js';

export const BATCH_GET_KEYS_MAX = 100;
export const BATCH_GET_ATTEMPTS_MAX = 8;
const BACKOFF_BASE_MS = 15;

export class BatchGetIncompleteError extends Error {
  override name = 'BatchGetIncompleteError';
}

export interface BatchGetOptions {
  readonly projection?: string;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Every item found for `keys` (absent keys are simply not returned), read consistently. */
export async function batchGetAll(client: DynamoDBClient, tableName: string, keys: readonly Item[], options: BatchGetOptions = {}): Promise<Item[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_KEYS_MAX) {
    let pending: Item[] = keys.slice(start, start + BATCH_GET_KEYS_MAX);
    // Under load BatchGetItem may leave keys unprocessed; those are asked for again.
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > BATCH_GET_ATTEMPTS_MAX) throw new BatchGetIncompleteError(`${pending.length} keys of ${tableName} still unprocessed after ${BATCH_GET_ATTEMPTS_MAX} attempts`);
      const result = await client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [tableName]: { Keys: pending, ConsistentRead: true, ...(options.projection !== undefined ? { ProjectionExpression: options.projection } : {}) },
          },
        }),
      );
      found.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (pending.length > 0) await sleep(BACKOFF_BASE_MS * 2 ** attempt);
    }
  }
  return found;
}

/** Snapshot reads tried before the caller falls back: writes in flight on the items cancel them. */
export const SNAPSHOT_ATTEMPTS_MAX = 3;

/**
 * The items at `keys` (at most 100) as they stood at one instant, in the keys' order, undefined
 * where absent; or 'busy' when every attempt was cancelled by writes in flight, and the caller
 * decides what it may conclude without a snapshot. With `sleep`, attempts back off linearly.
 */
export async function snapshotGet(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Item[],
  options: { readonly sleep?: (ms: number) => Promise<void> } = {},
): Promise<(Item | undefined)[] | 'busy'> {
  for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS_MAX; attempt++) {
    try {
      const { Responses = [] } = await client.send(new TransactGetItemsCommand({ TransactItems: keys.map((Key) => ({ Get: { TableName: tableName, Key } })) }));
      return Responses.map((response) => response.Item);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      if (attempt < SNAPSHOT_ATTEMPTS_MAX) await options.sleep?.(BACKOFF_BASE_MS * attempt);
    }
  }
  return 'busy';
}
