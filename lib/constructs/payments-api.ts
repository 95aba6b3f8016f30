// The channel-facing REST API: routes from the topology, Lambda proxy to one handler, a usage plan
// per channel (every API client gets its own key in it at issue, so the plan's throttle and quota
// apply per client), IAM for admin routes with one managed policy per admin role, JSON access
// logs and problem+json errors, a WAF web ACL on the stage (./web-acl.ts), and the stage's
// execution log group made here (encrypted, with retention) rather than left to API Gateway.
import { RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiRouteSpec } from '../../contract/topology.js';
import type { AdminRole } from '../../lambdas/core/trust/api-client.js';
import type { WafSettings } from '../stage-settings.js';
import { PROBLEM_CONTENT_TYPE, PROBLEM_RESPONSES, problemStatus, problemTemplate } from './problem-responses.js';
import { ApiWebAcl } from './web-acl.js';
import { acknowledgeApiStage } from '../compliance-acknowledgements.js';

/** Steady-state rate and burst for API Gateway's token bucket. */
export interface ThrottleLimits {
  readonly rateLimitPerSecond: number;
  readonly burstLimit: number;
}

/** What each API client gets in its channel's usage plan: a throttle plus a daily request quota. */
export interface ClientLimits extends ThrottleLimits {
  readonly quotaRequestsPerDay: number;
}

/**
 * Who provides API Gateway's account-level CloudWatch role (one per account and region, shared by
 * every REST API there; execution logging needs it):
 * - `existing`: the account already has one (a landing-zone baseline, another stack, or an earlier
 *   `manage` deploy); this stack does not touch it. A stage cannot log without it, so deploying
 *   into an account without one fails ("CloudWatch Logs role ARN must be set in account settings").
 * - `manage`: this stack creates the role and sets it in the account settings, replacing whichever
 *   role was set; the role is retained when the stack is deleted.
 */
export type ApiGatewayAccountRole = 'existing' | 'manage';

export const API_GATEWAY_ACCOUNT_ROLES = ['existing', 'manage'] as const satisfies readonly ApiGatewayAccountRole[];

/** The CDK context key that chooses it: `cdk deploy -c apiGatewayAccountRole=manage`. */
export const API_GATEWAY_ACCOUNT_ROLE_CONTEXT = 'apiGatewayAccountRole';

/** Never replace an account-wide setting unless asked to. */
export const DEFAULT_API_GATEWAY_ACCOUNT_ROLE: ApiGatewayAccountRole = 'existing';

/** The choice from the `apiGatewayAccountRole` context, or the default; anything else is refused. */
export function apiGatewayAccountRoleOf(scope: Construct): ApiGatewayAccountRole {
  const value: unknown = scope.node.tryGetContext(API_GATEWAY_ACCOUNT_ROLE_CONTEXT) ?? DEFAULT_API_GATEWAY_ACCOUNT_ROLE;
  if (!(API_GATEWAY_ACCOUNT_ROLES as readonly unknown[]).includes(value)) {
    throw new Error(`context "${API_GATEWAY_ACCOUNT_ROLE_CONTEXT}" must be one of ${API_GATEWAY_ACCOUNT_ROLES.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as ApiGatewayAccountRole;
}

/** The log group API Gateway writes a stage's execution logs to (its name is fixed by the service). */
export function executionLogGroupName(restApiId: string, stageName: string): string {
  return `API-Gateway-Execution-Logs_${restApiId}/${stageName}`;
}

export interface PaymentsApiProps<Channel extends string> {
  /** Handler behind every route (Lambda proxy integration). */
  readonly handler: lambda.IFunction;
  /** Routes as declared in the topology. */
  readonly routes: readonly ApiRouteSpec[];
  /** Channels that each get a usage plan (API clients get their keys in it at issue). */
  readonly channels: readonly Channel[];
  /** Admin roles that each get a managed policy for their routes. */
  readonly adminRoles: readonly AdminRole[];
  /** API Gateway stage name (the deployment stage: dev, staging, prod). */
  readonly stageName: string;
  /** Throttle for the whole stage, across channels. */
  readonly stageThrottle: ThrottleLimits;
  /** Throttle and quota of each API client (per key, in its channel's usage plan). */
  readonly clientLimits: ClientLimits;
  /** Customer-managed key for the access, execution and WAF log groups. */
  readonly encryptionKey: kms.IKey;
  /** How long access, execution and WAF logs are kept. */
  readonly accessLogRetention: logs.RetentionDays;
  /** What happens to the log groups when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /** The web ACL's rate limit: the stage's `waf` settings (lib/stage-settings.ts). */
  readonly waf: WafSettings;
  /**
   * Who provides API Gateway's account-level CloudWatch role.
   * @default the `apiGatewayAccountRole` context, else `existing`
   */
  readonly accountRole?: ApiGatewayAccountRole;
}

/** The usage plan of a channel in a stage: the api function finds it by this name. */
export function usagePlanName(stageName: string, channel: string): string {
  return `payments-${stageName}-${channel}`;
}

/** `{id}` and `{proxy+}` path parameters of an API Gateway path template. */
const PATH_PARAMETER = /\{([^}+]+)\+?\}/g;

export class PaymentsApi<Channel extends string> extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /** `API-Gateway-Execution-Logs_<restApiId>/<stage>`, made before the stage can log to it. */
  readonly executionLogGroup: logs.LogGroup;
  readonly webAcl: ApiWebAcl;
  readonly accountRole: ApiGatewayAccountRole;
  /** One usage plan per channel; each API client's key is added to its channel's plan at issue. */
  readonly usagePlans: Readonly<Record<Channel, apigw.UsagePlan>>;
  /** Per admin role: the managed policy that lets a principal call that role's routes, no others. */
  readonly rolePolicies: Readonly<Record<AdminRole, iam.ManagedPolicy>>;
  /** Methods keyed `METHOD /path`, as in the topology's routes. */
  readonly methods: ReadonlyMap<string, apigw.Method>;

  constructor(scope: Construct, id: string, props: PaymentsApiProps<Channel>) {
    super(scope, id);
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    });
    this.accountRole = props.accountRole ?? apiGatewayAccountRoleOf(this);
    this.api = this.createRestApi(props);
    this.executionLogGroup = this.createExecutionLogGroup(props);
    this.webAcl = new ApiWebAcl(this, 'Waf', {
      stageArn: this.api.deploymentStage.stageArn,
      name: Stack.of(this).stackName,
      settings: props.waf,
      encryptionKey: props.encryptionKey,
      logRetention: props.accessLogRetention,
      removalPolicy: props.removalPolicy,
    });
    this.methods = this.addRoutes(props);
    this.usagePlans = this.addChannels(props);
    this.rolePolicies = this.addRolePolicies(props);
    this.addProblemResponses();
    this.acknowledgeFindings();
  }

  private createRestApi(props: PaymentsApiProps<Channel>): apigw.RestApi {
    return new apigw.RestApi(this, 'RestApi', {
      description: `Payments backbone channel API (${props.stageName})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      // Execution logging needs the account-level API Gateway CloudWatch role. It is shared by
      // every API in the account and region: made and set here only when asked (`manage`), and
      // then it outlives this stack.
      cloudWatchRole: this.accountRole === 'manage',
      ...(this.accountRole === 'manage' ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        loggingLevel: apigw.MethodLoggingLevel.INFO,
        // Full request/response bodies would put account ids and amounts into execution logs.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.stageThrottle.rateLimitPerSecond,
        throttlingBurstLimit: props.stageThrottle.burstLimit,
      },
    });
  }

  /**
   * API Gateway would create the execution log group on the stage's first logged request:
   * unencrypted and kept forever. Made here first (the stage depends on it), it has the stack's
   * key and the stage's retention. A stage that has already logged has the group: see
   * docs/OPERATIONS.md "## WAF" on deploying over it.
   */
  private createExecutionLogGroup(props: PaymentsApiProps<Channel>): logs.LogGroup {
    const group = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: executionLogGroupName(this.api.restApiId, props.stageName),
      retention: props.accessLogRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    });
    this.api.deploymentStage.node.addDependency(group);
    return group;
  }

  private addRoutes(props: PaymentsApiProps<Channel>): Map<string, apigw.Method> {
    // No test-invoke permission: console test invocations would bypass keys and usage plans.
    const integration = new apigw.LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });
    // Bodies are validated by the handler against the same zod schemas the local runtime uses,
    // answering 400/422 problem+json; the gateway validator checks the declared path parameters.
    const validator = this.api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const methods = new Map<string, apigw.Method>();
    for (const route of props.routes) {
      const resource = this.api.root.resourceForPath(route.path);
      const requestParameters: Record<string, boolean> = {};
      for (const match of route.path.matchAll(PATH_PARAMETER)) {
        requestParameters[`method.request.path.${String(match[1])}`] = true;
      }
      const method = resource.addMethod(route.method, integration, {
        operationName: route.operation,
        requestValidator: validator,
        requestParameters,
        ...(route.auth === 'iam'
          ? { authorizationType: apigw.AuthorizationType.IAM }
          : { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: true }),
      });
      if (route.auth === 'client') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            "Client routes are authenticated by the function: an RFC 9421 Ed25519 signature by the API client (verified against its public key, bounded in time, over method, path, query, Idempotency-Key and Content-Digest), plus the client's own usage-plan key. Only admin routes use IAM.",
        });
      }
      methods.set(`${route.method} ${route.path}`, method);
    }
    return methods;
  }

  private addChannels(props: PaymentsApiProps<Channel>): Record<Channel, apigw.UsagePlan> {
    const plans: Partial<Record<Channel, apigw.UsagePlan>> = {};
    for (const channel of props.channels) {
      // A usage plan's throttle and quota apply to each API key in it separately: one key per
      // client makes them per-client limits, so one client cannot exhaust its channel.
      plans[channel] = this.api.addUsagePlan(`UsagePlan${channel}`, {
        name: usagePlanName(props.stageName, channel),
        description: `Throttle and daily quota of each ${channel} API client`,
        throttle: {
          rateLimit: props.clientLimits.rateLimitPerSecond,
          burstLimit: props.clientLimits.burstLimit,
        },
        quota: { limit: props.clientLimits.quotaRequestsPerDay, period: apigw.Period.DAY },
        apiStages: [{ api: this.api.deploymentStage.restApi, stage: this.api.deploymentStage }],
      });
    }
    return plans as Record<Channel, apigw.UsagePlan>;
  }

  /** One managed policy per admin role: execute-api:Invoke on exactly that role's routes. */
  private addRolePolicies(props: PaymentsApiProps<Channel>): Record<AdminRole, iam.ManagedPolicy> {
    const policies: Partial<Record<AdminRole, iam.ManagedPolicy>> = {};
    for (const role of props.adminRoles) {
      const routes = props.routes.filter((route) => route.auth === 'iam' && route.role === role);
      policies[role] = new iam.ManagedPolicy(this, `AdminRole${role[0]?.toUpperCase() ?? ''}${role.slice(1)}`, {
        description: `payments ${props.stageName}: the ${role} admin role's routes, nothing else`,
        statements: [
          new iam.PolicyStatement({
            actions: ['execute-api:Invoke'],
            resources: routes.map((route) => this.api.arnForExecuteApi(route.method, route.path.replace(PATH_PARAMETER, '*'), props.stageName)),
          }),
        ],
      });
      const restApiId = Stack.of(this).getLogicalId(this.api.node.defaultChild as CfnElement);
      for (const route of routes.filter((candidate) => candidate.path.includes('{'))) {
        Validations.of(policies[role]).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${restApiId}>/${props.stageName}/${route.method}${route.path.replace(PATH_PARAMETER, '*')}]`,
          reason: `One route of the ${role} role (${route.method} ${route.path}); the * stands for its path parameter (an account, alert, institution, client or window id), which an admin of that role must be able to address.`,
        });
      }
    }
    return policies as Record<AdminRole, iam.ManagedPolicy>;
  }

  private addProblemResponses(): void {
    for (const response of PROBLEM_RESPONSES) {
      const status = problemStatus(response);
      this.api.addGatewayResponse(`Problem${response.type.responseType}`, {
        type: response.type,
        ...(status === undefined ? {} : { statusCode: String(status) }),
        responseHeaders: { 'Content-Type': `'${PROBLEM_CONTENT_TYPE}'` },
        templates: { 'application/json': problemTemplate(response) },
      });
    }
  }

  private acknowledgeFindings(): void {
    acknowledgeApiStage(this.api.deploymentStage);
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole !== undefined) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level logging role must be able to create and write any API's execution log groups; this AWS-managed policy is the one AWS documents for it.",
      });
    }
    for (const method of this.methods.values()) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          "Callers are machines, not users: API clients sign every request (RFC 9421, Ed25519) and carry their own usage-plan key; admin routes use IAM SigV4 with one managed policy per role. There is no Cognito user pool.",
      });
    }
  }
}

/** Access-log record: one JSON object per request, no request bodies. */
const ACCESS_LOG_FIELDS = {
  requestId: apigw.AccessLogField.contextRequestId(),
  extendedRequestId: apigw.AccessLogField.contextExtendedRequestId(),
  requestTime: apigw.AccessLogField.contextRequestTime(),
  httpMethod: apigw.AccessLogField.contextHttpMethod(),
  resourcePath: apigw.AccessLogField.contextResourcePath(),
  status: apigw.AccessLogField.contextStatus(),
  protocol: apigw.AccessLogField.contextProtocol(),
  responseLength: apigw.AccessLogField.contextResponseLength(),
  responseLatencyMs: apigw.AccessLogField.contextResponseLatency(),
  integrationStatus: apigw.AccessLogField.contextIntegrationStatus(),
  integrationLatencyMs: apigw.AccessLogField.contextIntegrationLatency(),
  errorType: apigw.AccessLogField.contextErrorResponseType(),
  errorMessage: apigw.AccessLogField.contextErrorMessage(),
  sourceIp: apigw.AccessLogField.contextIdentitySourceIp(),
  userAgent: apigw.AccessLogField.contextIdentityUserAgent(),
  apiKeyId: apigw.AccessLogField.contextIdentityApiKeyId(),
  callerArn: apigw.AccessLogField.contextIdentityUserArn(),
  xrayTraceId: apigw.AccessLogField.contextXrayTraceId(),
} as const;
