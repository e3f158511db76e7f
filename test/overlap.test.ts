// Outputs that share memory with inputs. A gradient buffer that partly overlaps the logits, the targets,
// the weights, the noise or the mask (views of one ArrayBuffer, SharedArrayBuffer or the kernel's shared
// WebAssembly memory) is refused with an error naming both, before anything is written; the exact
// in-place mode (`grad: logits`, or another view of exactly its bytes) stays allowed; and inputs and
// outputs that are disjoint views of one buffer give the bits of separate arrays. Fuzzed over every entry
// point (crossEntropy with the family options, crossEntropyAsync, binaryCrossEntropy), both kernels
// (the JS reference and WASM) with threads on and off, in ordinary, shared and kernel memory.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  binaryCrossEntropy,
  crossEntropy,
  crossEntropyAsync,
  initKernels,
  kernelInfo,
  kernelWorkspace,
  LabelSmoothingError,
  noiseMatrix,
} from '../packages/labelsmooth/src/index.js';

type Float = Float32Array | Float64Array;
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;
type Entry = 'sync' | 'async' | 'binary';
type Where = 'array' | 'shared' | 'kernel';

/** One input of a call: its option path, element type, length and values. */
interface Input {
  role: string;
  type: Ctor;
  values: number[];
}

/** A random call: shape, entry point, options, and which arrays it reads. */
interface Call {
  entry: Entry;
  n: number;
  k: number;
  float64: boolean;
  grad64: boolean;
  kernel: 'js' | 'wasm' | 'auto';
  threads: boolean;
  family: 'plain' | 'focal' | 'flsd-53' | 'penalty';
  reduction: 'mean' | 'none';
  inputs: Input[];
}

const rowsOf = (n: number, k: number, f: (i: number, c: number) => number) =>
  Array.from({ length: n * k }, (_, j) => f(Math.floor(j / k), j % k));
/** Row-normalized positive values: n distributions over k classes. */
const distributions = (n: number, k: number, seed: number) => {
  const raw = rowsOf(n, k, (i, c) => 1 + ((i * 7 + c * 3 + seed) % 5));
  return raw.map((v, j) => {
    const i = Math.floor(j / k);
    const s = raw.slice(i * k, i * k + k).reduce((a, b) => a + b, 0);
    return v / s;
  });
};

/** The inputs of a call of `entry` (each option chosen at random by `pick`). */
function inputsOf(entry: Entry, n: number, k: number, float64: boolean, pick: boolean[]): Input[] {
  const F = float64 ? Float64Array : Float32Array;
  const logits: Input = {
    role: 'logits',
    type: F,
    values: rowsOf(n, k, (i, c) => Math.sin(i * 1.7 + c) * 5),
  };
  if (entry === 'binary') {
    const out = [logits, { role: 'target', type: F, values: rowsOf(n, k, (i, c) => ((i + c) % 5) / 4) }];
    if (pick[0])
      out.push({ role: 'options.weight', type: Float64Array, values: rowsOf(1, k, (_, c) => 1 + c / k) });
    if (pick[1])
      out.push({ role: 'options.sampleWeight', type: Float32Array, values: rowsOf(n, 1, (i) => 1 + i) });
    return out;
  }
  const out = [logits];
  if (pick[0] && k > 1) out.push({ role: 'target', type: F, values: distributions(n, k, 1) });
  else out.push({ role: 'target', type: Int32Array, values: rowsOf(n, 1, (i) => (i * 5) % k) });
  if (pick[1])
    out.push({ role: 'options.weight', type: Float64Array, values: rowsOf(1, k, (_, c) => 0.5 + c / k) });
  if (pick[2])
    out.push({ role: 'options.sampleWeight', type: Float32Array, values: rowsOf(n, 1, (i) => 1 + i / 2) });
  if (pick[3]) out.push({ role: 'options.noise', type: Float64Array, values: distributions(1, k, 2) });
  else if (pick[4]) out.push({ role: 'options.noise', type: F, values: distributions(n, k, 3) });
  else if (pick[5])
    out.push({ role: 'options.noise.matrix', type: Float32Array, values: distributions(k, k, 4) });
  if (pick[6]) out.push({ role: 'options.classMask', type: Uint8Array, values: rowsOf(1, k, () => 1) });
  return out;
}

const call: fc.Arbitrary<Call> = fc
  .record({
    entry: fc.constantFrom<Entry>('sync', 'async', 'binary'),
    n: fc.integer({ min: 1, max: 12 }),
    k: fc.integer({ min: 1, max: 70 }),
    float64: fc.boolean(),
    grad64: fc.boolean(),
    kernel: fc.constantFrom<'js' | 'wasm' | 'auto'>('js', 'wasm', 'auto'),
    threads: fc.boolean(),
    family: fc.constantFrom<Call['family']>('plain', 'focal', 'flsd-53', 'penalty'),
    reduction: fc.constantFrom<'mean' | 'none'>('mean', 'none'),
    pick: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
  })
  .map(({ pick, ...c }) => ({ ...c, inputs: inputsOf(c.entry, c.n, c.k, c.float64, pick) }));

/** Bytes for one region of memory: an ArrayBuffer, a SharedArrayBuffer or a kernelWorkspace's memory. */
function memory(where: Where, bytes: number): { buffer: ArrayBuffer; base: number; dispose(): void } {
  if (where === 'array') return { buffer: new ArrayBuffer(bytes), base: 0, dispose() {} };
  // (typed as ArrayBuffer: the constructors of typed arrays take either)
  if (where === 'shared')
    return { buffer: new SharedArrayBuffer(bytes) as unknown as ArrayBuffer, base: 0, dispose() {} };
  const ws = kernelWorkspace(1, Math.ceil(bytes / 4));
  assert.equal(ws.shared, true, 'the kernel memory is shared here');
  return { buffer: ws.logits.buffer as ArrayBuffer, base: ws.logits.byteOffset, dispose: () => ws.dispose() };
}

const align8 = (x: number) => Math.ceil(x / 8) * 8;

/** The arrays of a call laid out one after another in one memory, `lead` bytes in. */
function layout(c: Call, where: Where, lead: number, trail: number) {
  const sizes = c.inputs.map((x) => align8(x.values.length * x.type.BYTES_PER_ELEMENT));
  const total = lead + sizes.reduce((a, b) => a + b, 0) + trail;
  const mem = memory(where, total);
  let at = mem.base + lead;
  const views = c.inputs.map((x, j) => {
    const v = new x.type(mem.buffer, at, x.values.length);
    v.set(x.values);
    at += sizes[j];
    return v;
  });
  return { mem, views, end: at, total };
}

/** The options and arguments of a call from its input arrays. */
function argumentsOf(c: Call, arrays: ArrayLike<number>[], grad: Float) {
  const byRole = new Map(c.inputs.map((x, j) => [x.role, arrays[j]]));
  const o: Record<string, unknown> = { classes: c.k, grad, reduction: c.reduction, labelSmoothing: 0.1 };
  if (c.entry !== 'binary') {
    o.kernel = c.kernel;
    o.threads = c.threads;
    if (c.family === 'focal') o.focalGamma = 2;
    if (c.family === 'flsd-53') o.focalGamma = 'flsd-53';
    if (c.family === 'penalty') o.confidencePenalty = 0.3;
  }
  for (const role of ['options.weight', 'options.sampleWeight', 'options.noise', 'options.classMask'])
    if (byRole.has(role)) o[role.slice(8)] = byRole.get(role);
  if (byRole.has('options.noise.matrix')) o.noise = { matrix: byRole.get('options.noise.matrix') };
  return { logits: byRole.get('logits') as Float, target: byRole.get('target') as Float, options: o };
}

/** Run a call; its result, or the error it threw. */
async function run(c: Call, arrays: ArrayLike<number>[], grad: Float): Promise<unknown> {
  const { logits, target, options } = argumentsOf(c, arrays, grad);
  try {
    if (c.entry === 'binary') return binaryCrossEntropy(logits, target, options as never);
    if (c.entry === 'async') return await crossEntropyAsync(logits, target as never, options as never);
    return crossEntropy(logits, target as never, options as never);
  } catch (error) {
    return error;
  }
}

/** Results with the same bits: every number by Object.is, every array byte for byte. */
function assertSameBits(a: unknown, b: unknown, what: string): void {
  if (a instanceof Error || b instanceof Error) {
    assert.equal(String(a), String(b), what);
    return;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  assert.deepEqual(Object.keys(x).sort(), Object.keys(y).sort(), what);
  for (const key of Object.keys(x)) {
    const u = x[key];
    const v = y[key];
    if (ArrayBuffer.isView(u)) {
      const bytes = (t: ArrayBufferView) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
      assert.deepEqual(bytes(u), bytes(v as ArrayBufferView), `${what}: ${key}`);
    } else assert.ok(Object.is(u, v), `${what}: ${key} ${u} vs ${v}`);
  }
}

const grads = (c: Call) => (c.grad64 ? Float64Array : Float32Array);
const bytesOf = (buffer: ArrayBufferLike, at: number, length: number) =>
  Uint8Array.from(new Uint8Array(buffer, at, length));

describe('outputs overlapping inputs', () => {
  before(async () => {
    await initKernels();
  });

  for (const where of ['array', 'shared', 'kernel'] as const) {
    it(`fuzz (${where} memory): a gradient partly over any input is refused, naming both; nothing is written`, async () => {
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(call, fc.nat(), fc.nat(), async (c, victimSeed, shiftSeed) => {
          const G = grads(c);
          const gradBytes = c.n * c.k * G.BYTES_PER_ELEMENT;
          const { mem, views, total } = layout(c, where, align8(gradBytes), align8(gradBytes));
          const victim = views[victimSeed % views.length];
          const role = c.inputs[victimSeed % views.length].role;
          // a start from (victim start − grad bytes, victim end), in whole gradient elements
          const span = Math.ceil((victim.byteLength + gradBytes) / G.BYTES_PER_ELEMENT) - 1;
          const start = victim.byteOffset - gradBytes + G.BYTES_PER_ELEMENT * (1 + (shiftSeed % span));
          const grad = new G(mem.buffer, start, c.n * c.k);
          if (role === 'logits' && start === victim.byteOffset && G === victim.constructor) {
            mem.dispose(); // exactly the logits: the in-place mode, not an overlap
            return;
          }
          const before = bytesOf(mem.buffer, mem.base, total);
          const outcome = await run(c, views, grad);
          const after = bytesOf(mem.buffer, mem.base, total);
          mem.dispose();
          assert.ok(outcome instanceof LabelSmoothingError, `${role}: not refused: ${String(outcome)}`);
          assert.equal(outcome.argument, 'options.grad');
          const name =
            c.entry === 'binary'
              ? 'binaryCrossEntropy'
              : c.entry === 'async'
                ? 'crossEntropyAsync'
                : 'crossEntropy';
          assert.equal(outcome.fn, name);
          assert.match(
            outcome.message,
            /shares memory with (logits|target|options\.\w+(\.matrix)?): its element/,
          );
          assert.match(outcome.message, /\(bytes \[\d+, \d+\) of one buffer\)/);
          assert.deepEqual(after, before, 'nothing written');
          refused++;
        }),
        { numRuns: 150, seed: 21 },
      );
      assert.ok(refused > 100, `${refused} overlaps refused`);
    });

    it(`fuzz (${where} memory): disjoint views of one buffer give the bits of separate arrays`, async () => {
      await fc.assert(
        fc.asyncProperty(call, async (c) => {
          const G = grads(c);
          const size = c.n * c.k;
          const { mem, views, end } = layout(c, where, 0, align8(size * G.BYTES_PER_ELEMENT));
          const grad = new G(mem.buffer, end, size);
          const separate = c.inputs.map((x) => x.type.from(x.values));
          const expected = await run(c, separate, new G(size));
          const got = await run(c, views, grad);
          const inputsAfter = views.map((v) => Array.from(v));
          mem.dispose();
          assertSameBits(got, expected, `${c.entry} ${where} kernel=${c.kernel}`);
          if (!(got instanceof Error))
            assert.deepEqual(
              inputsAfter,
              c.inputs.map((x) => Array.from(x.type.from(x.values))),
              'inputs intact',
            );
        }),
        { numRuns: 120, seed: 22 },
      );
    });
  }

  it('the in-place mode: the logits array itself, or another view of exactly its bytes', () => {
    const buffer = new ArrayBuffer(4 * 80);
    const z = new Float32Array(buffer, 16, 30);
    z.set(rowsOf(6, 5, (i, c) => Math.cos(i + 2 * c) * 3));
    const y = [0, 1, 2, 3, 4, 0];
    for (const kernel of ['js', 'wasm'] as const) {
      const expected = crossEntropy(z.slice(), y, { classes: 5, labelSmoothing: 0.2, grad: true, kernel });
      const copy = new Float32Array(buffer, 16, 30);
      const saved = copy.slice();
      const r = crossEntropy(z, y, { classes: 5, labelSmoothing: 0.2, grad: copy, kernel });
      assert.equal(r.grad, copy);
      assert.deepEqual(Array.from(z), Array.from(expected.grad!), kernel);
      z.set(saved);
    }
    // the same bytes as float64 elements are not the same array: an overlap
    assert.throws(
      () => crossEntropy(z, y, { classes: 5, grad: new Float64Array(buffer, 16, 30) }),
      LabelSmoothingError,
    );
  });

  it('views of the kernel memory made before and after it grew are one memory', () => {
    const ws = kernelWorkspace(4, 16);
    const old = ws.logits.buffer;
    const big = kernelWorkspace(64, 65536); // grows the memory: later views get a new SharedArrayBuffer
    try {
      assert.notEqual(big.logits.buffer, old, 'the memory grew');
      ws.logits.set(rowsOf(4, 16, (i, c) => i - c / 3));
      const shifted = new Float32Array(big.logits.buffer, ws.logits.byteOffset + 16 * 4, 3 * 16);
      assert.throws(
        () => crossEntropy(ws.logits.subarray(0, 48), [0, 1, 2], { classes: 16, grad: shifted }),
        /crossEntropy: options\.grad = Float32Array\(length 48\): shares memory with logits: its elements \[0, 32\) are elements \[16, 48\) of logits/,
      );
    } finally {
      big.dispose();
      ws.dispose();
    }
  });

  it('a gradient over a noiseMatrix’s private copy (a view of the whole kernel memory) is refused', () => {
    const k = 8;
    const S = noiseMatrix(distributions(k, k, 5), { classes: k });
    const ws = kernelWorkspace(2, k);
    try {
      const whole = new Float32Array(ws.logits.buffer);
      // find S's copy in the kernel memory: the one run of its K² floats
      const values = S.toArray();
      let at = -1;
      for (let j = 0; j + values.length <= whole.length && at < 0; j++)
        if (whole[j] === values[0] && values.every((v, m) => whole[j + m] === v)) at = j;
      assert.ok(at >= 0, "S's copy is in the kernel memory (Node has FinalizationRegistry)");
      const grad = new Float32Array(ws.logits.buffer, 4 * at + 4, 2 * k);
      assert.throws(
        () => crossEntropy(ws.logits, [0, 1], { classes: k, noise: { matrix: S }, grad }),
        /shares memory with options\.noise\.matrix/,
      );
    } finally {
      ws.dispose();
    }
  });

  describe('threads (≥ 2²⁰ logits, every thread of the pool)', () => {
    const N = 96;
    const K = 12000;
    const y = Int32Array.from({ length: N }, (_, i) => (i % 9 === 4 ? -100 : (i * 131) % K));
    const fill = (z: Float32Array) => {
      for (let j = 0; j < z.length; j++) z[j] = Math.sin(j * 0.37) * 8;
    };

    it('a gradient shifted by one row over the logits is refused on every path; disjoint views run threaded', () => {
      const buffer = new ArrayBuffer(4 * (N + 1) * K * 2);
      const z = new Float32Array(buffer, 0, N * K);
      fill(z);
      const saved = z.slice();
      for (const threads of [true, false])
        for (const kernel of ['js', 'wasm', 'auto'] as const)
          assert.throws(
            () =>
              crossEntropy(z, y, {
                classes: K,
                grad: new Float32Array(buffer, 4 * K, N * K),
                threads,
                kernel,
              }),
            /options\.grad .* shares memory with logits: its elements \[0, 1140000\) are elements \[12000, 1152000\) of logits/,
          );
      assert.deepEqual(z, saved);
      const grad = new Float32Array(buffer, 4 * (N + 1) * K, N * K);
      const o = { classes: K, labelSmoothing: 0.1, focalGamma: 'flsd-53' as const };
      const one = crossEntropy(z.slice(), y, { ...o, grad: true, threads: false });
      const many = crossEntropy(z, y, { ...o, grad, threads: true });
      assert.equal(kernelInfo().last?.path, 'wasm-threads');
      assertSameBits({ ...many, grad: null }, { ...one, grad: null }, 'threaded, disjoint views');
      assert.deepEqual(grad, one.grad);
      assert.deepEqual(z, saved);
    });

    it('workspace buffers: a gradient over the workspace logits is refused; its own gradient is not', () => {
      const ws = kernelWorkspace(N + 1, K);
      try {
        fill(ws.logits);
        const z = ws.logits.subarray(0, N * K);
        assert.throws(
          () => crossEntropy(z, y, { classes: K, grad: ws.logits.subarray(K / 2, K / 2 + N * K) }),
          /shares memory with logits/,
        );
        const r = crossEntropy(z, y, { classes: K, grad: ws.grad.subarray(0, N * K), labelSmoothing: 0.1 });
        const plain = crossEntropy(z.slice(), y, {
          classes: K,
          grad: true,
          labelSmoothing: 0.1,
          threads: false,
        });
        assert.equal(r.loss, plain.loss);
        assert.deepEqual(ws.grad.subarray(0, N * K), plain.grad);
      } finally {
        ws.dispose();
      }
    });
  });
});
