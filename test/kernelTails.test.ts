// The kernel's per-row details for short rows: a block's last 1–7 floats run as vectors (one of them ending at
// the block's end and overlapping lanes already done), the target entry's q_y − 1 taken from the row sums (y
// at the row max, or not), and a workspace call whose chunks a failed worker left unfinished. Each against
// the float64 reference on the same float32 values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planCrossEntropy } from '../packages/labelsmooth/src/core/plan.js';
import {
  type CrossEntropyOptions,
  crossEntropy,
  initKernels,
  kernelInfo,
  kernelWorkspace,
} from '../packages/labelsmooth/src/index.js';
import { collectCall, finishCall, workChunks } from '../packages/labelsmooth/src/kernels/executor.js';
import { fusedJob } from '../packages/labelsmooth/src/kernels/job.js';
import { layoutCall } from '../packages/labelsmooth/src/kernels/layout.js';
import { release, sharedKernel } from '../packages/labelsmooth/src/kernels/memory.js';
import { lcg } from './helpers/lcg.js';

await initKernels();

/** Kernel and reference within 1e−5 relative (losses per row; gradient entries, or 2e−6 of the row's scale). */
function assertClose(
  z: Float32Array,
  y: Int32Array,
  k: number,
  extra: CrossEntropyOptions,
  label: string,
  inPlace = false,
) {
  const o: CrossEntropyOptions = {
    classes: k,
    labelSmoothing: 0.1,
    reduction: 'none',
    threads: false,
    ...extra,
  };
  const ref = crossEntropy(Float64Array.from(z), y, { ...o, kernel: 'js', grad: true });
  const input = z.slice();
  const declinedBefore = kernelInfo().declinedRows;
  const wasm = crossEntropy(input, y, { ...o, kernel: 'wasm', grad: inPlace ? input : true });
  // The kernel itself finished every row (a declined row would be recomputed by the reference and pass).
  assert.equal(kernelInfo().last?.path, 'wasm', label);
  assert.equal(kernelInfo().declinedRows, declinedBefore, `${label}: no row declined`);
  const a = wasm.loss as unknown as Float64Array;
  const b = ref.loss as unknown as Float64Array;
  for (let i = 0; i < b.length; i++)
    assert.ok(
      Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-12,
      `${label}: loss[${i}] ${a[i]} vs ${b[i]}`,
    );
  const ga = wasm.grad!;
  const gb = ref.grad!;
  for (let j = 0; j < gb.length; j++)
    assert.ok(
      Math.abs(ga[j] - gb[j]) <= 1e-5 * Math.abs(gb[j]) + 2e-6,
      `${label}: grad[${j}] ${ga[j]} vs ${gb[j]}`,
    );
}

function problem(n: number, k: number, seed: number, spread = 8) {
  const rnd = lcg(seed);
  const z = Float32Array.from({ length: n * k }, () => (rnd() - 0.5) * spread);
  const y = Int32Array.from({ length: n }, () => Math.floor(rnd() * k));
  return { z, y, rnd };
}

describe('kernel: short rows and row tails', () => {
  it('every K from 1 to 40: a gradient buffer, the in-place mode, a noise vector, a class mask', () => {
    for (let k = 1; k <= 40; k++) {
      const { z, y } = problem(37, k, k);
      assertClose(z, y, k, {}, `K=${k}`);
      assertClose(z, y, k, {}, `K=${k} in place`, true);
      if (k >= 2) {
        const prior = Array.from({ length: k }, (_, c) => (c + 1) / ((k * (k + 1)) / 2));
        assertClose(z, y, k, { noise: prior }, `K=${k} prior`);
        const mask = Array.from({ length: k }, (_, c) => (c % 3 === 2 ? 0 : 1));
        const masked = z.map((v, j) => (mask[j % k] ? v : Number.NEGATIVE_INFINITY));
        const ym = y.map((c) => (mask[c] ? c : 0));
        assertClose(masked, ym, k, { classMask: mask }, `K=${k} mask`);
      }
    }
  });

  it('blocks of 2048 whose last block has 1 to 7 floats (2049–2055), in place too', () => {
    for (let k = 2049; k <= 2055; k++) {
      const { z, y } = problem(3, k, k, 30);
      assertClose(z, y, k, {}, `K=${k}`);
      assertClose(z, y, k, {}, `K=${k} in place`, true);
    }
  });

  it('q_y − 1: y at the max of a confident row, tied with another class, just below the max, and far below', () => {
    const k = 10;
    const rows = [
      [30, 0, 0, 0, 0, 0, 0, 0, 0, 0], // y = 0 at the max, q_y = 1 − 9e−14
      [5, 5, 0, 0, 0, 0, 0, 0, 0, 0], // y = 0 tied at the max with class 1
      [5, Math.fround(5 + 2 ** -20), 0, 0, 0, 0, 0, 0, 0, 0], // y = 0 just below the max
      [-20, 3, 1, 0, 0, 0, 0, 0, 0, 0], // y = 0 far below
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 30], // y = 9 (in the overlapping tail vector) at the max
    ];
    const z = Float32Array.from(rows.flat());
    const y = Int32Array.of(0, 0, 0, 0, 9);
    assertClose(z, y, k, {}, 'target rows');
    assertClose(z, y, k, { labelSmoothing: 0 }, 'target rows, ε = 0');
    // The confident rows' target gradient −(1−ε)·Σ_{c≠y} q_c keeps its relative digits (9e−14 here).
    const g = crossEntropy(z, y, {
      classes: k,
      reduction: 'sum',
      labelSmoothing: 0,
      grad: true,
      kernel: 'wasm',
    });
    const tail = 9 * Math.exp(-30);
    for (const j of [0, 4 * k + 9]) {
      const expected = -tail / (1 + tail);
      assert.ok(Math.abs(g.grad![j] - expected) <= 1e-5 * Math.abs(expected), `grad[${j}] ${g.grad![j]}`);
    }
  });
});

describe('kernel: Σ v·(z − z_y) against a concentrated noise', () => {
  it('K = 2 and a masked K = 4 with non-target noise at ε → 1: the smoothing part keeps its tiny value', () => {
    // H(u,q) = −log q_1 ≈ 2.3e−10 while its terms are ≈ 22: the differences z − z_y must be exact.
    const z2 = Float32Array.of(-15.209531784057617, 6.9804863929748535, 3, -12);
    assertClose(z2, Int32Array.of(0, 1), 2, { noise: 'non-target', labelSmoothing: 0.9997 }, 'K = 2');
    const z4 = Float32Array.of(-15.209531784057617, 6.9804863929748535, -Infinity, -Infinity);
    const o = { noise: 'non-target' as const, labelSmoothing: 0.9997, classMask: [1, 1, 0, 0] };
    assertClose(z4, Int32Array.of(0), 4, o, 'K = 4, masked');
  });
});

describe('kernel: q_y − 1 on rows of several blocks', () => {
  it("y's block max below the row max (y at its block max, and below it), and e_y = 1 with z_y < max", () => {
    const k = 2050; // blocks [0, 2048) and [2048, 2050)
    const rows: Float32Array[] = [];
    const labels: number[] = [];
    const row = (fill: (c: number) => number, y: number) => {
      rows.push(Float32Array.from({ length: k }, (_, c) => fill(c)));
      labels.push(y);
    };
    const wave = (c: number) => Math.sin(c * 0.7);
    row((c) => (c === 2049 ? 6 : c === 5 ? 2 : wave(c)), 5); // y = 5 is block 0's max, the row max in block 1
    row((c) => (c === 2049 ? 6 : c === 5 ? 2 : wave(c)), 9); // y = 9 below its block's max too
    row((c) => (c === 2048 ? 25 : c === 3 ? 3 : -2), 3); // a confident row whose max is not y
    // e_y = exp(z_y − max) rounds to 1 in float32 though z_y < max (the next float up at the max)
    const top = Math.fround(0.1);
    const next = new Float32Array(
      new Uint32Array([new Uint32Array(Float32Array.of(top).buffer)[0] + 1]).buffer,
    )[0];
    row((c) => (c === 7 ? top : c === 2049 ? next : -3), 7);
    row((c) => (c === 7 ? next : c === 8 ? top : -3), 8); // the same within one block
    const z = new Float32Array(rows.length * k);
    rows.forEach((r, i) => {
      z.set(r, i * k);
    });
    const y = Int32Array.from(labels);
    assertClose(z, y, k, {}, 'several blocks');
    assertClose(z, y, k, { labelSmoothing: 0 }, 'several blocks, ε = 0');
    assertClose(z, y, k, { noise: 'non-target' }, 'several blocks, non-target');
  });
});

describe('executor: chunks no thread finished', () => {
  it("are run by the caller at the end (finishCall), never read from an earlier call's outputs", () => {
    const n = 64;
    const k = 16;
    const ws = kernelWorkspace(n, k);
    const { z, y } = problem(n, k, 7);
    ws.logits.set(z);
    const m = sharedKernel()!;
    const jobOf = (logits: Float32Array, grad: Float32Array) => {
      const plan = planCrossEntropy('crossEntropy', logits, y, { classes: k, labelSmoothing: 0.1, grad });
      const job = fusedJob(plan, 1 / n, null);
      assert.ok(job !== 'float32-range');
      return job;
    };
    const job = jobOf(ws.logits, ws.grad);
    const first = layoutCall(job, m, { threads: 1, inPlace: true });
    workChunks(m.kernel, first.call, 0); // every chunk
    assert.equal(finishCall(job, m, first.call, { waitMs: 100, exited: () => true }), 0);
    const all = collectCall(job, m, first.call);
    const gradAll = Float32Array.from(ws.grad);
    assert.deepEqual(all.declined, []);
    release(first.region, m);
    // A second call in the same region: only the last chunk is run (a worker that died with the others).
    ws.grad.fill(0);
    const second = layoutCall(job, m, { threads: 1, inPlace: true });
    assert.equal(second.region, first.region);
    assert.ok(second.call.chunks >= 2);
    new Int32Array(m.memory.buffer, second.call.counter, 1)[0] = second.call.chunks - 1;
    workChunks(m.kernel, second.call, 0);
    const lastRow0 = (second.call.chunks - 1) * second.call.chunkRows;
    assert.equal(finishCall(job, m, second.call, { waitMs: 100, exited: () => true }), lastRow0);
    assert.deepEqual(collectCall(job, m, second.call), all);
    assert.deepEqual(ws.grad, gradAll);
    release(second.region, m);
    // Staged (ordinary arrays), no chunk run by any thread: every one is staged and run by the caller.
    const grad = new Float32Array(n * k);
    const staged = jobOf(z, grad);
    const third = layoutCall(staged, m, { threads: 4, inPlace: false });
    assert.ok(third.call.window > 0 && third.call.slots >= 2);
    assert.equal(finishCall(staged, m, third.call, { waitMs: 100, exited: () => true }), n);
    assert.deepEqual(collectCall(staged, m, third.call), all);
    assert.deepEqual(grad, gradAll);
    release(third.region, m);
    ws.dispose();
  });
});
