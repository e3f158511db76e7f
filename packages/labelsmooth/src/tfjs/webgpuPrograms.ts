// The op's WGSL programs for TF.js's webgpu backend, their row pass from the generator shared with
// labelsmooth/webgpu (gpu/wgsl.ts). Run by `backend.runWebGPUProgram`, which adds the input bindings
// `logits`, `labels`, … as storage arrays, `result`, the `uniforms` block and `main`'s caller:
//   rowTerms  one workgroup per row: max, Σ exp and Σ v·z′ reduced in workgroup memory, then the row's terms;
//   reduce    the totals: one workgroup over the rows' terms (scalar reductions), or one thread per row;
//   gradient  one thread per logit: dL/dz from the row's terms, the totals and dy, through the soft cap —
//             the whole backward pass.
// The programs are plain objects of the WebGPUProgram shape, so this file imports nothing from the backend.
import {
  type WgslRowSource,
  wgslCapped,
  wgslGradientAt,
  wgslRowFactors,
  wgslRowStats,
  wgslRowTerms,
  wgslScaleOf,
  wgslTreeReduce,
} from '../gpu/wgsl.js';
import { type GpuScalars, ROW_TERM_COUNT, TERM, TOTAL } from './gpuTerms.js';

/** Threads per row of the rowTerms program, and of the reduce program (maxComputeWorkgroupSizeX ≥ 256). */
const ROW_WORKGROUP = 256;
/** Threads per workgroup of the elementwise programs. */
const ELEMENT_WORKGROUP = 64;

/** The WebGPUProgram fields these programs set (the backend's interface, without importing it). */
export interface WgslProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableNames: string[];
  uniforms: string;
  size?: boolean;
  getUserCode: () => string;
}

/** Scalars of the programs; {@link wgslUniforms} lays them out in the order of their `uniforms` declaration. */
export interface WgslScalars extends GpuScalars {
  classes: number;
  rows: number;
  /** REDUCTION_CODE. */
  reduction: number;
}

const UNIFORMS =
  'classes : i32, rows : i32, eps : f32, sumV : f32, ignoreIndex : f32, softcap : f32, zeta : f32, ' +
  'normalizer : f32, reduction : i32,';

/** The uniform values of {@link UNIFORMS}, for runWebGPUProgram. */
export function wgslUniforms(s: WgslScalars): { type: 'int32' | 'float32'; data: number[] }[] {
  const f = (v: number) => ({ type: 'float32' as const, data: [v] });
  const i = (v: number) => ({ type: 'int32' as const, data: [v] });
  return [
    i(s.classes),
    i(s.rows),
    f(s.eps),
    f(s.sumV),
    f(s.ignoreIndex),
    f(s.softcap),
    f(s.zeta),
    f(s.normalizer),
    i(s.reduction),
  ];
}

/** The row pass's source on this backend: scalars in `uniforms`, soft cap and noise compiled in. */
function source(nonTarget: boolean, softcap: boolean, workgroup: number): WgslRowSource {
  return { scalars: 'uniforms', workgroup, softcap, nonTarget: String(nonTarget) };
}

/** The WGSL of {@link rowTermsProgram}. */
function rowTermsCode(nonTarget: boolean, softcap: boolean): string {
  const src = source(nonTarget, softcap, ROW_WORKGROUP);
  return `
      ${wgslRowStats(src)}
      ${wgslRowTerms(src)}
      fn main(index : i32) {
        // workgroups past the last row (a dispatch split in 2D) work on the last row and write nothing:
        // every thread reaches the barriers (workgroupBarrier needs uniform control flow)
        let id = i32(workgroupId.x + workgroupId.y * numWorkgroups.x +
                     workgroupId.z * numWorkgroups.x * numWorkgroups.y);
        let row = min(id, uniforms.rows - 1);
        let k = uniforms.classes;
        let base = row * k;
        let stats = rowStats(base, k, localId.x);
        if (localId.x != 0u || id != row) { return; }
        let lse = stats.x;
        let out = row * ${ROW_TERM_COUNT};
        for (var j = 1; j < ${ROW_TERM_COUNT}; j = j + 1) { result[out + j] = 0.0; }
        result[out] = lse;
        let label = f32(labels[row]);
        if (label == uniforms.ignoreIndex) { return; }
        if (label < 0.0 || label >= f32(k) || floor(label) != label || table[i32(label)] == 0.0) {
          for (var j = 0; j < ${ROW_TERM_COUNT}; j = j + 1) { result[out + j] = uniforms.NAN; }
          return;
        }
        let y = i32(label);
        let r = sampleWeight[row] * table[3 * k + y];
        let rt = rowTerms(base, k, y, lse, stats.y);
        result[out + ${TERM.nll}] = r * rt.nll;
        result[out + ${TERM.smoothing}] = r * rt.smoothing;
        result[out + ${TERM.lambda}] = rt.lambda;
        result[out + ${TERM.denominator}] = rt.wy;
        result[out + ${TERM.counted}] = 1.0;
        result[out + ${TERM.zLoss}] = r * lse * lse;
        result[out + ${TERM.weight}] = r;
      }`;
}

/**
 * [N, ROW_TERM_COUNT] terms of every row (see gpuTerms.ts): inputs logits [N, K], labels [N], table
 * [4, K], sampleWeight [N]. An invalid label (not an integer in [0, K), or a masked class) gives NaN terms.
 */
export function rowTermsProgram(rows: number, nonTarget: boolean, softcap: boolean): WgslProgram {
  return {
    outputShape: [rows, ROW_TERM_COUNT],
    shaderKey: `labelsmooth_rowterms_${nonTarget}_${softcap}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [rows, 1, 1],
    workgroupSize: [ROW_WORKGROUP, 1, 1],
    variableNames: ['logits', 'labels', 'table', 'sampleWeight'],
    uniforms: UNIFORMS,
    getUserCode: () => rowTermsCode(nonTarget, softcap),
  };
}

/** The term `j` of row `i`. */
const term = (i: string, j: number) => `terms[${i} * ${ROW_TERM_COUNT} + ${j}]`;

/** The WGSL of the scalar {@link reduceProgram}: column sums in workgroup memory, then the totals. */
function totalsCode(): string {
  const wg = ROW_WORKGROUP;
  const src = source(false, false, wg);
  return `
      ${wgslScaleOf(src, 'uniforms.reduction != 0')}
      // per thread: Σ r·nll, Σ r·smoothing, Σ w[y], the count; and Σ r·lse²
      var<workgroup> sums : array<vec4<f32>, ${wg}>;
      var<workgroup> zs : array<f32, ${wg}>;
      fn main(index : i32) {
        let lid = localId.x;
        var acc = vec4<f32>(0.0);
        var z = 0.0;
        for (var i = i32(lid); i < uniforms.rows; i = i + ${wg}) {
          acc = acc + vec4<f32>(${term('i', TERM.nll)}, ${term('i', TERM.smoothing)},
                                ${term('i', TERM.denominator)}, ${term('i', TERM.counted)});
          z = z + ${term('i', TERM.zLoss)};
        }
        sums[lid] = acc;
        zs[lid] = z;
        ${wgslTreeReduce(wg, (i, j) => `sums[${i}] = sums[${i}] + sums[${j}]; zs[${i}] = zs[${i}] + zs[${j}];`)}
        if (lid != 0u) { return; }
        let total = sums[0];
        let scale = scaleOf(total.z);
        let zScale = scaleOf(total.w);
        let zLoss = uniforms.zeta * zs[0] * zScale;
        result[${TOTAL.loss}] = ((1.0 - uniforms.eps) * total.x + uniforms.eps * total.y) * scale + zLoss;
        result[${TOTAL.zLoss}] = zLoss;
        result[${TOTAL.scale}] = scale;
        result[${TOTAL.zScale}] = zScale;
      }`;
}

/** The WGSL of {@link reduceProgram} for `reduction: 'none'`: each row's loss and its z-loss part. */
function perRowCode(): string {
  return `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let i = index % uniforms.rows;
        let z = uniforms.zeta * ${term('i', TERM.zLoss)};
        let ce = (1.0 - uniforms.eps) * ${term('i', TERM.nll)} + uniforms.eps * ${term('i', TERM.smoothing)};
        setOutputAtIndex(index, select(ce + z, z, index >= uniforms.rows));
      }`;
}

/**
 * The totals from the terms [N, ROW_TERM_COUNT] (input `terms`): [4] (TOTAL) for a scalar reduction, one
 * workgroup; [2, N] (each row's loss, its z-loss part) for `reduction: 'none'`.
 */
export function reduceProgram(rows: number, perRow: boolean): WgslProgram {
  const size = 2 * rows;
  return {
    outputShape: perRow ? [2, rows] : [4],
    shaderKey: `labelsmooth_reduce_${perRow}`,
    dispatchLayout: { x: perRow ? [0, 1] : [0] },
    dispatch: perRow ? [Math.ceil(size / ELEMENT_WORKGROUP), 1, 1] : [1, 1, 1],
    workgroupSize: [perRow ? ELEMENT_WORKGROUP : ROW_WORKGROUP, 1, 1],
    variableNames: ['terms'],
    uniforms: UNIFORMS,
    size: perRow,
    getUserCode: perRow ? perRowCode : totalsCode,
  };
}

/**
 * dL/dz [N, K] = (sᵢ·q_c − aᵢ·λ_c)·(1 − (z′_c/c)²) (gpu/wgsl.ts), the factors made per row from its terms,
 * the totals' scale and zScale (1 with `reduction: 'none'`) and dy ([1], or [N] per row); inputs logits
 * [N, K], labels [N], table [4, K], terms [N, ROW_TERM_COUNT], totals, dy.
 */
export function gradientProgram(
  rows: number,
  classes: number,
  nonTarget: boolean,
  softcap: boolean,
  perRow: boolean,
): WgslProgram {
  const size = rows * classes;
  const src = source(nonTarget, softcap, ELEMENT_WORKGROUP);
  return {
    outputShape: [rows, classes],
    shaderKey: `labelsmooth_gradient_${nonTarget}_${softcap}_${perRow}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(size / ELEMENT_WORKGROUP), 1, 1],
    workgroupSize: [ELEMENT_WORKGROUP, 1, 1],
    variableNames: ['logits', 'labels', 'table', 'terms', 'totals', 'dy'],
    uniforms: UNIFORMS,
    size: true,
    getUserCode: () => `
      ${wgslCapped(src)}
      ${wgslRowFactors(src)}
      ${wgslGradientAt(src)}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let k = uniforms.classes;
        let row = index / k;
        // per row, the totals are not read; a phony use keeps their binding in the layout TF.js binds
        ${perRow ? '_ = totals[0];' : ''}
        let up = dy[${perRow ? 'row' : '0'}];
        let scale = ${perRow ? '1.0' : `totals[${TOTAL.scale}]`};
        let zScale = ${perRow ? '1.0' : `totals[${TOTAL.zScale}]`};
        let lse = ${term('row', TERM.lse)};
        let f = rowFactors(up * scale, up * zScale, ${term('row', TERM.weight)}, ${term('row', TERM.lambda)}, lse);
        let label = f32(labels[row]);
        // an ignored or invalid label is never a class index here: its row's factors are 0 or NaN
        let y = select(-1, i32(label), label >= 0.0 && label < f32(k));
        setOutputAtIndex(index, gradientAt(logits[index], index - row * k, k, y, f, lse));
      }`,
  };
}
