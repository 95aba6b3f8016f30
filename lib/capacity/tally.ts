// What one phase of a capacity run consumed, added up as the requests happen: requests by service
// and operation, DynamoDB capacity units by kind (standard, transactional, index, failed), the
// load on every partition key (table items and index partitions), SNS payloads and deliveries,
// and Lambda invocations with their billed duration. Aggregated in place, so a long run holds a
// few thousand map entries, not one record per request.
import type { HandlerName } from '../../contract/topology.js';

/** The load on one partition key over a phase. */
export interface KeyLoad {
  wcu: number;
  rcu: number;
  writes: number;
  /** TransactWriteItems attempts (committed or cancelled) that included the key. */
  transactions: number;
}

/** Item writes of one kind (ledger SETTLEMENT_WINDOW, risk COUNTER#debits-velocity, ...). */
export interface KindLoad {
  writes: number;
  transactionalWrites: number;
  /** Sum and maximum of the sizes the writes were billed on (the larger of old and new image). */
  bytes: number;
  maxBytes: number;
  wcu: number;
}

export interface InvocationLoad {
  invocations: number;
  /** SQS records handled (queue consumers), 0 for API and scheduled invocations. */
  records: number;
  /** Billed duration, whole milliseconds per invocation, summed. */
  billedMs: number;
  /** In-process time outside service calls, measured. */
  cpuMs: number;
  /** Modelled service latency along each invocation's critical path. */
  latencyMs: number;
}

export class Tally {
  /** Billable requests by 'Service Operation' (SQS and SNS count 64 KB chunks). */
  readonly requests = new Map<string, number>();
  /** `failed`: writes whose condition failed and cancelled transactions (the prepare of each item). */
  readonly wcu = { standard: 0, transactional: 0, index: 0, failed: 0 };
  readonly rcu = { eventual: 0, strong: 0, transactional: 0 };
  /** By partition key, normalized (see hotKeyOf): 'ledger SETTLEMENT_WINDOW#EUR-<open>'. */
  readonly keys = new Map<string, KeyLoad>();
  readonly kinds = new Map<string, KindLoad>();
  /** Read units by kind of item read ('risk COUNTER#debits-velocity', 'ledger ACCOUNT', ...). */
  readonly readKinds = new Map<string, { reads: number; rcu: number }>();
  readonly sns = { fifoPublishes: 0, fifoPublishBytes: 0, standardPublishes: 0, deliveries: 0, deliveredBytes: 0 };
  readonly lambda = new Map<HandlerName, InvocationLoad>();
  apiCalls = 0;

  count(request: string, units = 1): void {
    this.requests.set(request, (this.requests.get(request) ?? 0) + units);
  }

  key(name: string): KeyLoad {
    let load = this.keys.get(name);
    if (load === undefined) {
      load = { wcu: 0, rcu: 0, writes: 0, transactions: 0 };
      this.keys.set(name, load);
    }
    return load;
  }

  kind(name: string): KindLoad {
    let load = this.kinds.get(name);
    if (load === undefined) {
      load = { writes: 0, transactionalWrites: 0, bytes: 0, maxBytes: 0, wcu: 0 };
      this.kinds.set(name, load);
    }
    return load;
  }

  read(kind: string, reads: number, rcu: number): void {
    const load = this.readKinds.get(kind) ?? { reads: 0, rcu: 0 };
    load.reads += reads;
    load.rcu += rcu;
    this.readKinds.set(kind, load);
  }

  invocation(handler: HandlerName): InvocationLoad {
    let load = this.lambda.get(handler);
    if (load === undefined) {
      load = { invocations: 0, records: 0, billedMs: 0, cpuMs: 0, latencyMs: 0 };
      this.lambda.set(handler, load);
    }
    return load;
  }

  get totalWcu(): number {
    return this.wcu.standard + this.wcu.transactional + this.wcu.index + this.wcu.failed;
  }

  get totalRcu(): number {
    return this.rcu.eventual + this.rcu.strong + this.rcu.transactional;
  }

  requestCount(prefix: string): number {
    let sum = 0;
    for (const [request, count] of this.requests) if (request.startsWith(prefix)) sum += count;
    return sum;
  }
}

/**
 * The partition key as the model counts heat: a time-bucketed risk counter is one item per bucket,
 * but the current bucket takes every write of its subject, so the bucket is dropped; a settlement
 * window (and the positions in it) is one item per window, but the open one takes every interbank
 * posting, so the window sequence is dropped.
 */
export function hotKeyOf(table: string, partitionValue: string): string {
  let key = partitionValue;
  if (key.startsWith('COUNTER#')) key = key.replace(/#\d+$/, '#<bucket>');
  // Window ids are '<currency>-<sequence>' ('EUR-000000001').
  if (key.startsWith('SETTLEMENT_WINDOW#') || key.startsWith('POSITION#')) key = key.replace(/#([A-Z]{3})-\d+\b/, '#$1-<open>');
  return `${table} ${key}`;
}

/** The kind of item a partition key names: its first segment (and a risk counter's family). */
export function itemKindOf(table: string, partitionValue: string): string {
  const [first = partitionValue, second] = partitionValue.split('#');
  return `${table} ${first === 'COUNTER' && second !== undefined ? `${first}#${second}` : first}`;
}
