// The port to the gateway's usage plans: every API client gets an API key of its own in its
// channel's usage plan, so throttles and quotas apply per client (one abusive terminal cannot
// exhaust its whole channel). The key is a throttling identity, not a credential: requests are
// trusted because they are signed.
import type { ClientChannel } from './api-client.js';

export interface IssuedUsageKey {
  /** The gateway's id for the key (what API Gateway hands the function as identity.apiKeyId). */
  readonly usageKeyId: string;
  /** The value the client sends in x-api-key; handed out once, with the client's credentials. */
  readonly usageKey: string;
}

export interface UsageKeys {
  /** Creates an enabled key for the client in its channel's usage plan. */
  issueKey(client: { readonly clientId: string; readonly institutionId: string; readonly channel: ClientChannel }): Promise<IssuedUsageKey>;
  /** Disables the key at the gateway, so a revoked client is refused before the function runs. */
  disableKey(usageKeyId: string): Promise<void>;
}
