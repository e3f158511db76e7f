import { DataFileError } from './errors.js';

/** A parsed IDX file (the MNIST format): unsigned bytes with their dimensions. */
export interface Idx {
  dims: number[];
  data: Uint8Array;
}

/** Parse an IDX file of unsigned bytes (type 0x08), checking the magic number and the size. */
export function parseIdx(file: string, buf: Uint8Array): Idx {
  if (buf.length < 4)
    throw new DataFileError(file, undefined, `too short for an IDX header (${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint16(0) !== 0 || buf[2] !== 0x08) {
    throw new DataFileError(
      file,
      undefined,
      `not an unsigned-byte IDX file (magic 0x${view.getUint32(0).toString(16)})`,
    );
  }
  const rank = buf[3];
  const header = 4 + 4 * rank;
  if (rank < 1 || buf.length < header)
    throw new DataFileError(file, undefined, `corrupt IDX header (rank ${rank})`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== header + size) {
    throw new DataFileError(
      file,
      undefined,
      `IDX dims ${dims.join('×')} need ${header + size} bytes, file has ${buf.length}`,
    );
  }
  return { dims, data: buf.subarray(header) };
}
