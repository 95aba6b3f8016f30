// The contracts of the messaging adapters, run against fauxqs and the in-memory fabric:
// SnsEventPublisher publishes to a FIFO topic, and an event reaches exactly the queues whose filter
// policy names its type, in its account's (or window's) group, once per event id; SnsOpsNotifier
// publishes to the notification topic with its attributes; SqsQuarantine puts a message on the
// dead-letter queue with its reason, in its group, once per original message id.
//
// Negatives are proved without waiting: on a FIFO queue a group's messages arrive in publish order,
// so a sentinel published after an event, in its group, that arrives first (or right after the
// messages expected) shows that the event (or a duplicate) never arrived.
import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SnsOpsNotifier } from '../../lambdas/adapters/sns/ops-notifier.js';
import { QUARANTINE_REASON_ATTRIBUTE, QUARANTINE_REASON_LENGTH_MAX, SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import { ENVELOPE_VERSION, eventIdFor, type EventOf, type PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { windowClosedEvent } from '../../lambdas/core/events/settlement-events.js';
import { transactionDecided, transactionRequested } from '../../lambdas/core/events/transfer-events.js';
import { transferContentHash, type TransferRecord } from '../../lambdas/core/ledger/transfer.js';
import { windowIdFor } from '../../lambdas/core/settlement/window.js';
import { EVENT_TYPE_ATTRIBUTE } from '../../contract/topology.js';
import { transferRequest } from '../support/ledger-fixtures.js';
import { isEmpty, observeTopic, takeMessages } from '../support/queue-driver.js';
import { sqsRecordOf } from '../support/sqs-record.js';
import { BACKENDS, createTestWorld, type TestWorld } from '../support/world.js';

const account = (): string => `acc-${randomUUID().slice(0, 8)}`;

function requested(debtorAccountId: string): EventOf<'TransactionRequested'> {
  const request = transferRequest(debtorAccountId, account(), 100);
  return transactionRequested(request, { causationId: `api-${request.transferId}`, occurredAt: request.requestedAt });
}

function decided(debtorAccountId: string, status: 'POSTED' | 'REJECTED'): PaymentEvent {
  const request = transferRequest(debtorAccountId, account(), 100);
  const record: TransferRecord = {
    ...request,
    status,
    contentHash: transferContentHash(request),
    decidedAt: new Date().toISOString(),
    ...(status === 'REJECTED' ? { rejectionReason: 'INSUFFICIENT_FUNDS' as const } : {}),
  };
  return transactionDecided(record, { causationId: eventIdFor.requested(request.transferId), occurredAt: record.decidedAt });
}

function alertRaised(accountId: string): EventOf<'RiskAlertRaised'> {
  const transactionId = transferRequest(accountId, account(), 1).transferId;
  const alertId = eventIdFor.alert(transactionId);
  const raisedAt = new Date().toISOString();
  return {
    id: alertId,
    type: 'RiskAlertRaised',
    version: ENVELOPE_VERSION,
    occurredAt: raisedAt,
    correlationId: transactionId,
    causationId: eventIdFor.posted(transactionId),
    data: {
      alertId,
      transactionId,
      accountId,
      severity: 'HIGH',
      totalWeight: 60,
      rulesHit: [{ ruleId: 'LARGE_AMOUNT', weight: 60, evidence: { amountMinor: 900_000 } }],
      amountMinor: 900_000,
      currency: 'EUR',
      channel: 'WEB',
      raisedAt,
    },
  };
}

function accountFrozen(raised: EventOf<'RiskAlertRaised'>): EventOf<'AccountFrozen'> {
  const frozenAt = new Date().toISOString();
  return {
    id: eventIdFor.frozen(raised.data.alertId),
    type: 'AccountFrozen',
    version: ENVELOPE_VERSION,
    occurredAt: frozenAt,
    correlationId: raised.correlationId,
    causationId: raised.id,
    data: { accountId: raised.data.accountId, alertId: raised.data.alertId, transactionId: raised.data.transactionId, frozenAt },
  };
}

const idOf = (message: Message): string => (JSON.parse(message.Body ?? '{}') as PaymentEvent).id;
const groupOf = (message: Message): string | undefined => message.Attributes?.MessageGroupId;
const attributeOf = (message: Message, name: string): string | undefined => message.MessageAttributes?.[name]?.StringValue;

describe.each(BACKENDS)('messaging adapters on %s', (backend) => {
  let world: TestWorld;
  let transactions: SnsEventPublisher;

  beforeAll(async () => {
    world = await createTestWorld('publish', backend);
    transactions = new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions);
  });

  afterAll(() => world.destroy());

  /** On memory, where "nothing more" is exact: the queue holds nothing at all once a test has taken what it expects. */
  function expectDrained(...queueUrls: string[]): void {
    if (world.backend !== 'memory') return;
    for (const url of queueUrls) expect(isEmpty(world, url), url).toBe(true);
  }

  describe('SnsEventPublisher', () => {
    it('delivers each transaction event to exactly the queues whose filter names its type, typed by its attribute', async () => {
      const debtor = account();
      const [request, posted, rejected, sentinel] = [requested(debtor), decided(debtor, 'POSTED'), decided(debtor, 'REJECTED'), requested(debtor)];
      const { posting, screening } = world.bindings.queues;

      for (const event of [request, posted, rejected, sentinel]) await transactions.publish(event);
      const onPosting = await takeMessages(world, posting.url, 2);
      const onScreening = await takeMessages(world, screening.url, 2);

      // The requests' sentinel came right after the first request: no decided event reached posting.
      expect(onPosting.map(idOf)).toEqual([request.id, sentinel.id]);
      // The first message of the group on screening is a decided one: no request reached it.
      expect(onScreening.map(idOf)).toEqual([posted.id, rejected.id]);
      expect([...onPosting, ...onScreening].map((message) => attributeOf(message, EVENT_TYPE_ATTRIBUTE))).toEqual([
        'TransactionRequested',
        'TransactionRequested',
        'TransactionPosted',
        'TransactionRejected',
      ]);
      expect(JSON.parse(onPosting[0]?.Body ?? '{}')).toEqual(request);
      expectDrained(posting.url, screening.url);
    });

    it("groups each event by its debtor account and keeps each group's order", async () => {
      const [a, b] = [account(), account()];
      const events = [requested(a), requested(b), requested(a), requested(b), requested(a)];

      for (const event of events) await transactions.publish(event);
      const taken = await takeMessages(world, world.bindings.queues.posting.url, events.length);

      expect(taken.map(groupOf).sort()).toEqual([a, a, a, b, b].sort());
      for (const debtor of [a, b]) {
        const own = events.filter((event) => event.data.debtorAccountId === debtor).map((event) => event.id);
        expect(taken.filter((message) => groupOf(message) === debtor).map(idOf), debtor).toEqual(own);
      }
      expectDrained(world.bindings.queues.posting.url);
    });

    it('delivers an event published twice under its id once', async () => {
      const debtor = account();
      const event = requested(debtor);
      const sentinel = requested(debtor);

      await transactions.publish(event);
      await transactions.publish(event);
      await transactions.publish(sentinel);
      const taken = await takeMessages(world, world.bindings.queues.posting.url, 2);

      expect(taken.map(idOf)).toEqual([event.id, sentinel.id]);
      expectDrained(world.bindings.queues.posting.url);
    });

    it('refuses an event that breaks the envelope, and publishes nothing', async () => {
      const debtor = account();
      const valid = requested(debtor);
      const broken = { ...valid, data: { ...valid.data, amountMinor: -1 } };
      const sentinel = requested(debtor);

      await expect(transactions.publish(broken)).rejects.toThrow(/amountMinor/);
      await transactions.publish(sentinel);
      const taken = await takeMessages(world, world.bindings.queues.posting.url, 1);

      expect(taken.map(idOf)).toEqual([sentinel.id]);
      expectDrained(world.bindings.queues.posting.url);
    });

    it('delivers RiskAlertRaised to the alerts queue in its account group, and AccountFrozen to no worker queue', async () => {
      const accountId = account();
      const alerts = new SnsEventPublisher(world.clients.sns, world.bindings.topics.alerts);
      const first = alertRaised(accountId);
      const frozen = accountFrozen(first);
      const second = alertRaised(accountId);

      for (const event of [first, frozen, second]) await alerts.publish(event);
      const taken = await takeMessages(world, world.bindings.queues.alerts.url, 2);

      expect(taken.map(idOf)).toEqual([first.id, second.id]);
      expect(taken.map(groupOf)).toEqual([accountId, accountId]);
      expectDrained(world.bindings.queues.alerts.url);
    });

    it("delivers settlement events to the settlements queue in their window's group", async () => {
      const windowId = windowIdFor('EUR', 1 + Math.floor(Math.random() * 1_000_000));
      const closedAt = new Date().toISOString();
      const closed = windowClosedEvent(
        { windowId, currency: 'EUR', sequence: Number(windowId.slice(4)), state: 'CLOSED', openedAt: closedAt, closedAt, transferCount: 0, grossMinor: 0n, participants: [] },
        () => new Date(),
      );
      const settlements = new SnsEventPublisher(world.clients.sns, world.bindings.topics.settlements);

      await settlements.publish(closed);
      await settlements.publish(closed);
      const taken = await takeMessages(world, world.bindings.queues.settlements.url, 1);

      expect(taken.map(idOf)).toEqual([closed.id]);
      expect(taken.map(groupOf)).toEqual([windowId]);
      expect(attributeOf(taken[0]!, EVENT_TYPE_ATTRIBUTE)).toBe('SettlementWindowClosed');
      expectDrained(world.bindings.queues.settlements.url);
    });
  });

  describe('SnsOpsNotifier', () => {
    it('publishes a notification to the operations topic with its alert id and severity as attributes', async () => {
      const inbox = await observeTopic(world, world.bindings.notificationTopics.operations, 'ops-inbox');
      const notifier = new SnsOpsNotifier(world.clients.sns, world.bindings.notificationTopics.operations);
      const alertId = `alert-${randomUUID()}`;

      await notifier.notify({ alertId, severity: 'CRITICAL', subject: 'CRITICAL risk alert', message: `alert ${alertId}: account frozen` });
      const taken = await takeMessages(world, inbox, 1);

      expect(taken.map((message) => message.Body)).toEqual([`alert ${alertId}: account frozen`]);
      expect([attributeOf(taken[0]!, 'alertId'), attributeOf(taken[0]!, 'severity')]).toEqual([alertId, 'CRITICAL']);
      expectDrained(inbox);
    });
  });

  describe('SqsQuarantine', () => {
    it('puts a message on the dead-letter queue with its reason and origin, in its group, once per original message id', async () => {
      const { posting } = world.bindings.queues;
      const quarantine = new SqsQuarantine(world.clients.sqs, posting.deadLetterUrl);
      const group = account();
      const poison = sqsRecordOf('{"not":"an event"}', group, posting.arn, 3);
      const sentinel = sqsRecordOf('sentinel', group, posting.arn);

      await quarantine.quarantine(poison, 'envelope invalid: data: Required');
      // A crash after the quarantine: the redelivered message is quarantined again.
      await quarantine.quarantine(poison, 'envelope invalid: data: Required');
      await quarantine.quarantine(sentinel, 'x'.repeat(QUARANTINE_REASON_LENGTH_MAX + 500));
      const taken = await takeMessages(world, posting.deadLetterUrl, 2);

      expect(taken.map((message) => message.Body)).toEqual(['{"not":"an event"}', 'sentinel']);
      expect(taken.map(groupOf)).toEqual([group, group]);
      expect(taken[0]?.MessageAttributes).toMatchObject({
        [QUARANTINE_REASON_ATTRIBUTE]: { StringValue: 'envelope invalid: data: Required' },
        quarantinedFrom: { StringValue: posting.arn },
        originalMessageId: { StringValue: poison.messageId },
        originalReceiveCount: { StringValue: '3' },
      });
      expect(attributeOf(taken[1]!, QUARANTINE_REASON_ATTRIBUTE)).toHaveLength(QUARANTINE_REASON_LENGTH_MAX);
      expectDrained(posting.deadLetterUrl);
    });

    it('quarantines a message that came without a group under the quarantine group', async () => {
      const { screening } = world.bindings.queues;
      const quarantine = new SqsQuarantine(world.clients.sqs, screening.deadLetterUrl);
      const record = sqsRecordOf('orphan', 'unused', screening.arn);
      const { MessageGroupId: _group, ...attributes } = record.attributes;

      await quarantine.quarantine({ ...record, attributes }, 'no group');
      const taken = await takeMessages(world, screening.deadLetterUrl, 1);

      expect(taken.map((message) => [message.Body, groupOf(message)])).toEqual([['orphan', 'quarantine']]);
      expectDrained(screening.deadLetterUrl);
    });
  });
});
