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
import { EVENT_TYPE_ATTRIBUTE } from '../topology.js';

export interface Decision {
  readonly transactionId: string;
  readonly status: 'POSTED' | 'REJECTED';
  readonly rejectionReason?: string;
  readonly decidedAt: string;
}

export interface DecisionFeed {
  stop(): Promise<void>;
}

const RECEIVE_WAIT_SECONDS = 1;

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
    while (running) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: RECEIVE_WAIT_SECONDS }),
      );
      for (const message of Messages) {
        const parsed = EventEnvelope.safeParse(JSON.parse(message.Body ?? 'null'));
        if (!parsed.success) continue;
        const event = parsed.data;
        if (event.type === 'TransactionPosted') {
          onDecision({ transactionId: event.data.transactionId, status: 'POSTED', decidedAt: event.data.postedAt });
        } else if (event.type === 'TransactionRejected') {
          onDecision({ transactionId: event.data.transactionId, status: 'REJECTED', rejectionReason: event.data.rejectionReason, decidedAt: event.data.rejectedAt });
        }
      }
      if (Messages.length > 0) {
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
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
