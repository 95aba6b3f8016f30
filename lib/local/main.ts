// `npm start`: the whole payments pipeline locally, on embedded emulators (or on an endpoint such
// as LocalStack), until Ctrl-C. Prints where the API is, the demo keys and accounts, and a curl
// that submits a transfer.
// The AWS SDK warns once per process that future releases need Node 22; the project supports
// Node >= 20.19 with the SDK versions in its lock file, so the warning is noise here. It is read
// as the handler modules load, so those are imported only after this.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { parseArgs } from 'node:util';
import type { LocalRuntime } from './runtime.js';

const { ADMIN_KEY_HEADER } = await import('./api-server.js');
const { startLocalRuntime } = await import('./runtime.js');

const USAGE = `Usage: npm start -- [options]

  --endpoint URL            use an AWS-compatible endpoint (LocalStack, ...) instead of the embedded
                            emulators (also AWS_ENDPOINT_URL)
  --data-dir DIR            keep DynamoDB data and the local keys in DIR between runs
  --port N                  API port (default 3000; 0 picks a free one)
  --no-seed                 do not create the demo institutions and accounts
  --pollers N               concurrent pollers per queue (default 8)
  --retry-delay-seconds N   wait before a failed record is retried (default: the queue's
                            visibility timeout, as on AWS)
  --settlement-interval N   close settlement windows that hold transfers every N seconds
                            (default: the stack's rate, 60 minutes; 0 turns it off)
  --verbose                 handler logs (Powertools JSON) at INFO instead of WARN
  --help
`;

/** Bounded wait for in-flight batches when stopping. */
const DRAIN_TIMEOUT_MS = 10_000;

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoint: { type: 'string' },
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '3000' },
      'no-seed': { type: 'boolean', default: false },
      pollers: { type: 'string', default: '8' },
      'retry-delay-seconds': { type: 'string' },
      'settlement-interval': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const integer = (name: string, value: string | undefined, min: number): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be an integer >= ${min}, got ${value}`);
    return parsed;
  };
  return {
    help: values.help,
    verbose: values.verbose,
    endpoint: values.endpoint ?? process.env.AWS_ENDPOINT_URL,
    dataDir: values['data-dir'],
    port: integer('port', values.port, 0) ?? 3000,
    seed: !values['no-seed'],
    pollers: integer('pollers', values.pollers, 1) ?? 8,
    retryDelaySeconds: integer('retry-delay-seconds', values['retry-delay-seconds'], 0),
    settlementIntervalSeconds: integer('settlement-interval', values['settlement-interval'], 0),
  };
}

function banner(runtime: LocalRuntime): string {
  const [debtor, creditor] = runtime.seededAccounts;
  const first = runtime.seededClients.find((seeded) => seeded.credentials.institutionId === debtor?.institutionId && seeded.credentials.channel === 'WEB');
  const lines = ['', 'payments-backbone is running locally', '', `  API            ${runtime.apiUrl}/v1`, ''];
  if (first !== undefined && debtor !== undefined && creditor !== undefined) {
    lines.push(
      '  submit a signed transfer and wait for it to post:',
      `    npx payments submit --credentials ${first.file} \\`,
      `      --from ${debtor.accountId} --to ${creditor.accountId} --amount 1250 --reference demo --wait`,
      '',
    );
  }
  if (runtime.seededClients.length > 0) {
    lines.push('  API clients (credentials files; each may debit and read only its own institution\'s customers):');
    for (const seeded of runtime.seededClients) {
      lines.push(`    ${seeded.credentials.institutionId.padEnd(8)} ${seeded.credentials.channel.padEnd(7)} ${seeded.file}`);
    }
    lines.push('');
  }
  if (runtime.seededAccounts.length > 0) {
    lines.push('  demo accounts (EUR, balances in cents):');
    for (const account of runtime.seededAccounts) lines.push(`    ${account.accountId.padEnd(12)} ${account.holder}`);
    lines.push('');
  }
  lines.push(`  admin role keys (header ${ADMIN_KEY_HEADER}; an IAM policy per role on AWS):`);
  for (const [role, key] of Object.entries(runtime.credentials.adminKeys)) lines.push(`    ${role.padEnd(11)} ${key}`);
  lines.push(
    '',
    '  a raw request with curl: npx payments sign --credentials FILE --method GET --path /v1/accounts/ID',
    '  prints the signed headers, for curl -H @FILE (see the README, "Signing requests").',
    '',
    '  Ctrl-C stops (in-flight batches finish first).',
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parse>;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Handlers log through Powertools as on Lambda; locally the EMF metric lines are only noise.
  process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? 'INFO' : 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const log = (line: string): void => void process.stderr.write(`[local] ${line}\n`);
  // Signal handlers first: a Ctrl-C during start-up must still stop the emulators it started.
  const running: { runtime?: LocalRuntime } = {};
  let stopRequested: NodeJS.Signals | undefined;
  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      log(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    stopRequested = signal;
    if (running.runtime === undefined) {
      log(`${signal}: stopping as soon as start-up completes`);
      return;
    }
    log(`${signal}: stopping (in-flight batches finish, up to ${DRAIN_TIMEOUT_MS / 1000} s)`);
    running.runtime.stop().then(
      () => log('stopped'),
      (error: unknown) => {
        log(`stop failed: ${String(error)}`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const startedAt = Date.now();
  const runtime = await startLocalRuntime({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.retryDelaySeconds !== undefined ? { retryDelaySeconds: options.retryDelaySeconds } : {}),
    ...(options.settlementIntervalSeconds !== undefined ? { settlementIntervalSeconds: options.settlementIntervalSeconds } : {}),
    apiPort: options.port,
    seed: options.seed,
    pollersPerQueue: options.pollers,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    log,
  });
  running.runtime = runtime;
  if (stopRequested !== undefined) {
    signals = 0;
    stop(stopRequested);
    return;
  }
  process.stdout.write(banner(runtime));
  log(`ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`payments-backbone failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
