// Each run's training loss in symbols, for the report's captions, legends and sentences: what
// the trainer minimises (train/trainer.ts: labelsmooth's softmaxCrossEntropy with train/losses.ts'
// lossOptions and the run's ε, noise and S).
import { isFocal, type LossName } from '../train/losses.js';

/** Names of the two parts the trainer records per epoch (`trainNll`, `trainSmoothing`) for one loss. */
export interface LossParts {
  /** The part to the labels: H(p,q), or the focal F(p). */
  p: string;
  /** The part to the smoothing distribution: H(u,q), H(S[y],q) for ols, or the focal F(u). */
  u: string;
  /** What the second part measures against: `to uniform`, `to the learned S[y]`, … */
  to: string;
}

/** What u is for each `--noise` (Szegedy's uniform, the other K − 1 classes, the training frequencies). */
const NOISE: Record<string, { to: string; u: string }> = {
  uniform: { to: 'to uniform', u: 'u uniform over the K classes' },
  'non-target': { to: 'to the other classes', u: 'u uniform over the K − 1 other classes' },
  prior: { to: 'to the class prior', u: 'u the training class frequencies' },
};

const noiseOf = (noise: string) => NOISE[noise] ?? { to: `to ${noise}`, u: `u = ${noise}` };

/** The names of a loss's two recorded parts (no loss given: label smoothing, as `ls`). */
export function lossParts(loss: LossName | undefined, noise: string): LossParts {
  if (isFocal({ loss })) return { p: 'F(p)', u: 'F(u)', to: noiseOf(noise).to };
  if (loss === 'ols') return { p: 'H(p,q)', u: 'H(S[y],q)', to: 'to the learned S[y]' };
  return { p: 'H(p,q)', u: 'H(u,q)', to: noiseOf(noise).to };
}

const FOCAL = 'F(t) = −α·Σ_c t_c·(1 − q_c)^γ·log q_c';

/**
 * The row loss the trainer minimises, p the one-hot label, q = softmax(z), ε the run's (each epoch's, with a
 * schedule):
 *
 *     ls (and no loss)  (1−ε)·H(p,q) + ε·H(u,q)
 *     ce                H(p,q)
 *     cp                (1−ε)·H(p,q) + ε·H(u,q) − β·H(q)          Pereyra et al. 2017
 *     focal             (1−ε)·F(p) + ε·F(u)                        Lin et al. 2017 (Keras' smoothing)
 *     flsd-53           the same, γ = 5 where q_y < 0.2, else 3    Mukhoti et al. 2020
 *     ols               (1−ε)·H(p,q) + ε·H(S[y],q)                 Zhang et al. 2021
 */
export function lossFormula(loss: LossName | undefined, noise: string): string {
  const u = noiseOf(noise).u;
  switch (loss) {
    case 'ce':
      return 'L = H(p,q) (ε = 0)';
    case 'cp':
      return `L = (1−ε)·H(p,q) + ε·H(u,q) − β·H(q), H(q) = −Σ_c q_c·log q_c the entropy of the prediction, ${u}`;
    case 'focal':
      return `L = (1−ε)·F(p) + ε·F(u), ${FOCAL}, ${u}`;
    case 'flsd-53':
      return `L = (1−ε)·F(p) + ε·F(u), ${FOCAL} with γ = 5 on rows where q_y < 0.2, else γ = 3, ${u}`;
    case 'ols':
      return 'L = (1−ε)·H(p,q) + ε·H(S[y],q), S[y] the mean prediction on the training examples of class y the model classified correctly during the previous epoch (uniform in epoch 1)';
    default:
      return `L = (1−ε)·H(p,q) + ε·H(u,q), ${u}`;
  }
}
