// `payments`: the command-line tool for people. submit / status / account talk to any base URL
// (a local runtime or a deployed stage); simulate drives realistic traffic and prints a summary,
// starting a local runtime in-process when no --api is given.
import { parseArgs } from 'node:util';
import { ApiClient, type ApiResponse } from './api-client.js';
import { startDecisionFeed } from './decision-feed.js';
import { formatSummary, simulate, type SimulationSummary } from './simulate.js';

const USAGE = `Usage: payments <command> [options]

  submit   --from ACCOUNT --to ACCOUNT --amount MINOR_UNITS [--currency EUR] [--reference TEXT]
           [--idempotency-key KEY]
  status   TRANSACTION_ID
  account  ACCOUNT_ID
  close-window --currency EUR [--window EUR-000000001] --admin-key KEY
           closes the open settlement window (only WINDOW, if given) and prints it
  window   WINDOW_ID --admin-key KEY      a settlement window with its positions and instructions
  simulate [--rate 50] [--duration 20] [--customers 40] [--seed N] [--fraud | --fraud-share 0.1]
           --fraud mixes scripted fraud actors (bursts, structuring, card testing) into 10% of
           the traffic; the summary then shows what screening made of each
           --settlement-interval 5 closes the settlement window every N seconds (0: at the end only)
           without --api it starts the local runtime in-process and stops it afterwards

Common options:
  --api URL        base URL without /v1 (default $PAYMENTS_API_URL or http://127.0.0.1:3000)
  --key KEY        channel API key (default $PAYMENTS_API_KEY)
  simulate against a running API also needs --web-key, --mobile-key, --pos-key and --admin-key
  (the admin key of a local runtime; deployed admin routes need IAM SigV4, which this tool does
  not sign).
`;

const OPTIONS = {
  api: { type: 'string' },
  key: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  amount: { type: 'string' },
  currency: { type: 'string', default: 'EUR' },
  reference: { type: 'string' },
  'idempotency-key': { type: 'string' },
  rate: { type: 'string', default: '50' },
  duration: { type: 'string', default: '20' },
  customers: { type: 'string', default: '40' },
  seed: { type: 'string' },
  fraud: { type: 'boolean', default: false },
  'fraud-share': { type: 'string' },
  'settlement-interval': { type: 'string' },
  window: { type: 'string' },
  'web-key': { type: 'string' },
  'mobile-key': { type: 'string' },
  'pos-key': { type: 'string' },
  'admin-key': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

class UsageError extends Error {
  override name = 'UsageError';
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function positiveInteger(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (value === undefined || !Number.isInteger(parsed) || parsed <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return parsed;
}

function client(values: Values): ApiClient {
  const apiKey = values.key ?? process.env.PAYMENTS_API_KEY;
  if (apiKey === undefined) throw new UsageError('--key (or PAYMENTS_API_KEY) is required');
  return new ApiClient({ baseUrl: values.api ?? process.env.PAYMENTS_API_URL ?? 'http://127.0.0.1:3000', apiKey });
}

function adminClient(values: Values): ApiClient {
  const adminKey = values['admin-key'] ?? process.env.PAYMENTS_ADMIN_KEY;
  if (adminKey === undefined) throw new UsageError('--admin-key (or PAYMENTS_ADMIN_KEY) is required: settlement is an admin operation');
  return new ApiClient({ baseUrl: values.api ?? process.env.PAYMENTS_API_URL ?? 'http://127.0.0.1:3000', adminKey });
}

function print(response: ApiResponse<unknown>): void {
  const body = JSON.stringify(response.body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2);
  process.stdout.write(`HTTP ${response.status}\n${body}\n`);
  if (response.status >= 400) process.exitCode = 1;
}

/**
 * Nothing accepted may go undecided, no resend may be accepted twice, money must balance, every
 * serious alert must have been acted on, and every fraud actor expected frozen must be.
 */
function failedChecks(summary: SimulationSummary): boolean {
  const fraudMissed = summary.risk.fraud.some((outcome) => outcome.frozen < outcome.expectedFrozen);
  const settlement = summary.settlement;
  const settlementWrong = !settlement.everyWindowBalanced || settlement.unsettled.length > 0 || settlement.windowsGrossMinor !== settlement.postedInterbankMinor;
  return (
    settlementWrong ||
    summary.lost > 0 ||
    summary.duplicatesAccepted > 0 ||
    summary.conservation.before !== summary.conservation.after ||
    summary.risk.actionsMissing > 0 ||
    fraudMissed
  );
}

const DEFAULT_FRAUD_SHARE = 0.1;

function fraudShareOf(values: Values): number {
  if (values['fraud-share'] === undefined) return values.fraud ? DEFAULT_FRAUD_SHARE : 0;
  const share = Number(values['fraud-share']);
  if (!(share >= 0 && share < 1)) throw new UsageError('--fraud-share must be a number from 0 up to (not including) 1');
  return share;
}

async function runSimulation(values: Values): Promise<void> {
  const rate = positiveInteger('rate', values.rate);
  const durationSeconds = positiveInteger('duration', values.duration);
  const customers = positiveInteger('customers', values.customers);
  const seed = values.seed === undefined ? undefined : positiveInteger('seed', values.seed);
  const progress = (line: string): void => void process.stderr.write(`\r\x1b[2K${line}`);
  const settlementInterval = values['settlement-interval'];
  const settlementIntervalSeconds = settlementInterval === undefined ? undefined : Number(settlementInterval);
  if (settlementIntervalSeconds !== undefined && !(Number.isInteger(settlementIntervalSeconds) && settlementIntervalSeconds >= 0)) {
    throw new UsageError('--settlement-interval must be a whole number of seconds >= 0');
  }
  const common = {
    rate,
    durationSeconds,
    customers,
    progress,
    fraudShare: fraudShareOf(values),
    ...(seed !== undefined ? { seed } : {}),
    ...(settlementIntervalSeconds !== undefined ? { settlementIntervalSeconds } : {}),
  };
  if (values.api !== undefined) {
    const need = (name: 'web-key' | 'mobile-key' | 'pos-key' | 'admin-key'): string => {
      const value = values[name];
      if (value === undefined) throw new UsageError(`--${name} is required with --api`);
      return value;
    };
    const summary = await simulate({
      ...common,
      baseUrl: values.api,
      apiKeys: { WEB: need('web-key'), MOBILE: need('mobile-key'), POS: need('pos-key') },
      adminKey: need('admin-key'),
    });
    process.stdout.write(formatSummary(summary));
    if (failedChecks(summary)) process.exitCode = 1;
    return;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { startLocalRuntime } = await import('../local/runtime.js');
  process.stderr.write('starting the local runtime (embedded emulators)...\n');
  const runtime = await startLocalRuntime({ seed: false });
  // Ctrl-C mid-run still stops the emulators (DynamoDB Local is a child JVM).
  const interrupt = (): void => {
    void runtime.stop().finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupt);
  try {
    const key = (channel: string) => runtime.credentials.apiKeys.find((candidate) => candidate.channel === channel)!.value;
    const summary = await simulate({
      ...common,
      baseUrl: runtime.apiUrl,
      apiKeys: { WEB: key('WEB'), MOBILE: key('MOBILE'), POS: key('POS') },
      adminKey: runtime.credentials.adminKey,
      decisionFeed: (onDecision) => startDecisionFeed(runtime.clients, runtime.bindings.topics.transactions, onDecision),
    });
    process.stdout.write(formatSummary(summary));
    if (failedChecks(summary)) process.exitCode = 1;
  } finally {
    process.off('SIGINT', interrupt);
    await runtime.stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, argument] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'submit': {
      if (values.from === undefined || values.to === undefined) throw new UsageError('submit needs --from and --to');
      const transfer = {
        debtorAccountId: values.from,
        creditorAccountId: values.to,
        amount: positiveInteger('amount', values.amount),
        currency: values.currency,
        ...(values.reference !== undefined ? { reference: values.reference } : {}),
      };
      print(await client(values).submit(transfer, values['idempotency-key']));
      return;
    }
    case 'status':
      if (argument === undefined) throw new UsageError('status needs a transaction id');
      print(await client(values).getTransaction(argument));
      return;
    case 'account':
      if (argument === undefined) throw new UsageError('account needs an account id');
      print(await client(values).getAccount(argument));
      return;
    case 'simulate':
      await runSimulation(values);
      return;
    case 'close-window':
      print(await adminClient(values).closeWindow({ currency: values.currency, ...(values.window !== undefined ? { windowId: values.window } : {}) }));
      return;
    case 'window':
      if (argument === undefined) throw new UsageError('window needs a settlement window id');
      print(await adminClient(values).getWindow(argument));
      return;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`payments: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
