// Smooth ECE (Błasiok & Nakkiran, ICLR 2024, "Smooth ECE: Principled Reliability Diagrams via Kernel
// Smoothing"), computed exactly as its reference implementation `relplot` (github apple/ml-calibration,
// src/relplot/metrics.py and kernels.py, defaults) computes it, so that `relplot.smECE(f, y)` gives the same
// number. The discretization below is relplot's; the comments say where it departs from the continuous
// definition.
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { dot } from './dot.js';

/** smECE with its bandwidth: the result of {@link smoothEce}. */
export interface SmoothEce {
  /** smECE_σ at the chosen σ (relplot's `smECE(f, y)`). */
  smoothEce: number;
  /** σ: the fixed point smECE_σ = σ found by relplot's bisection (a multiple of 1/1024), or the given one. */
  bandwidth: number;
}

/** Options of {@link smoothEce}. */
export interface SmoothEceOptions {
  /** A fixed bandwidth σ in (0, 1] instead of the fixed point (relplot's `smECE_sigma(f, y, sigma)`). */
  bandwidth?: number;
}

/** The smoothed reliability diagram of {@link smoothReliability}, on an equally spaced mesh of [0, 1]. */
export interface SmoothReliability {
  /** σ used for both the curve and the density. */
  bandwidth: number;
  /** Mesh points t_j = j/(points − 1). */
  mesh: number[];
  /** Nadaraya–Watson estimate of E[y | f = t]: t − Σ_i K(t, f_i)(f_i − y_i) / (Σ_i K(t, f_i) + 10⁻⁴). */
  curve: number[];
  /** Kernel density of f: (1/N) Σ_i K(t, f_i) (integrates to ≈ 1 over [0, 1]). */
  density: number[];
}

/** Options of {@link smoothReliability}. */
export interface SmoothReliabilityOptions {
  /** σ; default the smECE fixed point (as relplot's `prepare_rel_diagram`). */
  bandwidth?: number;
  /** Mesh size; default 200 (relplot's `plot_mesh_pts`). */
  points?: number;
}

/** relplot's `eps`: a σ below it counts as too small without evaluating smECE_σ. */
const MIN_BANDWIDTH = 0.001;
/** relplot's additive floor on the density in smECE_σ (and in the curve's denominator). */
const DENSITY_FLOOR = 1e-4;
/** Relative margin by which a column-sum bound must decide "too small" (rounding cannot flip it). */
const BOUND_MARGIN = 1e-9;
/** Steps of the lower-bound prediction of a resample's fixed point (it settles in one or two). */
const PREDICTIONS = 4;
/** relplot's bisection: σ = 1 first, then 10 halvings of [0, 1]. */
const HALVINGS = 10;
/** Taps beyond 9σ weigh < 3·10⁻¹⁸ of the centre tap: dropping them changes no float64 sum. */
const CUTOFF_SIGMAS = 9;
/** Most cosine frequencies kept by the spectral evaluation (beyond it the band-limited form costs more). */
const SPECTRAL_MAX = 320;
/** The spectral form drops frequencies whose total |κ̂_k| is below this fraction of κ̂_0 (≤ 2·10⁻¹² in smECE). */
const SPECTRAL_TAIL = 1e-12;

/** Python's round(): half to even (relplot sizes its grids with it). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Number of grid points E of relplot's kernel at σ: ⌊max(2000, round(20/σ))/2⌋ + 1. */
export function gridSize(sigma: number): number {
  return Math.floor(Math.max(2000, pyRound(20 / sigma)) / 2) + 1;
}

/** Number of mesh points T on which relplot evaluates smECE_σ: max(round(10/σ), 200). */
export function meshSize(sigma: number): number {
  return Math.max(pyRound(10 / sigma), 200);
}

/** numpy.linspace(0, 1, n)[j]: j·(1/(n−1)), the last point exactly 1. */
function linspace(j: number, n: number): number {
  return j === n - 1 ? 1 : j * (1 / (n - 1));
}

/** Where each row's mass lands on the grid of E points j/(E−1), and which grid points are occupied. */
interface Grid {
  size: number;
  /** Sorted grid indices touched by some row (both neighbours of every row). */
  cells: Int32Array;
  /** Per row: position in `cells` of its left neighbour ⌊f·(E−1)⌋ (clipped to E−2); the right one is next. */
  left: Int32Array;
  /** Per row: f·(E−1) − left, the share of its mass that goes to the right neighbour. */
  frac: Float64Array;
  /**
   * For odd E: c_g·cos(πkg/(E−1)) for k < SPECTRAL_MAX and every occupied cell g (c = 1 at the ends, else 2),
   * frequency by frequency.
   */
  cosines?: Float64Array;
}

/**
 * The same map in the cosine basis. For odd E the mirrored extension is even with period 2(E−1) and the taps
 * are symmetric and span at most ½ on each side, so relplot's convolution is exactly a circular one, diagonal
 * in the DCT-I: smoothed[i] = (1/2P)·Σ_k a_k·κ̂_k·V̂_k·cos(πki/P), P = E − 1, a_0 = 1, a_k = 2, with
 * V̂_k = Σ_g c_g·v[g]·cos(πkg/P) and κ̂_k = Σ_d κ(d)·cos(πkd/P). The Gaussian's κ̂_k decays like
 * exp(−(πkσ)²/2), so a few dozen frequencies carry everything for σ ≳ 0.02.
 */
interface Spectral {
  /** Frequencies kept. */
  k: number;
  /** T × k: row j = (a_k κ̂_k / 2P)·((1 − ρ_j)·cos(πk g_j/P) + ρ_j·cos(πk(g_j + 1)/P)). */
  u: Float64Array;
}

/**
 * The linear map from grid values (restricted to the occupied cells) to the T smoothed values A(t_j):
 * reflected convolution with relplot's Gaussian taps, then linear interpolation at t_j. Row j is stored as
 * a contiguous run of occupied cells [start_j, start_j + length_j).
 */
interface Operator {
  mesh: number;
  start: Int32Array;
  length: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
  /** Σ_j of each column: Σ_j A_1(t_j) = Σ_k colSum_k·v1_k, and bounds on Σ_j |A_r(t_j)|. */
  colSum: Float64Array;
  /** The cheaper exact form when it exists (see {@link Spectral}); null: use the band. */
  spectral: Spectral | null;
  /** For the band: the smoothing of the rows as given, which settles the sign of most rows (built on use). */
  reference?: Reference;
}

/**
 * The band operator applied to the grid values v⁰ of every row once, for a sign certificate: A_j(v) =
 * A_j(v⁰) + M_j·(v − v⁰), and |M_j·(v − v⁰)| ≤ ‖M_j‖₂·‖v − v⁰‖₂ (Cauchy–Schwarz), so A_j(v) has the sign s_j
 * of A_j(v⁰) whenever |A_j(v⁰)| exceeds that bound. Then Σ_j |A_j(v)| = Σ_k (Σ_j s_j M_jk)·v_k over the
 * certified rows, and only the others are smoothed: a resample's residual curve mostly keeps the sign of the
 * full sample's where the model is miscalibrated.
 */
interface Reference {
  /** v⁰ over the occupied cells. */
  values: Float64Array;
  /** A_j(v⁰). */
  smoothed: Float64Array;
  /** Bound on the rounding error of A_j(v⁰): 10⁻¹²·Σ_k |M_jk·v⁰_k|. */
  slack: Float64Array;
  /** ‖M_j‖₂. */
  norm: Float64Array;
  /** Σ_j s_j·M_jk, s_j = sign A_j(v⁰). */
  signedColSum: Float64Array;
}

/** Smoothed sums over the mesh of one evaluation. */
interface Smoothed {
  /** Σ_j |A_r(t_j)|. */
  absResidual: number;
  /** Σ_j (A_1(t_j) + 10⁻⁴). */
  mass: number;
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * relplot's smECE machinery for a fixed set of N points (f_i, r_i = f_i − y_i), reusable across σ and across
 * row weights (bootstrap multiplicities): grids and operators are built once per (E, σ, T) and cached.
 *
 * For weights w (default 1), the grid values are v_r[g] = Σ_i w_i r_i·(share of f_i at g) and likewise v_1
 * with r_i = 1 (linear splitting between the two neighbours, relplot's `smooth_round_to_grid`);
 * A_r = interpolate(reflect-convolve(v_r)), and smECE_σ = Σ_j |A_r(t_j)| / Σ_j (A_1(t_j) + 10⁻⁴).
 */
export class SmoothEceEstimator {
  readonly rows: number;
  private readonly f: Float64Array;
  private readonly r: Float64Array;
  private readonly grids = new Map<number, Grid>();
  private readonly operators = new Map<string, Operator>();
  private readonly buffers = new Map<number, { vr: Float64Array; v1: Float64Array; spectrum: Spectrum }>();

  /** @param f - confidences in [0, 1]; @param residual - f_i − y_i (not copied; not modified) */
  constructor(f: Float64Array, residual: Float64Array) {
    this.rows = f.length;
    this.f = f;
    this.r = residual;
  }

  private grid(size: number): Grid {
    let g = this.grids.get(size);
    if (g) return g;
    const n = this.rows;
    const cellOf = new Int32Array(n);
    const frac = new Float64Array(n);
    const used = new Uint8Array(size);
    for (let i = 0; i < n; i++) {
      const x = this.f[i] * (size - 1);
      const c = Math.min(Math.max(Math.trunc(x), 0), size - 2);
      cellOf[i] = c;
      frac[i] = x - c;
      used[c] = 1;
      used[c + 1] = 1;
    }
    let count = 0;
    for (let c = 0; c < size; c++) count += used[c];
    const cells = new Int32Array(count);
    const slot = new Int32Array(size);
    for (let c = 0, k = 0; c < size; c++) {
      if (used[c]) {
        slot[c] = k;
        cells[k++] = c;
      }
    }
    const left = new Int32Array(n);
    for (let i = 0; i < n; i++) left[i] = slot[cellOf[i]];
    g = { size, cells, left, frac };
    this.grids.set(size, g);
    return g;
  }

  private operator(grid: Grid, sigma: number, mesh: number, spectralAllowed = true): Operator {
    const key = `${grid.size}:${sigma}:${mesh}:${spectralAllowed}`;
    let op = this.operators.get(key);
    if (op) return op;
    const e = grid.size;
    // relplot's kernel_ev: E taps of the N(½, σ²) density at m/(E−1), cut at distance ½, not renormalized.
    const taps = new Float64Array(e);
    const variance = sigma ** 2;
    const norm = Math.sqrt(2 * Math.PI) * sigma;
    for (let m = 0; m < e; m++) {
      const d = linspace(m, e) - 0.5;
      taps[m] = Math.exp((-d * d) / (2 * variance)) / norm;
    }
    // Cells beyond 9σ weigh nothing; beyond ⌊E/2⌋ cells (distance ½, where the taps are cut) no tap nor
    // mirror image reaches: grid value i is a sum over cells [i − ⌊E/2⌋, i + ⌊E/2⌋] only.
    const width = Math.min(Math.floor(e / 2), Math.ceil(CUTOFF_SIGMAS * sigma * (e - 1)) + 1);
    const { cells } = grid;
    const start = new Int32Array(mesh);
    const length = new Int32Array(mesh);
    const offset = new Int32Array(mesh);
    const spans: [number, number, number, number][] = [];
    let total = 0;
    for (let j = 0; j < mesh; j++) {
      const t = linspace(j, mesh);
      // relplot's interpolate(): bucket ⌊t·(E−1)⌋ clipped to [0, E−2], residual in bucket units.
      const g = Math.min(Math.max(Math.trunc(t * (e - 1)), 0), e - 2);
      const bucket = 1 / (e - 1);
      const rho = (t - g * bucket) / bucket;
      const k0 = lowerBound(cells, g - width);
      const k1 = lowerBound(cells, g + 1 + width + 1);
      start[j] = k0;
      length[j] = k1 - k0;
      offset[j] = total;
      total += k1 - k0;
      spans.push([g, rho, k0, k1]);
    }
    const spectral = spectralAllowed ? spectralForm(grid, sigma, taps, spans, total) : null;
    if (spectral) {
      // Column sums through the same cosine form: Σ_j M[j, g] = Σ_k (Σ_j u[j, k])·c_g·cos(πkg/P).
      const rowSum = new Float64Array(spectral.k);
      for (let j = 0; j < mesh; j++)
        for (let f = 0; f < spectral.k; f++) rowSum[f] += spectral.u[j * spectral.k + f];
      const table = cellCosines(grid);
      const colSum = new Float64Array(cells.length);
      for (let f = 0; f < spectral.k; f++) axpy(colSum, rowSum[f], table, f * cells.length);
      op = { mesh, start, length, offset, weights: new Float64Array(0), colSum, spectral };
    } else {
      const weights = new Float64Array(total);
      const colSum = new Float64Array(cells.length);
      for (let j = 0; j < mesh; j++) {
        bandRow(taps, cells, spans[j], weights, offset[j], colSum);
      }
      op = { mesh, start, length, offset, weights, colSum, spectral: null };
    }
    this.operators.set(key, op);
    return op;
  }

  /** Grid values v_r and v_1 over the occupied cells for row weights `w` (null: every row once). */
  private values(
    grid: Grid,
    w: Float64Array | null,
    vr: Float64Array = new Float64Array(grid.cells.length),
    v1: Float64Array = new Float64Array(grid.cells.length),
  ): [Float64Array, Float64Array] {
    vr.fill(0);
    v1.fill(0);
    const { left, frac } = grid;
    const r = this.r;
    // Consecutive rows in one cell (rows sorted by f, as MetricRows keeps them) are summed in registers
    // first: adding to the same array slots row after row waits on the previous store every time.
    let k = left[0];
    let ar = 0;
    let br = 0;
    let a1 = 0;
    let b1 = 0;
    for (let i = 0; i < this.rows; i++) {
      if (left[i] !== k) {
        vr[k] += ar;
        vr[k + 1] += br;
        v1[k] += a1;
        v1[k + 1] += b1;
        k = left[i];
        ar = 0;
        br = 0;
        a1 = 0;
        b1 = 0;
      }
      const wi = w === null ? 1 : w[i];
      const b = frac[i];
      const a = 1 - b;
      const ri = r[i] * wi;
      ar += a * ri;
      br += b * ri;
      a1 += a * wi;
      b1 += b * wi;
    }
    vr[k] += ar;
    vr[k + 1] += br;
    v1[k] += a1;
    v1[k + 1] += b1;
    return [vr, v1];
  }

  /** Σ_j |A_r(t_j)|; with `certify` (the rows' grid), through the sign certificate of {@link Reference}. */
  private smooth(op: Operator, vr: Float64Array, spectrum: Spectrum, certify: Grid | null): number {
    if (op.spectral) {
      const { k, u } = op.spectral;
      const vhat = spectrum.upTo(k);
      let sum = 0;
      for (let j = 0, p = 0; j < op.mesh; j++, p += k) sum += Math.abs(dot(u, p, vhat, 0, k));
      return sum;
    }
    if (certify === null) {
      let sum = 0;
      for (let j = 0; j < op.mesh; j++) sum += Math.abs(bandRowDot(op, j, vr));
      return sum;
    }
    const ref = op.reference ?? this.reference(op, certify);
    let distance = 0;
    for (let k = 0; k < vr.length; k++) distance += (vr[k] - ref.values[k]) ** 2;
    // Margins: 10⁻⁹ relative on the bound and the rounding of A_j(v⁰) itself.
    distance = Math.sqrt(distance) * (1 + 1e-9);
    let sum = 0;
    for (let k = 0; k < vr.length; k++) sum += ref.signedColSum[k] * vr[k];
    for (let j = 0; j < op.mesh; j++) {
      if (Math.abs(ref.smoothed[j]) - ref.slack[j] > ref.norm[j] * distance) continue;
      const a = bandRowDot(op, j, vr);
      sum += Math.abs(a) - Math.sign(ref.smoothed[j]) * a;
    }
    return sum;
  }

  /** The sign certificate of a band operator (see {@link Reference}). */
  private reference(op: Operator, grid: Grid): Reference {
    const [values] = this.values(grid, null);
    const smoothed = new Float64Array(op.mesh);
    const slack = new Float64Array(op.mesh);
    const norm = new Float64Array(op.mesh);
    const signedColSum = new Float64Array(values.length);
    const { start, length, offset, weights } = op;
    for (let j = 0; j < op.mesh; j++) {
      smoothed[j] = bandRowDot(op, j, values);
      let abs = 0;
      let squares = 0;
      for (let k = start[j], p = offset[j]; k < start[j] + length[j]; k++, p++) {
        abs += Math.abs(weights[p] * values[k]);
        squares += weights[p] * weights[p];
      }
      slack[j] = 1e-12 * abs;
      norm[j] = Math.sqrt(squares);
      const sign = Math.sign(smoothed[j]);
      for (let k = start[j], p = offset[j]; k < start[j] + length[j]; k++, p++)
        signedColSum[k] += sign * weights[p];
    }
    op.reference = { values, smoothed, slack, norm, signedColSum };
    return op.reference;
  }

  /**
   * A session for one weighting of the rows: caches the grid values per grid size, so that a bisection
   * over σ splits the rows onto each grid once.
   */
  private session(w: Float64Array | null) {
    // Buffers are reused from one session to the next (a bootstrap runs thousands): typed-array allocation
    // is slow and its external memory drives the garbage collector.
    const ready = new Set<number>();
    const setup = (sigma: number) => {
      const grid = this.grid(gridSize(sigma));
      let v = this.buffers.get(grid.size);
      if (!v) {
        const vr = new Float64Array(grid.cells.length);
        v = { vr, v1: new Float64Array(grid.cells.length), spectrum: new Spectrum(grid, vr) };
        this.buffers.set(grid.size, v);
      }
      if (!ready.has(grid.size)) {
        this.values(grid, w, v.vr, v.v1);
        v.spectrum.reset();
        ready.add(grid.size);
      }
      const op = this.operator(grid, sigma, meshSize(sigma));
      let mass = DENSITY_FLOOR * op.mesh;
      for (let k = 0; k < v.v1.length; k++) mass += op.colSum[k] * v.v1[k];
      return { grid, op, vr: v.vr, spectrum: v.spectrum, mass };
    };
    // The sign certificate pays off for reweightings of the rows (bootstrap resamples), not for the rows as
    // given.
    const at = (sigma: number): Smoothed => {
      const { grid, op, vr, spectrum, mass } = setup(sigma);
      return { absResidual: this.smooth(op, vr, spectrum, w === null ? null : grid), mass };
    };
    // Column sums bound Σ_j|A_r(t_j)| from above (Σ_k colSum_k·|v_r,k|) and below (|Σ_k colSum_k·v_r,k|)
    // in O(cells), without the smoothing. The lower bound is the exact value when A_r keeps one sign over
    // the mesh, as it does for a clearly miscalibrated model.
    const bounds = (sigma: number): [number, number] => {
      const { op, vr, mass } = setup(sigma);
      let upper = 0;
      let signed = 0;
      for (let k = 0; k < vr.length; k++) {
        upper += op.colSum[k] * Math.abs(vr[k]);
        signed += op.colSum[k] * vr[k];
      }
      return [Math.abs(signed) / mass, upper / mass];
    };
    // relplot's predicate: σ is too small when σ < eps or σ < smECE_σ. The bounds settle most σ far from the
    // fixed point without the smoothing; the margin keeps rounding from deciding a different branch.
    const tooSmall = (sigma: number): boolean => {
      if (sigma < MIN_BANDWIDTH) return true;
      const [lower, upper] = bounds(sigma);
      if (upper < sigma * (1 - BOUND_MARGIN)) return false;
      if (lower > sigma * (1 + BOUND_MARGIN)) return true;
      const s = at(sigma);
      return sigma < s.absResidual / s.mass;
    };
    return { at, bounds, tooSmall };
  }

  /** smECE_σ at a fixed σ for row weights `w` (relplot's `smooth_ece(f, y, σ)`). */
  at(sigma: number, w: Float64Array | null = null): number {
    const s = this.session(w).at(sigma);
    return s.absResidual / s.mass;
  }

  /** The fixed point σ (relplot's `search_param`) and smECE there, for row weights `w`. */
  search(w: Float64Array | null = null): SmoothEce {
    const s = this.session(w);
    let hi = 1;
    if (!s.tooSmall(1)) {
      let lo = 0;
      for (let step = 0; step < HALVINGS; step++) {
        const mid = (hi + lo) / 2;
        if (s.tooSmall(mid)) lo = mid;
        else hi = mid;
      }
    }
    const r = s.at(hi);
    return { smoothEce: r.absResidual / r.mass, bandwidth: hi };
  }

  /**
   * The same fixed point found from a nearby one (a bootstrap resample's σ is close to the full sample's):
   * the smallest σ = k/1024 that is not too small, bracketed from `hint` by regula falsi on
   * g(k) = smECE_{k/1024} − k/1024 instead of bisected from 1. This is relplot's answer whenever the predicate
   * "too small" holds below one k and fails above it (smECE_σ nonincreasing in σ); the test suite checks it
   * against {@link search} on resamples. Each probe is settled by the column-sum bounds when they decide it,
   * and smoothed only otherwise: a search smooths about once or twice instead of relplot's 11 times.
   */
  searchNear(hint: number, w: Float64Array | null = null): SmoothEce {
    const s = this.session(w);
    const steps = 1 << HALVINGS;
    // smECE_{k/1024} where it was smoothed.
    const exact = new Map<number, number>();
    const value = (k: number): number => {
      let v = exact.get(k);
      if (v === undefined) {
        const r = s.at(k / steps);
        v = r.absResidual / r.mass;
        exact.set(k, v);
      }
      return v;
    };
    // g(k) > 0 ⟺ too small (σ < eps counts as too small, as in relplot). When the bounds decide the sign,
    // the bound stands in for g(k) (it only steers the next probe).
    const g = (k: number): number => {
      const sigma = k / steps;
      if (sigma < MIN_BANDWIDTH) return 1;
      const [lower, upper] = s.bounds(sigma);
      if (lower > sigma * (1 + BOUND_MARGIN)) return lower - sigma;
      if (upper < sigma * (1 - BOUND_MARGIN)) return upper - sigma;
      return value(k) - sigma;
    };
    let lo = 0; // too small (σ = 0 is)
    let hi = steps; // not too small, or the end of the range (relplot returns σ = 1 then)
    let glo = 1;
    let ghi = -1;
    const probe = (k: number): number => {
      const v = g(k);
      if (v > 0) {
        if (k > lo) [lo, glo] = [k, v];
      } else if (k < hi) [hi, ghi] = [k, v];
      return v;
    };
    // Predict k* from the lower bound, which is smECE_σ itself when A_r keeps one sign and close to it
    // otherwise, and flat in σ near the fixed point: iterate k ← ⌈L(k/1024)·1024⌉ from the hint. Then probe
    // k* − 1 (usually settled by the bound) and k* (usually smoothed: its value is the answer).
    let k = Math.min(Math.max(Math.round(hint * steps), 1), steps);
    for (let step = 0; step < PREDICTIONS; step++) {
      const sigma = k / steps;
      const next =
        sigma < MIN_BANDWIDTH ? k + 1 : Math.min(Math.max(Math.ceil(s.bounds(sigma)[0] * steps), 1), steps);
      if (next === k) break;
      k = next;
    }
    probe(k - 1);
    probe(k);
    // If the prediction missed, widen the bracket from its closed end: with smECE nonincreasing,
    // smECE_σ₀ ≥ σ* ≥ ... gives σ* ∈ (σ₀, σ₀ + g₀] when g₀ > 0 and σ* ∈ [σ₀ + g₀, σ₀] when g₀ ≤ 0.
    if (hi === steps && lo > 0) probe(Math.min(steps, lo + Math.max(1, Math.ceil(glo * steps))));
    else if (lo === 0 && hi < steps) probe(Math.max(1, hi + Math.min(-1, Math.floor(ghi * steps))));
    // Then regula falsi inside the bracket, with a bisection every third step so that it always shrinks fast.
    for (let step = 1; hi - lo > 1; step++) {
      let k = (lo + hi) >> 1;
      if (step % 3 !== 0 && hi < steps) k = Math.round(lo + (glo / (glo - ghi)) * (hi - lo));
      probe(Math.min(Math.max(k, lo + 1), hi - 1));
    }
    return { smoothEce: value(hi), bandwidth: hi / steps };
  }

  /** The smoothed reliability curve and density at σ on `points` mesh points (every row once). */
  reliability(sigma: number, points: number): SmoothReliability {
    const grid = this.grid(gridSize(sigma));
    const op = this.operator(grid, sigma, points, false);
    const [vr, v1] = this.values(grid, null);
    const mesh: number[] = [];
    const curve: number[] = [];
    const density: number[] = [];
    for (let j = 0; j < points; j++) {
      let ar = 0;
      let a1 = 0;
      const k0 = op.start[j];
      for (let k = k0, p = op.offset[j]; k < k0 + op.length[j]; k++, p++) {
        ar += op.weights[p] * vr[k];
        a1 += op.weights[p] * v1[k];
      }
      const t = linspace(j, points);
      mesh.push(t);
      curve.push(t - ar / (a1 + DENSITY_FLOOR));
      density.push(a1 / this.rows);
    }
    return { bandwidth: sigma, mesh, curve, density };
  }
}

/**
 * Row of the band operator for the mesh point between grid points g and g + 1 (share ρ of g + 1), over the
 * occupied cells [k0, k1) (`span` = [g, ρ, k0, k1]): (1 − ρ)·K(g, c) + ρ·K(g + 1, c), where K(i, c), the smoothed grid value at i from
 * grid value at c, sums the taps of c and of its mirror images about the end points (c → −c below 0,
 * c → 2(E−1) − c above E−1), as relplot's ReflectedGaussianKernel.convolve. Added to `colSum` as well.
 * A function of its own so that the optimizing compiler sees it called often (the operator is built rarely).
 */
function bandRow(
  taps: Float64Array,
  cells: Int32Array,
  span: readonly [g: number, rho: number, k0: number, k1: number],
  out: Float64Array,
  offset: number,
  colSum: Float64Array,
): void {
  const [g, rho, k0, k1] = span;
  const e = taps.length;
  const h = Math.floor(e / 2);
  const kernel = (i: number, c: number): number => {
    let s = 0;
    let m = i + h - c;
    if (m >= 0 && m < e) s += taps[m];
    if (c > 0) {
      m = i + h + c;
      if (m < e) s += taps[m];
    }
    if (c < e - 1) {
      m = i + h - (2 * (e - 1) - c);
      if (m >= 0) s += taps[m];
    }
    return s;
  };
  for (let k = k0, p = offset; k < k1; k++, p++) {
    const w = (1 - rho) * kernel(g, cells[k]) + rho * kernel(g + 1, cells[k]);
    out[p] = w;
    colSum[k] += w;
  }
}

/** A_j = Σ_k M_jk·v_k over row j's band. */
function bandRowDot(op: Operator, j: number, v: Float64Array): number {
  const k0 = op.start[j];
  return dot(op.weights, op.offset[j], v, k0, op.length[j]);
}

/** cos(πn/P) for n = 0..2P−1: every cosine of the DCT-I of period 2P is one of these. */
const cosineTables = new Map<number, Float64Array>();
function cosines(p: number): Float64Array {
  let c = cosineTables.get(p);
  if (!c) {
    c = new Float64Array(2 * p);
    for (let n = 0; n < 2 * p; n++) c[n] = Math.cos((Math.PI * n) / p);
    cosineTables.set(p, c);
  }
  return c;
}

/** c_g·cos(πkg/P) for k < SPECTRAL_MAX and the occupied cells of an odd grid (built on first use). */
function cellCosines(grid: Grid): Float64Array {
  if (grid.cosines) return grid.cosines;
  const p = grid.size - 1;
  const cos = cosines(p);
  const { cells } = grid;
  const out = new Float64Array(cells.length * SPECTRAL_MAX);
  for (let k = 0; k < SPECTRAL_MAX; k++) cosineRow(cells, cos, k, out, k * cells.length);
  grid.cosines = out;
  return out;
}

/** c_g·cos(πkg/P) for the occupied cells g at one frequency k, at `offset` of `out`. */
function cosineRow(cells: Int32Array, cos: Float64Array, k: number, out: Float64Array, offset: number): void {
  const p = cos.length / 2;
  for (let c = 0; c < cells.length; c++) {
    const g = cells[c];
    out[offset + c] = (g === 0 || g === p ? 1 : 2) * cos[(k * g) % (2 * p)];
  }
}

/** V̂_k of one weighting's grid values, extended to more frequencies as smaller σ need them. */
class Spectrum {
  private readonly grid: Grid;
  private readonly v: Float64Array;
  private readonly vhat = new Float64Array(SPECTRAL_MAX);
  private have = 0;
  constructor(grid: Grid, v: Float64Array) {
    this.grid = grid;
    this.v = v;
  }
  /** Forget the coefficients (the grid values were overwritten). */
  reset(): void {
    this.vhat.fill(0);
    this.have = 0;
  }
  upTo(k: number): Float64Array {
    if (k > this.have) {
      const table = cellCosines(this.grid);
      const { v, vhat } = this;
      const cells = v.length;
      for (let f = this.have; f < k; f++) vhat[f] = dot(table, f * cells, v, 0, cells);
      this.have = k;
    }
    return this.vhat;
  }
}

/**
 * The spectral form of an operator when it is exact to SPECTRAL_TAIL and cheaper than the band (odd E only:
 * for even E relplot's taps are off-centre by half a cell and the convolution is not symmetric).
 */
function spectralForm(
  grid: Grid,
  sigma: number,
  taps: Float64Array,
  spans: [number, number, number, number][],
  bandWork: number,
): Spectral | null {
  const e = grid.size;
  if (e % 2 === 0) return null;
  const p = e - 1;
  const h = p / 2;
  const cos = cosines(p);
  const mesh = spans.length;
  // Dropped frequencies are bounded analytically: when the taps cut at distance ½ are negligible (the end tap
  // below 10⁻¹² of the centre one, i.e. σ ≲ 0.067; the cut then moves each κ̂_k by < 2·10⁻¹³·κ̂_0),
  // κ̂_k ≈ P·exp(−(πkσ)²/2) by Poisson summation, so the frequencies from k on weigh at most
  // P·exp(−(πkσ)²/2)/(1 − exp(−π²σ²k)). Wider kernels keep the band.
  if (taps[0] > 1e-12 * taps[h]) return null;
  let k = 1;
  const tailBound = (n: number) =>
    Math.exp(-((Math.PI * n * sigma) ** 2) / 2) / -Math.expm1(-(Math.PI ** 2) * sigma ** 2 * n);
  while (k <= SPECTRAL_MAX && tailBound(k) > SPECTRAL_TAIL) k++;
  if (k > SPECTRAL_MAX || mesh * k > 0.6 * bandWork) return null;
  const kappa = new Float64Array(k);
  for (let f = 0; f < k; f++) kappa[f] = kappaAt(taps, cos, f);
  const u = new Float64Array(mesh * k);
  for (let j = 0; j < mesh; j++) spectralRow(kappa, cos, spans[j][0], spans[j][1], u, j * k);
  return { k, u };
}

// The loops of an operator's construction are functions of their own so that the optimizing compiler sees
// them called often: an operator is built a few dozen times per call, its loops would run unoptimized.

/** κ̂_f = κ(0) + 2·Σ_{d=1..h} κ(d)·cos(πfd/P), with κ(d) = taps[h + d] (symmetric up to rounding). */
function kappaAt(taps: Float64Array, cos: Float64Array, f: number): number {
  const p = taps.length - 1;
  const h = p / 2;
  let sum = taps[h];
  for (let d = 1, n = f; d <= h; d++, n += f) {
    if (n >= 2 * p) n -= 2 * p;
    sum += (taps[h + d] + taps[h - d]) * cos[n];
  }
  return sum;
}

/** Row of u for the mesh point between grid points g and g + 1 (share ρ of g + 1), at `offset`. */
function spectralRow(
  kappa: Float64Array,
  cos: Float64Array,
  g: number,
  rho: number,
  u: Float64Array,
  offset: number,
): void {
  const p = cos.length / 2;
  for (let f = 0; f < kappa.length; f++) {
    const a = (f === 0 ? 1 : 2) * kappa[f];
    const phi = (1 - rho) * cos[(f * g) % (2 * p)] + rho * cos[(f * (g + 1)) % (2 * p)];
    u[offset + f] = (a * phi) / (2 * p);
  }
}

/** y += a·x[offset .. offset + y.length). */
function axpy(y: Float64Array, a: number, x: Float64Array, offset: number): void {
  for (let c = 0; c < y.length; c++) y[c] += a * x[offset + c];
}

/** Validate (f, y) pairs: f in [0, 1], y in [0, 1] (correctness or a binary outcome), same length ≥ 1. */
function parsePairs(fn: string, f: ArrayLike<number>, y: ArrayLike<number>): [Float64Array, Float64Array] {
  if (!(ArrayBuffer.isView(f) || Array.isArray(f)))
    fail(fn, 'confidence', undefined, f, 'expected an array of numbers in [0, 1]');
  if (!(ArrayBuffer.isView(y) || Array.isArray(y)))
    fail(fn, 'outcome', undefined, y, 'expected an array of numbers in [0, 1]');
  if (f.length === 0) fail(fn, 'confidence', undefined, f, 'needs at least one value');
  if (y.length !== f.length)
    fail(fn, 'outcome', undefined, y, `length ${y.length} does not match the ${f.length} confidences`);
  const fs = new Float64Array(f.length);
  const r = new Float64Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const fi = f[i];
    const yi = y[i];
    if (!(typeof fi === 'number' && fi >= 0 && fi <= 1)) fail(fn, 'confidence', i, fi, 'must be in [0, 1]');
    if (!(typeof yi === 'number' && yi >= 0 && yi <= 1)) fail(fn, 'outcome', i, yi, 'must be in [0, 1]');
    fs[i] = fi;
    r[i] = fi - yi;
  }
  return [fs, r];
}

function parseBandwidth(fn: string, sigma: unknown): number | undefined {
  if (sigma === undefined) return undefined;
  if (!(typeof sigma === 'number' && sigma > 0 && sigma <= 1))
    fail(fn, 'options.bandwidth', undefined, sigma, 'must be a number in (0, 1]');
  return sigma;
}

/**
 * Smooth ECE of confidences f against outcomes y (Błasiok & Nakkiran 2024):
 *
 *     smECE_σ = ∫₀¹ |r̂_σ(t)|·δ̂_σ(t) dt,   r̂_σ(t) = Σ_i K_σ(t, f_i)(f_i − y_i) / Σ_i K_σ(t, f_i),
 *     δ̂_σ(t) = (1/N) Σ_i K_σ(t, f_i),
 *
 * with K_σ the Gaussian kernel reflected at 0 and 1, and σ the fixed point smECE_σ = σ. Computed as
 * `relplot.smECE(f, y)` computes it (same grid, taps, reflection, mesh, 10⁻⁴ density floor and bisection:
 * σ = 1, then 10 halvings of [0, 1], σ < 0.001 counting as too small), so the two agree to rounding.
 * For multi-class top-label calibration pass f = max_c q_c and y = [argmax = label]; `calibration()` does.
 *
 * @param confidence - f_i in [0, 1]
 * @param outcome - y_i in [0, 1] (1 = correct / positive)
 * @param options - `bandwidth` fixes σ (relplot's `smECE_sigma`)
 */
export function smoothEce(
  confidence: ArrayLike<number>,
  outcome: ArrayLike<number>,
  options?: SmoothEceOptions,
): SmoothEce {
  const fn = 'smoothEce';
  const o = checkOptions<SmoothEceOptions>(fn, options, ['bandwidth']);
  const sigma = parseBandwidth(fn, o.bandwidth);
  const est = new SmoothEceEstimator(...parsePairs(fn, confidence, outcome));
  if (sigma !== undefined) return { smoothEce: est.at(sigma), bandwidth: sigma };
  return est.search();
}

/**
 * The smoothed reliability diagram of Błasiok & Nakkiran 2024 (relplot's `prepare_rel_diagram` without its
 * bagging): the kernel regression of y on f and the kernel density of f, with the smECE bandwidth.
 *
 * @param confidence - f_i in [0, 1]
 * @param outcome - y_i in [0, 1]
 * @param options - `bandwidth` (default: the smECE fixed point), `points` (default 200)
 */
export function smoothReliability(
  confidence: ArrayLike<number>,
  outcome: ArrayLike<number>,
  options?: SmoothReliabilityOptions,
): SmoothReliability {
  const fn = 'smoothReliability';
  const o = checkOptions<SmoothReliabilityOptions>(fn, options, ['bandwidth', 'points']);
  const points = o.points ?? 200;
  if (!Number.isInteger(points) || points < 2)
    fail(fn, 'options.points', undefined, points, 'must be an integer ≥ 2');
  const sigma = parseBandwidth(fn, o.bandwidth);
  const est = new SmoothEceEstimator(...parsePairs(fn, confidence, outcome));
  return est.reliability(sigma ?? est.search().bandwidth, points);
}
