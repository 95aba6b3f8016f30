// An in-memory DynamoDB that stands in for the SDK's DynamoDBClient (`send(command)`), so the
// DynamoDB adapters and local provisioning run unchanged, deterministically, without an emulator:
// tables with a hash (and range) key and sparse GSIs (projection ALL), GetItem and conditional
// Put/Update/DeleteItem, TransactWriteItems, Query, Scan and BatchGetItem, with DynamoDB's
// validation and the SDK's own exception classes. For a deterministic simulator it models what
// DynamoDB does under concurrency (a transaction holds its items from its start to its commit and
// yields once in between, so concurrent writers meet TransactionConflict), takes injected faults,
// expires TTL items only when told, and counts requests. test/integration/memory-dynamodb.test.ts
// holds it to DynamoDB Local's answers, scenario by scenario.
import assert from 'node:assert/strict';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  InternalServerError,
  ListTablesCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  TransactionCanceledException,
  TransactionConflictException,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  type CancellationReason,
  type ConditionCheck,
  type CreateTableCommandInput,
  type CreateTableCommandOutput,
  type Delete,
  type DeleteItemCommandInput,
  type DeleteItemCommandOutput,
  type DeleteTableCommandInput,
  type DeleteTableCommandOutput,
  type DescribeTableCommandInput,
  type DescribeTableCommandOutput,
  type DescribeTimeToLiveCommandInput,
  type DescribeTimeToLiveCommandOutput,
  type DynamoDBClient,
  type GetItemCommandInput,
  type GetItemCommandOutput,
  type KeySchemaElement,
  type ListTablesCommandInput,
  type ListTablesCommandOutput,
  type Put,
  type PutItemCommandInput,
  type PutItemCommandOutput,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ScanCommandInput,
  type ScanCommandOutput,
  type TableDescription,
  type TableStatus,
  type TransactGetItemsCommandInput,
  type TransactGetItemsCommandOutput,
  type TransactWriteItem,
  type TransactWriteItemsCommandInput,
  type TransactWriteItemsCommandOutput,
  type Update,
  type UpdateItemCommandInput,
  type UpdateItemCommandOutput,
  type UpdateTimeToLiveCommandInput,
  type UpdateTimeToLiveCommandOutput,
} from '@aws-sdk/client-dynamodb';
import {
  applyUpdate,
  bindExpressions,
  canonicalItem,
  canonicalValue,
  checkCondition,
  checkProjection,
  checkUpdate,
  compareDecimals,
  compareOrdered,
  compareStrings,
  conditionAttributes,
  copyItem,
  copyValue,
  evaluateCondition,
  formatNumber,
  itemBytes,
  keyCondition,
  parseCondition,
  parseNumber,
  parseProjection,
  parseUpdate,
  project,
  rangeMatches,
  typeOf,
  updatedAttributes,
  validationError,
  valuesEqual,
  type Bindings,
  type Item,
  type KeyCondition,
  type ParsedCondition,
  type ParsedProjection,
  type ParsedUpdate,
  type UsedExpression,
} from './dynamodb-expressions.js';

export type { Item } from './dynamodb-expressions.js';

/** TransactWriteItems takes at most this many actions. */
export const TRANSACT_ITEMS_MAX = 100;
/** BatchGetItem reads at most this many keys per request. */
export const BATCH_GET_KEYS_MAX = 100;
/** DynamoDB's item size limit (400 KB). */
const ITEM_BYTES_MAX = 409_600;
/** Query and Scan stop reading a page once this much has been read (1 MB). */
const PAGE_BYTES_MAX = 1_048_576;
const LIST_TABLES_LIMIT_MAX = 100;
const NAME_PATTERN = /^[a-zA-Z0-9_.-]{3,255}$/;
const CONDITION_FAILED = 'The conditional request failed';
const TRANSACTION_ONGOING = 'Transaction is ongoing for the item';

export const OPERATIONS = [
  'CreateTable',
  'DescribeTable',
  'ListTables',
  'DeleteTable',
  'UpdateTimeToLive',
  'DescribeTimeToLive',
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'Query',
  'Scan',
  'BatchGetItem',
  'TransactGetItems',
] as const;
export type Operation = (typeof OPERATIONS)[number];

/** What the fault hook is told about a request before it runs. */
export interface FaultRequest {
  readonly operation: Operation;
  readonly tableNames: readonly string[];
  /** `<table>/<hash>[/<range>]` for each item the request names; none for Query, Scan and table operations. */
  readonly keys: readonly string[];
}

export interface MemoryDynamoDBOptions {
  /** Milliseconds since the epoch: table creation times and expireItems()' default. @default () => 0 (no wall clock) */
  readonly now?: () => number;
  /** Where a TransactWriteItems waits between taking its items and committing. @default () => Promise.resolve() */
  readonly yieldPoint?: () => Promise<void>;
  /** Consulted before each request; an error it returns is thrown and the request changes nothing. */
  readonly faults?: (request: FaultRequest) => Error | undefined;
}

/** A request this engine does not model; refused loudly rather than answered wrongly. */
export class MemoryDynamoDBUnsupportedError extends Error {
  override name = 'MemoryDynamoDBUnsupportedError';
}

// ---------------------------------------------------------------------------------------------
// Errors as DynamoDB answers them; the factories are also what a simulator injects.

function conditionalCheckFailed(item: Readonly<Item> | undefined): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: CONDITION_FAILED, $metadata: {}, ...(item === undefined ? {} : { Item: copyItem(item) }) });
}

function transactionCanceled(reasons: readonly CancellationReason[]): TransactionCanceledException {
  const codes = reasons.map((reason) => reason.Code ?? 'None').join(', ');
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
    $metadata: {},
    CancellationReasons: [...reasons],
  });
}

const conflictReason = (): CancellationReason => ({ Code: 'TransactionConflict', Message: TRANSACTION_ONGOING });
const noneReason = (): CancellationReason => ({ Code: 'None' });

const tableNotFound = (): ResourceNotFoundException => new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });

/** The throttling DynamoDB answers when a table or partition is over its capacity. */
export function throttlingError(): ProvisionedThroughputExceededException {
  return new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
    $metadata: {},
  });
}

/** A TransactWriteItems of `itemCount` actions cancelled because action `conflictedIndex` met another transaction. */
export function transactionConflict(itemCount: number, conflictedIndex: number): TransactionCanceledException {
  assert(Number.isInteger(itemCount) && itemCount >= 1 && itemCount <= TRANSACT_ITEMS_MAX, `itemCount ${itemCount} is 1..${TRANSACT_ITEMS_MAX}`);
  assert(Number.isInteger(conflictedIndex) && conflictedIndex >= 0 && conflictedIndex < itemCount, `conflictedIndex ${conflictedIndex} is within ${itemCount}`);
  return transactionCanceled(Array.from({ length: itemCount }, (_, index) => (index === conflictedIndex ? conflictReason() : noneReason())));
}

export function internalServerError(): InternalServerError {
  return new InternalServerError({ message: 'Internal server error', $metadata: {} });
}

// ---------------------------------------------------------------------------------------------
// Tables.

type ScalarType = 'S' | 'N' | 'B';

interface KeySchema {
  readonly hash: string;
  readonly range: string | undefined;
}

interface Index {
  readonly name: string;
  readonly key: KeySchema;
  /** Encoded hash value -> encoded table key -> item; only items that have every index key attribute (sparse). */
  readonly partitions: Map<string, Map<string, Item>>;
}

const keyNames = (schema: KeySchema): string[] => (schema.range === undefined ? [schema.hash] : [schema.hash, schema.range]);

function scalarType(value: AttributeValue): ScalarType | undefined {
  return value.S !== undefined ? 'S' : value.N !== undefined ? 'N' : value.B !== undefined ? 'B' : undefined;
}

const isEmptyScalar = (value: AttributeValue): boolean => value.S === '' || value.B?.length === 0;

function attribute(item: Readonly<Item>, name: string): AttributeValue {
  const value = item[name];
  assert(value !== undefined, `key attribute ${name} is present`);
  return value;
}

function encodeScalar(value: AttributeValue): string {
  if (value.S !== undefined) return `S${value.S}`;
  if (value.N !== undefined) return `N${value.N}`;
  assert(value.B !== undefined, 'a key value is S, N or B');
  return `B${Buffer.from(value.B).toString('base64')}`;
}

/** Keys are canonical (numbers in plain notation), so equal keys encode equally. */
const encodeKey = (schema: KeySchema, item: Readonly<Item>): string => JSON.stringify(keyNames(schema).map((name) => encodeScalar(attribute(item, name))));

function pick(item: Readonly<Item>, names: Iterable<string>): Item {
  const picked: Item = {};
  for (const name of names) {
    const value = item[name];
    if (value !== undefined) picked[name] = copyValue(value);
  }
  return picked;
}

function compareAttribute(a: Readonly<Item>, b: Readonly<Item>, name: string | undefined): number {
  return name === undefined ? 0 : (compareOrdered(attribute(a, name), attribute(b, name)) ?? 0);
}

/** Query order: by the sort key; ties (possible in an index) by the table's key. */
function queryOrder(sortKey: string | undefined, tableKey: KeySchema): (a: Readonly<Item>, b: Readonly<Item>) => number {
  return (a, b) => compareAttribute(a, b, sortKey) || compareAttribute(a, b, tableKey.hash) || compareAttribute(a, b, tableKey.range);
}

/** FNV-1a: a fixed, portable hash, so the scan order never depends on insertion order. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** Scan order: partitions by a hash of their key (arbitrary but fixed, as DynamoDB's), items within one in query order. */
function scanOrder(schema: KeySchema, tableKey: KeySchema): (a: Readonly<Item>, b: Readonly<Item>) => number {
  const within = queryOrder(schema.range, tableKey);
  return (a, b) => {
    const [x, y] = [encodeScalar(attribute(a, schema.hash)), encodeScalar(attribute(b, schema.hash))];
    return fnv1a(x) - fnv1a(y) || compareStrings(x, y) || within(a, b);
  };
}

/** The first position whose element is past the start key (`after` turns true and stays true). */
function firstAfter<T>(ordered: readonly T[], after: (element: T) => boolean): number {
  let [low, high] = [0, ordered.length];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (after(ordered[middle] as T)) high = middle;
    else low = middle + 1;
  }
  return low;
}

function addToPartition(partitions: Map<string, Map<string, Item>>, partition: string, encoded: string, item: Item): void {
  const members = partitions.get(partition) ?? new Map<string, Item>();
  members.set(encoded, item);
  partitions.set(partition, members);
}

function removeFromPartition(partitions: Map<string, Map<string, Item>>, partition: string, encoded: string): void {
  const members = partitions.get(partition);
  members?.delete(encoded);
  if (members?.size === 0) partitions.delete(partition);
}

interface TableDefinition {
  readonly name: string;
  readonly key: KeySchema;
  readonly types: ReadonlyMap<string, ScalarType>;
  readonly indexes: ReadonlyMap<string, Index>;
  readonly createdAtMs: number;
  readonly billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
}

/**
 * One table's items, kept with its partitions and index partitions. Stored items are never
 * mutated (a write stores a new object), so the maps may share them; callers only get copies.
 */
class Table {
  readonly definition: TableDefinition;
  ttl: { readonly attributeName: string; readonly enabled: boolean } | undefined;
  readonly #items = new Map<string, Item>();
  readonly #partitions = new Map<string, Map<string, Item>>();
  /** Encoded keys in scan order; dropped when a key comes or goes (an update keeps its place). */
  #scanOrder: string[] | undefined;

  constructor(definition: TableDefinition) {
    this.definition = definition;
  }

  get name(): string {
    return this.definition.name;
  }

  get key(): KeySchema {
    return this.definition.key;
  }

  get(encoded: string): Item | undefined {
    return this.#items.get(encoded);
  }

  entries(): [string, Item][] {
    return [...this.#items.entries()];
  }

  store(encoded: string, next: Item | undefined): void {
    const previous = this.#items.get(encoded);
    if (previous !== undefined) this.#unindex(encoded, previous);
    if (next === undefined) this.#items.delete(encoded);
    else {
      assert(encodeKey(this.key, next) === encoded, 'an item is stored under its own key');
      this.#items.set(encoded, next);
      this.#index(encoded, next);
    }
    if ((previous === undefined) !== (next === undefined)) this.#scanOrder = undefined;
  }

  #index(encoded: string, item: Item): void {
    addToPartition(this.#partitions, encodeScalar(attribute(item, this.key.hash)), encoded, item);
    for (const index of this.definition.indexes.values()) {
      if (keyNames(index.key).every((name) => item[name] !== undefined)) addToPartition(index.partitions, encodeScalar(attribute(item, index.key.hash)), encoded, item);
    }
  }

  #unindex(encoded: string, item: Item): void {
    removeFromPartition(this.#partitions, encodeScalar(attribute(item, this.key.hash)), encoded);
    for (const index of this.definition.indexes.values()) {
      const hash = item[index.key.hash];
      if (hash !== undefined) removeFromPartition(index.partitions, encodeScalar(hash), encoded);
    }
  }

  index(name: string | undefined): Index | undefined {
    if (name === undefined) return undefined;
    const index = this.definition.indexes.get(name);
    if (index === undefined) throw validationError(`The table does not have the specified index: ${name}`);
    return index;
  }

  /** The items of one partition of the table or of an index, unordered. */
  partition(index: Index | undefined, hashValue: AttributeValue): Item[] {
    return [...((index?.partitions ?? this.#partitions).get(encodeScalar(hashValue))?.values() ?? [])];
  }

  scanOrdered(index: Index | undefined): Item[] {
    if (index !== undefined) return [...index.partitions.values()].flatMap((members) => [...members.values()]).sort(scanOrder(index.key, this.key));
    this.#scanOrder ??= this.entries()
      .sort(([, a], [, b]) => scanOrder(this.key, this.key)(a, b))
      .map(([encoded]) => encoded);
    return this.#scanOrder.map((encoded) => {
      const item = this.#items.get(encoded);
      assert(item !== undefined, 'the scan order holds only stored keys');
      return item;
    });
  }

  /** A request's Key, canonical and checked against the key schema. */
  keyOf(key: Readonly<Item> | undefined): { readonly key: Item; readonly encoded: string } {
    const names = keyNames(this.key);
    if (key === undefined || Object.keys(key).length !== names.length) throw validationError('The number of conditions on the keys is invalid');
    const canonical: Item = {};
    for (const name of names) {
      const value = key[name];
      if (value === undefined) throw validationError('The provided key element does not match the schema');
      const checked = canonicalValue(value);
      if (scalarType(checked) !== this.definition.types.get(name)) throw validationError('The provided key element does not match the schema');
      if (isEmptyScalar(checked)) throw validationError(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${checked.S === '' ? 'string' : 'binary'} value. Key: ${name}`);
      canonical[name] = checked;
    }
    return { key: canonical, encoded: encodeKey(this.key, canonical) };
  }

  /** The key of an item to be written; a missing or ill-typed key refuses the whole request. */
  keyOfItem(item: Readonly<Item>): string {
    for (const name of keyNames(this.key)) {
      const value = item[name];
      const expected = this.definition.types.get(name);
      if (value === undefined) throw validationError(`One or more parameter values were invalid: Missing the key ${name} in the item`);
      if (scalarType(value) !== expected) throw validationError(`One or more parameter values were invalid: Type mismatch for key ${name} expected: ${expected} actual: ${typeOf(value)}`);
      if (isEmptyScalar(value)) throw validationError(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${name}`);
    }
    return encodeKey(this.key, item);
  }

  /** Why the item cannot be stored (an index key of the wrong type or empty, too large); in a transaction, that action's ValidationError. */
  storageProblem(item: Readonly<Item>): string | undefined {
    for (const index of this.definition.indexes.values()) {
      for (const name of keyNames(index.key)) {
        const value = item[name];
        if (value === undefined) continue;
        if (scalarType(value) !== this.definition.types.get(name)) return 'One or more parameter values were invalid: Type mismatch for Index Key';
        if (isEmptyScalar(value)) {
          return `One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: ${index.name}, IndexKey: ${name}`;
        }
      }
    }
    return itemBytes(item) > ITEM_BYTES_MAX ? 'Item size has exceeded the maximum allowed size' : undefined;
  }

  /** An ExclusiveStartKey: exactly the table's key plus (for an index) the index's key. */
  startKey(key: Readonly<Item>, names: ReadonlySet<string>): Item {
    const canonical = canonicalItem(key);
    const fits = [...names].every((name) => canonical[name] !== undefined && scalarType(canonical[name]) === this.definition.types.get(name));
    if (!fits || Object.keys(canonical).length !== names.size) throw validationError('The provided starting key is invalid');
    return canonical;
  }

  describe(status: TableStatus): TableDescription {
    const { name, types, indexes, createdAtMs, billingMode } = this.definition;
    const arn = `arn:aws:dynamodb:memory:000000000000:table/${name}`;
    const keySchema = (schema: KeySchema): KeySchemaElement[] =>
      keyNames(schema).map((attributeName, i) => ({ AttributeName: attributeName, KeyType: i === 0 ? 'HASH' : 'RANGE' }));
    const sizeOf = (items: Iterable<Item>): number => [...items].reduce((sum, item) => sum + itemBytes(item), 0);
    return {
      TableName: name,
      TableArn: arn,
      TableStatus: status,
      CreationDateTime: new Date(createdAtMs),
      AttributeDefinitions: [...types].map(([attributeName, type]) => ({ AttributeName: attributeName, AttributeType: type })),
      KeySchema: keySchema(this.key),
      ItemCount: this.#items.size,
      TableSizeBytes: sizeOf(this.#items.values()),
      BillingModeSummary: { BillingMode: billingMode },
      ...(indexes.size === 0
        ? {}
        : {
            GlobalSecondaryIndexes: [...indexes.values()].map((index) => {
              const members = [...index.partitions.values()].flatMap((partition) => [...partition.values()]);
              const projection = { ProjectionType: 'ALL' } as const;
              return { IndexName: index.name, KeySchema: keySchema(index.key), Projection: projection, IndexStatus: 'ACTIVE', ItemCount: members.length, IndexSizeBytes: sizeOf(members), IndexArn: `${arn}/index/${index.name}` };
            }),
          }),
    };
  }
}

function checkedName(name: string | undefined): string {
  if (name === undefined || !NAME_PATTERN.test(name)) {
    throw validationError("Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'");
  }
  return name;
}

function keySchemaOf(elements: readonly KeySchemaElement[] | undefined, types: ReadonlyMap<string, ScalarType>): KeySchema {
  const [hash, range, ...rest] = elements ?? [];
  const hashName = hash?.KeyType === 'HASH' ? hash.AttributeName : undefined;
  const rangeName = range?.KeyType === 'RANGE' ? range.AttributeName : undefined;
  if (hashName === undefined || rest.length > 0 || (range !== undefined && rangeName === undefined)) {
    throw validationError('Invalid KeySchema: The first KeySchemaElement is not a HASH key type, or a second element is not a RANGE key type');
  }
  for (const name of [hashName, rangeName]) {
    if (name !== undefined && !types.has(name)) {
      throw validationError(`One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${name}], AttributeDefinitions: [${[...types.keys()].join(', ')}]`);
    }
  }
  return { hash: hashName, range: rangeName };
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** A legacy (pre-expression) parameter is refused: answering it without its semantics would mislead. */
function refuseLegacy(input: object, parameters: readonly string[]): void {
  const fields = input as Record<string, unknown>;
  const used = parameters.filter((parameter) => fields[parameter] !== undefined);
  if (used.length > 0) throw new MemoryDynamoDBUnsupportedError(`the legacy parameters ${used.join(', ')} are not modelled; use expressions`);
}

function choice<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const chosen = allowed.find((candidate) => candidate === value);
  if (chosen === undefined) throw validationError('Return values set to invalid value');
  return chosen;
}

const cannotUpdateKey = (name: string): string => `One or more parameter values were invalid: Cannot update attribute ${name}. This attribute is part of the key`;

interface WriteInput {
  readonly ConditionExpression?: string | undefined;
  readonly UpdateExpression?: string | undefined;
  readonly ExpressionAttributeNames?: Record<string, string> | undefined;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue> | undefined;
}

interface WriteExpressions {
  readonly condition: ParsedCondition | undefined;
  readonly update: ParsedUpdate | undefined;
  readonly bindings: Bindings;
}

function writeExpressions(input: WriteInput): WriteExpressions {
  const condition = input.ConditionExpression === undefined ? undefined : parseCondition('ConditionExpression', input.ConditionExpression);
  const update = input.UpdateExpression === undefined ? undefined : parseUpdate(input.UpdateExpression);
  const used: UsedExpression[] = [];
  if (update !== undefined) used.push({ kind: 'UpdateExpression', parsed: update });
  if (condition !== undefined) used.push({ kind: 'ConditionExpression', parsed: condition });
  const bindings = bindExpressions(used, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  if (update !== undefined) checkUpdate(update, bindings);
  if (condition !== undefined) checkCondition(condition, 'ConditionExpression', bindings);
  return { condition, update, bindings };
}

interface ReadInput {
  readonly FilterExpression?: string | undefined;
  readonly ProjectionExpression?: string | undefined;
  readonly ExpressionAttributeNames?: Record<string, string> | undefined;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue> | undefined;
  readonly Limit?: number | undefined;
  readonly Select?: string | undefined;
}

interface ReadPlan {
  readonly filter: ParsedCondition | undefined;
  readonly projection: ParsedProjection | undefined;
  readonly bindings: Bindings;
  readonly limit: number | undefined;
  readonly countOnly: boolean;
}

function readPlan(input: ReadInput, keyExpression: ParsedCondition | undefined): ReadPlan {
  const filter = input.FilterExpression === undefined ? undefined : parseCondition('FilterExpression', input.FilterExpression);
  const projection = input.ProjectionExpression === undefined ? undefined : parseProjection(input.ProjectionExpression);
  const used: UsedExpression[] = [];
  if (keyExpression !== undefined) used.push({ kind: 'KeyConditionExpression', parsed: keyExpression });
  if (filter !== undefined) used.push({ kind: 'FilterExpression', parsed: filter });
  if (projection !== undefined) used.push({ kind: 'ProjectionExpression', parsed: projection });
  const bindings = bindExpressions(used, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  if (filter !== undefined) checkCondition(filter, 'FilterExpression', bindings);
  if (projection !== undefined) checkProjection(projection, bindings);
  if (input.Limit !== undefined && (!Number.isInteger(input.Limit) || input.Limit < 1)) throw validationError('Limit must be greater than or equal to 1');
  return { filter, projection, bindings, limit: input.Limit, countOnly: input.Select === 'COUNT' };
}

const view = (item: Readonly<Item>, projection: ParsedProjection | undefined, bindings: Bindings): Item =>
  projection === undefined ? copyItem(item) : project(projection, item, bindings);

type Page = Pick<QueryCommandOutput, 'Items' | 'Count' | 'ScannedCount' | 'LastEvaluatedKey'>;

/**
 * One page as DynamoDB reads it: Limit counts items read (before the filter), a page ends after
 * 1 MB read, and a page that stops early names the last item read, even when it was the last one.
 */
function readPage(candidates: readonly Item[], plan: ReadPlan, lastKeyNames: ReadonlySet<string>): Page {
  const items: Item[] = [];
  let [count, scanned, bytes] = [0, 0, 0];
  for (const item of candidates) {
    scanned += 1;
    bytes += itemBytes(item);
    if (plan.filter === undefined || evaluateCondition(plan.filter, item, plan.bindings)) {
      count += 1;
      if (!plan.countOnly) items.push(view(item, plan.projection, plan.bindings));
    }
    if (scanned === plan.limit || bytes >= PAGE_BYTES_MAX) {
      return { ...(plan.countOnly ? {} : { Items: items }), Count: count, ScannedCount: scanned, LastEvaluatedKey: pick(item, lastKeyNames) };
    }
  }
  return { ...(plan.countOnly ? {} : { Items: items }), Count: count, ScannedCount: scanned };
}

/** One action of a TransactWriteItems, checked and ready to be evaluated at commit. */
interface TransactAction {
  readonly table: Table;
  readonly encoded: string;
  readonly lock: string;
  readonly condition: ParsedCondition | undefined;
  readonly bindings: Bindings;
  readonly returnOldOnFailure: boolean;
  /** Refused as this action's ValidationError (DynamoDB Local answers an update of a key attribute so). */
  readonly refusal: string | undefined;
  readonly effect: (previous: Item | undefined) => { readonly kind: 'put'; readonly item: Item } | { readonly kind: 'delete' } | { readonly kind: 'check' };
}

const lockOf = (table: Table, encoded: string): string => `${table.name}\u0000${encoded}`;

/** A key value as the fault hook sees it; numbers in DynamoDB's plain form when they parse (the request may yet be refused). */
function keyText(value: AttributeValue | undefined): string {
  if (value?.N !== undefined) {
    try {
      return formatNumber(parseNumber(value.N));
    } catch {
      return value.N;
    }
  }
  return value?.S ?? (value?.B === undefined ? '' : Buffer.from(value.B).toString('base64'));
}

function transactTableName(entry: TransactWriteItem): string | undefined {
  return (entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck)?.TableName;
}

/**
 * The engine. Non-transactional requests take effect at once, when send() is called; a
 * TransactWriteItems checks and takes its items at once, yields (options.yieldPoint), then
 * evaluates every condition against the committed state and commits, all in one step.
 */
export class MemoryDynamoDB {
  readonly #tables = new Map<string, Table>();
  /** Items held by a TransactWriteItems from its start to its commit, by lockOf(), with the transaction's number. */
  readonly #held = new Map<string, number>();
  readonly #requestCount = Object.fromEntries(OPERATIONS.map((operation) => [operation, 0])) as Record<Operation, number>;
  readonly #now: () => number;
  readonly #yieldPoint: () => Promise<void>;
  readonly #faults: ((request: FaultRequest) => Error | undefined) | undefined;
  #transactions = 0;

  constructor(options: MemoryDynamoDBOptions = {}) {
    this.#now = options.now ?? (() => 0);
    this.#yieldPoint = options.yieldPoint ?? (() => Promise.resolve());
    this.#faults = options.faults;
  }

  /** Answers a command of @aws-sdk/client-dynamodb as DynamoDB would; see asDynamoDBClient(). */
  async send(command: object): Promise<object> {
    return await this.#dispatch(command);
  }

  /** Nothing to release; present so the engine stands in for a client. */
  destroy(): void {}

  /** Requests received per operation (faulted ones included). */
  get requestCount(): Readonly<Record<Operation, number>> {
    return { ...this.#requestCount };
  }

  /** Every item of a table, as copies, in key order: for invariant checks. */
  snapshot(tableName: string): Item[] {
    const table = this.#table(tableName);
    const order = queryOrder(table.key.range, table.key);
    return table
      .entries()
      .map(([, item]) => item)
      .sort((a, b) => compareAttribute(a, b, table.key.hash) || order(a, b))
      .map(copyItem);
  }

  /**
   * What DynamoDB's TTL process may have deleted by `epochSeconds`: items of tables with TTL
   * enabled whose TTL attribute is a number below it. DynamoDB deletes lazily (typically within
   * days), so nothing expires unless a test or simulator calls this. Returns how many went.
   */
  expireItems(epochSeconds: number = Math.floor(this.#now() / 1000)): number {
    assert(Number.isSafeInteger(epochSeconds), `epochSeconds ${epochSeconds} is an integer`);
    const horizon = parseNumber(String(epochSeconds));
    let expired = 0;
    for (const table of this.#tables.values()) {
      const ttl = table.ttl;
      if (ttl?.enabled !== true) continue;
      for (const [encoded, item] of table.entries()) {
        const expiry = item[ttl.attributeName]?.N;
        if (expiry === undefined || compareDecimals(parseNumber(expiry), horizon) >= 0) continue;
        table.store(encoded, undefined);
        expired += 1;
      }
    }
    return expired;
  }

  #dispatch(command: object): object | Promise<object> {
    if (command instanceof GetItemCommand) {
      const { input } = command;
      return this.#guard('GetItem', [input.TableName], this.#keyIds(input.TableName, [input.Key]), () => this.#getItem(input));
    }
    if (command instanceof PutItemCommand) {
      const { input } = command;
      return this.#guard('PutItem', [input.TableName], this.#keyIds(input.TableName, [input.Item]), () => this.#putItem(input));
    }
    if (command instanceof UpdateItemCommand) {
      const { input } = command;
      return this.#guard('UpdateItem', [input.TableName], this.#keyIds(input.TableName, [input.Key]), () => this.#updateItem(input));
    }
    if (command instanceof DeleteItemCommand) {
      const { input } = command;
      return this.#guard('DeleteItem', [input.TableName], this.#keyIds(input.TableName, [input.Key]), () => this.#deleteItem(input));
    }
    if (command instanceof TransactWriteItemsCommand) {
      const { input } = command;
      const entries = input.TransactItems ?? [];
      const keys = entries.flatMap((entry) => {
        const action = entry.Put === undefined ? (entry.Update ?? entry.Delete ?? entry.ConditionCheck)?.Key : entry.Put.Item;
        return this.#keyIds(transactTableName(entry), [action]);
      });
      return this.#guard('TransactWriteItems', [...new Set(entries.map(transactTableName))], keys, () => this.#transactWriteItems(input));
    }
    if (command instanceof QueryCommand) return this.#guard('Query', [command.input.TableName], [], () => this.#query(command.input));
    if (command instanceof ScanCommand) return this.#guard('Scan', [command.input.TableName], [], () => this.#scan(command.input));
    if (command instanceof BatchGetItemCommand) {
      const requests = Object.entries(command.input.RequestItems ?? {});
      const keys = requests.flatMap(([tableName, request]) => this.#keyIds(tableName, request.Keys ?? []));
      return this.#guard('BatchGetItem', requests.map(([tableName]) => tableName), keys, () => this.#batchGetItem(command.input));
    }
    if (command instanceof TransactGetItemsCommand) {
      const entries = command.input.TransactItems ?? [];
      const keys = entries.flatMap((entry) => this.#keyIds(entry.Get?.TableName, [entry.Get?.Key]));
      return this.#guard('TransactGetItems', [...new Set(entries.map((entry) => entry.Get?.TableName))], keys, () => this.#transactGetItems(command.input));
    }
    return this.#dispatchTableCommand(command);
  }

  #dispatchTableCommand(command: object): object {
    if (command instanceof CreateTableCommand) return this.#guard('CreateTable', [command.input.TableName], [], () => this.#createTable(command.input));
    if (command instanceof DescribeTableCommand) return this.#guard('DescribeTable', [command.input.TableName], [], () => this.#describeTable(command.input));
    if (command instanceof ListTablesCommand) return this.#guard('ListTables', [], [], () => this.#listTables(command.input));
    if (command instanceof DeleteTableCommand) return this.#guard('DeleteTable', [command.input.TableName], [], () => this.#deleteTable(command.input));
    if (command instanceof UpdateTimeToLiveCommand) return this.#guard('UpdateTimeToLive', [command.input.TableName], [], () => this.#updateTimeToLive(command.input));
    if (command instanceof DescribeTimeToLiveCommand) {
      return this.#guard('DescribeTimeToLive', [command.input.TableName], [], () => this.#describeTimeToLive(command.input));
    }
    throw new MemoryDynamoDBUnsupportedError(`MemoryDynamoDB does not implement ${command.constructor.name}`);
  }

  /** Counts the request and consults the fault hook before it runs. */
  #guard<T>(operation: Operation, tableNames: readonly (string | undefined)[], keys: readonly string[], run: () => T): T {
    this.#requestCount[operation] += 1;
    const fault = this.#faults?.({ operation, tableNames: tableNames.filter((name) => name !== undefined), keys });
    if (fault !== undefined) throw fault;
    return run();
  }

  #keyIds(tableName: string | undefined, keys: readonly (Readonly<Item> | undefined)[]): string[] {
    const table = tableName === undefined ? undefined : this.#tables.get(tableName);
    if (table === undefined) return [];
    return keys.flatMap((key) => (key === undefined ? [] : [[tableName, ...keyNames(table.key).map((name) => keyText(key[name]))].join('/')]));
  }

  #table(name: string | undefined): Table {
    const table = name === undefined ? undefined : this.#tables.get(name);
    if (table === undefined) throw tableNotFound();
    return table;
  }

  // -- Tables ----------------------------------------------------------------------------------

  #createTable(input: CreateTableCommandInput): CreateTableCommandOutput {
    const name = checkedName(input.TableName);
    if (input.LocalSecondaryIndexes !== undefined) throw new MemoryDynamoDBUnsupportedError('local secondary indexes are not modelled');
    const types = new Map<string, ScalarType>();
    for (const { AttributeName: attributeName, AttributeType: type } of input.AttributeDefinitions ?? []) {
      if (attributeName === undefined || (type !== 'S' && type !== 'N' && type !== 'B')) throw validationError('One or more parameter values were invalid: an attribute definition needs a name and a type S, N or B');
      if (types.has(attributeName)) throw validationError(`Cannot have two attributes with the same name: ${attributeName}`);
      types.set(attributeName, type);
    }
    const key = keySchemaOf(input.KeySchema, types);
    const indexes = new Map<string, Index>();
    for (const gsi of input.GlobalSecondaryIndexes ?? []) {
      const indexName = checkedName(gsi.IndexName);
      if (indexes.has(indexName)) throw validationError(`One or more parameter values were invalid: Duplicate index name: ${indexName}`);
      if (gsi.Projection?.ProjectionType !== 'ALL') throw new MemoryDynamoDBUnsupportedError(`index ${indexName}: only ProjectionType ALL is modelled`);
      indexes.set(indexName, { name: indexName, key: keySchemaOf(gsi.KeySchema, types), partitions: new Map() });
    }
    const used = new Set([...keyNames(key), ...[...indexes.values()].flatMap((index) => keyNames(index.key))]);
    if (used.size !== types.size) {
      throw validationError('One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions');
    }
    if (this.#tables.has(name)) throw new ResourceInUseException({ message: `Table already exists: ${name}`, $metadata: {} });
    const billingMode = input.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
    const table = new Table({ name, key, types, indexes, createdAtMs: this.#now(), billingMode });
    this.#tables.set(name, table);
    // DynamoDB answers CREATING for a while; here the table is usable at once, so it says so.
    return { $metadata: {}, TableDescription: table.describe('ACTIVE') };
  }

  #describeTable(input: DescribeTableCommandInput): DescribeTableCommandOutput {
    return { $metadata: {}, Table: this.#table(input.TableName).describe('ACTIVE') };
  }

  #listTables(input: ListTablesCommandInput): ListTablesCommandOutput {
    const limit = input.Limit ?? LIST_TABLES_LIMIT_MAX;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_TABLES_LIMIT_MAX) throw validationError(`Limit must be between 1 and ${LIST_TABLES_LIMIT_MAX}`);
    const start = input.ExclusiveStartTableName;
    const names = [...this.#tables.keys()].sort(compareStrings).filter((name) => start === undefined || compareStrings(name, start) > 0);
    const page = names.slice(0, limit);
    return { $metadata: {}, TableNames: page, ...(names.length > limit ? { LastEvaluatedTableName: page.at(-1) } : {}) };
  }

  #deleteTable(input: DeleteTableCommandInput): DeleteTableCommandOutput {
    const table = this.#table(input.TableName);
    this.#tables.delete(table.name);
    return { $metadata: {}, TableDescription: table.describe('DELETING') };
  }

  #updateTimeToLive(input: UpdateTimeToLiveCommandInput): UpdateTimeToLiveCommandOutput {
    const table = this.#table(input.TableName);
    const { AttributeName: attributeName, Enabled: enabled } = input.TimeToLiveSpecification ?? {};
    if (attributeName === undefined || enabled === undefined) throw validationError('TimeToLiveSpecification needs AttributeName and Enabled');
    const current = table.ttl?.enabled === true ? table.ttl : undefined;
    // DynamoDB Local's answers; provisioning treats "already enabled" as success on a restart.
    if (current !== undefined && current.attributeName !== attributeName) throw validationError('TimeToLive is active on a different AttributeName');
    if (enabled && current !== undefined) throw validationError('TimeToLive is already enabled');
    if (!enabled && current === undefined) throw validationError('TimeToLive is already disabled');
    table.ttl = { attributeName, enabled };
    return { $metadata: {}, TimeToLiveSpecification: { AttributeName: attributeName, Enabled: enabled } };
  }

  #describeTimeToLive(input: DescribeTimeToLiveCommandInput): DescribeTimeToLiveCommandOutput {
    const ttl = this.#table(input.TableName).ttl;
    const description = ttl?.enabled === true ? { TimeToLiveStatus: 'ENABLED' as const, AttributeName: ttl.attributeName } : { TimeToLiveStatus: 'DISABLED' as const };
    return { $metadata: {}, TimeToLiveDescription: description };
  }

  // -- Single items ----------------------------------------------------------------------------

  #getItem(input: GetItemCommandInput): GetItemCommandOutput {
    refuseLegacy(input, ['AttributesToGet']);
    const table = this.#table(input.TableName);
    const { encoded } = table.keyOf(input.Key);
    const projection = input.ProjectionExpression === undefined ? undefined : parseProjection(input.ProjectionExpression);
    const bindings = bindExpressions(projection === undefined ? [] : [{ kind: 'ProjectionExpression', parsed: projection }], input.ExpressionAttributeNames, undefined);
    if (projection !== undefined) checkProjection(projection, bindings);
    const item = table.get(encoded);
    return { $metadata: {}, ...(item === undefined ? {} : { Item: view(item, projection, bindings) }) };
  }

  /** A single-item write to an item a transaction holds fails, as on DynamoDB. */
  #refuseHeld(table: Table, encoded: string): void {
    if (this.#held.has(lockOf(table, encoded))) throw new TransactionConflictException({ message: TRANSACTION_ONGOING, $metadata: {} });
  }

  #checkWriteCondition(expressions: WriteExpressions, previous: Item | undefined, onFailure: string | undefined): void {
    const returnOld = choice(onFailure, ['NONE', 'ALL_OLD']) === 'ALL_OLD';
    if (expressions.condition === undefined || evaluateCondition(expressions.condition, previous, expressions.bindings)) return;
    throw conditionalCheckFailed(returnOld ? previous : undefined);
  }

  #putItem(input: PutItemCommandInput): PutItemCommandOutput {
    refuseLegacy(input, ['Expected', 'ConditionalOperator']);
    const table = this.#table(input.TableName);
    const item = canonicalItem(input.Item ?? {});
    const encoded = table.keyOfItem(item);
    const problem = table.storageProblem(item);
    if (problem !== undefined) throw validationError(problem);
    const returnValues = choice(input.ReturnValues, ['NONE', 'ALL_OLD']);
    const expressions = writeExpressions(input);
    this.#refuseHeld(table, encoded);
    const previous = table.get(encoded);
    this.#checkWriteCondition(expressions, previous, input.ReturnValuesOnConditionCheckFailure);
    table.store(encoded, item);
    return { $metadata: {}, ...(returnValues === 'ALL_OLD' && previous !== undefined ? { Attributes: copyItem(previous) } : {}) };
  }

  #updateItem(input: UpdateItemCommandInput): UpdateItemCommandOutput {
    refuseLegacy(input, ['AttributeUpdates', 'Expected', 'ConditionalOperator']);
    const table = this.#table(input.TableName);
    const { key, encoded } = table.keyOf(input.Key);
    const returnValues = choice(input.ReturnValues, ['NONE', 'ALL_OLD', 'ALL_NEW', 'UPDATED_OLD', 'UPDATED_NEW']) ?? 'NONE';
    const expressions = writeExpressions(input);
    const { update, bindings } = expressions;
    const touched = update === undefined ? new Set<string>() : updatedAttributes(update, bindings);
    const keyAttribute = keyNames(table.key).find((name) => touched.has(name));
    if (keyAttribute !== undefined) throw validationError(cannotUpdateKey(keyAttribute));
    this.#refuseHeld(table, encoded);
    const previous = table.get(encoded);
    this.#checkWriteCondition(expressions, previous, input.ReturnValuesOnConditionCheckFailure);
    const next = update === undefined ? copyItem(previous ?? key) : applyUpdate(update, previous ?? key, bindings);
    const problem = table.storageProblem(next);
    if (problem !== undefined) throw validationError(problem);
    table.store(encoded, next);
    const source = returnValues === 'ALL_OLD' || returnValues === 'UPDATED_OLD' ? previous : returnValues === 'NONE' ? undefined : next;
    const attributes = source === undefined ? {} : returnValues.startsWith('UPDATED') ? pick(source, touched) : copyItem(source);
    return { $metadata: {}, ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}) };
  }

  #deleteItem(input: DeleteItemCommandInput): DeleteItemCommandOutput {
    refuseLegacy(input, ['Expected', 'ConditionalOperator']);
    const table = this.#table(input.TableName);
    const { encoded } = table.keyOf(input.Key);
    const returnValues = choice(input.ReturnValues, ['NONE', 'ALL_OLD']);
    const expressions = writeExpressions(input);
    this.#refuseHeld(table, encoded);
    const previous = table.get(encoded);
    this.#checkWriteCondition(expressions, previous, input.ReturnValuesOnConditionCheckFailure);
    if (previous !== undefined) table.store(encoded, undefined);
    return { $metadata: {}, ...(returnValues === 'ALL_OLD' && previous !== undefined ? { Attributes: copyItem(previous) } : {}) };
  }

  // -- Transactions ----------------------------------------------------------------------------

  async #transactWriteItems(input: TransactWriteItemsCommandInput): Promise<TransactWriteItemsCommandOutput> {
    if (input.ClientRequestToken !== undefined) throw new MemoryDynamoDBUnsupportedError('idempotent transactions (ClientRequestToken) are not modelled');
    const entries = input.TransactItems ?? [];
    if (entries.length === 0) throw validationError("1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1");
    if (entries.length > TRANSACT_ITEMS_MAX) {
      throw validationError(`1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${TRANSACT_ITEMS_MAX}`);
    }
    const actions = entries.map((entry) => this.#planAction(entry));
    if (new Set(actions.map((action) => action.lock)).size !== actions.length) throw validationError('Transaction request cannot include multiple operations on one item');
    if (actions.some((action) => this.#held.has(action.lock))) throw transactionCanceled(actions.map((action) => (this.#held.has(action.lock) ? conflictReason() : noneReason())));
    this.#transactions += 1;
    const transaction = this.#transactions;
    for (const action of actions) this.#held.set(action.lock, transaction);
    try {
      // Held from here to the commit: other writers to these items meet TransactionConflict meanwhile.
      await this.#yieldPoint();
      this.#commit(actions);
      return { $metadata: {} };
    } finally {
      for (const action of actions) {
        if (this.#held.get(action.lock) === transaction) this.#held.delete(action.lock);
      }
    }
  }

  #planAction(entry: TransactWriteItem): TransactAction {
    const kinds = [entry.Put, entry.Update, entry.Delete, entry.ConditionCheck].filter((kind) => kind !== undefined).length;
    if (kinds !== 1) throw validationError('TransactItems can only contain one of Check, Put, Update or Delete');
    if (entry.Put !== undefined) return this.#planPut(entry.Put);
    if (entry.Update !== undefined) return this.#planUpdate(entry.Update);
    if (entry.Delete !== undefined) return this.#planDelete(entry.Delete);
    assert(entry.ConditionCheck !== undefined, 'one of the four kinds is present');
    return this.#planConditionCheck(entry.ConditionCheck);
  }

  #action(table: Table, encoded: string, expressions: WriteExpressions, onFailure: string | undefined, rest: Pick<TransactAction, 'refusal' | 'effect'>): TransactAction {
    const returnOldOnFailure = choice(onFailure, ['NONE', 'ALL_OLD']) === 'ALL_OLD';
    return { table, encoded, lock: lockOf(table, encoded), condition: expressions.condition, bindings: expressions.bindings, returnOldOnFailure, ...rest };
  }

  #planPut(put: Put): TransactAction {
    refuseLegacy(put, ['Expected']);
    const table = this.#table(put.TableName);
    const item = canonicalItem(put.Item ?? {});
    const encoded = table.keyOfItem(item);
    return this.#action(table, encoded, writeExpressions(put), put.ReturnValuesOnConditionCheckFailure, { refusal: undefined, effect: () => ({ kind: 'put', item }) });
  }

  #planUpdate(update: Update): TransactAction {
    const table = this.#table(update.TableName);
    const { key, encoded } = table.keyOf(update.Key);
    if (update.UpdateExpression === undefined) throw validationError('UpdateExpression is required in a transaction Update');
    const expressions = writeExpressions(update);
    const parsed = expressions.update;
    assert(parsed !== undefined, 'an UpdateExpression was given');
    const touched = updatedAttributes(parsed, expressions.bindings);
    const keyAttribute = keyNames(table.key).find((name) => touched.has(name));
    return this.#action(table, encoded, expressions, update.ReturnValuesOnConditionCheckFailure, {
      refusal: keyAttribute === undefined ? undefined : cannotUpdateKey(keyAttribute),
      effect: (previous) => ({ kind: 'put', item: applyUpdate(parsed, previous ?? key, expressions.bindings) }),
    });
  }

  #planDelete(remove: Delete): TransactAction {
    const table = this.#table(remove.TableName);
    const { encoded } = table.keyOf(remove.Key);
    return this.#action(table, encoded, writeExpressions(remove), remove.ReturnValuesOnConditionCheckFailure, { refusal: undefined, effect: () => ({ kind: 'delete' }) });
  }

  #planConditionCheck(check: ConditionCheck): TransactAction {
    const table = this.#table(check.TableName);
    const { encoded } = table.keyOf(check.Key);
    if (check.ConditionExpression === undefined) throw validationError('The ConditionCheck must have a ConditionExpression');
    return this.#action(table, encoded, writeExpressions(check), check.ReturnValuesOnConditionCheckFailure, { refusal: undefined, effect: () => ({ kind: 'check' }) });
  }

  /** Every condition against the committed state, then every write, in one synchronous step. */
  #commit(actions: readonly TransactAction[]): void {
    const outcomes = actions.map((action) => {
      if (this.#tables.get(action.table.name) !== action.table) throw tableNotFound();
      const previous = action.table.get(action.encoded);
      if (action.condition !== undefined && !evaluateCondition(action.condition, previous, action.bindings)) {
        const reason: CancellationReason = { Code: 'ConditionalCheckFailed', Message: CONDITION_FAILED };
        return { reason: action.returnOldOnFailure && previous !== undefined ? { ...reason, Item: copyItem(previous) } : reason };
      }
      if (action.refusal !== undefined) return { reason: { Code: 'ValidationError', Message: action.refusal } };
      const effect = action.effect(previous);
      const problem = effect.kind === 'put' ? action.table.storageProblem(effect.item) : undefined;
      return problem === undefined ? { reason: noneReason(), effect } : { reason: { Code: 'ValidationError', Message: problem } };
    });
    assert(outcomes.length === actions.length, 'one outcome per action');
    if (outcomes.some((outcome) => outcome.reason.Code !== 'None')) throw transactionCanceled(outcomes.map((outcome) => outcome.reason));
    outcomes.forEach((outcome, i) => {
      const action = actions[i];
      assert(action !== undefined && outcome.effect !== undefined, 'an accepted action has an effect');
      if (outcome.effect.kind === 'put') action.table.store(action.encoded, outcome.effect.item);
      else if (outcome.effect.kind === 'delete') action.table.store(action.encoded, undefined);
    });
  }

  // -- Reads of many items ---------------------------------------------------------------------

  #query(input: QueryCommandInput): QueryCommandOutput {
    refuseLegacy(input, ['KeyConditions', 'QueryFilter', 'AttributesToGet', 'ConditionalOperator']);
    const table = this.#table(input.TableName);
    const index = table.index(input.IndexName);
    if (index !== undefined && input.ConsistentRead === true) throw validationError('Consistent reads are not supported on global secondary indexes');
    if (input.KeyConditionExpression === undefined) throw validationError('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
    const schema = index?.key ?? table.key;
    const keyExpression = parseCondition('KeyConditionExpression', input.KeyConditionExpression);
    const plan = readPlan(input, keyExpression);
    const condition = keyCondition(keyExpression, plan.bindings, schema.hash, schema.range);
    this.#checkKeyCondition(table, schema, condition, plan);
    const forward = input.ScanIndexForward !== false;
    const order = queryOrder(schema.range, table.key);
    const ordered = table
      .partition(index, condition.hashValue)
      .filter((item) => condition.range === undefined || rangeMatches(condition.range, item[schema.range ?? '']))
      .sort(forward ? order : (a, b) => order(b, a));
    const lastKeyNames = new Set([...keyNames(table.key), ...(index === undefined ? [] : keyNames(index.key))]);
    let start = 0;
    if (input.ExclusiveStartKey !== undefined) {
      const startKey = table.startKey(input.ExclusiveStartKey, lastKeyNames);
      const inRange = condition.range === undefined || rangeMatches(condition.range, startKey[schema.range ?? '']);
      if (!valuesEqual(attribute(startKey, schema.hash), condition.hashValue) || !inRange) throw validationError('The provided starting key does not match the range key predicate');
      start = firstAfter(ordered, (item) => (forward ? order(item, startKey) : order(startKey, item)) > 0);
    }
    return { $metadata: {}, ...readPage(ordered.slice(start), plan, lastKeyNames) };
  }

  #checkKeyCondition(table: Table, schema: KeySchema, condition: KeyCondition, plan: ReadPlan): void {
    const { range } = condition;
    const operands = range === undefined ? [] : range.kind === 'compare' ? [range.value] : range.kind === 'between' ? [range.low, range.high] : [range.prefix];
    const typed = (value: AttributeValue, name: string | undefined): boolean => name !== undefined && scalarType(value) === table.definition.types.get(name);
    if (!typed(condition.hashValue, schema.hash) || !operands.every((value) => typed(value, schema.range))) {
      throw validationError('One or more parameter values were invalid: Condition parameter type does not match schema type');
    }
    if (range?.kind === 'begins_with' && range.prefix.N !== undefined) {
      throw validationError('Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N');
    }
    const keyAttribute = plan.filter === undefined ? undefined : [...conditionAttributes(plan.filter, plan.bindings)].find((name) => keyNames(schema).includes(name));
    if (keyAttribute !== undefined) throw validationError(`Filter Expression can only contain non-primary key attributes: Primary key attribute: ${keyAttribute}`);
  }

  #scan(input: ScanCommandInput): ScanCommandOutput {
    refuseLegacy(input, ['ScanFilter', 'AttributesToGet', 'ConditionalOperator']);
    if (input.Segment !== undefined || input.TotalSegments !== undefined) throw new MemoryDynamoDBUnsupportedError('parallel Scan (Segment/TotalSegments) is not modelled');
    const table = this.#table(input.TableName);
    const index = table.index(input.IndexName);
    if (index !== undefined && input.ConsistentRead === true) throw validationError('Consistent reads are not supported on global secondary indexes');
    const plan = readPlan(input, undefined);
    const lastKeyNames = new Set([...keyNames(table.key), ...(index === undefined ? [] : keyNames(index.key))]);
    const ordered = table.scanOrdered(index);
    let start = 0;
    if (input.ExclusiveStartKey !== undefined) {
      const startKey = table.startKey(input.ExclusiveStartKey, lastKeyNames);
      const order = scanOrder(index?.key ?? table.key, table.key);
      start = firstAfter(ordered, (item) => order(item, startKey) > 0);
    }
    return { $metadata: {}, ...readPage(ordered.slice(start), plan, lastKeyNames) };
  }

  #batchGetItem(input: BatchGetItemCommandInput): BatchGetItemCommandOutput {
    const requests = Object.entries(input.RequestItems ?? {});
    if (requests.length === 0) throw validationError("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null");
    const total = requests.reduce((sum, [, request]) => sum + (request.Keys?.length ?? 0), 0);
    if (total > BATCH_GET_KEYS_MAX) throw validationError('Too many items requested for the BatchGetItem call');
    const reads = requests.map(([tableName, request]) => {
      refuseLegacy(request, ['AttributesToGet']);
      const table = this.#table(tableName);
      const projection = request.ProjectionExpression === undefined ? undefined : parseProjection(request.ProjectionExpression);
      const bindings = bindExpressions(projection === undefined ? [] : [{ kind: 'ProjectionExpression', parsed: projection }], request.ExpressionAttributeNames, undefined);
      if (projection !== undefined) checkProjection(projection, bindings);
      const keys = (request.Keys ?? []).map((key) => table.keyOf(key).encoded);
      if (keys.length === 0) throw validationError("1 validation error detected: Value '[]' at 'keys' failed to satisfy constraint: Member must have length greater than or equal to 1");
      if (new Set(keys).size !== keys.length) throw validationError('Provided list of item keys contains duplicates');
      return { tableName, table, keys, projection, bindings };
    });
    // Everything is checked before anything is read: a refused request reads nothing.
    const responses: Record<string, Item[]> = {};
    for (const { tableName, table, keys, projection, bindings } of reads) {
      responses[tableName] = keys.flatMap((encoded) => {
        const item = table.get(encoded);
        return item === undefined ? [] : [view(item, projection, bindings)];
      });
    }
    return { $metadata: {}, Responses: responses, UnprocessedKeys: {} };
  }

  /**
   * A snapshot of up to 100 items read at one instant; cancelled with TransactionConflict, as on
   * DynamoDB, when a TransactWriteItems holds one of them.
   */
  #transactGetItems(input: TransactGetItemsCommandInput): TransactGetItemsCommandOutput {
    const entries = input.TransactItems ?? [];
    if (entries.length === 0 || entries.length > TRANSACT_ITEMS_MAX) throw validationError(`Member must have length less than or equal to ${TRANSACT_ITEMS_MAX} and greater than or equal to 1`);
    const reads = entries.map((entry) => {
      if (entry.Get === undefined) throw validationError('TransactItems can only contain Get');
      const table = this.#table(entry.Get.TableName);
      const projection = entry.Get.ProjectionExpression === undefined ? undefined : parseProjection(entry.Get.ProjectionExpression);
      const bindings = bindExpressions(projection === undefined ? [] : [{ kind: 'ProjectionExpression', parsed: projection }], entry.Get.ExpressionAttributeNames, undefined);
      if (projection !== undefined) checkProjection(projection, bindings);
      return { table, encoded: table.keyOf(entry.Get.Key).encoded, projection, bindings };
    });
    if (new Set(reads.map((read) => lockOf(read.table, read.encoded))).size !== reads.length) throw validationError('Transaction request cannot include multiple operations on one item');
    if (reads.some((read) => this.#held.has(lockOf(read.table, read.encoded)))) {
      throw transactionCanceled(reads.map((read) => (this.#held.has(lockOf(read.table, read.encoded)) ? conflictReason() : { Code: 'None' })));
    }
    return {
      $metadata: {},
      Responses: reads.map(({ table, encoded, projection, bindings }) => {
        const item = table.get(encoded);
        return item === undefined ? {} : { Item: view(item, projection, bindings) };
      }),
    };
  }
}

/**
 * The engine typed as the SDK's client, for the adapters and provisioning. The one cast is sound
 * for that use: they only call `send` with the commands dispatched above (and `destroy`), each
 * answered in that command's output shape, and any other command is refused loudly
 * (MemoryDynamoDBUnsupportedError) rather than answered wrongly.
 */
export function asDynamoDBClient(engine: MemoryDynamoDB): DynamoDBClient {
  return engine as unknown as DynamoDBClient;
}
