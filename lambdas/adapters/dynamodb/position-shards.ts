// An institution's settlement state in a currency, spread over k POSITION_SHARD items so that no
// single item limits how fast it may pay or be paid (docs/SCALING.md). Each shard carries:
// - the window it is accruing to (`windowSequence`): a posting must name the same window for the
//   payer's and the payee's shard, so the per-currency window item is off the posting path; a
//   close moves every shard on (a "roll"), after which nothing can land in the closed window;
// - per window still unsettled, its part of the institution's position (`p<seq>`), and on the
//   payer side the count and gross of the transfers it paid (`n<seq>`, `g<seq>`);
// - its part of the exposure (net over every window not SETTLED), its share of the Net Debit Cap
//   and its headroom (share minus exposure, kept in step because conditions cannot subtract).
// The shares of an institution's shards always sum to its cap, and no shard's headroom is below
// zero unless every shard of the institution is `blocked` (it is over its cap as a whole: a cap
// lowered below its exposure, or receivables it had counted on released by a settlement). So a
// posting checked against one unblocked shard's headroom keeps the whole cap exact. A shard short
// of headroom borrows some from its siblings in a small transaction; anything that would leave
// one shard below zero moves headroom from its siblings in the same transaction, or blocks them
// all. Pure item layout and request builders; no I/O here.
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { CurrencyCode } from '../../core/money/currency.js';
import { CorruptItemError, int, type Item } from './ledger-items.js';

export { pickShard, POSITION_SHARDS_MAX, shardCountFor } from '../../core/settlement/shard-plan.js';

export const shardKey = (institutionId: string, currency: string, shard: number): Item => ({ pk: { S: `POSITION_SHARD#${institutionId}#${currency}#${shard}` } });
/** Per currency, every institution with shards: what a close must roll. */
export const participantsKey = (currency: string): Item => ({ pk: { S: `SETTLEMENT_PARTICIPANTS#${currency}` } });

export const positionAttribute = (sequence: number): string => `p${sequence}`;
export const countAttribute = (sequence: number): string => `n${sequence}`;
export const grossAttribute = (sequence: number): string => `g${sequence}`;
const WINDOW_ATTRIBUTE = /^([png])(\d+)$/;

export interface PositionShard {
  readonly institutionId: string;
  readonly currency: CurrencyCode;
  readonly shard: number;
  /** The window postings on this shard accrue to now. */
  readonly windowSequence: number;
  /** Whether the institution has a Net Debit Cap (without one it may only receive). */
  readonly capped: boolean;
  /** Set on every shard of an institution over its cap as a whole: none of them may pay. */
  readonly blocked: boolean;
  readonly capShareMinor: bigint;
  readonly exposureMinor: bigint;
  readonly headroomMinor: bigint;
  /** Its unreleased part of the institution's position, per window sequence. */
  readonly positions: ReadonlyMap<number, bigint>;
  /** Transfers paid from this shard, and their gross, per window sequence (payer side only). */
  readonly counts: ReadonlyMap<number, number>;
  readonly gross: ReadonlyMap<number, bigint>;
}

export function shardToItem(shard: Omit<PositionShard, 'positions' | 'counts' | 'gross' | 'blocked'> & { readonly blocked?: boolean }): Item {
  return {
    ...shardKey(shard.institutionId, shard.currency, shard.shard),
    entity: { S: 'POSITION_SHARD' },
    institutionId: { S: shard.institutionId },
    currency: { S: shard.currency },
    shard: { N: String(shard.shard) },
    windowSequence: { N: String(shard.windowSequence) },
    capped: { BOOL: shard.capped },
    capShareMinor: { N: shard.capShareMinor.toString() },
    exposureMinor: { N: shard.exposureMinor.toString() },
    headroomMinor: { N: shard.headroomMinor.toString() },
    ...(shard.blocked === true ? { blocked: { BOOL: true } } : {}),
  };
}

export function shardFromItem(item: Item): PositionShard {
  const institutionId = item.institutionId?.S;
  const currency = item.currency?.S;
  if (institutionId === undefined || currency === undefined) throw new CorruptItemError(`position shard ${item.pk?.S} without institution or currency`);
  const capShareMinor = int(item, 'capShareMinor');
  const exposureMinor = int(item, 'exposureMinor');
  const headroomMinor = int(item, 'headroomMinor');
  // Derived state kept for condition expressions; it must never drift.
  if (headroomMinor !== capShareMinor - exposureMinor) throw new CorruptItemError(`position shard ${item.pk?.S}: headroom out of step with share and exposure`);
  const positions = new Map<number, bigint>();
  const counts = new Map<number, number>();
  const gross = new Map<number, bigint>();
  for (const name of Object.keys(item)) {
    const match = WINDOW_ATTRIBUTE.exec(name);
    if (match === null) continue;
    const sequence = Number(match[2]);
    if (match[1] === 'p') positions.set(sequence, int(item, name));
    else if (match[1] === 'n') counts.set(sequence, Number(int(item, name)));
    else gross.set(sequence, int(item, name));
  }
  return {
    institutionId,
    currency: currency as CurrencyCode,
    shard: Number(int(item, 'shard')),
    windowSequence: Number(int(item, 'windowSequence')),
    capped: item.capped?.BOOL === true,
    blocked: item.blocked?.BOOL === true,
    capShareMinor,
    exposureMinor,
    headroomMinor,
    positions,
    counts,
    gross,
  };
}

/** Where one side of an interbank transfer is recorded. */
export interface ShardRoute {
  readonly institutionId: string;
  readonly shard: number;
  readonly windowSequence: number;
}

/**
 * The payer's shard: in the window the posting names, capped, not blocked, with headroom for the amount; its
 * exposure and its position in the window rise, and the window's count and gross with them.
 */
export function payerShardUpdate(tableName: string, route: ShardRoute, currency: CurrencyCode, amountMinor: bigint): TransactWriteItem {
  return {
    Update: {
      TableName: tableName,
      Key: shardKey(route.institutionId, currency, route.shard),
      ConditionExpression: 'windowSequence = :window AND capped = :capped AND headroomMinor >= :amount AND attribute_not_exists(blocked)',
      UpdateExpression: 'ADD exposureMinor :amount, headroomMinor :negative, #position :amount, #count :one, #gross :amount',
      ExpressionAttributeNames: { '#position': positionAttribute(route.windowSequence), '#count': countAttribute(route.windowSequence), '#gross': grossAttribute(route.windowSequence) },
      ExpressionAttributeValues: {
        ':window': { N: String(route.windowSequence) },
        ':capped': { BOOL: true },
        ':amount': { N: amountMinor.toString() },
        ':negative': { N: (-amountMinor).toString() },
        ':one': { N: '1' },
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The payee's shard: in the window the posting names; its exposure and position fall. */
export function payeeShardUpdate(tableName: string, route: ShardRoute, currency: CurrencyCode, amountMinor: bigint): TransactWriteItem {
  return {
    Update: {
      TableName: tableName,
      Key: shardKey(route.institutionId, currency, route.shard),
      ConditionExpression: 'windowSequence = :window',
      UpdateExpression: 'ADD exposureMinor :negative, headroomMinor :amount, #position :negative',
      ExpressionAttributeNames: { '#position': positionAttribute(route.windowSequence) },
      ExpressionAttributeValues: { ':window': { N: String(route.windowSequence) }, ':amount': { N: amountMinor.toString() }, ':negative': { N: (-amountMinor).toString() } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * How to top a shard up to `neededMinor` of headroom from its siblings, taking from the richest
 * first and at least an even share of what the institution has left (so that a busy shard does
 * not come back for every transfer). Undefined when all the shards together have too little.
 */
export function planBorrowing(shards: readonly PositionShard[], target: number, neededMinor: bigint): { readonly from: ReadonlyMap<number, bigint>; readonly totalMinor: bigint } | undefined {
  const own = shards.find((shard) => shard.shard === target);
  if (own === undefined) return undefined;
  const total = shards.reduce((sum, shard) => sum + (shard.headroomMinor > 0n ? shard.headroomMinor : 0n), 0n);
  const lacking = neededMinor - own.headroomMinor;
  const available = total - (own.headroomMinor > 0n ? own.headroomMinor : 0n);
  if (lacking <= 0n || available < lacking) return undefined;
  const evenShare = total / BigInt(shards.length);
  let wanted = lacking > evenShare ? lacking : evenShare;
  if (wanted > available) wanted = available;
  const from = new Map<number, bigint>();
  for (const donor of [...shards].filter((shard) => shard.shard !== target && shard.headroomMinor > 0n).sort((a, b) => (a.headroomMinor > b.headroomMinor ? -1 : 1))) {
    if (wanted === 0n) break;
    const taken = donor.headroomMinor < wanted ? donor.headroomMinor : wanted;
    from.set(donor.shard, taken);
    wanted -= taken;
  }
  const totalMinor = [...from.values()].reduce((sum, taken) => sum + taken, 0n);
  return { from, totalMinor };
}

/** `totalMinor` split over `count` shards as evenly as integers allow (the remainder on the first). */
export function splitEvenly(totalMinor: bigint, count: number): bigint[] {
  const each = totalMinor / BigInt(count);
  const parts = Array.from({ length: count }, () => each);
  parts[0] = (parts[0] ?? 0n) + (totalMinor - each * BigInt(count));
  return parts;
}

/**
 * How to keep an institution's shards whole after a change of their headroom by `deltas` (a
 * window's part released, a cap changed), and, with `need`, with at least `need.minor` of
 * headroom on shard `need.target`: moves of cap share between shards (summing to zero) that leave
 * none below zero (and the target with what it needs); or, when the shards together are below
 * zero, none: they are all blocked. Undefined when `need` cannot be met.
 */
export function planRebalance(
  shards: readonly PositionShard[],
  deltas: ReadonlyMap<number, bigint>,
  need?: { readonly target: number; readonly minor: bigint },
): { readonly moves: ReadonlyMap<number, bigint>; readonly blocked: boolean } | undefined {
  const after = shards.map((shard) => ({ shard: shard.shard, headroom: shard.headroomMinor + (deltas.get(shard.shard) ?? 0n), required: need?.target === shard.shard ? need.minor : 0n }));
  const total = after.reduce((sum, entry) => sum + entry.headroom, 0n);
  if (need !== undefined && total < need.minor) return undefined;
  if (total < 0n) return { moves: new Map(), blocked: true };
  const moves = new Map<number, bigint>();
  let lacking = 0n;
  for (const entry of after) {
    if (entry.headroom < entry.required) {
      moves.set(entry.shard, entry.required - entry.headroom);
      lacking += entry.required - entry.headroom;
    }
  }
  for (const donor of after.filter((entry) => entry.headroom > entry.required).sort((a, b) => (a.headroom > b.headroom ? -1 : 1))) {
    if (lacking === 0n) break;
    const spare = donor.headroom - donor.required;
    const taken = spare < lacking ? spare : lacking;
    moves.set(donor.shard, -taken);
    lacking -= taken;
  }
  return { moves, blocked: false };
}

/** One change to one shard, as a single update (a transaction may name an item once). */
export interface ShardChange {
  /** Cap share moved onto (+) or off (-) the shard: its headroom moves with it. */
  readonly shareMinor?: bigint;
  /** Releases the shard's part of window `sequence` (as read: it must still be that) from its exposure. */
  readonly release?: { readonly sequence: number; readonly positionMinor: bigint };
  /**
   * Releases a part of a window the version before shards kept on a POSITION item of its own (its
   * exposure was moved onto shard 0): the caller marks that item released in the same transaction.
   */
  readonly legacyReleaseMinor?: bigint;
  readonly setCapped?: true;
  /** Block or unblock the shard; unchanged if absent. */
  readonly blocked?: boolean;
  /**
   * The lowest headroom the shard may have before the change for it to be applied: what keeps it
   * from going below zero if postings used some since it was read. Absent: no such condition.
   */
  readonly headroomAtLeastMinor?: bigint;
}

export function shardChange(tableName: string, shard: Pick<PositionShard, 'institutionId' | 'currency' | 'shard'>, change: ShardChange): TransactWriteItem {
  const share = change.shareMinor ?? 0n;
  const released = (change.release?.positionMinor ?? 0n) + (change.legacyReleaseMinor ?? 0n);
  const releasing = change.release !== undefined || change.legacyReleaseMinor !== undefined;
  const add = ['capShareMinor :share', 'headroomMinor :headroom', ...(releasing ? ['exposureMinor :exposure'] : [])];
  const set = [...(change.setCapped === true ? ['capped = :capped'] : []), ...(change.blocked === true ? ['blocked = :blocked'] : [])];
  const remove = [...(change.release !== undefined ? ['#position', '#count', '#gross'] : []), ...(change.blocked === false ? ['blocked'] : [])];
  const conditions = [
    'attribute_exists(pk)',
    ...(change.release !== undefined ? ['#position = :position'] : []),
    ...(change.headroomAtLeastMinor !== undefined ? ['headroomMinor >= :floor'] : []),
  ];
  return {
    Update: {
      TableName: tableName,
      Key: shardKey(shard.institutionId, shard.currency, shard.shard),
      UpdateExpression: [`ADD ${add.join(', ')}`, ...(set.length > 0 ? [`SET ${set.join(', ')}`] : []), ...(remove.length > 0 ? [`REMOVE ${remove.join(', ')}`] : [])].join(' '),
      ConditionExpression: conditions.join(' AND '),
      ...(change.release !== undefined
        ? {
            ExpressionAttributeNames: {
              '#position': positionAttribute(change.release.sequence),
              '#count': countAttribute(change.release.sequence),
              '#gross': grossAttribute(change.release.sequence),
            },
          }
        : {}),
      ExpressionAttributeValues: {
        ':share': { N: share.toString() },
        ':headroom': { N: (share + released).toString() },
        ...(releasing ? { ':exposure': { N: (-released).toString() } } : {}),
        ...(change.release !== undefined ? { ':position': { N: change.release.positionMinor.toString() } } : {}),
        ...(change.setCapped === true ? { ':capped': { BOOL: true } } : {}),
        ...(change.blocked === true ? { ':blocked': { BOOL: true } } : {}),
        ...(change.headroomAtLeastMinor !== undefined ? { ':floor': { N: change.headroomAtLeastMinor.toString() } } : {}),
      },
    },
  };
}
