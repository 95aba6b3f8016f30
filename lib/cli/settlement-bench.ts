// Benchmark of the settlement hot spots (`npm run bench:settlement`): posts transfers straight
// into the DynamoDB Local ledger with a fixed number of concurrent writers, in three shapes, and
// prints what each sustains:
//   intrabank     no settlement items (the baseline: transfer, debit, credit)
//   spread        interbank between 8 payer and 8 payee institutions (one position shard each)
//   concentrated  interbank, every payment into ONE institution (its position shards, 4 by
//                 default, share every transaction)
// It measures the store, not the API or the queues: the limit of the data layout. Figures are for
// this machine's DynamoDB Local; docs/SCALING.md sets them against DynamoDB's per-item limits.
import { parseArgs } from 'node:util';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoLedgerStore, PostingConflictError } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { fundingAccountId, type Account } from '../../lambdas/core/ledger/account.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import { createAwsClients } from '../../lambdas/shared/aws-clients.js';
import { startDynamoDbLocal, startSnsSqs } from '../local/emulators.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/local-world.js';
import { provisionTopology } from '../local/provision.js';
import { percentiles } from './percentiles.js';

type Shape = 'intrabank' | 'spread' | 'concentrated';
const SHAPES: readonly Shape[] = ['intrabank', 'spread', 'concentrated'];
const ACCOUNTS_PER_INSTITUTION = 8;

interface ShapeResult {
  readonly shape: Shape;
  readonly posted: number;
  readonly seconds: number;
  readonly conflictsRetried: number;
  readonly gaveUp: number;
  readonly refused: number;
  readonly latencyMs: ReturnType<typeof percentiles>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { seconds: { type: 'string', default: '10' }, writers: { type: 'string', default: '16' }, 'hub-shards': { type: 'string', default: '4' } },
    strict: true,
  });
  const seconds = Number(values.seconds);
  const writers = Number(values.writers);
  const hubShards = Number(values['hub-shards']);
  if (!(seconds > 0) || !Number.isInteger(writers) || writers < 1) throw new Error('--seconds > 0 and --writers >= 1');
  if (!Number.isInteger(hubShards) || hubShards < 1 || hubShards > 32) throw new Error('--hub-shards 1..32');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [dynamodb, snsSqs] = await Promise.all([startDynamoDbLocal(), startSnsSqs()]);
  const clients = createAwsClients({ endpoint: dynamodb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const messaging = createAwsClients({ endpoint: snsSqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  let conflicts = 0;
  clients.dynamodb.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof TransactionCanceledException && error.CancellationReasons?.some((reason) => reason.Code === 'TransactionConflict')) conflicts++;
        throw error;
      }
    },
    { step: 'initialize', name: 'countConflicts' },
  );
  try {
    const bindings = await provisionTopology({ dynamodb: clients.dynamodb, sns: messaging.sns, sqs: messaging.sqs }, 'bench');
    process.stdout.write(`settlement bench: ${writers} concurrent writers, ${seconds} s per shape, DynamoDB Local\n`);
    for (const shape of SHAPES) {
      const ledger = new DynamoLedgerStore({ client: clients.dynamodb, tableName: bindings.tables.ledger });
      const { payers, payees } = await openAccounts(ledger, shape, hubShards);
      // One untimed transfer per payer: the store learns the accounts' institutions and the window.
      await Promise.all(payers.map((payer, index) => post(ledger, payer, payees[index % payees.length] ?? payer)));
      conflicts = 0;
      const result = await run(shape, ledger, payers, payees, writers, seconds, () => conflicts);
      process.stdout.write(
        `  ${shape.padEnd(13)} ${(result.posted / result.seconds).toFixed(0).padStart(5)} transfers/s   p50 ${result.latencyMs.p50} ms  p95 ${result.latencyMs.p95} ms  p99 ${result.latencyMs.p99} ms   ${result.conflictsRetried} write conflicts retried, ${result.gaveUp} gave up, ${result.refused} refused\n`,
      );
    }
  } finally {
    clients.dynamodb.destroy();
    messaging.sns.destroy();
    messaging.sqs.destroy();
    await Promise.all([dynamodb.stop(), snsSqs.stop()]);
  }
}

async function openAccounts(ledger: DynamoLedgerStore, shape: Shape, hubShards: number): Promise<{ payers: string[]; payees: string[] }> {
  const capped = new Set<string>();
  const open = async (institutionId: string, index: number): Promise<string> => {
    // An uncapped institution may not send interbank: every one gets an ample cap (the hub its shards).
    if (!capped.has(institutionId)) {
      capped.add(institutionId);
      await ledger.settlement.setNetDebitCap(institutionId, 'EUR', 10n ** 15n, BENCH_ACTOR, institutionId.includes('-hub') ? hubShards : 1);
    }
    const account: Account = {
      accountId: `${shape}-${institutionId}-${index}`,
      institutionId,
      currency: 'EUR',
      kind: 'CUSTOMER',
      status: 'ACTIVE',
      balanceMinor: 0n,
      overdraftLimitMinor: 10n ** 12n, // the bench measures posting, not running out of money
      openedAt: new Date().toISOString(),
    };
    await ledger.openAccount(account);
    await ledger.openAccount({ ...account, accountId: fundingAccountId(institutionId, 'EUR'), kind: 'FUNDING', overdraftLimitMinor: 0n });
    institutionOf.set(account.accountId, institutionId);
    return account.accountId;
  };
  const accounts = async (institutions: readonly string[], perInstitution = ACCOUNTS_PER_INSTITUTION) =>
    Promise.all(institutions.flatMap((institutionId) => Array.from({ length: perInstitution }, (_, index) => open(institutionId, index))));
  const banks = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${shape}-${prefix}${index}`);
  switch (shape) {
    case 'intrabank': {
      // As many accounts as the interbank shapes use, all at one institution.
      const one = await accounts(banks('solo', 1), ACCOUNTS_PER_INSTITUTION * 16);
      return { payers: one.slice(0, ACCOUNTS_PER_INSTITUTION * 8), payees: one.slice(ACCOUNTS_PER_INSTITUTION * 8) };
    }
    case 'spread':
      return { payers: await accounts(banks('payer', 8)), payees: await accounts(banks('payee', 8)) };
    case 'concentrated':
      return { payers: await accounts(banks('payer', 8)), payees: await accounts(banks('hub', 1)) };
  }
}

const BENCH_ACTOR = { role: 'settlement', principal: 'settlement-bench' } as const;
/** Each bench account's institution: a channel transfer is initiated by the payer's institution. */
const institutionOf = new Map<string, string>();

let sequence = 0;
/** Whether the transfer posted (a refusal means the bench is misconfigured, and is counted apart). */
async function post(ledger: DynamoLedgerStore, debtor: string, creditor: string): Promise<boolean> {
  const result = await ledger.postTransfer({
    transferId: transferIdFor('WEB', `bench-${process.pid}-${++sequence}`),
    debtorAccountId: debtor,
    creditorAccountId: creditor,
    amountMinor: 100,
    currency: 'EUR',
    channel: 'WEB',
    clientId: 'cli_settlementbench00000',
    initiatingInstitutionId: institutionOf.get(debtor) ?? '',
    requestedAt: new Date().toISOString(),
  });
  return result.kind === 'decided' && result.transfer.status === 'POSTED';
}

async function run(
  shape: Shape,
  ledger: DynamoLedgerStore,
  payers: readonly string[],
  payees: readonly string[],
  writers: number,
  seconds: number,
  conflictsSoFar: () => number,
): Promise<ShapeResult> {
  const latencies: number[] = [];
  let gaveUp = 0;
  let refused = 0;
  const started = Date.now();
  const deadline = started + seconds * 1_000;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let turn = 0; Date.now() < deadline; turn++) {
        const payer = payers[(writer + turn) % payers.length] ?? '';
        const payee = payees[(writer * 7 + turn) % payees.length] ?? '';
        const begun = Date.now();
        try {
          if (await post(ledger, payer, payee)) latencies.push(Date.now() - begun);
          else refused++;
        } catch (error) {
          if (!(error instanceof PostingConflictError)) throw error;
          gaveUp++; // on AWS the message would be retried later; here it is only counted
        }
      }
    }),
  );
  return {
    shape,
    posted: latencies.length,
    seconds: (Date.now() - started) / 1_000,
    conflictsRetried: conflictsSoFar(),
    gaveUp,
    refused,
    latencyMs: percentiles(latencies.sort((a, b) => a - b)),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`settlement bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
