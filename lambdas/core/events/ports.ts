// The outbound event port: publish an event to a topic, in order per message group.
import type { PaymentEvent } from './envelope.js';

export interface EventPublisher {
  /** Publishes to the transactions topic; resolves only once the topic has accepted the message. */
  publish(event: PaymentEvent): Promise<void>;
}
