// Records what the real handlers ask of DynamoDB, SNS and SQS during a capacity run. The clients
// the simulator's pipeline hands the handlers are the in-memory services themselves (cast to the
// SDK client types, with no middleware stack), so the recorder wraps their `send`: every request
// is counted by service and operation and, for DynamoDB, every item read or written is sized by
// DynamoDB's published rules (lib/capacity/sizing.ts) from its full old and new images. The old
// image comes from the recorder's own copy of every item written since the tables were made (all
// writes pass through it); the new image of an update is read back from the engine, uncounted.
// It also times Lambda invocations: a handler's billed duration is its measured in-process time
// outside service calls plus the modelled latency of its requests along its critical path.
import {
  GetItemCommand,
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchWriteItemCommandInput,
  type DeleteItemCommandInput,
  type GetItemCommandInput,
  type PutItemCommandInput,
  type QueryCommandInput,
  type TransactGetItemsCommandInput,
  type TransactWriteItemsCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { MessageAttributeValue as SnsAttribute, PublishCommandInput } from '@aws-sdk/client-sns';
import type { Message, SendMessageBatchCommandInput, SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { topology, type HandlerName, type TableName } from '../../contract/topology.js';
import type { Bindings } from '../local/provision.js';
import type { SimulatedPipeline } from '../dst/pipeline.js';
import { DEFAULT_SERVICE_LATENCY_MS, SERVICE_LATENCY_MS } from './assumptions.js';
import { PRICES } from './prices.js';
import { itemBytes, readUnits, utf8Bytes, writeUnits, type Item, type ReadConsistency } from './sizing.js';
import { hotKeyOf, itemKindOf, Tally } from './tally.js';

export type Phase = 'setup' | 'transfers' | 'settlement' | 'sweep';

type Send = (command: object, options?: unknown) => Promise<unknown>;

/** A Lambda invocation in progress: its modelled clock and its time inside service calls. */
interface Invocation {
  /** Modelled latency elapsed along the critical path so far (ms). */
  clockMs: number;
  /** Measured wall time while at least one service call was pending (ms). */
  serviceMs: number;
  pending: number;
  pendingSince: number;
}

/** What a write did to one item, as the recorder saw it. */
interface WriteOutcome {
  readonly table: TableName;
  readonly key: Item;
  readonly before: Item | undefined;
  readonly after: Item | undefined;
  readonly transactional: boolean;
  readonly committed: boolean;
}

export class Recorder {
  phase: Phase = 'setup';
  readonly #tallies = new Map<Phase, Tally>();
  readonly #tableOf: ReadonlyMap<string, TableName>;
  readonly #physicalOf: Readonly<Record<TableName, string>>;
  #invocation: Invocation | undefined;
  /** The engine's own send, unwrapped: for reading back what an update made of an item. */
  #rawDynamoDB: Send | undefined;
  /** Every item as last written, by table and partition key: the old image of the next write. */
  readonly #images = new Map<string, Item>();

  constructor(bindings: Bindings) {
    this.#tableOf = new Map(Object.entries(bindings.tables).map(([logical, physical]) => [physical, logical as TableName]));
    this.#physicalOf = bindings.tables;
  }

  tally(phase: Phase = this.phase): Tally {
    let tally = this.#tallies.get(phase);
    if (tally === undefined) {
      tally = new Tally();
      this.#tallies.set(phase, tally);
    }
    return tally;
  }

  /** Wraps the pipeline's in-memory DynamoDB, SNS and SQS: every runtime built from it sends through these. */
  instrument(pipeline: Pick<SimulatedPipeline, 'dynamodb' | 'messaging'>): void {
    const engine = pipeline.dynamodb;
    const dynamodb: Send = engine.send.bind(engine);
    this.#rawDynamoDB = dynamodb;
    // Each wrapper forwards the very command (and options) it was given and returns the service's
    // own answer, so the answer has the type the caller's command promises. Hence the casts: the
    // engine answers `object`, and the fabric's clients' `send` is generic over command types.
    engine.send = (command) => this.#timed('DynamoDB', command, () => this.#dynamodb(dynamodb, command)) as Promise<object>;
    const sns = pipeline.messaging.sns;
    const snsSend = sns.send.bind(sns) as unknown as Send;
    sns.send = ((command: object, options?: unknown) => this.#timed('SNS', command, () => this.#sns(snsSend, command, options))) as typeof sns.send;
    const sqs = pipeline.messaging.sqs;
    const sqsSend = sqs.send.bind(sqs) as unknown as Send;
    sqs.send = ((command: object, options?: unknown) => this.#timed('SQS', command, () => this.#sqs(sqsSend, command, options))) as typeof sqs.send;
  }

  /** Runs one Lambda invocation of `handler` (API request, queue batch or schedule) and bills it. */
  async invoke<T>(handler: HandlerName, records: number, work: () => Promise<T>): Promise<T> {
    const outer = this.#invocation;
    const invocation: Invocation = { clockMs: 0, serviceMs: 0, pending: 0, pendingSince: 0 };
    this.#invocation = invocation;
    const started = performance.now();
    try {
      return await work();
    } finally {
      const wallMs = performance.now() - started;
      this.#invocation = outer;
      const cpuMs = Math.max(0, wallMs - invocation.serviceMs);
      const load = this.tally().invocation(handler);
      load.invocations++;
      load.records += records;
      load.cpuMs += cpuMs;
      load.latencyMs += invocation.clockMs;
      // Lambda bills in whole milliseconds, rounded up, at least 1.
      load.billedMs += Math.max(1, Math.ceil(cpuMs + invocation.clockMs));
    }
  }

  /** One API Gateway request (the API handler's invocation is billed by invoke()). */
  apiCall(): void {
    this.tally().apiCalls++;
  }

  /** Times a request: inside an invocation, its modelled latency moves the clock along the critical path. */
  async #timed(service: string, command: object, run: () => Promise<unknown>): Promise<unknown> {
    const request = `${service} ${operationOf(command)}`;
    const invocation = this.#invocation;
    if (invocation === undefined) return run();
    const startsAt = invocation.clockMs;
    if (invocation.pending++ === 0) invocation.pendingSince = performance.now();
    try {
      return await run();
    } finally {
      if (--invocation.pending === 0) invocation.serviceMs += performance.now() - invocation.pendingSince;
      // Requests made concurrently start at the same modelled time; the clock ends at the latest.
      invocation.clockMs = Math.max(invocation.clockMs, startsAt + (SERVICE_LATENCY_MS[request] ?? DEFAULT_SERVICE_LATENCY_MS));
    }
  }

  // --- DynamoDB ----------------------------------------------------------------------------------

  async #dynamodb(send: Send, command: object): Promise<unknown> {
    const operation = operationOf(command);
    const tally = this.tally();
    tally.count(`DynamoDB ${operation}`);
    const input = inputOf(command);
    switch (operation) {
      case 'GetItem': {
        const get = input as GetItemCommandInput;
        const output = (await send(command)) as { Item?: Item };
        const table = this.#table(get.TableName);
        const full = get.ProjectionExpression === undefined ? output.Item : this.#stored(table, get.Key);
        this.#read(tally, table, get.Key, [full], get.ConsistentRead === true ? 'strong' : 'eventual', 'per-item');
        return output;
      }
      case 'BatchGetItem': {
        const batch = input as BatchGetItemCommandInput;
        const output = (await send(command)) as { UnprocessedKeys?: Record<string, { Keys?: Item[] }> };
        for (const [tableName, request] of Object.entries(batch.RequestItems ?? {})) {
          const table = this.#table(tableName);
          const unprocessed = new Set((output.UnprocessedKeys?.[tableName]?.Keys ?? []).map((key) => JSON.stringify(key)));
          // Each key is billed as its own GetItem (rounded up separately), found or not.
          for (const key of request.Keys ?? []) {
            if (unprocessed.has(JSON.stringify(key))) continue;
            this.#read(tally, table, key, [this.#stored(table, key)], request.ConsistentRead === true ? 'strong' : 'eventual', 'per-item');
          }
        }
        return output;
      }
      case 'Query':
      case 'Scan': {
        const query = input as QueryCommandInput;
        const output = (await send(command)) as { Items?: Item[] };
        const table = this.#table(query.TableName);
        const partitionKey = topology.tables[table].partitionKey;
        // A Query is billed on the summed size of the items it read, rounded up once. An index
        // projects every attribute here, so an entry is as large as its item.
        const items = (output.Items ?? []).map((item) => (query.ProjectionExpression === undefined ? item : this.#stored(table, { [partitionKey]: item[partitionKey] ?? { S: '' } })));
        const consistency: ReadConsistency = query.IndexName === undefined && query.ConsistentRead === true ? 'strong' : 'eventual';
        const where = query.IndexName === undefined ? undefined : `${table}/${query.IndexName}`;
        this.#read(tally, table, undefined, items, consistency, 'summed', where);
        return output;
      }
      case 'TransactGetItems': {
        const transact = input as TransactGetItemsCommandInput;
        const output = await send(command);
        for (const entry of transact.TransactItems ?? []) {
          if (entry.Get === undefined) continue;
          const table = this.#table(entry.Get.TableName);
          this.#read(tally, table, entry.Get.Key, [this.#stored(table, entry.Get.Key)], 'transactional', 'per-item');
        }
        return output;
      }
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem': {
        const single = input as PutItemCommandInput & UpdateItemCommandInput & DeleteItemCommandInput;
        const table = this.#table(single.TableName);
        const key = operation === 'PutItem' ? this.#keyOf(table, single.Item) : (single.Key ?? {});
        const before = this.#stored(table, key);
        try {
          const output = await send(command);
          const after = operation === 'DeleteItem' ? undefined : operation === 'PutItem' ? single.Item : await this.#image(table, key);
          this.#wrote(tally, { table, key, before, after, transactional: false, committed: true });
          return output;
        } catch (error) {
          // A write whose condition failed still consumes write units (on the item as it stands).
          this.#wrote(tally, { table, key, before, after: before, transactional: false, committed: false });
          throw error;
        }
      }
      case 'BatchWriteItem': {
        const batch = input as BatchWriteItemCommandInput;
        const writes: { table: TableName; key: Item; before: Item | undefined; after: Item | undefined }[] = [];
        for (const [tableName, requests] of Object.entries(batch.RequestItems ?? {})) {
          const table = this.#table(tableName);
          for (const request of requests) {
            const key = request.PutRequest?.Item !== undefined ? this.#keyOf(table, request.PutRequest.Item) : (request.DeleteRequest?.Key ?? {});
            writes.push({ table, key, before: this.#stored(table, key), after: request.PutRequest?.Item });
          }
        }
        const output = await send(command);
        for (const write of writes) this.#wrote(tally, { ...write, transactional: false, committed: true });
        return output;
      }
      case 'TransactWriteItems':
        return this.#transactWrite(tally, send, command, input as TransactWriteItemsCommandInput);
      default:
        // Control-plane calls (CreateTable, DescribeTable, ...): counted, never sized.
        return send(command);
    }
  }

  async #transactWrite(tally: Tally, send: Send, command: object, input: TransactWriteItemsCommandInput): Promise<unknown> {
    const entries = (input.TransactItems ?? []).map((entry) => {
      const action = entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
      const table = this.#table(action?.TableName);
      const key = entry.Put !== undefined ? this.#keyOf(table, entry.Put.Item) : (entry.Update?.Key ?? entry.Delete?.Key ?? entry.ConditionCheck?.Key ?? {});
      return { entry, table, key, before: this.#stored(table, key) };
    });
    for (const { table, key } of entries) tally.key(hotKeyOf(table, partitionValueOf(table, key))).transactions++;
    try {
      const output = await send(command);
      for (const { entry, table, key, before } of entries) {
        // A ConditionCheck is billed as a transactional write of the item it reads (and changes nothing).
        const after = entry.Delete !== undefined ? undefined : entry.Put !== undefined ? entry.Put.Item : entry.ConditionCheck !== undefined ? before : await this.#image(table, key);
        this.#wrote(tally, { table, key, before, after, transactional: true, committed: true });
      }
      return output;
    } catch (error) {
      // A cancelled transaction (a condition failed, or a conflict) has been prepared on every
      // item and committed on none: we bill the prepare, one standard write per item.
      for (const { table, key, before } of entries) this.#wrote(tally, { table, key, before, after: before, transactional: true, committed: false });
      throw error;
    }
  }

  #read(tally: Tally, table: TableName, key: Item | undefined, items: readonly (Item | undefined)[], consistency: ReadConsistency, billing: 'per-item' | 'summed', where?: string): void {
    const sizes = items.map((item) => (item === undefined ? 0 : itemBytes(item)));
    const units = billing === 'summed' ? readUnits(sizes.reduce((sum, size) => sum + size, 0), consistency) : sizes.reduce((sum, size) => sum + readUnits(size, consistency), 0);
    tally.rcu[consistency] += units;
    if (key !== undefined) {
      const partition = partitionValueOf(table, key);
      tally.key(hotKeyOf(table, partition)).rcu += units;
      tally.read(itemKindOf(table, partition), 1, units);
    } else {
      if (where !== undefined) tally.key(`${where} (query)`).rcu += units;
      tally.read(`${where ?? table} (${billing === 'summed' ? 'query' : 'read'})`, 1, units);
    }
  }

  #wrote(tally: Tally, write: WriteOutcome): void {
    const { table, key, before, after, transactional, committed } = write;
    const bytes = Math.max(before === undefined ? 0 : itemBytes(before), after === undefined ? 0 : itemBytes(after));
    const units = committed ? writeUnits(bytes, transactional) : writeUnits(bytes, false);
    if (!committed) tally.wcu.failed += units;
    else if (transactional) tally.wcu.transactional += units;
    else tally.wcu.standard += units;
    const partition = partitionValueOf(table, key);
    const load = tally.key(hotKeyOf(table, partition));
    load.wcu += units;
    load.writes++;
    const kind = tally.kind(itemKindOf(table, partition));
    kind.writes++;
    if (transactional) kind.transactionalWrites++;
    kind.bytes += bytes;
    kind.maxBytes = Math.max(kind.maxBytes, bytes);
    kind.wcu += units;
    if (!committed) return;
    const image = `${table} ${partition}`;
    if (after === undefined) this.#images.delete(image);
    else this.#images.set(image, after);
    this.#indexWrites(tally, table, before, after);
  }

  /**
   * A global secondary index is written (asynchronously, billed as standard writes on the index)
   * when an item enters it, leaves it, changes its index key (a delete and a put), or, with every
   * attribute projected, changes at all while in it. An item is in a sparse index only while it
   * has both of the index's key attributes.
   */
  #indexWrites(tally: Tally, table: TableName, before: Item | undefined, after: Item | undefined): void {
    const spec = topology.tables[table];
    const indexes = 'globalSecondaryIndexes' in spec ? spec.globalSecondaryIndexes : [];
    for (const index of indexes) {
      const entry = (item: Item | undefined) => {
        const partition = item?.[index.partitionKey]?.S;
        const sort = item?.[index.sortKey]?.S;
        return item === undefined || partition === undefined || sort === undefined ? undefined : { item, partition, sort };
      };
      const was = entry(before);
      const is = entry(after);
      const put = (target: { item: Item; partition: string }): void => {
        const units = writeUnits(itemBytes(target.item), false);
        tally.wcu.index += units;
        const load = tally.key(hotKeyOf(`${table}/${index.indexName}`, target.partition));
        load.wcu += units;
        load.writes++;
        const kind = tally.kind(`${table}/${index.indexName} (index)`);
        kind.writes++;
        kind.bytes += itemBytes(target.item);
        kind.maxBytes = Math.max(kind.maxBytes, itemBytes(target.item));
        kind.wcu += units;
      };
      if (was === undefined && is !== undefined) put(is);
      else if (was !== undefined && is === undefined) put(was);
      else if (was !== undefined && is !== undefined) {
        if (was.partition !== is.partition || was.sort !== is.sort) {
          put(was);
          put(is);
        } else if (JSON.stringify(sorted(was.item)) !== JSON.stringify(sorted(is.item))) put(is);
      }
    }
  }

  /** The item as last written (undefined when absent): the recorder sees every write. */
  #stored(table: TableName, key: Item | undefined): Item | undefined {
    return key === undefined ? undefined : this.#images.get(`${table} ${partitionValueOf(table, key)}`);
  }

  /** What an update made of the item, read back from the engine without being counted. */
  async #image(table: TableName, key: Item): Promise<Item | undefined> {
    if (this.#rawDynamoDB === undefined) return undefined;
    const output = (await this.#rawDynamoDB(new GetItemCommand({ TableName: this.#physicalOf[table], Key: key, ConsistentRead: true }))) as { Item?: Item };
    return output.Item;
  }

  #keyOf(table: TableName, item: Item | undefined): Item {
    const name = topology.tables[table].partitionKey;
    const value = item?.[name];
    return value === undefined ? {} : { [name]: value };
  }

  #table(tableName: string | undefined): TableName {
    const table = tableName === undefined ? undefined : this.#tableOf.get(tableName);
    if (table === undefined) throw new Error(`capacity recorder: unknown table ${String(tableName)}`);
    return table;
  }

  // --- SNS and SQS -------------------------------------------------------------------------------

  async #sns(send: Send, command: object, options: unknown): Promise<unknown> {
    const operation = operationOf(command);
    const tally = this.tally();
    if (operation !== 'Publish') {
      tally.count(`SNS ${operation}`);
      return send(command, options);
    }
    const publish = inputOf(command) as PublishCommandInput;
    const output = await send(command, options);
    const bytes = utf8Bytes(publish.Message ?? '') + attributeBytes(publish.MessageAttributes);
    const chunks = Math.max(1, Math.ceil(bytes / PRICES.sns.publishChunkBytes));
    if (publish.TopicArn?.endsWith('.fifo') === true) {
      tally.count('SNS Publish (FIFO)', chunks);
      tally.sns.fifoPublishes += chunks;
      tally.sns.fifoPublishBytes += bytes;
    } else {
      tally.count('SNS Publish (standard)', chunks);
      tally.sns.standardPublishes += chunks;
    }
    return output;
  }

  async #sqs(send: Send, command: object, options: unknown): Promise<unknown> {
    const operation = operationOf(command);
    const tally = this.tally();
    const input = inputOf(command);
    const output = await send(command, options);
    let bytes = 0;
    if (operation === 'ReceiveMessage') {
      for (const message of (output as { Messages?: Message[] }).Messages ?? []) {
        const size = utf8Bytes(message.Body ?? '') + attributeBytes(message.MessageAttributes);
        bytes += size;
        // A first receive is the message SNS delivered into the queue: one subscription delivery.
        if (message.Attributes?.ApproximateReceiveCount === '1') {
          tally.sns.deliveries++;
          tally.sns.deliveredBytes += size;
        }
      }
    } else if (operation === 'SendMessage') {
      const send = input as SendMessageCommandInput;
      bytes = utf8Bytes(send.MessageBody ?? '') + attributeBytes(send.MessageAttributes);
    } else if (operation === 'SendMessageBatch') {
      bytes = ((input as SendMessageBatchCommandInput).Entries ?? []).reduce((sum, entry) => sum + utf8Bytes(entry.MessageBody ?? '') + attributeBytes(entry.MessageAttributes), 0);
    }
    tally.count(`SQS ${operation}`, Math.max(1, Math.ceil(bytes / PRICES.sqs.requestChunkBytes)));
    return output;
  }
}

/** 'GetItemCommand' -> 'GetItem'. */
function operationOf(command: object): string {
  return command.constructor.name.replace(/Command$/, '');
}

function inputOf(command: object): object {
  return 'input' in command && typeof command.input === 'object' && command.input !== null ? command.input : {};
}

function partitionValueOf(table: TableName, key: Item): string {
  const value: AttributeValue | undefined = key[topology.tables[table].partitionKey];
  return value?.S ?? value?.N ?? '?';
}

/** Message attributes count towards the payload: names, data types and values. */
function attributeBytes(attributes: Readonly<Record<string, SnsAttribute | { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array }>> | undefined): number {
  return Object.entries(attributes ?? {}).reduce(
    (sum, [name, value]) => sum + utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? '') + (value.BinaryValue?.byteLength ?? 0),
    0,
  );
}

function sorted(item: Item): [string, AttributeValue][] {
  return Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
