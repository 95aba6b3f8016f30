// Proves the RFC 9421 / RFC 9530 profile: what signRequest signs verifies, and any change to a covered component, the key, the clock window or the header syntax is refused with the failure a client can act on, while Content-Digest ties the body bytes to the signed header.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  contentDigest,
  parseSignature,
  requiredComponents,
  SIGNATURE_CLOCK_SKEW_SECONDS,
  SIGNATURE_HEADER_LENGTH_MAX,
  SIGNATURE_LABEL,
  signatureBase,
  SignatureError,
  signRequest,
  verifyContentDigest,
  verifySignature,
  type SignatureFailure,
  type SignedRequest,
} from '../../../lambdas/core/trust/http-signature.js';

/** The Ed25519 test key of RFC 9421 Appendix B.1.4. */
const RFC_PRIVATE_KEY = createPrivateKey('-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n');
const RFC_PUBLIC_KEY = createPublicKey('-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n');
/** RFC 9530 §2's example body and its digests. */
const RFC_BODY = new TextEncoder().encode('{"hello": "world"}');
const RFC_SHA_256 = 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=';
const RFC_SHA_512 = 'WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==';
/** PKCS#8 DER of an Ed25519 private key, up to its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const clientKeys = generateKeyPairSync('ed25519');
const strangerKeys = generateKeyPairSync('ed25519');
const KEY_ID = 'cli_abc';
const CREATED_EPOCH_SECONDS = 1_700_000_000;
const body = new TextEncoder().encode('{"amountMinor":1250,"currency":"EUR"}');

interface RequestShape {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
}

const postShape: RequestShape = {
  method: 'POST',
  path: '/v1/transactions',
  query: '?',
  headers: { 'content-type': 'application/json', 'idempotency-key': 'idem-7f3a', 'content-digest': contentDigest(body) },
};
const getShape: RequestShape = { method: 'GET', path: '/prod/v1/accounts/acc_1', query: canonicalQuery([['limit', '10']]), headers: {} };
const VALID_PARAMS = `;created=${CREATED_EPOCH_SECONDS};keyid="${KEY_ID}";alg="ed25519"`;
const ANY_SIGNATURE = `sig1=:${Buffer.alloc(64).toString('base64')}:`;

function requestOf(shape: RequestShape): SignedRequest {
  const headers = new Map(Object.entries(shape.headers));
  return { method: shape.method, path: shape.path, query: shape.query, header: (name) => headers.get(name) };
}

function withHeaders(shape: RequestShape, headers: Readonly<Record<string, string | undefined>>): RequestShape {
  const merged = Object.entries({ ...shape.headers, ...headers }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return { ...shape, headers: Object.fromEntries(merged) };
}

function signed(shape: RequestShape, privateKey: KeyObject = clientKeys.privateKey, createdEpochSeconds = CREATED_EPOCH_SECONDS): RequestShape {
  return withHeaders(shape, signRequest(requestOf(shape), { keyId: KEY_ID, privateKey }, createdEpochSeconds));
}

/** Signs an inner list written by hand, for shapes signRequest never makes. */
function handSigned(shape: RequestShape, components: readonly string[], params: string, label = SIGNATURE_LABEL): RequestShape {
  const signatureParams = `(${components.map((component) => `"${component}"`).join(' ')})${params}`;
  const base = signatureBase(components, requestOf(shape), signatureParams);
  const signature = sign(null, Buffer.from(base, 'utf8'), clientKeys.privateKey).toString('base64');
  return withHeaders(shape, { 'signature-input': `${label}=${signatureParams}`, signature: `${label}=:${signature}:` });
}

function verifyShape(shape: RequestShape, publicKey: KeyObject = clientKeys.publicKey, nowEpochSeconds = CREATED_EPOCH_SECONDS): void {
  const request = requestOf(shape);
  verifySignature(parseSignature(request), request, publicKey, nowEpochSeconds);
}

function refusalOf(action: () => unknown): SignatureError | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof SignatureError) return error;
    throw error;
  }
  return undefined;
}

function failureOf(action: () => unknown): SignatureFailure | undefined {
  return refusalOf(action)?.failure;
}

describe('canonicalQuery', () => {
  it('returns a lone ? for no parameters', () => {
    expect(canonicalQuery([])).toBe('?');
  });

  it('percent-encodes spaces as %20 and reserved characters in names and values', () => {
    expect(canonicalQuery([['q', 'a b'], ['x&y', '1=2+3/4?']])).toBe('?q=a%20b&x%26y=1%3D2%2B3%2F4%3F');
  });

  it('percent-encodes unicode as UTF-8', () => {
    expect(canonicalQuery([['name', 'Zoë 🙂']])).toBe('?name=Zo%C3%AB%20%F0%9F%99%82');
  });

  it('keeps the given order and repeated names', () => {
    expect(canonicalQuery([['b', '2'], ['a', '1'], ['b', '3'], ['empty', '']])).toBe('?b=2&a=1&b=3&empty=');
  });
});

describe('contentDigest', () => {
  it('matches the RFC 9530 example', () => {
    expect(contentDigest(RFC_BODY)).toBe(`sha-256=:${RFC_SHA_256}:`);
  });
});

describe('verifyContentDigest', () => {
  it('accepts a matching sha-256 digest', () => {
    expect(failureOf(() => verifyContentDigest(contentDigest(body), body))).toBeUndefined();
  });

  it('accepts a matching sha-512 digest on its own', () => {
    expect(failureOf(() => verifyContentDigest(`sha-512=:${RFC_SHA_512}:`, RFC_BODY))).toBeUndefined();
  });

  it('ignores unknown algorithms next to a supported one', () => {
    expect(failureOf(() => verifyContentDigest(`unixsum=:AAAA:, sha-256=:${RFC_SHA_256}:;p=1, md5=?1`, RFC_BODY))).toBeUndefined();
  });

  it('refuses a digest of other bytes as digest-mismatch', () => {
    expect(failureOf(() => verifyContentDigest(contentDigest(body), RFC_BODY))).toBe('digest-mismatch');
  });

  it('refuses when one supported digest matches and another does not', () => {
    const header = `sha-256=:${RFC_SHA_256}:, sha-512=:${createHash('sha512').update(body).digest('base64')}:`;

    expect(failureOf(() => verifyContentDigest(header, RFC_BODY))).toBe('digest-mismatch');
  });

  it('refuses a digest of the wrong length as digest-mismatch', () => {
    expect(failureOf(() => verifyContentDigest(`sha-256=:${RFC_SHA_256.slice(0, 40)}:`, RFC_BODY))).toBe('digest-mismatch');
  });

  it('refuses a header with only unknown algorithms as unsupported-digest', () => {
    expect(failureOf(() => verifyContentDigest('md5=:XrY7u+Ae7tCTyyK7j1rNww==:, sha=:AAAA:', RFC_BODY))).toBe('unsupported-digest');
  });

  it.each([
    ['an upper-case key, which no dictionary has', `SHA-256=:${RFC_SHA_256}:`],
    ['an unterminated byte sequence', `sha-256=:${RFC_SHA_256}`],
    ['a string instead of bytes', `sha-256="${RFC_SHA_256}"`],
    ['an inner list instead of bytes', `sha-256=(:${RFC_SHA_256}:)`],
    ['a longer header than the bound', `sha-256=:${RFC_SHA_256}:, x=:${'A'.repeat(1_024)}:`],
  ])('refuses %s as malformed-digest', (_case, header) => {
    expect(failureOf(() => verifyContentDigest(header, RFC_BODY))).toBe('malformed-digest');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
  ])('refuses an %s header as missing-digest', (_case, header) => {
    expect(failureOf(() => verifyContentDigest(header, RFC_BODY))).toBe('missing-digest');
  });
});

describe('requiredComponents', () => {
  it('asks a bare GET for the derived components only', () => {
    expect(requiredComponents(requestOf(getShape))).toEqual(['@method', '@path', '@query']);
  });

  it('asks a POST for its content digest even when the header is missing', () => {
    const shape = withHeaders(postShape, { 'content-digest': undefined, 'idempotency-key': undefined });

    expect(requiredComponents(requestOf({ ...shape, method: 'post' }))).toEqual(['@method', '@path', '@query', 'content-digest']);
  });

  it('asks a GET for a content digest it carries and an idempotency key it carries', () => {
    const shape = withHeaders(getShape, { 'content-digest': contentDigest(body), 'idempotency-key': 'k' });

    expect(requiredComponents(requestOf(shape))).toEqual(['@method', '@path', '@query', 'idempotency-key', 'content-digest']);
  });
});

describe('signatureBase', () => {
  it('writes the RFC 9421 lines: method upper-cased, header values trimmed, params last, no trailing newline', () => {
    const request = requestOf({
      method: 'post',
      path: '/v1/transactions',
      query: '?',
      headers: { 'idempotency-key': ' \tidem-7f3a  ', 'content-digest': contentDigest(RFC_BODY) },
    });
    const params = '("@method" "@path" "@query" "idempotency-key" "content-digest");created=1618884473;keyid="cli_abc";alg="ed25519"';

    const base = signatureBase(['@method', '@path', '@query', 'idempotency-key', 'content-digest'], request, params);

    expect(base).toBe(
      [
        '"@method": POST',
        '"@path": /v1/transactions',
        '"@query": ?',
        '"idempotency-key": idem-7f3a',
        `"content-digest": sha-256=:${RFC_SHA_256}:`,
        `"@signature-params": ${params}`,
      ].join('\n'),
    );
  });

  it('refuses a header value with a line break, which could forge a line of the base', () => {
    const request = requestOf(withHeaders(getShape, { 'idempotency-key': 'k\n"@signature-params": ()' }));

    expect(failureOf(() => signatureBase(['@method', 'idempotency-key'], request, '()'))).toBe('malformed-signature');
  });
});

describe('signRequest', () => {
  it('writes Signature-Input and an Ed25519 Signature over the base, byte for byte', () => {
    const shape = withHeaders(postShape, { 'content-digest': contentDigest(RFC_BODY) });
    const expectedParams = '("@method" "@path" "@query" "idempotency-key" "content-digest");created=1618884473;keyid="cli_abc";alg="ed25519"';
    const expectedBase = [
      '"@method": POST',
      '"@path": /v1/transactions',
      '"@query": ?',
      '"idempotency-key": idem-7f3a',
      `"content-digest": sha-256=:${RFC_SHA_256}:`,
      `"@signature-params": ${expectedParams}`,
    ].join('\n');

    const headers = signRequest(requestOf(shape), { keyId: 'cli_abc', privateKey: RFC_PRIVATE_KEY }, 1_618_884_473);

    expect(headers['signature-input']).toBe(`sig1=${expectedParams}`);
    // Ed25519 is deterministic, so the signature over the hand-written base is the known answer.
    expect(headers.signature).toBe(`sig1=:${sign(null, Buffer.from(expectedBase), RFC_PRIVATE_KEY).toString('base64')}:`);
  });

  it('refuses to sign with a key that is not Ed25519', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

    expect(() => signRequest(requestOf(getShape), { keyId: KEY_ID, privateKey }, CREATED_EPOCH_SECONDS)).toThrow(/Ed25519/);
  });

  it('refuses to sign a POST without the content-digest header it must cover', () => {
    const shape = withHeaders(postShape, { 'content-digest': undefined });

    const refusal = refusalOf(() => signRequest(requestOf(shape), { keyId: KEY_ID, privateKey: clientKeys.privateKey }, CREATED_EPOCH_SECONDS));

    expect(refusal?.failure).toBe('missing-component');
    expect(refusal?.message).toMatch(/content-digest/);
  });
});

describe('parseSignature', () => {
  it('reads the RFC 9421 B.2.6 example back into the exact params line the RFC signed', () => {
    const signatureParams = '("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
    const request = requestOf({
      ...postShape,
      headers: {
        'signature-input': `sig-b26=${signatureParams}`,
        signature: 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
      },
    });
    const rfcBase = [
      '"date": Tue, 20 Apr 2021 02:07:55 GMT',
      '"@method": POST',
      '"@path": /foo',
      '"@authority": example.com',
      '"content-type": application/json',
      '"content-length": 18',
    ].join('\n');

    const parsed = parseSignature(request);

    expect(parsed).toMatchObject({ label: 'sig-b26', keyId: 'test-key-ed25519', createdEpochSeconds: 1_618_884_473, signatureParams });
    expect(parsed.components).toEqual(['date', '@method', '@path', '@authority', 'content-type', 'content-length']);
    expect(verify(null, Buffer.from(`${rfcBase}\n"@signature-params": ${parsed.signatureParams}`), RFC_PUBLIC_KEY, parsed.signature)).toBe(true);
    // @authority is outside this profile, so the verifier refuses it before any cryptography.
    expect(failureOf(() => verifySignature(parsed, request, RFC_PUBLIC_KEY, 1_618_884_473))).toBe('malformed-signature');
  });

  it('keeps parameters in the order received and serializes the inner list canonically', () => {
    const request = requestOf(withHeaders(getShape, { 'signature-input': `sig1=(  "@method"  "@path" "@query" );keyid="${KEY_ID}";created=5`, signature: ANY_SIGNATURE }));

    expect(parseSignature(request).signatureParams).toBe(`("@method" "@path" "@query");keyid="${KEY_ID}";created=5`);
  });

  it.each([
    ['Signature-Input is absent', { 'signature-input': undefined }],
    ['Signature is absent', { signature: undefined }],
    ['Signature-Input is empty', { 'signature-input': '' }],
  ])('refuses a request whose %s as missing-signature', (_case, headers) => {
    const shape = withHeaders(signed(getShape), headers);

    expect(failureOf(() => parseSignature(requestOf(shape)))).toBe('missing-signature');
  });

  it.each([
    ['garbage', 'sig1=((;', ANY_SIGNATURE],
    ['a bare string instead of a dictionary', '"@method"', ANY_SIGNATURE],
    ['an oversize Signature-Input', `sig1=("@method");created=1;keyid="${KEY_ID}";nonce="${'n'.repeat(SIGNATURE_HEADER_LENGTH_MAX)}"`, ANY_SIGNATURE],
    ['an oversize Signature', `sig1=("@method")${VALID_PARAMS}`, `${ANY_SIGNATURE}, sig2=:${'A'.repeat(SIGNATURE_HEADER_LENGTH_MAX)}:`],
    ['two labels', `sig1=("@method")${VALID_PARAMS}, sig2=("@path")${VALID_PARAMS}`, `${ANY_SIGNATURE}, sig2=:AAAA:`],
    ['a label missing from Signature', `sig1=("@method")${VALID_PARAMS}`, 'sig2=:AAAA:'],
    ['a member that is not an inner list', `sig1="@method"${VALID_PARAMS}`, ANY_SIGNATURE],
    ['a component that is a token', `sig1=(date)${VALID_PARAMS}`, ANY_SIGNATURE],
    ['a component with parameters', `sig1=("content-digest";sf)${VALID_PARAMS}`, ANY_SIGNATURE],
    ['an upper-case component', `sig1=("Content-Digest")${VALID_PARAMS}`, ANY_SIGNATURE],
    ['a duplicate component', `sig1=("@method" "@path" "@method")${VALID_PARAMS}`, ANY_SIGNATURE],
    ['a signature that is not a byte sequence', `sig1=("@method")${VALID_PARAMS}`, 'sig1="AAAA"'],
    ['a missing keyid', `sig1=("@method");created=${CREATED_EPOCH_SECONDS}`, ANY_SIGNATURE],
    ['an empty keyid', `sig1=("@method");created=${CREATED_EPOCH_SECONDS};keyid=""`, ANY_SIGNATURE],
    ['a keyid of 129 characters', `sig1=("@method");created=${CREATED_EPOCH_SECONDS};keyid="${'k'.repeat(129)}"`, ANY_SIGNATURE],
    ['a keyid that is a token', `sig1=("@method");created=${CREATED_EPOCH_SECONDS};keyid=cli_abc`, ANY_SIGNATURE],
    ['a missing created', `sig1=("@method");keyid="${KEY_ID}"`, ANY_SIGNATURE],
    ['a negative created', `sig1=("@method");created=-1;keyid="${KEY_ID}"`, ANY_SIGNATURE],
    ['a decimal created', `sig1=("@method");created=${CREATED_EPOCH_SECONDS}.0;keyid="${KEY_ID}"`, ANY_SIGNATURE],
    ['a created that is a string', `sig1=("@method");created="${CREATED_EPOCH_SECONDS}";keyid="${KEY_ID}"`, ANY_SIGNATURE],
    ['a decimal expires', `sig1=("@method")${VALID_PARAMS};expires=1.5`, ANY_SIGNATURE],
    ['an alg that is a token', `sig1=("@method");created=1;keyid="${KEY_ID}";alg=ed25519`, ANY_SIGNATURE],
  ])('refuses %s as malformed-signature', (_case, signatureInput, signature) => {
    const request = requestOf(withHeaders(getShape, { 'signature-input': signatureInput, signature }));

    expect(failureOf(() => parseSignature(request))).toBe('malformed-signature');
  });

  it('refuses alg="rsa-pss-sha512" as unsupported-algorithm', () => {
    const shape = handSigned(getShape, ['@method', '@path', '@query'], `;created=${CREATED_EPOCH_SECONDS};keyid="${KEY_ID}";alg="rsa-pss-sha512"`);

    expect(failureOf(() => parseSignature(requestOf(shape)))).toBe('unsupported-algorithm');
  });
});

describe('verifySignature', () => {
  it('accepts a signed POST with its idempotency key and content digest', () => {
    const shape = signed(postShape);

    expect(failureOf(() => verifyShape(shape))).toBeUndefined();
    expect(failureOf(() => verifyContentDigest(requestOf(shape).header('content-digest'), body))).toBeUndefined();
  });

  it('accepts a signed GET with a query, under any single label and parameter order', () => {
    const shape = handSigned(getShape, ['@query', '@path', '@method'], `;keyid="${KEY_ID}";created=${CREATED_EPOCH_SECONDS}`, 'client-7');

    expect(failureOf(() => verifyShape(shape))).toBeUndefined();
  });

  it('accepts a request whose method case and header padding differ from what was signed', () => {
    const shape = signed({ ...postShape, method: 'post' });

    expect(failureOf(() => verifyShape(withHeaders({ ...shape, method: 'POST' }, { 'idempotency-key': '  idem-7f3a\t' })))).toBeUndefined();
  });

  it.each<[string, (shape: RequestShape) => RequestShape]>([
    ['method', (shape) => ({ ...shape, method: 'PUT' })],
    ['path', (shape) => ({ ...shape, path: '/v1/transactions/other' })],
    ['query', (shape) => ({ ...shape, query: canonicalQuery([['dryRun', 'true']]) })],
    ['idempotency-key', (shape) => withHeaders(shape, { 'idempotency-key': 'idem-7f3b' })],
    ['content-digest', (shape) => withHeaders(shape, { 'content-digest': contentDigest(RFC_BODY) })],
  ])('refuses a request whose %s changed after signing as invalid-signature', (_component, tamper) => {
    const shape = tamper(signed(postShape));

    expect(failureOf(() => verifyShape(shape))).toBe('invalid-signature');
  });

  it('refuses to verify with a public key that is not Ed25519', () => {
    const shape = signed(postShape);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

    expect(() => verifyShape(shape, publicKey)).toThrow(/Ed25519/);
  });

  it('refuses a signature made with another keypair as invalid-signature', () => {
    const shape = signed(postShape, strangerKeys.privateKey);

    expect(failureOf(() => verifyShape(shape))).toBe('invalid-signature');
  });

  it.each<[string, number, SignatureFailure | undefined]>([
    ['301 s old', CREATED_EPOCH_SECONDS + SIGNATURE_CLOCK_SKEW_SECONDS + 1, 'expired'],
    ['301 s ahead', CREATED_EPOCH_SECONDS - SIGNATURE_CLOCK_SKEW_SECONDS - 1, 'not-yet-valid'],
    ['300 s old', CREATED_EPOCH_SECONDS + SIGNATURE_CLOCK_SKEW_SECONDS, undefined],
    ['300 s ahead', CREATED_EPOCH_SECONDS - SIGNATURE_CLOCK_SKEW_SECONDS, undefined],
  ])('judges a signature created %s', (_case, nowEpochSeconds, failure) => {
    const shape = signed(postShape);

    expect(failureOf(() => verifyShape(shape, clientKeys.publicKey, nowEpochSeconds))).toBe(failure);
  });

  it.each<[string, number, SignatureFailure | undefined]>([
    ['a second ago', CREATED_EPOCH_SECONDS - 1, 'expired'],
    ['now', CREATED_EPOCH_SECONDS, 'expired'],
    ['in a minute', CREATED_EPOCH_SECONDS + 60, undefined],
  ])('judges a signature that expires %s', (_case, expiresEpochSeconds, failure) => {
    const shape = handSigned(getShape, ['@method', '@path', '@query'], `${VALID_PARAMS};expires=${expiresEpochSeconds}`);

    expect(failureOf(() => verifyShape(shape))).toBe(failure);
  });

  it('refuses a POST whose signature does not cover content-digest as missing-component', () => {
    const shape = handSigned(postShape, ['@method', '@path', '@query', 'idempotency-key'], VALID_PARAMS);

    const refusal = refusalOf(() => verifyShape(shape));

    expect(refusal?.failure).toBe('missing-component');
    expect(refusal?.message).toMatch(/content-digest/);
  });

  it('refuses an idempotency key the signature does not cover as missing-component', () => {
    const shape = withHeaders(signed(getShape), { 'idempotency-key': 'idem-late' });

    const refusal = refusalOf(() => verifyShape(shape));

    expect(refusal?.failure).toBe('missing-component');
    expect(refusal?.message).toMatch(/idempotency-key/);
  });

  it('refuses a covered header the request no longer carries as missing-component', () => {
    const typed = withHeaders(getShape, { 'content-type': 'application/json' });
    const shape = withHeaders(handSigned(typed, ['@method', '@path', '@query', 'content-type'], VALID_PARAMS), { 'content-type': undefined });

    expect(failureOf(() => verifyShape(shape))).toBe('missing-component');
  });

  it.each(['@authority', '@target-uri', '@request-target'])('refuses the derived component %s as malformed-signature', (component) => {
    const shape = withHeaders(getShape, { 'signature-input': `sig1=("@method" "@path" "@query" "${component}")${VALID_PARAMS}`, signature: ANY_SIGNATURE });

    expect(failureOf(() => verifyShape(shape))).toBe('malformed-signature');
  });
});

describe('signing and digest properties', () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const path = fc.array(fc.webSegment(), { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`);
  const parameters = fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 })), { maxLength: 4 });

  it('verifies what it signs for any body, path, query and key, and refuses the body once any one byte flips', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2_048 }),
        path,
        parameters,
        seed,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, requestPath, query, keySeed, flipAt, flipMask) => {
          const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, keySeed]), format: 'der', type: 'pkcs8' });
          const shape = signed({ method: 'POST', path: requestPath, query: canonicalQuery(query), headers: { 'content-digest': contentDigest(bytes) } }, privateKey);
          const flipped = Uint8Array.from(bytes);
          const index = flipAt % flipped.length;
          flipped[index] = (flipped[index] ?? 0) ^ flipMask;

          expect(failureOf(() => verifyShape(shape, createPublicKey(privateKey)))).toBeUndefined();
          expect(failureOf(() => verifyContentDigest(shape.headers['content-digest'], bytes))).toBeUndefined();
          expect(failureOf(() => verifyContentDigest(shape.headers['content-digest'], flipped))).toBe('digest-mismatch');
        },
      ),
    );
  });
});
