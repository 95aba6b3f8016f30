// One capacity run: the deterministic simulator's pipeline (lib/dst/pipeline.ts: the real
// handlers and adapters over the in-memory DynamoDB and SNS/SQS fabric, provisioned from
// contract/topology.ts) with faults off and nothing interleaved, driven by a seeded workload of
// one shape. Every transfer enters as a signed POST /v1/transactions through the real API handler
// (so its authentication read is counted too), the queues are drained through the real consumers
// batch by batch as Lambda's event source mapping would, then the window is closed, netted and
// settled (the settlement bank confirming, as in the simulator) and the recovery sweep runs once.
// The recorder counts what each phase asked of the services.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoAlertStore } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { DynamoClientStore } from '../../lambdas/adapters/dynamodb/client-store.js';
import { createApiHandler, type ApiHandler } from '../../lambdas/api/handler.js';
import { confirmReceivedInstructions } from '../dst/settlement-bank.js';
import { fundingAccountId, type Account } from '../../lambdas/core/ledger/account.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import { issueClient } from '../../lambdas/core/trust/issue-client.js';
import { queueNames, topology, type HandlerName, type QueueName } from '../../contract/topology.js';
import { contentDigest, signRequest } from '../../lambdas/core/trust/http-signature.js';
import { createLambdaContext } from '../local/lambda-context.js';
import { buildProxyEvent } from '../local/proxy-event.js';
import { LocalUsageKeys } from '../local/usage-keys.js';
import { DEFAULT_FAULT_RATES, Faults } from '../dst/faults.js';
import { ledgerState } from '../dst/invariants.js';
import { createPipeline, deliverBatch, type DecisionLog, type SimulatedPipeline, type SimulatedRuntime } from '../dst/pipeline.js';
import { SeededRandom } from '../dst/random.js';
import { Scheduler } from '../dst/scheduler.js';
import { Recorder } from './recorder.js';
import type { Tally } from './tally.js';
import { accountId, CHANNELS, CURRENCY, DEFAULT_WORLD, expectedTransfersPerSecond, MERCHANT_CREDIT_SHARDS, OPENING_BALANCE_MINOR, Workload, type Shape, type World } from './workload.js';
import { shardCountFor } from '../../lambdas/core/settlement/shard-plan.js';

const START_MS = Date.UTC(2026, 0, 5, 8, 0, 0);
/**
 * Simulated arrival rate. It only moves the clock the risk windows and timestamps read; it is
 * low enough that no account trips a velocity rule by the workload's own pace.
 */
const SIMULATED_TRANSFERS_PER_SECOND = 50;
/**
 * Requests submitted between two drains of the queues. Big enough that the consumers see full
 * batches of 10, as they do under load. Each round is served by a fresh runtime (new stores and
 * handlers): the stores' lookup caches start cold, as across a fleet of concurrent execution
 * environments serving many more accounts than one environment has seen.
 */
const ROUND_TRANSFERS = 50;
const AMPLE_CAP_MINOR = 10n ** 15n;
const ADMIN = { role: 'operations', principal: 'arn:aws:iam::000000000000:user/capacity-operations' } as const;
const SETTLEMENT_ADMIN = { role: 'settlement', principal: 'arn:aws:iam::000000000000:user/capacity-settlement' } as const;
/** The stage prefix of the path clients call (and sign). */
const API_PATH_PREFIX = '/prod';

export interface ShapeRun {
  readonly shape: Shape;
  readonly world: World;
  readonly seed: number;
  readonly transfers: number;
  readonly interbank: number;
  readonly posted: number;
  readonly rejected: number;
  /** Windows the close closed, and how many of those reached SETTLED. */
  readonly windowsClosed: number;
  readonly windowsSettled: number;
  readonly transferPhase: Tally;
  /** Closing, netting and settling the run's window(s): a cost per window, not per transfer. */
  readonly settlementPhase: Tally;
  /** One recovery sweep: a cost per 5 minutes. */
  readonly sweepPhase: Tally;
  readonly wallSeconds: number;
}

/** What an institution keeps of an API client it was issued (the private key parsed once). */
interface IssuedCredentials {
  readonly keyId: string;
  readonly apiKey: string;
  readonly usageKeyId: string;
  readonly privateKey: KeyObject;
}

const QUIET: DecisionLog = { record: () => undefined, trace: () => undefined };

export async function runShape(shape: Shape, seed: number, transfers: number, world: World = DEFAULT_WORLD): Promise<ShapeRun> {
  const started = performance.now();
  const root = new SeededRandom(seed);
  const scheduler = new Scheduler(root.fork(), START_MS);
  // Faults stay disabled (a Faults is off until enabled): the model prices the happy path.
  const faults = new Faults(root.fork(), DEFAULT_FAULT_RATES);
  const pipeline = await createPipeline(scheduler, faults, QUIET, 'aws');
  const recorder = new Recorder(pipeline.bindings);
  recorder.instrument(pipeline);

  recorder.phase = 'setup';
  await openBooks(pipeline.runtime(), scheduler, world);
  const clientStore = new DynamoClientStore(pipeline.rawDynamoDB, pipeline.bindings.tables.participants);
  const usageKeys = new LocalUsageKeys({ throttle: { rateLimitPerSecond: 1e9, burstLimit: 1e9 }, nowMs: () => scheduler.nowMs() });
  const clients = new Map<string, IssuedCredentials>();
  for (const institutionId of world.institutions) {
    for (const channel of CHANNELS) {
      const issued = await issueClient({ clients: clientStore, usageKeys }, { institutionId, channel }, ADMIN, scheduler.now());
      const key = issued.client.keys[0];
      if (key === undefined || issued.privateKey === undefined) throw new Error('issued client has no generated key');
      clients.set(`${institutionId}#${channel}`, { keyId: key.keyId, apiKey: issued.usageKey, usageKeyId: issued.client.usageKeyId, privateKey: createPrivateKey(issued.privateKey) });
    }
  }

  recorder.phase = 'transfers';
  const workload = new Workload(shape, world, root.fork());
  let submitted = 0;
  let interbank = 0;
  while (submitted < transfers) {
    const runtime = pipeline.runtime();
    const api = apiHandlerOf(pipeline, runtime, clientStore, usageKeys, scheduler);
    const round = Math.min(ROUND_TRANSFERS, transfers - submitted);
    for (let index = 0; index < round; index++) {
      const request = workload.next();
      const client = clients.get(`${request.institutionId}#${request.channel}`);
      if (client === undefined) throw new Error(`no client for ${request.institutionId} ${request.channel}`);
      const event = submitEvent(request, client, scheduler.now());
      recorder.apiCall();
      const response = await recorder.invoke('api', 0, () => api(event, lambdaContext('api', scheduler)));
      // Every request of the workload is valid: anything but 202 is the model's bug or the code's.
      if (response.statusCode !== 202) throw new Error(`capacity run: POST /v1/transactions answered ${response.statusCode}: ${response.body}`);
      submitted++;
      if (request.interbank) interbank++;
      await scheduler.advance(1_000 / SIMULATED_TRANSFERS_PER_SECOND);
    }
    await drain(pipeline, runtime, recorder, scheduler);
  }

  recorder.phase = 'settlement';
  const runtime = pipeline.runtime();
  const close = await recorder.invoke('settlementClose', 0, () => runtime.settlementClose());
  await drain(pipeline, runtime, recorder, scheduler);
  // The settlement bank carries out each instruction and confirms it on the settlements topic,
  // as its adapter would (and as the simulator's bank does); then the consumer records it. The
  // adapter's reads and publishes count towards the window's cost (no Lambda of ours runs it).
  for (let round = 0; round < 5 && (await confirmReceivedInstructions(runtime, [CURRENCY], () => scheduler.now())) > 0; round++) await drain(pipeline, runtime, recorder, scheduler);
  const unsettled = new Set(pipeline.unsettledWindowIds());

  recorder.phase = 'sweep';
  await scheduler.advance(topology.handlers.recovery.scheduleRateMinutes * 60_000);
  await recorder.invoke('recovery', 0, () => runtime.recovery());

  const state = ledgerState(pipeline.dynamodb, pipeline.bindings);
  const decided = [...state.transfers.values()].filter((transfer) => transfer.channel !== 'ADMIN');
  const posted = decided.filter((transfer) => transfer.status === 'POSTED').length;
  if (decided.length !== submitted) throw new Error(`capacity run: ${submitted} transfers submitted, ${decided.length} decided`);
  return {
    shape,
    world,
    seed,
    transfers: submitted,
    interbank,
    posted,
    rejected: decided.length - posted,
    windowsClosed: close.closed.length,
    windowsSettled: close.closed.filter((windowId) => !unsettled.has(windowId)).length,
    transferPhase: recorder.tally('transfers'),
    settlementPhase: recorder.tally('settlement'),
    sweepPhase: recorder.tally('sweep'),
    wallSeconds: (performance.now() - started) / 1_000,
  };
}

/** Institutions with a funding account and funded customer accounts (the merchant's hot), and an ample Net Debit Cap each. */
async function openBooks(runtime: SimulatedRuntime, scheduler: Scheduler, world: World): Promise<void> {
  const openedAt = scheduler.now().toISOString();
  for (const institutionId of world.institutions) {
    const funding: Account = { accountId: fundingAccountId(institutionId, CURRENCY), institutionId, currency: CURRENCY, kind: 'FUNDING', status: 'ACTIVE', balanceMinor: 0n, overdraftLimitMinor: 0n, openedAt };
    await runtime.ledger.openAccount(funding);
    for (let index = 0; index < world.accountsPerInstitution; index++) {
      const customer = accountId(institutionId, index);
      await runtime.ledger.openAccount({ ...funding, accountId: customer, kind: 'CUSTOMER', ...(customer === world.merchantAccount ? { creditShards: MERCHANT_CREDIT_SHARDS } : {}) });
      const result = await runtime.ledger.postTransfer({
        transferId: transferIdFor('ADMIN', `opening-${customer}`),
        debtorAccountId: funding.accountId,
        creditorAccountId: customer,
        amountMinor: OPENING_BALANCE_MINOR,
        currency: CURRENCY,
        channel: 'ADMIN',
        requestedAt: openedAt,
      });
      if (result.kind !== 'decided' || result.transfer.status !== 'POSTED') throw new Error(`opening balance of ${customer} did not post`);
    }
    // Spread over the position shards its expected rate calls for, as an operator would set it.
    await runtime.settlement.setNetDebitCap(institutionId, CURRENCY, AMPLE_CAP_MINOR, SETTLEMENT_ADMIN, shardCountFor(expectedTransfersPerSecond(world, institutionId)));
  }
}

/** The API handler over this runtime's stores, as one execution environment of the api function has it. */
function apiHandlerOf(pipeline: SimulatedPipeline, runtime: SimulatedRuntime, clients: DynamoClientStore, usageKeys: LocalUsageKeys, scheduler: Scheduler): ApiHandler {
  return createApiHandler({
    ledger: runtime.ledger,
    intake: runtime.intake,
    publisher: runtime.submitPorts.publisher,
    alerts: new DynamoAlertStore(pipeline.rawDynamoDB, pipeline.bindings.tables.risk),
    settlement: { store: runtime.settlement, publisher: runtime.settlements },
    clients,
    usageKeys,
    logger: new Logger({ serviceName: 'payments-api', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'payments-api', namespace: 'PaymentsBackbone' }),
    now: () => scheduler.now(),
  });
}

/**
 * POST /v1/transactions as API Gateway hands it to the function: signed by the client as
 * lib/cli/request-signer.ts signs (Content-Digest, then RFC 9421 over method, path, query,
 * Idempotency-Key and digest), but with the private key parsed once rather than per request
 * (parsing the PEM was a tenth of the run's time), and its usage key resolved.
 */
function submitEvent(request: ReturnType<Workload['next']>, client: IssuedCredentials, now: Date): APIGatewayProxyEvent {
  const body = JSON.stringify({ debtorAccountId: request.debtorAccountId, creditorAccountId: request.creditorAccountId, amount: request.amountMinor, currency: CURRENCY });
  const unsigned: Record<string, string> = {
    'content-type': 'application/json',
    'x-api-key': client.apiKey,
    'idempotency-key': request.idempotencyKey,
    'content-digest': contentDigest(Buffer.from(body, 'utf8')),
  };
  const signature = signRequest(
    { method: 'POST', path: `${API_PATH_PREFIX}/v1/transactions`, query: '?', header: (name) => unsigned[name.toLowerCase()] },
    { keyId: client.keyId, privateKey: client.privateKey },
    Math.floor(now.getTime() / 1_000),
  );
  const headers: Record<string, string> = { ...unsigned, ...signature };
  return buildProxyEvent({
    method: 'POST',
    path: '/v1/transactions',
    resource: '/v1/transactions',
    stage: 'prod',
    requestPath: `${API_PATH_PREFIX}/v1/transactions`,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    query: null,
    body,
    caller: { apiKey: client.apiKey, apiKeyId: client.usageKeyId, userArn: null, sourceIp: '198.51.100.7', userAgent: 'capacity-model' },
  });
}

function lambdaContext(handler: HandlerName, scheduler: Scheduler): ReturnType<typeof createLambdaContext> {
  const spec = topology.handlers[handler];
  return createLambdaContext({ functionName: spec.name, timeoutSeconds: spec.timeoutSeconds, memorySizeMb: spec.memorySizeMb, now: () => scheduler.nowMs() });
}

/**
 * Delivers every queue until none has a message to give, one batch (one Lambda invocation) at a
 * time, through the simulator's deliverBatch: receive up to 10, invoke, delete what succeeded.
 * The consumers are wrapped so the recorder bills each invocation.
 */
async function drain(pipeline: SimulatedPipeline, runtime: SimulatedRuntime, recorder: Recorder, scheduler: Scheduler): Promise<void> {
  const billed = Object.fromEntries(
    queueNames().map((queue) => {
      const consumer = topology.queues[queue].consumer;
      return [queue, (event: Parameters<SimulatedRuntime['handlers'][QueueName]>[0], context: Parameters<SimulatedRuntime['handlers'][QueueName]>[1]) => recorder.invoke(consumer, event.Records.length, () => runtime.handlers[queue](event, context))];
    }),
  ) as unknown as SimulatedRuntime['handlers'];
  const instrumented: SimulatedRuntime = { ...runtime, handlers: billed };
  for (;;) {
    const ready = queueNames().filter((queue) => pipeline.messaging.hasReceivable(pipeline.bindings.queues[queue].url));
    if (ready.length === 0) break;
    for (const queue of ready) await deliverBatch(instrumented, queue, () => scheduler.nowMs(), false, () => undefined);
  }
  for (const queue of queueNames()) {
    const depth = pipeline.messaging.depth(pipeline.bindings.queues[queue].url);
    // With faults off nothing may fail: a record left in flight is a failed batch the figures would hide.
    if (depth.inFlight > 0) throw new Error(`capacity run: ${depth.inFlight} message(s) of the ${queue} queue failed`);
  }
  const deadLettered = pipeline.deadLettered();
  if (deadLettered > 0) throw new Error(`capacity run: ${deadLettered} message(s) dead-lettered`);
}

