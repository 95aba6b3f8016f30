// Freezing an account because of a risk alert, as one TransactWriteItems across the ledger and
// risk tables: the account goes ACTIVE -> FROZEN (recording the alert) and the alert records the
// outcome, only while the alert is OPEN and has no outcome yet. When the account cannot be frozen
// (unknown, closed, a funding account, already frozen) the alert records why, under the same
// condition. A redelivered alert therefore never freezes twice, never re-freezes an account an
// operator unfroze, and never acts on an alert an analyst resolved.
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { AccountFreezer, AlertRecord, FreezeOutcome, FreezeResult } from '../../core/risk/alerts.js';
import { alertFromItem, alertKey } from './alert-store.js';
import { accountFromItem, accountKey, CorruptItemError, type Item } from './ledger-items.js';

/** The transaction was cancelled for a reason other than its conditions (a write conflict): retry. */
export class FreezeConflictError extends Error {
  override name = 'FreezeConflictError';
}

const ALERT_OPEN_AND_UNDECIDED = 'attribute_exists(pk) AND alertStatus = :open AND attribute_not_exists(freezeOutcome)';

export class DynamoAccountFreezer implements AccountFreezer {
  readonly #client: DynamoDBClient;
  readonly #ledgerTable: string;
  readonly #riskTable: string;

  constructor(client: DynamoDBClient, tables: { readonly ledger: string; readonly risk: string }) {
    this.#client = client;
    this.#ledgerTable = tables.ledger;
    this.#riskTable = tables.risk;
  }

  async freezeForAlert(alert: Pick<AlertRecord, 'alertId' | 'accountId'>, at: string): Promise<FreezeResult> {
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Update: { ...this.#recordOutcome(alert.alertId, 'FROZEN', at), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
            {
              Update: {
                TableName: this.#ledgerTable,
                Key: accountKey(alert.accountId),
                UpdateExpression: 'SET #status = :frozen, frozenByAlertId = :alert',
                // A funding account is the institution's own; freezing it would stop every deposit.
                ConditionExpression: 'attribute_exists(pk) AND #status = :active AND kind = :customer',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':active': { S: 'ACTIVE' },
                  ':frozen': { S: 'FROZEN' },
                  ':alert': { S: alert.alertId },
                  ':customer': { S: 'CUSTOMER' },
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
      return { kind: 'recorded', outcome: 'FROZEN', at };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [alertReason, accountReason] = error.CancellationReasons ?? [];
      if (alertReason?.Code === 'ConditionalCheckFailed') return settled(alertReason.Item, alert.alertId);
      if (accountReason?.Code !== 'ConditionalCheckFailed') throw new FreezeConflictError(`freezing ${alert.accountId} for ${alert.alertId}: ${error.message}`);
      return this.#recordWithoutFreeze(alert.alertId, outcomeFor(accountReason.Item), at);
    }
  }

  /** The account could not be frozen: the alert records why, under the same condition. */
  async #recordWithoutFreeze(alertId: string, outcome: FreezeOutcome, at: string): Promise<FreezeResult> {
    try {
      await this.#client.send(new UpdateItemCommand({ ...this.#recordOutcome(alertId, outcome, at), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return { kind: 'recorded', outcome, at };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return settled(error.Item, alertId);
    }
  }

  #recordOutcome(alertId: string, outcome: FreezeOutcome, at: string) {
    return {
      TableName: this.#riskTable,
      Key: alertKey(alertId),
      UpdateExpression: 'SET freezeOutcome = :outcome, freezeAt = :at',
      ConditionExpression: ALERT_OPEN_AND_UNDECIDED,
      ExpressionAttributeValues: { ':open': { S: 'OPEN' }, ':outcome': { S: outcome }, ':at': { S: at } },
    };
  }
}

/** Why the account was not frozen, from its item as it was. */
function outcomeFor(item: Item | undefined): FreezeOutcome {
  if (item === undefined) return 'ACCOUNT_NOT_FOUND';
  return accountFromItem(item).status === 'FROZEN' ? 'ALREADY_FROZEN' : 'NOT_FREEZABLE';
}

/** The alert's condition failed: it was resolved, or an earlier delivery recorded the outcome. */
function settled(item: Item | undefined, alertId: string): FreezeResult {
  if (item === undefined) throw new CorruptItemError(`alert ${alertId} is not stored; it must be before it is acted on`);
  const stored = alertFromItem(item);
  if (stored.freeze !== undefined) return { kind: 'already-recorded', outcome: stored.freeze.outcome, at: stored.freeze.at };
  return { kind: 'alert-resolved' };
}
