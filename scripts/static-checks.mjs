// `npm test`'s first step: the typecheck and the lint, side by side (each is single-threaded, and
// together they were 80 s of the suite run one after the other). Fails when either fails, and
// prints each one's output whole, in turn.
import { spawn } from 'node:child_process';
import process from 'node:process';

function run(name, command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ name, code: code ?? 1, output }));
  });
}

const results = await Promise.all([
  run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json']),
  run('lint', 'npx', ['eslint', '.', '--max-warnings', '0']),
]);
for (const result of results) {
  process.stdout.write(`> ${result.name}: ${result.code === 0 ? 'ok' : `failed (exit ${result.code})`}\n${result.output}`);
}
process.exit(results.every((result) => result.code === 0) ? 0 : 1);
