// Traffic simulation: realistic WEB, MOBILE and POS payment traffic against the API at a fixed
// rate, with deliberate duplicates and insufficient-funds attempts (and, with the fraud profile,
// scripted fraud actors mixed in), a live progress line and a summary (accepted, posted, rejected
// by reason, duplicates absorbed, lost, throughput, latency from 202 to decision, alerts and
// freezes) that also checks money was conserved across every account involved.
import { randomUUID } from 'node:crypto';
import type { AdminRole } from '../../lambdas/core/trust/api-client.js';
import { ApiClient, credentialsOf, type SubmitTransfer } from './api-client.js';
import type { Decision, DecisionFeed } from './decision-feed.js';
import { prepareFraud, type ScriptedRequest } from './fraud-scenarios.js';
import { percentile, percentiles, type Percentiles } from './percentiles.js';
import { collectRiskSummary, formatRiskSummary, type RiskSummary } from './risk-report.js';
import { collectSettlementSummary, formatSettlementSummary, openWindowSequence, setCaps, startWindowCloser, type SettlementSummary } from './settlement-report.js';

export interface SimulationOptions {
  readonly baseUrl: string;
  /**
   * The admin role keys (local). The simulator opens its institutions' accounts (operations),
   * issues each institution an API client per channel (operations), sets caps and closes windows
   * (settlement) and reads alerts (risk).
   */
  readonly adminKeys: Readonly<Record<AdminRole, string>>;
  /** Requests per second. */
  readonly rate: number;
  readonly durationSeconds: number;
  /** Customer accounts opened for the run (merchants are a fifth of that). @default 40 */
  readonly customers?: number;
  /** Deterministic traffic for a given seed. @default a random seed */
  readonly seed?: number;
  /**
   * Share of submissions sent by scripted fraud actors (bursts, structuring, card testing); 0
   * turns the fraud profile off. @default 0
   */
  readonly fraudShare?: number;
  /**
   * Close the settlement window this often while traffic runs (0: only once, at the end).
   * @default 5 (seconds)
   */
  readonly settlementIntervalSeconds?: number;
  /** How long to wait for the last decisions after traffic stops. @default 30_000 */
  readonly settleTimeoutMs?: number;
  /** Live progress (a line that rewrites itself); none when absent. */
  readonly progress?: (line: string) => void;
  /**
   * A source of decisions pushed from the event stream (when the simulator can subscribe to the
   * topic). Without it, decisions are found by polling GET /v1/transactions/{id}.
   */
  readonly decisionFeed?: (onDecision: (decision: Decision) => void) => Promise<DecisionFeed>;
  /** How the channels' requests go out (tests inject lost answers here). @default globalThis.fetch */
  readonly channelTransport?: typeof fetch;
}

export interface SimulationSummary {
  readonly sent: number;
  readonly accepted: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly posted: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  readonly duplicatesSent: number;
  readonly duplicatesAbsorbed: number;
  /** Resends that were accepted as new: must be 0. */
  readonly duplicatesAccepted: number;
  /** Requests per second asked for. */
  readonly offeredRate: number;
  /** Decided before the client had its 202 (their 202->decided latency reads 0). */
  readonly decidedBefore202: number;
  /** Accepted (202) but never decided within the settle timeout. */
  readonly lost: number;
  /** Submissions that got no answer and whose fate a resend with the same key told. */
  readonly answeredOnResend: number;
  /** Submissions whose fate stayed unknown after every resend: money may still move for them. */
  readonly unresolved: number;
  readonly trafficSeconds: number;
  readonly decidedPerSecond: number;
  readonly latencyMs: Percentiles;
  /** From when a submission was due to its answer: the API's latency, queueing in the generator included. */
  readonly acceptLatencyMs: Percentiles;
  /**
   * From the API accepting the request to the ledger deciding it, both on the server's clock:
   * the pipeline's own latency, free of the client's event-loop delays.
   */
  readonly pipelineLatencyMs: Percentiles;
  readonly conservation: { readonly before: bigint; readonly after: bigint; readonly accounts: number };
  /** Alerts and freezes on the run's accounts, and the fraud actors' fate. */
  readonly risk: RiskSummary;
  /** The run's settlement windows, their net positions, and their reconciliation with the transfers. */
  readonly settlement: SettlementSummary;
}

interface Profile {
  readonly channel: 'WEB' | 'MOBILE' | 'POS';
  readonly share: number;
  readonly amountMin: number;
  readonly amountMax: number;
  /** POS pays merchants; the others pay other customers. */
  readonly toMerchant: boolean;
}

/** Who pays how much: card-present payments are small, web banking transfers larger. */
const PROFILES: readonly Profile[] = [
  { channel: 'WEB', share: 0.4, amountMin: 1_000, amountMax: 80_000, toMerchant: false },
  { channel: 'MOBILE', share: 0.35, amountMin: 500, amountMax: 25_000, toMerchant: false },
  { channel: 'POS', share: 0.25, amountMin: 150, amountMax: 9_000, toMerchant: true },
];
const DUPLICATE_SHARE = 0.05;
const OVERDRAW_SHARE = 0.04;
const OPENING_BALANCE_MIN = 100_000;
const OPENING_BALANCE_MAX = 1_000_000;
/**
 * Each pending transaction is looked at about this often. Polling harder would measure the
 * poller: every look is two consistent reads on the same DynamoDB the pipeline writes to.
 */
const DECISION_POLL_MS = 200;
const SETUP_CONCURRENCY = 8;
/**
 * Submissions awaiting their answer, at most. When the API answers slower than the rate, the
 * generator waits instead of opening ever more connections (it reports the rate it achieved).
 */
const SUBMISSIONS_IN_FLIGHT_MAX = 64;
const WATCH_CONCURRENCY = 16;
/** With a decision feed, a transaction is polled only once it is this overdue. */
const FEED_STRAGGLER_MS = 5_000;

/** mulberry32: a small seeded PRNG so a run can be repeated exactly. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export async function simulate(options: SimulationOptions): Promise<SimulationSummary> {
  const admin = new ApiClient({ baseUrl: options.baseUrl, adminKeys: options.adminKeys });
  const issuedIds: IssuedIds = [];
  try {
    return await simulateWith(admin, await issueSimulationClients(admin, options.baseUrl, issuedIds, options.channelTransport), options);
  } finally {
    // A run's clients end with it: repeated runs on one data dir do not pile up active clients.
    for (const { institutionId, clientId } of issuedIds) await admin.revokeClient(institutionId, clientId).catch(() => undefined);
  }
}

async function simulateWith(admin: ApiClient, clients: SimClients, options: SimulationOptions): Promise<SimulationSummary> {
  const random = prng(options.seed ?? Math.floor(Math.random() * 2 ** 31));
  const { runId, customers, merchants } = await openSimulationAccounts(admin, options.customers ?? 40, random);
  const fraudShare = options.fraudShare ?? 0;
  if (!(fraudShare >= 0 && fraudShare < 1)) throw new RangeError(`fraudShare must be in [0, 1), got ${fraudShare}`);
  const fraud =
    fraudShare > 0
      ? await prepareFraud(
          admin,
          runId,
          FRAUD_INSTITUTION,
          // Payees at the actors' own institution: the patterns are about the accounts, and
          // the institution's Net Debit Cap must not stop them before screening sees them.
          customers.filter((customer) => customer.institutionId === FRAUD_INSTITUTION).map((customer) => customer.accountId),
          Math.round(options.rate * options.durationSeconds * fraudShare),
          random,
        )
      : { actors: [], script: [] };
  const actorAccounts = fraud.actors.map((actor) => ({ accountId: actor.accountId, institutionId: FRAUD_INSTITUTION }));
  const everyone = [...customers, ...merchants, ...actorAccounts, ...fundingAccounts(customers, merchants, actorAccounts)];
  const before = await totalBalance(admin, everyone);
  await setCaps(admin, SIMULATION_CAPS, SIMULATION_CURRENCY);
  const firstWindow = await openWindowSequence(admin, SIMULATION_CURRENCY, SIMULATION_INSTITUTIONS[0]);
  const institutionOf = new Map([...customers, ...merchants, ...actorAccounts].map((account) => [account.accountId, account.institutionId]));
  const run = new TrafficRun(clients, customers, merchants, random, options.progress, options.decisionFeed !== undefined, fraud.script, fraudShare, institutionOf);
  const feed = await options.decisionFeed?.((decision) => run.observe(decision));
  const intervalSeconds = options.settlementIntervalSeconds ?? 5;
  const closer = intervalSeconds > 0 ? startWindowCloser(admin, SIMULATION_CURRENCY, intervalSeconds * 1_000) : undefined;
  const trafficSeconds = await run.drive(options.rate, options.durationSeconds);
  await run.settle(options.settleTimeoutMs ?? 30_000);
  await closer?.stop();
  await feed?.stop();
  const settlement = await collectSettlementSummary(admin, SIMULATION_CURRENCY, firstWindow, run.postedInterbank, options.settleTimeoutMs ?? 30_000);
  const after = await totalBalance(admin, everyone);
  const risk = await collectRiskSummary(
    admin,
    [...customers, ...merchants, ...actorAccounts].map((account) => account.accountId),
    fraud.actors,
    run.completedActors,
    run.acceptedAtMs,
    options.settleTimeoutMs ?? 30_000,
  );
  return run.summary(trafficSeconds, { before, after, accounts: everyone.length }, risk, settlement);
}

const SIMULATION_CURRENCY = 'EUR';
const FRAUD_INSTITUTION = 'sim-bank-3';
const SIMULATION_INSTITUTIONS = ['sim-bank-1', 'sim-bank-2', 'sim-bank-3'] as const;
/**
 * Net Debit Caps per window: sim-bank-1's is tight enough that some of its payments are refused
 * with PAYER_LIMIT_EXCEEDED at simulation rates; the others rarely reach theirs.
 */
const SIMULATION_CAPS: Readonly<Record<(typeof SIMULATION_INSTITUTIONS)[number], number>> = {
  'sim-bank-1': 40_000,
  'sim-bank-2': 2_000_000,
  'sim-bank-3': 5_000_000,
};

interface SimAccount {
  readonly accountId: string;
  readonly institutionId: string;
}

async function openSimulationAccounts(admin: ApiClient, customerCount: number, random: () => number) {
  const runId = randomUUID().slice(0, 8);
  const institutions = SIMULATION_INSTITUTIONS;
  const open = async (index: number, role: 'cust' | 'shop'): Promise<SimAccount> => {
    const institutionId = institutions[index % institutions.length]!;
    const accountId = `sim-${runId}-${role}-${index}`;
    const opened = await admin.openAccount({ accountId, institutionId, currency: 'EUR' });
    if (opened.status !== 201) throw new Error(`opening ${accountId} answered ${opened.status}: ${JSON.stringify(opened.body)}`);
    if (role === 'cust') {
      const amount = Math.floor(OPENING_BALANCE_MIN + random() * (OPENING_BALANCE_MAX - OPENING_BALANCE_MIN));
      const funded = await admin.deposit(accountId, { amount, currency: 'EUR', reference: 'simulation opening balance' });
      if (funded.status !== 201) throw new Error(`funding ${accountId} answered ${funded.status}`);
    }
    return { accountId, institutionId };
  };
  const customers = await inBatches(customerCount, (index) => open(index, 'cust'));
  const merchants = await inBatches(Math.max(2, Math.floor(customerCount / 5)), (index) => open(index, 'shop'));
  return { runId, customers, merchants };
}

async function inBatches<T>(count: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let start = 0; start < count; start += SETUP_CONCURRENCY) {
    const size = Math.min(SETUP_CONCURRENCY, count - start);
    made.push(...(await Promise.all(Array.from({ length: size }, (_, offset) => make(start + offset)))));
  }
  return made;
}

/** Deposits came from the institutions' funding accounts: they belong in the conservation sum. */
function fundingAccounts(...groups: SimAccount[][]): SimAccount[] {
  const institutions = new Set(groups.flat().map((account) => account.institutionId));
  return [...institutions].map((institutionId) => ({ accountId: `fund-${institutionId}-eur`, institutionId }));
}

/** Read through the back office: no API client may read another institution's or a funding account. */
async function totalBalance(admin: ApiClient, accounts: readonly SimAccount[]): Promise<bigint> {
  let total = 0n;
  for (const account of accounts) {
    const response = await admin.institutionAccount(account.institutionId, account.accountId);
    if (response.status !== 200) throw new Error(`reading ${account.accountId} answered ${response.status}`);
    total += response.body.balance;
  }
  return total;
}

type SimChannel = 'WEB' | 'MOBILE' | 'POS';
/** The API client of each institution and channel, keyed `<institution>/<channel>`. */
type SimClients = ReadonlyMap<string, ApiClient>;
/** The clients a run issued (institution, client id), revoked when it ends. */
type IssuedIds = { readonly institutionId: string; readonly clientId: string }[];
const clientKey = (institutionId: string, channel: SimChannel): string => `${institutionId}/${channel}`;

/** Each simulated institution gets an API client per channel, as a participant would be issued. */
async function issueSimulationClients(admin: ApiClient, baseUrl: string, issuedIds: IssuedIds, transport: typeof fetch | undefined): Promise<SimClients> {
  const clients = new Map<string, ApiClient>();
  for (const institutionId of SIMULATION_INSTITUTIONS) {
    for (const channel of ['WEB', 'MOBILE', 'POS'] as const) {
      const issued = await admin.createClient(institutionId, { channel });
      if (issued.status !== 201) throw new Error(`issuing ${institutionId}'s ${channel} client answered ${issued.status}: ${JSON.stringify(issued.body)}`);
      issuedIds.push({ institutionId, clientId: issued.body.clientId });
      clients.set(clientKey(institutionId, channel), new ApiClient({ baseUrl, credentials: credentialsOf(issued.body, baseUrl), ...(transport !== undefined ? { transport } : {}) }));
    }
  }
  return clients;
}

interface Pending {
  readonly transactionId: string;
  readonly client: ApiClient;
  readonly acceptedAtMs: number;
  /** Accepted only on a resend after no answer: its 202 time is not the acceptance's, so no latency. */
  readonly resent: boolean;
}

type SimRequest = { readonly channel: SimChannel; readonly body: SubmitTransfer; readonly key: string };
/** A submission that got no answer, kept to be resent with its key as a channel would. */
type Unanswered = {
  readonly request: SimRequest;
  readonly client: ApiClient;
  /** Set when the submission was a deliberate duplicate: the transaction its answer must replay. */
  readonly duplicateOf?: string;
};
/**
 * Resends of a submission that got no answer. Until its fate is known, money may still move
 * after the closing balances are read, so the run cannot reconcile without it.
 */
const UNANSWERED_RESENDS = 5;
/** The first pause before a resend that got no final answer; it doubles each time. */
const RESEND_PAUSE_MS = 250;

class TrafficRun {
  readonly #clients: SimClients;
  readonly #customers: readonly SimAccount[];
  readonly #merchants: readonly SimAccount[];
  readonly #random: () => number;
  readonly #progress: ((line: string) => void) | undefined;
  readonly #fed: boolean;
  /** Decisions that arrived on the feed before their 202 did. */
  readonly #early = new Map<string, Decision>();
  readonly #pending = new Map<string, Pending>();
  readonly #sentRequests: (SimRequest & { readonly transactionId: string })[] = [];
  readonly #unanswered: Unanswered[] = [];
  /** Fraud actors' steps still to send, in order. */
  readonly #script: ScriptedRequest[];
  readonly #fraudShare: number;
  /** When each accepted transaction's 202 arrived (the start of the alert latency). */
  readonly acceptedAtMs = new Map<string, number>();
  /** Fraud actors whose every step was sent before traffic ended. */
  readonly completedActors = new Set<string>();
  readonly #institutionOf: ReadonlyMap<string, string>;
  /** Accepted interbank transfers' amounts, until decided. */
  readonly #interbankAmounts = new Map<string, number>();
  /** Posted interbank transfers: what the settlement windows must add up to. */
  readonly postedInterbank = { minor: 0n, count: 0 };
  readonly #latenciesMs: number[] = [];
  readonly #acceptLatenciesMs: number[] = [];
  readonly #serverLatenciesMs: number[] = [];
  readonly #rejected: Record<string, number> = {};
  readonly #refused: Record<string, number> = {};
  #sent = 0;
  #accepted = 0;
  #posted = 0;
  #duplicatesSent = 0;
  #duplicatesAbsorbed = 0;
  /** A resend answered with another transaction, or without the replay marker: a double acceptance. */
  #duplicatesAccepted = 0;
  #lost = 0;
  /** Submissions without an answer that a resend with the same key answered. */
  #answeredOnResend = 0;
  /** Submissions whose fate is still unknown after every resend. */
  #unresolved = 0;
  #decidedBefore202 = 0;
  #firstAcceptedMs = 0;
  #lastDecidedMs = 0;

  constructor(
    clients: SimClients,
    customers: readonly SimAccount[],
    merchants: readonly SimAccount[],
    random: () => number,
    progress: ((line: string) => void) | undefined,
    fed: boolean,
    script: readonly ScriptedRequest[],
    fraudShare: number,
    institutionOf: ReadonlyMap<string, string>,
  ) {
    this.#institutionOf = institutionOf;
    this.#fed = fed;
    this.#script = [...script];
    this.#fraudShare = fraudShare;
    this.#clients = clients;
    this.#customers = customers;
    this.#merchants = merchants;
    this.#random = random;
    this.#progress = progress;
  }

  /** Sends at `rate` per second for `durationSeconds`; returns the seconds it actually took. */
  #offeredRate = 0;

  async drive(rate: number, durationSeconds: number): Promise<number> {
    this.#offeredRate = rate;
    const total = Math.round(rate * durationSeconds);
    const startedMs = Date.now();
    const inFlight = new Set<Promise<void>>();
    this.#watcher = this.#watchDecisions();
    // Fraud steps left when the normal traffic is done are sent after it, at the same pace, so
    // every actor plays its whole pattern.
    for (let index = 0; index < total || this.#script.length > 0; index++) {
      const dueMs = startedMs + (index * 1_000) / rate;
      const waitMs = dueMs - Date.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      while (inFlight.size >= SUBMISSIONS_IN_FLIGHT_MAX) await Promise.race(inFlight);
      const sending: Promise<void> = this.#sendOne(dueMs, index >= total).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (index % Math.max(1, Math.round(rate / 4)) === 0) this.#report(startedMs);
    }
    await Promise.all(inFlight);
    return (Date.now() - startedMs) / 1_000;
  }

  #watcher: Promise<void> = Promise.resolve();
  #settleDeadlineMs: number | undefined;

  /**
   * Sends one submission that was due at `dueMs`. Its latency counts from when it was due, not
   * from when a free slot let it go, so a saturated API shows up in the figures instead of
   * hiding in the generator (coordinated omission).
   */
  async #sendOne(dueMs: number, scriptOnly: boolean): Promise<void> {
    this.#sent++;
    const scripted = this.#script.length > 0 && (scriptOnly || this.#random() < this.#fraudShare) ? this.#script.shift() : undefined;
    const previous = scripted === undefined && this.#sentRequests.length > 0 && this.#random() < DUPLICATE_SHARE ? this.#pick(this.#sentRequests) : undefined;
    if (scripted?.last === true) this.completedActors.add(scripted.actor.accountId);
    const request = previous ?? (scripted !== undefined ? { channel: scripted.channel, body: scripted.body, key: randomUUID() } : this.#newRequest());
    if (previous !== undefined) this.#duplicatesSent++;
    // A client debits only its own institution's customers: the payer's institution's client sends.
    const client = this.#clients.get(clientKey(this.#institutionOf.get(request.body.debtorAccountId) ?? '', request.channel));
    if (client === undefined) throw new Error(`no simulation client for ${request.body.debtorAccountId} on ${request.channel}`);
    let response: Awaited<ReturnType<ApiClient['submit']>>;
    try {
      response = await client.submit(request.body, request.key);
    } catch (error) {
      // No answer: the request may or may not have been accepted. Counted, never fatal; it is
      // resent with its key when traffic ends, to learn its fate. A duplicate is resent too: its
      // answer must replay the original, and a resend of it can move no money.
      const kind = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'network error';
      this.#refused[kind] = (this.#refused[kind] ?? 0) + 1;
      this.#unanswered.push(previous === undefined ? { request, client } : { request, client, duplicateOf: previous.transactionId });
      return;
    }
    this.#acceptLatenciesMs.push(Math.round(Date.now() - dueMs));
    if (response.status !== 202) {
      this.#refused[String(response.status)] = (this.#refused[String(response.status)] ?? 0) + 1;
      return;
    }
    const transactionId = response.body.transactionId as string;
    if (previous !== undefined) {
      this.#duplicateAnswered(previous.transactionId, response);
      return;
    }
    this.#firstAcceptedMs ||= dueMs;
    this.#track(request, transactionId, client, false);
  }

  /** A 202 to a deliberate duplicate: absorbed only if it replays the original transaction. */
  #duplicateAnswered(originalTransactionId: string, response: Awaited<ReturnType<ApiClient['submit']>>): void {
    if (response.body.transactionId === originalTransactionId && response.headers.get('idempotent-replayed') === 'true') this.#duplicatesAbsorbed++;
    else this.#duplicatesAccepted++;
  }

  /** An accepted original: pending until its decision is seen. */
  #track(request: SimRequest, transactionId: string, client: ApiClient, resent: boolean): void {
    this.#accepted++;
    this.#sentRequests.push({ ...request, transactionId });
    const pending: Pending = { transactionId, client, acceptedAtMs: Date.now(), resent };
    this.acceptedAtMs.set(transactionId, pending.acceptedAtMs);
    const payer = this.#institutionOf.get(request.body.debtorAccountId);
    const payee = this.#institutionOf.get(request.body.creditorAccountId);
    if (payer !== undefined && payee !== undefined && payer !== payee) this.#interbankAmounts.set(transactionId, request.body.amount);
    this.#pending.set(transactionId, pending);
    const early = this.#early.get(transactionId);
    if (early !== undefined) {
      this.#early.delete(transactionId);
      this.#decided(pending, early);
    }
  }

  /**
   * Resends every unanswered original with its own key, as a channel must: a 202 (first
   * acceptance or replay) makes it pending like any other, a refusal means it never was.
   */
  async #resolveUnanswered(): Promise<void> {
    const unanswered = this.#unanswered.splice(0);
    for (let start = 0; start < unanswered.length; start += WATCH_CONCURRENCY) {
      await Promise.all(unanswered.slice(start, start + WATCH_CONCURRENCY).map((item) => this.#resend(item)));
    }
  }

  async #resend({ request, client, duplicateOf }: Unanswered): Promise<void> {
    const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS * 2 ** attempt));
    for (let attempt = 0; attempt < UNANSWERED_RESENDS; attempt++) {
      let response: Awaited<ReturnType<ApiClient['submit']>>;
      const last = attempt === UNANSWERED_RESENDS - 1;
      try {
        response = await client.submit(request.body, request.key);
      } catch {
        // No answer again (timeout or network): the API is busy or away, so back off as for a 5xx.
        if (!last) await pause(attempt);
        continue;
      }
      // 429 (the client's throttle) and 5xx say nothing of the request's fate: ask again after a
      // pause. Any other answer is final: 202 (accepted, now or before) or a refusal.
      if (response.status === 429 || response.status >= 500) {
        if (!last) await pause(attempt);
        continue;
      }
      this.#answeredOnResend++;
      if (duplicateOf === undefined) {
        if (response.status === 202) this.#track(request, response.body.transactionId as string, client, true);
      } else if (response.status === 202) {
        this.#duplicateAnswered(duplicateOf, response);
      } else {
        // A duplicate of an accepted request must replay it: any refusal is counted as one.
        this.#refused[String(response.status)] = (this.#refused[String(response.status)] ?? 0) + 1;
      }
      return;
    }
    // A duplicate still unanswered moves no money either way: it only stays unabsorbed.
    if (duplicateOf === undefined) this.#unresolved++;
  }

  observe(decision: Decision): void {
    const pending = this.#pending.get(decision.transactionId);
    if (pending === undefined) this.#early.set(decision.transactionId, decision);
    else this.#decided(pending, decision);
  }

  #newRequest() {
    const profile = this.#profile();
    const debtor = this.#pick(this.#customers);
    const pool = profile.toMerchant ? this.#merchants : this.#customers.filter((account) => account !== debtor);
    const creditor = this.#pick(pool);
    const overdraw = this.#random() < OVERDRAW_SHARE;
    // Log-uniform amounts: many small payments, a few large ones.
    const logMin = Math.log(profile.amountMin);
    const amount = overdraw ? OPENING_BALANCE_MAX * 3 : Math.round(Math.exp(logMin + this.#random() * (Math.log(profile.amountMax) - logMin)));
    const body: SubmitTransfer = { debtorAccountId: debtor.accountId, creditorAccountId: creditor.accountId, amount, currency: 'EUR', reference: `sim ${profile.channel}` };
    return { channel: profile.channel, body, key: randomUUID() };
  }

  #profile(): Profile {
    let roll = this.#random();
    for (const profile of PROFILES) {
      if (roll < profile.share) return profile;
      roll -= profile.share;
    }
    return PROFILES[PROFILES.length - 1]!;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  /**
   * Polls pending transactions, each about every DECISION_POLL_MS, a bounded number at a time.
   * With a decision feed only stragglers are polled: a safety net, not the measurement.
   */
  async #watchDecisions(): Promise<void> {
    while (this.#settleDeadlineMs === undefined || this.#pending.size > 0) {
      if (this.#settleDeadlineMs !== undefined && Date.now() > this.#settleDeadlineMs) return;
      const roundStartedMs = Date.now();
      const all = [...this.#pending.values()];
      const due = this.#fed ? all.filter((pending) => roundStartedMs - pending.acceptedAtMs > FEED_STRAGGLER_MS).slice(0, WATCH_CONCURRENCY) : all;
      for (let start = 0; start < due.length; start += WATCH_CONCURRENCY) {
        await Promise.all(due.slice(start, start + WATCH_CONCURRENCY).map((pending) => this.#check(pending)));
      }
      const restMs = DECISION_POLL_MS - (Date.now() - roundStartedMs);
      if (restMs > 0) await new Promise((resolve) => setTimeout(resolve, restMs));
    }
  }

  async #check(pending: Pending): Promise<void> {
    let response: Awaited<ReturnType<ApiClient['getTransaction']>>;
    try {
      response = await pending.client.getTransaction(pending.transactionId);
    } catch {
      return; // looked at again next round; undecided at the deadline counts as lost
    }
    const { status, decidedAt, rejectionReason, requestedAt } = response.body;
    if (response.status !== 200 || status === 'RECEIVED' || decidedAt === undefined) return;
    this.#decided(pending, { transactionId: pending.transactionId, status, decidedAt, requestedAt, ...(rejectionReason !== undefined ? { rejectionReason } : {}) });
  }

  /**
   * Latency runs from the 202 (this process's clock) to decidedAt (the ledger's clock): exact on
   * one machine, and off by the clock skew only against a deployed stage. Observing the decision
   * by polling would add up to a poll interval of noise.
   */
  #decided(pending: Pending, transaction: Decision): void {
    if (!this.#pending.delete(pending.transactionId)) return;
    const decidedMs = Date.parse(transaction.decidedAt);
    this.#lastDecidedMs = Math.max(this.#lastDecidedMs, decidedMs);
    if (!pending.resent) {
      if (decidedMs < pending.acceptedAtMs) this.#decidedBefore202++;
      this.#latenciesMs.push(Math.max(0, decidedMs - pending.acceptedAtMs));
      this.#serverLatenciesMs.push(Math.max(0, decidedMs - Date.parse(transaction.requestedAt)));
    }
    if (transaction.status === 'POSTED') this.#posted++;
    else this.#rejected[transaction.rejectionReason ?? 'UNKNOWN'] = (this.#rejected[transaction.rejectionReason ?? 'UNKNOWN'] ?? 0) + 1;
    const interbank = this.#interbankAmounts.get(pending.transactionId);
    this.#interbankAmounts.delete(pending.transactionId);
    if (interbank !== undefined && transaction.status === 'POSTED') {
      this.postedInterbank.minor += BigInt(interbank);
      this.postedInterbank.count++;
    }
  }

  /** Waits for the stragglers; whatever is still undecided at the deadline counts as lost. */
  async settle(timeoutMs: number): Promise<void> {
    await this.#resolveUnanswered();
    this.#settleDeadlineMs = Date.now() + timeoutMs;
    await this.#watcher;
    this.#lost = this.#pending.size;
    this.#progress?.('');
  }

  #report(startedMs: number): void {
    if (this.#progress === undefined) return;
    const sorted = [...this.#latenciesMs].sort((a, b) => a - b);
    const elapsed = ((Date.now() - startedMs) / 1_000).toFixed(0);
    const rejected = Object.values(this.#rejected).reduce((sum, count) => sum + count, 0);
    this.#progress(
      `t=${elapsed}s sent ${this.#sent} accepted ${this.#accepted} posted ${this.#posted} rejected ${rejected} pending ${this.#pending.size} p95 ${percentile(sorted, 0.95)} ms`,
    );
  }

  summary(trafficSeconds: number, conservation: SimulationSummary['conservation'], risk: RiskSummary, settlement: SettlementSummary): SimulationSummary {
    const sorted = [...this.#latenciesMs].sort((a, b) => a - b);
    const decided = this.#latenciesMs.length;
    const windowSeconds = Math.max(0.001, (this.#lastDecidedMs - this.#firstAcceptedMs) / 1_000);
    return {
      sent: this.#sent,
      accepted: this.#accepted,
      refused: { ...this.#refused },
      posted: this.#posted,
      rejectedByReason: { ...this.#rejected },
      duplicatesSent: this.#duplicatesSent,
      duplicatesAbsorbed: this.#duplicatesAbsorbed,
      duplicatesAccepted: this.#duplicatesAccepted,
      offeredRate: this.#offeredRate,
      lost: this.#lost,
      answeredOnResend: this.#answeredOnResend,
      unresolved: this.#unresolved,
      decidedBefore202: this.#decidedBefore202,
      trafficSeconds,
      decidedPerSecond: decided / windowSeconds,
      latencyMs: percentiles(sorted),
      acceptLatencyMs: percentiles([...this.#acceptLatenciesMs].sort((a, b) => a - b)),
      pipelineLatencyMs: percentiles([...this.#serverLatenciesMs].sort((a, b) => a - b)),
      conservation,
      risk,
      settlement,
    };
  }
}

/** Below this fraction of the offered rate the summary warns that the machine was saturated. */
const SATURATION_FRACTION = 0.9;

export function formatSummary(summary: SimulationSummary): string {
  const achieved = summary.sent / summary.trafficSeconds;
  const rejected = Object.entries(summary.rejectedByReason)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const conserved = summary.conservation.before === summary.conservation.after;
  return [
    '',
    'simulation summary',
    `  sent             ${summary.sent} requests in ${summary.trafficSeconds.toFixed(1)} s = ${achieved.toFixed(1)}/s of ${summary.offeredRate}/s offered (${summary.duplicatesSent} deliberate duplicates)`,
    ...(achieved < summary.offeredRate * SATURATION_FRACTION
      ? [`  WARNING          the API could not keep up with the offered rate: this machine is saturated, and latencies below include queueing`]
      : []),
    `  accepted (202)   ${summary.accepted}${Object.keys(summary.refused).length > 0 ? `   refused: ${JSON.stringify(summary.refused)}` : ''}`,
    `  posted           ${summary.posted}`,
    `  rejected         ${Object.values(summary.rejectedByReason).reduce((sum, count) => sum + count, 0)}${rejected === '' ? '' : ` (${rejected})`}`,
    `  duplicates       ${summary.duplicatesAbsorbed} of ${summary.duplicatesSent} absorbed (same transaction, Idempotent-Replayed)${summary.duplicatesAccepted > 0 ? `; ${summary.duplicatesAccepted} ACCEPTED TWICE` : ''}`,
    ...(summary.answeredOnResend + summary.unresolved > 0
      ? [`  unanswered       ${summary.answeredOnResend} answered when resent with their key${summary.unresolved > 0 ? `; ${summary.unresolved} STILL UNKNOWN (money may move after the closing balances)` : ''}`]
      : []),
    `  lost             ${summary.lost}${summary.lost === 0 ? ' (every accepted request was decided)' : ' ACCEPTED REQUESTS WITHOUT A DECISION'}`,
    `  throughput       ${summary.decidedPerSecond.toFixed(1)} decisions/s`,
    `  latency accepted->decided  p50 ${summary.pipelineLatencyMs.p50} ms  p95 ${summary.pipelineLatencyMs.p95} ms  p99 ${summary.pipelineLatencyMs.p99} ms  max ${summary.pipelineLatencyMs.max} ms   (the pipeline: the API's acceptance to the ledger's decision, server clock)`,
    `  latency 202->decided       p50 ${summary.latencyMs.p50} ms  p95 ${summary.latencyMs.p95} ms  p99 ${summary.latencyMs.p99} ms  max ${summary.latencyMs.max} ms   (as the channel sees it; 0 when decided before the 202 arrived: ${summary.decidedBefore202} of them)`,
    `  latency due->202           p50 ${summary.acceptLatencyMs.p50} ms  p95 ${summary.acceptLatencyMs.p95} ms  p99 ${summary.acceptLatencyMs.p99} ms  max ${summary.acceptLatencyMs.max} ms`,
    `  money            ${conserved ? 'conserved' : 'NOT CONSERVED'}: sum over ${summary.conservation.accounts} accounts ${summary.conservation.before} before, ${summary.conservation.after} after (cents)`,
    formatRiskSummary(summary.risk),
    formatSettlementSummary(summary.settlement),
    '',
  ].join('\n');
}
