// Proves provisioning against persisted data from an earlier version: an existing table gets the
// secondary indexes contract/topology.ts declares (and loses one it no longer declares) before the
// runtime reads them, and provisioning again changes nothing. On a DynamoDB Local of its own, as a
// data directory is (the shared one, busy with every other integration file, left an index change
// pending for minutes under load); the in-memory engine is always provisioned fresh.
import { DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal, type RunningEmulator } from '../../lib/local/emulators.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/local-world.js';
import { INDEX_CHANGE_WAIT_MS, provisionTopology, waitForTableActive } from '../../lib/local/provision.js';
import { createAwsClients } from '../../lambdas/shared/aws-clients.js';
import { topology } from '../../contract/topology.js';
import { createTestWorld, type EmulatorWorld } from '../support/world.js';

const [UNDECIDED] = topology.tables.requests.globalSecondaryIndexes;

describe('provisionTopology on an existing data directory', () => {
  let world: EmulatorWorld;
  let dynamodbLocal: RunningEmulator;
  let clients: EmulatorWorld['clients'];

  beforeAll(async () => {
    world = await createTestWorld('provision');
    dynamodbLocal = await startDynamoDbLocal();
    const own = createAwsClients({ endpoint: dynamodbLocal.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    clients = { ...world.clients, dynamodb: own.dynamodb };
  });

  afterAll(async () => {
    clients.dynamodb.destroy();
    world.destroy();
    await dynamodbLocal.stop();
  });

  async function indexesOf(tableName: string): Promise<[string | undefined, string | undefined][]> {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return (Table?.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index.IndexStatus]);
  }

  it("replaces an earlier version's index with the one the topology declares, and is idempotent", async () => {
    const { tables } = await provisionTopology(clients, world.prefix);
    const requests = tables.requests;
    // The table as an earlier version left it: another index, not this version's.
    await clients.dynamodb.send(new UpdateTableCommand({ TableName: requests, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: UNDECIDED.indexName } }] }));
    // One index change at a time per table, as on AWS.
    await waitForTableActive(clients.dynamodb, requests, INDEX_CHANGE_WAIT_MS);
    await clients.dynamodb.send(
      new UpdateTableCommand({
        TableName: requests,
        AttributeDefinitions: [
          { AttributeName: 'legacyUndecided', AttributeType: 'S' },
          { AttributeName: 'acceptedAt', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: 'legacyUndecidedByTime',
              KeySchema: [
                { AttributeName: 'legacyUndecided', KeyType: 'HASH' },
                { AttributeName: 'acceptedAt', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          },
        ],
      }),
    );
    await waitForTableActive(clients.dynamodb, requests, INDEX_CHANGE_WAIT_MS);
    const before = await indexesOf(requests);

    const bindings = await provisionTopology(clients, world.prefix);
    const after = await indexesOf(requests);
    await provisionTopology(clients, world.prefix);
    const again = await indexesOf(requests);

    expect(before.map(([name]) => name)).toEqual(['legacyUndecidedByTime']);
    expect(bindings.tables.requests).toBe(requests);
    expect(after).toEqual([[UNDECIDED.indexName, 'ACTIVE']]);
    expect(again).toEqual(after);
    // Four index changes, each waited for: DynamoDB Local makes them in the background, slowly
    // when the machine is loaded.
  }, 4 * INDEX_CHANGE_WAIT_MS);
});
