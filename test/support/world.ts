// A test file's own slice of the emulators: clients pointed at them and the whole topology
// provisioned under a unique name prefix, so test files never see each other's data.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/emulators.js';
import { handlerEnvironment, provisionTopology, type Bindings } from '../../lib/local/provision.js';
import type { HandlerName } from '../../lib/topology.js';
import { createAwsClients, type AwsClients } from '../../lambdas/shared/aws-clients.js';

export interface TestWorld {
  readonly prefix: string;
  readonly clients: AwsClients;
  readonly bindings: Bindings;
  environment(handler: HandlerName): Record<string, string>;
  destroy(): void;
}

export async function createTestWorld(label: string): Promise<TestWorld> {
  const prefix = `t${randomBytes(3).toString('hex')}-${label}`.slice(0, 40);
  const dynamodb = createAwsClients({ endpoint: inject('dynamodbEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const snsSqs = createAwsClients({ endpoint: inject('snsSqsEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const clients: AwsClients = { dynamodb: dynamodb.dynamodb, sns: snsSqs.sns, sqs: snsSqs.sqs };
  const bindings = await provisionTopology(clients, prefix);
  return {
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
