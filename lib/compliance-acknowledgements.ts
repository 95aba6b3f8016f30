// The NIST 800-53 rev 5, PCI DSS 3.2.1 and Serverless findings this stack acknowledges rather than
// fixes, each with the reason it does not apply, in one place so a review reads them together.
// Every other finding of those packs is fixed (lib/app.ts runs all four packs on every synth).
// test/infra/nag.test.ts pins the set of acknowledged ids.
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

function acknowledge(scope: IConstruct, ids: readonly string[], reason: string): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

/** A handler function outside a VPC (every handler). */
export function acknowledgeOutsideVpc(fn: IConstruct): void {
  acknowledge(
    fn,
    ['NIST.800.53.R5-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC'],
    'The handlers call only AWS service APIs (DynamoDB, SNS, SQS, API Gateway), over TLS with SigV4-signed requests under per-function least-privilege roles; logs, metrics and traces leave through the Lambda service, and no handler talks to anything on a private network. In a VPC they would reach the same APIs through a NAT, or through SNS, SQS and API Gateway interface endpoints in every AZ plus a DynamoDB gateway endpoint, whose endpoint policies with aws:SourceVpce conditions on the key and queue policies could narrow them further: a network data perimeter this stack does not build today (no VPC option yet), for more cost and more to run. Access is bounded by the roles instead: each function may use only the tables, topics and queues it names, and the stack key only through those services.',
  );
}

/** A function only ever invoked synchronously (the api function, the queue consumers). */
export function acknowledgeSynchronousInvocation(fn: IConstruct): void {
  acknowledge(
    fn,
    ['NIST.800.53.R5-LambdaDLQ', 'Serverless-LambdaDLQ'],
    "Invoked synchronously only (API Gateway's Lambda proxy, or an SQS event source mapping), and a function's dead-letter queue receives failed asynchronous invocations only, so it would stay empty. A failing SQS batch is retried and then moved by its queue's redrive policy to the queue's FIFO DLQ (alarmed, inspected and redriven with `payments dlq`); an API failure is answered to its caller as problem+json.",
  );
}

/** The SQS event source mapping of a queue consumer. */
export function acknowledgeSqsEventSource(mapping: IConstruct): void {
  acknowledge(
    mapping,
    ['Serverless-LambdaEventSourceMappingDestination'],
    "Lambda supports on-failure destinations on stream and Kafka event sources, not on SQS: a message that keeps failing is moved by the queue's own redrive policy (maxReceiveCount) to its FIFO DLQ, keeping its message group, where the DLQ alarm and `payments dlq` see it.",
  );
}

/** A dead-letter queue (each work queue's, and the schedules'). */
export function acknowledgeDeadLetterQueue(queue: IConstruct): void {
  acknowledge(
    queue,
    ['Serverless-SQSRedrivePolicy'],
    'This queue is a dead-letter queue, the end of the line: a redrive policy on it would move poison messages out of sight of the DLQ alarm and `payments dlq` after a few receives. Messages stay until an operator redrives them or the retention period ends.',
  );
}

/** The API's deployment stage. */
export function acknowledgeApiStage(stage: IConstruct): void {
  acknowledge(
    stage,
    ['NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', 'PCI.DSS.321-APIGWCacheEnabledAndEncrypted'],
    "Payment API answers must never come from a cache: a transfer is a POST the ledger answers once per idempotency key, and reads (balances, transfer status, alerts, positions) must be current and are authorized per client institution. A stage cache would serve stale balances and, keyed on the path, could serve one institution's answer to another.",
  );
  acknowledge(
    stage,
    ['NIST.800.53.R5-APIGWSSLEnabled', 'PCI.DSS.321-APIGWSSLEnabled'],
    "A stage client certificate authenticates API Gateway to an HTTP backend. Every integration here is a Lambda proxy, invoked through the Lambda service API with SigV4 over TLS, so there is no HTTP backend to present it to. Callers reach the stage over HTTPS only and sign each request (RFC 9421).",
  );
}

/** An e-mail subscription of the operations notification topic. */
export function acknowledgeEmailSubscription(subscription: IConstruct): void {
  acknowledge(
    subscription,
    ['Serverless-SNSRedrivePolicy'],
    "E-mail here is a copy for people, not the record: a risk alert it carries is stored in the risk table's alert feed (GET /v1/alerts, the dashboard's alerts by severity); an alarm stays in CloudWatch; a settlement window that does not balance stays CLOSED, is re-announced by every scheduled close and keeps the settlement-window-unsettled alarm firing. An undelivered e-mail loses no record, though it can delay a person hearing of it. A DLQ for it would need an alarm of its own, which would notify this same topic. The work-queue subscriptions, whose messages are the record, dead-letter into their queues' DLQs.",
  );
}

/** A table of a stage that does not retain its data (dev): not in the backup plan. */
export function acknowledgeDisposableTable(table: IConstruct): void {
  acknowledge(
    table,
    ['NIST.800.53.R5-DynamoDBInBackupPlan'],
    'Stages that do not retain their data (dev) delete their tables with the stack, so AWS Backup would keep copies of data nobody keeps; point-in-time recovery stays on. Staging and prod tables are in the TableBackups plan (lib/constructs/table-backups.ts).',
  );
}
