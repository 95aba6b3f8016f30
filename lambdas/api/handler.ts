// API handler: serves every /v1 route behind API Gateway (Lambda proxy integration). It resolves
// the caller (channel from its API key, or an IAM-authorised admin), dispatches to the operation
// and maps every failure to RFC 9457 problem+json. The composition root is at the end.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { CHANNELS, envVar, type ApiOperation, type Channel } from '../../lib/topology.js';
import { DynamoIntakeStore } from '../adapters/dynamodb/intake-store.js';
import { DynamoLedgerStore } from '../adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../adapters/sns/event-publisher.js';
import type { TransferChannel } from '../core/ledger/transfer.js';
import { requireEnv, type Environment } from '../shared/env.js';
import { lazyHandler, wireFromEnv } from '../shared/wiring.js';
import { DynamoAlertStore } from '../adapters/dynamodb/alert-store.js';
import { getAlert, listAlerts, resolveAlert, unfreezeAccount } from './alert-operations.js';
import { closeSettlementWindow, getInstitutionPosition, getSettlementWindow, listSettlementWindows, setInstitutionLimits } from './settlement-operations.js';
import { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store.js';
import { header, problemResponse, publicPath } from './http.js';
import { depositFunds, getAccount, getTransaction, openAccount, submitTransaction, type ApiDependencies, type OperationInput } from './operations.js';
import { ApiProblem } from './problems.js';
import { matchRoute, type MatchedRoute } from './router.js';

export interface ApiHandlerDependencies extends ApiDependencies {
  /** API Gateway API key id -> channel, from the keys CDK created (or the local runtime's). */
  readonly channelsByApiKeyId: ReadonlyMap<string, Channel>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const OPERATIONS: Record<ApiOperation, (input: OperationInput) => Promise<APIGatewayProxyResult>> = {
  submitTransaction,
  getTransaction,
  getAccount,
  openAccount,
  depositFunds,
  unfreezeAccount,
  listAlerts,
  getAlert,
  resolveAlert,
  setInstitutionLimits,
  getInstitutionPosition,
  closeSettlementWindow,
  listSettlementWindows,
  getSettlementWindow,
};

export function createApiHandler(deps: ApiHandlerDependencies): ApiHandler {
  return async (event) => {
    const now = deps.now?.() ?? new Date();
    try {
      const route = matchRoute(event);
      const channel = callerChannel(event, route, deps.channelsByApiKeyId);
      const result = await OPERATIONS[route.operation]({ event, pathParameters: route.pathParameters, channel, deps, now });
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
 * Who is calling. API Gateway has already enforced the API key (usage plan) or IAM signature;
 * checking again here keeps a misconfigured deployment from turning into an open one.
 */
function callerChannel(event: APIGatewayProxyEvent, route: MatchedRoute, channels: ReadonlyMap<string, Channel>): TransferChannel {
  const identity = event.requestContext.identity;
  if (route.auth === 'iam') {
    if (!identity.userArn) throw new ApiProblem('forbidden', 'this route requires IAM-signed admin credentials');
    return 'ADMIN';
  }
  if (header(event, 'x-api-key') === undefined) throw new ApiProblem('missing-api-key', 'send your channel API key in the x-api-key header');
  const channel = identity.apiKeyId ? channels.get(identity.apiKeyId) : undefined;
  if (channel === undefined) throw new ApiProblem('invalid-api-key', 'the API key is not a channel key');
  return channel;
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

const ChannelApiKeyIds = z.record(z.enum(CHANNELS), z.string().min(1));

export function channelsFromEnv(value: string): ReadonlyMap<string, Channel> {
  const byChannel = ChannelApiKeyIds.parse(JSON.parse(value));
  return new Map(Object.entries(byChannel).map(([channel, keyId]) => [keyId, channel as Channel]));
}

/** Composition root: wires the handler to AWS from the environment CDK (or the local runtime) sets. */
export function apiHandlerFromEnv(env: Environment): ApiHandler {
  const { logger, metrics, clients } = wireFromEnv(env, 'payments-api');
  return createApiHandler({
    ledger: new DynamoLedgerStore({ client: clients.dynamodb, tableName: requireEnv(env, envVar.table('ledger')) }),
    intake: new DynamoIntakeStore(clients.dynamodb, requireEnv(env, envVar.table('requests'))),
    publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('transactions'))),
    alerts: new DynamoAlertStore(clients.dynamodb, requireEnv(env, envVar.table('risk'))),
    settlement: {
      store: new DynamoSettlementStore(clients.dynamodb, requireEnv(env, envVar.table('ledger'))),
      publisher: new SnsEventPublisher(clients.sns, requireEnv(env, envVar.topic('settlements'))),
    },
    channelsByApiKeyId: channelsFromEnv(requireEnv(env, envVar.channelApiKeys)),
    logger,
    metrics,
  });
}

export const handler: ApiHandler = lazyHandler(apiHandlerFromEnv);
