import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/dataset.js';
import { LOGITS, PENULTIMATE } from './model.js';

/** Penultimate-layer activations of 3 classes projected on the plane of their templates. */
export interface Projection {
  /** The 3 class indices and names. */
  classes: number[];
  classNames: string[];
  /** The templates' own coordinates in the plane. */
  templates: { x: number; y: number; label: string }[];
  /** One point per projected test example. */
  points: { x: number; y: number; label: string }[];
}

/**
 * The visualization of Müller, Kornblith & Hinton 2019 ("When does label smoothing help?", §2): take the
 * last layer's weight vectors (templates) of 3 classes, build an orthonormal basis (e₁, e₂) of the plane
 * through the 3 templates (Gram–Schmidt on w_b − w_a, w_c − w_a), and project the penultimate activations
 * a of test examples of those classes onto it: ((a − w_a)·e₁, (a − w_a)·e₂).
 */
export function projectPenultimate(
  model: tfl.LayersModel,
  test: Dataset,
  classes: number[] = [0, 1, 2],
  perClass = 150,
): Projection {
  const kernel = model.getLayer(LOGITS).getWeights()[0]; // (d, K)
  const [d, k] = kernel.shape as [number, number];
  const kdata = kernel.dataSync();
  const template = (c: number) => Float64Array.from({ length: d }, (_, i) => kdata[i * k + c]);
  const [wa, wb, wc] = classes.map(template);
  const sub = (a: Float64Array, b: Float64Array) => a.map((v, i) => v - b[i]);
  const dot = (a: Float64Array, b: ArrayLike<number>) => a.reduce((s, v, i) => s + v * b[i], 0);
  const norm = (a: Float64Array) => a.map((v) => v / Math.sqrt(dot(a, a)));
  const e1 = norm(sub(wb, wa));
  const v = sub(wc, wa);
  const e2 = norm(v.map((x, i) => x - dot(v, e1) * e1[i]));
  const coords = (a: ArrayLike<number>) => {
    let x = 0;
    let y = 0;
    for (let i = 0; i < d; i++) {
      const r = a[i] - wa[i];
      x += r * e1[i];
      y += r * e2[i];
    }
    return { x, y };
  };
  const rows: number[] = [];
  const taken = new Map(classes.map((c) => [c, 0]));
  for (let i = 0; i < test.rows; i++) {
    const c = test.y[i];
    if (taken.has(c) && taken.get(c)! < perClass) {
      rows.push(i);
      taken.set(c, taken.get(c)! + 1);
    }
  }
  const penultimate = tfl.model({
    inputs: model.inputs,
    outputs: model.getLayer(PENULTIMATE).output as tfl.SymbolicTensor,
  });
  const f = test.features;
  const x = new Float32Array(rows.length * f);
  rows.forEach((r, i) => {
    x.set(test.x.subarray(r * f, (r + 1) * f), i * f);
  });
  const acts = tf.tidy(() => (penultimate.predict(tf.tensor2d(x, [rows.length, f])) as tf.Tensor).dataSync());
  const points = rows.map((r, i) => ({
    ...coords(acts.subarray(i * d, (i + 1) * d)),
    label: test.classNames[test.y[r]],
  }));
  const templates = [wa, wb, wc].map((w, j) => ({ ...coords(w), label: test.classNames[classes[j]] }));
  return { classes, classNames: classes.map((c) => test.classNames[c]), templates, points };
}
