// Runs the capacity model's five workloads one after the other, each in a fresh pipeline from the
// same seed: the three shapes the ceilings are asked for, at the requested size, and the two
// single-kind ones (all intrabank, all interbank), smaller, that price each kind of transfer.
import { figuresOf } from './model.js';
import type { Report } from './report.js';
import { runShape } from './run.js';
import { DEFAULT_WORLD, shapes, type ShapeName, type World } from './workload.js';

export interface ModelOptions {
  readonly seed: number;
  /** Transfers per shape; the single-kind runs take a fifth (at least 100, at most this). */
  readonly transfers: number;
  readonly interbankShare: number;
  /** @default DEFAULT_WORLD */
  readonly world?: World;
  readonly progress?: (line: string) => void;
}

export async function runModel(options: ModelOptions): Promise<Report> {
  const world = options.world ?? DEFAULT_WORLD;
  const all = shapes(options.interbankShare, world);
  const singleKind = Math.min(options.transfers, Math.max(100, Math.ceil(options.transfers / 5)));
  const run = async (name: ShapeName, transfers: number) => {
    const result = await runShape(all[name], options.seed, transfers, world);
    options.progress?.(`${name}: ${result.transfers} transfers in ${result.wallSeconds.toFixed(1)} s`);
    return figuresOf(result);
  };
  return {
    seed: options.seed,
    spread: await run('spread', options.transfers),
    institution: await run('institution', options.transfers),
    merchant: await run('merchant', options.transfers),
    intrabank: await run('intrabank', singleKind),
    interbank: await run('interbank', singleKind),
  };
}
