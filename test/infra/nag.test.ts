// Proves cdk-nag's four packs (AWS Solutions, NIST 800-53 rev 5, PCI DSS 3.2.1, Serverless) are
// live on the real app: both stages synthesize clean, a non-compliant stack makes synth throw, and
// every acknowledgement is a known, narrow one. The
// stages' apps are synthesized once and shared with the template tests (test/support/infra-apps.ts).
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { registerCompliancePlugins } from '../../lib/app.js';
import { sharedApp } from '../support/infra-apps.js';

/** Every acknowledgement the stack may carry; a new one must be added here, in review. */
const ALLOWED_ACKNOWLEDGEMENTS = new Set([
  'AwsSolutions-IAM5[Resource::*]',
  'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
  'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
  // Only with -c apiGatewayAccountRole=manage: API Gateway's account-level logging role.
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
  'AwsSolutions-APIG4',
  'AwsSolutions-COG4',
  // Client API keys are created at run time; the api function may only disable them (PATCH).
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]',
  // AWS Backup's service role for the table backups (staging, prod).
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
  // lib/compliance-acknowledgements.ts, each with its reason.
  'NIST.800.53.R5-LambdaInsideVPC',
  'PCI.DSS.321-LambdaInsideVPC',
  'NIST.800.53.R5-LambdaDLQ',
  'Serverless-LambdaDLQ',
  'Serverless-LambdaEventSourceMappingDestination',
  'Serverless-SQSRedrivePolicy',
  'Serverless-SNSRedrivePolicy',
  'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted',
  'PCI.DSS.321-APIGWCacheEnabledAndEncrypted',
  'NIST.800.53.R5-APIGWSSLEnabled',
  'PCI.DSS.321-APIGWSSLEnabled',
  // Only where the stage does not retain its data (dev): its tables go with the stack.
  'NIST.800.53.R5-DynamoDBInBackupPlan',
]);

/** An admin role's policy names each of its routes; `*` only where the route has a path parameter. */
const ADMIN_ROUTE_WILDCARD =
  /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<ApiRestApi[0-9A-F]{8}>\/(dev|staging|prod)\/(GET|POST|PUT)(\/[a-z0-9-]+|\/\*)+\]$/;

interface FoundAcknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgementsUnder(root: IConstruct): FoundAcknowledgement[] {
  const found: FoundAcknowledgement[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // aws-cdk-lib records an unprefixed id as `Annotation::<id>`; cdk-nag strips that prefix.
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

/** The message synth throws with, or '' when it does not throw. */
function synthError(app: App): string {
  try {
    app.synth();
    return '';
  } catch (error: unknown) {
    return error instanceof Error ? error.message : String(error);
  }
}

function nonCompliantApp(): { app: App; stack: Stack } {
  const app = new App();
  registerCompliancePlugins(app);
  return { app, stack: new Stack(app, 'NonCompliant') };
}

describe('cdk-nag packs (AWS Solutions, NIST 800-53 rev 5, PCI DSS 3.2.1, Serverless)', () => {
  // prod bundles the handlers for real (esbuild, no Docker), so a bundling regression fails here.
  it.each(['dev', 'staging', 'prod'] as const)('synthesizes the %s app without an unacknowledged finding', (stage) => {
    const { synthError } = sharedApp(stage);

    expect(synthError).toBe('');
  });

  it('fails synth for an unencrypted queue without TLS enforcement or a DLQ', () => {
    const { app, stack } = nonCompliantApp();
    new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.UNENCRYPTED });

    const error = synthError(app);

    expect(error).toMatch(/AwsSolutions-SQS2/); // no server-side encryption
    expect(error).toMatch(/AwsSolutions-SQS3/); // no dead-letter queue
    expect(error).toMatch(/AwsSolutions-SQS4/); // no TLS-only policy
  });

  it('fails synth on the NIST, PCI DSS and Serverless rules too', () => {
    const { app, stack } = nonCompliantApp();
    const fn = new lambda.Function(stack, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {};'),
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['arn:aws:sqs:eu-west-1:123456789012:queue'] }));

    const error = synthError(app);

    expect(error).toMatch(/NIST\.800\.53\.R5-LambdaConcurrency/); // no reserved concurrency
    expect(error).toMatch(/PCI\.DSS\.321-LambdaInsideVPC/);
    expect(error).toMatch(/Serverless-LambdaDLQ/);
    expect(error).toMatch(/NIST\.800\.53\.R5-IAMNoInlinePolicy/); // CDK's default role policy is inline
  });

  it('keeps failing when the acknowledgement names a different finding of the same rule', () => {
    const { app, stack } = nonCompliantApp();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: 'not this finding' });

    const synth = (): unknown => app.synth();

    expect(synth).toThrow(/AwsSolutions-IAM5/);
  });

  it.each(['dev', 'staging', 'prod'] as const)('carries only reviewed acknowledgements in %s, each with a reason', (stage) => {
    const { stack } = sharedApp(stage);

    const found = acknowledgementsUnder(stack);

    expect(found.length).toBeGreaterThan(0);
    for (const { path, id, reason } of found) {
      expect(ALLOWED_ACKNOWLEDGEMENTS.has(id) || ADMIN_ROUTE_WILDCARD.test(id), `${id} at ${path}`).toBe(true);
      expect(reason.length, `${id} at ${path}`).toBeGreaterThan(60);
    }
  });
});
