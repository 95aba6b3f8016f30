// Proves provisioning against persisted data from an earlier version: an existing table gets the
// secondary indexes contract/topology.ts declares (and loses one it no longer declares) before the
// runtime reads them, and provisioning again changes nothing. DynamoDB Local only: the in-memory
// engine is always provisioned fresh.
import { DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_CHANGE_WAIT_MS, provisionTopology, waitForTableActive } from '../../lib/local/provision.js';
import { topology } from '../../contract/topology.js';
import { createTestWorld, type EmulatorWorld } from '../support/world.js';

const [UNDECIDED] = topology.tables.requests.globalSecondaryIndexes;

describe('provisionTopology on an existing data directory', () => {
  let world: EmulatorWorld;

  beforeAll(async () => {
    world = await createTestWorld('provision');
  });

  afterAll(() => world.destroy());

  async function indexesOf(tableName: string): Promise<[string | undefined, string | undefined][]> {
    const { Table } = await world.clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return (Table?.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index.IndexStatus]);
  }

  it("replaces an earlier version's index with the one the topology declares, and is idempotent", async () => {
    const requests = world.bindings.tables.requests;
    // The table as an earlier version left it: another index, not this version's.
    await world.clients.dynamodb.send(new UpdateTableCommand({ TableName: requests, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: UNDECIDED.indexName } }] }));
    // One index change at a time per table, as on AWS.
    await waitForTableActive(world.clients.dynamodb, requests, INDEX_CHANGE_WAIT_MS);
    await world.clients.dynamodb.send(
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
    await waitForTableActive(world.clients.dynamodb, requests, INDEX_CHANGE_WAIT_MS);
    const before = await indexesOf(requests);

    const bindings = await provisionTopology(world.clients, world.prefix);
    const after = await indexesOf(requests);
    await provisionTopology(world.clients, world.prefix);
    const again = await indexesOf(requests);

    expect(before.map(([name]) => name)).toEqual(['legacyUndecidedByTime']);
    expect(bindings.tables.requests).toBe(requests);
    expect(after).toEqual([[UNDECIDED.indexName, 'ACTIVE']]);
    expect(again).toEqual(after);
    // Four index changes, each waited for: DynamoDB Local makes them in the background, slowly
    // when the machine is loaded.
  }, 4 * INDEX_CHANGE_WAIT_MS);
});
