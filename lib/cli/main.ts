// `payments`: the command-line tool for people. submit / status / account act as an API client
// (every request signed with its credentials file) against any base URL (a local runtime or a
// deployed stage); sign prints the headers that authenticate a raw request; simulate drives
// realistic traffic and prints a summary, starting a local runtime in-process when no --api is given.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ADMIN_ROLES, type AdminRole } from '../../lambdas/core/trust/api-client.js';
import { readClientCredentials, type ClientCredentials } from '../local/credentials.js';
import { ApiClient, DecisionTimeoutError, type ApiResponse } from './api-client.js';
import { signedHeaders } from './request-signer.js';
import { startDecisionFeed } from './decision-feed.js';
import { formatSummary, simulate, type SimulationSummary } from './simulate.js';

const USAGE = `Usage: payments <command> [options]

  submit   --from ACCOUNT --to ACCOUNT --amount MINOR_UNITS [--currency EUR] [--reference TEXT]
           [--idempotency-key KEY] [--wait]     --wait polls until POSTED or REJECTED
  status   TRANSACTION_ID
  account  ACCOUNT_ID
  sign     --method POST --path /v1/transactions [--body JSON] [--idempotency-key KEY]
           prints the headers that authenticate that request, one per line (curl -H @FILE);
           send the body byte for byte as given, within 300 s
  close-window --currency EUR [--window EUR-000000001] [--idempotency-key KEY] --admin-key KEY
           closes the open settlement window (only WINDOW, if given) and prints it; repeat
           with the same --idempotency-key to retry safely
  window   WINDOW_ID --admin-key KEY      a settlement window with its positions and instructions
           (--admin-key: the local settlement role's key)
  simulate [--rate 50] [--duration 20] [--customers 40] [--seed N] [--fraud | --fraud-share 0.1]
           --fraud mixes scripted fraud actors (bursts, structuring, card testing) into 10% of
           the traffic; the summary then shows what screening made of each
           --settlement-interval 5 closes the settlement window every N seconds (0: at the end only)
           without --api it starts the local runtime in-process and stops it afterwards
  dlq      list | show QUEUE | redrive QUEUE [--max N] [--sqs-endpoint URL | --stage STAGE]
           the dead-letter queues: depths, messages with their quarantine reason, and the move
           back to the work queue (payments dlq --help; docs/OPERATIONS.md)

Common options:
  --credentials FILE  the API client's credentials file (default $PAYMENTS_CREDENTIALS): client id,
                      key id, API key and Ed25519 private key, as \`npm start\` writes them or as
                      POST /v1/institutions/{id}/clients returned them
  --api URL           base URL without /v1 (default: the credentials file's, $PAYMENTS_API_URL or
                      http://127.0.0.1:3000)
  simulate against a running API also needs --operations-key, --risk-key and --settlement-key
  (a local runtime's admin role keys; deployed admin routes need IAM SigV4, which this tool does
  not sign). It issues its own API clients.
`;

const OPTIONS = {
  api: { type: 'string' },
  credentials: { type: 'string' },
  wait: { type: 'boolean', default: false },
  method: { type: 'string' },
  path: { type: 'string' },
  body: { type: 'string' },
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
  'operations-key': { type: 'string' },
  'risk-key': { type: 'string' },
  'settlement-key': { type: 'string' },
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

const DEFAULT_API = 'http://127.0.0.1:3000';
/** How long `submit --wait` waits for the decision. */
const WAIT_TIMEOUT_MS = 30_000;

function credentialsOf(values: Values): ClientCredentials {
  const file = values.credentials ?? process.env.PAYMENTS_CREDENTIALS;
  if (file === undefined) throw new UsageError('--credentials FILE (or PAYMENTS_CREDENTIALS) is required: every channel request is signed');
  try {
    return readClientCredentials(file);
  } catch (error) {
    throw new UsageError(`${file} is not an API client credentials file: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function baseUrlOf(values: Values, credentials?: ClientCredentials): string {
  return values.api ?? credentials?.api ?? process.env.PAYMENTS_API_URL ?? DEFAULT_API;
}

function client(values: Values): ApiClient {
  const credentials = credentialsOf(values);
  return new ApiClient({ baseUrl: baseUrlOf(values, credentials), credentials });
}

/** The given key is offered for every role; the API accepts it only on its own role's routes. */
function adminClient(values: Values): ApiClient {
  const adminKey = values['admin-key'] ?? process.env.PAYMENTS_ADMIN_KEY;
  if (adminKey === undefined) throw new UsageError('--admin-key (or PAYMENTS_ADMIN_KEY) is required: settlement is an admin operation');
  const adminKeys = Object.fromEntries(ADMIN_ROLES.map((role) => [role, adminKey])) as Record<AdminRole, string>;
  return new ApiClient({ baseUrl: baseUrlOf(values), adminKeys });
}

/** `payments sign`: the headers that authenticate a raw request. */
function signCommand(values: Values): void {
  const credentials = credentialsOf(values);
  if (values.method === undefined || values.path === undefined) throw new UsageError('sign needs --method and --path');
  const url = `${baseUrlOf(values, credentials)}${values.path}`;
  const headers = signedHeaders(
    {
      method: values.method,
      url,
      ...(values.body !== undefined ? { body: values.body } : {}),
      ...(values['idempotency-key'] !== undefined ? { idempotencyKey: values['idempotency-key'] } : {}),
    },
    credentials,
  );
  // One `name: value` line per header: what `curl -H @FILE` reads.
  process.stdout.write(`${Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\n')}\n`);
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
    summary.unresolved > 0 ||
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
    const need = (name: 'operations-key' | 'risk-key' | 'settlement-key'): string => {
      const value = values[name];
      if (value === undefined) throw new UsageError(`--${name} is required with --api`);
      return value;
    };
    const summary = await simulate({
      ...common,
      baseUrl: values.api,
      adminKeys: { operations: need('operations-key'), risk: need('risk-key'), settlement: need('settlement-key') },
    });
    process.stdout.write(formatSummary(summary));
    if (failedChecks(summary)) process.exitCode = 1;
    return;
  }
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
    const summary = await simulate({
      ...common,
      baseUrl: runtime.apiUrl,
      adminKeys: runtime.credentials.adminKeys,
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
  // The SDK warns on every client it builds under Node 20 that later versions need Node 22; this
  // project supports Node >= 20.19 with the SDK versions in its lock file, so it is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // `dlq` talks to SQS, not to the API, and has options of its own (lib/cli/dlq.ts).
  if (argv[0] === 'dlq') {
    const { dlqMain } = await import('./dlq.js');
    process.exitCode = await dlqMain(argv.slice(1));
    return;
  }
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
      const api = client(values);
      const submitted = await api.submit(transfer, values['idempotency-key'] ?? randomUUID());
      print(submitted);
      const transactionId = submitted.body.transactionId;
      if (!values.wait || submitted.status !== 202 || typeof transactionId !== 'string') return;
      try {
        const decided = await api.waitForDecision(transactionId, WAIT_TIMEOUT_MS);
        print({ status: 200, headers: submitted.headers, body: decided });
      } catch (error) {
        if (!(error instanceof DecisionTimeoutError)) throw error;
        process.stderr.write(`${error.message}; it stays queued: payments status ${transactionId}\n`);
        process.exitCode = 1;
      }
      return;
    }
    case 'sign':
      signCommand(values);
      return;
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
      print(await adminClient(values).closeWindow({ currency: values.currency, ...(values.window !== undefined ? { windowId: values.window } : {}) }, values['idempotency-key'] ?? randomUUID()));
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
