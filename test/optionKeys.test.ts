// Option bags are read from their own string keys only, on every entry point that takes one: a symbol key
// or a key inherited from a prototype is an error naming the function and the key (a spread drops it, a
// property read sees it: two different calls), and so is any key of a function that takes no options.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binaryCalibration,
  binaryCrossEntropy,
  calibration,
  compareCalibration,
  crossEntropy,
  crossEntropyAsync,
  fitTemperature,
  initKernels,
  kernelWorkspace,
  LabelSmoothingError,
  noiseMatrix,
  OnlineLabelSmoothing,
  smoothEce,
  smoothLabels,
  smoothReliability,
} from '../packages/labelsmooth/src/index.js';
import {
  batches,
  CalibrationCallback,
  losses,
  softmaxCrossEntropy,
} from '../packages/labelsmooth/src/tfjs/index.js';
import { tf, useBackend } from './helpers/tf.js';

/** `f` (sync or async) throws a LabelSmoothingError of `fn` about `argument`. */
async function refuses(f: () => unknown, fn: string, argument: string, re: RegExp): Promise<void> {
  let error: unknown;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof LabelSmoothingError, `${fn}: not refused (${String(error)})`);
  assert.equal(error.fn, fn);
  assert.equal(error.argument, argument);
  assert.match(error.message, re);
}

const z = [[2, 1, 0]];
const z2 = [
  [2, 1, 0],
  [0, 1, 2],
];
/** Every public entry point with an option bag: its name, the option it knows, and a call with `o`. */
const ENTRIES: [string, string, unknown, (o: object) => unknown][] = [
  ['crossEntropy', 'labelSmoothing', 0.1, (o) => crossEntropy(z, [0], o)],
  ['crossEntropyAsync', 'labelSmoothing', 0.1, (o) => crossEntropyAsync(z, [0], o)],
  ['smoothLabels', 'labelSmoothing', 0.1, (o) => smoothLabels([[1, 0, 0]], o)],
  ['binaryCrossEntropy', 'labelSmoothing', 0.1, (o) => binaryCrossEntropy([[0]], [[1]], o)],
  ['noiseMatrix', 'classes', 2, (o) => noiseMatrix([0.5, 0.5, 0.5, 0.5], o)],
  ['OnlineLabelSmoothing.update', 'ignoreIndex', -1, (o) => new OnlineLabelSmoothing(3).update(z, [0], o)],
  ['calibration', 'bins', 5, (o) => calibration(z, [0], o)],
  ['binaryCalibration', 'bins', 5, (o) => binaryCalibration([0.3], [1], o)],
  ['compareCalibration', 'bins', 5, (o) => compareCalibration(z2, z2, [0, 1], o)],
  ['fitTemperature', 'range', [0.1, 10], (o) => fitTemperature(z, [0], o)],
  ['smoothEce', 'bandwidth', 0.1, (o) => smoothEce([0.5], [1], o)],
  ['smoothReliability', 'points', 5, (o) => smoothReliability([0.5], [1], o)],
  ['initKernels', 'threads', false, (o) => initKernels(o)],
];

describe('option keys: own string keys only, on every entry point', () => {
  for (const [fn, key, value, call] of ENTRIES) {
    it(`${fn}: a symbol key and an inherited key are errors naming them`, async () => {
      await refuses(
        () => call({ [Symbol('labelSmoothing')]: 0.1 }),
        fn,
        'options[Symbol(labelSmoothing)]',
        /symbol key/,
      );
      const inherited = Object.create({ [key]: value });
      await refuses(() => call(inherited), fn, `options.${key}`, /inherited from a prototype/);
      // the same option as an own key is fine
      await call({ [key]: value });
    });
  }

  it('Object.prototype keys are never read as options (a polluted prototype changes nothing)', () => {
    const plain = crossEntropy(z, [0]);
    (Object.prototype as Record<string, unknown>).labelSmoothing = 0.5;
    try {
      assert.equal(crossEntropy(z, [0], {}).loss, plain.loss);
    } finally {
      delete (Object.prototype as Record<string, unknown>).labelSmoothing;
    }
  });

  it('an option with a getter is read once', () => {
    let reads = 0;
    const o = {
      get labelSmoothing() {
        reads++;
        return reads === 1 ? 0.1 : 2; // a second read would see an invalid ε
      },
    };
    assert.equal(crossEntropy(z, [0], o).loss, crossEntropy(z, [0], { labelSmoothing: 0.1 }).loss);
    assert.equal(reads, 1);
  });

  it('noise as { matrix }: a symbol or inherited key is an error too', async () => {
    const S = [0.5, 0.25, 0.25, 0.25, 0.5, 0.25, 0.25, 0.25, 0.5];
    await refuses(
      () => crossEntropy(z, [0], { noise: { matrix: S, [Symbol('rows')]: 3 } as never }),
      'crossEntropy',
      'options.noise[Symbol(rows)]',
      /unknown key; expected \{ matrix \}/,
    );
    await refuses(
      () => crossEntropy(z, [0], { noise: Object.create({ matrix: S }) }),
      'crossEntropy',
      'options.noise.matrix',
      /inherited/,
    );
  });

  it('kernelWorkspace takes no options: any key is an error naming it', async () => {
    await refuses(
      () => kernelWorkspace(10, 10, { foo: 1 } as never),
      'kernelWorkspace',
      'options.foo',
      /takes no options/,
    );
    await refuses(
      () => initKernels({ thread: false } as never),
      'initKernels',
      'options.thread',
      /did you mean threads\?/,
    );
    kernelWorkspace(10, 10, {}).dispose();
  });

  it('the TF.js op, the compile losses, batches and CalibrationCallback check theirs', async () => {
    await useBackend('cpu');
    const logits = tf.tensor2d([[2, 1, 0]]);
    const x = tf.tensor2d([[1], [2]]);
    const y = tf.tensor1d([0, 1], 'int32');
    try {
      await refuses(
        () => softmaxCrossEntropy([0], logits, { [Symbol('s')]: 1 } as never),
        'softmaxCrossEntropy',
        'options[Symbol(s)]',
        /symbol/,
      );
      await refuses(
        () => softmaxCrossEntropy([0], logits, Object.create({ labelSmoothing: 0.1 })),
        'softmaxCrossEntropy',
        'options.labelSmoothing',
        /inherited/,
      );
      await refuses(
        () => losses.categoricalCrossentropy(Object.create({ labelSmoothing: 0.1 })),
        'categoricalCrossentropy',
        'options.labelSmoothing',
        /inherited/,
      );
      await refuses(
        () => batches(x, y, { batch_size: 1 } as never),
        'batches',
        'options.batch_size',
        /batchSize/,
      );
      await refuses(
        () => new CalibrationCallback({ x, labels: [0, 1], bin: 10 } as never),
        'CalibrationCallback',
        'options.bin',
        /did you mean bins\?/,
      );
    } finally {
      tf.dispose([logits, x, y]);
    }
  });
});
