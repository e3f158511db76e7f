/** Float storage accepted for logits, probabilities and gradients. */
export type FloatArray = Float32Array | Float64Array;

/** Integer typed arrays accepted for class indices. */
export type IndexArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/**
 * A row-major N×K matrix: a flat float array (with `options.classes = K`) or an array of rows. Sequence
 * logits [B, T, V] are the flat array of B·T rows of V classes (`classes: V`), with targets of length B·T
 * (row b·T + t) and padding marked by `ignoreIndex`; per-row results follow the same order.
 */
export type Matrix = FloatArray | readonly (readonly number[])[];

/**
 * Targets: class indices (integer typed array or `number[]` of length N) or probabilities
 * (float typed array of length N×K, or `number[][]`).
 */
export type Target = IndexArray | readonly number[] | Matrix;

/**
 * The noise distribution u of p' = (1−ε)·p + ε·u:
 * - `'uniform'`: ε/K on every class, the target included (PyTorch, Keras, TF.js, Optax, timm);
 * - `'non-target'`: ε/(K−1) on the other classes, the target keeps 1−ε (fairseq, Megatron);
 *   for soft targets t, u_c = (1 − t_c)/(K − 1), which reduces to it for one-hot t;
 * - an array of length K: a class prior (Szegedy et al.'s proposal, "unigram" smoothing);
 * - an array of length N×K: a per-sample distribution u(y|x);
 * - `{ matrix: S }`, S a K×K matrix (flat row-major or `number[][]`) whose rows are distributions: the
 *   class-conditional noise u(·|y) = S[y] (for probability targets u = Σ_y p_y·S[y]), e.g. the matrix of
 *   online label smoothing ({@link OnlineLabelSmoothing}).
 */
export type Noise = 'uniform' | 'non-target' | ArrayLike<number> | ClassConditionalNoise;

/** The class-conditional noise u(·|y) = S[y] of {@link Noise}. */
export interface ClassConditionalNoise {
  /**
   * S, K×K, each row a distribution over the classes: a {@link NoiseMatrix} from `noiseMatrix(S)` (checked
   * once), or a plain array, flat row-major or K rows (the rows a batch uses are checked on every call).
   */
  matrix: NoiseMatrix | ArrayLike<number> | readonly (readonly number[])[];
}

/**
 * A class-conditional noise matrix S (K×K), checked and copied to float32 once by `noiseMatrix(S)`; pass it
 * as `noise: { matrix }`. Immutable: the loss reads its own copy, which nothing outside can change.
 */
export interface NoiseMatrix {
  /** K. */
  readonly classes: number;
  /** S as a new K×K row-major Float32Array (a copy). */
  toArray(): Float32Array;
}

/** How per-row losses are combined. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options shared by {@link crossEntropy} and {@link smoothLabels}. */
export interface SmoothingOptions {
  /** K, the number of classes. Required for flat logits and for index targets without logits. */
  classes?: number;
  /** ε in [0, 1]; default 0 (PyTorch's `label_smoothing`). */
  labelSmoothing?: number;
  /** The noise distribution u; default `'uniform'`. */
  noise?: Noise;
  /**
   * Allowed classes (length K, or N×K per row; truthy = allowed), like Optax's `where`. Masked classes get
   * no smoothing mass, are left out of the softmax (as if their logit were −∞) and may hold any value,
   * −Infinity included. Uniform noise spreads ε over the allowed classes only; a prior or per-sample
   * noise is renormalized over them.
   */
  classMask?: ArrayLike<boolean | number>;
  /** Class index that marks a row to ignore (padding); default −100. */
  ignoreIndex?: number;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends SmoothingOptions {
  /**
   * Per-class weights (length K). With `weightMode: 'per-class'` (default, PyTorch semantics) the nll term
   * of row i is weighted by w[yᵢ], the smoothing term by w[c] for each class c, and `mean` divides by
   * Σ w[yᵢ] over non-ignored rows (by N for probability targets).
   */
  weight?: ArrayLike<number>;
  /**
   * `'per-example'`: Keras `class_weight` semantics — the whole row i is scaled by w[yᵢ] (for probability
   * targets by Σ_c w[c]·t_c) and the `mean` denominator is the number of non-ignored rows.
   */
  weightMode?: 'per-class' | 'per-example';
  /** Per-row weights (length N) that scale each row's loss; they do not change the `mean` denominator (Keras). */
  sampleWeight?: ArrayLike<number>;
  /** `'mean'` (default), `'sum'` or `'none'` (per-row arrays). */
  reduction?: Reduction;
  /**
   * β ≥ 0: the confidence penalty of Pereyra et al. 2017 adds −β·H(q) to each row, H(q) = −Σ_c w_c·q_c·log q_c
   * with the per-class weights of the smoothing term (1 without weights), times the row's weight. The
   * result then has `entropy` and `loss = (1−ε)·nll + ε·smoothing − β·entropy`. Runs on the WASM kernel
   * wherever the plain loss does (see `kernel`).
   */
  confidencePenalty?: number;
  /**
   * γ ≥ 0: focal loss with label smoothing (Lin et al. 2017), row = −α·Σ_c w_c·p'_c·(1 − q_c)^γ·log q_c;
   * `nll` and `smoothing` are then its parts with p and u in place of p'. `'flsd-53'` (Mukhoti et al. 2020)
   * takes γ = 5 for rows with q_y < 0.2 (for probability targets Σ_c p_c·q_c), else 3, as a constant of the
   * gradient. With `focalAlpha: 0.25` it is Keras' `CategoricalFocalCrossentropy(alpha, gamma,
   * label_smoothing)` (whose clip to [1e−7, 1 − 1e−7] is not applied). Runs on the WASM kernel wherever
   * the plain loss does (see `kernel`).
   */
  focalGamma?: number | 'flsd-53';
  /** α > 0, the focal loss's factor (default 1; Keras' default is 0.25). Needs `focalGamma`. */
  focalAlpha?: number;
  /**
   * Divide the summed loss by this count instead of the `mean` denominator (gradient accumulation,
   * data-parallel shards). Not allowed with `reduction: 'none'`.
   */
  normalizer?: number;
  /**
   * `true` to also return dL/dlogits (N×K, row-major) of the reduced loss (of the sum for `'none'`), or a
   * float array of length N×K to write it into. Passing the logits array itself is the opt-in in-place
   * mode (the logits are overwritten by the gradient); nothing else ever mutates the inputs.
   */
  grad?: boolean | FloatArray;
  /**
   * `'auto'` (default): the WASM SIMD kernel for float32 logits with class-index targets, a shared noise
   * (uniform, non-target, prior, class-conditional) and mask, the confidence penalty and focal loss
   * included, or `softcap`, `zLoss` and `lse` (without those three), when it is available and the batch has
   * ≥ 2048 logits; the float64 reference otherwise. `'js'` forces the reference; `'wasm'` forces the kernel
   * and is an error for inputs it does not take (float64 logits, probability targets, per-sample noise,
   * per-row masks, softcap / zLoss / lse with the penalty, focal loss or class-conditional noise) or where
   * WASM SIMD is missing. Either way, rows the float32 kernel cannot finish (|z_c − z_y| beyond
   * 3.4e38) and weights or noise values outside [1e−30, 1e30] go to the reference: the result is exact,
   * and `kernelInfo()` / `onKernelEvent()` report the fallback (so does a soft cap or ζ outside that range).
   */
  kernel?: 'auto' | 'wasm' | 'js';
  /**
   * Split calls of ≥ 2¹⁶ logits across worker threads (Node; default true): the threads claim chunks of
   * rows from one counter, on workspace buffers in place and on ordinary arrays (the in-place mode
   * `grad: logits` included) through a window of slots in the kernel's shared memory, with the same bits as
   * one thread. The pool starts on the first call that needs it (that call waits for it; or with
   * `initKernels()`), is reused, and never keeps the process alive. Class-conditional noise is threaded
   * when S is a `noiseMatrix(S)` (or any array in a SharedArrayBuffer); S in an ordinary array keeps the
   * call on the calling thread, with a `'noise-not-shared'` kernel event.
   */
  threads?: boolean;
  /**
   * c > 0: logit soft-capping (Gemma 2): every logit becomes c·tanh(z/c) before everything else (softmax,
   * smoothing, z-loss); the gradient goes through it, ∂L/∂z = ∂L/∂z′·(1 − tanh²(z/c)).
   */
  softcap?: number;
  /**
   * ζ ≥ 0: the z-loss of PaLM (Liger's and flash-attn's `lse_square_scale`): each row that is not ignored adds
   * ζ·lseᵢ², lseᵢ = log Σ_c exp(z′ᵢc) over its allowed classes, times the row's weight as a whole
   * (`sampleWeight`, and w[yᵢ] with `weightMode: 'per-example'`; per-class weights do not apply). Reduced
   * like the cross-entropy, except that `mean` divides it by the count of rows that are not ignored (N for
   * probability targets), as Liger and flash-attn do. The result then has `zLoss`, included in `loss`.
   */
  zLoss?: number;
  /**
   * `true`: also return each row's log-sum-exp `lse` (length N, float64; ignored rows included, from their
   * logits), after soft-capping, so that training loops can log it.
   */
  lse?: boolean;
}

/** Result of {@link crossEntropy}; for `reduction: 'none'` the numbers are per-row arrays. */
export interface CrossEntropyResult<T extends number | Float64Array = number | Float64Array> {
  /** (1−ε)·nll + ε·smoothing, reduced. */
  loss: T;
  /** H(p, q): cross-entropy with the unsmoothed target (weighted), reduced the same way. */
  nll: T;
  /** H(u, q): cross-entropy with the noise distribution (weighted), reduced the same way. */
  smoothing: T;
  /** The `mean` denominator (Σ w[yᵢ] or the count of non-ignored rows); reported for every reduction. */
  denominator: number;
  /** H(q), weighted like the smoothing term and reduced the same way; only with `confidencePenalty`. */
  entropy?: T;
  /** The z-loss part ζ·Σ lseᵢ² (weighted by rows, reduced as `zLoss` says), included in `loss`; only with `zLoss`. */
  zLoss?: T;
  /** Each row's log-sum-exp after soft-capping (length N); only with `lse: true`. */
  lse?: Float64Array;
  /** dL/dlogits when requested. */
  grad?: FloatArray;
}

/** Options of {@link binaryCrossEntropy}. */
export interface BinaryCrossEntropyOptions {
  /** Outputs per row (K); default: the row length of `number[][]` logits, else 1. */
  classes?: number;
  /** ε in [0, 1]: targets become y·(1−ε) + ε/2 (Keras `BinaryCrossentropy(label_smoothing)`). */
  labelSmoothing?: number;
  /** Per-output weights (length K) or per-element weights (length N×K), like PyTorch's `weight`. */
  weight?: ArrayLike<number>;
  /** Per-row weights (length N). */
  sampleWeight?: ArrayLike<number>;
  /** `'mean'` over all N×K elements (default, PyTorch/Keras), `'sum'`, or `'none'` (per-element arrays). */
  reduction?: Reduction;
  /** Divide the sum by this count instead of N×K. */
  normalizer?: number;
  /** `true`, or a float buffer of length N×K, to get dL/dlogits. */
  grad?: boolean | FloatArray;
}

/** Result of {@link binaryCrossEntropy}; per-element arrays (length N×K) for `reduction: 'none'`. */
export interface BinaryCrossEntropyResult<T extends number | Float64Array = number | Float64Array> {
  /** (1−ε)·nll + ε·smoothing. */
  loss: T;
  /** H(y, σ(z)). */
  nll: T;
  /** H(½, σ(z)). */
  smoothing: T;
  /** N×K, the `mean` denominator. */
  denominator: number;
  /** dL/dlogits (N×K) when requested. */
  grad?: FloatArray;
}
