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
    expect((await ledger.getAccount(debtor.accountId))?.balanceMinor).toBe(550n);
  });

  it("lists undecided intakes only, each account's in acceptance order, oldest first, within its bound", async () => {
    const debtors = [await openFundedAccount(handle, { balanceMinor: 10_000n }), await openFundedAccount(handle, { balanceMinor: 10_000n })];
    const creditor = await openFundedAccount(handle);
    const base = Date.now() - 48 * 3_600_000;
    // Accepted over two days, out of order per store write, so the index (not write order) sorts.
    const intakes = Array.from({ length: 24 }, (_, index) =>
      intakeOf(transferRequest(debtors[index % 2]!.accountId, creditor.accountId, index + 1), new Date(base + index * 97 * 60_000)),
    );
    for (const entry of [...intakes].reverse()) await intake.recordAccepted(entry);
    const markedDecided = intakes.filter((_, index) => index % 3 === 0);
    for (const entry of markedDecided) await intake.markDecided(entry.request.transferId);
    const cutoff = intakes[20]!.acceptedAt;
    const mine = (listed: readonly TransferIntake[]) => listed.filter((entry) => intakes.some((own) => own.request.transferId === entry.request.transferId));

    // Secondary indexes are eventually consistent (on AWS as in DynamoDB Local): the sweep's grace
    // period covers that, and so does this bounded wait.
    const expected = intakes.filter((entry, index) => index % 3 !== 0 && entry.acceptedAt < cutoff);
    let listed: TransferIntake[] = [];
    for (let attempt = 0; attempt < 50 && listed.length !== expected.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      listed = [];
      for await (const found of intake.listUndecided(cutoff, Number.POSITIVE_INFINITY)) listed.push(found);
      listed = mine(listed);
    }
    const bounded: TransferIntake[] = [];
    for await (const found of intake.listUndecided(cutoff, 64 * 2)) bounded.push(found);

    expect(new Set(listed.map((entry) => entry.request.transferId))).toEqual(new Set(expected.map((entry) => entry.request.transferId)));
    for (const debtor of debtors) {
      const own = (entries: readonly TransferIntake[]) => entries.filter((entry) => entry.request.debtorAccountId === debtor.accountId).map((entry) => entry.request.transferId);
      // Each account in acceptance order; under a bound of two per shard, a prefix of that.
      expect(own(listed)).toEqual(own(expected));
      expect(own(mine(bounded))).toEqual(own(expected).slice(0, own(mine(bounded)).length));
    }
    expect(mine(bounded).length).toBeGreaterThanOrEqual(2);
    expect(mine(bounded).length).toBeLessThanOrEqual(4);
  });
});
