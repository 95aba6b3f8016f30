// What every SQS FIFO consumer shares: the Powertools FIFO batch loop (a failed record fails the
// rest of its message group in the batch, other groups proceed; Lambda retries only those) and
// the parsing of a record into an event of the types the queue is meant to carry.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
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
