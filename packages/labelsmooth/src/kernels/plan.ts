// What the kernels read of a validated crossEntropy call. The core's plan (core/plan.ts) is built on this
// type (its fields are declared here once) and is passed as is; the kernels see a call only through it, so
// that no import runs from the kernels back up to the core.

/** A validated crossEntropy call as the kernels see it. */
export interface KernelPlan {
  rows: number;
  classes: number;
  /** The logits, N×K row-major (a float64 copy when they were given as nested arrays). */
  logits: Float32Array | Float64Array;
  target: { kind: 'index'; labels: ArrayLike<number> } | { kind: 'probs' };
  ignoreIndex: number;
  /** ε. */
  eps: number;
  /** The noise u: `data` a prior (K), per-sample (N×K, perRow) or class-conditional (K×K) distribution. */
  noise: {
    kind: 'uniform' | 'non-target' | 'prior' | 'per-sample' | 'class-conditional';
    data: ArrayLike<number> | null;
    perRow: boolean;
  };
  /** 1 = allowed, 0 = masked; K entries, or N×K per row; null when every class is allowed. */
  mask: { data: ArrayLike<number>; perRow: boolean } | null;
  /** Per-class weights inside the row (`weightMode: 'per-class'`, PyTorch), or null. */
  classWeight: ArrayLike<number> | null;
  /** Per-class weights that scale the whole row (`weightMode: 'per-example'`, Keras), or null. */
  exampleWeight: ArrayLike<number> | null;
  /** Per-row weights (length N), or null. */
  sampleWeight: ArrayLike<number> | null;
  reduction: 'mean' | 'sum' | 'none';
  /** Where dL/dz goes (N×K), or null; `inPlace`: it is the logits array itself. */
  grad: Float32Array | Float64Array | null;
  inPlace: boolean;
  kernel: 'auto' | 'wasm' | 'js';
  threads: boolean;
  /** β of the confidence penalty, or null. */
  confidencePenalty: number | null;
  /** The focal loss's exponent (a number, or per-row FLSD-53) and α, or null. */
  focal: { gamma: number | 'flsd-53'; alpha: number } | null;
  /** The soft cap c of c·tanh(z/c), or null. */
  softcap: number | null;
  /** ζ of the z-loss ζ·lse², or null. */
  zLoss: number | null;
  /** Where each row's log-sum-exp goes (N), or null when not asked for. */
  lse: Float64Array | null;
}
