// Fixtures for tests that drive a local runtime over HTTP only, as a channel and a back office
// would: a funded account opened through the admin API, an API client issued for an institution,
// a transfer submitted and waited for.
import { expect } from 'vitest';
import { ApiClient, credentialsOf, type SubmitTransfer, type TransactionView } from '../../lib/cli/api-client.js';
import type { AdminRole } from '../../lambdas/core/trust/api-client.js';

export interface HttpAccountFixture {
  readonly institutionId: string;
  readonly currency: string;
  /** Deposited from the institution's funding account (minor units); none when 0. */
  readonly balance: number;
}

export async function openAccountOverHttp(admin: ApiClient, fixture: HttpAccountFixture): Promise<string> {
  const opened = await admin.openAccount({ institutionId: fixture.institutionId, currency: fixture.currency });
  expect(opened.status).toBe(201);
  const accountId = opened.body.accountId as string;
  if (fixture.balance > 0) expect((await admin.deposit(accountId, { amount: fixture.balance, currency: fixture.currency })).status).toBe(201);
  return accountId;
}

/** Submits the transfer (which must be accepted with 202) and waits for its decision. */
export async function transferOverHttp(channel: ApiClient, transfer: SubmitTransfer, timeoutMs: number): Promise<TransactionView> {
  const accepted = await channel.submit(transfer);
  expect(accepted.status).toBe(202);
  return channel.waitForDecision(accepted.body.transactionId as string, timeoutMs);
}

/** The back office of a local runtime: every admin role's key (each route takes its own role's). */
export function adminOver(baseUrl: string, adminKeys: Readonly<Record<AdminRole, string>>): ApiClient {
  return new ApiClient({ baseUrl, adminKeys });
}

/** Issues an API client of the institution over the admin API and acts as it (signing every request). */
export async function clientOverHttp(admin: ApiClient, baseUrl: string, institutionId: string, channel: 'WEB' | 'MOBILE' | 'POS' = 'WEB'): Promise<ApiClient> {
  const issued = await admin.createClient(institutionId, { channel });
  expect(issued.status).toBe(201);
  return new ApiClient({ baseUrl, credentials: credentialsOf(issued.body, baseUrl) });
}
