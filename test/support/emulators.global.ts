// Vitest globalSetup for the integration project: starts DynamoDB Local and fauxqs once per run
// and hands their endpoints to every test file (each file then works under its own name prefix).
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSnsSqs } from '../../lib/local/emulators.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    snsSqsEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const [dynamodb, snsSqs] = await Promise.all([startDynamoDbLocal(), startSnsSqs()]);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('snsSqsEndpoint', snsSqs.endpoint);
  return async () => {
    await Promise.all([dynamodb.stop(), snsSqs.stop()]);
  };
}
