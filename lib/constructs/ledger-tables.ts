// The backbone's DynamoDB tables: on-demand, point-in-time recovery, encrypted with the stack key.
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { TableSpec } from '../../contract/topology.js';
import { pascalCase } from '../construct-ids.js';

export interface LedgerTablesProps<Name extends string> {
  /** Tables as declared in the topology, keyed by logical name. */
  readonly specs: Readonly<Record<Name, TableSpec>>;
  /** Customer-managed key for server-side encryption. */
  readonly encryptionKey: kms.IKey;
  /** Refuse DeleteTable API calls (on outside dev: a ledger is not recreatable). */
  readonly deletionProtection: boolean;
  /** What happens to the tables when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

export class LedgerTables<Name extends string> extends Construct {
  readonly tables: Readonly<Record<Name, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: LedgerTablesProps<Name>) {
    super(scope, id);
    const tables: Partial<Record<Name, dynamodb.Table>> = {};
    for (const name of Object.keys(props.specs) as Name[]) {
      tables[name] = this.createTable(props.specs[name], props);
    }
    this.tables = tables as Record<Name, dynamodb.Table>;
  }

  private createTable(spec: TableSpec, props: LedgerTablesProps<Name>): dynamodb.Table {
    const table = new dynamodb.Table(this, pascalCase(spec.name), {
      partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
      // Payment traffic is bursty (paydays, settlement windows); on-demand absorbs it unplanned.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      ...(spec.timeToLiveAttribute === undefined ? {} : { timeToLiveAttribute: spec.timeToLiveAttribute }),
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
    for (const index of spec.globalSecondaryIndexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }
}
