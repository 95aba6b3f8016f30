// How an institution's settlement state is spread so that no single item limits its rate: how many
// position shards an expected rate needs, and which shard a posting uses. Pure rules; the item
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
 * The shard a posting attempt uses among `shardCount`: drawn at random, never derived from the
 * transfer id, which a client chooses (through its idempotency key) and could aim at one shard of
 * another institution. A stable choice is not needed: the transfer record's conditional put keeps
 * a transfer to one posting, whichever shards its attempts met.
 */
export function pickShard(shardCount: number, random: () => number = Math.random): number {
  if (shardCount <= 1) return 0;
  return Math.min(shardCount - 1, Math.floor(random() * shardCount));
}
