// A bulk copy inside the kernel's memory (WASM `memory.copy`): on workspace memory the family kernel runs a
// chunk's last row in a thread's scratch (workspace.ts's familyChunk) and copies it back. From JavaScript,
// copyWithin on a shared memory's buffer ran at about a third of this speed.

/** Copy `bytes` bytes from `src` to `dst` (the ranges may overlap). */
export function copy(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}
