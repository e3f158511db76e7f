// Loading the WASM SIMD kernel: synchronously where the runtime allows it (Node), asynchronously otherwise
// (browser main threads refuse synchronous compilation of modules over 4 KB).
import { KERNEL_SHARED_WASM_BASE64, KERNEL_WASM_BASE64 } from './binary.generated.js';
import { emitKernelEvent } from './events.js';

/** The kernel's exports. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  /** The plain loss on rows r0 ≤ r < r1 of the call whose record is at `call` (call.ts, assembly/rows.ts). */
  rows(call: number, r0: number, r1: number): void;
  /** memory.copy of `bytes` bytes from src to dst (assembly/copy.ts). */
  copy(dst: number, src: number, bytes: number): void;
  /** `bytes` bytes (a multiple of 4) from src to dst, ranges apart, in SIMD (assembly/copy.ts). */
  copyForward(dst: number, src: number, bytes: number): void;
  /**
   * The family options (assembly/family.ts) on rows r0 ≤ r < r1 of the call whose record is at `call`;
   * out holds (nll, smoothing, entropy) per row.
   */
  familyRows(call: number, r0: number, r1: number): void;
}

function bytes(base64 = KERNEL_WASM_BASE64): Uint8Array {
  const s = atob(base64);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

let module: WebAssembly.Module | null | undefined;
let pending: Promise<WebAssembly.Module | null> | null = null;

/** The compiled module, compiled synchronously on first use; null where that is not possible. */
export function kernelModule(): WebAssembly.Module | null {
  if (module !== undefined) return module;
  if (typeof WebAssembly !== 'object') {
    module = null;
    emitKernelEvent({ type: 'compile-error', error: new Error('WebAssembly is not available') });
    return null;
  }
  try {
    module = new WebAssembly.Module(bytes() as BufferSource);
  } catch {
    // e.g. a browser main thread, which refuses synchronous compilation: compile asynchronously instead
    // (loadKernel reports a real compile error).
    module = undefined;
    void loadKernel();
    return null;
  }
  return module;
}

/** Compile the kernel asynchronously (browsers); resolves to null where WASM SIMD is unavailable. */
export function loadKernel(): Promise<WebAssembly.Module | null> {
  if (module !== undefined) return Promise.resolve(module);
  pending ??= WebAssembly.compile(bytes() as BufferSource).then(
    (m) => (module = m),
    (error: unknown) => {
      emitKernelEvent({ type: 'compile-error', error });
      module = null;
      return null;
    },
  );
  return pending;
}

/** x rounded up to a multiple of 16 (in doubles: byte addresses reach 2³², past int32). */
export function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
}

/** Bytes of logits processed per kernel call: a few rows that stay in the L2 cache. */
export const CHUNK_BYTES = 1 << 18;

/** Rows of K logits in a chunk of at most {@link CHUNK_BYTES} (at least one). */
export function chunkRows(k: number): number {
  return Math.max(1, Math.floor(CHUNK_BYTES / (4 * k)));
}

/** Bytes of scratch for the block maxima of one row of K logits (the kernels work in blocks of 2048). */
export function blockMaxBytes(k: number): number {
  return 4 * Math.ceil(k / 2048) + 16;
}

let sharedModule: WebAssembly.Module | null | undefined;

/**
 * The build of the kernel that imports a shared memory (see memory.ts), compiled on first use; null
 * where WASM threads (shared memory) or synchronous compilation are unavailable.
 */
export function sharedKernelModule(): WebAssembly.Module | null {
  if (sharedModule !== undefined) return sharedModule;
  try {
    sharedModule = new WebAssembly.Module(bytes(KERNEL_SHARED_WASM_BASE64) as BufferSource);
  } catch {
    sharedModule = null;
  }
  return sharedModule;
}

/** A kernel instance with its own memory (grown on demand), or on an imported shared memory. */
export class KernelInstance {
  readonly exports: KernelExports;
  /** First byte the JS side lays out data at (the kernel's own static data lives below). */
  static readonly BASE = 65536;

  constructor(mod: WebAssembly.Module, memory?: WebAssembly.Memory) {
    // An AssemblyScript abort (it should never happen: the kernel is built without assertions) becomes
    // an exception, which the dispatch reports as a 'kernel-error' fallback.
    const abort = (_message: number, _file: number, line: number, column: number) => {
      throw new Error(`WASM kernel abort at line ${line}:${column}`);
    };
    const env: WebAssembly.ModuleImports = memory ? { abort, memory } : { abort };
    const exports = new WebAssembly.Instance(mod, { env }).exports as unknown as KernelExports;
    this.exports = memory ? { ...exports, memory } : exports;
  }
}
