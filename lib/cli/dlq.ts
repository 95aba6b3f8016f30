// `payments dlq list | show <queue> | redrive <queue>`: the dead-letter queues of the topology, for
// operations. Talks to SQS directly (the local runtime's fauxqs, LocalStack or AWS), never through
// the API: a DLQ is looked at exactly when the pipeline behind the API is in trouble.
//
// Which queues: every queue of contract/topology.ts has a FIFO DLQ, named in its RedrivePolicy.
// The tool lists the queues whose names start with the resource prefix and pairs each work queue
// with its DLQ through that policy, so it needs no URL: locally the prefix is the runtime's
// (`local`, names `local-posting.fifo` / `local-posting-dlq.fifo`); on AWS it is the stack name
// (`Payments-<stage>`; CloudFormation names the queues `<stack>-QueuePostingQueue<hash>-<id>.fifo`).
// The moving itself is in lambdas/adapters/sqs/dead-letter.ts.
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { queueNames, topology, type QueueName } from '../../contract/topology.js';
import {
  listRedrivePairs,
  peekDeadLetters,
  queueDepth,
  redriveDeadLetters,
  type DeadLetter,
  type QueueDepth,
  type ReceiveOptions,
  type RedrivePair,
  type RedriveResult,
} from '../../lambdas/adapters/sqs/dead-letter.js';
import { queueWorkerId } from '../construct-ids.js';
import { LOCAL_CREDENTIALS, LOCAL_PREFIX, LOCAL_REGION } from '../local/local-world.js';
import { physicalName } from '../local/provision.js';

export const DLQ_USAGE = `Usage: payments dlq <list | show QUEUE | redrive QUEUE> [options]

  list                 every DLQ of the topology with its depth (messages waiting, and in flight)
  show QUEUE           the DLQ's messages without consuming them: id, MessageGroupId, receives,
                       origin (quarantined by the consumer, moved by SQS after maxReceiveCount,
                       or an SNS delivery failure), quarantine reason or SNS error, and the start
                       of the body (--max, default 10)
  redrive QUEUE        moves messages back to the work queue they came from, in order per group,
                       same MessageGroupId, fresh deduplication id (--max, default all)
                       QUEUE: ${queueNames().join(' | ')} (or the DLQ's queue name)

Options:
  --sqs-endpoint URL   SQS endpoint: the local runtime's SNS/SQS endpoint, printed by npm start as
                       "[local] ... SNS/SQS (fauxqs) at URL", or LocalStack's
                       (default: $AWS_ENDPOINT_URL_SQS, $AWS_ENDPOINT_URL, else AWS itself)
  --prefix PREFIX      resource name prefix: the local runtime's "local" (default with an endpoint)
                       or the stack name on AWS
  --stage STAGE        on AWS: the stack of that stage (--prefix Payments-STAGE)
  --region REGION      (default: $AWS_REGION, or us-east-1 with an endpoint)
  --max N              at most N messages (show: default 10; redrive: default every message)
  --json               machine-readable output
On AWS the usual credential chain applies (profile, SSO, role); see docs/OPERATIONS.md for the
IAM actions the operator needs.
`;

const OPTIONS = {
  'sqs-endpoint': { type: 'string' },
  prefix: { type: 'string' },
  stage: { type: 'string' },
  region: { type: 'string' },
  max: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

const SHOW_MAX_DEFAULT = 10;
/** A body excerpt: enough to recognize the event, short enough for a terminal. */
const BODY_EXCERPT_LENGTH = 160;

export class DlqUsageError extends Error {
  override name = 'DlqUsageError';
}

export interface DlqOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: DlqOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export interface DlqTarget {
  readonly sqs: SQSClient;
  /** Queue name prefix, without the dash. */
  readonly prefix: string;
  readonly receive?: ReceiveOptions;
}

/** A topology queue and, when it was found, its work queue and DLQ. */
export interface DeadLetterQueue {
  readonly queue: QueueName;
  readonly pair: RedrivePair | undefined;
}

/** Whether a work queue is the topology's `queue`: the local runtime's name, or CloudFormation's from the stack's construct ids (lib/payments-stack.ts). */
function isWorkQueueOf(queue: QueueName, prefix: string, sourceName: string): boolean {
  if (sourceName === physicalName(prefix, topology.queues[queue].name, true)) return true;
  return sourceName.startsWith(`${prefix}-`) && sourceName.includes(`-${queueWorkerId(queue)}Queue`);
}

/** Every DLQ of the topology, found under the prefix (a queue whose pair is missing is reported, not skipped). */
export async function findDeadLetterQueues(target: DlqTarget): Promise<DeadLetterQueue[]> {
  const pairs = await listRedrivePairs(target.sqs, `${target.prefix}-`);
  return queueNames().map((queue) => ({ queue, pair: pairs.find((pair) => isWorkQueueOf(queue, target.prefix, pair.sourceName)) }));
}

export async function findDeadLetterQueue(target: DlqTarget, name: string): Promise<DeadLetterQueue & { readonly pair: RedrivePair }> {
  const all = await findDeadLetterQueues(target);
  const found = all.find(
    ({ queue, pair }) => queue === name || topology.queues[queue].name === name || pair?.deadLetterName === name || pair?.deadLetterUrl === name,
  );
  if (found === undefined) throw new DlqUsageError(`unknown queue ${name}: one of ${queueNames().join(', ')}`);
  if (found.pair === undefined) {
    throw new Error(`no ${found.queue} queue with a DLQ under the prefix "${target.prefix}-" (is the runtime or stack up, and are --prefix/--stage and --sqs-endpoint right?)`);
  }
  return { queue: found.queue, pair: found.pair };
}

export interface DlqListing extends DeadLetterQueue {
  readonly depth: QueueDepth | undefined;
}

export async function listDeadLetterQueues(target: DlqTarget): Promise<DlqListing[]> {
  const queues = await findDeadLetterQueues(target);
  return Promise.all(queues.map(async (entry) => ({ ...entry, depth: entry.pair === undefined ? undefined : await queueDepth(target.sqs, entry.pair.deadLetterUrl) })));
}

function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ');
  return flat.length <= BODY_EXCERPT_LENGTH ? flat : `${flat.slice(0, BODY_EXCERPT_LENGTH)}... (${body.length} characters)`;
}

function formatListing(listing: readonly DlqListing[]): string {
  const rows = listing.map(({ queue, pair, depth }) => [
    queue,
    pair?.deadLetterName ?? '(not found)',
    depth === undefined ? '-' : String(depth.visible),
    depth === undefined ? '-' : String(depth.inFlight),
    pair?.sourceName ?? '-',
  ]);
  const header = ['QUEUE', 'DLQ', 'DEPTH', 'IN FLIGHT', 'SOURCE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/**
 * The `origin` line of a message in `show`, and the `reason` or `error` line under it: who put it
 * in the DLQ, and so where the cause is (the message, the consumer, or the delivery path).
 */
export function originLines(message: Pick<DeadLetter, 'origin' | 'quarantineReason' | 'deliveryError'>, pair: Pick<RedrivePair, 'sourceName' | 'maxReceiveCount'>): string[] {
  switch (message.origin) {
    case 'quarantined':
      return [`  origin    quarantined by the consumer of ${pair.sourceName}`, `  reason    ${message.quarantineReason ?? '-'}`];
    case 'sns-delivery-failed':
      return [
        `  origin    SNS delivery failure: SNS could not deliver it to ${pair.sourceName}, so no consumer saw it`,
        `  error     ${message.deliveryError ?? '-'} (the delivery path failed: queue policy or a deleted queue; not the consumer)`,
      ];
    case 'max-receives':
      return [
        `  origin    moved by SQS after ${pair.maxReceiveCount} receives from ${pair.sourceName}`,
        '  reason    (none: the consumer failed, timed out or crashed on each receive; its logs have the error)',
      ];
  }
}

export function formatMessages(queue: DeadLetterQueue & { readonly pair: RedrivePair }, messages: readonly DeadLetter[], depth: QueueDepth): string {
  const lines = [`${queue.pair.deadLetterName}: ${depth.visible} message(s) waiting, ${depth.inFlight} in flight; showing ${messages.length}`];
  for (const message of messages) {
    lines.push(
      '',
      `  message   ${message.messageId}`,
      `  group     ${message.messageGroupId ?? '-'}`,
      `  receives  ${message.receiveCount} from the DLQ${message.sourceReceiveCount !== undefined ? `, ${message.sourceReceiveCount} from ${queue.pair.sourceName} before the quarantine` : ''}`,
      `  since     ${message.sentAt !== undefined ? new Date(message.sentAt).toISOString() : '-'}`,
      ...originLines(message, queue.pair),
      ...(message.redrivenFrom !== undefined ? [`  redriven  before, from ${message.redrivenFrom}, and came back`] : []),
      `  body      ${excerpt(message.body)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function formatRedrive(queue: DeadLetterQueue & { readonly pair: RedrivePair }, result: RedriveResult, depth: QueueDepth): string {
  const was = (message: RedriveResult['moved'][number]): string =>
    message.quarantineReason !== undefined ? ` [was: ${message.quarantineReason}]` : message.deliveryError !== undefined ? ` [was: SNS delivery failure: ${message.deliveryError}]` : '';
  const lines = result.moved.map((message) => `  moved ${message.messageId} (group ${message.messageGroupId}) -> ${message.newMessageId}${was(message)}`);
  lines.push(`redrove ${result.moved.length} message(s) from ${queue.pair.deadLetterName} to ${queue.pair.sourceName}; ${depth.visible} left in the DLQ`);
  if (result.stoppedBy !== undefined) lines.push(`stopped: ${result.stoppedBy}`);
  return `${lines.join('\n')}\n`;
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new DlqUsageError(`--${name} must be a positive integer`);
  return parsed;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The SQS client and prefix the options name; the environment fills in what they do not. */
export function targetOf(values: Pick<Values, 'sqs-endpoint' | 'prefix' | 'stage' | 'region'>, env: NodeJS.ProcessEnv = process.env): DlqTarget {
  const endpoint = values['sqs-endpoint'] ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  if (values.prefix !== undefined && values.stage !== undefined) throw new DlqUsageError('give --prefix or --stage, not both');
  const prefix = values.prefix ?? (values.stage !== undefined ? `Payments-${values.stage}` : endpoint !== undefined ? LOCAL_PREFIX : undefined);
  if (prefix === undefined) throw new DlqUsageError('on AWS, --stage STAGE (or --prefix STACK_NAME) says which stack; locally, --sqs-endpoint URL says where the runtime is');
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint !== undefined ? LOCAL_REGION : undefined);
  // Emulators accept any credentials, but the SDK insists on some; against AWS its chain decides.
  const localCredentials = endpoint !== undefined && env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined;
  const sqs = new SQSClient({
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(localCredentials ? { credentials: { ...LOCAL_CREDENTIALS } } : {}),
  });
  return { sqs, prefix };
}

/** Runs one `dlq` command on a target. */
export async function runDlqCommand(
  target: DlqTarget,
  command: string | undefined,
  queueName: string | undefined,
  options: { readonly max?: number; readonly json?: boolean },
  output: DlqOutput = processOutput,
): Promise<number> {
  const json = (value: unknown): void => output.stdout(`${JSON.stringify(value, null, 2)}\n`);
  switch (command) {
    case 'list': {
      const listing = await listDeadLetterQueues(target);
      if (options.json === true) {
        json(listing.map(({ queue, pair, depth }) => ({ queue, deadLetterQueue: pair?.deadLetterName ?? null, sourceQueue: pair?.sourceName ?? null, depth: depth?.visible ?? null, inFlight: depth?.inFlight ?? null })));
      } else {
        output.stdout(formatListing(listing));
      }
      return listing.some((entry) => entry.pair === undefined) ? 1 : 0;
    }
    case 'show': {
      if (queueName === undefined) throw new DlqUsageError('show needs a queue');
      const queue = await findDeadLetterQueue(target, queueName);
      const messages = await peekDeadLetters(target.sqs, queue.pair.deadLetterUrl, options.max ?? SHOW_MAX_DEFAULT, target.receive);
      const depth = await queueDepth(target.sqs, queue.pair.deadLetterUrl);
      if (options.json === true) {
        json({ queue: queue.queue, deadLetterQueue: queue.pair.deadLetterName, depth: depth.visible, inFlight: depth.inFlight, messages: messages.map(({ attributes: _attributes, ...message }) => message) });
      } else {
        output.stdout(formatMessages(queue, messages, depth));
      }
      return 0;
    }
    case 'redrive': {
      if (queueName === undefined) throw new DlqUsageError('redrive needs a queue');
      const queue = await findDeadLetterQueue(target, queueName);
      const result = await redriveDeadLetters(target.sqs, queue.pair, options.max ?? Number.MAX_SAFE_INTEGER, target.receive);
      const depth = await queueDepth(target.sqs, queue.pair.deadLetterUrl);
      if (options.json === true) {
        json({ queue: queue.queue, deadLetterQueue: queue.pair.deadLetterName, sourceQueue: queue.pair.sourceName, moved: result.moved, stoppedBy: result.stoppedBy ?? null, depth: depth.visible });
      } else {
        output.stdout(formatRedrive(queue, result, depth));
      }
      return result.stoppedBy === undefined ? 0 : 1;
    }
    default:
      throw new DlqUsageError(command === undefined ? 'dlq needs a command: list, show or redrive' : `unknown dlq command ${command}`);
  }
}

/** `payments dlq ...` with its own options; the exit code (0 done, 1 failed or stopped, 2 usage). */
export async function dlqMain(argv: readonly string[], output: DlqOutput = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let target: DlqTarget | undefined;
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      output.stdout(DLQ_USAGE);
      return 0;
    }
    const [command, queueName, ...extra] = positionals;
    if (extra.length > 0) throw new DlqUsageError(`unexpected arguments: ${extra.join(' ')}`);
    const max = values.max === undefined ? undefined : positiveInteger('max', values.max, SHOW_MAX_DEFAULT);
    target = targetOf(values, env);
    return await runDlqCommand(target, command, queueName, { ...(max !== undefined ? { max } : {}), json: values.json }, output);
  } catch (error) {
    if (error instanceof DlqUsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      output.stderr(`${error.message}\n\n${DLQ_USAGE}`);
      return 2;
    }
    output.stderr(`payments dlq: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    target?.sqs.destroy();
  }
}
