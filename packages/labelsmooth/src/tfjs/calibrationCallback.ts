import type * as tf from '@tensorflow/tfjs-core';
import { Callback, type Logs } from '@tensorflow/tfjs-layers';
import { checkOptions } from '../core/options.js';
import { type CalibrationReport, calibration } from '../metrics/calibration.js';

/** Options of {@link CalibrationCallback}. */
export interface CalibrationCallbackOptions {
  /** Validation inputs. */
  x: tf.Tensor;
  /** Validation class indices. */
  labels: ArrayLike<number>;
  /** Whether the model outputs logits (default) or probabilities. */
  from?: 'logits' | 'probs';
  /** Number of confidence bins; default 15. */
  bins?: number;
  /** Batch size for `model.predict`; default 256. */
  batchSize?: number;
  /** Called with each epoch's report; default: one line on the console. `false` for silence. */
  log?: ((epoch: number, report: CalibrationReport) => void) | false;
}

/**
 * A tfjs-layers callback that computes {@link calibration} on validation data at each epoch end, logs it,
 * keeps it in `history`, and adds `val_ece`, `val_nll`, `val_confidence` to the epoch logs.
 */
export class CalibrationCallback extends Callback {
  /** Reports by epoch. */
  readonly history: {
    /** The epoch, from 0 as tfjs-layers counts. */
    epoch: number;
    /** {@link calibration} of the validation data at its end. */
    report: CalibrationReport;
  }[] = [];
  private readonly options: CalibrationCallbackOptions;

  /** @param options checked now: an unknown, symbol or inherited key is an error naming it */
  constructor(options: CalibrationCallbackOptions) {
    super();
    const keys = ['x', 'labels', 'from', 'bins', 'batchSize', 'log'];
    this.options = checkOptions<CalibrationCallbackOptions>(
      'CalibrationCallback',
      options,
      keys,
    ) as CalibrationCallbackOptions;
  }

  /** Computes the report at the end of an epoch (tfjs-layers calls it). */
  override async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    const { x, labels, from = 'logits', bins = 15, batchSize = 256, log } = this.options;
    const out = this.model.predict(x, { batchSize }) as tf.Tensor;
    const classes = out.shape[1] as number;
    const data = (await out.data()) as Float32Array;
    out.dispose();
    const report = calibration(data, labels, { classes, from, bins });
    this.history.push({ epoch, report });
    if (logs) {
      logs.val_ece = report.ece;
      logs.val_nll = report.nll;
      logs.val_confidence = report.meanConfidence;
    }
    if (log !== false) {
      (log ?? defaultLog)(epoch, report);
    }
  }
}

function defaultLog(epoch: number, r: CalibrationReport): void {
  console.log(
    `epoch ${epoch + 1}: acc ${r.accuracy.toFixed(4)}  nll ${r.nll.toFixed(4)}  ece ${r.ece.toFixed(4)}  ` +
      `confidence ${r.meanConfidence.toFixed(4)}  over-confidence ${r.overconfidence.toFixed(4)}`,
  );
}
