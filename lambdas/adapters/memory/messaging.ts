// An in-memory SNS + SQS (FIFO and standard) fabric that answers the AWS SDK v3 commands this
// project sends, so provisioning, the event publisher, the ops notifier, quarantine, the Lambda
// event-source emulation and the ops console run unchanged without fauxqs. Deterministic for the
// simulator and fast tests: message ids, receipt handles and sequence numbers come from counters,
// and time only from the injected clock. Held to the same differential contract test as fauxqs
// (test/integration/memory-messaging.test.ts); where fauxqs and AWS differ, the doc comments say
// which one is followed.
import { createHash } from 'node:crypto';
import {
  CreateTopicCommand,
  InvalidParameterException,
  InvalidParameterValueException,
  NotFoundException,
  PublishCommand,
  SubscribeCommand,
  type CreateTopicCommandInput,
  type CreateTopicCommandOutput,
  type PublishCommandInput,
  type PublishCommandOutput,
  type ServiceInputTypes as SnsServiceInput,
  type SNSClient,
  type SubscribeCommandInput,
  type SubscribeCommandOutput,
} from '@aws-sdk/client-sns';
import {
  BatchEntryIdsNotDistinct,
  BatchRequestTooLong,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  InvalidAttributeValue,
  InvalidBatchEntryId,
  InvalidMessageContents,
  MessageNotInflight,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
  type BatchResultErrorEntry,
  type ChangeMessageVisibilityBatchCommandInput,
  type ChangeMessageVisibilityBatchCommandOutput,
  type ChangeMessageVisibilityCommandInput,
  type CreateQueueCommandInput,
  type CreateQueueCommandOutput,
  type DeleteMessageBatchCommandInput,
  type DeleteMessageBatchCommandOutput,
  type DeleteMessageCommandInput,
  type GetQueueAttributesCommandInput,
  type GetQueueAttributesCommandOutput,
  type GetQueueUrlCommandInput,
  type GetQueueUrlCommandOutput,
  type Message,
  type MessageAttributeValue,
  type MessageSystemAttributeName,
  type PurgeQueueCommandInput,
  type QueueAttributeName,
  type ReceiveMessageCommandInput,
  type ReceiveMessageCommandOutput,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchResultEntry,
  type SendMessageCommandInput,
  type SendMessageCommandOutput,
  type ServiceInputTypes as SqsServiceInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** The SDK's response metadata, named through an output type (its home package is not a dependency here). */
type ResponseMetadata = SendMessageCommandOutput['$metadata'];
interface MetadataBearer {
  $metadata: ResponseMetadata;
}
/** One message as SendMessage and each SendMessageBatch entry give it. */
type SendEntry = Pick<SendMessageCommandInput, 'MessageBody' | 'MessageAttributes' | 'MessageGroupId' | 'MessageDeduplicationId' | 'DelaySeconds'>;

/** The account id fauxqs and LocalStack use; ARNs and queue URLs carry it. */
export const MEMORY_ACCOUNT_ID = '000000000000';
const DEFAULT_REGION = 'us-east-1';
/** SQS FIFO and SNS FIFO deduplication interval. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1_000;
/** ReceiveMessage and every batch API take at most 10 entries. */
const BATCH_ENTRIES_MAX = 10;
const VISIBILITY_TIMEOUT_SECONDS_MAX = 43_200;
const WAIT_TIME_SECONDS_MAX = 20;
const SQS_MESSAGE_BYTES_MAX = 1_048_576;
const SNS_MESSAGE_BYTES_MAX = 262_144;
const MESSAGE_ATTRIBUTES_MAX = 10;
const DEDUPLICATION_ID_LENGTH_MAX = 128;
const MAX_RECEIVE_COUNT_MAX = 1_000;
/** Kept per topic for `published()`; older entries are dropped so a long simulation stays bounded. */
export const PUBLISHED_KEPT_MAX = 10_000;
/** With real long polling, how often a waiting receive looks again (visibility expiries are time-driven). */
const LONG_POLL_RECHECK_MS = 20;
/** Sequence numbers are 20-digit strings on AWS and fauxqs; consumers compare them as strings. */
const SEQUENCE_NUMBER_DIGITS = 20;

export type GroupDelivery = 'one-in-flight' | 'aws';
export type LongPolling = 'none' | 'real';

export interface FaultRequest {
  readonly service: 'sns' | 'sqs';
  /** The API action: 'Publish', 'ReceiveMessage', ... */
  readonly operation: string;
  /** Topic ARN, queue URL, or the name being created; '' when the request names none. */
  readonly target: string;
}

export interface MemoryMessagingOptions {
  /** Milliseconds since the epoch; every timeout, window and timestamp reads it. @default Date.now */
  readonly now?: () => number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /**
   * 'one-in-flight': a FIFO group has at most one message in flight (what fauxqs does).
   * 'aws': one receive may take several consecutive messages of a group, in order (what AWS does).
   * In both, a group with anything in flight gives nothing to other receives.
   * @default 'one-in-flight'
   */
  readonly groupDelivery?: GroupDelivery;
  /** Consulted before each request; a returned error is thrown and the request changes nothing. */
  readonly faults?: (request: FaultRequest) => Error | undefined;
  /**
   * 'none': a receive with nothing available returns at once (after yielding to the event loop
   * once, so a consumer loop cannot starve timers); a simulator drives time itself.
   * 'real': it waits on real timers until a message is available or WaitTimeSeconds ends.
   * @default 'none'
   */
  readonly longPolling?: LongPolling;
  /**
   * A DeleteMessage whose receipt handle is stale (the message was received again since, deleted,
   * or on a FIFO queue its visibility expired). 'ignore': succeeds and changes nothing, as fauxqs
   * does. 'reject': fails with ReceiptHandleIsInvalid on FIFO queues, as AWS does for expired
   * handles. @default 'ignore'
   */
  readonly staleDelete?: 'ignore' | 'reject';
}

export interface QueueDepth {
  /** Receivable now or once their group is free (ApproximateNumberOfMessages). */
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export type MessageState = 'visible' | 'inFlight' | 'delayed';

/** A message as it sits in a queue, read without receiving it. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  readonly sequenceNumber?: string;
  readonly receiveCount: number;
  readonly sentTimestampMs: number;
  readonly state: MessageState;
}

/** A publish a topic accepted (duplicates within the deduplication window are not recorded). */
export interface PublishedMessage {
  readonly messageId: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  readonly sequenceNumber?: string;
  readonly publishedAtMs: number;
  /** URLs of the queues a copy was enqueued on (after filter policies and queue deduplication). */
  readonly deliveredTo: readonly string[];
}

/** What `send` accepts: an SDK v3 command, typed by the output it answers with. */
export interface SdkCommand<Input extends object, Output> {
  readonly input: Input;
  resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ readonly output: Output }>;
}

export interface SendOptions {
  readonly abortSignal?: AbortSignal | undefined;
}

/** The part of an SDK v3 client this project uses: `send(command, { abortSignal })` and `destroy()`. */
export interface MemoryClient<ServiceInput extends object> {
  send<Input extends ServiceInput, Output>(command: SdkCommand<Input, Output>, options?: SendOptions): Promise<Output>;
  destroy(): void;
}

// ---------------------------------------------------------------------------------------------
// Errors. AWS behaviours raise the SDK's own exception classes (what a real client would throw);
// the fabric's own limits raise MemoryMessagingError subclasses, so they are never mistaken for
// an AWS answer.

export class MemoryMessagingError extends Error {
  override name = 'MemoryMessagingError';
}

/** A command (or a form of one) the fabric does not implement: extend the fabric, do not work around it. */
export class UnsupportedCommandError extends MemoryMessagingError {
  override name = 'UnsupportedCommandError';
}

/** A filter policy AWS may accept but the fabric cannot evaluate; it refuses rather than guess. */
export class UnsupportedFilterPolicyError extends MemoryMessagingError {
  override name = 'UnsupportedFilterPolicyError';
}

/** The SDK rejects an aborted request with an error named AbortError; callers test the name. */
export class RequestAbortedError extends MemoryMessagingError {
  override name = 'AbortError';
}

const SQS_MODELED_ERRORS = {
  QueueDoesNotExist,
  QueueNameExists,
  InvalidAttributeName,
  InvalidAttributeValue,
  ReceiptHandleIsInvalid,
  MessageNotInflight,
  EmptyBatchRequest,
  TooManyEntriesInBatchRequest,
  BatchEntryIdsNotDistinct,
  InvalidBatchEntryId,
  InvalidMessageContents,
  BatchRequestTooLong,
} as const;

type SqsErrorCode = keyof typeof SQS_MODELED_ERRORS | 'InvalidParameterValue' | 'MissingParameter';

/**
 * As the SDK builds them from an answer: a modeled error is its class (name = code); an unmodeled
 * one is an SQSServiceException named by its legacy query code, as seen against fauxqs. `Code`
 * carries the legacy query code either way.
 */
function sqsError(code: SqsErrorCode, message: string): SQSServiceException {
  const queryCode = `AWS.SimpleQueueService.${code === 'QueueDoesNotExist' ? 'NonExistentQueue' : code}`;
  if (code === 'InvalidParameterValue' || code === 'MissingParameter') {
    const error = new SQSServiceException({ name: queryCode, $fault: 'client', message, $metadata: {} });
    return Object.assign(error, { Code: queryCode });
  }
  const ErrorClass = SQS_MODELED_ERRORS[code];
  return Object.assign(new ErrorClass({ message, $metadata: {} }), { Code: queryCode });
}

function snsNotFound(message: string): NotFoundException {
  return Object.assign(new NotFoundException({ message, $metadata: {} }), { Code: 'NotFound' });
}

function snsInvalidParameter(message: string): InvalidParameterException {
  return Object.assign(new InvalidParameterException({ message: `Invalid parameter: ${message}`, $metadata: {} }), {
    Code: 'InvalidParameter',
  });
}

function snsInvalidParameterValue(message: string): InvalidParameterValueException {
  return Object.assign(new InvalidParameterValueException({ message, $metadata: {} }), { Code: 'ParameterValueInvalid' });
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: SqsErrorCode; readonly message: string };

const failure = (code: SqsErrorCode, message: string): Outcome<never> => ({ ok: false, code, message });

/** A broken invariant of the fabric itself: stop rather than answer wrongly. */
function assertInvariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new MemoryMessagingError(`invariant broken: ${message}`);
}

function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw sqsError(outcome.code, outcome.message);
  return outcome.value;
}

// ---------------------------------------------------------------------------------------------
// Small pure helpers.

interface AttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

type Attributes = Readonly<Record<string, AttributeValue>>;

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** AWS's MD5 of message attributes: sorted names, each length-prefixed name, type, transport byte, value. */
function md5OfAttributes(attributes: Attributes): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const lengthPrefixed = (bytes: Uint8Array): Buffer[] => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, Buffer.from(bytes)];
  };
  const parts: Buffer[] = [];
  for (const name of names) {
    const value = attributes[name];
    if (value === undefined) continue;
    parts.push(...lengthPrefixed(Buffer.from(name, 'utf8')), ...lengthPrefixed(Buffer.from(value.DataType, 'utf8')));
    if (value.BinaryValue !== undefined) parts.push(Buffer.from([2]), ...lengthPrefixed(value.BinaryValue));
    else parts.push(Buffer.from([1]), ...lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8')));
  }
  return createHash('md5').update(Buffer.concat(parts)).digest('hex');
}

function attributesBytes(attributes: Attributes): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    bytes += value.BinaryValue !== undefined ? value.BinaryValue.length : Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

/** Copies, so a caller mutating what it got back cannot reach into the fabric. */
function copyAttributes(attributes: Attributes): Record<string, MessageAttributeValue> {
  const copy: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    copy[name] =
      value.BinaryValue !== undefined
        ? { DataType: value.DataType, BinaryValue: Uint8Array.from(value.BinaryValue) }
        : { DataType: value.DataType, StringValue: value.StringValue ?? '' };
  }
  return copy;
}

const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z0-9_\-.]{1,256}$/;
const DATA_TYPE_PATTERN = /^(String|Number|Binary)(\.[A-Za-z0-9_\-.]{1,256})?$/;

/** Validates and copies SNS/SQS message attributes; `fail` builds the service's own error. */
function normalizeAttributes(
  raw: Readonly<Record<string, { DataType: string | undefined; StringValue?: string | undefined; BinaryValue?: Uint8Array | undefined }>> | undefined,
  fail: (message: string) => Error,
): Attributes {
  const entries = Object.entries(raw ?? {});
  if (entries.length > MESSAGE_ATTRIBUTES_MAX) throw fail(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MESSAGE_ATTRIBUTES_MAX}].`);
  const normalized: Record<string, AttributeValue> = {};
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME_PATTERN.test(name) || name.startsWith('AWS.') || name.startsWith('Amazon.')) throw fail(`Message attribute name '${name}' is invalid.`);
    const dataType = value.DataType;
    if (dataType === undefined || !DATA_TYPE_PATTERN.test(dataType)) throw fail(`The type of message (user) attribute '${name}' is invalid.`);
    if (dataType.startsWith('Binary')) {
      if (value.BinaryValue === undefined || value.BinaryValue.length === 0) throw fail(`Message (user) attribute '${name}' must contain a non-empty value of type 'Binary'.`);
      normalized[name] = { DataType: dataType, BinaryValue: Uint8Array.from(value.BinaryValue) };
    } else {
      if (value.StringValue === undefined || value.StringValue === '') throw fail(`Message (user) attribute '${name}' must contain a non-empty value of type '${dataType}'.`);
      if (dataType.startsWith('Number') && !Number.isFinite(Number(value.StringValue))) throw fail(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      normalized[name] = { DataType: dataType, StringValue: value.StringValue };
    }
  }
  return normalized;
}

/** SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
function hasInvalidCharacter(body: string): boolean {
  for (const character of body) {
    const codePoint = character.codePointAt(0) ?? 0;
    const allowed =
      codePoint === 0x9 ||
      codePoint === 0xa ||
      codePoint === 0xd ||
      (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
      (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
      (codePoint >= 0x10000 && codePoint <= 0x10ffff);
    if (!allowed) return true;
  }
  return false;
}

/** MessageGroupId and MessageDeduplicationId: 1-128 characters from ! to ~. */
const TOKEN_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${DEDUPLICATION_ID_LENGTH_MAX}}$`);

/** Deterministic, UUID-shaped ids (some consumers validate the shape): kind, then a counter. */
function uuidShaped(kind: number, counter: number): string {
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

const ID_KIND = { sqsMessage: 1, snsMessage: 2, subscription: 3 } as const;
const RECEIPT_HANDLE_PATTERN = /^mm-rh-(\d+)$/;

const sequenceNumberOf = (counter: number): string => String(counter).padStart(SEQUENCE_NUMBER_DIGITS, '0');

// ---------------------------------------------------------------------------------------------
// Deduplication history: insertion order is expiry order (the clock only moves forward), so
// expired entries are always at the front and pruning is amortized O(1).

interface DedupEntry {
  readonly messageId: string;
  readonly sequenceNumber: string | undefined;
  readonly expiresAtMs: number;
}

class DedupWindow {
  readonly #entries = new Map<string, DedupEntry>();

  find(key: string, nowMs: number): DedupEntry | undefined {
    for (const [oldest, entry] of this.#entries) {
      if (entry.expiresAtMs > nowMs) break;
      this.#entries.delete(oldest);
    }
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expiresAtMs > nowMs ? entry : undefined;
  }

  record(key: string, entry: DedupEntry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  clear(): void {
    this.#entries.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// Queues.

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Attributes;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
  readonly sequenceNumber: string | undefined;
  readonly sentTimestampMs: number;
  /** Arrival order in the queue it sits in: FIFO order within a group, oldest-first across groups. */
  arrival: number;
  receiveCount: number;
  firstReceiveTimestampMs: number | undefined;
  /** End of a delay (no handle yet) or of the visibility timeout (in flight under `receiptHandle`). */
  availableAtMs: number;
  /** The handle of the latest receive: the only one that still deletes or changes visibility. */
  receiptHandle: string | undefined;
}

const isInFlight = (message: StoredMessage, nowMs: number): boolean => message.receiptHandle !== undefined && message.availableAtMs > nowMs;
const stateOf = (message: StoredMessage, nowMs: number): MessageState =>
  message.availableAtMs <= nowMs ? 'visible' : message.receiptHandle !== undefined ? 'inFlight' : 'delayed';

interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

interface IncomingMessage {
  readonly body: string;
  readonly attributes: Attributes;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
  readonly delaySeconds: number | undefined;
}

interface Accepted {
  readonly messageId: string;
  readonly sequenceNumber: string | undefined;
  readonly duplicate: boolean;
  readonly md5OfBody: string;
  readonly md5OfAttributes: string | undefined;
}

interface TakeRequest {
  readonly max: number;
  readonly visibilitySeconds: number;
  readonly nowMs: number;
  readonly mode: GroupDelivery;
  readonly nextHandle: () => string;
  /** Moves a message that has used up its receives to the DLQ; false when there is none to move to. */
  readonly deadLetter: (message: StoredMessage) => boolean;
}

/** The fabric's own name for the single list of a standard queue. */
const STANDARD_LIST = '';

class MemoryQueue {
  readonly createdAtSeconds: number;
  readonly fifo: boolean;
  readonly redrive: RedrivePolicy | undefined;
  /** Woken when something may have become receivable (real long polling only). */
  readonly waiters = new Set<() => void>();
  /** FIFO: one list per message group, in arrival order. Standard: one list. Empty lists are dropped. */
  readonly #lists = new Map<string, StoredMessage[]>();
  readonly #handles = new Map<string, StoredMessage>();
  readonly #dedup = new DedupWindow();
  #arrivals = 0;
  #sequence = 0;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    readonly attributes: Readonly<Record<string, string>>,
    nowMs: number,
  ) {
    this.createdAtSeconds = Math.floor(nowMs / 1_000);
    this.fifo = attributes.FifoQueue === 'true';
    this.redrive = attributes.RedrivePolicy === undefined ? undefined : parseRedrivePolicy(attributes.RedrivePolicy);
  }

  get visibilitySeconds(): number {
    return Number(this.attributes.VisibilityTimeout);
  }

  /** Enqueues unless a FIFO duplicate within the window; the caller validated FIFO parameters. */
  accept(incoming: IncomingMessage, nowMs: number, nextMessageId: () => string): Accepted {
    const md5OfBody = md5(incoming.body);
    const attributesDigest = md5OfAttributes(incoming.attributes);
    if (!this.fifo) {
      const messageId = nextMessageId();
      this.#enqueue(this.#stored(incoming, { messageId, md5OfBody, deduplicationId: undefined, sequenceNumber: undefined }, nowMs));
      return { messageId, sequenceNumber: undefined, duplicate: false, md5OfBody, md5OfAttributes: attributesDigest };
    }
    const groupId = incoming.groupId;
    assertInvariant(groupId !== undefined, `a message for FIFO queue ${this.name} has a group`);
    const deduplicationId = incoming.deduplicationId ?? sha256(incoming.body);
    const key = this.attributes.DeduplicationScope === 'messageGroup' ? `${groupId}\u0000${deduplicationId}` : deduplicationId;
    const original = this.#dedup.find(key, nowMs);
    if (original !== undefined) {
      return { messageId: original.messageId, sequenceNumber: original.sequenceNumber, duplicate: true, md5OfBody, md5OfAttributes: attributesDigest };
    }
    const messageId = nextMessageId();
    const sequenceNumber = sequenceNumberOf(++this.#sequence);
    this.#dedup.record(key, { messageId, sequenceNumber, expiresAtMs: nowMs + DEDUPLICATION_WINDOW_MS });
    this.#enqueue(this.#stored({ ...incoming, groupId }, { messageId, md5OfBody, deduplicationId, sequenceNumber }, nowMs));
    return { messageId, sequenceNumber, duplicate: false, md5OfBody, md5OfAttributes: attributesDigest };
  }

  #stored(incoming: IncomingMessage, identity: Pick<StoredMessage, 'messageId' | 'md5OfBody' | 'deduplicationId' | 'sequenceNumber'>, nowMs: number): StoredMessage {
    const delaySeconds = incoming.delaySeconds ?? Number(this.attributes.DelaySeconds ?? '0');
    const { messageId, md5OfBody, deduplicationId, sequenceNumber } = identity;
    return {
      messageId,
      body: incoming.body,
      md5OfBody,
      attributes: incoming.attributes,
      groupId: this.fifo ? incoming.groupId : undefined,
      deduplicationId,
      sequenceNumber,
      sentTimestampMs: nowMs,
      arrival: 0,
      receiveCount: 0,
      firstReceiveTimestampMs: undefined,
      availableAtMs: nowMs + delaySeconds * 1_000,
      receiptHandle: undefined,
    };
  }

  /** Takes a message moved from another queue's redrive: same id, body, attributes, group, counts. */
  adopt(message: StoredMessage, nowMs: number): void {
    this.#enqueue({ ...message, groupId: this.fifo ? message.groupId : undefined, availableAtMs: nowMs, receiptHandle: undefined });
  }

  #enqueue(message: StoredMessage): void {
    assertInvariant(!this.fifo || message.groupId !== undefined, `message ${message.messageId} on FIFO queue ${this.name} has a group`);
    message.arrival = ++this.#arrivals;
    const key = this.fifo ? (message.groupId ?? '') : STANDARD_LIST;
    const list = this.#lists.get(key);
    if (list === undefined) this.#lists.set(key, [message]);
    else list.push(message);
    this.wake();
  }

  wake(): void {
    for (const waiter of this.waiters) queueMicrotask(waiter);
  }

  /** The lists a receive may take from now, oldest head first: for FIFO, groups with nothing in flight. */
  #open(nowMs: number): StoredMessage[][] {
    const lists = [...this.#lists.values()];
    if (!this.fifo) return lists;
    const open = lists.filter((list) => list[0] !== undefined && list[0].availableAtMs <= nowMs && !list.some((message) => isInFlight(message, nowMs)));
    return open.sort((a, b) => (a[0]?.arrival ?? 0) - (b[0]?.arrival ?? 0));
  }

  take(request: TakeRequest): StoredMessage[] {
    const taken: StoredMessage[] = [];
    for (const list of this.#open(request.nowMs)) {
      if (taken.length >= request.max) break;
      this.#takeFrom(list, request, taken);
    }
    this.#dropEmptyLists();
    assertInvariant(taken.length <= request.max, `a receive on ${this.name} took more than it asked for`);
    const groups = new Set(taken.map((message) => message.groupId));
    assertInvariant(!this.fifo || request.mode === 'aws' || groups.size === taken.length, `a receive on ${this.name} took two messages of one group`);
    return taken;
  }

  /** FIFO: consecutive messages from the group's head; standard: any visible message, oldest first. */
  #takeFrom(list: StoredMessage[], request: TakeRequest, taken: StoredMessage[]): void {
    let index = 0;
    while (index < list.length && taken.length < request.max) {
      const message = list[index];
      if (message === undefined) break;
      if (message.availableAtMs > request.nowMs) {
        if (this.fifo) return;
        index++;
        continue;
      }
      // Counted before the redrive check, as fauxqs does: a moved message arrives in the DLQ
      // with maxReceiveCount + 1 receives.
      message.receiveCount++;
      message.firstReceiveTimestampMs ??= request.nowMs;
      if (request.deadLetter(message)) {
        list.splice(index, 1);
        if (message.receiptHandle !== undefined) this.#handles.delete(message.receiptHandle);
        continue;
      }
      if (message.receiptHandle !== undefined) this.#handles.delete(message.receiptHandle);
      message.receiptHandle = request.nextHandle();
      message.availableAtMs = request.nowMs + request.visibilitySeconds * 1_000;
      this.#handles.set(message.receiptHandle, message);
      taken.push(message);
      index++;
      if (this.fifo && request.mode === 'one-in-flight') return;
    }
  }

  #dropEmptyLists(): void {
    for (const [key, list] of this.#lists) if (list.length === 0) this.#lists.delete(key);
  }

  /** The message a receipt handle still refers to, if it is the latest receive's. */
  current(receiptHandle: string): StoredMessage | undefined {
    return this.#handles.get(receiptHandle);
  }

  remove(message: StoredMessage): void {
    const key = this.fifo ? (message.groupId ?? '') : STANDARD_LIST;
    const list = this.#lists.get(key);
    const index = list?.indexOf(message) ?? -1;
    if (list === undefined || index < 0) throw new MemoryMessagingError(`message ${message.messageId} is not in ${this.name}`);
    list.splice(index, 1);
    if (list.length === 0) this.#lists.delete(key);
    if (message.receiptHandle !== undefined) this.#handles.delete(message.receiptHandle);
    message.receiptHandle = undefined;
    this.wake();
  }

  /** A receive now would return something: some group's first message is visible (a group's in-flight head blocks it). */
  hasReceivable(nowMs: number): boolean {
    for (const list of this.#lists.values()) {
      const head = list[0];
      if (head !== undefined && stateOf(head, nowMs) === 'visible') return true;
    }
    return false;
  }

  depth(nowMs: number): QueueDepth {
    const counts = { visible: 0, inFlight: 0, delayed: 0 };
    for (const list of this.#lists.values()) for (const message of list) counts[stateOf(message, nowMs)]++;
    return counts;
  }

  snapshot(nowMs: number): QueuedMessage[] {
    const all = [...this.#lists.values()].flat().sort((a, b) => a.arrival - b.arrival);
    return all.map((message) => ({
      messageId: message.messageId,
      body: message.body,
      messageAttributes: copyAttributes(message.attributes),
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      ...(message.deduplicationId !== undefined ? { deduplicationId: message.deduplicationId } : {}),
      ...(message.sequenceNumber !== undefined ? { sequenceNumber: message.sequenceNumber } : {}),
      receiveCount: message.receiveCount,
      sentTimestampMs: message.sentTimestampMs,
      state: stateOf(message, nowMs),
    }));
  }

  /** PurgeQueue: every message goes; the deduplication history stays (as on fauxqs). */
  purge(): void {
    this.#lists.clear();
    this.#handles.clear();
  }

  /** A restart of an in-memory broker: messages and deduplication history are gone. */
  lose(): void {
    this.purge();
    this.#dedup.clear();
  }
}

function parseRedrivePolicy(text: string): RedrivePolicy {
  const invalid = (reason: string): Error => sqsError('InvalidAttributeValue', `Invalid value for the parameter RedrivePolicy. Reason: ${reason}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw Object.assign(invalid('Redrive policy is not a valid JSON map.'), { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('Redrive policy is not a valid JSON map.');
  const { deadLetterTargetArn, maxReceiveCount } = parsed as Record<string, unknown>;
  const count = typeof maxReceiveCount === 'string' ? Number(maxReceiveCount) : maxReceiveCount;
  if (typeof deadLetterTargetArn !== 'string' || !deadLetterTargetArn.startsWith('arn:aws:sqs:')) throw invalid('Dead letter target ARN is missing or invalid.');
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_RECEIVE_COUNT_MAX) {
    throw invalid(`Value ${String(maxReceiveCount)} for parameter maxReceiveCount is invalid. Reason: Must be between 1 and ${MAX_RECEIVE_COUNT_MAX}.`);
  }
  return { deadLetterTargetArn, maxReceiveCount: count };
}

// ---------------------------------------------------------------------------------------------
// Queue attributes: what CreateQueue accepts, their defaults and ranges, what GetQueueAttributes tells.

const SETTABLE_QUEUE_ATTRIBUTES = new Set([
  'VisibilityTimeout',
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);
const FIFO_ONLY_ATTRIBUTES = ['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit'] as const;

const QUEUE_ATTRIBUTE_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  VisibilityTimeout: [0, VISIBILITY_TIMEOUT_SECONDS_MAX],
  DelaySeconds: [0, 900],
  ReceiveMessageWaitTimeSeconds: [0, WAIT_TIME_SECONDS_MAX],
  MaximumMessageSize: [1_024, SQS_MESSAGE_BYTES_MAX],
  MessageRetentionPeriod: [60, 1_209_600],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};

const QUEUE_ATTRIBUTE_CHOICES: Readonly<Record<string, readonly string[]>> = {
  FifoQueue: ['true', 'false'],
  ContentBasedDeduplication: ['true', 'false'],
  SqsManagedSseEnabled: ['true', 'false'],
  DeduplicationScope: ['messageGroup', 'queue'],
  FifoThroughputLimit: ['perQueue', 'perMessageGroupId'],
};

/** GetQueueAttributes 'All', in fauxqs's order. */
const ALL_QUEUE_ATTRIBUTES: readonly QueueAttributeName[] = [
  'QueueArn',
  'VisibilityTimeout',
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

/** Validates CreateQueue attributes and fills in the defaults (fauxqs's, which are AWS's). */
function queueAttributes(name: string, given: Readonly<Record<string, string>>): Record<string, string> {
  const fifo = name.endsWith('.fifo');
  if (given.FifoQueue === 'true' && !fifo) {
    throw sqsError('InvalidParameterValue', 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix.');
  }
  if (fifo && given.FifoQueue === 'false') throw sqsError('InvalidParameterValue', 'A queue whose name ends with .fifo is a FIFO queue.');
  for (const [attribute, value] of Object.entries(given)) {
    if (!SETTABLE_QUEUE_ATTRIBUTES.has(attribute)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${attribute}.`);
    const range = QUEUE_ATTRIBUTE_RANGES[attribute];
    const number = Number(value);
    if (range !== undefined && (!/^\d+$/.test(value) || number < range[0] || number > range[1])) {
      throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${attribute}. Reason: Must be between ${range[0]} and ${range[1]}.`);
    }
    const choices = QUEUE_ATTRIBUTE_CHOICES[attribute];
    if (choices !== undefined && !choices.includes(value)) throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${attribute}.`);
  }
  if (!fifo && FIFO_ONLY_ATTRIBUTES.some((attribute) => attribute in given)) throw sqsError('InvalidAttributeName', 'Unknown Attribute for a standard queue.');
  if (given.RedrivePolicy !== undefined) parseRedrivePolicy(given.RedrivePolicy);
  const defaults: Record<string, string> = {
    VisibilityTimeout: '30',
    DelaySeconds: '0',
    MaximumMessageSize: String(SQS_MESSAGE_BYTES_MAX),
    MessageRetentionPeriod: '345600',
    ReceiveMessageWaitTimeSeconds: '0',
    ...(fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false', DeduplicationScope: 'queue', FifoThroughputLimit: 'perQueue' } : {}),
  };
  const attributes = { ...defaults, ...given };
  if (attributes.FifoThroughputLimit === 'perMessageGroupId' && attributes.DeduplicationScope !== 'messageGroup') {
    throw sqsError('InvalidAttributeValue', 'FifoThroughputLimit perMessageGroupId requires DeduplicationScope messageGroup.');
  }
  return attributes;
}

const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$|^[A-Za-z0-9_-]{1,80}$/;

// ---------------------------------------------------------------------------------------------
// Topics, subscriptions and filter policies.

/** Attribute name -> allowed exact string values; every named attribute must match one. */
type FilterPolicy = ReadonlyMap<string, ReadonlySet<string>>;

interface MemorySubscription {
  readonly arn: string;
  readonly endpoint: string;
  readonly raw: boolean;
  readonly filter: FilterPolicy | undefined;
  readonly attributes: Readonly<Record<string, string>>;
}

interface MemoryTopic {
  readonly arn: string;
  readonly name: string;
  readonly fifo: boolean;
  readonly attributes: Readonly<Record<string, string>>;
  readonly subscriptions: MemorySubscription[];
  readonly dedup: DedupWindow;
  readonly published: PublishedMessage[];
  sequence: number;
}

const SUBSCRIPTION_ATTRIBUTES = new Set(['RawMessageDelivery', 'FilterPolicy', 'FilterPolicyScope', 'RedrivePolicy', 'DeliveryPolicy', 'SubscriptionRoleArn']);
const TOPIC_ATTRIBUTES = new Set([
  'FifoTopic',
  'ContentBasedDeduplication',
  'FifoThroughputScope',
  'DisplayName',
  'Policy',
  'DeliveryPolicy',
  'KmsMasterKeyId',
  'SignatureVersion',
  'TracingConfig',
  'ArchivePolicy',
]);
const TOPIC_NAME_PATTERN = /^[A-Za-z0-9_-]{1,251}(\.fifo)?$|^[A-Za-z0-9_-]{1,256}$/;

/**
 * Only what the topology uses: `{ "attr": ["a", "b"] }`, exact string matches, every attribute
 * present and matching. Malformed policies are refused as AWS refuses them; valid policies with
 * operators (prefix, numeric, anything-but, exists, $or, ...) are refused as unsupported, never
 * silently matched.
 */
function compileFilterPolicy(text: string): FilterPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw Object.assign(snsInvalidParameter('FilterPolicy: failed to parse JSON.'), { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw snsInvalidParameter('FilterPolicy: a filter policy must be a JSON object.');
  const policy = new Map<string, ReadonlySet<string>>();
  for (const [attribute, condition] of Object.entries(parsed)) {
    if (attribute.startsWith('$')) throw new UnsupportedFilterPolicyError(`filter policy operator ${attribute} is not supported in memory`);
    if (!Array.isArray(condition)) throw snsInvalidParameter(`FilterPolicy: the value of "${attribute}" must be an array.`);
    if (condition.length === 0) throw snsInvalidParameter(`FilterPolicy: empty arrays are not allowed ("${attribute}").`);
    const values = new Set<string>();
    for (const value of condition as unknown[]) {
      if (typeof value !== 'string') {
        throw new UnsupportedFilterPolicyError(`filter policy condition ${JSON.stringify(value)} on "${attribute}" is not supported in memory (exact strings only)`);
      }
      values.add(value);
    }
    policy.set(attribute, values);
  }
  return policy;
}

/** An absent attribute never matches; String.Array matches when any element does; Number and Binary never match strings. */
function matchesFilter(policy: FilterPolicy, attributes: Attributes): boolean {
  for (const [attribute, allowed] of policy) {
    const value = attributes[attribute];
    if (value?.StringValue === undefined || !value.DataType.startsWith('String')) return false;
    if (value.DataType === 'String.Array') {
      let elements: unknown;
      try {
        elements = JSON.parse(value.StringValue);
      } catch {
        return false; // not an array: nothing in it can match
      }
      if (!Array.isArray(elements) || !elements.some((element) => typeof element === 'string' && allowed.has(element))) return false;
    } else if (!allowed.has(value.StringValue)) {
      return false;
    }
  }
  return true;
}

const SQS_ARN_PATTERN = /^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}

// ---------------------------------------------------------------------------------------------
// The fabric.

interface Receivable {
  readonly queue: MemoryQueue;
  readonly input: ReceiveMessageCommandInput;
  readonly max: number;
  readonly visibilitySeconds: number;
}

export class MemoryMessaging {
  readonly sns: MemoryClient<SnsServiceInput>;
  readonly sqs: MemoryClient<SqsServiceInput>;
  readonly #now: () => number;
  readonly #region: string;
  readonly #groupDelivery: GroupDelivery;
  readonly #faults: ((request: FaultRequest) => Error | undefined) | undefined;
  readonly #longPolling: LongPolling;
  readonly #staleDelete: 'ignore' | 'reject';
  readonly #queuesByUrl = new Map<string, MemoryQueue>();
  readonly #queuesByArn = new Map<string, MemoryQueue>();
  readonly #queuesByName = new Map<string, MemoryQueue>();
  readonly #topics = new Map<string, MemoryTopic>();
  readonly #counters = { sqsMessage: 0, snsMessage: 0, subscription: 0, receiptHandle: 0, request: 0 };

  constructor(options: MemoryMessagingOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#region = options.region ?? DEFAULT_REGION;
    this.#groupDelivery = options.groupDelivery ?? 'one-in-flight';
    this.#faults = options.faults;
    this.#longPolling = options.longPolling ?? 'none';
    this.#staleDelete = options.staleDelete ?? 'ignore';
    this.sns = {
      send: async <Input extends SnsServiceInput, Output>(command: SdkCommand<Input, Output>, sendOptions?: SendOptions): Promise<Output> => {
        const output: unknown = await this.#dispatchSns(command, sendOptions);
        // #dispatchSns answers each command class with that class's own output type.
        return output as Output;
      },
      destroy: () => undefined,
    };
    this.sqs = {
      send: async <Input extends SqsServiceInput, Output>(command: SdkCommand<Input, Output>, sendOptions?: SendOptions): Promise<Output> => {
        const output: unknown = await this.#dispatchSqs(command, sendOptions);
        // #dispatchSqs answers each command class with that class's own output type.
        return output as Output;
      },
      destroy: () => undefined,
    };
  }

  // --- inspection, for a simulator and tests ---------------------------------------------------

  depth(queueUrl: string): QueueDepth {
    return this.#queue(queueUrl).depth(this.#now());
  }

  /** Whether a ReceiveMessage now would return a message; cheaper than depth() (one look per group). */
  hasReceivable(queueUrl: string): boolean {
    return this.#queue(queueUrl).hasReceivable(this.#now());
  }

  /** Every queue's URL, in creation order. */
  queueUrls(): string[] {
    return [...this.#queuesByUrl.keys()];
  }

  /** A queue's messages in arrival order, without receiving them (reading a DLQ, say). */
  messages(queueUrl: string): readonly QueuedMessage[] {
    return this.#queue(queueUrl).snapshot(this.#now());
  }

  /** What a topic accepted, oldest first (at most PUBLISHED_KEPT_MAX). */
  published(topicArn: string): readonly PublishedMessage[] {
    const topic = this.#topics.get(topicArn);
    if (topic === undefined) throw snsNotFound(`Topic does not exist: ${topicArn}`);
    return [...topic.published];
  }

  /**
   * A restart of the broker that keeps messages only in memory (as the fauxqs-based local runtime
   * does): every queue's messages and every deduplication history are gone; topics, queues and
   * subscriptions stay, so provisioning need not run again. Old receipt handles become stale.
   */
  loseEverything(): void {
    for (const queue of this.#queuesByUrl.values()) queue.lose();
    for (const topic of this.#topics.values()) topic.dedup.clear();
  }

  // --- dispatch ------------------------------------------------------------------------------

  #admit(service: 'sns' | 'sqs', operation: string, target: string | undefined, options: SendOptions | undefined): void {
    if (typeof options === 'function') throw new UnsupportedCommandError('send(command, callback) is not supported; await the promise');
    if (options?.abortSignal?.aborted === true) throw new RequestAbortedError('Request aborted');
    const fault = this.#faults?.({ service, operation, target: target ?? '' });
    if (fault !== undefined) throw fault;
  }

  #dispatchSns(command: object, options: SendOptions | undefined): unknown {
    if (command instanceof PublishCommand) {
      this.#admit('sns', 'Publish', command.input.TopicArn, options);
      return this.#publish(command.input);
    }
    if (command instanceof CreateTopicCommand) {
      this.#admit('sns', 'CreateTopic', command.input.Name, options);
      return this.#createTopic(command.input);
    }
    if (command instanceof SubscribeCommand) {
      this.#admit('sns', 'Subscribe', command.input.TopicArn, options);
      return this.#subscribe(command.input);
    }
    throw new UnsupportedCommandError(`SNS ${command.constructor.name} is not implemented by MemoryMessaging`);
  }

  async #dispatchSqs(command: object, options: SendOptions | undefined): Promise<unknown> {
    const run = <T>(operation: string, target: string | undefined, act: () => T): T => {
      this.#admit('sqs', operation, target, options);
      return act();
    };
    if (command instanceof ReceiveMessageCommand) {
      return run('ReceiveMessage', command.input.QueueUrl, () => this.#receiveMessage(command.input, options?.abortSignal));
    }
    if (command instanceof SendMessageCommand) return run('SendMessage', command.input.QueueUrl, () => this.#sendMessage(command.input));
    if (command instanceof SendMessageBatchCommand) return run('SendMessageBatch', command.input.QueueUrl, () => this.#sendMessageBatch(command.input));
    if (command instanceof DeleteMessageCommand) return run('DeleteMessage', command.input.QueueUrl, () => this.#deleteMessage(command.input));
    if (command instanceof DeleteMessageBatchCommand) {
      return run('DeleteMessageBatch', command.input.QueueUrl, () => this.#deleteMessageBatch(command.input));
    }
    if (command instanceof ChangeMessageVisibilityCommand) {
      return run('ChangeMessageVisibility', command.input.QueueUrl, () => this.#changeMessageVisibility(command.input));
    }
    if (command instanceof ChangeMessageVisibilityBatchCommand) {
      return run('ChangeMessageVisibilityBatch', command.input.QueueUrl, () => this.#changeMessageVisibilityBatch(command.input));
    }
    if (command instanceof CreateQueueCommand) return run('CreateQueue', command.input.QueueName, () => this.#createQueue(command.input));
    if (command instanceof GetQueueUrlCommand) return run('GetQueueUrl', command.input.QueueName, () => this.#getQueueUrl(command.input));
    if (command instanceof GetQueueAttributesCommand) {
      return run('GetQueueAttributes', command.input.QueueUrl, () => this.#getQueueAttributes(command.input));
    }
    if (command instanceof PurgeQueueCommand) return run('PurgeQueue', command.input.QueueUrl, () => this.#purgeQueue(command.input));
    throw new UnsupportedCommandError(`SQS ${command.constructor.name} is not implemented by MemoryMessaging`);
  }

  #metadata(): ResponseMetadata {
    return { httpStatusCode: 200, requestId: `mm-request-${++this.#counters.request}`, attempts: 1, totalRetryDelay: 0 };
  }

  #answer<T extends object>(body: T): T & MetadataBearer {
    return { ...body, $metadata: this.#metadata() };
  }

  #queue(queueUrl: string | undefined): MemoryQueue {
    const queue = queueUrl === undefined ? undefined : this.#queuesByUrl.get(queueUrl);
    if (queue === undefined) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  }

  #topic(topicArn: string | undefined): MemoryTopic {
    if (topicArn === undefined || topicArn === '') throw snsInvalidParameter('TopicArn is required');
    const topic = this.#topics.get(topicArn);
    if (topic === undefined) throw snsNotFound('Topic does not exist');
    return topic;
  }

  // --- SQS: queues -----------------------------------------------------------------------------

  #createQueue(input: CreateQueueCommandInput): CreateQueueCommandOutput {
    const name = input.QueueName ?? '';
    if (!QUEUE_NAME_PATTERN.test(name)) {
      throw sqsError('InvalidParameterValue', `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length: ${name}`);
    }
    const given = { ...(input.Attributes ?? {}) };
    const attributes = queueAttributes(name, given);
    const existing = this.#queuesByName.get(name);
    if (existing !== undefined) {
      // Idempotent as on fauxqs: every attribute given must equal the existing queue's.
      for (const [attribute, value] of Object.entries(given)) {
        if (existing.attributes[attribute] !== value) {
          throw sqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${attribute}`);
        }
      }
      return this.#answer({ QueueUrl: existing.url });
    }
    const url = `http://sqs.${this.#region}.memory.invalid/${MEMORY_ACCOUNT_ID}/${name}`;
    const queue = new MemoryQueue(name, url, `arn:aws:sqs:${this.#region}:${MEMORY_ACCOUNT_ID}:${name}`, attributes, this.#now());
    this.#queuesByUrl.set(url, queue);
    this.#queuesByArn.set(queue.arn, queue);
    this.#queuesByName.set(name, queue);
    return this.#answer({ QueueUrl: url });
  }

  #getQueueUrl(input: GetQueueUrlCommandInput): GetQueueUrlCommandOutput {
    const queue = this.#queuesByName.get(input.QueueName ?? '');
    if (queue === undefined) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return this.#answer({ QueueUrl: queue.url });
  }

  /** With no AttributeNames every attribute is returned, as fauxqs does (AWS returns none). */
  #getQueueAttributes(input: GetQueueAttributesCommandInput): GetQueueAttributesCommandOutput {
    const queue = this.#queue(input.QueueUrl);
    const requested = input.AttributeNames ?? ['All'];
    for (const name of requested) {
      if (name !== 'All' && !ALL_QUEUE_ATTRIBUTES.includes(name)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${String(name)}.`);
    }
    const names = requested.includes('All') ? ALL_QUEUE_ATTRIBUTES : requested;
    const depth = queue.depth(this.#now());
    const computed: Partial<Record<QueueAttributeName, string>> = {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(depth.visible),
      ApproximateNumberOfMessagesNotVisible: String(depth.inFlight),
      ApproximateNumberOfMessagesDelayed: String(depth.delayed),
      CreatedTimestamp: String(queue.createdAtSeconds),
      LastModifiedTimestamp: String(queue.createdAtSeconds),
    };
    const Attributes: Partial<Record<QueueAttributeName, string>> = {};
    for (const name of names) {
      const value = computed[name] ?? queue.attributes[name];
      if (value !== undefined) Attributes[name] = value;
    }
    return this.#answer({ Attributes });
  }

  #purgeQueue(input: PurgeQueueCommandInput): MetadataBearer {
    this.#queue(input.QueueUrl).purge();
    return this.#answer({});
  }

  // --- SQS: sending ----------------------------------------------------------------------------

  /** One message into one queue, validated as SendMessage validates it. */
  #sendOne(queue: MemoryQueue, entry: SendEntry): Outcome<Accepted> {
    const body = entry.MessageBody;
    if (body === undefined || body === '') return failure('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (hasInvalidCharacter(body)) {
      return failure('InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF and #xE000 to #xFFFD.');
    }
    let attributes: Attributes;
    try {
      attributes = normalizeAttributes(entry.MessageAttributes, (message) => new MemoryMessagingError(message));
    } catch (error) {
      return failure('InvalidParameterValue', error instanceof Error ? error.message : String(error));
    }
    const bytesMax = Number(queue.attributes.MaximumMessageSize);
    if (Buffer.byteLength(body) + attributesBytes(attributes) > bytesMax) {
      return failure('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${bytesMax} bytes.`);
    }
    const fifo = this.#fifoParameters(queue, entry.MessageGroupId, entry.MessageDeduplicationId, entry.DelaySeconds);
    if (!fifo.ok) return fifo;
    const delaySeconds = queue.fifo ? undefined : entry.DelaySeconds;
    if (delaySeconds !== undefined && (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900)) {
      return failure('InvalidParameterValue', `Value ${delaySeconds} for parameter DelaySeconds is invalid. Reason: Must be between 0 and 900.`);
    }
    const incoming = { body, attributes, groupId: fifo.value.groupId, deduplicationId: fifo.value.deduplicationId, delaySeconds };
    return { ok: true, value: queue.accept(incoming, this.#now(), () => this.#nextMessageId()) };
  }

  #fifoParameters(
    queue: MemoryQueue,
    groupId: string | undefined,
    deduplicationId: string | undefined,
    delaySeconds: number | undefined,
  ): Outcome<{ groupId: string | undefined; deduplicationId: string | undefined }> {
    if (!queue.fifo) {
      if (deduplicationId !== undefined) return failure('InvalidParameterValue', 'The request include parameter MessageDeduplicationId that is not valid for this queue type.');
      return { ok: true, value: { groupId: undefined, deduplicationId: undefined } };
    }
    if (groupId === undefined || groupId === '') return failure('MissingParameter', 'The request must contain the parameter MessageGroupId.');
    if (!TOKEN_PATTERN.test(groupId)) return failure('InvalidParameterValue', `Value ${groupId} for parameter MessageGroupId is invalid.`);
    if (delaySeconds !== undefined && delaySeconds !== 0) {
      return failure('InvalidParameterValue', `Value ${delaySeconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`);
    }
    if (deduplicationId === undefined || deduplicationId === '') {
      if (queue.attributes.ContentBasedDeduplication === 'true') return { ok: true, value: { groupId, deduplicationId: undefined } };
      return failure('InvalidParameterValue', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly.');
    }
    if (!TOKEN_PATTERN.test(deduplicationId)) return failure('InvalidParameterValue', `Value ${deduplicationId} for parameter MessageDeduplicationId is invalid.`);
    return { ok: true, value: { groupId, deduplicationId } };
  }

  #nextMessageId(): string {
    return uuidShaped(ID_KIND.sqsMessage, ++this.#counters.sqsMessage);
  }

  #sendMessage(input: SendMessageCommandInput): SendMessageCommandOutput {
    const queue = this.#queue(input.QueueUrl);
    const accepted = valueOf(this.#sendOne(queue, input));
    return this.#answer({
      MessageId: accepted.messageId,
      MD5OfMessageBody: accepted.md5OfBody,
      ...(accepted.md5OfAttributes !== undefined ? { MD5OfMessageAttributes: accepted.md5OfAttributes } : {}),
      ...(accepted.sequenceNumber !== undefined ? { SequenceNumber: accepted.sequenceNumber } : {}),
    });
  }

  #sendMessageBatch(input: SendMessageBatchCommandInput): SendMessageBatchCommandOutput {
    const queue = this.#queue(input.QueueUrl);
    const entries = input.Entries ?? [];
    checkBatch(entries);
    const totalBytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);
    if (totalBytes > SQS_MESSAGE_BYTES_MAX) throw sqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${SQS_MESSAGE_BYTES_MAX} bytes.`);
    const Successful: SendMessageBatchResultEntry[] = [];
    const Failed: BatchResultErrorEntry[] = [];
    for (const entry of entries) {
      const outcome = this.#sendOne(queue, entry);
      if (!outcome.ok) {
        Failed.push({ Id: entry.Id, SenderFault: true, Code: outcome.code, Message: outcome.message });
        continue;
      }
      const accepted = outcome.value;
      Successful.push({
        Id: entry.Id,
        MessageId: accepted.messageId,
        MD5OfMessageBody: accepted.md5OfBody,
        ...(accepted.md5OfAttributes !== undefined ? { MD5OfMessageAttributes: accepted.md5OfAttributes } : {}),
        ...(accepted.sequenceNumber !== undefined ? { SequenceNumber: accepted.sequenceNumber } : {}),
      });
    }
    return this.#answer({ Successful, Failed });
  }

  // --- SQS: receiving --------------------------------------------------------------------------

  async #receiveMessage(input: ReceiveMessageCommandInput, signal: AbortSignal | undefined): Promise<ReceiveMessageCommandOutput> {
    const queue = this.#queue(input.QueueUrl);
    const max = input.MaxNumberOfMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > BATCH_ENTRIES_MAX) {
      throw sqsError('InvalidParameterValue', `Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and ${BATCH_ENTRIES_MAX}.`);
    }
    const visibilitySeconds = input.VisibilityTimeout ?? queue.visibilitySeconds;
    if (!Number.isInteger(visibilitySeconds) || visibilitySeconds < 0 || visibilitySeconds > VISIBILITY_TIMEOUT_SECONDS_MAX) {
      throw sqsError('InvalidParameterValue', `Value ${visibilitySeconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${VISIBILITY_TIMEOUT_SECONDS_MAX}.`);
    }
    const waitSeconds = input.WaitTimeSeconds ?? Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
    if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > WAIT_TIME_SECONDS_MAX) {
      throw sqsError('InvalidParameterValue', `Value ${waitSeconds} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= ${WAIT_TIME_SECONDS_MAX}, if provided.`);
    }
    const receivable: Receivable = { queue, input, max, visibilitySeconds };
    let messages = this.#take(receivable);
    if (messages.length === 0 && waitSeconds > 0) messages = await this.#longPoll(receivable, waitSeconds, signal);
    return this.#answer(messages.length > 0 ? { Messages: messages } : {});
  }

  #take({ queue, input, max, visibilitySeconds }: Receivable): Message[] {
    const nowMs = this.#now();
    const taken = queue.take({
      max,
      visibilitySeconds,
      nowMs,
      mode: this.#groupDelivery,
      nextHandle: () => `mm-rh-${++this.#counters.receiptHandle}`,
      deadLetter: (message) => this.#deadLetter(queue, message, nowMs),
    });
    return taken.map((message) => this.#received(queue, message, input));
  }

  /** As on fauxqs and AWS: a receive finding the receives used up moves the message instead. */
  #deadLetter(queue: MemoryQueue, message: StoredMessage, nowMs: number): boolean {
    const redrive = queue.redrive;
    if (redrive === undefined || message.receiveCount <= redrive.maxReceiveCount) return false;
    const deadLetterQueue = this.#queuesByArn.get(redrive.deadLetterTargetArn);
    if (deadLetterQueue === undefined) return false; // as fauxqs: no DLQ to move to, delivered again
    deadLetterQueue.adopt(message, nowMs);
    return true;
  }

  /** A real long poll waits on timers; 'none' yields once so a polling loop cannot starve the event loop. */
  async #longPoll(receivable: Receivable, waitSeconds: number, signal: AbortSignal | undefined): Promise<Message[]> {
    if (this.#longPolling === 'none') {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted === true) throw new RequestAbortedError('Request aborted');
      return this.#take(receivable);
    }
    return new Promise<Message[]>((resolve, reject) => {
      const { queue } = receivable;
      // A wake-up may already be queued when the poll ends; it must not take messages for nobody.
      let done = false;
      const finish = (): void => {
        done = true;
        clearTimeout(deadline);
        clearInterval(recheck);
        queue.waiters.delete(attempt);
        signal?.removeEventListener('abort', onAbort);
      };
      const attempt = (): void => {
        if (done) return;
        const messages = this.#take(receivable);
        if (messages.length === 0) return;
        finish();
        resolve(messages);
      };
      const onAbort = (): void => {
        finish();
        reject(new RequestAbortedError('Request aborted'));
      };
      const deadline = setTimeout(() => {
        finish();
        resolve([]);
      }, waitSeconds * 1_000);
      const recheck = setInterval(attempt, LONG_POLL_RECHECK_MS);
      queue.waiters.add(attempt);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #received(queue: MemoryQueue, message: StoredMessage, input: ReceiveMessageCommandInput): Message {
    const attributes = systemAttributes(message, [...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])]);
    const selected = selectAttributes(message.attributes, input.MessageAttributeNames ?? []);
    const md5OfSelected = md5OfAttributes(selected);
    if (message.receiptHandle === undefined) throw new MemoryMessagingError(`message ${message.messageId} on ${queue.name} was received without a handle`);
    return {
      MessageId: message.messageId,
      ReceiptHandle: message.receiptHandle,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
      ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
      ...(md5OfSelected !== undefined ? { MD5OfMessageAttributes: md5OfSelected, MessageAttributes: copyAttributes(selected) } : {}),
    };
  }

  // --- SQS: deleting and visibility ------------------------------------------------------------

  /** Whether this fabric ever issued the handle: one it never did is invalid, not merely stale. */
  #issued(receiptHandle: string): boolean {
    const match = RECEIPT_HANDLE_PATTERN.exec(receiptHandle);
    return match !== null && Number(match[1]) <= this.#counters.receiptHandle;
  }

  #deleteOne(queue: MemoryQueue, receiptHandle: string | undefined): Outcome<undefined> {
    if (receiptHandle === undefined || receiptHandle === '') return failure('MissingParameter', 'The request must contain the parameter ReceiptHandle.');
    if (!this.#issued(receiptHandle)) return failure('ReceiptHandleIsInvalid', `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`);
    const message = queue.current(receiptHandle);
    const expired = message !== undefined && queue.fifo && !isInFlight(message, this.#now());
    if (this.#staleDelete === 'reject' && queue.fifo && (message === undefined || expired)) {
      return failure('ReceiptHandleIsInvalid', 'The receipt handle has expired.');
    }
    if (message !== undefined) queue.remove(message);
    return { ok: true, value: undefined };
  }

  #deleteMessage(input: DeleteMessageCommandInput): MetadataBearer {
    valueOf(this.#deleteOne(this.#queue(input.QueueUrl), input.ReceiptHandle));
    return this.#answer({});
  }

  #deleteMessageBatch(input: DeleteMessageBatchCommandInput): DeleteMessageBatchCommandOutput {
    const queue = this.#queue(input.QueueUrl);
    const entries = input.Entries ?? [];
    checkBatch(entries);
    const results = entries.map((entry) => ({ entry, outcome: this.#deleteOne(queue, entry.ReceiptHandle) }));
    return this.#answer(batchAnswer(results));
  }

  /** Only the latest receive's handle of a message still in flight may change its visibility. */
  #changeOne(queue: MemoryQueue, receiptHandle: string | undefined, visibilitySeconds: number | undefined): Outcome<undefined> {
    if (receiptHandle === undefined || receiptHandle === '') return failure('MissingParameter', 'The request must contain the parameter ReceiptHandle.');
    if (visibilitySeconds === undefined) return failure('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
    if (!Number.isInteger(visibilitySeconds) || visibilitySeconds < 0 || visibilitySeconds > VISIBILITY_TIMEOUT_SECONDS_MAX) {
      return failure('InvalidParameterValue', `Value ${visibilitySeconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${VISIBILITY_TIMEOUT_SECONDS_MAX}.`);
    }
    if (!this.#issued(receiptHandle)) return failure('ReceiptHandleIsInvalid', `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`);
    const nowMs = this.#now();
    const message = queue.current(receiptHandle);
    if (message === undefined || !isInFlight(message, nowMs)) {
      return failure('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
    }
    message.availableAtMs = nowMs + visibilitySeconds * 1_000;
    if (visibilitySeconds === 0) queue.wake();
    return { ok: true, value: undefined };
  }

  #changeMessageVisibility(input: ChangeMessageVisibilityCommandInput): MetadataBearer {
    valueOf(this.#changeOne(this.#queue(input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout));
    return this.#answer({});
  }

  /** Per entry as fauxqs answers: a handle no longer current fails with ReceiptHandleIsInvalid. */
  #changeMessageVisibilityBatch(input: ChangeMessageVisibilityBatchCommandInput): ChangeMessageVisibilityBatchCommandOutput {
    const queue = this.#queue(input.QueueUrl);
    const entries = input.Entries ?? [];
    checkBatch(entries);
    const results = entries.map((entry) => {
      const outcome = this.#changeOne(queue, entry.ReceiptHandle, entry.VisibilityTimeout);
      const stale = !outcome.ok && outcome.code === 'MessageNotInflight';
      return { entry, outcome: stale ? failure('ReceiptHandleIsInvalid', 'The input receipt handle is invalid.') : outcome };
    });
    return this.#answer(batchAnswer(results));
  }

  // --- SNS -------------------------------------------------------------------------------------

  #createTopic(input: CreateTopicCommandInput): CreateTopicCommandOutput {
    const name = input.Name ?? '';
    if (!TOPIC_NAME_PATTERN.test(name)) throw snsInvalidParameter('Topic Name');
    const fifo = name.endsWith('.fifo');
    const given = { ...(input.Attributes ?? {}) };
    for (const attribute of Object.keys(given)) if (!TOPIC_ATTRIBUTES.has(attribute)) throw snsInvalidParameter(`Attributes Reason: Unknown attribute ${attribute}`);
    if (given.FifoTopic === 'true' && !fifo) throw snsInvalidParameter('Fifo Topic names must end with .fifo suffix');
    if (!fifo && (given.ContentBasedDeduplication !== undefined || given.FifoThroughputScope !== undefined)) {
      throw snsInvalidParameter('Attributes Reason: FIFO attributes are only valid for FIFO topics');
    }
    if (given.FifoThroughputScope !== undefined && !['Topic', 'MessageGroup'].includes(given.FifoThroughputScope)) throw snsInvalidParameter('FifoThroughputScope');
    const requested = fifo ? { ...given, FifoTopic: 'true', ContentBasedDeduplication: given.ContentBasedDeduplication ?? 'false' } : given;
    const arn = `arn:aws:sns:${this.#region}:${MEMORY_ACCOUNT_ID}:${name}`;
    const existing = this.#topics.get(arn);
    if (existing !== undefined) {
      // As fauxqs and AWS: only attributes given must agree with the existing topic's.
      for (const [attribute, value] of Object.entries(requested)) {
        if (existing.attributes[attribute] !== value) throw snsInvalidParameter('Attributes Reason: Topic already exists with different attributes');
      }
      return this.#answer({ TopicArn: arn });
    }
    const attributes = fifo ? { FifoThroughputScope: 'Topic', ...requested } : requested;
    this.#topics.set(arn, { arn, name, fifo, attributes, subscriptions: [], dedup: new DedupWindow(), published: [], sequence: 0 });
    return this.#answer({ TopicArn: arn });
  }

  #subscribe(input: SubscribeCommandInput): SubscribeCommandOutput {
    const topic = this.#topic(input.TopicArn);
    if (input.Protocol !== 'sqs') throw new UnsupportedCommandError(`Subscribe with protocol ${String(input.Protocol)}: only 'sqs' is delivered in memory`);
    const endpoint = input.Endpoint ?? '';
    if (!SQS_ARN_PATTERN.test(endpoint)) throw snsInvalidParameter(`SQS endpoint ARN: ${endpoint}`);
    if (!topic.fifo && endpoint.endsWith('.fifo')) throw snsInvalidParameter('Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics');
    const attributes = { ...(input.Attributes ?? {}) };
    for (const attribute of Object.keys(attributes)) if (!SUBSCRIPTION_ATTRIBUTES.has(attribute)) throw snsInvalidParameter(`Attributes Reason: Unknown attribute ${attribute}`);
    const raw = attributes.RawMessageDelivery ?? 'false';
    if (raw !== 'true' && raw !== 'false') throw snsInvalidParameter('RawMessageDelivery: Invalid value [must be true or false]');
    const scope = attributes.FilterPolicyScope ?? 'MessageAttributes';
    if (scope === 'MessageBody') throw new UnsupportedFilterPolicyError('FilterPolicyScope MessageBody is not supported in memory');
    if (scope !== 'MessageAttributes') throw snsInvalidParameter(`FilterPolicyScope: ${scope}`);
    const filter = attributes.FilterPolicy === undefined ? undefined : compileFilterPolicy(attributes.FilterPolicy);
    const existing = topic.subscriptions.find((subscription) => subscription.endpoint === endpoint);
    if (existing !== undefined) {
      if (!sameAttributes(existing.attributes, attributes)) throw snsInvalidParameter('Attributes Reason: Subscription already exists with different attributes');
      return this.#answer({ SubscriptionArn: existing.arn });
    }
    const arn = `${topic.arn}:${uuidShaped(ID_KIND.subscription, ++this.#counters.subscription)}`;
    topic.subscriptions.push({ arn, endpoint, raw: raw === 'true', filter, attributes });
    return this.#answer({ SubscriptionArn: arn });
  }

  #publish(input: PublishCommandInput): PublishCommandOutput {
    if (input.TargetArn !== undefined || input.PhoneNumber !== undefined) throw new UnsupportedCommandError('Publish to a TargetArn or PhoneNumber is not supported in memory');
    if (input.MessageStructure !== undefined) throw new UnsupportedCommandError('Publish with MessageStructure is not supported in memory');
    const topic = this.#topic(input.TopicArn);
    const message = input.Message ?? '';
    if (message === '') throw snsInvalidParameter('Empty message');
    const attributes = normalizeAttributes(input.MessageAttributes, (reason) => snsInvalidParameterValue(reason));
    if (Buffer.byteLength(message) + attributesBytes(attributes) > SNS_MESSAGE_BYTES_MAX) {
      throw snsInvalidParameter(`Message too long. Message must be shorter than ${SNS_MESSAGE_BYTES_MAX} bytes.`);
    }
    const nowMs = this.#now();
    const fifo = fifoPublishParameters(topic, input, message);
    const dedupKey = fifo === undefined ? undefined : topic.attributes.FifoThroughputScope === 'MessageGroup' ? `${fifo.groupId}\u0000${fifo.deduplicationId}` : fifo.deduplicationId;
    const original = dedupKey === undefined ? undefined : topic.dedup.find(dedupKey, nowMs);
    if (original !== undefined) {
      return this.#answer({ MessageId: original.messageId, ...(original.sequenceNumber !== undefined ? { SequenceNumber: original.sequenceNumber } : {}) });
    }
    const messageId = uuidShaped(ID_KIND.snsMessage, ++this.#counters.snsMessage);
    const sequenceNumber = fifo === undefined ? undefined : sequenceNumberOf(++topic.sequence);
    if (dedupKey !== undefined) topic.dedup.record(dedupKey, { messageId, sequenceNumber, expiresAtMs: nowMs + DEDUPLICATION_WINDOW_MS });
    const publication = { topic, messageId, message, subject: input.Subject, attributes, fifo, sequenceNumber, nowMs };
    const deliveredTo = this.#fanOut(publication);
    topic.published.push({
      messageId,
      message,
      ...(input.Subject !== undefined ? { subject: input.Subject } : {}),
      messageAttributes: copyAttributes(attributes),
      ...(fifo !== undefined ? { groupId: fifo.groupId, deduplicationId: fifo.deduplicationId } : {}),
      ...(sequenceNumber !== undefined ? { sequenceNumber } : {}),
      publishedAtMs: nowMs,
      deliveredTo,
    });
    if (topic.published.length > PUBLISHED_KEPT_MAX) topic.published.shift();
    return this.#answer({ MessageId: messageId, ...(sequenceNumber !== undefined ? { SequenceNumber: sequenceNumber } : {}) });
  }

  /** A copy per subscribed queue whose filter matches; raw delivery keeps body and attributes. */
  #fanOut(publication: Publication): string[] {
    const { topic, message, attributes, fifo, nowMs } = publication;
    const deliveredTo: string[] = [];
    for (const subscription of topic.subscriptions) {
      // A subscription to a queue that does not exist (yet) delivers nothing, as on fauxqs.
      const queue = this.#queuesByArn.get(subscription.endpoint);
      if (queue === undefined) continue;
      if (subscription.filter !== undefined && !matchesFilter(subscription.filter, attributes)) continue;
      const incoming: IncomingMessage = {
        body: subscription.raw ? message : notificationEnvelope(publication, subscription),
        attributes: subscription.raw ? attributes : {},
        groupId: fifo?.groupId,
        deduplicationId: fifo?.deduplicationId,
        delaySeconds: undefined,
      };
      const accepted = queue.accept(incoming, nowMs, () => this.#nextMessageId());
      if (!accepted.duplicate) deliveredTo.push(queue.url);
    }
    return deliveredTo;
  }
}

interface Publication {
  readonly topic: MemoryTopic;
  readonly messageId: string;
  readonly message: string;
  readonly subject: string | undefined;
  readonly attributes: Attributes;
  readonly fifo: { readonly groupId: string; readonly deduplicationId: string } | undefined;
  readonly sequenceNumber: string | undefined;
  readonly nowMs: number;
}

function fifoPublishParameters(topic: MemoryTopic, input: PublishCommandInput, message: string): { groupId: string; deduplicationId: string } | undefined {
  if (!topic.fifo) {
    if (input.MessageDeduplicationId !== undefined) throw snsInvalidParameter('MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type');
    return undefined;
  }
  const groupId = input.MessageGroupId ?? '';
  if (groupId === '') throw snsInvalidParameter('The MessageGroupId parameter is required for FIFO topics.');
  if (!TOKEN_PATTERN.test(groupId)) throw snsInvalidParameter(`MessageGroupId Reason: ${groupId} is invalid`);
  const given = input.MessageDeduplicationId ?? '';
  if (given === '' && topic.attributes.ContentBasedDeduplication !== 'true') {
    throw snsInvalidParameter('The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly.');
  }
  if (given !== '' && !TOKEN_PATTERN.test(given)) throw snsInvalidParameter(`MessageDeduplicationId Reason: ${given} is invalid`);
  return { groupId, deduplicationId: given !== '' ? given : sha256(message) };
}

/** What SNS delivers to a queue without raw delivery (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html). */
function notificationEnvelope(publication: Publication, subscription: MemorySubscription): string {
  const { topic, messageId, message, subject, attributes, sequenceNumber, nowMs } = publication;
  const envelopeAttributes: Record<string, { Type: string; Value: string }> = {};
  for (const [name, value] of Object.entries(attributes)) {
    envelopeAttributes[name] = {
      Type: value.DataType,
      Value: value.BinaryValue !== undefined ? Buffer.from(value.BinaryValue).toString('base64') : (value.StringValue ?? ''),
    };
  }
  return JSON.stringify({
    Type: 'Notification',
    MessageId: messageId,
    ...(sequenceNumber !== undefined ? { SequenceNumber: sequenceNumber } : {}),
    TopicArn: topic.arn,
    ...(subject !== undefined ? { Subject: subject } : {}),
    Message: message,
    Timestamp: new Date(nowMs).toISOString(),
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.memory.invalid/SimpleNotificationService-0000000000000000000000.pem',
    UnsubscribeURL: `https://sns.memory.invalid/?Action=Unsubscribe&SubscriptionArn=${subscription.arn}`,
    ...(Object.keys(envelopeAttributes).length > 0 ? { MessageAttributes: envelopeAttributes } : {}),
  });
}

const ALL_SYSTEM_ATTRIBUTES: readonly MessageSystemAttributeName[] = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'MessageGroupId',
  'MessageDeduplicationId',
  'SequenceNumber',
];

/** The system attributes asked for ('All' or names); FIFO ones only on FIFO messages. */
function systemAttributes(message: StoredMessage, requested: readonly string[]): Partial<Record<MessageSystemAttributeName, string>> {
  const wanted = requested.includes('All') ? ALL_SYSTEM_ATTRIBUTES : ALL_SYSTEM_ATTRIBUTES.filter((name) => requested.includes(name));
  const values: Partial<Record<MessageSystemAttributeName, string | undefined>> = {
    SenderId: MEMORY_ACCOUNT_ID,
    SentTimestamp: String(message.sentTimestampMs),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: message.firstReceiveTimestampMs === undefined ? undefined : String(message.firstReceiveTimestampMs),
    MessageGroupId: message.groupId,
    MessageDeduplicationId: message.deduplicationId,
    SequenceNumber: message.sequenceNumber,
  };
  const attributes: Partial<Record<MessageSystemAttributeName, string>> = {};
  for (const name of wanted) {
    const value = values[name];
    if (value !== undefined) attributes[name] = value;
  }
  return attributes;
}

/** As AWS: none unless asked for; 'All' or '.*' for all, 'prefix.*' for a prefix, else exact names. */
function selectAttributes(attributes: Attributes, requested: readonly string[]): Attributes {
  if (requested.includes('All') || requested.includes('.*')) return attributes;
  const selected: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const wanted = requested.some((pattern) => (pattern.endsWith('.*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern));
    if (wanted) selected[name] = value;
  }
  return selected;
}

const BATCH_ENTRY_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

function checkBatch(entries: readonly { readonly Id: string | undefined }[]): void {
  if (entries.length === 0) throw sqsError('EmptyBatchRequest', "The batch request doesn't contain any entries.");
  if (entries.length > BATCH_ENTRIES_MAX) throw sqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${BATCH_ENTRIES_MAX}.`);
  const ids = new Set<string>();
  for (const { Id } of entries) {
    if (Id === undefined || !BATCH_ENTRY_ID_PATTERN.test(Id)) {
      throw sqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (ids.has(Id)) throw sqsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
    ids.add(Id);
  }
}

function batchAnswer(results: readonly { readonly entry: { readonly Id: string | undefined }; readonly outcome: Outcome<undefined> }[]): {
  Successful: { Id: string | undefined }[];
  Failed: BatchResultErrorEntry[];
} {
  const Successful: { Id: string | undefined }[] = [];
  const Failed: BatchResultErrorEntry[] = [];
  for (const { entry, outcome } of results) {
    if (outcome.ok) Successful.push({ Id: entry.Id });
    else Failed.push({ Id: entry.Id, SenderFault: true, Code: outcome.code, Message: outcome.message });
  }
  return { Successful, Failed };
}

// ---------------------------------------------------------------------------------------------
// SDK client views.

/**
 * The fabric's SNS side where an `SNSClient` is expected. Sound for this project: its code calls
 * only `send(command)` / `send(command, { abortSignal })` and `destroy()` on an SNSClient (grep
 * lib/ and lambdas/), the fabric answers every SNS command it sends with that command's output
 * shape, and any other command or client member use fails loudly (UnsupportedCommandError, or a
 * TypeError for a member that is not there) rather than doing something else.
 */
export function asSnsClient(fabric: MemoryMessaging): SNSClient {
  return fabric.sns as unknown as SNSClient;
}

/** The fabric's SQS side where an `SQSClient` is expected; sound for the reasons given at asSnsClient. */
export function asSqsClient(fabric: MemoryMessaging): SQSClient {
  return fabric.sqs as unknown as SQSClient;
}
