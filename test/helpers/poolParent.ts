// The parent of a local pool, for the chaos tests: trains the one trial given as JSON ({ spec, trial })
// in argv[2] in a pool of one trial process, its log on stderr, so that a test can kill -9 this process
// while the trial process is busy.
import { runLocalPool } from '../../packages/experiments/src/cli/sweep/pool.js';

const { spec, trial } = JSON.parse(process.argv[2] ?? '{}');
await runLocalPool(spec, [trial], {
  workers: 1,
  quiet: false,
  log: (line) => process.stderr.write(`${line}\n`),
  onOutcome: () => {},
});
