// The channel-facing REST API: routes from the topology, Lambda proxy to one handler, an API key
// and usage plan per channel, IAM for admin routes, JSON access logs and problem+json errors.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiRouteSpec } from '../topology.js';
import { PROBLEM_CONTENT_TYPE, PROBLEM_RESPONSES, problemStatus, problemTemplate } from './problem-responses.js';

/** Steady-state rate and burst for API Gateway's token bucket. */
export interface ThrottleLimits {
  readonly rateLimitPerSecond: number;
  readonly burstLimit: number;
}

/** A channel's usage plan: its own throttle plus a daily request quota. */
export interface ChannelLimits extends ThrottleLimits {
  readonly quotaRequestsPerDay: number;
}

export interface PaymentsApiProps<Channel extends string> {
  /** Handler behind every route (Lambda proxy integration). */
  readonly handler: lambda.IFunction;
  /** Routes as declared in the topology. */
  readonly routes: readonly ApiRouteSpec[];
  /** Channels that each get an API key and a usage plan. */
  readonly channels: readonly Channel[];
  /** API Gateway stage name (the deployment stage: dev, staging, prod). */
  readonly stageName: string;
  /** Throttle for the whole stage, across channels. */
  readonly stageThrottle: ThrottleLimits;
  /** Throttle and quota for each channel's usage plan. */
  readonly channelLimits: ChannelLimits;
  /** Customer-managed key for the access-log group. */
  readonly encryptionKey: kms.IKey;
  /** How long access logs are kept. */
  readonly accessLogRetention: logs.RetentionDays;
  /** What happens to the access-log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/** `{id}` and `{proxy+}` path parameters of an API Gateway path template. */
const PATH_PARAMETER = /\{([^}+]+)\+?\}/g;

export class PaymentsApi<Channel extends string> extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /** One key per channel; the api handler maps a request's key id back to its channel. */
  readonly apiKeys: Readonly<Record<Channel, apigw.IApiKey>>;
  /** Methods keyed `METHOD /path`, as in the topology's routes. */
  readonly methods: ReadonlyMap<string, apigw.Method>;

  constructor(scope: Construct, id: string, props: PaymentsApiProps<Channel>) {
    super(scope, id);
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    });
    this.api = this.createRestApi(props);
    this.methods = this.addRoutes(props);
    this.apiKeys = this.addChannels(props);
    this.addProblemResponses();
    this.acknowledgeFindings();
  }

  private createRestApi(props: PaymentsApiProps<Channel>): apigw.RestApi {
    return new apigw.RestApi(this, 'RestApi', {
      description: `Payments backbone channel API (${props.stageName})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      // Execution logging needs the account-level API Gateway CloudWatch role. It is shared by
      // every API in the account and region, so it outlives this stack.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
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
      if (route.auth === 'apiKey') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Channel routes authenticate the calling channel by its API key, each key bound to its own usage plan; the handler maps the key id to the channel. Only admin routes use IAM.',
        });
      }
      methods.set(`${route.method} ${route.path}`, method);
    }
    return methods;
  }

  private addChannels(props: PaymentsApiProps<Channel>): Record<Channel, apigw.IApiKey> {
    const keys: Partial<Record<Channel, apigw.IApiKey>> = {};
    for (const channel of props.channels) {
      const key = new apigw.ApiKey(this, `ApiKey${channel}`, {
        description: `payments ${channel} channel (${props.stageName})`,
        enabled: true,
      });
      const plan = this.api.addUsagePlan(`UsagePlan${channel}`, {
        name: `payments-${props.stageName}-${channel}`,
        description: `Throttle and daily quota of the ${channel} channel`,
        throttle: {
          rateLimit: props.channelLimits.rateLimitPerSecond,
          burstLimit: props.channelLimits.burstLimit,
        },
        quota: { limit: props.channelLimits.quotaRequestsPerDay, period: apigw.Period.DAY },
        apiStages: [{ api: this.api.deploymentStage.restApi, stage: this.api.deploymentStage }],
      });
      plan.addApiKey(key);
      keys[channel] = key;
    }
    return keys as Record<Channel, apigw.IApiKey>;
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
          'Callers are machines, not users: channels authenticate with per-channel API keys bound to usage plans, admin routes with IAM SigV4. There is no Cognito user pool.',
      });
    }
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL in this stack: per-channel API keys, usage-plan throttles/quotas and stage throttling bound abuse, and a WAF block would bypass the problem+json gateway responses. Attach an account-level web ACL in the deployment baseline if required.',
    });
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
