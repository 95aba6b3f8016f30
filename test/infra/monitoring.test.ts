// Proves the synthesized stack is observable and its concurrency is capped, as counted from the
// topology rather than hard-coded: an alarm on every DLQ, work queue, function and table, the API
// and the scheduled handlers' custom metrics, all notifying the operations topic with the stage's
// thresholds; one dashboard with the named widgets; maximum concurrency on every SQS event source
// and reserved concurrency on the api function; a DLQ and a retry policy on every schedule target.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_WIDGETS } from '../../lib/constructs/monitoring.js';
import type { PaymentsStack } from '../../lib/payments-stack.js';
import { STAGE_SETTINGS } from '../../lib/stage-settings.js';
import { idOf, sharedApp, type SharedStage } from '../support/infra-apps.js';
import { API_HANDLER, handlerNames, queueNames, scheduledHandlerNames, serviceNameOf, tableNames, topicNames, topology, type HandlerName, type TableSpec } from '../../contract/topology.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;

const STAGES = ['dev', 'prod'] as const satisfies readonly SharedStage[];
const apps = {} as Record<SharedStage, { stack: PaymentsStack; template: Template }>;

beforeAll(() => {
  for (const stage of STAGES) apps[stage] = { stack: sharedApp(stage).stack, template: sharedApp(stage).template() };
});

function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}
function alarmsOf(template: Template): Resource[] {
  return Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
}
/** Alarms whose single metric (or any metric of their math expression) has this name and dimension value. */
function alarmsOn(template: Template, metricName: string, dimension: unknown): Resource[] {
  const wanted = JSON.stringify(dimension);
  return alarmsOf(template).filter((alarm) => {
    const properties = alarm.Properties;
    const metrics = [properties, ...((properties.Metrics as { MetricStat?: { Metric: Record<string, unknown> } }[] | undefined) ?? []).map((entry) => entry.MetricStat?.Metric ?? {})];
    return metrics.some((metric) => metric.MetricName === metricName && JSON.stringify(metric.Dimensions ?? []).includes(wanted));
  });
}
/** Every queue that is a dead-letter queue: of a queue's redrive policy, a function or a schedule target. */
function deadLetterQueueIds(template: Template): string[] {
  const found = new Set<string>();
  const add = (arn: unknown): void => {
    const getAtt = (arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (getAtt !== undefined) found.add(getAtt[0]);
  };
  for (const queue of Object.values(resourcesOf(template, 'AWS::SQS::Queue'))) add((queue.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)?.deadLetterTargetArn);
  for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) add((fn.Properties.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn);
  for (const rule of Object.values(resourcesOf(template, 'AWS::Events::Rule'))) {
    for (const target of rule.Properties.Targets as { DeadLetterConfig?: { Arn?: unknown } }[]) add(target.DeadLetterConfig?.Arn);
  }
  return [...found].sort();
}

describe.each(STAGES)('monitoring in %s', (stage) => {
  const settings = STAGE_SETTINGS[stage];

  it('alarms on every dead-letter queue as soon as it holds a message', () => {
    const { stack, template } = apps[stage];
    const dlqs = deadLetterQueueIds(template);

    expect(dlqs).toEqual(
      [...queueNames().map((name) => idOf(stack, stack.queues[name].deadLetterQueue)), idOf(stack, stack.scheduleDeadLetterQueue)].sort(),
    );
    for (const dlq of dlqs) {
      const alarms = alarmsOn(template, 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [dlq, 'QueueName'] });
      expect(alarms, dlq).toHaveLength(1);
      expect(alarms[0]?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' });
    }
  });

  it("alarms on the age of every work queue's oldest message at the stage threshold", () => {
    const { stack, template } = apps[stage];

    for (const name of queueNames()) {
      const alarms = alarmsOn(template, 'ApproximateAgeOfOldestMessage', { 'Fn::GetAtt': [idOf(stack, stack.queues[name].queue), 'QueueName'] });
      expect(alarms, name).toHaveLength(1);
      expect(alarms[0]?.Properties.Threshold).toBe(settings.alarms.queueOldestMessageAgeSeconds);
    }
  });

  it('alarms on the errors and throttles of every function', () => {
    const { stack, template } = apps[stage];
    const functions = Object.keys(resourcesOf(template, 'AWS::Lambda::Function'));

    expect(functions.sort()).toEqual(handlerNames().map((name) => idOf(stack, stack.handlers[name].function)).sort());
    for (const id of functions) {
      expect(alarmsOn(template, 'Errors', { Ref: id }), id).toHaveLength(1);
      expect(alarmsOn(template, 'Throttles', { Ref: id }), id).toHaveLength(1);
    }
  });

  it('alarms on throttles, system errors and transaction conflicts of every table', () => {
    const { stack, template } = apps[stage];

    for (const name of tableNames()) {
      const table = { Ref: idOf(stack, stack.tables[name]) };
      expect(alarmsOn(template, 'ReadThrottleEvents', table), name).toHaveLength(1);
      expect(alarmsOn(template, 'WriteThrottleEvents', table), name).toHaveLength(1);
      expect(alarmsOn(template, 'SystemErrors', table), name).toHaveLength(1);
      expect(alarmsOn(template, 'TransactionConflict', table), name).toHaveLength(1);
    }
  });

  it("counts every table's index throttles, and fills each term of a sum with 0, so a table's alarms can fire", () => {
    const { stack, template } = apps[stage];

    for (const name of tableNames()) {
      const spec: TableSpec = topology.tables[name];
      for (const { indexName } of spec.globalSecondaryIndexes ?? []) {
        for (const metricName of ['WriteThrottleEvents', 'ReadThrottleEvents']) {
          const alarms = alarmsOn(template, metricName, indexName);
          expect(alarms, `${name}/${indexName} ${metricName}`).toHaveLength(1);
          // DynamoDB reports an index's throttles under both dimensions: one alone matches no data.
          const entries = (alarms[0]?.Properties.Metrics ?? []) as { MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] } } }[];
          const metric = entries.map((entry) => entry.MetricStat?.Metric).find((candidate) => candidate?.MetricName === metricName && JSON.stringify(candidate.Dimensions).includes(indexName));
          expect(metric?.Dimensions.map((dimension) => dimension.Name).sort()).toEqual(['GlobalSecondaryIndexName', 'TableName']);
          expect(metric?.Dimensions.find((dimension) => dimension.Name === 'TableName')?.Value).toEqual({ Ref: idOf(stack, stack.tables[name]) });
        }
      }
    }
    // A term without FILL has no data point in a period a table sees none of that operation, and
    // then the whole sum has none: the alarm would stay OK whatever happened.
    for (const alarm of [...alarmsOn(template, 'SystemErrors', 'Operation'), ...alarmsOn(template, 'WriteThrottleEvents', 'TableName')]) {
      const entries = alarm.Properties.Metrics as { Id: string; Expression?: string; MetricStat?: unknown }[];
      const expression = entries.find((entry) => entry.Expression !== undefined)?.Expression ?? '';
      const terms = entries.filter((entry) => entry.MetricStat !== undefined).map((entry) => entry.Id);
      expect(terms.length).toBeGreaterThan(1);
      for (const id of terms) expect(expression, String(alarm.Properties.AlarmName)).toContain(`FILL(${id}, 0)`);
    }
  });

  it('alarms when SNS loses a message it could neither deliver nor dead-letter, on every work topic', () => {
    const { stack, template } = apps[stage];

    for (const topic of topicNames()) {
      const alarms = alarmsOn(template, 'NumberOfNotificationsFailedToRedriveToDlq', { 'Fn::GetAtt': [idOf(stack, stack.topics[topic]), 'TopicName'] });
      expect(alarms, topic).toHaveLength(1);
      expect(alarms[0]?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  it("alarms on the API stage's 5xx share and p99 latency", () => {
    const { template } = apps[stage];

    expect(alarmsOf(template).filter((alarm) => JSON.stringify(alarm.Properties).includes('"MetricName":"5XXError"'))).toHaveLength(1);
    const latency = alarmsOf(template).filter((alarm) => alarm.Properties.MetricName === 'Latency' && alarm.Properties.Namespace === 'AWS/ApiGateway');
    expect(latency).toHaveLength(1);
    expect(latency[0]?.Properties).toMatchObject({ ExtendedStatistic: 'p99', Threshold: settings.alarms.apiLatencyP99Ms });
  });

  it.each([
    ['recovery', 'RecoveryBacklog'],
    ['recovery', 'RecoveryLag'],
    ['recovery', 'IntakesQuarantined'],
    ['settlementClose', 'SettlementCloseFailures'],
    ['settlementClose', 'SettlementWindowsUnsettled'],
    ['settlementClose', 'SettlementOldestUnsettledAgeSeconds'],
  ] as const)("alarms on the %s handler's %s metric (namespace PaymentsBackbone, its service dimension)", (handler, metricName) => {
    const { template } = apps[stage];

    const alarms = alarmsOn(template, metricName, { Name: 'service', Value: serviceNameOf(handler) });

    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties.Namespace).toBe('PaymentsBackbone');
  });

  it("alarms when a closed window has waited longer than the stage allows to settle, the bank's confirmations included", () => {
    const { template } = apps[stage];

    const alarms = alarmsOn(template, 'SettlementOldestUnsettledAgeSeconds', { Name: 'service', Value: serviceNameOf('settlementClose') });

    expect(alarms[0]?.Properties).toMatchObject({
      Threshold: settings.alarms.settlementOverdueSeconds,
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      // A close that stops reporting must not let the alarm go OK over a stuck window.
      TreatMissingData: 'breaching',
    });
    expect(alarms[0]?.Properties.Period).toBeGreaterThanOrEqual(3 * 60 * (stage === 'prod' ? 15 : 60));
  });

  it('sends every alarm, and its return to OK, to the operations notifications topic', () => {
    const { stack, template } = apps[stage];
    const topic = { Ref: idOf(stack, stack.notificationTopics.operations) };

    const alarms = alarmsOf(template);

    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });

  it("lets this account's CloudWatch alarms publish to the encrypted operations topic", () => {
    const { stack, template } = apps[stage];

    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: idOf(stack, stack.notificationTopics.operations) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' })]) },
    });
    // EventBridge too: it writes undeliverable schedule events to the encrypted schedule DLQ.
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: service }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }) }),
          ]),
        },
      });
    }
  });

  it('has one dashboard with every named widget', () => {
    const { template } = apps[stage];
    const dashboards = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));

    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const title of Object.values(DASHBOARD_WIDGETS)) expect(body, title).toContain(JSON.stringify(JSON.stringify(title)).slice(1, -1));
    for (const metricName of ['submitTransactionSucceeded', 'TransfersPosted', 'TransfersRejected', 'RequestToPostingLatency', 'AlertsStoredCRITICAL', 'SettlementWindowsSettled']) {
      expect(body, metricName).toContain(metricName);
    }
  });

  it('caps every SQS event source at the maximum concurrency the stage sets for its queue', () => {
    const { stack, template } = apps[stage];
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));

    expect(mappings).toHaveLength(queueNames().length);
    for (const mapping of mappings) expect(mapping.Properties.ScalingConfig).toEqual({ MaximumConcurrency: expect.any(Number) as number });
    for (const name of queueNames()) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [idOf(stack, stack.queues[name].queue), 'Arn'] },
        ScalingConfig: { MaximumConcurrency: settings.queueMaxConcurrency[name] },
      });
    }
  });

  it('reserves concurrency for every function: the api its setting, a consumer its queue cap, a schedule its share', () => {
    const { stack, template } = apps[stage];
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const reservedOf = (name: HandlerName): unknown => functions[idOf(stack, stack.handlers[name].function)]?.Properties.ReservedConcurrentExecutions;

    expect(reservedOf(API_HANDLER)).toBe(settings.apiReservedConcurrency);
    for (const queue of queueNames()) expect(reservedOf(topology.queues[queue].consumer), queue).toBe(settings.queueMaxConcurrency[queue]);
    for (const name of scheduledHandlerNames()) expect(reservedOf(name), name).toBe(settings.scheduledReservedConcurrency);
    expect(Object.keys(functions)).toHaveLength(handlerNames().length);
  });

  it('gives every schedule target a dead-letter queue and a retry policy, and the scheduled functions the same DLQ', () => {
    const { stack, template } = apps[stage];
    const dlqArn = { 'Fn::GetAtt': [idOf(stack, stack.scheduleDeadLetterQueue), 'Arn'] };
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule'));

    expect(rules).toHaveLength(scheduledHandlerNames().length);
    for (const rule of rules) {
      for (const target of rule.Properties.Targets as Record<string, unknown>[]) {
        expect(target.DeadLetterConfig).toEqual({ Arn: dlqArn });
        expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: expect.any(Number) as number, MaximumEventAgeInSeconds: expect.any(Number) as number });
      }
    }
    for (const name of scheduledHandlerNames()) {
      expect(resourcesOf(template, 'AWS::Lambda::Function')[idOf(stack, stack.handlers[name].function)]?.Properties.DeadLetterConfig).toEqual({ TargetArn: dlqArn });
    }
  });

  it('makes the FIFO DLQs high-throughput, like their queues', () => {
    const { stack, template } = apps[stage];

    for (const name of queueNames()) {
      const dlq = resourcesOf(template, 'AWS::SQS::Queue')[idOf(stack, stack.queues[name].deadLetterQueue)];
      expect(dlq?.Properties).toMatchObject({ FifoQueue: true, DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' });
    }
  });
});

describe('prod alarm inventory', () => {
  it('holds one alarm per kind and subject, counted from the topology', () => {
    const { stack } = apps.prod;
    const byKind = new Map<string, number>();
    for (const { kind } of stack.monitoring.alarms) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);

    expect(Object.fromEntries(byKind)).toEqual({
      'dlq-not-empty': queueNames().length + 1,
      'sns-delivery-lost': topicNames().length,
      'queue-oldest-message-age': queueNames().length,
      'function-errors': handlerNames().length,
      'function-throttles': handlerNames().length,
      'api-5xx-rate': 1,
      'api-p99-latency': 1,
      'table-throttles': tableNames().length,
      'table-system-errors': tableNames().length,
      'table-transaction-conflicts': tableNames().length,
      'recovery-backlog': 1,
      'recovery-lag': 1,
      'recovery-quarantined': 1,
      'settlement-close-failures': 1,
      'settlement-window-unsettled': 1,
      'settlement-window-overdue': 1,
    });
    expect(alarmsOf(apps.prod.template)).toHaveLength(stack.monitoring.alarms.length);
  });
});
