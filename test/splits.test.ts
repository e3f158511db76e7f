// The data splits users read about in --help: a validation split too small to fit a temperature on (the
// default 2 % of a small CSV) is raised, and says so; the help states the defaults once, as typed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSplits, MIN_VALIDATION_ROWS, validationRows } from '../packages/experiments/src/cli/datasets.js';
import { program } from '../packages/experiments/src/cli/main.js';
import { tempDir } from './helpers/cli.js';
import { writeCsv } from './helpers/sweep.js';

const data = (file: string, validation: number) => ({
  dataset: `csv:${file}`,
  validation,
  seed: 1,
  trainSize: undefined,
  testSize: undefined,
});

describe('the validation split', () => {
  it('keeps a fraction that gives enough rows; raises one that does not to 50 rows or a fifth of the pool', () => {
    assert.equal(validationRows(60_000, 0.02), 1200);
    assert.equal(validationRows(4000, 0.02), 80);
    assert.equal(validationRows(800, 0.02), MIN_VALIDATION_ROWS);
    assert.equal(validationRows(192, 0.02), 38); // a fifth of a 192-row pool
    assert.equal(validationRows(192, 0.5), 96);
    assert.equal(validationRows(192, 0), 0);
  });

  it('a 240-row CSV at the default 2 %: 38 validation rows instead of 4, with a note', () => {
    const file = join(tempDir(), 'small.csv');
    writeCsv(file, 240);
    const s = loadSplits(data(file, 0.02) as never);
    assert.equal(s.validation?.rows, 38);
    assert.equal(s.train.rows + (s.validation?.rows ?? 0) + s.test.rows, 240);
    assert.deepEqual(s.notes, [
      'validation: 38 rows instead of 4 (--validation 0.02 of the 192-row training pool), too few to fit a temperature on',
    ]);
    // Each class is represented in the raised split (it is stratified).
    assert.equal(new Set(s.validation?.y).size, 3);
  });

  it('a large enough pool keeps its fraction and has nothing to say', () => {
    const file = join(tempDir(), 'large.csv');
    writeCsv(file, 5000);
    const s = loadSplits(data(file, 0.02) as never);
    assert.equal(s.validation?.rows, 80);
    assert.deepEqual(s.notes, []);
  });
});

describe('--help', () => {
  /** What `labelsmooth NAME --help` prints, the text after the options included. */
  const help = (name: string) => {
    const cmd = program().commands.find((c) => c.name() === name);
    assert.ok(cmd, name);
    let out = '';
    cmd.configureOutput({ writeOut: (s) => (out += s) }).outputHelp();
    return out.replace(/\s+/g, ' ');
  };

  it('states each default once, as it would be typed, and the validation split as a fraction of the pool', () => {
    const compare = help('compare');
    const sweep = help('sweep');
    assert.match(sweep, /--workers <n> local trial processes \(default: the number of cores\) --/);
    assert.match(compare, /--workers <n> trial processes, .*\(default: the number of cores\) --/);
    for (const text of [compare, sweep]) {
      assert.doesNotMatch(text, /\(default: [^)]*\) \(default:/, 'no default stated twice');
      assert.doesNotMatch(text, /default: \[/, 'no default printed as a JavaScript array');
      assert.match(text, /--epsilons <list> comma-separated ε values \(default: 0,0\.05,0\.1,0\.2\)/);
      assert.match(
        text,
        /--seeds <n\|list> number of seeds \(1\.\.n\) or a comma-separated list \(default: 5\)/,
      );
      assert.match(
        text,
        /--validation <fraction> fraction of the training pool held out to fit the temperature/,
      );
    }
  });

  it('says how a CSV is cut by default where the options are read', () => {
    const compare = help('compare');
    assert.match(compare, /a CSV is split 80\/20 into a training pool and a test set/);
    assert.match(compare, /By default 2 % of the pool \(at least 50 rows when the pool allows/);
    assert.match(compare, /then 1,000 training rows are drawn from the rest \(--train-size all: every row\)/);
    const train = help('train');
    assert.match(train, /By default 10 % of the pool .* then 10,000 training rows/);
  });
});
