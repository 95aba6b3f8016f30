// Turns what a capacity run recorded into AWS figures: per-transfer requests, capacity units and
// invocations; the hot partition keys with their share of the write units and their ceilings; and
// the cost per million transfers at the list prices of prices.ts. Per-window costs (close, netting,
// settlement) and per-sweep costs are spread over the transfers of REFERENCE_TRANSFERS_PER_SECOND.
import { topology, handlerNames, type HandlerName } from '../../contract/topology.js';
import {
  KMS_DATA_KEY_REUSE_SECONDS,
  KMS_ENVIRONMENTS_PER_FUNCTION,
  OPS_EMAIL_SUBSCRIBERS,
  REFERENCE_TRANSFERS_PER_SECOND,
} from './assumptions.js';
import { keyCeiling, workloadCeiling, type KeyCeiling, type WorkloadCeiling } from './ceiling.js';
import { PRICES } from './prices.js';
import type { ShapeRun } from './run.js';
import type { Tally } from './tally.js';

const GIB = 1024 ** 3;

/** USD, by line of the bill. */
export interface Cost {
  readonly apiGateway: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly sqs: number;
  readonly snsFifo: number;
  readonly snsNotifications: number;
  readonly dynamodbWrites: number;
  readonly dynamodbReads: number;
  readonly kms: number;
}

export interface ShapeFigures {
  readonly run: ShapeRun;
  /** Every key written or read in the transfer phase, hottest (by write units) first. */
  readonly keys: readonly KeyCeiling[];
  readonly ceiling: WorkloadCeiling;
  readonly totalWcuPerTransfer: number;
  /** Per million transfers: the transfer path, and the amortized window and sweep costs. */
  readonly costPerMillion: Cost;
  /** What closing, netting and settling one window costs (its share per million is settlementPerMillion). */
  readonly settlementPerWindow: number;
  readonly settlementPerMillion: number;
  /** What one recovery sweep costs (its share per million is sweepPerMillion). */
  readonly sweepCost: number;
  readonly sweepPerMillion: number;
  readonly totalPerMillion: number;
}

export function figuresOf(run: ShapeRun): ShapeFigures {
  const tally = run.transferPhase;
  const transfers = run.transfers;
  const keys = [...tally.keys]
    .map(([key, load]) => keyCeiling({ key, wcuPerTransfer: load.wcu / transfers, transactionsPerTransfer: load.transactions / transfers, rcuPerTransfer: load.rcu / transfers }))
    .sort((a, b) => b.wcuPerTransfer - a.wcuPerTransfer || b.rcuPerTransfer - a.rcuPerTransfer || (a.key < b.key ? -1 : 1));
  const ceiling = workloadCeiling(keys);
  const costPerMillion = scale(costOf(tally), 1e6 / transfers);
  const kms = kmsRequestsPerMillionTransfers() * (PRICES.kms.per10kRequests / 10_000);
  const perMillion: Cost = { ...costPerMillion, kms };
  // Time-based work, spread over the transfers made meanwhile at the reference rate.
  const transfersPerHour = REFERENCE_TRANSFERS_PER_SECOND * 3_600;
  const closeEveryMinutes = topology.handlers.settlementClose.scheduleRateMinutes;
  const perWindow = run.windowsClosed > 0 ? total(costOf(run.settlementPhase)) / run.windowsClosed : 0;
  const settlementPerMillion = (perWindow * 1e6) / (transfersPerHour * (closeEveryMinutes / 60));
  const sweepEveryMinutes = topology.handlers.recovery.scheduleRateMinutes;
  const sweepCost = total(costOf(run.sweepPhase));
  const sweepPerMillion = (sweepCost * 1e6) / (REFERENCE_TRANSFERS_PER_SECOND * sweepEveryMinutes * 60);
  return {
    run,
    keys,
    ceiling,
    totalWcuPerTransfer: tally.totalWcu / transfers,
    costPerMillion: perMillion,
    settlementPerWindow: perWindow,
    settlementPerMillion,
    sweepCost,
    sweepPerMillion,
    totalPerMillion: total(perMillion) + settlementPerMillion + sweepPerMillion,
  };
}

/** What a tally's requests cost at list prices (KMS aside: it is not per request). */
export function costOf(tally: Tally): Cost {
  let gbSeconds = 0;
  let invocations = 0;
  for (const [handler, load] of tally.lambda) {
    gbSeconds += (load.billedMs / 1_000) * (topology.handlers[handler].memorySizeMb / 1_024);
    invocations += load.invocations;
  }
  // The consumers' receives and deletes, the quarantines, and SNS putting each delivery into its
  // queue (billed to the queue as a send; counted here to stay on the safe side).
  const sqsRequests = tally.requestCount('SQS ') + tally.sns.deliveries;
  return {
    apiGateway: (tally.apiCalls * PRICES.apiGateway.restPerMillionRequests) / 1e6,
    lambdaRequests: (invocations * PRICES.lambda.perMillionRequests) / 1e6,
    lambdaDuration: gbSeconds * PRICES.lambda.arm64PerGbSecond,
    sqs: (sqsRequests * PRICES.sqs.fifoPerMillionRequests) / 1e6,
    snsFifo:
      (tally.sns.fifoPublishes * PRICES.sns.fifoPublishPerMillion) / 1e6 +
      (tally.sns.fifoPublishBytes / GIB) * PRICES.sns.fifoPublishPayloadPerGb +
      (tally.sns.deliveries * PRICES.sns.fifoDeliveryPerMillion) / 1e6 +
      (tally.sns.deliveredBytes / GIB) * PRICES.sns.fifoDeliveryPayloadPerGb,
    snsNotifications:
      (tally.sns.standardPublishes * PRICES.sns.standardPublishPerMillion) / 1e6 + (tally.sns.standardPublishes * OPS_EMAIL_SUBSCRIBERS * PRICES.sns.emailPer100k) / 1e5,
    dynamodbWrites: (tally.totalWcu * PRICES.dynamodb.perMillionWriteRequestUnits) / 1e6,
    dynamodbReads: (tally.totalRcu * PRICES.dynamodb.perMillionReadRequestUnits) / 1e6,
    kms: 0,
  };
}

/**
 * KMS requests per million transfers: one per (principal, encrypted resource) pair per data-key
 * reuse period, per execution environment (see assumptions.ts), over the time a million transfers
 * take at the reference rate.
 */
export function kmsRequestsPerMillionTransfers(): number {
  let pairs = 0;
  for (const name of handlerNames()) {
    const spec = topology.handlers[name];
    const consumes = Object.values(topology.queues).filter((queue) => queue.consumer === name).length;
    pairs += spec.tables.length + spec.publishes.length + spec.quarantinesTo.length + spec.notifies.length + consumes;
  }
  // SNS's own principal encrypting into every queue it delivers to.
  pairs += Object.keys(topology.queues).length;
  const seconds = 1e6 / REFERENCE_TRANSFERS_PER_SECOND;
  return ((pairs * KMS_ENVIRONMENTS_PER_FUNCTION) / KMS_DATA_KEY_REUSE_SECONDS) * seconds;
}

const COST_LINES = ['apiGateway', 'lambdaRequests', 'lambdaDuration', 'sqs', 'snsFifo', 'snsNotifications', 'dynamodbWrites', 'dynamodbReads', 'kms'] as const satisfies readonly (keyof Cost)[];

export function total(cost: Cost): number {
  return COST_LINES.reduce((sum, line) => sum + cost[line], 0);
}

function scale(cost: Cost, factor: number): Cost {
  const scaled: Record<keyof Cost, number> = { ...cost };
  for (const line of COST_LINES) scaled[line] = cost[line] * factor;
  return scaled;
}

/** Lambda invocations per transfer and the mean batch size of each consumer. */
export function invocationsOf(tally: Tally, transfers: number): { handler: HandlerName; perTransfer: number; meanBatch: number; meanBilledMs: number; meanCpuMs: number }[] {
  return [...tally.lambda].map(([handler, load]) => ({
    handler,
    perTransfer: load.invocations / transfers,
    meanBatch: load.records / load.invocations,
    meanBilledMs: load.billedMs / load.invocations,
    meanCpuMs: load.cpuMs / load.invocations,
  }));
}
