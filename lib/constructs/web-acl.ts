// The AWS WAFv2 web ACL in front of the API stage: a per-IP rate-based rule, then AWS's
// known-bad-inputs and common rule groups, CloudWatch metrics and sampled requests on every rule,
// and logs of what the ACL blocked or counted (never of what it allowed: that is the access log's job).
// docs/OPERATIONS.md "## WAF" says what each rule does and how to read its metrics.
import { ArnFormat, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { PROBLEM_TYPES } from '../../contract/problems.js';
import { ApiProblem, problemDocument } from '../../lambdas/api/problems.js';
import type { WafSettings } from '../stage-settings.js';

/** An AWS managed rule group, with the rules of it that only count. */
export interface ManagedRuleGroup {
  readonly name: string;
  /** Rules overridden to COUNT (they label and log the request, never block it), each with its reason. */
  readonly countOnly: Readonly<Record<string, string>>;
}

/**
 * The managed groups, in evaluation order (both are free of any subscription fee). The common
 * rule set's size rules are stricter than this API's own limits, which the API enforces with its
 * own problem+json answers; they count instead of blocking.
 */
export const MANAGED_RULE_GROUPS: readonly ManagedRuleGroup[] = [
  { name: 'AWSManagedRulesKnownBadInputsRuleSet', countOnly: {} },
  {
    name: 'AWSManagedRulesCommonRuleSet',
    countOnly: {
      SizeRestrictions_BODY:
        'Blocks bodies over 8 KB; the API accepts up to 262,144 bytes (API_BODY_BYTES_MAX, x-max-body-bytes in docs/openapi.yaml) and answers 413 payload-too-large beyond that itself.',
      SizeRestrictions_QUERYSTRING:
        'Blocks query strings over 2 KB; the API issues list cursors of up to 2,048 characters, so cursor= plus a filter can exceed it. The handler refuses unknown parameters and over-long cursors (400 invalid-query).',
    },
  },
];

/** Prefix WAF requires of a CloudWatch Logs destination. */
export const WAF_LOG_GROUP_PREFIX = 'aws-waf-logs-';

/** Headers never written to WAF logs: credentials and signatures. */
export const WAF_REDACTED_HEADERS = ['x-api-key', 'x-admin-key', 'authorization', 'x-amz-security-token', 'signature'] as const;

export interface ApiWebAclProps {
  /** ARN of the API Gateway stage the ACL protects. */
  readonly stageArn: string;
  /** Used in metric names and the log group name (letters, digits, `-` and `_`). */
  readonly name: string;
  readonly settings: WafSettings;
  /** Customer-managed key of the WAF log group. */
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

const RATE_LIMITED_BODY_KEY = 'too-many-requests';

export class ApiWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly association: wafv2.CfnWebACLAssociation;
  readonly logGroup: logs.LogGroup;
  readonly loggingConfiguration: wafv2.CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: ApiWebAclProps) {
    super(scope, id);
    const metric = (rule: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${props.name}-${rule}`,
    });
    const tooManyRequests = PROBLEM_TYPES['too-many-requests'];
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      description: `Rate limit per source IP and AWS managed rules in front of the ${props.name} API stage`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: metric('WebAcl'),
      // The rate rule answers in the API's own error format (WAF cannot set Content-Type to
      // application/problem+json, nor a Retry-After header: it prefixes custom headers).
      customResponseBodies: {
        [RATE_LIMITED_BODY_KEY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(
            problemDocument(
              new ApiProblem('too-many-requests', `More than ${props.settings.rateLimitPerIp} requests from this address in ${props.settings.rateWindowSeconds} seconds; retry later with the same Idempotency-Key.`),
            ),
          ),
        },
      },
      rules: [
        {
          // First, so a flood is cut before the managed groups spend capacity on it.
          name: 'RateLimitPerIp',
          priority: 0,
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              limit: props.settings.rateLimitPerIp,
              evaluationWindowSec: props.settings.rateWindowSeconds,
            },
          },
          action: { block: { customResponse: { responseCode: tooManyRequests.status, customResponseBodyKey: RATE_LIMITED_BODY_KEY } } },
          visibilityConfig: metric('RateLimitPerIp'),
        },
        ...MANAGED_RULE_GROUPS.map((group, index): wafv2.CfnWebACL.RuleProperty => ({
          name: group.name,
          priority: index + 1,
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: group.name,
              ...(Object.keys(group.countOnly).length === 0
                ? {}
                : { ruleActionOverrides: Object.keys(group.countOnly).map((name) => ({ name, actionToUse: { count: {} } })) }),
            },
          },
          overrideAction: { none: {} },
          visibilityConfig: metric(group.name),
        })),
      ],
    });
    this.association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    const logGroupName = `${WAF_LOG_GROUP_PREFIX}${props.name}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    });
    const stack = Stack.of(this);
    this.loggingConfiguration = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the log group's ARN without the `:*` that CloudFormation's Arn attribute ends in.
      logDestinationConfigs: [
        stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
      redactedFields: WAF_REDACTED_HEADERS.map((name) => ({ singleHeader: { Name: name } })),
      // Only what a rule blocked or counted: logging every allowed request would cost more than
      // the ACL and duplicate the access log.
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: ['BLOCK', 'COUNT', 'EXCLUDED_AS_COUNT'].map((action) => ({ ActionCondition: { Action: action } })),
          },
        ],
      },
    });
    this.loggingConfiguration.node.addDependency(this.logGroup);
  }
}
