// AWS Backup for the ledger tables outside dev: a vault encrypted with the stack key and a plan of
// daily backups kept 35 days and monthly ones kept a year, beside each table's point-in-time
// recovery (35 days, to the second). PITR undoes a bad write; these survive a deleted table, a
// wiped PITR window and a restore that must go back further than five weeks.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface TableBackupsProps {
  readonly tables: readonly dynamodb.Table[];
  /** Customer-managed key for the vault. */
  readonly encryptionKey: kms.IKey;
}

export class TableBackups extends Construct {
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;

  constructor(scope: Construct, id: string, props: TableBackupsProps) {
    super(scope, id);
    // Retained whatever the stack's removal policy: recovery points outlive the stack they saved.
    this.vault = new backup.BackupVault(this, 'Vault', { encryptionKey: props.encryptionKey, removalPolicy: RemovalPolicy.RETAIN });
    this.plan = new backup.BackupPlan(this, 'Plan', { backupVault: this.vault });
    this.plan.addRule(backup.BackupPlanRule.daily());
    this.plan.addRule(backup.BackupPlanRule.monthly1Year());
    const selection = this.plan.addSelection('Tables', {
      resources: props.tables.map((table) => backup.BackupResource.fromDynamoDbTable(table)),
    });
    const role = selection.node.tryFindChild('Role');
    if (role === undefined) throw new Error('the backup selection has no role of its own');
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason:
        "AWS Backup's own service role policy, which AWS keeps current with what each service's backup needs. It allows backing up any supported resource of the account, not only these tables; the role can be assumed only by backup.amazonaws.com, and this plan's selection uses it for the four ledger tables.",
    });
  }
}
