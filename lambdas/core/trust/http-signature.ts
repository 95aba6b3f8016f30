// HTTP Message Signatures (RFC 9421) in one narrow, strict profile, and Content-Digest (RFC 9530).
// A request carries exactly one Ed25519 signature over @method, @path, @query and named header
// fields; the CLI signs with it, the API parses and verifies it, and Content-Digest ties the signed
// header to the body bytes. Anything outside the profile is refused rather than interpreted, so
// signer and verifier can never rebuild different signature bases from the same message.
// Pure node:crypto and structured-headers (RFC 8941/9651 Structured Fields); nothing AWS.
import assert from 'node:assert/strict';
import { createHash, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { isArrayBuffer } from 'node:util/types';
import {
  isInnerList,
  parseDictionary,
  serializeDictionary,
  serializeInnerList,
  type Dictionary,
  type InnerList,
  type Item,
  type Parameters as SfParameters,
} from 'structured-headers';

/** |now - created| must be <= this. */
export const SIGNATURE_CLOCK_SKEW_SECONDS = 300;
/** Signature and Signature-Input each; longer is malformed (bounds the parser's work). */
export const SIGNATURE_HEADER_LENGTH_MAX = 4_096;
/** The label our signer uses; the verifier accepts any single label. */
export const SIGNATURE_LABEL = 'sig1';

/** keyid is looked up in the client store; a bound keeps hostile ids out of keys and logs. */
const KEY_ID_LENGTH_MAX = 128;
/** Two supported digests with names and padding fit in ~170 chars; the rest is slack, not a use. */
const CONTENT_DIGEST_HEADER_LENGTH_MAX = 1_024;
/** Longest header excerpt quoted in an error detail, so a hostile header cannot flood logs. */
const DETAIL_QUOTE_CHARS_MAX = 64;
const ALGORITHM = 'ed25519';
/** The derived components both sides can rebuild identically from what API Gateway hands us. */
const DERIVED_COMPONENTS: readonly string[] = ['@method', '@path', '@query'];
/** Methods whose requests carry a body, so their signature must cover its digest. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);
/** A field name (RFC 9110 token) in lower case, or a derived component name after '@'. */
const COMPONENT_PATTERN = /^@?[a-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Digest algorithms accepted (RFC 9530 §5 "standard"), with node's hash name and digest size. */
const DIGEST_ALGORITHMS: ReadonlyMap<string, { readonly hash: string; readonly digestBytes: number }> = new Map([
  ['sha-256', { hash: 'sha256', digestBytes: 32 }],
  ['sha-512', { hash: 'sha512', digestBytes: 64 }],
]);

/** What the signature covers of a request. headers: lookup by lower-case name, undefined when absent. */
export interface SignedRequest {
  /** e.g. 'POST' (compared and signed upper-case). */
  readonly method: string;
  /** The path as the client called it, e.g. '/v1/transactions' or '/prod/v1/transactions/abc'. */
  readonly path: string;
  /** '@query' value: '?' when there is no query, else '?a=1&b=2' (see canonicalQuery). */
  readonly query: string;
  readonly header: (name: string) => string | undefined;
}

export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

export interface ParsedSignature {
  readonly label: string;
  readonly keyId: string;
  readonly createdEpochSeconds: number;
  readonly expiresEpochSeconds?: number;
  readonly components: readonly string[];
  /** The serialized inner list, as it goes into the @signature-params line. */
  readonly signatureParams: string;
  readonly signature: Uint8Array;
}

export type SignatureFailure =
  | 'missing-signature'
  | 'malformed-signature'
  | 'unsupported-algorithm'
  | 'missing-component'
  | 'expired'
  | 'not-yet-valid'
  | 'invalid-signature'
  | 'missing-digest'
  | 'malformed-digest'
  | 'unsupported-digest'
  | 'digest-mismatch';

/** A request's signature or digest is refused; `failure` says why, the message says what. */
export class SignatureError extends Error {
  override name = 'SignatureError';
  readonly failure: SignatureFailure;
  constructor(failure: SignatureFailure, detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.failure = failure;
  }
}

/**
 * '?' + each [name, value] as encodeURIComponent(name)=encodeURIComponent(value), joined by '&',
 * in the given order; '?' for none. Both sides derive @query from decoded parameters this way, so
 * the client's own encoding choices (+ or %20, case of hex digits) cannot break the signature.
 * Throws URIError for a string holding a lone surrogate (it has no UTF-8 encoding).
 */
export function canonicalQuery(parameters: readonly (readonly [string, string])[]): string {
  if (parameters.length === 0) return '?';
  return `?${parameters.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&')}`;
}

/** RFC 9530 Content-Digest header value for these body bytes: `sha-256=:<base64>:` */
export function contentDigest(body: Uint8Array): string {
  const member: Item = [createHash('sha256').update(body).digest(), noParameters()];
  return serializeDictionary(new Map([['sha-256', member]]));
}

/**
 * Throws SignatureError('missing-digest' | 'malformed-digest' | 'unsupported-digest' |
 * 'digest-mismatch'). Parses the header as an SF dictionary; accepts sha-256 and sha-512 members
 * (byte sequences); at least one supported member must be present and every supported member
 * present must match. Unknown algorithms are ignored unless no supported one is present.
 */
export function verifyContentDigest(header: string | undefined, body: Uint8Array): void {
  // An empty dictionary is how Structured Fields say "absent" (RFC 8941 §3.2).
  if (header === undefined || header.trim() === '') throw new SignatureError('missing-digest', 'Content-Digest header is missing');
  if (header.length > CONTENT_DIGEST_HEADER_LENGTH_MAX) {
    throw new SignatureError('malformed-digest', `Content-Digest is longer than ${CONTENT_DIGEST_HEADER_LENGTH_MAX} characters`);
  }
  let digests: Dictionary;
  try {
    digests = parseDictionary(header);
  } catch (error) {
    throw new SignatureError('malformed-digest', `Content-Digest is not a structured dictionary: ${quote(header)}`, { cause: error });
  }
  let checkedCount = 0;
  for (const [algorithm, { hash, digestBytes }] of DIGEST_ALGORITHMS) {
    const member = digests.get(algorithm);
    if (member === undefined) continue;
    const claimed = byteSequenceOf(member);
    if (claimed === undefined) throw new SignatureError('malformed-digest', `Content-Digest ${algorithm} is not a byte sequence`);
    const actual = createHash(hash).update(body).digest();
    assert.equal(actual.byteLength, digestBytes, `${hash} digest size`);
    // timingSafeEqual throws on unequal lengths; a digest of the wrong size is simply not this body's.
    if (claimed.byteLength !== actual.byteLength || !timingSafeEqual(claimed, actual)) {
      throw new SignatureError('digest-mismatch', `Content-Digest ${algorithm} does not match the body`);
    }
    checkedCount += 1;
  }
  if (checkedCount === 0) {
    const offered = [...digests.keys()].join(', ');
    throw new SignatureError('unsupported-digest', `Content-Digest offers ${quote(offered)}; supported: ${[...DIGEST_ALGORITHMS.keys()].join(', ')}`);
  }
}

/**
 * Components a request of this shape must cover: always '@method', '@path', '@query';
 * 'idempotency-key' when that header is present; 'content-digest' when the request has a
 * content-digest header or the method is POST, PUT or PATCH (a body must never ride unsigned).
 */
export function requiredComponents(request: SignedRequest): string[] {
  const components = [...DERIVED_COMPONENTS];
  if (request.header('idempotency-key') !== undefined) components.push('idempotency-key');
  if (request.header('content-digest') !== undefined || BODY_METHODS.has(request.method.toUpperCase())) components.push('content-digest');
  return components;
}

/**
 * Signs with Ed25519: returns the two headers to send. Covers requiredComponents(request) in that
 * order, with params created (integer seconds), keyid, alg="ed25519". Throws
 * SignatureError('missing-component') if a covered header is absent.
 */
export function signRequest(
  request: SignedRequest,
  key: SigningKey,
  createdEpochSeconds: number,
): { readonly 'signature-input': string; readonly signature: string } {
  assert.ok(key.privateKey.type === 'private' && key.privateKey.asymmetricKeyType === 'ed25519', 'signRequest needs an Ed25519 private key');
  assert.ok(Number.isSafeInteger(createdEpochSeconds) && createdEpochSeconds >= 0, 'created must be a non-negative integer');
  assert.ok(isValidKeyId(key.keyId), `keyid must be 1..${KEY_ID_LENGTH_MAX} printable ASCII characters`);
  const components = requiredComponents(request);
  const parameters: SfParameters = new Map<string, string | number>([
    ['created', createdEpochSeconds],
    ['keyid', key.keyId],
    ['alg', ALGORITHM],
  ]);
  const innerList: InnerList = [components.map((component): Item => [component, noParameters()]), parameters];
  const base = signatureBase(components, request, serializeInnerList(innerList));
  const signature: Item = [sign(null, Buffer.from(base, 'utf8'), key.privateKey), noParameters()];
  return {
    'signature-input': serializeDictionary(new Map([[SIGNATURE_LABEL, innerList]])),
    signature: serializeDictionary(new Map([[SIGNATURE_LABEL, signature]])),
  };
}

/**
 * Parses Signature-Input and Signature (SF dictionaries). Refuses with SignatureError:
 * 'missing-signature' when either header is missing; 'malformed-signature' when a header is too
 * long or not a dictionary, Signature-Input holds other than one label, Signature lacks that label,
 * a member has the wrong shape, a component is repeated, not lower-case or carries parameters, or
 * keyid / created / expires are missing or mistyped; 'unsupported-algorithm' when alg is present
 * and not "ed25519". Derived components are checked by verifySignature, not here.
 */
export function parseSignature(request: SignedRequest): ParsedSignature {
  const inputHeader = presentHeader(request, 'signature-input');
  const signatureHeader = presentHeader(request, 'signature');
  if (inputHeader === undefined || signatureHeader === undefined) {
    throw new SignatureError('missing-signature', 'request needs both Signature-Input and Signature headers');
  }
  const inputs = parseSignatureDictionary('Signature-Input', inputHeader);
  refuseDecimals(inputHeader);
  const signatures = parseSignatureDictionary('Signature', signatureHeader);
  const entry = [...inputs][0];
  if (inputs.size !== 1 || entry === undefined) throw malformed(`Signature-Input carries ${inputs.size} labels; exactly one is accepted`);
  const [label, input] = entry;
  if (!isInnerList(input)) throw malformed(`Signature-Input ${label} is not an inner list`);
  const signatureMember = signatures.get(label);
  if (signatureMember === undefined) throw malformed(`Signature has no member labelled ${label}`);
  const signature = byteSequenceOf(signatureMember);
  if (signature === undefined) throw malformed(`Signature ${label} is not a byte sequence`);
  const components = componentsOf(input[0]);
  const { keyId, createdEpochSeconds, expiresEpochSeconds } = signatureParametersOf(input[1]);
  return {
    label,
    keyId,
    createdEpochSeconds,
    ...(expiresEpochSeconds === undefined ? {} : { expiresEpochSeconds }),
    components,
    // Re-serialized from what was parsed, parameters in the order received (RFC 9421 §2.3).
    signatureParams: serializeInnerList(input),
    signature,
  };
}

/**
 * Checks the parsed signature: covers every requiredComponents(request) ('missing-component');
 * created within ±SIGNATURE_CLOCK_SKEW_SECONDS of now ('expired' when too old, 'not-yet-valid'
 * when ahead); expires, if present, after now ('expired'); each covered header present in the
 * request ('missing-component'); only @method, @path, @query as derived components
 * ('malformed-signature'); then the Ed25519 signature over the signature base ('invalid-signature').
 */
export function verifySignature(parsed: ParsedSignature, request: SignedRequest, publicKey: KeyObject, nowEpochSeconds: number): void {
  checkSignatureParameters(parsed, request, nowEpochSeconds);
  verifySignatureBytes(parsed, request, publicKey);
}

/**
 * Everything about a signature that needs no key: supported and required components, the clock
 * window, expiry, covered headers present, a base that can be built. A verifier runs this before
 * it looks the key up, so an answer never depends on whether the key id exists.
 */
export function checkSignatureParameters(parsed: ParsedSignature, request: SignedRequest, nowEpochSeconds: number): void {
  assert.ok(Number.isSafeInteger(nowEpochSeconds), 'now must be integer seconds');
  const unsupported = parsed.components.find((component) => component.startsWith('@') && !DERIVED_COMPONENTS.includes(component));
  if (unsupported !== undefined) throw malformed(`derived component ${unsupported} is not supported; only ${DERIVED_COMPONENTS.join(', ')}`);
  const uncovered = requiredComponents(request).filter((component) => !parsed.components.includes(component));
  if (uncovered.length > 0) throw new SignatureError('missing-component', `signature must cover ${uncovered.join(', ')}`);
  const ageSeconds = nowEpochSeconds - parsed.createdEpochSeconds;
  if (ageSeconds > SIGNATURE_CLOCK_SKEW_SECONDS) throw new SignatureError('expired', `signature was created ${ageSeconds} s ago`);
  if (-ageSeconds > SIGNATURE_CLOCK_SKEW_SECONDS) throw new SignatureError('not-yet-valid', `signature is created ${-ageSeconds} s in the future`);
  if (parsed.expiresEpochSeconds !== undefined && parsed.expiresEpochSeconds <= nowEpochSeconds) {
    throw new SignatureError('expired', `signature expired ${nowEpochSeconds - parsed.expiresEpochSeconds} s ago`);
  }
  const absent = parsed.components.filter((component) => !component.startsWith('@') && request.header(component) === undefined);
  if (absent.length > 0) throw new SignatureError('missing-component', `signed header ${absent.join(', ')} is absent from the request`);
  signatureBase(parsed.components, request, parsed.signatureParams);
}

/** The Ed25519 check itself, over the signature base (parameters checked already). */
export function verifySignatureBytes(parsed: ParsedSignature, request: SignedRequest, publicKey: KeyObject): void {
  assert.ok(publicKey.type === 'public' && publicKey.asymmetricKeyType === 'ed25519', 'verifySignature needs an Ed25519 public key');
  const base = signatureBase(parsed.components, request, parsed.signatureParams);
  if (!verify(null, Buffer.from(base, 'utf8'), publicKey, parsed.signature)) {
    throw new SignatureError('invalid-signature', `signature by ${parsed.keyId} does not verify`);
  }
}

/**
 * The RFC 9421 §2.5 signature base (exported for tests and for the CLI's `sign --verbose`): one
 * line `"<component>": <value>` per component, then `"@signature-params": <signatureParams>`,
 * joined with '\n'. Throws SignatureError: 'missing-component' for an absent header,
 * 'malformed-signature' for an unsupported or repeated component or a value with a line break.
 */
export function signatureBase(components: readonly string[], request: SignedRequest, signatureParams: string): string {
  assert.ok(!/[\r\n]/.test(signatureParams), 'signature params are one line');
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const component of components) {
    if (!COMPONENT_PATTERN.test(component)) throw malformed(`component ${quote(component)} is not a lower-case name`);
    if (seen.has(component)) throw malformed(`component ${component} is repeated`);
    seen.add(component);
    const value = componentValue(component, request);
    // A line break would let one request's values pass for another's lines in the base.
    if (/[\r\n]/.test(value)) throw malformed(`component ${component} has a line break`);
    lines.push(`"${component}": ${value}`);
  }
  lines.push(`"@signature-params": ${signatureParams}`);
  return lines.join('\n');
}

function componentValue(component: string, request: SignedRequest): string {
  switch (component) {
    case '@method':
      return request.method.toUpperCase();
    case '@path':
      // RFC 9421 §2.2.6: an empty path is signed as '/'.
      return request.path === '' ? '/' : request.path;
    case '@query':
      return request.query;
  }
  if (component.startsWith('@')) throw malformed(`derived component ${component} is not supported; only ${DERIVED_COMPONENTS.join(', ')}`);
  const value = request.header(component);
  if (value === undefined) throw new SignatureError('missing-component', `signed header ${component} is absent from the request`);
  // RFC 9421 §2.1: leading and trailing OWS (space, tab) is not part of a field's value.
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

function parseSignatureDictionary(name: string, header: string): Dictionary {
  if (header.length > SIGNATURE_HEADER_LENGTH_MAX) throw malformed(`${name} is longer than ${SIGNATURE_HEADER_LENGTH_MAX} characters`);
  try {
    return parseDictionary(header);
  } catch (error) {
    throw malformed(`${name} is not a structured dictionary: ${quote(header)}`, { cause: error });
  }
}

/**
 * structured-headers parses integers and decimals alike into a JavaScript number, so
 * `created=1618884473.0` would come back as the integer and be re-serialized without its '.0':
 * a Decimal the RFC refuses would pass as an Integer. This profile has no decimal parameters,
 * so any number with a '.' outside a string is refused before parsing.
 */
function refuseDecimals(header: string): void {
  const outsideStrings = header.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  // A digit run starting a bare item (not inside a token such as v1.2) followed by '.'.
  if (/(?:^|[=;(\s,])-?[0-9]+\./.test(outsideStrings)) throw malformed('Signature-Input holds a decimal number; its parameters are integers');
}

function componentsOf(items: readonly Item[]): string[] {
  const components: string[] = [];
  for (const [bare, parameters] of items) {
    // The library's BareItem type widens to `any` without the DOM lib, so every check is at runtime.
    if (typeof bare !== 'string') throw malformed('a covered component is not a string');
    if (parameters.size > 0) throw malformed(`component ${quote(bare)} carries parameters; none are supported`);
    if (!COMPONENT_PATTERN.test(bare)) throw malformed(`component ${quote(bare)} is not a lower-case name`);
    if (components.includes(bare)) throw malformed(`component ${bare} is repeated`);
    components.push(bare);
  }
  return components;
}

function signatureParametersOf(parameters: SfParameters): {
  keyId: string;
  createdEpochSeconds: number;
  expiresEpochSeconds: number | undefined;
} {
  const keyId: unknown = parameters.get('keyid');
  if (typeof keyId !== 'string' || !isValidKeyId(keyId)) throw malformed(`keyid must be a string of 1..${KEY_ID_LENGTH_MAX} characters`);
  const created: unknown = parameters.get('created');
  if (typeof created !== 'number' || !Number.isSafeInteger(created) || created < 0) throw malformed('created must be a non-negative integer');
  const expires: unknown = parameters.get('expires');
  if (expires !== undefined && (typeof expires !== 'number' || !Number.isSafeInteger(expires))) throw malformed('expires must be an integer');
  const algorithm: unknown = parameters.get('alg');
  if (algorithm !== undefined && typeof algorithm !== 'string') throw malformed('alg must be a string');
  if (algorithm !== undefined && algorithm !== ALGORITHM) {
    throw new SignatureError('unsupported-algorithm', `alg ${quote(algorithm)} is not supported; only ${ALGORITHM}`);
  }
  return { keyId, createdEpochSeconds: created, expiresEpochSeconds: expires };
}

/** A byte sequence item's bytes; undefined for any other member. Parsing yields ArrayBuffer. */
function byteSequenceOf(member: Item | InnerList): Uint8Array | undefined {
  if (isInnerList(member)) return undefined;
  const bare: unknown = member[0];
  return isArrayBuffer(bare) ? new Uint8Array(bare) : undefined;
}

/** SF strings are printable ASCII, so anything else could not be serialized into Signature-Input. */
function isValidKeyId(keyId: string): boolean {
  return keyId.length >= 1 && keyId.length <= KEY_ID_LENGTH_MAX && /^[\x20-\x7e]+$/.test(keyId);
}

/** The header's value; undefined when absent or empty (an empty Structured Field is its absence, RFC 8941 §3.2). */
function presentHeader(request: SignedRequest, name: string): string | undefined {
  const value = request.header(name);
  return value === undefined || value.trim() === '' ? undefined : value;
}

function noParameters(): SfParameters {
  return new Map<string, never>();
}

function malformed(detail: string, options?: ErrorOptions): SignatureError {
  return new SignatureError('malformed-signature', detail, options);
}

function quote(text: string): string {
  return JSON.stringify(text.length > DETAIL_QUOTE_CHARS_MAX ? `${text.slice(0, DETAIL_QUOTE_CHARS_MAX)}…` : text);
}
