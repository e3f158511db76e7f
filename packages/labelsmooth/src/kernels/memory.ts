// The kernel's memories: every kernel call runs on one WebAssembly.Memory, laid out there by layout.ts.
// The shared memory (where WASM threads exist: Node, cross-origin-isolated pages) is the same for the
// calling thread's kernel instance and every worker's, and also holds the buffers of `kernelWorkspace` and
// the copies of `noiseMatrix`; calls on the threads or on those buffers run there. The calling thread's
// private memory takes the calls it runs alone on ordinary arrays (copies into it are plain memcpy), and
// every call where shared memory is missing; no workspace lives there, since its growth would detach them.
//
// Layout: [0, 64 KB) is the kernel's static data; above, regions handed out first-fit from a free list
// (64-byte aligned); the memory grows on demand (up to 4 GB, the WASM32 limit) and never shrinks.
import { emitKernelEvent } from './events.js';
import { afterWorkersGone } from './threads.js';
import { KernelInstance, kernelModule, sharedKernelModule } from './wasm.js';

const PAGE = 65536;
/** The WASM32 limit: 65536 pages of 64 KB. */
const MAX_BYTES = 65536 * PAGE;

/** A kernel memory with the calling thread's instance on it and its regions. */
export interface KernelMemory {
  memory: WebAssembly.Memory;
  /** The module the instance was made from (the shared build, for the workers too). */
  module: WebAssembly.Module;
  kernel: KernelInstance;
  shared: boolean;
  /** Free regions, sorted by address; `top` is the end of the regions handed out. */
  free: { at: number; size: number }[];
  top: number;
  /** Live regions (start → size). */
  live: Map<number, number>;
}

let shared: KernelMemory | null | undefined;
let own: KernelMemory | null | undefined;
/** Every SharedArrayBuffer of the shared memory that views were made on (a grow makes a new one). */
const buffers = new WeakSet<ArrayBufferLike>();
/** The arrays of disposed workspaces: refused even after their memory is handed out again. */
const disposed = new WeakSet<object>();

function arena(memory: WebAssembly.Memory, module: WebAssembly.Module, kernel: KernelInstance): KernelMemory {
  return {
    memory,
    module,
    kernel,
    shared: isShared(memory.buffer),
    free: [],
    top: PAGE,
    live: new Map(),
  };
}

/** The shared kernel memory and instance, created on first use; null where shared WASM memory is unavailable. */
export function sharedKernel(): KernelMemory | null {
  if (shared !== undefined) return shared;
  shared = null;
  const module = sharedKernelModule();
  if (module === null || typeof SharedArrayBuffer === 'undefined') return null;
  try {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_BYTES / PAGE, shared: true });
    shared = arena(memory, module, new KernelInstance(module, memory));
  } catch {
    shared = null; // e.g. a browser page that is not cross-origin isolated
  }
  return shared;
}

/** A memory calls can run on (the shared one, else the private one); null where the kernel is not compiled
 * (yet). */
export function callMemory(): KernelMemory | null {
  return sharedKernel() ?? ownMemory();
}

/** The calling thread's private instance and its memory (made on first use); null where the kernel is not
 * compiled (yet). */
export function ownMemory(): KernelMemory | null {
  if (own !== undefined) return own;
  const module = kernelModule();
  if (module === null) return null; // not (yet) compiled: the JS path runs meanwhile
  try {
    const kernel = new KernelInstance(module);
    own = arena(kernel.exports.memory, module, kernel);
  } catch (error) {
    emitKernelEvent({ type: 'compile-error', error });
    own = null;
  }
  return own;
}

/** The memory's current buffer, remembered as one of ours when shared. */
export function buffer(m: KernelMemory = sharedKernel()!): ArrayBufferLike {
  const b = m.memory.buffer;
  if (m.shared) buffers.add(b);
  return b;
}

/** Hand out a region of at least `bytes` bytes (64-byte aligned) of `m`; throws a RangeError beyond 4 GB. */
export function allocate(bytes: number, m: KernelMemory = sharedKernel()!): number {
  const size = align64(Math.max(bytes, 1));
  let at = -1;
  const j = m.free.findIndex((r) => r.size >= size);
  if (j >= 0) {
    at = m.free[j].at;
    m.free[j].at += size;
    m.free[j].size -= size;
    if (m.free[j].size === 0) m.free.splice(j, 1);
  } else {
    if (m.top + size > MAX_BYTES)
      throw new RangeError(`${m.top + size} bytes exceed the 4 GB a WASM32 memory can hold`);
    const have = m.memory.buffer.byteLength;
    if (m.top + size > have) m.memory.grow(Math.ceil((m.top + size - have) / PAGE)); // may throw: top unchanged
    at = m.top;
    m.top += size;
  }
  m.live.set(at, size);
  return at;
}

/**
 * Regions of the shared memory a retired worker thread may still write (the region of a call during which
 * it was retired, a workspace it was copying into): given back only once no retired worker remains.
 */
const tainted = new Set<number>();

/** Taint the live region of the shared memory that holds byte `address` (see {@link release}). */
export function taint(address: number): void {
  if (!shared || address === 0) return;
  for (const [at, size] of shared.live) if (address >= at && address < at + size) tainted.add(at);
}

/**
 * Give a region of `m` back (merged with free neighbours); a tainted one once every retired worker thread
 * has exited (afterWorkersGone), since it may still write there.
 */
export function release(at: number, m: KernelMemory = sharedKernel()!): void {
  if (m.shared && tainted.delete(at)) {
    afterWorkersGone(() => release(at, m));
    return;
  }
  const size = m.live.get(at);
  if (size === undefined) return;
  m.live.delete(at);
  const free = m.free;
  let j = free.findIndex((r) => r.at > at);
  if (j < 0) j = free.length;
  free.splice(j, 0, { at, size });
  // merge with the next, then with the previous region
  if (j + 1 < free.length && free[j].at + free[j].size === free[j + 1].at) {
    free[j].size += free[j + 1].size;
    free.splice(j + 1, 1);
  }
  if (j > 0 && free[j - 1].at + free[j - 1].size === free[j].at) {
    free[j - 1].size += free[j].size;
    free.splice(j, 1);
    j--;
  }
  if (free[j].at + free[j].size === m.top) {
    m.top = free[j].at;
    free.splice(j, 1);
  }
}

/** A Float32Array of `length` floats at byte `at` of the shared memory. */
export function floats(at: number, length: number): Float32Array {
  return new Float32Array(buffer(), at, length);
}

/** Mark a disposed workspace's array (see {@link memoryRegion}). */
export function markDisposed(a: Float32Array): void {
  disposed.add(a);
}

/** Where an array lies relative to the shared kernel memory: outside it, inside a live region, or in freed memory. */
export function memoryRegion(a: ArrayLike<number>): 'outside' | 'live' | 'freed' {
  if (!ArrayBuffer.isView(a) || !buffers.has(a.buffer) || !shared) return 'outside';
  if (disposed.has(a)) return 'freed';
  const start = a.byteOffset;
  const end = start + a.byteLength;
  for (const [at, size] of shared.live) if (start >= at && end <= at + size) return 'live';
  return 'freed';
}

/**
 * Whether `S` (a noise matrix) is a float32 array in the shared kernel memory, with the 16 bytes past its
 * end that the kernel's vector loops read (masked) inside the memory: the kernel then reads it in place.
 */
export function inKernelMemory(S: ArrayLike<number>): boolean {
  return (
    S instanceof Float32Array &&
    memoryRegion(S) === 'live' &&
    S.byteOffset + S.byteLength + 16 <= shared!.memory.buffer.byteLength
  );
}

/** Whether `b` is a SharedArrayBuffer (false where the type does not exist: a page that is not
 * cross-origin isolated). */
export function isShared(b: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer === 'function' && b instanceof SharedArrayBuffer;
}

/** x rounded up to a multiple of 64. */
export const align64 = (x: number): number => Math.ceil(x / 64) * 64;
