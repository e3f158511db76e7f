// Shared by the sweep tests: a tiny CSV data set, its grid, and results compared without wall times.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAMILY_DEFAULTS } from '../../packages/experiments/src/cli/family.js';
import { packageVersion } from '../../packages/experiments/src/cli/sweep/fingerprint.js';
import type { SweepSpec } from '../../packages/experiments/src/cli/sweep/spec.js';

/** A 3-class CSV (240 rows, 3 features) that trains in well under a second per epoch. */
export function writeCsv(file: string, rows = 240): void {
  const lines = ['f1,f2,f3,species'];
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    const j = (i * 7919) % 101;
    lines.push(`${c * 2 + j / 101},${-c + ((j * 3) % 7) / 7},${(j % 5) / 5},${['a', 'b', 'c'][c]}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** The grid options of a 2 ε × 2 seeds sweep of `csv` (4 trials: without the budget-matched run). */
export function grid(csv: string, runsDir: string, epochs = 2): string[] {
  return [
    '--dataset',
    `csv:${csv}`,
    '--epochs',
    String(epochs),
    '--epsilons',
    '0,0.1',
    '--seeds',
    '2',
    '--budget-epsilon',
    'none',
    '--runs-dir',
    runsDir,
  ];
}

/**
 * results.json without what legitimately differs between two runs of the same grid: the run name, the
 * command that wrote it, the creation time and the per-epoch wall times. Everything else must be equal bit for bit (the paired
 * bootstrap differences too: a sweep computes them from every trial's recorded logits).
 */
export function deterministicResults(dir: string): unknown {
  const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  delete r.name;
  delete r.createdAt;
  delete r.command;
  for (const run of r.runs) for (const e of run.epochs) delete e.seconds;
  return r;
}

/** The ledger's lines. */
export function ledgerLines(dir: string): { key: string; worker: string }[] {
  return readFileSync(join(dir, 'trials.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

/**
 * A one-epoch trial configuration on `csv` for the tests that hand a job to a trial process themselves
 * (cpu backend, this package's version, a dummy data hash), with `over` on top.
 */
export function testSpec(csv: string, over: Partial<SweepSpec> = {}): SweepSpec {
  return {
    data: { dataset: `csv:${csv}`, validation: 0.1, seed: 1 },
    monitorSeed: 1,
    model: 'mlp',
    epochs: 1,
    batchSize: 64,
    lr: 0.003,
    family: { ...FAMILY_DEFAULTS },
    backend: 'cpu',
    backendName: 'cpu',
    version: packageVersion(),
    dataHash: '0000000000000000',
    ...over,
  };
}
