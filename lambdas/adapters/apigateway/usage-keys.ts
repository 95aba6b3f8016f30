// API Gateway implementation of the UsageKeys port: each API client gets an API key of its own,
// attached to its channel's usage plan (found by name: passing the plan id to the api function
// would make the function depend on the stage that depends on the function).
import { randomBytes } from 'node:crypto';
import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  GetUsagePlansCommand,
  UpdateApiKeyCommand,
  type APIGatewayClient,
} from '@aws-sdk/client-api-gateway';
import type { ClientChannel } from '../../core/trust/api-client.js';
import type { IssuedUsageKey, UsageKeys } from '../../core/trust/usage-keys.js';

/** Usage plans listed per page while looking one up by name; an account holds at most 300. */
const PLAN_PAGE_SIZE = 500;

export class UsageKeyError extends Error {
  override name = 'UsageKeyError';
}

export class ApiGatewayUsageKeys implements UsageKeys {
  readonly #client: APIGatewayClient;
  readonly #planNames: Readonly<Record<ClientChannel, string>>;
  readonly #planIds = new Map<string, string>();

  constructor(client: APIGatewayClient, planNames: Readonly<Record<ClientChannel, string>>) {
    this.#client = client;
    this.#planNames = planNames;
  }

  async issueKey(client: { readonly clientId: string; readonly institutionId: string; readonly channel: ClientChannel }): Promise<IssuedUsageKey> {
    const usagePlanId = await this.#planId(client.channel);
    const value = `pk_${randomBytes(24).toString('base64url')}`;
    const created = await this.#client.send(
      new CreateApiKeyCommand({ name: client.clientId, description: `payments client ${client.clientId} of ${client.institutionId} (${client.channel})`, enabled: true, value }),
    );
    if (created.id === undefined) throw new UsageKeyError(`API Gateway created no key id for ${client.clientId}`);
    try {
      await this.#client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: created.id, keyType: 'API_KEY' }));
    } catch (error) {
      // A key outside every plan is refused by the gateway anyway; disable it so it is plainly dead.
      await this.disableKey(created.id).catch(() => undefined);
      throw error;
    }
    return { usageKeyId: created.id, usageKey: value };
  }

  async disableKey(usageKeyId: string): Promise<void> {
    await this.#client.send(new UpdateApiKeyCommand({ apiKey: usageKeyId, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
  }

  async #planId(channel: ClientChannel): Promise<string> {
    const name = this.#planNames[channel];
    const cached = this.#planIds.get(name);
    if (cached !== undefined) return cached;
    let position: string | undefined;
    do {
      const page = await this.#client.send(new GetUsagePlansCommand({ limit: PLAN_PAGE_SIZE, ...(position !== undefined ? { position } : {}) }));
      const plan = page.items?.find((candidate) => candidate.name === name);
      if (plan?.id !== undefined) {
        this.#planIds.set(name, plan.id);
        return plan.id;
      }
      position = page.position;
    } while (position !== undefined);
    throw new UsageKeyError(`no usage plan named ${name}`);
  }
}
