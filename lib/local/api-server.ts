// The local API Gateway: an HTTP server that turns each request into a REST (v1) proxy event,
// enforces what the gateway enforces on AWS (each API client's usage-plan key and its throttle on
// client routes, a role's admin credentials on IAM routes, unknown routes and methods, malformed
// HTTP), invokes the api handler and writes its result back. The request signature is the api
// handler's to check, as on AWS.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { jsonResponse, problemResponse } from '../../lambdas/api/http.js';
import { ApiProblem } from '../../lambdas/api/problems.js';
import { routesForPath } from '../../lambdas/api/router.js';
import { buildProxyEvent } from './proxy-event.js';
import { type ApiRouteSpec } from '../../contract/topology.js';
import type { AdminRole } from '../../lambdas/core/trust/api-client.js';
import { createLambdaContext } from './lambda-context.js';
import { answerProtocolErrors, missingHostProblem, PROTOCOL_SERVER_OPTIONS } from './protocol-errors.js';
import type { LocalUsageKeys } from './usage-keys.js';

/** API Gateway's own payload limit; the handler applies the API's tighter 256 KiB contract. */
export const GATEWAY_PAYLOAD_BYTES_MAX = 10 * 1024 * 1024;
export const ADMIN_KEY_HEADER = 'x-admin-key';
/** How long a stop waits for requests in progress. */
const STOP_GRACE_MS = 5_000;
/** The principal a local role key stands for, as IAM would name a user holding that role's policy. */
export const localAdminArn = (role: AdminRole): string => `arn:aws:iam::000000000000:user/local-${role}`;

export interface ApiServerOptions {
  readonly handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  /** The API clients' usage-plan keys (x-api-key) and their throttle. */
  readonly usageKeys: LocalUsageKeys;
  /** Stand in for IAM SigV4 locally, one per admin role: sent in the x-admin-key header. */
  readonly adminKeys: Readonly<Record<AdminRole, string>>;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /**
   * Local-only admin GET routes (path -> JSON body), outside the API's contract: what the local
   * world offers instead of AWS consoles (the operations notifications, for one).
   */
  readonly localRoutes?: ReadonlyMap<string, () => unknown>;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export interface RunningApiServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const server: Server = createServer({ ...PROTOCOL_SERVER_OPTIONS }, (request, response) => {
    serve(request, options)
      .then((result) => write(response, result))
      .catch((error: unknown) => {
        write(response, problemResponse(new ApiProblem('internal-error', `local gateway failure: ${String(error)}`), request.url ?? '/'));
      });
  });
  answerProtocolErrors(server);
  // Keep-alive sockets would hold stop() open; callers are short-lived tools and tests.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    // Stop accepting, let requests in progress get their answer (a 202 must reach its client),
    // drop idle keep-alive sockets; whatever is still open after the bound is cut.
    stop: () =>
      new Promise((resolve) => {
        const cutoff = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
        server.close(() => {
          clearTimeout(cutoff);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

async function serve(request: IncomingMessage, options: ApiServerOptions): Promise<APIGatewayProxyResult> {
  const hostProblem = missingHostProblem(request);
  if (hostProblem !== undefined) return problemResponse(hostProblem);
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';
  const local = options.localRoutes?.get(url.pathname);
  if (local !== undefined) return serveLocal(request, url.pathname, local, options.adminKeys);
  const candidates = routesForPath(url.pathname);
  if (candidates.length === 0) return problemResponse(new ApiProblem('not-found', `no resource at ${url.pathname}`), url.pathname);
  const route: ApiRouteSpec | undefined = candidates.find((candidate) => candidate.method === method);
  if (route === undefined) {
    const allowed = candidates.map((candidate) => candidate.method);
    return problemResponse(new ApiProblem('method-not-allowed', `${method} is not supported on ${url.pathname}`, { allowedMethods: allowed }, { allow: allowed.join(', ') }), url.pathname);
  }
  const body = await readBody(request);
  if (body === 'too-large') return problemResponse(new ApiProblem('payload-too-large', `body exceeds ${GATEWAY_PAYLOAD_BYTES_MAX} bytes`), url.pathname);
  const headers = singleHeaders(request);
  let identity: { apiKey: string | null; apiKeyId: string | null; userArn: string | null };
  if (route.auth === 'client') {
    // As API Gateway does with usage plans: a missing key and an unknown or disabled one all get
    // 403 before the function runs; a key over its plan's throttle gets 429.
    const value = headers['x-api-key'];
    const key = options.usageKeys.resolve(value);
    if (key === undefined || value === undefined) {
      return problemResponse(new ApiProblem('invalid-api-key', "the x-api-key header is missing or not an enabled API client's key"), url.pathname);
    }
    const retryAfterSeconds = options.usageKeys.throttle(key.id);
    if (retryAfterSeconds !== undefined) {
      return problemResponse(
        new ApiProblem('too-many-requests', "this client is over its usage plan's rate; other clients are not affected", {}, { 'retry-after': String(retryAfterSeconds) }),
        url.pathname,
      );
    }
    identity = { apiKey: value, apiKeyId: key.id, userArn: null };
  } else if (!secretEquals(headers[ADMIN_KEY_HEADER], options.adminKeys[route.role])) {
    return problemResponse(
      new ApiProblem('forbidden', `this route belongs to the ${route.role} admin role: send that role's key in the ${ADMIN_KEY_HEADER} header (its IAM policy on AWS)`),
      url.pathname,
    );
  } else {
    identity = { apiKey: null, apiKeyId: null, userArn: localAdminArn(route.role) };
  }
  const event = buildProxyEvent({
    method: route.method,
    path: url.pathname,
    resource: route.path,
    stage: 'local',
    requestPath: url.pathname,
    headers,
    multiValueHeaders: multiValueHeaders(request),
    query: url.searchParams,
    body: body.byteLength === 0 ? null : body.toString('utf8'),
    caller: { ...identity, sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: request.headers['user-agent'] ?? null },
    protocol: `HTTP/${request.httpVersion}`,
  });
  const context = createLambdaContext({ functionName: 'local-api', timeoutSeconds: options.timeoutSeconds, memorySizeMb: options.memorySizeMb });
  return options.handler(event, context);
}

/** As API Gateway builds them: `headers` keeps the last value of a repeated header. */
function singleHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    const last = values?.at(-1);
    if (last !== undefined) headers[name] = last;
  }
  return headers;
}

/** Local routes show operations notifications, which carry alert contents: the risk role's. */
function serveLocal(request: IncomingMessage, path: string, body: () => unknown, adminKeys: Readonly<Record<AdminRole, string>>): APIGatewayProxyResult {
  if (request.method !== 'GET') {
    return problemResponse(new ApiProblem('method-not-allowed', `${request.method ?? '?'} is not supported on ${path}`, { allowedMethods: ['GET'] }, { allow: 'GET' }), path);
  }
  if (!secretEquals(singleHeaders(request)[ADMIN_KEY_HEADER], adminKeys.risk)) {
    return problemResponse(new ApiProblem('forbidden', `local routes need the risk role's key in the ${ADMIN_KEY_HEADER} header`), path);
  }
  return jsonResponse(200, body());
}

/**
 * Compares a presented secret with the expected one in time that depends on neither: both are
 * hashed first, so even their lengths stay hidden.
 */
export function secretEquals(presented: string | undefined, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented ?? ''), digest(expected)) && presented !== undefined;
}

function multiValueHeaders(request: IncomingMessage): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values !== undefined) headers[name] = values;
  }
  return headers;
}

async function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    bytes += buffer.byteLength;
    if (bytes > GATEWAY_PAYLOAD_BYTES_MAX) return 'too-large';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function write(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  const body = result.isBase64Encoded === true ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  response.writeHead(result.statusCode, { ...headers, 'content-length': String(body.byteLength) });
  response.end(body);
}
