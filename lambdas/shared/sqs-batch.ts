// What every SQS FIFO consumer shares: the Powertools FIFO batch loop (a failed record fails the
// rest of its message group in the batch, other groups proceed; Lambda retries only those), the
// parsing of a record into an event of the types the queue is meant to carry, and the quarantine
// of a message that can never succeed (malformed, failing in a way retries cannot mend, or failing
// again and again with an error that is not known to be transient).
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ZodError } from 'zod';
import { CorruptItemError } from '../adapters/dynamodb/ledger-items.js';
import type { Quarantine } from '../adapters/sqs/quarantine.js';
import { EventEnvelope, type EventOf, type EventType } from '../core/events/envelope.js';

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function fifoBatchHandler(processRecord: (record: SQSRecord) => Promise<void>, metrics: Metrics): SqsBatchHandler {
  return async (event, context) => {
    // One processor per invocation: it holds per-batch state, and the local runtime may run
    // several invocations of one handler concurrently in one process.
    const processor = new SqsFifoPartialProcessorAsync();
    try {
      return await processPartialResponse(event, processRecord, processor, {
        context,
        skipGroupOnError: true,
        throwOnFullBatchFailure: false,
      });
    } finally {
      // A batch that recorded only single metrics (already flushed) leaves nothing stored.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/**
 * The record's event when it is valid and of one of `types`; otherwise why not, for the
 * quarantine. JSON.parse's own message quotes the body, which may hold account-holder text, so
 * it is never passed on.
 */
export function parseEventRecord<T extends EventType>(record: SQSRecord, types: readonly T[], queue: string): EventOf<T> | string {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return `body is not JSON (${record.body.length} characters)`;
  }
  const parsed = EventEnvelope.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return `envelope invalid: ${issues.join('; ')}`;
  }
  const event = parsed.data;
  if (!(types as readonly EventType[]).includes(event.type)) return `unexpected event type ${event.type} on the ${queue} queue`;
  return event as EventOf<T>;
}

/** Failures no retry can mend: stored data that is not what this code wrote, or an invalid event. */
export function isPermanentFailure(error: unknown): error is Error {
  return error instanceof CorruptItemError || error instanceof ZodError;
}

/**
 * Receives after which a failure that is neither permanent nor known to be transient quarantines
 * the message. The worker queues allow 50 receives, so that a backlog blocked behind an outage is
 * not pushed into the DLQ (and overtaken); a bug (a TypeError, a ValidationException, a KMS key
 * disabled) would hold its message group for those 50 receives, about 2.5 hours, and then take its
 * innocent followers to the DLQ with it. Five receives (about 15 minutes) is enough to ride out a
 * blip that was not classified.
 */
export const UNCLASSIFIED_FAILURE_RECEIVES_MAX = 5;

/** AWS error names that say "try again": throttling, a service's own fault, a lost race, a timeout. */
const TRANSIENT_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'KMSThrottlingException',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'InternalErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  // This product's own: writes that kept losing to concurrent ones after their in-process retries.
  'PostingConflictError',
  'SettlementConflictError',
  // A freeze that lost to a posting on the account item (busiest in the fraud burst it answers).
  'FreezeConflictError',
  // Keys DynamoDB left unprocessed while throttling.
  'BatchGetIncompleteError',
]);
/** TransactWriteItems cancellation reasons that a retry can get past. */
const TRANSIENT_CANCELLATION_CODES = new Set(['None', 'TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);
/** Node's socket errors: the request may not have reached the service at all. */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Failures that time mends: worth every receive the queue allows. */
export function isTransientFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const details = error as Error & { code?: unknown; $metadata?: { httpStatusCode?: number }; CancellationReasons?: readonly { Code?: string }[] };
  if (error.name === 'TransactionCanceledException') {
    const codes = (details.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
    return codes.some((code) => code !== 'None') && codes.every((code) => TRANSIENT_CANCELLATION_CODES.has(code));
  }
  if (TRANSIENT_ERROR_NAMES.has(error.name)) return true;
  if (typeof details.code === 'string' && NETWORK_ERROR_CODES.has(details.code)) return true;
  const status = details.$metadata?.httpStatusCode;
  return status !== undefined && (status === 429 || status >= 500);
}

/** How often SQS has handed this message out, this time included (1 when the attribute is absent). */
function receivesOf(record: SQSRecord): number {
  const count = Number(record.attributes.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

export interface EventConsumer<T extends EventType> {
  /** The queue's name, for reasons and logs. */
  readonly queue: string;
  /** The event types the queue carries; any other is quarantined. */
  readonly types: readonly T[];
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The log correlation id of an event (its transfer, its window, ...). */
  readonly correlationIdOf: (event: EventOf<T>) => string;
  /** Which errors are permanent. @default isPermanentFailure */
  readonly isPermanent?: (error: unknown) => error is Error;
  readonly handle: (event: EventOf<T>) => Promise<void>;
}

/**
 * A queue handler for events: each record is parsed, handled, and quarantined to the DLQ with its
 * reason when it is malformed or fails permanently; any other failure is left to SQS to retry.
 */
export function eventConsumer<T extends EventType>(consumer: EventConsumer<T>): SqsBatchHandler {
  const isPermanent = consumer.isPermanent ?? isPermanentFailure;
  const quarantine = async (record: SQSRecord, reason: string): Promise<void> => {
    consumer.logger.error(`quarantining a ${consumer.queue} message that can never succeed`, { messageId: record.messageId, reason });
    await consumer.quarantine.quarantine(record, reason);
    consumer.metrics.addMetric('MessagesQuarantined', MetricUnit.Count, 1);
  };
  const processRecord = async (record: SQSRecord): Promise<void> => {
    consumer.logger.setCorrelationId(record.messageId);
    const event = parseEventRecord(record, consumer.types, consumer.queue);
    if (typeof event === 'string') return quarantine(record, event);
    consumer.logger.setCorrelationId(consumer.correlationIdOf(event));
    try {
      await consumer.handle(event);
    } catch (error) {
      // Retrying these cannot help: they would block the group until maxReceiveCount and then
      // reach the DLQ without a reason. A known transient failure gets every receive the queue
      // allows; anything else a few, then the quarantine, with its reason.
      if (isPermanent(error)) return quarantine(record, `${error.name}: ${error.message}`);
      const receives = receivesOf(record);
      if (!isTransientFailure(error) && receives >= UNCLASSIFIED_FAILURE_RECEIVES_MAX) {
        const described = error instanceof Error ? `${error.name}: ${error.message}` : `thrown ${typeof error}`;
        return quarantine(record, `${described} (failed on ${receives} receives, not a known transient error)`);
      }
      throw error;
    }
  };
  return fifoBatchHandler(processRecord, consumer.metrics);
}
