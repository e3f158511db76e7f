/**
 * labelsmooth: exact label-smoothed cross-entropy over typed arrays (every framework's convention) and
 * calibration metrics. Runs in Node and in browsers; the TF.js adapter is at `labelsmooth/tfjs`.
 */
export * from './core/index.js';
export { SUM_TOLERANCE } from './core/inputs.js';
export { suggestOption } from './core/options.js';
export { logSumExp, rowMax, softmaxRow, sumExp } from './core/softmax.js';
export {
  type BinaryCalibrationOptions,
  type BinaryCalibrationReport,
  binaryCalibration,
} from './metrics/binaryCalibration.js';
export {
  BOOTSTRAP_METRICS,
  type BootstrapMetric,
  type BootstrapSettings,
  type CalibrationIntervals,
  type Interval,
} from './metrics/bootstrap.js';
export {
  type CalibrationBin,
  type CalibrationOptions,
  type CalibrationReport,
  calibration,
  type RiskCoverageCurve,
} from './metrics/calibration.js';
export {
  type CalibrationComparison,
  type CompareOptions,
  compareCalibration,
  type MetricDifference,
} from './metrics/compareCalibration.js';
export { type DebiasedEce, type DebiasedEceOptions, debiasedEce } from './metrics/debiasedEce.js';
export { type RiskCoverage, riskCoverage } from './metrics/riskCoverage.js';
export {
  type SmoothEce,
  type SmoothEceOptions,
  type SmoothReliability,
  type SmoothReliabilityOptions,
  smoothEce,
  smoothReliability,
} from './metrics/smoothEce.js';
export { fitTemperature, type TemperatureFit, type TemperatureOptions } from './metrics/temperature.js';
export { mulberry32 } from './random/mulberry32.js';
