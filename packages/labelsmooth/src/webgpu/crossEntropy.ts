/// <reference types="@webgpu/types" />
// labelsmooth on raw WebGPU: logits and labels in the caller's GPUBuffers, the gradient (and per-row lse and
// losses, when asked) written into the caller's GPUBuffers; only the reported scalars are read back.
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { CROSS_ENTROPY_KEYS } from '../core/plan.js';
import type { CrossEntropyOptions } from '../core/types.js';
import { type GpuPlan, gpuPlan } from '../gpu/plan.js';
import { passesFor } from './pipelines.js';

/** The buffers of a call (every one a GPUBuffer with STORAGE usage; sizes in bytes are checked). */
export interface WebGPUCrossEntropyBuffers {
  /** float32 logits, N×K row-major (sequences: B·T rows). */
  logits: GPUBuffer;
  /** int32 class indices, N (ignoreIndex for padding). */
  targets: GPUBuffer;
  /** N. */
  rows: number;
  /** K. */
  classes: number;
  /** Where dL/dlogits (float32, N×K) of the reported loss goes; none when omitted. Not the logits buffer. */
  grad?: GPUBuffer;
  /** Where each row's log-sum-exp (float32, N, after soft-capping) goes. */
  lse?: GPUBuffer;
  /** Where each row's loss goes (float32, N, unscaled: what `reduction: 'none'` gives per row). */
  rowLoss?: GPUBuffer;
}

/** Options: the core's, without `classes`, `grad`, `lse` (buffers here), `kernel` and `threads`. */
export type WebGPUCrossEntropyOptions = Omit<
  CrossEntropyOptions,
  'classes' | 'grad' | 'lse' | 'kernel' | 'threads'
> & {
  /** Bound on the wait for the scalars, in ms (default 60 000): a lost device or a hung queue is an error. */
  timeoutMs?: number;
};

/** The reported numbers (for `reduction: 'none'`, the sums over rows; the rows are in `rowLoss`). */
export interface WebGPUCrossEntropyResult {
  /** The loss, (1−ε)·nll + ε·smoothing (+ the z-loss), reduced as asked. */
  loss: number;
  /** H(p,q), reduced like the loss. */
  nll: number;
  /** H(u,q), reduced like the loss. */
  smoothing: number;
  /** The z-loss part of `loss` (0 without `zLoss`). */
  zLoss: number;
  /** Σ w[yᵢ] over the rows that are not ignored (their count without per-class weights). */
  denominator: number;
  /** The count of rows that are not ignored. */
  counted: number;
}

const FN = 'crossEntropyWebGPU';
const KEYS = [
  ...CROSS_ENTROPY_KEYS.filter((k) => !['classes', 'grad', 'lse', 'kernel', 'threads'].includes(k)),
  'timeoutMs',
];
const STORAGE = 0x80; // GPUBufferUsage.STORAGE (the global is absent outside a WebGPU context)
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const UNIFORM = 0x40;

function checkCount(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    fail(FN, `buffers.${name}`, undefined, v, 'must be an integer ≥ 1');
  return v;
}

/** A caller's buffer: a GPUBuffer with STORAGE usage of at least `bytes`. */
function checkBuffer(device: GPUDevice, name: string, b: unknown, bytes: number): GPUBuffer {
  const buffer = b as GPUBuffer;
  if (
    typeof b !== 'object' ||
    b === null ||
    typeof buffer.size !== 'number' ||
    typeof buffer.usage !== 'number'
  )
    fail(FN, `buffers.${name}`, undefined, b, 'expected a GPUBuffer');
  if (!(buffer.usage & STORAGE)) fail(FN, `buffers.${name}`, undefined, b, 'needs GPUBufferUsage.STORAGE');
  if (buffer.size < bytes)
    fail(FN, `buffers.${name}`, undefined, buffer.size, `size in bytes, needs ≥ ${bytes}`);
  const limit = device.limits.maxStorageBufferBindingSize;
  if (bytes > limit)
    fail(
      FN,
      `buffers.${name}`,
      undefined,
      bytes,
      `bytes exceed the device's maxStorageBufferBindingSize (${limit})`,
    );
  return buffer;
}

/** The 64-byte uniform block of shaders.ts (field order and types as declared there). */
function paramsBlock(plan: GpuPlan, b: WebGPUCrossEntropyBuffers, rowsPerDimension: number): ArrayBuffer {
  const data = new ArrayBuffer(64);
  const i = new Int32Array(data);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  const hasIgnore = plan.ignoreIndex >= -(2 ** 31) && plan.ignoreIndex < 2 ** 31;
  i[0] = plan.rows;
  i[1] = plan.classes;
  i[2] = hasIgnore ? plan.ignoreIndex : 0;
  u[3] = hasIgnore ? 1 : 0;
  f[4] = plan.eps;
  f[5] = plan.sumV;
  f[6] = plan.softcap;
  f[7] = plan.zLoss ?? 0;
  u[8] = plan.reduction === 'mean' ? 0 : plan.reduction === 'sum' ? 1 : 2;
  f[9] = plan.normalizer ?? 0;
  u[10] = plan.nonTarget ? 1 : 0;
  u[11] = plan.sampleWeight ? 1 : 0;
  u[12] = b.grad ? 1 : 0;
  u[13] = b.lse ? 1 : 0;
  u[14] = b.rowLoss ? 1 : 0;
  u[15] = rowsPerDimension;
  return data;
}

/** A buffer of ours, filled from `data` (or zeros of `bytes`). */
function ownBuffer(
  device: GPUDevice,
  usage: number,
  data: ArrayBuffer | ArrayBufferView | null,
  bytes = 16,
): GPUBuffer {
  const size = Math.max(16, Math.ceil((data ? data.byteLength : bytes) / 4) * 4);
  const buffer = device.createBuffer({ size, usage: usage | COPY_DST });
  if (data) device.queue.writeBuffer(buffer, 0, data as ArrayBuffer);
  return buffer;
}

/** The out block before the passes: a row that no pass writes, to tell a call that did not run. */
const NOT_RUN_ROW = -2;
const NOT_RUN = new Int32Array([0, 0, 0, 0, 0, 0, NOT_RUN_ROW, 0]);

/** [scale, zScale, Σ w[y], count] (written by the first pass), then the sample weights when given. */
function auxBlock(plan: GpuPlan): Float32Array {
  const aux = new Float32Array(4 + (plan.sampleWeight?.length ?? 0));
  if (plan.sampleWeight) aux.set(plan.sampleWeight, 4);
  return aux;
}

/** Resolve with the mapped scalars, or reject when the device is lost or the wait exceeds `ms`. */
async function mapBounded(device: GPUDevice, staging: GPUBuffer, ms: number): Promise<ArrayBuffer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${FN}: the GPU did not answer within ${ms} ms`)), ms);
  });
  const lost = device.lost.then((info) => {
    throw new Error(`${FN}: the GPU device was lost (${info.message})`);
  });
  try {
    await Promise.race([staging.mapAsync(MAP_READ), timeout, lost]);
    return staging.getMappedRange().slice(0);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Label-smoothed cross-entropy on a WebGPU device, for users of other WebGPU frameworks: reads the logits
 * and labels from the caller's buffers, writes dL/dlogits into `buffers.grad` (fused with the forward pass:
 * one pass over each row reads it for the statistics, then writes its gradient), and reads back only the
 * reported scalars. The options are the core's: `labelSmoothing`, `noise` (uniform, non-target, a prior),
 * a shared `classMask`, `ignoreIndex`, `weight` and `weightMode`, `sampleWeight`, `reduction`,
 * `normalizer`, `softcap`, `zLoss`; the others are refused naming the option. A label that is neither
 * ignoreIndex nor a class in [0, K) that the mask allows is an error naming its row (found on the GPU).
 * Pipelines are compiled once per device. Buffers must not alias one another.
 */
export async function crossEntropyWebGPU(
  device: GPUDevice,
  buffers: WebGPUCrossEntropyBuffers,
  options?: WebGPUCrossEntropyOptions,
): Promise<WebGPUCrossEntropyResult> {
  if (
    typeof device !== 'object' ||
    device === null ||
    typeof (device as GPUDevice).createBuffer !== 'function'
  )
    fail(FN, 'device', undefined, device, 'expected a GPUDevice');
  if (typeof buffers !== 'object' || buffers === null)
    fail(FN, 'buffers', undefined, buffers, 'expected an object');
  const { timeoutMs = 60_000, ...o } = checkOptions<WebGPUCrossEntropyOptions>(FN, options, KEYS);
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0))
    fail(FN, 'options.timeoutMs', undefined, timeoutMs, 'must be a number > 0');
  const n = checkCount('rows', buffers.rows);
  const k = checkCount('classes', buffers.classes);
  const logits = checkBuffer(device, 'logits', buffers.logits, n * k * 4);
  const targets = checkBuffer(device, 'targets', buffers.targets, n * 4);
  const outputs = { grad: n * k * 4, lse: n * 4, rowLoss: n * 4 } as const;
  for (const [name, bytes] of Object.entries(outputs)) {
    const b = buffers[name as keyof typeof outputs];
    if (b === undefined) continue;
    checkBuffer(device, name, b, bytes);
    for (const other of [
      logits,
      targets,
      ...Object.keys(outputs)
        .filter((x) => x !== name)
        .map((x) => buffers[x as keyof typeof outputs]),
    ])
      if (other === b) fail(FN, `buffers.${name}`, undefined, b, 'aliases another buffer of the call');
  }
  const plan = gpuPlan(FN, { where: 'WebGPU', refused: {} }, o, n, k);
  return run(device, buffers, plan, timeoutMs);
}

async function run(
  device: GPUDevice,
  b: WebGPUCrossEntropyBuffers,
  plan: GpuPlan,
  timeoutMs: number,
): Promise<WebGPUCrossEntropyResult> {
  const passes = passesFor(device);
  const n = plan.rows;
  const maxPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
  const dispatch = n <= maxPerDimension ? [n, 1] : [maxPerDimension, Math.ceil(n / maxPerDimension)];
  const params = ownBuffer(device, UNIFORM, paramsBlock(plan, b, dispatch[0]));
  const table = ownBuffer(device, STORAGE, plan.table);
  const aux = ownBuffer(device, STORAGE, auxBlock(plan));
  const out = ownBuffer(device, STORAGE | COPY_SRC, NOT_RUN);
  const terms = ownBuffer(device, STORAGE, null, n * 16);
  const spare = [0, 1, 2].map(() => ownBuffer(device, STORAGE, null, 16));
  const staging = device.createBuffer({ size: 32, usage: MAP_READ | COPY_DST });
  const own = [params, table, aux, out, terms, ...spare, staging];
  try {
    const group = (layout: GPUBindGroupLayout, list: GPUBuffer[]) =>
      device.createBindGroup({
        layout,
        entries: list.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: FN });
    const compute = encoder.beginComputePass();
    compute.setPipeline(passes.denominators.pipeline);
    compute.setBindGroup(0, group(passes.denominators.layout, [params, b.targets, table, aux, out]));
    compute.dispatchWorkgroups(1);
    compute.setPipeline(passes.rows.pipeline);
    const rowBuffers = [params, b.logits, b.targets, table, aux, terms];
    rowBuffers.push(b.grad ?? spare[0], b.lse ?? spare[1], b.rowLoss ?? spare[2]);
    compute.setBindGroup(0, group(passes.rows.layout, rowBuffers));
    compute.dispatchWorkgroups(dispatch[0], dispatch[1]);
    compute.setPipeline(passes.reduce.pipeline);
    compute.setBindGroup(0, group(passes.reduce.layout, [params, terms, aux, out]));
    compute.dispatchWorkgroups(1);
    compute.end();
    encoder.copyBufferToBuffer(out, 0, staging, 0, 32);
    device.queue.submit([encoder.finish()]);
    const invalid = device.popErrorScope();
    const data = await mapBounded(device, staging, timeoutMs);
    const error = await invalid;
    if (error) throw new Error(`${FN}: WebGPU refused the passes: ${error.message}`);
    const values = new Float32Array(data, 0, 6);
    const [invalidRow, invalidLabel] = new Int32Array(data, 24, 2);
    if (invalidRow === NOT_RUN_ROW) throw new Error(`${FN}: the passes did not run on the device`);
    if (invalidRow >= 0) {
      const why = `class index out of range [0, ${plan.classes}), not ignoreIndex (${plan.ignoreIndex}), or masked`;
      fail(FN, 'buffers.targets', invalidRow, invalidLabel, why);
    }
    return {
      loss: values[0],
      nll: values[1],
      smoothing: values[2],
      zLoss: values[3],
      denominator: values[4],
      counted: values[5],
    };
  } finally {
    for (const buffer of own) buffer.destroy();
  }
}
