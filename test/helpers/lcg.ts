// Seeded test data shared by the kernel and edge-case tests.

/** A seeded generator in [0, 1) (a linear congruential one: plenty for test data). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
}
