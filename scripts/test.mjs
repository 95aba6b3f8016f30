// `npm test`: the typecheck, the lint and the vitest projects, all at once. The typecheck and the
// lint are single-threaded and the test run spends much of its time waiting on emulators and
// child processes, so on two cores running them side by side beats running them in turn (the
// static checks were 40-50 s before the first test started). The tests' output streams as it
// comes; each static check's output is printed whole when it ends. Fails when any of them fails.
import { spawn } from 'node:child_process';
import process from 'node:process';

const shell = process.platform === 'win32';

function buffered(name, command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => {
      process.stdout.write(`\n> ${name}: ${code === 0 ? 'ok' : `failed (exit ${code})`}\n${output}`);
      resolve(code ?? 1);
    });
  });
}

function streamed(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', shell });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const codes = await Promise.all([
  buffered('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json']),
  buffered('lint', 'npx', ['eslint', '.', '--max-warnings', '0']),
  streamed('npx', ['vitest', 'run', ...process.argv.slice(2)]),
]);
const [typecheck, lint, tests] = codes;
process.stdout.write(`\nnpm test: typecheck ${typecheck === 0 ? 'ok' : 'FAILED'}, lint ${lint === 0 ? 'ok' : 'FAILED'}, tests ${tests === 0 ? 'ok' : 'FAILED'}\n`);
process.exit(codes.every((code) => code === 0) ? 0 : 1);
