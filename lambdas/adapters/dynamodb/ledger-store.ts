// DynamoDB implementation of the LedgerStore port. Posting is ONE TransactWriteItems: the transfer
// record (attribute_not_exists on its id, the idempotency key), the debit and the credit, each
// guarded by the posting rules as condition expressions; an interbank transfer (debtor and
// creditor at different institutions) also carries one position shard of the payer (in the OPEN
// window, within its share of the Net Debit Cap) and one of the payee (in the same window),
// chosen by the transfer id. A cancelled transaction is explained by the same pure rules
// (core/ledger/posting-rules.ts) applied to the items DynamoDB returns; a shard in another window
// than the one read is rolled on (or the window re-read), a shard short of headroom borrows from
// its siblings, and the posting is tried again, so each transfer lands in exactly one window and
// the cap refuses only what the institution's shards together cannot afford.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type CancellationReason,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CREDIT_SHARDS_MAX, CREDIT_SHARDS_MIN, type Account } from '../../core/ledger/account.js';
import type { CurrencyCode } from '../../core/money/currency.js';
import { parseWindowId } from '../../core/settlement/window.js';
import type { LedgerStore, PostingResult, StatusChange } from '../../core/ledger/ports.js';
import { decidePosting } from '../../core/ledger/posting-rules.js';
import {
  transferContentHash,
  type StoredRejectionReason,
  type TransferRecord,
  type TransferRequest,
} from '../../core/ledger/transfer.js';
import { batchGetAll, snapshotGet } from './batch-get.js';
import { DynamoSettlementStore, type InstitutionLimits, type InterbankRoute } from './settlement-store.js';
import { pickShard, shardFromItem } from './position-shards.js';
import {
  accountFromItem,
  accountKey,
  accountToItem,
  actorToAttribute,
  creditShardFromItem,
  creditShardKey,
  creditShardKeys,
  creditShardToItem,
  transferFromItem,
  transferKey,
  transferToItem,
} from './ledger-items.js';
import type { Actor } from '../../core/trust/api-client.js';

/** Write conflicts (TransactionConflict) are retried in place a bounded number of times. */
export const POSTING_ATTEMPTS_MAX = 7;
/** Stale routes mended (a shard rolled on, a window re-read, headroom borrowed) per posting at most, each retried at once. */
const ROUTE_REPAIRS_MAX = 8;
const CONFLICT_BACKOFF_BASE_MS = 15;

export class LedgerStoreError extends Error {
  override name = 'LedgerStoreError';
}

/** The transaction was cancelled for a reason the posting rules cannot explain: retry later. */
export class PostingConflictError extends LedgerStoreError {
  override name = 'PostingConflictError';
}

/** A transfer from an account to itself is malformed, whatever path it came by. */
export class SameAccountTransferError extends LedgerStoreError {
  override name = 'SameAccountTransferError';
  constructor(transferId: string) {
    super(`transfer ${transferId}: debtor and creditor are the same account`);
  }
}

interface PostingRoute {
  /** '' when the account was not found. */
  readonly payerInstitutionId: string;
  readonly payeeInstitutionId: string;
  readonly interbank?: InterbankRoute;
  /** Interbank, but the payer has no Net Debit Cap in the currency (as last read): it may not send. */
  readonly uncapped?: true;
  /** The creditor is a hot account: the credit lands on this one of its credit shards. */
  readonly creditShard?: number;
}

/** Account -> institution entries kept per store (an account's institution never changes). */
const INSTITUTION_CACHE_MAX = 100_000;

export interface DynamoLedgerStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class DynamoLedgerStore implements LedgerStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: () => Date;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #settlement: DynamoSettlementStore;
  /** Cached lookups of the posting path; the transaction's conditions catch any that went stale. */
  readonly #institutionOf = new Map<string, string>();
  /** Credit shards per account (0: none), learnt with its institution (neither changes once set). */
  readonly #creditShardsOf = new Map<string, number>();
  readonly #openWindowOf = new Map<string, number>();
  readonly #limitsOf = new Map<string, InstitutionLimits>();
  /** The payer shard a posting in progress borrowed headroom into, by transfer id: its next attempt uses it. */
  readonly #borrowedFor = new Map<string, number>();

  constructor(options: DynamoLedgerStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#now = options.now ?? (() => new Date());
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#settlement = new DynamoSettlementStore(options.client, options.tableName, this.#now);
  }

  /** Settlement windows, positions and caps on the same table. */
  get settlement(): DynamoSettlementStore {
    return this.#settlement;
  }

  /**
   * Both accounts' institutions (as the debit and credit conditions will insist on) and, for an
   * interbank transfer, the window, positions and cap it must carry. An account not found gets
   * the institution '' that no account has: should it be opened before the transaction runs, the
   * condition fails and the posting retries with its real institution, so an interbank transfer
   * can never slip through as an intrabank one.
   */
  async #routeOf(request: TransferRequest): Promise<PostingRoute> {
    const missing = [request.debtorAccountId, request.creditorAccountId].filter((id) => !this.#institutionOf.has(id));
    if (missing.length > 0) {
      if (this.#institutionOf.size > INSTITUTION_CACHE_MAX) {
        this.#institutionOf.clear();
        this.#creditShardsOf.clear();
      }
      const items = await batchGetAll(this.#client, this.#tableName, missing.map(accountKey), { projection: 'accountId, institutionId, creditShards', sleep: this.#sleep });
      for (const item of items) {
        const accountId = item.accountId?.S;
        const institutionId = item.institutionId?.S;
        if (accountId === undefined || institutionId === undefined) continue;
        this.#institutionOf.set(accountId, institutionId);
        this.#creditShardsOf.set(accountId, Number(item.creditShards?.N ?? '0'));
      }
    }
    const payer = this.#institutionOf.get(request.debtorAccountId) ?? '';
    const payee = this.#institutionOf.get(request.creditorAccountId) ?? '';
    const creditShards = this.#creditShardsOf.get(request.creditorAccountId) ?? 0;
    const hot = creditShards > 1 ? { creditShard: pickShard(creditShards) } : {};
    if (payer === '' || payee === '' || payer === payee) return { payerInstitutionId: payer, payeeInstitutionId: payee, ...hot };
    let windowSequence = this.#openWindowOf.get(request.currency);
    if (windowSequence === undefined) {
      windowSequence = parseWindowId(await this.#settlement.currentWindowId(request.currency))?.sequence ?? 0;
      this.#openWindowOf.set(request.currency, windowSequence);
    }
    const [payerLimits, payeeLimits] = await Promise.all([this.#limits(payer, request.currency), this.#limits(payee, request.currency)]);
    if (payerLimits.netDebitCapMinor === undefined) return { payerInstitutionId: payer, payeeInstitutionId: payee, uncapped: true, ...hot };
    return {
      payerInstitutionId: payer,
      payeeInstitutionId: payee,
      ...hot,
      interbank: {
        payerInstitutionId: payer,
        payeeInstitutionId: payee,
        windowSequence,
        // After a borrow, the shard it topped up (a fresh draw would chase the headroom around).
        payerShard: this.#pinned(request.transferId, payerLimits.shardCount) ?? pickShard(payerLimits.shardCount),
        payeeShard: pickShard(payeeLimits.shardCount),
      },
    };
  }

  /** An institution's cap and shards as last read; one without shards yet gets its first (a payee needs no cap for that). */
  async #limits(institutionId: string, currency: CurrencyCode): Promise<InstitutionLimits> {
    const key = `${institutionId}#${currency}`;
    let limits = this.#limitsOf.get(key) ?? (await this.#settlement.limits(institutionId, currency));
    if (limits.shardCount === 0) limits = await this.#settlement.enrol(institutionId, currency, 1);
    if (this.#limitsOf.size > INSTITUTION_CACHE_MAX) this.#limitsOf.clear();
    this.#limitsOf.set(key, limits);
    return limits;
  }

  #pinned(transferId: string, shardCount: number): number | undefined {
    const shard = this.#borrowedFor.get(transferId);
    return shard !== undefined && shard < shardCount ? shard : undefined;
  }

  async postTransfer(request: TransferRequest): Promise<PostingResult> {
    // DynamoDB refuses two operations on one item in a transaction; say why before it does.
    if (request.debtorAccountId === request.creditorAccountId) throw new SameAccountTransferError(request.transferId);
    try {
      return await this.#postTransfer(request);
    } finally {
      this.#borrowedFor.delete(request.transferId);
    }
  }

  async #postTransfer(request: TransferRequest): Promise<PostingResult> {
    const contentHash = transferContentHash(request);
    let repairs = 0;
    for (let attempt = 1; attempt <= POSTING_ATTEMPTS_MAX; ) {
      const outcome = await this.#attemptPosting(request, contentHash);
      if (outcome === 'repaired' && ++repairs <= ROUTE_REPAIRS_MAX) continue;
      if (outcome !== 'conflict' && outcome !== 'repaired') return outcome;
      if (attempt < POSTING_ATTEMPTS_MAX) {
        await this.#sleep(CONFLICT_BACKOFF_BASE_MS * 2 ** attempt * (0.5 + Math.random()));
      }
      attempt++;
    }
    throw new PostingConflictError(`transfer ${request.transferId}: write conflict persisted after ${POSTING_ATTEMPTS_MAX} attempts`);
  }

  /** 'repaired': the route was stale and is mended, try again at once; 'conflict': lost to another write, try again later. */
  async #attemptPosting(request: TransferRequest, contentHash: string): Promise<PostingResult | 'conflict' | 'repaired'> {
    const { payerInstitutionId, payeeInstitutionId, interbank: route, uncapped, creditShard } = await this.#routeOf(request);
    // A channel transfer debiting another institution's account is refused without touching it.
    if (request.channel !== 'ADMIN' && payerInstitutionId !== '' && payerInstitutionId !== request.initiatingInstitutionId) {
      return this.#storeRejection(request, contentHash, 'DEBTOR_NOT_PERMITTED');
    }
    if (uncapped === true) return this.#refuseUncapped(request, contentHash, payerInstitutionId);
    const decidedAt = this.#now().toISOString();
    const posted: TransferRecord = { ...request, status: 'POSTED', contentHash, decidedAt };
    const amount: AttributeValue = { N: String(request.amountMinor) };
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#tableName,
                Item: transferToItem(posted),
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Update: {
                TableName: this.#tableName,
                Key: accountKey(request.debtorAccountId),
                // Mirrors debitRefusal(): DynamoDB conditions cannot do arithmetic, so each
                // account carries headroomMinor = balance + overdraft limit, updated in step.
                // Only ADMIN transfers may debit a funding account (which has no floor).
                // The institution is the one the settlement route was built for.
                ConditionExpression: `attribute_exists(pk) AND #status = :active AND currency = :currency AND institutionId = :institution AND ${
                  request.channel === 'ADMIN' ? '(kind = :funding OR headroomMinor >= :amount)' : '(kind <> :funding AND headroomMinor >= :amount)'
                }`,
                UpdateExpression: 'SET balanceMinor = balanceMinor - :amount, headroomMinor = headroomMinor - :amount',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':active': { S: 'ACTIVE' },
                  ':currency': { S: request.currency },
                  ':funding': { S: 'FUNDING' },
                  ':amount': amount,
                  ':institution': { S: payerInstitutionId },
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            creditShard === undefined
              ? {
                  Update: {
                    TableName: this.#tableName,
                    Key: accountKey(request.creditorAccountId),
                    // Mirrors creditRefusal(): a FROZEN account still receives.
                    ConditionExpression: 'attribute_exists(pk) AND #status IN (:active, :frozen) AND currency = :currency AND institutionId = :institution',
                    UpdateExpression: 'SET balanceMinor = balanceMinor + :amount, headroomMinor = headroomMinor + :amount',
                    ExpressionAttributeNames: { '#status': 'status' },
                    ExpressionAttributeValues: {
                      ':active': { S: 'ACTIVE' },
                      ':frozen': { S: 'FROZEN' },
                      ':currency': { S: request.currency },
                      ':amount': amount,
                      ':institution': { S: payeeInstitutionId },
                    },
                    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                  },
                }
              : {
                  Update: {
                    TableName: this.#tableName,
                    // A hot account is credited on one of its shards, which carry what the
                    // credit rules check (a FROZEN account still receives; only CLOSED refuses).
                    Key: creditShardKey(request.creditorAccountId, creditShard),
                    ConditionExpression: 'attribute_exists(pk) AND #status = :active AND currency = :currency AND institutionId = :institution',
                    UpdateExpression: 'ADD balanceMinor :amount',
                    ExpressionAttributeNames: { '#status': 'status' },
                    ExpressionAttributeValues: { ':active': { S: 'ACTIVE' }, ':currency': { S: request.currency }, ':amount': amount, ':institution': { S: payeeInstitutionId } },
                    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                  },
                },
            ...(route === undefined ? [] : this.#settlement.interbankItems(route, request.currency, BigInt(request.amountMinor))),
          ],
        }),
      );
      return { kind: 'decided', transfer: posted };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      return this.#explainCancellation(request, contentHash, error.CancellationReasons ?? [], route, creditShard !== undefined);
    }
  }

  async #explainCancellation(
    request: TransferRequest,
    contentHash: string,
    reasons: readonly CancellationReason[],
    route: InterbankRoute | undefined,
    creditedShard: boolean,
  ): Promise<PostingResult | 'conflict' | 'repaired'> {
    const [transferReason, debitReason, creditReason, payerReason, payeeReason] = reasons;
    if (transferReason?.Code === 'ConditionalCheckFailed') {
      const existing = transferReason.Item !== undefined ? transferFromItem(transferReason.Item) : await this.getTransfer(request.transferId);
      if (existing === undefined) return 'conflict';
      return existing.contentHash === contentHash
        ? { kind: 'duplicate', transfer: existing }
        : { kind: 'modified', reason: 'MODIFIED_REQUEST', existing };
    }
    const accountsFailed = [debitReason, creditReason].some((reason) => reason?.Code === 'ConditionalCheckFailed');
    if (!accountsFailed) return route === undefined ? 'conflict' : this.#explainSettlementCancellation(request, contentHash, route, payerReason, payeeReason);
    const [debtor, creditor] = await Promise.all([
      this.#accountFromReason(debitReason, request.debtorAccountId),
      // A credit shard's image is not the account: read the account itself.
      creditedShard ? this.getAccount(request.creditorAccountId) : this.#accountFromReason(creditReason, request.creditorAccountId),
    ]);
    const decision = decidePosting(debtor, creditor, request);
    // The condition failed on a state the rules would accept: it changed in between (or an
    // account appeared after its institution was looked up). Try again with fresh lookups.
    if (decision.kind === 'post') {
      if (creditedShard) this.#institutionOf.delete(request.creditorAccountId);
      return 'conflict';
    }
    // A hot account's own balance may be short while its credit shards hold what it was paid:
    // sweep them in and try again (what a sweep moves is then spendable). It is refused only if
    // its own balance and its shards together cannot cover it (credits only add to the shards,
    // so reading them after the account can only count more, never refuse what was there).
    if (decision.reason === 'INSUFFICIENT_FUNDS' && debtor?.creditShards !== undefined) {
      const affordable = debtor.balanceMinor + debtor.overdraftLimitMinor;
      const swept = await this.sweepCredits(request.debtorAccountId, debtor.creditShards, { ownMinor: affordable, neededMinor: BigInt(request.amountMinor) });
      if (swept === 'conflict') return 'conflict';
      if (swept !== 'insufficient' && swept > 0n) return 'repaired';
    }
    return this.#storeRejection(request, contentHash, decision.reason);
  }

  /**
   * The accounts allowed the transfer; a shard did not. A shard in an older window than the route
   * is rolled on (the pointer has passed that window); one in a newer window means the route read
   * the pointer before a close: read it again. With both shards in the route's window, the
   * payer's shard lacked headroom: borrow from its siblings, or, if all of them together cannot
   * afford the amount, the Net Debit Cap refuses it.
   */
  async #explainSettlementCancellation(
    request: TransferRequest,
    contentHash: string,
    route: InterbankRoute,
    payerReason: CancellationReason | undefined,
    payeeReason: CancellationReason | undefined,
  ): Promise<PostingResult | 'conflict' | 'repaired'> {
    const sides = [
      { reason: payerReason, institutionId: route.payerInstitutionId },
      { reason: payeeReason, institutionId: route.payeeInstitutionId },
    ].filter(({ reason }) => reason?.Code === 'ConditionalCheckFailed');
    if (sides.length === 0) return 'conflict'; // TransactionConflict, throttling inside the transaction, ...
    let repaired = false;
    for (const { reason, institutionId } of sides) {
      if (reason?.Item === undefined) {
        // No such shard: the cached shard count is not what stands. Read it again.
        this.#limitsOf.delete(`${institutionId}#${request.currency}`);
        repaired = true;
        continue;
      }
      const shard = shardFromItem(reason.Item);
      if (shard.windowSequence < route.windowSequence) {
        await this.#settlement.rollShard(institutionId, request.currency, shard.shard, route.windowSequence);
        repaired = true;
      } else if (shard.windowSequence > route.windowSequence) {
        this.#openWindowOf.delete(request.currency);
        repaired = true;
      }
    }
    if (repaired) return 'repaired';
    const payerShard = payerReason?.Item === undefined ? undefined : shardFromItem(payerReason.Item);
    if (payerShard === undefined) return 'conflict';
    const limitsKey = `${route.payerInstitutionId}#${request.currency}`;
    if (!payerShard.capped) {
      this.#limitsOf.delete(limitsKey);
      return this.#refuseUncapped(request, contentHash, route.payerInstitutionId);
    }
    // The shard count as it stands, not as cached: shards another process added hold headroom too.
    const limits = await this.#settlement.limits(route.payerInstitutionId, request.currency);
    const cached = this.#limitsOf.get(limitsKey);
    this.#limitsOf.set(limitsKey, { netDebitCapMinor: limits.netDebitCapMinor, shardCount: limits.shardCount });
    if (cached !== undefined && cached.shardCount !== limits.shardCount) return 'repaired';
    const borrowed = await this.#settlement.borrowHeadroom(route.payerInstitutionId, request.currency, limits.shardCount, route.payerShard, BigInt(request.amountMinor));
    if (borrowed === 'borrowed') {
      this.#borrowedFor.set(request.transferId, route.payerShard);
      return 'repaired';
    }
    if (borrowed === 'conflict') return 'conflict';
    return this.#storeRejection(request, contentHash, 'PAYER_LIMIT_EXCEEDED');
  }

  /**
   * Secure by default: an institution without a Net Debit Cap in the currency has no limit to
   * send within, so its interbank transfers are refused (PAYER_LIMIT_EXCEEDED: its limit is
   * nothing) until the settlement role sets one. The cached "no cap" is read again first: a cap
   * set since must not be refused on a stale cache.
   */
  async #refuseUncapped(request: TransferRequest, contentHash: string, payerInstitutionId: string): Promise<PostingResult | 'repaired'> {
    const key = `${payerInstitutionId}#${request.currency}`;
    const limits = await this.#settlement.limits(payerInstitutionId, request.currency);
    if (limits.netDebitCapMinor !== undefined) {
      this.#limitsOf.set(key, { netDebitCapMinor: limits.netDebitCapMinor, shardCount: limits.shardCount });
      return 'repaired';
    }
    return this.#storeRejection(request, contentHash, 'PAYER_LIMIT_EXCEEDED');
  }

  async #accountFromReason(reason: CancellationReason | undefined, accountId: string): Promise<Account | undefined> {
    if (reason?.Code === 'ConditionalCheckFailed') {
      // ALL_OLD of a missing item is no item: that is the ACCOUNT_NOT_FOUND case.
      return reason.Item === undefined ? undefined : accountFromItem(reason.Item);
    }
    return this.getAccount(accountId);
  }

  /** The rejection is stored on the transfer record so a redelivery reproduces it exactly. */
  async #storeRejection(request: TransferRequest, contentHash: string, reason: StoredRejectionReason): Promise<PostingResult> {
    const rejected: TransferRecord = {
      ...request,
      status: 'REJECTED',
      rejectionReason: reason,
      contentHash,
      decidedAt: this.#now().toISOString(),
    };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: transferToItem(rejected),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'decided', transfer: rejected };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Another delivery decided this transfer first; its outcome is the outcome.
      const existing = error.Item !== undefined ? transferFromItem(error.Item) : await this.getTransfer(request.transferId);
      if (existing === undefined) throw new LedgerStoreError(`transfer ${request.transferId}: conditional put failed but no record exists`);
      return existing.contentHash === contentHash
        ? { kind: 'duplicate', transfer: existing }
        : { kind: 'modified', reason: 'MODIFIED_REQUEST', existing };
    }
  }

  async getTransfer(transferId: string): Promise<TransferRecord | undefined> {
    const result = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: transferKey(transferId), ConsistentRead: true }),
    );
    return result.Item === undefined ? undefined : transferFromItem(result.Item);
  }

  async decidedTransferIds(transferIds: readonly string[]): Promise<Set<string>> {
    const items = await batchGetAll(this.#client, this.#tableName, transferIds.map(transferKey), { projection: 'transferId', sleep: this.#sleep });
    return new Set(items.map((item) => item.transferId?.S).filter((id): id is string => id !== undefined));
  }

  /** The account; a hot account's balance includes what its credit shards hold. */
  async getAccount(accountId: string): Promise<Account | undefined> {
    const result = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: accountKey(accountId), ConsistentRead: true }),
    );
    if (result.Item === undefined) return undefined;
    const account = accountFromItem(result.Item);
    if (account.creditShards === undefined) return account;
    return this.#hotAccount(account, account.creditShards);
  }

  /**
   * A hot account with its shards read at one instant (TransactGetItems): read one after the
   * other, a sweep in between would be missed by both reads. A read that keeps meeting writes in
   * flight falls back on the account as first read and its shards read after it: a sweep in
   * between can then only make the balance read low for that once, never high.
   */
  async #hotAccount(read: Account, shardCount: number): Promise<Account | undefined> {
    const snapshot = await snapshotGet(this.#client, this.#tableName, [accountKey(read.accountId), ...creditShardKeys(read.accountId, shardCount)], { sleep: this.#sleep });
    if (snapshot === 'busy') {
      const credited = (await this.#creditShards(read.accountId, shardCount)).reduce((sum, shard) => sum + shard.balanceMinor, 0n);
      return { ...read, balanceMinor: read.balanceMinor + credited };
    }
    const [own, ...shards] = snapshot;
    if (own === undefined) return undefined;
    const credited = shards.reduce((sum, item) => sum + (item === undefined ? 0n : creditShardFromItem(item).balanceMinor), 0n);
    const account = accountFromItem(own);
    return { ...account, balanceMinor: account.balanceMinor + credited };
  }

  async #creditShards(accountId: string, shardCount: number): Promise<ReturnType<typeof creditShardFromItem>[]> {
    return (await batchGetAll(this.#client, this.#tableName, creditShardKeys(accountId, shardCount), { sleep: this.#sleep })).map(creditShardFromItem);
  }

  /**
   * Moves what a hot account's credit shards hold into the account itself, a shard at a time
   * (each only down by what was read: credits landing meanwhile stay for the next sweep).
   * Returns the amount moved, or 'conflict' when another write won and nothing moved; for a debit
   * (`forDebit`: what its own balance affords, with its overdraft, and the amount), 'insufficient'
   * when the account and its shards together cannot cover it, and then nothing moves.
   */
  async sweepCredits(accountId: string, shardCount: number, forDebit?: { readonly ownMinor: bigint; readonly neededMinor: bigint }): Promise<bigint | 'conflict' | 'insufficient'> {
    const holding = (await this.#creditShards(accountId, shardCount)).filter((shard) => shard.balanceMinor > 0n).sort((a, b) => (a.balanceMinor > b.balanceMinor ? -1 : 1));
    const total = holding.reduce((sum, shard) => sum + shard.balanceMinor, 0n);
    // For a debit: not worth moving anything if even all of it would not cover the amount.
    if (forDebit !== undefined && forDebit.ownMinor + total < forDebit.neededMinor) return 'insufficient';
    // Shard by shard, richest first, each a two-item transaction: a busy shard that conflicts
    // holds up only itself, and a debit stops the sweep once it has what it needs.
    let moved = 0n;
    let conflicts = 0;
    for (const shard of holding) {
      if (forDebit !== undefined && forDebit.ownMinor + moved >= forDebit.neededMinor) break;
      try {
        await this.#client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.#tableName,
                  Key: accountKey(accountId),
                  ConditionExpression: 'attribute_exists(pk)',
                  UpdateExpression: 'SET balanceMinor = balanceMinor + :taken, headroomMinor = headroomMinor + :taken',
                  ExpressionAttributeValues: { ':taken': { N: shard.balanceMinor.toString() } },
                },
              },
              {
                Update: {
                  TableName: this.#tableName,
                  Key: creditShardKey(accountId, shard.shard),
                  // Credits only add to a shard, so it holds at least what was read unless another sweep took it.
                  ConditionExpression: 'balanceMinor >= :taken',
                  UpdateExpression: 'ADD balanceMinor :negative',
                  ExpressionAttributeValues: { ':taken': { N: shard.balanceMinor.toString() }, ':negative': { N: (-shard.balanceMinor).toString() } },
                },
              },
            ],
          }),
        );
        moved += shard.balanceMinor;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        conflicts++;
      }
    }
    return moved === 0n && conflicts > 0 ? 'conflict' : moved;
  }

  async unfreezeAccount(accountId: string, by: Actor, at: string): Promise<StatusChange> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: accountKey(accountId),
          UpdateExpression: 'SET #status = :active, statusChangedAt = :at, statusChangedBy = :by REMOVE frozenByAlertId',
          ConditionExpression: 'attribute_exists(pk) AND #status = :frozen',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': { S: 'ACTIVE' }, ':frozen': { S: 'FROZEN' }, ':at': { S: at }, ':by': actorToAttribute(by) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'changed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item === undefined) return 'not-found';
      return accountFromItem(error.Item).status === 'ACTIVE' ? 'unchanged' : 'conflict';
    }
  }

  async openAccount(account: Account): Promise<boolean> {
    if (account.creditShards !== undefined && (account.creditShards < CREDIT_SHARDS_MIN || account.creditShards > CREDIT_SHARDS_MAX)) {
      throw new RangeError(`account ${account.accountId}: ${account.creditShards} credit shards, not ${CREDIT_SHARDS_MIN}..${CREDIT_SHARDS_MAX}`);
    }
    try {
      if (account.creditShards === undefined) {
        await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: accountToItem(account), ConditionExpression: 'attribute_not_exists(pk)' }));
        return true;
      }
      // A hot account and its credit shards come into being together.
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [accountToItem(account), ...Array.from({ length: account.creditShards }, (_, shard) => creditShardToItem(account, shard))].map((item) => ({
            Put: { TableName: this.#tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
          })),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }
}
