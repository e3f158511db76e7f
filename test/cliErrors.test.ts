// End-to-end: every refusal of the CLI is one line naming the file / flag / line and what to do, with a
// non-zero exit and nothing written; run directories are never clobbered. Tiny CSV data, fast.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { claim, MANIFEST } from '../packages/experiments/src/train/manifest.js';
import { cli, cliAsync, tempDir } from './helpers/cli.js';

/** A CSV of `rows` rows, `classes` classes, two features; `bad` replaces the value at (row, 'f2'). */
function toyCsv(file: string, rows = 60, classes = 3, bad?: { row: number; value: string }): string {
  const lines = ['f1,f2,label'];
  for (let i = 0; i < rows; i++) {
    const c = i % classes;
    const f2 = bad && bad.row === i + 1 ? bad.value : (((i * 37) % 11) / 11).toFixed(3);
    lines.push(`${(c + ((i * 13) % 7) / 7).toFixed(3)},${f2},c${c}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** One line on stderr, starting `labelsmooth: error:`, no stack trace, exit ≠ 0. */
function refusal(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, r.stderr);
  const text = r.stderr.trimEnd();
  assert.equal(text.split('\n').length, 1, `one line expected:\n${text}`);
  assert.match(text, /^labelsmooth: error: /);
  assert.doesNotMatch(text, /\bat .*:\d+:\d+/, 'no stack trace');
  assert.match(text, pattern);
}

describe('CLI refusals: one line, non-zero exit, nothing written', () => {
  it('malformed options and dataset names', () => {
    const dir = tempDir();
    const cases: [string[], RegExp][] = [
      [['compare', '--dataset', 'mnsit'], /--dataset.*'mnsit'.*did you mean mnist\?/],
      [['compare', '--dataset', 'CSV:x.csv'], /lower case: csv:x\.csv/],
      [['train', '--dataset', 'csv:'], /csv: needs a path, e.g\. csv:/],
      [['compare', '--batch-size', '0x10'], /--batch-size.*'0x10'.*whole number/],
      [['train', '--epochs', '1e3'], /--epochs.*'1e3'/],
      [['compare', '--seeds', '1,1'], /--seeds.*seed 1 appears twice/],
      [['compare', '--frobnicate'], /unknown option '--frobnicate'/],
    ];
    for (const [args, pattern] of cases) refusal(cli([...args, '--runs-dir', dir]), pattern);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('--runs-dir pointing at a file', () => {
    const dir = tempDir();
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const data = toyCsv(join(dir, 'toy.csv'));
    refusal(
      cli(['train', '--dataset', `csv:${data}`, '--runs-dir', file]),
      /--runs-dir .*file is a file, not a directory/,
    );
  });

  it('CSV data: a value beyond float32, too few rows, a --train-size below the class count', () => {
    const dir = tempDir();
    const runs = join(dir, 'runs');
    const big = toyCsv(join(dir, 'big.csv'), 60, 3, { row: 3, value: '1e39' });
    for (const backend of ['wasm', 'cpu']) {
      refusal(
        cli(['train', '--dataset', `csv:${big}`, '--backend', backend, '--runs-dir', runs, '--name', 'big']),
        /big\.csv:4: column 'f2' \(row 3\) = 1e39 is outside the float32 range .*rescale/,
      );
    }
    const tiny = toyCsv(join(dir, 'tiny.csv'), 2, 2);
    refusal(
      cli(['compare', '--dataset', `csv:${tiny}`, '--runs-dir', runs]),
      /tiny\.csv: 2 data row\(s\) leave no test rows/,
    );
    const ten = toyCsv(join(dir, 'ten.csv'), 200, 10);
    refusal(
      cli(['train', '--dataset', `csv:${ten}`, '--train-size', '5', '--validation', '0', '--runs-dir', runs]),
      /--train-size 5 leaves 5 of the 10 classes .* without a training example/,
    );
    refusal(
      cli(['train', '--dataset', `csv:${ten}`, '--train-size', '1000', '--runs-dir', runs]),
      /--train-size 1000: only 128 examples are there after the validation split \(32 rows\)/,
    );
    assert.equal(existsSync(runs) && readdirSync(runs).length > 0, false, 'no run directory was left');
  });

  it('report: a missing or malformed results.json', () => {
    const dir = tempDir();
    refusal(cli(['report', dir]), /results\.json: cannot read results \(no such file\)/);
    writeFileSync(join(dir, 'results.json'), '{"kind":"compare","runs":[]}');
    refusal(
      cli(['report', dir]),
      /results\.json: not a labelsmooth results file: 'dataset\.classNames' is missing/,
    );
    writeFileSync(join(dir, 'results.json'), '{"kind": ');
    refusal(cli(['report', dir]), /results\.json: cannot read results \(.*JSON/);
    assert.deepEqual(readdirSync(dir), ['results.json']);
  });

  it('a run directory held by a live process names its PID; an unfinished run is not restarted silently', async () => {
    const dir = tempDir();
    const data = toyCsv(join(dir, 'toy.csv'));
    mkdirSync(join(dir, 'busy'));
    const sleeper = spawn('sleep', ['60']);
    try {
      writeFileSync(join(dir, 'busy', '.lock'), `${sleeper.pid}\n`);
      refusal(
        cli(['train', '--dataset', `csv:${data}`, '--runs-dir', dir, '--name', 'busy']),
        new RegExp(`busy is being written by process ${sleeper.pid} \\(lock .*\\.lock\\)`),
      );
    } finally {
      sleeper.kill('SIGKILL');
    }
    mkdirSync(join(dir, 'half'));
    claim(join(dir, 'half'), ['config.json']);
    writeFileSync(join(dir, 'half', 'config.json'), '{}');
    refusal(
      cli(['train', '--dataset', `csv:${data}`, '--runs-dir', dir, '--name', 'half']),
      /half already holds an unfinished run: continue it with --resume, .* or add --force/,
    );
  });
});

describe('evaluate: names, --force, logits vs probabilities, EPIPE', () => {
  const setup = () => {
    const dir = tempDir();
    const probs = join(dir, 'probs.csv');
    writeFileSync(probs, '0.7,0.2,0.1\n0.1,0.8,0.1\n0.3,0.3,0.4\n0.5,0.25,0.25\n');
    const logits = join(dir, 'logits.json');
    writeFileSync(logits, '[[2,1,0],[0,3,1],[1,1,2],[0.5,-1,0]]');
    const labels = join(dir, 'labels.csv');
    writeFileSync(labels, '0\n1\n2\n1\n');
    return { dir, probs, logits, labels, runs: join(dir, 'runs') };
  };

  it('--from logits on probabilities (and the reverse) is refused; names are short; no clobbering', () => {
    const { probs, logits, labels, runs } = setup();
    refusal(
      cli(['evaluate', '--predictions', probs, '--labels', labels, '--from', 'logits', '--runs-dir', runs]),
      /probs\.csv: every row is in \[0, 1\] and sums to 1: these are probabilities, not logits; use --from probs/,
    );
    refusal(
      cli(['evaluate', '--predictions', logits, '--labels', labels, '--from', 'probs', '--runs-dir', runs]),
      /logits\.json: .*not probabilities; use --from logits/,
    );
    const args = ['evaluate', '--predictions', logits, '--labels', labels, '--runs-dir', runs, '--json'];
    const first = cli(args);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(readdirSync(runs), ['evaluate-logits']);
    refusal(cli(args), /evaluate-logits already holds a finished run \(results\.json\): .*--force/);
    assert.equal(cli([...args, '--force']).code, 0);
    assert.equal(cli([...args, '--bins', '5']).code, 0);
    assert.deepEqual(readdirSync(runs).sort(), ['evaluate-logits', 'evaluate-logits-bins5']);
    assert.deepEqual(readdirSync(join(runs, 'evaluate-logits')).sort(), [
      MANIFEST,
      'report.html',
      'results.json',
    ]);
  });

  it('a reader that closes stdout early (| head) ends the CLI quietly', async () => {
    const { logits, labels, runs } = setup();
    const child = cliAsync([
      'evaluate',
      '--predictions',
      logits,
      '--labels',
      labels,
      '--runs-dir',
      runs,
      '--json',
    ]);
    child.stdout?.destroy();
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(stderr, '');
    assert.equal(code, 0);
    assert.ok(existsSync(join(runs, 'evaluate-logits', 'results.json')), 'the files were written before');
  });
});

describe('a newcomer', () => {
  it('--version, and a complete synopsis in --help', () => {
    const v = cli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
    for (const c of ['compare', 'train']) {
      const h = cli([c, '--help']).stdout;
      for (const flag of ['--runs-dir', '--quiet', '--label-column', '--force', '--name', '--json'])
        assert.match(h, new RegExp(flag));
    }
    assert.match(cli(['train', '--help']).stdout, /--resume/);
  });
});
