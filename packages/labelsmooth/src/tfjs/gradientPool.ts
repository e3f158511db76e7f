// Gradient buffers of the cpu path, reused from one training step to the next: a fresh N×K array per step
// costs fresh pages (at 1024×32000, 20× the kernel call). A buffer is leased by the forward pass and given
// back once the backward pass has made its tensor; buffers never given back are left to the collector.

/** Free buffers by length; a few lengths (the last batch of an epoch is often shorter). */
const free = new Map<number, Float32Array[]>();
const MAX_LENGTHS = 4;
const PER_LENGTH = 2;

/** A Float32Array of `length`, reused when one is free (its contents are stale: the kernel overwrites it). */
export function leaseGradient(length: number): Float32Array {
  return free.get(length)?.pop() ?? new Float32Array(length);
}

/** Give a leased buffer back; nothing may hold it afterwards. */
export function returnGradient(buffer: Float32Array): void {
  let list = free.get(buffer.length);
  if (!list) {
    if (free.size >= MAX_LENGTHS) free.delete(free.keys().next().value as number);
    list = [];
    free.set(buffer.length, list);
  }
  if (list.length < PER_LENGTH && !list.includes(buffer)) list.push(buffer);
}
