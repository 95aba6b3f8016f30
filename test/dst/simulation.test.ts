// Runs the deterministic simulator as its users do (`npm run dst`), in a child process of its own
// (it puts timers and Math.random on simulated time, which must not touch the test runner): a few
// seeds with every fault on must keep every promise, and one seed run twice must replay exactly.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function simulate(seed: number, transfers: number): Promise<{ code: number; summary: string; output: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'lib/dst/main.ts', '--seed', String(seed), '--transfers', String(transfers), '--quiet'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, summary: summaryOf(stdout), output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, summary: summaryOf(failed.stdout ?? ''), output: failed.stdout ?? '' };
  }
}

function summaryOf(stdout: string): string {
  return stdout.split('\n').find((line) => /^dst: seed \d+, \d+ transfers/.test(line)) ?? '';
}

describe('npm run dst', () => {
  it.each([101, 202])('keeps every promise under faults (seed %i)', async (seed) => {
    const result = await simulate(seed, 1_200);

    expect(result.output).not.toContain('VIOLATION');
    expect(result.code).toBe(0);
    expect(result.summary).toMatch(/0 lost, 0 doubled, 0 order violations, conserved/);
    expect(Number(/(\d+) faults injected/.exec(result.summary)?.[1])).toBeGreaterThan(50);
  });

  it('replays a seed exactly: same trace and balances, same digest', async () => {
    const [first, second] = await Promise.all([simulate(303, 400), simulate(303, 400)]);
    const digest = (summary: string) => /digest ([0-9a-f]+)/.exec(summary)?.[1];

    expect(first.code).toBe(0);
    expect(digest(first.summary)).toBeDefined();
    expect(digest(second.summary)).toBe(digest(first.summary));
  });
});
