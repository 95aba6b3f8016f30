// Proves the recovery sweep re-queues exactly the accepted requests that never reached an outcome
// (a publish that failed after the intake record was written), leaves decided and too-recent ones
// alone, and that the re-queued transfer then posts exactly once.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoIntakeStore } from '../../lambdas/adapters/dynamodb/intake-store.js';
import type { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { SnsEventPublisher } from '../../lambdas/adapters/sns/event-publisher.js';
import { SqsQuarantine } from '../../lambdas/adapters/sqs/quarantine.js';
import type { TransferIntake } from '../../lambdas/core/intake/ports.js';
import { transferContentHash, type TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import { createPostingHandler } from '../../lambdas/posting/handler.js';
import { createRecoveryHandler, RECOVERY_GRACE_SECONDS } from '../../lambdas/recovery/handler.js';
import { expectMoneyConserved, ledgerOf, openFundedAccount, transferRequest, type LedgerHandle } from '../support/ledger-fixtures.js';
import { drainQueue } from '../support/queue-driver.js';
import { createTestWorld, type TestWorld } from '../support/world.js';

let world: TestWorld;
let ledger: DynamoLedgerStore;
let intake: DynamoIntakeStore;
let handle: LedgerHandle;

beforeAll(async () => {
  world = await createTestWorld('recovery');
  ({ ledger, handle } = ledgerOf(world));
  intake = new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests);
});

afterAll(async () => {
  await expectMoneyConserved(world.clients.dynamodb, world.bindings.tables.ledger);
  world.destroy();
});

function intakeOf(request: TransferRequest, acceptedAt: Date): TransferIntake {
  return {
    request: { ...request, requestedAt: acceptedAt.toISOString() },
    idempotencyKey: request.transferId,
    contentHash: transferContentHash(request),
    apiRequestId: `api-${request.transferId}`,
    acceptedAt: acceptedAt.toISOString(),
  };
}

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
      createPostingHandler({ ledger, publisher, quarantine: new SqsQuarantine(world.clients.sqs, world.bindings.queues.posting.deadLetterUrl), ...silent() }),
    );
    const again = await recover();

    expect(report.requeuedTransferIds).toEqual([stranded.transferId]);
    expect(report.examined).toBe(2);
    expect((await ledger.getTransfer(stranded.transferId))?.status).toBe('POSTED');
    expect(await ledger.getTransfer(tooRecent.transferId)).toBeUndefined();
    expect(again.requeued).toBe(0);
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(550n);
  });

  it("finds intakes across hours of the acceptance index, each account's in acceptance order, and none outside the window (scan agrees)", async () => {
    const debtor = await openFundedAccount(handle, { balanceMinor: 10_000n });
    const creditor = await openFundedAccount(handle);
    // Two days ago, inside the intake retention: older items would be due for TTL deletion,
    // which DynamoDB Local carries out, and the listing would race the reaper.
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 48 * 3_600_000;
    const base = hour + 30 * 60_000;
    const from = new Date(hour + 3_600_000).toISOString();
    const to = new Date(hour + 3 * 3_600_000).toISOString();
    const requests = Array.from({ length: 24 }, (_, index) => transferRequest(debtor.accountId, creditor.accountId, index + 1));
    for (const [index, request] of requests.entries()) {
      await intake.recordAccepted(intakeOf(request, new Date(base + index * 10 * 60_000)));
    }

    // Secondary indexes are eventually consistent (on AWS as in DynamoDB Local): the sweep's grace
    // period covers that, and so does this bounded wait.
    let listed: string[] = [];
    for (let attempt = 0; attempt < 50 && listed.length < 12; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      listed = [];
      for await (const found of intake.listAccepted(from, to)) listed.push(found.request.transferId);
    }
    const scanned: string[] = [];
    const byScan = new DynamoIntakeStore(world.clients.dynamodb, world.bindings.tables.requests, 'scan');
    for await (const found of byScan.listAccepted(from, to)) scanned.push(found.request.transferId);

    const expected = requests.filter((_, index) => {
      const at = base + index * 10 * 60_000;
      return at >= Date.parse(from) && at < Date.parse(to);
    });
    // One debtor's intakes come out of the index in acceptance order (one bucket per hour), so a
    // sweep cut short never sees a later one without the earlier ones.
    expect(listed).toEqual(expected.map((request) => request.transferId));
    expect(listed).toHaveLength(12);
    expect([...scanned].sort()).toEqual([...listed].sort());
  });
});
