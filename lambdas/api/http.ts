// The API Gateway REST (v1) proxy event seen as an HTTP request, and handler results built as
// proxy responses. Header names are case-insensitive; bodies may arrive base64-encoded.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiProblem, PROBLEM_CONTENT_TYPE, problemDocument } from './problems.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

/** The body limit channels are promised (API Gateway itself would allow up to 10 MB). */
export const API_BODY_BYTES_MAX = 262_144;

export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** The body's bytes as the client sent them (what its Content-Digest is over). */
export function rawBody(event: APIGatewayProxyEvent): Buffer {
  const raw = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
}

/**
 * Parses a JSON request body, refusing wrong content types, oversize bodies and bad JSON. The
 * parser is strict: a duplicate member name is refused (no two parsers may read different values
 * from one signed body) and a number that is not a plain integer literal is never rounded.
 */
export function jsonBody(event: APIGatewayProxyEvent): unknown {
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ApiProblem('unsupported-media-type', `Content-Type was ${contentType === undefined ? 'absent' : `'${contentType}'`}`);
  }
  const bytes = rawBody(event);
  if (bytes.byteLength > API_BODY_BYTES_MAX) {
    throw new ApiProblem('payload-too-large', `body is ${bytes.byteLength} bytes; the limit is ${API_BODY_BYTES_MAX}`);
  }
  let text: string;
  try {
    // Invalid UTF-8 is refused, not replaced: a replacement character would be a value the
    // client never signed.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ApiProblem('malformed-json', 'the body is not valid UTF-8', {}, {}, { cause: error });
  }
  try {
    return parseStrictJson(text);
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    if (error.failure === 'duplicate-member') {
      throw new ApiProblem('duplicate-json-member', error.message, { errors: [{ pointer: error.pointer ?? '', detail: 'appears more than once' }] }, {}, { cause: error });
    }
    throw new ApiProblem('malformed-json', error.message, {}, {}, { cause: error });
  }
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: stringifyWithBigInts(body) };
}

export function problemResponse(problem: ApiProblem, instance?: string): APIGatewayProxyResult {
  return {
    statusCode: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...problem.headers },
    body: JSON.stringify(problemDocument(problem, instance)),
  };
}

/**
 * JSON with bigint values written as exact integer literals (balances are unbounded; JSON
 * numbers are not limited to 2^53, only JavaScript's Number is).
 */
export function stringifyWithBigInts(value: unknown): string {
  const marker = `__bigint_${Math.random().toString(36).slice(2)}__`;
  const json = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? `${marker}${item.toString()}` : item));
  return json.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

/**
 * The path a client used to reach `path`: on the default execute-api URL requestContext.path
 * carries the stage prefix (`/dev/v1/...`) that event.path lacks, and a Location or instance
 * without it would point at the wrong place.
 */
export function publicPath(event: APIGatewayProxyEvent, path: string): string {
  const seen = event.requestContext.path;
  const prefix = seen.endsWith(event.path) ? seen.slice(0, seen.length - event.path.length) : '';
  return `${prefix}${path}`;
}
