// The handler bundles' credential provider (lambdas/shared/lambda-credentials.ts): the Lambda
// environment's credentials, container credentials when those are what Lambda provides, a clear
// failure without either, and the SDK's expiry contract.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { credentialsTreatedAsExpired, credentialsWillNeedRefresh, defaultProvider } from '../../lambdas/shared/lambda-credentials.js';

/** A loopback container-credentials endpoint that counts its requests and answers `expiration` per call. */
async function credentialsEndpoint(expiration: (request: number) => Date): Promise<{ url: string; requests: () => number; close: () => void }> {
  let requests = 0;
  const server: Server = createServer((_request, response) => {
    requests += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ AccessKeyId: `ASIACONTAINER${requests}`, SecretAccessKey: 'container-secret', Token: 'container-token', Expiration: expiration(requests).toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`, requests: () => requests, close: () => server.close() };
}

/** The provider in a sandbox that has no environment keys, only the container endpoint at `url`. */
function containerProvider(url: string): ReturnType<typeof defaultProvider> {
  vi.stubEnv('AWS_ACCESS_KEY_ID', '');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
  vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', url);
  return defaultProvider();
}

describe('lambda credentials', () => {
  beforeEach(() => {
    // The machine running the tests may have its own (a CI runner in a container): none leak in.
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', '');
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', '');
    vi.stubEnv('AWS_PROFILE', '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("answers with the execution role's credentials Lambda puts in the environment, read once", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session');
    const provider = defaultProvider();

    const credentials = await provider();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIACHANGED');

    expect(credentials).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' });
    expect(await provider()).toBe(credentials);
  });

  it('fails clearly when the environment has no credentials, without trying other sources', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    await expect(defaultProvider()()).rejects.toThrow('Unable to find environment variable credentials');
  });

  it('falls back to container credentials when Lambda hands those out instead of environment keys, and asks once', async () => {
    const expiration = new Date(Date.now() + 3_600_000);
    const endpoint = await credentialsEndpoint(() => expiration);
    try {
      const provider = containerProvider(endpoint.url);

      const first = await provider();
      const second = await provider();

      expect(first).toMatchObject({ accessKeyId: 'ASIACONTAINER1', secretAccessKey: 'container-secret', sessionToken: 'container-token' });
      expect(first.expiration?.toISOString()).toBe(expiration.toISOString());
      expect(second).toBe(first);
      expect(endpoint.requests()).toBe(1);
    } finally {
      endpoint.close();
    }
  });

  it('does not keep container credentials within five minutes of their expiry: it fetches fresh ones, then keeps those', async () => {
    // The first answer is about to expire, the next ones are good for an hour.
    const endpoint = await credentialsEndpoint((request) => new Date(Date.now() + (request === 1 ? 60_000 : 3_600_000)));
    try {
      const provider = containerProvider(endpoint.url);

      const first = await provider();
      const second = await provider();

      expect(first.accessKeyId).toBe('ASIACONTAINER2');
      expect(second).toBe(first);
      expect(endpoint.requests()).toBe(2);
    } finally {
      endpoint.close();
    }
  });

  it('treats credentials as expired five minutes before they expire, and static ones never', () => {
    const now = Date.now();
    expect(credentialsTreatedAsExpired({ accessKeyId: 'a', secretAccessKey: 's', expiration: new Date(now + 4 * 60_000) })).toBe(true);
    expect(credentialsTreatedAsExpired({ accessKeyId: 'a', secretAccessKey: 's', expiration: new Date(now + 10 * 60_000) })).toBe(false);
    expect(credentialsTreatedAsExpired({ accessKeyId: 'a', secretAccessKey: 's' })).toBe(false);
    expect(credentialsWillNeedRefresh({ accessKeyId: 'a', secretAccessKey: 's', expiration: new Date(now) })).toBe(true);
    expect(credentialsWillNeedRefresh({ accessKeyId: 'a', secretAccessKey: 's' })).toBe(false);
    expect(credentialsWillNeedRefresh(undefined)).toBe(false);
  });
});
