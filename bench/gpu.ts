// npm run bench:gpu — our fused op against TF.js's own softmaxCrossEntropy (one-hot targets) on the webgl and
// webgpu backends, forward + backward, in headless chromium. Here, without a GPU, chromium runs on
// SwiftShader and the numbers are CPU-emulated (labelled so); on a machine with a GPU run
// `npm run bench:gpu -- --real-gpu` (no SwiftShader flags) for GPU numbers.
//   --small          256×4000 and [2, 64, 4000] instead of 1024×32000 and [8, 512, 32000]
//   --shapes S       the shapes to run, e.g. `1024x32000,8x512x32000` (overrides --small)
//   --backends B     e.g. `webgpu` (default `webgl,webgpu`)
//   --reps N         timed steps per variant (median; default 5)
//   --timeout-min M  bound on each backend's run, in minutes (default 30)

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { bounded, bundle, CHROMIUM, GPU_FLAGS, servePage } from '../test/helpers/browser.js';
import type { BenchReport, Timing } from './gpu-page.js';

const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const small = args.includes('--small');
const realGpu = args.includes('--real-gpu');
const reps = Number(value('--reps')) || 5;
const timeoutMin = Number(value('--timeout-min')) || 30;
const backends = (value('--backends') ?? 'webgl,webgpu').split(',');
const parseShape = (t: string) => {
  const shape = t.split('x').map(Number);
  if (shape.length < 2 || shape.length > 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
    throw new Error(`--shapes: ${t} is not N×K or B×T×V (e.g. 1024x32000)`);
  return shape;
};
const shapes = value('--shapes')
  ? (value('--shapes') as string).split(',').map(parseShape)
  : small
    ? [
        [256, 4000],
        [2, 64, 4000],
      ]
    : [
        [1024, 32000],
        [8, 512, 32000],
      ];
const flags = realGpu ? GPU_FLAGS.filter((f) => !/swiftshader/.test(f)).concat('--enable-gpu') : GPU_FLAGS;

const js = await bundle(new URL('./gpu-page.ts', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'labelsmooth-bench-gpu-'));
const context = await chromium.launchPersistentContext(dir, {
  executablePath: CHROMIUM,
  headless: true,
  args: flags,
  timeout: 60_000,
});
const fmt = (t: Timing) => (t.medianMs === undefined ? 'failed (below)' : `${t.medianMs.toFixed(1)} ms`);
const ratio = (a: Timing, b: Timing) =>
  a.medianMs === undefined || b.medianMs === undefined ? '—' : `${(a.medianMs / b.medianMs).toFixed(2)}×`;
try {
  const page = await context.newPage();
  await servePage(page, 'http://localhost', js);
  await page.goto('http://localhost/');
  await page.waitForFunction(() => typeof window.benchGpu === 'function', undefined, { timeout: 30_000 });
  console.log(
    `bench:gpu ${new Date().toISOString()}, shapes ${shapes.map((x) => `[${x}]`).join(' ')}, ${reps} timed steps, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const backend of backends) {
    const r: BenchReport = await bounded(
      page.evaluate(([b, s, n]) => window.benchGpu(b as string, s as number[][], n as number), [
        backend,
        shapes,
        reps,
      ] as const),
      timeoutMin * 60_000,
      `bench:gpu on ${backend}`,
    );
    console.log(
      `\n${r.backend} — adapter: ${r.adapter}${r.emulated ? ' — SwiftShader: CPU-EMULATED, not GPU numbers' : ''}${r.limits ? ` — ${r.limits}` : ''}`,
    );
    console.log(
      'shape              ours (fwd+bwd)   tf.losses (one-hot)   ours vs tf.losses   device copy   ours vs copy',
    );
    for (const row of r.rows) {
      console.log(
        `${`[${row.shape}]`.padEnd(19)}${fmt(row.ours).padEnd(17)}${fmt(row.tfjs).padEnd(22)}${ratio(row.ours, row.tfjs).padEnd(20)}${fmt(row.copy).padEnd(14)}${ratio(row.ours, row.copy)}`,
      );
      for (const [name, t] of Object.entries({ ours: row.ours, 'tf.losses': row.tfjs, copy: row.copy }))
        if (t.error !== undefined) console.log(`  ${name} failed: ${t.error}`);
    }
  }
} finally {
  await context.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
