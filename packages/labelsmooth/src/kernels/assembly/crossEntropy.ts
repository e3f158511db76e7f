// The WASM kernel's entry point (AssemblyScript, compiled by scripts/build-wasm.mjs to WASM SIMD).
//   rows: the SIMD fast path (class-index targets, shared noise and mask), in rows.ts — the same row loss
//   and gradient as the float64 reference (src/core/reference.ts), fused in one streaming pass.
//   familyRows: the same with the family options (confidence penalty, focal loss, class-conditional
//   noise), in family.ts.
// Everything else (probability targets, per-sample noise, per-row masks) runs on the reference: the scalar
// general path that was here is gone (BENCHMARKS.md says why).
//   copy: memory.copy, for the family kernel's chunks on shared memory; copyForward: a worker's committed
//   chunk into its place (copy.ts).
export { copy, copyForward } from './copy';
export { familyRows } from './family';
export { rows } from './rows';
