// How the DLQ tooling tells the three origins of a dead letter apart (lambdas/adapters/sqs/dead-letter.ts):
// quarantined by its handler (the quarantine reason), dead-lettered by SNS because the subscription
// could not deliver it (ErrorCode / ErrorMessage / RequestID), or moved by SQS after maxReceiveCount
// (neither); what `dlq show` prints for each (lib/cli/dlq.ts); and that a redrive forwards neither
// the quarantine's nor SNS's attributes to the work queue, and every other attribute unchanged.
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { formatMessages, originLines } from '../../lib/cli/dlq.js';
import {
  deadLetterOf,
  deadLetterOriginOf,
  redriveAttributes,
  REDRIVEN_FROM_ATTRIBUTE,
  snsDeliveryErrorOf,
  SNS_DELIVERY_FAILURE_ATTRIBUTES,
  type RedrivePair,
} from '../../lambdas/adapters/sqs/dead-letter.js';
import { QUARANTINE_REASON_ATTRIBUTE } from '../../lambdas/adapters/sqs/quarantine.js';

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

const EVENT = { eventType: text('TransactionPosted') };
const SNS_FAILURE = {
  ErrorCode: text('KMS.AccessDeniedException'),
  ErrorMessage: text('The ciphertext refers to a customer master key that does not exist'),
  RequestID: text('6c0e8f5b-7a1d-5f0e-9c3b-1a2b3c4d5e6f'),
};
const QUARANTINE = {
  [QUARANTINE_REASON_ATTRIBUTE]: text('envelope invalid: data: Required'),
  quarantinedFrom: text('arn:aws:sqs:us-east-1:000000000000:local-screening.fifo'),
  originalMessageId: text('m-1'),
  originalReceiveCount: { DataType: 'Number', StringValue: '3' },
};

const PAIR: RedrivePair = {
  sourceUrl: 'http://sqs.local/000000000000/local-screening.fifo',
  sourceName: 'local-screening.fifo',
  deadLetterUrl: 'http://sqs.local/000000000000/local-screening-dlq.fifo',
  deadLetterName: 'local-screening-dlq.fifo',
  maxReceiveCount: 50,
};

function messageWith(attributes: Record<string, MessageAttributeValue>): Message {
  return {
    MessageId: 'dlq-1',
    ReceiptHandle: 'rh-1',
    Body: '{"id":"t-1.requested"}',
    Attributes: { MessageGroupId: 'acc-a', ApproximateReceiveCount: '1', SentTimestamp: '1700000000000' },
    MessageAttributes: attributes,
  };
}

describe('the origin of a dead letter', () => {
  it('is quarantined when the quarantine reason is there, SNS attributes or not', () => {
    expect(deadLetterOriginOf({ ...EVENT, ...QUARANTINE })).toBe('quarantined');
    expect(deadLetterOriginOf({ ...EVENT, ...SNS_FAILURE, ...QUARANTINE })).toBe('quarantined');
    expect(snsDeliveryErrorOf({ ...SNS_FAILURE, ...QUARANTINE })).toBeUndefined();
  });

  it('is an SNS delivery failure when ErrorCode or RequestID is there without a reason', () => {
    expect(deadLetterOriginOf({ ...EVENT, ...SNS_FAILURE })).toBe('sns-delivery-failed');
    expect(deadLetterOriginOf({ ErrorCode: SNS_FAILURE.ErrorCode })).toBe('sns-delivery-failed');
    expect(deadLetterOriginOf({ RequestID: SNS_FAILURE.RequestID })).toBe('sns-delivery-failed');
  });

  it('is max-receives when neither is there (ErrorMessage alone is not SNS\'s mark)', () => {
    expect(deadLetterOriginOf({})).toBe('max-receives');
    expect(deadLetterOriginOf(EVENT)).toBe('max-receives');
    expect(deadLetterOriginOf({ ErrorMessage: SNS_FAILURE.ErrorMessage })).toBe('max-receives');
  });

  it('gives SNS\'s delivery error as "ErrorCode: ErrorMessage", the code alone without a message', () => {
    expect(snsDeliveryErrorOf(SNS_FAILURE)).toBe('KMS.AccessDeniedException: The ciphertext refers to a customer master key that does not exist');
    expect(snsDeliveryErrorOf({ ErrorCode: text('AWS.SimpleQueueService.NonExistentQueue'), RequestID: SNS_FAILURE.RequestID })).toBe('AWS.SimpleQueueService.NonExistentQueue');
    expect(snsDeliveryErrorOf(EVENT)).toBeUndefined();
  });

  it('is on the DeadLetter read from a received message', () => {
    expect(deadLetterOf(messageWith({ ...EVENT, ...SNS_FAILURE }))).toMatchObject({
      origin: 'sns-delivery-failed',
      deliveryError: 'KMS.AccessDeniedException: The ciphertext refers to a customer master key that does not exist',
      quarantineReason: undefined,
      sourceReceiveCount: undefined,
      messageGroupId: 'acc-a',
    });
    expect(deadLetterOf(messageWith({ ...EVENT, ...QUARANTINE }))).toMatchObject({ origin: 'quarantined', quarantineReason: 'envelope invalid: data: Required', deliveryError: undefined, sourceReceiveCount: 3 });
    expect(deadLetterOf(messageWith(EVENT))).toMatchObject({ origin: 'max-receives', quarantineReason: undefined, deliveryError: undefined });
  });
});

describe('dlq show', () => {
  it('says who put each message in the DLQ, and where the cause is', () => {
    expect(originLines(deadLetterOf(messageWith({ ...EVENT, ...QUARANTINE })), PAIR)).toEqual([
      '  origin    quarantined by the consumer of local-screening.fifo',
      '  reason    envelope invalid: data: Required',
    ]);
    expect(originLines(deadLetterOf(messageWith({ ...EVENT, ...SNS_FAILURE })), PAIR)).toEqual([
      '  origin    SNS delivery failure: SNS could not deliver it to local-screening.fifo, so no consumer saw it',
      '  error     KMS.AccessDeniedException: The ciphertext refers to a customer master key that does not exist (the delivery path failed: queue policy or a deleted queue; not the consumer)',
    ]);
    expect(originLines(deadLetterOf(messageWith(EVENT)), PAIR)).toEqual([
      '  origin    moved by SQS after 50 receives from local-screening.fifo',
      '  reason    (none: the consumer failed, timed out or crashed on each receive; its logs have the error)',
    ]);
  });

  it('does not call an SNS delivery failure a move by SQS', () => {
    const shown = formatMessages({ queue: 'screening', pair: PAIR }, [deadLetterOf(messageWith({ ...EVENT, ...SNS_FAILURE }))], { visible: 1, inFlight: 0 });

    expect(shown).toContain('SNS delivery failure');
    expect(shown).toContain('KMS.AccessDeniedException');
    expect(shown).not.toMatch(/moved by SQS/);
    expect(shown).toMatch(/^ {2}receives {2}1 from the DLQ$/m);
  });
});

describe('redrive attributes', () => {
  it('drop SNS\'s ErrorCode, ErrorMessage and RequestID, keep the others, and mark the DLQ', () => {
    const attributes = redriveAttributes(messageWith({ ...EVENT, ...SNS_FAILURE, custom: { DataType: 'Number', StringValue: '7' } }), PAIR.deadLetterName);

    expect(attributes).toEqual({ ...EVENT, custom: { DataType: 'Number', StringValue: '7' }, [REDRIVEN_FROM_ATTRIBUTE]: text(PAIR.deadLetterName) });
    for (const name of SNS_DELIVERY_FAILURE_ATTRIBUTES) expect(attributes).not.toHaveProperty(name);
  });

  it('still drop the quarantine\'s attributes and an earlier redrive marker', () => {
    const attributes = redriveAttributes(messageWith({ ...EVENT, ...QUARANTINE, [REDRIVEN_FROM_ATTRIBUTE]: text('elsewhere-dlq.fifo') }), PAIR.deadLetterName);

    expect(attributes).toEqual({ ...EVENT, [REDRIVEN_FROM_ATTRIBUTE]: text(PAIR.deadLetterName) });
  });

  it('free the slots SNS\'s attributes took for the redrive marker', () => {
    const seven = Object.fromEntries(Array.from({ length: 7 }, (_, index) => [`a${index}`, text(String(index))]));

    expect(redriveAttributes(messageWith({ ...seven, ...SNS_FAILURE }), PAIR.deadLetterName)).toEqual({ ...seven, [REDRIVEN_FROM_ATTRIBUTE]: text(PAIR.deadLetterName) });
  });
});
