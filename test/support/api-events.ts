// Builds API Gateway REST (v1) proxy events the way API Gateway does for this API, so API tests
// exercise the handler exactly as deployed: resource template, path parameters, identity.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { API_ROUTES } from '../../contract/topology.js';
import { matchPathTemplate } from '../../lambdas/api/router.js';
import { buildProxyEvent } from '../../lib/local/proxy-event.js';
import { localAdminArn } from '../../lib/local/api-server.js';
import { signedHeaders } from '../../lib/cli/request-signer.js';
import type { AdminRole } from '../../lambdas/core/trust/api-client.js';
import type { TestClient } from './api-clients.js';

export interface TestRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object is sent as JSON with content-type application/json unless headers say otherwise. */
  readonly body?: unknown;
  /** The API key id API Gateway resolved from x-api-key (absent: no key or unknown key). */
  readonly apiKeyId?: string;
  /** Set for IAM-signed (admin) calls. */
  readonly userArn?: string;
  /** Signs the request as this API client (RFC 9421) and sends its usage-plan key. */
  readonly as?: TestClient;
  /** When the signature was created. @default now */
  readonly signedAt?: Date;
  /** An IAM principal holding this admin role's policy. */
  readonly role?: AdminRole;
}

/** `request.path` may carry a query string (`/v1/alerts?severity=HIGH`). */
export function proxyEvent(request: TestRequest): APIGatewayProxyEvent {
  const [path = '', search] = request.path.split('?', 2);
  const route = API_ROUTES.find((candidate) => matchPathTemplate(candidate.path, path) !== undefined);
  const body = request.body === undefined ? null : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const idempotencyKey = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === 'idempotency-key')?.[1];
  const signed =
    request.as === undefined
      ? {}
      : signedHeaders(
          {
            method: request.method,
            url: `https://api.test/test${request.path}`,
            ...(body !== null ? { body } : {}),
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          },
          request.as.credentials,
          request.signedAt,
        );
  const headers: Record<string, string> = {
    ...(request.body !== undefined && typeof request.body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
    ...signed,
    ...request.headers,
  };
  return buildProxyEvent({
    method: request.method,
    path,
    resource: route?.path ?? path,
    // A stage prefix, as on the default execute-api URL: Location headers must keep it.
    stage: 'test',
    requestPath: `/test${path}`,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    query: search === undefined ? null : new URLSearchParams(search),
    body,
    caller: {
      apiKey: headers['x-api-key'] ?? null,
      apiKeyId: request.apiKeyId ?? request.as?.usageKeyId ?? null,
      userArn: request.userArn ?? (request.role !== undefined ? localAdminArn(request.role) : null),
      sourceIp: '127.0.0.1',
      userAgent: 'vitest',
    },
  });
}

export function jsonOf(result: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(result.body) as Record<string, unknown>;
}
