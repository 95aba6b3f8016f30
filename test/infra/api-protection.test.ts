// Proves what stands in front of the API stage and where its logs go: a WAF web ACL with the rate
// rule and both AWS managed groups, associated with the stage in every stage; the execution log
// group made by the stack (KMS key, retention) before the stage can log; and API Gateway's
// account-wide CloudWatch role touched only when the `apiGatewayAccountRole` context asks for it.
// The dev and prod apps are the shared ones (test/support/infra-apps.ts); the context-flag cases
// build the API construct alone in a small stack, so no further full synth is needed.
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, CHANNELS } from '../../contract/topology.js';
import { ADMIN_ROLES } from '../../lambdas/core/trust/api-client.js';
import { API_BODY_BYTES_MAX } from '../../lambdas/api/http.js';
import { API_GATEWAY_ACCOUNT_ROLE_CONTEXT, PaymentsApi, type ApiGatewayAccountRole } from '../../lib/constructs/payments-api.js';
import { MANAGED_RULE_GROUPS, WAF_LOG_GROUP_PREFIX, WAF_REDACTED_HEADERS } from '../../lib/constructs/web-acl.js';
import { operationalSettings, STAGE_SETTINGS } from '../../lib/stage-settings.js';
import { idOf, sharedApp, type SharedStage } from '../support/infra-apps.js';

/** The Common rule set's SizeRestrictions_BODY limit (AWS managed rule groups list). */
const COMMON_RULE_SET_BODY_LIMIT_BYTES = 8_192;

const STAGES: readonly SharedStage[] = ['dev', 'prod'];
const RETENTION_DAYS: Record<SharedStage, number> = { dev: 7, staging: 30, prod: 365 };

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

describe.each(STAGES)('the %s stage', (stage) => {
  const context = () => {
    const { stack } = sharedApp(stage);
    const template = sharedApp(stage).template();
    return { stack, template, resources: template.toJSON().Resources as Resources };
  };

  it('has a REGIONAL web ACL with the per-IP rate rule and both AWS managed rule groups, metrics and samples on', () => {
    const { template } = context();
    const visibility = Match.objectLike({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true });

    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      VisibilityConfig: visibility,
      Rules: [
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Statement: {
            RateBasedStatement: { AggregateKeyType: 'IP', Limit: STAGE_SETTINGS[stage].waf.rateLimitPerIp, EvaluationWindowSec: STAGE_SETTINGS[stage].waf.rateWindowSeconds },
          },
          Action: { Block: { CustomResponse: Match.objectLike({ ResponseCode: 429 }) } },
          VisibilityConfig: visibility,
        }),
        Match.objectLike({
          Name: 'AWSManagedRulesKnownBadInputsRuleSet',
          Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          OverrideAction: { None: {} },
          VisibilityConfig: visibility,
        }),
        Match.objectLike({
          Name: 'AWSManagedRulesCommonRuleSet',
          Statement: { ManagedRuleGroupStatement: Match.objectLike({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }) },
          OverrideAction: { None: {} },
          VisibilityConfig: visibility,
        }),
      ],
    });
  });

  it('counts, rather than blocks, bodies over 8 KB (the API accepts up to 256 KB) and long query strings', () => {
    const { template } = context();
    expect(API_BODY_BYTES_MAX).toBeGreaterThan(COMMON_RULE_SET_BODY_LIMIT_BYTES);

    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [
                { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
                { Name: 'SizeRestrictions_QUERYSTRING', ActionToUse: { Count: {} } },
              ],
            }),
          },
        }),
      ]),
    });
  });

  it('associates the web ACL with the API stage', () => {
    const { stack, template } = context();
    const restApiId = idOf(stack, stack.api.api);
    const stageId = idOf(stack, stack.api.api.deploymentStage);
    const webAclId = stack.getLogicalId(stack.api.webAcl.webAcl);

    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [webAclId, 'Arn'] },
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: restApiId }, '/stages/', { Ref: stageId }])] },
    });
  });

  it('logs what the web ACL blocked or counted to an encrypted aws-waf-logs- group, credentials redacted', () => {
    const { stack, template } = context();
    const keyArn = { 'Fn::GetAtt': [idOf(stack, stack.encryptionKey.key), 'Arn'] };
    const name = `${WAF_LOG_GROUP_PREFIX}${stack.stackName}`;

    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: name, KmsKeyId: keyArn, RetentionInDays: RETENTION_DAYS[stage] });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      LogDestinationConfigs: [{ 'Fn::Join': ['', Match.arrayWith([`:log-group:${name}`])] }],
      RedactedFields: WAF_REDACTED_HEADERS.map((header) => ({ SingleHeader: { Name: header } })),
      LoggingFilter: Match.objectLike({ DefaultBehavior: 'DROP' }),
    });
  });

  it('makes the execution log group itself, with the stack key and the stage retention, before the stage', () => {
    const { stack, resources } = context();
    const restApiId = idOf(stack, stack.api.api);
    const groupId = idOf(stack, stack.api.executionLogGroup);
    const group = resources[groupId];

    expect(group?.Type).toBe('AWS::Logs::LogGroup');
    expect(group?.Properties).toMatchObject({
      LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: restApiId }, `/${stage}`]] },
      KmsKeyId: { 'Fn::GetAtt': [idOf(stack, stack.encryptionKey.key), 'Arn'] },
      RetentionInDays: RETENTION_DAYS[stage],
    });
    expect(resources[idOf(stack, stack.api.api.deploymentStage)]?.DependsOn).toContain(groupId);
  });

  it('leaves the account-wide API Gateway CloudWatch role alone by default', () => {
    const { stack, template } = context();

    expect(stack.api.accountRole).toBe('existing');
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(stack.api.api.node.tryFindChild('CloudWatchRole')).toBeUndefined();
  });
});

it('keeps every count-only managed rule explained', () => {
  for (const group of MANAGED_RULE_GROUPS) {
    for (const [rule, reason] of Object.entries(group.countOnly)) expect(reason.length, `${group.name} ${rule}`).toBeGreaterThan(60);
  }
});

/** The API construct alone, with the given context (no compliance packs: the stand-in handler is not the real one). */
function apiAlone(context: Record<string, unknown>): { app: App; stack: Stack; api: PaymentsApi<(typeof CHANNELS)[number]> } {
  const app = new App({ context });
  const stack = new Stack(app, 'ApiAlone');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const handler = new lambda.Function(stack, 'Handler', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "" });'),
  });
  const api = new PaymentsApi(stack, 'Api', {
    handler,
    routes: API_ROUTES,
    channels: CHANNELS,
    adminRoles: ADMIN_ROLES,
    stageName: 'staging',
    stageThrottle: { rateLimitPerSecond: 10, burstLimit: 20 },
    clientLimits: { rateLimitPerSecond: 1, burstLimit: 2, quotaRequestsPerDay: 100 },
    waf: operationalSettings('staging').waf,
    encryptionKey: key,
    accessLogRetention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return { app, stack, api };
}

describe(`the ${API_GATEWAY_ACCOUNT_ROLE_CONTEXT} context`, () => {
  it.each<[ApiGatewayAccountRole, number]>([
    ['existing', 0],
    ['manage', 1],
  ])('%s: %i account settings resources', (choice, accounts) => {
    const { stack, api } = apiAlone({ [API_GATEWAY_ACCOUNT_ROLE_CONTEXT]: choice });

    const template = Template.fromStack(stack);

    expect(api.accountRole).toBe(choice);
    template.resourceCountIs('AWS::ApiGateway::Account', accounts);
    if (choice === 'manage') {
      const roleId = idOf(stack, api.api.node.findChild('CloudWatchRole'));
      template.hasResource('AWS::IAM::Role', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ ManagedPolicyArns: Match.anyValue() }) });
      template.hasResourceProperties('AWS::ApiGateway::Account', { CloudWatchRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    }
  });

  it('takes the staging WAF rate limit from the stage settings', () => {
    const { stack } = apiAlone({});

    Template.fromStack(stack).hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: STAGE_SETTINGS.staging.waf.rateLimitPerIp }) } })]),
    });
  });

  it('refuses any other value', () => {
    expect(() => apiAlone({ [API_GATEWAY_ACCOUNT_ROLE_CONTEXT]: 'overwrite' })).toThrow(/must be one of existing, manage/);
  });
});
