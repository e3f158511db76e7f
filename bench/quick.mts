// Quick single-thread and threaded timing of the kernel (development aid, not part of npm run bench).
import { crossEntropy, initKernels } from '../packages/labelsmooth/src/index.js';

await initKernels();
for (const [n, k] of [
  [1024, 32000],
  [8192, 10],
  [512, 1000],
]) {
  const z = Float32Array.from({ length: n * k }, (_, j) => Math.sin(j) * 3);
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % k);
  const g = new Float32Array(n * k);
  for (const threads of [false, true]) {
    const ts: number[] = [];
    for (let r = 0; r < 12; r++) {
      const t0 = performance.now();
      crossEntropy(z, y, { classes: k, labelSmoothing: 0.1, grad: g, kernel: 'wasm', threads });
      ts.push(performance.now() - t0);
    }
    ts.sort((a, b) => a - b);
    console.log(`${n}x${k} threads=${threads}: median ${ts[6].toFixed(2)} ms`);
  }
}
