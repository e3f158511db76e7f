// A bulk copy inside the kernel's memory (WASM `memory.copy`): the family kernel runs a chunk's last row in a
// thread's scratch (executor.ts's computeChunk) and copies it back. From JavaScript,
// copyWithin on a shared memory's buffer ran at about a third of this speed.

/** Copy `bytes` bytes from `src` to `dst` (the ranges may overlap). */
export function copy(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}

/**
 * Copy `bytes` bytes (a multiple of 4) from `src` to `dst`, ranges apart, 64 bytes a step in SIMD: a worker's
 * committed chunk into its place. On a shared memory `memory.copy` moves a word at a time (it must allow
 * for other threads); plain vector loads and stores are what the kernel's own passes use there.
 */
export function copyForward(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 64 <= bytes; i += 64) {
    const a = v128.load(src + i);
    const b = v128.load(src + i, 16);
    const c = v128.load(src + i, 32);
    const d = v128.load(src + i, 48);
    v128.store(dst + i, a);
    v128.store(dst + i, b, 16);
    v128.store(dst + i, c, 32);
    v128.store(dst + i, d, 48);
  }
  for (; i < bytes; i += 4) store<u32>(dst + i, load<u32>(src + i));
}
