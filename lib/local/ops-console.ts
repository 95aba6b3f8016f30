// The local stand-in for the operations team's e-mail: a standard SQS queue subscribed to the
// ops-notifications topic (as an e-mail endpoint would be on AWS), drained continuously; each
// notification is printed to the console and kept (newest last, bounded) for the local API's
// GET /_local/ops-notifications and for tests.
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { abortableSleep } from './queue-consumer.js';

/** Kept notifications; older ones are dropped (they were printed). */
export const KEPT_NOTIFICATIONS_MAX = 1_000;
const RECEIVE_WAIT_SECONDS = 2;
const ERROR_BACKOFF_MS = 1_000;

export interface ReceivedNotification {
  readonly subject: string;
  readonly message: string;
  readonly alertId?: string;
  readonly severity?: string;
  readonly publishedAt: string;
  readonly receivedAt: string;
}

export interface OpsConsole {
  readonly notifications: readonly ReceivedNotification[];
  stop(): Promise<void>;
}

export interface OpsConsoleOptions {
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly topicArn: string;
  /** Physical name of the inbox queue. */
  readonly inboxQueueName: string;
  /** Where notifications are printed. */
  readonly print: (text: string) => void;
}

/** What SNS delivers to a subscribed queue without raw delivery. */
const SnsDelivery = z.object({
  Subject: z.string().optional(),
  Message: z.string(),
  Timestamp: z.string(),
  MessageAttributes: z.record(z.string(), z.object({ Value: z.string() })).optional(),
});

export async function startOpsConsole(options: OpsConsoleOptions): Promise<OpsConsole> {
  const { QueueUrl } = await options.sqs.send(new CreateQueueCommand({ QueueName: options.inboxQueueName }));
  if (QueueUrl === undefined) throw new Error(`CreateQueue returned no URL for ${options.inboxQueueName}`);
  const { Attributes } = await options.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  if (Attributes?.QueueArn === undefined) throw new Error(`queue ${options.inboxQueueName} has no ARN`);
  await options.sns.send(new SubscribeCommand({ TopicArn: options.topicArn, Protocol: 'sqs', Endpoint: Attributes.QueueArn }));

  const notifications: ReceivedNotification[] = [];
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        const { Messages } = await options.sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: RECEIVE_WAIT_SECONDS }),
          { abortSignal: abort.signal },
        );
        for (const message of Messages ?? []) {
          // Deleted first: a notification is kept and shown once, even if printing fails.
          if (message.ReceiptHandle !== undefined) await options.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
          const received = receivedFrom(message.Body ?? '');
          notifications.push(received);
          if (notifications.length > KEPT_NOTIFICATIONS_MAX) notifications.shift();
          printSafely(options.print, `\n=== operations notification: ${received.subject}\n${received.message}\n===`);
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        printSafely(options.print, `ops-notifications: receive failed: ${String(error)}`);
        await abortableSleep(ERROR_BACKOFF_MS, abort.signal);
      }
    }
  })();
  return {
    notifications,
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
}

function printSafely(print: (text: string) => void, text: string): void {
  try {
    print(text);
  } catch {
    // The console is a convenience; the notification is kept for the API regardless.
  }
}

function receivedFrom(body: string): ReceivedNotification {
  const receivedAt = new Date().toISOString();
  let parsed: z.infer<typeof SnsDelivery>;
  try {
    parsed = SnsDelivery.parse(JSON.parse(body));
  } catch {
    // Not an SNS delivery (someone sent to the queue directly): shown as it came.
    return { subject: '(not an SNS notification)', message: body, publishedAt: receivedAt, receivedAt };
  }
  const alertId = parsed.MessageAttributes?.alertId?.Value;
  const severity = parsed.MessageAttributes?.severity?.Value;
  return {
    subject: parsed.Subject ?? '(no subject)',
    message: parsed.Message,
    ...(alertId !== undefined ? { alertId } : {}),
    ...(severity !== undefined ? { severity } : {}),
    publishedAt: parsed.Timestamp,
    receivedAt,
  };
}
