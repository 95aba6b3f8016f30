// The capacity model end to end on a small world and small workloads: the run decides every
// transfer and settles its window, and the figures have the shape the design implies: an
// interbank transfer writes more than an intrabank one (its two position shards), no posting
// writes the window item, the hub's load is spread over its shards in the one-institution shape,
// and every figure is positive and finite.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { figuresOf, total, type ShapeFigures } from '../../lib/capacity/model.js';
import { runShape } from '../../lib/capacity/run.js';
import { shapes, worldOf } from '../../lib/capacity/workload.js';

const WORLD = worldOf(6, 8);
const SEED = 11;
let spread: ShapeFigures;
let institution: ShapeFigures;
let intrabank: ShapeFigures;
let interbank: ShapeFigures;

beforeAll(async () => {
  // The handlers' Powertools instances read these when they are built (inside the runs).
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  const all = shapes(0.5, WORLD);
  spread = figuresOf(await runShape(all.spread, SEED, 150, WORLD));
  institution = figuresOf(await runShape(all.institution, SEED, 150, WORLD));
  intrabank = figuresOf(await runShape(all.intrabank, SEED, 40, WORLD));
  interbank = figuresOf(await runShape(all.interbank, SEED, 40, WORLD));
}, 60_000);

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('a capacity run', () => {
  it('decides every transfer it submits and settles the window it closes', () => {
    for (const figures of [spread, institution, intrabank, interbank]) {
      expect(figures.run.posted + figures.run.rejected).toBe(figures.run.transfers);
      expect(figures.run.posted).toBeGreaterThan(figures.run.rejected);
    }
    expect(spread.run.windowsClosed).toBe(1);
    expect(spread.run.windowsSettled).toBe(1);
    expect(intrabank.run.windowsClosed).toBe(0);
  });

  it('prices an intrabank transfer below an interbank one, the difference being its two position shards', () => {
    const wcu = (figures: ShapeFigures) => figures.run.transferPhase.totalWcu / figures.run.transfers;
    expect(wcu(intrabank)).toBeLessThan(wcu(interbank));
    expect(intrabank.run.transferPhase.kinds.has('ledger POSITION_SHARD')).toBe(false);
    // One posting per interbank transfer, writing the payer's shard and the payee's; the window
    // item is written by no posting (it was opened when the caps were set, before the run).
    expect(interbank.run.transferPhase.kinds.get('ledger POSITION_SHARD')?.writes).toBe(2 * interbank.run.interbank);
    expect(interbank.run.transferPhase.kinds.get('ledger SETTLEMENT_WINDOW')?.writes ?? 0).toBe(0);
    expect(intrabank.totalPerMillion).toBeLessThan(interbank.totalPerMillion);
  });

  it('finds no settlement window item among the keys the spread shape writes, and no settlement item setting its ceiling', () => {
    expect(spread.keys.some((key) => key.key.startsWith('ledger SETTLEMENT_WINDOW#'))).toBe(false);
    expect(spread.ceiling.capacity.key).not.toMatch(/^ledger (SETTLEMENT_|POSITION|NET_DEBIT_CAP)/);
    expect(spread.ceiling.conservative.rate).toBeLessThanOrEqual(spread.ceiling.capacity.rate);
  });

  it("spreads the hub's load over its position shards in the one-institution shape", () => {
    const hubShards = institution.keys.filter((key) => key.key.startsWith(`ledger POSITION_SHARD#${WORLD.hub}#`));
    const hubWcu = hubShards.reduce((sum, key) => sum + key.wcuPerTransfer, 0);
    // About 37 hub transfers over its 25 shards: many shards take a part, none more than a fifth.
    expect(hubShards.length).toBeGreaterThan(10);
    expect(Math.max(...hubShards.map((key) => key.wcuPerTransfer))).toBeLessThan(hubWcu / 5);
    expect(institution.ceiling.capacity.key).not.toMatch(new RegExp(`${WORLD.hub}\\b`));
  });

  it('gives positive, finite figures', () => {
    for (const figures of [spread, institution, intrabank, interbank]) {
      const tally = figures.run.transferPhase;
      expect(tally.apiCalls).toBe(figures.run.transfers);
      expect(tally.totalWcu).toBeGreaterThan(0);
      expect(tally.totalRcu).toBeGreaterThan(0);
      expect(tally.lambda.get('posting')?.invocations).toBeGreaterThan(0);
      expect(tally.requestCount('SNS Publish')).toBeGreaterThanOrEqual(2 * figures.run.transfers);
      expect(figures.costPerMillion.apiGateway).toBeCloseTo(3.5, 6);
      expect(Object.values(figures.costPerMillion).every((usd) => Number.isFinite(usd) && usd >= 0)).toBe(true);
      expect(total(figures.costPerMillion)).toBeGreaterThan(10);
    }
    for (const figures of [spread, institution, interbank]) {
      expect(Number.isFinite(figures.ceiling.capacity.rate)).toBe(true);
      expect(figures.ceiling.capacity.rate).toBeGreaterThan(0);
    }
  });
});
