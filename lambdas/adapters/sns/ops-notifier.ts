// Sends operations notifications to the standard SNS topic people subscribe to (e-mail on AWS,
// the console locally). The alert id and severity travel as attributes so subscribers can filter.
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { OpsNotification, OpsNotifier } from '../../core/risk/notification.js';

export class SnsOpsNotifier implements OpsNotifier {
  readonly #client: SNSClient;
  readonly #topicArn: string;

  constructor(client: SNSClient, topicArn: string) {
    this.#client = client;
    this.#topicArn = topicArn;
  }

  async notify(notification: OpsNotification): Promise<void> {
    await this.#client.send(
      new PublishCommand({
        TopicArn: this.#topicArn,
        Subject: notification.subject,
        Message: notification.message,
        MessageAttributes: {
          alertId: { DataType: 'String', StringValue: notification.alertId },
          severity: { DataType: 'String', StringValue: notification.severity },
        },
      }),
    );
  }
}
