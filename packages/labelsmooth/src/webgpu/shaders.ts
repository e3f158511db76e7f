// The three WGSL passes of labelsmooth/webgpu, one bind group each (layouts in pipelines.ts):
//   denominators  one workgroup over the labels: Σ w[y] and the count of rows that are not ignored (the
//                 scales of the reduction), and the first invalid label;
//   rows          one workgroup per row: max, Σ exp and Σ v·z′ reduced in workgroup memory, the row's terms,
//                 then — the scale being known already — its gradient, fused in the same pass over the row;
//   reduce        one workgroup over the rows' terms: the reported scalars.
// The row pass is written by the shared generator (gpu/wgsl.ts, notation there), as TF.js's webgpu kernels'.

import {
  type WgslRowSource,
  wgslGradientAt,
  wgslRowFactors,
  wgslRowStats,
  wgslRowTerms,
  wgslScaleOf,
  wgslTreeReduce,
} from '../gpu/wgsl.js';

/** Threads per workgroup of every pass. */
export const WORKGROUP = 256;

/** The uniform block shared by the passes; its layout is written by paramsBlock (crossEntropy.ts). */
const PARAMS = `
struct Params {
  rows : i32, classes : i32, ignoreIndex : i32, hasIgnore : u32,
  eps : f32, sumV : f32, softcap : f32, zeta : f32,
  reduction : u32, normalizer : f32, nonTarget : u32, hasSampleWeight : u32,
  writeGrad : u32, writeLse : u32, writeRowLoss : u32, rowsPerDimension : u32,
};
// The reported numbers: loss, nll, smoothing, zLoss, denominator, counted rows; first invalid row, its label.
struct Out {
  values : array<f32, 6>,
  invalidRow : i32,
  invalidLabel : i32,
};
@group(0) @binding(0) var<uniform> params : Params;
`;

/** Whether label y of a row is ignored / valid (in range and allowed). */
const LABELS = `
fn ignored(y : i32) -> bool { return params.hasIgnore == 1u && y == params.ignoreIndex; }
fn valid(y : i32) -> bool { return y >= 0 && y < params.classes && table[y] != 0.0; }
`;

/** How the row pass reads its scalars here: from `params`, soft cap and noise known at run time. */
const ROW_SOURCE: WgslRowSource = {
  scalars: 'params',
  workgroup: WORKGROUP,
  softcap: 'runtime',
  nonTarget: 'params.nonTarget == 1u',
};

/** Pass 1: the scales of the reduction and the first invalid label. */
export const DENOMINATORS = `${PARAMS}
@group(0) @binding(1) var<storage, read> labels : array<i32>;
@group(0) @binding(2) var<storage, read> table : array<f32>;
// aux: [scale, zScale, Σ w[y], count] then the sample weights (N, when given)
@group(0) @binding(3) var<storage, read_write> aux : array<f32>;
@group(0) @binding(4) var<storage, read_write> out : Out;
${LABELS}
var<workgroup> dens : array<f32, ${WORKGROUP}>;
var<workgroup> counts : array<f32, ${WORKGROUP}>;
var<workgroup> firsts : array<i32, ${WORKGROUP}>;

${wgslScaleOf(ROW_SOURCE, 'params.reduction != 0u')}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid : u32) {
  var den = 0.0;
  var count = 0.0;
  var first = params.rows;
  for (var i = i32(lid); i < params.rows; i = i + ${WORKGROUP}) {
    let y = labels[i];
    if (ignored(y)) { continue; }
    if (!valid(y)) { first = min(first, i); continue; }
    den = den + table[params.classes + y];
    count = count + 1.0;
  }
  dens[lid] = den;
  counts[lid] = count;
  firsts[lid] = first;
  ${wgslTreeReduce(
    WORKGROUP,
    (i, j) =>
      `dens[${i}] = dens[${i}] + dens[${j}]; counts[${i}] = counts[${i}] + counts[${j}]; firsts[${i}] = min(firsts[${i}], firsts[${j}]);`,
  )}
  if (lid != 0u) { return; }
  aux[0] = scaleOf(dens[0]);
  aux[1] = scaleOf(counts[0]);
  aux[2] = dens[0];
  aux[3] = counts[0];
  out.invalidRow = select(-1, firsts[0], firsts[0] < params.rows);
  out.invalidLabel = select(0, labels[min(firsts[0], params.rows - 1)], firsts[0] < params.rows);
}
`;

/** Pass 2: one workgroup per row — terms, lse, the row's loss and its gradient. */
export const ROWS = `${PARAMS}
@group(0) @binding(1) var<storage, read> logits : array<f32>;
@group(0) @binding(2) var<storage, read> labels : array<i32>;
@group(0) @binding(3) var<storage, read> table : array<f32>;
@group(0) @binding(4) var<storage, read> aux : array<f32>;
@group(0) @binding(5) var<storage, read_write> terms : array<f32>;
@group(0) @binding(6) var<storage, read_write> grad : array<f32>;
@group(0) @binding(7) var<storage, read_write> lseOut : array<f32>;
@group(0) @binding(8) var<storage, read_write> rowLoss : array<f32>;
${LABELS}
${wgslRowStats(ROW_SOURCE)}
${wgslRowTerms(ROW_SOURCE)}
${wgslRowFactors(ROW_SOURCE)}
${wgslGradientAt(ROW_SOURCE)}
// the row's gradient factors (s, a), from thread 0
var<workgroup> factors : vec2<f32>;

// thread 0: the row's terms [r·nll, r·smoothing, r·lse², r], its loss, lse and gradient factors
fn finish(row : i32, lse : f32, t : f32) {
  let k = params.classes;
  let y = labels[row];
  let out = row * 4;
  factors = vec2<f32>(0.0);
  terms[out] = 0.0; terms[out + 1] = 0.0; terms[out + 2] = 0.0; terms[out + 3] = 0.0;
  var loss = 0.0;
  if (!ignored(y) && valid(y)) {
    let rt = rowTerms(row * k, k, y, lse, t);
    var r = table[3 * k + y];
    if (params.hasSampleWeight == 1u) { r = r * aux[4 + row]; }
    terms[out] = r * rt.nll;
    terms[out + 1] = r * rt.smoothing;
    terms[out + 2] = r * lse * lse;
    terms[out + 3] = r;
    loss = (1.0 - params.eps) * r * rt.nll + params.eps * r * rt.smoothing + params.zeta * r * lse * lse;
    let none = params.reduction == 2u;
    factors = rowFactors(select(aux[0], 1.0, none), select(aux[1], 1.0, none), r, rt.lambda, lse);
  }
  if (params.writeLse == 1u) { lseOut[row] = lse; }
  if (params.writeRowLoss == 1u) { rowLoss[row] = loss; }
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid : u32, @builtin(workgroup_id) wid : vec3<u32>) {
  // workgroups past the last row (a dispatch split in 2D) redo the last row and write nothing: every
  // thread reaches the barriers, which need uniform control flow
  let id = i32(wid.x + wid.y * params.rowsPerDimension);
  let row = min(id, params.rows - 1);
  let k = params.classes;
  let base = row * k;
  let stats = rowStats(base, k, lid);
  if (lid == 0u && id == row) { finish(row, stats.x, stats.y); }
  workgroupBarrier();
  if (params.writeGrad == 0u || id != row) { return; }
  let f = factors;
  let y = labels[row];
  for (var c = i32(lid); c < k; c = c + ${WORKGROUP}) {
    grad[base + c] = gradientAt(logits[base + c], c, k, y, f, stats.x);
  }
}
`;

/** Pass 3: the reported scalars from the rows' terms. */
export const REDUCE = `${PARAMS}
@group(0) @binding(1) var<storage, read> terms : array<f32>;
@group(0) @binding(2) var<storage, read> aux : array<f32>;
@group(0) @binding(3) var<storage, read_write> out : Out;
var<workgroup> sums : array<vec3<f32>, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid : u32) {
  var acc = vec3<f32>(0.0);
  for (var i = i32(lid); i < params.rows; i = i + ${WORKGROUP}) {
    acc = acc + vec3<f32>(terms[i * 4], terms[i * 4 + 1], terms[i * 4 + 2]);
  }
  sums[lid] = acc;
  ${wgslTreeReduce(WORKGROUP, (i, j) => `sums[${i}] = sums[${i}] + sums[${j}];`)}
  if (lid != 0u) { return; }
  // 'none' reports the sums over rows (the rows themselves are in rowLoss)
  let scale = select(aux[0], 1.0, params.reduction == 2u);
  let zScale = select(aux[1], 1.0, params.reduction == 2u);
  let total = sums[0];
  let zLoss = params.zeta * total.z * zScale;
  out.values[0] = ((1.0 - params.eps) * total.x + params.eps * total.y) * scale + zLoss;
  out.values[1] = total.x * scale;
  out.values[2] = total.y * scale;
  out.values[3] = zLoss;
  out.values[4] = aux[2];
  out.values[5] = aux[3];
}
`;
