// The API's risk operations: list and read alerts, resolve one (admin), unfreeze an account an
// alert froze (admin). Validation and outcomes map to problem types like every other operation.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ACCOUNT_ID_PATTERN } from '../core/ledger/account.js';
import { ALERT_ID_PATTERN, InvalidCursorError } from '../core/risk/alerts.js';
import { jsonBody, jsonResponse, publicPath } from './http.js';
import type { OperationInput } from './operations.js';
import { actorOf, pathId } from './operations.js';
import { ApiProblem } from './problems.js';
import { accountView, alertView } from './representations.js';
import { ALERT_PAGE_SIZE_DEFAULT, ListAlertsQuery, parseBody, parseQuery, ResolveAlertBody } from './schemas.js';

export async function listAlerts({ event, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const query = parseQuery(ListAlertsQuery, event.queryStringParameters);
  try {
    const page = await deps.alerts.listAlerts({
      ...(query.accountId !== undefined ? { accountId: query.accountId } : {}),
      ...(query.severity !== undefined ? { severity: query.severity } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      limit: query.limit ?? ALERT_PAGE_SIZE_DEFAULT,
    });
    return jsonResponse(200, {
      alerts: page.alerts.map(alertView),
      ...(page.cursor !== undefined ? { next: publicPath(event, `/v1/alerts?${nextQuery(query, page.cursor)}`), cursor: page.cursor } : {}),
    });
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw new ApiProblem('invalid-query', error.message, { errors: [{ pointer: '/cursor', detail: error.message }] });
    }
    throw error;
  }
}

function nextQuery(query: Readonly<Record<string, string | number | undefined>>, cursor: string): string {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && name !== 'cursor') parameters.set(name, String(value));
  parameters.set('cursor', cursor);
  return parameters.toString();
}

export async function getAlert({ pathParameters, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const alertId = pathId(pathParameters, ALERT_ID_PATTERN, 'alert');
  const alert = await deps.alerts.getAlert(alertId);
  if (alert === undefined) throw new ApiProblem('not-found', `no alert ${alertId}`);
  return jsonResponse(200, alertView(alert));
}

export async function resolveAlert({ event, pathParameters, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const resolvedBy = actorOf(caller);
  const body = parseBody(ResolveAlertBody, jsonBody(event));
  const alertId = pathId(pathParameters, ALERT_ID_PATTERN, 'alert');
  const result = await deps.alerts.resolveAlert(alertId, { resolution: body.resolution, note: body.note, resolvedAt: now.toISOString(), resolvedBy });
  switch (result.kind) {
    case 'not-found':
      throw new ApiProblem('not-found', `no alert ${alertId}`);
    case 'conflict':
      throw new ApiProblem('alert-already-resolved', `alert ${alertId} was resolved as ${result.alert.resolution?.resolution ?? 'unknown'} at ${result.alert.resolution?.resolvedAt ?? 'an unknown time'}`);
    case 'replayed':
      return jsonResponse(200, alertView(result.alert), { 'idempotent-replayed': 'true' });
    case 'resolved':
      return jsonResponse(200, alertView(result.alert));
  }
}

export async function unfreezeAccount({ pathParameters, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const by = actorOf(caller);
  const accountId = pathId(pathParameters, ACCOUNT_ID_PATTERN, 'account');
  const change = await deps.ledger.unfreezeAccount(accountId, by, now.toISOString());
  if (change === 'not-found') throw new ApiProblem('not-found', `no account ${accountId}`);
  const account = await deps.ledger.getAccount(accountId);
  if (account === undefined) throw new ApiProblem('not-found', `no account ${accountId}`);
  if (change === 'conflict') throw new ApiProblem('account-state-conflict', `account ${accountId} is ${account.status}; only a FROZEN account can be unfrozen`);
  return jsonResponse(200, accountView(account, 'admin'), change === 'unchanged' ? { 'idempotent-replayed': 'true' } : {});
}
