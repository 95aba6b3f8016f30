// Proves the API Gateway adapter of the usage keys port asks API Gateway for the right things:
// a key per client, added to its own channel's plan (found by name, across pages, once), a key
// left disabled when it cannot join its plan, and a revoked client's key disabled. There is no
// API Gateway emulator here, so the SDK client is a recording fake: the requests are the contract.
import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  GetUsagePlansCommand,
  UpdateApiKeyCommand,
  type APIGatewayClient,
} from '@aws-sdk/client-api-gateway';
import { describe, expect, it } from 'vitest';
import { ApiGatewayUsageKeys, UsageKeyError } from '../../lambdas/adapters/apigateway/usage-keys.js';

const PLANS = { WEB: 'payments-prod-WEB', MOBILE: 'payments-prod-MOBILE', POS: 'payments-prod-POS' } as const;

interface Recorded {
  readonly name: string;
  readonly input: unknown;
}

function fakeGateway(options: { readonly failPlanKey?: boolean } = {}): { client: APIGatewayClient; sent: Recorded[] } {
  const sent: Recorded[] = [];
  const send = (command: { constructor: { name: string }; input: unknown }): Promise<unknown> => {
    sent.push({ name: command.constructor.name, input: command.input });
    if (command instanceof GetUsagePlansCommand) {
      // Two pages: the plan asked for is on the second.
      return Promise.resolve(
        command.input.position === undefined
          ? { items: [{ id: 'plan-web', name: PLANS.WEB }, { id: 'plan-other', name: 'someone-else' }], position: 'page-2' }
          : { items: [{ id: 'plan-pos', name: PLANS.POS }] },
      );
    }
    if (command instanceof CreateApiKeyCommand) return Promise.resolve({ id: 'key-123', value: command.input.value });
    if (command instanceof CreateUsagePlanKeyCommand) return options.failPlanKey === true ? Promise.reject(new Error('TooManyRequests')) : Promise.resolve({});
    if (command instanceof UpdateApiKeyCommand) return Promise.resolve({});
    return Promise.reject(new Error(`unexpected ${command.constructor.name}`));
  };
  // Only send() is used by the adapter; the rest of the client is irrelevant to this contract.
  return { client: { send } as unknown as APIGatewayClient, sent };
}

describe('ApiGatewayUsageKeys', () => {
  it('creates an enabled key named after the client and adds it to its channel plan, found by name across pages', async () => {
    const { client, sent } = fakeGateway();
    const keys = new ApiGatewayUsageKeys(client, PLANS);

    const issued = await keys.issueKey({ clientId: 'cli_abc', institutionId: 'bank-a', channel: 'POS' });
    await keys.issueKey({ clientId: 'cli_def', institutionId: 'bank-a', channel: 'POS' });

    expect(issued.usageKeyId).toBe('key-123');
    expect(issued.usageKey).toMatch(/^pk_[A-Za-z0-9_-]{32}$/);
    expect(sent.filter((entry) => entry.name === 'GetUsagePlansCommand')).toHaveLength(2); // the plan id is cached after the first lookup
    expect(sent.find((entry) => entry.name === 'CreateApiKeyCommand')?.input).toMatchObject({ name: 'cli_abc', enabled: true, value: issued.usageKey });
    expect(sent.find((entry) => entry.name === 'CreateUsagePlanKeyCommand')?.input).toEqual({ usagePlanId: 'plan-pos', keyId: 'key-123', keyType: 'API_KEY' });
  });

  it('disables the key it created when the key cannot join its plan, and reports the failure', async () => {
    const { client, sent } = fakeGateway({ failPlanKey: true });

    await expect(new ApiGatewayUsageKeys(client, PLANS).issueKey({ clientId: 'cli_abc', institutionId: 'bank-a', channel: 'WEB' })).rejects.toThrow('TooManyRequests');

    expect(sent.at(-1)).toEqual({ name: 'UpdateApiKeyCommand', input: { apiKey: 'key-123', patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] } });
  });

  it('refuses to issue when the channel has no plan of that name', async () => {
    const { client } = fakeGateway();

    await expect(new ApiGatewayUsageKeys(client, PLANS).issueKey({ clientId: 'cli_abc', institutionId: 'bank-a', channel: 'MOBILE' })).rejects.toBeInstanceOf(UsageKeyError);
  });

  it('disables a key by id', async () => {
    const { client, sent } = fakeGateway();

    await new ApiGatewayUsageKeys(client, PLANS).disableKey('key-9');

    expect(sent).toEqual([{ name: 'UpdateApiKeyCommand', input: { apiKey: 'key-9', patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] } }]);
  });
});
