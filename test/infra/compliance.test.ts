// What the NIST 800-53, PCI DSS and Serverless packs asked for and the stack fixed rather than
// acknowledged (lib/compliance-acknowledgements.ts has the rest): table backups outside dev, SNS
// deliveries that fail dead-lettered into their queue's DLQ, no inline IAM policies; and the CDK
// feature flags the stack is synthesized with.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../../lib/app.js';
import { queueNames, tableNames, topology } from '../../contract/topology.js';
import { idOf, sharedApp } from '../support/infra-apps.js';

describe('table backups', () => {
  it('puts every table of prod in a daily and monthly AWS Backup plan, in a vault under the stack key that outlives the stack', () => {
    const prod = sharedApp('prod');
    const { stack } = prod;
    const template = prod.template();

    template.resourceCountIs('AWS::Backup::BackupPlan', 1);
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: Match.arrayWith([
          Match.objectLike({ ScheduleExpression: 'cron(0 5 * * ? *)', Lifecycle: { DeleteAfterDays: 35 } }),
          Match.objectLike({ ScheduleExpression: 'cron(0 5 1 * ? *)', Lifecycle: { DeleteAfterDays: 365, MoveToColdStorageAfterDays: 30 } }),
        ]),
      },
    });
    template.hasResource('AWS::Backup::BackupVault', {
      DeletionPolicy: 'Retain',
      Properties: { EncryptionKeyArn: { 'Fn::GetAtt': [idOf(stack, stack.encryptionKey.key), 'Arn'] } },
    });
    const selection = JSON.stringify(template.findResources('AWS::Backup::BackupSelection'));
    for (const table of tableNames()) expect(selection, table).toContain(idOf(stack, stack.tables[table]));
  });

  it('backs nothing up in dev, whose tables are deleted with the stack', () => {
    sharedApp('dev').template().resourceCountIs('AWS::Backup::BackupPlan', 0);
  });
});

describe.each(queueNames())('subscription of queue %s', (queue) => {
  it("dead-letters what SNS cannot deliver into the queue's own DLQ, which lets only that topic send", () => {
    const prod = sharedApp('prod');
    const { stack } = prod;
    const template = prod.template();
    const dlqId = idOf(stack, stack.queues[queue].deadLetterQueue);
    const topicArn = { Ref: idOf(stack, stack.topics[topology.queues[queue].subscription.topic]) };

    template.hasResourceProperties('AWS::SNS::Subscription', {
      Endpoint: { 'Fn::GetAtt': [idOf(stack, stack.queues[queue].queue), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    });
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: dlqId }] } }));
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties.PolicyDocument.Statement;
    // Exactly two: the TLS-only deny, and SNS from this queue's topic. Nothing else may send.
    expect(statements).toHaveLength(2);
    expect(statements.filter((statement) => statement.Effect === 'Allow')).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ]);
    expect(statements.find((statement) => statement.Effect === 'Deny')).toMatchObject({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });
});

describe('IAM', () => {
  it.each(['dev', 'prod'] as const)('has no inline policies in %s: every role policy is customer-managed', (stage) => {
    const template = sharedApp(stage).template();

    template.resourceCountIs('AWS::IAM::Policy', 0);
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect((role as { Properties: { Policies?: unknown } }).Properties.Policies).toBeUndefined();
    }
  });
});

describe('CDK feature flags', () => {
  it('sets in cdk.json every flag the installed aws-cdk-lib recommends (the cdk init defaults), with its recommended value', () => {
    // An aws-cdk-lib upgrade that recommends a new flag fails here: set it, and review what it changes in the template.
    const recommendedPath = createRequire(import.meta.url).resolve('aws-cdk-lib/recommended-feature-flags.json');
    const recommended = JSON.parse(readFileSync(recommendedPath, 'utf8')) as Record<string, unknown>;

    expect(featureFlags()).toEqual(recommended);
  });

  it.each(['dev', 'prod'] as const)('reach the %s app the tests synthesize, not only the CLI', (stage) => {
    const { app } = sharedApp(stage);

    for (const [flag, value] of Object.entries(featureFlags())) expect(app.node.tryGetContext(flag), flag).toEqual(value);
  });
});
