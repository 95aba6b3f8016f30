// The API's ledger operations: submit and read transactions, read, open and fund accounts. Each one
// validates, calls the core through its ports and returns a proxy result; errors are ApiProblems.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { PaymentEvent } from '../core/events/envelope.js';
import { transactionDecided, transactionRequested } from '../core/events/transfer-events.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { IntakeStore, TransferIntake } from '../core/intake/ports.js';
import { ACCOUNT_ID_PATTERN, fundingAccountId, type Account } from '../core/ledger/account.js';
import type { LedgerStore } from '../core/ledger/ports.js';
import type { AlertStore } from '../core/risk/alerts.js';
import type { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store.js';
import { TRANSFER_ID_PATTERN, transferContentHash, transferIdFor, type TransferChannel, type TransferRequest } from '../core/ledger/transfer.js';
import { header, jsonBody, jsonResponse, publicPath } from './http.js';
import { ApiProblem } from './problems.js';
import { accountView, decidedTransactionView, receivedTransactionView } from './representations.js';
import { DepositBody, idempotencyKeyOf, OpenAccountBody, parseBody, SubmitTransactionBody } from './schemas.js';

export interface ApiDependencies {
  readonly ledger: LedgerStore;
  readonly intake: IntakeStore;
  readonly publisher: EventPublisher;
  readonly alerts: AlertStore;
  readonly settlement: { readonly store: DynamoSettlementStore; readonly publisher: EventPublisher };
  readonly now?: () => Date;
}

export interface OperationInput {
  readonly event: APIGatewayProxyEvent;
  readonly pathParameters: Readonly<Record<string, string>>;
  /** The channel the caller's API key belongs to; ADMIN on IAM-authorised routes. */
  readonly channel: TransferChannel;
  readonly deps: ApiDependencies;
  readonly now: Date;
}

const RETRY_AFTER_SECONDS = '1';

export async function submitTransaction({ event, channel, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const idempotencyKey = idempotencyKeyOf(header(event, 'idempotency-key'));
  const body = parseBody(SubmitTransactionBody, jsonBody(event));
  const transferId = transferIdFor(channel, idempotencyKey);
  const request: TransferRequest = {
    transferId,
    debtorAccountId: body.debtorAccountId,
    creditorAccountId: body.creditorAccountId,
    amountMinor: body.amount,
    currency: body.currency,
    channel,
    ...(body.reference !== undefined ? { reference: body.reference } : {}),
    requestedAt: now.toISOString(),
  };
  const contentHash = transferContentHash(request);
  const intake: TransferIntake = {
    request,
    idempotencyKey,
    contentHash,
    apiRequestId: event.requestContext.requestId,
    acceptedAt: now.toISOString(),
  };
  // Two questions in one round trip of latency: is the key already claimed (the conditional
  // intake write), and was this transfer decided long ago (the ledger outlives intake records,
  // which expire through TTL, so a key reused after that is still caught)?
  const [recorded, decided] = await Promise.all([deps.intake.recordAccepted(intake), deps.ledger.getTransfer(transferId)]);
  const current = recorded.created ? intake : recorded.existing;
  if (current.contentHash !== contentHash || (decided !== undefined && decided.contentHash !== contentHash)) {
    // A claim just made for a body the ledger contradicts must not linger as an accepted request.
    if (recorded.created) await deps.intake.discard(transferId, contentHash);
    throw keyReused(transferId);
  }
  // Not decided yet: (re)publish. A replay's publish is absorbed by the topic's deduplication
  // within five minutes and by the ledger's idempotency after that; and if the first publish was
  // lost, the replay is what queues the request.
  if (decided === undefined) await queue(current, deps);
  return jsonResponse(
    202,
    { transactionId: transferId, status: 'RECEIVED' },
    { location: publicPath(event, `/v1/transactions/${transferId}`), ...(recorded.created ? {} : { 'idempotent-replayed': 'true' }) },
  );
}

/** Publishes TransactionRequested; only once the topic has it is the request durably queued. */
async function queue(intake: TransferIntake, deps: ApiDependencies): Promise<void> {
  const event = transactionRequested(intake.request, { causationId: intake.apiRequestId, occurredAt: intake.acceptedAt });
  // On failure the intake record stays: a retry with the same key publishes again (deduplicated
  // by event id), and the recovery sweep re-queues it if the client never retries.
  await publishOrUnavailable(deps, event, `transaction ${intake.request.transferId} was recorded but not queued`);
}

async function publishOrUnavailable(deps: ApiDependencies, event: PaymentEvent, detail: string): Promise<void> {
  try {
    await deps.publisher.publish(event);
  } catch (error) {
    const transactionId = 'transactionId' in event.data ? { transactionId: event.data.transactionId } : {};
    throw new ApiProblem('queue-unavailable', detail, transactionId, { 'retry-after': RETRY_AFTER_SECONDS }, { cause: error });
  }
}

function keyReused(transferId: string): ApiProblem {
  return new ApiProblem('idempotency-key-reused', 'this Idempotency-Key was already used with a different request body', {
    transactionId: transferId,
  });
}

/**
 * A path id that cannot exist is simply not found: checking its shape first also keeps an
 * oversized or malformed id from ever reaching DynamoDB (which would refuse the key with a 500).
 */
export function pathId(pathParameters: Readonly<Record<string, string>>, pattern: RegExp, noun: string): string {
  const id = pathParameters.id ?? '';
  if (!pattern.test(id)) throw new ApiProblem('not-found', `no ${noun} ${id.slice(0, 80)}`);
  return id;
}

export async function getTransaction({ pathParameters, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const transferId = pathId(pathParameters, TRANSFER_ID_PATTERN, 'transaction');
  const decided = await deps.ledger.getTransfer(transferId);
  if (decided !== undefined) return jsonResponse(200, decidedTransactionView(decided));
  const intake = await deps.intake.get(transferId);
  if (intake !== undefined) return jsonResponse(200, receivedTransactionView(intake));
  throw new ApiProblem('not-found', `no transaction ${transferId}`);
}

export async function getAccount({ pathParameters, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const accountId = pathId(pathParameters, ACCOUNT_ID_PATTERN, 'account');
  const account = await deps.ledger.getAccount(accountId);
  if (account === undefined) throw new ApiProblem('not-found', `no account ${accountId}`);
  return jsonResponse(200, accountView(account));
}

export async function openAccount({ event, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const body = parseBody(OpenAccountBody, jsonBody(event));
  const account: Account = {
    accountId: body.accountId ?? `acc-${randomUUID()}`,
    institutionId: body.institutionId,
    currency: body.currency,
    kind: 'CUSTOMER',
    status: 'ACTIVE',
    balanceMinor: 0n,
    overdraftLimitMinor: BigInt(body.overdraftLimit ?? 0),
    openedAt: now.toISOString(),
  };
  // The institution's funding account for this currency comes into being with its first account.
  await deps.ledger.openAccount({
    ...account,
    accountId: fundingAccountId(account.institutionId, account.currency),
    kind: 'FUNDING',
    overdraftLimitMinor: 0n,
  });
  if (!(await deps.ledger.openAccount(account))) {
    throw new ApiProblem('account-exists', `account ${account.accountId} already exists`);
  }
  return jsonResponse(201, accountView(account), { location: publicPath(event, `/v1/accounts/${account.accountId}`) });
}

export async function depositFunds({ event, pathParameters, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const idempotencyKey = idempotencyKeyOf(header(event, 'idempotency-key'));
  const body = parseBody(DepositBody, jsonBody(event));
  const accountId = pathId(pathParameters, ACCOUNT_ID_PATTERN, 'account');
  const account = await deps.ledger.getAccount(accountId);
  if (account === undefined) throw new ApiProblem('not-found', `no account ${accountId}`);
  if (account.kind === 'FUNDING') {
    throw new ApiProblem('validation-failed', `account ${accountId} is a funding account: deposits are drawn from it, not paid into it`, {
      errors: [{ pointer: '', detail: 'deposits go to customer accounts' }],
    });
  }
  if (account.currency !== body.currency) {
    throw new ApiProblem('validation-failed', `account ${accountId} holds ${account.currency}`, {
      errors: [{ pointer: '/currency', detail: `must be ${account.currency}, the account's currency` }],
    });
  }
  const request: TransferRequest = {
    transferId: transferIdFor('ADMIN', idempotencyKey),
    debtorAccountId: fundingAccountId(account.institutionId, account.currency),
    creditorAccountId: accountId,
    amountMinor: body.amount,
    currency: body.currency,
    channel: 'ADMIN',
    ...(body.reference !== undefined ? { reference: body.reference } : {}),
    requestedAt: now.toISOString(),
  };
  const result = await deps.ledger.postTransfer(request);
  if (result.kind === 'modified') throw keyReused(request.transferId);
  const { transfer } = result;
  // Deposits skip the posting queue but not the event stream: downstream sees every posting.
  const outcome = transactionDecided(transfer, { causationId: event.requestContext.requestId, occurredAt: now.toISOString() });
  await publishOrUnavailable(deps, outcome, `deposit ${transfer.transferId} was decided but its event was not published`);
  if (transfer.status === 'REJECTED') {
    throw new ApiProblem('transfer-rejected', `deposit rejected: ${transfer.rejectionReason}`, {
      transactionId: transfer.transferId,
      ...(transfer.rejectionReason !== undefined ? { rejectionReason: transfer.rejectionReason } : {}),
    });
  }
  return jsonResponse(201, decidedTransactionView(transfer), {
    location: publicPath(event, `/v1/transactions/${transfer.transferId}`),
    ...(result.kind === 'duplicate' ? { 'idempotent-replayed': 'true' } : {}),
  });
}
