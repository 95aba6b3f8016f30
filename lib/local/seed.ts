// Demo data for the local runtime: two institutions, a handful of funded EUR accounts, and an API
// client per institution and channel. Seeding is idempotent (fixed account ids, deposits under
// fixed transfer ids, client credential files kept in the data dir), so a restart against a
// persistent data dir finds everything as it was and changes no balance.
import { fundingAccountId, type Account } from '../../lambdas/core/ledger/account.js';
import type { SettlementStore } from '../../lambdas/core/settlement/ports.js';
import type { LedgerStore } from '../../lambdas/core/ledger/ports.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_CHANNELS, verificationKey, type ClientStore } from '../../lambdas/core/trust/api-client.js';
import { issueClient } from '../../lambdas/core/trust/issue-client.js';
import type { UsageKeys } from '../../lambdas/core/trust/usage-keys.js';
import { readClientCredentials, writeClientCredentials, type ClientCredentials } from './credentials.js';

export interface SeedAccount {
  readonly accountId: string;
  readonly institutionId: string;
  readonly currency: CurrencyCode;
  readonly openingBalanceMinor: number;
  readonly holder: string;
}

export const DEMO_ACCOUNTS: readonly SeedAccount[] = [
  { accountId: 'acc-alice', institutionId: 'bank-a', currency: 'EUR', openingBalanceMinor: 1_000_000, holder: 'Alice (bank-a)' },
  { accountId: 'acc-bob', institutionId: 'bank-a', currency: 'EUR', openingBalanceMinor: 250_000, holder: 'Bob (bank-a)' },
  { accountId: 'acc-carol', institutionId: 'bank-b', currency: 'EUR', openingBalanceMinor: 500_000, holder: 'Carol (bank-b)' },
  { accountId: 'acc-dave', institutionId: 'bank-b', currency: 'EUR', openingBalanceMinor: 50_000, holder: 'Dave (bank-b)' },
  { accountId: 'acc-shop', institutionId: 'bank-b', currency: 'EUR', openingBalanceMinor: 0, holder: 'Corner shop (bank-b)' },
];

export class SeedError extends Error {
  override name = 'SeedError';
}

/**
 * Each demo institution's Net Debit Cap per currency (minor units): without one it could not send
 * interbank at all. Set only where none is, so a cap changed on a kept data dir stays.
 */
export const DEMO_NET_DEBIT_CAP_MINOR = 100_000_000n;
const DEMO_SEED_ACTOR = { role: 'settlement', principal: 'local-demo-seed' } as const;

export async function seedDemoLedger(ledger: LedgerStore, settlement: Pick<SettlementStore, 'netDebitCap' | 'setNetDebitCap'>, now: Date = new Date()): Promise<readonly SeedAccount[]> {
  for (const { institutionId, currency } of new Map(DEMO_ACCOUNTS.map((seed) => [`${seed.institutionId}#${seed.currency}`, seed])).values()) {
    if ((await settlement.netDebitCap(institutionId, currency)) === undefined) await settlement.setNetDebitCap(institutionId, currency, DEMO_NET_DEBIT_CAP_MINOR, DEMO_SEED_ACTOR);
  }
  for (const seed of DEMO_ACCOUNTS) {
    const account: Account = {
      accountId: seed.accountId,
      institutionId: seed.institutionId,
      currency: seed.currency,
      kind: 'CUSTOMER',
      status: 'ACTIVE',
      balanceMinor: 0n,
      overdraftLimitMinor: 0n,
      openedAt: now.toISOString(),
    };
    await ledger.openAccount({ ...account, accountId: fundingAccountId(seed.institutionId, seed.currency), kind: 'FUNDING' });
    await ledger.openAccount(account);
    if (seed.openingBalanceMinor === 0) continue;
    const result = await ledger.postTransfer({
      transferId: transferIdFor('ADMIN', `seed-opening-balance-${seed.accountId}`),
      debtorAccountId: fundingAccountId(seed.institutionId, seed.currency),
      creditorAccountId: seed.accountId,
      amountMinor: seed.openingBalanceMinor,
      currency: seed.currency,
      channel: 'ADMIN',
      reference: 'opening balance (demo seed)',
      requestedAt: now.toISOString(),
    });
    if (result.kind === 'modified' || result.transfer.status !== 'POSTED') {
      throw new SeedError(`opening balance of ${seed.accountId} did not post: ${result.kind === 'modified' ? result.reason : result.transfer.rejectionReason}`);
    }
  }
  return DEMO_ACCOUNTS;
}

export interface SeededClient {
  readonly file: string;
  readonly credentials: ClientCredentials;
}

/**
 * Issues one API client per demo institution and channel and writes its credentials file to
 * `dir`. A file whose client is still ACTIVE with that key is reused (a restart on a data dir
 * keeps yesterday's credentials working); otherwise a new client is issued.
 */
export async function seedDemoClients(
  ports: { readonly clients: ClientStore; readonly usageKeys: UsageKeys },
  institutionIds: readonly string[],
  dir: string,
  apiUrl: string,
  now: Date = new Date(),
): Promise<SeededClient[]> {
  const seeded: SeededClient[] = [];
  for (const institutionId of institutionIds) {
    for (const channel of CLIENT_CHANNELS) {
      const file = path.join(dir, `${institutionId}-${channel.toLowerCase()}.json`);
      const kept = existsSync(file) ? readClientCredentials(file) : undefined;
      const stored = kept === undefined ? undefined : await ports.clients.getClient(kept.clientId);
      if (kept !== undefined && stored !== undefined && verificationKey(stored, kept.keyId, now) !== undefined) {
        const credentials = { ...kept, api: apiUrl };
        writeClientCredentials(file, credentials);
        seeded.push({ file, credentials });
        continue;
      }
      const issued = await issueClient(ports, { institutionId, channel }, { role: 'operations', principal: 'local-seed' }, now);
      const [key] = issued.client.keys;
      if (key === undefined || issued.privateKey === undefined) throw new SeedError(`client for ${institutionId} ${channel} came without its key`);
      const credentials: ClientCredentials = {
        api: apiUrl,
        clientId: issued.client.clientId,
        keyId: key.keyId,
        institutionId,
        channel,
        apiKey: issued.usageKey,
        privateKey: issued.privateKey,
      };
      writeClientCredentials(file, credentials);
      seeded.push({ file, credentials });
    }
  }
  return seeded;
}
