// Speed of the bootstrap intervals: calibration(..., { intervals: true }) and compareCalibration on
// 10,000 × 10 logits, 1000 resamples. Run: node --import tsx bench/bootstrap.ts [--runs 3]
import { loadavg } from 'node:os';
import { calibration, compareCalibration } from '../packages/labelsmooth/src/index.js';
import { mulberry32 } from '../packages/labelsmooth/src/random/mulberry32.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const n = 10_000;
const k = 10;

/** Logits of a ~80 % accurate classifier; `scale` sets how sharp (and so how miscalibrated) it is. */
function model(scale: number, seed: number) {
  const next = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
  const labels = new Int32Array(n);
  const logits = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(next() * k);
    for (let c = 0; c < k; c++) logits[i * k + c] = scale * (gauss() + (c === labels[i] ? 2.5 : 0));
  }
  return { logits, labels };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function time(f: () => unknown): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

console.log(
  `node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log('model                          smECE   σ        intervals wall / CPU ms   paired vs scale 3');
const base = model(3, 1);
for (const scale of [3, 1, 8]) {
  const { logits, labels } = model(scale, 1);
  const point = calibration(logits, labels, { classes: k });
  const t = time(() =>
    calibration(logits, labels, { classes: k, intervals: true, resamples: 1000, seed: 1 }),
  );
  const p = time(() =>
    compareCalibration(logits, base.logits, labels, { classes: k, resamples: 1000, seed: 1 }),
  );
  console.log(
    `scale ${scale} (accuracy ${point.accuracy.toFixed(3)})`.padEnd(31),
    point.smoothEce.toFixed(4),
    point.smoothEceBandwidth.toFixed(4).padEnd(8),
    `${t.wall.toFixed(0)} / ${t.cpu.toFixed(0)}`.padEnd(25),
    `${p.wall.toFixed(0)} / ${p.cpu.toFixed(0)}`,
  );
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
