import { DataFileError } from './errors.js';

/** A parsed NumPy array: values as float64, with its shape. */
export interface NpyArray {
  shape: number[];
  data: Float64Array;
  dtype: string;
}

const READERS: Record<string, [number, (v: DataView, o: number, le: boolean) => number]> = {
  f4: [4, (v, o, le) => v.getFloat32(o, le)],
  f8: [8, (v, o, le) => v.getFloat64(o, le)],
  f2: [2, (v, o, le) => halfToFloat(v.getUint16(o, le))],
  i1: [1, (v, o) => v.getInt8(o)],
  u1: [1, (v, o) => v.getUint8(o)],
  b1: [1, (v, o) => v.getUint8(o)],
  i2: [2, (v, o, le) => v.getInt16(o, le)],
  u2: [2, (v, o, le) => v.getUint16(o, le)],
  i4: [4, (v, o, le) => v.getInt32(o, le)],
  u4: [4, (v, o, le) => v.getUint32(o, le)],
  i8: [8, (v, o, le) => Number(v.getBigInt64(o, le))],
  u8: [8, (v, o, le) => Number(v.getBigUint64(o, le))],
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Parse a `.npy` file (NumPy format versions 1–3): numeric dtypes of either byte order, C or Fortran order
 * (Fortran arrays are transposed to row-major). What `np.save` writes from PyTorch/NumPy outputs.
 */
export function parseNpy(file: string, buf: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.length < 10 || magic.some((b, i) => buf[i] !== b))
    throw new DataFileError(file, undefined, 'not a .npy file (bad magic)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const major = buf[6];
  if (major < 1 || major > 3) throw new DataFileError(file, undefined, `unsupported .npy version ${major}`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (buf.length < start + headerLen) throw new DataFileError(file, undefined, 'truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    buf.subarray(start, start + headerLen),
  );
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM)
    throw new DataFileError(file, undefined, `cannot read the .npy header: ${header.trim()}`);
  const dtype = descr[2];
  const reader = READERS[dtype];
  if (!reader)
    throw new DataFileError(file, undefined, `unsupported dtype '${descr[1]}${dtype}' (numeric arrays only)`);
  const little = descr[1] !== '>';
  const shape = shapeM[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const [bytes, read] = reader;
  const offset = start + headerLen;
  if (buf.length - offset !== size * bytes) {
    throw new DataFileError(
      file,
      undefined,
      `shape (${shape.join(', ')}) of ${dtype} needs ${size * bytes} data bytes, file has ${buf.length - offset}`,
    );
  }
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = read(view, offset + i * bytes, little);
  if (fortran[1] === 'True' && shape.length === 2) {
    const [r, c] = shape;
    const t = new Float64Array(size);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[i * c + j] = data[j * r + i];
    return { shape, data: t, dtype };
  }
  if (fortran[1] === 'True' && shape.length > 2)
    throw new DataFileError(file, undefined, 'Fortran-order arrays of rank > 2 are not supported');
  return { shape, data, dtype };
}
