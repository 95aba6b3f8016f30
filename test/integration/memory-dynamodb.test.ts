// Proves the in-memory DynamoDB answers as DynamoDB does: each scenario runs against DynamoDB Local
// and against MemoryDynamoDB and both must give the same outcome (items, error classes, cancellation
// reasons and their items, query order and pages), including every expression shape the
// repository's adapters send and provisioning run unchanged; then the engine's own features
// (transaction conflicts, commit-time conditions, faults, TTL expiry, copies, determinism) alone.
import { randomBytes } from 'node:crypto';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  ListTablesCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type CancellationReason,
  type QueryCommandInput,
  type ReturnValue,
  type TableDescription,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoClientStore } from '../../lambdas/adapters/dynamodb/client-store.js';
import {
  asDynamoDBClient,
  internalServerError,
  MemoryDynamoDB,
  MemoryDynamoDBUnsupportedError,
  throttlingError,
  transactionConflict,
  type FaultRequest,
  type Item,
} from '../../lambdas/adapters/memory/dynamodb.js';
import { keyIdOf, newClientId, type ApiClientRecord } from '../../lambdas/core/trust/api-client.js';
import { createAwsClients, type AwsClients } from '../../lambdas/shared/aws-clients.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/local-world.js';
import { provisionTopology, type Bindings } from '../../lib/local/provision.js';
import { topology } from '../../contract/topology.js';
import { TEST_ACTOR } from '../support/ledger-fixtures.js';

/** One prefix per run: DynamoDB Local is shared by every test file. */
const RUN = `mem${randomBytes(3).toString('hex')}`;
/** A table with a range key and a numeric-sort GSI, for the generic query features. */
const SORTED = `${RUN}-sorted`;

interface ErrorShape {
  readonly class: string;
  readonly name: string;
  readonly service: boolean;
  readonly message?: string;
  readonly item?: unknown;
  readonly reasons?: readonly { readonly code: string | undefined; readonly item?: unknown }[];
}
type Outcome = { readonly ok: unknown } | { readonly error: ErrorShape };
/** Runs one request of a scenario, records its outcome, and hands back its answer (undefined when it threw). */
type Step = <T>(run: () => Promise<T>) => Promise<T | undefined>;
type Scenario = (db: DynamoDBClient, step: Step, id: string) => Promise<void>;

let local: DynamoDBClient;
let memoryEngine: MemoryDynamoDB;
let memory: DynamoDBClient;
let messaging: AwsClients;
let localBindings: Bindings;
let memoryBindings: Bindings;
let restartBindings: Bindings;

/** Answers compared without transport details; sets in a canonical order (DynamoDB's is unspecified). */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  const entries = Object.entries(value).filter(([name, inner]) => inner !== undefined && name !== '$metadata' && name !== 'ConsumedCapacity');
  return Object.fromEntries(
    entries.map(([name, inner]) => {
      if ((name === 'SS' || name === 'NS') && Array.isArray(inner)) return [name, inner.map(String).sort()];
      return [name, normalize(inner)];
    }),
  );
}

function errorShape(error: unknown): ErrorShape {
  if (!(error instanceof Error)) throw new Error(`a non-error was thrown: ${String(error)}`);
  const details = error as Error & { Item?: unknown; CancellationReasons?: CancellationReason[] };
  // Messages are compared where DynamoDB fixes their form; validation texts differ between versions.
  const fixedMessage = error.name === 'TransactionCanceledException' || error.name === 'ConditionalCheckFailedException';
  return {
    class: error.constructor.name,
    name: error.name,
    service: error instanceof DynamoDBServiceException,
    ...(fixedMessage ? { message: error.message } : {}),
    ...(details.Item !== undefined ? { item: normalize(details.Item) } : {}),
    ...(details.CancellationReasons !== undefined
      ? { reasons: details.CancellationReasons.map((reason) => ({ code: reason.Code, ...(reason.Item !== undefined ? { item: normalize(reason.Item) } : {}) })) }
      : {}),
  };
}

async function attempt(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: normalize(await run()) };
  } catch (error) {
    return { error: errorShape(error) };
  }
}

/** Runs the scenario on DynamoDB Local, then on the engine, with the same keys; the outcomes must match. */
async function differential(scenario: Scenario): Promise<Outcome[]> {
  const id = randomBytes(4).toString('hex');
  const record = async (db: DynamoDBClient): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    const step: Step = async <T,>(run: () => Promise<T>): Promise<T | undefined> => {
      let answer: T | undefined;
      outcomes.push(await attempt(async () => (answer = await run())));
      return answer;
    };
    await scenario(db, step, id);
    return outcomes;
  };
  const onLocal = await record(local);
  const onMemory = await record(memory);
  expect(onMemory).toEqual(onLocal);
  return onLocal;
}

const kinds = (outcomes: readonly Outcome[]): string[] => outcomes.map((outcome) => ('error' in outcome ? outcome.error.name : 'ok'));
const okOf = (outcome: Outcome | undefined): unknown => (outcome !== undefined && 'ok' in outcome ? outcome.ok : undefined);

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: string | number | bigint): AttributeValue => ({ N: String(value) });

async function createSorted(db: DynamoDBClient): Promise<void> {
  await db.send(
    new CreateTableCommand({
      TableName: SORTED,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'team', AttributeType: 'S' },
        { AttributeName: 'score', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byScore',
          KeySchema: [
            { AttributeName: 'team', KeyType: 'HASH' },
            { AttributeName: 'score', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}

beforeAll(async () => {
  local = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  memoryEngine = new MemoryDynamoDB();
  memory = asDynamoDBClient(memoryEngine);
  messaging = createAwsClients({ endpoint: inject('snsSqsEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  localBindings = await provisionTopology({ ...messaging, dynamodb: local }, RUN);
  memoryBindings = await provisionTopology({ ...messaging, dynamodb: memory }, RUN);
  // A restart provisions again: the tables exist and TTL is already on, which must be success.
  restartBindings = await provisionTopology({ ...messaging, dynamodb: memory }, RUN);
  await createSorted(local);
  await createSorted(memory);
});

afterAll(() => {
  local.destroy();
  memory.destroy();
  messaging.sns.destroy();
  messaging.sqs.destroy();
});

/** The parts of a table description that say what the table is (not when, nor how big). */
function tableShape(table: TableDescription | undefined): unknown {
  return normalize({
    TableName: table?.TableName,
    TableStatus: table?.TableStatus,
    KeySchema: table?.KeySchema,
    AttributeDefinitions: [...(table?.AttributeDefinitions ?? [])].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName))),
    GlobalSecondaryIndexes: [...(table?.GlobalSecondaryIndexes ?? [])]
      .sort((a, b) => String(a.IndexName).localeCompare(String(b.IndexName)))
      .map((index) => ({ IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection, IndexStatus: index.IndexStatus })),
  });
}

describe('tables and provisioning', () => {
  it('creates, describes, lists and deletes tables, refusing a second create, a bad name and a missing table', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const name = `${RUN}-t${id}`;
      const definition = {
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST' as const,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' as const },
          { AttributeName: 'g', AttributeType: 'S' as const },
          { AttributeName: 'at', AttributeType: 'N' as const },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byG',
            KeySchema: [
              { AttributeName: 'g', KeyType: 'HASH' as const },
              { AttributeName: 'at', KeyType: 'RANGE' as const },
            ],
            Projection: { ProjectionType: 'ALL' as const },
          },
        ],
      };
      await step(async () => tableShape((await db.send(new CreateTableCommand(definition))).TableDescription));
      await step(() => db.send(new CreateTableCommand(definition)));
      await step(async () => tableShape((await db.send(new DescribeTableCommand({ TableName: name }))).Table));
      await step(async () => {
        let listed = false;
        let start: string | undefined;
        for (let page = 0; page < 50 && !listed; page++) {
          const answer = await db.send(new ListTablesCommand({ Limit: 100, ...(start !== undefined ? { ExclusiveStartTableName: start } : {}) }));
          listed = answer.TableNames?.includes(name) ?? false;
          start = answer.LastEvaluatedTableName;
          if (start === undefined) break;
        }
        return { listed };
      });
      await step(() => db.send(new DescribeTableCommand({ TableName: `${name}-missing` })));
      await step(() => db.send(new GetItemCommand({ TableName: `${name}-missing`, Key: { pk: S('a') } })));
      await step(() => db.send(new CreateTableCommand({ ...definition, TableName: 'ab' })));
      // DynamoDB answers DELETING (DynamoDB Local says ACTIVE): only the name is compared.
      await step(async () => ({ deleted: (await db.send(new DeleteTableCommand({ TableName: name }))).TableDescription?.TableName }));
      await step(() => db.send(new DescribeTableCommand({ TableName: name })));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ResourceInUseException', 'ok', 'ok', 'ResourceNotFoundException', 'ResourceNotFoundException', 'ValidationException', 'ok', 'ResourceNotFoundException']);
    expect(okOf(outcomes[3])).toEqual({ listed: true });
  });

  it('turns TTL on once: a second enable answers "TimeToLive is already enabled", as provisioning expects', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const name = `${RUN}-ttl${id}`;
      const spec = { AttributeName: 'expiresAtEpochSeconds', Enabled: true };
      await db.send(new CreateTableCommand({ TableName: name, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
      await step(() => db.send(new DescribeTimeToLiveCommand({ TableName: name })));
      await step(() => db.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: spec })));
      await step(async () => {
        try {
          await db.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: spec }));
          return { threw: false };
        } catch (error) {
          return { name: (error as Error).name, message: (error as Error).message };
        }
      });
      await step(() => db.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { ...spec, AttributeName: 'other' } })));
      await step(() => db.send(new DescribeTimeToLiveCommand({ TableName: name })));
      await db.send(new DeleteTableCommand({ TableName: name }));
    });

    expect(okOf(outcomes[2])).toEqual({ name: 'ValidationException', message: 'TimeToLive is already enabled' });
    expect(kinds(outcomes)).toEqual(['ok', 'ok', 'ok', 'ValidationException', 'ok']);
    expect(okOf(outcomes[4])).toEqual({ TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAtEpochSeconds' } });
  });

  it('provisions the whole topology unchanged, the same tables as on DynamoDB Local, and again on a restart', async () => {
    const names = Object.values(localBindings.tables);
    const describe = async (db: DynamoDBClient): Promise<unknown[]> => Promise.all(names.map(async (name) => tableShape((await db.send(new DescribeTableCommand({ TableName: name }))).Table)));
    const ttl = async (db: DynamoDBClient): Promise<unknown[]> => Promise.all(names.map(async (name) => normalize(await db.send(new DescribeTimeToLiveCommand({ TableName: name })))));

    const [onLocal, onMemory, ttlLocal, ttlMemory] = await Promise.all([describe(local), describe(memory), ttl(local), ttl(memory)]);

    expect(memoryBindings.tables).toEqual(localBindings.tables);
    expect(restartBindings).toEqual(memoryBindings);
    expect(onMemory).toEqual(onLocal);
    expect(ttlMemory).toEqual(ttlLocal);
    expect(names.length).toBeGreaterThanOrEqual(4);
  });
});

describe('single items', () => {
  it('stores every attribute type, numbers in DynamoDB plain form, and projects nested paths', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const key = { pk: S(`types-${id}`), sk: S('item') };
      const item: Item = {
        ...key,
        text: S('é😀'),
        empty: S(''),
        decimal: N('1.50'),
        power: N('1e3'),
        negativeZero: N('-0'),
        tiny: N('0.000015'),
        wide: N('12345678901234567890123456789012345678'),
        strings: { SS: ['b', 'a', '😀'] },
        numbers: { NS: ['10', '2', '1.5'] },
        bytes: { B: Uint8Array.of(0, 255, 7) },
        flag: { BOOL: false },
        nothing: { NULL: true },
        doc: { M: { a: N(1), nested: { M: { deep: S('x') } } } },
        seq: { L: [S('a'), N('2'), { M: {} }] },
        emptyList: { L: [] },
      };
      await step(() => db.send(new PutItemCommand({ TableName: SORTED, Item: item })));
      await step(() => db.send(new GetItemCommand({ TableName: SORTED, Key: key, ConsistentRead: true })));
      await step(() =>
        db.send(new GetItemCommand({ TableName: SORTED, Key: key, ProjectionExpression: '#t, doc.nested.deep, seq[1], numbers, absentOne', ExpressionAttributeNames: { '#t': 'text' } })),
      );
      const answer = await step(() => db.send(new GetItemCommand({ TableName: SORTED, Key: key })));
      if (answer?.Item?.doc?.M !== undefined) answer.Item.doc.M.a = S('changed by the caller');
      await step(() => db.send(new GetItemCommand({ TableName: SORTED, Key: key, ProjectionExpression: 'doc' })));
      await step(() => db.send(new GetItemCommand({ TableName: SORTED, Key: key, ProjectionExpression: 'map' })));
      await step(() => db.send(new GetItemCommand({ TableName: SORTED, Key: { pk: S(`types-${id}`), sk: S('absent') } })));
      await step(() => db.send(new GetItemCommand({ TableName: SORTED, Key: { pk: S(`types-${id}`) } })));
      await step(() => db.send(new PutItemCommand({ TableName: SORTED, Item: { ...key, bad: { SS: [] } } })));
      await step(() => db.send(new PutItemCommand({ TableName: SORTED, Item: { ...key, bad: { SS: ['a', 'a'] } } })));
      await step(() => db.send(new PutItemCommand({ TableName: SORTED, Item: { ...key, bad: N('abc') } })));
      await step(() => db.send(new PutItemCommand({ TableName: SORTED, Item: { ...key, team: N(1) } })));
      await step(() => db.send(new PutItemCommand({ TableName: SORTED, Item: { pk: S(`types-${id}`), sk: S('') } })));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ValidationException', 'ok', 'ValidationException', ...Array<string>(5).fill('ValidationException')]);
    expect(okOf(outcomes[1])).toMatchObject({ Item: { decimal: N('1.5'), power: N('1000'), negativeZero: N('0'), tiny: N('0.000015') } });
    expect(okOf(outcomes[2])).toEqual({ Item: { text: S('é😀'), doc: { M: { nested: { M: { deep: S('x') } } } }, seq: { L: [N('2')] }, numbers: { NS: ['1.5', '10', '2'] } } });
    expect(okOf(outcomes[4])).toEqual({ Item: { doc: { M: { a: N(1), nested: { M: { deep: S('x') } } } } } });
  });

  it('puts conditionally, answering the old item on a failed condition with ALL_OLD (alert, intake, ledger and settlement stores)', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.risk;
      const first = { pk: S(`ALERT#${id}`), entity: S('ALERT'), alertStatus: S('OPEN') };
      const once = { ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: first, ...once })));
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: { ...first, alertStatus: S('RESOLVED') }, ...once })));
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: first, ConditionExpression: 'attribute_not_exists(pk)' })));
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: { pk: S(`ABSENT#${id}`) }, ConditionExpression: 'attribute_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })));
      const cap = { pk: S(`NET_DEBIT_CAP#${id}`), netDebitCapMinor: N(5_000) };
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: cap, ReturnValues: 'ALL_OLD' })));
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: { ...cap, netDebitCapMinor: N(7_000) }, ReturnValues: 'ALL_OLD' })));
      await step(() =>
        db.send(new PutItemCommand({ TableName: table, Item: cap, ConditionExpression: 'netDebitCapMinor = :cap', ExpressionAttributeValues: { ':cap': N(5_000) }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
      );
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: cap, ReturnValues: 'ALL_NEW' })));
      await step(() => db.send(new GetItemCommand({ TableName: table, Key: { pk: cap.pk } })));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ConditionalCheckFailedException', 'ConditionalCheckFailedException', 'ConditionalCheckFailedException', 'ok', 'ok', 'ConditionalCheckFailedException', 'ValidationException', 'ok']);
    expect(outcomes[1]).toMatchObject({ error: { item: { alertStatus: S('OPEN') } } });
    expect(outcomes[2]).not.toHaveProperty('error.item');
    expect(okOf(outcomes[5])).toMatchObject({ Attributes: { netDebitCapMinor: N(5_000) } });
    expect(okOf(outcomes[8])).toMatchObject({ Item: { netDebitCapMinor: N(7_000) } });
  });
});

describe('updates, conditions and deletes', () => {
  it('updates with SET arithmetic, if_not_exists, list_append, nested paths, REMOVE, ADD and DELETE, clauses in any order and case', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.ledger;
      const key = { pk: S(`ACCOUNT#${id}`) };
      const update = (expression: string, values?: Record<string, AttributeValue>, names?: Record<string, string>, returnValues: ReturnValue = 'ALL_NEW') =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: table,
              Key: key,
              UpdateExpression: expression,
              ...(values !== undefined ? { ExpressionAttributeValues: values } : {}),
              ...(names !== undefined ? { ExpressionAttributeNames: names } : {}),
              ReturnValues: returnValues,
            }),
          ),
        );
      const status = { '#status': 'status' };
      await update('SET #status = :active, balanceMinor = :balance, headroomMinor = :balance, kind = :customer', { ':active': S('ACTIVE'), ':balance': N('9'.repeat(38)), ':customer': S('CUSTOMER') }, status);
      await update('SET balanceMinor = balanceMinor - :amount, headroomMinor = headroomMinor - :amount', { ':amount': N(`${'9'.repeat(37)}8`) });
      await update('SET balanceMinor = balanceMinor + :amount, headroomMinor = headroomMinor + :amount', { ':amount': N(-5) });
      const counter = { ':one': N(1), ':amount': N(2_500), ':expires': N(1_900_000_000), ':entity': S('COUNTER') };
      await update('ADD eventCount :one, amountMinor :amount SET expiresAtEpochSeconds = :expires, entity = :entity', counter, undefined, 'UPDATED_NEW');
      await update('add eventCount :one, amountMinor :amount set expiresAtEpochSeconds = :expires, entity = :entity', counter, undefined, 'UPDATED_OLD');
      await update('SET firstTransferId = if_not_exists(firstTransferId, :transfer), entity = :entity', { ':transfer': S('t-1'), ':entity': S('PAYEE_PAIR') });
      await update('SET firstTransferId = if_not_exists(firstTransferId, :transfer), entity = :entity', { ':transfer': S('t-2'), ':entity': S('PAYEE_PAIR') });
      await update('ADD currencies :currency SET entity = :entity', { ':currency': { SS: ['EUR'] }, ':entity': S('SETTLEMENT_CURRENCIES') });
      await update('ADD currencies :currency', { ':currency': { SS: ['USD', 'EUR', 'CHF'] } });
      await update('DELETE currencies :gone', { ':gone': { SS: ['EUR', 'GBP'] } });
      await update('DELETE currencies :gone', { ':gone': { SS: ['USD', 'CHF'] } });
      await update('ADD sizes :n', { ':n': { NS: ['3', '1'] } });
      await update('ADD sizes :n', { ':n': { NS: ['2', '3'] } });
      await update('SET history = list_append(if_not_exists(history, :none), :more)', { ':none': { L: [] }, ':more': { L: [S('a')] } });
      await update('SET history = list_append(:more, history)', { ':more': { L: [S('z')] } });
      await update('SET #status = :frozen, frozenByAlertId = :alert', { ':frozen': S('FROZEN'), ':alert': S('alert-1') }, status, 'ALL_OLD');
      const by = { M: { role: S('operations'), principal: S('arn:aws:iam::000000000000:user/ops') } };
      await update('SET #status = :active, statusChangedAt = :at, statusChangedBy = :by REMOVE frozenByAlertId', { ':active': S('ACTIVE'), ':at': S('2026-01-01T00:00:00.000Z'), ':by': by }, status, 'UPDATED_OLD');
      await update('REMOVE notifyClaimedUntil, kind');
      await update('SET a = :a, b = :b', { ':a': S('A'), ':b': S('B') }, undefined, 'NONE');
      await update('SET a = b, b = a');
      await update('SET doc = :doc', { ':doc': { M: { count: N(1), seq: { L: [S('x'), S('y')] } } } }, undefined, 'NONE');
      await update('SET doc.extra = :v, doc.#c = doc.#c + :v, doc.seq[5] = :v', { ':v': N(2) }, { '#c': 'count' });
      await update('REMOVE doc.extra, doc.seq[0]');
      await update('SET headroomMinor = (headroomMinor + :one)', { ':one': N(1) });
      await step(() => db.send(new UpdateItemCommand({ TableName: table, Key: { pk: S(`NEW#${id}`) }, ReturnValues: 'ALL_NEW' })));
      const position = { ':window': S('EUR-1'), ':institution': S('bankA'), ':currency': S('EUR'), ':entity': S('POSITION'), ':delta': N(-250) };
      const positionUpdate = 'SET windowId = :window, institutionId = :institution, currency = :currency, entity = :entity ADD positionMinor :delta';
      await step(() => db.send(new UpdateItemCommand({ TableName: table, Key: { pk: S(`POSITION#${id}`) }, UpdateExpression: positionUpdate, ExpressionAttributeValues: position, ReturnValues: 'ALL_NEW' })));
      await step(() => db.send(new GetItemCommand({ TableName: table, Key: key })));
    });

    expect(kinds(outcomes).every((kind) => kind === 'ok')).toBe(true);
    expect(okOf(outcomes[1])).toMatchObject({ Attributes: { balanceMinor: N(1), headroomMinor: N(1) } });
    expect(okOf(outcomes[2])).toMatchObject({ Attributes: { balanceMinor: N(-4) } });
    expect(okOf(outcomes[6])).toMatchObject({ Attributes: { firstTransferId: S('t-1') } });
    expect(okOf(outcomes[10])).not.toHaveProperty('Attributes.currencies');
    expect(okOf(outcomes[19])).toMatchObject({ Attributes: { a: S('B'), b: S('A') } });
    expect(okOf(outcomes[21])).toMatchObject({ Attributes: { doc: { M: { count: N(3), extra: N(2), seq: { L: [S('x'), S('y'), N(2)] } } } } });
    expect(okOf(outcomes[22])).toMatchObject({ Attributes: { doc: { M: { count: N(3), seq: { L: [S('y'), N(2)] } } } } });
  });

  it('refuses what DynamoDB refuses in an update (key, unused or undefined placeholders, operand types, reserved words, overlaps) and changes nothing', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.ledger;
      const key = { pk: S(`REFUSED#${id}`) };
      await db.send(new PutItemCommand({ TableName: table, Item: { ...key, n: N(1), s: S('x') } }));
      const refused = (expression: string | undefined, values?: Record<string, AttributeValue>, names?: Record<string, string>, condition?: string) =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: table,
              Key: key,
              ...(expression !== undefined ? { UpdateExpression: expression } : {}),
              ...(condition !== undefined ? { ConditionExpression: condition } : {}),
              ...(values !== undefined ? { ExpressionAttributeValues: values } : {}),
              ...(names !== undefined ? { ExpressionAttributeNames: names } : {}),
            }),
          ),
        );
      const v = { ':v': S('value') };
      await refused('SET pk = :v', v);
      await refused('SET a = :v', { ...v, ':unused': S('u') });
      await refused('SET a = :v', v, { '#unused': 'x' });
      await refused('SET a = :nowhere', v);
      await refused('SET #nowhere = :v', v);
      await refused(undefined, v);
      await refused('SET q = zz + :one', { ':one': N(1) });
      await refused('SET q = :text + :one', { ':text': S('t'), ':one': N(1) });
      await refused('SET q = s + :one', { ':one': N(1) });
      await refused('ADD s :text', { ':text': S('t') });
      await refused('DELETE n :one', { ':one': N(1) });
      await refused('ADD n :set', { ':set': { SS: ['a'] } });
      await refused('SET status = :v', v);
      await refused('SET a = :v REMOVE a', v);
      await refused('SET a = :v SET b = :v', v);
      await refused('SET a = ', v);
      await refused('SET a = :v', { ':v': { SS: [] } });
      await refused('SET a = :v + :v + :v', { ':v': N(1) });
      await refused('SET zz.x = :v', v);
      await refused('SET a = :v', v, {});
      await refused('SET a = :v', { ...v, ':high': N(9), ':low': N(1) }, undefined, 'n BETWEEN :high AND :low');
      await refused('SET a = :v', v, undefined, 'n = n');
      await refused('SET a = :v', { ...v, ':one': N(1) }, undefined, 'begins_with(s, :one)');
      await refused('SET a = :v', { ...v, ':set': { SS: ['a'] } }, undefined, 'n < :set');
      await refused('SET a = :v', v, undefined, 'attribute_exists(pk) AND');
      await refused('SET a = :v', v, undefined, 'frobnicate(pk)');
      await step(() => db.send(new GetItemCommand({ TableName: table, Key: key })));
    });

    expect(kinds(outcomes.slice(0, -1)).every((kind) => kind === 'ValidationException')).toBe(true);
    expect(outcomes.length).toBe(27);
    expect(okOf(outcomes.at(-1))).toMatchObject({ Item: { n: N(1), s: S('x') } });
    expect(Object.keys((okOf(outcomes.at(-1)) as { Item: Item }).Item).sort()).toEqual(['n', 'pk', 's']);
  });
});

describe('conditions and deletes', () => {
  /** [expression, values, names, whether the item matches]. */
  const CASES: readonly (readonly [string, Record<string, AttributeValue>, Record<string, string> | undefined, boolean])[] = [
    ['s = :v', { ':v': S('hello') }, undefined, true],
    ['n = :v', { ':v': S('10') }, undefined, false],
    ['n <> :v', { ':v': S('10') }, undefined, true],
    ['zz <> :v', { ':v': S('10') }, undefined, true],
    ['zz = :v', { ':v': S('10') }, undefined, false],
    ['NOT zz = :v', { ':v': S('10') }, undefined, true],
    ['n < :v', { ':v': N('10.5') }, undefined, true],
    ['n > :v', { ':v': N('9.99999999999999999999999999999') }, undefined, true],
    ['n <= :v', { ':v': N('1e1') }, undefined, true],
    ['n >= :v', { ':v': N(11) }, undefined, false],
    ['n BETWEEN :a AND :b', { ':a': N(10), ':b': N(10) }, undefined, true],
    ['n BETWEEN :a AND :b', { ':a': S('1'), ':b': S('9') }, undefined, false],
    ['n IN (:a, :b)', { ':a': N(1), ':b': N('10.0') }, undefined, true],
    ['n IN (:a)', { ':a': S('10') }, undefined, false],
    ['top < :v', { ':v': S('\u{1F600}') }, undefined, true],
    ['top > :v', { ':v': S('\u{1F600}') }, undefined, false],
    ['s < :v', { ':v': S('hellp') }, undefined, true],
    ['strings = :v', { ':v': { SS: ['b', 'a'] } }, undefined, true],
    ['seq = :v', { ':v': { L: [S('a'), N(1)] } }, undefined, true],
    ['doc = :v', { ':v': { M: { word: S('v'), deep: { M: { x: N(1) } } } } }, undefined, true],
    ['contains(s, :v)', { ':v': S('ell') }, undefined, true],
    ['contains(strings, :v)', { ':v': S('a') }, undefined, true],
    ['contains(numbers, :v)', { ':v': N('2.0') }, undefined, true],
    ['contains(seq, :v)', { ':v': N(1) }, undefined, true],
    ['contains(s, :v)', { ':v': N(1) }, undefined, false],
    ['contains(zz, :v)', { ':v': S('a') }, undefined, false],
    ['begins_with(s, :v)', { ':v': S('he') }, undefined, true],
    ['begins_with(n, :v)', { ':v': S('1') }, undefined, false],
    ['size(s) = :v', { ':v': N(5) }, undefined, true],
    ['size(strings) = :v', { ':v': N(2) }, undefined, true],
    ['size(doc) = :v', { ':v': N(2) }, undefined, true],
    ['size(n) = :v', { ':v': N(2) }, undefined, false],
    ['size(zz) <> :v', { ':v': N(2) }, undefined, true],
    ['size(s) > size(strings)', {}, undefined, true],
    ['doc.deep.x = :v', { ':v': N(1) }, undefined, true],
    ['#d.#w = :v', { ':v': S('v') }, { '#d': 'doc', '#w': 'word' }, true],
    ['#dw = :v', { ':v': S('v') }, { '#dw': 'doc.word' }, false],
    ['seq[1] = :v', { ':v': N(1) }, undefined, true],
    ['attribute_exists(seq[5])', {}, undefined, false],
    ['attribute_exists(doc.word) AND attribute_not_exists(doc.zz)', {}, undefined, true],
    ['attribute_type(s, :t)', { ':t': S('S') }, undefined, true],
    ['n = :a OR n = :b AND s = :c', { ':a': N(10), ':b': N(1), ':c': S('no') }, undefined, true],
    ['(n = :a OR n = :b) AND s = :c', { ':a': N(10), ':b': N(1), ':c': S('no') }, undefined, false],
    ['NOT n = :a AND s = :c', { ':a': N(11), ':c': S('hello') }, undefined, true],
    ['NOT (n = :a AND s = :c)', { ':a': N(10), ':c': S('hello') }, undefined, false],
    ['n = :a and s = :c or not n = :a', { ':a': N(10), ':c': S('hello') }, undefined, true],
    ['n=:a', { ':a': N(10) }, undefined, true],
    ['flag = :t', { ':t': { BOOL: true } }, undefined, true],
    ['nothing = :n', { ':n': { NULL: true } }, undefined, true],
    ['bytes = :b', { ':b': { B: Uint8Array.of(1, 2, 3) } }, undefined, true],
    ['begins_with(bytes, :b)', { ':b': { B: Uint8Array.of(1, 2) } }, undefined, true],
    ['bytes < :b', { ':b': { B: Uint8Array.of(1, 3) } }, undefined, true],
    ['contains(seq, :v)', { ':v': { L: [] } }, undefined, false],
  ];

  it('evaluates conditions as DynamoDB does: types, missing attributes, functions, nested paths, precedence', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const pk = S(`cond-${id}`);
      await db.send(
        new PutItemCommand({
          TableName: SORTED,
          Item: {
            pk,
            sk: S('only'),
            s: S('hello'),
            top: S('\uFFFF'),
            n: N(10),
            strings: { SS: ['a', 'b'] },
            numbers: { NS: ['1', '2'] },
            seq: { L: [S('a'), N(1)] },
            doc: { M: { word: S('v'), deep: { M: { x: N(1) } } } },
            flag: { BOOL: true },
            nothing: { NULL: true },
            bytes: { B: Uint8Array.of(1, 2, 3) },
          },
        }),
      );
      for (const [expression, values, names] of CASES) {
        await step(async () => {
          const answer = await db.send(
            new QueryCommand({
              TableName: SORTED,
              KeyConditionExpression: 'pk = :pk',
              FilterExpression: expression,
              ExpressionAttributeValues: { ':pk': pk, ...values },
              ...(names !== undefined ? { ExpressionAttributeNames: names } : {}),
              Select: 'COUNT',
            }),
          );
          return answer.Count === 1;
        });
      }
    });

    expect(outcomes.map(okOf)).toEqual(CASES.map(([, , , matches]) => matches));
  });

  it('refuses ill-typed condition operands, reserved words and filters on key attributes', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const pk = S(`refused-${id}`);
      await db.send(new PutItemCommand({ TableName: SORTED, Item: { pk, sk: S('only'), n: N(1), s: S('x') } }));
      const filter = (expression: string, values: Record<string, AttributeValue> = {}) =>
        step(() => db.send(new QueryCommand({ TableName: SORTED, KeyConditionExpression: 'pk = :pk', FilterExpression: expression, ExpressionAttributeValues: { ':pk': pk, ...values } })));
      await filter('n < :v', { ':v': { SS: ['c'] } });
      await filter('n < :v', { ':v': { BOOL: true } });
      await filter('begins_with(s, :v)', { ':v': N(1) });
      await filter('n BETWEEN :a AND :b', { ':a': N(1), ':b': S('10') });
      await filter('n BETWEEN :a AND :b', { ':a': N(5), ':b': N(1) });
      await filter('n = n');
      await filter('sk = :v', { ':v': S('only') });
      await filter('status = :v', { ':v': S('x') });
      await filter('doc.inner = :v', { ':v': S('x') });
      await filter('n = :v', { ':v': N('1'.repeat(39)) });
      await filter('n = :v', { ':v': N('1e126') });
      await filter('n = :v');
    });

    expect(kinds(outcomes)).toEqual(Array<string>(12).fill('ValidationException'));
  });

  it('deletes conditionally (the intake discard), answering the old item on request', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.requests;
      const key = { pk: S(`INTAKE#${id}`) };
      const discard = (hash: string, extra: Partial<{ ReturnValues: 'ALL_OLD'; ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }> = {}) =>
        step(() => db.send(new DeleteItemCommand({ TableName: table, Key: key, ConditionExpression: 'contentHash = :hash', ExpressionAttributeValues: { ':hash': S(hash) }, ...extra })));
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: { ...key, contentHash: S('h1'), entity: S('INTAKE') } })));
      await discard('h2');
      await discard('h2', { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
      await discard('h1', { ReturnValues: 'ALL_OLD' });
      await discard('h1', { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
      await step(() => db.send(new DeleteItemCommand({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' })));
      await step(() => db.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true })));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ConditionalCheckFailedException', 'ConditionalCheckFailedException', 'ok', 'ConditionalCheckFailedException', 'ok', 'ok']);
    expect(outcomes[2]).toMatchObject({ error: { item: { contentHash: S('h1') } } });
    expect(okOf(outcomes[3])).toMatchObject({ Attributes: { contentHash: S('h1') } });
    expect(okOf(outcomes[6])).toEqual({});
  });
});

describe('transactions', () => {
  /** A posting as the ledger store sends it, with the settlement store's four interbank actions. */
  function posting(table: string, id: string, transferId: string, amountMinor: number, channel: 'ADMIN' | 'POS'): TransactWriteItem[] {
    const amount = N(amountMinor);
    const capMinor = 5_000;
    const account = (name: string) => ({ pk: S(`ACCOUNT#${name}-${id}`) });
    const positionFields = (institution: string) => ({ ':window': S(`EUR-${id}`), ':institution': S(institution), ':currency': S('EUR'), ':entity': S('POSITION') });
    const positionUpdate = 'SET windowId = :window, institutionId = :institution, currency = :currency, entity = :entity ADD positionMinor :delta';
    const statusName = { '#status': 'status' };
    return [
      { Put: { TableName: table, Item: { pk: S(`TRANSFER#${transferId}-${id}`), amountMinor: amount }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
      {
        Update: {
          TableName: table,
          Key: account('debtor'),
          ConditionExpression: `attribute_exists(pk) AND #status = :active AND currency = :currency AND institutionId = :institution AND ${
            channel === 'ADMIN' ? '(kind = :funding OR headroomMinor >= :amount)' : '(kind <> :funding AND headroomMinor >= :amount)'
          }`,
          UpdateExpression: 'SET balanceMinor = balanceMinor - :amount, headroomMinor = headroomMinor - :amount',
          ExpressionAttributeNames: statusName,
          ExpressionAttributeValues: { ':active': S('ACTIVE'), ':currency': S('EUR'), ':funding': S('FUNDING'), ':amount': amount, ':institution': S('bankA') },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Update: {
          TableName: table,
          Key: account('creditor'),
          ConditionExpression: 'attribute_exists(pk) AND #status IN (:active, :frozen) AND currency = :currency AND institutionId = :institution',
          UpdateExpression: 'SET balanceMinor = balanceMinor + :amount, headroomMinor = headroomMinor + :amount',
          ExpressionAttributeNames: statusName,
          ExpressionAttributeValues: { ':active': S('ACTIVE'), ':frozen': S('FROZEN'), ':currency': S('EUR'), ':amount': amount, ':institution': S('bankB') },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Update: {
          TableName: table,
          Key: { pk: S(`SETTLEMENT_WINDOW#${id}`) },
          UpdateExpression: 'ADD transferCount :one, grossMinor :amount, participants :pair',
          ConditionExpression: '#state = :open',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':one': N(1), ':amount': amount, ':pair': { SS: ['bankA', 'bankB'] }, ':open': S('OPEN') },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Update: {
          TableName: table,
          Key: { pk: S(`POSITION#${id}#bankA`) },
          UpdateExpression: positionUpdate,
          ConditionExpression: 'attribute_not_exists(positionMinor) OR positionMinor <= :ceiling',
          ExpressionAttributeValues: { ...positionFields('bankA'), ':delta': amount, ':ceiling': N(capMinor - amountMinor) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      { Update: { TableName: table, Key: { pk: S(`POSITION#${id}#bankB`) }, UpdateExpression: positionUpdate, ExpressionAttributeValues: { ...positionFields('bankB'), ':delta': N(-amountMinor) } } },
      { ConditionCheck: { TableName: table, Key: { pk: S(`NET_DEBIT_CAP#bankA#${id}`) }, ConditionExpression: 'netDebitCapMinor = :cap', ExpressionAttributeValues: { ':cap': N(capMinor) } } },
    ];
  }

  const keysOf = (items: readonly TransactWriteItem[]): Item[] => items.map((item) => item.Put?.Item ?? item.Update?.Key ?? item.Delete?.Key ?? item.ConditionCheck?.Key ?? {}).map((item) => ({ pk: item.pk ?? S('') }));

  async function readAll(db: DynamoDBClient, table: string, keys: readonly Item[]): Promise<unknown> {
    const answer = await db.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [...keys], ConsistentRead: true } } }));
    return [...(answer.Responses?.[table] ?? [])].sort((a, b) => String(a.pk?.S).localeCompare(String(b.pk?.S)));
  }

  it('posts a transfer all or nothing, with one cancellation reason per action and the old items asked for (ledger and settlement stores)', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.ledger;
      const account = (name: string, fields: Item): Item => ({ pk: S(`ACCOUNT#${name}-${id}`), currency: S('EUR'), kind: S('CUSTOMER'), ...fields });
      for (const item of [
        account('debtor', { status: S('ACTIVE'), institutionId: S('bankA'), balanceMinor: N(1_000), headroomMinor: N(1_500) }),
        account('creditor', { status: S('FROZEN'), institutionId: S('bankB'), balanceMinor: N(0), headroomMinor: N(0) }),
        { pk: S(`SETTLEMENT_WINDOW#${id}`), state: S('OPEN') },
        { pk: S(`NET_DEBIT_CAP#bankA#${id}`), netDebitCapMinor: N(5_000) },
      ]) {
        await db.send(new PutItemCommand({ TableName: table, Item: item }));
      }
      const keys = keysOf(posting(table, id, 'first', 1, 'POS'));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: posting(table, id, 'first', 300, 'POS') })));
      await step(() => readAll(db, table, keys));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: posting(table, id, 'first', 300, 'POS') })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: posting(table, id, 'second', 2_000, 'POS') })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: posting(table, id, 'third', 100, 'ADMIN') })));
      await step(() =>
        db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: S(`SETTLEMENT_WINDOW#${id}`) },
            UpdateExpression: 'SET #state = :closed, closedAt = :at',
            ConditionExpression: '#state = :open',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':closed': S('CLOSED'), ':open': S('OPEN'), ':at': S('2026-01-01T00:00:00.000Z') },
          }),
        ),
      );
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: posting(table, id, 'fourth', 100, 'POS') })));
      await step(() => readAll(db, table, keys));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ok', 'TransactionCanceledException', 'TransactionCanceledException', 'ok', 'ok', 'TransactionCanceledException', 'ok']);
    expect(outcomes[2]).toMatchObject({
      error: { message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, None, None, None, None, None]' },
    });
    const codes = (outcome: Outcome | undefined): unknown[] | undefined => (outcome !== undefined && 'error' in outcome ? outcome.error.reasons?.map((reason) => [reason.code, reason.item !== undefined]) : undefined);
    expect(codes(outcomes[3])).toEqual([['None', false], ['ConditionalCheckFailed', true], ['None', false], ['None', false], ['None', false], ['None', false], ['None', false]]);
    expect(codes(outcomes[6])?.[3]).toEqual(['ConditionalCheckFailed', true]);
  });

  it('freezes an account for an alert across two tables, once (account freezer)', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const { ledger, risk } = localBindings.tables;
      const recordOutcome = (alert: string, outcome: string) => ({
        TableName: risk,
        Key: { pk: S(`ALERT#${alert}-${id}`) },
        UpdateExpression: 'SET freezeOutcome = :outcome, freezeAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND alertStatus = :open AND attribute_not_exists(freezeOutcome)',
        ExpressionAttributeValues: { ':open': S('OPEN'), ':outcome': S(outcome), ':at': S('2026-01-01T00:00:00.000Z') },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      });
      const freeze = (alert: string, account: string) =>
        db.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Update: recordOutcome(alert, 'FROZEN') },
              {
                Update: {
                  TableName: ledger,
                  Key: { pk: S(`ACCOUNT#${account}-${id}`) },
                  UpdateExpression: 'SET #status = :frozen, frozenByAlertId = :alert',
                  ConditionExpression: 'attribute_exists(pk) AND #status = :active AND kind = :customer',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':active': S('ACTIVE'), ':frozen': S('FROZEN'), ':alert': S(alert), ':customer': S('CUSTOMER') },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
          }),
        );
      for (const alert of ['one', 'two', 'three']) await db.send(new PutItemCommand({ TableName: risk, Item: { pk: S(`ALERT#${alert}-${id}`), alertStatus: S('OPEN') } }));
      await db.send(new PutItemCommand({ TableName: ledger, Item: { pk: S(`ACCOUNT#acc-${id}`), status: S('ACTIVE'), kind: S('CUSTOMER') } }));
      await step(() => freeze('one', 'acc'));
      await step(() => freeze('one', 'acc'));
      await step(() => freeze('two', 'acc'));
      await step(() => db.send(new UpdateItemCommand(recordOutcome('two', 'ALREADY_FROZEN'))));
      await step(() => db.send(new UpdateItemCommand(recordOutcome('two', 'ALREADY_FROZEN'))));
      await step(() => freeze('three', 'missing'));
      await step(() => readAll(db, risk, ['one', 'two', 'three'].map((alert) => ({ pk: S(`ALERT#${alert}-${id}`) }))));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'TransactionCanceledException', 'TransactionCanceledException', 'ok', 'ConditionalCheckFailedException', 'TransactionCanceledException', 'ok']);
    expect(outcomes[1]).toMatchObject({ error: { reasons: [{ code: 'ConditionalCheckFailed', item: { freezeOutcome: S('FROZEN') } }, { code: 'ConditionalCheckFailed', item: { status: S('FROZEN') } }] } });
    expect(outcomes[5]).toMatchObject({ error: { reasons: [{ code: 'None' }, { code: 'ConditionalCheckFailed' }] } });
  });

  it('counts a screening once and keeps the first verdict (risk store)', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.risk;
      const counter = (bucket: number): TransactWriteItem => ({
        Update: {
          TableName: table,
          Key: { pk: S(`COUNTER#${id}#${bucket}`) },
          UpdateExpression: 'ADD eventCount :one, amountMinor :amount SET expiresAtEpochSeconds = :expires, entity = :entity',
          ExpressionAttributeValues: { ':one': N(1), ':amount': N(1_250), ':expires': N(1_900_000_000 + bucket), ':entity': S('COUNTER') },
        },
      });
      const screening: TransactWriteItem[] = [
        { Put: { TableName: table, Item: { pk: S(`MARKER#${id}`), entity: S('SCREENING_MARKER'), expiresAtEpochSeconds: N(1_900_000_000) }, ConditionExpression: 'attribute_not_exists(pk)' } },
        counter(1),
        counter(2),
        {
          Update: {
            TableName: table,
            Key: { pk: S(`PAYEE#${id}`) },
            UpdateExpression: 'SET firstTransferId = if_not_exists(firstTransferId, :transfer), entity = :entity',
            ExpressionAttributeValues: { ':transfer': S(`t-${id}`), ':entity': S('PAYEE_PAIR') },
          },
        },
      ];
      const verdict = (text: string) =>
        db.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: S(`MARKER#${id}`) },
            UpdateExpression: 'SET verdict = :verdict',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(verdict)',
            ExpressionAttributeValues: { ':verdict': S(text) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: screening })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: screening })));
      await step(() => verdict('{"first":true}'));
      await step(() => verdict('{"second":true}'));
      await step(() => readAll(db, table, keysOf(screening)));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'TransactionCanceledException', 'ok', 'ConditionalCheckFailedException', 'ok']);
    expect(outcomes[3]).toMatchObject({ error: { item: { verdict: S('{"first":true}') } } });
  });

  it('opens, closes, records instructions for and settles a settlement window (settlement store)', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.ledger;
      const at = S('2026-01-01T00:00:00.000Z');
      const window = (sequence: number): Item => ({ pk: S(`SETTLEMENT_WINDOW#${id}-${sequence}`), windowId: S(`${id}-${sequence}`), state: S('OPEN'), sequence: N(sequence), openedAt: at });
      const pointer = (sequence: number): Item => ({ pk: S(`SETTLEMENT_CURRENT#${id}`), windowId: S(`${id}-${sequence}`), sequence: N(sequence) });
      const unsettled = { pk: S(`SETTLEMENT_UNSETTLED#${id}`) };
      const state = { '#state': 'state' };
      const open: TransactWriteItem[] = [
        { Put: { TableName: table, Item: pointer(1), ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { TableName: table, Item: window(1), ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName: table, Key: { pk: S(`SETTLEMENT_CURRENCIES#${id}`) }, UpdateExpression: 'ADD currencies :currency SET entity = :entity', ExpressionAttributeValues: { ':currency': { SS: ['EUR'] }, ':entity': S('SETTLEMENT_CURRENCIES') } } },
      ];
      const close: TransactWriteItem[] = [
        {
          Update: {
            TableName: table,
            Key: { pk: S(`SETTLEMENT_WINDOW#${id}-1`) },
            UpdateExpression: 'SET #state = :closed, closedAt = :at, closedBy = :by',
            ConditionExpression: '#state = :open',
            ExpressionAttributeNames: state,
            ExpressionAttributeValues: { ':closed': S('CLOSED'), ':open': S('OPEN'), ':at': at, ':by': { M: { role: S('operations'), principal: S('ops') } } },
          },
        },
        { Put: { TableName: table, Item: window(2), ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { TableName: table, Item: pointer(2), ConditionExpression: 'windowId = :current', ExpressionAttributeValues: { ':current': S(`${id}-1`) } } },
        { Update: { TableName: table, Key: unsettled, UpdateExpression: 'ADD windowIds :closed', ExpressionAttributeValues: { ':closed': { SS: [`${id}-1`] } } } },
        { Put: { TableName: table, Item: { pk: S(`SETTLEMENT_CLOSE_REQUEST#${id}`), requestHash: S('EUR#') }, ConditionExpression: 'attribute_not_exists(pk)' } },
      ];
      const instruction = (institution: string): TransactWriteItem[] => [
        { Put: { TableName: table, Item: { pk: S(`SETTLEMENT_INSTRUCTION#${id}-1#${institution}`) }, ConditionExpression: 'attribute_not_exists(pk)' } },
        {
          Update: {
            TableName: table,
            Key: { pk: S(`SETTLEMENT_WINDOW#${id}-1`) },
            UpdateExpression: 'ADD instructionsRecorded :one SET instructionCount = :count',
            ConditionExpression: '#state = :closed',
            ExpressionAttributeNames: state,
            ExpressionAttributeValues: { ':one': N(1), ':count': N(2), ':closed': S('CLOSED') },
          },
        },
      ];
      const settle: TransactWriteItem[] = [
        {
          Update: {
            TableName: table,
            Key: { pk: S(`SETTLEMENT_WINDOW#${id}-1`) },
            UpdateExpression: 'SET #state = :settled, settledAt = :at',
            ConditionExpression: '#state = :closed AND instructionsRecorded = :count',
            ExpressionAttributeNames: state,
            ExpressionAttributeValues: { ':settled': S('SETTLED'), ':closed': S('CLOSED'), ':count': N(2), ':at': at },
          },
        },
        { Update: { TableName: table, Key: unsettled, UpdateExpression: 'DELETE windowIds :settled', ExpressionAttributeValues: { ':settled': { SS: [`${id}-1`] } } } },
      ];
      const report = { pk: S(`SETTLEMENT_REPORT#${id}`) };
      const alarm = () =>
        db.send(
          new UpdateItemCommand({ TableName: table, Key: report, UpdateExpression: 'SET alarmedAt = :at', ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(alarmedAt)', ExpressionAttributeValues: { ':at': at } }),
        );
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: open })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: open })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: close })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: close })));
      await step(() => db.send(new UpdateItemCommand({ TableName: table, Key: unsettled, UpdateExpression: 'ADD windowIds :stuck SET backfilled = :at', ExpressionAttributeValues: { ':stuck': { SS: [`${id}-0`] }, ':at': at } })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: settle })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: instruction('bankA') })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: instruction('bankB') })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: settle })));
      await step(() => db.send(new PutItemCommand({ TableName: table, Item: { ...report, entity: S('SETTLEMENT_REPORT') }, ConditionExpression: 'attribute_not_exists(pk)' })));
      await step(alarm);
      await step(alarm);
      await step(() => db.send(new UpdateItemCommand({ TableName: table, Key: report, UpdateExpression: 'REMOVE alarmedAt' })));
      await step(alarm);
      await step(() => readAll(db, table, [...keysOf(open), { pk: S(`SETTLEMENT_WINDOW#${id}-2`) }, unsettled, { pk: S(`SETTLEMENT_CLOSE_REQUEST#${id}`) }, report]));
    });

    expect(kinds(outcomes)).toEqual([
      'ok',
      'TransactionCanceledException',
      'ok',
      'TransactionCanceledException',
      'ok',
      'TransactionCanceledException',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ConditionalCheckFailedException',
      'ok',
      'ok',
      'ok',
    ]);
    expect(outcomes[3]).toMatchObject({ error: { reasons: [{ code: 'ConditionalCheckFailed' }, { code: 'ConditionalCheckFailed' }, { code: 'ConditionalCheckFailed' }, { code: 'None' }, { code: 'ConditionalCheckFailed' }] } });
  });

  it('refuses two actions on one item, more than 100 actions, a key update, a missing table and ill-typed index keys', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.ledger;
      const put = (name: string): TransactWriteItem => ({ Put: { TableName: table, Item: { pk: S(`MANY#${id}#${name}`) } } });
      const many = Array.from({ length: 101 }, (_, i) => put(String(i).padStart(3, '0')));
      // DynamoDB refuses any two actions on one item before reading anything. (DynamoDB Local first
      // evaluates the conditions and reports a failed one instead: hence conditions that hold.)
      await db.send(new PutItemCommand({ TableName: table, Item: { pk: S(`MANY#${id}#a`) } }));
      const twice: TransactWriteItem[] = [
        { Update: { TableName: table, Key: { pk: S(`MANY#${id}#a`) }, UpdateExpression: 'SET n = :one', ExpressionAttributeValues: { ':one': N(1) } } },
        { ConditionCheck: { TableName: table, Key: { pk: S(`MANY#${id}#a`) }, ConditionExpression: 'attribute_exists(pk)' } },
      ];
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: twice })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: many })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: [] })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: { TableName: table, Key: { pk: S(`MANY#${id}#a`) }, UpdateExpression: 'SET pk = :v', ExpressionAttributeValues: { ':v': S('x') } } }] })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: `${table}-missing`, Item: { pk: S('x') } } }] })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: SORTED, Item: { pk: S(`MANY#${id}`), sk: S('x'), team: N(1) } } }, put('b')] })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: { TableName: table, Key: { pk: S(`MANY#${id}#c`) }, UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': N(1) } } }] })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: table, Item: { pk: S(`MANY#${id}#d`) }, ExpressionAttributeValues: { ':v': N(1) }, ConditionExpression: 'attribute_not_exists(pk)' } }] })));
      await step(() => db.send(new TransactWriteItemsCommand({ TransactItems: many.slice(0, 100) })));
      const keys = many.map((item) => ({ pk: item.Put?.Item?.pk ?? S('') }));
      await step(async () => (await readAll(db, table, keys.slice(0, 100)) as unknown[]).length);
      await step(() => readAll(db, table, keys));
    });

    expect(kinds(outcomes)).toEqual([
      'ValidationException',
      'ValidationException',
      'ValidationException',
      'TransactionCanceledException',
      'ResourceNotFoundException',
      'TransactionCanceledException',
      'ValidationException',
      'ValidationException',
      'ok',
      'ok',
      'ValidationException',
    ]);
    expect(outcomes[3]).toMatchObject({ error: { reasons: [{ code: 'ValidationError' }] } });
    expect(outcomes[5]).toMatchObject({ error: { reasons: [{ code: 'ValidationError' }, { code: 'None' }] } });
    expect(okOf(outcomes[9])).toBe(100);
  });
});

describe('queries, scans and batch reads', () => {
  /** Every page of a query, each as [keys returned, Count, ScannedCount, LastEvaluatedKey]; bounded. */
  async function pages(db: DynamoDBClient, input: QueryCommandInput, attributes: readonly string[]): Promise<unknown[]> {
    const read: unknown[] = [];
    let start: Record<string, AttributeValue> | undefined;
    for (let page = 0; page < 20; page++) {
      const answer = await db.send(new QueryCommand({ ...input, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }));
      read.push([(answer.Items ?? []).map((item) => attributes.map((name) => item[name]?.S ?? item[name]?.N)), answer.Count, answer.ScannedCount, normalize(answer.LastEvaluatedKey)]);
      start = answer.LastEvaluatedKey;
      if (start === undefined) return read;
    }
    throw new Error('more than 20 pages');
  }

  it('queries a table by every key condition, in order both ways, counting Limit before the filter, in pages that resume exactly', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const pk = S(`q-${id}`);
      const sortKeys = ['a', 'b', 'c', 'd', 'e', 'B', 'ä', 'aa', '\uFFFF', '\u{1F600}'];
      for (const [n, sk] of sortKeys.entries()) await db.send(new PutItemCommand({ TableName: SORTED, Item: { pk, sk: S(sk), n: N(n) } }));
      const query = (condition: string, values: Record<string, AttributeValue> = {}, extra: Partial<QueryCommandInput> = {}) =>
        step(async () => {
          const answer = await db.send(new QueryCommand({ TableName: SORTED, KeyConditionExpression: condition, ExpressionAttributeValues: { ':p': pk, ...values }, ProjectionExpression: 'sk', ...extra }));
          return { keys: (answer.Items ?? []).map((item) => item.sk?.S), count: answer.Count, scanned: answer.ScannedCount, last: answer.LastEvaluatedKey?.sk?.S };
        });
      await query('pk = :p');
      await query('pk = :p AND sk = :v', { ':v': S('c') });
      await query('pk = :p AND sk < :v', { ':v': S('c') });
      await query('pk = :p AND sk <= :v', { ':v': S('c') });
      await query('pk = :p AND sk > :v', { ':v': S('c') });
      await query('pk = :p AND sk >= :v', { ':v': S('c') });
      await query('pk = :p AND sk BETWEEN :a AND :b', { ':a': S('aa'), ':b': S('d') });
      await query('pk = :p AND begins_with(sk, :v)', { ':v': S('a') });
      await query(':v < sk AND pk = :p', { ':v': S('c') });
      await query('(pk = :p) AND (sk > :v)', { ':v': S('c') });
      await query('pk = :p', {}, { ScanIndexForward: false });
      await query('pk = :p', { ':x': N(1) }, { Limit: 3, FilterExpression: 'n > :x' });
      await query('pk = :p', {}, { Limit: 10 });
      await query('pk = :p', {}, { ExclusiveStartKey: { pk, sk: S('\u{1F600}') } });
      await query('pk = :p', {}, { ExclusiveStartKey: { pk, sk: S('bb') } });
      await query('pk = :p', {}, { ExclusiveStartKey: { pk, sk: S('bb') }, ScanIndexForward: false });
      await step(() => db.send(new QueryCommand({ TableName: SORTED, KeyConditionExpression: 'pk = :p', FilterExpression: 'n >= :x', ExpressionAttributeValues: { ':p': pk, ':x': N(4) }, Select: 'COUNT' })));
      await step(() => pages(db, { TableName: SORTED, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk }, Limit: 3 }, ['sk']));
      await step(() => pages(db, { TableName: SORTED, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk, ':x': N(5) }, FilterExpression: 'n < :x', ScanIndexForward: false, Limit: 4 }, ['sk']));
    });

    expect(kinds(outcomes).every((kind) => kind === 'ok')).toBe(true);
    expect(okOf(outcomes[0])).toMatchObject({ keys: ['B', 'a', 'aa', 'b', 'c', 'd', 'e', 'ä', '\uFFFF', '\u{1F600}'], count: 10 });
    expect(okOf(outcomes[11])).toEqual({ keys: ['B', 'aa'], count: 2, scanned: 3, last: 'aa' });
    expect(okOf(outcomes[12])).toMatchObject({ count: 10, last: '\u{1F600}' });
    expect(okOf(outcomes[13])).toEqual({ keys: [], count: 0, scanned: 0 });
  });

  it('queries a sparse GSI in sort-key order, with pages whose keys carry the table and index keys', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const team = S(`T-${id}`);
      const scores = ['5', '-1', '10', '2.5', '100', '-0.5', '1e3', '0'];
      for (const [i, score] of scores.entries()) await db.send(new PutItemCommand({ TableName: SORTED, Item: { pk: S(`g-${id}`), sk: S(`s${i}`), team, score: N(score) } }));
      await db.send(new PutItemCommand({ TableName: SORTED, Item: { pk: S(`g-${id}`), sk: S('no-score'), team } }));
      await db.send(new PutItemCommand({ TableName: SORTED, Item: { pk: S(`g-${id}`), sk: S('no-team'), score: N(1) } }));
      // Three items tie on the index's sort key: DynamoDB promises no order among them.
      for (const sk of ['x', 'y', 'z']) await db.send(new PutItemCommand({ TableName: SORTED, Item: { pk: S(`tie-${id}-${sk}`), sk: S(sk), team: S(`U-${id}`), score: N(7) } }));
      const input = { TableName: SORTED, IndexName: 'byScore', KeyConditionExpression: 'team = :t', ExpressionAttributeValues: { ':t': team } };
      await step(() => pages(db, input, ['sk', 'score']));
      await step(() => pages(db, { ...input, Limit: 3 }, ['sk', 'score']));
      await step(() => pages(db, { ...input, Limit: 3, ScanIndexForward: false }, ['sk', 'score']));
      await step(() => pages(db, { ...input, KeyConditionExpression: 'team = :t AND score BETWEEN :low AND :high', ExpressionAttributeValues: { ':t': team, ':low': N(0), ':high': N(10) } }, ['sk']));
      await step(() => pages(db, { ...input, KeyConditionExpression: 'team = :t AND score < :v', ExpressionAttributeValues: { ':t': team, ':v': N('2.5') }, ScanIndexForward: false }, ['sk']));
      await step(async () => {
        const tied = (await pages(db, { ...input, ExpressionAttributeValues: { ':t': S(`U-${id}`) }, Limit: 1 }, ['sk'])) as [string[][], ...unknown[]][];
        return tied.flatMap(([keys]) => keys.flat()).sort();
      });
      await step(() => db.send(new QueryCommand({ ...input, ConsistentRead: true })));
      await step(() => db.send(new QueryCommand({ ...input, IndexName: 'noSuchIndex' })));
      await step(() => db.send(new QueryCommand({ ...input, FilterExpression: 'score > :v', ExpressionAttributeValues: { ':t': team, ':v': N(1) } })));
      await step(() => db.send(new QueryCommand({ ...input, ExclusiveStartKey: { pk: S(`g-${id}`), sk: S('s0') } })));
      await step(() => db.send(new QueryCommand({ ...input, ExclusiveStartKey: { pk: S(`g-${id}`), sk: S('s0'), team: S('other'), score: N(5) } })));
      await step(() => db.send(new QueryCommand({ ...input, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':t': team, ':pk': S(`g-${id}`) }, Select: 'COUNT' })));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ValidationException', 'ValidationException', 'ValidationException', 'ValidationException', 'ValidationException', 'ok']);
    expect(okOf(outcomes[0])).toEqual([[[['s1', '-1'], ['s5', '-0.5'], ['s7', '0'], ['s3', '2.5'], ['s0', '5'], ['s2', '10'], ['s4', '100'], ['s6', '1000']], 8, 8, undefined]]);
    expect((okOf(outcomes[1]) as unknown[]).length).toBe(3);
    expect(okOf(outcomes[5])).toEqual(['x', 'y', 'z']);
  });

  it('refuses malformed key conditions and limits', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const query = (condition: string, values: Record<string, AttributeValue>, extra: Partial<QueryCommandInput> = {}) =>
        step(() => db.send(new QueryCommand({ TableName: SORTED, KeyConditionExpression: condition, ExpressionAttributeValues: values, ...extra })));
      const pk = S(`bad-${id}`);
      await query('pk = :p AND n > :v', { ':p': pk, ':v': N(1) });
      await query('sk = :v', { ':v': S('a') });
      await query('pk = :p', { ':p': N(1) });
      await query('pk = :p', { ':p': pk }, { Limit: 0 });
      await query('pk = :p AND sk BETWEEN :a AND :b', { ':p': pk, ':a': S('b'), ':b': S('a') });
      await query('pk = :p OR sk = :v', { ':p': pk, ':v': S('a') });
      await query('pk <> :p', { ':p': pk });
      await query('pk = :p AND sk = :v AND sk = :v', { ':p': pk, ':v': S('a') });
      await query('pk = :p AND begins_with(sk, :v)', { ':p': pk, ':v': N(1) });
      await query('pk = :p', { ':p': pk }, { ExclusiveStartKey: { pk: S('elsewhere'), sk: S('a') } });
      await query('pk = :p', { ':p': pk }, { ExclusiveStartKey: { pk } });
    });

    expect(kinds(outcomes)).toEqual(Array<string>(11).fill('ValidationException'));
  });

  it('stops a page after 1 MB read, as DynamoDB does', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const pk = S(`big-${id}`);
      for (let i = 0; i < 5; i++) await db.send(new PutItemCommand({ TableName: SORTED, Item: { pk, sk: S(`s${i}`), x: S('x'.repeat(300_000)) } }));
      await step(() => pages(db, { TableName: SORTED, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk }, ProjectionExpression: 'sk' }, ['sk']));
    });

    const read = okOf(outcomes[0]) as [string[][], number, number, unknown][];
    expect(read.map(([keys, count, scanned]) => [keys.flat(), count, scanned])).toEqual([[['s0', 's1', 's2', 's3'], 4, 4], [['s4'], 1, 1]]);
    expect(read[0]?.[3]).toMatchObject({ sk: S('s3') });
  });

  it('answers the alert, client and intake listings as their stores query them', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const { risk, participants, requests } = localBindings.tables;
      const severities = ['LOW', 'HIGH', 'HIGH', 'CRITICAL', 'HIGH'];
      for (const [i, severity] of severities.entries()) {
        const alert = {
          pk: S(`ALERT#${id}-${i}`),
          alertAccountId: S(`acc-${id}`),
          alertStatus: S(i === 2 ? `RESOLVED-${id}` : `OPEN-${id}`),
          alertFeed: S(`ALERT-${id}`),
          alertSeverity: S(severity),
          raisedAt: S(`2026-01-01T00:00:0${i}.000Z`),
        };
        await db.send(new PutItemCommand({ TableName: risk, Item: alert, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      }
      const alerts = (indexName: string, partitionAttribute: string, partition: string, filters: readonly [string, string, string][], startKey?: Record<string, AttributeValue>) =>
        step(async () => {
          const values: Record<string, AttributeValue> = { ':partition': S(partition) };
          for (const [, name, value] of filters) values[name] = S(value);
          const answer = await db.send(
            new QueryCommand({
              TableName: risk,
              IndexName: indexName,
              KeyConditionExpression: `${partitionAttribute} = :partition`,
              ...(filters.length > 0 ? { FilterExpression: filters.map(([expression]) => expression).join(' AND ') } : {}),
              ExpressionAttributeValues: values,
              ScanIndexForward: false,
              Limit: 100,
              ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
            }),
          );
          return (answer.Items ?? []).map((item) => item.pk?.S);
        });
      await alerts('alertsByAccount', 'alertAccountId', `acc-${id}`, [['alertSeverity = :severity', ':severity', 'HIGH'], ['alertStatus = :status', ':status', `OPEN-${id}`]]);
      await alerts('alertsByTime', 'alertFeed', `ALERT-${id}`, [['alertStatus = :status', ':status', `OPEN-${id}`], ['alertSeverity = :severity', ':severity', 'HIGH']]);
      await alerts('alertsByTime', 'alertFeed', `ALERT-${id}`, [], { pk: S(`ALERT#${id}-3`), alertFeed: S(`ALERT-${id}`), raisedAt: S('2026-01-01T00:00:03.000Z') });

      for (const [i, createdAt] of ['2026-01-03', '2026-01-01', '2026-01-02'].entries()) {
        await db.send(new PutItemCommand({ TableName: participants, Item: { pk: S(`CLIENT#${id}-${i}`), institutionId: S(`bank-${id}`), createdAt: S(createdAt) } }));
      }
      await step(() =>
        pages(
          db,
          {
            TableName: participants,
            IndexName: topology.tables.participants.globalSecondaryIndexes[0].indexName,
            KeyConditionExpression: '#institution = :institution',
            ExpressionAttributeNames: { '#institution': topology.tables.participants.globalSecondaryIndexes[0].partitionKey },
            ExpressionAttributeValues: { ':institution': S(`bank-${id}`) },
            Limit: 2,
          },
          ['pk'],
        ),
      );

      const undecided = topology.tables.requests.globalSecondaryIndexes[0];
      const shard = S(`${id}-shard`);
      for (const [i, acceptedAt] of ['2026-01-01T10:00:00.000Z', '2026-01-01T10:30:00.000Z', '2026-01-01T11:00:00.000Z', '2026-01-01T10:15:00.000Z'].entries()) {
        const item = { pk: S(`INTAKE#${id}-${i}`), entity: S('INTAKE'), [undecided.partitionKey]: shard, [undecided.sortKey]: S(acceptedAt) };
        await db.send(new PutItemCommand({ TableName: requests, Item: item, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      }
      const listUndecided = () =>
        step(() =>
          pages(
            db,
            {
              TableName: requests,
              IndexName: undecided.indexName,
              KeyConditionExpression: '#shard = :shard AND #acceptedAt < :before',
              ExpressionAttributeNames: { '#shard': undecided.partitionKey, '#acceptedAt': undecided.sortKey },
              ExpressionAttributeValues: { ':shard': shard, ':before': S('2026-01-01T11:00:00.000Z') },
              Limit: 2,
            },
            ['pk'],
          ),
        );
      const markDecided = (i: number) =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: requests,
              Key: { pk: S(`INTAKE#${id}-${i}`) },
              UpdateExpression: 'REMOVE #shard',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#shard': undecided.partitionKey },
            }),
          ),
        );
      await listUndecided();
      await markDecided(3);
      await markDecided(9);
      await listUndecided();
    });

    expect((okOf(outcomes[0]) as string[]).map((pk) => pk.slice(-1))).toEqual(['4', '1']);
    expect((okOf(outcomes[2]) as string[]).map((pk) => pk.slice(-1))).toEqual(['2', '1', '0']);
    const listed = (outcome: Outcome | undefined): string[] => (okOf(outcome) as [string[][]][]).flatMap(([keys]) => keys.flat().map((pk) => pk.slice(-1)));
    expect(kinds(outcomes).slice(4)).toEqual(['ok', 'ok', 'ConditionalCheckFailedException', 'ok']);
    expect(listed(outcomes[4])).toEqual(['0', '3', '1']);
    expect(listed(outcomes[7])).toEqual(['0', '1']);
  });

  it('scans in pages that together hold every matching item exactly once, counting items read', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = `${RUN}-scan${id}`;
      await db.send(new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
      for (let i = 0; i < 23; i++) await db.send(new PutItemCommand({ TableName: table, Item: { pk: S(`item-${i}`), entity: S(i % 3 === 0 ? 'OTHER' : 'INTAKE'), n: N(i) } }));
      await step(async () => {
        const found: string[] = [];
        let [scanned, pageCount] = [0, 0];
        let start: Record<string, AttributeValue> | undefined;
        for (; pageCount < 30; pageCount++) {
          const answer = await db.send(
            new ScanCommand({ TableName: table, FilterExpression: 'entity = :intake', ExpressionAttributeValues: { ':intake': S('INTAKE') }, Limit: 4, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }),
          );
          found.push(...(answer.Items ?? []).map((item) => item.pk?.S ?? ''));
          scanned += answer.ScannedCount ?? 0;
          start = answer.LastEvaluatedKey;
          if (start === undefined) break;
        }
        return { found: found.sort(), unique: new Set(found).size, scanned, pages: pageCount + 1 };
      });
      await step(() => db.send(new ScanCommand({ TableName: table, Select: 'COUNT' })));
      await step(() => db.send(new ScanCommand({ TableName: table, Select: 'COUNT', FilterExpression: 'n BETWEEN :a AND :b', ExpressionAttributeValues: { ':a': N(3), ':b': N(9) } })));
      await step(() => db.send(new ScanCommand({ TableName: table, Limit: 0 })));
      await db.send(new DeleteTableCommand({ TableName: table }));
    });

    expect(okOf(outcomes[0])).toMatchObject({ unique: 15, scanned: 23 });
    expect(okOf(outcomes[1])).toEqual({ Count: 23, ScannedCount: 23 });
    expect(okOf(outcomes[2])).toEqual({ Count: 7, ScannedCount: 23 });
    expect(kinds(outcomes)[3]).toBe('ValidationException');
  });

  it('reads many keys at once with a projection, absent keys simply missing (batch get)', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.ledger;
      const key = (i: number) => ({ pk: S(`ACCOUNT#batch-${id}-${i}`) });
      for (let i = 0; i < 4; i++) await db.send(new PutItemCommand({ TableName: table, Item: { ...key(i), accountId: S(`a${i}`), institutionId: S('bankA'), balanceMinor: N(i), transferId: S(`t${i}`) } }));
      const read = (keys: readonly Item[], projection?: string, extra: Record<string, unknown> = {}) =>
        step(async () => {
          const answer = await db.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [...keys], ConsistentRead: true, ...(projection !== undefined ? { ProjectionExpression: projection } : {}), ...extra } } }));
          return { found: [...(answer.Responses?.[table] ?? [])].map((item) => normalize(item)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), unprocessed: answer.UnprocessedKeys };
        });
      await read([key(0), key(1), key(7), key(2), key(3), key(9)], 'accountId, institutionId');
      await read([key(2), key(8)], 'transferId');
      await read([key(1)], '#b', { ExpressionAttributeNames: { '#b': 'balanceMinor' } });
      await read([key(9)]);
      await read([key(1), key(1)]);
      await read(Array.from({ length: 101 }, (_, i) => key(i)));
      await step(() => db.send(new BatchGetItemCommand({ RequestItems: { [`${table}-missing`]: { Keys: [key(1)] } } })));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ok', 'ok', 'ok', 'ValidationException', 'ValidationException', 'ResourceNotFoundException']);
    expect(okOf(outcomes[0])).toEqual({ found: [0, 1, 2, 3].map((i) => ({ accountId: S(`a${i}`), institutionId: S('bankA') })), unprocessed: {} });
    expect(okOf(outcomes[3])).toEqual({ found: [], unprocessed: {} });
  });

  it('reads several items as one snapshot, in request order, absent ones as empty (position shards borrowing)', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const table = localBindings.tables.ledger;
      const key = (i: number) => ({ pk: S(`POSITION_SHARD#snap-${id}#EUR#${i}`) });
      for (let i = 0; i < 3; i++) await db.send(new PutItemCommand({ TableName: table, Item: { ...key(i), headroomMinor: N(100 * i), shard: N(i) } }));
      const read = (keys: readonly Item[]) =>
        step(async () => (await db.send(new TransactGetItemsCommand({ TransactItems: keys.map((Key) => ({ Get: { TableName: table, Key } })) }))).Responses?.map((response) => normalize(response.Item ?? {})));
      await read([key(2), key(0), key(5), key(1)]);
      await read([key(1), key(1)]);
      await step(() => db.send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: `${table}-missing`, Key: key(1) } }] })));
    });

    expect(kinds(outcomes)).toEqual(['ok', 'ValidationException', 'ResourceNotFoundException']);
    expect(okOf(outcomes[0])).toEqual([
      expect.objectContaining({ headroomMinor: N(200) }),
      expect.objectContaining({ headroomMinor: N(0) }),
      {},
      expect.objectContaining({ headroomMinor: N(100) }),
    ]);
  });
});

describe('claims, marks and resolutions', () => {
  it('claims, releases, marks once and resolves an alert, and unfreezes an account, with their stores\' conditions', async () => {
    const outcomes = await differential(async (db, step, id) => {
      const { risk, ledger } = localBindings.tables;
      const alertKey = { pk: S(`ALERT#${id}`) };
      await db.send(new PutItemCommand({ TableName: risk, Item: { ...alertKey, alertStatus: S('OPEN'), entity: S('ALERT') } }));
      const claim = (now: string, until: string, key: Item = alertKey) =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: risk,
              Key: key,
              UpdateExpression: 'SET notifyClaimedUntil = :until',
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(notifiedAt) AND (attribute_not_exists(notifyClaimedUntil) OR notifyClaimedUntil < :now)',
              ExpressionAttributeValues: { ':until': S(until), ':now': S(now) },
            }),
          ),
        );
      const release = (key: Item = alertKey) =>
        step(() => db.send(new UpdateItemCommand({ TableName: risk, Key: key, UpdateExpression: 'REMOVE notifyClaimedUntil', ConditionExpression: 'attribute_exists(pk)' })));
      const setOnce = (guard: string, values: Item) =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: risk,
              Key: alertKey,
              UpdateExpression: `SET ${Object.keys(values).map((name) => `#${name} = :${name}`).join(', ')}`,
              ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(#${guard})`,
              ExpressionAttributeNames: Object.fromEntries(Object.keys(values).map((name) => [`#${name}`, name])),
              ExpressionAttributeValues: Object.fromEntries(Object.entries(values).map(([name, value]) => [`:${name}`, value])),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
      const resolve = (key: Item, note: string) =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: risk,
              Key: key,
              UpdateExpression: 'SET alertStatus = :resolved, resolution = :resolution, resolutionNote = :note, resolvedAt = :at, resolvedByRole = :role, resolvedByPrincipal = :principal',
              ConditionExpression: 'attribute_exists(pk) AND alertStatus = :open',
              ExpressionAttributeValues: {
                ':resolved': S('RESOLVED'),
                ':open': S('OPEN'),
                ':resolution': S('FALSE_POSITIVE'),
                ':note': S(note),
                ':at': S('2026-01-02T00:00:00.000Z'),
                ':role': S('analyst'),
                ':principal': S('someone'),
              },
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
      await claim('2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z');
      await claim('2026-01-01T00:00:30.000Z', '2026-01-01T00:01:30.000Z');
      await claim('2026-01-01T00:02:00.000Z', '2026-01-01T00:03:00.000Z');
      await release();
      await release({ pk: S(`ALERT#${id}-missing`) });
      await claim('2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', { pk: S(`ALERT#${id}-missing`) });
      await setOnce('notifiedAt', { notifiedAt: S('2026-01-01T00:04:00.000Z') });
      await setOnce('notifiedAt', { notifiedAt: S('2026-01-01T00:05:00.000Z') });
      await claim('2026-01-01T00:06:00.000Z', '2026-01-01T00:07:00.000Z');
      await resolve(alertKey, 'first');
      await resolve(alertKey, 'second');
      await resolve({ pk: S(`ALERT#${id}-missing`) }, 'none');

      const account = { pk: S(`ACCOUNT#${id}`) };
      await db.send(new PutItemCommand({ TableName: ledger, Item: { ...account, status: S('FROZEN'), frozenByAlertId: S(id) } }));
      const unfreeze = () =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: ledger,
              Key: account,
              UpdateExpression: 'SET #status = :active, statusChangedAt = :at, statusChangedBy = :by REMOVE frozenByAlertId',
              ConditionExpression: 'attribute_exists(pk) AND #status = :frozen',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':active': S('ACTIVE'), ':frozen': S('FROZEN'), ':at': S('2026-01-03T00:00:00.000Z'), ':by': { M: { role: S('operations'), principal: S('ops') } } },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
      await unfreeze();
      await unfreeze();
      const position = (ceiling: number) =>
        step(() =>
          db.send(
            new UpdateItemCommand({
              TableName: ledger,
              Key: { pk: S(`POSITION#${id}`) },
              UpdateExpression: 'SET entity = :entity ADD positionMinor :delta',
              ConditionExpression: 'positionMinor <= :ceiling',
              ExpressionAttributeValues: { ':entity': S('POSITION'), ':delta': N(10), ':ceiling': N(ceiling) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
      await position(-5);
      await step(() => db.send(new UpdateItemCommand({ TableName: ledger, Key: { pk: S(`POSITION#${id}`) }, UpdateExpression: 'SET backfilled = :at', ExpressionAttributeValues: { ':at': S('x') } })));
      await position(0);
    });

    expect(kinds(outcomes)).toEqual([
      'ok',
      'ConditionalCheckFailedException',
      'ok',
      'ok',
      'ConditionalCheckFailedException',
      'ConditionalCheckFailedException',
      'ok',
      'ConditionalCheckFailedException',
      'ConditionalCheckFailedException',
      'ok',
      'ConditionalCheckFailedException',
      'ConditionalCheckFailedException',
      'ok',
      'ConditionalCheckFailedException',
      'ConditionalCheckFailedException',
      'ok',
      'ConditionalCheckFailedException',
    ]);
    expect(outcomes[7]).toMatchObject({ error: { item: { notifiedAt: S('2026-01-01T00:04:00.000Z') } } });
    expect(okOf(outcomes[9])).toMatchObject({ Attributes: { alertStatus: S('RESOLVED'), resolutionNote: S('first') } });
    expect(outcomes[10]).toMatchObject({ error: { item: { resolutionNote: S('first') } } });
    expect(outcomes[11]).not.toHaveProperty('error.item');
    expect(okOf(outcomes[12])).not.toHaveProperty('Attributes.frozenByAlertId');
    expect(outcomes[13]).toMatchObject({ error: { item: { status: S('ACTIVE') } } });
  });
});

describe('adapters run unchanged', () => {
  it('answers the client store (DynamoClientStore) exactly as DynamoDB Local does', async () => {
    const ids = [newClientId(), newClientId()];
    const bank = `bank-${randomBytes(4).toString('hex')}`;
    const record = (clientId: string, createdAt: string): ApiClientRecord => ({
      clientId,
      institutionId: bank,
      channel: 'POS',
      status: 'ACTIVE',
      keys: [{ keyId: keyIdOf(clientId, 1), publicKey: 'x'.repeat(43), createdAt }],
      usageKeyId: `usage-${clientId}`,
      createdAt,
      createdBy: TEST_ACTOR,
    });
    const run = async (db: DynamoDBClient, bindings: Bindings): Promise<unknown[]> => {
      const store = new DynamoClientStore(db, bindings.tables.participants);
      const [first, second] = [record(ids[0] ?? '', '2026-01-02T00:00:00.000Z'), record(ids[1] ?? '', '2026-01-01T00:00:00.000Z')];
      return [
        await store.createClient(first),
        await store.createClient(first),
        await store.createClient(second),
        (await store.listClients(bank)).map((client) => client.clientId),
        await store.rotateKey(first.clientId, bank, { publicKey: 'y'.repeat(43), createdAt: '2026-01-03T00:00:00.000Z' }, '2026-01-04T00:00:00.000Z', TEST_ACTOR),
        await store.revokeClient(second.clientId, bank, TEST_ACTOR, '2026-01-05T00:00:00.000Z'),
        await store.revokeClient(second.clientId, bank, TEST_ACTOR, '2026-01-06T00:00:00.000Z'),
        await store.revokeClient(first.clientId, `${bank}-other`, TEST_ACTOR, '2026-01-06T00:00:00.000Z'),
        await store.getClient(first.clientId),
        await store.getClient(second.clientId),
      ];
    };

    const onLocal = await run(local, localBindings);
    const onMemory = await run(memory, memoryBindings);

    expect(onMemory).toEqual(onLocal);
    expect(onLocal.slice(0, 4)).toEqual(['created', 'id-taken', 'created', [ids[1], ids[0]]]);
    expect(onLocal.slice(5, 8)).toEqual(['revoked', 'unchanged', 'not-found']);
  });
});

describe('engine only', () => {
  async function createTable(db: DynamoDBClient, name: string, ttlAttribute?: string): Promise<void> {
    await db.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'g', AttributeType: 'S' },
          { AttributeName: 'at', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byG',
            KeySchema: [
              { AttributeName: 'g', KeyType: 'HASH' },
              { AttributeName: 'at', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    if (ttlAttribute !== undefined) await db.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }));
  }

  /** A yield point that holds every transaction until released. */
  function gate(): { readonly yieldPoint: () => Promise<void>; readonly release: () => void } {
    let release = (): void => undefined;
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    return { yieldPoint: () => opened, release: () => release() };
  }

  const set = (name: string, value: number): TransactWriteItem => ({
    Update: { TableName: 'held', Key: { pk: S(name) }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': N(value) } },
  });

  it('holds a transaction\'s items from its start to its commit: other writers meet TransactionConflict, readers the committed state', async () => {
    const { yieldPoint, release } = gate();
    const engine = new MemoryDynamoDB({ yieldPoint });
    const db = asDynamoDBClient(engine);
    await createTable(db, 'held');
    for (const name of ['a', 'b', 'c']) await db.send(new PutItemCommand({ TableName: 'held', Item: { pk: S(name), v: N(1) } }));

    const first = db.send(new TransactWriteItemsCommand({ TransactItems: [set('a', 2), set('b', 2)] }));
    const second = await attempt(() => db.send(new TransactWriteItemsCommand({ TransactItems: [set('c', 3), set('b', 3)] })));
    const single = await attempt(() => db.send(new PutItemCommand({ TableName: 'held', Item: { pk: S('a'), v: N(4) } })));
    const update = await attempt(() => db.send(new UpdateItemCommand({ TableName: 'held', Key: { pk: S('b') }, UpdateExpression: 'REMOVE v' })));
    const elsewhere = await attempt(() => db.send(new PutItemCommand({ TableName: 'held', Item: { pk: S('c'), v: N(5) } })));
    const during = await db.send(new GetItemCommand({ TableName: 'held', Key: { pk: S('a') } }));
    release();
    await first;
    const after = await db.send(new BatchGetItemCommand({ RequestItems: { held: { Keys: ['a', 'b', 'c'].map((name) => ({ pk: S(name) })) } } }));
    const again = await attempt(() => db.send(new TransactWriteItemsCommand({ TransactItems: [set('b', 6)] })));

    expect(second).toEqual({
      error: {
        class: 'TransactionCanceledException',
        name: 'TransactionCanceledException',
        service: true,
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
        reasons: [{ code: 'None' }, { code: 'TransactionConflict' }],
      },
    });
    expect(single).toMatchObject({ error: { class: 'TransactionConflictException', name: 'TransactionConflictException' } });
    expect(update).toMatchObject({ error: { class: 'TransactionConflictException' } });
    expect(elsewhere).toEqual({ ok: {} });
    expect(during.Item).toEqual({ pk: S('a'), v: N(1) });
    expect(normalize(after.Responses?.held?.sort((x, y) => String(x.pk?.S).localeCompare(String(y.pk?.S))))).toEqual([
      { pk: S('a'), v: N(2) },
      { pk: S('b'), v: N(2) },
      { pk: S('c'), v: N(5) },
    ]);
    expect(again).toMatchObject({ ok: {} });
  });

  it('cancels a snapshot read of an item a transaction holds with TransactionConflict, as DynamoDB does', async () => {
    const { yieldPoint, release } = gate();
    const engine = new MemoryDynamoDB({ yieldPoint });
    const db = asDynamoDBClient(engine);
    await createTable(db, 'snapshots');
    for (const name of ['a', 'b']) await db.send(new PutItemCommand({ TableName: 'snapshots', Item: { pk: S(name), v: N(1) } }));

    const writing = db.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'snapshots', Item: { pk: S('b'), v: N(2) } } }] }));
    const during = await attempt(() => db.send(new TransactGetItemsCommand({ TransactItems: ['a', 'b'].map((name) => ({ Get: { TableName: 'snapshots', Key: { pk: S(name) } } })) })));
    release();
    await writing;
    const after = await db.send(new TransactGetItemsCommand({ TransactItems: ['a', 'b'].map((name) => ({ Get: { TableName: 'snapshots', Key: { pk: S(name) } } })) }));

    expect(during).toMatchObject({ error: { class: 'TransactionCanceledException', reasons: [{ code: 'None' }, { code: 'TransactionConflict' }] } });
    expect(after.Responses?.map((response) => response.Item)).toEqual([{ pk: S('a'), v: N(1) }, { pk: S('b'), v: N(2) }]);
  });

  it('evaluates a transaction\'s conditions against the state at its commit, not at its start', async () => {
    const { yieldPoint, release } = gate();
    const engine = new MemoryDynamoDB({ yieldPoint, now: () => 10_000_000 });
    const db = asDynamoDBClient(engine);
    await createTable(db, 'held', 'expiresAt');
    await db.send(new PutItemCommand({ TableName: 'held', Item: { pk: S('marker'), expiresAt: N(5_000) } }));

    const pending = attempt(() =>
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { ConditionCheck: { TableName: 'held', Key: { pk: S('marker') }, ConditionExpression: 'attribute_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
            { Put: { TableName: 'held', Item: { pk: S('effect') } } },
          ],
        }),
      ),
    );
    const expired = engine.expireItems();
    release();
    const outcome = await pending;

    expect(expired).toBe(1);
    expect(outcome).toMatchObject({ error: { name: 'TransactionCanceledException', reasons: [{ code: 'ConditionalCheckFailed' }, { code: 'None' }] } });
    expect(engine.snapshot('held')).toEqual([]);
  });

  it('throws what the fault hook returns, changing nothing, and counts every request', async () => {
    const seen: FaultRequest[] = [];
    const engine = new MemoryDynamoDB({
      faults: (request) => {
        seen.push(request);
        if (request.operation === 'PutItem' && request.keys.includes('faulty/k1')) return throttlingError();
        if (request.operation === 'TransactWriteItems') return transactionConflict(request.keys.length, 1);
        if (request.operation === 'Query') return internalServerError();
        return undefined;
      },
    });
    const db = asDynamoDBClient(engine);
    await createTable(db, 'faulty');

    const throttled = await attempt(() => db.send(new PutItemCommand({ TableName: 'faulty', Item: { pk: S('k1') } })));
    const fine = await attempt(() => db.send(new PutItemCommand({ TableName: 'faulty', Item: { pk: S('k2') } })));
    const conflicted = await attempt(() =>
      db.send(new TransactWriteItemsCommand({ TransactItems: ['k3', 'k4'].map((name) => ({ Put: { TableName: 'faulty', Item: { pk: S(name) } } })) })),
    );
    const broken = await db.send(new QueryCommand({ TableName: 'faulty', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': S('k2') } })).catch((error: unknown) => error);

    expect(throttled).toMatchObject({ error: { class: 'ProvisionedThroughputExceededException', service: true } });
    expect(fine).toEqual({ ok: {} });
    expect(conflicted).toMatchObject({ error: { name: 'TransactionCanceledException', reasons: [{ code: 'None' }, { code: 'TransactionConflict' }] } });
    expect(broken).toBeInstanceOf(InternalServerError);
    expect(broken).toMatchObject({ name: 'InternalServerError', $fault: 'server' });
    expect(engine.snapshot('faulty')).toEqual([{ pk: S('k2') }]);
    expect(seen[0]).toEqual({ operation: 'CreateTable', tableNames: ['faulty'], keys: [] });
    expect(seen.find((request) => request.operation === 'TransactWriteItems')).toEqual({ operation: 'TransactWriteItems', tableNames: ['faulty'], keys: ['faulty/k3', 'faulty/k4'] });
    expect(engine.requestCount).toMatchObject({ CreateTable: 1, PutItem: 2, TransactWriteItems: 1, Query: 1, GetItem: 0 });
    expect(throttlingError()).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(transactionConflict(1, 0)).toBeInstanceOf(TransactionCanceledException);
    expect(() => transactionConflict(2, 2)).toThrow(/conflictedIndex/);
  });

  it('expires nothing by itself; expireItems removes items whose TTL is past from the table and its indexes', async () => {
    const engine = new MemoryDynamoDB({ now: () => 5_000_000 });
    const db = asDynamoDBClient(engine);
    await createTable(db, 'timed', 'expiresAt');
    await createTable(db, 'untimed');
    const items: Item[] = [
      { pk: S('past'), g: S('G'), at: S('1'), expiresAt: N(4_000) },
      { pk: S('future'), g: S('G'), at: S('2'), expiresAt: N(6_000) },
      { pk: S('text'), g: S('G'), at: S('3'), expiresAt: S('1') },
      { pk: S('none'), g: S('G'), at: S('4') },
    ];
    for (const item of items) {
      await db.send(new PutItemCommand({ TableName: 'timed', Item: item }));
      await db.send(new PutItemCommand({ TableName: 'untimed', Item: item }));
    }
    const indexed = async (): Promise<(string | undefined)[]> =>
      ((await db.send(new QueryCommand({ TableName: 'timed', IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': S('G') } }))).Items ?? []).map((item) => item.pk?.S);

    const before = await indexed();
    const first = engine.expireItems();
    const afterFirst = await indexed();
    const second = engine.expireItems(7_000);

    expect(before).toEqual(['past', 'future', 'text', 'none']);
    expect(first).toBe(1);
    expect(afterFirst).toEqual(['future', 'text', 'none']);
    expect(second).toBe(1);
    expect(engine.snapshot('timed').map((item) => item.pk?.S)).toEqual(['none', 'text']);
    expect(engine.snapshot('untimed')).toHaveLength(4);
  });

  it('keeps its state apart from callers: items go in and come out as copies', async () => {
    const engine = new MemoryDynamoDB();
    const db = asDynamoDBClient(engine);
    await createTable(db, 'copies');
    const item: Item = { pk: S('a'), doc: { M: { n: N(1) } }, seq: { L: [S('x')] }, tags: { SS: ['t'] } };

    await db.send(new PutItemCommand({ TableName: 'copies', Item: item }));
    item.doc = S('changed');
    const read = await db.send(new GetItemCommand({ TableName: 'copies', Key: { pk: S('a') } }));
    read.Item?.seq?.L?.push(S('added'));
    const snapshot = engine.snapshot('copies');
    snapshot[0]?.tags?.SS?.push('u');
    const failed = await db
      .send(new PutItemCommand({ TableName: 'copies', Item: { pk: S('a') }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }))
      .then(() => undefined, (error: unknown) => (error as { Item?: Item }).Item);
    if (failed?.doc?.M !== undefined) failed.doc.M.n = N(99);
    const again = await db.send(new GetItemCommand({ TableName: 'copies', Key: { pk: S('a') } }));

    expect(again.Item).toEqual({ pk: S('a'), doc: { M: { n: N(1) } }, seq: { L: [S('x')] }, tags: { SS: ['t'] } });
  });

  it('scans in the same order whatever the order items were written in', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `item-${i}`);
    const scanned = async (order: readonly string[]): Promise<unknown> => {
      const db = asDynamoDBClient(new MemoryDynamoDB());
      await createTable(db, 'scanned');
      for (const name of order) await db.send(new PutItemCommand({ TableName: 'scanned', Item: { pk: S(name) } }));
      const pagesRead: unknown[] = [];
      let start: Record<string, AttributeValue> | undefined;
      for (let page = 0; page < 20; page++) {
        const answer = await db.send(new ScanCommand({ TableName: 'scanned', Limit: 7, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }));
        pagesRead.push((answer.Items ?? []).map((item) => item.pk?.S));
        start = answer.LastEvaluatedKey;
        if (start === undefined) break;
      }
      return pagesRead;
    };

    const forward = await scanned(names);
    const backward = await scanned([...names].reverse());

    expect(backward).toEqual(forward);
    expect((forward as string[][]).flat().sort()).toEqual([...names].sort());
    expect((forward as string[][]).flat()).not.toEqual(names);
  });

  it('refuses what it does not model, loudly', async () => {
    const db = asDynamoDBClient(new MemoryDynamoDB());
    await createTable(db, 'limits');

    const batchWrite = db.send(new BatchWriteItemCommand({ RequestItems: { limits: [{ PutRequest: { Item: { pk: S('a') } } }] } }));
    const legacy = db.send(new PutItemCommand({ TableName: 'limits', Item: { pk: S('a') }, Expected: { pk: { Exists: false } } }));
    const keysOnly = db.send(
      new CreateTableCommand({
        TableName: 'keysonly',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [{ IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      }),
    );

    await expect(batchWrite).rejects.toThrow(MemoryDynamoDBUnsupportedError);
    await expect(legacy).rejects.toThrow(/legacy parameters Expected/);
    await expect(keysOnly).rejects.toThrow(/ProjectionType ALL/);
  });
});
