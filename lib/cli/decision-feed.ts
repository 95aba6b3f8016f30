// Watches decisions the way a downstream consumer would: a FIFO queue subscribed to the
// transactions topic for TransactionPosted / TransactionRejected. The simulator uses it when it
// runs the local runtime itself, so measuring latency adds no load on the API or the ledger.
import { randomUUID } from 'node:crypto';
import { SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { EventEnvelope } from '../../lambdas/core/events/envelope.js';
import { EVENT_TYPE_ATTRIBUTE } from '../../contract/topology.js';

export interface Decision {
  readonly transactionId: string;
  readonly status: 'POSTED' | 'REJECTED';
  readonly rejectionReason?: string;
  readonly decidedAt: string;
  /** When the API accepted the request (server clock). */
  readonly requestedAt: string;
}

export interface DecisionFeed {
  stop(): Promise<void>;
}

const RECEIVE_WAIT_SECONDS = 1;
const RECEIVE_BACKOFF_MS = 100;
const RECEIVE_BACKOFF_MAX_MS = 2_000;

async function receiveOnce(sqs: SQSClient, queueUrl: string, onDecision: (decision: Decision) => void): Promise<void> {
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: RECEIVE_WAIT_SECONDS }));
  for (const message of Messages) {
    const parsed = EventEnvelope.safeParse(JSON.parse(message.Body ?? 'null'));
    if (!parsed.success) continue;
    const event = parsed.data;
    if (event.type === 'TransactionPosted') {
      onDecision({ transactionId: event.data.transactionId, status: 'POSTED', decidedAt: event.data.postedAt, requestedAt: event.data.requestedAt });
    } else if (event.type === 'TransactionRejected') {
      onDecision({
        transactionId: event.data.transactionId,
        status: 'REJECTED',
        rejectionReason: event.data.rejectionReason,
        decidedAt: event.data.rejectedAt,
        requestedAt: event.data.requestedAt,
      });
    }
  }
  if (Messages.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

export async function startDecisionFeed(
  clients: { readonly sns: SNSClient; readonly sqs: SQSClient },
  topicArn: string,
  onDecision: (decision: Decision) => void,
): Promise<DecisionFeed> {
  const { QueueUrl } = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: `decision-feed-${randomUUID().slice(0, 8)}.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  if (QueueUrl === undefined) throw new Error('decision feed queue has no URL');
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: {
        RawMessageDelivery: 'true',
        FilterPolicy: JSON.stringify({ [EVENT_TYPE_ATTRIBUTE]: ['TransactionPosted', 'TransactionRejected'] }),
      },
    }),
  );
  let running = true;
  const loop = (async () => {
    let backoffMs = RECEIVE_BACKOFF_MS;
    while (running) {
      try {
        await receiveOnce(clients.sqs, QueueUrl, onDecision);
        backoffMs = RECEIVE_BACKOFF_MS;
      } catch {
        // A busy or restarting endpoint: back off and try again; decisions wait in the queue.
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, RECEIVE_BACKOFF_MAX_MS);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
