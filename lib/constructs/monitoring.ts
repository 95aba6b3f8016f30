// The backbone's alarms and its one dashboard. Every alarm notifies one SNS topic (operations);
// every threshold comes from lib/stage-settings.ts; docs/OPERATIONS.md "## Alarms" says what each
// one means and what to do. Custom metrics are the handlers' Powertools EMF metrics: namespace
// PaymentsBackbone, dimension `service` (the handler's POWERTOOLS_SERVICE_NAME), plus
// `rejectionReason` on TransfersRejected.
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../contract/topology.js';
import { pascalCase } from '../construct-ids.js';
import type { AlarmThresholds } from '../stage-settings.js';

/** The period most alarms judge; the settlement alarms use the settlement rate instead. */
const ALARM_PERIOD = Duration.minutes(5);

/** What an alarm watches; the test counts alarms per kind and the runbook has a section per kind. */
export type AlarmKind =
  | 'dlq-not-empty'
  | 'sns-delivery-lost'
  | 'queue-oldest-message-age'
  | 'function-errors'
  | 'function-throttles'
  | 'api-5xx-rate'
  | 'api-p99-latency'
  | 'table-throttles'
  | 'table-system-errors'
  | 'table-transaction-conflicts'
  | 'recovery-backlog'
  | 'recovery-lag'
  | 'recovery-quarantined'
  | 'settlement-close-failures'
  | 'settlement-window-unsettled'
  | 'settlement-window-overdue';

/** Titles of the dashboard's widgets (the test looks for each). */
export const DASHBOARD_WIDGETS = {
  throughput: 'Transfers per second: accepted, posted, rejected',
  rejections: 'Rejected transfers per second by reason',
  decisionLatency: 'Request to posting latency (ms): p50, p95, p99',
  api: 'API: requests, 5xx and latency p50/p99 (ms)',
  queueDepth: 'Queue depth (visible messages)',
  queueAge: 'Age of the oldest message per queue (s)',
  dlqDepth: 'Dead-letter queue depth',
  alertsBySeverity: 'Risk alerts stored, by severity',
  settlementWindows: 'Settlement windows: closed, settled, unsettled re-announced; oldest unsettled (s)',
  recovery: 'Recovery sweep: backlog and lag',
  functions: 'Function errors and throttles',
  tables: 'DynamoDB throttles, system errors, transaction conflicts',
  alarms: 'Alarms',
} as const;

export interface MonitoredQueue {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

export interface MonitoredFunction {
  readonly function: lambda.IFunction;
  /** Its Powertools service name: the `service` dimension of its EMF metrics. */
  readonly serviceName: string;
}

export interface MonitoringProps {
  /** Where every alarm (and its return to OK) is sent. */
  readonly alarmTopic: sns.ITopic;
  readonly thresholds: AlarmThresholds;
  /** Work queues with their DLQs, by topology name. */
  readonly queues: Readonly<Record<string, MonitoredQueue>>;
  /** Dead-letter queues that belong to no work queue (the schedule targets'), by name. */
  readonly otherDeadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Every function, by topology name. */
  readonly functions: Readonly<Record<string, MonitoredFunction>>;
  readonly tables: Readonly<Record<string, dynamodb.Table>>;
  /** Each table's global secondary indexes (their throttles count with the table's). */
  readonly tableIndexes: Readonly<Record<string, readonly string[]>>;
  /** The FIFO topics the work queues subscribe to, by topology name. */
  readonly topics: Readonly<Record<string, sns.ITopic>>;
  readonly apiStage: apigw.Stage;
  /** Rejection reasons (the `rejectionReason` dimension of TransfersRejected). */
  readonly rejectionReasons: readonly string[];
  /** Risk alert severities (AlertsStored<severity>). */
  readonly severities: readonly string[];
  /** The scheduled close's rate: the period of the settlement alarms. */
  readonly settlementInterval: Duration;
  /** The recovery sweep's rate. */
  readonly recoveryInterval: Duration;
}

/**
 * The DynamoDB operations lambdas/adapters/dynamodb calls (no Scan, no BatchWriteItem): SystemErrors
 * is reported per operation, and an alarm's metric math takes at most 10 metrics.
 */
const TABLE_OPERATIONS = ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'TransactGetItems'] as const;

export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, with what it watches. */
  readonly alarms: readonly { readonly kind: AlarmKind; readonly subject: string; readonly alarm: cloudwatch.Alarm }[];
  private readonly alarmList: { kind: AlarmKind; subject: string; alarm: cloudwatch.Alarm }[] = [];
  private readonly props: MonitoringProps;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.props = props;
    this.alarms = this.alarmList;
    this.alarmQueues();
    this.alarmTopics();
    this.alarmFunctions();
    this.alarmApi();
    this.alarmTables();
    this.alarmRecovery();
    this.alarmSettlement();
    this.dashboard = this.buildDashboard();
  }

  /**
   * The Powertools service name (the `service` dimension of its EMF metrics) of the function the
   * topology calls `name`: the api (submitTransactionSucceeded, a transfer accepted), posting,
   * alerts, settlement, settlementClose or recovery.
   */
  private serviceOf(name: string): string {
    const monitored = this.props.functions[name];
    if (monitored === undefined) throw new Error(`monitoring: no function ${name} among ${Object.keys(this.props.functions).join(', ')}`);
    return monitored.serviceName;
  }

  private custom(service: string, metricName: string, statistic: string, period: Duration = ALARM_PERIOD, dimensions: Record<string, string> = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service, ...dimensions }, statistic, period });
  }

  private alarm(kind: AlarmKind, subject: string, props: { metric: cloudwatch.IMetric; threshold: number; description: string; evaluationPeriods?: number; datapointsToAlarm?: number; missing?: cloudwatch.TreatMissingData; comparison?: cloudwatch.ComparisonOperator }): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${pascalCase(kind)}${pascalCase(subject)}`, {
      alarmName: `${Stack.of(this).stackName}-${kind}-${subject}`,
      alarmDescription: `${props.description} Runbook: docs/OPERATIONS.md, "${kind}".`,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: props.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      datapointsToAlarm: props.datapointsToAlarm ?? props.evaluationPeriods ?? 1,
      // Most metrics here are only emitted when something happens: no data is good news.
      treatMissingData: props.missing ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new cloudwatchActions.SnsAction(this.props.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarmList.push({ kind, subject, alarm });
    return alarm;
  }

  /**
   * A work-queue subscription that SNS could not deliver, and could not dead-letter either (the
   * DLQ refused it too: its policy, or the key both queues share): the message is gone. One alarm
   * per topic: it cannot tell which of the topic's subscriptions lost it. What recovers, and what
   * does not, is in docs/OPERATIONS.md "sns-delivery-lost".
   */
  private alarmTopics(): void {
    for (const [name, topic] of Object.entries(this.props.topics)) {
      this.alarm('sns-delivery-lost', name, {
        metric: topic.metric('NumberOfNotificationsFailedToRedriveToDlq', { statistic: 'Sum', period: ALARM_PERIOD }),
        threshold: 0,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `[CRITICAL] SNS could deliver a ${name} message neither to a subscribed queue nor to its dead-letter queue: the message is lost.`,
      });
    }
  }

  /** Every dead-letter queue by name: each work queue's, then the others (the schedules'). */
  private deadLetterQueues(): [string, sqs.IQueue][] {
    return [
      ...Object.entries(this.props.queues).map(([name, { deadLetterQueue }]): [string, sqs.IQueue] => [name, deadLetterQueue]),
      ...Object.entries(this.props.otherDeadLetterQueues),
    ];
  }

  private alarmQueues(): void {
    const { thresholds } = this.props;
    for (const [name, dlq] of this.deadLetterQueues()) {
      this.alarm('dlq-not-empty', name, {
        metric: dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold: 0,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `[CRITICAL] The ${name} dead-letter queue holds a message: something could not be processed and waits for an operator.`,
      });
    }
    for (const [name, { queue }] of Object.entries(this.props.queues)) {
      this.alarm('queue-oldest-message-age', name, {
        metric: queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: ALARM_PERIOD }),
        threshold: thresholds.queueOldestMessageAgeSeconds,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        description: `[HIGH] The oldest message in the ${name} queue is older than ${thresholds.queueOldestMessageAgeSeconds} s: its consumer is failing, throttled or too slow.`,
      });
    }
  }

  private alarmFunctions(): void {
    const { thresholds } = this.props;
    for (const [name, { function: fn }] of Object.entries(this.props.functions)) {
      this.alarm('function-errors', name, {
        metric: fn.metricErrors({ statistic: 'Sum', period: ALARM_PERIOD }),
        threshold: thresholds.functionErrors,
        description: `[HIGH] The ${name} function failed ${thresholds.functionErrors} or more invocations in 5 minutes.`,
      });
      this.alarm('function-throttles', name, {
        metric: fn.metricThrottles({ statistic: 'Sum', period: ALARM_PERIOD }),
        threshold: thresholds.functionThrottles,
        description: `[MEDIUM] The ${name} function was throttled ${thresholds.functionThrottles} or more times in 5 minutes.`,
      });
    }
  }

  private alarmApi(): void {
    const { thresholds, apiStage } = this.props;
    const errorRate = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${thresholds.apiServerErrorRequestsMin}, 100 * errors / requests, 0)`,
      usingMetrics: {
        errors: apiStage.metricServerError({ statistic: 'Sum', period: ALARM_PERIOD }),
        requests: apiStage.metricCount({ statistic: 'SampleCount', period: ALARM_PERIOD }),
      },
      label: '5xx share (%)',
      period: ALARM_PERIOD,
    });
    this.alarm('api-5xx-rate', 'api', {
      metric: errorRate,
      threshold: thresholds.apiServerErrorPercent,
      description: `[CRITICAL] ${thresholds.apiServerErrorPercent} % or more of API requests answered 5xx in 5 minutes.`,
    });
    this.alarm('api-p99-latency', 'api', {
      metric: apiStage.metricLatency({ statistic: 'p99', period: ALARM_PERIOD }),
      threshold: thresholds.apiLatencyP99Ms,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `[MEDIUM] The API's p99 latency is above ${thresholds.apiLatencyP99Ms} ms.`,
    });
  }

  private alarmTables(): void {
    const { thresholds } = this.props;
    for (const [name, table] of Object.entries(this.props.tables)) {
      const sum = (metricName: string, dimensions: Record<string, string> = {}): cloudwatch.Metric =>
        table.metric(metricName, { statistic: 'Sum', period: ALARM_PERIOD, dimensionsMap: { TableName: table.tableName, ...dimensions } });
      // An index's throttles hold back the table's writes: they count with the table's own.
      const indexThrottles = (this.props.tableIndexes[name] ?? []).flatMap((index) => [
        sum('ReadThrottleEvents', { GlobalSecondaryIndexName: index }),
        sum('WriteThrottleEvents', { GlobalSecondaryIndexName: index }),
      ]);
      this.alarm('table-throttles', name, {
        metric: filledSum('throttle events', [sum('ReadThrottleEvents'), sum('WriteThrottleEvents'), ...indexThrottles]),
        threshold: thresholds.tableThrottleEvents,
        description: `[HIGH] The ${name} table or one of its indexes throttled ${thresholds.tableThrottleEvents} or more reads and writes in 5 minutes.`,
      });
      this.alarm('table-system-errors', name, {
        metric: filledSum('system errors', TABLE_OPERATIONS.map((operation) => sum('SystemErrors', { Operation: operation }))),
        threshold: thresholds.tableSystemErrors,
        description: `[HIGH] DynamoDB answered the ${name} table with ${thresholds.tableSystemErrors} or more system errors (HTTP 500) in 5 minutes.`,
      });
      this.alarm('table-transaction-conflicts', name, {
        metric: table.metric('TransactionConflict', { statistic: 'Sum', period: ALARM_PERIOD }),
        threshold: thresholds.tableTransactionConflicts,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description: `[MEDIUM] ${thresholds.tableTransactionConflicts} or more transactions on the ${name} table conflicted in 5 minutes: a hot item.`,
      });
    }
  }

  private alarmRecovery(): void {
    const { thresholds } = this.props;
    const recoveryService = this.serviceOf('recovery');
    // Three sweeps' worth: a sweep that never reports (not scheduled, or failing before its
    // metrics) leaves the period empty, and that counts as breaching.
    const period = Duration.minutes(Math.max(5, this.props.recoveryInterval.toMinutes() * 3));
    this.alarm('recovery-backlog', 'recovery', {
      metric: this.custom(recoveryService, 'RecoveryBacklog', 'Maximum', period),
      threshold: thresholds.recoveryBacklogRequests,
      description: `[HIGH] The recovery sweep found ${thresholds.recoveryBacklogRequests} or more accepted requests without an outcome.`,
    });
    this.alarm('recovery-lag', 'recovery', {
      metric: this.custom(recoveryService, 'RecoveryLag', 'Maximum', period),
      threshold: thresholds.recoveryLagSeconds,
      missing: cloudwatch.TreatMissingData.BREACHING,
      description: `[HIGH] An accepted request has waited more than ${thresholds.recoveryLagSeconds} s for its outcome, or the recovery sweep did not report.`,
    });
    this.alarm('recovery-quarantined', 'recovery', {
      metric: this.custom(recoveryService, 'IntakesQuarantined', 'Sum', period),
      threshold: 1,
      description: '[CRITICAL] The recovery sweep quarantined an accepted request it cannot re-queue: it will not be decided without an operator.',
    });
  }

  private alarmSettlement(): void {
    const { thresholds, settlementInterval } = this.props;
    const settlementCloseService = this.serviceOf('settlementClose');
    this.alarm('settlement-close-failures', 'settlement-close', {
      metric: this.custom(settlementCloseService, 'SettlementCloseFailures', 'Sum', settlementInterval),
      threshold: 1,
      description: '[HIGH] The scheduled settlement close failed for a currency (its window stays open until a run succeeds).',
    });
    this.alarm('settlement-window-unsettled', 'settlement-close', {
      metric: this.custom(settlementCloseService, 'SettlementWindowsUnsettled', 'Maximum', settlementInterval),
      threshold: 1,
      evaluationPeriods: thresholds.settlementUnsettledRuns,
      description: `[HIGH] ${thresholds.settlementUnsettledRuns} scheduled closes in a row found a closed window not yet netted and re-announced it.`,
    });
    // Three closes' worth, at most a day: a close that never reports leaves the period empty, and
    // that counts as breaching (a silent close must not turn the alarm OK over a stuck window).
    const overduePeriod = Duration.minutes(Math.min(24 * 60, Math.max(5, settlementInterval.toMinutes() * 3)));
    this.alarm('settlement-window-overdue', 'settlement-close', {
      metric: this.custom(settlementCloseService, 'SettlementOldestUnsettledAgeSeconds', 'Maximum', overduePeriod),
      threshold: thresholds.settlementOverdueSeconds,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      missing: cloudwatch.TreatMissingData.BREACHING,
      description: `[HIGH] A closed settlement window has waited more than ${thresholds.settlementOverdueSeconds} s to settle (netting, instructions or the settlement bank's confirmations), or the scheduled close stopped reporting.`,
    });
  }

  private buildDashboard(): cloudwatch.Dashboard {
    const p = this.props;
    const minute = Duration.minutes(1);
    const perSecond = (id: string, label: string, metric: cloudwatch.IMetric): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({ expression: `${id} / PERIOD(${id})`, usingMetrics: { [id]: metric }, label, period: minute });
    const rejected = p.rejectionReasons.map((reason) => ({ reason, metric: this.custom(this.serviceOf('posting'), 'TransfersRejected', 'Sum', minute, { rejectionReason: reason }) }));
    const rejectedByReason = Object.fromEntries(rejected.map(({ metric }, index) => [`r${index}`, metric]));
    const queueNames = Object.keys(p.queues);
    const dlqs = this.deadLetterQueues();
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      graph(DASHBOARD_WIDGETS.throughput, [
        perSecond('accepted', 'accepted (202)', this.custom(this.serviceOf('api'), 'submitTransactionSucceeded', 'Sum', minute)),
        perSecond('posted', 'posted', this.custom(this.serviceOf('posting'), 'TransfersPosted', 'Sum', minute)),
        new cloudwatch.MathExpression({ expression: `(${Object.keys(rejectedByReason).map((id) => `FILL(${id}, 0)`).join(' + ')}) / PERIOD(r0)`, usingMetrics: rejectedByReason, label: 'rejected', period: minute }),
      ]),
      graph(
        DASHBOARD_WIDGETS.rejections,
        rejected.map(({ reason, metric }, index) => perSecond(`reason${index}`, reason, metric)),
      ),
    );
    dashboard.addWidgets(
      graph(DASHBOARD_WIDGETS.decisionLatency, ['p50', 'p95', 'p99'].map((statistic) => this.custom(this.serviceOf('posting'), 'RequestToPostingLatency', statistic, minute).with({ label: statistic }))),
      graph(
        DASHBOARD_WIDGETS.api,
        [p.apiStage.metricCount({ statistic: 'Sum', period: minute, label: 'requests' }), p.apiStage.metricServerError({ statistic: 'Sum', period: minute, label: '5xx' })],
        [p.apiStage.metricLatency({ statistic: 'p50', period: minute, label: 'p50' }), p.apiStage.metricLatency({ statistic: 'p99', period: minute, label: 'p99' })],
      ),
    );
    dashboard.addWidgets(
      graph(DASHBOARD_WIDGETS.queueDepth, queueNames.map((name) => p.queues[name]!.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minute, label: name }))),
      graph(DASHBOARD_WIDGETS.queueAge, queueNames.map((name) => p.queues[name]!.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: minute, label: name }))),
    );
    dashboard.addWidgets(
      graph(DASHBOARD_WIDGETS.dlqDepth, dlqs.map(([name, dlq]) => dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minute, label: name }))),
      graph(DASHBOARD_WIDGETS.alertsBySeverity, p.severities.map((severity) => this.custom(this.serviceOf('alerts'), `AlertsStored${severity}`, 'Sum', minute).with({ label: severity }))),
    );
    dashboard.addWidgets(
      // No metric holds the number of windows in each state (that is a query on the ledger); the
      // flows between the states are what the handlers count.
      graph(DASHBOARD_WIDGETS.settlementWindows, [
        this.custom(this.serviceOf('settlementClose'), 'SettlementWindowsClosed', 'Sum', Duration.hours(1)).with({ label: 'closed (CLOSED)' }),
        this.custom(this.serviceOf('settlement'), 'SettlementInstructionsIssued', 'Sum', Duration.hours(1)).with({ label: 'instructions issued (PENDING_SETTLEMENT)' }),
        this.custom(this.serviceOf('settlement'), 'SettlementWindowsSettled', 'Sum', Duration.hours(1)).with({ label: 'settled (SETTLED)' }),
        this.custom(this.serviceOf('settlementClose'), 'SettlementWindowsUnsettled', 'Maximum', Duration.hours(1)).with({ label: 'closed, unsettled, re-announced' }),
        this.custom(this.serviceOf('settlement'), 'SettlementUnbalanced', 'Sum', Duration.hours(1)).with({ label: 'unbalanced' }),
      ], [
        this.custom(this.serviceOf('settlementClose'), 'SettlementOldestUnsettledAgeSeconds', 'Maximum', Duration.hours(1)).with({ label: 'oldest unsettled window waiting (s)' }),
      ]),
      graph(
        DASHBOARD_WIDGETS.recovery,
        [this.custom(this.serviceOf('recovery'), 'RecoveryBacklog', 'Maximum', Duration.minutes(5)).with({ label: 'backlog (requests)' })],
        [this.custom(this.serviceOf('recovery'), 'RecoveryLag', 'Maximum', Duration.minutes(5)).with({ label: 'lag (s)' })],
      ),
    );
    dashboard.addWidgets(
      graph(
        DASHBOARD_WIDGETS.functions,
        Object.entries(p.functions).map(([name, { function: fn }]) => fn.metricErrors({ statistic: 'Sum', period: minute, label: `${name} errors` })),
        Object.entries(p.functions).map(([name, { function: fn }]) => fn.metricThrottles({ statistic: 'Sum', period: minute, label: `${name} throttles` })),
      ),
      graph(
        DASHBOARD_WIDGETS.tables,
        Object.entries(p.tables).flatMap(([name, table]) => [
          table.metric('ReadThrottleEvents', { statistic: 'Sum', period: minute, label: `${name} read throttles` }),
          table.metric('WriteThrottleEvents', { statistic: 'Sum', period: minute, label: `${name} write throttles` }),
        ]),
        Object.entries(p.tables).map(([name, table]) => table.metric('TransactionConflict', { statistic: 'Sum', period: minute, label: `${name} conflicts` })),
      ),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: DASHBOARD_WIDGETS.alarms, alarms: this.alarmList.map(({ alarm }) => alarm), width: 24, height: 8 }));
    return dashboard;
  }
}

/**
 * The sum of `metrics` as metric math CloudWatch can always compute: each term with no data in a
 * period counts 0. A plain `a + b` has a point only where every term has one, and a table never
 * sees some operations, so its sum would never exist and its alarm never fire. An alarm's math
 * takes at most 10 metrics.
 */
function filledSum(label: string, metrics: readonly cloudwatch.IMetric[]): cloudwatch.MathExpression {
  if (metrics.length > 10) throw new Error(`${label}: ${metrics.length} metrics, an alarm's metric math takes at most 10`);
  const usingMetrics = Object.fromEntries(metrics.map((metric, i) => [`m${i}`, metric]));
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
    usingMetrics,
    label,
    period: ALARM_PERIOD,
  });
}
