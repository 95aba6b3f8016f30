// The faults the simulator injects in front of the simulated AWS services, each with a rate, drawn
// from the run's seed: DynamoDB throttling, internal errors and TransactionConflict (which DynamoDB
// Local never produces), SNS publish failures, and SQS calls that fail. Crashes, duplicate
// deliveries and restarts are the scheduler's and the run loop's; they are counted here too.
import { InternalErrorException } from '@aws-sdk/client-sns';
import { internalServerError, throttlingError, transactionConflict } from '../../lambdas/adapters/memory/dynamodb.js';
import type { SeededRandom } from './random.js';

export interface FaultRates {
  /** Per DynamoDB write request. */
  readonly dynamodbWrite: number;
  /** Per DynamoDB read request. */
  readonly dynamodbRead: number;
  /** Per SNS publish. */
  readonly publish: number;
  /** Per SQS request (receive, delete, send). */
  readonly sqs: number;
  /** Weight, among the run loop's actions (resuming a waiting call is 60), of killing a waiting task between two of its requests. */
  readonly crash: number;
  /** Per successful batch: its delete never happens, so it is delivered again. */
  readonly duplicateDelivery: number;
  /** Per scheduler step: the whole runtime restarts, losing every queue. */
  readonly restart: number;
}

export const DEFAULT_FAULT_RATES: FaultRates = {
  dynamodbWrite: 0.01,
  dynamodbRead: 0.005,
  publish: 0.01,
  sqs: 0.005,
  crash: 0.25,
  duplicateDelivery: 0.02,
  restart: 0.0001,
};

export type FaultKind = 'throttle' | 'internal' | 'conflict' | 'publish' | 'sqs' | 'crash' | 'duplicate' | 'restart';

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

export class Faults {
  /** Off while the world is set up and once the run heals to check that it converges. */
  enabled = false;
  readonly counts: Record<FaultKind, number> = { throttle: 0, internal: 0, conflict: 0, publish: 0, sqs: 0, crash: 0, duplicate: 0, restart: 0 };
  readonly #random: SeededRandom;
  readonly #rates: FaultRates;

  constructor(random: SeededRandom, rates: FaultRates) {
    this.#random = random;
    this.#rates = rates;
  }

  get rates(): FaultRates {
    return this.#rates;
  }

  get total(): number {
    return Object.values(this.counts).reduce((sum, count) => sum + count, 0);
  }

  /** A fault the run loop draws (a skipped delete, a restart), when enabled. */
  draw(kind: 'duplicate' | 'restart'): boolean {
    if (!this.enabled) return false;
    const rate = kind === 'duplicate' ? this.#rates.duplicateDelivery : this.#rates.restart;
    if (!this.#random.chance(rate)) return false;
    this.counts[kind]++;
    return true;
  }

  dynamodb(request: { readonly operation: string; readonly keys: readonly string[] }): Error | undefined {
    if (!this.enabled) return undefined;
    const write = WRITES.has(request.operation);
    if (!this.#random.chance(write ? this.#rates.dynamodbWrite : this.#rates.dynamodbRead)) return undefined;
    if (request.operation === 'TransactWriteItems' && this.#random.chance(0.6)) {
      this.counts.conflict++;
      return transactionConflict(Math.max(1, request.keys.length), this.#random.int(Math.max(1, request.keys.length)));
    }
    if (this.#random.chance(0.8)) {
      this.counts.throttle++;
      return throttlingError();
    }
    this.counts.internal++;
    return internalServerError();
  }

  messaging(request: { readonly service: 'sns' | 'sqs'; readonly operation: string }): Error | undefined {
    if (!this.enabled) return undefined;
    if (request.service === 'sns' && request.operation === 'Publish') {
      if (!this.#random.chance(this.#rates.publish)) return undefined;
      this.counts.publish++;
      return new InternalErrorException({ message: 'simulated SNS failure', $metadata: {} });
    }
    if (request.service !== 'sqs' || !this.#random.chance(this.#rates.sqs)) return undefined;
    this.counts.sqs++;
    return Object.assign(new Error('simulated SQS failure'), { name: 'InternalError' });
  }
}
