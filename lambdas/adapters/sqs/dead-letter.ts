// Dead-letter queue tooling on the plain SQS API, so it works the same on AWS, on fauxqs and on
// LocalStack: which queues feed which DLQ (from each queue's RedrivePolicy), how deep a DLQ is,
// its messages without consuming them, and the move of its messages back to their source queue.
//
// A message reaches a work queue's DLQ in one of three ways (DeadLetterOrigin): its handler
// quarantined it (quarantine.ts: it carries the reason); SQS moved it after maxReceiveCount
// receives (no reason: the consumer kept failing); or SNS could not deliver it to the work queue at
// all and dead-lettered it through the subscription's redrive policy (SNS adds ErrorCode,
// ErrorMessage and RequestID; the work queue never had it, so the fault is on the delivery path:
// the queue policy, a deleted queue; not the consumer. A KMS key that refuses SNS refuses the DLQ
// too, since both use the stack key: that loss is the sns-delivery-lost alarm's).
//
// The move is receive -> send to the source -> delete from the DLQ, one message after another in
// the order the DLQ hands them out (per message group, its order), and a message is never deleted
// before its send succeeded. Its MessageGroupId is kept, so it rejoins its account's order; its
// MessageDeduplicationId is fresh, since the original one would be absorbed by the source queue's
// deduplication if the message had failed within the last five minutes (SQS would answer
// "sent" and drop it). That is safe because every consumer is idempotent by its event id: a
// redriven message that was also re-queued by other means, or sent twice because a move stopped
// between its send and its delete, is decided once.
//
// SQS's own StartMessageMoveTask is not used: fauxqs does not implement it, it cannot be bounded
// to N messages, it keeps the quarantine reason (and SNS's ErrorCode...) on the message, and it
// redrives "to the original source" only messages SQS itself dead-lettered (the handlers'
// quarantine and SNS send theirs to the DLQ, so SQS does not know their source). See docs/OPERATIONS.md.
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QUARANTINE_REASON_ATTRIBUTE } from './quarantine.js';

/**
 * The attributes the quarantine (quarantine.ts) puts on a message. A redrive strips them: they are
 * the DLQ's verdict on a failure the operator has since mended; back on the work queue they would
 * only mislead, and a message that fails again is quarantined with a fresh reason.
 */
export const QUARANTINE_ATTRIBUTES: readonly string[] = [QUARANTINE_REASON_ATTRIBUTE, 'quarantinedFrom', 'originalMessageId', 'originalReceiveCount'];
/**
 * The message attributes SNS adds to a message it dead-letters from a subscription (Amazon SNS
 * dead-letter queues). A redrive strips them too: they describe a delivery that failed, and the
 * redrive is the delivery; our events never carry attributes of these names.
 */
export const SNS_DELIVERY_FAILURE_ATTRIBUTES: readonly string[] = ['ErrorCode', 'ErrorMessage', 'RequestID'];
/** Set on a redriven message: the DLQ it came back from, so a second trip to the DLQ shows it. */
export const REDRIVEN_FROM_ATTRIBUTE = 'redrivenFrom';
/** SQS allows at most 10 message attributes per message. */
const MESSAGE_ATTRIBUTES_MAX = 10;
/** ReceiveMessage returns at most 10 messages per call. */
const RECEIVE_BATCH_MAX = 10;

/** How long `peek` holds messages invisible before it hands them back (it hands them back at once when it is done). */
export const PEEK_HOLD_SECONDS = 30;
/** How long a redrive holds a received message: ample for one send and one delete. */
export const REDRIVE_HOLD_SECONDS = 60;
/**
 * Long-poll wait of each receive. On AWS a short poll (0) samples only some servers and may come
 * back empty while messages remain; a one-second long poll answers as soon as one is there.
 */
export const RECEIVE_WAIT_SECONDS_DEFAULT = 1;

export interface RedrivePair {
  /** The work queue whose RedrivePolicy names the DLQ. */
  readonly sourceUrl: string;
  readonly sourceName: string;
  readonly deadLetterUrl: string;
  readonly deadLetterName: string;
  readonly maxReceiveCount: number;
}

export function queueNameOf(queueUrlOrArn: string): string {
  return queueUrlOrArn.slice(Math.max(queueUrlOrArn.lastIndexOf('/'), queueUrlOrArn.lastIndexOf(':')) + 1);
}

/**
 * Every queue whose name starts with `namePrefix` and has a RedrivePolicy, with its DLQ. The DLQ
 * is found by ARN among the listed queues (it shares the prefix in both worlds: the local
 * runtime's `<prefix>-...` names and CloudFormation's `<stack>-...` ones).
 */
export async function listRedrivePairs(sqs: SQSClient, namePrefix: string): Promise<RedrivePair[]> {
  const urls: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: namePrefix, MaxResults: 1000, ...(nextToken !== undefined ? { NextToken: nextToken } : {}) }));
    urls.push(...(page.QueueUrls ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  const described = await Promise.all(
    urls.map(async (url) => {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'RedrivePolicy'] }));
      return { url, arn: Attributes?.QueueArn, redrivePolicy: Attributes?.RedrivePolicy };
    }),
  );
  const urlOfArn = new Map(described.flatMap((queue) => (queue.arn === undefined ? [] : [[queue.arn, queue.url] as const])));
  const pairs: RedrivePair[] = [];
  for (const queue of described) {
    if (queue.redrivePolicy === undefined || queue.redrivePolicy === '') continue;
    const policy = JSON.parse(queue.redrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
    const deadLetterUrl = policy.deadLetterTargetArn === undefined ? undefined : urlOfArn.get(policy.deadLetterTargetArn);
    if (deadLetterUrl === undefined) continue;
    pairs.push({
      sourceUrl: queue.url,
      sourceName: queueNameOf(queue.url),
      deadLetterUrl,
      deadLetterName: queueNameOf(deadLetterUrl),
      maxReceiveCount: Number(policy.maxReceiveCount),
    });
  }
  return pairs.sort((a, b) => a.sourceName.localeCompare(b.sourceName));
}

export interface QueueDepth {
  /** ApproximateNumberOfMessages: waiting to be received. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received and not yet deleted (someone is looking, or moving them). */
  readonly inFlight: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/**
 * How a message came to be in a work queue's DLQ: its handler quarantined it; SNS could not deliver
 * it to the work queue (it never reached the consumer); or SQS moved it after maxReceiveCount receives.
 */
export type DeadLetterOrigin = 'quarantined' | 'sns-delivery-failed' | 'max-receives';

type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** The origin of a DLQ message, from its message attributes: the quarantine reason first, then SNS's delivery-failure attributes. */
export function deadLetterOriginOf(attributes: MessageAttributes): DeadLetterOrigin {
  if (attributes[QUARANTINE_REASON_ATTRIBUTE] !== undefined) return 'quarantined';
  if (attributes.ErrorCode !== undefined || attributes.RequestID !== undefined) return 'sns-delivery-failed';
  return 'max-receives';
}

/** `ErrorCode: ErrorMessage` of a message SNS dead-lettered; undefined for the other origins. */
export function snsDeliveryErrorOf(attributes: MessageAttributes): string | undefined {
  if (deadLetterOriginOf(attributes) !== 'sns-delivery-failed') return undefined;
  const code = attributes.ErrorCode?.StringValue ?? '(no ErrorCode)';
  const message = attributes.ErrorMessage?.StringValue;
  return message === undefined || message === '' ? code : `${code}: ${message}`;
}

export interface DeadLetter {
  readonly messageId: string;
  readonly messageGroupId: string | undefined;
  /** Receives of this message from the DLQ itself (looking at it counts). */
  readonly receiveCount: number;
  /** When it entered the DLQ (epoch ms). */
  readonly sentAt: number | undefined;
  readonly origin: DeadLetterOrigin;
  /** The handler's reason, when the handler quarantined it; absent for the other origins. */
  readonly quarantineReason: string | undefined;
  /** `ErrorCode: ErrorMessage` of SNS's failed delivery (origin 'sns-delivery-failed' only). */
  readonly deliveryError: string | undefined;
  /** Receives in the work queue before the quarantine (quarantined messages only). */
  readonly sourceReceiveCount: number | undefined;
  /** Set when the message was redriven before and came back. */
  readonly redrivenFrom: string | undefined;
  readonly body: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
}

export function deadLetterOf(message: Message): DeadLetter {
  const attributes = message.MessageAttributes ?? {};
  const sourceReceives = attributes.originalReceiveCount?.StringValue;
  const sentAt = message.Attributes?.SentTimestamp;
  return {
    messageId: message.MessageId ?? '',
    messageGroupId: message.Attributes?.MessageGroupId,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    sentAt: sentAt === undefined ? undefined : Number(sentAt),
    origin: deadLetterOriginOf(attributes),
    quarantineReason: attributes[QUARANTINE_REASON_ATTRIBUTE]?.StringValue,
    deliveryError: snsDeliveryErrorOf(attributes),
    sourceReceiveCount: sourceReceives === undefined ? undefined : Number(sourceReceives),
    redrivenFrom: attributes[REDRIVEN_FROM_ATTRIBUTE]?.StringValue,
    body: message.Body ?? '',
    attributes,
  };
}

export interface ReceiveOptions {
  /** @default RECEIVE_WAIT_SECONDS_DEFAULT */
  readonly waitSeconds?: number;
}

async function receive(sqs: SQSClient, queueUrl: string, count: number, holdSeconds: number, options: ReceiveOptions): Promise<Message[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(RECEIVE_BATCH_MAX, count),
      VisibilityTimeout: holdSeconds,
      WaitTimeSeconds: options.waitSeconds ?? RECEIVE_WAIT_SECONDS_DEFAULT,
      MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount', 'SentTimestamp'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages ?? [];
}

/**
 * Makes received messages visible again at once; best effort (they come back after their hold
 * anyway). Last first: SQS keeps each message's place in its group whatever the order, and fauxqs
 * puts a released message back at the head of its group, so this order is right for both.
 */
async function release(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (const message of [...messages].reverse()) {
    if (message.ReceiptHandle === undefined) continue;
    try {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    } catch {
      // It becomes visible when its hold ends.
    }
  }
}

/**
 * Up to `max` messages of the DLQ, oldest first per message group, without consuming them: each is
 * received with a short hold and made visible again before this returns (or, if this process
 * dies, when the hold ends). A FIFO queue hands out no more of a group while some of it is held,
 * so a look shows the first messages of each group: up to 10 on AWS (one receive's worth), the
 * first one alone on fauxqs (which hands out one message per group at a time). The depth counts
 * them all.
 */
export async function peekDeadLetters(sqs: SQSClient, deadLetterUrl: string, max: number, options: ReceiveOptions = {}): Promise<DeadLetter[]> {
  const held: Message[] = [];
  try {
    while (held.length < max) {
      const messages = await receive(sqs, deadLetterUrl, max - held.length, PEEK_HOLD_SECONDS, options);
      if (messages.length === 0) break;
      held.push(...messages);
    }
    return held.map(deadLetterOf);
  } finally {
    await release(sqs, deadLetterUrl, held);
  }
}

export interface RedrivenMessage {
  readonly messageId: string;
  readonly messageGroupId: string;
  /** Its id in the source queue. */
  readonly newMessageId: string;
  readonly origin: DeadLetterOrigin;
  readonly quarantineReason: string | undefined;
  readonly deliveryError: string | undefined;
}

export interface RedriveResult {
  readonly moved: readonly RedrivenMessage[];
  /**
   * Why the move stopped before `max` or an empty DLQ; undefined when it did not. Messages not
   * moved stay in the DLQ (visible again at once); a message sent but not deleted (the delete
   * failed) is sent again by the next redrive, which its consumer absorbs.
   */
  readonly stoppedBy: string | undefined;
}

/** The message attributes a redriven message carries: the original ones minus the quarantine's and SNS's delivery-failure ones, plus where it came from. */
export function redriveAttributes(message: Message, deadLetterName: string): Record<string, MessageAttributeValue> {
  const kept: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (QUARANTINE_ATTRIBUTES.includes(name) || SNS_DELIVERY_FAILURE_ATTRIBUTES.includes(name) || name === REDRIVEN_FROM_ATTRIBUTE || value.DataType === undefined) continue;
    kept[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  if (Object.keys(kept).length < MESSAGE_ATTRIBUTES_MAX) kept[REDRIVEN_FROM_ATTRIBUTE] = { DataType: 'String', StringValue: deadLetterName };
  return kept;
}

export interface RedriveOptions extends ReceiveOptions {
  /** Called after each message has moved (progress). */
  readonly onMoved?: (message: RedrivenMessage) => void;
}

/**
 * Moves up to `max` messages from the DLQ back to the source queue: receive, send (same group,
 * fresh deduplication id), delete, one message at a time in the order received. The first failure
 * stops the move: what was received and not moved is made visible again, in order, so no group's
 * later message can overtake the one that failed.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  pair: Pick<RedrivePair, 'sourceUrl' | 'deadLetterUrl' | 'deadLetterName'>,
  max: number,
  options: RedriveOptions = {},
): Promise<RedriveResult> {
  const moved: RedrivenMessage[] = [];
  while (moved.length < max) {
    const messages = await receive(sqs, pair.deadLetterUrl, max - moved.length, REDRIVE_HOLD_SECONDS, options);
    if (messages.length === 0) break;
    for (const [index, message] of messages.entries()) {
      const rest = messages.slice(index);
      const groupId = message.Attributes?.MessageGroupId;
      if (groupId === undefined || message.ReceiptHandle === undefined || message.Body === undefined) {
        await release(sqs, pair.deadLetterUrl, rest);
        return { moved, stoppedBy: `message ${message.MessageId ?? '?'} has no MessageGroupId, receipt handle or body (is ${pair.deadLetterName} a FIFO queue?)` };
      }
      let newMessageId: string;
      try {
        const sent = await sqs.send(
          new SendMessageCommand({
            QueueUrl: pair.sourceUrl,
            MessageBody: message.Body,
            MessageGroupId: groupId,
            MessageDeduplicationId: randomUUID(),
            MessageAttributes: redriveAttributes(message, pair.deadLetterName),
          }),
        );
        newMessageId = sent.MessageId ?? '';
      } catch (error) {
        await release(sqs, pair.deadLetterUrl, rest);
        return { moved, stoppedBy: `sending ${message.MessageId ?? '?'} to the source queue failed (${describe(error)}); it stays in the DLQ` };
      }
      try {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: pair.deadLetterUrl, ReceiptHandle: message.ReceiptHandle }));
      } catch (error) {
        await release(sqs, pair.deadLetterUrl, rest.slice(1));
        return {
          moved,
          stoppedBy: `${message.MessageId ?? '?'} was sent to the source queue but not deleted from the DLQ (${describe(error)}); a later redrive sends it again, which its consumer absorbs`,
        };
      }
      const { messageId, origin, quarantineReason, deliveryError } = deadLetterOf(message);
      const redriven: RedrivenMessage = { messageId, messageGroupId: groupId, newMessageId, origin, quarantineReason, deliveryError };
      moved.push(redriven);
      options.onMoved?.(redriven);
    }
  }
  return { moved, stoppedBy: undefined };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
