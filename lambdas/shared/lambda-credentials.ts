// The credential provider the handler bundles use in place of @aws-sdk/credential-provider-node
// (an esbuild alias in lib/constructs/handler-function.ts). On Lambda the execution role's
// credentials are in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// the first link of the SDK's default chain; the rest of that chain (SSO, shared ini files, process,
// web identity, container and instance metadata, with the STS and SSO clients they carry) can
// never answer there, yet bundled it costs each handler about 120 KB and its parse time.
//
// A Lambda environment that hands out container credentials instead (AWS_CONTAINER_CREDENTIALS_*,
// as the SDK's chain would reach last) is served from that endpoint, so such a mode degrades to
// the SDK's own behaviour rather than failing every call.
//
// Only the bundles use this module; tests and the local runtime run the source with the SDK's
// default chain. The exports mirror the replaced package's, which the clients' runtimeConfig imports.
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { memoize } from '@smithy/core/config';

/** What the SDK's runtimeConfig passes to the default provider; only the logger matters here. */
export type DefaultProviderInit = NonNullable<Parameters<typeof fromEnv>[0]>;
type CredentialProvider = ReturnType<typeof fromEnv>;
type AwsCredentialIdentity = Awaited<ReturnType<CredentialProvider>>;

/**
 * The environment's credentials (or the container endpoint's), memoized as the SDK's own default
 * chain memoizes its answer: the client uses what this returns as it is, so without it every
 * request would ask again (for the container endpoint, an HTTP round trip per call). Credentials
 * without an expiry are kept for the sandbox's life; those with one are fetched again five
 * minutes before they expire.
 */
export function defaultProvider(init: DefaultProviderInit = {}): CredentialProvider {
  const environment = fromEnv(init);
  const resolve: CredentialProvider = !containerCredentialsConfigured()
    ? environment
    : async (properties) => {
        try {
          return await environment(properties);
        } catch {
          return fromHttp(init)(properties);
        }
      };
  return memoize(resolve, credentialsTreatedAsExpired, credentialsWillNeedRefresh);
}

function containerCredentialsConfigured(): boolean {
  return Boolean(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI) || Boolean(process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
}

/** Same contract as the SDK's: credentials with an expiry are refreshed by the identity cache. */
export function credentialsWillNeedRefresh(credentials: AwsCredentialIdentity | undefined): boolean {
  return credentials?.expiration !== undefined;
}

/** Same contract as the SDK's: treated as expired five minutes before they expire. */
export function credentialsTreatedAsExpired(credentials: AwsCredentialIdentity | undefined): boolean {
  return credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
}
