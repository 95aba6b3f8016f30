// The API's client operations (operations role): issue an institution's API client for one
// channel, list them, rotate a client's signing key and revoke a client. The backbone keeps only
// public keys: an institution may bring its own, or have one generated, whose private half is in
// the response and nowhere else. The usage-plan key is handed out once, at issue.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { INSTITUTION_ID_PATTERN } from '../core/ledger/account.js';
import {
  CLIENT_ID_PATTERN,
  ClientKeyError,
  KEY_GRACE_SECONDS_DEFAULT,
  publicKeyPem,
  type ApiClientRecord,
} from '../core/trust/api-client.js';
import { ClientLimitError, issueClient, signingKey } from '../core/trust/issue-client.js';
import { jsonBody, jsonResponse, publicPath } from './http.js';
import { actorOf, pathId, type OperationInput } from './operations.js';
import { ApiProblem } from './problems.js';
import { CreateClientBody, parseBody, RotateKeyBody } from './schemas.js';

/** Credentials are shown once: no cache anywhere may keep them. */
const SECRET_HEADERS = { 'cache-control': 'no-store' } as const;

export async function createClient({ event, pathParameters, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const createdBy = actorOf(caller);
  const institutionId = pathId(pathParameters, INSTITUTION_ID_PATTERN, 'institution');
  const body = parseBody(CreateClientBody, jsonBody(event));
  const issued = await clientMistakesAs422(() => issueClient(deps, { institutionId, channel: body.channel, ...(body.publicKey !== undefined ? { publicKeyPem: body.publicKey } : {}) }, createdBy, now));
  return jsonResponse(
    201,
    {
      ...clientView(issued.client),
      keyId: issued.client.keys[0]?.keyId,
      apiKey: issued.usageKey,
      ...(issued.privateKey !== undefined ? { privateKey: issued.privateKey } : {}),
    },
    { location: publicPath(event, `/v1/institutions/${institutionId}/clients`), ...SECRET_HEADERS },
  );
}

export async function listClients({ pathParameters, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const institutionId = pathId(pathParameters, INSTITUTION_ID_PATTERN, 'institution');
  const clients = await deps.clients.listClients(institutionId);
  return jsonResponse(200, { clients: clients.map(clientView) });
}

export async function rotateClientKey({ event, pathParameters, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const rotatedBy = actorOf(caller);
  const { institutionId, clientId } = clientPath(pathParameters);
  const body = parseBody(RotateKeyBody, jsonBody(event));
  const existing = await deps.clients.getClient(clientId);
  if (existing === undefined || existing.institutionId !== institutionId) throw new ApiProblem('not-found', `no client ${clientId} at ${institutionId}`);
  if (existing.status !== 'ACTIVE') throw revokedProblem(clientId);
  const signing = await clientMistakesAs422(() => Promise.resolve(signingKey(body.publicKey, now)));
  const previousExpiresAt = new Date(now.getTime() + (body.previousKeyValidSeconds ?? KEY_GRACE_SECONDS_DEFAULT) * 1_000).toISOString();
  const rotation = await deps.clients.rotateKey(clientId, institutionId, signing.key, previousExpiresAt, rotatedBy);
  if (rotation.outcome === 'not-found') throw new ApiProblem('not-found', `no client ${clientId} at ${institutionId}`);
  if (rotation.outcome === 'revoked') throw revokedProblem(clientId);
  const rotated = await deps.clients.getClient(clientId);
  if (rotated === undefined) throw new ApiProblem('not-found', `no client ${clientId} at ${institutionId}`);
  return jsonResponse(
    200,
    { ...clientView(rotated), keyId: rotation.keyId, ...(signing.privateKey !== undefined ? { privateKey: signing.privateKey } : {}) },
    SECRET_HEADERS,
  );
}

function revokedProblem(clientId: string): ApiProblem {
  return new ApiProblem('client-revoked', `client ${clientId} is revoked; issue a new client instead`);
}

export async function revokeClient({ pathParameters, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const revokedBy = actorOf(caller);
  const { institutionId, clientId } = clientPath(pathParameters);
  const revocation = await deps.clients.revokeClient(clientId, institutionId, revokedBy, now.toISOString());
  if (revocation === 'not-found') throw new ApiProblem('not-found', `no client ${clientId} at ${institutionId}`);
  const client = await deps.clients.getClient(clientId);
  if (client === undefined) throw new ApiProblem('not-found', `no client ${clientId} at ${institutionId}`);
  // The function refuses the client from the moment the record says REVOKED; disabling its
  // usage-plan key also stops its traffic at the gateway. A repeated revoke repeats this step,
  // so a failure here is mended by retrying.
  await deps.usageKeys.disableKey(client.usageKeyId);
  return jsonResponse(200, clientView(client), revocation === 'unchanged' ? { 'idempotent-replayed': 'true' } : {});
}

function clientPath(pathParameters: Readonly<Record<string, string>>): { institutionId: string; clientId: string } {
  const institutionId = pathId(pathParameters, INSTITUTION_ID_PATTERN, 'institution');
  const clientId = pathParameters.clientId ?? '';
  if (!CLIENT_ID_PATTERN.test(clientId)) throw new ApiProblem('not-found', `no client ${clientId.slice(0, 80)}`);
  return { institutionId, clientId };
}

/** A public key that is not an Ed25519 public-key PEM, or a full institution, is the caller's mistake: 422. */
async function clientMistakesAs422<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ClientLimitError) throw new ApiProblem('validation-failed', error.message, { errors: [{ pointer: '', detail: error.message }] }, {}, { cause: error });
    if (!(error instanceof ClientKeyError)) throw error;
    throw new ApiProblem('validation-failed', error.message, { errors: [{ pointer: '/publicKey', detail: error.message }] }, {}, { cause: error });
  }
}

function clientView(client: ApiClientRecord): Record<string, unknown> {
  return {
    clientId: client.clientId,
    institutionId: client.institutionId,
    channel: client.channel,
    status: client.status,
    keys: client.keys.map((key) => ({ keyId: key.keyId, publicKey: publicKeyPem(key), createdAt: key.createdAt, ...(key.expiresAt !== undefined ? { expiresAt: key.expiresAt } : {}) })),
    createdAt: client.createdAt,
    createdBy: client.createdBy,
    ...(client.rotatedAt !== undefined ? { rotatedAt: client.rotatedAt, rotatedBy: client.rotatedBy } : {}),
    ...(client.revokedAt !== undefined ? { revokedAt: client.revokedAt, revokedBy: client.revokedBy } : {}),
  };
}
