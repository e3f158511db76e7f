import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelKind } from './kinds.js';

/** Name of the layer whose output is the penultimate representation (Müller et al.'s projection). */
export const PENULTIMATE = 'penultimate';
/** Name of the final (logits) layer: its kernel columns are the class templates. */
export const LOGITS = 'logits';

/**
 * A classifier that outputs logits. `mlp`: 256-128 ReLU; `pooled-mlp` (images only): 2×2 average pooling
 * (28×28 → 14×14, a quarter of the first layer's cost), then the same 256-128 ReLU MLP; `cnn` (images
 * only): two 3×3 conv + max-pool blocks, then 128 ReLU. Initializers are seeded so the same seed gives the
 * same model.
 */
export function buildModel(
  kind: ModelKind,
  features: number,
  classes: number,
  seed: number,
  imageShape?: [number, number, number],
): tfl.Sequential {
  let s = seed * 1000;
  const init = () => tfl.initializers.glorotUniform({ seed: s++ });
  const layers: tfl.layers.Layer[] = [];
  if (kind !== 'mlp' && !imageShape)
    throw new Error(
      `--model ${kind} needs image data (mnist or fashion-mnist); use --model mlp for CSV data`,
    );
  if (kind === 'cnn' && imageShape) {
    layers.push(
      tfl.layers.reshape({ inputShape: [features], targetShape: imageShape }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init() }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init() }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(), name: PENULTIMATE }),
    );
  } else {
    if (kind === 'pooled-mlp' && imageShape) {
      // No weights before the dense layers, so no gradient flows through the pooling.
      layers.push(
        tfl.layers.reshape({ inputShape: [features], targetShape: imageShape }),
        tfl.layers.averagePooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
      );
    }
    layers.push(
      tfl.layers.dense({
        ...(layers.length ? {} : { inputShape: [features] }),
        units: 256,
        activation: 'relu',
        kernelInitializer: init(),
      }),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(), name: PENULTIMATE }),
    );
  }
  layers.push(tfl.layers.dense({ units: classes, kernelInitializer: init(), name: LOGITS }));
  return tfl.sequential({ layers });
}

/**
 * The small student of knowledge distillation (Hinton et al. 2015; Müller et al. 2019 §5): one hidden
 * layer of `hidden` ReLU units, on 2×2 average-pooled images when the rows are images. Seeded like
 * {@link buildModel}.
 */
export function buildStudent(
  features: number,
  classes: number,
  seed: number,
  imageShape?: [number, number, number],
  hidden = 32,
): tfl.Sequential {
  let s = seed * 1000 + 500;
  const init = () => tfl.initializers.glorotUniform({ seed: s++ });
  const layers: tfl.layers.Layer[] = imageShape
    ? [
        tfl.layers.reshape({ inputShape: [features], targetShape: imageShape }),
        tfl.layers.averagePooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: init() }),
      ]
    : [
        tfl.layers.dense({
          inputShape: [features],
          units: hidden,
          activation: 'relu',
          kernelInitializer: init(),
        }),
      ];
  layers.push(tfl.layers.dense({ units: classes, kernelInitializer: init(), name: LOGITS }));
  return tfl.sequential({ layers });
}
