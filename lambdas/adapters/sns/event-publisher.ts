// Publishes payment events to an SNS FIFO topic: validated against the envelope schema first,
// grouped by debtor account, deduplicated by event id, typed by the `eventType` attribute that
// subscription filter policies match on.
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { EventEnvelope, messageGroupOf, type PaymentEvent } from '../../core/events/envelope.js';
import type { EventPublisher } from '../../core/events/ports.js';
import { EVENT_TYPE_ATTRIBUTE } from '../../../contract/topology.js';

export class SnsEventPublisher implements EventPublisher {
  readonly #client: SNSClient;
  readonly #topicArn: string;

  constructor(client: SNSClient, topicArn: string) {
    this.#client = client;
    this.#topicArn = topicArn;
  }

  async publish(event: PaymentEvent): Promise<void> {
    // Validation on publish: a malformed event is a bug here, never something to send downstream.
    const valid = EventEnvelope.parse(event);
    await this.#client.send(
      new PublishCommand({
        TopicArn: this.#topicArn,
        Message: JSON.stringify(valid),
        MessageGroupId: messageGroupOf(valid),
        MessageDeduplicationId: valid.id,
        MessageAttributes: { [EVENT_TYPE_ATTRIBUTE]: { DataType: 'String', StringValue: valid.type } },
      }),
    );
  }
}
