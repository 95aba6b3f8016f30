// A test file's own slice of the services: the whole topology provisioned under a unique name
// prefix, either on the emulators (DynamoDB Local and fauxqs, shared by the run) or on a fresh
// in-memory DynamoDB and SNS/SQS fabric of its own. The same adapters run on both; contract tests
// run on both, handler and API tests on memory only (their adapters are proven by the contracts).
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/local-world.js';
import { handlerEnvironment, provisionTopology, type Bindings } from '../../lib/local/provision.js';
import type { HandlerName } from '../../contract/topology.js';
import { createAwsClients, type AwsClients } from '../../lambdas/shared/aws-clients.js';
import { asDynamoDBClient, MemoryDynamoDB } from '../../lambdas/adapters/memory/dynamodb.js';
import { asSnsClient, asSqsClient, MemoryMessaging } from '../../lambdas/adapters/memory/messaging.js';

export type Backend = 'emulators' | 'memory';
/** Every backend, for contract tests: `describe.each(BACKENDS)(...)`. */
export const BACKENDS: readonly Backend[] = ['emulators', 'memory'];

interface WorldParts {
  readonly prefix: string;
  readonly clients: AwsClients;
  readonly bindings: Bindings;
  environment(handler: HandlerName): Record<string, string>;
  destroy(): void;
}

export interface EmulatorWorld extends WorldParts {
  readonly backend: 'emulators';
}

export interface MemoryWorld extends WorldParts {
  readonly backend: 'memory';
  /** The engine behind clients.dynamodb: request counts, snapshots. */
  readonly dynamodb: MemoryDynamoDB;
  /** The fabric behind clients.sns and clients.sqs: queue depths, messages without receiving. */
  readonly messaging: MemoryMessaging;
}

export type TestWorld = EmulatorWorld | MemoryWorld;

export function createTestWorld(label: string, backend?: 'emulators'): Promise<EmulatorWorld>;
export function createTestWorld(label: string, backend: 'memory'): Promise<MemoryWorld>;
export function createTestWorld(label: string, backend: Backend): Promise<TestWorld>;
export async function createTestWorld(label: string, backend: Backend = 'emulators'): Promise<TestWorld> {
  const prefix = `t${randomBytes(3).toString('hex')}-${label}`.slice(0, 40);
  return backend === 'memory' ? memoryWorld(prefix) : emulatorWorld(prefix);
}

async function emulatorWorld(prefix: string): Promise<EmulatorWorld> {
  const dynamodb = createAwsClients({ endpoint: inject('dynamodbEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const snsSqs = createAwsClients({ endpoint: inject('snsSqsEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const clients: AwsClients = { dynamodb: dynamodb.dynamodb, sns: snsSqs.sns, sqs: snsSqs.sqs };
  const bindings = await provisionTopology(clients, prefix);
  return {
    backend: 'emulators',
    prefix,
    clients,
    bindings,
    environment: (handler) => handlerEnvironment(handler, bindings),
    destroy: () => {
      dynamodb.dynamodb.destroy();
      snsSqs.sns.destroy();
      snsSqs.sqs.destroy();
    },
  };
}

async function memoryWorld(prefix: string): Promise<MemoryWorld> {
  // The wall clock: fixtures and handlers stamp real times, and queue timeouts (a failed record
  // made visible again at once) behave as on the emulators.
  const dynamodb = new MemoryDynamoDB({ now: Date.now });
  const messaging = new MemoryMessaging({ now: Date.now, region: LOCAL_REGION });
  const clients: AwsClients = { dynamodb: asDynamoDBClient(dynamodb), sns: asSnsClient(messaging), sqs: asSqsClient(messaging) };
  const bindings = await provisionTopology(clients, prefix);
  return {
    backend: 'memory',
    prefix,
    clients,
    bindings,
    dynamodb,
    messaging,
    environment: (handler) => handlerEnvironment(handler, bindings),
    destroy: () => undefined,
  };
}
