// The API's ledger operations: submit and read transactions, read, open and fund accounts. Each one
// validates, authorizes (a client acts only for its own institution; an admin change records who
// made it), calls the core through its ports and returns a proxy result; errors are ApiProblems.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { PaymentEvent } from '../core/events/envelope.js';
import { transactionDecided } from '../core/events/transfer-events.js';
import type { EventPublisher } from '../core/events/ports.js';
import type { IntakeStore } from '../core/intake/ports.js';
import { submitTransfer } from '../core/intake/submit-transfer.js';
import { ACCOUNT_ID_PATTERN, fundingAccountId, INSTITUTION_ID_PATTERN, type Account } from '../core/ledger/account.js';
import type { LedgerStore } from '../core/ledger/ports.js';
import type { AlertStore } from '../core/risk/alerts.js';
import type { SettlementStore } from '../core/settlement/ports.js';
import { TRANSFER_ID_PATTERN, transferIdFor, type TransferRequest } from '../core/ledger/transfer.js';
import type { Actor, AuthenticatedClient, ClientStore } from '../core/trust/api-client.js';
import type { UsageKeys } from '../core/trust/usage-keys.js';
import { header, jsonBody, jsonResponse, publicPath } from './http.js';
import { ApiProblem } from './problems.js';
import { accountView, creditorSideView, decidedTransactionView, receivedTransactionView } from './representations.js';
import { DepositBody, idempotencyKeyOf, OpenAccountBody, parseBody, SubmitTransactionBody } from './schemas.js';

export interface ApiDependencies {
  readonly clients: ClientStore;
  readonly usageKeys: UsageKeys;
  readonly ledger: LedgerStore;
  readonly intake: IntakeStore;
  readonly publisher: EventPublisher;
  readonly alerts: AlertStore;
  readonly settlement: { readonly store: SettlementStore; readonly publisher: EventPublisher };
  readonly now?: () => Date;
}

/** Who is calling: an authenticated API client, or a back-office principal in a route's role. */
export type Caller = { readonly kind: 'client'; readonly client: AuthenticatedClient } | { readonly kind: 'admin'; readonly actor: Actor };

export interface OperationInput {
  readonly event: APIGatewayProxyEvent;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly caller: Caller;
  readonly deps: ApiDependencies;
  readonly now: Date;
}

/** The client behind a client route; reaching one without a client is a wiring fault, not a 4xx. */
export function clientOf(caller: Caller): AuthenticatedClient {
  if (caller.kind !== 'client') throw new Error('client route reached without an authenticated client');
  return caller.client;
}

export function actorOf(caller: Caller): Actor {
  if (caller.kind !== 'admin') throw new Error('admin route reached without an admin principal');
  return caller.actor;
}

const RETRY_AFTER_SECONDS = '1';

export async function submitTransaction({ event, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const client = clientOf(caller);
  const idempotencyKey = idempotencyKeyOf(header(event, 'idempotency-key'));
  const body = parseBody(SubmitTransactionBody, jsonBody(event));
  const outcome = await submitTransfer({ ledger: deps.ledger, intake: deps.intake, publisher: deps.publisher }, {
    client: { clientId: client.clientId, institutionId: client.institutionId, channel: client.channel },
    idempotencyKey,
    debtorAccountId: body.debtorAccountId,
    creditorAccountId: body.creditorAccountId,
    amountMinor: body.amount,
    currency: body.currency,
    ...(body.reference !== undefined ? { reference: body.reference } : {}),
    apiRequestId: event.requestContext.requestId,
    now,
  });
  switch (outcome.kind) {
    case 'debtor-not-permitted':
      throw new ApiProblem('debtor-not-permitted', `this client may debit only customer accounts of ${client.institutionId}; ${body.debtorAccountId} is not one`, {
        errors: [{ pointer: '/debtorAccountId', detail: `must be a customer account of ${client.institutionId}` }],
      });
    case 'key-reused':
      throw keyReused(outcome.transferId);
    case 'queue-unavailable':
      throw queueUnavailable(`transaction ${outcome.transferId} was recorded but not queued`, { transactionId: outcome.transferId }, outcome.cause);
    case 'accepted':
      return jsonResponse(
        202,
        { transactionId: outcome.transferId, status: 'RECEIVED' },
        { location: publicPath(event, `/v1/transactions/${outcome.transferId}`), ...(outcome.replayed ? { 'idempotent-replayed': 'true' } : {}) },
      );
  }
}

async function publishOrUnavailable(deps: ApiDependencies, event: PaymentEvent, detail: string): Promise<void> {
  try {
    await deps.publisher.publish(event);
  } catch (error) {
    throw queueUnavailable(detail, 'transactionId' in event.data ? { transactionId: event.data.transactionId } : {}, error);
  }
}

function queueUnavailable(detail: string, extensions: { readonly transactionId?: string }, cause: unknown): ApiProblem {
  return new ApiProblem('queue-unavailable', detail, extensions, { 'retry-after': RETRY_AFTER_SECONDS }, { cause });
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

export async function getTransaction({ pathParameters, caller, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const client = clientOf(caller);
  const transferId = pathId(pathParameters, TRANSFER_ID_PATTERN, 'transaction');
  const decided = await deps.ledger.getTransfer(transferId);
  const intake = decided === undefined ? await deps.intake.get(transferId) : undefined;
  const request = decided ?? intake?.request;
  const side = request === undefined ? undefined : await sideOf(request, client.institutionId, deps.ledger);
  // Another institution's transfer is answered exactly like one that does not exist.
  if (request === undefined || side === undefined) throw new ApiProblem('not-found', `no transaction ${transferId}`);
  const view = decided !== undefined ? decidedTransactionView(decided) : receivedTransactionView(request);
  return jsonResponse(200, side === 'debtor' ? view : creditorSideView(view));
}

/**
 * Which side of the transfer the institution is on: the debtor's (it initiated the transfer, or
 * holds the debited account) or the creditor's; undefined when neither. Accounts never change
 * institution, so reading them now answers for the time of the transfer too.
 */
async function sideOf(request: TransferRequest, institutionId: string, ledger: LedgerStore): Promise<'debtor' | 'creditor' | undefined> {
  if (request.initiatingInstitutionId === institutionId) return 'debtor';
  const [debtor, creditor] = await Promise.all([ledger.getAccount(request.debtorAccountId), ledger.getAccount(request.creditorAccountId)]);
  if (debtor?.institutionId === institutionId) return 'debtor';
  if (creditor?.institutionId === institutionId) return 'creditor';
  return undefined;
}

export async function getAccount({ pathParameters, caller, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const client = clientOf(caller);
  const accountId = pathId(pathParameters, ACCOUNT_ID_PATTERN, 'account');
  const account = await deps.ledger.getAccount(accountId);
  // Another institution's account, and any funding account, is answered like an unknown one.
  if (account === undefined || account.institutionId !== client.institutionId || account.kind !== 'CUSTOMER') {
    throw new ApiProblem('not-found', `no account ${accountId}`);
  }
  return jsonResponse(200, accountView(account));
}

/** The back office reads any account of the institution it names, with who opened and changed it. */
export async function getInstitutionAccount({ pathParameters, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const institutionId = pathId(pathParameters, INSTITUTION_ID_PATTERN, 'institution');
  const accountId = pathParameters.accountId ?? '';
  const account = ACCOUNT_ID_PATTERN.test(accountId) ? await deps.ledger.getAccount(accountId) : undefined;
  if (account === undefined || account.institutionId !== institutionId) throw new ApiProblem('not-found', `no account ${accountId.slice(0, 80)} at ${institutionId}`);
  return jsonResponse(200, accountView(account, 'admin'));
}

export async function openAccount({ event, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const openedBy = actorOf(caller);
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
    openedBy,
    ...(body.creditShards !== undefined ? { creditShards: body.creditShards } : {}),
  };
  // The institution's funding account for this currency comes into being with its first account.
  const { creditShards: _hot, ...plain } = account;
  await deps.ledger.openAccount({
    ...plain,
    accountId: fundingAccountId(account.institutionId, account.currency),
    kind: 'FUNDING',
    overdraftLimitMinor: 0n,
  });
  if (!(await deps.ledger.openAccount(account))) {
    throw new ApiProblem('account-exists', `account ${account.accountId} already exists`);
  }
  // Where the back office that opened it reads it (the client route is for the institution's clients).
  return jsonResponse(201, accountView(account, 'admin'), {
    location: publicPath(event, `/v1/institutions/${account.institutionId}/accounts/${account.accountId}`),
  });
}

export async function depositFunds({ event, pathParameters, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const initiatedBy = actorOf(caller);
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
    initiatedBy,
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
