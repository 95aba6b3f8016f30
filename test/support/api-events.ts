// Builds API Gateway REST (v1) proxy events the way API Gateway does for this API, so API tests
// exercise the handler exactly as deployed: resource template, path parameters, identity.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { API_ROUTES } from '../../lib/topology.js';
import { matchPathTemplate } from '../../lambdas/api/router.js';

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
}

export function proxyEvent(request: TestRequest): APIGatewayProxyEvent {
  const route = API_ROUTES.find((candidate) => matchPathTemplate(candidate.path, request.path) !== undefined);
  const body = request.body === undefined ? null : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const headers: Record<string, string> = {
    ...(request.body !== undefined && typeof request.body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
    ...request.headers,
  };
  const matched = route === undefined ? undefined : matchPathTemplate(route.path, request.path);
  const pathParameters = matched === undefined || Object.keys(matched).length === 0 ? null : matched;
  return {
    resource: route?.path ?? request.path,
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method,
      path: `/test${request.path}`,
      stage: 'test',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route?.path ?? request.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: request.headers?.['x-api-key'] ?? null,
        apiKeyId: request.apiKeyId ?? null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'vitest',
        userArn: request.userArn ?? null,
      },
    },
  };
}

export function jsonOf(result: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(result.body) as Record<string, unknown>;
}
