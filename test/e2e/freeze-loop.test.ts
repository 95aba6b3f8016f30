// Proves the risk loop end to end through the local runtime, driven only over HTTP: a CRITICAL
// pattern (a large first payment to a new payee that also crosses the hourly amount) raises an
// alert that is stored, notified to operations and freezes the debtor; its next debit is REJECTED
// with ACCOUNT_FROZEN while a credit to it posts; resolving the alert and unfreezing restores
// debits. Card testing (repeated rejections) raises a HIGH alert without freezing. Money is
// conserved throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient} from '../../lib/cli/api-client.js';
import { type AlertView } from '../../lib/cli/api-client.js';
import { LOCAL_NOTIFICATIONS_PATH, startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import type { ReceivedNotification } from '../../lib/local/ops-console.js';
import { DEFAULT_THRESHOLDS as T } from '../../lambdas/core/risk/thresholds.js';
import { adminOver, clientOverHttp, openAccountOverHttp, transferOverHttp } from '../support/http-fixtures.js';
import { expectMoneyConserved } from '../support/ledger-fixtures.js';

const DECISION_TIMEOUT_MS = 15_000;
const ALERT_TIMEOUT_MS = 15_000;

let runtime: LocalRuntime;
let web: ApiClient;
let admin: ApiClient;

beforeAll(async () => {
  runtime = await startLocalRuntime({ retryDelaySeconds: 0, seed: false, printNotification: () => undefined });
  admin = adminOver(runtime.apiUrl, runtime.credentials.adminKeys);
  web = await clientOverHttp(admin, runtime.apiUrl, 'bank-risk');
});

afterAll(async () => {
  await expectMoneyConserved(runtime.clients.dynamodb, runtime.bindings.tables.ledger);
  await runtime.stop();
});

const openAccount = (balance: number): Promise<string> => openAccountOverHttp(admin, { institutionId: 'bank-risk', currency: 'EUR', balance });
const transfer = (debtorAccountId: string, creditorAccountId: string, amount: number) =>
  transferOverHttp(web, { debtorAccountId, creditorAccountId, amount, currency: 'EUR' }, DECISION_TIMEOUT_MS);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ALERT_TIMEOUT_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function notifications(): Promise<ReceivedNotification[]> {
  const response = await admin.request<{ notifications: ReceivedNotification[] }>('GET', LOCAL_NOTIFICATIONS_PATH, { admin: true });
  expect(response.status).toBe(200);
  return response.body.notifications;
}

describe('the risk loop over HTTP', () => {
  it('freezes on a CRITICAL alert: debits are refused, credits post, and resolve + unfreeze restore debits', async () => {
    const [debtor, newPayee, friend] = await Promise.all([openAccount(5_000_000), openAccount(0), openAccount(100_000)]);
    const amount = T.velocityAmount.amountMinor; // also >= LARGE_AMOUNT (WEB) and NEW_PAYEE_LARGE_AMOUNT

    const trigger = await transfer(debtor, newPayee, amount);
    const alert = await waitFor('the CRITICAL alert to be acted on', async () => {
      const [found] = (await admin.listAlerts({ accountId: debtor })).body.alerts;
      return found?.freeze !== undefined && found.notifiedAt !== undefined ? found : undefined;
    });
    const frozen = await web.getAccount(debtor);
    const refusedDebit = await transfer(debtor, friend, 1_000);
    const credit = await transfer(friend, debtor, 2_500);
    const notified = (await notifications()).filter((notification) => notification.alertId === alert.alertId);

    expect(trigger.status).toBe('POSTED');
    expect(alert).toMatchObject<Partial<AlertView>>({ severity: 'CRITICAL', status: 'OPEN', transactionId: trigger.transactionId, totalWeight: 100 });
    expect(alert.rulesHit.map((hit) => hit.ruleId).sort()).toEqual(['LARGE_AMOUNT', 'NEW_PAYEE_LARGE_AMOUNT', 'VELOCITY_AMOUNT']);
    expect(alert.freeze?.outcome).toBe('FROZEN');
    expect(frozen.body.status).toBe('FROZEN');
    // Channels see that the account is frozen, never which alert froze it.
    expect(frozen.body).not.toHaveProperty('frozenByAlertId');
    expect((await web.request('GET', `/v1/alerts?accountId=${debtor}`)).status).toBe(403);
    expect(refusedDebit).toMatchObject({ status: 'REJECTED', rejectionReason: 'ACCOUNT_FROZEN' });
    expect(credit.status).toBe('POSTED');
    expect(notified).toHaveLength(1);
    expect(notified[0]?.subject).toContain('[CRITICAL]');
    expect(notified[0]?.message).toContain('FROZEN by this alert');

    const resolved = await admin.resolveAlert(alert.alertId, { resolution: 'FALSE_POSITIVE', note: 'customer bought a car; verified by phone' });
    const unfrozen = await admin.unfreeze(debtor);
    const debitAfter = await transfer(debtor, friend, 1_000);

    expect(resolved.status).toBe(200);
    expect(resolved.body.status).toBe('RESOLVED');
    expect(unfrozen.status).toBe(200);
    expect(unfrozen.body.status).toBe('ACTIVE');
    expect(debitAfter.status).toBe('POSTED');
    // The refused debit moved nothing; the credit and the debit after the unfreeze did.
    expect((await web.getAccount(debtor)).body.balance).toBe(BigInt(5_000_000 - amount + 2_500 - 1_000));
    // The alert was acted on once: no second notification, no re-freeze.
    expect((await notifications()).filter((notification) => notification.alertId === alert.alertId)).toHaveLength(1);
    expect((await web.getAccount(debtor)).body.status).toBe('ACTIVE');
  });

  it('raises a HIGH alert for card testing (repeated rejections) without freezing the account', async () => {
    const [prober, target] = await Promise.all([openAccount(100), openAccount(0)]);

    const attempts = [];
    for (let attempt = 0; attempt < T.repeatedRejections.perAccountMin; attempt++) attempts.push(await transfer(prober, target, 5_000 + attempt));
    const alert = await waitFor('the card-testing alert', async () => {
      const found = (await admin.listAlerts({ accountId: prober, severity: 'HIGH' })).body.alerts[0];
      return found?.notifiedAt !== undefined ? found : undefined;
    });

    expect(attempts.map((attempt) => attempt.rejectionReason)).toEqual(Array(T.repeatedRejections.perAccountMin).fill('INSUFFICIENT_FUNDS'));
    expect(alert.rulesHit.map((hit) => hit.ruleId)).toEqual(['REPEATED_REJECTIONS']);
    expect(alert.freeze).toBeUndefined();
    expect((await web.getAccount(prober)).body.status).toBe('ACTIVE');
  });
});
