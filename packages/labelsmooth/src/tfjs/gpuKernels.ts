// The op's GPU kernels, registered with TF.js for the webgl and webgpu backends on first use (importing
// labelsmooth/tfjs registers nothing). Each kernel runs the backend's programs on tensors that stay on the
// GPU; the backends are reached through the kernel function's `backend` argument, so neither backend
// package is imported here (both are optional peer dependencies).
import * as tf from '@tensorflow/tfjs-core';
import { type GpuScalars, REDUCTION_CODE } from './gpuTerms.js';
import * as gl from './webglPrograms.js';
import * as wgsl from './webgpuPrograms.js';

/** Kernel names (TF.js's registry is global: the prefix keeps them apart from other libraries'). */
export const KERNEL = {
  rowTerms: 'LabelsmoothRowTerms',
  reduce: 'LabelsmoothReduce',
  gradient: 'LabelsmoothGradient',
} as const;

/** The backends the kernels are written for. */
export const GPU_BACKENDS = ['webgl', 'webgpu'] as const;
export type GpuBackend = (typeof GPU_BACKENDS)[number];

/** The kernels' attributes. */
export interface GpuAttrs extends GpuScalars {
  classes: number;
  rows: number;
  nonTarget: boolean;
  reduction: 'mean' | 'sum' | 'none';
}

/** What the kernels call on TF.js's webgl backend. */
interface WebGLBackendLike {
  runWebGLProgram(
    program: gl.GlslProgram,
    inputs: tf.TensorInfo[],
    dtype: 'float32',
    uniforms: number[][],
  ): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}

/** What the kernels call on TF.js's webgpu backend. */
interface WebGPUBackendLike {
  runWebGPUProgram(
    program: wgsl.WgslProgram,
    inputs: tf.TensorInfo[],
    dtype: 'float32',
    uniforms: ReturnType<typeof wgsl.wgslUniforms>,
  ): tf.TensorInfo;
}

type Inputs = Record<string, tf.TensorInfo>;

function rowTermsWebGL(inputs: Inputs, backend: WebGLBackendLike, a: GpuAttrs): tf.TensorInfo {
  const { logits, labels, table, sampleWeight } = inputs;
  const uniforms = gl.glslUniforms(a);
  const cap = a.softcap > 0;
  const run = (p: gl.GlslProgram, i: tf.TensorInfo[]) => backend.runWebGLProgram(p, i, 'float32', uniforms);
  // a row of many blocks: the blocks in parallel first, so that no fragment walks a whole row
  const blocks =
    gl.blocksOf(a.classes) > 1 ? run(gl.blockSumsProgram(a.rows, a.classes, cap), [logits, table]) : null;
  const sums = run(gl.rowSumsProgram(a.rows, a.classes, cap), blocks ? [blocks] : [logits, table]);
  if (blocks) backend.disposeIntermediateTensorInfo(blocks);
  const program = gl.rowTermsProgram(a.rows, a.classes, a.nonTarget, cap);
  const terms = run(program, [logits, labels, table, sampleWeight, sums]);
  backend.disposeIntermediateTensorInfo(sums);
  return terms;
}

function reduceWebGL(inputs: Inputs, backend: WebGLBackendLike, a: GpuAttrs): tf.TensorInfo {
  const program = gl.reduceProgram(a.rows, a.reduction);
  return backend.runWebGLProgram(program, [inputs.terms], 'float32', gl.glslUniforms(a));
}

function gradientWebGL(inputs: Inputs, backend: WebGLBackendLike, a: GpuAttrs): tf.TensorInfo {
  const { logits, labels, table, terms, totals, dy } = inputs;
  const program = gl.gradientProgram(a.rows, a.classes, {
    nonTarget: a.nonTarget,
    softcap: a.softcap > 0,
    perRow: a.reduction === 'none',
  });
  const list = [logits, labels, table, terms, totals, dy];
  return backend.runWebGLProgram(program, list, 'float32', gl.glslUniforms(a));
}

function uniformsOf(a: GpuAttrs) {
  return wgsl.wgslUniforms({ ...a, reduction: REDUCTION_CODE[a.reduction] });
}

function rowTermsWebGPU(inputs: Inputs, backend: WebGPUBackendLike, a: GpuAttrs): tf.TensorInfo {
  const { logits, labels, table, sampleWeight } = inputs;
  const program = wgsl.rowTermsProgram(a.rows, a.nonTarget, a.softcap > 0);
  return backend.runWebGPUProgram(program, [logits, labels, table, sampleWeight], 'float32', uniformsOf(a));
}

function reduceWebGPU(inputs: Inputs, backend: WebGPUBackendLike, a: GpuAttrs): tf.TensorInfo {
  const program = wgsl.reduceProgram(a.rows, a.reduction === 'none');
  return backend.runWebGPUProgram(program, [inputs.terms], 'float32', uniformsOf(a));
}

function gradientWebGPU(inputs: Inputs, backend: WebGPUBackendLike, a: GpuAttrs): tf.TensorInfo {
  const { logits, labels, table, terms, totals, dy } = inputs;
  const perRow = a.reduction === 'none';
  const program = wgsl.gradientProgram(a.rows, a.classes, a.nonTarget, a.softcap > 0, perRow);
  const list = [logits, labels, table, terms, totals, dy];
  return backend.runWebGPUProgram(program, list, 'float32', uniformsOf(a));
}

const IMPLEMENTATIONS = {
  webgl: { rowTerms: rowTermsWebGL, reduce: reduceWebGL, gradient: gradientWebGL },
  webgpu: { rowTerms: rowTermsWebGPU, reduce: reduceWebGPU, gradient: gradientWebGPU },
} as const;

/** Register the kernels for every GPU backend where they are missing (idempotent). */
export function registerGpuKernels(): void {
  for (const backendName of GPU_BACKENDS) {
    for (const which of Object.keys(KERNEL) as (keyof typeof KERNEL)[]) {
      const kernelName = KERNEL[which];
      if (tf.getKernel(kernelName, backendName)) continue;
      const run = IMPLEMENTATIONS[backendName][which] as (
        i: Inputs,
        b: unknown,
        a: GpuAttrs,
      ) => tf.TensorInfo;
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) =>
          run(inputs as Inputs, backend, attrs as unknown as GpuAttrs),
      });
    }
  }
}

/** Run one of the kernels on the current backend. */
export function runGpuKernel(
  which: keyof typeof KERNEL,
  inputs: Record<string, tf.Tensor>,
  attrs: GpuAttrs,
): tf.Tensor {
  return tf.engine().runKernel(KERNEL[which], inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
