import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabelSmoothingError } from '../packages/labelsmooth/src/core/errors.js';
import { checkOptions, suggestOption } from '../packages/labelsmooth/src/core/options.js';

const KNOWN = [
  'classes',
  'labelSmoothing',
  'ignoreIndex',
  'sampleWeight',
  'weight',
  'reduction',
  'classMask',
];

test('suggestOption: foreign names and typos map to ours', () => {
  assert.equal(suggestOption('label_smoothing', KNOWN), 'labelSmoothing');
  assert.equal(suggestOption('labelsmoothing', KNOWN), 'labelSmoothing');
  assert.equal(suggestOption('ignore_index', KNOWN), 'ignoreIndex');
  assert.equal(suggestOption('reduce', KNOWN), 'reduction');
  assert.equal(suggestOption('mask', KNOWN), 'classMask');
  assert.equal(suggestOption('sample_weight', KNOWN), 'sampleWeight');
  assert.equal(suggestOption('clases', KNOWN), 'classes');
  assert.equal(suggestOption('zzzzzzzz', KNOWN), undefined);
});

test('checkOptions: unknown key names the function, the key, the value and a suggestion', () => {
  assert.throws(
    () => checkOptions('crossEntropy', { label_smoothing: 0.1 }, KNOWN),
    (e: unknown) =>
      e instanceof LabelSmoothingError &&
      e.fn === 'crossEntropy' &&
      e.argument === 'options.label_smoothing' &&
      e.value === 0.1 &&
      /did you mean labelSmoothing\?/.test(e.message),
  );
  assert.throws(() => checkOptions('f', { zzzzzzzz: 1 }, KNOWN), /known options: classes/);
});

test('checkOptions: non-objects are LabelSmoothingErrors, undefined is no options', () => {
  for (const bad of [null, 5, 'x', [1], new Float32Array(2)]) {
    assert.throws(() => checkOptions('f', bad, KNOWN), LabelSmoothingError);
  }
  assert.deepEqual(checkOptions('f', undefined, KNOWN), {});
  // a copy of the own keys, with no prototype to read anything else from
  const o = { classes: 3 };
  const copy = checkOptions('f', o, KNOWN);
  assert.notEqual(copy, o);
  assert.deepEqual({ ...copy }, o);
  assert.equal(Object.getPrototypeOf(copy), null);
});
