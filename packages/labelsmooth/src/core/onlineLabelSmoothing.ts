// Online label smoothing (Zhang et al. 2021, "Delving Deep into Label Smoothing", IEEE TIP): the noise is
// learned from the model's own predictions, one K×K matrix per epoch.
import { fail } from './errors.js';
import { parseClasses, parseMatrix } from './inputs.js';
import { noiseMatrix } from './noiseMatrix.js';
import { checkOptions } from './options.js';
import { softmaxRow } from './softmax.js';
import type { Matrix, NoiseMatrix } from './types.js';

/** Options of {@link OnlineLabelSmoothing.update}. */
export interface OnlineUpdateOptions {
  /** K; required for flat typed-array logits. */
  classes?: number;
  /** Class index of rows to skip (padding); default −100. */
  ignoreIndex?: number;
}

/** Everything an {@link OnlineLabelSmoothing} holds (JSON-safe: float64 numbers round-trip exactly). */
export interface OnlineLabelSmoothingState {
  /** K, the number of classes. */
  classes: number;
  /** S_t, K×K row-major. */
  matrix: number[];
  /** This epoch's running sums of q per class, K×K. */
  sums: number[];
  /** This epoch's counts of correctly classified examples per class, length K. */
  counts: number[];
}

/**
 * The soft-label matrix of online label smoothing. S_t is K×K; row y is the mean predicted distribution
 * q = softmax(z) over the training examples of class y that the model classified correctly (argmax q = y)
 * during epoch t. Epoch t+1 trains on α·onehot(y) + (1−α)·S_t[y], which in labelsmooth's terms is
 * `noise: { matrix: S_t }` with `labelSmoothing: 1 − α` (the paper uses α = 0.5). S_0 is uniform.
 *
 * Use: during epoch t pass `{ noise: { matrix: ols.noiseMatrix }, labelSmoothing }` to crossEntropy (or the
 * TF.js losses) and call `ols.update(logits, labels)` on each training batch; call `ols.nextEpoch()` at the
 * end of the epoch. `ols.noiseMatrix` is S_t checked and copied once per epoch (see noiseMatrix), so the
 * calls do not re-check it; `ols.matrix` (a float64 copy per access, checked per call) is for reading S.
 * A class with no correctly classified example in the epoch keeps its previous row (the paper's code would
 * divide by zero).
 */
export class OnlineLabelSmoothing {
  /** K. */
  readonly classes: number;
  private current: Float64Array;
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  /** S_t as a checked NoiseMatrix, made on first use in the epoch. */
  private checked: NoiseMatrix | null = null;

  /** @param classes K, the number of classes */
  constructor(classes: number) {
    const k = parseClasses('OnlineLabelSmoothing', classes);
    if (k === undefined) fail('OnlineLabelSmoothing', 'classes', undefined, classes, 'required');
    this.classes = k;
    this.current = new Float64Array(k * k).fill(1 / k);
    this.sums = new Float64Array(k * k);
    this.counts = new Float64Array(k);
  }

  /** S_t, the matrix to train epoch t on (K×K row-major, rows are distributions); a copy. */
  get matrix(): Float64Array {
    return this.current.slice();
  }

  /**
   * S_t as a {@link NoiseMatrix} for `noise: { matrix }`: checked and copied to float32 once per epoch (the
   * same object until {@link nextEpoch}), so that the loss does not check S's rows on every call.
   */
  get noiseMatrix(): NoiseMatrix {
    this.checked ??= noiseMatrix(this.current, { classes: this.classes });
    return this.checked;
  }

  /** How many correctly classified examples of each class were seen so far this epoch (length K). */
  get counted(): Float64Array {
    return this.counts.slice();
  }

  /**
   * Add a batch: for every row i whose argmax_c z_ic equals its label yᵢ, add softmax(zᵢ) to the running
   * sum of class yᵢ. Logits are N×K (flat with `options.classes`, or `number[][]`); labels length N.
   */
  update(logits: Matrix, labels: ArrayLike<number>, options?: OnlineUpdateOptions): void {
    const fn = 'OnlineLabelSmoothing.update';
    const o = checkOptions<OnlineUpdateOptions>(fn, options, ['classes', 'ignoreIndex']);
    const k = this.classes;
    const classes = parseClasses(fn, o.classes ?? k);
    if (classes !== k) fail(fn, 'options.classes', undefined, classes, `must be K = ${k}`);
    const { data: z, rows: n } = parseMatrix(fn, 'logits', logits, k);
    if (!(ArrayBuffer.isView(labels) || Array.isArray(labels)) || labels.length !== n)
      fail(fn, 'labels', undefined, labels, `expected ${n} class indices`);
    const ignore = o.ignoreIndex ?? -100;
    if (typeof ignore !== 'number' || !Number.isInteger(ignore))
      fail(fn, 'options.ignoreIndex', undefined, ignore, 'must be an integer');
    const q = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      if (y === ignore) continue;
      if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= k)
        fail(fn, 'labels', i, y, `class index out of range [0, ${k})`);
      let m = -Infinity;
      let argmax = -1;
      for (let c = 0; c < k; c++) {
        const v = z[i * k + c];
        if (!(v > -Infinity && v < Infinity))
          fail(fn, 'logits', i * k + c, v, `must be finite (row ${i}, class ${c})`);
        if (v > m) {
          m = v;
          argmax = c;
        }
      }
      if (argmax !== y) continue; // only correctly classified examples count
      softmaxRow(z, i * k, k, q);
      for (let c = 0; c < k; c++) this.sums[y * k + c] += q[c];
      this.counts[y]++;
    }
  }

  /**
   * End the epoch: S_{t+1}[y] = (sum of the counted q for class y) / count_y, for each class with a count
   * (others keep S_t[y]); the sums restart at zero. Returns S_{t+1} (a copy).
   */
  nextEpoch(): Float64Array {
    const k = this.classes;
    for (let y = 0; y < k; y++) {
      if (this.counts[y] > 0)
        for (let c = 0; c < k; c++) this.current[y * k + c] = this.sums[y * k + c] / this.counts[y];
    }
    this.sums.fill(0);
    this.counts.fill(0);
    this.checked = null;
    return this.matrix;
  }

  /** The complete state (S_t, the running sums and counts), for checkpoints; see {@link restore}. */
  state(): OnlineLabelSmoothingState {
    return {
      classes: this.classes,
      matrix: Array.from(this.current),
      sums: Array.from(this.sums),
      counts: Array.from(this.counts),
    };
  }

  /** An instance holding exactly `state` (from {@link state}): a resumed run continues bit for bit. */
  static restore(state: OnlineLabelSmoothingState): OnlineLabelSmoothing {
    const fn = 'OnlineLabelSmoothing.restore';
    if (state === null || typeof state !== 'object')
      fail(fn, 'state', undefined, state, 'expected an object');
    const ols = new OnlineLabelSmoothing(state.classes);
    const k = ols.classes;
    const copy = (name: 'matrix' | 'sums' | 'counts', into: Float64Array, integers: boolean) => {
      const v = state[name];
      if (!Array.isArray(v) || v.length !== into.length)
        fail(fn, `state.${name}`, undefined, v, `expected ${into.length} numbers`);
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x !== 'number' || !(x >= 0 && x < Infinity) || (integers && !Number.isInteger(x)))
          fail(fn, `state.${name}`, i, x, integers ? 'must be a whole number ≥ 0' : 'must be finite and ≥ 0');
        into[i] = x;
      }
    };
    copy('matrix', ols.current, false);
    copy('sums', ols.sums, false);
    copy('counts', ols.counts, true);
    for (let y = 0; y < k; y++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += ols.current[y * k + c];
      if (Math.abs(s - 1) > 1e-9) fail(fn, 'state.matrix', y * k, s, `row ${y} sums to ${s}, not 1`);
    }
    return ols;
  }
}
