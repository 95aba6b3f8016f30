// Turns an SQS ReceiveMessage result into the `SQSRecord`s Lambda's event source mapping builds,
// field for field (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, "Example event").
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  if (message.MessageId === undefined || message.ReceiptHandle === undefined || message.Body === undefined) {
    throw new Error('ReceiveMessage returned a message without id, receipt handle or body');
  }
  const attributes = message.Attributes ?? {};
  const recordAttributes: SQSRecordAttributes = {
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
    SenderId: attributes.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(attributes.MessageGroupId !== undefined ? { MessageGroupId: attributes.MessageGroupId } : {}),
    ...(attributes.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
    ...(attributes.SequenceNumber !== undefined ? { SequenceNumber: attributes.SequenceNumber } : {}),
  };
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: recordAttributes,
    messageAttributes: toRecordMessageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** Lambda spells message attribute fields in camelCase, unlike the SQS API. */
function toRecordMessageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    result[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return result;
}
