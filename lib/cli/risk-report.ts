// The simulator's risk figures, read back over the API once traffic has settled: alerts by
// severity and by rule, accounts frozen, what became of each fraud actor, and the latency from a
// triggering transfer's 202 to its alert being stored (the alert's storedAt, server clock; the
// 202 on this process's clock: exact on one machine, off by clock skew against a deployed stage).
import { SEVERITIES } from '../../lambdas/core/risk/severity.js';
import type { AlertView, ApiClient } from './api-client.js';
import type { FraudActor, FraudPattern } from './fraud-scenarios.js';
import { percentiles, type Percentiles } from './percentiles.js';

/** Alerts are raised after decisions; the count is taken once it stops growing. */
const SETTLE_POLL_MS = 1_000;
const SETTLE_STABLE_ROUNDS = 2;
const READ_CONCURRENCY = 8;

export interface FraudOutcome {
  readonly pattern: FraudPattern;
  readonly actors: number;
  readonly alerted: number;
  readonly frozen: number;
  /** Actors that played their whole pattern before traffic ended. */
  readonly completed: number;
  /** Completed actors of this pattern the scenario expects frozen. */
  readonly expectedFrozen: number;
}

export interface RiskSummary {
  readonly alerts: number;
  readonly bySeverity: Readonly<Record<string, number>>;
  readonly byRule: Readonly<Record<string, number>>;
  readonly accountsFrozen: number;
  /** Accounts frozen that are not fraud actors (false positives of the CRITICAL floor). */
  readonly othersFrozen: number;
  readonly fraud: readonly FraudOutcome[];
  /** HIGH and CRITICAL alerts whose notification or freeze was still missing at the end. */
  readonly actionsMissing: number;
  /** 202 of the triggering transfer to the alert stored. */
  readonly alertLatencyMs: Percentiles;
  readonly alertsTimed: number;
}

export async function collectRiskSummary(
  client: ApiClient,
  accountIds: readonly string[],
  actors: readonly FraudActor[],
  completedActors: ReadonlySet<string>,
  acceptedAtMs: ReadonlyMap<string, number>,
  settleTimeoutMs: number,
): Promise<RiskSummary> {
  const deadline = Date.now() + settleTimeoutMs;
  let alerts = await readAlerts(client, accountIds);
  for (let stable = 0; stable < SETTLE_STABLE_ROUNDS && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const again = await readAlerts(client, accountIds);
    stable = again.length === alerts.length && !again.some(awaitingAction) ? stable + 1 : 0;
    alerts = again;
  }
  const count = (keys: readonly string[]): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
    return counts;
  };
  const frozen = new Set(alerts.filter((alert) => alert.freeze?.outcome === 'FROZEN').map((alert) => alert.accountId));
  const alerted = new Set(alerts.map((alert) => alert.accountId));
  const actorIds = new Set(actors.map((actor) => actor.accountId));
  const latencies = alerts
    .map((alert) => {
      const accepted = acceptedAtMs.get(alert.transactionId);
      return accepted === undefined ? undefined : Math.max(0, Date.parse(alert.storedAt) - accepted);
    })
    .filter((latency): latency is number => latency !== undefined)
    .sort((a, b) => a - b);
  const bySeverity = count(alerts.map((alert) => alert.severity));
  return {
    alerts: alerts.length,
    bySeverity: Object.fromEntries(SEVERITIES.filter((severity) => bySeverity[severity] !== undefined).map((severity) => [severity, bySeverity[severity] ?? 0])),
    byRule: count(alerts.flatMap((alert) => alert.rulesHit.map((hit) => hit.ruleId))),
    accountsFrozen: frozen.size,
    othersFrozen: [...frozen].filter((accountId) => !actorIds.has(accountId)).length,
    fraud: [...new Set(actors.map((actor) => actor.pattern))].map((pattern) => {
      const mine = actors.filter((actor) => actor.pattern === pattern);
      return {
        pattern,
        actors: mine.length,
        alerted: mine.filter((actor) => alerted.has(actor.accountId)).length,
        frozen: mine.filter((actor) => frozen.has(actor.accountId)).length,
        completed: mine.filter((actor) => completedActors.has(actor.accountId)).length,
        expectedFrozen: mine.filter((actor) => actor.expectFrozen && completedActors.has(actor.accountId)).length,
      };
    }),
    actionsMissing: alerts.filter(awaitingAction).length,
    alertLatencyMs: percentiles(latencies),
    alertsTimed: latencies.length,
  };
}

/** A serious alert whose notification (HIGH+) or freeze attempt (CRITICAL) has not happened yet. */
function awaitingAction(alert: AlertView): boolean {
  const serious = alert.severity === 'HIGH' || alert.severity === 'CRITICAL';
  return (serious && alert.notifiedAt === undefined) || (alert.severity === 'CRITICAL' && alert.freeze === undefined);
}

async function readAlerts(client: ApiClient, accountIds: readonly string[]): Promise<AlertView[]> {
  const alerts: AlertView[] = [];
  for (let start = 0; start < accountIds.length; start += READ_CONCURRENCY) {
    const batch = accountIds.slice(start, start + READ_CONCURRENCY);
    for (const found of await Promise.all(batch.map((accountId) => client.allAlerts({ accountId })))) alerts.push(...found);
  }
  return alerts;
}

export function formatRiskSummary(risk: RiskSummary): string {
  const entries = (record: Readonly<Record<string, number>>): string =>
    Object.entries(record)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ') || 'none';
  return [
    `  alerts           ${risk.alerts} (${entries(risk.bySeverity)})`,
    `  rules hit        ${entries(risk.byRule)}`,
    `  frozen           ${risk.accountsFrozen} account(s)${risk.othersFrozen > 0 ? `, ${risk.othersFrozen} of them not fraud actors` : ''}${risk.actionsMissing > 0 ? `; ${risk.actionsMissing} SERIOUS ALERT(S) NOT ACTED ON` : ''}`,
    ...risk.fraud.map(
      (outcome) =>
        `  fraud ${outcome.pattern.padEnd(13)}${outcome.actors} actor(s), ${outcome.completed} played in full: ${outcome.alerted} alerted, ${outcome.frozen} frozen (${outcome.expectedFrozen} expected frozen)`,
    ),
    `  latency 202->alert stored  p50 ${risk.alertLatencyMs.p50} ms  p95 ${risk.alertLatencyMs.p95} ms  p99 ${risk.alertLatencyMs.p99} ms  max ${risk.alertLatencyMs.max} ms   (${risk.alertsTimed} alerts; triggering transfer's 202 to the alert stored)`,
  ].join('\n');
}
