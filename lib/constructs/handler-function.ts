// One topology handler as a Lambda function: esbuild-bundled ESM, ARM64, X-Ray active tracing (the
// Lambda service's segments; no X-Ray SDK in the bundle, see lambdas/shared/observability.ts), its
// own encrypted log group and its own role (grants are added by the stack from the topology bindings).
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, type HandlerSpec } from '../../contract/topology.js';
import { acknowledgeOutsideVpc } from '../compliance-acknowledgements.js';

/**
 * Size budget for each handler's deployment package: index.mjs deflated as in the zip Lambda
 * fetches on a cold start (KB = 1,000 bytes), asserted on the prod synth by
 * test/infra/bundle-budget.test.ts; `npm run bundle:report` prints sizes and import CPU.
 */
export const BUNDLE_ZIPPED_BUDGET_BYTES = 250 * 1000;

/** A bundle's index.mjs as the deployment zip carries it (deflate, best compression): what BUNDLE_ZIPPED_BUDGET_BYTES bounds. */
export function zippedBundleBytes(code: Uint8Array): number {
  return deflateRawSync(code, { level: 9 }).length;
}

/**
 * Ceiling for each handler's index.mjs as it is (minified). The 250 KB is out of reach with
 * the SDK bundled: the DynamoDB, SNS and SQS clients with @smithy/core come to about 300 KB on
 * their own. Bundling the SDK stays (imported from the runtime's node_modules it cost 366 ms of CPU
 * against 155 ms bundled, measured), so this ceiling sits above today's largest bundle (api,
 * 615 KB) and fails if the SDK's full credential chain (+120 KB) or zod's locales (+357 KB) return.
 */
export const BUNDLE_BUDGET_BYTES = 650 * 1000;

/** Target CPU for importing a handler bundle (init-phase wiring included); measured, not asserted. */
export const IMPORT_BUDGET_CPU_MS = 150;

/** Replaces @aws-sdk/credential-provider-node in every bundle (relative to the project root). */
export const LAMBDA_CREDENTIALS_MODULE = 'lambdas/shared/lambda-credentials.ts';

/** Powertools log levels (POWERTOOLS_LOG_LEVEL). */
export type HandlerLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * esbuild emits ESM, but some bundled CommonJS dependencies still call `require` for Node
 * built-ins; this banner gives them one. The alias avoids clashing with a bundled `createRequire`.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);";

export interface HandlerFunctionProps {
  /** The handler as declared in the topology. */
  readonly spec: HandlerSpec;
  /** Repository root: `spec.entry` is relative to it and its package-lock.json pins the bundle. */
  readonly projectRoot: string;
  /** Binding env vars (table names, topic ARNs, DLQ URLs...) computed by the stack. */
  readonly bindings: Readonly<Record<string, string>>;
  /** Deployment stage, exposed to the code as STAGE. */
  readonly stage: string;
  /** Powertools log level. */
  readonly logLevel: HandlerLogLevel;
  /** How long the function's log group keeps events. */
  readonly logRetention: logs.RetentionDays;
  /** Ship source maps and enable them at run time (see PaymentsStackProps.sourceMaps). */
  readonly sourceMaps: boolean;
  /** Customer-managed key for the log group. */
  readonly encryptionKey: kms.IKey;
  /** What happens to the log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/** The AWS services a handler uses the stack key through (never directly). */
export type KeyService = 'dynamodb' | 'sqs' | 'sns';

/**
 * A handler's role that keeps every KMS grant to use through one service: a statement with a
 * `kms:` action added while `keyGrantsVia(service, ...)` runs gets a `kms:ViaService` condition
 * naming that service in this region; one added outside it fails synth. CDK's grants (topic
 * publish, queue send, the SQS event source) add their key statements through here.
 */
export class KeyScopedRole extends iam.Role {
  #via: KeyService | undefined;
  #policy: iam.ManagedPolicy | undefined;

  /**
   * The role's permissions: a customer-managed policy of its own in place of CDK's inline default
   * policy (NIST 800-53 AC-6, PCI DSS 7.2: no inline policies). A child of the role, so whatever
   * depends on the role (the function, and through it its event sources) waits for it.
   */
  get policy(): iam.ManagedPolicy {
    this.#policy ??= new iam.ManagedPolicy(this, 'Policy', { roles: [this], description: `${this.node.path} permissions` });
    return this.#policy;
  }

  /** Runs `grant`, conditioning the KMS statements it adds on use through `service`. */
  keyGrantsVia<T>(service: KeyService, grant: () => T): T {
    if (this.#via !== undefined) throw new Error(`keyGrantsVia(${service}) inside keyGrantsVia(${this.#via})`);
    this.#via = service;
    try {
      return grant();
    } finally {
      this.#via = undefined;
    }
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const usesKms = statement.actions.some((action) => action.startsWith('kms:'));
    const conditioned = JSON.stringify(statement.conditions).includes('kms:ViaService');
    if (usesKms && !conditioned) {
      if (this.#via === undefined) {
        throw new Error(`${this.node.path}: KMS statement (${statement.actions.join(', ')}) without kms:ViaService; add it inside keyGrantsVia(service, ...)`);
      }
      statement.addCondition('StringEquals', { 'kms:ViaService': `${this.#via}.${Stack.of(this).region}.amazonaws.com` });
    }
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

export class HandlerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: KeyScopedRole;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const { spec } = props;
    // An explicit log group (instead of the `logRetention` prop) keeps CDK from adding its
    // log-retention custom-resource Lambda, and lets us encrypt the group with the stack key.
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    });
    // Our own role instead of the default one, which carries the AWS-managed
    // AWSLambdaBasicExecutionRole (logs on every log group in the account).
    this.role = new KeyScopedRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `payments ${spec.name} handler`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(props.projectRoot, spec.entry),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(spec.timeoutSeconds),
      memorySize: spec.memorySizeMb,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        // The topology's bindings and service name (contract/topology.ts handlerEnvironment).
        ...props.bindings,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        STAGE: props.stage,
        ...(props.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        // Prefer ESM builds of dependencies so esbuild can tree-shake them.
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        // Function and class names survive minification, so a stack trace without a source map
        // still says where it failed.
        keepNames: true,
        // Source maps (without the sources) where the stage wants them: Node parses the map as the
        // bundle loads, about 25 ms of import CPU per cold start (api bundle: 136 ms with, 112 ms
        // without, measured).
        sourceMap: props.sourceMaps,
        ...(props.sourceMaps ? { sourcesContent: false } : {}),
        // Ship the SDK versions pinned in package-lock.json (the ones the tests ran against),
        // not whatever SDK the managed runtime carries this week. Bundled, it also imports faster:
        // 155 ms of CPU against 366 ms from node_modules (posting handler, measured).
        bundleAwsSDK: true,
        externalModules: [],
        // The SDK's default credential chain, minus the links that never answer on Lambda
        // (lambdas/shared/lambda-credentials.ts): about 120 KB less per bundle.
        esbuildArgs: { '--alias': [`@aws-sdk/credential-provider-node=${path.join(props.projectRoot, LAMBDA_CREDENTIALS_MODULE)}`] },
        // Bundle with the repository's esbuild; never fall back to Docker.
        forceDockerBundling: false,
      },
    });
    this.acknowledgeServiceWildcards();
    acknowledgeOutsideVpc(this.function);
  }

  /**
   * Wildcards that come from services, not from us. Acknowledged on the role's policy only, one
   * finding id each. cdk-nag names a `Resource: *` finding by the resource alone, so this
   * acknowledgement would also cover a later `*` statement of any action in the same policy:
   * test/infra/least-privilege.test.ts fails on any `*` resource but the X-Ray pair's.
   */
  private acknowledgeServiceWildcards(): void {
    const policy = this.role.policy;
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so AWS requires Resource "*".',
    });
    // CDK's grants on the stack's one customer-managed key (DynamoDB, SQS and SNS encryption).
    const kmsReason =
      "CDK grant on the stack's single customer-managed key for encrypted DynamoDB/SQS/SNS access: the resource is that one key ARN; the wildcard only spans the action's variants";
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: `${kmsReason} (GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateDataKeyPair...).`,
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason: `${kmsReason} (ReEncryptFrom, ReEncryptTo), included by CDK's DynamoDB read-write and SQS send grants on a customer-managed key.`,
    });
  }
}
