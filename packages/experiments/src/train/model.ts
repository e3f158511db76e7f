import * as tfl from '@tensorflow/tfjs-layers';

/** Model architectures the CLI trains. */
export type ModelKind = 'mlp' | 'cnn';

/** Name of the layer whose output is the penultimate representation (Müller et al.'s projection). */
export const PENULTIMATE = 'penultimate';
/** Name of the final (logits) layer: its kernel columns are the class templates. */
export const LOGITS = 'logits';

/**
 * A classifier that outputs logits. `mlp`: 256-128 ReLU; `cnn` (images only): two 3×3 conv + max-pool
 * blocks, then 128 ReLU. Initializers are seeded so the same seed gives the same model.
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
  if (kind === 'cnn') {
    if (!imageShape)
      throw new Error('--model cnn needs image data (mnist or fashion-mnist); use --model mlp for CSV data');
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
    layers.push(
      tfl.layers.dense({ inputShape: [features], units: 256, activation: 'relu', kernelInitializer: init() }),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(), name: PENULTIMATE }),
    );
  }
  layers.push(tfl.layers.dense({ units: classes, kernelInitializer: init(), name: LOGITS }));
  return tfl.sequential({ layers });
}
