// `npm run dst -- [--seed S] [--transfers N] [--seeds K]`: the deterministic simulator's command
// line. Runs the whole pipeline in this process on the in-memory services, one seed after another,
// and prints one summary line per seed; a violation prints the seed, the step, the broken promise
// and the trace of what it involved, and the exit code is 1. The same seed replays the same run.
// First: it silences the handlers before any of their modules load.
import './quiet-handlers.js';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string', default: '1' },
    transfers: { type: 'string', default: '10000' },
    'trace-lines': { type: 'string', default: '40' },
    /** Writes the whole kept trace of a failing seed to this file. */
    'trace-file': { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const positive = (name: string, text: string | undefined): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`dst: --${name} must be a whole number >= 0, got ${text ?? '(none)'}\n`);
    process.exit(2);
  }
  return value;
};

const transfers = positive('transfers', values.transfers);
const seedCount = Math.max(1, positive('seeds', values.seeds));
const firstSeed = values.seed !== undefined ? positive('seed', values.seed) : Math.floor(Math.random() * 1_000_000);
const traceLines = positive('trace-lines', values['trace-lines']);

const { runSimulation } = await import('./simulation.js');

let failed = false;
for (let index = 0; index < seedCount; index++) {
  const seed = firstSeed + index;
  const started = performance.now();
  const result = await runSimulation({ seed, transfers, ...(values.quiet ? {} : { progress: (line) => process.stderr.write(`dst: seed ${seed}, ${line}\n`) }) });
  const seconds = ((performance.now() - started) / 1_000).toFixed(1);
  if (result.violations.length > 0 && values['trace-file'] !== undefined) writeFileSync(values['trace-file'], `${result.trace.join('\n')}\n`);
  for (const violation of result.violations) {
    failed = true;
    process.stdout.write(`dst: VIOLATION seed ${seed}, step ${violation.step}: ${violation.invariant}: ${violation.detail}\n`);
    // The lines that name what broke, and the run-wide events (restarts, start-ups) between them.
    const involved = result.trace.filter((line) => violation.subjects.some((subject) => line.includes(subject)) || / (restart|startup)\b/.test(line));
    const shown = (involved.length > 0 ? involved : result.trace).slice(-traceLines);
    process.stdout.write(`dst: trace (${shown.length} of ${involved.length > 0 ? involved.length : result.trace.length} lines${involved.length > 0 ? ' that name it' : ''}):\n`);
    for (const line of shown) process.stdout.write(`  ${line}\n`);
  }
  process.stdout.write(
    `dst: seed ${seed}, ${result.transfers} transfers, ${result.faults} faults injected, ${result.lost} lost, ${result.doubled} doubled, ` +
      `${result.orderViolations} order violations, ${result.conserved ? 'conserved' : 'NOT conserved'}, ` +
      `${result.settledWindows}/${result.windows} closed windows settled, ${result.alerts} alerts, ${result.frozen} frozen, ${result.screeningLost} unscreened after a restart, ${result.deadLettered} dead-lettered, ` +
      `${result.steps} steps, ${Math.round(result.simulatedSeconds / 60)} simulated min, digest ${result.digest}, ${seconds} s\n`,
  );
  if (!values.quiet) process.stderr.write(`dst: seed ${seed} faults ${JSON.stringify(result.faultCounts)}\n`);
}
process.exit(failed ? 1 : 0);
