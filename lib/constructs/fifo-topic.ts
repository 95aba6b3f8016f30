// An SNS FIFO topic as the backbone needs it: per-message-group throughput, KMS, TLS-only publish.
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { TopicSpec } from '../../contract/topology.js';

export interface FifoTopicProps {
  /** The topic as declared in the topology. */
  readonly spec: TopicSpec;
  /** Customer-managed key that encrypts messages at rest. */
  readonly encryptionKey: kms.IKey;
}

export class FifoTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: FifoTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `payments ${props.spec.name}`,
      fifo: props.spec.fifo,
      // Throughput is partitioned by message group (= debtor account), the unit of ordering.
      fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
      // Publishers pass the event id as MessageDeduplicationId; hashing the body would merge two
      // distinct events that happen to carry identical payloads.
      contentBasedDeduplication: false,
      masterKey: props.encryptionKey,
      // Adds a Deny on sns:Publish when aws:SecureTransport is false.
      enforceSSL: true,
    });
  }
}
