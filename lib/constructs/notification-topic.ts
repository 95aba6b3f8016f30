// A standard SNS topic for people (operations notifications): KMS-encrypted, TLS-only, with the
// e-mail subscriptions the deployment names. Each address must confirm its subscription once.
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { NotificationTopicSpec } from '../../contract/topology.js';
import { acknowledgeEmailSubscription } from '../compliance-acknowledgements.js';

export interface NotificationTopicProps {
  readonly spec: NotificationTopicSpec;
  readonly encryptionKey: kms.IKey;
  /** Addresses subscribed by e-mail. */
  readonly emailAddresses: readonly string[];
}

/** Loose on purpose: SNS itself verifies an address by its confirmation e-mail. */
const EMAIL_ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class NotificationTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `payments ${props.spec.name}`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const address of props.emailAddresses) {
      if (!EMAIL_ADDRESS.test(address)) throw new Error(`${props.spec.name}: '${address}' is not an e-mail address`);
      acknowledgeEmailSubscription(this.topic.addSubscription(new subscriptions.EmailSubscription(address)));
    }
  }
}
