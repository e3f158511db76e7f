// A noise matrix too large for the shared kernel memory (S of K×K floats above 1 GiB: K ≥ 16384, up to
// K = 32764) in a shared WebAssembly.Memory of its own, with room after it for one chunk of rows. On the
// calling thread, a kernel instance on that memory reads S[yᵢ] in place while the chunk's logits are staged
// next to it, instead of copying 4K bytes of S per row first: at K = 32000 those copies ran at the speed of
// memory (about 7 GB/s here), a fifth of the plain loss's time, where the kernel's own reads of S overlap
// its arithmetic. Worker threads stage the rows they need through the memory's SharedArrayBuffer: an
// instance of theirs on this memory would keep it alive in an idle worker (which collects no garbage) long
// after the caller let the matrix go, gigabytes per epoch of online label smoothing.
import { familyLayoutBytes } from './family.js';
import { chunkRows, KernelInstance, sharedKernelModule } from './wasm.js';

const PAGE = 65536;
/** The WASM32 limit: 65536 pages of 64 KB. */
const MAX_BYTES = 65536 * PAGE;

/** The memories by their buffer (a shared memory that never grows keeps its one buffer): where the chunk
 * area starts, and the calling thread's instance (made on first use). */
const memories = new WeakMap<
  ArrayBufferLike,
  { memory: WebAssembly.Memory; work: number; kernel: KernelInstance | null }
>();

/**
 * A Float32Array of K² floats in a shared WebAssembly.Memory of its own, after the kernel's static data and
 * before the area a chunk of K-class rows needs; null when it would not fit in 4 GB (K ≥ 32765) or shared
 * WASM memory is unavailable here.
 */
export function matrixMemory(k: number): Float32Array | null {
  if (sharedKernelModule() === null) return null;
  const at = KernelInstance.BASE;
  const work = at + Math.ceil((4 * k * k + 32) / 64) * 64; // + the vector loops' reads past the last row
  const end = work + familyLayoutBytes(k, chunkRows(k), 'in-place');
  if (end > MAX_BYTES) return null;
  const pages = Math.ceil(end / PAGE);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null; // no address space for it, or a page that is not cross-origin isolated
  }
  memories.set(memory.buffer, { memory, work, kernel: null });
  return new Float32Array(memory.buffer, at, k * k);
}

/**
 * For S made by {@link matrixMemory}: a kernel instance on its memory (the calling thread's) and the byte
 * address of the chunk area after S; null for any other array.
 */
export function matrixKernel(S: ArrayLike<number>): { kernel: KernelInstance; work: number } | null {
  if (!(S instanceof Float32Array)) return null;
  const m = memories.get(S.buffer);
  if (!m) return null;
  if (!m.kernel) m.kernel = new KernelInstance(sharedKernelModule()!, m.memory);
  return { kernel: m.kernel, work: m.work };
}
