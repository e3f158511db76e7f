import { isFocal, type LossName } from '../train/losses.js';
import type { EpochMetrics } from '../train/trainer.js';
import { WIDTH } from './progress.js';

/**
 * Join `parts` with spaces into lines of at most `width` columns; continuation lines are indented by two
 * spaces. A part is never split.
 */
export function wrapParts(parts: string[], width = WIDTH): string {
  const lines: string[] = [];
  let line = '';
  for (const p of parts) {
    if (line === '') line = p;
    else if (line.length + 1 + p.length <= width) line += ` ${p}`;
    else {
      lines.push(line);
      line = `  ${p}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

/**
 * `groups` of parts on one line when it fits in `width` columns, else each group on its own line(s).
 */
export function wrapGroups(groups: string[][], width = WIDTH): string {
  const flat = groups.map((g) => g.join(' ')).join(' | ');
  if (flat.length <= width) return flat;
  return groups.map((g, i) => wrapParts(i === 0 ? g : [`  ${g[0]}`, ...g.slice(1)], width)).join('\n');
}

/**
 * The lines of one finished epoch: the training loss with the raw cross-entropies H(p,q) and H(u,q) (so
 * loss = (1−ε)·H(p,q) + ε·H(u,q), as in the README), train accuracy, then the test calibration. One line
 * when it fits in 100 columns, else the test part on a second line. The focal losses show their parts
 * F(p) and F(u) instead; a scheduled ε shows this epoch's ε, and the confidence penalty the mean H(q).
 */
export function epochLine(
  label: string,
  seed: number,
  m: EpochMetrics,
  epochs?: number,
  loss?: LossName,
): string {
  const sign = m.testOverconfidence >= 0 ? '+' : '−';
  const focal = isFocal({ loss });
  return wrapGroups([
    [
      `${label} seed ${seed} epoch ${m.epoch}${epochs ? `/${epochs}` : ''}:`,
      ...(m.epsilon === undefined ? [] : [`ε ${m.epsilon.toFixed(4)}`]),
      `loss ${m.trainLoss.toFixed(4)}`,
      `${focal ? 'F(p)' : 'H(p,q)'} ${m.trainNll.toFixed(4)}`,
      `${focal ? 'F(u)' : 'H(u,q)'} ${m.trainSmoothing.toFixed(3)}`,
      ...(m.trainEntropy === undefined ? [] : [`H(q) ${m.trainEntropy.toFixed(4)}`]),
      `train acc ${m.trainAccuracy.toFixed(4)}`,
      `(${m.seconds.toFixed(1)} s)`,
    ],
    [
      'test acc',
      m.testAccuracy.toFixed(4),
      `NLL ${m.testNll.toFixed(4)}`,
      `ECE ${m.testEce.toFixed(4)}`,
      `conf ${m.testMeanConfidence.toFixed(4)}`,
      `over-conf ${sign}${Math.abs(m.testOverconfidence).toFixed(4)}`,
    ],
  ]);
}
