// DynamoDB implementation of the IntakeStore port, on the requests table (one item per transfer
// id, expiring through TTL once the idempotency window has passed).
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { IntakeStore, RecordIntakeResult, TransferIntake } from '../../core/intake/ports.js';
import { CorruptItemError, transferFromItem, transferToItem, type Item } from './ledger-items.js';

/** How long a request record is kept for idempotent replays (and recovery) before TTL removes it. */
export const INTAKE_RETENTION_SECONDS = 7 * 86_400;

const intakeKey = (transferId: string): Item => ({ pk: { S: `REQUEST#${transferId}` } });

export class DynamoIntakeStore implements IntakeStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async recordAccepted(intake: TransferIntake): Promise<RecordIntakeResult> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: toItem(intake),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = error.Item !== undefined ? fromItem(error.Item) : await this.get(intake.request.transferId);
      if (existing === undefined) throw new CorruptItemError(`intake ${intake.request.transferId}: condition failed but no item`);
      return { created: false, existing };
    }
  }

  async markQueued(transferId: string, queuedAt: string): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: intakeKey(transferId),
        UpdateExpression: 'SET #state = :queued, queuedAt = if_not_exists(queuedAt, :queuedAt)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':queued': { S: 'QUEUED' }, ':queuedAt': { S: queuedAt } },
      }),
    );
  }

  async get(transferId: string): Promise<TransferIntake | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: intakeKey(transferId), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : fromItem(Item);
  }
}

/**
 * The request itself is stored with the transfer item layout (status/decidedAt are placeholders
 * there: an intake has no outcome), so both tables share one strict codec for transfer fields.
 */
function toItem(intake: TransferIntake): Item {
  const transfer = transferToItem({ ...intake.request, status: 'POSTED', contentHash: intake.contentHash, decidedAt: intake.acceptedAt });
  const { pk: _pk, entity: _entity, status: _status, decidedAt: _decidedAt, ...requestFields } = transfer;
  const acceptedSeconds = Math.floor(Date.parse(intake.acceptedAt) / 1_000);
  return {
    ...intakeKey(intake.request.transferId),
    entity: { S: 'INTAKE' },
    ...requestFields,
    idempotencyKey: { S: intake.idempotencyKey },
    apiRequestId: { S: intake.apiRequestId },
    state: { S: intake.state },
    acceptedAt: { S: intake.acceptedAt },
    ...(intake.queuedAt !== undefined ? { queuedAt: { S: intake.queuedAt } } : {}),
    expiresAtEpochSeconds: { N: String(acceptedSeconds + INTAKE_RETENTION_SECONDS) },
  };
}

function fromItem(item: Item): TransferIntake {
  const state = item.state?.S;
  if (state !== 'ACCEPTED' && state !== 'QUEUED') throw new CorruptItemError(`intake state ${state}`);
  const acceptedAt = item.acceptedAt?.S;
  const idempotencyKey = item.idempotencyKey?.S;
  const apiRequestId = item.apiRequestId?.S;
  if (acceptedAt === undefined || idempotencyKey === undefined || apiRequestId === undefined) {
    throw new CorruptItemError('intake item lacks acceptedAt, idempotencyKey or apiRequestId');
  }
  const { status: _status, decidedAt: _decidedAt, contentHash, ...request } = transferFromItem({
    ...item,
    status: { S: 'POSTED' },
    decidedAt: { S: acceptedAt },
  });
  const queuedAt = item.queuedAt?.S;
  return { request, idempotencyKey, contentHash, apiRequestId, state, acceptedAt, ...(queuedAt !== undefined ? { queuedAt } : {}) };
}
