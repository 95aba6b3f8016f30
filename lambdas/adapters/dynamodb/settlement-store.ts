// Settlement state on the ledger table: per currency a pointer to the OPEN window and the windows
// themselves (state; totals once sealed), and per institution and currency its Net Debit Cap
// (with how many position shards it has) and its position shards (position-shards.ts), which
// carry its exposure, its share of the cap and the window each is accruing to. An interbank
// posting adds just the payer's and the payee's shard to its own TransactWriteItems
// (interbankItems): the per-currency window item is off the posting path. Closing a window is one
// transaction that closes it, opens the next and moves the pointer; sealing it then rolls every
// shard on, after which nothing can land in it: a posting lands in the window its shards are in,
// never none, never two. A window's part of an exposure is released only by the settlement
// bank's confirmation of that institution's instruction (or at the seal, for an institution that
// netted to zero), exactly once.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactionConflictException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { isCurrencyCode, type CurrencyCode } from '../../core/money/currency.js';
import {
  SettlementConflictError,
  type CloseResult,
  type ConfirmResult,
  type InstitutionExposure,
  type InstitutionLimits,
  type InstitutionPosition,
  type RecordedConfirmation,
  type SettlementConfirmation,
  type RecordedInstruction,
  type SettlementReport,
  type SettlementStore,
} from '../../core/settlement/ports.js';
import { parseWindowId, WINDOW_STATES, windowIdFor, type SettlementWindow, type WindowState } from '../../core/settlement/window.js';
import { batchGetAll, snapshotGet } from './batch-get.js';
import { retryWhile } from './retry.js';
import { actorFromAttribute, actorToAttribute, CorruptItemError, int, type Item } from './ledger-items.js';
import {
  participantsKey,
  payeeShardUpdate,
  payerShardUpdate,
  planBorrowing,
  POSITION_SHARDS_MAX,
  planRebalance,
  shardChange,
  type ShardChange,
  shardFromItem,
  shardKey,
  shardToItem,
  splitEvenly,
  type PositionShard,
} from './position-shards.js';
import type { Actor } from '../../core/trust/api-client.js';

export const currentWindowKey = (currency: string): Item => ({ pk: { S: `SETTLEMENT_CURRENT#${currency}` } });
export const windowKey = (windowId: string): Item => ({ pk: { S: `SETTLEMENT_WINDOW#${windowId}` } });
/** Per currency, the ids of its CLOSED windows not SETTLED yet: added by the close, removed by the settling. */
const unsettledKey = (currency: string): Item => ({ pk: { S: `SETTLEMENT_UNSETTLED#${currency}` } });
/** One admin close request, by its Idempotency-Key: which window it closed and which it opened. */
const closeRequestKey = (idempotencyKey: string): Item => ({ pk: { S: `SETTLEMENT_CLOSE_REQUEST#${idempotencyKey}` } });
/** An institution's position in a window as the version before position shards kept it (read, and marked released, only). */
export const positionKey = (windowId: string, institutionId: string): Item => ({ pk: { S: `POSITION#${windowId}#${institutionId}` } });

/** A part of a window's position kept on a POSITION item by the version before shards. */
interface LegacyPart {
  readonly positionMinor: bigint;
  /** Released from the exposure (confirmed, or netted to zero) since. */
  readonly released: boolean;
}

function legacyPartFromItem(item: Item): LegacyPart {
  return { positionMinor: int(item, 'positionMinor'), released: item.releasedAt?.S !== undefined };
}

/** What a legacy part still holds of the exposure: its position until it is released, else nothing. */
function unreleasedMinor(part: LegacyPart | undefined): bigint | undefined {
  return part !== undefined && !part.released ? part.positionMinor : undefined;
}
/** An institution's cap and exposure in a currency: one item, so the cap condition and the exposure move together. */
export const limitKey = (institutionId: string, currency: string): Item => ({ pk: { S: `NET_DEBIT_CAP#${institutionId}#${currency}` } });
export const confirmationKey = (windowId: string, institutionId: string): Item => ({ pk: { S: `SETTLEMENT_CONFIRMATION#${windowId}#${institutionId}` } });
export const reportKey = (windowId: string): Item => ({ pk: { S: `SETTLEMENT_REPORT#${windowId}` } });
export const instructionKey = (windowId: string, institutionId: string): Item => ({ pk: { S: `SETTLEMENT_INSTRUCTION#${windowId}#${institutionId}` } });
/** Which currencies have settlement windows (for listings and the scheduled close). */
const CURRENCIES_KEY: Item = { pk: { S: 'SETTLEMENT_CURRENCIES' } };

/** Where an interbank transfer's obligation is recorded, as the posting path last knew it. */
export interface InterbankRoute {
  readonly payerInstitutionId: string;
  readonly payeeInstitutionId: string;
  /** The OPEN window as last read; both shards must be in it. */
  readonly windowSequence: number;
  readonly payerShard: number;
  readonly payeeShard: number;
}


function limitsFromItem(item: Item | undefined): InstitutionLimits & { readonly legacyExposureMinor: bigint } {
  return {
    netDebitCapMinor: item?.netDebitCapMinor === undefined ? undefined : int(item, 'netDebitCapMinor'),
    shardCount: item?.shardCount === undefined ? 0 : Number(int(item, 'shardCount')),
    legacyExposureMinor: item?.exposureMinor === undefined ? 0n : int(item, 'exposureMinor'),
  };
}

export type BorrowOutcome = 'borrowed' | 'insufficient' | 'conflict';

// The port's types, where callers of this adapter found them before they moved to the core.
export { SettlementConflictError, type CloseResult, type InstitutionLimits, type RecordedInstruction, type SettlementReport };

const CLOSE_ATTEMPTS_MAX = 6;
/** Windows read per batch from a currency's unsettled set. */
const UNSETTLED_PAGE_WINDOWS = 100;
/** Windows read per batch while backfilling a currency's unsettled set. */
const BACKFILL_PAGE_WINDOWS = 100;

export class DynamoSettlementStore implements SettlementStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(client: DynamoDBClient, tableName: string, now: () => Date = () => new Date()) {
    this.#client = client;
    this.#tableName = tableName;
    this.#now = now;
  }

  /** The OPEN window of a currency; the first one is opened on first use. */
  async currentWindowId(currency: CurrencyCode): Promise<string> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: currentWindowKey(currency), ConsistentRead: true }));
    const current = Item?.windowId?.S;
    if (current !== undefined) return current;
    const first = windowIdFor(currency, 1);
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: this.#tableName, Item: pointerItem(currency, first, 1), ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: this.#tableName, Item: openWindowItem(currency, 1, this.#now().toISOString()), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: this.#tableName,
                Key: CURRENCIES_KEY,
                UpdateExpression: 'ADD currencies :currency SET entity = :entity',
                ExpressionAttributeValues: { ':currency': { SS: [currency] }, ':entity': { S: 'SETTLEMENT_CURRENCIES' } },
              },
            },
          ],
        }),
      );
      return first;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      // Someone else opened it first (or the pointer moved on): read what stands.
      const again = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: currentWindowKey(currency), ConsistentRead: true }));
      const windowId = again.Item?.windowId?.S;
      if (windowId === undefined) throw new SettlementConflictError(`no current ${currency} window after opening the first one failed`);
      return windowId;
    }
  }

  async netDebitCap(institutionId: string, currency: CurrencyCode): Promise<bigint | undefined> {
    return (await this.limits(institutionId, currency)).netDebitCapMinor;
  }

  async limits(institutionId: string, currency: CurrencyCode): Promise<InstitutionLimits & { readonly legacyExposureMinor: bigint }> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: limitKey(institutionId, currency), ConsistentRead: true }));
    return limitsFromItem(Item);
  }

  /**
   * Sets the cap, spreading the change over the institution's shards so their shares still sum
   * to it (a lowered cap that leaves a shard below zero blocks them all: see #wholeChanges).
   * `shardCount` grows the shards (never shrinks them).
   */
  async setNetDebitCap(institutionId: string, currency: CurrencyCode, netDebitCapMinor: bigint, by: Actor, shardCount?: number): Promise<InstitutionLimits> {
    return retryWhile(() => this.#setCapOnce(institutionId, currency, netDebitCapMinor, by, shardCount), (error) => error instanceof SettlementConflictError, {
      attemptsMax: CLOSE_ATTEMPTS_MAX,
      backoffBaseMs: 20,
    });
  }

  async #setCapOnce(institutionId: string, currency: CurrencyCode, netDebitCapMinor: bigint, by: Actor, shardCount: number | undefined): Promise<InstitutionLimits> {
    const limits = await this.enrol(institutionId, currency, Math.max(1, shardCount ?? 1));
    const shards = await this.shardsOf(institutionId, currency, limits.shardCount);
    if (shards.length !== limits.shardCount) throw new SettlementConflictError(`${institutionId} has ${shards.length} of its ${limits.shardCount} ${currency} shards; retry`);
    const shares = splitEvenly(netDebitCapMinor - (limits.netDebitCapMinor ?? 0n), limits.shardCount);
    const changes = new Map<number, ShardChange>(shares.map((shareMinor, shard) => [shard, { shareMinor, setCapped: true }]));
    // A lowered cap may take a shard below zero: then every shard is blocked in this transaction,
    // and the institution's next payment rebalances and unblocks them if they can afford it.
    const updates = this.#wholeChanges(shards, changes, { checkShardCount: false }) ?? [];
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.#tableName,
                Key: limitKey(institutionId, currency),
                UpdateExpression: `SET ${LIMIT_IDENTITY}, netDebitCapMinor = :cap, updatedAt = :at, updatedBy = :by`,
                // The shares below were computed from this cap and these shards.
                ConditionExpression: `shardCount = :shards AND ${limits.netDebitCapMinor === undefined ? 'attribute_not_exists(netDebitCapMinor)' : 'netDebitCapMinor = :old'}`,
                ExpressionAttributeValues: {
                  ...limitIdentityValues(institutionId, currency),
                  ':cap': { N: netDebitCapMinor.toString() },
                  ':at': { S: this.#now().toISOString() },
                  ':by': actorToAttribute(by),
                  ':shards': { N: String(limits.shardCount) },
                  ...(limits.netDebitCapMinor === undefined ? {} : { ':old': { N: limits.netDebitCapMinor.toString() } }),
                },
              },
            },
            ...updates,
          ],
        }),
      );
      return { netDebitCapMinor, shardCount: limits.shardCount };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      throw new SettlementConflictError(`setting the ${currency} cap of ${institutionId} raced another change; retry`, { cause: error });
    }
  }

  /**
   * The updates that apply `changes` to an institution's shards (`shards`: all of them, read
   * consistently) and keep them whole: no shard below zero unless all are blocked. Only the changed
   * shards when none can go below zero (each conditioned so that postings since the read cannot
   * take it there either); otherwise every shard, blocked (or, with `need`, rebalanced), and
   * (`checkShardCount`) a check that no shard was added meanwhile. With `need`, shard
   * `need.target` must end with that much headroom; undefined when the shards together do not
   * have it.
   */
  #wholeChanges(
    shards: readonly PositionShard[],
    changes: ReadonlyMap<number, ShardChange>,
    options: { readonly checkShardCount: boolean; readonly need?: { readonly target: number; readonly minor: bigint } },
  ): TransactWriteItem[] | undefined {
    const first = shards[0];
    if (first === undefined) return [];
    const delta = (shard: number): bigint => {
      const change = changes.get(shard);
      return (change?.shareMinor ?? 0n) + (change?.release?.positionMinor ?? 0n) + (change?.legacyReleaseMinor ?? 0n);
    };
    const need = options.need;
    const required = (shard: number): bigint => (need?.target === shard ? need.minor : 0n);
    const whole = !shards.some((shard) => shard.blocked) && shards.every((shard) => shard.headroomMinor + delta(shard.shard) >= required(shard.shard));
    if (whole) {
      return [...changes].map(([index, change]) => {
        const change_ = delta(index);
        return shardChange(this.#tableName, { institutionId: first.institutionId, currency: first.currency, shard: index }, { ...change, ...(change_ < 0n ? { headroomAtLeastMinor: -change_ } : {}) });
      });
    }
    // Not whole afterwards: a borrow (`need`) rebalances every shard and unblocks them, if they can
    // afford it together; anything else blocks them all, with no condition a posting could break
    // meanwhile (so a confirmation or a cap change is never held up by traffic), and the
    // institution's next payment rebalances them through the borrow.
    const plan = need === undefined ? undefined : planRebalance(shards, new Map(shards.map((shard) => [shard.shard, delta(shard.shard)])), need);
    if (need !== undefined && plan === undefined) return undefined;
    const checkCount: TransactWriteItem[] = options.checkShardCount
      ? [
          {
            ConditionCheck: {
              TableName: this.#tableName,
              Key: limitKey(first.institutionId, first.currency),
              ConditionExpression: 'shardCount = :shards',
              ExpressionAttributeValues: { ':shards': { N: String(shards.length) } },
            },
          },
        ]
      : [];
    if (plan === undefined) return [...shards.map((shard) => shardChange(this.#tableName, shard, { ...changes.get(shard.shard), blocked: true })), ...checkCount];
    return [
      ...shards.map((shard) => {
        const change = changes.get(shard.shard) ?? {};
        const move = plan.moves.get(shard.shard) ?? 0n;
        return shardChange(this.#tableName, shard, {
          ...change,
          shareMinor: (change.shareMinor ?? 0n) + move,
          blocked: plan.blocked,
          // Only if postings since the read have not used what the plan counts on.
          ...(plan.blocked ? {} : { headroomAtLeastMinor: -(delta(shard.shard) + move) + required(shard.shard) }),
        });
      }),
      ...checkCount,
    ];
  }

  /**
   * Makes sure the institution has at least `shardCount` position shards in the currency, created
   * in the OPEN window (which must still be OPEN when they are: a close that did not see them in
   * the participants could not roll them) and named in the currency's participants. An exposure
   * kept on the cap item by an older version moves onto shard 0. Returns the limits that stand.
   */
  async enrol(institutionId: string, currency: CurrencyCode, shardCount: number): Promise<InstitutionLimits> {
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > POSITION_SHARDS_MAX) throw new RangeError(`shard count ${shardCount} out of range 1..${POSITION_SHARDS_MAX}`);
    for (let attempt = 1; attempt <= CLOSE_ATTEMPTS_MAX; attempt++) {
      const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: limitKey(institutionId, currency), ConsistentRead: true }));
      const limits = limitsFromItem(Item);
      if (limits.shardCount >= shardCount) return limits;
      const windowId = await this.currentWindowId(currency);
      const windowSequence = parseWindowId(windowId)?.sequence ?? 0;
      // An exposure an older version kept on the cap item moves onto shard 0 as the shards appear.
      const legacy = limits.shardCount === 0 && Item?.exposureMinor !== undefined;
      const legacyExposure = legacy ? limits.legacyExposureMinor : 0n;
      const created = Array.from({ length: shardCount - limits.shardCount }, (_, index) => limits.shardCount + index);
      // New shards join blocked if their siblings are (an institution over its cap pays nothing
      // from any shard), checked in the same transaction.
      const blocked = limits.shardCount > 0 && (await this.shardsOf(institutionId, currency, 1))[0]?.blocked === true;
      // An exposure an older version kept may already be over the cap: then they start blocked.
      const blockNew = blocked || (limits.shardCount === 0 && (limits.netDebitCapMinor ?? 0n) - legacyExposure < 0n);
      try {
        await this.#client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { ConditionCheck: { TableName: this.#tableName, Key: windowKey(windowId), ConditionExpression: '#state = :open', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':open': { S: 'OPEN' } } } },
              ...(limits.shardCount > 0
                ? [{ ConditionCheck: { TableName: this.#tableName, Key: shardKey(institutionId, currency, 0), ConditionExpression: blocked ? 'blocked = :blocked' : 'attribute_not_exists(blocked)', ...(blocked ? { ExpressionAttributeValues: { ':blocked': { BOOL: true } } } : {}) } }]
                : []),
              {
                Update: {
                  TableName: this.#tableName,
                  Key: limitKey(institutionId, currency),
                  UpdateExpression: `SET ${LIMIT_IDENTITY}, shardCount = :shards${legacy ? ' REMOVE exposureMinor' : ''}`,
                  ConditionExpression: [
                    limits.shardCount === 0 ? 'attribute_not_exists(shardCount)' : 'shardCount = :from',
                    limits.netDebitCapMinor === undefined ? 'attribute_not_exists(netDebitCapMinor)' : 'netDebitCapMinor = :cap',
                    ...(legacy ? ['exposureMinor = :legacy'] : []),
                  ].join(' AND '),
                  ExpressionAttributeValues: {
                    ...limitIdentityValues(institutionId, currency),
                    ':shards': { N: String(shardCount) },
                    ...(limits.shardCount === 0 ? {} : { ':from': { N: String(limits.shardCount) } }),
                    ...(limits.netDebitCapMinor === undefined ? {} : { ':cap': { N: limits.netDebitCapMinor.toString() } }),
                    ...(legacy ? { ':legacy': { N: legacyExposure.toString() } } : {}),
                  },
                },
              },
              ...created.map((shard) => ({
                Put: {
                  TableName: this.#tableName,
                  Item: shardToItem({
                    institutionId,
                    currency,
                    shard,
                    windowSequence,
                    capped: limits.netDebitCapMinor !== undefined,
                    // A new shard gets no share: the cap's shares stay where they are, and it borrows.
                    capShareMinor: shard === 0 ? (limits.netDebitCapMinor ?? 0n) : 0n,
                    exposureMinor: shard === 0 ? legacyExposure : 0n,
                    headroomMinor: shard === 0 ? (limits.netDebitCapMinor ?? 0n) - legacyExposure : 0n,
                    blocked: blockNew,
                  }),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              })),
              {
                Update: {
                  TableName: this.#tableName,
                  Key: participantsKey(currency),
                  UpdateExpression: 'ADD institutionIds :institution SET entity = :entity',
                  ExpressionAttributeValues: { ':institution': { SS: [institutionId] }, ':entity': { S: 'SETTLEMENT_PARTICIPANTS' } },
                },
              },
            ],
          }),
        );
        return { netDebitCapMinor: limits.netDebitCapMinor, shardCount };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        // The window closed, or another enrolment or cap change went first: read again.
      }
    }
    throw new SettlementConflictError(`enrolling ${institutionId} in ${currency} kept racing closes or cap changes; retry`);
  }

  async exposure(institutionId: string, currency: CurrencyCode): Promise<InstitutionExposure> {
    const [limits, shards] = await Promise.all([this.limits(institutionId, currency), this.shardsOf(institutionId, currency)]);
    return {
      institutionId,
      currency,
      exposureMinor: shards.reduce((sum, shard) => sum + shard.exposureMinor, limits.shardCount === 0 ? limits.legacyExposureMinor : 0n),
      netDebitCapMinor: limits.netDebitCapMinor,
      shardCount: limits.shardCount,
    };
  }

  /** The institution's position shards in the currency, read consistently (none before it is enrolled). */
  async shardsOf(institutionId: string, currency: CurrencyCode, shardCount?: number): Promise<PositionShard[]> {
    const count = shardCount ?? (await this.limits(institutionId, currency)).shardCount;
    if (count === 0) return [];
    const keys = Array.from({ length: count }, (_, shard) => shardKey(institutionId, currency, shard));
    return (await batchGetAll(this.#client, this.#tableName, keys)).map(shardFromItem).sort((a, b) => a.shard - b.shard);
  }

  /** What is left of the institution's position in each of these windows, unreleased (0 where none). */
  async positionsOf(institutionId: string, windowIds: readonly string[]): Promise<ReadonlyMap<string, bigint>> {
    const positions = new Map<string, bigint>(windowIds.map((windowId) => [windowId, 0n]));
    const currency = windowIds[0] === undefined ? undefined : currencyOfWindow(windowIds[0]);
    if (currency === undefined) return positions;
    const [shards, legacy] = await Promise.all([
      this.shardsOf(institutionId, currency),
      batchGetAll(this.#client, this.#tableName, windowIds.map((windowId) => positionKey(windowId, institutionId))),
    ]);
    const legacyOf = new Map(legacy.map((item) => [item.windowId?.S ?? '', legacyPartFromItem(item)]));
    for (const windowId of windowIds) {
      const sequence = parseWindowId(windowId)?.sequence ?? 0;
      const part = legacyOf.get(windowId);
      positions.set(windowId, shards.reduce((sum, shard) => sum + (shard.positions.get(sequence) ?? 0n), unreleasedMinor(part) ?? 0n));
    }
    return positions;
  }

  /**
   * The two items an interbank transfer adds to its posting transaction, in this order: the
   * payer's shard (in the route's window, capped, with headroom for the amount) and the payee's
   * shard (in the route's window).
   */
  interbankItems(route: InterbankRoute, currency: CurrencyCode, amountMinor: bigint): TransactWriteItem[] {
    return [
      payerShardUpdate(this.#tableName, { institutionId: route.payerInstitutionId, shard: route.payerShard, windowSequence: route.windowSequence }, currency, amountMinor),
      payeeShardUpdate(this.#tableName, { institutionId: route.payeeInstitutionId, shard: route.payeeShard, windowSequence: route.windowSequence }, currency, amountMinor),
    ];
  }

  /** Moves a shard that is behind into window `toSequence` (which the pointer has reached); a no-op if it is there already. */
  async rollShard(institutionId: string, currency: CurrencyCode, shard: number, toSequence: number): Promise<void> {
    // A busy shard is often held by a posting's transaction: a single write to it then meets
    // TransactionConflict, which the SDK does not retry. Retry it here, boundedly.
    await retryWhile(
      async () => {
        try {
          await this.#client.send(
            new UpdateItemCommand({
              TableName: this.#tableName,
              Key: shardKey(institutionId, currency, shard),
              UpdateExpression: 'SET windowSequence = :to',
              ConditionExpression: 'windowSequence < :to',
              ExpressionAttributeValues: { ':to': { N: String(toSequence) } },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      },
      (error) => error instanceof TransactionConflictException,
      { attemptsMax: CLOSE_ATTEMPTS_MAX, backoffBaseMs: 5 },
    );
  }

  /**
   * Tops shard `target` up to `neededMinor` of headroom from its siblings. The plan comes from a
   * consistent read of them all (each move is conditioned on the donor's headroom, so a stale
   * read can only make it fail, never overdraw a share). Only a refusal needs the figures from one
   * instant: 'insufficient' is answered only after a snapshot (TransactGetItems) confirms that the
   * shards together had less headroom than that. 'conflict' means the move or the snapshots raced
   * other writes and may be tried again.
   */
  async borrowHeadroom(institutionId: string, currency: CurrencyCode, shardCount: number, target: number, neededMinor: bigint): Promise<BorrowOutcome> {
    const read = await this.shardsOf(institutionId, currency, shardCount);
    const outcome = await this.#borrowFrom(read, shardCount, target, neededMinor);
    if (outcome !== 'insufficient') return outcome;
    const snapshot = await snapshotGet(this.#client, this.#tableName, Array.from({ length: shardCount }, (_, shard) => shardKey(institutionId, currency, shard)));
    // Shards this busy keep a snapshot from completing: a refusal is final, so none is made on a
    // read that is not from one instant. The posting is retried later.
    if (snapshot === 'busy') return 'conflict';
    return this.#borrowFrom(snapshot.flatMap((item) => (item === undefined ? [] : [shardFromItem(item)])), shardCount, target, neededMinor);
  }

  async #borrowFrom(shards: readonly PositionShard[], shardCount: number, target: number, neededMinor: bigint): Promise<BorrowOutcome> {
    const own = shards.find((shard) => shard.shard === target);
    if (own === undefined || shards.length !== shardCount) return 'conflict';
    const blocked = shards.some((shard) => shard.blocked);
    if (!blocked && own.headroomMinor >= neededMinor) return 'borrowed'; // topped up meanwhile
    // Blocked (over the cap as a whole until now): all of the shards are rebalanced and unblocked
    // together, if they can afford the amount together.
    const updates = blocked
      ? this.#wholeChanges(shards, new Map(), { checkShardCount: true, need: { target, minor: neededMinor } })
      : (() => {
          const plan = planBorrowing(shards, target, neededMinor);
          return plan === undefined
            ? undefined
            : [
                shardChange(this.#tableName, own, { shareMinor: plan.totalMinor }),
                // A donor gives only headroom it still has.
                ...[...plan.from].map(([shard, taken]) => shardChange(this.#tableName, { ...own, shard }, { shareMinor: -taken, headroomAtLeastMinor: taken })),
              ];
        })();
    if (updates === undefined) return 'insufficient';
    try {
      await this.#client.send(new TransactWriteItemsCommand({ TransactItems: updates }));
      return 'borrowed';
    } catch (error) {
      if (error instanceof TransactionCanceledException) return 'conflict';
      throw error;
    }
  }

  /**
   * Closes the currency's OPEN window and opens the next, atomically; with `windowId`, only if
   * that is the OPEN one. The caller publishes SettlementWindowClosed afterwards.
   */
  async closeWindow(currency: CurrencyCode, windowId?: string, by?: Actor, idempotencyKey?: string): Promise<CloseResult> {
    // The close competes with every interbank posting for the window item: retry a conflict.
    return retryWhile(() => this.#closeOnce(currency, windowId, by, idempotencyKey), (error) => error instanceof SettlementConflictError, {
      attemptsMax: CLOSE_ATTEMPTS_MAX,
      backoffBaseMs: 20,
    });
  }

  async #closeOnce(currency: CurrencyCode, windowId: string | undefined, by: Actor | undefined, idempotencyKey: string | undefined): Promise<CloseResult> {
    const requestHash = `${currency}#${windowId ?? ''}`;
    // A retried close finds its first outcome: it must never close the next window too.
    if (idempotencyKey !== undefined) {
      const earlier = await this.#closeRequest(idempotencyKey, requestHash);
      if (earlier !== undefined) return earlier;
    }
    const current = await this.currentWindowId(currency);
    const window = await this.#readWindow(current);
    if (window === undefined) throw new CorruptItemError(`the ${currency} pointer names ${current}, which does not exist`);
    if (windowId !== undefined && windowId !== current) {
      const asked = await this.getWindow(windowId);
      return asked === undefined ? { kind: 'not-found' } : { kind: 'not-open', current: asked };
    }
    const at = this.#now().toISOString();
    const nextSequence = window.sequence + 1;
    const next = windowIdFor(currency, nextSequence);
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.#tableName,
                Key: windowKey(current),
                // An admin's close records who closed it; the schedule's records nobody.
                UpdateExpression: `SET #state = :closed, closedAt = :at${by !== undefined ? ', closedBy = :by' : ''}`,
                ConditionExpression: '#state = :open',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':closed': { S: 'CLOSED' }, ':open': { S: 'OPEN' }, ':at': { S: at }, ...(by !== undefined ? { ':by': actorToAttribute(by) } : {}) },
              },
            },
            { Put: { TableName: this.#tableName, Item: openWindowItem(currency, nextSequence, at), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: this.#tableName,
                Item: pointerItem(currency, next, nextSequence),
                ConditionExpression: 'windowId = :current',
                ExpressionAttributeValues: { ':current': { S: current } },
              },
            },
            // Remembered until it settles, however many windows close meanwhile.
            { Update: { TableName: this.#tableName, Key: unsettledKey(currency), UpdateExpression: 'ADD windowIds :closed', ExpressionAttributeValues: { ':closed': { SS: [current] } } } },
            ...(idempotencyKey === undefined
              ? []
              : [
                  {
                    Put: {
                      TableName: this.#tableName,
                      Item: {
                        ...closeRequestKey(idempotencyKey),
                        entity: { S: 'SETTLEMENT_CLOSE_REQUEST' },
                        requestHash: { S: requestHash },
                        closedWindowId: { S: current },
                        openedWindowId: { S: next },
                        at: { S: at },
                      },
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  },
                ]),
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      // The same request raced itself: the other attempt's outcome is the outcome. (On AWS the
      // race may show as TransactionConflict rather than a failed condition: look either way.)
      if (idempotencyKey !== undefined) {
        const earlier = await this.#closeRequest(idempotencyKey, requestHash);
        if (earlier !== undefined) return earlier;
      }
      // Another close won the race: the window asked for (or the one we saw) is no longer OPEN.
      const seen = await this.getWindow(current);
      if (seen !== undefined && seen.state !== 'OPEN') return { kind: 'not-open', current: seen };
      throw new SettlementConflictError(`closing ${current} conflicted with another write; retry`);
    }
    // Every shard moves on now, so postings that read the pointer before the close stop landing in
    // the closed window at once (they find their shard moved, re-read the pointer and land in the
    // next). A crash here leaves this to the seal, which repeats it before netting.
    // The close has happened whatever becomes of the rolls: a failure here must not make it look
    // as if it had not (the seal, before netting, rolls whatever is left).
    await this.#rollPast(currency, window.sequence).catch(() => undefined);
    const [closed, opened] = await Promise.all([this.getWindow(current), this.#readWindow(next)]);
    if (closed === undefined || opened === undefined) throw new CorruptItemError(`windows ${current} and ${next} vanished after the close`);
    return { kind: 'closed', closed, opened };
  }

  /** The outcome of an earlier close with this key, or key-reused for another request under it. */
  async #closeRequest(idempotencyKey: string, requestHash: string): Promise<CloseResult | undefined> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: closeRequestKey(idempotencyKey), ConsistentRead: true }));
    if (Item === undefined) return undefined;
    if (Item.requestHash?.S !== requestHash) return { kind: 'key-reused' };
    const [closed, opened] = await Promise.all([this.getWindow(Item.closedWindowId?.S ?? ''), this.getWindow(Item.openedWindowId?.S ?? '')]);
    if (closed === undefined || opened === undefined) throw new CorruptItemError(`close request ${idempotencyKey} names windows that do not exist`);
    return { kind: 'closed', closed, opened, replayed: true };
  }

  /**
   * The currency's CLOSED windows that have not settled, oldest first, at most `limit`: every one
   * since the first close, however long ago (no lookback limit).
   */
  async unsettledWindows(currency: CurrencyCode, limit: number, states: readonly WindowState[] = ['CLOSED']): Promise<SettlementWindow[]> {
    let { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: unsettledKey(currency), ConsistentRead: true }));
    if (Item?.backfilled === undefined) {
      await this.#backfillUnsettled(currency);
      ({ Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: unsettledKey(currency), ConsistentRead: true })));
    }
    // Ids sort as windows do (oldest first). Windows awaiting the bank's confirmation stay in the
    // set, so the state is filtered before the limit: they must not crowd out the CLOSED ones.
    const ids = [...(Item?.windowIds?.SS ?? [])].sort();
    const found: SettlementWindow[] = [];
    for (let start = 0; start < ids.length && found.length < limit; start += UNSETTLED_PAGE_WINDOWS) {
      const page = (await batchGetAll(this.#client, this.#tableName, ids.slice(start, start + UNSETTLED_PAGE_WINDOWS).map(windowKey))).map(windowFromItem);
      page.sort((a, b) => a.sequence - b.sequence);
      found.push(...page.filter((window) => states.includes(window.state)));
    }
    return found.slice(0, limit);
  }

  /**
   * Once per currency: windows closed before the unsettled set existed are put in it, so none
   * already stuck is forgotten. Idempotent (ADD to a set), bounded by the windows that exist.
   */
  async #backfillUnsettled(currency: CurrencyCode): Promise<void> {
    const current = parseWindowId(await this.currentWindowId(currency))?.sequence ?? 0;
    const stuck: string[] = [];
    for (let to = current - 1; to >= 1; to -= BACKFILL_PAGE_WINDOWS) {
      const page = await this.windowsBetween(currency, Math.max(1, to - BACKFILL_PAGE_WINDOWS + 1), to);
      stuck.push(...page.filter((window) => window.state === 'CLOSED').map((window) => window.windowId));
    }
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: unsettledKey(currency),
        UpdateExpression: stuck.length > 0 ? 'ADD windowIds :stuck SET backfilled = :at' : 'SET backfilled = :at',
        ExpressionAttributeValues: { ':at': { S: this.#now().toISOString() }, ...(stuck.length > 0 ? { ':stuck': { SS: stuck } } : {}) },
      }),
    );
  }

  /**
   * The window; one not sealed yet (OPEN, or CLOSED with shards still to roll) has its totals
   * added up from the shards as they stand.
   */
  async getWindow(windowId: string): Promise<SettlementWindow | undefined> {
    const window = await this.#readWindow(windowId);
    if (window === undefined || window.sealed === true) return window;
    return withTotals(window, await this.#participantShards(window.currency));
  }

  async #readWindow(windowId: string): Promise<SettlementWindow | undefined> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: windowKey(windowId), ConsistentRead: true }));
    return Item === undefined ? undefined : windowFromItem(Item);
  }

  /** Every position shard of every institution enrolled in the currency, read consistently. */
  async #participantShards(currency: CurrencyCode): Promise<PositionShard[]> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: participantsKey(currency), ConsistentRead: true }));
    const institutions = [...(Item?.institutionIds?.SS ?? [])].sort();
    const limits = await batchGetAll(this.#client, this.#tableName, institutions.map((institutionId) => limitKey(institutionId, currency)));
    const keys = limits.flatMap((item) => {
      const institutionId = item.institutionId?.S ?? '';
      return Array.from({ length: limitsFromItem(item).shardCount }, (_, shard) => shardKey(institutionId, currency, shard));
    });
    return (await batchGetAll(this.#client, this.#tableName, keys)).map(shardFromItem);
  }

  /**
   * Every participant's position in the window, positive when it owes: as its report recorded
   * them once netted, else as its shards hold them now. Reads only; sealWindow() makes them final.
   */
  async positions(window: SettlementWindow): Promise<Map<string, bigint>> {
    const report = await this.getReport(window.windowId);
    if (report !== undefined) return new Map(report.positions);
    const [shards, legacy] = await Promise.all([this.#participantShards(window.currency), this.#legacyParts(window)]);
    return positionsIn(window.sequence, shards, window.sealed === true ? window.participants : [], legacy);
  }

  /** The window's legacy parts by institution (none for a window opened with shards). */
  async #legacyParts(window: SettlementWindow): Promise<Map<string, LegacyPart>> {
    const parts = new Map<string, LegacyPart>();
    if (window.legacyPositions !== true || window.participants.length === 0) return parts;
    for (const item of await batchGetAll(this.#client, this.#tableName, window.participants.map((institutionId) => positionKey(window.windowId, institutionId)))) {
      parts.set(item.institutionId?.S ?? '', legacyPartFromItem(item));
    }
    return parts;
  }

  /**
   * Makes a CLOSED window final: rolls every shard of the currency past it (nothing can land in it
   * after that), records its totals on the window item, and releases the window's part of the
   * exposure of every institution that netted to zero (it has no instruction to confirm). Returns
   * the sealed window and every participant's position. Idempotent: a repeat, after a crash at
   * any point, finds the rolls and totals done and releases only what is left.
   */
  async sealWindow(window: SettlementWindow): Promise<{ readonly window: SettlementWindow; readonly positions: Map<string, bigint> }> {
    if (window.state === 'OPEN') throw new SettlementConflictError(`${window.windowId} is OPEN; only a closed window is sealed`);
    await this.#rollPast(window.currency, window.sequence);
    const shards = await this.#participantShards(window.currency);
    const stored = await this.#readWindow(window.windowId);
    if (stored === undefined) throw new CorruptItemError(`window ${window.windowId} vanished while sealing`);
    let sealed = stored;
    if (stored.sealed !== true) {
      sealed = { ...withTotals(stored, shards), sealed: true };
      // Totals before any release: a release removes what they are added up from.
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: windowKey(window.windowId),
          UpdateExpression: `SET transferCount = :count, grossMinor = :gross, sealedAt = :at${sealed.participants.length > 0 ? ', participants = :participants' : ''}`,
          ConditionExpression: 'attribute_not_exists(sealedAt)',
          ExpressionAttributeValues: {
            ':count': { N: String(sealed.transferCount) },
            ':gross': { N: sealed.grossMinor.toString() },
            ':at': { S: this.#now().toISOString() },
            ...(sealed.participants.length > 0 ? { ':participants': { SS: [...sealed.participants] } } : {}),
          },
        }),
      ).catch(async (error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another seal stored its totals first: those stand.
        sealed = (await this.#readWindow(window.windowId)) ?? sealed;
      });
    }
    const legacy = await this.#legacyParts(stored);
    const positions = positionsIn(window.sequence, shards, sealed.participants, legacy);
    const report = await this.getReport(window.windowId);
    const settledByNetting = [...positions].filter(([, position]) => position === 0n).map(([institutionId]) => institutionId);
    // Before the report exists, positions are as the shards hold them; once it does, the report decides.
    for (const institutionId of settledByNetting) {
      if (report !== undefined && (report.positions.get(institutionId) ?? 0n) !== 0n) continue;
      const legacyMinor = unreleasedMinor(legacy.get(institutionId));
      const own = shards.filter((shard) => shard.institutionId === institutionId);
      await this.#releaseWindow(own.length > 0 || legacyMinor === undefined ? own : await this.#enrolledShards(institutionId, window.currency), window.windowId, legacyMinor);
    }
    return { window: sealed, positions: report !== undefined ? new Map(report.positions) : positions };
  }

  /** Moves every shard of the currency still in window `sequence` (or before) into the next one. */
  async #rollPast(currency: CurrencyCode, sequence: number): Promise<void> {
    const behind = (await this.#participantShards(currency)).filter((shard) => shard.windowSequence <= sequence);
    await forEachLimited(behind, SEAL_CONCURRENCY, (shard) => this.rollShard(shard.institutionId, shard.currency, shard.shard, sequence + 1));
  }

  /**
   * Releases one institution's parts of a window (`shards`: all of its shards, as read; and the
   * part the version before shards kept, `legacyMinor`) in one transaction that keeps its shards
   * whole; a part already released is left.
   */
  async #releaseWindow(shards: readonly PositionShard[], windowId: string, legacyMinor: bigint | undefined): Promise<void> {
    const sequence = parseWindowId(windowId)?.sequence ?? 0;
    const holding = shards.filter((shard) => shard.positions.has(sequence) || shard.counts.has(sequence) || shard.gross.has(sequence));
    const first = shards[0];
    if (first === undefined || (holding.length === 0 && legacyMinor === undefined)) return;
    const changes = releaseChanges(holding, sequence, legacyMinor);
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [...(this.#wholeChanges(shards, changes, { checkShardCount: true }) ?? []), ...(legacyMinor === undefined ? [] : [this.#legacyRelease(windowId, first.institutionId)])],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      // Released by an earlier attempt (its parts are gone), or lost to a posting: look again.
      const [again, legacy] = await Promise.all([this.shardsOf(first.institutionId, first.currency), this.#legacyPart(windowId, first.institutionId)]);
      if (again.some((shard) => shard.positions.has(sequence)) || unreleasedMinor(legacy) !== undefined) {
        throw new SettlementConflictError(`releasing ${windowId} of ${first.institutionId} conflicted; retry`, { cause: error });
      }
    }
  }

  /** Marks a legacy part released, once. */
  #legacyRelease(windowId: string, institutionId: string): TransactWriteItem {
    return {
      Update: {
        TableName: this.#tableName,
        Key: positionKey(windowId, institutionId),
        UpdateExpression: 'SET releasedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(releasedAt)',
        ExpressionAttributeValues: { ':at': { S: this.#now().toISOString() } },
      },
    };
  }

  async #legacyPart(windowId: string, institutionId: string): Promise<LegacyPart | undefined> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: positionKey(windowId, institutionId), ConsistentRead: true }));
    return Item === undefined ? undefined : legacyPartFromItem(Item);
  }

  /** The institution's shards, creating its first if it has none (its legacy exposure moves onto it). */
  async #enrolledShards(institutionId: string, currency: CurrencyCode): Promise<PositionShard[]> {
    const limits = await this.enrol(institutionId, currency, 1);
    return this.shardsOf(institutionId, currency, limits.shardCount);
  }

  /** Stores the report unless one exists; returns the report that stands. */
  async recordReport(report: SettlementReport): Promise<SettlementReport> {
    try {
      await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: reportToItem(report), ConditionExpression: 'attribute_not_exists(pk)' }));
      return report;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.getReport(report.windowId);
      if (stored === undefined) throw new CorruptItemError(`report of ${report.windowId} exists and does not`);
      return stored;
    }
  }

  /** Claims the one operations alarm of an UNBALANCED report; false once claimed. */
  async claimUnbalancedAlarm(windowId: string): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: reportKey(windowId),
          UpdateExpression: 'SET alarmedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(alarmedAt)',
          ExpressionAttributeValues: { ':at': { S: this.#now().toISOString() } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async releaseUnbalancedAlarm(windowId: string): Promise<void> {
    await this.#client.send(new UpdateItemCommand({ TableName: this.#tableName, Key: reportKey(windowId), UpdateExpression: 'REMOVE alarmedAt' }));
  }

  async getReport(windowId: string): Promise<SettlementReport | undefined> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: reportKey(windowId), ConsistentRead: true }));
    return Item === undefined ? undefined : reportFromItem(Item);
  }

  /**
   * Records one instruction of a CLOSED window once (a redelivery finds it and changes nothing),
   * then marks the window PENDING_SETTLEMENT when every instruction is in. Returns whether this
   * call recorded it.
   */
  async recordInstruction(windowId: string, instruction: Omit<RecordedInstruction, 'recordedAt'>, instructionCount: number): Promise<boolean> {
    const at = this.#now().toISOString();
    let recorded = true;
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#tableName,
                Item: {
                  ...instructionKey(windowId, instruction.institutionId),
                  entity: { S: 'SETTLEMENT_INSTRUCTION' },
                  windowId: { S: windowId },
                  institutionId: { S: instruction.institutionId },
                  direction: { S: instruction.direction },
                  amountMinor: { N: instruction.amountMinor.toString() },
                  recordedAt: { S: at },
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.#tableName,
                Key: windowKey(windowId),
                UpdateExpression: 'ADD instructionsRecorded :one SET instructionCount = :count',
                ConditionExpression: '#state = :closed',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':one': { N: '1' }, ':count': { N: String(instructionCount) }, ':closed': { S: 'CLOSED' } },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [instructionReason, windowReason] = error.CancellationReasons ?? [];
      if (instructionReason?.Code !== 'ConditionalCheckFailed' && windowReason?.Code !== 'ConditionalCheckFailed') {
        throw new SettlementConflictError(`recording an instruction of ${windowId} conflicted; retry`);
      }
      recorded = false; // already recorded, or the window is past CLOSED
    }
    await this.markIssuedIfComplete(windowId, instructionCount);
    return recorded;
  }

  /**
   * CLOSED -> PENDING_SETTLEMENT once all `instructionCount` instructions are recorded; with none
   * to issue, CLOSED -> SETTLED at once (and out of its currency's unsettled set).
   */
  async markIssuedIfComplete(windowId: string, instructionCount: number): Promise<boolean> {
    if (instructionCount === 0) return this.#markSettled(windowId, { from: 'CLOSED' });
    let issued = true;
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: windowKey(windowId),
          UpdateExpression: 'SET #state = :pending, pendingSince = :at',
          ConditionExpression: '#state = :closed AND instructionsRecorded = :count',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':pending': { S: 'PENDING_SETTLEMENT' }, ':closed': { S: 'CLOSED' }, ':count': { N: String(instructionCount) }, ':at': { S: this.#now().toISOString() } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Still CLOSED: instructions are missing, and nothing can settle yet. Otherwise it is
      // PENDING_SETTLEMENT already (or further), and the mark below may be what was lost.
      if (error.Item?.state?.S !== 'PENDING_SETTLEMENT') return false;
      issued = false;
    }
    // The bank may have confirmed every instruction before the last one was recorded here, or an
    // earlier attempt may have stopped between the last confirmation and the SETTLED mark: a
    // PENDING window whose confirmations are all in is settled (conditionally: a no-op else).
    await this.#markSettled(windowId, { from: 'PENDING_SETTLEMENT', confirmationCount: instructionCount });
    return issued;
  }

  /**
   * The window leaves its currency's unsettled set as it becomes SETTLED, in one transaction:
   * from CLOSED when it had nothing to confirm, from PENDING_SETTLEMENT once every one of
   * `confirmationCount` confirmations is in.
   */
  async #markSettled(windowId: string, when: { readonly from: 'CLOSED' } | { readonly from: 'PENDING_SETTLEMENT'; readonly confirmationCount: number }): Promise<boolean> {
    const currency = currencyOfWindow(windowId);
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.#tableName,
                Key: windowKey(windowId),
                UpdateExpression: 'SET #state = :settled, settledAt = :at',
                ConditionExpression: when.from === 'CLOSED' ? '#state = :from' : '#state = :from AND confirmationsRecorded = :count',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: {
                  ':settled': { S: 'SETTLED' },
                  ':from': { S: when.from },
                  ':at': { S: this.#now().toISOString() },
                  ...(when.from === 'CLOSED' ? {} : { ':count': { N: String(when.confirmationCount) } }),
                },
              },
            },
            { Update: { TableName: this.#tableName, Key: unsettledKey(currency), UpdateExpression: 'DELETE windowIds :settled', ExpressionAttributeValues: { ':settled': { SS: [windowId] } } } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      if (error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw new SettlementConflictError(`settling ${windowId} conflicted with another write; retry`, { cause: error });
    }
  }

  async confirmSettlement(windowId: string, confirmation: SettlementConfirmation, positionMinor: bigint, confirmationCount: number): Promise<ConfirmResult> {
    return retryWhile(() => this.#confirmOnce(windowId, confirmation, positionMinor, confirmationCount), (error) => error instanceof SettlementConflictError, {
      attemptsMax: CLOSE_ATTEMPTS_MAX,
      backoffBaseMs: 20,
    });
  }

  async #confirmOnce(windowId: string, confirmation: SettlementConfirmation, positionMinor: bigint, confirmationCount: number): Promise<ConfirmResult> {
    const currency = currencyOfWindow(windowId);
    const sequence = parseWindowId(windowId)?.sequence ?? 0;
    const recorded: RecordedConfirmation = { ...confirmation, confirmedAt: this.#now().toISOString() };
    // The window's part of the exposure, shard by shard, as the seal left it, and any part the
    // version before shards kept (its exposure then moved onto shard 0).
    const legacy = await this.#legacyPart(windowId, confirmation.institutionId);
    const legacyMinor = unreleasedMinor(legacy);
    const shards = legacyMinor === undefined ? await this.shardsOf(confirmation.institutionId, currency) : await this.#enrolledShards(confirmation.institutionId, currency);
    const holding = shards.filter((shard) => shard.positions.has(sequence));
    const held = holding.reduce((sum, shard) => sum + (shard.positions.get(sequence) ?? 0n), legacyMinor ?? 0n);
    if (held !== positionMinor) {
      // Released already (by this confirmation, or a racing one), or the shards disagree with the report.
      const existing = await this.#confirmation(windowId, confirmation.institutionId);
      if (existing !== undefined) return this.#confirmedBefore(windowId, existing, confirmation, confirmationCount);
      if (holding.length > 0 || positionMinor !== 0n) throw new CorruptItemError(`${confirmation.institutionId} holds ${held} of ${windowId} unreleased, but its report position is ${positionMinor}`);
    }
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#tableName,
                Item: confirmationToItem(windowId, recorded),
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Update: {
                TableName: this.#tableName,
                Key: windowKey(windowId),
                UpdateExpression: 'ADD confirmationsRecorded :one',
                // CLOSED too: the bank may confirm one instruction before the last one is
                // recorded (they share the window's message group, the confirmation behind its own).
                ConditionExpression: '#state IN (:closed, :pending)',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':one': { N: '1' }, ':closed': { S: 'CLOSED' }, ':pending': { S: 'PENDING_SETTLEMENT' } },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            // Only an instruction that was issued (recorded) can have been carried out.
            { ConditionCheck: { TableName: this.#tableName, Key: instructionKey(windowId, confirmation.institutionId), ConditionExpression: 'attribute_exists(pk)' } },
            // The window's part of the exposure is released with the confirmation, never apart
            // (what the institution was owed, released, may take a shard below zero: see #wholeChanges).
            ...(this.#wholeChanges(shards, releaseChanges(holding, sequence, legacyMinor), { checkShardCount: true }) ?? []),
            ...(legacyMinor === undefined ? [] : [this.#legacyRelease(windowId, confirmation.institutionId)]),
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [confirmationReason, windowReason, instructionReason] = error.CancellationReasons ?? [];
      if (confirmationReason?.Code === 'ConditionalCheckFailed' && confirmationReason.Item !== undefined) {
        return this.#confirmedBefore(windowId, confirmationFromItem(confirmationReason.Item), confirmation, confirmationCount);
      }
      if (windowReason?.Code === 'ConditionalCheckFailed') {
        return { kind: 'not-pending', window: windowReason.Item !== undefined ? windowFromItem(windowReason.Item) : await this.#requireWindow(windowId) };
      }
      if (instructionReason?.Code === 'ConditionalCheckFailed') return { kind: 'not-issued', window: await this.#requireWindow(windowId) };
      throw new SettlementConflictError(`confirming ${windowId} for ${confirmation.institutionId} conflicted with another write; retry`, { cause: error });
    }
    await this.#markSettled(windowId, { from: 'PENDING_SETTLEMENT', confirmationCount });
    return { kind: 'confirmed', confirmation: recorded, window: await this.#requireWindow(windowId) };
  }

  async #confirmation(windowId: string, institutionId: string): Promise<RecordedConfirmation | undefined> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: confirmationKey(windowId, institutionId), ConsistentRead: true }));
    return Item === undefined ? undefined : confirmationFromItem(Item);
  }

  /** A confirmation stands for this institution: the same one replays (and mends a lost SETTLED mark), another conflicts. */
  async #confirmedBefore(windowId: string, existing: RecordedConfirmation, confirmation: SettlementConfirmation, confirmationCount: number): Promise<ConfirmResult> {
    if (!sameConfirmation(existing, confirmation)) return { kind: 'conflict', existing };
    await this.#markSettled(windowId, { from: 'PENDING_SETTLEMENT', confirmationCount });
    return { kind: 'replayed', confirmation: existing, window: await this.#requireWindow(windowId) };
  }

  async #requireWindow(windowId: string): Promise<SettlementWindow> {
    const window = await this.getWindow(windowId);
    if (window === undefined) throw new CorruptItemError(`window ${windowId} vanished`);
    return window;
  }

  async confirmations(window: SettlementWindow, report: SettlementReport): Promise<RecordedConfirmation[]> {
    const items = await batchGetAll(this.#client, this.#tableName, report.instructions.map((line) => confirmationKey(window.windowId, line.institutionId)));
    return items.map(confirmationFromItem).sort((a, b) => (a.institutionId < b.institutionId ? -1 : 1));
  }

  async recordedInstructions(window: SettlementWindow, report: SettlementReport): Promise<RecordedInstruction[]> {
    const items = await batchGetAll(this.#client, this.#tableName, report.instructions.map((line) => instructionKey(window.windowId, line.institutionId)));
    return items
      .map((item): RecordedInstruction => ({
        institutionId: item.institutionId?.S ?? '',
        direction: item.direction?.S === 'PAY' ? 'PAY' : 'RECEIVE',
        amountMinor: int(item, 'amountMinor'),
        recordedAt: item.recordedAt?.S ?? '',
      }))
      .sort((a, b) => (a.institutionId < b.institutionId ? -1 : 1));
  }

  /** Currencies that have settlement windows. */
  async currencies(): Promise<CurrencyCode[]> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: CURRENCIES_KEY, ConsistentRead: true }));
    return [...(Item?.currencies?.SS ?? [])].filter(isCurrencyCode).sort();
  }

  /** The windows of a currency with sequence numbers in [from, to], newest first (unsealed ones with live totals). */
  async windowsBetween(currency: CurrencyCode, from: number, to: number): Promise<SettlementWindow[]> {
    const keys: Item[] = [];
    for (let sequence = to; sequence >= Math.max(1, from); sequence--) keys.push(windowKey(windowIdFor(currency, sequence)));
    const windows = (await batchGetAll(this.#client, this.#tableName, keys)).map(windowFromItem);
    const shards = windows.some((window) => window.sealed !== true) ? await this.#participantShards(currency) : [];
    return windows.map((window) => (window.sealed === true ? window : withTotals(window, shards))).sort((a, b) => b.sequence - a.sequence);
  }

  /** An institution's position in the current window of a currency (0 when it has none yet). */
  async currentPosition(institutionId: string, currency: CurrencyCode): Promise<InstitutionPosition> {
    const windowId = await this.currentWindowId(currency);
    const sequence = parseWindowId(windowId)?.sequence ?? 0;
    const shards = await this.shardsOf(institutionId, currency);
    return { windowId, positionMinor: shards.reduce((sum, shard) => sum + (shard.positions.get(sequence) ?? 0n), 0n) };
  }
}

/** The changes that release a window's parts: each holding shard's, and a legacy part onto shard 0. */
function releaseChanges(holding: readonly PositionShard[], sequence: number, legacyMinor: bigint | undefined): Map<number, ShardChange> {
  const changes = new Map<number, ShardChange>(holding.map((shard) => [shard.shard, { release: { sequence, positionMinor: shard.positions.get(sequence) ?? 0n } }]));
  if (legacyMinor !== undefined) changes.set(0, { ...changes.get(0), legacyReleaseMinor: legacyMinor });
  return changes;
}

/** Shards rolled at once while sealing a window. */
const SEAL_CONCURRENCY = 16;

async function forEachLimited<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** The window's totals and participants added up from the shards (the payer side counts each transfer once) and its own item. */
function withTotals(window: SettlementWindow, shards: readonly PositionShard[]): SettlementWindow {
  const sequence = window.sequence;
  // What the window item holds before it is sealed: nothing, unless the version before shards counted on it.
  const participants = new Set<string>(window.participants);
  let transferCount = window.transferCount;
  let grossMinor = window.grossMinor;
  for (const shard of shards) {
    if (shard.positions.has(sequence)) participants.add(shard.institutionId);
    transferCount += shard.counts.get(sequence) ?? 0;
    grossMinor += shard.gross.get(sequence) ?? 0n;
  }
  return { ...window, transferCount, grossMinor, participants: [...participants].sort() };
}

/** Each institution's position in window `sequence`, summed over its shards and any legacy part not released; `participants` listed at 0 if nothing is left. */
function positionsIn(sequence: number, shards: readonly PositionShard[], participants: readonly string[], legacy: ReadonlyMap<string, LegacyPart> = new Map()): Map<string, bigint> {
  const positions = new Map<string, bigint>(participants.map((institutionId) => [institutionId, 0n]));
  for (const [institutionId, part] of legacy) {
    const held = unreleasedMinor(part);
    if (held !== undefined) positions.set(institutionId, (positions.get(institutionId) ?? 0n) + held);
  }
  for (const shard of shards) {
    const position = shard.positions.get(sequence);
    if (position !== undefined) positions.set(shard.institutionId, (positions.get(shard.institutionId) ?? 0n) + position);
  }
  return positions;
}

function pointerItem(currency: string, windowId: string, sequence: number): Item {
  return { ...currentWindowKey(currency), entity: { S: 'SETTLEMENT_CURRENT' }, windowId: { S: windowId }, sequence: { N: String(sequence) } };
}

function openWindowItem(currency: CurrencyCode, sequence: number, openedAt: string): Item {
  const windowId = windowIdFor(currency, sequence);
  return {
    ...windowKey(windowId),
    entity: { S: 'SETTLEMENT_WINDOW' },
    windowId: { S: windowId },
    currency: { S: currency },
    sequence: { N: String(sequence) },
    state: { S: 'OPEN' },
    openedAt: { S: openedAt },
    transferCount: { N: '0' },
    grossMinor: { N: '0' },
    // Positions on the shards only (a window without it was opened by the version before them).
    layout: { S: 'POSITION_SHARDS' },
  };
}

function reportToItem(report: SettlementReport): Item {
  return {
    ...reportKey(report.windowId),
    entity: { S: 'SETTLEMENT_REPORT' },
    windowId: { S: report.windowId },
    currency: { S: report.currency },
    status: { S: report.status },
    transferCount: { N: String(report.transferCount) },
    grossMinor: { N: report.grossMinor.toString() },
    positions: { S: JSON.stringify(Object.fromEntries([...report.positions].map(([institution, position]) => [institution, position.toString()]))) },
    instructions: { S: JSON.stringify(report.instructions.map((line) => ({ ...line, amountMinor: line.amountMinor.toString() }))) },
    createdAt: { S: report.createdAt },
  };
}

function reportFromItem(item: Item): SettlementReport {
  const currency = item.currency?.S ?? '';
  const status = item.status?.S;
  if (!isCurrencyCode(currency) || (status !== 'BALANCED' && status !== 'UNBALANCED')) throw new CorruptItemError('settlement report');
  try {
    const positions = JSON.parse(item.positions?.S ?? '') as Record<string, string>;
    const instructions = JSON.parse(item.instructions?.S ?? '') as { institutionId: string; direction: 'PAY' | 'RECEIVE'; amountMinor: string }[];
    return {
      windowId: item.windowId?.S ?? '',
      currency,
      status,
      transferCount: Number(int(item, 'transferCount')),
      grossMinor: int(item, 'grossMinor'),
      positions: new Map(Object.entries(positions).map(([institution, position]) => [institution, BigInt(position)])),
      instructions: instructions.map((line) => ({ institutionId: line.institutionId, direction: line.direction, amountMinor: BigInt(line.amountMinor) })),
      createdAt: item.createdAt?.S ?? '',
    };
  } catch (error) {
    throw new CorruptItemError(`settlement report ${item.windowId?.S}: ${String(error)}`);
  }
}

export function windowFromItem(item: Item): SettlementWindow {
  const state = item.state?.S;
  const currency = item.currency?.S;
  if (state === undefined || !(WINDOW_STATES as readonly string[]).includes(state)) throw new CorruptItemError(`window state ${state}`);
  if (currency === undefined || !isCurrencyCode(currency)) throw new CorruptItemError(`window currency ${currency}`);
  const windowId = item.windowId?.S;
  const openedAt = item.openedAt?.S;
  if (windowId === undefined || openedAt === undefined) throw new CorruptItemError('window without id or opening time');
  return {
    windowId,
    currency,
    sequence: Number(int(item, 'sequence')),
    state: state as SettlementWindow['state'],
    openedAt,
    ...(item.closedAt?.S !== undefined ? { closedAt: item.closedAt.S } : {}),
    ...(item.closedBy !== undefined ? { closedBy: actorFromAttribute(item.closedBy, 'closedBy') } : {}),
    ...(item.settledAt?.S !== undefined ? { settledAt: item.settledAt.S } : {}),
    transferCount: Number(int(item, 'transferCount')),
    grossMinor: int(item, 'grossMinor'),
    participants: [...(item.participants?.SS ?? [])].sort(),
    ...(item.instructionCount?.N !== undefined ? { instructionCount: Number(item.instructionCount.N) } : {}),
    ...(item.instructionsRecorded?.N !== undefined ? { instructionsRecorded: Number(item.instructionsRecorded.N) } : {}),
    ...(item.confirmationsRecorded?.N !== undefined ? { confirmationsRecorded: Number(item.confirmationsRecorded.N) } : {}),
    ...(item.sealedAt?.S !== undefined ? { sealed: true } : {}),
    ...(item.layout?.S === undefined ? { legacyPositions: true } : {}),
  };
}

/** The currency a window id names; a stored id that names none is corrupt data. */
function currencyOfWindow(windowId: string): CurrencyCode {
  const currency = parseWindowId(windowId)?.currency;
  if (currency === undefined || !isCurrencyCode(currency)) throw new CorruptItemError(`${windowId} is not a window id`);
  return currency;
}

/** What every write of a cap-and-exposure item sets, whichever writes it first. */
const LIMIT_IDENTITY = 'entity = :entity, institutionId = :institution, currency = :currency';

function limitIdentityValues(institutionId: string, currency: CurrencyCode): Item {
  return { ':entity': { S: 'NET_DEBIT_CAP' }, ':institution': { S: institutionId }, ':currency': { S: currency } };
}

function confirmationToItem(windowId: string, confirmation: RecordedConfirmation): Item {
  return {
    ...confirmationKey(windowId, confirmation.institutionId),
    entity: { S: 'SETTLEMENT_CONFIRMATION' },
    windowId: { S: windowId },
    institutionId: { S: confirmation.institutionId },
    direction: { S: confirmation.direction },
    amountMinor: { N: confirmation.amountMinor.toString() },
    reference: { S: confirmation.reference },
    confirmedBy: actorToAttribute(confirmation.confirmedBy),
    confirmedAt: { S: confirmation.confirmedAt },
  };
}

function confirmationFromItem(item: Item): RecordedConfirmation {
  const direction = item.direction?.S;
  const institutionId = item.institutionId?.S;
  const reference = item.reference?.S;
  const confirmedAt = item.confirmedAt?.S;
  if ((direction !== 'PAY' && direction !== 'RECEIVE') || institutionId === undefined || reference === undefined || confirmedAt === undefined || item.confirmedBy === undefined) {
    throw new CorruptItemError(`settlement confirmation ${item.pk?.S}`);
  }
  return { institutionId, direction, amountMinor: int(item, 'amountMinor'), reference, confirmedBy: actorFromAttribute(item.confirmedBy, 'confirmedBy'), confirmedAt };
}

/** The same movement confirmed again: who sent the repeat does not matter. */
function sameConfirmation(a: SettlementConfirmation, b: SettlementConfirmation): boolean {
  return a.institutionId === b.institutionId && a.direction === b.direction && a.amountMinor === b.amountMinor && a.reference === b.reference;
}

