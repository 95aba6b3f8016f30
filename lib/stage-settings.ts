// Per-stage operational settings in one place: consumer concurrency caps, every function's
// reserved concurrency, the WAF's per-IP rate limit (lib/constructs/web-acl.ts), and every alarm
// threshold (lib/constructs/monitoring.ts reads them).
// docs/OPERATIONS.md "## Alarms" explains each alarm; change a threshold here, not in the construct.
import type { QueueName } from '../contract/topology.js';

/** The stages a stack is deployed as; each has its settings below. */
export type DeploymentStage = 'dev' | 'staging' | 'prod';

/** Thresholds of the alarms; a count is per evaluation period (5 minutes) unless its name says otherwise. */
export interface AlarmThresholds {
  /** Age of the oldest message in a work queue: a stuck message group or a consumer that is down. */
  readonly queueOldestMessageAgeSeconds: number;
  /** Function errors (unhandled: the invocation failed) per period, per function. */
  readonly functionErrors: number;
  /** Function throttles per period, per function. */
  readonly functionThrottles: number;
  /** Share of API requests answered 5xx in a period, in percent. */
  readonly apiServerErrorPercent: number;
  /** Below this many requests in a period the 5xx share is not judged (one 5xx of three is not an outage). */
  readonly apiServerErrorRequestsMin: number;
  /** API Gateway's p99 latency (request in to response out), in milliseconds. */
  readonly apiLatencyP99Ms: number;
  /** DynamoDB read plus write throttle events per period, per table. */
  readonly tableThrottleEvents: number;
  /** DynamoDB SystemErrors (HTTP 500 from DynamoDB) per period, per table. */
  readonly tableSystemErrors: number;
  /**
   * TransactionConflict per period, per table. Some are normal (two transfers of one account in
   * the same instant; the store retries them); a sustained rate means a hot item.
   */
  readonly tableTransactionConflicts: number;
  /** Accepted requests the recovery sweep found undecided past its grace period (RecoveryBacklog). */
  readonly recoveryBacklogRequests: number;
  /** How long the oldest undecided accepted request has waited, in seconds (RecoveryLag). */
  readonly recoveryLagSeconds: number;
  /**
   * Consecutive scheduled closes that found a closed window still unsettled and re-announced it
   * (SettlementWindowsUnsettled): with the settlement rate, how long "unsettled for too long" is.
   */
  readonly settlementUnsettledRuns: number;
  /**
   * How long a closed window may wait to settle, in seconds (SettlementOldestUnsettledAgeSeconds):
   * netting, issuing and the settlement bank's confirmations together. Set it from the bank's
   * settlement cycle: a confirmation later than this is chased.
   */
  readonly settlementOverdueSeconds: number;
}

/** The web ACL in front of the API stage (docs/OPERATIONS.md "## WAF"). */
export interface WafSettings {
  /**
   * Requests one source IP may send in `rateWindowSeconds` before the rate-based rule blocks it
   * (429) until its rate falls below the limit again. Several API clients may share one egress
   * IP (a bank's NAT), so this sits well above one client's usage-plan rate times the window.
   */
  readonly rateLimitPerIp: number;
  /** WAF's evaluation window for the rate: 60, 120, 300 or 600 seconds. */
  readonly rateWindowSeconds: 60 | 120 | 300 | 600;
}

/** WAF refuses a rate-based limit outside 10..2,000,000,000. */
export const WAF_RATE_LIMIT_MIN = 10;
export const WAF_RATE_LIMIT_MAX = 2_000_000_000;

export interface OperationalSettings {
  /** Reserved concurrency of the api function: the consumers can never starve it, nor it them. */
  readonly apiReservedConcurrency: number;
  /**
   * ScalingConfig.MaximumConcurrency of each queue's event source (2..1000). A FIFO queue never
   * runs more batches at once than it has message groups in flight; this caps the rest.
   */
  readonly queueMaxConcurrency: Readonly<Record<QueueName, number>>;
  /**
   * Reserved concurrency of each scheduled function (recovery sweep, settlement close). One run
   * per schedule tick is the need; the second slot lets a slow run overlap the next tick instead
   * of throttling it into the schedule's retries.
   */
  readonly scheduledReservedConcurrency: number;
  readonly waf: WafSettings;
  readonly alarms: AlarmThresholds;
}

/** Lambda refuses maximumConcurrency outside 2..1000 on an SQS event source. */
export const SQS_MAX_CONCURRENCY_MIN = 2;
export const SQS_MAX_CONCURRENCY_MAX = 1_000;

export const STAGE_SETTINGS: Readonly<Record<DeploymentStage, OperationalSettings>> = {
  dev: {
    apiReservedConcurrency: 10,
    queueMaxConcurrency: { posting: 2, screening: 2, alerts: 2, settlements: 2 },
    scheduledReservedConcurrency: 2,
    // A dev client may send 5/s (1,500 per 5 minutes); twice that per IP leaves a shared office
    // IP room for two clients at full rate.
    waf: { rateLimitPerIp: 3_000, rateWindowSeconds: 300 },
    alarms: {
      queueOldestMessageAgeSeconds: 3_600,
      functionErrors: 5,
      functionThrottles: 5,
      apiServerErrorPercent: 5,
      apiServerErrorRequestsMin: 20,
      apiLatencyP99Ms: 3_000,
      tableThrottleEvents: 50,
      tableSystemErrors: 5,
      tableTransactionConflicts: 500,
      recoveryBacklogRequests: 1_000,
      recoveryLagSeconds: 3_600,
      settlementUnsettledRuns: 3,
      settlementOverdueSeconds: 86_400,
    },
  },
  staging: {
    apiReservedConcurrency: 100,
    queueMaxConcurrency: { posting: 20, screening: 20, alerts: 5, settlements: 5 },
    scheduledReservedConcurrency: 2,
    // A client may send 100/s (30,000 per 5 minutes): one IP gets two clients' worth.
    waf: { rateLimitPerIp: 60_000, rateWindowSeconds: 300 },
    alarms: {
      queueOldestMessageAgeSeconds: 900,
      functionErrors: 1,
      functionThrottles: 1,
      apiServerErrorPercent: 1,
      apiServerErrorRequestsMin: 20,
      apiLatencyP99Ms: 2_000,
      tableThrottleEvents: 10,
      tableSystemErrors: 1,
      tableTransactionConflicts: 500,
      recoveryBacklogRequests: 100,
      recoveryLagSeconds: 900,
      settlementUnsettledRuns: 2,
      settlementOverdueSeconds: 28_800,
    },
  },
  prod: {
    // About 1,000 requests/s at some 100 ms each is 100 at once; 300 leaves room for a burst
    // while the consumers below (180 together) keep the rest of a 1,000 account quota.
    apiReservedConcurrency: 300,
    queueMaxConcurrency: { posting: 100, screening: 50, alerts: 15, settlements: 15 },
    scheduledReservedConcurrency: 2,
    // Two clients' worth per IP (2 x 100/s x 300 s); the stage throttle (1,000/s) stays the
    // bound for all of them together, this stops one address from taking it all.
    waf: { rateLimitPerIp: 60_000, rateWindowSeconds: 300 },
    alarms: {
      queueOldestMessageAgeSeconds: 300,
      functionErrors: 1,
      functionThrottles: 1,
      apiServerErrorPercent: 1,
      apiServerErrorRequestsMin: 20,
      apiLatencyP99Ms: 1_000,
      tableThrottleEvents: 10,
      tableSystemErrors: 1,
      tableTransactionConflicts: 1_000,
      recoveryBacklogRequests: 100,
      recoveryLagSeconds: 600,
      settlementUnsettledRuns: 2,
      settlementOverdueSeconds: 14_400,
    },
  },
};

export function operationalSettings(stage: DeploymentStage): OperationalSettings {
  const settings = STAGE_SETTINGS[stage];
  for (const [queue, cap] of Object.entries(settings.queueMaxConcurrency)) {
    if (!Number.isInteger(cap) || cap < SQS_MAX_CONCURRENCY_MIN || cap > SQS_MAX_CONCURRENCY_MAX) {
      throw new Error(`${stage}: maximum concurrency of queue ${queue} must be a whole number in ${SQS_MAX_CONCURRENCY_MIN}..${SQS_MAX_CONCURRENCY_MAX}, got ${cap}`);
    }
  }
  const { rateLimitPerIp } = settings.waf;
  if (!Number.isInteger(rateLimitPerIp) || rateLimitPerIp < WAF_RATE_LIMIT_MIN || rateLimitPerIp > WAF_RATE_LIMIT_MAX) {
    throw new Error(`${stage}: the WAF rate limit per IP must be a whole number in ${WAF_RATE_LIMIT_MIN}..${WAF_RATE_LIMIT_MAX}, got ${rateLimitPerIp}`);
  }
  return settings;
}
