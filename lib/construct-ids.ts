// The construct ids the stack gives the topology's resources. CloudFormation builds physical names
// from them (`<stack>-QueuePostingQueue<hash>-<id>.fifo`), so `payments dlq` finds a stack's queues
// by them too; this module has no CDK dependency, so the CLI can use it without loading aws-cdk-lib.
import type { QueueName } from '../contract/topology.js';

/** `settlement-close` -> `SettlementClose`, `posting` -> `Posting`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The id of a topology queue's QueueWorker (its work queue is the worker's child `Queue`). */
export function queueWorkerId(queue: QueueName): string {
  return `Queue${pascalCase(queue)}`;
}
