// Proves the synthesized template is exactly contract/topology.ts: every topic, queue, DLQ,
// subscription, event source, table, handler binding and API route in it, configured as the
// design requires, and no resource of those kinds that the topology does not declare. The dev and
// prod apps are synthesized once and shared with the cdk-nag tests (test/support/infra-apps.ts).
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../../lib/app.js';
import { NotificationTopic } from '../../lib/constructs/notification-topic.js';
import type { PaymentsStack } from '../../lib/payments-stack.js';
import { ADMIN_ROLES } from '../../lambdas/core/trust/api-client.js';
import { idOf, sharedApp } from '../support/infra-apps.js';
import { handlerEnvironment as localHandlerEnvironment } from '../../lib/local/provision.js';
import {
  API_HANDLER,
  API_ROUTES,
  CHANNELS,
  envVar,
  handlerNames,
  notificationTopicNames,
  scheduledHandlerNames,
  queueNames,
  routesOfRole,
  tableNames,
  topicNames,
  topology,
  VISIBILITY_TIMEOUT_FACTOR,
  visibilityTimeoutSeconds,
  type HandlerSpec,
  type TableSpec,
} from '../../contract/topology.js';

function fromKeys<K extends string, V>(keys: readonly K[], value: (key: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((key) => [key, value(key)])) as Record<K, V>;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

let dev: PaymentsStack;
let template: Template;
let prodTemplate: Template;
let prod: PaymentsStack;

beforeAll(() => {
  dev = sharedApp('dev').stack;
  template = sharedApp('dev').template();
  prod = sharedApp('prod').stack;
  prodTemplate = sharedApp('prod').template();
});

/** Logical id of a construct's CloudFormation resource, computed rather than hard-coded. */
const ref = (id: string): { Ref: string } => ({ Ref: id });
const arnOf = (id: string): { 'Fn::GetAtt': [string, string] } => ({ 'Fn::GetAtt': [id, 'Arn'] });

function resourcesOf(t: Template): Resources {
  return (t.toJSON() as { Resources: Resources }).Resources;
}
function propertiesOf(t: Template, id: string): Record<string, unknown> {
  const resource = resourcesOf(t)[id];
  if (resource === undefined) throw new Error(`no resource ${id} in the template`);
  return resource.Properties ?? {};
}
/** Asserts one resource, found by logical id, matches `pattern` (Match.objectLike semantics). */
function expectResource(t: Template, id: string, pattern: Record<string, unknown>): void {
  const result = Match.objectLike(pattern).test(propertiesOf(t, id));
  expect(result.hasFailed(), result.renderMismatch()).toBe(false);
}

/** The TLS-only deny statement CDK's enforceSSL adds (SNS: on Publish; SQS: on every action). */
function tlsOnlyDeny(action: string): object {
  return Match.objectLike({
    Effect: 'Deny',
    Action: action,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });
}

describe('resource inventory', () => {
  it.each([
    ['AWS::SNS::Topic', () => topicNames().length + notificationTopicNames().length],
    // Each work queue and its DLQ, and the scheduled handlers' one DLQ (EventBridge and async failures).
    ['AWS::SQS::Queue', () => queueNames().length * 2 + 1],
    ['AWS::SNS::Subscription', () => queueNames().length],
    ['AWS::Lambda::EventSourceMapping', () => queueNames().length],
    ['AWS::DynamoDB::Table', () => tableNames().length],
    ['AWS::Lambda::Function', () => handlerNames().length],
    // One per function, and the API's access, execution and WAF logs.
    ['AWS::Logs::LogGroup', () => handlerNames().length + 3],
    ['AWS::KMS::Key', () => 1],
    ['AWS::Events::Rule', () => scheduledHandlerNames().length],
    ['AWS::ApiGateway::RestApi', () => 1],
    ['AWS::ApiGateway::Method', () => API_ROUTES.length],
    // API keys are per API client, created when a client is issued: none at deploy time.
    ['AWS::ApiGateway::ApiKey', () => 0],
    ['AWS::ApiGateway::UsagePlan', () => CHANNELS.length],
    ['AWS::ApiGateway::UsagePlanKey', () => 0],
    // One per admin role, one per function role (no inline policies: NIST AC-6), the api
    // function's client-key management and the dead-letter operator's.
    ['AWS::IAM::ManagedPolicy', () => ADMIN_ROLES.length + handlerNames().length + 2],
    ['AWS::IAM::Policy', () => 0],
  ])('holds as many %s as the topology declares', (type, expected) => {
    template.resourceCountIs(type, expected());
  });

  it('has no custom resources (no helper Lambdas such as log retention)', () => {
    const types = Object.values(resourcesOf(template)).map((resource) => resource.Type);

    const custom = types.filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource');

    expect(custom).toEqual([]);
  });
});

describe.each(scheduledHandlerNames())('scheduled handler %s', (name) => {
  it('is invoked by an EventBridge rule at the topology rate', () => {
    const spec: HandlerSpec = topology.handlers[name];
    const rate = spec.scheduleRateMinutes ?? Number.NaN;
    const functionId = idOf(dev, dev.handlers[name].function);

    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: events.Schedule.rate(Duration.minutes(rate)).expressionString,
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] } })],
    });
  });
});

describe('settlement schedule', () => {
  it('runs the scheduled close at the rate the deployment sets', () => {
    prodTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [idOf(prod, prod.handlers.settlementClose.function), 'Arn'] } })],
    });
    expect(() => createPaymentsApp({ stage: 'dev', bundleAssets: false, settlementIntervalMinutes: 0.5 })).toThrow(/whole number of minutes/);
  });
});

describe('encryption key', () => {
  it('rotates and lets SNS deliver to the encrypted queues of this account only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });
});

describe.each(topicNames())('topic %s', (name) => {
  it('is a KMS-encrypted FIFO topic with per-message-group throughput and no content dedup', () => {
    const id = idOf(dev, dev.topics[name]);
    const keyId = idOf(dev, dev.encryptionKey.key);

    expectResource(template, id, {
      FifoTopic: topology.topics[name].fifo,
      FifoThroughputScope: topology.topics[name].fifoThroughputScope,
      ContentBasedDeduplication: false,
      KmsMasterKeyId: arnOf(keyId),
    });
  });

  it('denies publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(idOf(dev, dev.topics[name]))],
      PolicyDocument: { Statement: Match.arrayWith([tlsOnlyDeny('sns:Publish')]) },
    });
  });
});

describe.each(notificationTopicNames())('notification topic %s', (name) => {
  it('is a standard (non-FIFO) topic encrypted with the stack key', () => {
    const properties = propertiesOf(template, idOf(dev, dev.notificationTopics[name]));

    expect(properties.FifoTopic).toBeUndefined();
    expect(properties.KmsMasterKeyId).toEqual(arnOf(idOf(dev, dev.encryptionKey.key)));
  });

  it('denies publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(idOf(dev, dev.notificationTopics[name]))],
      PolicyDocument: { Statement: Match.arrayWith([tlsOnlyDeny('sns:Publish')]) },
    });
  });

  it('subscribes exactly the e-mail addresses the deployment names, and refuses a malformed one', () => {
    const emails = prodTemplate.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } });

    expect(Object.values(emails).map((resource) => (resource.Properties as { Endpoint: string }).Endpoint).sort()).toEqual([
      'fraud-desk@bank.example',
      'oncall@bank.example',
    ]);
    for (const resource of Object.values(emails)) {
      expect((resource.Properties as { TopicArn: unknown }).TopicArn).toEqual(ref(idOf(prod, prod.notificationTopics[name])));
    }
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'email' }, 0);
    expect(() => new NotificationTopic(new Stack(), 'Topic', { spec: topology.notificationTopics[name], encryptionKey: dev.encryptionKey.key, emailAddresses: ['not-an-address'] })).toThrow(
      /not an e-mail address/,
    );
  });
});

describe.each(queueNames())('queue %s', (name) => {
  const spec = topology.queues[name];
  const ids = (): { queue: string; dlq: string; key: string } => ({
    queue: idOf(dev, dev.queues[name].queue),
    dlq: idOf(dev, dev.queues[name].deadLetterQueue),
    key: idOf(dev, dev.encryptionKey.key),
  });

  it('is a high-throughput, KMS-encrypted FIFO queue redriving to its DLQ', () => {
    const { queue, dlq, key } = ids();

    expectResource(template, queue, {
      FifoQueue: spec.fifo,
      DeduplicationScope: spec.deduplicationScope,
      FifoThroughputLimit: spec.fifoThroughputLimit,
      ContentBasedDeduplication: false,
      KmsMasterKeyId: arnOf(key),
      VisibilityTimeout: visibilityTimeoutSeconds(name),
      ReceiveMessageWaitTimeSeconds: spec.receiveWaitSeconds,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount: spec.maxReceiveCount },
    });
  });

  it('has a KMS-encrypted FIFO DLQ with the topology retention', () => {
    const { dlq, key } = ids();

    expectResource(template, dlq, {
      FifoQueue: true,
      KmsMasterKeyId: arnOf(key),
      MessageRetentionPeriod: spec.dlqRetentionDays * 24 * 60 * 60,
    });
  });

  it('denies every request without TLS, on the queue and on its DLQ', () => {
    const { queue, dlq } = ids();

    for (const id of [queue, dlq]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(id)],
        PolicyDocument: { Statement: Match.arrayWith([tlsOnlyDeny('sqs:*')]) },
      });
    }
  });

  it('subscribes to its topic with raw delivery and exactly the topology filter policy', () => {
    const { queue } = ids();

    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: ref(idOf(dev, dev.topics[spec.subscription.topic])),
      Protocol: 'sqs',
      Endpoint: arnOf(queue),
      RawMessageDelivery: spec.subscription.rawMessageDelivery,
      FilterPolicyScope: 'MessageAttributes',
      FilterPolicy: Match.exact(spec.subscription.filterPolicy),
    });
  });

  it('lets only its topic send to it', () => {
    const { queue } = ids();

    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(queue)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': ref(idOf(dev, dev.topics[spec.subscription.topic])) } },
          }),
        ]),
      },
    });
  });

  it('feeds its consumer in batches with partial batch failure reporting', () => {
    const { queue } = ids();

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queue),
      FunctionName: ref(idOf(dev, dev.handlers[spec.consumer].function)),
      BatchSize: spec.batchSizeMax,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it(`hides a message for at least ${String(VISIBILITY_TIMEOUT_FACTOR)}x its consumer's timeout`, () => {
    const queueProps = propertiesOf(template, ids().queue);
    const functionProps = propertiesOf(template, idOf(dev, dev.handlers[spec.consumer].function));

    expect(queueProps.VisibilityTimeout).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * Number(functionProps.Timeout));
  });
});

describe.each(tableNames())('table %s', (name) => {
  const spec: TableSpec = topology.tables[name];

  it('is on-demand with PITR, the stack key and the topology key schema, indexes and TTL', () => {
    const id = idOf(dev, dev.tables[name]);
    const indexes = spec.globalSecondaryIndexes ?? [];
    const indexAttributes = indexes.flatMap((index) => [index.partitionKey, index.sortKey]);

    expectResource(template, id, {
      KeySchema: Match.exact([{ AttributeName: spec.partitionKey, KeyType: 'HASH' }]),
      AttributeDefinitions: Match.exact(
        [...new Set([spec.partitionKey, ...indexAttributes])].map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' })),
      ),
      GlobalSecondaryIndexes:
        indexes.length === 0
          ? Match.absent()
          : Match.exact(
              indexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' },
                  { AttributeName: index.sortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              })),
            ),
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(idOf(dev, dev.encryptionKey.key)) },
      TimeToLiveSpecification:
        spec.timeToLiveAttribute === undefined ? Match.absent() : { AttributeName: spec.timeToLiveAttribute, Enabled: true },
    });
  });

  it('is deletion-protected and retained in prod', () => {
    const id = idOf(prod, prod.tables[name]);

    expect(propertiesOf(prodTemplate, id).DeletionProtectionEnabled).toBe(true);
    expect(resourcesOf(prodTemplate)[id]?.DeletionPolicy).toBe('Retain');
  });

  it('is neither deletion-protected nor retained in dev', () => {
    const id = idOf(dev, dev.tables[name]);

    expect(propertiesOf(template, id).DeletionProtectionEnabled).not.toBe(true);
    expect(resourcesOf(template)[id]?.DeletionPolicy).toBe('Delete');
  });
});

describe.each(handlerNames())('handler %s', (name) => {
  const spec = topology.handlers[name] as HandlerSpec;

  it('is wired from the same variables, service name included, as the local runtime gives it', () => {
    const local = localHandlerEnvironment(name, {
      tables: fromKeys(tableNames(), (table) => `local-${table}`),
      topics: fromKeys(topicNames(), (topic) => `arn:local:${topic}`),
      notificationTopics: fromKeys(notificationTopicNames(), (topic) => `arn:local:${topic}`),
      queues: fromKeys(queueNames(), (queue) => ({ url: `q-${queue}`, arn: `arn:q-${queue}`, deadLetterUrl: `dlq-${queue}`, deadLetterArn: `arn:dlq-${queue}` })),
    });
    const deployed = (propertiesOf(template, idOf(dev, dev.handlers[name].function)).Environment as { Variables: Record<string, unknown> }).Variables;
    // What only the deployed function gets: stage settings, and the api function's usage plans.
    const stageOnly = ['POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL', 'STAGE', 'NODE_OPTIONS', envVar.usagePlans];

    expect(Object.keys(deployed).filter((key) => !stageOnly.includes(key)).sort()).toEqual(Object.keys(local).sort());
    expect(deployed.POWERTOOLS_SERVICE_NAME).toBe(local.POWERTOOLS_SERVICE_NAME);
  });

  it('runs ESM on Node.js 24, ARM64, with X-Ray and the topology timeout and memory', () => {
    expectResource(template, idOf(dev, dev.handlers[name].function), {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: spec.timeoutSeconds,
      MemorySize: spec.memorySizeMb,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: ref(idOf(dev, dev.handlers[name].logGroup)) },
    });
  });

  it('gets exactly the env vars its topology bindings name', () => {
    const expected: Record<string, unknown> = {
      POWERTOOLS_SERVICE_NAME: `payments-${spec.name}`,
      POWERTOOLS_METRICS_NAMESPACE: 'PaymentsBackbone',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      STAGE: 'dev',
      NODE_OPTIONS: '--enable-source-maps',
    };
    for (const { table } of spec.tables) expected[envVar.table(table)] = ref(idOf(dev, dev.tables[table]));
    for (const topic of spec.publishes) expected[envVar.topic(topic)] = ref(idOf(dev, dev.topics[topic]));
    for (const queue of spec.quarantinesTo) expected[envVar.deadLetterQueue(queue)] = ref(idOf(dev, dev.queues[queue].deadLetterQueue));
    for (const topic of spec.notifies) expected[envVar.notificationTopic(topic)] = ref(idOf(dev, dev.notificationTopics[topic]));
    if (name === API_HANDLER) expected[envVar.usagePlans] = JSON.stringify(Object.fromEntries(CHANNELS.map((channel) => [channel, `payments-dev-${channel}`])));

    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: arnOf(idOf(dev, dev.handlers[name].role)),
      Environment: { Variables: Match.exact(expected) },
    });
  });

  it('is granted only the tables, topics and DLQs its bindings name', () => {
    const roleId = idOf(dev, dev.handlers[name].role);
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [ref(roleId)] } }));
    const granted = JSON.stringify(policies);
    const referenced = (ids: readonly string[]): string[] => ids.filter((id) => granted.includes(`"${id}"`));

    expect(referenced(tableNames().map((t) => idOf(dev, dev.tables[t])))).toEqual(
      tableNames().filter((t) => spec.tables.some((b) => b.table === t)).map((t) => idOf(dev, dev.tables[t])),
    );
    expect(referenced(topicNames().map((t) => idOf(dev, dev.topics[t])))).toEqual(
      topicNames().filter((t) => spec.publishes.includes(t)).map((t) => idOf(dev, dev.topics[t])),
    );
    expect(referenced(notificationTopicNames().map((t) => idOf(dev, dev.notificationTopics[t])))).toEqual(
      notificationTopicNames().filter((t) => spec.notifies.includes(t)).map((t) => idOf(dev, dev.notificationTopics[t])),
    );
    expect(referenced(queueNames().map((q) => idOf(dev, dev.queues[q].deadLetterQueue)))).toEqual(
      queueNames().filter((q) => spec.quarantinesTo.includes(q)).map((q) => idOf(dev, dev.queues[q].deadLetterQueue)),
    );
  });

  it('writes to its own log group, with retention and encrypted with the stack key', () => {
    expectResource(template, idOf(dev, dev.handlers[name].logGroup), {
      RetentionInDays: 7,
      KmsKeyId: arnOf(idOf(dev, dev.encryptionKey.key)),
    });
  });
});

describe('API client keys and admin roles', () => {
  it('lets the api function create client keys only in its own usage plans, and disable keys', () => {
    const roleId = idOf(dev, dev.handlers[API_HANDLER].role);
    const policies = template.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [ref(roleId)], PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'apigateway:POST' })]) } } });
    const statements = JSON.stringify(Object.values(policies));

    expect(Object.keys(policies)).toHaveLength(1);
    for (const channel of CHANNELS) expect(statements).toContain(idOf(dev, dev.api.usagePlans[channel]));
    expect(statements).toContain('apigateway:PATCH');
    expect(statements).not.toContain('apigateway:*');
    expect(statements).not.toContain('apigateway:DELETE');
  });

  it.each(ADMIN_ROLES)('gives the %s role a managed policy invoking exactly its routes', (role) => {
    const policy = propertiesOf(template, idOf(dev, dev.api.rolePolicies[role]));
    // The operations policy also carries the `payments dlq` statements (test/infra/least-privilege.test.ts).
    const statements = (policy.PolicyDocument as { Statement: { Action: string; Resource: unknown[]; Sid?: string }[] }).Statement.filter(
      (statement) => statement.Sid?.startsWith('DlqTool') !== true,
    );
    const resources = statements.flatMap((statement) => statement.Resource.map((resource) => JSON.stringify(resource)));

    expect(statements.map((statement) => statement.Action)).toEqual(['execute-api:Invoke']);
    expect(resources).toHaveLength(routesOfRole(role).length);
    for (const route of routesOfRole(role)) {
      expect(resources.some((resource) => resource.includes(`/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}"`))).toBe(true);
    }
  });
});

/** Full path of a method, rebuilt from the template's Resource -> ParentId chain. */
function routesInTemplate(t: Template): string[] {
  const apiResources = t.findResources('AWS::ApiGateway::Resource') as Resources;
  const pathOf = (resourceId: unknown): string => {
    const id = (resourceId as { Ref?: string }).Ref;
    if (id === undefined) return ''; // Fn::GetAtt RootResourceId
    const resource = apiResources[id];
    if (resource === undefined) throw new Error(`method parent ${id} is not an API resource`);
    return `${pathOf(resource.Properties?.ParentId)}/${String(resource.Properties?.PathPart)}`;
  };
  return Object.values(t.findResources('AWS::ApiGateway::Method') as Resources).map(({ Properties: p = {} }) => {
    const auth = p.AuthorizationType === 'AWS_IAM' ? 'iam' : p.ApiKeyRequired === true ? 'client' : 'none';
    return `${String(p.HttpMethod)} ${pathOf(p.ResourceId)} ${auth}`;
  });
}

describe('api', () => {
  it('serves exactly the topology routes, client-key or IAM authenticated as declared', () => {
    const expected = API_ROUTES.map((route) => `${route.method} ${route.path} ${route.auth}`);

    expect(routesInTemplate(template).sort()).toEqual([...expected].sort());
  });

  it.each(API_ROUTES.map((route) => [route.method, route.path, route]))('proxies %s %s to the api handler', (_m, _p, route) => {
    const method = dev.api.methods.get(`${route.method} ${route.path}`);
    if (method === undefined) throw new Error('route not built');

    expectResource(template, idOf(dev, method), {
      AuthorizationType: route.auth === 'iam' ? 'AWS_IAM' : 'NONE',
      Integration: {
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: Match.anyValue(),
      },
    });
    expect(JSON.stringify(propertiesOf(template, idOf(dev, method)).Integration)).toContain(
      idOf(dev, dev.handlers[API_HANDLER].function),
    );
  });

  it.each(CHANNELS)('gives the %s channel a throttled, quota-bound usage plan for its clients\' keys', (channel) => {
    const plans = template.findResources('AWS::ApiGateway::UsagePlan', {
      Properties: {
        UsagePlanName: Match.stringLikeRegexp(`-${channel}$`),
        Throttle: { RateLimit: Match.anyValue(), BurstLimit: Match.anyValue() },
        Quota: { Limit: Match.anyValue(), Period: 'DAY' },
        ApiStages: [Match.objectLike({ ApiId: ref(idOf(dev, dev.api.api)) })],
      },
    });
    const planIds = Object.keys(plans);

    expect(planIds).toEqual([idOf(dev, dev.api.usagePlans[channel])]);
    expect(propertiesOf(template, planIds[0] ?? '').UsagePlanName).toBe(`payments-dev-${channel}`);
  });

  it('names the stage after the deployment stage, throttles it and logs, meters and traces it', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      // The group's ARN without the `:*` suffix its Arn attribute carries (@aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard).
      AccessLogSetting: {
        DestinationArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:', ref(idOf(dev, dev.api.accessLogGroup))]] },
        Format: Match.anyValue(),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'INFO',
          MetricsEnabled: true,
          DataTraceEnabled: false,
          ThrottlingRateLimit: Match.anyValue(),
          ThrottlingBurstLimit: Match.anyValue(),
        }),
      ]),
    });
  });

  it('writes access logs as one JSON object per request', () => {
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage') as Resources)[0];
    const format = (stage?.Properties?.AccessLogSetting as { Format: string }).Format;

    expect(() => JSON.parse(format) as unknown).not.toThrow();
  });

  it.each([
    ['DEFAULT_4XX', undefined],
    ['DEFAULT_5XX', undefined],
    ['MISSING_AUTHENTICATION_TOKEN', '404'],
    ['INVALID_API_KEY', '403'],
    ['ACCESS_DENIED', '403'],
    ['THROTTLED', '429'],
    ['QUOTA_EXCEEDED', '429'],
    ['REQUEST_TOO_LARGE', '413'],
    ['UNSUPPORTED_MEDIA_TYPE', '415'],
  ])('answers %s as an RFC 9457 problem (status %s)', (type, status) => {
    const responses = template.findResources('AWS::ApiGateway::GatewayResponse', {
      Properties: {
        ResponseType: type,
        StatusCode: status ?? Match.absent(),
        ResponseParameters: { 'gatewayresponse.header.Content-Type': "'application/problem+json'" },
      },
    });
    const [response] = Object.values(responses as Resources);
    const body = (response?.Properties?.ResponseTemplates as Record<string, string> | undefined)?.['application/json'] ?? '';

    expect(Object.keys(responses)).toHaveLength(1);
    expect(body).toMatch(/"type": "urn:payments-backbone:problem:[a-z-]+"/);
    expect(body).toMatch(/"title": "[^"]+"/);
    expect(body).toMatch(/"detail": /);
    if (status !== undefined) expect(body).toContain(`"status": ${status}`);
  });

  it('outputs the API URL, every admin role policy ARN, the dead-letter operator policy ARN and every notification topic ARN', () => {
    const outputs = template.findOutputs('*');

    expect(Object.keys(outputs)).toHaveLength(1 + ADMIN_ROLES.length + 1 + notificationTopicNames().length);
    expect(JSON.stringify(outputs.DeadLetterOperatorPolicyArn)).toContain(idOf(dev, dev.deadLetterOperatorPolicy));
    for (const topic of notificationTopicNames()) expect(JSON.stringify(outputs)).toContain(idOf(dev, dev.notificationTopics[topic]));
    expect(JSON.stringify(outputs.ApiUrl)).toContain(idOf(dev, dev.api.api));
    for (const role of ADMIN_ROLES) expect(JSON.stringify(outputs)).toContain(idOf(dev, dev.api.rolePolicies[role]));
  });
});
