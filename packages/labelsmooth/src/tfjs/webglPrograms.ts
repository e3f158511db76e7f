// The op's GLSL programs for TF.js's webgl backend (run by `backend.runWebGLProgram`, which adds the
// samplers `getLogits(row, c)`, …, `getOutputCoords()`, `setOutput` and the `NAN` uniform). A fragment
// writes one value, so the row statistics take two programs (each fragment of rowSums runs one loop over
// its row), then rowTerms finishes each row without a loop; gradient writes one logit per fragment.
// Plain objects of the GPGPUProgram shape: nothing is imported from the backend.
import { ROW_TERM_COUNT } from './gpuTerms.js';

/** The GPGPUProgram fields these programs set. */
export interface GlslProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms: { name: string; type: 'float' }[];
}

/** Scalars of the programs, in the order of {@link UNIFORMS}. */
export interface GlslScalars {
  eps: number;
  sumV: number;
  ignoreIndex: number;
  softcap: number;
}

const UNIFORMS: GlslProgram['customUniforms'] = [
  { name: 'lsEps', type: 'float' },
  { name: 'lsSumV', type: 'float' },
  { name: 'lsIgnoreIndex', type: 'float' },
  { name: 'lsSoftcap', type: 'float' },
];

/** The custom uniform values of {@link UNIFORMS}, for runWebGLProgram. */
export function glslUniforms(s: GlslScalars): number[][] {
  return [[s.eps], [s.sumV], [s.ignoreIndex], [s.softcap]];
}

/** z′ = c·tanh(z/c) with exp(−2|z|/c) ≤ 1 (GLSL's tanh may overflow to NaN for large arguments). */
function cap(softcap: boolean): string {
  return softcap
    ? `float capped(float z) {
         float e = exp(-2.0 * abs(z) / lsSoftcap);
         return sign(z) * lsSoftcap * (1.0 - e) / (1.0 + e);
       }`
    : 'float capped(float z) { return z; }';
}

/** [N, 2]: lse and Σ_c v_c·z′_c of each row (inputs logits [N, K], table [4, K]). */
export function rowSumsProgram(rows: number, classes: number, softcap: boolean): GlslProgram {
  return {
    variableNames: ['logits', 'table'],
    outputShape: [rows, 2],
    customUniforms: UNIFORMS,
    userCode: `
      ${cap(softcap)}
      void main() {
        ivec2 rc = getOutputCoords();
        int row = rc.x;
        bool lse = rc.y == 0;
        float m = 0.0;
        float s = 0.0;
        float t = 0.0;
        for (int c = 0; c < ${classes}; c++) {
          if (getTable(0, c) == 0.0) continue;
          float z = capped(getLogits(row, c));
          if (!lse) { t += getTable(2, c) * z; continue; }
          if (s == 0.0) { m = z; s = 1.0; }
          else if (z > m) { s = s * exp(m - z) + 1.0; m = z; }
          else { s += exp(z - m); }
        }
        setOutput(lse ? m + log(s) : t);
      }`,
  };
}

/** [N, ROW_TERM_COUNT] terms (gpuTerms.ts); inputs logits, labels [N], table, sampleWeight [N], sums [N, 2]. */
export function rowTermsProgram(
  rows: number,
  classes: number,
  nonTarget: boolean,
  softcap: boolean,
): GlslProgram {
  return {
    variableNames: ['logits', 'labels', 'table', 'sampleWeight', 'sums'],
    outputShape: [rows, ROW_TERM_COUNT],
    customUniforms: UNIFORMS,
    userCode: `
      ${cap(softcap)}
      void main() {
        ivec2 rc = getOutputCoords();
        int row = rc.x;
        int j = rc.y;
        float lse = getSums(row, 0);
        if (j == 0) { setOutput(lse); return; }
        float label = getLabels(row);
        if (label == lsIgnoreIndex) { setOutput(0.0); return; }
        if (label < 0.0 || label >= ${classes}.0 || floor(label) != label) { setOutput(NAN); return; }
        int y = int(label);
        if (getTable(0, y) == 0.0) { setOutput(NAN); return; }
        float zy = capped(getLogits(row, y));
        float wy = getTable(1, y);
        float vy = getTable(2, y);
        float r = getSampleWeight(row) * getTable(3, y);
        float v = lsSumV;
        float smoothing = lse * v - getSums(row, 1);
        ${nonTarget ? 'v -= vy; smoothing -= vy * (lse - zy);' : ''}
        float term = r;
        if (j == 1) term = r * wy * (lse - zy);
        else if (j == 2) term = r * smoothing;
        else if (j == 3) term = (1.0 - lsEps) * wy + lsEps * v;
        else if (j == 4) term = wy;
        else if (j == 5) term = 1.0;
        else if (j == 6) term = r * lse * lse;
        setOutput(term);
      }`,
  };
}

/** dL/dz [N, K] as in webgpuPrograms.ts; inputs logits, labels, table, coef [N, 3] = (s, a, lse). */
export function gradientProgram(
  rows: number,
  classes: number,
  nonTarget: boolean,
  softcap: boolean,
): GlslProgram {
  return {
    variableNames: ['logits', 'labels', 'table', 'coef'],
    outputShape: [rows, classes],
    customUniforms: UNIFORMS,
    userCode: `
      ${cap(softcap)}
      void main() {
        ivec2 rc = getOutputCoords();
        int row = rc.x;
        int c = rc.y;
        float qScale = getCoef(row, 0);
        float a = getCoef(row, 1);
        if (getTable(0, c) == 0.0 || (qScale == 0.0 && a == 0.0)) { setOutput(0.0); return; }
        float z = capped(getLogits(row, c));
        float q = exp(z - getCoef(row, 2));
        float g = lsEps * getTable(2, c);
        if (getLabels(row) == float(c)) g = (1.0 - lsEps) * getTable(1, c)${nonTarget ? '' : ' + g'};
        float d = qScale * q - a * g;
        ${softcap ? 'float u = z / lsSoftcap; d *= 1.0 - u * u;' : ''}
        setOutput(d);
      }`,
  };
}
