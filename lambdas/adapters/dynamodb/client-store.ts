// DynamoDB implementation of the ClientStore port on the participants table: one item per API
// client (status, public keys, who changed it), listed per institution through its index. Reads
// are strongly consistent, so a revocation is seen by the very next request.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  CLIENT_CHANNELS,
  CLIENT_KEYS_MAX,
  CLIENT_STATUSES,
  CLIENTS_LISTED_MAX,
  CLIENTS_PER_INSTITUTION_MAX,
  type Actor,
  type ApiClientRecord,
  type ClientCreation,
  rotatedKeys,
  type ClientKey,
  type ClientRevocation,
  type ClientStore,
  type KeyRotation,
  type NewClientKey,
} from '../../core/trust/api-client.js';
import { topology } from '../../../contract/topology.js';
import { retryWhile } from './retry.js';
import { actorFromAttribute, actorToAttribute, CorruptItemError, int, isOneOf, type Item } from './ledger-items.js';

const clientKey = (clientId: string): Item => ({ pk: { S: `CLIENT#${clientId}` } });
/** Per institution: how many ACTIVE clients it holds (no institutionId attribute: not in the listing index). */
const counterKey = (institutionId: string): Item => ({ pk: { S: `CLIENT_COUNT#${institutionId}` } });
const INSTITUTION_INDEX = topology.tables.participants.globalSecondaryIndexes[0];
/** A rotation lost to a concurrent change of the same client is re-read and tried again. */
const ROTATION_ATTEMPTS_MAX = 3;
/** A create or revoke cancelled by TransactionConflict (the counter item is shared) is retried. */
const CONFLICT_ATTEMPTS_MAX = 5;
const CONFLICT_BACKOFF_BASE_MS = 20;

/** Concurrent changes kept winning: the caller may retry later (the API answers 500, "retrying is safe"). */
export class ClientStoreConflictError extends Error {
  override name = 'ClientStoreConflictError';
}

/** Runs a transaction again while DynamoDB cancels it for a conflicting one (AWS, under load). */
async function retryingConflicts<T>(attempt: () => Promise<T>, what: string): Promise<T> {
  const conflict = (error: unknown): boolean =>
    error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
  try {
    return await retryWhile(attempt, conflict, { attemptsMax: CONFLICT_ATTEMPTS_MAX, backoffBaseMs: CONFLICT_BACKOFF_BASE_MS });
  } catch (error) {
    if (conflict(error)) throw new ClientStoreConflictError(`${what} kept conflicting with concurrent changes; retry`, { cause: error });
    throw error;
  }
}

export class DynamoClientStore implements ClientStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async getClient(clientId: string): Promise<ApiClientRecord | undefined> {
    const record = await this.#read(clientId);
    return record?.client;
  }

  async #read(clientId: string): Promise<{ client: ApiClientRecord; revision: bigint } | undefined> {
    const result = await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: clientKey(clientId), ConsistentRead: true }));
    return result.Item === undefined ? undefined : { client: clientFromItem(result.Item), revision: int(result.Item, 'revision') };
  }

  /** The client and its institution's active-client count, in one transaction: the bound is exact. */
  async createClient(client: ApiClientRecord): Promise<ClientCreation> {
    try {
      await retryingConflicts(() => this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: this.#tableName, Item: { ...clientToItem(client), revision: { N: '1' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: this.#tableName,
                Key: counterKey(client.institutionId),
                UpdateExpression: 'ADD activeClients :one',
                ConditionExpression: 'attribute_not_exists(activeClients) OR activeClients < :max',
                ExpressionAttributeValues: { ':one': { N: '1' }, ':max': { N: String(CLIENTS_PER_INSTITUTION_MAX) } },
              },
            },
          ],
        }),
      ), `creating client ${client.clientId}`);
      return 'created';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [put, counter] = error.CancellationReasons ?? [];
      if (put?.Code === 'ConditionalCheckFailed') return 'id-taken';
      if (counter?.Code === 'ConditionalCheckFailed') return 'limit-reached';
      throw error;
    }
  }

  async listClients(institutionId: string): Promise<ApiClientRecord[]> {
    const clients: ApiClientRecord[] = [];
    let startKey: Item | undefined;
    do {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: INSTITUTION_INDEX.indexName,
          KeyConditionExpression: '#institution = :institution',
          ExpressionAttributeNames: { '#institution': INSTITUTION_INDEX.partitionKey },
          ExpressionAttributeValues: { ':institution': { S: institutionId } },
          Limit: CLIENTS_LISTED_MAX - clients.length,
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      clients.push(...(result.Items ?? []).map(clientFromItem));
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined && clients.length < CLIENTS_LISTED_MAX);
    return clients;
  }

  async rotateKey(clientId: string, institutionId: string, key: NewClientKey, previousExpiresAt: string, by: Actor): Promise<KeyRotation> {
    for (let attempt = 1; attempt <= ROTATION_ATTEMPTS_MAX; attempt++) {
      const current = await this.#read(clientId);
      if (current === undefined || current.client.institutionId !== institutionId) return { outcome: 'not-found' };
      if (current.client.status !== 'ACTIVE') return { outcome: 'revoked' };
      const keys = rotatedKeys(current.client, key, previousExpiresAt);
      try {
        await this.#client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: clientKey(clientId),
            UpdateExpression: 'SET #keys = :keys, rotatedAt = :at, rotatedBy = :by, revision = revision + :one',
            // The revision read is the one replaced: a concurrent change makes this one re-read.
            ConditionExpression: '#status = :active AND revision = :revision',
            ExpressionAttributeNames: { '#keys': 'keys', '#status': 'status' },
            ExpressionAttributeValues: {
              ':keys': keysToAttribute(keys),
              ':at': { S: key.createdAt },
              ':by': actorToAttribute(by),
              ':one': { N: '1' },
              ':active': { S: 'ACTIVE' },
              ':revision': { N: current.revision.toString() },
            },
          }),
        );
        return { outcome: 'rotated', keyId: keys[0]?.keyId ?? '' };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new ClientStoreConflictError(`client ${clientId}: rotation kept losing to concurrent changes; retry`);
  }

  /** ACTIVE -> REVOKED and the institution's active-client count down, in one transaction. */
  async revokeClient(clientId: string, institutionId: string, by: Actor, at: string): Promise<ClientRevocation> {
    try {
      await retryingConflicts(() => this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.#tableName,
                Key: clientKey(clientId),
                UpdateExpression: 'SET #status = :revoked, revokedAt = :at, revokedBy = :by, revision = revision + :one',
                ConditionExpression: 'attribute_exists(pk) AND institutionId = :institution AND #status = :active',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':revoked': { S: 'REVOKED' },
                  ':active': { S: 'ACTIVE' },
                  ':at': { S: at },
                  ':by': actorToAttribute(by),
                  ':one': { N: '1' },
                  ':institution': { S: institutionId },
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Update: { TableName: this.#tableName, Key: counterKey(institutionId), UpdateExpression: 'ADD activeClients :minusOne', ExpressionAttributeValues: { ':minusOne': { N: '-1' } } } },
          ],
        }),
      ), `revoking client ${clientId}`);
      return 'revoked';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [reason] = error.CancellationReasons ?? [];
      if (reason?.Code !== 'ConditionalCheckFailed') throw error;
      if (reason.Item === undefined) return 'not-found';
      const existing = clientFromItem(reason.Item);
      // Another institution's client is answered as absent: ids must not be probed across.
      return existing.institutionId !== institutionId ? 'not-found' : 'unchanged';
    }
  }
}

function keysToAttribute(keys: readonly ClientKey[]): AttributeValue {
  return {
    L: keys.map((key) => ({
      M: {
        keyId: { S: key.keyId },
        publicKey: { S: key.publicKey },
        createdAt: { S: key.createdAt },
        ...(key.expiresAt !== undefined ? { expiresAt: { S: key.expiresAt } } : {}),
      },
    })),
  };
}

function keysFromAttribute(value: AttributeValue | undefined): ClientKey[] {
  const list = value?.L;
  if (list === undefined || list.length === 0 || list.length > CLIENT_KEYS_MAX) throw new CorruptItemError('client keys missing or too many');
  return list.map((entry) => {
    const keyId = entry.M?.keyId?.S;
    const publicKey = entry.M?.publicKey?.S;
    const createdAt = entry.M?.createdAt?.S;
    const expiresAt = entry.M?.expiresAt?.S;
    if (keyId === undefined || publicKey === undefined || createdAt === undefined) throw new CorruptItemError('client key incomplete');
    return { keyId, publicKey, createdAt, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  });
}

function clientToItem(client: ApiClientRecord): Item {
  return {
    ...clientKey(client.clientId),
    entity: { S: 'CLIENT' },
    clientId: { S: client.clientId },
    institutionId: { S: client.institutionId },
    channel: { S: client.channel },
    status: { S: client.status },
    keys: keysToAttribute(client.keys),
    usageKeyId: { S: client.usageKeyId },
    createdAt: { S: client.createdAt },
    createdBy: actorToAttribute(client.createdBy),
    ...(client.rotatedAt !== undefined && client.rotatedBy !== undefined ? { rotatedAt: { S: client.rotatedAt }, rotatedBy: actorToAttribute(client.rotatedBy) } : {}),
    ...(client.revokedAt !== undefined && client.revokedBy !== undefined ? { revokedAt: { S: client.revokedAt }, revokedBy: actorToAttribute(client.revokedBy) } : {}),
  };
}

function clientFromItem(item: Item): ApiClientRecord {
  const text = (name: string): string => {
    const value = item[name]?.S;
    if (value === undefined) throw new CorruptItemError(`client attribute ${name} missing`);
    return value;
  };
  const channel = text('channel');
  const status = text('status');
  if (!isOneOf(channel, CLIENT_CHANNELS)) throw new CorruptItemError(`client channel ${channel}`);
  if (!isOneOf(status, CLIENT_STATUSES)) throw new CorruptItemError(`client status ${status}`);
  return {
    clientId: text('clientId'),
    institutionId: text('institutionId'),
    channel,
    status,
    keys: keysFromAttribute(item.keys),
    usageKeyId: text('usageKeyId'),
    createdAt: text('createdAt'),
    createdBy: actorFromAttribute(item.createdBy, 'createdBy'),
    ...(item.rotatedAt?.S !== undefined ? { rotatedAt: item.rotatedAt.S, rotatedBy: actorFromAttribute(item.rotatedBy, 'rotatedBy') } : {}),
    ...(item.revokedAt?.S !== undefined ? { revokedAt: item.revokedAt.S, revokedBy: actorFromAttribute(item.revokedBy, 'revokedBy') } : {}),
  };
}
