import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { DataFileError } from '../data/errors.js';
import { writeDirAtomic, writeFileDurable } from './files.js';

type ModelArtifacts = tf.io.ModelArtifacts;

/** The files {@link directoryHandler} saves in its directory. */
export const MODEL_FILES = ['model.json', 'weights.bin'] as const;

/**
 * A TF.js IOHandler that saves and loads a model as `model.json` + `weights.bin` in a directory (the
 * layout of tfjs-node's `file://` handler, which is unavailable here). Saving is atomic.
 */
export function directoryHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = artifacts.weightData
        ? new Uint8Array(
            Array.isArray(artifacts.weightData)
              ? concat(artifacts.weightData)
              : (artifacts.weightData as ArrayBuffer),
          )
        : new Uint8Array(0);
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      writeDirAtomic(dir, (tmp) => {
        writeFileDurable(join(tmp, 'model.json'), JSON.stringify(json));
        writeFileDurable(join(tmp, 'weights.bin'), weights);
      });
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.length,
        },
      };
    },
    async load(): Promise<ModelArtifacts> {
      const file = join(dir, 'model.json');
      let json: {
        modelTopology: object;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
        format?: string;
      };
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new DataFileError(file, undefined, `cannot read model: ${(e as Error).message}`);
      }
      const specs = json.weightsManifest.flatMap((g) => g.weights);
      const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const data = concat(
        parts.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
      );
      return { modelTopology: json.modelTopology, weightSpecs: specs, weightData: data, format: json.format };
    },
  };
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}
