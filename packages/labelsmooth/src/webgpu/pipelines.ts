/// <reference types="@webgpu/types" />
// The compiled passes of labelsmooth/webgpu, made once per GPUDevice and reused by every call on it.
import { DENOMINATORS, REDUCE, ROWS } from './shaders.js';

/** A pass: its pipeline and the layout its bind groups are made with. */
export interface Pass {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** The three passes of one device. */
export interface Passes {
  denominators: Pass;
  rows: Pass;
  reduce: Pass;
}

type Binding = 'uniform' | 'read-only-storage' | 'storage';

const cache = new WeakMap<GPUDevice, Passes>();

function pass(device: GPUDevice, code: string, bindings: Binding[], label: string): Pass {
  const layout = device.createBindGroupLayout({
    label,
    entries: bindings.map((type, binding) => ({
      binding,
      visibility: 4 /* GPUShaderStage.COMPUTE */,
      buffer: { type },
    })),
  });
  const pipeline = device.createComputePipeline({
    label,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module: device.createShaderModule({ code, label }), entryPoint: 'main' },
  });
  return { pipeline, layout };
}

/** The passes of `device`, compiled on its first call. */
export function passesFor(device: GPUDevice): Passes {
  let passes = cache.get(device);
  if (!passes) {
    const ro = 'read-only-storage';
    passes = {
      denominators: pass(
        device,
        DENOMINATORS,
        ['uniform', ro, ro, 'storage', 'storage'],
        'labelsmooth denominators',
      ),
      rows: pass(
        device,
        ROWS,
        ['uniform', ro, ro, ro, ro, 'storage', 'storage', 'storage', 'storage'],
        'labelsmooth rows',
      ),
      reduce: pass(device, REDUCE, ['uniform', ro, ro, 'storage'], 'labelsmooth reduce'),
    };
    cache.set(device, passes);
  }
  return passes;
}

/** Whether `device` has compiled passes already (for tests and diagnostics). */
export function hasPasses(device: GPUDevice): boolean {
  return cache.has(device);
}
