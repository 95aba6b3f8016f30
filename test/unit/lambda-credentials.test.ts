// The handler bundles' credential provider (lambdas/shared/lambda-credentials.ts): the Lambda
// environment's credentials, and a clear failure without them, with the SDK's expiry contract.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialsTreatedAsExpired, credentialsWillNeedRefresh, defaultProvider } from '../../lambdas/shared/lambda-credentials.js';

describe('lambda credentials', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("answers with the execution role's credentials Lambda puts in the environment", async () => {
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session');
    const credentials = await defaultProvider()();
    expect(credentials).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' });
  });

  it('fails clearly when the environment has no credentials, without trying other sources', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    await expect(defaultProvider()()).rejects.toThrow('Unable to find environment variable credentials');
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
