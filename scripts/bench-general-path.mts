// Run from the repo root: node --import tsx scripts/bench-general-path.mts (needs npm run build).
// rowsGeneral (WASM scalar f64, the general path) vs the new JS reference; same process, interleaved, medians.
import { crossEntropy, initKernels } from '../src/index.ts';
import { mainKernel, runGeneral } from '../src/kernels/fused.ts';

await initKernels({ threads: false });
const kernel = mainKernel()!;
const shapes = [
  [8192, 10],
  [1024, 100],
  [128, 1000],
  [16, 32000],
];
const lcg = (s: number) => () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
for (const [n, k] of shapes) {
  const r = lcg(1);
  const z = Float32Array.from({ length: n * k }, () => (r() - 0.5) * 10);
  const probs = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      probs[i * k + c] = r();
      s += probs[i * k + c];
    }
    for (let c = 0; c < k; c++) probs[i * k + c] /= s;
  }
  const labels = Int32Array.from({ length: n }, () => Math.floor(r() * k));
  const noise = new Float32Array(probs);
  for (const name of ['probs', 'per-sample noise']) {
    const soft = name === 'probs';
    const times: Record<string, number[]> = { general: [], js: [] };
    let lossG = 0,
      lossJ = 0;
    for (let run = 0; run < 15; run++) {
      let t0 = performance.now();
      const grad = new Float32Array(n * k);
      const s = runGeneral(kernel, {
        z,
        rows: n,
        classes: k,
        labels: soft ? null : labels,
        ignoreIndex: -100,
        probs: soft ? probs : null,
        noiseKind: soft ? 0 : 2,
        noise: soft ? null : noise,
        noiseRows: !soft,
        mask: null,
        maskRows: false,
        classWeight: null,
        exampleWeight: null,
        sampleWeight: null,
        eps: 0.1,
        scale: 1 / n,
        grad,
        perRow: null,
      })!;
      times.general.push(performance.now() - t0);
      lossG = (0.9 * s.nll + 0.1 * s.smoothing) / n;
      t0 = performance.now();
      const j = crossEntropy(z, soft ? probs : labels, {
        classes: k,
        labelSmoothing: 0.1,
        noise: soft ? 'uniform' : noise,
        grad: true,
        kernel: 'js',
      });
      times.js.push(performance.now() - t0);
      lossJ = j.loss;
    }
    console.log(
      `| ${n}×${k} | ${name} | ${med(times.general).toFixed(2)} | ${med(times.js).toFixed(2)} | ${(med(times.js) / med(times.general)).toFixed(2)} | ${Math.abs(lossG - lossJ) / lossJ < 1e-5 ? 'agree' : `DIFFER ${lossG} ${lossJ}`} |`,
    );
  }
}
