/**
 * labelsmooth: exact label-smoothed cross-entropy over typed arrays (every framework's convention) and
 * calibration metrics. Runs in Node and in browsers; the TF.js adapter is at `labelsmooth/tfjs`.
 */
export * from './core/index.js';
export { SUM_TOLERANCE } from './core/inputs.js';
export { suggestOption } from './core/options.js';
export {
  type CalibrationBin,
  type CalibrationOptions,
  type CalibrationReport,
  calibration,
} from './metrics/calibration.js';
export { fitTemperature, type TemperatureFit, type TemperatureOptions } from './metrics/temperature.js';
export { mulberry32 } from './random/mulberry32.js';
