#!/usr/bin/env node
// Bundle report: each handler's bundle size and the CPU its module import costs on this machine.
//
//   node scripts/bundle-report.mjs [cloud-assembly-dir] [--runs N] [--json] [--no-init]
//   npm run bundle:report -- /tmp/cdk.out     (node --import tsx: the budgets live in handler-function.ts)
//
// Reads a synthesized cloud assembly (`npx cdk synth -c stage=prod -o DIR`; default ./cdk.out),
// finds every Lambda function with a bundled asset in its templates, and for each one runs a fresh
// `node` that imports the bundle's index.mjs with the function's own environment (its
// NODE_OPTIONS included, so --enable-source-maps costs what it costs on Lambda; CloudFormation
// references become placeholder strings) and prints the process CPU (user + system) the import
// took. The median of N runs (default 3) is reported. The import includes the init-phase wiring
// (lambdas/shared/wiring.ts builds clients at import when AWS_LAMBDA_RUNTIME_API is set, as on
// Lambda); --no-init leaves that variable out and measures the bare module import. Import time is measured here, not asserted
// by a test: timings on a shared 2-core machine are not a pass/fail signal.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { BUNDLE_BUDGET_BYTES, BUNDLE_ZIPPED_BUDGET_BYTES, IMPORT_BUDGET_CPU_MS, zippedBundleBytes } from '../lib/constructs/handler-function.ts';


const args = process.argv.slice(2);
const json = args.includes('--json');
const init = !args.includes('--no-init');
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
const positional = args.filter((arg, i) => !arg.startsWith('--') && !(runsAt >= 0 && i === runsAt + 1));
const assemblyDir = path.resolve(positional[0] ?? 'cdk.out');

if (!existsSync(assemblyDir)) {
  console.error(`no cloud assembly at ${assemblyDir}: run \`npx cdk synth -c stage=prod -o ${assemblyDir}\` first`);
  process.exit(2);
}

/** Every bundled Lambda function in the assembly's templates. */
function bundledFunctions(dir) {
  const found = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      // The CLI records the asset directory; without it, the code key names the asset (<hash>.zip).
      const codeKey = resource.Properties?.Code?.S3Key;
      const assetPath = resource.Metadata?.['aws:asset:path'] ?? (typeof codeKey === 'string' ? `asset.${codeKey.replace(/\.zip$/, '')}` : undefined);
      if (typeof assetPath !== 'string') continue;
      const entry = path.join(dir, assetPath, 'index.mjs');
      if (!existsSync(entry)) continue;
      const constructPath = String(resource.Metadata['aws:cdk:path'] ?? logicalId).split('/');
      // Payments-prod/HandlerPosting/Function/Resource -> posting
      const name = (constructPath.find((part) => part.startsWith('Handler')) ?? logicalId)
        .replace(/^Handler/, '')
        .replace(/([a-z])([A-Z])/g, '$1-$2')
        .toLowerCase();
      const variables = resource.Properties?.Environment?.Variables ?? {};
      const environment = Object.fromEntries(
        Object.entries(variables).map(([key, value]) => [key, typeof value === 'string' ? value : `placeholder-${key.toLowerCase()}`]),
      );
      found.push({ name, entry, environment });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

const IMPORT_PROBE = [
  'const started = process.cpuUsage();',
  'await import(process.env.BUNDLE_REPORT_ENTRY);',
  'const used = process.cpuUsage(started);',
  'process.stdout.write(JSON.stringify((used.user + used.system) / 1000));',
].join(' ');

/** CPU ms one fresh process spends importing the bundle. */
function importCpuMs(fn) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE], {
    env: {
      // What the Lambda runtime sets, so the bundle takes its Lambda code paths.
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: `payments-${fn.name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: path.dirname(fn.entry),
      AWS_ACCESS_KEY_ID: 'bundle-report',
      AWS_SECRET_ACCESS_KEY: 'bundle-report',
      // Set by the Lambda runtime: the handlers wire themselves at import (init phase) when it is.
      ...(init ? { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' } : {}),
      ...fn.environment,
      BUNDLE_REPORT_ENTRY: pathToFileURL(fn.entry).href,
    },
    cwd: path.dirname(fn.entry),
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`importing ${fn.entry} failed:\n${result.stderr}`);
  return Number(result.stdout.trim().split('\n').at(-1));
}

/** The budgets test/infra/bundle-budget.test.ts asserts (zipped and raw), and the import CPU target. */
const withinBudget = (row) => row.zippedBytes <= BUNDLE_ZIPPED_BUDGET_BYTES && row.bytes <= BUNDLE_BUDGET_BYTES && row.importCpuMs <= IMPORT_BUDGET_CPU_MS;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const kb = (bytes) => (bytes / 1000).toFixed(1);

const functions = bundledFunctions(assemblyDir);
if (functions.length === 0) {
  console.error(`no bundled Lambda functions in ${assemblyDir} (was it synthesized with bundling on?)`);
  process.exit(2);
}

const rows = functions.map((fn) => {
  const bytes = statSync(fn.entry).size;
  const mapFile = `${fn.entry}.map`;
  const mapBytes = existsSync(mapFile) ? statSync(mapFile).size : 0;
  const zippedBytes = zippedBundleBytes(readFileSync(fn.entry));
  const samples = Array.from({ length: runs }, () => importCpuMs(fn));
  return { handler: fn.name, bytes, zippedBytes, mapBytes, importCpuMs: median(samples), samples, nodeOptions: fn.environment.NODE_OPTIONS ?? '' };
});

if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, runs, init, rows }, null, 2)}\n`);
} else {
  const header = ['handler', 'index.mjs KB', 'zipped KB', 'map KB', `import CPU ms (median of ${runs})`, 'samples', 'within budget'];
  const lines = rows.map((row) => [
    row.handler,
    kb(row.bytes),
    kb(row.zippedBytes),
    kb(row.mapBytes),
    row.importCpuMs.toFixed(0),
    row.samples.map((sample) => sample.toFixed(0)).join(' / '),
    withinBudget(row) ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  console.log(`${assemblyDir} (node ${process.version}; ${init ? 'import + init-phase wiring' : 'bare import'}; budget ${kb(BUNDLE_ZIPPED_BUDGET_BYTES)} KB zipped, ${kb(BUNDLE_BUDGET_BYTES)} KB raw, ${IMPORT_BUDGET_CPU_MS} ms; KB = 1,000 bytes)`);
  console.log(format(header));
  console.log(`|${widths.map((width, i) => (i === 0 ? ':' : '-').padEnd(width + 1, '-') + (i === 0 ? '-' : ':')).join('|')}|`);
  for (const line of lines) console.log(format(line));
}
if (!rows.every(withinBudget)) process.exitCode = 1;
