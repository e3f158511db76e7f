// The family kernel alone (development aid, not part of npm run bench): the `familyRows` and `rows`
// exports called directly on 2 rows of 32000 float32 logits resident in the kernel's memory (re-staged
// before each call, ~0.1 ns a logit), so that the figure is the kernel without the executor's copies in and out.
// CPU time (process.cpuUsage) of 10 calls, the minimum over 300 rounds (~6 s) in which every variant runs
// once: the least disturbed figure on a shared machine (25 rounds left it ±0.3 ns under load 4 on 2 cores).
// Ratios against `rows` with the constant uniform noise.
//
// Usage: node --import tsx bench/familyKernel.ts [-- --rounds 300]
import { CALL_BYTES, writeCall } from '../packages/labelsmooth/src/kernels/call.js';
import { KernelInstance, kernelModule } from '../packages/labelsmooth/src/kernels/wasm.js';

const K = 32000;
const N = 2;
const kernel = new KernelInstance(kernelModule()!);
kernel.exports.memory.grow(128); // 8 MB for the areas below
const at = KernelInstance.BASE;
const record = at; // the call record (call.ts), then the areas it points to
const v = at + CALL_BYTES;
const labels = v + 4 * K + 64;
const scale = labels + 64;
const out = scale + 64;
const bm = out + 128;
const e = bm + 256;
const z = e + 4 * K + 64;
const buf = kernel.exports.memory.buffer;
let s = 1;
const rnd = () => {
  s = (s * 1103515245 + 12345) >>> 0;
  return s / 2 ** 32;
};
const logits = Float32Array.from({ length: N * K }, () => (rnd() - 0.5) * 6);
new Int32Array(buf).set([5, 77], labels >> 2);
new Float64Array(buf).set([1e-3, 1e-3], scale >> 3);
new Float32Array(buf).fill(1 / K, v >> 2, (v >> 2) + K);
const x = kernel.exports;
const f32 = new Float32Array(buf);

/** The call on the N rows at z, in place (call.ts's record, written before each call as runRows does). */
const base = {
  z,
  g: z,
  gStride: 4 * K,
  classes: K,
  labels,
  scale,
  out,
  bm,
  w: 0,
  v: 0,
  mask: 0,
  vConst: 1 / K,
  nonTarget: false,
  allowed: K,
  vSum: 1,
  writeGrad: true,
};

/** familyRows with ε (0.1 unless given) and the constant uniform noise (or the vector at v), gradient
 * written. */
const family =
  (cp: number, focal: number, exponent: number, vector = false, eps = 0.1) =>
  () => {
    writeCall(buf, record, {
      ...base,
      v: vector ? v : 0,
      eps,
      family: {
        vRows: 0,
        ework: e,
        vScratch: 0,
        penalty: cp !== 0,
        beta: 0.1,
        focal: focal !== 0,
        exponent,
        alpha: 1,
      },
    });
    x.familyRows(record, 0, N);
  };
const variants: [string, () => void][] = [
  [
    'rows (plain LS)',
    () => {
      writeCall(buf, record, { ...base, eps: 0.1, family: null });
      x.rows(record, 0, N);
    },
  ],
  ['familyRows, LS only', family(0, 0, 0)],
  ['confidence penalty, ε = 0.1', family(1, 0, 0)],
  ['focal γ = 2, ε = 0.1', family(0, 1, 2)],
  ['focal γ = 2, ε = 0.1, vector', family(0, 1, 2, true)],
  ['FLSD-53, ε = 0.1', family(0, 1, -1)],
  ['focal γ = 1.5, ε = 0.1', family(0, 1, 1.5)],
  ['focal γ = 2 + penalty, ε = 0.1', family(1, 1, 2)],
  // ε = 0: no noise term in the gradient, which the focal pass then writes (one pass fewer)
  ['focal γ = 2, ε = 0', family(0, 1, 2, false, 0)],
  ['FLSD-53, ε = 0', family(0, 1, -1, false, 0)],
  ['focal γ = 1.5, ε = 0', family(0, 1, 1.5, false, 0)],
  ['focal γ = 2 + penalty, ε = 0', family(1, 1, 2, false, 0)],
  ['focal γ = 1.7, ε = 0.1 (any γ)', family(0, 1, 1.7)],
];
const ri = process.argv.indexOf('--rounds');
const ROUNDS = ri >= 0 ? Math.max(1, Number(process.argv[ri + 1])) : 300;
const best = variants.map(() => Number.POSITIVE_INFINITY);
for (let r = 0; r < ROUNDS; r++)
  for (let j = 0; j < variants.length; j++) {
    const c0 = process.cpuUsage();
    for (let it = 0; it < 10; it++) {
      f32.set(logits, z >> 2);
      variants[j][1]();
    }
    const c = process.cpuUsage(c0);
    best[j] = Math.min(best[j], (c.user + c.system) / 1000);
  }
for (let j = 0; j < variants.length; j++)
  console.log(
    `${variants[j][0].padEnd(32)} ${((best[j] * 1e6) / (10 * N * K)).toFixed(2)} ns CPU a logit  ${(best[j] / best[0]).toFixed(2)}×`,
  );
