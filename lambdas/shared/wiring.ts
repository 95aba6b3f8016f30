// What every composition root needs from its environment: Powertools observability and AWS
// clients (traced), plus the lazy module-level `handler` Lambda invokes. One place, so the three
// handlers cannot drift apart in how they are wired.
import { clientOptionsFromEnv, createAwsClients, type AwsClients } from './aws-clients.js';
import type { Environment } from './env.js';
import { createObservability, type Observability } from './observability.js';

export interface Wiring extends Observability {
  readonly clients: AwsClients;
}

export function wireFromEnv(env: Environment, defaultServiceName: string): Wiring {
  const observability = createObservability(env.POWERTOOLS_SERVICE_NAME ?? defaultServiceName);
  const clients = createAwsClients(clientOptionsFromEnv(env));
  observability.tracer?.captureAWSv3Client(clients.dynamodb);
  observability.tracer?.captureAWSv3Client(clients.sns);
  observability.tracer?.captureAWSv3Client(clients.sqs);
  return { ...observability, clients };
}

/**
 * The exported Lambda handler: wired from process.env on the first invocation (not at import, so
 * tests and the local runtime can import the module without a Lambda environment).
 */
export function lazyHandler<A extends unknown[], R>(build: (env: Environment) => (...args: A) => R): (...args: A) => R {
  let wired: ((...args: A) => R) | undefined;
  return (...args) => {
    wired ??= build(process.env);
    return wired(...args);
  };
}
