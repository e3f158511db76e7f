// The WGSL of the row pass, written once for both WGSL users: TF.js's webgpu backend (src/tfjs) and raw
// WebGPU (src/webgpu). Both bind the logits as `logits` and the class table ([4, K], gpu/plan.ts) as
// `table`; they differ only in where their scalars live (`uniforms.x` / `params.x`), in how the soft cap and
// the noise are known (compiled in, or read at run time) and in the workgroup size. Notation:
//     z′ = c·tanh(z/c),  lse = log Σ_c exp(z′_c),  t = Σ_c v_c·z′_c  (allowed classes only)
//     dL/dz′_c = s·q_c − a·λ_c,  λ_c = ε·v_c + [c = y]·(1−ε)·w_c  (non-target: the target gets (1−ε)·w_y)
//     a = scale·r,  s = a·Λ + zScale·2ζ·r·lse,  Λ = (1−ε)·w_y + ε·Σ_c v_c  (non-target: without v_y)

/** How one shader reads the scalars the row pass needs. */
export interface WgslRowSource {
  /** The struct holding `eps`, `sumV`, `softcap` and `zeta`: `uniforms` (TF.js) or `params`. */
  scalars: string;
  /** Threads per row. */
  workgroup: number;
  /** The soft cap compiled in (true/false), or read at run time ('runtime': softcap 0 is none). */
  softcap: boolean | 'runtime';
  /** A WGSL bool expression: whether the noise is non-target. */
  nonTarget: string;
}

/** `fn capped(z)`: z′ = c·tanh(z/c), written with exp(−2|z|/c) ≤ 1 so that nothing overflows. */
export function wgslCapped(src: WgslRowSource): string {
  if (src.softcap === false) return 'fn capped(z : f32) -> f32 { return z; }';
  const c = `${src.scalars}.softcap`;
  return `fn capped(z : f32) -> f32 {
  ${src.softcap === 'runtime' ? `if (${c} == 0.0) { return z; }` : ''}
  let e = exp(-2.0 * abs(z) / ${c});
  return sign(z) * ${c} * (1.0 - e) / (1.0 + e);
}`;
}

/**
 * The tree reduction of a workgroup's parts in workgroup memory, every thread having stored its part at
 * index `lid`: log₂(workgroup) halving steps, each ending in a barrier, that leave the workgroup's result at
 * index 0. `fold(i, j)` is the WGSL that folds entry j into entry i (of every array reduced). All threads of
 * the workgroup must run it (it has barriers); the halving needs a power of two.
 */
export function wgslTreeReduce(workgroup: number, fold: (i: string, j: string) => string): string {
  if (!Number.isInteger(workgroup) || workgroup < 2 || (workgroup & (workgroup - 1)) !== 0)
    throw new RangeError(`wgslTreeReduce: workgroup must be a power of two ≥ 2, got ${workgroup}`);
  return `workgroupBarrier();
  for (var half = ${workgroup / 2}u; half > 0u; half = half / 2u) {
    if (lid < half) {
      ${fold('lid', 'lid + half')}
    }
    workgroupBarrier();
  }`;
}

/**
 * `fn rowStats(base, k, lid) -> vec2<f32>`: (lse, t) of the row of `k` logits at `base`, every thread of
 * the workgroup reading a strided part of it and the parts merged in workgroup memory. All threads of the
 * workgroup must call it (it has barriers), and all get the same result.
 */
export function wgslRowStats(src: WgslRowSource): string {
  const wg = src.workgroup;
  return `${wgslCapped(src)}
var<workgroup> ms : array<f32, ${wg}>;
var<workgroup> ss : array<f32, ${wg}>;
var<workgroup> ts : array<f32, ${wg}>;
// (m, s) of two parts of a row merged: s = 0 marks a part without allowed classes
fn merge(i : u32, j : u32) {
  if (ss[j] == 0.0) { return; }
  if (ss[i] == 0.0) { ms[i] = ms[j]; ss[i] = ss[j]; return; }
  let m = max(ms[i], ms[j]);
  ss[i] = ss[i] * exp(ms[i] - m) + ss[j] * exp(ms[j] - m);
  ms[i] = m;
}
fn rowStats(base : i32, k : i32, lid : u32) -> vec2<f32> {
  var m = 0.0;
  var s = 0.0;
  var t = 0.0;
  for (var c = i32(lid); c < k; c = c + ${wg}) {
    if (table[c] == 0.0) { continue; }
    let z = capped(logits[base + c]);
    if (s == 0.0) { m = z; s = 1.0; }
    else if (z > m) { s = s * exp(m - z) + 1.0; m = z; }
    else { s = s + exp(z - m); }
    t = t + table[2 * k + c] * z;
  }
  ms[lid] = m;
  ss[lid] = s;
  ts[lid] = t;
  ${wgslTreeReduce(wg, (i, j) => `merge(${i}, ${j}); ts[${i}] = ts[${i}] + ts[${j}];`)}
  let out = vec2<f32>(ms[0] + log(ss[0]), ts[0]);
  workgroupBarrier(); // every thread has read the result before the arrays are used again
  return out;
}
`;
}

/**
 * `struct RowTerms` and `fn rowTerms(base, k, y, lse, t) -> RowTerms`: the terms of a row whose label `y` is
 * a valid class (the caller handles ignored and invalid rows), without the row's weight r: w_y·(lse − z′_y),
 * Σ_c v_c·(lse − z′_c) (non-target: without the target's), Λ and w_y.
 */
export function wgslRowTerms(src: WgslRowSource): string {
  const p = src.scalars;
  return `
struct RowTerms { nll : f32, smoothing : f32, lambda : f32, wy : f32 };
fn rowTerms(base : i32, k : i32, y : i32, lse : f32, t : f32) -> RowTerms {
  let zy = capped(logits[base + y]);
  let wy = table[k + y];
  let vy = table[2 * k + y];
  var v = ${p}.sumV;
  var smoothing = lse * v - t;
  if (${src.nonTarget}) { v = v - vy; smoothing = smoothing - vy * (lse - zy); }
  return RowTerms(wy * (lse - zy), smoothing, (1.0 - ${p}.eps) * wy + ${p}.eps * v, wy);
}
`;
}

/**
 * `fn rowFactors(scale, zScale, r, lambda, lse) -> vec2<f32>`: the gradient's row factors (s, a) for an
 * upstream gradient already folded into `scale` and `zScale`.
 */
export function wgslRowFactors(src: WgslRowSource): string {
  return `
fn rowFactors(scale : f32, zScale : f32, r : f32, lambda : f32, lse : f32) -> vec2<f32> {
  let a = scale * r;
  return vec2<f32>(a * lambda + zScale * 2.0 * ${src.scalars}.zeta * r * lse, a);
}
`;
}

/**
 * `fn gradientAt(z, c, k, y, f, lse) -> f32`: dL/dz of the raw logit `z` of class `c` in a row of label `y`
 * with factors f = (s, a), through the soft cap. Masked classes and rows without weight get exactly 0.
 */
export function wgslGradientAt(src: WgslRowSource): string {
  const p = src.scalars;
  const cap =
    src.softcap === false
      ? ''
      : `if (${p}.softcap != 0.0) { let u = zc / ${p}.softcap; d = d * (1.0 - u * u); }`;
  return `
fn gradientAt(z : f32, c : i32, k : i32, y : i32, f : vec2<f32>, lse : f32) -> f32 {
  if (table[c] == 0.0 || (f.x == 0.0 && f.y == 0.0)) { return 0.0; }
  let zc = capped(z);
  var g = ${p}.eps * table[2 * k + c];
  if (c == y) { g = (1.0 - ${p}.eps) * table[k + c] + select(g, 0.0, ${src.nonTarget}); }
  var d = f.x * exp(zc - lse) - f.y * g;
  ${cap}
  return d;
}
`;
}

/**
 * `fn scaleOf(total) -> f32`: the factor of a reduced sum: 1/normalizer when there is one (`normalizer` > 0),
 * 1 unless the reduction is `mean` (`notMean`, a WGSL bool expression), else 1/total — 0 for an
 * all-ignored batch (loss 0, gradient 0, never NaN); a NaN total stays NaN.
 */
export function wgslScaleOf(src: WgslRowSource, notMean: string): string {
  const p = src.scalars;
  return `
fn scaleOf(total : f32) -> f32 {
  if (${p}.normalizer > 0.0) { return 1.0 / ${p}.normalizer; }
  if (${notMean}) { return 1.0; }
  if (total == 0.0) { return 0.0; }
  return 1.0 / total;
}
`;
}
