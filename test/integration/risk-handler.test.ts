// Proves the risk handler on the in-memory services (its adapters hold to their contracts on the
// emulators too): a decided transfer that trips rules raises one RiskAlertRaised with its
// evidence, ordinary traffic raises nothing, a redelivered event changes no counter and raises no
// second alert, and a malformed one is quarantined. "Nothing was raised" is exact here: a publish
// has reached every queue when it returns, and each look takes the queue until it is empty.
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaContext } from '../../lib/local/lambda-context.js';
import { DynamoRiskStore } from '../../lambdas/adapters/dynamodb/risk-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { QUARANTINE_REASON_ATTRIBUTE, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import type { PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { transactionDecided } from '../../lambdas/core/events/transfer-events.js';
import { transferContentHash, transferIdFor, type TransferRecord } from '../../lambdas/core/ledger/transfer.js';
import { DEFAULT_THRESHOLDS as T } from '../../lambdas/core/risk/thresholds.js';
import { windowBucketStarts } from '../../lambdas/core/risk/windows.js';
import { createRiskHandler } from '../../lambdas/risk/handler.js';
import { observeTopic, takeMessages } from '../support/queue-driver.js';
import { sqsRecordOf } from '../support/sqs-record.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';

let world: MemoryWorld;
let risk: DynamoRiskStore;
let alertsUrl: string;

beforeAll(async () => {
  world = await createTestWorld('riskh', 'memory');
  risk = new DynamoRiskStore(world.clients.dynamodb, world.bindings.tables.risk);
  alertsUrl = await observeTopic(world, world.bindings.topics.alerts, 'alerts-observer');
});

afterAll(() => world.destroy());

const handler = () =>
  createRiskHandler({
    risk,
    publisher: new SnsEventPublisher(world.clients.sns, world.bindings.topics.alerts),
    quarantine: new SqsQuarantine(world.clients.sqs, world.bindings.queues.screening.deadLetterUrl),
    logger: new Logger({ serviceName: 'payments-risk', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-risk', namespace: 'PaymentsBackbone' }),
  });

function posted(debtor: string, creditor: string, amountMinor: number, overrides: Partial<TransferRecord> = {}): PaymentEvent {
  const request = {
    transferId: transferIdFor('WEB', randomUUID()),
    debtorAccountId: debtor,
    creditorAccountId: creditor,
    amountMinor,
    currency: 'EUR' as const,
    channel: 'WEB' as const,
    requestedAt: new Date().toISOString(),
  };
  const record: TransferRecord = { ...request, status: 'POSTED', contentHash: transferContentHash(request), decidedAt: new Date().toISOString(), ...overrides };
  return transactionDecided(record, { causationId: 'test', occurredAt: record.decidedAt });
}

const transactionIdOf = (event: PaymentEvent): string | undefined => ('transactionId' in event.data ? event.data.transactionId : undefined);

const sqsRecord = (body: string, group: string) => sqsRecordOf(body, group, world.bindings.queues.screening.arn);

const context = () => createLambdaContext({ functionName: 'risk', timeoutSeconds: 30, memorySizeMb: 512 });

async function deliver(...events: PaymentEvent[]) {
  return handler()({ Records: events.map((event) => sqsRecord(JSON.stringify(event), 'g')) }, context());
}

/** Every alert raised since the last look, taken off the observer until it is empty. */
async function alertsRaised(): Promise<PaymentEvent[]> {
  return (await takeMessages(world, alertsUrl, Number.POSITIVE_INFINITY)).map((message) => JSON.parse(message.Body ?? '{}') as PaymentEvent);
}

describe('risk handler', () => {
  it('raises one alert with evidence for a large first payment to a new payee, and none again on redelivery', async () => {
    const debtor = `acc-${randomUUID().slice(0, 8)}`;
    const event = posted(debtor, 'acc-payee', T.largeAmountMinor.WEB);

    const first = await deliver(event);
    const firstAlerts = await alertsRaised();
    const again = await deliver(event);
    const againAlerts = await alertsRaised();

    expect([first.batchItemFailures, again.batchItemFailures]).toEqual([[], []]);
    expect(firstAlerts).toHaveLength(1);
    expect(firstAlerts[0]).toMatchObject({
      type: 'RiskAlertRaised',
      data: { accountId: debtor, severity: 'HIGH', totalWeight: 60, transactionId: transactionIdOf(event) },
    });
    const rules = firstAlerts[0]?.type === 'RiskAlertRaised' ? firstAlerts[0].data.rulesHit.map((hit) => hit.ruleId) : [];
    expect(rules).toEqual(['LARGE_AMOUNT', 'NEW_PAYEE_LARGE_AMOUNT']);
    // Same alert id on redelivery: the FIFO topic deduplicates it, and the counters did not move.
    expect(againAlerts).toEqual([]);
    const now = Math.floor(Date.now() / 1_000);
    expect(await risk.windowTotals('debits-velocity', debtor, windowBucketStarts('debits-velocity', now, T))).toEqual({ count: 1, amountMinor: T.largeAmountMinor.WEB });
  });

  it('raises nothing for ordinary payments, and VELOCITY_COUNT on the debit that reaches the count', async () => {
    const debtor = `acc-${randomUUID().slice(0, 8)}`;
    const small = Array.from({ length: T.velocityCount.debitsMin }, () => posted(debtor, 'acc-shop', 500));

    await deliver(...small.slice(0, -1));
    const before = await alertsRaised();
    await deliver(small.at(-1)!);
    const after = await alertsRaised();

    expect(before).toEqual([]);
    expect(after.map((alert) => (alert.type === 'RiskAlertRaised' ? [alert.data.severity, alert.data.rulesHit.map((hit) => hit.ruleId)] : []))).toEqual([
      ['MEDIUM', ['VELOCITY_COUNT']],
    ]);
  });

  it('keeps the first verdict when an event is redelivered after its windows have moved on', async () => {
    const debtor = `acc-${randomUUID().slice(0, 8)}`;
    const small = Array.from({ length: T.velocityCount.debitsMin }, () => posted(debtor, 'acc-shop', 500));

    await deliver(small[0]!);
    await deliver(...small.slice(1));
    const raised = await alertsRaised();
    // The first debit screened clean; now its minute holds enough debits for VELOCITY_COUNT.
    await deliver(small[0]!);
    const afterRedelivery = await alertsRaised();

    expect(raised.map(transactionIdOf)).toEqual([transactionIdOf(small.at(-1)!)]);
    expect(afterRedelivery).toEqual([]);
  });

  it('does not screen back-office deposits, nor the refused debits of an account already frozen', async () => {
    const funding = `fund-${randomUUID().slice(0, 8)}-eur`;
    const deposits = Array.from({ length: T.velocityCount.debitsMin + 1 }, () =>
      posted(funding, `acc-${randomUUID().slice(0, 8)}`, T.velocityAmount.amountMinor, { channel: 'ADMIN' }),
    );
    const frozen = `acc-${randomUUID().slice(0, 8)}`;
    const refused = Array.from({ length: T.repeatedRejections.perAccountMin + 1 }, () =>
      posted(frozen, 'acc-shop', 700, { status: 'REJECTED', rejectionReason: 'ACCOUNT_FROZEN' }),
    );

    const result = await deliver(...deposits, ...refused);

    expect(result.batchItemFailures).toEqual([]);
    expect(await alertsRaised()).toEqual([]);
    const now = Math.floor(Date.now() / 1_000);
    expect(await risk.windowTotals('rejections-account', frozen, windowBucketStarts('rejections-account', now, T))).toEqual({ count: 0, amountMinor: 0 });
  });

  it("counts a channel's rejections per institution: one institution's failures never alert another's customers", async () => {
    const [noisyBank, otherBank] = [`bank-n${randomUUID().slice(0, 6)}`, `bank-o${randomUUID().slice(0, 6)}`];
    const rejected = (debtor: string, institutionId: string) =>
      posted(debtor, 'acc-payee', 100, { status: 'REJECTED', rejectionReason: 'INSUFFICIENT_FUNDS', initiatingInstitutionId: institutionId, clientId: 'cli_aaaaaaaaaaaaaaaaaaaa' });
    const noisy = Array.from({ length: T.repeatedRejections.perChannelMin + 2 }, () => rejected(`acc-${randomUUID().slice(0, 8)}`, noisyBank));
    const bystander = `acc-${randomUUID().slice(0, 8)}`;

    for (let start = 0; start < noisy.length; start += 10) await deliver(...noisy.slice(start, start + 10));
    await deliver(rejected(bystander, otherBank));
    const alerts = (await alertsRaised()).map((event) => event.data as { accountId: string; rulesHit: { ruleId: string; evidence: Record<string, unknown> }[] });

    // The noisy institution's own channel crossed the line; the bystander's did not.
    expect(alerts.some((alert) => alert.rulesHit.some((hit) => hit.ruleId === 'REPEATED_REJECTIONS' && Number(hit.evidence.rejectionsByChannel) >= T.repeatedRejections.perChannelMin))).toBe(true);
    expect(alerts.filter((alert) => alert.accountId === bystander)).toEqual([]);
  });

  it('quarantines a malformed screening message with its reason', async () => {
    const result = await handler()({ Records: [sqsRecord('{"type":"TransactionPosted","data":{}}', 'poison')] }, context());

    const [quarantined] = await takeMessages(world, world.bindings.queues.screening.deadLetterUrl, 1);

    expect(result.batchItemFailures).toEqual([]);
    expect(quarantined?.MessageAttributes?.[QUARANTINE_REASON_ATTRIBUTE]?.StringValue).toMatch(/^envelope invalid: /);
  });
});
