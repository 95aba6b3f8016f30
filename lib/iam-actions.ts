// The DynamoDB actions each handler's function is granted, per table and index: exactly the
// commands its stores send (lambdas/adapters/dynamodb/*.ts) for the store methods its handler wires
// (lambdas/*/handler.ts and the core use cases they call). The topology names the tables a handler
// may touch (contract/topology.ts); this file names what it may do there, and the stack checks the
// two agree. test/infra/least-privilege.test.ts holds its own copy of this table, on purpose.
//
// IAM has no action for a transaction: TransactWriteItems is authorized per item (PutItem,
// UpdateItem, DeleteItem, ConditionCheckItem) and TransactGetItems as GetItem. Nothing in the
// handlers scans or batch-writes; one store deletes (the intake store's discard, api only).
import type { HandlerName, TableName } from '../contract/topology.js';

/** DynamoDB data-plane actions the handlers use (without the `dynamodb:` prefix). */
export type DynamoItemAction = 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem';

/** The actions that only read: what a topology binding with `access: 'read'` may be given. */
export const READ_ACTIONS: readonly DynamoItemAction[] = ['GetItem', 'BatchGetItem'];

export interface TableGrant {
  /** Item actions on the table itself. */
  readonly items: readonly DynamoItemAction[];
  /** Secondary indexes the handler queries (dynamodb:Query on each, and on nothing else). */
  readonly queries?: readonly string[];
  /**
   * Partition-key patterns the item actions are limited to (a `dynamodb:LeadingKeys` condition,
   * `ForAllValues:StringLike`); every item the handler touches in this table matches one.
   */
  readonly leadingKeys?: readonly string[];
}

/** What each store method sends, in the words of the grants below (for the reader, and for reuse). */
const LEDGER_STORE = {
  /** getAccount (GetItem, TransactGetItems -> GetItem), getTransfer; creditShards/routeOf/decidedTransferIds (BatchGetItem). */
  read: ['GetItem', 'BatchGetItem'],
  /** openAccount, #storeRejection (PutItem; TransactWrite Put), #attemptPosting/sweepCredits (TransactWrite Put/Update), unfreezeAccount (UpdateItem). */
  write: ['PutItem', 'UpdateItem'],
} as const;
const SETTLEMENT_STORE = {
  /** limits, currentWindowId, getWindow, getReport, currencies... (GetItem; TransactGetItems -> GetItem); shardsOf, positionsOf, unsettledWindows... (BatchGetItem). */
  read: ['GetItem', 'BatchGetItem'],
  /** #closeOnce, recordInstruction, recordReport, currentWindowId (Put); rollShard, sealWindow, markIssuedIfComplete... (Update). */
  write: ['PutItem', 'UpdateItem'],
  /** #wholeChanges (enrol, setNetDebitCap, borrowHeadroom, sealWindow's release, confirmSettlement): ConditionCheck items. */
  check: ['ConditionCheckItem'],
} as const;

/** Per handler, per table: the actions its function is granted. Keys must match the topology's bindings. */
export const HANDLER_TABLE_GRANTS = {
  // DynamoLedgerStore (with the settlement store it embeds: enrol, rollShard, borrowHeadroom) on
  // the ledger; the intake store's markDecided (decide-transfer.ts) on requests.
  posting: {
    ledger: { items: [...LEDGER_STORE.read, ...LEDGER_STORE.write, ...SETTLEMENT_STORE.check] },
    requests: { items: ['UpdateItem'] },
  },
  // Every store: ledger and settlement stores (accounts, transfers, limits, windows, confirmations);
  // intake recordAccepted (PutItem, then GetItem on a replay), discard (DeleteItem), get; alert
  // listing (Query on both indexes), getAlert, resolveAlert; client store (GetItem, TransactWrite
  // Put/Update, rotateKey UpdateItem, listClients Query on clientsByInstitution).
  api: {
    ledger: { items: [...LEDGER_STORE.read, ...LEDGER_STORE.write, ...SETTLEMENT_STORE.check] },
    requests: { items: ['GetItem', 'PutItem', 'DeleteItem'] },
    risk: { items: ['GetItem', 'UpdateItem'], queries: ['alertsByAccount', 'alertsByTime'] },
    participants: { items: ['GetItem', 'PutItem', 'UpdateItem'], queries: ['clientsByInstitution'] },
  },
  // listUndecided (Query on undecidedByAcceptance), markDecided, markRequeued, quarantine
  // (UpdateItem); on the ledger decidedTransferIds (BatchGetItem) and getTransfer (GetItem).
  recovery: {
    requests: { items: ['UpdateItem'], queries: ['undecidedByAcceptance'] },
    ledger: { items: [...LEDGER_STORE.read] },
  },
  // DynamoRiskStore: readScreeningState (BatchGetItem), storedVerdict (GetItem), recordScreening
  // (TransactWrite Put/Update), recordVerdict (UpdateItem).
  risk: {
    risk: { items: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'] },
  },
  // Alert store: recordAlert (PutItem, the existing alert returned by ReturnValuesOnConditionCheckFailure),
  // claim/release/markNotified/markFrozenEventPublished (UpdateItem); the freezer's outcome marks
  // (UpdateItem). On the ledger, the freeze: one conditional Update of the account item
  // (account-freezer.ts freezeForAlert), whose key is `ACCOUNT#<id>` (ledger-items.ts accountKey).
  // LeadingKeys bounds the items, not the attributes: an Update of an account item could set its
  // balance too (docs/OPERATIONS.md "## Permissions").
  alerts: {
    risk: { items: ['PutItem', 'UpdateItem'] },
    ledger: { items: ['UpdateItem'], leadingKeys: ['ACCOUNT#*'] },
  },
  // DynamoSettlementStore: getWindow, sealWindow (release with ConditionCheck items), recordReport,
  // claim/releaseUnbalancedAlarm, recordInstruction, recordedInstructions, markIssuedIfComplete,
  // confirmSettlement (ConditionCheck on window and instruction).
  settlement: {
    ledger: { items: [...SETTLEMENT_STORE.read, ...SETTLEMENT_STORE.write, ...SETTLEMENT_STORE.check] },
  },
  // close-window.ts: currencies, currentWindowId, closeWindow (#closeOnce: Get, TransactWrite
  // Put/Update; #rollPast: UpdateItem), unsettledWindows (Get, BatchGet, #backfillUnsettled
  // UpdateItem), getWindow. No ConditionCheck on this path.
  settlementClose: {
    ledger: { items: [...SETTLEMENT_STORE.read, ...SETTLEMENT_STORE.write] },
  },
} as const satisfies Record<HandlerName, Partial<Record<TableName, TableGrant>>>;

/** The grants of one handler, typed loosely for iteration. */
export function tableGrantsOf(handler: HandlerName): Partial<Record<TableName, TableGrant>> {
  return HANDLER_TABLE_GRANTS[handler];
}
