// `npm run capacity -- [--transfers N] [--seed S] [--interbank PERCENT]`: the capacity model. Runs
// seeded workloads of three shapes (spread, one institution, one merchant; N transfers each) and
// two small single-kind ones through the real pipeline in this process, records every request and
// every item written, and prints per-transfer figures, the hot items with the AWS ceilings they
// set, and the cost per million transfers. The last line sums it up.
// First: it silences the handlers before any of their modules load.
import '../dst/quiet-handlers.js';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    transfers: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    interbank: { type: 'string', default: '50' },
    quiet: { type: 'boolean', default: false },
  },
});

const wholeNumber = (name: string, text: string | undefined, min: number, max: number): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    process.stderr.write(`capacity: --${name} must be a whole number from ${min} to ${max}, got ${text ?? '(none)'}\n`);
    process.exit(2);
  }
  return value;
};

const transfers = wholeNumber('transfers', values.transfers, 20, 1_000_000);
const seed = wholeNumber('seed', values.seed, 0, 2 ** 32 - 1);
const interbankShare = wholeNumber('interbank', values.interbank, 1, 99) / 100;

const { runModel } = await import('./model-run.js');
const { formatReport } = await import('./report.js');
const report = await runModel({ seed, transfers, interbankShare, ...(values.quiet ? {} : { progress: (line: string) => process.stderr.write(`capacity: ${line}\n`) }) });
for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
