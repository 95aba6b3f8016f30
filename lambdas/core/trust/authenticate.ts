// Authenticates a channel request: its RFC 9421 signature names a key of an ACTIVE client, covers
// what it must, is inside the clock window and verifies; its body matches its Content-Digest.
// The institution and channel of the request come from the client found here, never the body.
import { KEY_ID_PATTERN, publicKeyObject, verificationKey, type AuthenticatedClient, type ClientStore } from './api-client.js';
import { checkSignatureParameters, parseSignature, SignatureError, verifyContentDigest, verifySignatureBytes, type SignedRequest } from './http-signature.js';

export type AuthenticationFailure = 'signature-required' | 'invalid-signature' | 'signature-expired' | 'content-digest-mismatch';

export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  readonly failure: AuthenticationFailure;
  constructor(failure: AuthenticationFailure, detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.failure = failure;
  }
}

export interface AuthenticationInput {
  readonly request: SignedRequest;
  /** The raw body bytes; undefined when the caller cannot see the body (nothing to digest-check). */
  readonly body: Uint8Array | undefined;
  readonly now: Date;
}

/**
 * One refusal per cause a client can act on. An unknown key, a revoked client and a bad signature
 * all answer the same 401 kind: a stranger learns nothing about which client ids exist.
 */
export async function authenticateRequest(input: AuthenticationInput, clients: ClientStore): Promise<AuthenticatedClient> {
  const nowSeconds = Math.floor(input.now.getTime() / 1000);
  let parsed;
  try {
    parsed = parseSignature(input.request);
    // Whatever needs no key is judged before the key is looked up: no answer may depend on
    // whether the key id exists.
    checkSignatureParameters(parsed, input.request, nowSeconds);
    // The signature covers the Content-Digest header; this ties that header to the bytes.
    if (input.body !== undefined && (input.body.byteLength > 0 || input.request.header('content-digest') !== undefined)) {
      verifyContentDigest(input.request.header('content-digest'), input.body);
    }
  } catch (error) {
    throw refusal(error);
  }
  const clientId = KEY_ID_PATTERN.exec(parsed.keyId)?.[1];
  const client = clientId === undefined ? undefined : await clients.getClient(clientId);
  const key = client === undefined ? undefined : verificationKey(client, parsed.keyId, input.now);
  // One answer for an unknown key, a rotated-out one, a revoked client and a bad signature: a
  // caller learns nothing about which client ids exist or what state they are in.
  if (client === undefined || key === undefined) throw new AuthenticationError('invalid-signature', UNVERIFIED);
  try {
    verifySignatureBytes(parsed, input.request, publicKeyObject(key));
  } catch (error) {
    throw refusal(error);
  }
  return { clientId: client.clientId, keyId: key.keyId, institutionId: client.institutionId, channel: client.channel, usageKeyId: client.usageKeyId };
}

const UNVERIFIED = 'the signature does not verify with an active key of that keyid (unknown, rotated out, revoked, or signed over other content)';

function refusal(error: unknown): AuthenticationError {
  if (!(error instanceof SignatureError)) throw error;
  if (error.failure === 'invalid-signature') return new AuthenticationError('invalid-signature', UNVERIFIED, { cause: error });
  switch (error.failure) {
    case 'missing-signature':
      return new AuthenticationError('signature-required', error.message, { cause: error });
    case 'expired':
    case 'not-yet-valid':
      return new AuthenticationError('signature-expired', error.message, { cause: error });
    case 'missing-digest':
    case 'malformed-digest':
    case 'unsupported-digest':
    case 'digest-mismatch':
      return new AuthenticationError('content-digest-mismatch', error.message, { cause: error });
    default:
      return new AuthenticationError('invalid-signature', error.message, { cause: error });
  }
}
