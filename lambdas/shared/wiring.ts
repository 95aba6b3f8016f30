// What every composition root needs from its environment: Powertools observability and the AWS
// client options, plus the module-level `handler` Lambda invokes. One place, so the handlers
// cannot drift apart in how they are wired. Each handler builds only the SDK clients it uses
// (lambdas/shared/aws-clients.ts), so its bundle carries only those.
import { clientOptionsFromEnv, type ClientOptions } from './aws-clients.js';
import type { Environment } from './env.js';
import { createObservability, type Observability } from './observability.js';

export interface Wiring extends Observability {
  /** Endpoints and region for the handler's SDK clients (none on Lambda: the defaults apply). */
  readonly clientOptions: ClientOptions;
}

export function wireFromEnv(env: Environment, defaultServiceName: string): Wiring {
  const observability = createObservability(env.POWERTOOLS_SERVICE_NAME ?? defaultServiceName);
  return { ...observability, clientOptions: clientOptionsFromEnv(env) };
}

/**
 * The exported Lambda handler. On Lambda (AWS_LAMBDA_RUNTIME_API is set by the runtime) it is
 * wired when the module loads, in the init phase: clients, Powertools and configuration are built
 * before the first event arrives, with the init phase's CPU, and a missing binding fails the init
 * instead of the first invocation. Elsewhere (tests, the local runtime) it is wired from
 * process.env on the first call, so the module imports without a Lambda environment.
 */
export function lazyHandler<A extends unknown[], R>(build: (env: Environment) => (...args: A) => R): (...args: A) => R {
  if (onLambda()) return build(process.env);
  let wired: ((...args: A) => R) | undefined;
  return (...args) => {
    wired ??= build(process.env);
    return wired(...args);
  };
}

function onLambda(): boolean {
  const runtimeApi = process.env.AWS_LAMBDA_RUNTIME_API;
  return runtimeApi !== undefined && runtimeApi !== '';
}
