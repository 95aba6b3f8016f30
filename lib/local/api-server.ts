// The local API Gateway: an HTTP server that turns each request into a REST (v1) proxy event,
// enforces what the gateway enforces on AWS (channel API keys on key routes, admin credentials on
// IAM routes, unknown routes and methods), invokes the api handler and writes its result back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { jsonResponse, problemResponse } from '../../lambdas/api/http.js';
import { ApiProblem } from '../../lambdas/api/problems.js';
import { routesForPath } from '../../lambdas/api/router.js';
import { buildProxyEvent } from './proxy-event.js';
import { type ApiRouteSpec, type Channel } from '../topology.js';
import { createLambdaContext } from './lambda-context.js';

/** API Gateway's own payload limit; the handler applies the API's tighter 256 KiB contract. */
export const GATEWAY_PAYLOAD_BYTES_MAX = 10 * 1024 * 1024;
export const ADMIN_KEY_HEADER = 'x-admin-key';
/** How long a stop waits for requests in progress. */
const STOP_GRACE_MS = 5_000;
const LOCAL_ADMIN_ARN = 'arn:aws:iam::000000000000:user/local-admin';

export interface LocalApiKey {
  readonly channel: Channel;
  /** What callers send in x-api-key. */
  readonly value: string;
  /** What API Gateway hands the function as identity.apiKeyId. */
  readonly id: string;
}

export interface ApiServerOptions {
  readonly handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  readonly apiKeys: readonly LocalApiKey[];
  /** Stands in for IAM SigV4 locally: sent in the x-admin-key header. */
  readonly adminKey: string;
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
  const keysByValue = new Map(options.apiKeys.map((key) => [key.value, key]));
  const server: Server = createServer((request, response) => {
    serve(request, options, keysByValue)
      .then((result) => write(response, result))
      .catch((error: unknown) => {
        write(response, problemResponse(new ApiProblem('internal-error', `local gateway failure: ${String(error)}`), request.url ?? '/'));
      });
  });
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

async function serve(request: IncomingMessage, options: ApiServerOptions, keys: ReadonlyMap<string, LocalApiKey>): Promise<APIGatewayProxyResult> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';
  const local = options.localRoutes?.get(url.pathname);
  if (local !== undefined) return serveLocal(request, url.pathname, local, options.adminKey);
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
  let identity: { apiKey: string | null; apiKeyId: string | null; userArn: string | null } = { apiKey: null, apiKeyId: null, userArn: null };
  if (route.auth === 'apiKey') {
    // As API Gateway does with usage plans: a missing key and an unknown one both get 403 before
    // the function runs (the handler's own 401 is reachable only by invoking it directly).
    const key = keys.get(headers['x-api-key'] ?? '');
    if (key === undefined) {
      return problemResponse(new ApiProblem('invalid-api-key', 'the x-api-key header is missing or not the key of an active channel'), url.pathname);
    }
    const value = key.value;
    identity = { apiKey: value, apiKeyId: key.id, userArn: null };
  } else if (headers[ADMIN_KEY_HEADER] !== options.adminKey) {
    return problemResponse(new ApiProblem('forbidden', `admin routes need the admin key in the ${ADMIN_KEY_HEADER} header (IAM SigV4 on AWS)`), url.pathname);
  } else {
    identity = { apiKey: null, apiKeyId: null, userArn: LOCAL_ADMIN_ARN };
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

function serveLocal(request: IncomingMessage, path: string, body: () => unknown, adminKey: string): APIGatewayProxyResult {
  if (request.method !== 'GET') {
    return problemResponse(new ApiProblem('method-not-allowed', `${request.method ?? '?'} is not supported on ${path}`, { allowedMethods: ['GET'] }, { allow: 'GET' }), path);
  }
  if (singleHeaders(request)[ADMIN_KEY_HEADER] !== adminKey) {
    return problemResponse(new ApiProblem('forbidden', `local routes need the admin key in the ${ADMIN_KEY_HEADER} header`), path);
  }
  return jsonResponse(200, body());
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
