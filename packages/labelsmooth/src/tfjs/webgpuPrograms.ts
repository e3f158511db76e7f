// The op's WGSL programs for TF.js's webgpu backend, their row pass from the generator shared with
// labelsmooth/webgpu (gpu/wgsl.ts). Run by `backend.runWebGPUProgram`, which adds the input bindings
// `logits`, `labels`, … as storage arrays, `result`, the `uniforms` block and `main`'s caller:
//   rowTerms  one workgroup per row: max, Σ exp and Σ v·z′ reduced in workgroup memory, then the row's terms;
//   gradient  one thread per logit: dL/dz from the row's coefficients, through the soft cap.
// The programs are plain objects of the WebGPUProgram shape, so this file imports nothing from the backend.
import { type WgslRowSource, wgslCapped, wgslGradientAt, wgslRowStats, wgslRowTerms } from '../gpu/wgsl.js';
import { ROW_TERM_COUNT } from './gpuTerms.js';

/** Threads per row of the rowTerms program (the default maxComputeWorkgroupSizeX is 256). */
const ROW_WORKGROUP = 256;
/** Threads per workgroup of the gradient program. */
const GRADIENT_WORKGROUP = 64;

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

/** Scalars of both programs, in the order of their `uniforms` declaration. */
export interface WgslScalars {
  classes: number;
  rows: number;
  eps: number;
  sumV: number;
  ignoreIndex: number;
  softcap: number;
  /** ζ of the z-loss (0 without). */
  zeta: number;
}

const UNIFORMS =
  'classes : i32, rows : i32, eps : f32, sumV : f32, ignoreIndex : f32, softcap : f32, zeta : f32,';

/** The uniform values of {@link UNIFORMS}, for runWebGPUProgram. */
export function wgslUniforms(s: WgslScalars): { type: 'int32' | 'float32'; data: number[] }[] {
  return [
    { type: 'int32', data: [s.classes] },
    { type: 'int32', data: [s.rows] },
    { type: 'float32', data: [s.eps] },
    { type: 'float32', data: [s.sumV] },
    { type: 'float32', data: [s.ignoreIndex] },
    { type: 'float32', data: [s.softcap] },
    { type: 'float32', data: [s.zeta] },
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
        result[out + 1] = r * rt.nll;
        result[out + 2] = r * rt.smoothing;
        result[out + 3] = rt.gammaSum;
        result[out + 4] = rt.wy;
        result[out + 5] = 1.0;
        result[out + 6] = r * lse * lse;
        result[out + 7] = r;
      }`;
}

/**
 * [N, ROW_TERM_COUNT] terms of every row (see gpuTerms.ts): inputs logits [N, K], labels [N], table
 * [4, K], sampleWeight [N]. An invalid label (not an integer in [0, K), or a masked class) gives NaN terms.
 */
export function rowTermsProgram(rows: number, nonTarget: boolean, softcap: boolean): WgslProgram {
  const wg = ROW_WORKGROUP;
  return {
    outputShape: [rows, ROW_TERM_COUNT],
    shaderKey: `labelsmooth_rowterms_${nonTarget}_${softcap}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [rows, 1, 1],
    workgroupSize: [wg, 1, 1],
    variableNames: ['logits', 'labels', 'table', 'sampleWeight'],
    uniforms: UNIFORMS,
    getUserCode: () => rowTermsCode(nonTarget, softcap),
  };
}

/**
 * dL/dz [N, K] = (sᵢ·q_c − aᵢ·λ_c)·(1 − (z′_c/c)²), λ_c = ε·v_c + [c = yᵢ]·(1−ε)·w_c (non-target: the target
 * gets (1−ε)·w_y only); inputs logits [N, K], labels [N], table [4, K], coef [N, 3] = (s, a, lse).
 */
export function gradientProgram(
  rows: number,
  classes: number,
  nonTarget: boolean,
  softcap: boolean,
): WgslProgram {
  const size = rows * classes;
  const src = source(nonTarget, softcap, GRADIENT_WORKGROUP);
  return {
    outputShape: [rows, classes],
    shaderKey: `labelsmooth_gradient_${nonTarget}_${softcap}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(size / GRADIENT_WORKGROUP), 1, 1],
    workgroupSize: [GRADIENT_WORKGROUP, 1, 1],
    variableNames: ['logits', 'labels', 'table', 'coef'],
    uniforms: UNIFORMS,
    size: true,
    getUserCode: () => `
      ${wgslCapped(src)}
      ${wgslGradientAt(src)}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let k = uniforms.classes;
        let row = index / k;
        let f = vec2<f32>(coef[row * 3], coef[row * 3 + 1]);
        let label = f32(labels[row]);
        // an ignored or invalid label is never a class index here: its row's factors are 0 or NaN
        let y = select(-1, i32(label), label >= 0.0 && label < f32(k));
        setOutputAtIndex(index, gradientAt(logits[index], index - row * k, k, y, f, coef[row * 3 + 2]));
      }`,
  };
}
