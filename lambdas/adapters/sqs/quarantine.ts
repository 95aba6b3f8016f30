// Quarantine: moves a message that can never succeed (schema-invalid, unparseable) straight to its
// queue's dead-letter queue with the reason attached, instead of retrying it until maxReceiveCount.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** SQS message attribute values are capped by the 256 KiB message limit; keep reasons readable. */
export const QUARANTINE_REASON_LENGTH_MAX = 2_000;
export const QUARANTINE_REASON_ATTRIBUTE = 'quarantineReason';

export interface Quarantine {
  quarantine(record: SQSRecord, reason: string): Promise<void>;
}

export class SqsQuarantine implements Quarantine {
  readonly #client: SQSClient;
  readonly #deadLetterQueueUrl: string;

  constructor(client: SQSClient, deadLetterQueueUrl: string) {
    this.#client = client;
    this.#deadLetterQueueUrl = deadLetterQueueUrl;
  }

  async quarantine(record: SQSRecord, reason: string): Promise<void> {
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#deadLetterQueueUrl,
        MessageBody: record.body,
        // Keep the original group so operators see poison messages in account order; the
        // original message id deduplicates a quarantine repeated after a crash.
        MessageGroupId: record.attributes.MessageGroupId ?? 'quarantine',
        MessageDeduplicationId: record.messageId,
        MessageAttributes: {
          [QUARANTINE_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: reason.slice(0, QUARANTINE_REASON_LENGTH_MAX) },
          quarantinedFrom: { DataType: 'String', StringValue: record.eventSourceARN },
          originalMessageId: { DataType: 'String', StringValue: record.messageId },
          originalReceiveCount: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount },
        },
      }),
    );
  }
}
