// How an institution's settlement state is spread so that no single item limits its rate: how many
// position shards an expected rate needs, and which shard a transfer uses. Pure rules; the item
// layout is the adapter's (adapters/dynamodb/position-shards.ts).

/** Shards per institution and currency at most (a close rolls each; a cap change writes each). */
export const POSITION_SHARDS_MAX = 32;
/**
 * Transfers per second one shard is planned for: DynamoDB takes about 500 transactional writes
 * per second on one item, and concurrent transactions on it conflict well before that.
 */
export const SHARD_TRANSFERS_PER_SECOND = 200;

/** The shards an institution expecting `transfersPerSecond` (paid plus received) should have. */
export function shardCountFor(transfersPerSecond: number): number {
  return Math.min(POSITION_SHARDS_MAX, Math.max(1, Math.ceil(transfersPerSecond / SHARD_TRANSFERS_PER_SECOND)));
}

/**
 * The shard a transfer uses among `shardCount`: a stable hash of its id (FNV-1a), so every
 * redelivery of a transfer meets the same shard and the load spreads evenly.
 */
export function shardOf(transferId: string, shardCount: number): number {
  if (shardCount <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let index = 0; index < transferId.length; index++) {
    hash ^= transferId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}
