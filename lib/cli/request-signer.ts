// Signs a channel request as an API client must: Content-Digest (RFC 9530) over the body, and an
// RFC 9421 Ed25519 signature over the method, the path as called, the query, the Idempotency-Key
// and the Content-Digest, created now. Used by the CLI (`payments sign` prints the headers for
// curl), simulate and the end-to-end tests; the api handler verifies exactly this.
import { createPrivateKey } from 'node:crypto';
import { canonicalQuery, contentDigest, signRequest } from '../../lambdas/core/trust/http-signature.js';
import type { ClientCredentials } from '../local/credentials.js';

export interface RequestToSign {
  readonly method: string;
  /** The full URL the request goes to (its path includes any stage prefix). */
  readonly url: string;
  /** The body exactly as it will be sent; absent for a request without one. */
  readonly body?: string;
  readonly idempotencyKey?: string;
}

/**
 * The URL with its query in the canonical form the verifier rebuilds from API Gateway's
 * multiValueQueryStringParameters: each name and value through encodeURIComponent, repeated
 * names grouped at their first appearance (`a=1&b=2&a=3` is sent as `a=1&a=3&b=2`), so what was
 * signed is what the server sees.
 */
export function canonicalUrl(url: string): URL {
  const parsed = new URL(url);
  const grouped = new Map<string, string[]>();
  for (const [name, value] of parsed.searchParams.entries()) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const query = canonicalQuery([...grouped].flatMap(([name, values]) => values.map((value): [string, string] => [name, value])));
  parsed.search = query === '?' ? '' : query;
  return parsed;
}

/** The headers that authenticate the request: x-api-key, Content-Digest, Signature-Input, Signature. */
export function signedHeaders(request: RequestToSign, credentials: ClientCredentials, now: Date = new Date()): Record<string, string> {
  const url = canonicalUrl(request.url);
  const headers: Record<string, string> = { 'x-api-key': credentials.apiKey };
  if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
  const method = request.method.toUpperCase();
  if (request.body !== undefined || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    headers['content-digest'] = contentDigest(Buffer.from(request.body ?? '', 'utf8'));
  }
  const signature = signRequest(
    { method, path: url.pathname, query: canonicalQuery([...url.searchParams.entries()]), header: (name) => headers[name.toLowerCase()] },
    { keyId: credentials.keyId, privateKey: createPrivateKey(credentials.privateKey) },
    Math.floor(now.getTime() / 1000),
  );
  return { ...headers, ...signature };
}
