// The op's GLSL programs for TF.js's webgl backend (run by `backend.runWebGLProgram`, which adds the
// samplers `getLogits(row, c)`, …, `getOutputCoords()`, `setOutput` and the `NAN` uniform). A fragment
// writes one value, so a row's statistics are reduced in two stages: blockSums gives each block of
// BLOCK classes its own fragments (so no fragment walks a whole row of a large vocabulary), rowSums merges
// the blocks of a row; rowTerms then finishes each row without a loop, reduce makes the totals, and
// gradient — the whole backward pass — writes one logit per fragment.
// Plain objects of the GPGPUProgram shape: nothing is imported from the backend.
import { type GpuScalars, ROW_TERM_COUNT, TERM, TOTAL } from './gpuTerms.js';

/** Classes per block of the first stage; rows of at most BLOCK classes take one stage. */
export const BLOCK = 256;

/** The GPGPUProgram fields these programs set. */
export interface GlslProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms: { name: string; type: 'float' }[];
}

const UNIFORMS: GlslProgram['customUniforms'] = [
  { name: 'lsEps', type: 'float' },
  { name: 'lsSumV', type: 'float' },
  { name: 'lsIgnoreIndex', type: 'float' },
  { name: 'lsSoftcap', type: 'float' },
  { name: 'lsZeta', type: 'float' },
  { name: 'lsNormalizer', type: 'float' },
];

/** The custom uniform values of {@link UNIFORMS}, for runWebGLProgram. */
export function glslUniforms(s: GpuScalars): number[][] {
  return [[s.eps], [s.sumV], [s.ignoreIndex], [s.softcap], [s.zeta], [s.normalizer]];
}

/** The blocks of a row of `classes` in the first stage (1: one stage). */
export function blocksOf(classes: number): number {
  return Math.ceil(classes / BLOCK);
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

/** A block without allowed classes (its lse is −∞): no finite float32 lse equals it. */
const EMPTY = '-3.0e38';

/** The loop over classes [from, to) of `row`: lse (m + log s) when `lse`, else Σ v_c·z′_c. */
function rowLoop(from: string, to: string): string {
  return `
        float m = 0.0;
        float s = 0.0;
        float t = 0.0;
        for (int c = ${from}; c < ${to}; c++) {
          if (getTable(0, c) == 0.0) continue;
          float z = capped(getLogits(row, c));
          if (!lse) { t += getTable(2, c) * z; continue; }
          if (s == 0.0) { m = z; s = 1.0; }
          else if (z > m) { s = s * exp(m - z) + 1.0; m = z; }
          else { s += exp(z - m); }
        }`;
}

/**
 * [N, 2·B] of B = {@link blocksOf} blocks: columns j < B the lse of block j's allowed classes (EMPTY
 * without any), columns B + j its Σ_c v_c·z′_c (inputs logits [N, K], table [4, K]).
 */
export function blockSumsProgram(rows: number, classes: number, softcap: boolean): GlslProgram {
  const blocks = blocksOf(classes);
  return {
    variableNames: ['logits', 'table'],
    outputShape: [rows, 2 * blocks],
    customUniforms: UNIFORMS,
    userCode: `
      ${cap(softcap)}
      void main() {
        ivec2 rc = getOutputCoords();
        int row = rc.x;
        bool lse = rc.y < ${blocks};
        int block = lse ? rc.y : rc.y - ${blocks};
        int from = block * ${BLOCK};
        ${rowLoop('from', `min(from + ${BLOCK}, ${classes})`)}
        setOutput(lse ? (s == 0.0 ? ${EMPTY} : m + log(s)) : t);
      }`,
  };
}

/**
 * [N, 2]: lse and Σ_c v_c·z′_c of each row, from the blocks of {@link blockSumsProgram} (input `blocks`),
 * or, for a row of one block, from the logits directly (inputs logits [N, K], table [4, K]).
 */
export function rowSumsProgram(rows: number, classes: number, softcap: boolean): GlslProgram {
  const blocks = blocksOf(classes);
  if (blocks === 1)
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
        ${rowLoop('0', String(classes))}
        setOutput(lse ? m + log(s) : t);
      }`,
    };
  return {
    variableNames: ['blocks'],
    outputShape: [rows, 2],
    customUniforms: UNIFORMS,
    userCode: `
      void main() {
        ivec2 rc = getOutputCoords();
        int row = rc.x;
        if (rc.y == 1) {
          float t = 0.0;
          for (int b = 0; b < ${blocks}; b++) t += getBlocks(row, ${blocks} + b);
          setOutput(t);
          return;
        }
        float m = ${EMPTY};
        for (int b = 0; b < ${blocks}; b++) m = max(m, getBlocks(row, b));
        float s = 0.0;
        for (int b = 0; b < ${blocks}; b++) {
          float l = getBlocks(row, b);
          if (l != ${EMPTY}) s += exp(l - m);
        }
        setOutput(m + log(s));
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
        if (j == ${TERM.lse}) { setOutput(lse); return; }
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
        if (j == ${TERM.nll}) term = r * wy * (lse - zy);
        else if (j == ${TERM.smoothing}) term = r * smoothing;
        else if (j == ${TERM.lambda}) term = (1.0 - lsEps) * wy + lsEps * v;
        else if (j == ${TERM.denominator}) term = wy;
        else if (j == ${TERM.counted}) term = 1.0;
        else if (j == ${TERM.zLoss}) term = r * lse * lse;
        setOutput(term);
      }`,
  };
}

/**
 * The totals from the terms (input `terms` [N, ROW_TERM_COUNT]): [4] (TOTAL) for a scalar reduction
 * (`mean` unless `notMean`), each fragment summing the columns over the rows; [2, N] (each row's loss, its
 * z-loss part) for `reduction: 'none'`.
 */
export function reduceProgram(rows: number, reduction: 'mean' | 'sum' | 'none'): GlslProgram {
  if (reduction === 'none')
    return {
      variableNames: ['terms'],
      outputShape: [2, rows],
      customUniforms: UNIFORMS,
      userCode: `
      void main() {
        ivec2 rc = getOutputCoords();
        float z = lsZeta * getTerms(rc.y, ${TERM.zLoss});
        float ce = (1.0 - lsEps) * getTerms(rc.y, ${TERM.nll}) + lsEps * getTerms(rc.y, ${TERM.smoothing});
        setOutput(rc.x == 0 ? ce + z : z);
      }`,
    };
  return {
    variableNames: ['terms'],
    outputShape: [4],
    customUniforms: UNIFORMS,
    userCode: `
      float scaleOf(float total) {
        if (lsNormalizer > 0.0) return 1.0 / lsNormalizer;
        ${reduction === 'sum' ? 'return 1.0;' : ''}
        if (total == 0.0) return 0.0; // an all-ignored batch: loss 0 and a zero gradient, never NaN
        return 1.0 / total;
      }
      void main() {
        int j = getOutputCoords();
        float nll = 0.0, smoothing = 0.0, den = 0.0, count = 0.0, zl = 0.0;
        for (int i = 0; i < ${rows}; i++) {
          nll += getTerms(i, ${TERM.nll});
          smoothing += getTerms(i, ${TERM.smoothing});
          den += getTerms(i, ${TERM.denominator});
          count += getTerms(i, ${TERM.counted});
          zl += getTerms(i, ${TERM.zLoss});
        }
        float scale = scaleOf(den);
        float zScale = scaleOf(count);
        float zLoss = lsZeta * zl * zScale;
        float v = zScale;
        if (j == ${TOTAL.loss}) v = ((1.0 - lsEps) * nll + lsEps * smoothing) * scale + zLoss;
        else if (j == ${TOTAL.zLoss}) v = zLoss;
        else if (j == ${TOTAL.scale}) v = scale;
        setOutput(v);
      }`,
  };
}

/**
 * dL/dz [N, K] as in webgpuPrograms.ts; inputs logits, labels, table, terms, totals ([4]; unused with
 * `perRow`), dy ([1], or [N] with `perRow`).
 */
export function gradientProgram(
  rows: number,
  classes: number,
  options: { nonTarget: boolean; softcap: boolean; perRow: boolean },
): GlslProgram {
  const { nonTarget, softcap, perRow } = options;
  return {
    variableNames: ['logits', 'labels', 'table', 'terms', 'totals', 'dy'],
    outputShape: [rows, classes],
    customUniforms: UNIFORMS,
    userCode: `
      ${cap(softcap)}
      void main() {
        ivec2 rc = getOutputCoords();
        int row = rc.x;
        int c = rc.y;
        float up = getDy(${perRow ? 'row' : '0'});
        float r = getTerms(row, ${TERM.weight});
        float lse = getTerms(row, ${TERM.lse});
        float a = up * ${perRow ? '1.0' : `getTotals(${TOTAL.scale})`} * r;
        float zScale = up * ${perRow ? '1.0' : `getTotals(${TOTAL.zScale})`};
        float qScale = a * getTerms(row, ${TERM.lambda}) + zScale * 2.0 * lsZeta * r * lse;
        if (getTable(0, c) == 0.0 || (qScale == 0.0 && a == 0.0)) { setOutput(0.0); return; }
        float z = capped(getLogits(row, c));
        float q = exp(z - lse);
        float g = lsEps * getTable(2, c);
        if (getLabels(row) == float(c)) g = (1.0 - lsEps) * getTable(1, c)${nonTarget ? '' : ' + g'};
        float d = qScale * q - a * g;
        ${softcap ? 'float u = z / lsSoftcap; d *= 1.0 - u * u;' : ''}
        setOutput(d);
      }`,
  };
}
