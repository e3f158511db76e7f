// The op's two WGSL programs for TF.js's webgpu backend (run by `backend.runWebGPUProgram`, which adds the
// input bindings `logits`, `labels`, … as storage arrays, `result`, the `uniforms` block and `main`'s caller):
//   rowTerms  one workgroup per row: max, Σ exp and Σ v·z′ reduced in workgroup memory, then the row's terms;
//   gradient  one thread per logit: dL/dz from the row's coefficients, through the soft cap.
// The programs are plain objects of the WebGPUProgram shape, so this file imports nothing from the backend.
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
}

const UNIFORMS = 'classes : i32, rows : i32, eps : f32, sumV : f32, ignoreIndex : f32, softcap : f32,';

/** The uniform values of {@link UNIFORMS}, for runWebGPUProgram. */
export function wgslUniforms(s: WgslScalars): { type: 'int32' | 'float32'; data: number[] }[] {
  return [
    { type: 'int32', data: [s.classes] },
    { type: 'int32', data: [s.rows] },
    { type: 'float32', data: [s.eps] },
    { type: 'float32', data: [s.sumV] },
    { type: 'float32', data: [s.ignoreIndex] },
    { type: 'float32', data: [s.softcap] },
  ];
}

/** z′ = c·tanh(z/c) written with exp(−2|z|/c) ≤ 1, so that no intermediate overflows. */
function cap(softcap: boolean): string {
  return softcap
    ? `fn capped(z : f32) -> f32 {
         let c = uniforms.softcap;
         let e = exp(-2.0 * abs(z) / c);
         return sign(z) * c * (1.0 - e) / (1.0 + e);
       }`
    : 'fn capped(z : f32) -> f32 { return z; }';
}

/** The WGSL of {@link rowTermsProgram}. */
function rowTermsCode(nonTarget: boolean, softcap: boolean): string {
  const wg = ROW_WORKGROUP;
  return `
      var<workgroup> ms : array<f32, ${wg}>;
      var<workgroup> ss : array<f32, ${wg}>;
      var<workgroup> ts : array<f32, ${wg}>;
      ${cap(softcap)}
      // (m, s) of two parts of a row merged: s = 0 marks a part without allowed classes.
      fn merge(i : u32, j : u32) {
        if (ss[j] == 0.0) { return; }
        if (ss[i] == 0.0) { ms[i] = ms[j]; ss[i] = ss[j]; return; }
        let m = max(ms[i], ms[j]);
        ss[i] = ss[i] * exp(ms[i] - m) + ss[j] * exp(ms[j] - m);
        ms[i] = m;
      }
      fn main(index : i32) {
        // workgroups past the last row (a dispatch split in 2D) work on the last row and write nothing:
        // every thread reaches the barriers (workgroupBarrier needs uniform control flow)
        let id = i32(workgroupId.x + workgroupId.y * numWorkgroups.x +
                     workgroupId.z * numWorkgroups.x * numWorkgroups.y);
        let row = min(id, uniforms.rows - 1);
        let k = uniforms.classes;
        let base = row * k;
        let lid = localId.x;
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
        workgroupBarrier();
        for (var half = ${wg / 2}u; half > 0u; half = half / 2u) {
          if (lid < half) {
            merge(lid, lid + half);
            ts[lid] = ts[lid] + ts[lid + half];
          }
          workgroupBarrier();
        }
        if (lid != 0u || id != row) { return; }
        let lse = ms[0] + log(ss[0]);
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
        let zy = capped(logits[base + y]);
        let wy = table[k + y];
        let vy = table[2 * k + y];
        let r = sampleWeight[row] * table[3 * k + y];
        var v = uniforms.sumV;
        var smoothing = lse * v - ts[0];
        ${nonTarget ? 'v = v - vy; smoothing = smoothing - vy * (lse - zy);' : ''}
        result[out + 1] = r * wy * (lse - zy);
        result[out + 2] = r * smoothing;
        result[out + 3] = (1.0 - uniforms.eps) * wy + uniforms.eps * v;
        result[out + 4] = wy;
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
      ${cap(softcap)}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let k = uniforms.classes;
        let row = index / k;
        let c = index - row * k;
        let qScale = coef[row * 3];
        let a = coef[row * 3 + 1];
        // masked classes and rows without weight (ignored ones) get exactly 0, whatever their logits
        if (table[c] == 0.0 || (qScale == 0.0 && a == 0.0)) { setOutputAtIndex(index, 0.0); return; }
        let z = capped(logits[index]);
        let q = exp(z - coef[row * 3 + 2]);
        var g = uniforms.eps * table[2 * k + c];
        if (f32(labels[row]) == f32(c)) {
          g = (1.0 - uniforms.eps) * table[k + c]${nonTarget ? '' : ' + g'};
        }
        var d = qScale * q - a * g;
        ${softcap ? 'let u = z / uniforms.softcap; d = d * (1.0 - u * u);' : ''}
        setOutputAtIndex(index, d);
      }`,
  };
}
