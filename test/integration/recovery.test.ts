// Proves the recovery sweep re-queues exactly the accepted requests that never reached an outcome
// (a publish that failed after the intake record was written), leaves decided and too-recent ones
// alone, and that the re-queued transfer then posts exactly once. It runs on the in-memory
// services; the intake store's listing (order, bound, index) is held to its contract on both
// backends in intake-store.test.ts.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import { REQUEUE_BACKOFF_BASE_MS } from '../../lambdas/core/intake/recovery.js';
import { eventIdFor, type PaymentEvent } from '../../lambdas/core/events/envelope.js';
import { createPostingHandler } from '../../lambdas/posting/handler.js';
import { createRecoveryHandler, RECOVERY_GRACE_SECONDS } from '../../lambdas/recovery/handler.js';
import { expectMoneyConserved, intakeOf, ledgerOf, openFundedAccount, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { drainQueue, isEmpty, takeMessages } from '../support/queue-driver.js';
import { createTestWorld, type MemoryWorld } from '../support/world.js';

let world: MemoryWorld;
let ledger: DynamoLedgerStore;
let intake: DynamoIntakeStore;
let handle: LedgerHandle;

beforeAll(async () => {
  world = await createTestWorld('recovery', 'memory');
  ({ ledger, handle } = ledgerOf(world));
  intake = new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests);
});

afterAll(async () => {
  await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
  world.destroy();
});


const silent = () => ({
  logger: new Logger({ serviceName: 'payments-recovery', logLevel: 'SILENT' }),
  metrics: new Metrics({ serviceName: 'payments-recovery', namespace: 'PaymentsBackbone' }),
});

describe('recovery sweep', () => {
  it('re-queues an accepted request with no outcome, which then posts exactly once', async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 1_000n });
    const creditor = await openFundedAccount(handle);
    const now = new Date();
    const stranded = transferRequest(debtor.accountId, creditor.accountId, 400);
    const tooRecent = transferRequest(debtor.accountId, creditor.accountId, 100);
    const alreadyDecided = transferRequest(debtor.accountId, creditor.accountId, 50);
    await intake.recordAccepted(intakeOf(stranded, new Date(now.getTime() - 5 * 60_000)));
    await intake.recordAccepted(intakeOf(tooRecent, new Date(now.getTime() - (RECOVERY_GRACE_SECONDS / 2) * 1_000)));
    await intake.recordAccepted(intakeOf(alreadyDecided, new Date(now.getTime() - 3 * 60_000)));
    await ledger.postTransfer(alreadyDecided);
    const publisher = new SnsEventPublisher(world.clients.sns, world.bindings.topics.transactions);
    const recover = createRecoveryHandler({ intake, ledger, publisher, now: () => now, ...silent() });

    const report = await recover();
    await drainQueue(
      world,
      'posting',
      createPostingHandler({ ledger, publisher, intake, quarantine: new SqsQuarantine(world.clients.sqs, world.bindings.queues.posting.deadLetterUrl), ...silent() }),
    );
    const again = await recover();

    expect(report.requeuedTransferIds).toEqual([stranded.transferId]);
    // The decided one was listed (nothing marked it) and is marked now; the recent one is not listed.
    expect(report.examined).toBe(2);
    expect(report.markedDecided).toBe(1);
    expect((await ledger.getTransfer(stranded.transferId))?.status).toBe('POSTED');
    expect(await ledger.getTransfer(tooRecent.transferId)).toBeUndefined();
    expect(again).toMatchObject({ requeued: 0, examined: 0 });
    // Drained to empty, and the second sweep queued nothing: exact on the in-memory fabric.
    expect(isEmpty(world, world.bindings.queues.posting.url)).toBe(true);
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(550n);
  });

  it('leaves a re-queued request to wait out its backoff, queuing nothing meanwhile, and re-queues it once due', async () => {
    // A world of its own: the first test's too-recent intake would come due in these later sweeps.
    const own = await createTestWorld('recovery-wait', 'memory');
    try {
      const ownLedger = ledgerOf(own);
      const ownIntake = new DynamoIntakeStore(own.clients.dynamodb, own.bindings.tables.requests);
      const debtor = await openFundedAccount(ownLedger.handle, { balanceMinor: 1_000n });
      const creditor = await openFundedAccount(ownLedger.handle);
      const start = Date.now();
      const stranded = transferRequest(debtor.accountId, creditor.accountId, 400);
      await ownIntake.recordAccepted(intakeOf(stranded, new Date(start - 5 * 60_000)));
      const publisher = new SnsEventPublisher(own.clients.sns, own.bindings.topics.transactions);
      const sweepAt = (offsetMs: number) => createRecoveryHandler({ intake: ownIntake, ledger: ownLedger.ledger, publisher, now: () => new Date(start + offsetMs), ...silent() })();
      const postingUrl = own.bindings.queues.posting.url;

      const first = await sweepAt(0);
      const queuedByFirst = await takeMessages(own, postingUrl, 1);
      const early = await sweepAt(REQUEUE_BACKOFF_BASE_MS - 1_000);
      const emptyAfterEarly = isEmpty(own, postingUrl);
      const due = await sweepAt(REQUEUE_BACKOFF_BASE_MS + 1_000);

      expect(first.requeuedTransferIds).toEqual([stranded.transferId]);
      expect(queuedByFirst.map((message) => (JSON.parse(message.Body ?? '{}') as PaymentEvent).id)).toEqual([eventIdFor.requested(stranded.transferId)]);
      expect(early).toMatchObject({ requeued: 0, waiting: 1, examined: 1 });
      expect(emptyAfterEarly).toBe(true);
      expect(due.requeuedTransferIds).toEqual([stranded.transferId]);
      expect(await ownIntake.get(stranded.transferId)).toMatchObject({ requeueCount: 2, requeuedAt: new Date(start + REQUEUE_BACKOFF_BASE_MS + 1_000).toISOString() });
    } finally {
      own.destroy();
    }
  });
});
