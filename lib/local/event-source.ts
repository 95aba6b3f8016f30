// Lambda's SQS event source mapping, emulated: receive a batch, invoke the handler with real
// SQSRecords and a Context, then delete exactly the records that succeeded. Semantics follow
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html:
// - the handler's `batchItemFailures` lists the records to keep; every other record is deleted;
// - a thrown error, a timeout or a malformed response fails the whole batch (nothing deleted);
// - a failed record becomes visible again after the visibility timeout, and the queue's redrive
//   policy moves it to the DLQ after maxReceiveCount receives, as on AWS.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLambdaContext } from './lambda-context.js';
import { toSqsRecord } from './sqs-records.js';

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** SQS caps ReceiveMessage and the batch APIs at 10 entries. */
export const SQS_BATCH_ENTRIES_MAX = 10;

export interface EventSourceBinding {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly functionName: string;
  readonly handler: SqsBatchHandler;
  readonly batchSizeMax: number;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /** Long-poll wait for one ReceiveMessage call. */
  readonly waitSeconds: number;
  /**
   * Visibility timeout set on failed records, to shorten the wait before redelivery during
   * development and tests. AWS leaves them to the queue's visibility timeout.
   * @default undefined (leave them, as AWS does)
   */
  readonly failedRecordVisibilitySeconds?: number;
}

export interface BatchReport {
  readonly received: number;
  readonly deleted: number;
  readonly failed: number;
  /** Why the whole batch failed, when it did. */
  readonly batchError?: string;
}

export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

export interface BatchHooks {
  /** A batch was received and is about to be handled. */
  readonly onReceived?: () => void;
  /** That batch is finished: deletes done (or failed). */
  readonly onSettled?: () => void;
}

/**
 * Receives and handles one batch. The signal only aborts the long poll: once messages are
 * received the batch runs to completion, so a stop never strands a half-handled batch.
 */
export async function pollBatch(binding: EventSourceBinding, signal?: AbortSignal, hooks: BatchHooks = {}): Promise<BatchReport> {
  const { Messages = [] } = await binding.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: binding.queueUrl,
      MaxNumberOfMessages: Math.min(binding.batchSizeMax, SQS_BATCH_ENTRIES_MAX),
      WaitTimeSeconds: binding.waitSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
    signal !== undefined ? { abortSignal: signal } : {},
  );
  if (Messages.length === 0) return { received: 0, deleted: 0, failed: 0 };
  hooks.onReceived?.();
  try {
    return await handleBatch(binding, Messages);
  } finally {
    hooks.onSettled?.();
  }
}

async function handleBatch(binding: EventSourceBinding, Messages: Message[]): Promise<BatchReport> {
  const records = Messages.map((message) => toSqsRecord(message, binding.queueArn, binding.region));
  const outcome = await invokeWithTimeout(binding, { Records: records });
  const failedIds = outcome.ok ? outcome.failedIds : new Set(records.map((record) => record.messageId));
  const succeeded = records.filter((record) => !failedIds.has(record.messageId));
  const failed = records.filter((record) => failedIds.has(record.messageId));
  let deleted = 0;
  if (succeeded.length > 0) {
    const result = await binding.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: binding.queueUrl,
        Entries: succeeded.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    // An entry that failed to delete is redelivered later: the handler's idempotency absorbs it.
    deleted = result.Successful?.length ?? 0;
  }
  // A timed-out invocation cannot be killed here as Lambda kills it; its records keep the full
  // visibility timeout so they are not handed to a second invocation while it still runs.
  const timedOut = !outcome.ok && outcome.timedOut;
  if (failed.length > 0 && binding.failedRecordVisibilitySeconds !== undefined && !timedOut) {
    await binding.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: binding.queueUrl,
        Entries: failed.map((record, index) => ({
          Id: String(index),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: binding.failedRecordVisibilitySeconds,
        })),
      }),
    );
  }
  return {
    received: records.length,
    deleted,
    failed: records.length - deleted,
    ...(outcome.ok ? {} : { batchError: outcome.error }),
  };
}

type InvokeOutcome = { ok: true; failedIds: Set<string> } | { ok: false; error: string; timedOut: boolean };

async function invokeWithTimeout(binding: EventSourceBinding, event: SQSEvent): Promise<InvokeOutcome> {
  const context = createLambdaContext({
    functionName: binding.functionName,
    timeoutSeconds: binding.timeoutSeconds,
    memorySizeMb: binding.memorySizeMb,
    region: binding.region,
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HandlerTimeoutError(`${binding.functionName} timed out after ${binding.timeoutSeconds} s`)),
      binding.timeoutSeconds * 1_000,
    );
  });
  try {
    const response = await Promise.race([binding.handler(event, context), timeout]);
    return { ok: true, failedIds: failedIdsOf(response, event) };
  } catch (error) {
    return {
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      timedOut: error instanceof HandlerTimeoutError,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Lambda treats a response whose failure ids are missing, empty or unknown as a failure of the
 * whole batch; a void/empty response means every record succeeded.
 */
function failedIdsOf(response: SQSBatchResponse | void, event: SQSEvent): Set<string> {
  const known = new Set(event.Records.map((record) => record.messageId));
  const failures = response?.batchItemFailures ?? [];
  const ids = new Set<string>();
  for (const failure of failures) {
    if (typeof failure.itemIdentifier !== 'string' || !known.has(failure.itemIdentifier)) return known;
    ids.add(failure.itemIdentifier);
  }
  return ids;
}
