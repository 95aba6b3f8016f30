// Proves each function's role on the synthesized prod template is least privilege: per table, the
// exact DynamoDB actions its handler's stores send (and Query only on the indexes it queries), no
// Scan, BatchWriteItem or DeleteItem where nothing uses them, the alerts function's ledger access
// one UpdateItem on account items, every use of the stack key through a named service
// (kms:ViaService), no `*` resource but where AWS requires one, and the dead-letter operator
// policy able to run `npx payments dlq` on AWS, attached to no role.
//
// The expected table below is written out here, not imported from lib/iam-actions.ts, so a change
// to the grants has to be made twice, on purpose. It is read off the code:
//   lambdas/*/handler.ts           which stores each handler wires, on which tables;
//   lambdas/core/**                which store methods each use case calls;
//   lambdas/adapters/dynamodb/*.ts which commands each method sends. TransactWriteItems is
//                                  authorized per item (Put -> PutItem, Update -> UpdateItem,
//                                  ConditionCheck -> ConditionCheckItem), TransactGetItems as GetItem.
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PaymentsStack } from '../../lib/payments-stack.js';
import { handlerNames, queueNames, tableNames, type HandlerName, type TableName } from '../../contract/topology.js';
import { idOf, sharedApp } from '../support/infra-apps.js';

interface ExpectedTableAccess {
  /** dynamodb:* actions on the table itself (sorted). */
  readonly items: readonly string[];
  /** Indexes with dynamodb:Query (sorted), and Query on nothing else. */
  readonly queries?: readonly string[];
}

/**
 * | handler          | table        | actions                                                       |
 * |------------------|--------------|---------------------------------------------------------------|
 * | posting          | ledger       | Get, BatchGet, Put, Update, ConditionCheck (ledger + settlement stores: posting, enrol, borrow) |
 * | posting          | requests     | Update (intake markDecided)                                   |
 * | api              | ledger       | Get, BatchGet, Put, Update, ConditionCheck (accounts, caps, windows, confirmations) |
 * | api              | requests     | Get, Put, Delete (intake recordAccepted, discard, get)        |
 * | api              | risk         | Get, Update; Query on alertsByAccount, alertsByTime (alerts)   |
 * | api              | participants | Get, Put, Update; Query on clientsByInstitution (clients)     |
 * | recovery         | requests     | Update; Query on undecidedByAcceptance (the sweep)            |
 * | recovery         | ledger       | Get, BatchGet (getTransfer, decidedTransferIds)               |
 * | risk             | risk         | Get, BatchGet, Put, Update (screening state and verdicts)     |
 * | alerts           | risk         | Put, Update (alert record, progress marks, freeze outcome)    |
 * | alerts           | ledger       | Update, on ACCOUNT#* items only (the freeze)                  |
 * | settlement       | ledger       | Get, BatchGet, Put, Update, ConditionCheck (seal, instructions, confirmations) |
 * | settlementClose  | ledger       | Get, BatchGet, Put, Update (close, unsettled windows)         |
 */
const EXPECTED: Record<HandlerName, Partial<Record<TableName, ExpectedTableAccess>>> = {
  posting: {
    ledger: { items: ['BatchGetItem', 'ConditionCheckItem', 'GetItem', 'PutItem', 'UpdateItem'] },
    requests: { items: ['UpdateItem'] },
  },
  api: {
    ledger: { items: ['BatchGetItem', 'ConditionCheckItem', 'GetItem', 'PutItem', 'UpdateItem'] },
    requests: { items: ['DeleteItem', 'GetItem', 'PutItem'] },
    risk: { items: ['GetItem', 'UpdateItem'], queries: ['alertsByAccount', 'alertsByTime'] },
    participants: { items: ['GetItem', 'PutItem', 'UpdateItem'], queries: ['clientsByInstitution'] },
  },
  recovery: {
    requests: { items: ['UpdateItem'], queries: ['undecidedByAcceptance'] },
    ledger: { items: ['BatchGetItem', 'GetItem'] },
  },
  risk: {
    risk: { items: ['BatchGetItem', 'GetItem', 'PutItem', 'UpdateItem'] },
  },
  alerts: {
    risk: { items: ['PutItem', 'UpdateItem'] },
    ledger: { items: ['UpdateItem'] },
  },
  settlement: {
    ledger: { items: ['BatchGetItem', 'ConditionCheckItem', 'GetItem', 'PutItem', 'UpdateItem'] },
  },
  settlementClose: {
    ledger: { items: ['BatchGetItem', 'GetItem', 'PutItem', 'UpdateItem'] },
  },
};

/** The services each function uses the stack key through: tables, topics, queues (DLQs, event source). */
const EXPECTED_KEY_SERVICES: Record<HandlerName, readonly string[]> = {
  posting: ['dynamodb', 'sns', 'sqs'],
  api: ['dynamodb', 'sns'],
  recovery: ['dynamodb', 'sns', 'sqs'],
  risk: ['dynamodb', 'sns', 'sqs'],
  alerts: ['dynamodb', 'sns', 'sqs'],
  settlement: ['dynamodb', 'sns', 'sqs'],
  settlementClose: ['dynamodb', 'sns', 'sqs'],
};

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Sid?: string;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let stack: PaymentsStack;
let resources: Resources;

beforeAll(() => {
  stack = sharedApp('prod').stack;
  resources = sharedApp('prod').template().toJSON().Resources as Resources;
});

const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
const resourceList = (statement: Statement): unknown[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);

/** Every statement of every policy attached to the handler's role (customer-managed policies naming it). */
function statementsOf(handler: HandlerName): Statement[] {
  const roleId = idOf(stack, stack.handlers[handler].role);
  const statements: Statement[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy' && resource.Type !== 'AWS::IAM::Policy') continue;
    if (resource.Properties.Roles === undefined) continue;
    const roles = resource.Properties.Roles as { Ref?: string }[];
    if (!roles.some((role) => role.Ref === roleId)) continue;
    statements.push(...(resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  const managed = resources[roleId]?.Properties.ManagedPolicyArns;
  expect(managed, `${handler}: no managed policies on a function role`).toBeUndefined();
  return statements;
}

/** `{ Fn::GetAtt: [table, Arn] }` is the table; a Fn::Join of it and `/index/<name>` is that index. */
function tableTarget(resource: unknown, tableIds: ReadonlyMap<string, TableName>): { table: TableName; index?: string } | undefined {
  const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt !== undefined) {
    const table = tableIds.get(getAtt[0]);
    return table === undefined ? undefined : { table };
  }
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) return undefined;
  const [first, suffix] = join[1];
  const inner = tableTarget(first, tableIds);
  if (inner === undefined) return undefined;
  const match = typeof suffix === 'string' ? /^\/index\/([A-Za-z0-9_.-]+)$/.exec(suffix) : null;
  if (match === null || join[1].length !== 2) throw new Error(`unexpected table resource ${JSON.stringify(resource)}`);
  return { table: inner.table, index: match[1] ?? '' };
}

describe.each(handlerNames())('the %s function role', (handler) => {
  it('has exactly the DynamoDB actions its stores use, per table and index', () => {
    const tableIds = new Map(tableNames().map((table) => [idOf(stack, stack.tables[table]), table] as const));
    const found: Partial<Record<TableName, { items: Set<string>; queries: Set<string> }>> = {};
    for (const statement of statementsOf(handler)) {
      const dynamo = actionsOf(statement).filter((action) => action.startsWith('dynamodb:'));
      if (dynamo.length === 0) continue;
      expect(statement.Effect).toBe('Allow');
      expect(actionsOf(statement), 'a DynamoDB statement carries DynamoDB actions only').toEqual(dynamo);
      for (const resource of resourceList(statement)) {
        const target = tableTarget(resource, tableIds);
        expect(target, `${handler}: DynamoDB on something that is not a stack table: ${JSON.stringify(resource)}`).toBeDefined();
        if (target === undefined) continue;
        const entry = (found[target.table] ??= { items: new Set(), queries: new Set() });
        if (target.index === undefined) {
          for (const action of dynamo) entry.items.add(action.replace('dynamodb:', ''));
        } else {
          expect(dynamo, `${handler}: only Query on an index`).toEqual(['dynamodb:Query']);
          entry.queries.add(target.index);
        }
      }
    }
    const actual = Object.fromEntries(
      Object.entries(found).map(([table, entry]) => [
        table,
        { items: [...entry.items].sort(), ...(entry.queries.size > 0 ? { queries: [...entry.queries].sort() } : {}) },
      ]),
    );

    expect(actual).toEqual(EXPECTED[handler]);
  });

  it('never scans, batch-writes or uses a DynamoDB wildcard; deletes only where a store does (api, requests)', () => {
    const actions = statementsOf(handler).flatMap(actionsOf);

    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    expect(actions.filter((action) => action.startsWith('dynamodb:') && action.includes('*'))).toEqual([]);
    expect(actions.includes('dynamodb:DeleteItem')).toBe(handler === 'api');
  });

  it('uses the stack key only through the services it calls (kms:ViaService on every KMS statement)', () => {
    const keyId = idOf(stack, stack.encryptionKey.key);
    const services = new Set<string>();
    for (const statement of statementsOf(handler)) {
      const kms = actionsOf(statement).filter((action) => action.startsWith('kms:'));
      if (kms.length === 0) continue;
      expect(actionsOf(statement), 'a KMS statement carries KMS actions only').toEqual(kms);
      expect(resourceList(statement)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
      const via = statement.Condition?.StringEquals?.['kms:ViaService'] as { 'Fn::Join': [string, unknown[]] } | undefined;
      expect(via, `${handler}: KMS statement without kms:ViaService: ${JSON.stringify(statement)}`).toBeDefined();
      const [prefix, region, suffix] = via?.['Fn::Join'][1] ?? [];
      expect(region).toEqual({ Ref: 'AWS::Region' });
      expect(suffix).toBe('.amazonaws.com');
      services.add(String(prefix).replace(/\.$/, ''));
      // No KMS action a function has no use for (key administration, grants, signing).
      for (const action of kms) expect(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*']).toContain(action);
    }

    expect([...services].sort()).toEqual(EXPECTED_KEY_SERVICES[handler]);
  });
});

describe('wildcard resources', () => {
  // cdk-nag's `AwsSolutions-IAM5[Resource::*]` acknowledgement (X-Ray, ListQueues) covers every
  // `*` statement of its policy, whatever the action: this is what catches a new one.
  it('appear in IAM policies only for the actions that have no resource-level permissions', () => {
    const actions = new Set<string>();
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::ManagedPolicy' && resource.Type !== 'AWS::IAM::Policy') continue;
      for (const statement of (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (resourceList(statement).some((target) => typeof target === 'string' && target.includes('*') && !target.startsWith('arn:'))) {
          for (const action of actionsOf(statement)) actions.add(action);
        }
      }
    }

    expect([...actions].sort()).toEqual(['sqs:ListQueues', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });
});

describe('the alerts function on the ledger', () => {
  it('may only update account items (the freeze): UpdateItem with dynamodb:LeadingKeys ACCOUNT#*', () => {
    const ledgerId = idOf(stack, stack.tables.ledger);
    const onLedger = statementsOf('alerts').filter((statement) => JSON.stringify(statement.Resource).includes(`"${ledgerId}"`));

    expect(onLedger).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [ledgerId, 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] } },
      },
    ]);
  });
});

describe('the dead-letter operator policy (`npx payments dlq`)', () => {
  function operationsStatements(): Statement[] {
    const policy = resources[idOf(stack, stack.deadLetterOperatorPolicy)];
    return (policy?.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
  }
  const arn = (construct: IConstruct): unknown => ({ 'Fn::GetAtt': [idOf(stack, construct), 'Arn'] });
  /** A statement's resources as a set: CDK sorts them (@aws-cdk/aws-iam:minimizePolicies), order means nothing. */
  const resourceSet = (statement: Statement | undefined): string[] => (statement === undefined ? [] : resourceList(statement).map((r) => JSON.stringify(r)).sort());
  const setOf = (arns: readonly unknown[]): string[] => arns.map((r) => JSON.stringify(r)).sort();
  const actionSet = (statement: Statement | undefined): string[] => (statement === undefined ? [] : actionsOf(statement).sort());

  it('may list queues, read and delete on the DLQs, send to the work queues and use the key through SQS', () => {
    const bySid = new Map(operationsStatements().flatMap((statement) => (statement.Sid === undefined ? [] : [[statement.Sid, statement] as const])));
    const workQueues = queueNames().map((name) => arn(stack.queues[name].queue));
    const deadLetterQueues = queueNames().map((name) => arn(stack.queues[name].deadLetterQueue));

    expect(bySid.get('DlqToolListQueues')).toMatchObject({ Action: 'sqs:ListQueues', Resource: '*' });
    expect(bySid.get('DlqToolDescribeQueues')).toMatchObject({ Action: 'sqs:GetQueueAttributes' });
    expect(resourceSet(bySid.get('DlqToolDescribeQueues'))).toEqual(setOf([...workQueues, ...deadLetterQueues, arn(stack.scheduleDeadLetterQueue)]));
    expect(actionSet(bySid.get('DlqToolReadDeadLetterQueues'))).toEqual(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']);
    expect(resourceSet(bySid.get('DlqToolReadDeadLetterQueues'))).toEqual(setOf(deadLetterQueues));
    expect(bySid.get('DlqToolRedriveToWorkQueues')).toMatchObject({ Action: 'sqs:SendMessage' });
    expect(resourceSet(bySid.get('DlqToolRedriveToWorkQueues'))).toEqual(setOf(workQueues));
    expect(actionSet(bySid.get('DlqToolUseKeyThroughSqs'))).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(bySid.get('DlqToolUseKeyThroughSqs')).toMatchObject({
      Resource: arn(stack.encryptionKey.key),
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
    });
  });

  it('grants nothing beyond those, is attached to no role by the stack, and no admin role may touch a queue or the key', () => {
    const actions = operationsStatements().flatMap(actionsOf).sort();
    const policy = resources[idOf(stack, stack.deadLetterOperatorPolicy)];

    expect(actions).toEqual(
      ['kms:Decrypt', 'kms:GenerateDataKey', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ListQueues', 'sqs:ReceiveMessage', 'sqs:SendMessage'].sort(),
    );
    // Sending to the work queues puts messages in front of the consumers: only whoever is given it.
    expect(policy?.Properties.Roles ?? []).toEqual([]);
    expect(policy?.Properties.Users ?? []).toEqual([]);
    expect(policy?.Properties.Groups ?? []).toEqual([]);
    // Nor attached from the other side (role.addManagedPolicy puts it in the role's ManagedPolicyArns).
    const policyRef = JSON.stringify({ Ref: idOf(stack, stack.deadLetterOperatorPolicy) });
    const principals = Object.entries(resources).filter(([, resource]) => ['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group'].includes(resource.Type));
    for (const [id, principal] of principals) expect(JSON.stringify(principal.Properties.ManagedPolicyArns ?? []), id).not.toContain(policyRef);
    for (const role of ['operations', 'risk', 'settlement'] as const) {
      const policy = resources[idOf(stack, stack.api.rolePolicies[role])];
      expect(JSON.stringify(policy?.Properties.PolicyDocument)).not.toMatch(/"(sqs|kms):/);
    }
  });
});
