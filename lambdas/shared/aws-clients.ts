// AWS SDK v3 clients for handlers. On Lambda the defaults apply; locally the endpoint comes from
// AWS_ENDPOINT_URL (which the SDK reads itself) or from explicit options in tests.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface ClientOptions {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** SDK attempts per request (standard retry mode with backoff). @default 3 */
  readonly maxAttempts?: number;
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
}

export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const config = {
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: options.maxAttempts ?? 3,
  };
  return { dynamodb: new DynamoDBClient(config), sns: new SNSClient(config), sqs: new SQSClient(config) };
}
