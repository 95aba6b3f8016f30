// Proves the submission use case's outcomes against in-test ports: a new request is recorded and
// queued; a resend is a replay that queues again unless the ledger decided it; a debtor the client
// may not debit is refused with nothing recorded; a key reused for another body is refused (and a
// claim just made for it discarded); and a topic that refuses the event leaves the intake recorded.
import { describe, expect, it } from 'vitest';
import type { PaymentEvent } from '../../../lambdas/core/events/envelope.js';
import type { TransferIntake } from '../../../lambdas/core/intake/ports.js';
import { submitTransfer, type SubmitTransferCommand, type SubmitTransferPorts } from '../../../lambdas/core/intake/submit-transfer.js';
import type { Account } from '../../../lambdas/core/ledger/account.js';
import { transferContentHash, transferIdFor, type TransferRecord } from '../../../lambdas/core/ledger/transfer.js';

const NOW = new Date('2026-11-30T10:00:00.000Z');
const client = { clientId: 'cli_aaaaaaaaaaaaaaaaaaaa', institutionId: 'bank-a', channel: 'WEB' as const };

function account(accountId: string, overrides: Partial<Account> = {}): Account {
  return { accountId, institutionId: 'bank-a', currency: 'EUR', kind: 'CUSTOMER', status: 'ACTIVE', balanceMinor: 0n, overdraftLimitMinor: 0n, openedAt: NOW.toISOString(), ...overrides };
}

function command(overrides: Partial<SubmitTransferCommand> = {}): SubmitTransferCommand {
  return {
    client,
    idempotencyKey: 'key-1',
    debtorAccountId: 'acc-debtor',
    creditorAccountId: 'acc-creditor',
    amountMinor: 1_250,
    currency: 'EUR',
    apiRequestId: 'req-1',
    now: NOW,
    ...overrides,
  };
}

/** Ports over plain maps; `publish` may be replaced to fail. */
function world(options: { accounts?: readonly Account[]; decided?: readonly TransferRecord[]; publish?: (event: PaymentEvent) => Promise<void> } = {}) {
  const intakes = new Map<string, TransferIntake>();
  const discarded: string[] = [];
  const published: PaymentEvent[] = [];
  const accounts = new Map((options.accounts ?? [account('acc-debtor')]).map((entry) => [entry.accountId, entry]));
  const decided = new Map((options.decided ?? []).map((record) => [record.transferId, record]));
  const ports: SubmitTransferPorts = {
    ledger: { getAccount: (id) => Promise.resolve(accounts.get(id)), getTransfer: (id) => Promise.resolve(decided.get(id)) },
    intake: {
      recordAccepted: (intake) => {
        const existing = intakes.get(intake.request.transferId);
        if (existing !== undefined) return Promise.resolve({ created: false, existing });
        intakes.set(intake.request.transferId, intake);
        return Promise.resolve({ created: true });
      },
      discard: (transferId) => Promise.resolve(void (discarded.push(transferId), intakes.delete(transferId))),
    },
    publisher: { publish: options.publish ?? ((event) => Promise.resolve(void published.push(event))) },
  };
  return { ports, intakes, discarded, published };
}

const transferId = transferIdFor(client.clientId, 'key-1');

describe('submitTransfer', () => {
  it('records and queues a new request, caused by the API request', async () => {
    const { ports, intakes, published } = world();

    const outcome = await submitTransfer(ports, command({ reference: 'rent' }));

    expect(outcome).toEqual({ kind: 'accepted', transferId, replayed: false });
    expect(intakes.get(transferId)).toMatchObject({ idempotencyKey: 'key-1', apiRequestId: 'req-1', acceptedAt: NOW.toISOString() });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ id: `${transferId}.requested`, causationId: 'req-1', occurredAt: NOW.toISOString(), data: { reference: 'rent', clientId: client.clientId, initiatingInstitutionId: 'bank-a', channel: 'WEB' } });
  });

  it('answers a resend as a replay of the first request and queues it again, stamped as first accepted', async () => {
    const { ports, published } = world();
    await submitTransfer(ports, command());

    const outcome = await submitTransfer(ports, command({ apiRequestId: 'req-2', now: new Date(NOW.getTime() + 5_000) }));

    expect(outcome).toEqual({ kind: 'accepted', transferId, replayed: true });
    expect(published.map((event) => [event.id, event.causationId, event.occurredAt])).toEqual([
      [`${transferId}.requested`, 'req-1', NOW.toISOString()],
      [`${transferId}.requested`, 'req-1', NOW.toISOString()],
    ]);
  });

  it('does not queue a request the ledger has decided already', async () => {
    const request = { transferId, debtorAccountId: 'acc-debtor', creditorAccountId: 'acc-creditor', amountMinor: 1_250, currency: 'EUR' as const, channel: 'WEB' as const, requestedAt: NOW.toISOString(), clientId: client.clientId, initiatingInstitutionId: 'bank-a' };
    const { ports, published } = world({ decided: [{ ...request, status: 'POSTED', contentHash: transferContentHash(request), decidedAt: NOW.toISOString() }] });

    const outcome = await submitTransfer(ports, command());

    expect(outcome).toEqual({ kind: 'accepted', transferId, replayed: false });
    expect(published).toEqual([]);
  });

  it.each([
    ['an unknown account', []],
    ["another institution's account", [account('acc-debtor', { institutionId: 'bank-b' })]],
    ['a funding account', [account('acc-debtor', { kind: 'FUNDING' })]],
  ])('refuses to debit %s and records nothing', async (_case, accounts) => {
    const { ports, intakes, published } = world({ accounts });

    const outcome = await submitTransfer(ports, command());

    expect(outcome).toEqual({ kind: 'debtor-not-permitted' });
    expect([intakes.size, published.length]).toEqual([0, 0]);
  });

  it('refuses a key reused for another body and keeps the first request', async () => {
    const { ports, intakes, published } = world();
    await submitTransfer(ports, command());

    const outcome = await submitTransfer(ports, command({ amountMinor: 9_999 }));

    expect(outcome).toEqual({ kind: 'key-reused', transferId });
    expect(intakes.get(transferId)?.request.amountMinor).toBe(1_250);
    expect(published).toHaveLength(1);
  });

  it('discards the claim it just made when the ledger decided another body under the key', async () => {
    const request = { transferId, debtorAccountId: 'acc-debtor', creditorAccountId: 'acc-creditor', amountMinor: 7, currency: 'EUR' as const, channel: 'WEB' as const, requestedAt: NOW.toISOString() };
    const { ports, intakes, discarded } = world({ decided: [{ ...request, status: 'POSTED', contentHash: transferContentHash(request), decidedAt: NOW.toISOString() }] });

    const outcome = await submitTransfer(ports, command());

    expect(outcome).toEqual({ kind: 'key-reused', transferId });
    expect([discarded, intakes.size]).toEqual([[transferId], 0]);
  });

  it('reports the queue unavailable, with the cause, and keeps the intake for a retry or the sweep', async () => {
    const refusal = new Error('injected: topic unavailable');
    const { ports, intakes } = world({ publish: () => Promise.reject(refusal) });

    const outcome = await submitTransfer(ports, command());

    expect(outcome).toEqual({ kind: 'queue-unavailable', transferId, cause: refusal });
    expect(intakes.has(transferId)).toBe(true);
  });
});
