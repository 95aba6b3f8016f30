// The stack's one customer-managed KMS key: encrypts every topic, queue, DLQ, table and log group.
import { Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** KMS allows 7 to 30 days between scheduling a key's deletion and deleting it. */
const PENDING_WINDOW_DAYS_MAX = 30;

export interface EncryptionKeyProps {
  /** What happens to the key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Days a scheduled deletion waits; only relevant when the removal policy destroys the key.
   * @default 30 (the maximum: a deleted key makes every message and item it encrypted unreadable)
   */
  readonly pendingWindowDays?: number;
}

/**
 * One key rather than one per resource: the services that share it (SNS -> SQS delivery, Lambda
 * consumers, DynamoDB) all sit in one trust boundary, and one key keeps the key policy auditable.
 */
export class EncryptionKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Payments backbone data key (${stack.stackName})`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
      pendingWindow: Duration.days(props.pendingWindowDays ?? PENDING_WINDOW_DAYS_MAX),
    });
    this.allowCloudWatchLogs(stack);
    this.allowSnsDeliveryToQueues(stack);
  }

  /**
   * SNS encrypts each message it delivers to a KMS-encrypted queue with the queue's key. The
   * condition names this account's topics by pattern, not by ARN: naming a topic would make the
   * key depend on a topic that itself depends on the key (a CloudFormation cycle).
   * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
   */
  private allowSnsDeliveryToQueues(stack: Stack): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSnsTopicsOfThisAccountToDeliverToEncryptedQueues',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:sns:${stack.region}:${stack.account}:*` },
        },
      }),
    );
  }

  /**
   * CloudWatch Logs encrypts log groups with the key itself, so its regional service principal
   * needs the key. The encryption-context condition limits it to this account's log groups in
   * this region (AWS's documented policy for KMS-encrypted log groups).
   */
  private allowCloudWatchLogs(stack: Stack): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );
  }
}
