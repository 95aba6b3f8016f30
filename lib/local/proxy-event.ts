// Builds API Gateway REST (v1) Lambda proxy events: the local gateway makes one per HTTP request,
// and the API tests make them directly. Field for field as API Gateway sends them
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html).
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { matchPathTemplate } from '../../lambdas/api/router.js';

export interface ProxyCaller {
  readonly apiKey: string | null;
  readonly apiKeyId: string | null;
  /** Set for IAM-signed (admin) callers. */
  readonly userArn: string | null;
  readonly sourceIp: string;
  readonly userAgent: string | null;
}

export interface ProxyEventParts {
  readonly method: string;
  /** The path the route was matched on (no stage prefix). */
  readonly path: string;
  /** The matched resource template, e.g. /v1/transactions/{id}. */
  readonly resource: string;
  readonly stage: string;
  /** requestContext.path: what the client called, stage prefix included. */
  readonly requestPath: string;
  /** Single-value headers: the last value of a repeated header, as API Gateway keeps it. */
  readonly headers: Readonly<Record<string, string>>;
  readonly multiValueHeaders: Readonly<Record<string, readonly string[]>>;
  readonly query: URLSearchParams | null;
  readonly body: string | null;
  readonly caller: ProxyCaller;
  readonly protocol?: string;
}

export function buildProxyEvent(parts: ProxyEventParts): APIGatewayProxyEvent {
  const names = parts.query === null ? [] : [...new Set(parts.query.keys())];
  const query = parts.query;
  const pathParameters = matchPathTemplate(parts.resource, parts.path);
  return {
    resource: parts.resource,
    path: parts.path,
    httpMethod: parts.method,
    headers: { ...parts.headers },
    multiValueHeaders: Object.fromEntries(Object.entries(parts.multiValueHeaders).map(([name, values]) => [name, [...values]])),
    queryStringParameters: query === null || names.length === 0 ? null : Object.fromEntries(names.map((name) => [name, query.getAll(name).at(-1) ?? ''])),
    multiValueQueryStringParameters: query === null || names.length === 0 ? null : Object.fromEntries(names.map((name) => [name, query.getAll(name)])),
    pathParameters: pathParameters === undefined || Object.keys(pathParameters).length === 0 ? null : pathParameters,
    stageVariables: null,
    // Text bodies pass as-is, as API Gateway does without binary media types configured.
    body: parts.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: parts.protocol ?? 'HTTP/1.1',
      httpMethod: parts.method,
      path: parts.requestPath,
      stage: parts.stage,
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: parts.resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: parts.caller.apiKey,
        apiKeyId: parts.caller.apiKeyId,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: parts.caller.sourceIp,
        user: null,
        userAgent: parts.caller.userAgent,
        userArn: parts.caller.userArn,
      },
    },
  };
}
