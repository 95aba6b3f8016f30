// Proves the alerts handler on the in-memory services (its adapters hold to their contracts on the
// emulators too): each alert is stored once; HIGH notifies operations once; CRITICAL freezes the
// debtor once and publishes one AccountFrozen; redelivering any alert event repeats nothing (not
// even after an operator unfroze the account); a crash between the steps is completed by the
// retry; malformed messages are quarantined. "Nothing was published" is exact here: a publish has
// reached every queue when it returns, and each look takes the queue until it is empty.
import { randomUUID } from 'node:crypto';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaContext } from '../../lib/local/lambda-context.js';
import { DynamoAccountFreezer } from '../../lambdas/adapters/dynamodb/account-freezer.js';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../../lambdas/adapters/sns/ops-notifier.js';
import { QUARANTINE_REASON_ATTRIBUTE, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import { createAlertsHandler, type AlertsDependencies } from '../../lambdas/alerts/handler.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf, type PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { fundingAccountId } from '../../lambdas/core/ledger/account.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import type { AlertStore } from '../../lambdas/core/risk/alerts.js';
import type { Severity } from '../../lambdas/core/risk/severity.js';
import { withFaults } from '../support/fault.js';
import { ledgerOf, openFundedAccount, TEST_RISK_ACTOR, type LedgerHandle } from '../support/ledger-fixtures.js';
import { observeTopic, takeMessages } from '../support/queue-driver.js';
import { sqsRecordOf } from '../support/sqs-record.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';

let world: MemoryWorld;
let ledger: DynamoLedgerStore;
let handle: LedgerHandle;
let alerts: DynamoAlertStore;
let frozenEventsUrl: string;
let notificationsUrl: string;

beforeAll(async () => {
  world = await createTestWorld('alerts', 'memory');
  ({ ledger, handle } = ledgerOf(world));
  alerts = new DynamoAlertStore(world.clients.dynamodb, world.bindings.tables.risk);
  frozenEventsUrl = await observeTopic(world, world.bindings.topics.alerts, 'alerts-observer');
  notificationsUrl = await observeTopic(world, world.bindings.notificationTopics.operations, 'ops-inbox');
});

afterAll(() => world.destroy());

function handler(overrides: Partial<AlertsDependencies> = {}) {
  const alertsHandler = createAlertsHandler({
    alerts,
    freezer: new DynamoAccountFreezer(world.clients.dynamodb, world.bindings.tables),
    publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.alerts),
    notifier: new SnsOpsNotifier(world.clients.sns, world.bindings.notificationTopics.operations),
    quarantine: new SqsQuarantine(world.clients.sqs, world.bindings.queues.alerts.deadLetterUrl),
    logger: new Logger({ serviceName: 'payments-alerts', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-alerts', namespace: 'PaymentsBackbone' }),
    ...overrides,
  });
  return (...bodies: string[]) =>
    alertsHandler(
      { Records: bodies.map((body) => sqsRecordOf(body, 'g', world.bindings.queues.alerts.arn)) },
      createLambdaContext({ functionName: 'alerts', timeoutSeconds: 30, memorySizeMb: 512 }),
    );
}

const WEIGHT_OF: Record<Severity, number> = { LOW: 10, MEDIUM: 40, HIGH: 60, CRITICAL: 100 };

function raised(accountId: string, severity: Severity): EventOf<'RiskAlertRaised'> {
  const transactionId = transferIdFor('WEB', randomUUID());
  const alertId = eventIdFor.alert(transactionId);
  const raisedAt = new Date().toISOString();
  return {
    id: alertId,
    type: 'RiskAlertRaised',
    version: ENVELOPE_VERSION,
    occurredAt: raisedAt,
    correlationId: transactionId,
    causationId: `${transactionId}.posted`,
    data: {
      alertId,
      transactionId,
      accountId,
      severity,
      totalWeight: WEIGHT_OF[severity],
      rulesHit: [{ ruleId: 'VELOCITY_AMOUNT', weight: WEIGHT_OF[severity], evidence: { debitedMinor: 2_500_000, thresholdMinor: 2_000_000 } }],
      amountMinor: 900_000,
      currency: 'EUR',
      channel: 'WEB',
      raisedAt,
    },
  };
}

const bodyOf = (event: PaymentEvent) => JSON.stringify(event);

/** Everything that reached an observer since the last look, taken off it until it is empty. */
async function published(url: string) {
  return takeMessages(world, url, Number.POSITIVE_INFINITY);
}

async function frozenEvents(): Promise<PaymentEvent[]> {
  return (await published(frozenEventsUrl)).map((message) => JSON.parse(message.Body ?? '{}') as PaymentEvent);
}

describe('alerts handler', () => {
  it('stores a HIGH alert once and notifies operations once, without freezing; redelivery repeats nothing', async () => {
    const account = await openFundedAccount(handle, { balanceMinor: 10_000n });
    const event = raised(account.accountId, 'HIGH');

    const first = await handler()(bodyOf(event));
    const stored = await alerts.getAlert(event.data.alertId);
    const notifications = await published(notificationsUrl);
    const again = await handler()(bodyOf(event), bodyOf(event));
    const notificationsAgain = await published(notificationsUrl);

    expect([first.batchItemFailures, again.batchItemFailures]).toEqual([[], []]);
    expect(stored).toMatchObject({ alertId: event.data.alertId, status: 'OPEN', severity: 'HIGH', accountId: account.accountId });
    expect(stored?.notifiedAt).toBeDefined();
    expect(stored?.freeze).toBeUndefined();
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Body).toContain(event.data.alertId);
    expect(notificationsAgain).toEqual([]);
    expect(await alerts.getAlert(event.data.alertId)).toEqual(stored);
    expect((await ledger.getAccount(account.accountId))?.status).toBe('ACTIVE');
    expect(await frozenEvents()).toEqual([]);
  });

  it('stores LOW and MEDIUM alerts without notifying or freezing', async () => {
    const account = await openFundedAccount(handle);
    const low = raised(account.accountId, 'LOW');
    const medium = raised(account.accountId, 'MEDIUM');

    const result = await handler()(bodyOf(low), bodyOf(medium));

    expect(result.batchItemFailures).toEqual([]);
    expect((await alerts.getAlert(low.data.alertId))?.severity).toBe('LOW');
    expect((await alerts.getAlert(medium.data.alertId))?.notifiedAt).toBeUndefined();
    expect(await published(notificationsUrl)).toEqual([]);
    expect((await ledger.getAccount(account.accountId))?.status).toBe('ACTIVE');
  });

  it('freezes the account on CRITICAL, publishes one AccountFrozen and one notification; redelivery after an unfreeze does not refreeze', async () => {
    const account = await openFundedAccount(handle, { balanceMinor: 10_000n });
    const event = raised(account.accountId, 'CRITICAL');

    await handler()(bodyOf(event));
    const frozen = await ledger.getAccount(account.accountId);
    const frozenPublished = await frozenEvents();
    const notifications = await published(notificationsUrl);
    expect(await ledger.unfreezeAccount(account.accountId, TEST_RISK_ACTOR, new Date().toISOString())).toBe('changed');
    const redelivered = await handler()(bodyOf(event), bodyOf(event));

    expect(redelivered.batchItemFailures).toEqual([]);
    expect(frozen).toMatchObject({ status: 'FROZEN', frozenByAlertId: event.data.alertId });
    expect(frozenPublished).toHaveLength(1);
    expect(frozenPublished[0]).toMatchObject({
      id: eventIdFor.frozen(event.data.alertId),
      type: 'AccountFrozen',
      causationId: event.id,
      data: { accountId: account.accountId, alertId: event.data.alertId, transactionId: event.data.transactionId },
    });
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Body).toContain('FROZEN by this alert');
    expect((await alerts.getAlert(event.data.alertId))?.freeze?.outcome).toBe('FROZEN');
    // The operator's unfreeze stands: the redelivered alert found its freeze already done.
    expect((await ledger.getAccount(account.accountId))?.status).toBe('ACTIVE');
    expect(await frozenEvents()).toEqual([]);
    expect(await published(notificationsUrl)).toEqual([]);
  });

  it('records a second CRITICAL alert on a frozen account as ALREADY_FROZEN without another AccountFrozen', async () => {
    const account = await openFundedAccount(handle);
    const first = raised(account.accountId, 'CRITICAL');
    const second = raised(account.accountId, 'CRITICAL');

    await handler()(bodyOf(first), bodyOf(second));

    expect((await alerts.getAlert(first.data.alertId))?.freeze?.outcome).toBe('FROZEN');
    expect((await alerts.getAlert(second.data.alertId))?.freeze?.outcome).toBe('ALREADY_FROZEN');
    expect((await frozenEvents()).map((frozen) => frozen.data)).toMatchObject([{ alertId: first.data.alertId }]);
    expect(await published(notificationsUrl)).toHaveLength(2);
  });

  it('does not freeze an unknown or a funding account, and still notifies', async () => {
    const account = await openFundedAccount(handle);
    const unknown = raised(`acc-missing-${randomUUID().slice(0, 8)}`, 'CRITICAL');
    const funding = raised(fundingAccountId(account.institutionId, account.currency), 'CRITICAL');

    const result = await handler()(bodyOf(unknown), bodyOf(funding));

    expect(result.batchItemFailures).toEqual([]);
    expect((await alerts.getAlert(unknown.data.alertId))?.freeze?.outcome).toBe('ACCOUNT_NOT_FOUND');
    expect((await alerts.getAlert(funding.data.alertId))?.freeze?.outcome).toBe('NOT_FREEZABLE');
    expect((await ledger.getAccount(funding.data.accountId))?.status).toBe('ACTIVE');
    expect(await frozenEvents()).toEqual([]);
    expect(await published(notificationsUrl)).toHaveLength(2);
  });

  it('records the freeze with the alert atomically; a failed AccountFrozen is published by the retry, the freeze not repeated', async () => {
    const account = await openFundedAccount(handle);
    const event = raised(account.accountId, 'CRITICAL');
    const failingPublisher = { publish: () => Promise.reject(new Error('injected: SNS unavailable')) };

    const crashed = await handler({ publisher: failingPublisher })(bodyOf(event));
    const midway = await alerts.getAlert(event.data.alertId);
    const notifiedMidway = await published(notificationsUrl);
    const retried = await handler()(bodyOf(event));

    expect(crashed.batchItemFailures).toHaveLength(1);
    expect(midway?.freeze?.outcome).toBe('FROZEN');
    expect(midway?.frozenEventPublishedAt).toBeUndefined();
    // Operations heard about it although the event bus was down.
    expect(notifiedMidway).toHaveLength(1);
    expect((await ledger.getAccount(account.accountId))?.status).toBe('FROZEN');
    expect(retried.batchItemFailures).toEqual([]);
    const [frozenEvent, ...extra] = await frozenEvents();
    expect(extra).toEqual([]);
    expect(frozenEvent?.data).toMatchObject({ accountId: account.accountId, frozenAt: midway?.freeze?.at });
    expect(await published(notificationsUrl)).toEqual([]);
  });

  it('does not freeze for, or notify about, an alert an analyst resolved before it was acted on', async () => {
    const account = await openFundedAccount(handle);
    const event = raised(account.accountId, 'CRITICAL');
    await alerts.recordAlert(event.data, new Date().toISOString());
    await alerts.resolveAlert(event.data.alertId, { resolution: 'FALSE_POSITIVE', note: 'known customer', resolvedAt: new Date().toISOString() });

    const result = await handler()(bodyOf(event));

    expect(result.batchItemFailures).toEqual([]);
    expect((await ledger.getAccount(account.accountId))?.status).toBe('ACTIVE');
    expect((await alerts.getAlert(event.data.alertId))?.freeze).toBeUndefined();
    expect(await published(notificationsUrl)).toEqual([]);
    expect(await frozenEvents()).toEqual([]);
  });

  it('freezes once when two deliveries of one CRITICAL alert race', async () => {
    const account = await openFundedAccount(handle);
    const event = raised(account.accountId, 'CRITICAL');

    const results = await Promise.all([handler()(bodyOf(event)), handler()(bodyOf(event)), handler()(bodyOf(event))]);
    // A delivery that lost a write race is retried, as SQS would.
    for (const result of results) if (result.batchItemFailures.length > 0) await handler()(bodyOf(event));

    expect((await alerts.getAlert(event.data.alertId))?.freeze?.outcome).toBe('FROZEN');
    expect((await ledger.getAccount(account.accountId))?.frozenByAlertId).toBe(event.data.alertId);
    expect(await frozenEvents()).toHaveLength(1);
    expect(await published(notificationsUrl)).toHaveLength(1);
  });

  it('retries a notification that failed without freezing again, then announces the freeze', async () => {
    const account = await openFundedAccount(handle);
    const event = raised(account.accountId, 'CRITICAL');
    const failingNotifier = { notify: () => Promise.reject(new Error('injected: SNS unavailable')) };

    const failed = await handler({ notifier: failingNotifier })(bodyOf(event));
    const midway = await alerts.getAlert(event.data.alertId);
    // The freeze stands; the event waits for the notification, which comes first.
    const frozenMidway = await frozenEvents();
    const retried = await handler()(bodyOf(event));

    expect(failed.batchItemFailures).toHaveLength(1);
    expect(midway?.freeze?.outcome).toBe('FROZEN');
    expect(frozenMidway).toEqual([]);
    expect(retried.batchItemFailures).toEqual([]);
    expect(await published(notificationsUrl)).toHaveLength(1);
    expect(await frozenEvents()).toHaveLength(1);
    expect((await alerts.getAlert(event.data.alertId))?.notifiedAt).toBeDefined();
    expect((await alerts.getAlert(event.data.alertId))?.freeze?.at).toBe(midway?.freeze?.at);
  });

  it('retries a throttled alert write and stores the alert once', async () => {
    const account = await openFundedAccount(handle);
    const event = raised(account.accountId, 'HIGH');
    let throttled = 0;
    const throttling: AlertStore = withFaults<AlertStore>(alerts, {
      recordAlert: () => {
        throttled++;
        return Promise.reject(new ProvisionedThroughputExceededException({ message: 'injected throttle', $metadata: {} }));
      },
    });

    const failed = await handler({ alerts: throttling })(bodyOf(event));
    const retried = await handler()(bodyOf(event));

    expect([throttled, failed.batchItemFailures.length, retried.batchItemFailures.length]).toEqual([1, 1, 0]);
    expect((await alerts.listAlerts({ accountId: account.accountId, limit: 10 })).alerts.map((alert) => alert.alertId)).toEqual([event.data.alertId]);
    expect(await published(notificationsUrl)).toHaveLength(1);
  });

  it('quarantines a malformed message and an event of the wrong type, with their reasons', async () => {
    const account = await openFundedAccount(handle);
    const wrongType: PaymentEvent = {
      id: 'x.frozen',
      type: 'AccountFrozen',
      version: ENVELOPE_VERSION,
      occurredAt: new Date().toISOString(),
      correlationId: 'c',
      causationId: 'c',
      data: { accountId: account.accountId, alertId: 'a', transactionId: transferIdFor('WEB', randomUUID()), frozenAt: new Date().toISOString() },
    };
    const invalid = { ...raised(account.accountId, 'HIGH'), data: { severity: 'APOCALYPTIC' } };

    const result = await handler()('{not json', bodyOf(wrongType), JSON.stringify(invalid));
    const quarantined = await takeMessages(world, world.bindings.queues.alerts.deadLetterUrl, 3);

    expect(result.batchItemFailures).toEqual([]);
    const reasons = quarantined.map((message) => message.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue ?? '');
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toMatch(/not JSON/);
    expect(reasons[1]).toMatch(/unexpected event type AccountFrozen/);
    expect(reasons[2]).toMatch(/envelope invalid/);
    expect(await published(notificationsUrl)).toEqual([]);
  });
});
