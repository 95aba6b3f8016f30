// A hand-built SQSRecord for invoking a queue handler directly (redelivery is delivering the
// same body again, with a new message id and a higher receive count, as SQS does).
import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';

export function sqsRecordOf(body: string, group: string, queueArn: string, receiveCount = 1): SQSRecord {
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: group,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}
