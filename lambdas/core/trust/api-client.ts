// API clients: an institution's credentials for one channel. The backbone holds only each
// client's Ed25519 public keys (the private key never leaves the client, or is handed out once
// when the backbone generates it), its status and who changed it. Pure data, rules and the port.
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

/** Channels a client can be issued for; the back office (ADMIN) is IAM, never a client. */
export const CLIENT_CHANNELS = ['WEB', 'MOBILE', 'POS'] as const;
export type ClientChannel = (typeof CLIENT_CHANNELS)[number];

export const CLIENT_STATUSES = ['ACTIVE', 'REVOKED'] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

/** The back office is split into roles; each admin route belongs to exactly one. */
export const ADMIN_ROLES = ['operations', 'risk', 'settlement'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** Who made an admin change: the role whose route it was, and the authenticated principal. */
export interface Actor {
  readonly role: AdminRole;
  /** The IAM principal ARN on AWS; the local role key's stand-in ARN locally. */
  readonly principal: string;
}

export const CLIENT_ID_PATTERN = /^cli_[a-z0-9]{20}$/;
/** A signature's keyid: the client id and the key's version, e.g. cli_....2 */
export const KEY_ID_PATTERN = /^(cli_[a-z0-9]{20})\.([1-9][0-9]{0,5})$/;
/**
 * A client holds its current key and rotated-out keys still inside their grace period: two of
 * those, so a rotation retried after a lost answer still keeps the key the client signs with.
 */
export const CLIENT_KEYS_MAX = 3;
/** How long a rotated-out key keeps working at most (lets a fleet of terminals roll over). */
export const KEY_GRACE_SECONDS_MAX = 7 * 86_400;
export const KEY_GRACE_SECONDS_DEFAULT = 3_600;
/** Bound on the ACTIVE clients one institution may hold. */
export const CLIENTS_PER_INSTITUTION_MAX = 200;
/** Bound on the clients one listing returns, revoked ones included (they stay on record). */
export const CLIENTS_LISTED_MAX = 1_000;

export interface ClientKey {
  /** `<clientId>.<version>`, the signature's keyid. */
  readonly keyId: string;
  /** Ed25519 public key: the 32 raw bytes, base64url (the `x` of its OKP JWK). */
  readonly publicKey: string;
  readonly createdAt: string;
  /** Set when the key was rotated out: it verifies until then, never after. */
  readonly expiresAt?: string;
}

export interface ApiClientRecord {
  readonly clientId: string;
  readonly institutionId: string;
  readonly channel: ClientChannel;
  readonly status: ClientStatus;
  /** Newest first; 1..CLIENT_KEYS_MAX. */
  readonly keys: readonly ClientKey[];
  /** The API Gateway API key that carries this client's throttle and quota (its id, not its value). */
  readonly usageKeyId: string;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly rotatedAt?: string;
  readonly rotatedBy?: Actor;
  readonly revokedAt?: string;
  readonly revokedBy?: Actor;
}

/** The trusted outcome of authenticating a request: the caller and the institution it acts for. */
export interface AuthenticatedClient {
  readonly clientId: string;
  readonly keyId: string;
  readonly institutionId: string;
  readonly channel: ClientChannel;
  readonly usageKeyId: string;
}

export type ClientCreation = 'created' | 'id-taken' | 'limit-reached';
/** A key about to be added: its version (and so its keyid) is the store's to assign. */
export type NewClientKey = Omit<ClientKey, 'keyId' | 'expiresAt'>;
export type KeyRotation = { readonly outcome: 'rotated'; readonly keyId: string } | { readonly outcome: 'not-found' } | { readonly outcome: 'revoked' };
export type ClientRevocation = 'revoked' | 'unchanged' | 'not-found';

/** Where clients live. Reads are strongly consistent: a revoked client is refused at once. */
export interface ClientStore {
  getClient(clientId: string): Promise<ApiClientRecord | undefined>;
  /**
   * Stores a new ACTIVE client, unless the id is taken or its institution already holds
   * CLIENTS_PER_INSTITUTION_MAX active clients (counted atomically with the write).
   */
  createClient(client: ApiClientRecord): Promise<ClientCreation>;
  /** The institution's clients, revoked ones included, oldest first, at most CLIENTS_LISTED_MAX. */
  listClients(institutionId: string): Promise<ApiClientRecord[]>;
  /**
   * Makes `key` current under the next version (see rotatedKeys) and keeps the keys it replaces
   * no longer than `previousExpiresAt`. Only an ACTIVE client of `institutionId` rotates.
   */
  rotateKey(clientId: string, institutionId: string, key: NewClientKey, previousExpiresAt: string, by: Actor): Promise<KeyRotation>;
  /** ACTIVE -> REVOKED, for good; only a client of `institutionId`. */
  revokeClient(clientId: string, institutionId: string, by: Actor, at: string): Promise<ClientRevocation>;
}

export class ClientKeyError extends Error {
  override name = 'ClientKeyError';
}

export function newClientId(): string {
  // 20 characters of [a-z0-9]: 100+ bits, from bytes mapped without modulo bias worth caring
  // about at this size (36 does not divide 256; the skew is under 1.6 % per character).
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `cli_${[...randomBytes(20)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

export function keyIdOf(clientId: string, version: number): string {
  return `${clientId}.${version}`;
}

/** The version after the client's newest key. */
export function nextKeyVersion(client: ApiClientRecord): number {
  const versions = client.keys.map((key) => Number(KEY_ID_PATTERN.exec(key.keyId)?.[2] ?? 0));
  return Math.max(0, ...versions) + 1;
}

/**
 * A public key as a client submits it: PEM (SPKI, as `openssl pkey -pubout` writes it) of an
 * Ed25519 key. Returns the raw key, base64url. Anything else is a ClientKeyError.
 */
export function ed25519PublicKeyFromPem(pem: string): string {
  // createPublicKey would derive a public key from a private one: never let a private key in.
  if (!/^\s*-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\s*$/.test(pem)) {
    throw new ClientKeyError('publicKey must be one PEM public key (-----BEGIN PUBLIC KEY-----); never send a private key');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new ClientKeyError('publicKey is not a PEM public key', { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ClientKeyError(`publicKey is ${key.asymmetricKeyType ?? 'not asymmetric'}; only Ed25519 is accepted`);
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new ClientKeyError('publicKey has no Ed25519 point');
  return jwk.x;
}

export function publicKeyObject(key: ClientKey): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey }, format: 'jwk' });
}

/** PEM (SPKI) of a stored key, for listings and for clients that want to check what we hold. */
export function publicKeyPem(key: ClientKey): string {
  return publicKeyObject(key).export({ format: 'pem', type: 'spki' }).toString();
}

/**
 * The keys after a rotation: the new one current, under the version after the newest held (so two
 * racing rotations never share a keyid); every key it replaces kept no longer than
 * `previousExpiresAt` (0 s of grace cuts a compromised key off at once, older ones included) and
 * only while still valid; at most CLIENT_KEYS_MAX, newest first. A rotation retried after a lost
 * answer so keeps the key the client still signs with, inside its grace.
 */
export function rotatedKeys(client: ApiClientRecord, key: NewClientKey, previousExpiresAt: string): ClientKey[] {
  const now = Date.parse(key.createdAt);
  const cap = Date.parse(previousExpiresAt);
  const kept = client.keys
    .map((held) => ({ ...held, expiresAt: held.expiresAt !== undefined && Date.parse(held.expiresAt) < cap ? held.expiresAt : previousExpiresAt }))
    .filter((held) => Date.parse(held.expiresAt) > now);
  return [{ ...key, keyId: keyIdOf(client.clientId, nextKeyVersion(client)) }, ...kept].slice(0, CLIENT_KEYS_MAX);
}

/** The key `keyId` names, if it may verify at `now`: ACTIVE client, key present, not expired. */
export function verificationKey(client: ApiClientRecord, keyId: string, now: Date): ClientKey | undefined {
  if (client.status !== 'ACTIVE') return undefined;
  const key = client.keys.find((candidate) => candidate.keyId === keyId);
  if (key === undefined) return undefined;
  if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now.getTime()) return undefined;
  return key;
}
