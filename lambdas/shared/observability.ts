// Powertools Logger and Metrics for one handler, configured the same way in both worlds.
// Service name and namespace come from POWERTOOLS_* env vars set by CDK (or the local runtime).
//
// Tracing: the functions run with Lambda's own Active tracing (lib/constructs/handler-function.ts),
// which records each invocation's segment (init, invocation, overhead) and links it to the trace
// the SQS message or the API Gateway request carries, without any SDK in the bundle. There is
// no Powertools Tracer: it wraps the X-Ray SDK (aws-xray-sdk-core), which reaches end of support
// on 2027-02-25, cost ~120 KB of bundle and ~20 ms of import CPU per cold start, and installs
// async hooks that made every promise in the process about ten times dearer (measured: 300,000
// awaits, 100 ms before, 1,300 ms after). Per-call subsegments (DynamoDB, SNS, SQS) are what
// this gives up; when they are wanted back, it is through OpenTelemetry (the ADOT layer or
// Powertools' OpenTelemetry-based tracer), not the X-Ray SDK.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../contract/topology.js';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function createObservability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace: METRICS_NAMESPACE }),
  };
}
