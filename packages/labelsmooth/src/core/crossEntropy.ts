import { type FusedJob, mainKernel, runGeneral, runRows } from '../kernels/fused.js';
import { runThreaded, THREAD_MIN_SIZE, warmThreads } from '../kernels/threads.js';
import { kernelModule } from '../kernels/wasm.js';
import { fail } from './errors.js';
import {
  isFloatArray,
  maskOffset,
  noiseCoefficients,
  noiseOffset,
  parseClasses,
  parseMatrix,
  parseNonNegative,
  parseSmoothing,
  type Smoothing,
} from './inputs.js';
import type { CrossEntropyOptions, CrossEntropyResult, FloatArray, Matrix, Target } from './types.js';

/** Below this many logits the JS loop is as fast as a kernel call. */
const KERNEL_MIN_SIZE = 2048;

/**
 * Label-smoothed softmax cross-entropy and its gradient, over typed arrays.
 *
 *     p' = (1−ε)·p + ε·u,   q = softmax(z)
 *     rowᵢ = (1−ε)·H(pᵢ, qᵢ) + ε·H(uᵢ, qᵢ),   dL/dz = Γ·q − γ  (γ_c = weighted p'_c, Γ = Σ γ_c)
 *
 * With the defaults (`noise: 'uniform'`, `weightMode: 'per-class'`, `ignoreIndex: −100`, `reduction: 'mean'`)
 * it equals PyTorch's `F.cross_entropy(z, y, weight, ignore_index, reduction, label_smoothing)`:
 * the nll term of row i is weighted by w[yᵢ], the smoothing term by w[c] per class, and `mean` divides by
 * Σ w[yᵢ] over non-ignored rows. A batch whose rows are all ignored has denominator 0 and, under `mean`,
 * returns loss 0 and a zero gradient (never NaN).
 *
 * The forward reads each row once (online max and Σ exp, plus the Σ u_c·z_c terms) with float64 row
 * accumulators; the optional gradient is one more pass that writes dL/dz. Inputs are never modified.
 *
 * References: Szegedy et al. 2016 (label smoothing); Müller, Kornblith & Hinton 2019; PyTorch
 * `torch.nn.functional.cross_entropy`.
 */
export function crossEntropy(
  logits: Matrix,
  target: Target,
  options: CrossEntropyOptions & { reduction: 'none' },
): CrossEntropyResult<Float64Array>;
export function crossEntropy(
  logits: Matrix,
  target: Target,
  options?: CrossEntropyOptions,
): CrossEntropyResult<number>;
export function crossEntropy(
  logits: Matrix,
  target: Target,
  options: CrossEntropyOptions = {},
): CrossEntropyResult<number> | CrossEntropyResult<Float64Array> {
  const fn = 'crossEntropy';
  const flat = parseMatrix(fn, 'logits', logits, parseClasses(fn, options.classes));
  const { rows: n, classes: k } = flat;
  const z = flat.data;
  const s = parseSmoothing(fn, target, n, k, options);
  const eps = s.eps;

  const weightMode = options.weightMode ?? 'per-class';
  if (weightMode !== 'per-class' && weightMode !== 'per-example') {
    fail(fn, 'options.weightMode', undefined, weightMode, "must be 'per-class' or 'per-example'");
  }
  const weight =
    options.weight === undefined ? null : parseNonNegative(fn, 'options.weight', options.weight, k);
  const classWeight = weightMode === 'per-class' ? weight : null; // weights inside the row
  const exampleWeight = weightMode === 'per-example' ? weight : null; // weights of the whole row
  const sampleWeight =
    options.sampleWeight === undefined
      ? null
      : parseNonNegative(fn, 'options.sampleWeight', options.sampleWeight, n);

  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    fail(fn, 'options.reduction', undefined, reduction, "must be 'mean', 'sum' or 'none'");
  }
  const normalizer = options.normalizer;
  if (normalizer !== undefined) {
    if (reduction === 'none')
      fail(fn, 'options.normalizer', undefined, normalizer, "not allowed with reduction 'none'");
    if (typeof normalizer !== 'number' || !(normalizer > 0 && normalizer < Infinity)) {
      fail(fn, 'options.normalizer', undefined, normalizer, 'must be a finite number > 0');
    }
  }

  let grad: FloatArray | null = null;
  if (options.grad === true)
    grad = z instanceof Float32Array ? new Float32Array(n * k) : new Float64Array(n * k);
  else if (isFloatArray(options.grad)) {
    if (options.grad.length !== n * k) {
      fail(
        fn,
        'options.grad',
        undefined,
        options.grad,
        `buffer length ${options.grad.length}, expected N×K = ${n * k}`,
      );
    }
    grad = options.grad;
  } else if (options.grad !== undefined && options.grad !== false) {
    fail(
      fn,
      'options.grad',
      undefined,
      options.grad,
      'expected a boolean or a Float32Array/Float64Array of length N×K',
    );
  }

  const labels = s.target.kind === 'index' ? s.target.labels : null;
  const probs = s.target.kind === 'probs' ? s.target.probs : null;
  const ignoreIndex = s.ignoreIndex;

  // The mean denominator: Σ w[yᵢ] (per-class weights) or the count of non-ignored rows.
  let denominator = 0;
  if (labels) {
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      if (y !== ignoreIndex) denominator += classWeight ? classWeight[y] : 1;
    }
  } else denominator = n;
  const scale =
    normalizer !== undefined
      ? 1 / normalizer
      : reduction === 'mean'
        ? denominator > 0
          ? 1 / denominator
          : 0
        : 1;

  const perRow = reduction === 'none';
  const noise = s.noise.data;
  const mask = s.mask ? s.mask.data : null;
  /** Ignored rows add nothing, but their allowed logits must still be numbers (on both paths). */
  const checkIgnoredRow = (i: number) => {
    const mo = maskOffset(s, i);
    for (let c = 0; c < k; c++) {
      if (mask && !mask[mo + c]) continue;
      const v = z[i * k + c];
      if (!(v > -Infinity && v < Infinity)) badLogit(fn, i * k, c, k, v, mask !== null);
    }
  };
  const lossRows = new Float64Array(perRow ? n : 0);
  const nllRows = new Float64Array(perRow ? n : 0);
  const smoothRows = new Float64Array(perRow ? n : 0);
  let nllSum = 0;
  let smoothSum = 0;

  const finish = (
    nllSum: number,
    smoothSum: number,
  ): CrossEntropyResult<number> | CrossEntropyResult<Float64Array> => {
    let out: CrossEntropyResult<number> | CrossEntropyResult<Float64Array>;
    if (perRow) {
      for (let i = 0; i < n; i++) lossRows[i] = (1 - eps) * nllRows[i] + eps * smoothRows[i];
      out = { loss: lossRows, nll: nllRows, smoothing: smoothRows, denominator };
    } else {
      out = {
        loss: ((1 - eps) * nllSum + eps * smoothSum) * scale,
        nll: nllSum * scale,
        smoothing: smoothSum * scale,
        denominator,
      };
    }
    return grad ? { ...out, grad } : out;
  };

  const kernelChoice = options.kernel ?? 'auto';
  if (kernelChoice !== 'auto' && kernelChoice !== 'wasm' && kernelChoice !== 'js') {
    fail(fn, 'options.kernel', undefined, kernelChoice, "must be 'auto', 'wasm' or 'js'");
  }
  if (kernelChoice === 'wasm' || (kernelChoice === 'auto' && n * k >= KERNEL_MIN_SIZE)) {
    const kernel = z instanceof Float32Array ? mainKernel() : null;
    if (kernelChoice === 'wasm' && !kernel) {
      const why =
        z instanceof Float32Array ? 'WASM SIMD is not available here' : 'the kernel takes float32 logits';
      fail(fn, 'options.kernel', undefined, 'wasm', why);
    }
    if (kernel) {
      const f32 = z as Float32Array;
      const perRowOut = perRow ? { nll: nllRows, smoothing: smoothRows } : null;
      // The SIMD path takes class indices with a shared noise and mask; the general path everything else.
      const job = labels
        ? fusedJob(s, f32, labels, classWeight, exampleWeight, sampleWeight, scale, grad, perRowOut)
        : null;
      let sums: { nll: number; smoothing: number } | null;
      if (job) {
        const wantThreads = options.threads !== false && n >= 2 && n * k >= THREAD_MIN_SIZE;
        const threaded = wantThreads ? runThreaded(kernel, job) : 'no-pool';
        if (threaded !== 'no-pool') sums = threaded;
        else {
          if (wantThreads) warmThreads(kernelModule()!); // the pool starts in the background for next time
          sums = runRows(kernel, job, 0, n);
        }
      } else {
        const kind = s.noise.kind;
        sums = runGeneral(kernel, {
          z: f32,
          rows: n,
          classes: k,
          labels,
          ignoreIndex,
          probs,
          noiseKind: kind === 'uniform' ? 0 : kind === 'non-target' ? 1 : 2,
          noise,
          noiseRows: s.noise.perRow,
          mask,
          maskRows: s.mask?.perRow ?? false,
          classWeight,
          exampleWeight,
          sampleWeight,
          eps,
          scale,
          grad,
          perRow: perRowOut,
        });
      }
      if (sums) {
        if (labels) for (let i = 0; i < n; i++) if (labels[i] === ignoreIndex) checkIgnoredRow(i);
        return finish(sums.nll, sums.smoothing);
      }
    }
    // Not finite somewhere (or no kernel): the reference path below names the bad element.
  }

  const u = { u0: 0, uT: 0, uN: 0 };

  // logits: (N,K) row-major; grad: (N,K)
  for (let i = 0; i < n; i++) {
    const base = i * k;
    const y = labels ? labels[i] : -1;
    const mo = maskOffset(s, i);
    const no = noiseOffset(s, i);
    if (labels && y === ignoreIndex) {
      checkIgnoredRow(i);
      if (grad) grad.fill(0, base, base + k);
      continue;
    }

    // Forward pass over the row. Logits enter the sums as d = z − ref (ref = first allowed logit) so that
    // large common offsets cancel before accumulation.
    let m = -Infinity; // running max
    let se = 0; // Σ exp(z − m)
    let ref = 0;
    let ka = 0; // allowed classes
    let sw = 0; // Σ w_c
    let swz = 0; // Σ w_c d_c
    let st = 0; // Σ w_c t_c
    let stz = 0; // Σ w_c t_c d_c
    let sn = 0; // Σ w_c n_c
    let snz = 0; // Σ w_c n_c d_c
    let zu = 0; // Σ n_c (noise mass on the allowed classes)
    let swt = 0; // Σ w_c t_c with per-example weights (the row's weight for probability targets)
    for (let c = 0; c < k; c++) {
      if (mask && !mask[mo + c]) continue;
      const v = z[base + c];
      if (!(v > -Infinity && v < Infinity)) badLogit(fn, base, c, k, v, mask !== null);
      if (ka === 0) ref = v;
      ka++;
      if (v > m) {
        se = se * Math.exp(m - v) + 1;
        m = v;
      } else se += Math.exp(v - m);
      const d = v - ref;
      const wc = classWeight ? classWeight[c] : 1;
      sw += wc;
      swz += wc * d;
      if (probs) {
        const t = probs[base + c];
        st += wc * t;
        stz += wc * t * d;
        if (exampleWeight) swt += exampleWeight[c] * t;
      }
      if (noise) {
        const nc = noise[no + c];
        zu += nc;
        sn += wc * nc;
        snz += wc * nc * d;
      }
    }
    const lse = m - ref + Math.log(se); // log Σ exp(z) − ref
    let nllRow: number;
    if (labels) {
      const wy = classWeight ? classWeight[y] : 1;
      st = wy;
      stz = wy * (z[base + y] - ref);
      nllRow = wy * (lse - (z[base + y] - ref));
    } else nllRow = st * lse - stz;
    noiseCoefficients(s, i, ka, zu, u);
    const smoothRow = u.u0 * (sw * lse - swz) + u.uT * (st * lse - stz) + u.uN * (sn * lse - snz);

    let rowWeight = sampleWeight ? sampleWeight[i] : 1;
    if (exampleWeight) rowWeight *= labels ? exampleWeight[y] : swt;
    const nllW = rowWeight * nllRow;
    const smoothW = rowWeight * smoothRow;
    if (perRow) {
      nllRows[i] = nllW;
      smoothRows[i] = smoothW;
    } else {
      nllSum += nllW;
      smoothSum += smoothW;
    }

    if (grad) {
      // Gradient pass: dL/dz_c = g·(Γ·q_c − γ_c), γ_c = w_c·p'_c, p'_c = a + b·t_c + e·n_c.
      const g = scale * rowWeight;
      const a = eps * u.u0;
      const b = 1 - eps + eps * u.uT;
      const e = eps * u.uN;
      const gamma = (1 - eps) * st + eps * (u.u0 * sw + u.uT * st + u.uN * sn);
      const gq = (g * gamma) / se;
      for (let c = 0; c < k; c++) {
        if (mask && !mask[mo + c]) {
          grad[base + c] = 0;
          continue;
        }
        const v = z[base + c]; // read before the write: in-place mode (grad === logits) stays correct
        const t = probs ? probs[base + c] : c === y ? 1 : 0;
        let target = a + b * t;
        if (noise) target += e * noise[no + c];
        if (classWeight) target *= classWeight[c];
        grad[base + c] = gq * Math.exp(v - m) - g * target;
      }
    }
  }

  return finish(nllSum, smoothSum);
}

function badLogit(fn: string, base: number, c: number, k: number, v: number, masked: boolean): never {
  const row = base / k;
  const hint = masked ? '' : ' (exclude classes with options.classMask to allow −Infinity)';
  return fail(fn, 'logits', base + c, v, `must be finite (row ${row}, class ${c})${hint}`);
}

/** The kernel's form of the problem, or null when it has no kernel path (or the reference path must report
 * an error: non-target noise with fewer than 2 allowed classes, a prior without mass on them). */
function fusedJob(
  s: Smoothing,
  z: Float32Array,
  labels: ArrayLike<number>,
  classWeight: ArrayLike<number> | null,
  exampleWeight: ArrayLike<number> | null,
  sampleWeight: ArrayLike<number> | null,
  scale: number,
  grad: FloatArray | null,
  perRow: FusedJob['perRow'],
): FusedJob | null {
  const k = s.classes;
  if (s.noise.kind === 'per-sample' || s.mask?.perRow) return null;
  let mask: Float32Array | null = null;
  let allowed = k;
  if (s.mask) {
    mask = Float32Array.from({ length: k }, (_, c) => (s.mask!.data[c] ? 1 : 0));
    allowed = mask.reduce((a, b) => a + b, 0);
  }
  const kind = s.noise.kind;
  if (kind === 'non-target' && allowed < 2) return null;
  // u_c on the allowed classes: uniform 1/Kₐ, non-target 1/(Kₐ−1) (+ the correction at y), prior n_c/Σn.
  let u: (c: number) => number;
  if (kind === 'prior') {
    const prior = s.noise.data!;
    let mass = 0;
    for (let c = 0; c < k; c++) if (!mask || mask[c]) mass += prior[c];
    if (!(mass > 0)) return null;
    u = (c) => prior[c] / mass;
  } else {
    const base = 1 / (kind === 'non-target' ? allowed - 1 : allowed);
    u = () => base;
  }
  let v: Float32Array | null = null;
  let vConst = 0;
  let vSum = 0;
  if (kind !== 'prior' && !classWeight) {
    vConst = u(0);
    vSum = allowed * vConst;
  } else {
    v = new Float32Array(k);
    for (let c = 0; c < k; c++) {
      if (mask && !mask[c]) continue;
      v[c] = (classWeight ? classWeight[c] : 1) * u(c);
      vSum += v[c];
    }
  }
  const rowWeight = (i: number) =>
    (sampleWeight ? sampleWeight[i] : 1) * (exampleWeight ? exampleWeight[labels[i]] : 1);
  return {
    z,
    rows: z.length / k,
    classes: k,
    labels,
    ignoreIndex: s.ignoreIndex,
    eps: s.eps,
    v,
    vConst,
    vSum,
    nonTarget: kind === 'non-target',
    allowed,
    mask,
    classWeight: classWeight ? Float32Array.from(classWeight) : null,
    rowWeight,
    scale,
    grad: grad as Float32Array | Float64Array | null,
    perRow,
  };
}
