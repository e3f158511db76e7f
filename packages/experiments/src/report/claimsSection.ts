// The claims of a report as a section: every comparison with its estimate, interval and verdict, and its
// sentence exactly as results.json holds it.
import type { Claim } from '../results/schema.js';
import { intervalText, prose, signed } from './claims.js';
import { section, sentences, table } from './html.js';

/** The claims table and sentences; empty without claims. */
export function claimsSection(claims: Claim[]): string {
  if (!claims.length) return '';
  const rows = claims.map((c) => [
    c.a === null ? prose(c.b) : `${prose(c.b)} − ${prose(c.a)}`,
    c.a === null && c.metric === 'overconfidence' ? 'confidence − accuracy' : c.metric,
    signed(c.estimate),
    c.interval ? intervalText(c.interval) : 'none (one seed)',
    String(c.seeds.length),
    c.holds ? 'shown' : 'not shown',
  ]);
  return section(
    'Claims',
    'Every comparison this report states: b − a per seed, paired (the models of a seed share its training/validation split and test set), the mean over the seeds, and the 95 % t-interval over seeds of that mean (for one model, confidence − accuracy: its mean over seeds and t-interval). A claim is shown only when its interval excludes 0; with one seed nothing is. The test set is the same for every seed, so its sampling error is not in these intervals.',
    table(['b − a', 'metric', 'estimate', '95 % interval over seeds', 'seeds', 'verdict'], rows) +
      sentences(claims.map((c) => c.text)),
  );
}
