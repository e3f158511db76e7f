// Interleaved timing for npm run bench: variants run in the same rounds (round r runs each once, in a
// rotating order), so that a shared machine's load hits them alike. Each variant's figure is the median over
// rounds, and its ratio the median of the per-round ratios to its base variant (the first by default).
import { performance } from 'node:perf_hooks';
import { kernelInfo } from '../packages/labelsmooth/src/index.js';

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One timed variant: a label and a call, its ratio taken to variant `base` (default the first). */
export interface Variant {
  name: string;
  run: () => void;
  base?: number;
}

/** A variant's timing: median wall ms, ratios to its base (wall and CPU time), the kernel path it took. */
export interface Timed {
  name: string;
  ms: number;
  ratio: number;
  cpuRatio: number;
  path: string;
  base: number;
  reason: string;
}

/**
 * Time the variants interleaved: `warmRounds` rounds untimed, then `rounds` rounds in which each runs once
 * (the order rotated each round).
 */
export function interleaved(variants: Variant[], rounds: number, warmRounds: number): Timed[] {
  const times = variants.map(() => [] as number[]);
  const cpu = variants.map(() => [] as number[]);
  const paths = variants.map(() => '');
  const reasons = variants.map(() => '');
  for (let r = -warmRounds; r < rounds; r++) {
    for (let j = 0; j < variants.length; j++) {
      const v = (j + Math.max(0, r)) % variants.length;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      variants[v].run();
      const dt = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (r >= 0) {
        times[v].push(dt);
        cpu[v].push(c.user + c.system);
      }
      paths[v] = kernelInfo().last?.path ?? '?';
      reasons[v] = kernelInfo().last?.reason ?? '';
    }
  }
  return variants.map((v, j) => {
    const b = v.base ?? 0;
    return {
      name: v.name,
      ms: median(times[j]),
      ratio: median(times[j].map((t, r) => t / times[b][r])),
      cpuRatio: median(cpu[j].map((t, r) => t / cpu[b][r])),
      path: paths[j],
      base: b,
      reason: reasons[j],
    };
  });
}
