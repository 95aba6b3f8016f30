// One simulated run: sets up institutions and accounts, then lets the seeded generator drive
// traffic (intrabank and interbank transfers, overdrafts, client retries, a key reused with another
// body, a debit of another institution's account, bursts on one account, fraud patterns), the queue
// consumers, the scheduled sweeps, window closes and unfreezes, while faults are injected. Then the
// faults stop and the run must converge: every accepted request decided, every closed window
// settled, money conserved. Any broken promise is a violation with the step it happened at.
import { createHash } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { fundingAccountId, type Account } from '../../lambdas/core/ledger/account.js';
import { transferIdFor } from '../../lambdas/core/ledger/transfer.js';
import type { CurrencyCode } from '../../lambdas/core/money/currency.js';
import { submitTransfer } from '../../lambdas/core/intake/submit-transfer.js';
import type { ClientChannel } from '../../lambdas/core/trust/api-client.js';
import { closeAndAnnounce } from '../../lambdas/core/settlement/close-window.js';
import { confirmReceivedInstructions } from './settlement-bank.js';
import { DynamoLedgerStore } from '../../lambdas/adapters/dynamodb/ledger-store.js';
import { recoverAtStartup } from '../local/startup.js';
import { queueNames, topology, type QueueName } from '../../contract/topology.js';
import { DEFAULT_FAULT_RATES, Faults, type FaultRates } from './faults.js';
import { checkBalances, checkConservation, checkFreezes, checkNothingLost, checkOverdrafts, checkScreened, checkSettlement, ledgerState } from './invariants.js';
import { ClientModel, type Violation } from './model.js';
import { createPipeline, deliverBatch, type SimulatedPipeline, type SimulatedRuntime } from './pipeline.js';
import { SeededRandom } from './random.js';
import { Scheduler, type Task } from './scheduler.js';

export interface SimulationOptions {
  readonly seed: number;
  readonly transfers: number;
  readonly rates?: FaultRates;
  readonly progress?: (line: string) => void;
}

export interface SimulationResult {
  readonly seed: number;
  readonly transfers: number;
  readonly steps: number;
  readonly faults: number;
  readonly faultCounts: Readonly<Record<string, number>>;
  readonly lost: number;
  readonly doubled: number;
  readonly orderViolations: number;
  readonly conserved: boolean;
  readonly decided: number;
  readonly windows: number;
  readonly settledWindows: number;
  readonly alerts: number;
  /** Accounts FROZEN at the end (each checked against the alert that froze it). */
  readonly frozen: number;
  /** Decided transfers left unscreened because a restart lost the screening queue (see ClientModel). */
  readonly screeningLost: number;
  readonly deadLettered: number;
  readonly violations: readonly Violation[];
  readonly trace: readonly string[];
  /** A hash of the whole trace and the final balances: the same seed must give the same digest. */
  readonly digest: string;
  readonly simulatedSeconds: number;
}

const START_MS = Date.UTC(2026, 0, 5, 8, 0, 0);
const INSTITUTIONS = ['bank-a', 'bank-b', 'bank-c'] as const;
const CURRENCIES: readonly CurrencyCode[] = ['EUR', 'GBP'];
const ACCOUNTS_PER_BOOK = 8;
const CHANNELS: readonly ClientChannel[] = ['WEB', 'MOBILE', 'POS'];
const DELIVERIES_PER_QUEUE_MAX = 4;
const TRACE_KEPT = 200_000;
/** After the last transfer, faults go on this long before the run heals (simulated ms). */
const FAULTY_TAIL_MS = 10 * 60_000;
/** A healed run that has not converged after this much simulated time is a liveness failure. */
const CONVERGENCE_LIMIT_MS = 6 * 3_600_000;
/** A start-up that has not finished by then died (crashed mid-way): start again. */
const STARTUP_TIMEOUT_MS = 5 * 60_000;
const SETTLEMENT_ACTOR = { role: 'settlement', principal: 'arn:aws:iam::000000000000:user/dst-settlement' } as const;
const RISK_ACTOR = { role: 'risk', principal: 'arn:aws:iam::000000000000:user/dst-risk' } as const;

interface Book {
  readonly institutionId: string;
  readonly currency: CurrencyCode;
  readonly accounts: readonly string[];
}

interface Submission {
  readonly key: string;
  readonly clientId: string;
  readonly institutionId: string;
  readonly channel: ClientChannel;
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amountMinor: number;
  readonly currency: CurrencyCode;
  /** What the answer must be, when the workload knows it. */
  readonly expect?: 'debtor-not-permitted';
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const root = new SeededRandom(options.seed);
  const random = root.fork();
  const workload = root.fork();
  const scheduler = new Scheduler(root.fork(), START_MS);
  const faults = new Faults(root.fork(), options.rates ?? DEFAULT_FAULT_RATES);
  const model = new ClientModel();
  const trace: string[] = [];
  let step = 0;
  const digest = createHash('sha256');
  const log = (line: string): void => {
    const entry = `${step} ${new Date(scheduler.nowMs()).toISOString()} ${line}`;
    digest.update(entry).update('\n');
    trace.push(entry);
    if (trace.length > TRACE_KEPT * 2) trace.splice(0, trace.length - TRACE_KEPT);
  };
  model.tracer = log;

  // Retry backoffs sleep on simulated time, and their jitter comes from the seed.
  const restoreGlobals = scheduler.installGlobals(root.fork());
  try {
    return await simulate();
  } finally {
    restoreGlobals();
  }

  async function simulate(): Promise<SimulationResult> {
  const pipeline: SimulatedPipeline = await createPipeline(scheduler, faults, model, random.chance(0.5) ? 'aws' : 'one-in-flight');
  let runtime: SimulatedRuntime = pipeline.runtime();
  const books = await openBooks(runtime, scheduler);
  const clientOf = (institutionId: string, channel: ClientChannel): string => `cli_${`${institutionId.replace(/[^a-z0-9]/g, '')}${channel.toLowerCase()}`.padEnd(20, '0')}`;

  const deliveries = new Map<QueueName, Set<Task>>(queueNames().map((queue) => [queue, new Set<Task>()]));
  const submitsByAccount = new Map<string, Set<Task>>();
  // A request that never answered has timed out for its client once the API's timeout has passed.
  const apiTimeoutMs = topology.handlers.api.timeoutSeconds * 1_000;
  const busy = (accountId: string): boolean => {
    const tasks = submitsByAccount.get(accountId);
    if (tasks === undefined) return false;
    for (const task of tasks) if (task.finished || scheduler.nowMs() - task.startedMs > apiTimeoutMs) tasks.delete(task);
    return tasks.size > 0;
  };
  const previous: Submission[] = [];
  let submitted = 0;
  let startup: Task | undefined;
  let nextRecoveryMs = START_MS + topology.handlers.recovery.scheduleRateMinutes * 60_000;
  let nextCloseMs = START_MS + topology.handlers.settlementClose.scheduleRateMinutes * 60_000;
  const closeKeys: { key: string; currency: CurrencyCode; windowId?: string }[] = [];

  const submit = (submission: Submission): void => {
    const transferId = transferIdFor(submission.clientId, submission.key);
    model.submitting(transferId, submission.debtorAccountId);
    log(`submit ${transferId} ${submission.debtorAccountId}->${submission.creditorAccountId} ${submission.amountMinor} ${submission.currency} key=${submission.key}`);
    const task = scheduler.spawn(
      `submit ${transferId}`,
      () =>
        submitTransfer(runtime.submitPorts, {
          client: { clientId: submission.clientId, institutionId: submission.institutionId, channel: submission.channel },
          idempotencyKey: submission.key,
          debtorAccountId: submission.debtorAccountId,
          creditorAccountId: submission.creditorAccountId,
          amountMinor: submission.amountMinor,
          currency: submission.currency,
          apiRequestId: `dst-${step}`,
          now: scheduler.now(),
        }),
      (outcome) => {
        if (!outcome.ok) return log(`submit ${transferId} failed: ${String(outcome.error)}`);
        const answer = outcome.value;
        log(`answer ${transferId} ${answer.kind}`);
        if (submission.expect !== undefined && answer.kind !== submission.expect) model.violation('answer', `expected ${submission.expect} for ${transferId}, got ${answer.kind}`, [transferId]);
        if (answer.kind === 'accepted') model.answeredAccepted(answer.transferId, submission.debtorAccountId);
        if (answer.kind === 'queue-unavailable') model.answeredUnavailable(answer.transferId);
      },
    );
    const tasks = submitsByAccount.get(submission.debtorAccountId) ?? new Set<Task>();
    tasks.add(task);
    submitsByAccount.set(submission.debtorAccountId, tasks);
  };

  const newSubmission = (): Submission[] => {
    const book = workload.pick(books);
    const idle = book.accounts.filter((account) => !busy(account));
    const debtor = workload.pick(idle.length > 0 ? idle : book.accounts);
    const channel = workload.pick(CHANNELS);
    const base = { clientId: clientOf(book.institutionId, channel), institutionId: book.institutionId, channel, debtorAccountId: debtor, currency: book.currency };
    const peers = books.filter((other) => other.currency === book.currency);
    const creditorIn = (target: Book): string => workload.pick(target.accounts.filter((account) => account !== debtor));
    const key = (): string => `k-${++submitted}`;
    const pattern = workload.weighted({ intrabank: 55, interbank: 25, overdraft: 4, retry: 5, reusedKey: 2, foreignDebtor: 2, burst: 3, fraud: 4 });
    const ordinary = (amountMinor: number, interbank: boolean): Submission => ({
      ...base,
      key: key(),
      creditorAccountId: creditorIn(interbank ? workload.pick(peers.filter((other) => other.institutionId !== book.institutionId)) : book),
      amountMinor,
    });
    const smallAmount = (): number => workload.between(100, 10_000);
    switch (pattern) {
      case 'intrabank':
        return [ordinary(smallAmount(), false)];
      case 'interbank':
        return [ordinary(smallAmount(), true)];
      case 'overdraft':
        return [ordinary(workload.between(5_000_000, 50_000_000), workload.chance(0.5))];
      case 'retry': {
        const earlier = previous.length > 0 ? workload.pick(previous) : undefined;
        return earlier !== undefined ? [earlier] : [ordinary(smallAmount(), false)];
      }
      case 'reusedKey': {
        const earlier = previous.length > 0 ? workload.pick(previous) : undefined;
        return earlier !== undefined ? [{ ...earlier, amountMinor: earlier.amountMinor + 1 }] : [ordinary(smallAmount(), false)];
      }
      case 'foreignDebtor': {
        const foreign = workload.pick(books.filter((other) => other.institutionId !== book.institutionId));
        return [{ ...base, key: key(), debtorAccountId: workload.pick(foreign.accounts), creditorAccountId: creditorIn(book), amountMinor: smallAmount(), currency: foreign.currency, expect: 'debtor-not-permitted' }];
      }
      case 'burst':
        return Array.from({ length: workload.between(3, 12) }, () => ({ ...ordinary(smallAmount(), workload.chance(0.3)) }));
      case 'fraud': {
        const kind = workload.pick(['large', 'structuring', 'velocity'] as const);
        if (kind === 'large') return [ordinary(workload.between(1_000_000, 3_000_000), workload.chance(0.5))];
        if (kind === 'structuring') return Array.from({ length: 3 }, () => ordinary(workload.between(900_000, 999_999), false));
        return Array.from({ length: 11 }, () => ordinary(workload.between(100, 500), false));
      }
    }
  };

  const startDelivery = (queue: QueueName): void => {
    const running = deliveries.get(queue)!;
    // A Lambda invocation that has not finished within its timeout is dead (it crashed, or it
    // would have been killed): it no longer counts against the queue's concurrency.
    const timeoutMs = topology.handlers[topology.queues[queue].consumer].timeoutSeconds * 1_000;
    for (const task of running) if (task.finished || scheduler.nowMs() - task.startedMs > timeoutMs) running.delete(task);
    if (running.size >= DELIVERIES_PER_QUEUE_MAX) return;
    const skipDelete = faults.draw('duplicate');
    const task = scheduler.spawn(`deliver ${queue}`, () => deliverBatch(runtime, queue, () => scheduler.nowMs(), skipDelete, log), (outcome) => {
      if (!outcome.ok) log(`deliver ${queue} failed: ${String(outcome.error)}`);
      else if (outcome.value > 0) log(`deliver ${queue} ${outcome.value}${skipDelete ? ' (delete skipped)' : ''}`);
    });
    running.add(task);
  };

  const restart = (): void => {
    scheduler.crashAll();
    for (const message of pipeline.messaging.messages(pipeline.bindings.queues.screening.url)) {
      const transferId = /"transactionId":"([^"]+)"/.exec(message.body)?.[1];
      if (transferId !== undefined) model.screeningLostInRestart.add(transferId);
    }
    pipeline.messaging.loseEverything();
    runtime = pipeline.runtime();
    submitsByAccount.clear();
    for (const running of deliveries.values()) running.clear();
    log('restart: every task killed, every queue lost');
    startup = undefined;
  };

  const ensureStarted = (): boolean => {
    if (startup?.finished === true) return true;
    if (startup === undefined || scheduler.nowMs() - startup.startedMs > STARTUP_TIMEOUT_MS) {
      const current = runtime;
      startup = scheduler.spawn('startup', () => recoverAtStartup(current.startupPorts), (outcome) => {
        if (outcome.ok) log(`startup: requeued ${outcome.value.recovery.requeued}, reannounced ${outcome.value.reannounced.length}`);
        else {
          log(`startup failed: ${String(outcome.error)}`);
          startup = undefined;
        }
      });
    }
    return false;
  };

  const scheduled = (): void => {
    if (scheduler.nowMs() >= nextRecoveryMs) {
      nextRecoveryMs += topology.handlers.recovery.scheduleRateMinutes * 60_000;
      const current = runtime;
      scheduler.spawn('recovery sweep', () => current.recovery(), (outcome) => log(outcome.ok ? `recovery: requeued ${outcome.value.requeued} of ${outcome.value.examined}` : `recovery failed: ${String(outcome.error)}`));
    }
    if (scheduler.nowMs() >= nextCloseMs) {
      nextCloseMs += topology.handlers.settlementClose.scheduleRateMinutes * 60_000;
      const current = runtime;
      scheduler.spawn('scheduled close', () => current.settlementClose(), (outcome) => log(outcome.ok ? `scheduled close: closed ${outcome.value.closed.join(',')} reannounced ${outcome.value.reannounced.join(',')}` : `scheduled close failed: ${String(outcome.error)}`));
    }
  };

  const adminClose = (): void => {
    const retry = closeKeys.length > 0 && workload.chance(0.3) ? workload.pick(closeKeys) : undefined;
    const request = retry ?? { key: `close-${step}`, currency: workload.pick(CURRENCIES) };
    if (retry === undefined) closeKeys.push(request);
    const current = runtime;
    scheduler.spawn(`close ${request.currency} ${request.key}`, () => closeAndAnnounce({ store: current.settlement, publisher: current.settlements, now: () => scheduler.now() }, { currency: request.currency, closedBy: SETTLEMENT_ACTOR, idempotencyKey: request.key }), (outcome) => {
      if (!outcome.ok) return log(`close ${request.key} failed: ${String(outcome.error)}`);
      const result = outcome.value;
      if (result.kind !== 'closed') return log(`close ${request.key}: ${result.kind}`);
      log(`close ${request.key}: ${result.closed.windowId} (announced ${result.announced})`);
      if (request.windowId === undefined) request.windowId = result.closed.windowId;
      else if (request.windowId !== result.closed.windowId) {
        model.violation('settlement', `close retried under key ${request.key} closed ${result.closed.windowId}, the first attempt closed ${request.windowId}`, [request.windowId, result.closed.windowId]);
      }
    });
  };

  // The settlement bank (lib/dst/settlement-bank.ts), a round now and then.
  const confirmSettlements = (): void => {
    const current = runtime;
    scheduler.spawn(
      'settlement bank',
      () => confirmReceivedInstructions(current, CURRENCIES, () => scheduler.now()),
      (outcome) => log(outcome.ok ? `settlement bank: confirmed ${outcome.value}` : `settlement bank failed: ${String(outcome.error)}`),
    );
  };

  const unfreeze = (): void => {
    const account = workload.pick(workload.pick(books).accounts);
    const current = runtime;
    scheduler.spawn(`unfreeze ${account}`, () => current.ledger.unfreezeAccount(account, RISK_ACTOR, scheduler.now().toISOString()), (outcome) => {
      if (outcome.ok && outcome.value === 'changed') log(`unfreeze ${account}`);
    });
  };

  const anythingToDeliver = (): QueueName[] => queueNames().filter((queue) => pipeline.messaging.hasReceivable(pipeline.bindings.queues[queue].url));

  // How often admins close windows differs per run: now and then, every few minutes, or so often
  // that dozens close between two scheduled closes (what a busy scheme's operators may do).
  const closeWeight = random.pick([0.05, 0.4, 1.5]);
  const startedAt = performance.now();
  faults.enabled = true;
  scheduler.running = true;
  let healedAt: number | undefined;
  let lastSubmitMs = START_MS;
  let deliverable: QueueName[] = [];
  for (;;) {
    step++;
    model.step = step;
    if (faults.draw('restart')) restart();
    const started = ensureStarted();
    // As in the local runtime, the schedules start once start-up recovery is done.
    if (started) scheduled();
    const submitting = submitted < options.transfers;
    if (!submitting && healedAt === undefined && scheduler.nowMs() - lastSubmitMs > FAULTY_TAIL_MS) {
      faults.enabled = false;
      healedAt = scheduler.nowMs();
      log('healed: faults off');
    }
    deliverable = anythingToDeliver();
    const action = random.weighted({
      resume: scheduler.waitingCount > 0 ? 60 : 0,
      submit: submitting && started ? 8 : 0,
      deliver: deliverable.length > 0 ? 12 : 0,
      advance: 4,
      crash: faults.enabled && scheduler.waitingCount > 0 ? faults.rates.crash : 0,
      close: started && faults.enabled ? closeWeight : 0,
      confirm: started ? 0.3 : 0,
      unfreeze: started ? 0.05 : 0,
    });
    switch (action) {
      case 'resume': {
        const resumes = random.between(1, 8);
        for (let index = 0; index < resumes; index++) scheduler.resumeOne();
        break;
      }
      case 'submit':
        for (const submission of newSubmission()) {
          if (submitted > options.transfers) break;
          previous.push(submission);
          if (previous.length > 500) previous.splice(0, previous.length - 500);
          submit(submission);
        }
        lastSubmitMs = scheduler.nowMs();
        await scheduler.advance(random.between(0, 1_200));
        break;
      case 'deliver':
        startDelivery(random.pick(deliverable));
        break;
      case 'advance': {
        // Mostly a moment; sometimes long enough for a visibility timeout or a retry backoff.
        const quiet = scheduler.waitingCount === 0 && deliverable.length === 0;
        const due = scheduler.nextTimerDueMs();
        const ms = quiet && due !== undefined ? due - scheduler.nowMs() : random.chance(0.05) ? random.between(30_000, 200_000) : random.between(1, 2_000);
        await scheduler.advance(Math.max(1, ms));
        break;
      }
      case 'crash':
        if (scheduler.crashOne()) {
          faults.counts.crash++;
          log('crash: a task died between two requests');
        }
        break;
      case 'close':
        adminClose();
        break;
      case 'confirm':
        confirmSettlements();
        break;
      case 'unfreeze':
        unfreeze();
        break;
    }
    await scheduler.settle();
    if (step % 50_000 === 0) {
      checkConservation(ledgerState(pipeline.dynamodb, pipeline.bindings), model);
      options.progress?.(`step ${step}: ${submitted} submitted, ${model.decidedCount} decided, ${faults.total} faults, ${Math.round(performance.now() - startedAt)} ms`);
    }
    if (model.violations.length > 0) break;
    if (healedAt !== undefined && step % 50 === 0 && (await converged())) break;
    if (healedAt !== undefined && scheduler.nowMs() - healedAt > CONVERGENCE_LIMIT_MS) {
      const state = ledgerState(pipeline.dynamodb, pipeline.bindings);
      const owed = [...model.accepted, ...model.unavailable].filter((transferId) => !state.transfers.has(transferId));
      const unsettled = pipeline.unsettledWindowIds();
      const depths = queueNames().map((queue) => `${queue} ${JSON.stringify(pipeline.messaging.depth(pipeline.bindings.queues[queue].url))}`).join(', ');
      model.violation(
        'liveness',
        `not converged ${CONVERGENCE_LIMIT_MS / 60_000} simulated minutes after healing: ${owed.length} accepted undecided, unsettled windows: [${unsettled.join(', ')}], ` +
          `${scheduler.waitingCount} waiting, ${scheduler.timerCount} timers, queues: ${depths}`,
        [...owed.slice(0, 3), ...unsettled.slice(0, 3)],
      );
      break;
    }
  }

  /**
   * Quiet and owing nothing: no task waiting, no timer, every queue empty, every request answered
   * 202 or 503 decided, no window in the product's unsettled sets. Cheap on purpose (it runs often
   * once healed); the checks after the run read everything stored, so a wrong early answer here
   * still fails the run.
   */
  async function converged(): Promise<boolean> {
    if (scheduler.waitingCount > 0 || scheduler.timerCount > 0) return false;
    if (queueNames().some((queue) => { const depth = pipeline.messaging.depth(pipeline.bindings.queues[queue].url); return depth.visible + depth.inFlight > 0; })) return false;
    if (model.owedCount > 0) return false;
    for (const currency of CURRENCIES) {
      const { Item } = await pipeline.rawDynamoDB.send(new GetItemCommand({ TableName: pipeline.bindings.tables.ledger, Key: { pk: { S: `SETTLEMENT_UNSETTLED#${currency}` } } }));
      if ((Item?.windowIds?.SS ?? []).length > 0) return false;
    }
    return true;
  }

  // The run is over: stored state must keep every promise. A run stopped at a violation did not
  // converge, so what it still owes is not counted as lost.
  scheduler.running = false;
  const stoppedEarly = model.violations.length > 0;
  const state = ledgerState(pipeline.dynamodb, pipeline.bindings);
  const conserved = checkConservation(state, model);
  checkBalances(state, model);
  checkOverdrafts(state, model);
  if (!stoppedEarly) checkScreened([...model.decidedTransferIds()].filter((id) => !model.screeningLostInRestart.has(id)), state, pipeline.dynamodb, pipeline.bindings, model);
  const lost = stoppedEarly ? 0 : checkNothingLost(state, model, pipeline.dynamodb, pipeline.bindings);
  const checker = new DynamoLedgerStore({ client: pipeline.rawDynamoDB, tableName: pipeline.bindings.tables.ledger, now: () => scheduler.now() });
  const settlement = stoppedEarly ? { windows: 0, settled: 0 } : await checkSettlement(pipeline.dynamodb, pipeline.bindings, checker.settlement, model);
  const { alerts, frozen } = checkFreezes(state, pipeline.dynamodb, pipeline.bindings, model);
  // What the run did and where it left the money: equal digests, equal runs.
  for (const account of [...state.accounts.values()].sort((a, b) => (a.accountId < b.accountId ? -1 : 1))) digest.update(`${account.accountId}=${account.balanceMinor}/${account.status}\n`);
  return {
    seed: options.seed,
    transfers: submitted,
    steps: step,
    faults: faults.total,
    faultCounts: { ...faults.counts },
    lost,
    doubled: model.doubled,
    orderViolations: model.orderViolations,
    conserved,
    decided: state.transfers.size,
    windows: settlement.windows,
    settledWindows: settlement.settled,
    alerts,
    frozen,
    screeningLost: model.screeningLostInRestart.size,
    deadLettered: pipeline.deadLettered(),
    violations: model.violations,
    trace,
    digest: digest.digest('hex').slice(0, 16),
    simulatedSeconds: Math.round((scheduler.nowMs() - START_MS) / 1_000),
  };
  }
}

/** Institutions, each with a funding account and customer accounts per currency, funded by deposits. */
async function openBooks(runtime: SimulatedRuntime, scheduler: Scheduler): Promise<Book[]> {
  const books: Book[] = [];
  const openedAt = scheduler.now().toISOString();
  for (const institutionId of INSTITUTIONS) {
    for (const currency of CURRENCIES) {
      const base: Account = { accountId: fundingAccountId(institutionId, currency), institutionId, currency, kind: 'FUNDING', status: 'ACTIVE', balanceMinor: 0n, overdraftLimitMinor: 0n, openedAt };
      await runtime.ledger.openAccount(base);
      const accounts: string[] = [];
      for (let index = 0; index < ACCOUNTS_PER_BOOK; index++) {
        const accountId = `acc-${institutionId}-${currency.toLowerCase()}-${index}`;
        // The first of each book is a hot account whose credits land on three shards; it runs
        // tight, so its debits often need what the shards hold swept in first.
        await runtime.ledger.openAccount({ ...base, accountId, kind: 'CUSTOMER', ...(index === 0 ? { creditShards: 3 } : {}) });
        // A few accounts run tight, so overdrafts and rejections happen in ordinary traffic.
        const opening = index < 2 ? 20_000 : 5_000_000;
        const result = await runtime.ledger.postTransfer({
          transferId: transferIdFor('ADMIN', `opening-${accountId}`),
          debtorAccountId: base.accountId,
          creditorAccountId: accountId,
          amountMinor: opening,
          currency,
          channel: 'ADMIN',
          requestedAt: openedAt,
        });
        if (result.kind !== 'decided' || result.transfer.status !== 'POSTED') throw new Error(`opening balance of ${accountId} did not post`);
        accounts.push(accountId);
      }
      books.push({ institutionId, currency, accounts });
      // Every institution may send interbank; the first runs tight, so its cap refuses now and
      // then, and holds across closes until the settlement bank confirms. Its cap is spread over
      // four position shards, so shards run short and borrow from each other; the second has two.
      const tight = institutionId === INSTITUTIONS[0];
      await runtime.settlement.setNetDebitCap(institutionId, currency, tight ? TIGHT_CAP_MINOR : AMPLE_CAP_MINOR, SETTLEMENT_ACTOR, tight ? 4 : institutionId === INSTITUTIONS[1] ? 2 : 1);
    }
  }
  return books;
}

const TIGHT_CAP_MINOR = 3_000_000n;
const AMPLE_CAP_MINOR = 1_000_000_000n;
