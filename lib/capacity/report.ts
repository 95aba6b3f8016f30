// The capacity model's printed report: what a transfer asks of each service, what it writes, the
// hot items of each workload shape with their ceilings, the other hot items worth knowing about,
// and the cost per million transfers; the last line sums it up. Plain text, fixed order, so two
// runs with one seed differ only in the measured CPU time (and so, by cents, in Lambda cost).
import { ALERT_FEED_SHARDS } from '../../lambdas/adapters/dynamodb/alert-store.js';
import { UNDECIDED_SHARDS } from '../../lambdas/adapters/dynamodb/intake-store.js';
import { COUNTER_SHARDS } from '../../lambdas/adapters/dynamodb/risk-store.js';
import { BUCKETS_PER_WINDOW } from '../../lambdas/core/risk/windows.js';
import { CONFLICT_SHARE_MAX, ITEM_TRANSACTIONS_PER_SECOND, PARTITION_RCU_PER_SECOND, PARTITION_WCU_PER_SECOND, REFERENCE_TRANSFERS_PER_SECOND } from './assumptions.js';
import { conflictLimitedTransactionsPerSecond, type KeyCeiling } from './ceiling.js';
import { invocationsOf, kmsRequestsPerMillionTransfers, type ShapeFigures } from './model.js';
import { PRICES_AS_OF, PRICES_REGION } from './prices.js';
import { CURRENCY } from './workload.js';

export interface Report {
  readonly seed: number;
  readonly spread: ShapeFigures;
  readonly institution: ShapeFigures;
  readonly merchant: ShapeFigures;
  readonly intrabank: ShapeFigures;
  readonly interbank: ShapeFigures;
}

const LABEL_WIDTH = 20;
/** Hot keys listed per shape. */
const TOP_KEYS = 6;
/** An item written this many times in a run is shared by transfers (an item per transfer is written once or twice). */
const SHARED_WRITES_MIN = 5;

/**
 * Kinds whose items are shared by many transfers by construction, listed however few writes a run
 * happened to give them: the shards of one institution and channel's rejection counter, the alert
 * feed's shards per status, the undecided-intake index's shards.
 */
const SHARED_BY_DESIGN = ['risk COUNTER#rejections-channel', 'risk/alertsByTime', 'requests/undecidedByAcceptance'];

/** Shape names as the summary line spells them. */
const LABELS = { spread: 'spread', institution: 'one institution', merchant: 'one merchant' } as const;

export function formatReport(report: Report): string[] {
  const lines: string[] = [];
  const out = (line = ''): void => void lines.push(line);
  const { spread } = report;
  const mixed = [report.spread, report.institution, report.merchant] as const;

  out(
    `capacity model: seed ${report.seed}, ${spread.run.transfers} transfers per shape through the real handlers on the in-memory services (faults off); ` +
      `${spread.run.world.institutions.length} institutions x ${spread.run.world.accountsPerInstitution} accounts, one currency (${CURRENCY}), ${pct(spread.run.shape.interbankShare)} of transfers interbank`,
  );
  out(`prices: ${PRICES_REGION} on-demand list prices as of ${PRICES_AS_OF} (lib/capacity/prices.ts); assumptions in lib/capacity/assumptions.ts`);
  out();

  out(`per transfer, spread shape (${describeRun(spread)}):`);
  const tally = spread.run.transferPhase;
  const perTransfer = (count: number): string => fixed(count / spread.run.transfers, 2);
  const requests = [...tally.requests].sort(([a], [b]) => (a < b ? -1 : 1));
  for (const service of ['DynamoDB', 'SNS', 'SQS']) {
    const ofService = requests.filter(([request]) => request.startsWith(`${service} `)).map(([request, count]) => `${request.slice(service.length + 1)} ${perTransfer(count)}`);
    const extra = service === 'SQS' ? `; plus ${perTransfer(tally.sns.deliveries)} SNS deliveries into queues` : '';
    out(`  ${`${service} requests`.padEnd(LABEL_WIDTH)}${ofService.join(', ')}${extra}`);
  }
  out(`  ${'API Gateway'.padEnd(LABEL_WIDTH)}${perTransfer(tally.apiCalls)} request (POST /v1/transactions)`);
  const invocations = invocationsOf(tally, spread.run.transfers)
    .map((entry) => `${entry.handler} ${fixed(entry.perTransfer, 3)}${entry.meanBatch > 0 ? ` (batch ${fixed(entry.meanBatch, 1)})` : ''} x ${fixed(entry.meanBilledMs, 0)} ms`)
    .join('; ');
  out(`  ${'Lambda invocations'.padEnd(LABEL_WIDTH)}${invocations}`);
  out(`  ${''.padEnd(LABEL_WIDTH)}(billed ms per invocation = measured in-process CPU + modelled service latency on its critical path; the in-memory services answer in microseconds)`);
  const wcu = tally.wcu;
  out(
    `  ${'DynamoDB WCU'.padEnd(LABEL_WIDTH)}${perTransfer(tally.totalWcu)} = ${perTransfer(wcu.transactional)} transactional + ${perTransfer(wcu.standard)} standard + ${perTransfer(wcu.index)} index + ${perTransfer(wcu.failed)} failed (condition failed, transaction cancelled)`,
  );
  out(`  ${'DynamoDB RCU'.padEnd(LABEL_WIDTH)}${perTransfer(tally.totalRcu)} = ${perTransfer(tally.rcu.strong)} strongly consistent + ${perTransfer(tally.rcu.eventual)} eventually consistent`);
  out(`  ${'SNS'.padEnd(LABEL_WIDTH)}${perTransfer(tally.sns.fifoPublishes)} FIFO publishes (${fixed(tally.sns.fifoPublishBytes / Math.max(1, tally.sns.fifoPublishes), 0)} B each), ${perTransfer(tally.sns.standardPublishes)} operations notifications`);
  for (const single of [report.intrabank, report.interbank]) {
    const ofSingle = single.run.transferPhase;
    out(
      `  ${`${single.run.shape.name} only`.padEnd(LABEL_WIDTH)}${fixed(ofSingle.totalWcu / single.run.transfers, 2)} WCU, ${fixed(ofSingle.totalRcu / single.run.transfers, 2)} RCU, ` +
        `${fixed(ofSingle.requestCount('DynamoDB ') / single.run.transfers, 2)} DynamoDB requests, ${money(single.totalPerMillion)} per million (${describeRun(single)})`,
    );
  }
  out();

  out('items written per transfer, spread shape (size = the larger of old and new image; WCU include the transactional doubling):');
  for (const [kind, load] of [...tally.kinds].sort(([, a], [, b]) => b.wcu - a.wcu)) {
    if (load.wcu / spread.run.transfers < 0.005) continue;
    out(
      `  ${kind.padEnd(44)}${fixed(load.writes / spread.run.transfers, 2).padStart(6)} writes x ${String(Math.round(load.bytes / load.writes)).padStart(4)} B (max ${String(load.maxBytes).padStart(4)})` +
        `${load.transactionalWrites > 0 ? `, ${pct(load.transactionalWrites / load.writes).padStart(4)} in transactions` : ''.padEnd(22)}  ${fixed(load.wcu / spread.run.transfers, 2).padStart(5)} WCU`,
    );
  }
  out();

  out('items read per transfer, spread shape (strongly consistent unless said; a missing item still costs the minimum unit):');
  for (const [kind, load] of [...tally.readKinds].sort(([, a], [, b]) => b.rcu - a.rcu)) {
    if (load.rcu / spread.run.transfers < 0.005) continue;
    out(`  ${kind.padEnd(44)}${fixed(load.reads / spread.run.transfers, 2).padStart(6)} reads  ${fixed(load.rcu / spread.run.transfers, 2).padStart(6)} RCU`);
  }
  out();

  out(
    `hot items: share of the transfer path's write units, WCU per transfer, and the transfer rate at which the item reaches ${num(PARTITION_WCU_PER_SECOND)} WCU/s; ` +
      `conservative: also at most ${num(conflictLimitedTransactionsPerSecond())} transactions/s per item (${pct(CONFLICT_SHARE_MAX)} conflicts at ${num(ITEM_TRANSACTIONS_PER_SECOND)}/s one at a time)`,
  );
  for (const figures of mixed) {
    out(`  ${figures.run.shape.title} (${describeRun(figures)}):`);
    for (const key of figures.keys.slice(0, TOP_KEYS)) out(`    ${keyLine(key, figures)}`);
    const interbank = figures.run.interbank / figures.run.transfers;
    out(
      `    ceiling ${rate(figures.ceiling.capacity.rate)} (${rate(figures.ceiling.capacity.rate * interbank)} interbank), set by ${figures.ceiling.capacity.key}; ` +
        `conservative ${rate(figures.ceiling.conservative.rate)} (${rate(figures.ceiling.conservative.rate * interbank)} interbank), set by ${figures.ceiling.conservative.key}`,
    );
  }
  out();

  for (const line of whyLines(report)) out(line);
  out();

  out('other hot items (the hottest item of each kind; ceilings in transfers/s per shape: spread / one institution / one merchant):');
  for (const line of otherHotItems(report)) out(`  ${line}`);
  out();

  out(`cost per million transfers (transfer path; then the hourly window close and settlement and the 5-minute recovery sweep, spread over ${num(REFERENCE_TRANSFERS_PER_SECOND)} transfers/s):`);
  for (const figures of [...mixed, report.intrabank, report.interbank]) {
    const cost = figures.costPerMillion;
    out(
      `  ${`${figures.run.shape.name}:`.padEnd(13)}API Gateway ${money(cost.apiGateway)}, Lambda ${money(cost.lambdaRequests + cost.lambdaDuration)} (requests ${money(cost.lambdaRequests)}, duration ${money(cost.lambdaDuration)}), ` +
        `SQS ${money(cost.sqs)}, SNS ${money(cost.snsFifo + cost.snsNotifications)} (FIFO ${money(cost.snsFifo)}, notifications ${money(cost.snsNotifications)}), ` +
        `DynamoDB ${money(cost.dynamodbWrites + cost.dynamodbReads)} (writes ${money(cost.dynamodbWrites)}, reads ${money(cost.dynamodbReads)}), KMS ${money(cost.kms)}; ` +
        `settlement ${money(figures.settlementPerMillion)}, sweeps ${money(figures.sweepPerMillion)} = ${money(figures.totalPerMillion)}`,
    );
  }
  out(
    `  (KMS: ${num(Math.round(kmsRequestsPerMillionTransfers()))} requests per million transfers, assuming SQS/SNS data keys and DynamoDB table keys reused for 5 minutes per principal and resource; ` +
      `SNS deliveries into SQS counted as SQS requests too; idle pollers' empty receives, CloudWatch and data transfer not included)`,
  );
  out(
    `  one settlement window (close, netting, ${report.spread.run.world.institutions.length} instructions and confirmations; ${report.spread.run.windowsSettled} of ${report.spread.run.windowsClosed} closed settled): ` +
      `$${report.spread.settlementPerWindow.toFixed(4)}; one recovery sweep: $${report.spread.sweepCost.toFixed(4)}`,
  );
  out();

  out(
    `capacity: conservative (transaction conflicts): ${mixed.map((figures) => `${LABELS[figures.run.shape.name as keyof typeof LABELS]} ${Math.round(figures.ceiling.conservative.rate)}/s`).join(', ')}`,
  );
  out(
    `capacity: ${mixed.map((figures) => `${LABELS[figures.run.shape.name as keyof typeof LABELS]} ${Math.round(figures.ceiling.capacity.rate)}/s`).join(', ')}, ` +
      `${money(spread.totalPerMillion)} per million transfers`,
  );
  return lines;
}

function keyLine(key: KeyCeiling, figures: ShapeFigures): string {
  const share = key.wcuPerTransfer / figures.totalWcuPerTransfer;
  return (
    `${key.key.padEnd(48)}${pct(share, 1).padStart(6)} of WCU  ${fixed(key.wcuPerTransfer, 3).padStart(6)} WCU  ` +
    `${fixed(key.transactionsPerTransfer, 3).padStart(6)} tx  -> ${rate(key.capacity).padStart(9)}  conservative ${rate(key.conservative).padStart(9)}`
  );
}

/**
 * Kinds of item the three shapes' top lists do not show, hottest first: risk counter shards shared
 * by an institution's channel, the alert feed's shards, the sparse intake index's shards. Only
 * items written often enough to be shared (an item per transfer or per alert is never hot). Each
 * with what drives it, so its ceiling can be read in its own unit.
 */
function otherHotItems(report: Report): string[] {
  const mixed = [report.spread, report.institution, report.merchant];
  const shown = new Set(mixed.flatMap((figures) => figures.keys.slice(0, TOP_KEYS).map((key) => kindOf(key.key))));
  const hottest = new Map<string, KeyCeiling>();
  for (const key of report.spread.keys) {
    const kind = kindOf(key.key);
    const writes = report.spread.run.transferPhase.keys.get(key.key)?.writes ?? 0;
    if (shown.has(kind) || writes === 0 || (writes < SHARED_WRITES_MIN && !SHARED_BY_DESIGN.includes(kind))) continue;
    const best = hottest.get(kind);
    if (best === undefined || key.wcuPerTransfer > best.wcuPerTransfer) hottest.set(kind, key);
  }
  const lines: string[] = [];
  for (const key of [...hottest.values()].sort((a, b) => b.wcuPerTransfer - a.wcuPerTransfer)) {
    const ceilings = mixed.map((figures) => {
      const same = figures.keys.find((candidate) => candidate.key === key.key);
      return same === undefined ? '-' : rate(same.capacity);
    });
    lines.push(`${key.key.padEnd(56)}${fixed(key.wcuPerTransfer, 4).padStart(7)} WCU/transfer  ${ceilings.join(' / ')}`);
    const note = driverNote(key, report);
    if (note !== undefined) lines.push(`  ${note}`);
  }
  const reads = report.spread.ceiling.reads;
  lines.push(`hottest key for reads (spread): ${reads.key}, ${rate(reads.rate)} at ${num(PARTITION_RCU_PER_SECOND)} RCU/s`);
  return lines;
}

/** What drives the writes of the well-known shared items, and their limit in that unit. */
function driverNote(key: KeyCeiling, report: Report): string | undefined {
  const load = report.spread.run.transferPhase.keys.get(key.key);
  if (load === undefined || load.writes === 0) return undefined;
  if (key.key.startsWith('risk COUNTER#rejections-channel#')) {
    const perRejection = load.wcu / load.writes;
    const shards = COUNTER_SHARDS['rejections-channel'];
    return (
      `every rejection of one institution's channel (all its POS terminals, say) adds to one of this counter's ${shards} shards (by transfer id) in its screening transaction: ` +
      `${fixed(perRejection, 1)} WCU each, so ${rate((shards * PARTITION_WCU_PER_SECOND) / perRejection)} rejections per institution and channel at most (conservative ${rate(shards * conflictLimitedTransactionsPerSecond())}); ` +
      `each rejection reads all ${shards} shards of its window's ${BUCKETS_PER_WINDOW + 1} buckets (1 RCU each), so reads stop one channel first, at ${rate(PARTITION_RCU_PER_SECOND)} rejections`
    );
  }
  if (key.key.startsWith('risk/alertsByTime ')) {
    const alerts = report.spread.keys.filter((candidate) => candidate.key.startsWith('risk ALERT#')).length;
    if (alerts === 0) return undefined;
    // Every shard of the feed together: what one alert costs the index.
    let writes = 0;
    let wcu = 0;
    for (const [name, shard] of report.spread.run.transferPhase.keys) {
      if (!name.startsWith('risk/alertsByTime ')) continue;
      writes += shard.writes;
      wcu += shard.wcu;
    }
    const perAlert = wcu / alerts;
    return (
      `one of ${ALERT_FEED_SHARDS} shards per status of the alert feed (by alert id; listings merge them): each alert writes its shard ${fixed(writes / alerts, 1)} times ` +
      `(created, then updated with every attribute projected), ${fixed(perAlert, 1)} WCU, so ${rate((ALERT_FEED_SHARDS * PARTITION_WCU_PER_SECOND) / perAlert)} alerts at most (${rate(PARTITION_WCU_PER_SECOND / perAlert)} per shard)`
    );
  }
  if (key.key.startsWith('requests/undecidedByAcceptance ')) return `one of ${UNDECIDED_SHARDS} shards of the sparse undecided-intake index, written when a request is accepted and again when it is decided`;
  if (key.key.startsWith('risk COUNTER#debits-')) return "one account's debit counters: hot only if one account pays out very often (a merchant's payouts); same wall as its ACCOUNT item";
  return undefined;
}

/**
 * Why the ceilings come out where they do, from the measured figures: per shape, the kind of item
 * that sets it, how many of that kind share the load, and what one of them costs per transfer.
 */
function whyLines(report: Report): string[] {
  const lines: string[] = [];
  for (const figures of [report.spread, report.institution, report.merchant]) {
    const first = figures.keys[0];
    if (first === undefined) continue;
    const kind = kindOf(first.key);
    const siblings = figures.keys.filter((key) => kindOf(key.key) === kind && key.wcuPerTransfer >= first.wcuPerTransfer / 2).length;
    lines.push(
      `${LABELS[figures.run.shape.name as keyof typeof LABELS]}: set by ${first.key} (${fixed(first.wcuPerTransfer, 3)} WCU and ${fixed(first.transactionsPerTransfer, 3)} transactions per transfer; ` +
        `${siblings} ${kind} item${siblings === 1 ? '' : 's'} within half of its load): ${rate(first.capacity)}, conservative ${rate(first.conservative)}.`,
    );
  }
  return lines;
}

/** 'ledger POSITION#EUR-<open>#bank-01' -> 'ledger POSITION'; an index partition -> its index. */
function kindOf(key: string): string {
  const space = key.indexOf(' ');
  const table = space < 0 ? key : key.slice(0, space);
  if (table.includes('/')) return table;
  const [first = '', second] = key.slice(space + 1).split('#');
  return `${table} ${first === 'COUNTER' && second !== undefined ? `${first}#${second}` : first}`;
}

function describeRun(figures: ShapeFigures): string {
  const run = figures.run;
  return `${run.transfers} transfers, ${run.interbank} interbank, ${run.rejected} rejected`;
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function pct(share: number, digits = 0): string {
  return `${(share * 100).toFixed(digits)} %`;
}

function num(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function rate(value: number): string {
  return Number.isFinite(value) ? `${num(value)}/s` : 'unbounded';
}

function money(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

