// API clients and the api handler for tests: clients issued through the same use case the admin API uses (a DynamoDB client
// record, a usage key from the local key store), with the credentials a participant would keep.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { DynamoClientStore } from '../../lambdas/adapters/dynamodb/client-store.js';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { createApiHandler, type ApiHandlerDependencies } from '../../lambdas/api/handler.js';
import { createLambdaContext } from '../../lib/local/lambda-context.js';
import { proxyEvent, type TestRequest } from './api-events.js';
import type { ApiClientRecord, ClientChannel, ClientStore } from '../../lambdas/core/trust/api-client.js';
import { issueClient } from '../../lambdas/core/trust/issue-client.js';
import type { ClientCredentials } from '../../lib/local/credentials.js';
import { LocalUsageKeys } from '../../lib/local/usage-keys.js';
import type { TestWorld } from './world.js';

export interface TestClient {
  readonly credentials: ClientCredentials;
  /** What API Gateway would hand the function as identity.apiKeyId for this client's key. */
  readonly usageKeyId: string;
  readonly record: ApiClientRecord;
}

export interface ClientPorts {
  readonly clients: ClientStore;
  readonly usageKeys: LocalUsageKeys;
}

export function clientPortsOf(world: Pick<TestWorld, 'clients' | 'bindings'>): ClientPorts {
  return {
    clients: new DynamoClientStore(world.clients.dynamodb, world.bindings.tables.participants),
    usageKeys: new LocalUsageKeys({ throttle: { rateLimitPerSecond: 1_000, burstLimit: 1_000 } }),
  };
}

export async function issueTestClient(ports: ClientPorts, institutionId: string, channel: ClientChannel = 'WEB'): Promise<TestClient> {
  const issued = await issueClient(ports, { institutionId, channel }, { role: 'operations', principal: 'arn:aws:iam::000000000000:user/test-operations' }, new Date());
  const [key] = issued.client.keys;
  if (key === undefined || issued.privateKey === undefined) throw new Error('issued client has no key');
  return {
    credentials: { clientId: issued.client.clientId, keyId: key.keyId, institutionId, channel, apiKey: issued.usageKey, privateKey: issued.privateKey },
    usageKeyId: issued.client.usageKeyId,
    record: issued.client,
  };
}

/** The api handler wired to a test world's emulators, taking test requests (signed as asked). */
export function testApiHandler(
  world: Pick<TestWorld, 'clients' | 'bindings'>,
  ports: ClientPorts,
  overrides: Partial<ApiHandlerDependencies> = {},
): (request: TestRequest) => Promise<APIGatewayProxyResult> {
  const handler = testApiEventHandler(world, ports, overrides);
  return (request) => handler(proxyEvent(request));
}

/** The same, taking ready proxy events: to replay one exactly, or tamper with it after signing. */
export function testApiEventHandler(
  world: Pick<TestWorld, 'clients' | 'bindings'>,
  ports: ClientPorts,
  overrides: Partial<ApiHandlerDependencies> = {},
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const ledger = new DynamoLedgerStore({ client: world.clients.dynamodb, tableName: world.bindings.tables.ledger });
  const handler = createApiHandler({
    ledger,
    intake: new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests),
    publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions),
    alerts: new DynamoAlertStore(world.clients.dynamodb, world.bindings.tables.risk),
    settlement: { store: ledger.settlement, publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.settlements) },
    ...ports,
    logger: new Logger({ serviceName: 'payments-api', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-api', namespace: 'PaymentsBackbone' }),
    ...overrides,
  });
  return (event) => handler(event, createLambdaContext({ functionName: 'api', timeoutSeconds: 10, memorySizeMb: 512 }));
}
