// End-to-end tests of the labelsmooth CLI: real (small) trainings, resume after kill -9, evaluate.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { budgetEpochs } from '../packages/experiments/src/cli/budget.js';
import { cli, cliAsync, tempDir } from './helpers/cli.js';

const SMALL = ['--train-size', '600', '--test-size', '300', '--epochs', '2', '--quiet'];
/** compare's defaults are the Fashion-MNIST regime; these tests pin today's MNIST setting. */
const MNIST = ['--dataset', 'mnist', '--model', 'mlp', '--epsilons', '0,0.1', '--seeds', '1'];

/** Files that an interrupted write would leave. */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (/\.(tmp|old)-\d+/.test(e.name)) out.push(join(d, e.name));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** A 3-class CSV with named classes (one of them hostile HTML). */
function writeCsv(file: string, rows = 240): void {
  const names = ['setosa', 'versicolor', '<img src=x onerror=alert(1)>'];
  const lines = ['f1,f2,f3,species'];
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    const j = (i * 7919) % 101;
    lines.push(`${c * 2 + j / 101},${-c + ((j * 3) % 7) / 7},${(j % 5) / 5},"${names[c]}"`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

describe('labelsmooth compare', () => {
  it('trains each ε on MNIST, logs the loss decomposition and writes results.json', () => {
    const dir = tempDir();
    const r = cli([
      'compare',
      ...MNIST,
      ...SMALL.filter((a) => a !== '--quiet'),
      '--runs-dir',
      dir,
      '--name',
      'cmp',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ε=0\.1 seed 1 epoch 2\/2: loss [\d.]+ H\(p,q\) [\d.]+ H\(u,q\) [\d.]+/);
    assert.match(r.stdout, /ε=0 \+ temperature scaling/);
    const res = JSON.parse(readFileSync(join(dir, 'cmp', 'results.json'), 'utf8'));
    // The console prints the raw H(p,q) and H(u,q) of results.json (the README's names), in ≤ 100 columns.
    const last = res.runs[1].epochs[1];
    assert.ok(
      r.stderr.includes(`H(p,q) ${last.trainNll.toFixed(4)} H(u,q) ${last.trainSmoothing.toFixed(3)}`),
    );
    for (const line of r.stderr.split('\n')) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
    assert.deepEqual(
      res.summary.map((s: { label: string }) => s.label),
      [
        'ε=0',
        'ε=0.1',
        'ε=0.1 on train ∪ validation',
        'ε=0 + temperature scaling',
        'ε=0.1 + temperature scaling',
      ].filter((label) => res.summary.some((s: { label: string }) => s.label === label)),
    );
    assert.equal(res.summary.length, 5, 'the ε grid, the budget-matched run and the two scaled rows');
    assert.equal(res.dataset.train, 600);
    // The budget-matched run (train ∪ validation) takes as many gradient steps as the others: fewer epochs.
    const { train, validation } = res.dataset;
    const budget = budgetEpochs(2, res.config.batchSize, train, validation);
    for (const run of res.runs) {
      assert.equal(run.epochs.length, run.trainedOn === 'train+validation' ? budget : 2);
      for (const m of run.epochs) {
        assert.ok(Math.abs(m.trainLoss - m.trainNllPart - m.trainSmoothingPart) < 1e-9);
        for (const k of [
          'trainAccuracy',
          'testAccuracy',
          'testNll',
          'testEce',
          'testMeanConfidence',
          'testOverconfidence',
        ]) {
          assert.ok(Number.isFinite(m[k]), k);
        }
      }
      assert.equal(run.test.bins.length, 15);
      assert.deepEqual(run.projection.classes, [0, 1, 2]);
      assert.equal(run.projection.templates.length, 3);
      assert.ok(
        run.projection.points.length > 50 &&
          run.projection.points.every((p: { x: number }) => Number.isFinite(p.x)),
      );
    }
    // ε = 0.1 caps the optimum confidence: its smoothing part is > 0 and ε = 0's is 0.
    assert.equal(res.runs[0].epochs[1].trainSmoothingPart, 0);
    assert.ok(res.runs[1].epochs[1].trainSmoothingPart > 0);
    assert.deepEqual(leftovers(dir), []);
  });

  it('with several seeds reports mean ± sd, and --json prints the results', () => {
    const dir = tempDir();
    const args = [
      'compare',
      '--dataset',
      'mnist',
      ...SMALL,
      '--epochs',
      '1',
      '--seeds',
      '2',
      '--epsilons',
      '0.2',
      '--runs-dir',
      dir,
    ];
    const r = cli([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.runs.length, 2);
    assert.equal(res.summary[0].runs, 2);
    assert.ok(res.summary[0].accuracy.sd >= 0);
    // The same command again would replace the finished run: it needs --force.
    assert.match(cli(args).stderr, /already holds a finished run/);
    const human = cli([...args, '--force']);
    assert.match(human.stdout, /\d\.\d{4} ± \d\.\d{4}/);
    assert.deepEqual(readdirSync(dir), ['compare-mnist-eps0.2-seeds2-epochs1-train600-test300']);
  });

  it('reads csv:PATH with class names from the file, and prior noise', () => {
    const dir = tempDir();
    const file = join(dir, 'flowers.csv');
    writeCsv(file);
    const r = cli([
      'compare',
      '--dataset',
      `csv:${file}`,
      '--epochs',
      '3',
      '--noise',
      'prior',
      '--runs-dir',
      dir,
      '--name',
      'csv',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(readFileSync(join(dir, 'csv', 'results.json'), 'utf8'));
    assert.deepEqual(res.dataset.classNames, ['<img src=x onerror=alert(1)>', 'setosa', 'versicolor']);
    assert.equal(res.dataset.train + res.dataset.validation + res.dataset.test, 240);
  });

  it('bad input: one clear message naming the file and line, exit ≠ 0, no output written', () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'a,b,label\n1,2,x\n3,4\n');
    let r = cli(['compare', '--dataset', `csv:${bad}`, '--runs-dir', dir, '--name', 'bad', '--quiet']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /labelsmooth: error: .*bad\.csv:3: row 2 has 2 columns, the header has 3/);
    writeFileSync(bad, 'a,b,label\n1,2,x\n3,zz,y\n');
    r = cli(['compare', '--dataset', `csv:${bad}`, '--runs-dir', dir, '--name', 'bad', '--quiet']);
    assert.match(r.stderr, /bad\.csv:3: column 'b' \(row 2\) is not a number: "zz"/);
    r = cli(['compare', '--dataset', `csv:${join(dir, 'missing.csv')}`, '--runs-dir', dir, '--quiet']);
    assert.match(r.stderr, /missing\.csv: cannot read/);
    assert.notEqual(r.code, 0);
    r = cli(['compare', '--epsilons', '0,1.5']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--epsilons.*expected a number in \[0, 1\], got '1\.5'/);
    r = cli(['compare', '--frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown option '--frobnicate'/);
    assert.equal(existsSync(join(dir, 'bad')), false);
  });

  it('--model cnn is refused where it cannot train, before anything is written', () => {
    const dir = tempDir();
    let r = cli(['train', '--model', 'cnn', '--runs-dir', dir, '--name', 'cnn']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /labelsmooth: error: --model cnn cannot train on the wasm backend: .*Conv2DBackpropFilter.*--backend cpu/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a usage error');
    const file = join(dir, 'f.csv');
    writeCsv(file, 30);
    r = cli(['compare', '--model', 'cnn', '--backend', 'cpu', '--dataset', `csv:${file}`, '--runs-dir', dir]);
    assert.match(r.stderr, /--model cnn needs image data \(mnist or fashion-mnist\)/);
    assert.deepEqual(readdirSync(dir), ['f.csv']);
  });

  it('--help on every command: defaults and choices as typed, no line wider than 80 columns', () => {
    const commands = ['compare', 'sweep', 'worker', 'train', 'distill', 'evaluate', 'report'];
    for (const c of ['', ...commands]) {
      const r = cli(c ? [c, '--help'] : ['--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`Usage: labelsmooth ${c}`));
      // commander's own form quotes strings as JSON ("fashion-mnist") and shows a flag's `false`.
      assert.doesNotMatch(r.stdout, /"/, `labelsmooth ${c} --help quotes a value:\n${r.stdout}`);
      assert.doesNotMatch(r.stdout, /default: false/, `labelsmooth ${c} --help`);
      for (const line of r.stdout.split('\n')) assert.ok(line.length <= 80, `${c}: ${line}`);
    }
    const help = (c: string) => cli([c, '--help']).stdout.replace(/\s+/g, ' ');
    assert.match(
      help('compare'),
      /--dataset <name> mnist \| fashion-mnist \| csv:PATH \(default: fashion-mnist\)/,
    );
    assert.match(help('compare'), /--runs-dir <dir> where run directories go \(default: runs\)/);
    assert.match(help('compare'), /\(choices: uniform, non-target, prior; default: uniform\)/);
    assert.match(help('compare'), /--force replace an existing run of the same name --json/);
    assert.match(help('sweep'), /--worker-timeout <s> .* \(default: 600\)/);
    assert.match(help('train'), /\(choices: mlp, pooled-mlp, cnn; default: mlp\)/);
    assert.match(help('evaluate'), /\(choices: auto, logits, probs; default: auto\)/);
  });
});

describe('labelsmooth train', () => {
  const args = (dir: string, name: string) => [
    'train',
    '--train-size',
    '3000',
    '--test-size',
    '300',
    '--epochs',
    '4',
    '--epsilon',
    '0.1',
    '--seed',
    '5',
    '--runs-dir',
    dir,
    '--name',
    name,
    '--quiet',
  ];
  const strip = (ms: { seconds: number }[]) => ms.map(({ seconds: _s, ...m }) => m);

  it('resumes after kill -9 to exactly the uninterrupted result; saves a loadable TF.js model', async () => {
    const dir = tempDir();
    const full = cli(args(dir, 'full'));
    assert.equal(full.code, 0, full.stderr);

    const child = cliAsync(args(dir, 'killed'));
    const pointer = join(dir, 'killed', 'checkpoint.json');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 600 && !existsSync(pointer); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(pointer), 'no checkpoint appeared');
    child.kill('SIGKILL');
    await exited;
    const at = JSON.parse(readFileSync(pointer, 'utf8')).epoch;
    assert.ok(at >= 1 && at < 4, `killed after epoch ${at}`);
    assert.equal(existsSync(join(dir, 'killed', 'results.json')), false);

    const resumed = cli([...args(dir, 'killed'), '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const a = JSON.parse(readFileSync(join(dir, 'full', 'results.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(dir, 'killed', 'results.json'), 'utf8'));
    assert.deepEqual(strip(b.runs[0].epochs), strip(a.runs[0].epochs));
    assert.deepEqual(b.runs[0].test, a.runs[0].test);
    assert.deepEqual(
      readFileSync(join(dir, 'killed', 'model', 'weights.bin')),
      readFileSync(join(dir, 'full', 'model', 'weights.bin')),
    );
    const lines = readFileSync(join(dir, 'killed', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(lines.length, 4);
    const model = JSON.parse(readFileSync(join(dir, 'full', 'model', 'model.json'), 'utf8'));
    assert.equal(model.format, 'layers-model');
    assert.equal(model.weightsManifest[0].paths[0], 'weights.bin');
    assert.deepEqual(leftovers(dir), []);
  });

  it('--resume without a run is a clear error', () => {
    const dir = tempDir();
    const r = cli(['train', '--runs-dir', dir, '--name', 'none', '--resume']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /none: nothing to resume \(no config\.json\)/);
  });
});
