// A FIFO work queue with its FIFO dead-letter queue, its topic subscription (which dead-letters
// into the same DLQ) and (once the consumer exists) the Lambda event source mapping that drains it.
import { Duration, Names, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FilterPolicy, QueueSpec } from '../../contract/topology.js';
import { acknowledgeDeadLetterQueue, acknowledgeSqsEventSource } from '../compliance-acknowledgements.js';

/** SQS's longest retention: a payment waiting on a broken consumer must outlive any outage. */
const QUEUE_RETENTION_DAYS_MAX = 14;

export interface QueueWorkerProps {
  /** The queue as declared in the topology. */
  readonly spec: QueueSpec;
  /** The topic the queue subscribes to (the topology's `subscription.topic`). */
  readonly topic: sns.ITopic;
  /** Visibility timeout; the caller derives it from the consumer's timeout. */
  readonly visibilityTimeout: Duration;
  /** Customer-managed key for the queue and its DLQ. */
  readonly encryptionKey: kms.IKey;
  /** What happens to both queues when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * How long the main queue keeps an unconsumed message.
   * @default 14 days (the SQS maximum)
   */
  readonly retentionPeriod?: Duration;
}

export class QueueWorker extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly subscription: sns.Subscription;
  private readonly spec: QueueSpec;

  constructor(scope: Construct, id: string, props: QueueWorkerProps) {
    super(scope, id);
    this.spec = props.spec;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      // A FIFO queue's DLQ must itself be FIFO.
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(props.spec.dlqRetentionDays),
      removalPolicy: props.removalPolicy,
    });
    acknowledgeDeadLetterQueue(this.deadLetterQueue);
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: props.spec.fifo,
      // High-throughput FIFO: deduplication and throughput are per message group (account).
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      // SNS forwards the publisher's MessageDeduplicationId (the event id); see FifoTopic.
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      receiveMessageWaitTime: Duration.seconds(props.spec.receiveWaitSeconds),
      retentionPeriod: props.retentionPeriod ?? Duration.days(QUEUE_RETENTION_DAYS_MAX),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.spec.maxReceiveCount },
      removalPolicy: props.removalPolicy,
    });
    this.subscription = this.subscribe(props.topic);
  }

  /**
   * Drains the queue into `consumer`. Separate from the constructor because the consumer's
   * environment needs this worker's DLQ URL (quarantine), so the function is built afterwards.
   * `maxConcurrency` caps the batches Lambda runs at once for this queue (2..1000), so one busy
   * queue cannot take the account's concurrency from the api function or the other consumers.
   */
  connectConsumer(consumer: lambda.IFunction, maxConcurrency: number): void {
    const source = new SqsEventSource(this.queue, {
      batchSize: this.spec.batchSizeMax,
      // FIFO partial failures: the handler reports the first failed record and the rest of its
      // group, so only those are retried and ordering per account holds.
      reportBatchItemFailures: true,
      maxConcurrency,
      enabled: true,
    });
    consumer.addEventSource(source);
    const mapping = consumer.node.tryFindChild(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`);
    if (mapping === undefined) throw new Error(`${consumer.node.path}: the event source mapping for ${this.queue.node.path} was not found`);
    acknowledgeSqsEventSource(mapping);
  }

  /**
   * Not `SqsSubscription`: it also adds a key-policy statement for SNS that either names the topic
   * (a key -> topic -> key cycle, since the topic is encrypted with the same key) or has no
   * condition at all. EncryptionKey grants SNS the key, scoped to this account's topics.
   */
  private subscribe(topic: sns.ITopic): sns.Subscription {
    const { policyDependable } = this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSubscribedTopicToSend',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': topic.topicArn } },
      }),
    );
    const subscription = new sns.Subscription(this, 'Subscription', {
      topic,
      protocol: sns.SubscriptionProtocol.SQS,
      endpoint: this.queue.queueArn,
      rawMessageDelivery: this.spec.subscription.rawMessageDelivery,
      filterPolicy: toSubscriptionFilters(this.spec.subscription.filterPolicy),
      // What SNS cannot deliver to the queue (a client-side error: the queue policy refuses it,
      // the queue is gone) it would otherwise drop. It lands in the queue's own DLQ instead, so
      // the DLQ alarm sees it and `payments dlq redrive` sends it where it was going. A key that
      // refuses SNS refuses the DLQ too (both use the stack key): that loss has its own alarm
      // (sns-delivery-lost, lib/constructs/monitoring.ts).
      deadLetterQueue: this.deadLetterQueue,
    });
    // Explicit rather than the service default: filters match SNS message attributes, not the body.
    (subscription.node.defaultChild as sns.CfnSubscription).filterPolicyScope = 'MessageAttributes';
    // SNS checks it may send when the subscription is created; the queue policy must exist first.
    if (policyDependable !== undefined) subscription.node.addDependency(policyDependable);
    const deadLetterPolicy = this.deadLetterQueue.node.tryFindChild('Policy');
    if (deadLetterPolicy !== undefined) subscription.node.addDependency(deadLetterPolicy);
    return subscription;
  }
}

function toSubscriptionFilters(policy: FilterPolicy): Record<string, sns.SubscriptionFilter> {
  const filters: Record<string, sns.SubscriptionFilter> = {};
  for (const [attribute, allowed] of Object.entries(policy)) {
    filters[attribute] = sns.SubscriptionFilter.stringFilter({ allowlist: [...allowed] });
  }
  return filters;
}
