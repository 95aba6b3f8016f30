// Powertools Logger, Metrics and Tracer for one handler, configured the same way in both worlds.
// Service name and namespace come from POWERTOOLS_* env vars set by CDK (or the local runtime).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const METRICS_NAMESPACE = 'PaymentsBackbone';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export function createObservability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace: METRICS_NAMESPACE }),
    tracer: new Tracer({ serviceName }),
  };
}
