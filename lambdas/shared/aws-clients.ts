// AWS SDK v3 clients for handlers. On Lambda the defaults apply. Elsewhere the endpoints come from
// the handler's environment, with the SDK's own variable names (AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_DYNAMODB / _SNS / _SQS), read from the environment object the
// composition root is given rather than from process.env, so several handler instances with
// different bindings can live in one process (the local runtime, tests).
//
// One factory per service: a handler builds only the clients it uses, so its bundle carries only
// those clients (esbuild drops an SDK package nothing calls into; the SDK is side-effect free).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Environment } from './env.js';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface ClientOptions {
  /** One endpoint for every service (LocalStack style). */
  readonly endpoint?: string;
  readonly dynamodbEndpoint?: string;
  readonly snsEndpoint?: string;
  readonly sqsEndpoint?: string;
  readonly region?: string;
  readonly credentials?: Credentials;
  /** SDK attempts per request (standard retry mode with backoff). @default 3 */
  readonly maxAttempts?: number;
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
}

type CommonConfig = Pick<ClientOptions, 'region' | 'credentials'> & { readonly maxAttempts: number };

function commonConfig(options: ClientOptions): CommonConfig {
  return {
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: options.maxAttempts ?? 3,
  };
}

function endpointOf(options: ClientOptions, specific: string | undefined): { endpoint?: string } {
  const chosen = specific ?? options.endpoint;
  return chosen !== undefined ? { endpoint: chosen } : {};
}

export function createDynamoDBClient(options: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient({ ...commonConfig(options), ...endpointOf(options, options.dynamodbEndpoint) });
}

export function createSnsClient(options: ClientOptions = {}): SNSClient {
  return new SNSClient({ ...commonConfig(options), ...endpointOf(options, options.snsEndpoint) });
}

export function createSqsClient(options: ClientOptions = {}): SQSClient {
  return new SQSClient({ ...commonConfig(options), ...endpointOf(options, options.sqsEndpoint) });
}

/** All three clients (the local runtime, tools and tests); handlers build only the ones they use. */
export function createAwsClients(options: ClientOptions = {}): AwsClients {
  return {
    dynamodb: createDynamoDBClient(options),
    sns: createSnsClient(options),
    sqs: createSqsClient(options),
  };
}

/** Client options from a handler environment; on Lambda none of these are set. */
export function clientOptionsFromEnv(env: Environment): ClientOptions {
  const pick = (name: string): Record<string, string> => {
    const value = env[name];
    return value !== undefined && value !== '' ? { [name]: value } : {};
  };
  const values = {
    ...pick('AWS_ENDPOINT_URL'),
    ...pick('AWS_ENDPOINT_URL_DYNAMODB'),
    ...pick('AWS_ENDPOINT_URL_SNS'),
    ...pick('AWS_ENDPOINT_URL_SQS'),
    ...pick('AWS_REGION'),
  };
  return {
    ...(values.AWS_ENDPOINT_URL !== undefined ? { endpoint: values.AWS_ENDPOINT_URL } : {}),
    ...(values.AWS_ENDPOINT_URL_DYNAMODB !== undefined ? { dynamodbEndpoint: values.AWS_ENDPOINT_URL_DYNAMODB } : {}),
    ...(values.AWS_ENDPOINT_URL_SNS !== undefined ? { snsEndpoint: values.AWS_ENDPOINT_URL_SNS } : {}),
    ...(values.AWS_ENDPOINT_URL_SQS !== undefined ? { sqsEndpoint: values.AWS_ENDPOINT_URL_SQS } : {}),
    ...(values.AWS_REGION !== undefined ? { region: values.AWS_REGION } : {}),
  };
}
