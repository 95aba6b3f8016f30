// API handler: serves every /v1 route behind API Gateway (Lambda proxy integration). It resolves
// the caller (an API client, by its verified request signature; or an IAM-authorised admin in the
// route's role), dispatches to the operation and maps every failure to RFC 9457 problem+json.
// The composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from 'zod';
import { envVar, type ApiOperation } from '../../contract/topology.js';
import { ApiGatewayUsageKeys } from '../adapters/apigateway/usage-keys.js';
import { DynamoClientStore } from '../adapters/dynamodb/client-store.js';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { ClientChannel } from '../core/trust/api-client.js';
import type { UsageKeys } from '../core/trust/usage-keys.js';
import { AuthenticationError, authenticateRequest } from '../core/trust/authenticate.js';
import { canonicalQuery, type SignedRequest } from '../core/trust/http-signature.js';
import { createClient, listClients, revokeClient, rotateClientKey } from './client-operations.js';
import { DynamoIntakeStore } from '../adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore } from '../adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { createDynamoDBClient, createSnsClient } from '../shared/aws-clients.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { DynamoAlertStore } from '../adapters/dynamodb/alert-store.js';
import { getAlert, listAlerts, resolveAlert, unfreezeAccount } from './alert-operations.js';
import {
  closeSettlementWindow,
  confirmSettlement,
  getInstitutionPosition,
  getSettlementWindow,
  listSettlementWindows,
  listWindowsAwaitingConfirmation,
  setInstitutionLimits,
} from './settlement-operations.js';
import { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store.js';
import { header, problemResponse, publicPath, rawBody } from './http.js';
import { depositFunds, getAccount, getInstitutionAccount, getTransaction, openAccount, submitTransaction, type ApiDependencies, type Caller, type OperationInput } from './operations.js';
import { ApiProblem } from './problems.js';
import { matchRoute, type MatchedRoute } from './router.js';

export interface ApiHandlerDependencies extends ApiDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const OPERATIONS: Record<ApiOperation, (input: OperationInput) => Promise<APIGatewayProxyResult>> = {
  submitTransaction,
  getTransaction,
  getAccount,
  getInstitutionAccount,
  openAccount,
  depositFunds,
  createClient,
  listClients,
  rotateClientKey,
  revokeClient,
  unfreezeAccount,
  listAlerts,
  getAlert,
  resolveAlert,
  setInstitutionLimits,
  getInstitutionPosition,
  closeSettlementWindow,
  listSettlementWindows,
  getSettlementWindow,
  listWindowsAwaitingConfirmation,
  confirmSettlement,
};

export function createApiHandler(deps: ApiHandlerDependencies): ApiHandler {
  return async (event) => {
    const now = deps.now?.() ?? new Date();
    try {
      const route = matchRoute(event);
      const caller = await callerOf(event, route, deps, now);
      const result = await OPERATIONS[route.operation]({ event, pathParameters: route.pathParameters, caller, deps, now });
      deps.metrics.addMetric(`${route.operation}Succeeded`, MetricUnit.Count, 1);
      return result;
    } catch (error) {
      return failure(error, event, deps);
    } finally {
      // Nothing is stored when a failure recorded no metric; publishing nothing only warns.
      if (deps.metrics.hasStoredMetrics()) deps.metrics.publishStoredMetrics();
    }
  };
}

/**
 * Who is calling. API Gateway has already enforced the usage-plan key or the IAM signature;
 * the function checks everything again (and the request signature, which only it can check
 * against the body), so a misconfigured deployment cannot turn into an open one.
 */
async function callerOf(event: APIGatewayProxyEvent, route: MatchedRoute, deps: ApiDependencies, now: Date): Promise<Caller> {
  const identity = event.requestContext.identity;
  if (route.auth === 'iam') {
    if (!identity.userArn) throw new ApiProblem('forbidden', 'this route requires IAM-signed admin credentials');
    return { kind: 'admin', actor: { role: route.role, principal: identity.userArn } };
  }
  if (!identity.apiKeyId) throw new ApiProblem('invalid-api-key', "send your client's API key in the x-api-key header");
  let client;
  try {
    client = await authenticateRequest({ request: signedRequestOf(event), body: rawBody(event), now }, deps.clients);
  } catch (error) {
    if (error instanceof AuthenticationError) throw new ApiProblem(error.failure, error.message, {}, error.failure === 'content-digest-mismatch' ? {} : { 'www-authenticate': 'Signature' }, { cause: error });
    throw error;
  }
  // The usage-plan key only meters; it must still be the signing client's own.
  if (client.usageKeyId !== identity.apiKeyId) throw new ApiProblem('invalid-api-key', 'the API key is not the key of the client that signed the request');
  return { kind: 'client', client };
}

/** The request as RFC 9421 sees it: the path the client called (stage prefix included). */
export function signedRequestOf(event: APIGatewayProxyEvent): SignedRequest {
  const parameters: [string, string][] = [];
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) parameters.push([name, value]);
  }
  return {
    method: event.httpMethod,
    path: event.requestContext.path,
    query: canonicalQuery(parameters),
    header: (name) => header(event, name),
  };
}

/**
 * Log keys are passed per call, not appended to the logger: the local runtime serves concurrent
 * requests through one handler instance, and appended keys would leak between them.
 */
function failure(error: unknown, event: APIGatewayProxyEvent, deps: ApiHandlerDependencies): APIGatewayProxyResult {
  const request = { apiRequestId: event.requestContext.requestId, method: event.httpMethod, resource: event.resource };
  if (error instanceof ApiProblem) {
    if (error.status >= 500) deps.logger.error('request failed', { ...request, problem: error.type, error: error.cause ?? error });
    else deps.logger.info('request refused', { ...request, problem: error.type, status: error.status });
    deps.metrics.addMetric(error.status >= 500 ? 'ServerErrors' : 'ClientErrors', MetricUnit.Count, 1);
    return problemResponse(error, publicPath(event, event.path));
  }
  deps.logger.error('unhandled error', { ...request, error: error instanceof Error ? error : String(error) });
  deps.metrics.addMetric('ServerErrors', MetricUnit.Count, 1);
  return problemResponse(
    new ApiProblem('internal-error', `request ${event.requestContext.requestId} failed; retrying is safe (a POST with the same Idempotency-Key)`),
    publicPath(event, event.path),
  );
}

const UsagePlanNames = z.strictObject({ WEB: z.string().min(1), MOBILE: z.string().min(1), POS: z.string().min(1) });

export function usagePlanNamesFromEnv(value: string): Readonly<Record<ClientChannel, string>> {
  return UsagePlanNames.parse(JSON.parse(value));
}

/**
 * Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets.
 * The local runtime passes its own usage keys: there is no API Gateway to create them in.
 */
export function apiHandlerFromEnv(env: Environment, overrides: { readonly usageKeys?: UsageKeys } = {}): ApiHandler {
  const { logger, metrics, clientOptions } = wireFromEnv(env, 'payments-api');
  // Only the SDK clients this handler uses: the others stay out of its bundle.
  const clients = { dynamodb: createDynamoDBClient(clientOptions), sns: createSnsClient(clientOptions) };
  const usageKeys =
    overrides.usageKeys ??
    new ApiGatewayUsageKeys(new APIGatewayClient({}), usagePlanNamesFromEnv(requireEnv(env, envVar.usagePlans)));
  return createApiHandler({
    ledger: new DynamoLedgerStore({ client: clients.dynamodb, tableName: requireEnv(env, envVar.table('ledger')) }),
    intake: new DynamoIntakeStore(clients.dynamodb, requireEnv(env, envVar.table('requests'))),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('transactions'))),
    alerts: new DynamoAlertStore(clients.dynamodb, requireEnv(env, envVar.table('risk'))),
    settlement: {
      store: new DynamoSettlementStore(clients.dynamodb, requireEnv(env, envVar.table('ledger'))),
      publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('settlements'))),
    },
    clients: new DynamoClientStore(clients.dynamodb, requireEnv(env, envVar.table('participants'))),
    usageKeys,
    logger,
    metrics,
  });
}

export const handler: ApiHandler = lazyHandler(apiHandlerFromEnv);
