// A noise matrix too large for the shared kernel memory (S of K×K floats above 1 GiB: K ≥ 16384, up to
// K ≈ 32700) in a shared WebAssembly.Memory of its own, with room after it for one chunk of rows per
// thread. A kernel instance on that memory (the calling thread's, and each worker's in a threaded call on
// ordinary arrays) reads S[yᵢ] in place while the chunk's logits are staged next to it, instead of copying
// 4K bytes of S per row first: at K = 32000 those copies ran at the speed of memory (about 7 GB/s here), a
// fifth of the plain loss's time, where the kernel's own reads of S overlap its arithmetic. Calls on
// workspace buffers still stage S's rows (their instances are on the workspace memory; the logits are
// there), reading S through the memory's SharedArrayBuffer.
import { familyLayoutBytes } from './family.js';
import { MAX_THREADS, type MatrixShare } from './threads.js';
import { chunkRows, KernelInstance, sharedKernelModule } from './wasm.js';

const PAGE = 65536;
/** The WASM32 limit: 65536 pages of 64 KB. */
const MAX_BYTES = 65536 * PAGE;

/** The memories by their buffer (a shared memory that never grows keeps its one buffer). */
const memories = new WeakMap<ArrayBufferLike, MatrixShare & { kernel: KernelInstance | null }>();

/**
 * A Float32Array of K² floats in a shared WebAssembly.Memory of its own, after the kernel's static data and
 * before one chunk area of K-class rows per thread (or as many as fit, at least one); null when not even
 * one would fit in 4 GB or shared WASM memory is unavailable here.
 */
export function matrixMemory(k: number): Float32Array | null {
  if (sharedKernelModule() === null) return null;
  const at = KernelInstance.BASE;
  const work = at + Math.ceil((4 * k * k + 32) / 64) * 64; // + the vector loops' reads past the last row
  const areaBytes = Math.ceil(familyLayoutBytes(k, chunkRows(k), 'in-place') / 64) * 64;
  const areas = Math.min(MAX_THREADS, Math.floor((MAX_BYTES - work) / areaBytes));
  if (areas < 1) return null;
  const pages = Math.ceil((work + areas * areaBytes) / PAGE);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null; // no address space for it, or a page that is not cross-origin isolated
  }
  memories.set(memory.buffer, { memory, work, areaBytes, areas, kernel: null });
  return new Float32Array(memory.buffer, at, k * k);
}

/**
 * For S made by {@link matrixMemory}: a kernel instance on its memory (the calling thread's) and the byte
 * address of its chunk area; null for any other array.
 */
export function matrixKernel(S: ArrayLike<number>): { kernel: KernelInstance; work: number } | null {
  if (!(S instanceof Float32Array)) return null;
  const m = memories.get(S.buffer);
  if (!m) return null;
  if (!m.kernel) m.kernel = new KernelInstance(sharedKernelModule()!, m.memory);
  return { kernel: m.kernel, work: m.work };
}

/** For S made by {@link matrixMemory}: its memory and chunk areas, for the worker threads; else null. */
export function matrixShare(S: ArrayLike<number>): MatrixShare | null {
  if (!(S instanceof Float32Array)) return null;
  const m = memories.get(S.buffer);
  return m ? { memory: m.memory, work: m.work, areaBytes: m.areaBytes, areas: m.areas } : null;
}
